#!/usr/bin/env bash
# Builds the release preset, then measures (1) a pipeline step's overhead over calling its
# operation directly (in process) and (2) the whole workshop pipeline end to end (the CLI as a
# user runs it, MLflow off and on), as the median of several runs.
#   bash bench/pipeline/run.sh [end-to-end runs]
set -euo pipefail
cd "$(dirname "$0")/../.."
cmake --preset release >/dev/null
cmake --build --preset release --target secmlops secmlops_pipeline_bench >/dev/null
cmake --build --preset release >/dev/null
runs=${1:-5}
build/release/bin/secmlops_pipeline_bench 300
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
time_runs() {
  local label=$1; shift
  local times=()
  for i in $(seq "$runs"); do
    local s e
    s=$(date +%s.%N)
    "$@" >/dev/null 2>&1 || [[ $? -eq 1 ]]   # exit 1: the workshop's severity gate fails by design
    e=$(date +%s.%N)
    times+=("$(awk -v a="$s" -v b="$e" 'BEGIN {print b - a}')")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk -v l="$label" '{a[NR]=$1} END {printf "%-40s median %.2f s (min %.2f, max %.2f, %d runs)\n", l, a[int((NR+1)/2)], a[1], a[NR], NR}'
}
time_runs "workshop pipeline, end to end" build/release/bin/secmlops pipeline run pipelines/workshop.yaml --output "$work/out"
time_runs "workshop pipeline with --mlflow (file store)" build/release/bin/secmlops pipeline run pipelines/workshop.yaml \
  --output "$work/out" --mlflow="$work/mlruns"
