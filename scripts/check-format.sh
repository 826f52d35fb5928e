#!/usr/bin/env bash
# Checks every first-party C/C++ file against .clang-format and lists the files that differ.
#   scripts/check-format.sh          list offenders; exit 1 if there are any
#   scripts/check-format.sh --fix    rewrite the offenders in place
# CLANG_FORMAT picks the binary (default clang-format-14, the version the style is pinned to:
# other versions break lines differently). Files are the tracked ones (git ls-files), so build
# folders and generated protobuf sources are never looked at.
set -euo pipefail
cd "$(dirname "$0")/.."

fix=0
case "${1:-}" in
  --fix) fix=1 ;;
  "") ;;
  *) echo "usage: $0 [--fix]" >&2; exit 2 ;;
esac

clang_format=${CLANG_FORMAT:-$(command -v clang-format-14 || command -v clang-format || true)}
if [[ -z "$clang_format" ]]; then
  echo "check-format: clang-format not found (Debian package clang-format-14)" >&2
  exit 2
fi

# The frozen ABI headers are byte-for-byte copies of earlier releases; they stay as shipped.
mapfile -t files < <(git ls-files -- '*.c' '*.cc' '*.cpp' '*.h' '*.hpp' \
                       ':!:tests/sdk/abi_v1_*/**')

if ((fix)); then
  printf '%s\0' "${files[@]}" | xargs -0 -P "$(nproc)" -n 16 "$clang_format" -i --style=file
  echo "check-format: formatted ${#files[@]} files"
  exit 0
fi

# --dry-run --Werror exits non-zero for a file that would change; one line per offender.
mapfile -t offenders < <(printf '%s\0' "${files[@]}" |
  xargs -0 -P "$(nproc)" -I{} sh -c \
    '"$1" --dry-run --Werror --ferror-limit=1 --style=file "$2" >/dev/null 2>&1 || echo "$2"' \
    _ "$clang_format" {} | sort)

if ((${#offenders[@]})); then
  printf '%s\n' "${offenders[@]}"
  echo "check-format: ${#offenders[@]} of ${#files[@]} files differ from .clang-format;" \
       "run scripts/check-format.sh --fix" >&2
  exit 1
fi
echo "check-format: ${#files[@]} files match .clang-format"
