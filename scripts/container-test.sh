#!/usr/bin/env bash
# Builds the secmlops image and tests it without any image registry:
#   1. debootstraps a minimal Debian 12 from the mirror the machine's apt sources use (cached as a
#      tarball) and `docker import`s it as the base;
#   2. builds the Dockerfile on it (--build-arg BASE=..., host network so apt reaches the mirror);
#   3. runs secmlopsd in a container with host networking only, its unix socket on a shared folder
#      and a read-only scan root; the Python client checks health, scans an uploaded pickle and
#      the scan root; the image's own HEALTHCHECK must turn healthy; the CLI scans in a container;
#   4. validates docker-compose.yml with `docker-compose config`.
# Starts its own dockerd (no bridge, no iptables, its own data root under the cache folder) when
# none answers, and stops it at the end. Idempotent: a rerun reuses the base tarball, the base
# image and the build cache. Everything runs within SECMLOPS_CONTAINER_BUDGET seconds.
#
# Exit codes: 0 passed, or skipped (Docker cannot start here; the reason is printed), 1 failed.
# SECMLOPS_CONTAINER_REQUIRED=1 turns a skip into a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
CACHE=${SECMLOPS_CONTAINER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/secmlops-container}
BUDGET=${SECMLOPS_CONTAINER_BUDGET:-3000}
SUITE=bookworm
BASE_IMAGE=secmlops-base:$SUITE
IMAGE=${SECMLOPS_IMAGE:-secmlops:test}

log() { printf 'container-test: %s\n' "$*" >&2; }
skip() {
  echo "container-test: SKIPPED: $*"
  [[ ${SECMLOPS_CONTAINER_REQUIRED:-0} == 1 ]] && exit 1
  exit 0
}

# The whole run under one time bound: the script runs itself under timeout(1) once.
if [[ -z ${SECMLOPS_CONTAINER_TIMED:-} ]]; then
  export SECMLOPS_CONTAINER_TIMED=1
  rc=0
  timeout --kill-after=30 "$BUDGET" bash "$0" "$@" || rc=$?
  [[ $rc == 124 ]] && echo "container-test: FAILED: over the time budget of ${BUDGET}s"
  exit "$rc"
fi

# ---- can Docker run here? ----
[[ $(id -u) == 0 ]] || skip "needs root (to start dockerd and to debootstrap)"
DOCKER=docker
# Debian's client matches Debian's daemon and has BuildKit built in.
[[ -x /usr/bin/docker ]] && DOCKER=/usr/bin/docker
for tool in "$DOCKER" dockerd debootstrap docker-compose /usr/bin/python3; do
  command -v "$tool" >/dev/null || skip "$tool is not installed (scripts/packages.txt lists it)"
done
/usr/bin/python3 -c 'import grpc' 2>/dev/null || skip "python3-grpcio is not installed"

mkdir -p "$CACHE"
RUN=$(mktemp -d "${TMPDIR:-/tmp}/secmlops-container.XXXXXX")
chmod 755 "$RUN"
OWN_DOCKERD=
CONTAINER=secmlops-test-$$

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  "$DOCKER" rm -f "$CONTAINER" "$CONTAINER-tls" >/dev/null 2>&1 || true
  if [[ -n $OWN_DOCKERD ]]; then
    log "stopping the dockerd this script started (pid $OWN_DOCKERD)"
    kill "$OWN_DOCKERD" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$OWN_DOCKERD" 2>/dev/null || break; sleep 1; done
    kill -9 "$OWN_DOCKERD" 2>/dev/null || true
  fi
  rm -rf "$RUN"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- a daemon: the machine's, or our own ----
if ! "$DOCKER" info >/dev/null 2>&1; then
  sock=$CACHE/run/docker.sock
  export DOCKER_HOST=unix://$sock
  mkdir -p "$CACHE/run" "$CACHE/data"
  if [[ -f $CACHE/run/dockerd.pid ]] && kill -0 "$(cat "$CACHE/run/dockerd.pid")" 2>/dev/null &&
     "$DOCKER" info >/dev/null 2>&1; then
    OWN_DOCKERD=$(cat "$CACHE/run/dockerd.pid")  # left by an interrupted run of this script
  else
    rm -f "$sock" "$CACHE/run/dockerd.pid"
    # No bridge network and no iptables rules: containers use the host's network, and the test
    # only talks to loopback.
    dockerd --host "unix://$sock" --data-root "$CACHE/data" --exec-root "$CACHE/run/exec" \
      --pidfile "$CACHE/run/dockerd.pid" --bridge=none --iptables=false --ip-masq=false \
      >"$CACHE/dockerd.log" 2>&1 &
    OWN_DOCKERD=$!
    for _ in $(seq 1 60); do
      "$DOCKER" info >/dev/null 2>&1 && break
      kill -0 "$OWN_DOCKERD" 2>/dev/null || break
      sleep 1
    done
    if ! "$DOCKER" info >/dev/null 2>&1; then
      tail -5 "$CACHE/dockerd.log" >&2 || true
      kill "$OWN_DOCKERD" 2>/dev/null || true
      OWN_DOCKERD=
      skip "dockerd does not start here (log: $CACHE/dockerd.log)"
    fi
  fi
  log "dockerd $("$DOCKER" version -f '{{.Server.Version}}') started by this script (data root $CACHE/data)"
