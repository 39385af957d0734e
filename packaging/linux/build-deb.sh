#!/usr/bin/env bash
# Turn the PyInstaller bundle into a .deb for Debian/Ubuntu (and, with --tarball, a .tar.gz).
#   packaging/linux/build-deb.sh [--no-build] [--tarball]
# Builds the bundle first (python packaging/build.py) unless --no-build. Writes
#   dist/sesame-desktop_<version>_<arch>.deb          installs to /opt/sesame-desktop,
#                                                     /usr/bin/sesame-desktop, menu entry, icons
#   dist/sesame-desktop-<version>-linux-<machine>.tar.gz   (--tarball) the bundle, unpack and run
# Python: $PYTHON, else .venv/bin/python, else python3. Needs dpkg-deb (package dpkg) and
# objdump (binutils).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

build=1 tarball=0
for arg in "$@"; do
    case "$arg" in
        --no-build) build=0 ;;
        --tarball) tarball=1 ;;
        *) echo "usage: $0 [--no-build] [--tarball]" >&2; exit 2 ;;
    esac
done
if [ -n "${PYTHON:-}" ]; then python=$PYTHON
elif [ -x .venv/bin/python ]; then python=.venv/bin/python
else python=python3; fi

name=sesame-desktop
version=$("$python" -c 'from importlib.metadata import version; print(version("sesame-desktop"))')
# PEP 440 pre-releases sort before the release in Debian only with a tilde: 1.0rc1 -> 1.0~rc1
deb_version=$(printf '%s' "$version" | sed -E 's/[.]?(a|b|rc|dev)([0-9]*)/~\1\2/g; s/\+/+local./')
arch=$(dpkg --print-architecture)

if [ "$build" = 1 ]; then "$python" packaging/build.py; fi
bundle=dist/$name
[ -x "$bundle/$name" ] || { echo "build-deb: $bundle/$name is missing: run python packaging/build.py" >&2; exit 1; }

start=$(date +%s%N)
stage=build/deb/${name}_${deb_version}_${arch}
rm -rf "$stage"
mkdir -p "$stage/DEBIAN" "$stage/opt" "$stage/usr/bin" "$stage/usr/share/applications" \
         "$stage/usr/share/metainfo" "$stage/usr/share/doc/$name"
cp -a "$bundle" "$stage/opt/$name"
ln -s "/opt/$name/$name" "$stage/usr/bin/$name"
install -m 644 "resources/$name.desktop" "$stage/usr/share/applications/$name.desktop"
install -m 644 resources/*.metainfo.xml "$stage/usr/share/metainfo/"
cp -r resources/icons "$stage/usr/share/icons"
cat > "$stage/usr/share/doc/$name/copyright" <<COPYRIGHT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: Sesame Desktop

Files: *
License: Apache-2.0
 On Debian systems the full text of the Apache License 2.0 is in
 /usr/share/common-licenses/Apache-2.0. The bundle in /opt/$name also contains Qt for
 Python (LGPL-3.0), CPython (PSF-2.0) and other libraries under their own licenses.
COPYRIGHT
# Owner root (--root-owner-group), directories 755, files 644 unless executable.
chmod -R u=rwX,go=rX "$stage"

installed_kb=$(du -sk --apparent-size "$stage" | cut -f1)
# The bundle runs on the C library it was built against or newer: the newest GLIBC_ symbol
# version any of its binaries asks for (objdump: package binutils, which PyInstaller needs too).
glibc=$(find "$bundle" -type f \( -name "*.so*" -o -perm -u+x \) -print0 | xargs -0 objdump -T 2>/dev/null |
    grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1 || true)
[ -n "$glibc" ] || { echo "build-deb: could not read the bundle's glibc version with objdump" >&2; exit 1; }
cat > "$stage/DEBIAN/control" <<CONTROL
Package: $name
Version: $deb_version
Architecture: $arch
Maintainer: Sesame Desktop developers <sesame-desktop@users.noreply.github.com>
Installed-Size: $installed_kb
Depends: libc6 (>= $glibc), libegl1, libgl1, libfontconfig1, libxkbcommon0, libxkbcommon-x11-0, libxcb-cursor0, libxcb-icccm4, libxcb-keysyms1, libdbus-1-3
Recommends: gnome-keyring, bubblewrap, git
Section: devel
Priority: optional
Description: run coding agents in cloud sandboxes with clicks
 Sesame Desktop launches sessions: each gets its own E2B sandbox (or a workspace
 folder on this computer), puts a project in it, runs a task there and streams
 its output live into a console, with a file tree and the dev servers' ports.
 .
 The E2B API key is kept in the system keyring (GNOME Keyring or KWallet).
CONTROL

deb=dist/${name}_${deb_version}_${arch}.deb
dpkg-deb -Zzstd --root-owner-group --build "$stage" "$deb" >/dev/null
dpkg-deb --info "$deb" >/dev/null  # it reads back
awk -v deb="$deb" -v bytes="$(stat -c %s "$deb")" -v kb="$installed_kb" -v ns="$(( $(date +%s%N) - start ))" \
    'BEGIN { printf "build-deb: %s (%.1f MB, installs %.1f MB) in %.1f s\n", deb, bytes / 1e6, kb / 1e3, ns / 1e9 }' 

if [ "$tarball" = 1 ]; then
    tarball_name=$name-$version-linux-$(uname -m)
    tar_stage=build/tarball/$tarball_name
    rm -rf "$tar_stage"
    mkdir -p "$tar_stage"
    cp -a "$bundle/." "$tar_stage/"
    install -m 644 "resources/$name.desktop" resources/icons/hicolor/256x256/apps/$name.png "$tar_stage/"
    tar -C build/tarball -czf "dist/$tarball_name.tar.gz" "$tarball_name"
    awk -v name="dist/$tarball_name.tar.gz" -v bytes="$(stat -c %s "dist/$tarball_name.tar.gz")" \
        'BEGIN { printf "build-deb: %s (%.1f MB)\n", name, bytes / 1e6 }' 
fi
