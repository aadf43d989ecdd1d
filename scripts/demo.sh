#!/usr/bin/env bash
# The README's first command: install what is missing, build the Release binary, run the demo
# (a generated 1 GiB file copied, checked byte for byte, throughput printed, files removed).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target pcopy >/dev/null
exec build/release/pcopy "$@"
