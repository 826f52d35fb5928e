#!/usr/bin/env bash
# Builds the release CLI and measures the dashboard of a large report (50 models x 3 attacks x
# 20 eps, 10,000 findings): page size, `secmlops report html` time, and render, sort and scroll
# times in headless chromium. Figures in docs/benchmarks.md.
#   bash bench/dashboard/run.sh [runs] [workdir]
set -euo pipefail
cd "$(dirname "$0")/../.."
cmake --preset release >/dev/null
cmake --build --preset release --target secmlops >/dev/null
runs=${1:-5}
work=${2:-$(mktemp -d)}
/usr/bin/python3 bench/dashboard/dashboard_bench.py build/release/bin/secmlops "$work" "$runs"
# The same CLI call under farm-bench, against reading and re-printing the same JSON once with
# Python (a floor for any tool that has to parse this input).
farm-bench -n "$runs" --timeout 600 --vs "/usr/bin/python3 -m json.tool $work/fixtures/large/pipeline.json" -- \
  build/release/bin/secmlops report html --out "$work/large.html" "$work/fixtures/large/pipeline.json"
