#!/usr/bin/env bash
# Instruction counts (valgrind callgrind: repeatable whatever else the machine
# does) of full TLS 1.3 handshakes over a memory BIO pair, with and without pin
# enforcement, in the same binary. Each mode runs 200 and 400 handshakes; the
# difference divided by 200 is the marginal cost of one handshake, free of
# one-time setup (key generation, contexts, loading the Public Suffix List).
# Usage: bench/handshake_callgrind.sh path/to/pinion_bench
set -euo pipefail
bench=$1
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
count() {  # count ITERATIONS PINNED
  valgrind --tool=callgrind --callgrind-out-file="$work/out.$1.$2" "$bench" \
    --benchmark_filter="FixedCount$1/BM_Handshake_MemoryBio/pinned:$2/" > /dev/null 2> "$work/log.$1.$2"
  sed -n 's/^==[0-9]*== Collected : //p' "$work/log.$1.$2"
}
plain=$(( ($(count 400 0) - $(count 200 0)) / 200 ))
pinned=$(( ($(count 400 1) - $(count 200 1)) / 200 ))
echo "instructions per full handshake, without pinning: $plain"
echo "instructions per full handshake, with pinning:    $pinned"
awk -v a="$plain" -v b="$pinned" 'BEGIN {
  printf "pinning adds %d instructions per handshake; ratio pinned/plain: %.4f (%+.2f%%)\n", b - a, b / a, (b / a - 1) * 100 }'
