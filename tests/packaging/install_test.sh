#!/usr/bin/env bash
# Packaging test: installs pinion into a temporary prefix, builds and runs a
# consumer of each library with its own pkg-config file, then builds every
# example out of tree with find_package(pinion CONFIG) — static_client with a
# policy compiled in by `pinion export --to cpp` — and runs the OpenSSL and static clients against a real
# `openssl s_server` on 127.0.0.1: accepted with the real chain, refused with
# a rogue one.
#   tests/packaging/install_test.sh BUILD_DIR
set -euo pipefail
build=$(realpath "$1")
source_dir=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
server=
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
prefix=$work/prefix

cmake --install "$build" --prefix "$prefix" >/dev/null
# The engine's, dynamic's, report's and the libcurl adapter's public headers
# never include OpenSSL's, nor the pinion/openssl/ headers that name OpenSSL types.
if grep -l -e "#include <openssl/" -e '#include "pinion/openssl/\(enforcer\|unique_ptr\|util\).h"' "$prefix/include/pinion"/*.h \
    "$prefix/include/pinion/dynamic"/*.h "$prefix/include/pinion/report"/*.h "$prefix/include/pinion/curl"/*.h; then
  echo "an engine, dynamic, report or libcurl-adapter header exposes OpenSSL" >&2; exit 1
fi

# One consumer per library, each built with only its own pkg-config file and run.
pc_dir=$(dirname "$(find "$prefix" -name pinion.pc)")
consumer() {  # consumer PKG-CONFIG-NAME: builds and runs $work/$1.cc
  c++ "$work/$1.cc" -o "$work/$1" $(PKG_CONFIG_PATH="$pc_dir" pkg-config --cflags --libs "$1")
  "$work/$1"
}
cat >"$work/pinion.cc" <<'CC'
#include <iostream>
#include "pinion/pin.h"
int main() {
  auto pin = pinion::Pin::Parse("sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
  std::cout << (pin ? pin->ToString() : pin.error().ToString()) << "\n";
  return pin ? 0 : 1;
}
CC
cat >"$work/pinion-dynamic.cc" <<'CC'
#include "pinion/dynamic/dsse.h"
int main() { return pinion::ParseDsseEnvelope("not json").ok() ? 1 : 0; }  // refused: exit 0
CC
cat >"$work/pinion-report.cc" <<'CC'
#include "pinion/report/report.h"
int main() { return pinion::IsReportable(pinion::Verdict{}) ? 1 : 0; }
CC
cat >"$work/pinion-openssl.cc" <<'CC'
#include "pinion/openssl/enforcer.h"
#include "pinion/openssl/unique_ptr.h"
#include "pinion/policy_store.h"
int main() {
  pinion::PolicyStore store;
  auto enforcer = pinion::openssl::Enforcer::Create(store);
  pinion::openssl::UniquePtr<SSL_CTX> ctx(SSL_CTX_new(TLS_client_method()));
  return enforcer && (*enforcer)->Install(ctx.get()).ok() ? 0 : 1;
}
CC
cat >"$work/pinion-curl.cc" <<'CC'
#include "pinion/curl/pinning.h"
#include "pinion/policy_store.h"
int main() {
  pinion::PolicyStore store;
  auto pinning = pinion::curl::CurlPinning::Create(store);
  CURL* easy = curl_easy_init();
  bool ok = pinning && (*pinning)->Install(easy).ok();
  curl_easy_cleanup(easy);
  return ok ? 0 : 1;
}
CC
cat >"$work/pinion-asio.cc" <<'CC'
#include <boost/asio/ssl.hpp>
#include "pinion/asio/pinning.h"
int main() { return 0; }  // the header-only adapter compiles and links against pinion-openssl alone
CC
for library in pinion pinion-dynamic pinion-report pinion-openssl pinion-curl pinion-asio; do
  consumer "$library" >/dev/null || { echo "the $library consumer failed" >&2; exit 1; }
done

# A PKI for localhost and a rogue CA, a policy pinning the real leaf key and a backup.
cd "$work"
mk_ca() { openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -out "$1.pem" \
  -subj "/CN=$1" -days 30 -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null; }
mk_leaf() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=localhost" 2>/dev/null
  printf 'subjectAltName=DNS:localhost\n' >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -days 30 -extfile "$1.ext" -out "$1.pem" 2>/dev/null; }
mk_ca root; mk_ca rogue; mk_leaf leaf root; mk_leaf impostor rogue
cat root.pem rogue.pem > trust.pem
pin() { openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64; }
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out backup.key 2>/dev/null
backup=$(openssl pkey -in backup.key -pubout -outform der | openssl dgst -sha256 -binary | base64)
printf '[policy]\nversion = 1\n[[domain]]\nhost = "localhost"\npins = [ { pin = "sha256/%s" }, { pin = "sha256/%s" } ]\n' \
  "$(pin leaf.pem)" "$backup" > policy.toml
# Server to server: the private CA compiled in as the host's only trust anchor, with the pins.
printf '[policy]\nversion = 1\n[[domain]]\nhost = "localhost"\nanchors = "root.pem"\npins = [ { pin = "sha256/%s" }, { pin = "sha256/%s" } ]\n' \
  "$(pin leaf.pem)" "$backup" > static-policy.toml
"$build/cli/pinion" export --to cpp static-policy.toml > pins.generated.h

# Every example, out of tree, against the installed package (find_package).
cmake -S "$source_dir/examples" -B "$work/examples" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" \
  -DPINION_STATIC_POLICY_HEADER="$work/pins.generated.h" >/dev/null
cmake --build "$work/examples" >/dev/null
client=$work/examples/openssl_client
static_client=$work/examples/static_client

serve() {  # serve CERT KEY → sets $port
  port=$(( (RANDOM % 20000) + 20000 ))
  openssl s_server -accept "127.0.0.1:$port" -cert "$1" -key "$2" -quiet >/dev/null 2>&1 </dev/null &
  server=$!
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
}
serve leaf.pem leaf.key
"$client" localhost "$port" policy.toml trust.pem 127.0.0.1 | grep -q '^ALLOW'
"$static_client" localhost "$port" - - 127.0.0.1 | grep -q '^ALLOW'
kill "$server"; wait "$server" 2>/dev/null || true
serve impostor.pem impostor.key
set +e; "$client" localhost "$port" policy.toml trust.pem 127.0.0.1 >/dev/null; code=$?; set -e
[ "$code" = 1 ] || { echo "the rogue chain was not refused by the pins (exit $code)" >&2; exit 1; }
# The compiled-in anchor does not even let the rogue chain validate (exit 3, before any pin).
set +e; "$static_client" localhost "$port" - - 127.0.0.1 >/dev/null 2>&1; code=$?; set -e
[ "$code" = 3 ] || { echo "static_client accepted or misjudged the rogue chain (exit $code)" >&2; exit 1; }
kill "$server"; wait "$server" 2>/dev/null || true
server=
echo "packaging ok: installed; a consumer of each library built with pkg-config; examples built with find_package; real chain accepted, rogue refused"
