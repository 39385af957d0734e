#!/usr/bin/env bash
# Run a command with a private HOME, a private D-Bus session bus and an unlocked gnome-keyring
# (a real Secret Service), then stop them and remove the private folders. Exits with the
# command's status.
#   packaging/linux/with-keyring.sh COMMAND [ARGS…]
# Needs: dbus-daemon and dbus-send (package dbus), gnome-keyring.
set -euo pipefail
if [ $# -eq 0 ]; then echo "usage: $0 COMMAND [ARGS…]" >&2; exit 2; fi
for tool in dbus-daemon dbus-send gnome-keyring-daemon; do
    command -v "$tool" >/dev/null || { echo "with-keyring: $tool is missing (apt-get install dbus gnome-keyring)" >&2; exit 2; }
done

tmp=$(mktemp -d -t sesame-keyring-XXXXXX)
bus_pid="" keyring_pid=""
cleanup() {
    [ -n "$keyring_pid" ] && kill "$keyring_pid" 2>/dev/null && wait "$keyring_pid" 2>/dev/null
    [ -n "$bus_pid" ] && kill "$bus_pid" 2>/dev/null && wait "$bus_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

# A private home first: the keyring files must never land in the real one.
export HOME="$tmp/home" XDG_RUNTIME_DIR="$tmp/run"
export XDG_CONFIG_HOME="$HOME/.config" XDG_DATA_HOME="$HOME/.local/share"
export XDG_STATE_HOME="$HOME/.local/state" XDG_CACHE_HOME="$HOME/.cache"
mkdir -p "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_STATE_HOME" "$XDG_CACHE_HOME"
mkdir -m 700 "$XDG_RUNTIME_DIR"

# The session bus: its address is the first line it prints.
exec {bus_out}< <(exec dbus-daemon --session --nofork --nopidfile --print-address=1 --print-pid=1)
read -r -u "$bus_out" DBUS_SESSION_BUS_ADDRESS
read -r -u "$bus_out" bus_pid
export DBUS_SESSION_BUS_ADDRESS

# gnome-keyring unlocked with a password on stdin (without --unlock it would try to prompt).
printf '%s' "sesame-smoke-keyring" | gnome-keyring-daemon --foreground --unlock --components=secrets \
    >/dev/null 2>&1 &
keyring_pid=$!

# Ready when the login keyring exists (the password was taken) and the service is on the bus.
for _ in $(seq 1 300); do
    if [ -f "$XDG_DATA_HOME/keyrings/login.keyring" ] && dbus-send --session --print-reply \
        --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner \
        string:org.freedesktop.secrets 2>/dev/null | grep -q "boolean true"; then
        break
    fi
    kill -0 "$keyring_pid" 2>/dev/null || { echo "with-keyring: gnome-keyring-daemon exited" >&2; exit 2; }
    sleep 0.05
done
[ -f "$XDG_DATA_HOME/keyrings/login.keyring" ] || { echo "with-keyring: the keyring did not start within 15 s" >&2; exit 2; }

set +e
"$@"
status=$?
set -e
exit "$status"