else
  log "using the running Docker daemon $("$DOCKER" version -f '{{.Server.Version}}')"
fi

# ---- the base image: a debootstrapped Debian 12 ----
# The mirror the machine's apt sources use for the suite (deb822 .sources or one-line lists).
debian_mirror() {
  [[ -n ${SECMLOPS_DEBIAN_MIRROR:-} ]] && { echo "$SECMLOPS_DEBIAN_MIRROR"; return; }
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] || continue
    awk -v suite="$SUITE" '
      /^[[:space:]]*$/ { if (uri != "" && ok) { print uri; exit } uri = ""; ok = 0; next }
      /^URIs:/ { uri = $2 }
      /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) ok = 1 }
      END { if (uri != "" && ok) print uri }' "$f"
  done | head -1
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f $f ]] || continue
    sed -E 's/\[[^]]*\]//' "$f" | awk -v suite="$SUITE" '$1 == "deb" && $3 == suite { print $2; exit }'
  done | head -1
}

TARBALL=$CACHE/debian-$SUITE-minbase.tar
if ! "$DOCKER" image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  if [[ ! -s $TARBALL ]]; then
    mirror=$(debian_mirror | head -1)
    [[ -n $mirror ]] || { log "no $SUITE mirror in /etc/apt/sources.list(.d); set SECMLOPS_DEBIAN_MIRROR"; exit 1; }
    log "debootstrap $SUITE (minbase) from $mirror"
    rootfs=$CACHE/rootfs.tmp
    # A run killed inside debootstrap may have left its proc and sys mounted.
    umount -R "$rootfs/proc" "$rootfs/sys" 2>/dev/null || true
    rm -rf "$rootfs"
    t0=$SECONDS
    timeout 900 debootstrap --variant=minbase "$SUITE" "$rootfs" "$mirror" >"$CACHE/debootstrap.log" 2>&1 ||
      { tail -20 "$CACHE/debootstrap.log" >&2; exit 1; }
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" --numeric-owner --exclude='./proc/*' --exclude='./sys/*' --exclude='./dev/*' \
      -cf "$TARBALL.tmp" .
    mv "$TARBALL.tmp" "$TARBALL"
    rm -rf "$rootfs"
    log "base tarball: $(du -h "$TARBALL" | cut -f1) in $((SECONDS - t0)) s (cached: $TARBALL)"
  fi
  "$DOCKER" import --change 'CMD ["/bin/bash"]' "$TARBALL" "$BASE_IMAGE" >/dev/null
  log "imported $BASE_IMAGE"
fi

# ---- the image ----
log "building $IMAGE on $BASE_IMAGE (log: $CACHE/build.log)"
t0=$SECONDS
if ! DOCKER_BUILDKIT=1 "$DOCKER" build --network host --progress plain --build-arg "BASE=$BASE_IMAGE" \
     -t "$IMAGE" "$SRC" >"$CACHE/build.log" 2>&1; then
  tail -40 "$CACHE/build.log" >&2
  exit 1
fi
build_seconds=$((SECONDS - t0))
size=$("$DOCKER" image inspect -f '{{.Size}}' "$IMAGE")
hits=$(grep -Eo 'Hits: +[0-9]+ / +[0-9]+' "$CACHE/build.log" | tail -1 | tr -s ' ') || true
[[ -n $hits ]] && hits="ccache $hits compilations" || hits="compile step cached"
echo "image: $IMAGE $((size / 1000000)) MB, built in ${build_seconds} s ($hits)"
# Older builds of the tag are dangling now; on our own daemon nobody else needs them.
[[ -n $OWN_DOCKERD ]] && "$DOCKER" image prune -f >/dev/null
"$DOCKER" run --rm --network host --entrypoint sh "$IMAGE" -c 'echo "runs as: $(id -un) (uid $(id -u)); $(dpkg-query -W | wc -l) Debian packages"; secmlops version'

# ---- secmlopsd in a container: unix socket on a shared folder, read-only scan root ----
mkdir -p "$RUN/socket" "$RUN/models"
chown 10001:10001 "$RUN/socket"
/usr/bin/python3 - "$RUN/models/hostile.pkl" <<'EOF'
import os, pickle, sys
class Payload:
    def __reduce__(self):
        return (os.system, ("echo pwned",))
