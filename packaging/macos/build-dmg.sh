#!/usr/bin/env bash
# Build "Sesame Desktop.app" and a .dmg on macOS; sign and notarise when credentials are set.
#   packaging/macos/build-dmg.sh [--no-build] [--smoke]
# Writes dist/Sesame Desktop.app and dist/sesame-desktop-<version>-macos-<arch>.dmg.
#
# Signing (skipped, with a warning, unless set):
#   MACOS_SIGNING_IDENTITY   a "Developer ID Application: …" identity in the keychain
#   MACOS_CERTIFICATE_P12 + MACOS_CERTIFICATE_PASSWORD   optional: a base64 .p12 to import
#                            into a temporary keychain first (CI)
# Notarisation (skipped, with a warning, unless signed and all set):
#   APPLE_ID, APPLE_TEAM_ID, APPLE_APP_PASSWORD (an app-specific password)
# --smoke runs the built app's --smoke mode (the login keychain must be usable).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
build=1 smoke=0
for arg in "$@"; do
    case "$arg" in
        --no-build) build=0 ;;
        --smoke) smoke=1 ;;
        *) echo "usage: $0 [--no-build] [--smoke]" >&2; exit 2 ;;
    esac
done
python=${PYTHON:-python3}
warn() {
    # Loud in a terminal and as an annotation on GitHub Actions.
    printf '\n!!! WARNING: %s\n\n' "$*" >&2
    if [ -n "${GITHUB_ACTIONS:-}" ]; then echo "::warning title=macOS release::$*"; fi
}

version=$("$python" -c 'from importlib.metadata import version; print(version("sesame-desktop"))')
app="dist/Sesame Desktop.app"
dmg="dist/sesame-desktop-$version-macos-$(uname -m).dmg"

signed=0
if [ -n "${MACOS_SIGNING_IDENTITY:-}" ]; then
    if [ -n "${MACOS_CERTIFICATE_P12:-}" ]; then
        # CI: put the certificate into a temporary keychain that codesign can use unattended.
        keychain="${RUNNER_TEMP:-$(mktemp -d)}/sesame-signing.keychain-db"
        keychain_password=$(uuidgen)
        security create-keychain -p "$keychain_password" "$keychain"
        security set-keychain-settings -lut 3600 "$keychain"
        security unlock-keychain -p "$keychain_password" "$keychain"
        printf '%s' "$MACOS_CERTIFICATE_P12" | base64 --decode > "$keychain.p12"
        security import "$keychain.p12" -k "$keychain" -P "${MACOS_CERTIFICATE_PASSWORD:-}" -T /usr/bin/codesign
        rm -f "$keychain.p12"
        security set-key-partition-list -S apple-tool:,apple: -s -k "$keychain_password" "$keychain" >/dev/null
        security list-keychains -d user -s "$keychain" $(security list-keychains -d user | tr -d '"')
    fi
    # The spec hands the identity and entitlements to PyInstaller, which signs every
    # collected binary and then the .app, with the hardened runtime and a timestamp.
    signed=1
else
    warn "MACOS_SIGNING_IDENTITY is not set: signing SKIPPED. The app and the .dmg are only ad-hoc signed; Gatekeeper will refuse to open them until the user allows it in System Settings > Privacy & Security."
fi

if [ "$build" = 1 ]; then "$python" packaging/build.py --clean; fi
[ -x "$app/Contents/MacOS/sesame-desktop" ] || { echo "build-dmg: $app is missing" >&2; exit 1; }
if [ "$signed" = 1 ]; then
    codesign --verify --deep --strict --verbose=2 "$app"
    codesign --display --verbose=2 "$app" 2>&1 | grep -E "Authority|flags"
fi

if [ "$smoke" = 1 ]; then
    echo "build-dmg: smoke test of $app"
    # A crash in a windowed app may wait on a dialog: 3 minutes at most (perl's alarm, since
    # macOS has no timeout command).
    perl -e 'alarm shift; exec @ARGV or die "exec: $!"' 180 "$app/Contents/MacOS/sesame-desktop" --smoke
fi

echo "build-dmg: creating $dmg"
staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
cp -R "$app" "$staging/"
ln -s /Applications "$staging/Applications"
rm -f "$dmg"
hdiutil create -volname "Sesame Desktop" -srcfolder "$staging" -ov -format UDZO "$dmg"
if [ "$signed" = 1 ]; then
    codesign --force --timestamp --sign "$MACOS_SIGNING_IDENTITY" "$dmg"
fi

if [ "$signed" = 1 ] && [ -n "${APPLE_ID:-}" ] && [ -n "${APPLE_TEAM_ID:-}" ] && [ -n "${APPLE_APP_PASSWORD:-}" ]; then
    echo "build-dmg: notarising $dmg (this waits for Apple)"
    xcrun notarytool submit "$dmg" --apple-id "$APPLE_ID" --team-id "$APPLE_TEAM_ID" \
        --password "$APPLE_APP_PASSWORD" --wait
    xcrun stapler staple "$dmg"
    xcrun stapler validate "$dmg"
else
    warn "notarisation SKIPPED (needs a signed build and APPLE_ID, APPLE_TEAM_ID, APPLE_APP_PASSWORD): macOS will warn that the app is from an unidentified developer."
fi
hdiutil verify "$dmg"
echo "build-dmg: $dmg ($(du -h "$dmg" | cut -f1))"
