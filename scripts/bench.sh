#!/usr/bin/env bash
# Builds in Release and runs every benchmark; the figures in docs/BENCHMARKS.md
# come from this script. Needs libbenchmark-dev (scripts/install-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DPINION_BUILD_BENCH=ON -DPINION_BUILD_TESTS=ON >/dev/null
cmake --build build-bench --target pinion_bench pinion_cli
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
grep -q sha_ni /proc/cpuinfo && echo "== SHA-NI: yes" || echo "== SHA-NI: no"
build-bench/bench/pinion_bench --benchmark_filter=-FixedCount --benchmark_repetitions=${REPETITIONS:-5} \
  --benchmark_report_aggregates_only=true --benchmark_enable_random_interleaving=true "$@"
echo
bench/pin_vs_openssl.sh build-bench/cli/pinion "${RUNS:-200}"
echo
bench/handshake_callgrind.sh build-bench/bench/pinion_bench
