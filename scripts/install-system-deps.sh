#!/usr/bin/env bash
# Installs the system libraries mimex needs: headless OpenGL for MuJoCo rendering
# (EGL through Mesa, with OSMesa as the fallback). Idempotent: does nothing when present.
set -euo pipefail
pkgs=(libegl1 libegl-mesa0 libgl1-mesa-dri libosmesa6)
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing system packages: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
  echo "warning: cannot install ${missing[*]} (not root, no sudo); pixel rendering may fail" >&2
  exit 0
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
