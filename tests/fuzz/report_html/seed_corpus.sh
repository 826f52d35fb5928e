#!/bin/sh
# Seeds for fuzz_report_html: the dashboard fixtures' report files (pipeline, scan, train, attack,
# hostile names and metadata), written by tests/dashboard/make_dashboard_fixtures.py.
# Usage: seed_corpus.sh SOURCE_DIR OUT_DIR
set -eu
src=$1
out=$2
tmp=$(mktemp -d)
/usr/bin/python3 "$src/tests/dashboard/make_dashboard_fixtures.py" "$tmp" --skip-large
mkdir -p "$out"
for f in "$tmp"/workshop/pipeline.json "$tmp"/workshop/files/*.json "$tmp"/hostile/files/*.json; do
  cp "$f" "$out/$(basename "$(dirname "$f")")-$(basename "$f")"
done
rm -rf "$tmp"
