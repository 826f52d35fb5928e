#!/bin/sh
# Sandboxed scan workers against in-process scanning, side by side in one run (docs/benchmarks.md,
# "Scan isolation"):
#   1. the 73.6 MB opcode-dense pickle through the CLI (farm-bench, paired runs),
#   2. 2,000 small pickles in one folder through the CLI (farm-bench, paired runs),
#   3. ScanUpload of a 1 KiB pickle, one client, workers warm: latency percentiles (bench_grpc_load).
#   bench/isolation/run.sh BUILD_DIR [DATA_DIR]   (release build; DATA_DIR default /tmp/secmlops-isolation-bench)
set -eu
build=$(cd "$1" && pwd)
data=${2:-/tmp/secmlops-isolation-bench}
here=$(cd "$(dirname "$0")" && pwd)
cli=$build/bin/secmlops
mkdir -p "$data"
[ -f "$data/dense.pkl" ] || /usr/bin/python3 "$here/make_files.py" "$data"

echo "== dense.pkl (73.6 MB): sandboxed (A) vs --in-process (B)"
farm-bench -n 7 --timeout 600 --vs "$cli scan --in-process $data/dense.pkl" -- "$cli" scan "$data/dense.pkl"

echo "== dense.pkl: the scanner core alone, and the floor (a bare opcode walk over the mapped file)"
PICKLE_BENCH_MMAP=1 "$build/bin/pickle_bench" bench 7 "$data/dense.pkl"
"$build/bin/pickle_bench" floor 7 "$data/dense.pkl"

echo "== 2,000 small pickles: sandboxed (A) vs --in-process (B)"
farm-bench -n 7 --timeout 600 --vs "$cli scan --in-process $data/small" -- "$cli" scan "$data/small"

echo "== ScanUpload of a 1 KiB pickle, 1 client, sandboxed workers (warm)"
"$build/bin/bench_grpc_load" --requests 3000 --settle 200 --concurrency 1 --size 1024 --server-threads 2
echo "== the same, --in-process-scans"
"$build/bin/bench_grpc_load" --requests 3000 --settle 200 --concurrency 1 --size 1024 --server-threads 2 -- --in-process-scans
