#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang, ASan + UBSan) into
# build-fuzz/ and runs each on its seed corpus, for an hour by default.
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#   targets: lead_json lead_wire playbook condition score csv score_json (default: all)
# New inputs go to build-fuzz/corpus/<target>/ (kept between runs); a crash
# leaves its input in build-fuzz/findings/ and makes the script exit 1.
# SMARKETING_FUZZ_RUNS=N runs N inputs per target from a fixed seed instead,
# so that a run is repeatable: the test suite's check, where a finding must
# come from the change under test and not from a luckier draw.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-3600}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(lead_json lead_wire playbook condition score csv score_json)
build="$root/build-fuzz"
jobs=${SMARKETING_JOBS:-$(nproc)}

CXX=${FUZZ_CXX:-clang++} cmake -S "$root" -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSMARKETING_BUILD_FUZZERS=ON \
  -DSMARKETING_SANITIZE=address,undefined -DSMARKETING_BUILD_TESTS=OFF \
  -DSMARKETING_BUILD_BENCHMARKS=OFF -DSMARKETING_BUILD_TOOLS=OFF \
  -DSMARKETING_BUILD_SERVER=OFF >/dev/null
ninja -C "$build" -j "$jobs" "${targets[@]/%/_fuzzer}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$build/findings"
repeatable=()
[ -n "${SMARKETING_FUZZ_RUNS:-}" ] && repeatable=(-runs="$SMARKETING_FUZZ_RUNS" -seed=1)
failed=()
for target in "${targets[@]}"; do
  corpus="$build/corpus/$target"
  mkdir -p "$corpus"
  log="$build/findings/$target.log"
  echo "== fuzz $target for ${seconds}s"
  # -timeout: an input that takes longer is a hang, reported like a crash.
  if "$build/tests/fuzz/${target}_fuzzer" "$corpus" "$root/tests/fuzz/corpus/$target" \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 "${repeatable[@]}" \
      -print_final_stats=1 -artifact_prefix="$build/findings/$target-" \
      >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "   $target: ${runs:-?} inputs, no finding"
  else
    echo "   $target: FINDING (see $log)"
    tail -n 40 "$log"
    failed+=("$target")
  fi
done
if ((${#failed[@]})); then
  echo "fuzzing found problems in: ${failed[*]}"
  exit 1
fi
