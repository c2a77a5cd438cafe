#!/usr/bin/env bash
# `pinion pin --format base64 cert.pem` against the four-process openssl
# pipeline that computes the same SPKI pin: outputs must be identical; then
# both are run N times (whole processes, same shell loop) and timed.
# Usage: bench/pin_vs_openssl.sh PINION [N]
set -euo pipefail
pinion=$1
runs=${2:-200}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/k.pem" \
  -out "$work/cert.pem" -subj /CN=bench.example.test -days 30 2>/dev/null

pipeline() {
  openssl x509 -pubkey -noout -in "$work/cert.pem" | openssl pkey -pubin -outform DER |
    openssl dgst -sha256 -binary | base64
}
ours=$("$pinion" pin --format base64 "$work/cert.pem")
theirs=$(pipeline)
[ "$ours" = "$theirs" ] || { echo "outputs differ: $ours vs $theirs" >&2; exit 1; }
echo "identical output: $ours"

time_runs() {  # prints milliseconds for $runs runs of "$@"
  local start end
  start=$(date +%s%N)
  for _ in $(seq 1 "$runs"); do "$@" > /dev/null; done
  end=$(date +%s%N)
  echo $(( (end - start) / 1000000 ))
}
ours_ms=$(time_runs "$pinion" pin --format base64 "$work/cert.pem")
theirs_ms=$(time_runs pipeline)
echo "runs: $runs"
echo "pinion pin:        ${ours_ms} ms total, $(( ours_ms * 1000 / runs )) us per run"
echo "openssl pipeline:  ${theirs_ms} ms total, $(( theirs_ms * 1000 / runs )) us per run"
awk -v a="$theirs_ms" -v b="$ours_ms" 'BEGIN { printf "speed-up: %.2fx (openssl pipeline time / pinion time)\n", a / b }'
