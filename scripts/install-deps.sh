#!/usr/bin/env bash
# Installs every build, test, benchmark and fuzzing dependency of pinion from
# Debian 12's packages. Safe to run again; needs root (or sudo).
set -euo pipefail

packages=(
  # toolchain
  g++ cmake ninja-build pkg-config make ccache
  clang llvm libclang-rt-14-dev            # fuzzers (libFuzzer, ASan, UBSan)
  # libraries
  libssl-dev openssl ca-certificates
  libidn2-dev libpsl-dev publicsuffix
  libtomlplusplus-dev nlohmann-json3-dev libsimdjson-dev libcli11-dev libfmt-dev libpugixml-dev
  libplist-dev                             # binary plists in `pinion import --from trustkit`
  libcurl4-openssl-dev                     # libcurl adapter, manifest updater
  libcpp-httplib-dev                       # the collector's HTTP(S) server, test servers
  libsqlite3-dev libpqxx-dev libzstd-dev            # collector stores
  libboost-dev libasio-dev                 # Asio adapter tests (Boost.Asio and standalone Asio)
  postgresql                               # throwaway PostgreSQL clusters in the collector tests
  chromium                                 # dashboard tests (headless, driven by playwright-core)
  wrk                                      # collector ingestion benchmark
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  valgrind
  # real consumers of the exports, used by the tests
  default-jdk-headless libokhttp-java kotlin nodejs curl libplist-utils
)

sudo_cmd=()
if [ "$(id -u)" != 0 ]; then sudo_cmd=(sudo); fi

export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update
"${sudo_cmd[@]}" apt-get install -y --no-install-recommends "${packages[@]}"

# playwright-core for the dashboard test, from the npm registry (Debian's
# chromium is the browser; nothing is downloaded by playwright itself).
if ! command -v npm >/dev/null; then
  "${sudo_cmd[@]}" apt-get install -y --no-install-recommends npm
fi
npm ci --prefix "$(dirname "$0")/../tests/browser" --no-audit --no-fund