open(sys.argv[1], "wb").write(pickle.dumps(Payload(), protocol=2))
EOF
chmod -R a+rX "$RUN/models"
"$DOCKER" run -d --name "$CONTAINER" --network host --read-only --tmpfs /tmp --tmpfs /var/lib/secmlops/spill:uid=10001 \
  -v "$RUN/socket:/run/secmlops" -v "$RUN/models:/models:ro" "$IMAGE" >/dev/null

# Python stubs from the project's protos (as tests/clients does), then the client's checks.
protoc_gen=$(command -v grpc_python_plugin || true)
[[ -n $protoc_gen ]] || { log "grpc_python_plugin not found (protobuf-compiler-grpc)"; exit 1; }
mkdir -p "$RUN/stubs"
(cd proto && protoc --python_out="$RUN/stubs" --grpc_out="$RUN/stubs" --plugin=protoc-gen-grpc="$protoc_gen" \
  -I . -I ../tests/clients/proto secmlops/v1/*.proto grpc_std/health/v1/health.proto)
SECMLOPS_PY_STUBS=$RUN/stubs /usr/bin/python3 tests/clients/python/container_check.py \
  "unix:$RUN/socket/api.sock" /models || { "$DOCKER" logs "$CONTAINER" 2>&1 | tail -20 >&2; exit 1; }

# TLS and a token from mounted files, as deploy/compose/tls.yml runs it, on a loopback port.
mkdir -p "$RUN/tls"
bash tests/clients/make_certs.sh "$RUN/tls" >/dev/null
/usr/bin/python3 -c 'import secrets; print(secrets.token_hex(32))' >"$RUN/tls/tokens"
chown -R 10001:10001 "$RUN/tls"
chmod 600 "$RUN/tls/tokens"
port=$((20000 + $$ % 20000))
"$DOCKER" run -d --name "$CONTAINER-tls" --network host --read-only --tmpfs /tmp --tmpfs /var/lib/secmlops/spill:uid=10001 \
  -v "$RUN/tls:/etc/secmlops/tls:ro" -v "$RUN/models:/models:ro" "$IMAGE" \
  --listen "127.0.0.1:$port" --tls-cert /etc/secmlops/tls/server.crt --tls-key /etc/secmlops/tls/server.key \
  --token-file /etc/secmlops/tls/tokens --scan-root /models --spill-dir /var/lib/secmlops/spill >/dev/null
SECMLOPS_PY_STUBS=$RUN/stubs /usr/bin/python3 tests/clients/python/container_check.py \
  "localhost:$port" /models --tls-ca "$RUN/tls/ca.crt" --token-file "$RUN/tls/tokens" |
  sed 's/^/tls /' || { "$DOCKER" logs "$CONTAINER-tls" 2>&1 | tail -20 >&2; exit 1; }
echo "tls health probe: $("$DOCKER" exec "$CONTAINER-tls" secmlops-health --address "localhost:$port" \
  --tls-ca /etc/secmlops/tls/ca.crt)"

# The image's own HEALTHCHECK (secmlops-health on the socket) must report healthy.
for _ in $(seq 1 60); do
  state=$("$DOCKER" inspect -f '{{.State.Health.Status}}' "$CONTAINER")
  [[ $state == healthy || $state == unhealthy ]] && break
  sleep 1
done
echo "docker healthcheck: $state ($("$DOCKER" exec "$CONTAINER" secmlops-health))"
[[ $state == healthy ]] || exit 1

# The CLI in a container: a scan of the read-only root, JSON out.
"$DOCKER" run --rm --network host -v "$RUN/models:/models:ro" --entrypoint secmlops "$IMAGE" \
  scan --format json /models >"$RUN/cli.json" || [[ $? == 1 ]]
/usr/bin/python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("cli scan in a container: %d file(s), verdict %s" % (len(r["files"]), r["verdict"])); sys.exit(r["verdict"] != "fail")' "$RUN/cli.json"

# The compose file's one-shot workshop command, recording into an MLflow file store (no MLflow
# server image here): exit 1 is the workshop's gates failing on purpose (a hostile sample).
mkdir -p "$RUN/mlruns" && chown 10001:10001 "$RUN/mlruns"
rc=0
"$DOCKER" run --rm --network host -v "$RUN/mlruns:/work/mlruns" --entrypoint secmlops "$IMAGE" \
  pipeline run pipelines/workshop.yaml --mlflow >"$RUN/workshop.txt" 2>&1 || rc=$?
runs=$(find "$RUN/mlruns" -mindepth 3 -maxdepth 3 -name meta.yaml | wc -l)
echo "workshop pipeline in a container: exit $rc, $runs MLflow runs, $(grep -c '^  FAIL' "$RUN/workshop.txt") gate(s) failing"
[[ $rc == 1 && $runs -gt 1 ]] || { tail -20 "$RUN/workshop.txt" >&2; exit 1; }

# ---- the compose file ----
docker-compose -f docker-compose.yml config -q
echo "docker-compose config: valid"
echo "container-test: PASSED"
