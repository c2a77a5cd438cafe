#!/usr/bin/env bash
# Checks that includes point only down the module layers (docs/ARCHITECTURE.md):
# engine ← dynamic, report ← adapters ← tooling ← collector, CLI. Library code
# only: tests may reach across (a test of dynamic signs with tooling's signer).
# Prints each upward include and fails if there is one.
set -euo pipefail
cd "$(dirname "$0")/.."

# allowed MODULE: the pinion/<dir>/ prefixes a module's code may include
# ("engine" stands for the top-level pinion/*.h headers and pinion/openssl/unique_ptr.h, util.h).
allowed() {
  case "$1" in
    engine)  echo "engine" ;;
    dynamic) echo "engine dynamic" ;;
    report)  echo "engine report" ;;
    openssl) echo "engine openssl" ;;
    curl)    echo "engine dynamic report openssl curl" ;;
    asio)    echo "engine openssl asio" ;;
    tooling) echo "engine dynamic report openssl curl tooling" ;;
  esac
}
# The module a pinion/... include belongs to.
module_of_include() {
  case "$1" in
    pinion/openssl/unique_ptr.h|pinion/openssl/util.h) echo engine ;;
    pinion/*/*) local rest=${1#pinion/}; echo "${rest%%/*}" ;;
    pinion/*) echo engine ;;
  esac
}

violations=0
check() {  # check MODULE FILES...
  local module=$1; shift
  local ok; ok=" $(allowed "$module") "
  for file in "$@"; do
    case "$file" in *_test.cc|*_child.cc) continue ;; esac
    while IFS= read -r include; do
      local target; target=$(module_of_include "$include")
      if [[ "$ok" != *" $target "* ]]; then
        echo "$file: $module includes $include ($target is not below it)"
        violations=$((violations + 1))
      fi
    done < <(sed -n 's/^#include "\(pinion\/[^"]*\)".*/\1/p' "$file")
  done
}

shopt -s nullglob
check engine  src/*.cc src/internal/*.cc src/internal/*.h include/pinion/*.h include/pinion/openssl/*.h
check dynamic src/dynamic/*.cc include/pinion/dynamic/*.h
check report  src/report/*.cc include/pinion/report/*.h
check openssl adapters/openssl/src/*.cc adapters/openssl/include/pinion/openssl/*.h
check curl    adapters/curl/src/*.cc adapters/curl/include/pinion/curl/*.h
check asio    adapters/asio/include/pinion/asio/*.h
check tooling tooling/src/*.cc tooling/include/pinion/tooling/*.h

# No library puts src/ (anyone's internals) on its public include path.
if grep -n 'PUBLIC[^)]*{PROJECT_SOURCE_DIR}/src' $(git ls-files '*CMakeLists.txt' 'cmake/*.cmake'); then
  echo "a target exposes src/ publicly"
  violations=$((violations + 1))
fi

if [ "$violations" -gt 0 ]; then
  echo "check-layers: $violations upward dependencies (see docs/ARCHITECTURE.md)" >&2
  exit 1
fi
echo "check-layers: every include points down the module layers"
