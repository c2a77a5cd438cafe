#!/usr/bin/env bash
# Regenerates the committed seed corpora under fuzz/corpus/ (our own keys and
# certificates, made here with the openssl CLI; nothing copied from elsewhere).
set -euo pipefail
cd "$(dirname "$0")/corpus"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# pin_text: every notation, valid and broken.
p=pin_text
printf 'sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=' > $p/canonical
printf 'cert-sha384/OLBgp1GsljhM2TJ+sbHjaiH9txEUvgdDTAzHv2P24donTt6/529l+9Ua0vFImLlb' > $p/cert384
printf 'sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;sha256//AAUDLk4c98xcFUDvA9i/MnA9HuO03IPi15r+Cx9OXnc=' > $p/curl_list
printf 'pin-sha256="47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="; max-age=600; includeSubDomains; report-uri="https://r.example/x"' > $p/hpkp
printf 'E3:B0:C4:42:98:FC:1C:14:9A:FB:F4:C8:99:6F:B9:24:27:AE:41:E4:64:9B:93:4C:A4:95:99:1B:78:52:B8:55' > $p/hex_colons
printf 'sha256/47DEQpj8HBSa-_TImW+5JCeuQeRkm5NMpJWZG3hSuFU' > $p/base64url
printf 'sha1/HuVFPi0Nl8Qvhijz8y0LvKvbPJo=' > $p/sha1

# pin_source and der_spki: certificates, keys and CSRs of every key type.
for alg in "EC -pkeyopt ec_paramgen_curve:P-256" "RSA -pkeyopt rsa_keygen_bits:1024" ED25519 ED448; do
  name=$(echo "$alg" | cut -d' ' -f1 | tr 'A-Z' 'a-z')
  openssl genpkey -algorithm $alg -out "$tmp/$name.key" 2>/dev/null
  openssl req -x509 -new -key "$tmp/$name.key" -subj "/CN=seed-$name" -days 3650 \
    -addext subjectAltName=DNS:seed.example -out pin_source/$name-cert.pem
  openssl x509 -in pin_source/$name-cert.pem -outform DER -out pin_source/$name-cert.der
  cp pin_source/$name-cert.der der_spki/$name-cert.der
  openssl pkey -in "$tmp/$name.key" -pubout -out pin_source/$name-pub.pem
  openssl pkey -in "$tmp/$name.key" -pubout -outform DER -out pin_source/$name-pub.der
  openssl pkey -in "$tmp/$name.key" -out pin_source/$name-key.pem
  openssl req -new -key "$tmp/$name.key" -subj "/CN=seed-$name" -out pin_source/$name-csr.pem
done
cat pin_source/ec-cert.pem pin_source/rsa-key.pem pin_source/ed25519-pub.pem > pin_source/mixed-bundle.pem
head -c 300 pin_source/ec-cert.pem > pin_source/truncated.pem

# manifest: payloads (with and without a kill switch, inline anchors) and a
# signed envelope, written by pinion itself when a build is at hand.
m=manifest
pin=$(openssl pkey -in pin_source/ec-key.pem -pubout -outform DER | openssl dgst -sha256 -binary | base64)
printf '{"policy":{"version":3,"issued_at":"2026-11-21T00:00:00Z","expires":"2026-12-21T00:00:00Z"},"domain":[{"host":"api.example.com","pins":[{"pin":"sha256/%s","label":"leaf"}]}]}' "$pin" > $m/plain.json
printf '{"policy":{"version":4,"issued_at":"2026-11-21T00:00:00Z","expires":"2026-12-21T00:00:00Z","enforcement":{"mode":"report-only","hosts":["**.example.com","api.example.org"],"until":"2026-11-28T00:00:00Z"}},"domain":[{"host":"*.example.com","mode":"report-only","expires":"2027-01-01","pins":[{"pin":"sha256/%s","role":"leaf"}]}]}' "$pin" > $m/kill-switch.json
printf '{"policy":{"version":5,"issued_at":"2026-11-21","expires":"2026-12-21","enforcement":{"mode":"disabled","until":"2026-11-22"}},"domain":[{"host":"api.example.com","anchors":"%s","pins":[{"pin":"sha256/%s"}]}]}' \
  "$(awk '{printf "%s\\n", $0}' pin_source/ec-cert.pem)" "$pin" > $m/inline-anchors.json
printf '{"policy":{"version":1,"issued_at":"x"}}' > $m/bad-date.json
pinion=${PINION:-../../build/cli/pinion}
if [ -x "$pinion" ]; then
  "$pinion" manifest keygen --out "$tmp/signer" > /dev/null
  printf '[policy]\nversion = 6\n[[domain]]\nhost = "api.example.com"\npins = [{ pin = "sha256/%s" }]\n' "$pin" > "$tmp/p.toml"
  "$pinion" manifest sign --key "$tmp/signer.key" --issued-at 2026-11-21 "$tmp/p.toml" \
    --kill-switch disabled --until 2026-11-25 --kill-switch-host api.example.com -o $m/envelope.json
fi

# report: an RFC 7469 body, a TrustKit body and a pinion body.
r=report
chain=$(awk '{printf "%s\\n", $0}' pin_source/ec-cert.pem)
printf '{"date-time":"2026-11-21T12:00:00Z","hostname":"api.example.com","port":443,"effective-expiration-date":"2027-01-01T00:00:00Z","include-subdomains":false,"noted-hostname":"api.example.com","served-certificate-chain":["%s"],"validated-certificate-chain":["%s"],"known-pins":["pin-sha256=\\"%s\\""]}' "$chain" "$chain" "$pin" > $r/hpkp.json
printf '{"app-bundle-id":"com.example.app","app-version":"1.0","app-platform":"IOS","trustkit-version":"3.0","hostname":"www.example.com","port":443,"noted-hostname":"example.com","include-subdomains":true,"enforce-pin":true,"validated-certificate-chain":["%s"],"date-time":"2026-11-21T12:00:00Z","known-pins":["pin-sha256=\\"%s\\""],"validation-result":1}' "$chain" "$pin" > $r/trustkit.json
printf '{"date-time":"2026-11-21T12:00:00Z","hostname":"api.example.com","port":8443,"include-subdomains":false,"noted-hostname":"api.example.com","served-certificate-chain":[],"validated-certificate-chain":["%s"],"known-pins":[],"pinion":{"policy-version":3,"mode":"report-only","reason":"kill-switch","kill-switch-until":"2026-11-25T00:00:00Z","app":{"id":"a","version":"1","platform":"linux"},"dropped-reports":2,"known-pins":["sha256/%s"],"validated-chain-pins":["sha256/%s"]}}' "$chain" "$pin" "$pin" > $r/pinion.json
