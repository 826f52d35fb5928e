#!/usr/bin/env bash
# Installs the Debian packages secmlops needs (only the missing ones), then configures and builds
# a CMake preset. Idempotent: a second run installs nothing and rebuilds only what changed.
#   scripts/setup.sh [preset]     (default: release)
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-release}

missing=()
while read -r pkg; do
  [[ -z "$pkg" || "$pkg" == \#* ]] && continue
  # Node may come from elsewhere (e.g. NodeSource's nodejs bundles npm and conflicts with Debian's).
  [[ "$pkg" == npm ]] && command -v npm >/dev/null && continue
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done < scripts/packages.txt

if ((${#missing[@]})); then
  echo "setup: installing ${#missing[@]} missing package(s): ${missing[*]}"
  if [[ $(id -u) -eq 0 ]]; then sudo=(); else sudo=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The Node client tests' dependencies, pinned by tests/clients/node/package-lock.json.
if command -v npm >/dev/null && [[ ! -d tests/clients/node/node_modules ]]; then
  npm ci --prefix tests/clients/node --no-audit --no-fund >/dev/null
fi

# SECMLOPS_WERROR=ON in the environment (CI) turns warnings into errors.
cmake --preset "$preset" ${SECMLOPS_WERROR:+-DSECMLOPS_WERROR=$SECMLOPS_WERROR} >/dev/null
cmake --build --preset "$preset"
