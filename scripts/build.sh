#!/usr/bin/env bash
# Configures and builds smarketing into a build directory.
# Usage: scripts/build.sh [BUILD_DIR] [extra cmake arguments...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${1:-"$root/build"}
shift || true
jobs=${SMARKETING_JOBS:-$(nproc)}
cmake -S "$root" -B "$build_dir" -G Ninja \
  -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-RelWithDebInfo}" \
  -DPython3_EXECUTABLE="${PYTHON:-/usr/bin/python3}" "$@" >/dev/null
ninja -C "$build_dir" -j "$jobs"
