#!/bin/sh
# Many small files, side by side in one run (docs/benchmarks.md, "Scan isolation" and "Many
# small files"):
#   1. `secmlops scan DIR` (sandboxed workers, the default) against `secmlops scan --in-process DIR`,
#   2. `secmlops scan DIR` against picklescan_baseline.py DIR — a LOWER BOUND of picklescan's
#      and ModelScan's cost (their per-file core: read + pickletools.genops + global lookup; see
#      the script's docstring) — whole processes, interpreter start included; the script's own
#      in-script time (start-up and imports excluded) is printed after.
#   3. the floor of the job (scan_floor.cpp: list the tree, read every file once, start one more
#      process; statically linked) against the same lower bound: what 5x its files/s asks for
#      is physically within reach when this ratio is under 0.2,
#   4. the same floor linked as the host is (scan_floor_linked) against `secmlops scan DIR`,
#   5. `secmlops scan` of ONE of the files against the lower bound on all of them: what a scan
#      costs whatever the number of files (program start, worker start, check, exit); when this
#      ratio is above 0.2, 5x the lower bound's files/s is out of reach for a scanner built this
#      way, however fast it is per file.
# Files/s = 2,000 / median wall time. All with farm-bench, A and B in turn, medians quoted.
#   bench/scan_many/run.sh BUILD_DIR [DATA_DIR]   (release build; DATA_DIR as for bench/isolation)
set -eu
build=$(cd "$1" && pwd)
data=${2:-/tmp/secmlops-isolation-bench}
here=$(cd "$(dirname "$0")" && pwd)
cli=$build/bin/secmlops
[ -d "$data/small" ] || /usr/bin/python3 "$here/../isolation/make_files.py" "$data"
n=$(find "$data/small" -type f | wc -l)
echo "== $n small pickles: secmlops scan, sandboxed (A) vs --in-process (B)"
farm-bench -n 11 --timeout 600 --vs "$cli scan --in-process $data/small" -- "$cli" scan "$data/small"
echo "== $n small pickles: secmlops scan (A) vs the picklescan/ModelScan lower bound (B)"
farm-bench -n 11 --timeout 600 --vs "/usr/bin/python3 $here/picklescan_baseline.py $data/small" -- "$cli" scan "$data/small"
echo "== the floor, one more process, statically linked (A) vs the picklescan/ModelScan lower bound (B)"
farm-bench -n 11 --timeout 600 --vs "/usr/bin/python3 $here/picklescan_baseline.py $data/small" -- "$build/bin/scan_floor" --process "$data/small"
echo "== the floor, one more process, linked as the host (A) vs secmlops scan (B)"
farm-bench -n 11 --timeout 600 --vs "$cli scan $data/small" -- "$build/bin/scan_floor_linked" --process "$data/small"
first=$(find "$data/small" -type f | sort | head -1)
echo "== one of the small pickles: secmlops scan (A) vs the picklescan/ModelScan lower bound on all $n (B)"
farm-bench -n 11 --timeout 600 --vs "/usr/bin/python3 $here/picklescan_baseline.py $data/small" -- "$cli" scan "$first"
echo "== the baseline's in-script time (interpreter start and imports excluded), 5 runs"
for i in 1 2 3 4 5; do /usr/bin/python3 "$here/picklescan_baseline.py" "$data/small" 2>&1 >/dev/null | tail -1; done
echo "== the same verdicts: files with findings (secmlops) and with dangerous globals (baseline)"
"$cli" scan --format json "$data/small" | /usr/bin/python3 -c 'import json,sys; r=json.load(sys.stdin); print("secmlops:", sum(1 for f in r["files"] if f.get("findings")), "of", len(r["files"]))' || true
/usr/bin/python3 "$here/picklescan_baseline.py" "$data/small" 2>/dev/null | wc -l | sed 's/^/baseline: /'
