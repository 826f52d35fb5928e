#!/usr/bin/env bash
# Sets up what is missing, builds the dev preset and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev
ctest --preset dev --output-on-failure -j "$(nproc)"
