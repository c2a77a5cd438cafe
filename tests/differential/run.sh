#!/usr/bin/env bash
# Differential tests: pinion against real implementations, on a generated matrix.
#
#   run.sh --pinion PATH --host-match PATH --work DIR [--quick] [--inject-disagreement]
#
#   0. pin computation: `pinion pin` against openssl's SHA-256 of the DER SPKI, for every key.
#   1. leaf pins: curl --pinnedpubkey against `pinion check` (handshake mode), both connecting to
#      the same `openssl s_server` on 127.0.0.1, for every chain x pin set. Each side is also
#      checked against a model derived from the PKI: validity from `openssl verify -purpose
#      sslserver`, the validated path from its -show_chain, pins from the generated keys.
#   2. host patterns: OkHttp's CertificatePinner.findMatchingPins against pinion's
#      HostPattern::Matches (per pattern) and Policy::FindRule (pinned at all), on generated names;
#      2b. `pinion export --to okhttp-java` compiled and run on chains, against pinion check --chain.
#   3. validation: `openssl verify -x509_strict -verify_hostname` against `pinion check --chain`;
#      pinion must never accept a chain openssl rejects.
# Every disagreement is either derived as a known, documented difference
# (docs/security/DIFFERENTIAL.md) or counted as unexpected: then the run exits 1.
# Exit 77 when a required tool is missing (ctest shows the test as skipped).
#
# --quick runs part 1 on three chains only. --inject-disagreement flips one pinion result and
# exits 0 only if exactly that row is reported as unexpected (the harness can fail).
set -euo pipefail

