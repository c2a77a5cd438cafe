#!/usr/bin/env bash
# Installs every build, test, benchmark and fuzzing dependency of pinion from
# Debian 12's packages. Safe to run again; needs root (or sudo).
set -euo pipefail

packages=(
  # toolchain
  g++ cmake ninja-build pkg-config make
  clang llvm libclang-rt-14-dev            # fuzzers (libFuzzer, ASan, UBSan)
  # libraries
  libssl-dev openssl ca-certificates
  libidn2-dev libpsl-dev publicsuffix
  libtomlplusplus-dev nlohmann-json3-dev libcli11-dev libfmt-dev libpugixml-dev
  libcurl4-openssl-dev                     # libcurl adapter, manifest updater
  libcpp-httplib-dev                       # HTTPS test servers (and the collector)
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
