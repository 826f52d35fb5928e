#!/usr/bin/env bash
# The main job: sets up what is missing, builds the release preset, lists the plugins and scans
# a set of generated sample files.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh release
bin=build/release/bin
samples=build/release/samples
mkdir -p "$samples"
printf 'harmless text with an embedded test signature: X5O!P%%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*\n' > "$samples/eicar.txt"
printf 'plain text\n' > "$samples/clean.txt"

echo "== plugins"
"$bin/secmlops" --plugin-dir "$bin/example-plugins" plugins
echo
echo "== scan $samples"
set +e
"$bin/secmlops" --plugin-dir "$bin/example-plugins" scan "$samples"
rc=$?
set -e
echo "scan exit code: $rc (0 clean, 1 findings at or above --fail-on, 2 unscannable files)"
