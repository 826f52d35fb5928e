#!/usr/bin/env bash
# Runs clang-tidy (.clang-tidy) over the first-party sources of a configured build, in parallel,
# and prints each finding once; exit 1 if there is any.
#   scripts/check-tidy.sh [-p BUILD_DIR] [-j JOBS] [PATH_PREFIX...]
# BUILD_DIR defaults to build/dev and must be built (generated protobuf headers included).
# PATH_PREFIX limits the run to sources under those folders (e.g. host/src plugins); CI uses the
# subset in scripts/tidy-subset.txt when SECMLOPS_TIDY_SUBSET=1 (see docs/checks.md).
# Generated protobuf sources (under the build folder) are never checked; neither are system or
# third-party headers.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

build=build/dev
jobs=$(nproc)
while getopts "p:j:" opt; do
  case $opt in
    p) build=$OPTARG ;;
    j) jobs=$OPTARG ;;
    *) echo "usage: $0 [-p BUILD_DIR] [-j JOBS] [PATH_PREFIX...]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
prefixes=("$@")
if ((${#prefixes[@]} == 0)) && [[ "${SECMLOPS_TIDY_SUBSET:-0}" == 1 ]]; then
  mapfile -t prefixes < <(grep -v '^\s*\(#\|$\)' scripts/tidy-subset.txt)
fi

clang_tidy=${CLANG_TIDY:-$(command -v clang-tidy-14 || command -v clang-tidy || true)}
if [[ -z "$clang_tidy" ]]; then
  echo "check-tidy: clang-tidy not found (Debian package clang-tidy-14)" >&2
  exit 2
fi
db=$build/compile_commands.json
if [[ ! -f "$db" ]]; then
  echo "check-tidy: $db missing; configure and build the preset first (cmake --preset dev)" >&2
  exit 2
fi

# First-party translation units of the build, filtered by the prefixes.
mapfile -t files < <(/usr/bin/python3 - "$db" "$root" "${prefixes[@]}" <<'PY'
import json, os, sys
db, root, prefixes = sys.argv[1], sys.argv[2], sys.argv[3:]
build = os.path.realpath(os.path.dirname(db))
seen = set()
for entry in json.load(open(db)):
    path = os.path.realpath(os.path.join(entry["directory"], entry["file"]))
    if not path.startswith(root + "/") or path.startswith(build + "/"):
        continue
    rel = os.path.relpath(path, root)
    if rel.startswith("build/") or rel in seen:
        continue
    if prefixes and not any(rel == p or rel.startswith(p.rstrip("/") + "/") for p in prefixes):
        continue
    seen.add(rel)
    print(rel)
PY
)
if ((${#files[@]} == 0)); then
  echo "check-tidy: no sources matched" >&2
  exit 2
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# Headers count when they live in the source tree, not in the build folder's generated code.
header_filter="^${root}/(host|sdk|plugins|libs|bench|tests|docs)/"
start=$SECONDS
# -Wno-error: a build with SECMLOPS_WERROR=ON must not turn compiler warnings in generated or
# system headers into errors, which clang-tidy reports whatever the header filter says.
# Each run's CPU seconds go next to its log: the sum is what the check costs on an idle machine.
printf '%s\n' "${files[@]}" | xargs -P "$jobs" -I{} sh -c \
  'log="$5/$(echo "$4" | tr / _)"
   /usr/bin/time -f "%U %S" -o "$log.cpu" \
     "$1" -p "$2" --quiet --header-filter="$3" --extra-arg=-Wno-unknown-warning-option --extra-arg=-Wno-error "$4" \
     > "$log.log" 2>/dev/null || true' \
  _ "$clang_tidy" "$build" "$header_filter" {} "$out"
cpu=$(cat "$out"/*.cpu | awk '$1 ~ /^[0-9.]+$/ {s += $1 + $2} END {printf "%d", s}')

# A header's finding shows once per including file: print every finding once, with its note lines.
/usr/bin/python3 - "$out" <<'PY' > "$out/findings.txt"
import glob, re, sys
start = re.compile(r"^(/\S+|\S+):\d+:\d+: (warning|error): ")
seen, blocks = set(), []
for log in sorted(glob.glob(sys.argv[1] + "/*.log")):
    block = None
    for line in open(log, errors="replace"):
        if start.match(line):
            block = [line]
            blocks.append(block)
        elif block is not None and not re.match(r"^\d+ warnings? (and \d+ errors? )?generated", line):
            block.append(line)
for block in blocks:
    if block[0] not in seen:
        seen.add(block[0])
        sys.stdout.write("".join(block))
PY
count=$(grep -cE '^\S+:[0-9]+:[0-9]+: (warning|error): ' "$out/findings.txt" || true)
sed "s|^$root/||" "$out/findings.txt"
echo "check-tidy: ${#files[@]} files in $((SECONDS - start)) s ($cpu s of CPU), $count finding(s)" >&2
((count == 0))