pinion= host_match= work= quick=0 inject=0
while [ $# -gt 0 ]; do
  case $1 in
    --pinion) pinion=$2; shift 2 ;;
    --host-match) host_match=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --quick) quick=1; shift ;;
    --inject-disagreement) inject=1; shift ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -x "$pinion" ] && [ -x "$host_match" ] && [ -n "$work" ] || {
  echo "usage: run.sh --pinion PATH --host-match PATH --work DIR [--quick] [--inject-disagreement]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
pinion=$(realpath "$pinion") host_match=$(realpath "$host_match")
okhttp_cp=/usr/share/java/okhttp.jar:/usr/share/java/okio.jar
for tool in openssl curl java javac; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool not found: skipped" >&2; exit 77; }
done
for jar in ${okhttp_cp//:/ }; do
  [ -f "$jar" ] || { echo "run.sh: $jar not found (Debian's libokhttp-java): skipped" >&2; exit 77; }
done
export LC_ALL=C.UTF-8 NO_PROXY='*' no_proxy='*'
unset http_proxy https_proxy HTTPS_PROXY ALL_PROXY all_proxy CURL_CA_BUNDLE SSL_CERT_FILE SSL_CERT_DIR

rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)
server_pids=()
cleanup() {
  local pid
  for pid in "${server_pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

# ---------------------------------------------------------------------------------------------
# Bookkeeping. Every comparison is one row: agree, known:<id> or UNEXPECTED.
rows=0 agreed=0 known=0 unexpected=0
declare -A known_seen=()
unexpected_rows=()
verdict() {  # verdict ROWID STATUS: count and print the status column
  rows=$((rows + 1))
  case $2 in
    agree) agreed=$((agreed + 1)) ;;
    known:*) known=$((known + 1)); known_seen[${2#known:}]=$(( ${known_seen[${2#known:}]:-0} + 1 )) ;;
    *) unexpected=$((unexpected + 1)); unexpected_rows+=("$1") ;;
  esac
}
section() { printf '\n== %s\n' "$*"; }

pki=$work/pki
"$here/make_pki.sh" "$pki" >/dev/null
cd "$pki"
declare -A pin_of=() cn_key=()
while IFS=$'\t' read -r key pin; do pin_of[$key]=$pin; done < keys.tsv
while IFS=$'\t' read -r file cn key; do cn_key[$cn]=$key; done < certs.tsv

# ---------------------------------------------------------------------------------------------
if [ "$quick" = 0 ]; then
  section "0. pin computation: pinion pin vs openssl (SHA-256 of DER SPKI)"
  printf '%-14s %-10s\n' key status
  while IFS=$'\t' read -r key pin; do
    mine=$("$pinion" pin --format okhttp "keys/$key.key" | tr -d '\n')
    status=agree
    [ "$mine" = "$pin" ] || status=UNEXPECTED
    verdict "pin:$key" "$status"
    printf '%-14s %-10s\n' "$key" "$status"
  done < keys.tsv
fi

# ---------------------------------------------------------------------------------------------
# Part 1: leaf pins, curl vs pinion over real handshakes.
policy_for() {  # policy_for FILE HOST KEY...: a policy pinning HOST to the keys (none: another host)
  local file=$1 rule_host=$2; shift 2
  local pins=() key
  if [ $# -eq 0 ]; then rule_host=unpinned.diff.test; set -- unused; fi
  for key in "$@"; do pins+=("{ pin = \"${pin_of[$key]}\" }"); done
  local joined
  joined=$(IFS=,; echo "${pins[*]}")
  printf '[policy]\nversion = 1\n[[domain]]\nhost = "%s"\npins = [%s]\n' "$rule_host" "$joined" > "$file"
}

start_server() {  # start_server CHAIN: sets port
  local name=$1 leaf=$2 untrusted=$3 key=$4
  local log=$work/server.$name.log
  local extra=()
  [ "$untrusted" != - ] && extra=(-cert_chain "$untrusted")
  : > "$log"  # created here: the background child opens it only when it gets to run
  openssl s_server -accept 127.0.0.1:0 -cert "$leaf" -key "$key" "${extra[@]}" -www -no_dhe >"$log" 2>&1 </dev/null &
  server_pids+=($!)
  port=
  local i
  for i in $(seq 1 100); do  # bounded: at most 10 s
    # Only a complete line counts: the server may be half-way through writing it.
    port=$(tr '\n' '|' < "$log" | grep -o 'ACCEPT 127\.0\.0\.1:[0-9]*|' | tr -dc '0-9.:' | sed 's/.*://' || true)
    [ -n "$port" ] && return 0
    sleep 0.1
  done
  echo "run.sh: openssl s_server for $name did not start: $(cat "$log")" >&2
  exit 1
}

classify_curl() { case $1 in 0) echo accept ;; 90) echo pin ;; 35|51|60) echo tls ;; *) echo "error$1" ;; esac; }
classify_pinion() { case $1 in 0) echo accept ;; 1) echo pin ;; 3) echo tls ;; *) echo "error$1" ;; esac; }

# The validity oracle every TLS client shares: OpenSSL's default verification with the server
# purpose and the host name (what curl and pinion's handshake both ask OpenSSL for).
# pinion additionally validates as -x509_strict does (X509_V_FLAG_X509_STRICT): strict_valid.
declare -A tls_valid=() path_keys=() strict_valid=()
while IFS=$'\t' read -r name host leaf untrusted served key what; do
  untr=(); [ "$untrusted" != - ] && untr=(-untrusted "$untrusted")
  hv=(-verify_hostname "$host"); [[ $host =~ ^[0-9.]+$ ]] && hv=(-verify_ip "$host")
  strict_valid[$name]=0
  openssl verify -x509_strict -purpose sslserver "${hv[@]}" -CAfile roots.pem "${untr[@]}" "$leaf" >/dev/null 2>&1 \
    && strict_valid[$name]=1
  if out=$(openssl verify -show_chain -purpose sslserver "${hv[@]}" -CAfile roots.pem "${untr[@]}" "$leaf" 2>&1); then
    tls_valid[$name]=1
    keys=
    while read -r cn; do keys+=" ${cn_key[$cn]}"; done < <(sed -n 's/^depth=[0-9]*: CN = \(.*\), O = .*/\1/p' <<<"$out")
    path_keys[$name]=$keys
  else
    tls_valid[$name]=0
  fi
done < chains.tsv

has_san() { openssl x509 -in "$1" -noout -ext subjectAltName 2>/dev/null | grep -q 'DNS:\|IP Address:'; }

