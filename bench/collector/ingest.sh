#!/usr/bin/env bash
# Report ingestion under wrk on loopback: `pinion serve` with SQLite, then
# with PostgreSQL (a throwaway cluster), each against the same-run anchor
# (GET /healthz on the same server). Bounded: DURATION seconds per run.
#   bench/collector/ingest.sh PINION_BINARY [DURATION] [CONNECTIONS]
set -euo pipefail
binary=$(realpath "$1")
duration=${2:-10}
connections=${3:-64}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/pinion-ingest-XXXXXX)
chmod 0755 "$work"  # the PostgreSQL server runs as another user
server=
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  "$here/../../collector/tests/start_postgres.sh" --stop "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# A realistic report body: a rogue root → intermediate → leaf chain made here
# with openssl, served (2 certificates) and validated (3), with its pins.
make_body() {
  local d=$work/pki
  mkdir -p "$d"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d/root.key" -out "$d/root.pem" \
    -subj "/CN=Rogue Root" -days 3650 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d/int.key" -out "$d/int.csr" \
    -subj "/CN=Rogue Intermediate" 2>/dev/null
  printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n' >"$d/ca.ext"
  openssl x509 -req -in "$d/int.csr" -CA "$d/root.pem" -CAkey "$d/root.key" -CAcreateserial -days 3650 \
    -extfile "$d/ca.ext" -out "$d/int.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d/leaf.key" -out "$d/leaf.csr" \
    -subj "/CN=api.example.com" 2>/dev/null
  printf 'subjectAltName=DNS:api.example.com\n' >"$d/leaf.ext"
  openssl x509 -req -in "$d/leaf.csr" -CA "$d/int.pem" -CAkey "$d/int.key" -CAcreateserial -days 365 \
    -extfile "$d/leaf.ext" -out "$d/leaf.pem" 2>/dev/null
  pem() { awk 'BEGIN{ORS=""} {print $0 "\\n"}' "$d/$1.pem"; }
  pin() { openssl x509 -in "$d/$1.pem" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64; }
  local known="sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
  cat >"$work/report.json" <<JSON
{"date-time":"2026-11-21T12:00:00Z","hostname":"api.example.com","port":443,"effective-expiration-date":"2027-06-01T00:00:00Z","include-subdomains":false,"noted-hostname":"api.example.com","served-certificate-chain":["$(pem leaf)","$(pem int)"],"validated-certificate-chain":["$(pem leaf)","$(pem int)","$(pem root)"],"known-pins":["pin-sha256=\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\""],"pinion":{"policy-version":7,"mode":"enforce","reason":"mismatch","kill-switch-until":null,"app":{"id":"com.example.app","version":"4.2","platform":"linux"},"dropped-reports":0,"known-pins":["$known"],"validated-chain-pins":["sha256/$(pin leaf)","sha256/$(pin int)","sha256/$(pin root)"]}}
JSON
}
make_body
export REPORT_BODY="$work/report.json"

run() {  # run NAME DB
  local name=$1 db=$2
  rm -f "$work/port"
  "$binary" serve --db "$db" --port 0 --port-file "$work/port" --client-rate 0 --threads "$((connections + 8))" \
    --max-waiting 100000 >"$work/serve.log" 2>&1 &
  server=$!
  for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
  local port
  port=$(cat "$work/port")
  local url="http://127.0.0.1:$port"
  wrk -t2 -c"$connections" -d"${duration}s" --latency -s "$here/get.lua" "$url/healthz" | grep RESULT | sed "s/^RESULT/$name anchor GET \/healthz:/"
  wrk -t2 -c"$connections" -d"${duration}s" --latency -s "$here/post_report.lua" "$url/v1/reports" | grep RESULT | sed "s/^RESULT/$name POST \/v1\/reports:/"
  curl -s "$url/v1/summary?since=2000-01-01" | grep -o '"total":[0-9]*' | sed "s/^/$name stored /"
  kill "$server"; wait "$server" 2>/dev/null || true
  server=
}

echo "== $(nproc) cores; wrk -t2 -c$connections -d${duration}s; body $(wc -c <"$REPORT_BODY") bytes ($(grep -o BEGIN "$REPORT_BODY" | wc -l) certificates)"
run sqlite "sqlite:$work/reports.db"
pg_port=$(( (RANDOM % 20000) + 30000 ))
pg_uri=$("$here/../../collector/tests/start_postgres.sh" "$work/pg" "$pg_port")
run postgresql "$pg_uri"
