#!/bin/sh
# The pickle scanner core of two revisions side by side on one file: each revision's scanner
# sources and pickle_bench are compiled with the same flags into their own binary, then run
# alternately (ROUNDS rounds of `bench 7`), so that both see the same machine load.
#   bench/pickle/compare_cores.sh BASE_REV DATA_FILE [ROUNDS]     e.g. main /tmp/pickle-bench/dense.pkl
# Prints CPU seconds per round (the figure that does not depend on neighbours) for each binary.
set -eu
base=$1
data=$2
rounds=${3:-3}
repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
work=$(mktemp -d /tmp/pickle-compare.XXXXXX)
trap 'rm -rf "$work"' EXIT
build() {  # build REV_DIR OUT
  g++ -O3 -DNDEBUG -std=c++20 -I"$1/sdk/include" -I"$1/plugins/pickle" \
    "$1/bench/pickle/pickle_bench.cpp" $(ls "$1"/plugins/pickle/*.cpp | grep -v pickle_plugin.cpp) \
    -lyaml-cpp -o "$2"
}
mkdir -p "$work/base"
git -C "$repo" archive "$base" sdk plugins/pickle bench/pickle | tar -x -C "$work/base"
build "$work/base" "$work/pickle_bench_base" &
build "$repo" "$work/pickle_bench_current"
wait
for r in $(seq "$rounds"); do
  for v in base current; do
    printf 'round %s %-8s ' "$r" "$v"
    "$work/pickle_bench_$v" bench 7 "$data" | awk 'NR==2 {print "cpu_s", $5, "cpu_MB/s", $6} /peak RSS/ {print}' | tr '\n' ' '
    echo
  done
done
