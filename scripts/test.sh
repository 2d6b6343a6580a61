#!/usr/bin/env bash
# Installs what is needed, builds, and runs the whole test suite under CTest.
# Usage: scripts/test.sh [--preset debug|asan-ubsan|release]   (default: debug)
set -euo pipefail
cd "$(dirname "$0")/.."
preset=debug
if [ "${1:-}" = "--preset" ]; then preset=$2; fi
scripts/install-deps.sh
if [ ! -d ../shared/attestation-vectors ]; then
  echo "test.sh: ../shared/attestation-vectors is missing (tests use the real evidence there)" >&2
  exit 2
fi
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"
ctest --preset "$preset" -j2
