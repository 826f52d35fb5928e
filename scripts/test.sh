#!/usr/bin/env bash
# Sets up what is missing, builds the dev preset, runs the whole test suite, then checks the
# formatting (scripts/check-format.sh). SECMLOPS_WERROR=ON (CI) makes a compiler warning fail.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev
ctest --preset dev --output-on-failure -j "$(nproc)"
bash scripts/check-format.sh
