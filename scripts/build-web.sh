#!/usr/bin/env bash
# Builds the page into dist/ with trunk (release wasm, wasm-opt). Cargo skips what has not changed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$CF_ROOT"
if [ ! -f index-shards/manifest.json ]; then
  echo "index-shards/manifest.json is missing: restore it with git, or rebuild it (README, The index)" >&2
  exit 1
fi
# The page serves thumbnails/ beside itself; it may be empty (the page then shows names).
mkdir -p thumbnails
trunk build "$@"
