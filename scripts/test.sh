#!/usr/bin/env bash
# Install what the tests need (system packages included) and run the whole test suite.
#   scripts/test.sh [pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-system-packages.sh run test
command -v npm >/dev/null || scripts/install-system-packages.sh node
scripts/venv.sh test
exec .venv/bin/python -m pytest "$@"
