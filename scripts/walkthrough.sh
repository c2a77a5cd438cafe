#!/usr/bin/env bash
# README's "From nothing to shipped pins", run for real on 127.0.0.1: the
# same commands in the same order, against a staging server this script
# starts, so the walkthrough stays true (ctest runs it as `walkthrough`).
#   1. pin the server's key and an offline backup key
#   2. write the policy          3. lint it against what staging serves
#   4. check staging through --connect-to / --ca-file
#   5. export for Android (exact: exit 0), OkHttp (refused until the dropped expiry is
#      accepted with --allow-lossy) and iOS
#   6. plan the rotation to the backup key and check that the next chain is accepted
# Usage: scripts/walkthrough.sh [path/to/pinion]    (default: build/cli/pinion)
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib-pki.sh
. "$here/scripts/lib-pki.sh"
pki_session walkthrough "${1:-$here/build/cli/pinion}"
host=api.example.test

step() { printf '\n== %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
fail() { echo "walkthrough: $*" >&2; exit 1; }

step "0. Staging: root -> issuing CA -> leaf for $host, served on 127.0.0.1"
pki_ca staging-root "/O=Example Corp/CN=Staging Root CA"
pki_ca staging-ca "/O=Example Corp/CN=Staging Issuing CA" staging-root
pki_leaf server staging-ca "$host"
pki_serve server staging-ca
port=$served_port
connect_to="$host:443:127.0.0.1:$port"   # curl's HOST:PORT:ADDR:PORT
echo "staging listens on 127.0.0.1:$port"

step "1. Pins: the key the server uses now, and a backup key kept offline"
run "$pinion" pin server.pem
run openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out backup.key
run "$pinion" pin backup.key
server_pin=$("$pinion" pin --format okhttp server.pem)
backup_pin=$("$pinion" pin --format okhttp backup.key)

step "2. The policy: both pins, an expiry that cannot brick the app"
cat > pins.toml <<TOML
[policy]
version = 1

[[domain]]
host = "$host"
mode = "enforce"
expires = $(date -u -d '+6 months' +%F)
on_expiry = "allow"   # past the expiry, apps stop enforcing instead of locking users out
pins = [
  { pin = "$server_pin", label = "server key $(date -u +%Y)", role = "leaf" },
  { pin = "$backup_pin", label = "backup key, offline", role = "leaf" },   # not deployed until the rotation
]
TOML
cat pins.toml

step "3. Lint it against the chain staging serves"
run "$pinion" lint pins.toml --live "$host" --connect-to "$connect_to" --ca-file staging-root.pem

step "4. Check staging: validation, host name, then the pins"
run "$pinion" check "$host" --policy pins.toml --connect-to "$connect_to" --ca-file staging-root.pem

step "5. Export for the apps: exact, or refused with the reason until you accept the change"
run "$pinion" export --to android-nsc pins.toml -o network_security_config.xml
grep -q "$backup_pin" network_security_config.xml || fail "the Android export lacks the backup pin"
printf '$ %s\n' "$pinion export --to okhttp pins.toml -o Pins.kt"
set +e; "$pinion" export --to okhttp pins.toml -o Pins.kt; got=$?; set -e
[ "$got" = 2 ] && [ ! -e Pins.kt ] || fail "an OkHttp export that drops the expiry must exit 2 and write nothing (exit $got)"
echo "(exit 2, nothing written: OkHttp pins cannot expire)"
run "$pinion" export --to okhttp pins.toml -o Pins.kt --allow-lossy
run "$pinion" export --to ios-plist pins.toml -o pinned-domains.plist --allow-lossy
plistutil -i pinned-domains.plist -o /dev/null || fail "the iOS export does not parse as a plist"

step "6. Rotate: promote the backup key, pin a new backup, check the next chain"
pki_key next-backup
run "$pinion" rotate plan --policy pins.toml --host "$host" --next-key next-backup.key -o pins-v2.toml
pki_leaf rotated staging-ca "$host" backup   # the server moves to the backup key
cat rotated.pem staging-ca.pem > rotated-chain.pem
run "$pinion" rotate check --chain rotated-chain.pem --ca-file staging-root.pem pins.toml pins-v2.toml

printf '\nDone: pins computed, policy linted and checked against staging, exported, rotation planned.\n'
