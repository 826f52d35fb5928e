#!/bin/sh
# Builds the seed corpus for fuzz_pickle from the fixtures: each file prefixed with the format
# selector byte (0 pickle, 1 numpy, 2 torch-legacy). Usage: seed_corpus.sh FIXTURE_DIR OUT_DIR
set -eu
fixtures=$1
out=$2
mkdir -p "$out"
for f in "$fixtures"/*; do
  [ -f "$f" ] || continue
  [ "$(stat -c %s "$f")" -le 200000 ] || continue
  case "$f" in
    *.npy) sel='\001' ;;
    *legacy*) sel='\002' ;;
    *) sel='\000' ;;
  esac
  { printf "$sel"; cat "$f"; } > "$out/$(basename "$f")"
done
