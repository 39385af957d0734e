#!/usr/bin/env bash
# Install what the app needs (system packages, a virtual environment) and start it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-system-packages.sh run
scripts/venv.sh
exec .venv/bin/sesame-desktop "$@"
