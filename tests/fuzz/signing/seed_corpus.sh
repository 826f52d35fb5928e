#!/bin/sh
# Seeds for fuzz_signature: a real bundle (selector byte 0) and its statement (selector byte 1),
# for the files and the shards method. Usage: seed_corpus.sh SECMLOPS_CLI OUT_DIR
set -eu
cli=$1
out=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out" "$work/m/d"
printf weights > "$work/m/w.bin"
printf '{}' > "$work/m/d/c.json"
openssl ecparam -name prime256v1 -genkey -noout -out "$work/k.pem"
for method in files shards; do
  "$cli" sign --key "$work/k.pem" --method $method --shard-size 4 "$work/m" --signature "$work/s.sig" > /dev/null
  { printf '\000'; cat "$work/s.sig"; } > "$out/bundle-$method"
  { printf '\001'; python3 -c 'import json,base64,sys; print(base64.b64decode(json.load(open(sys.argv[1]))["dsseEnvelope"]["payload"]).decode(), end="")' "$work/s.sig"; } > "$out/statement-$method"
done
