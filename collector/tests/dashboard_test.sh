#!/usr/bin/env bash
# The dashboard in a real browser: starts `pinion serve` with a policy, posts
# real reports for two hosts with curl, then drives Debian's headless
# Chromium with playwright-core (tests/browser/dashboard.mjs), which checks
# the chart, the latest reports and the expiry timeline and saves a
# screenshot to ARTIFACT_DIR/dashboard.png.
#   collector/tests/dashboard_test.sh PINION_BINARY ARTIFACT_DIR
set -euo pipefail
binary=$1
artifacts=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
if [ ! -d "$root/tests/browser/node_modules/playwright-core" ]; then
  echo "playwright-core is not installed: run 'npm ci --prefix tests/browser' (scripts/install-deps.sh does)" >&2
  exit 1
fi
mkdir -p "$artifacts"
work=$(mktemp -d)
server=
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$root/scripts/make-report-body.sh" "$work/api.json" api.example.com
"$root/scripts/make-report-body.sh" "$work/pay.json" pay.example.com 8443
pin() { openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/k.pem" -out "$work/c.pem" \
  -subj "/CN=pin" -days 30 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/backup.pem" 2>/dev/null
backup=$(openssl pkey -in "$work/backup.pem" -pubout -outform der | openssl dgst -sha256 -binary | base64)
soon=$(date -u -d '+20 days' +%Y-%m-%d)
later=$(date -u -d '+200 days' +%Y-%m-%d)
cat >"$work/policy.toml" <<TOML
[policy]
version = 7
[[domain]]
host = "api.example.com"
expires = $later
pins = [ { pin = "sha256/$(pin "$work/c.pem")", label = "leaf 2026" }, { pin = "sha256/$backup", label = "backup" } ]
[[domain]]
host = "pay.example.com"
expires = $soon
pins = [ { pin = "sha256/$(pin "$work/c.pem")", label = "leaf 2026" }, { pin = "sha256/$backup", label = "backup" } ]
TOML

"$binary" serve --db "$work/reports.db" --policy "$work/policy.toml" --port 0 --port-file "$work/port" >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
url="http://127.0.0.1:$(cat "$work/port")"
for body in api api api pay pay; do
  status=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @"$work/$body.json" "$url/v1/reports")
  [ "$status" = 202 ] || { echo "POST answered $status" >&2; exit 1; }
done
node "$root/tests/browser/dashboard.mjs" "$url/" "$artifacts/dashboard.png" 5
