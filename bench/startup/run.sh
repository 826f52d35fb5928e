#!/usr/bin/env bash
# The fixed start-up cost of a command (docs/benchmarks.md "Start-up"): `version`, and `attack
# --attack fgsm` and `predict` on a 2-row CSV (one model plugin, one attack plugin), each timed
# whole, candidate and baseline in alternating pairs; then what each binary maps and relocates
# at start (LD_DEBUG=statistics, LD_DEBUG=files).
#
#   bench/startup/run.sh BIN [BASELINE_BIN] [RUNS]
#
# BIN and BASELINE_BIN are folders holding secmlops with its plugins/ (a build's bin/, or a copy
# of one). RUNS/10 pairs of `perf stat -r 30` (at least 3), candidate then baseline; FARM_BENCH=1
# adds farm-bench's A/B ratio over RUNS alternating runs. Quote the medians; say the load.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$(cd "$1" && pwd)
base=${2:+$(cd "$2" && pwd)}
runs=${3:-41}
work=${SECMLOPS_BENCH_DIR:-/tmp/secmlops-startup}
mkdir -p "$work"
cd "$work"
# A catalogue of these builds' plugins only, not the user's (which lists every build it has seen;
# SECMLOPS_BENCH_CATALOGUE names one such to measure with).
export SECMLOPS_PLUGIN_CATALOGUE="${SECMLOPS_BENCH_CATALOGUE:-$work/plugin-catalogue.json}"

if [ ! -f lr.onnx ]; then
  /usr/bin/python3 "$here/../e2e/make_data.py" "$work" >/dev/null
  "$bin/secmlops" train --model logreg --data train.csv --label label --test-size 0 --out lr.onnx >/dev/null
  head -3 test.csv >t2.csv
fi

commands=(
  "version"
  "attack --model lr.onnx --data t2.csv --attack fgsm --eps 0.1 --no-empirical-robustness --out adv.csv"
  "predict --model lr.onnx --data t2.csv --out pred.csv"
)
# perf stat's task-clock (CPU) and elapsed (wall) per command, in ms: the mean of `perf stat -r`.
stat() {
  # shellcheck disable=SC2086
  perf stat -r 30 "$@" 2>&1 >/dev/null |
    awk '/task-clock/ {cpu=$1} /seconds time elapsed/ {wall=$1*1000} END {printf "%.2f %.2f", cpu, wall}'
}
median() { sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

pairs=$(( runs / 10 > 3 ? runs / 10 : 3 ))
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); $pairs pairs of perf stat -r 30, medians in ms"
for c in "${commands[@]}"; do
  : >"$work/a.txt"; : >"$work/b.txt"
  for _ in $(seq "$pairs"); do
    # shellcheck disable=SC2086
    stat "$bin/secmlops" $c >>"$work/a.txt"; echo >>"$work/a.txt"
    # shellcheck disable=SC2086
    [ -z "$base" ] || { stat "$base/secmlops" $c >>"$work/b.txt"; echo >>"$work/b.txt"; }
  done
  line="secmlops ${c%% *}: CPU $(cut -d' ' -f1 "$work/a.txt" | median) wall $(cut -d' ' -f2 "$work/a.txt" | median)"
  [ -z "$base" ] || line+="  baseline: CPU $(cut -d' ' -f1 "$work/b.txt" | median) wall $(cut -d' ' -f2 "$work/b.txt" | median)"
  echo "$line"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "${FARM_BENCH:-}" ]; then
  for c in "${commands[@]}"; do
    # shellcheck disable=SC2086
    farm-bench -n "$runs" ${base:+--vs "$base/secmlops $c"} -- "$bin/secmlops" $c
  done
fi

for b in ${base:+"$base"} "$bin"; do
  for c in "${commands[@]}"; do
    # shellcheck disable=SC2086
    relocs=$(LD_DEBUG=statistics "$b/secmlops" $c 2>&1 >/dev/null |
             sed -n 's/.*number of relocations: *\([0-9]*\).*/\1/p' | head -1)
    # shellcheck disable=SC2086
    objects=$(LD_DEBUG=files "$b/secmlops" $c 2>&1 >/dev/null |
              sed -n 's/.*file=\([^ ]*\).*generating link map.*/\1/p' | xargs -n1 basename | sort -u)
    echo "$b/secmlops ${c%% *}: $relocs relocations at start, $(echo "$objects" | wc -l) objects:" \
         "$(echo "$objects" | tr '\n' ' ')"
  done
done
