#!/usr/bin/env bash
# Installs the SDK to a temporary prefix, builds docs/examples/signature_scanner out of tree
# against it, and checks that the host loads the result and that it finds what it should.
set -euo pipefail
src=$1 build=$2 cli=$3 cxx=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --component sdk --prefix "$work/prefix" >/dev/null
test -f "$work/prefix/include/secmlops/sdk/abi.h"
test -f "$work/prefix/lib/cmake/secmlops_sdk/secmlops_sdkConfig.cmake"

cp -r "$src/docs/examples/signature_scanner" "$work/example"
cmake -S "$work/example" -B "$work/example/build" -DCMAKE_PREFIX_PATH="$work/prefix" \
      -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/example/build" >/dev/null
plugin="$work/example/build/secmlops_signature.so"
test -f "$plugin"

# Exactly one exported dynamic symbol besides the runtime's: the entry point.
exported=$(nm -D --defined-only "$plugin" | awk '$2 ~ /[TDB]/ {print $3}' | grep -v '^_' || true)
if [ "$exported" != "secmlops_plugin_entry_v1" ]; then
  echo "unexpected exported symbols: $exported" >&2
  exit 1
fi

list=$("$cli" --plugin-dir "$work/example/build" plugins --json)
grep -q '"name": "signature"' <<<"$list" || { echo "plugin not listed: $list" >&2; exit 1; }
abi_h="$src/sdk/include/secmlops/sdk/abi.h"
abi="$(sed -n 's/^#define SECMLOPS_ABI_MAJOR //p' "$abi_h").$(sed -n 's/^#define SECMLOPS_ABI_MINOR //p' "$abi_h")"
grep -q "\"abiVersion\": \"$abi\"" <<<"$list"
# Its declared options are listed with their types and defaults.
grep -q '"name": "signature_severity"' <<<"$list" || { echo "options not listed: $list" >&2; exit 1; }
grep -q '"defaultValue": "HIGH"' <<<"$list" || { echo "default not listed: $list" >&2; exit 1; }

printf 'prefix X5O!P%%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H* suffix' > "$work/eicar.bin"
set +e
out=$("$cli" --plugin-dir "$work/example/build" scan "$work/eicar.bin")
rc=$?
set -e
echo "$out"
[ "$rc" -eq 1 ] || { echo "expected exit 1, got $rc" >&2; exit 1; }
grep -q "SIG-MATCH" <<<"$out"
grep -q "@ 7" <<<"$out"
echo "out-of-tree example plugin: OK"
