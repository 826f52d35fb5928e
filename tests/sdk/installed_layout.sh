#!/usr/bin/env bash
# Installs the whole build to a temporary prefix and checks the installed layout works on its
# own: bin/secmlops finds its plugins in lib/secmlops/plugins and its scan worker in
# libexec/secmlops, and scans a malicious pickle to a finding (exit 1) in a sandboxed worker;
# it opens its signing and pipeline module from lib/secmlops to validate a pipeline.
set -euo pipefail
build=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"

cmake --install "$build" --prefix "$prefix" >/dev/null
for f in bin/secmlops bin/secmlopsd bin/secmlops-health libexec/secmlops/secmlops-scan-worker \
         lib/secmlops/plugins/secmlops_pickle.so lib/secmlops/plugins/secmlops_logreg.so \
         lib/secmlops/secmlops-signing-pipelines.so \
         include/secmlops/sdk/abi.h; do
  test -e "$prefix/$f" || { echo "missing from the installed layout: $f" >&2; exit 1; }
done
# Nothing from the test or example plugin folders is installed.
if ls "$prefix/lib/secmlops/plugins" | grep -Eq 'fixture|broken|hostile|signature'; then
  echo "test or example plugins installed: $(ls "$prefix/lib/secmlops/plugins")" >&2
  exit 1
fi

export SECMLOPS_PLUGIN_CATALOGUE="$work/catalogue.json"
list=$("$prefix/bin/secmlops" plugins --json)
for name in pickle onnx logreg fgsm mlflow; do
  grep -q "\"name\": \"$name\"" <<<"$list" || { echo "installed secmlops does not list $name" >&2; exit 1; }
done

# A pickle whose loading would call os.system.
printf '\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03.' > "$work/evil.pkl"
set +e
out=$("$prefix/bin/secmlops" scan --format json "$work/evil.pkl")
rc=$?
set -e
[ "$rc" -eq 1 ] || { echo "expected exit 1 (findings), got $rc: $out" >&2; exit 1; }
grep -q 'os' <<<"$out" || { echo "no finding for os.system: $out" >&2; exit 1; }
spec=$(cd "$(dirname "$0")/../.." && pwd)/pipelines/workshop.yaml
"$prefix/bin/secmlops" pipeline validate "$spec" >/dev/null ||
  { echo "installed secmlops cannot validate $spec" >&2; exit 1; }
echo "installed layout: OK"
