#!/bin/sh
# Runs the pickle scanner benchmark and the Python genops reference side by side.
#   bench/pickle/run_bench.sh BUILD_DIR DATA_DIR   (DATA_DIR from make_bench_files.py)
set -eu
bin=$1/bin/pickle_bench
data=$2
here=$(dirname "$0")
# Each file in its own process, so the peak RSS printed is that file's.
for f in dense.pkl numpy_1g.pkl torch_legacy_1g.pt; do
  "$bin" bench 7 "$data/$f"
done
PICKLE_BENCH_MMAP=1 "$bin" bench 7 "$data/dense.pkl"
# The floor on the same file in the same run: a bare opcode walk (argument lengths only).
"$bin" floor 7 "$data/dense.pkl"
/usr/bin/python3 "$here/genops_baseline.py" "$data/dense.pkl" "$data/numpy_1g.pkl"
