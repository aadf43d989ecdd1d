#!/usr/bin/env bash
# The README's second command: builds and runs the whole test suite twice, as an optimised build
# and under AddressSanitizer + UndefinedBehaviorSanitizer, then smoke-runs the benchmark on a
# small file (the benchmark never runs under CTest; this only keeps it from rotting).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs=$(nproc)

for preset in release sanitizers; do
  echo "== build ($preset)"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
  echo "== test ($preset)"
  ctest --preset "$preset" -j "$jobs"
done

echo "== benchmark smoke run"
build/release/bench/pcopy-bench --size 32M --rounds 1 --dir "${TMPDIR:-/tmp}"
echo "All tests passed."
