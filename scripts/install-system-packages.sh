#!/usr/bin/env bash
# Install the Debian/Ubuntu packages of the given groups (see system-packages.txt).
#   scripts/install-system-packages.sh run [test]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
packages=()
for group in "$@"; do
    line=$(grep -E "^${group}:" "$here/system-packages.txt") || { echo "unknown group: $group" >&2; exit 2; }
    read -r -a more <<<"${line#*:}"
    packages+=("${more[@]}")
done
missing=()
for pkg in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "system packages: all present"
    exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "system packages: installing ${missing[*]}"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
