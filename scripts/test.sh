#!/usr/bin/env bash
# The README's second command: builds and runs the whole test suite twice, as an optimised build
# and under AddressSanitizer + UndefinedBehaviorSanitizer. The optimised suite also smoke-runs
# `pcopy-bench --quick` (tests/bench_smoke_test.cc): valid tables, no timing assertions.
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

echo "All tests passed."
