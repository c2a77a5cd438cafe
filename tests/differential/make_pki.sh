#!/usr/bin/env bash
# Generates the differential test PKI with the openssl CLI (openssl ca, so that
# every certificate has fixed validity dates). Nothing here is typed from a real
# certificate; every pin is computed from a generated key.
#
#   make_pki.sh OUTDIR
#
# Writes into OUTDIR:
#   roots.pem     the trusted roots (root and other-root; never rogue-root)
#   keys.tsv      key-name <TAB> sha256/<base64 of SHA-256(DER SPKI)>
#   certs.tsv     certificate-file <TAB> subject CN <TAB> key-name
#   chains.tsv    chain <TAB> host <TAB> leaf.pem <TAB> untrusted.pem|- <TAB> served.pem <TAB> leaf key file <TAB> what it is
# A chain's served.pem is what the TLS server sends (leaf first); untrusted.pem
# is the same minus the leaf, as `openssl verify -untrusted` wants it.
set -euo pipefail

out=${1:?usage: make_pki.sh OUTDIR}
mkdir -p "$out"
cd "$out"
mkdir -p ca/newcerts keys certs chains ext
: > ca/index.txt
cat > ca/ca.cnf <<'EOF'
[ca]
default_ca = ca_default
[ca_default]
dir = ca
database = $dir/index.txt
new_certs_dir = $dir/newcerts
rand_serial = yes
default_md = sha256
policy = policy_any
unique_subject = no
email_in_dn = no
copy_extensions = none
preserve = yes
[policy_any]
commonName = optional
organizationName = optional
EOF

host=api.diff.test
# Validity windows. "now" must lie inside kValid (the servers cannot take an injected clock).
valid=(20200101000000Z 20450101000000Z)
expired=(20100101000000Z 20110101000000Z)
future=(20440101000000Z 20441231000000Z)

: > keys.tsv
: > certs.tsv
: > chains.tsv

spki_pin() {  # spki_pin KEYFILE: sha256/<base64> of the DER SubjectPublicKeyInfo
  openssl pkey -in "$1" -pubout -outform DER | openssl dgst -sha256 -binary | openssl base64 -A | sed 's|^|sha256/|'
}

new_key() {  # new_key NAME [rsa]
  if [ "${2:-ec}" = rsa ]; then
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "keys/$1.key" 2>/dev/null
  else
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "keys/$1.key" 2>/dev/null
  fi
  printf '%s\t%s\n' "$1" "$(spki_pin "keys/$1.key")" >> keys.tsv
}

# Extension profiles. $1 = section name, then the lines.
ext() { local name=$1; shift; printf '[%s]\n' "$name" > "ext/$name.cnf"; printf '%s\n' "$@" >> "ext/$name.cnf"; }
ext root 'basicConstraints=critical,CA:TRUE' 'keyUsage=critical,keyCertSign,cRLSign' \
  'subjectKeyIdentifier=hash' 'authorityKeyIdentifier=keyid:always'
ext inter 'basicConstraints=critical,CA:TRUE' 'keyUsage=critical,keyCertSign,cRLSign' \
  'subjectKeyIdentifier=hash' 'authorityKeyIdentifier=keyid:always'
ext inter_pathlen0 'basicConstraints=critical,CA:TRUE,pathlen:0' 'keyUsage=critical,keyCertSign,cRLSign' \
  'subjectKeyIdentifier=hash' 'authorityKeyIdentifier=keyid:always'
ext inter_not_ca 'basicConstraints=critical,CA:FALSE' 'keyUsage=critical,digitalSignature' \
  'subjectKeyIdentifier=hash' 'authorityKeyIdentifier=keyid:always'
ext inter_bc_not_critical 'basicConstraints=CA:TRUE' 'keyUsage=critical,keyCertSign,cRLSign' \
  'subjectKeyIdentifier=hash' 'authorityKeyIdentifier=keyid:always'