pinsets=("none" "leaf" "leaf backup" "backup" "rotated backup" "inter" "root" "unused")
chains_part1=()
while IFS=$'\t' read -r name rest; do
  if [ "$quick" = 1 ] && [[ ! $name =~ ^(legit|misissued|rogue)$ ]]; then continue; fi
  chains_part1+=("$name")
done < chains.tsv

section "1. leaf pins: curl --pinnedpubkey vs pinion check (handshakes with openssl s_server on 127.0.0.1)"
printf '%-14s %-15s %-11s %-13s %-11s %-9s %s\n' chain pins curl pinion model-curl model-pin status
declare -A handshake_unpinned=()
for name in "${chains_part1[@]}"; do
  IFS=$'\t' read -r _ host leaf untrusted served key what < <(awk -F'\t' -v n="$name" '$1 == n' chains.tsv)
  start_server "$name" "$leaf" "$untrusted" "$key"
  leaf_key=${cn_key[$(openssl x509 -in "$leaf" -noout -subject -nameopt multiline | sed -n 's/^ *commonName *= //p')]}
  for pinset in "${pinsets[@]}"; do
    keys=(); [ "$pinset" != none ] && read -ra keys <<<"$pinset"
    policy=$work/policy.$name.${pinset// /+}.toml
    policy_for "$policy" "$host" "${keys[@]}"
    curl_args=(-q -sS -o /dev/null --max-time 10 --cacert roots.pem)
    if [ ${#keys[@]} -gt 0 ]; then
      curl_pins=$(for k in "${keys[@]}"; do printf '%s;' "${pin_of[$k]/sha256\//sha256//}"; done)
      curl_args+=(--pinnedpubkey "${curl_pins%;}")
    fi
    if [[ $host =~ ^[0-9.]+$ ]]; then url=https://$host:$port/
    else curl_args+=(--resolve "$host:$port:127.0.0.1"); url=https://$host:$port/; fi
    set +e
    curl "${curl_args[@]}" "$url" 2>"$work/curl.err"; curl_rc=$?
    "$pinion" check "$host:$port" --policy "$policy" --connect-to 127.0.0.1 --ca-file roots.pem --timeout 10 \
      >"$work/pinion.out" 2>&1; pinion_rc=$?
    set -e
    curl_result=$(classify_curl "$curl_rc")
    pinion_result=$(classify_pinion "$pinion_rc")
    rowid="curl:$name:${pinset// /+}"
    if [ "$inject" = 1 ] && [ "$name" = legit ] && [ "$pinset" = leaf ]; then
      [ "$pinion_result" = accept ] && pinion_result=pin || pinion_result=accept
      injected_row=$rowid
    fi
    [ "$pinset" = none ] && handshake_unpinned[$name]=$pinion_result

    # The models: curl compares the leaf's key only; pinion every key of the validated path.
    model_curl=accept model_pinion=accept
    if [ "${tls_valid[$name]}" = 0 ]; then
      model_curl=tls model_pinion=tls
    elif [ ${#keys[@]} -gt 0 ]; then
      model_curl=pin model_pinion=pin
      for k in "${keys[@]}"; do
        [ "$k" = "$leaf_key" ] && model_curl=accept
        [[ " ${path_keys[$name]} " == *" $k "* ]] && model_pinion=accept
      done
    fi
    # DESIGN.md: names are checked against SAN only; OpenSSL (and curl) fall back to the CN.
    san_only=0 strict_only=0
    if [ "$model_pinion" != tls ] && ! has_san "$leaf"; then model_pinion=tls; san_only=1; fi
    # pinion validates as -x509_strict does; curl does not.
    if [ "$model_pinion" != tls ] && [ "${strict_valid[$name]}" = 0 ]; then model_pinion=tls; strict_only=1; fi

    status=agree
    if [ "$curl_result" != "$model_curl" ] || [ "$pinion_result" != "$model_pinion" ]; then
      status=UNEXPECTED
    elif [ "$curl_result" != "$pinion_result" ]; then
      if [ "$san_only" = 1 ]; then status=known:cn-only-leaf
      elif [ "$strict_only" = 1 ]; then status=known:x509-strict
      elif [ "$model_curl" = pin ] && [ "$model_pinion" = accept ]; then status=known:ca-pin
      else status=UNEXPECTED
      fi
    fi
    verdict "$rowid" "$status"
    printf '%-14s %-15s %-11s %-13s %-11s %-9s %s\n' "$name" "${pinset// /+}" "$curl_result($curl_rc)" \
      "$pinion_result($pinion_rc)" "$model_curl" "$model_pinion" "$status"
    if [ "$status" = UNEXPECTED ]; then sed 's/^/      curl: /' "$work/curl.err"; sed 's/^/      pinion: /' "$work/pinion.out" | head -5; fi
  done
done

# ---------------------------------------------------------------------------------------------
if [ "$quick" = 0 ]; then
  section "2. host patterns: OkHttp CertificatePinner.findMatchingPins vs pinion HostPattern / FindRule"
  bases=(example.com shop.example.co.uk bücher.example xn--bcher-kva.example)
  : > "$work/patterns.txt"
  : > "$work/hosts.txt"
  for b in "${bases[@]}"; do
    upper=$(tr 'a-z' 'A-Z' <<<"$b")
    printf '%s\n' "$b" "*.$b" "**.$b" "api.$b" "*.api.$b" "API.$upper" "api.$b." >> "$work/patterns.txt"
    printf '%s\n' "$b" "api.$b" "www.$b" "a.b.$b" "x.api.$b" "x.y.api.$b" "API.$upper" "Www.$upper" \
      "api.$b." "$b." "evil${b}" "$b.evil.test" "a..$b" ".$b" >> "$work/hosts.txt"
  done
  # Rules over public suffixes (pinion refuses them) and IP literals.
  printf '%s\n' "*.co.uk" "**.com" "*.example" "127.0.0.1" "*.0.0.1" >> "$work/patterns.txt"
  printf '%s\n' "127.0.0.1" "127.0.0.01" "co.uk" "x.co.uk" >> "$work/hosts.txt"

  "$host_match" "$work/patterns.txt" "$work/hosts.txt" > "$work/pinion.hosts"
  # OkHttp's combined pinner gets exactly the patterns pinion's combined policy holds.
  awk -F'\t' '$1 == "PATTERN" && $3 == "accepted" && !seen[$4]++ { print $2 }' "$work/pinion.hosts" \
    > "$work/policy-patterns.txt"
  mkdir -p "$work/java"
  javac -nowarn -d "$work/java" -cp "$okhttp_cp" "$here/OkHttpHostMatch.java"
  java -cp "$okhttp_cp:$work/java" OkHttpHostMatch "$work/patterns.txt" "$work/hosts.txt" \
    "$work/policy-patterns.txt" > "$work/okhttp.hosts"

  # Known differences, derived from the names themselves.
  explain_match() {  # explain_match PATTERN HOST PINION OKHTTP -> status
    local pattern=$1 host=$2 p=$3 o=$4
    if [ "$p" = "$o" ]; then echo agree; return; fi
    case $p in
      pattern-refused) echo known:pinion-refuses-pattern; return ;;
      host-invalid) echo known:pinion-refuses-host; return ;;
    esac
    if [ "$p" = match ] || [ "$p" = pinned ]; then  # pinion pins where OkHttp does not: stricter
      if [ "$o" = host-invalid ]; then echo known:okhttp-refuses-host; return; fi
      if [[ $pattern == '**.'* ]]; then echo known:okhttp3-no-double-star; return; fi
      if [[ $host == *. ]] || [[ $pattern == *. ]]; then echo known:okhttp-trailing-dot; return; fi
    fi
    echo UNEXPECTED
  }
  # One row per pattern: how it loads on each side, then how many of its (pattern, host) pairs agree.
  # A pattern pinion refuses is a single comparison (the policy does not load; nothing is unpinned).
  declare -A p_agree=() p_known=() p_unexpected=() p_ids=() okhttp_refused=()
  paste <(grep '^MATCH' "$work/pinion.hosts") <(grep '^MATCH' "$work/okhttp.hosts") > "$work/match.joined"
  : > "$work/match.differences"
  while IFS=$'\t' read -r _ pattern host p _ pattern2 host2 o; do
    [ "$pattern" = "$pattern2" ] && [ "$host" = "$host2" ] || { echo "run.sh: host lists out of step" >&2; exit 1; }
    [ "$o" = pattern-refused ] && okhttp_refused[$pattern]=1
    [ "$p" = pattern-refused ] && continue
    status=$(explain_match "$pattern" "$host" "$p" "$o")
    verdict "okhttp:$pattern:$host" "$status"
    case $status in
      agree) p_agree[$pattern]=$(( ${p_agree[$pattern]:-0} + 1 )) ;;
      known:*) p_known[$pattern]=$(( ${p_known[$pattern]:-0} + 1 ))
               [[ " ${p_ids[$pattern]:-} " == *" ${status#known:} "* ]] || p_ids[$pattern]+=" ${status#known:}" ;;
      *) p_unexpected[$pattern]=$(( ${p_unexpected[$pattern]:-0} + 1 )) ;;
    esac
    # Every disagreement is listed below, except the many rows of a "**." pattern (one known cause).
    if [ "$status" != agree ] && [ "$status" != known:okhttp3-no-double-star ]; then
      printf '%-28s %-30s %-14s %-14s %s\n' "$pattern" "$host" "$p" "$o" "$status" >> "$work/match.differences"
    fi
  done < "$work/match.joined"
  printf '%-28s %-26s %-9s %6s %6s %6s  %s\n' pattern pinion okhttp agree known unexp "known causes"
  while IFS=$'\t' read -r _ pattern state canonical; do
    o_state=accepted; [ -n "${okhttp_refused[$pattern]:-}" ] && o_state=refused
    if [ "$state" != accepted ]; then
      status=agree
      if [ "$o_state" = accepted ]; then
        # Public-suffix wildcards and wildcards on IP addresses are load errors in pinion (POLICY.md).
        status=known:pinion-refuses-pattern
      fi
      verdict "okhttp-pattern:$pattern" "$status"
      printf '%-28s %-26s %-9s %6s %6s %6s  %s\n' "$pattern" "$state" "$o_state" - - - "$status"
      continue
    fi
    printf '%-28s %-26s %-9s %6s %6s %6s %s\n' "$pattern" "$canonical" "$o_state" "${p_agree[$pattern]:-0}" \
      "${p_known[$pattern]:-0}" "${p_unexpected[$pattern]:-0}" "${p_ids[$pattern]:-}"
  done < <(grep '^PATTERN' "$work/pinion.hosts")
  echo "-- (pattern, host) pairs where they differ (\"**.\" rows omitted: OkHttp 3.13 never matches them)"
  printf '%-28s %-30s %-14s %-14s %s\n' pattern host pinion okhttp status
  cat "$work/match.differences"
  echo "-- pinned at all, with every accepted pattern in one policy / one CertificatePinner"
  printf '%-30s %-40s %-10s %-26s %s\n' host pinion okhttp pinion-rule status
  paste <(grep '^HOST' "$work/pinion.hosts") <(grep '^HOST' "$work/okhttp.hosts") > "$work/host.joined"
  while IFS=$'\t' read -r _ host norm p rule _ host2 canon o _; do
    [ "$host" = "$host2" ] || { echo "run.sh: host lists out of step" >&2; exit 1; }
    status=$(explain_match "$rule" "$host" "$p" "$o")
    verdict "okhttp-policy:$host" "$status"
    printf '%-30s %-40s %-10s %-26s %s\n' "$host" "$p($norm)" "$o" "$rule" "$status"
  done < "$work/host.joined"

  # -------------------------------------------------------------------------------------------
  # 2b. The same patterns as shipped to apps: `pinion export --to okhttp-java`, compiled against
  # OkHttp and run on valid chains (OkHttp pins after validation), against pinion check --chain.
  section "2b. exported OkHttp pinner vs pinion check --chain (host api.diff.test)"
  printf '%-16s %-12s %-10s %-10s %s\n' rule chain okhttp pinion status
  for rule in api.diff.test '*.diff.test' '**.diff.test'; do
    dir=$work/export.${rule//\*/star}
    mkdir -p "$dir"
    policy_for "$dir/policy.toml" "$rule" leaf backup
    set +e
    "$pinion" export --to okhttp-java "$dir/policy.toml" > "$dir/PinionPins.java" 2>"$dir/export.err"
    export_rc=$?
    set -e
    if [[ $rule == '**.'* ]]; then
      # OkHttp 3.x has no "**." and leaves the hosts unpinned (part 2): the export must be refused
      # as lossy (exit 2), name the rule and the reason, and write nothing (DIFFERENTIAL.md).
      status=UNEXPECTED
      if [ "$export_rc" = 2 ] && [ ! -s "$dir/PinionPins.java" ] &&
         grep -q '^lossy: \*\*\.diff\.test: OkHttp 3\.x' "$dir/export.err"; then status=agree; fi
      verdict "export:$rule:refused" "$status"
      printf '%-16s %-12s %-10s %-10s %s\n' "$rule" "(export)" "refused" "exit=$export_rc" "$status"
      continue
    fi
    if [ "$export_rc" != 0 ]; then
      verdict "export:$rule:exit" UNEXPECTED
      printf '%-16s %-12s %-10s %-10s %s\n' "$rule" "(export)" "exit=$export_rc" - UNEXPECTED
      continue
    fi
    javac -nowarn -d "$dir" -cp "$okhttp_cp" "$dir/PinionPins.java" "$here/OkHttpPinCheck.java"
    java -cp "$okhttp_cp:$dir" OkHttpPinCheck api.diff.test chains/legit.served.pem chains/rotated.served.pem \
      chains/misissued.served.pem > "$dir/okhttp.out"
    while read -r served o; do
      set +e
      "$pinion" check api.diff.test --chain "$served" --ca-file roots.pem --policy "$dir/policy.toml" >/dev/null 2>&1
      p=$(classify_pinion $?)
      set -e
      status=agree
      [ "$o" = "$p" ] || status=UNEXPECTED  # an export that exits 0 must pin exactly as pinion does
      verdict "export:$rule:$served" "$status"
      printf '%-16s %-12s %-10s %-10s %s\n' "$rule" "$(basename "$served" .served.pem)" "$o" "$p" "$status"
    done < "$dir/okhttp.out"
  done

  # -------------------------------------------------------------------------------------------
  section "3. validation: openssl verify -x509_strict -verify_hostname vs pinion check --chain"
  # validation_status STRICT TLS_OSS PINION LEAF: pinion must never accept what openssl rejects.
  validation_status() {
    local strict=$1 tls_oss=$2 result=$3 leaf=$4
    if [ "$result" = accept ] && [ "$strict" = reject ]; then
      echo UNEXPECTED  # pinion must never accept what -x509_strict rejects
    elif [ "$result" = tls ] && [ "$strict" = accept ]; then
      if ! has_san "$leaf"; then echo known:cn-only-leaf
      elif [ "$tls_oss" = reject ]; then echo known:server-purpose  # verify without -purpose skips EKU
      else echo UNEXPECTED
      fi
    elif [ "$result" != accept ] && [ "$result" != tls ]; then
      echo UNEXPECTED
    else
      echo agree
    fi
  }
  # A second instant, injected on both sides: one day into the not-yet-valid leaf's window.
  future_start=$(openssl x509 -in certs/future_leaf.pem -noout -startdate | sed 's/^notBefore=//')
  at_epoch=$(( $(date -u -d "$future_start" +%s) + 86400 ))
  at_text=$(date -u -d "@$at_epoch" +%Y-%m-%dT%H:%M:%SZ)
  policy_for "$work/unpinned.toml" unused
  printf '%-14s %-7s %-7s %-7s %-9s %-7s %-30s | %-7s %-7s %-7s %s\n' chain strict tls-oss chain chain+pin hshake \
    status "strict" tls-oss chain "status at $at_text"
  while IFS=$'\t' read -r name host leaf untrusted served key what; do
    untr=(); [ "$untrusted" != - ] && untr=(-untrusted "$untrusted")
    hv=(-verify_hostname "$host"); [[ $host =~ ^[0-9.]+$ ]] && hv=(-verify_ip "$host")
    strict=reject strict_at=reject tls_at=reject
    openssl verify -x509_strict "${hv[@]}" -CAfile roots.pem "${untr[@]}" "$leaf" >/dev/null 2>&1 && strict=accept
    openssl verify -x509_strict -attime "$at_epoch" "${hv[@]}" -CAfile roots.pem "${untr[@]}" "$leaf" >/dev/null 2>&1 \
      && strict_at=accept
    openssl verify -purpose sslserver -attime "$at_epoch" "${hv[@]}" -CAfile roots.pem "${untr[@]}" "$leaf" \
      >/dev/null 2>&1 && tls_at=accept
    tls_oss=reject
    [ "${tls_valid[$name]}" = 1 ] && tls_oss=accept
    leaf_key=${cn_key[$(openssl x509 -in "$leaf" -noout -subject -nameopt multiline | sed -n 's/^ *commonName *= //p')]}
    policy_for "$work/own.$name.toml" "$host" "$leaf_key"
    set +e
    "$pinion" check "$host" --chain "$served" --ca-file roots.pem --policy "$work/unpinned.toml" >"$work/pinion.out" 2>&1
    chain_rc=$?
    "$pinion" check "$host" --chain "$served" --ca-file roots.pem --policy "$work/own.$name.toml" >>"$work/pinion.out" 2>&1
    pinned_rc=$?
    "$pinion" check "$host" --chain "$served" --ca-file roots.pem --policy "$work/unpinned.toml" --at "$at_text" \
      >>"$work/pinion.out" 2>&1
    at_rc=$?
    set -e
    chain_result=$(classify_pinion "$chain_rc"); pinned_result=$(classify_pinion "$pinned_rc")
    at_result=$(classify_pinion "$at_rc")
    hs=${handshake_unpinned[$name]:-?}
    # Chain mode, pinned chain mode and the handshake must say the same; then pinion vs openssl.
    if [ "$chain_result" != "$pinned_result" ] || [ "$chain_result" != "$hs" ]; then
      status=UNEXPECTED
    else
      status=$(validation_status "$strict" "$tls_oss" "$chain_result" "$leaf")
    fi
    status_at=$(validation_status "$strict_at" "$tls_at" "$at_result" "$leaf")
    verdict "verify:$name" "$status"
    verdict "verify-at:$name" "$status_at"
    printf '%-14s %-7s %-7s %-7s %-9s %-7s %-30s | %-7s %-7s %-7s %s\n' "$name" "$strict" "$tls_oss" "$chain_result" \
      "$pinned_result" "$hs" "$status" "$strict_at" "$tls_at" "$at_result" "$status_at"
    if [ "$status" = UNEXPECTED ] || [ "$status_at" = UNEXPECTED ]; then
      sed 's/^/      pinion: /' "$work/pinion.out" | head -9
    fi
  done < chains.tsv
fi

# ---------------------------------------------------------------------------------------------
section "summary"
echo "$rows comparisons: $agreed agree, $known known differences, $unexpected unexpected"
for id in "${!known_seen[@]}"; do echo "  known:$id  ${known_seen[$id]} rows (docs/security/DIFFERENTIAL.md)"; done | sort
for row in "${unexpected_rows[@]}"; do echo "  UNEXPECTED $row"; done
if [ "$inject" = 1 ]; then
  if [ "$unexpected" = 1 ] && [ "${unexpected_rows[0]}" = "${injected_row:-}" ]; then
    echo "self-test: the injected disagreement ($injected_row) was reported, and nothing else"
    exit 0
  fi
  echo "self-test FAILED: expected exactly the injected row ${injected_row:-?} to be reported" >&2
  exit 1
fi
[ "$unexpected" = 0 ]
