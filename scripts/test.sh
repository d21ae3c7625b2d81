#!/usr/bin/env bash
# Sets everything up on a fresh machine and runs every test suite: the C++
# suites (also under AddressSanitizer and UndefinedBehaviorSanitizer) and the
# command-line checks, through ctest.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
jobs=${SMARKETING_JOBS:-$(nproc)}

echo "== build and test (RelWithDebInfo)"
"$root/scripts/build.sh" "$root/build"
ctest --test-dir "$root/build" --output-on-failure -j "$jobs"

echo "== build and test (ASan + UBSan)"
CMAKE_BUILD_TYPE=Debug "$root/scripts/build.sh" "$root/build-asan" \
  -DSMARKETING_SANITIZE=address,undefined -DSMARKETING_BUILD_BENCHMARKS=OFF
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir "$root/build-asan" --output-on-failure -j "$jobs"