leaf_ext() {  # leaf_ext NAME SAN-or-"none" [eku] [aki]
  local lines=('basicConstraints=critical,CA:FALSE' 'keyUsage=critical,digitalSignature,keyEncipherment'
               "extendedKeyUsage=${3:-serverAuth}" 'subjectKeyIdentifier=hash')
  if [ "${4:-aki}" = aki ]; then lines+=('authorityKeyIdentifier=keyid:always'); else lines+=('authorityKeyIdentifier=none'); fi
  [ "$2" != none ] && lines+=("subjectAltName=$2")
  ext "$1" "${lines[@]}"
}

# issue NAME CN KEY ISSUER(-=self) PROFILE START END
issue() {
  local name=$1 cn=$2 key=$3 issuer=$4 profile=$5 start=$6 end=$7
  openssl req -new -key "keys/$key.key" -subj "/O=pinion differential/CN=$cn" -out "ca/$name.csr" 2>/dev/null
  local signer=(-cert "certs/$issuer.pem" -keyfile "keys/$(issuer_key "$issuer").key")
  [ "$issuer" = - ] && signer=(-selfsign -keyfile "keys/$key.key")
  openssl ca -batch -config ca/ca.cnf -notext -startdate "$start" -enddate "$end" \
    -extfile "ext/$profile.cnf" -extensions "$profile" "${signer[@]}" \
    -in "ca/$name.csr" -out "certs/$name.pem" 2>ca/last.log || { cat ca/last.log >&2; exit 1; }
  printf '%s\t%s\t%s\n' "certs/$name.pem" "$cn" "$key" >> certs.tsv
}
issuer_key() { awk -F'\t' -v f="certs/$1.pem" '$1 == f { print $3 }' certs.tsv; }

