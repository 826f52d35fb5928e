#!/usr/bin/env bash
# End-to-end benchmark: secmlops commands against the same jobs in Python (scikit-learn, pandas and
# the ART-equivalent generate() of art_equivalent.py), as a user runs them.
#   bash bench/e2e/run.sh [runs]        (release build; an idle machine for figures to quote)
set -euo pipefail
cd "$(dirname "$0")/../.."
cmake --preset release >/dev/null
cmake --build --preset release --target secmlops secmlops_plugin_logreg secmlops_plugin_fgsm \
  secmlops_plugin_pgd e2e_floor e2e_floor_linked >/dev/null
runs=${1:-21}
dir=$(mktemp -d /tmp/secmlops-e2e.XXXXXX)
trap 'rm -rf "$dir"' EXIT
/usr/bin/python3 bench/e2e/make_data.py "$dir"
uptime
/usr/bin/python3 bench/e2e/compare.py build/release/bin/secmlops "$dir" "$runs" build/release/bin/e2e_floor \
  build/release/bin/e2e_floor_linked
uptime
