#!/usr/bin/env bash
# The search benchmark of docs/BENCHMARKS.md: cf-forest over a parameter grid, then spotify annoy
# and hnswlib (from PyPI, in a venv under the cache) on the same vectors, one table with ratios.
# Extra arguments go to `cfaces bench`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$CF_ROOT"
venv="$CF_CACHE/bench-venv"
if ! "$venv/bin/python" -c "import annoy, hnswlib, numpy" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet numpy==2.* annoy==1.17.3 hnswlib==0.8.0
fi
cargo build --release -p cf-cli
data="$CF_CACHE/bench-data"
mkdir -p "$data"
"$CARGO_TARGET_DIR/release/cfaces" bench --export "$data" --json "$data/cf-forest.jsonl" "$@"
"$venv/bin/python" bench/compare.py "$data" "$data/cf-forest.jsonl"
