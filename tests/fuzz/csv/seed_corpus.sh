#!/bin/sh
# Builds the seed corpus for fuzz_csv from the model fixtures' CSV files: each file (its first
# 20 kB) once with the header selector byte 1, and once without its header line and with byte 0.
# Usage: seed_corpus.sh FIXTURE_DIR OUT_DIR   (FIXTURE_DIR: build/dev/tests/model-fixtures)
set -eu
fixtures=$1
out=$2
mkdir -p "$out"
for f in "$fixtures"/*.csv; do
  [ -f "$f" ] || continue
  name=$(basename "$f" .csv)
  { printf '\001'; head -c 20000 "$f"; } > "$out/$name.header"
  { printf '\000'; tail -n +2 "$f" | head -c 20000; } > "$out/$name.noheader"
done
