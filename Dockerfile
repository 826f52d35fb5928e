# secmlops image: `secmlops`, `secmlopsd`, the scan worker, the health probe and the plugins,
# built with the release preset and shipped in a slim runtime stage that runs as a non-root user.
#   docker build -t secmlops .                                   # on the official Debian 12 slim
#   docker build --build-arg BASE=my-registry/debian:12 -t secmlops .   # any Debian 12 base
# docs/deploy.md has the compose and Kubernetes set-ups.
ARG BASE=debian:12-slim

FROM ${BASE} AS build
ARG DEBIAN_FRONTEND=noninteractive
# The build and library packages of scripts/packages.txt (everything above its tests section).
COPY scripts/packages.txt /tmp/packages.txt
RUN apt-get update -qq \
 && awk '/^# tests/{exit} /^[a-z0-9]/{print $1}' /tmp/packages.txt \
    | xargs apt-get install -y -qq --no-install-recommends >/dev/null \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Only what the release build reads: a change to docs, tests or scripts does not rebuild.
COPY CMakeLists.txt CMakePresets.json ./
COPY cmake cmake
COPY sdk sdk
COPY proto proto
COPY host host
COPY libs libs
COPY plugins plugins
COPY docs/examples docs/examples
# ccache survives between builds in BuildKit's cache (DOCKER_BUILDKIT=1), so a rebuild after a
# source change recompiles only what changed.
ENV CCACHE_DIR=/ccache
RUN --mount=type=cache,target=/ccache \
    cmake --preset release -DSECMLOPS_BUILD_TESTS=OFF -DSECMLOPS_BUILD_BENCH=OFF >/dev/null \
 && cmake --build --preset release \
 && DESTDIR=/out cmake --install build/release --prefix /usr/local >/dev/null \
 && rm -rf /out/usr/local/include /out/usr/local/lib/cmake /out/usr/local/lib/*.a \
 && { ccache --show-stats | grep -E 'Hits|Misses' || true; }
# The runtime stage installs exactly the Debian packages that own the shared libraries the
# binaries and plugins link (no compilers, no headers).
# (With merged /usr a library may be registered under /lib or /usr/lib: both are asked.)
# libarchive (7z, RAR) is opened on first use, not linked, so ldd cannot see it: named here.
RUN { find /out -type f \( -perm -u+x -o -name '*.so' \) -print0 \
    | xargs -0 ldd 2>/dev/null | awk '/=> \//{print $3}' | sort -u \
    | while read -r lib; do \
        dpkg -S "$lib" 2>/dev/null || dpkg -S "/usr${lib}" 2>/dev/null || dpkg -S "${lib#/usr}" 2>/dev/null \
          || echo "no Debian package owns $lib" >&2; \
      done; echo libarchive13; } | cut -d: -f1 | sort -u > /out/runtime-packages.txt \
 && cat /out/runtime-packages.txt

FROM ${BASE} AS runtime
ARG DEBIAN_FRONTEND=noninteractive
COPY --from=build /out/runtime-packages.txt /tmp/runtime-packages.txt
RUN apt-get update -qq \
 && xargs apt-get install -y -qq --no-install-recommends ca-certificates < /tmp/runtime-packages.txt >/dev/null \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /tmp/runtime-packages.txt \
 && groupadd --system --gid 10001 secmlops \
 && useradd --system --uid 10001 --gid secmlops --home-dir /var/lib/secmlops --create-home \
            --shell /usr/sbin/nologin secmlops \
 && install -d -o secmlops -g secmlops -m 0750 /run/secmlops /var/lib/secmlops/spill \
      /var/lib/secmlops/mlflow-spool /work \
 && install -d -m 0755 /models /etc/secmlops
COPY --from=build /out/usr/local/ /usr/local/
# The pipelines shipped with the project: `secmlops pipeline run pipelines/workshop.yaml` works in
# the working directory, and its output (secmlops-out/) lands beside them.
COPY pipelines /work/pipelines
# The host finds plugins next to its binary or in ../lib/secmlops/plugins; said explicitly too.
# MLflow runs a tracking server could not take yet wait here (a volume keeps them across restarts).
ENV SECMLOPS_MLFLOW_SPOOL_DIR=/var/lib/secmlops/mlflow-spool
# Every binary starts and every plugin loads: a library missing from the runtime stage fails the
# build, not the user.
RUN secmlops version && secmlopsd --help >/dev/null && secmlops-health --help >/dev/null \
 && ! secmlops plugins --json | grep -q '"errors"'
USER secmlops
WORKDIR /work
# Plaintext on a unix socket (mount /run/secmlops to share it); TCP needs TLS and tokens
# (docs/deploy.md).
EXPOSE 8443
HEALTHCHECK --interval=15s --timeout=6s --start-period=20s --retries=3 \
  CMD ["secmlops-health", "--quiet", "--address", "unix:/run/secmlops/api.sock"]
ENTRYPOINT ["secmlopsd"]
CMD ["--listen", "unix:/run/secmlops/api.sock", "--scan-root", "/models", "--spill-dir", "/var/lib/secmlops/spill"]
