#!/bin/bash
# Signing and verifying a model directory against hashing it with sha256sum, side by side.
#   bench/signing/run.sh <secmlops binary> <work dir> [GiB, default 10] [runs, default 5]
# The directory holds 8 equal weight shards plus a few small files (a typical checkpoint
# layout). It is read once before timing, so every command reads from the page cache: the
# figures compare hashing speed, not the disk. Needs GiB of free page cache (check `free -g`).
set -euo pipefail
cli=$(realpath "$1")
work=$2
gib=${3:-10}
runs=${4:-5}
model=$work/model-${gib}g
mkdir -p "$model"
shard=$((gib * 1024 / 8))
for i in 0 1 2 3 4 5 6 7; do
  f=$model/model-0000$i-of-00008.safetensors
  [[ -f $f && $(stat -c %s "$f") -eq $((shard << 20)) ]] ||
    head -c $((shard << 20)) /dev/urandom > "$f"
done
echo '{"architectures": ["Bench"]}' > "$model/config.json"
echo '{"version": "1.0"}' > "$model/tokenizer.json"
[[ -f $work/key.pem ]] || openssl ecparam -name prime256v1 -genkey -noout -out "$work/key.pem"
openssl ec -in "$work/key.pem" -pubout -out "$work/pub.pem" 2>/dev/null
"$cli" sign --key "$work/key.pem" "$model" --signature "$work/model.sig" > /dev/null
cat "$model"/* > /dev/null  # into the page cache
bytes=$(du -sb "$model" | cut -f1)
echo "model: $model, $bytes bytes, $(nproc) cores"
timeout=$((runs * gib * 30 + 120))
echo "== sign (secmlops, every core) vs sha256sum (one process)"
farm-bench -n "$runs" --timeout "$timeout" --vs "sh -c 'sha256sum $model/* > /dev/null'" -- \
  "$cli" sign --dry-run --key "$work/key.pem" "$model" --signature "$work/model.sig"
echo "== sign vs sha256sum on every core (find | xargs -P$(nproc))"
farm-bench -n "$runs" --timeout "$timeout" \
  --vs "sh -c 'find $model -type f -print0 | xargs -0 -P$(nproc) -n1 sha256sum > /dev/null'" -- \
  "$cli" sign --dry-run --key "$work/key.pem" "$model" --signature "$work/model.sig"
echo "== verify vs sha256sum on every core"
farm-bench -n "$runs" --timeout "$timeout" \
  --vs "sh -c 'find $model -type f -print0 | xargs -0 -P$(nproc) -n1 sha256sum > /dev/null'" -- \
  "$cli" verify --public-key "$work/pub.pem" --signature "$work/model.sig" "$model"
