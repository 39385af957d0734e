#!/usr/bin/env bash
# Build the bundle and the .deb, install the .deb with apt-get, smoke-test the installed app
# against a real Secret Service keyring, then remove the package again.
#   packaging/linux/smoke-deb.sh [--no-build]
# Runs as root or through sudo. Fails (non-zero) when any step fails. The CI step.
# Needs: dpkg-dev or dpkg, apt, dbus, gnome-keyring (packaging/linux/with-keyring.sh);
# xvfb-run (package xvfb) for the extra run on a real X screen, desktop-file-validate
# (desktop-file-utils) and appstreamcli (appstream) for the metadata checks, when present.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
apt=($sudo env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o DPkg::Lock::Timeout=120)
name=sesame-desktop
step() { printf '\n== %s\n' "$*"; }
started=$(date +%s)

if [ "${1:-}" != "--no-build" ]; then
    step "build the bundle and the .deb"
    packaging/linux/build-deb.sh
fi
debs=(dist/${name}_*.deb)
[ ${#debs[@]} -eq 1 ] && [ -f "${debs[0]}" ] || { echo "smoke-deb: expected one dist/${name}_*.deb, found: ${debs[*]}" >&2; exit 1; }
deb=${debs[0]}

installed_by_us=0
remove() {
    if [ "$installed_by_us" = 1 ]; then
        step "remove the package"
        "${apt[@]}" remove "$name" >/dev/null
    fi
}
trap remove EXIT

step "install $deb with apt-get"
if dpkg-query -W -f='${Status}' "$name" 2>/dev/null | grep -q "install ok installed"; then
    "${apt[@]}" remove "$name" >/dev/null  # a same-version reinstall would be skipped by apt
fi
installed_by_us=1
"${apt[@]}" install --no-install-recommends "./$deb" >/dev/null

step "check the installed files"
test -x /usr/bin/$name
test -f /usr/share/applications/$name.desktop
test -f /usr/share/icons/hicolor/256x256/apps/$name.png
test -f /usr/share/icons/hicolor/scalable/apps/$name.svg
ls /usr/share/metainfo/*.metainfo.xml >/dev/null
dpkg-query -W -f='${Version}\n' "$name"
if command -v desktop-file-validate >/dev/null; then desktop-file-validate /usr/share/applications/$name.desktop; fi
if command -v appstreamcli >/dev/null; then appstreamcli validate --no-net /usr/share/metainfo/*.metainfo.xml >/dev/null; fi
version_line=$(/usr/bin/$name --version)
echo "$version_line"
[ "$version_line" = "$name $(dpkg-query -W -f='${Version}' "$name" | tr '~' '.' | sed 's/\.\(a\|b\|rc\|dev\)/\1/')" ] \
    || echo "smoke-deb: note: --version ($version_line) and the package version differ in spelling only"

step "smoke test of the installed app (offscreen, real Secret Service)"
smoke_start=$(date +%s%N)
QT_QPA_PLATFORM=offscreen packaging/linux/with-keyring.sh /usr/bin/$name --smoke
echo "smoke-deb: offscreen smoke passed in $(( ($(date +%s%N) - smoke_start) / 1000000 )) ms"

if command -v xvfb-run >/dev/null; then
    step "smoke test of the installed app on an X screen (xvfb, Qt's xcb platform)"
    env -u QT_QPA_PLATFORM xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" \
        packaging/linux/with-keyring.sh /usr/bin/$name --smoke
fi

remove
installed_by_us=0
if dpkg-query -W -f='${Status}' "$name" 2>/dev/null | grep -q "install ok installed"; then
    echo "smoke-deb: the package is still installed after apt-get remove" >&2; exit 1
fi
test ! -e /usr/bin/$name
echo "smoke-deb: all passed in $(( $(date +%s) - started )) s"
