#!/usr/bin/env bash
# Report ingestion under wrk on loopback: `pinion serve` with SQLite, then
# with PostgreSQL (a throwaway cluster), each against the same-run anchor
# (GET /healthz on the same server). Bounded: DURATION seconds per run.
# CONNECTIONS (default 64) is how many clients wait on a commit at once: a
# client waits for its report's fsync, so 16 clients cannot fill the commits
# that 20,000 reports/s need; a collector serves many more clients than that.
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

"$here/../../scripts/make-report-body.sh" "$work/report.json" api.example.com
# The smallest valid body: RFC 7469 fields without certificates.
printf '%s' '{"date-time":"2026-11-21T12:00:00Z","hostname":"api.example.com","port":443,"noted-hostname":"api.example.com","served-certificate-chain":[],"validated-certificate-chain":[],"known-pins":["pin-sha256=\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\""]}' >"$work/minimal.json"

run() {  # run NAME DB
  local name=$1 db=$2
  rm -f "$work/port"
  "$binary" serve --db "$db" --port 0 --port-file "$work/port" --client-rate 0 --max-waiting 100000 \
    >"$work/serve.log" 2>&1 &
  server=$!
  for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
  local port
  port=$(cat "$work/port")
  local url="http://127.0.0.1:$port"
  wrk -t2 -c"$connections" -d"${duration}s" --latency -s "$here/get.lua" "$url/healthz" | grep RESULT | sed "s/^RESULT/$name anchor GET \/healthz:/"
  REPORT_BODY="$work/report.json" wrk -t2 -c"$connections" -d"${duration}s" --latency -s "$here/post_report.lua" "$url/v1/reports" | grep RESULT | sed "s/^RESULT/$name POST \/v1\/reports, 5-certificate body:/"
  REPORT_BODY="$work/minimal.json" wrk -t2 -c"$connections" -d"${duration}s" --latency -s "$here/post_report.lua" "$url/v1/reports" | grep RESULT | sed "s/^RESULT/$name POST \/v1\/reports, minimal RFC 7469 body:/"
  curl -s "$url/v1/summary?since=2000-01-01" | grep -o '"total":[0-9]*' | sed "s/^/$name stored /"
  # Group commit at work: reports per transaction over the whole run.
  curl -s "$url/healthz" | grep -o '"commits":[0-9]*,"reports":[0-9]*' |
    awk -F'[:,]' -v name="$name" '{printf "%s %d reports in %d commits: %.1f per commit\n", name, $4, $2, $4 / $2}'

  kill "$server"; wait "$server" 2>/dev/null || true
  server=
}

echo "== $(nproc) cores; wrk -t2 -c$connections -d${duration}s; bodies $(wc -c <"$work/report.json") bytes (5 certificates) and $(wc -c <"$work/minimal.json") bytes"
run sqlite "sqlite:$work/reports.db"
pg_port=$(( (RANDOM % 20000) + 30000 ))
pg_uri=$("$here/../../collector/tests/start_postgres.sh" "$work/pg" "$pg_port")
run postgresql "$pg_uri"
