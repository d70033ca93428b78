#!/usr/bin/env bash
# Installs what a fresh machine lacks for the full test suite: Debian packages (PyTorch and ONNX for the
# model pipeline, OpenBLAS with OpenMP for usable CPU training speed, Chromium for the browser tests),
# then the npm dependencies exactly as locked.
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(python3-torch python3-onnx python3-numpy libopenblas0-openmp chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
npm ci --no-fund --no-audit
