#!/usr/bin/env bash
# Set up a development environment on a fresh Debian 12 machine (CPython >= 3.11):
# system libraries for Qt/OpenGL under Xvfb, a virtual environment in .venv, and the
# package with its dev extra (testing + the lint tools). Safe to run again; it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}

# 1) System packages: Xvfb + the xcb/GL/font libraries Qt and napari's canvas need
#    (../shared/STACK.md). Only installed when something is missing.
APT_PKGS=(xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-xinerama0 libxcb-cursor0
  libxkbcommon-x11-0 libxkbcommon0 libxcb-image0 libxcb-render-util0 libxcb-randr0
  libxcb-shape0 libxcb-xfixes0 libxcb-xkb1 libxcb-sync1 libxcb-shm0 libxcb-glx0 libx11-xcb1
  libgl1 libgl1-mesa-dri libegl1 libglx-mesa0 libopengl0 libfontconfig1 fonts-dejavu-core
  libdbus-1-3 libglib2.0-0 libgomp1)
missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${APT_PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing system packages (run as root or install them): ${missing[*]}" >&2
  fi
fi

# 2) Python environment.
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
# pip's exit status decides (the grep only hides a harmless index warning)
set +e
"$VENV/bin/python" -m pip install -q -c requirements/constraints.txt -e ".[dev]" 2>&1 \
  | grep -v "is ignored: it is neither a file nor a directory"
status=${PIPESTATUS[0]}
set -e
if [ "$status" -ne 0 ]; then
  echo "setup: pip install failed (exit $status)" >&2
  exit "$status"
fi
"$VENV/bin/python" -c "import napari_atomtomo, napari, numba; print('setup: napari', napari.__version__, '| numba', numba.__version__, '| napari-atomtomo', napari_atomtomo.__version__)"
