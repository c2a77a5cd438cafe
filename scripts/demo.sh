#!/usr/bin/env bash
# The pinion story, end to end on 127.0.0.1 (no network needed):
#   a small PKI, a real TLS server, its pins, a policy with a backup pin, a
#   check that passes — then an impostor for the same host with a certificate
#   from a rogue CA that the client's trust store DOES trust. Plain CA
#   validation accepts it; pinion rejects it and says why.
# Usage: scripts/demo.sh [path/to/pinion]    (default: build/cli/pinion)
# Exits non-zero if any step does not behave as described, so CI runs it too.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib-pki.sh
. "$here/scripts/lib-pki.sh"
pki_session demo "${1:-$here/build/cli/pinion}"
host=api.example.test

bold() { if [ -t 1 ]; then printf '\n\033[1m== %s\033[0m\n' "$*"; else printf '\n== %s\n' "$*"; fi; }
run() { printf '$ %s\n' "$*"; "$@"; }
expect_exit() {  # expect_exit CODE command...
  local want=$1; shift
  printf '$ %s\n' "$*"
  set +e; "$@"; local got=$?; set -e
  if [ "$got" != "$want" ]; then echo "demo: expected exit $want, got $got" >&2; exit 1; fi
  echo "(exit code $got, as expected)"
}

bold "1. A small PKI: root -> intermediate -> leaf for $host, an offline backup key, and a rogue CA"
pki_ca root "/O=Example Corp/CN=Example Root CA"
pki_ca intermediate "/O=Example Corp/CN=Example Issuing CA" root
pki_leaf server intermediate "$host"
pki_key backup
pki_ca rogue-root "/O=Rogue/CN=Rogue Root CA"
pki_ca rogue-intermediate "/O=Rogue/CN=Rogue Issuing CA" rogue-root
pki_leaf impostor rogue-intermediate "$host"
# The client's trust store holds BOTH roots: a rogue or coerced CA, or a
# compromised device trust store — exactly what pinning is for.
cat root.pem rogue-root.pem > trust-store.pem
echo "made: root, intermediate, server (leaf), backup.key (offline), rogue-root, rogue-intermediate, impostor (leaf)"

bold "2. The real server for $host, on 127.0.0.1"
pki_serve server intermediate
port=$served_port
run "$pinion" fetch "$host:$port" --connect-to 127.0.0.1 --ca-file trust-store.pem

bold "3. Its pins, and the backup key's pin (kept offline until the next rotation)"
run "$pinion" pin server.pem backup.key
leaf_pin=$("$pinion" pin --format okhttp server.pem)
backup_pin=$("$pinion" pin --format okhttp backup.key)

bold "4. A policy pinning the server key, with the backup key as second pin"
cat > policy.toml <<TOML
[policy]
version = 1

[[domain]]
host = "$host"
mode = "enforce"
expires = $(date -u -d '+1 year' +%F)
on_expiry = "allow"
pins = [
  { pin = "$leaf_pin", label = "server key $(date -u +%Y)" },
  { pin = "$backup_pin", label = "backup key, offline" },
]
TOML
cat policy.toml

bold "5. Check the real server: validation ok, pins match"
expect_exit 0 "$pinion" check "$host:$port" --policy policy.toml --ca-file trust-store.pem --connect-to 127.0.0.1

bold "6. An impostor for $host with a certificate from the rogue CA"
pki_serve impostor rogue-intermediate
evil_port=$served_port
echo "Plain CA validation accepts it (the rogue root is in the trust store):"
expect_exit 0 "$pinion" fetch "$host:$evil_port" --connect-to 127.0.0.1 --ca-file trust-store.pem
echo
echo "pinion rejects it, and explains:"
expect_exit 1 "$pinion" check "$host:$evil_port" --policy policy.toml --ca-file trust-store.pem --connect-to 127.0.0.1

bold "7. Publish the next pin set as a signed manifest (dynamic pinning)"
run "$pinion" manifest keygen --out signer
run "$pinion" manifest keygen --type p256 --out backup-signer
sed 's/^version = 1$/version = 2/' policy.toml > policy-v2.toml
run "$pinion" manifest sign --key signer.key policy-v2.toml -o pins.manifest.json
echo "A client at version 1 that trusts the signer and its backup accepts it:"
expect_exit 0 "$pinion" manifest verify --trust signer.pub --trust backup-signer.pub --active-version 1 pins.manifest.json
echo "Replayed to a client already at version 2, it is refused:"
expect_exit 1 "$pinion" manifest verify --trust signer.pub --trust backup-signer.pub --active-version 2 pins.manifest.json
echo "Signed by anyone else, it is refused:"
run "$pinion" manifest keygen --out mallory
"$pinion" manifest sign --key mallory.key policy-v2.toml -o forged.manifest.json
expect_exit 1 "$pinion" manifest verify --trust signer.pub --trust backup-signer.pub forged.manifest.json

bold "8. The collector: serve the manifest to clients, receive failure reports"
mkdir manifests && cp pins.manifest.json manifests/app.json
"$pinion" serve --db reports.db --manifests manifests --policy policy.toml --port 0 --port-file collector.port \
  > collector.log 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s collector.port ] && break; sleep 0.1; done
collector="http://127.0.0.1:$(cat collector.port)"
echo "pinion serve listening on $collector"
etag=$(curl -sf -D - -o /dev/null "$collector/v1/manifests/app" | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p')
echo "GET /v1/manifests/app -> ETag $etag; asked again with If-None-Match:"
status=$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$collector/v1/manifests/app")
echo "HTTP $status"; [ "$status" = 304 ] || { echo "demo: expected 304" >&2; exit 1; }
"$here/scripts/make-report-body.sh" report.json "$host"
echo "A client reports a pin failure for $host:"
run curl -sf -H 'Content-Type: application/json' --data-binary @report.json "$collector/v1/reports"
echo
echo "A malformed report is refused and not stored:"
status=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' --data '{"hostname":' "$collector/v1/reports")
echo "HTTP $status"; [ "$status" = 400 ] || { echo "demo: expected 400" >&2; exit 1; }
echo "Failures per host (GET /v1/summary):"
run curl -sf "$collector/v1/summary"
echo
curl -sf "$collector/v1/summary" | grep -q '"total":1' || { echo "demo: expected one stored report" >&2; exit 1; }
echo "(the dashboard is at $collector/ while the collector runs)"

bold "Done: the impostor passed CA validation but not the pins; only the owner's signed manifests change them."
