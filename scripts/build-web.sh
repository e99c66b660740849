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
# The page serves the models the manifest names (and no others) from build/models.
"$CF_ROOT/scripts/fetch-models.sh" >/dev/null
models="${CF_MODELS:-$CF_ROOT/models}"
rm -rf build/models
mkdir -p build/models
node -e '
  const m = JSON.parse(require("fs").readFileSync("index-shards/manifest.json", "utf8"));
  const files = new Set([...m.pipeline_models, ...m.networks.flatMap((n) => n.models)].map((f) => f.file));
  console.log([...files].join("\n"));
' | while read -r file; do
  ln -f "$models/$file" "build/models/$file" 2>/dev/null || cp "$models/$file" "build/models/$file"
done
trunk build "$@"
