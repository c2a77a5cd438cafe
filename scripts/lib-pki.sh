# Shared by scripts/demo.sh and scripts/walkthrough.sh (source it): a small
# P-256 PKI made with the openssl command and `openssl s_server` on 127.0.0.1.
# Files land in the current directory as NAME.key / NAME.pem.

# pki_key NAME: a P-256 private key, NAME.key.
pki_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }

# pki_ca NAME SUBJECT [ISSUER]: a self-signed root, or a CA issued by ISSUER.
pki_ca() {
  pki_key "$1"
  if [ -z "${3:-}" ]; then
    openssl req -x509 -new -key "$1.key" -subj "$2" -days 30 -out "$1.pem" \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
  else
    openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
    printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n' > "$1.ext"
    openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial -days 30 \
      -extfile "$1.ext" -out "$1.pem" 2>/dev/null
  fi
}

# pki_leaf NAME ISSUER HOST [KEY]: a server certificate for HOST issued by
# ISSUER, with a new key or the existing KEY.key (a planned rotation's next key).
pki_leaf() {
  if [ -n "${4:-}" ]; then cp "$4.key" "$1.key"; else pki_key "$1"; fi
  openssl req -new -key "$1.key" -subj "/CN=$3" -out "$1.csr"
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:%s\n' "$3" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -days 30 \
    -extfile "$1.ext" -out "$1.pem" 2>/dev/null
}

# pki_serve LEAF ISSUER: `openssl s_server` on 127.0.0.1 with LEAF and its
# issuer; sets $served_port and appends the server's pid to the array `pids`.
pki_serve() {
  openssl s_server -accept 127.0.0.1:0 -cert "$1.pem" -key "$1.key" -cert_chain "$2.pem" \
    -www < /dev/null > "$1.server.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do
    served_port=$(sed -n 's/^ACCEPT .*:\([0-9]*\)$/\1/p' "$1.server.log")
    [ -n "$served_port" ] && return
    sleep 0.05
  done
  echo "the TLS server did not start" >&2
  return 1
}

# pki_session NAME PINION: what demo.sh and walkthrough.sh start with — the
# pinion binary checked and made absolute (in $pinion), a temporary working
# directory that is the current one from now on, and servers (in `pids`)
# killed and the directory removed on exit.
pki_session() {
  pinion=$2
  [ -x "$pinion" ] || { echo "$1: $pinion not found; build first (see README)" >&2; exit 2; }
  pinion=$(realpath "$pinion")
  work=$(mktemp -d)
  pids=()
  trap 'for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"' EXIT
  cd "$work"
}