# chain NAME HOST DESCRIPTION CERT... (leaf first)
chain() {
  local name=$1 chain_host=$2 what=$3; shift 3
  local leaf=certs/$1.pem served=chains/$name.served.pem untrusted=-
  : > "$served"
  for c in "$@"; do cat "certs/$c.pem" >> "$served"; done
  if [ $# -gt 1 ]; then
    untrusted=chains/$name.untrusted.pem
    : > "$untrusted"
    for c in "${@:2}"; do cat "certs/$c.pem" >> "$untrusted"; done
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$chain_host" "$leaf" "$untrusted" "$served" \
    "keys/$(issuer_key "$1").key" "$what" >> chains.tsv
}

# Keys. leaf: the pinned key; backup: pinned, never used; rotated: the next leaf key (RSA, so two
# SPKI encodings are covered); unused: a pin nobody holds (the canary every case must refuse).
for k in root inter other_root other_inter rogue_root rogue_inter inter_expired inter_not_ca \
         inter_bc inter_pl0 inter_sub leaf backup misissued rogue wildcard ip unused; do
  new_key "$k"
done
new_key rotated rsa

# CAs. other-root is a second trusted CA that mis-issues for our host; rogue-root is not trusted.
issue root "diff root" root - root "${valid[@]}"
issue inter "diff intermediate" inter root inter "${valid[@]}"
issue other_root "diff other trusted root" other_root - root "${valid[@]}"
issue other_inter "diff other intermediate" other_inter other_root inter "${valid[@]}"
issue rogue_root "diff rogue root" rogue_root - root "${valid[@]}"
issue rogue_inter "diff rogue intermediate" rogue_inter rogue_root inter "${valid[@]}"
issue inter_expired "diff expired intermediate" inter_expired root inter "${expired[@]}"
issue inter_not_ca "diff intermediate CA false" inter_not_ca root inter_not_ca "${valid[@]}"
issue inter_bc "diff intermediate bc not critical" inter_bc root inter_bc_not_critical "${valid[@]}"
issue inter_pl0 "diff intermediate pathlen 0" inter_pl0 root inter_pathlen0 "${valid[@]}"
issue inter_sub "diff intermediate below pathlen 0" inter_sub inter_pl0 inter "${valid[@]}"
cat certs/root.pem certs/other_root.pem > roots.pem

# Leaves.
leaf_ext leaf_ok "DNS:$host"
leaf_ext leaf_wrongname "DNS:other.diff.test"
leaf_ext leaf_cn_only none
leaf_ext leaf_wildcard "DNS:*.diff.test"
leaf_ext leaf_client_auth "DNS:$host" clientAuth
leaf_ext leaf_no_aki "DNS:$host" serverAuth no-aki
leaf_ext leaf_ip "IP:127.0.0.1"
issue legit_leaf "diff leaf" leaf inter leaf_ok "${valid[@]}"
issue rotated_leaf "diff rotated leaf" rotated inter leaf_ok "${valid[@]}"
issue misissued_leaf "diff misissued leaf" misissued other_inter leaf_ok "${valid[@]}"
issue rogue_leaf "diff rogue leaf" rogue rogue_inter leaf_ok "${valid[@]}"
issue direct_leaf "diff leaf from root" leaf root leaf_ok "${valid[@]}"
issue wildcard_leaf "diff wildcard leaf" wildcard inter leaf_wildcard "${valid[@]}"
issue expired_leaf "diff expired leaf" leaf inter leaf_ok "${expired[@]}"
issue future_leaf "diff not yet valid leaf" leaf inter leaf_ok "${future[@]}"
issue wrongname_leaf "diff wrong name leaf" leaf inter leaf_wrongname "${valid[@]}"
issue cn_only_leaf "$host" leaf inter leaf_cn_only "${valid[@]}"
issue client_auth_leaf "diff clientAuth leaf" leaf inter leaf_client_auth "${valid[@]}"
issue no_aki_leaf "diff leaf without AKI" leaf inter leaf_no_aki "${valid[@]}"
issue under_expired_leaf "diff leaf under expired intermediate" leaf inter_expired leaf_ok "${valid[@]}"
issue under_not_ca_leaf "diff leaf under CA false" leaf inter_not_ca leaf_ok "${valid[@]}"
issue under_bc_leaf "diff leaf under bc not critical" leaf inter_bc leaf_ok "${valid[@]}"
issue pathlen_leaf "diff leaf below pathlen 0" leaf inter_sub leaf_ok "${valid[@]}"
issue ip_leaf "diff IP leaf" ip inter leaf_ip "${valid[@]}"

chain legit "$host" "leaf (pinned key) + intermediate" legit_leaf inter
chain rotated "$host" "rotated leaf key (RSA) + intermediate" rotated_leaf inter
chain misissued "$host" "another trusted CA issues for the host" misissued_leaf other_inter
chain rogue "$host" "rogue CA, root not trusted" rogue_leaf rogue_inter
chain stuffed "$host" "misissued chain + the genuine leaf and intermediate appended" \
  misissued_leaf other_inter legit_leaf inter
chain direct "$host" "pinned leaf key issued by the root directly" direct_leaf
chain wildcard "$host" "leaf for *.diff.test" wildcard_leaf inter
chain expired "$host" "expired leaf" expired_leaf inter
chain future "$host" "leaf not yet valid" future_leaf inter
chain wrongname "$host" "leaf for other.diff.test" wrongname_leaf inter
chain cn_only "$host" "CN-only leaf, no subjectAltName" cn_only_leaf inter
chain client_auth "$host" "leaf EKU clientAuth only" client_auth_leaf inter
chain no_aki "$host" "leaf without authorityKeyIdentifier" no_aki_leaf inter
chain inter_expired "$host" "intermediate expired" under_expired_leaf inter_expired
chain inter_not_ca "$host" "intermediate with CA:FALSE" under_not_ca_leaf inter_not_ca
chain inter_bc "$host" "intermediate basicConstraints not critical" under_bc_leaf inter_bc
chain pathlen "$host" "two intermediates under pathlen:0" pathlen_leaf inter_sub inter_pl0
chain missing_inter "$host" "leaf only, intermediate not sent" legit_leaf
chain ip 127.0.0.1 "leaf for IP 127.0.0.1" ip_leaf inter
