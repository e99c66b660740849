#!/usr/bin/env bash
# Builds the page into dist/ with trunk (release wasm, wasm-opt). Cargo skips what has not changed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$CF_ROOT"
if [ ! -f index-shards/manifest.json ]; then
  cargo run --release -p cf-cli --bin cfaces -- build-demo --out index-shards
fi
trunk build "$@"
