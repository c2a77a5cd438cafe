#!/usr/bin/env bash
# Writes a realistic pinion failure report body to OUT: a rogue root →
# intermediate → leaf chain for HOST made here with openssl, served (2
# certificates) and validated (3), with the chain's SPKI pins.
#   scripts/make-report-body.sh OUT HOST [PORT]
set -euo pipefail
out=$1
host=$2
port=${3:-443}
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$d/$1.key" 2>/dev/null; }
key root
key int
key leaf
openssl req -x509 -key "$d/root.key" -out "$d/root.pem" -subj "/CN=Rogue Root" -days 3650 2>/dev/null
openssl req -new -key "$d/int.key" -out "$d/int.csr" -subj "/CN=Rogue Intermediate" 2>/dev/null
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n' >"$d/ca.ext"
openssl x509 -req -in "$d/int.csr" -CA "$d/root.pem" -CAkey "$d/root.key" -CAcreateserial -days 3650 \
  -extfile "$d/ca.ext" -out "$d/int.pem" 2>/dev/null
openssl req -new -key "$d/leaf.key" -out "$d/leaf.csr" -subj "/CN=$host" 2>/dev/null
printf 'subjectAltName=DNS:%s\n' "$host" >"$d/leaf.ext"
openssl x509 -req -in "$d/leaf.csr" -CA "$d/int.pem" -CAkey "$d/int.key" -CAcreateserial -days 365 \
  -extfile "$d/leaf.ext" -out "$d/leaf.pem" 2>/dev/null
pem() { awk 'BEGIN{ORS=""} {print $0 "\\n"}' "$d/$1.pem"; }
pin() { openssl x509 -in "$d/$1.pem" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64; }
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
cat >"$out" <<JSON
{"date-time":"$now","hostname":"$host","port":$port,"effective-expiration-date":"2027-06-01T00:00:00Z","include-subdomains":false,"noted-hostname":"$host","served-certificate-chain":["$(pem leaf)","$(pem int)"],"validated-certificate-chain":["$(pem leaf)","$(pem int)","$(pem root)"],"known-pins":["pin-sha256=\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\""],"pinion":{"policy-version":7,"mode":"enforce","reason":"mismatch","kill-switch-until":null,"app":{"id":"com.example.app","version":"4.2","platform":"linux"},"dropped-reports":0,"known-pins":["sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="],"validated-chain-pins":["sha256/$(pin leaf)","sha256/$(pin int)","sha256/$(pin root)"]}}
JSON
