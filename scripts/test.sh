#!/usr/bin/env bash
# Builds pinion and runs every test. This is the README's test command (after
# scripts/install-deps.sh) and what .ci/run executes.
#   1. GCC build, warnings as errors: unit, handshake, CLI, demo and fuzz-corpus replay tests.
#   2. clang + AddressSanitizer + UndefinedBehaviorSanitizer: the same tests again, then
#      every libFuzzer target for FUZZ_SECONDS (default 30) each.
#   3. clang + ThreadSanitizer: the concurrency tests (policy swaps under load, handshakes, reporter,
#      the collector's I/O thread, workers and group-commit writer on SQLite).
# Environment: JOBS (default: nproc), FUZZ_SECONDS, SKIP_SANITIZERS=1 for a quick run.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${JOBS:-$(nproc)}
fuzz_seconds=${FUZZ_SECONDS:-30}
testdata=$(cd .. && pwd)/shared/testdata
[ -d "$testdata" ] || { echo "test.sh: external vectors not found at $testdata (shared/testdata)" >&2; exit 2; }

stage() { printf '\n=== %s\n' "$*"; }
# ccache (CMakeLists.txt uses it when installed): paths relative to this
# checkout, so a fresh clone elsewhere reuses what an earlier build compiled.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1

stage "1/3 GCC build and all tests"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPINION_TESTDATA_DIR="$testdata"
cmake --build build -j "$jobs"
ctest --test-dir build -j "$jobs" --output-on-failure --timeout 300

if [ "${SKIP_SANITIZERS:-0}" = 1 ]; then exit 0; fi

stage "2/3 clang ASan+UBSan: tests, then fuzzing (${fuzz_seconds}s per target)"
CC=clang CXX=clang++ cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DPINION_SANITIZE=address,undefined -DPINION_BUILD_FUZZ=ON -DPINION_TESTDATA_DIR="$testdata"
cmake --build build-asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1 ctest --test-dir build-asan -j "$jobs" --output-on-failure --timeout 600
for target in pin_text pin_source der_spki policy import dsse manifest report collector_http collector_config percent_decoding; do
  work=build-asan/fuzz-work/$target
  mkdir -p "$work"
  cp -r fuzz/corpus/$target/. "$work/"
  echo "fuzzing $target for ${fuzz_seconds}s"
  build-asan/fuzz/${target}_fuzzer -max_total_time="$fuzz_seconds" -max_len=65536 -rss_limit_mb=2048 \
    -artifact_prefix=build-asan/fuzz-work/$target- -print_final_stats=1 "$work" 2> build-asan/fuzz-work/$target.log \
    || { tail -50 build-asan/fuzz-work/$target.log; echo "fuzzer $target found a failure" >&2; exit 1; }
  grep -E '^stat::number_of_executed_units' build-asan/fuzz-work/$target.log || true
done

stage "3/3 clang ThreadSanitizer: concurrency tests"
CC=clang CXX=clang++ cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DPINION_SANITIZE=thread -DPINION_TESTDATA_DIR="$testdata"
cmake --build build-tsan -j "$jobs" --target pinion_engine_test pinion_report_test pinion_openssl_test pinion_collector_test
TSAN_OPTIONS="halt_on_error=1 suppressions=$PWD/tests/tsan.supp" ctest --test-dir build-tsan -j "$jobs" --output-on-failure --timeout 600 \
  -R 'Concurrent|EnforcerTest|ReporterTest|CollectorTest.*/sqlite'
