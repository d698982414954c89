#!/usr/bin/env bash
# Installs what a fresh machine lacks: on Debian 12 (as root), Mesa's lavapipe from
# bookworm-backports (software Vulkan for Dawn in Node; bookworm's own is too old for Dawn) and
# Chromium (for the browser tests and benchmarks); then the npm packages.
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  need=0
  dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null | grep -q bpo || need=1
  command -v chromium >/dev/null 2>&1 || need=1
  if [ $need = 1 ]; then
    export DEBIAN_FRONTEND=noninteractive
    # Backports come from the archive this machine already uses; the script names no host itself.
    mirror=$(bash scripts/debian-mirror.sh bookworm) || {
      echo "setup: found no Debian archive to take bookworm-backports from (above); or install mesa-vulkan-drivers from bookworm-backports and chromium yourself." >&2
      exit 1
    }
    echo "deb $mirror bookworm-backports main" > /etc/apt/sources.list.d/backports.list
    apt-get update -q
    apt-get install -y -q -t bookworm-backports mesa-vulkan-drivers
    apt-get install -y -q chromium
  fi
elif ! command -v chromium >/dev/null 2>&1 && [ -z "${CHROMIUM_PATH:-}" ]; then
  echo "setup: not Debian as root: install a WebGPU-capable Chromium and set CHROMIUM_PATH for the browser tests." >&2
fi

npm ci --no-audit --no-fund
