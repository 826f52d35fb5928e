#!/bin/bash
# Scans the 1 GiB H5, safetensors and GGUF files with `secmlops scan` several times each,
# interleaved, and prints the median wall time and the median peak RSS per format.
#   bench/tensor_headers/run.sh <secmlops binary> <work dir> [runs]
set -euo pipefail
cli=$1
work=$2
runs=${3:-7}
here=$(cd "$(dirname "$0")" && pwd)
/usr/bin/python3 "$here/make_files.py" "$work"
files=(weights_1g.h5 weights_1g.safetensors weights_1g.gguf)
declare -A times rss
for ((i = 0; i < runs; i++)); do
  for f in "${files[@]}"; do
    out=$( { /usr/bin/time -f "%e %M" "$cli" scan "$work/$f" > /dev/null; } 2>&1 | tail -n1)
    times[$f]+="${out%% *} "
    rss[$f]+="${out##* } "
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf "%-24s %12s %14s %10s\n" file size_bytes median_wall_s median_rss_kb
for f in "${files[@]}"; do
  printf "%-24s %12s %14s %10s\n" "$f" "$(stat -c %s "$work/$f")" \
    "$(echo "${times[$f]}" | median)" "$(echo "${rss[$f]}" | median)"
done
