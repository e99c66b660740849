#!/usr/bin/env bash
# Builds the page into dist/ with trunk (release wasm, wasm-opt). Cargo skips what has not
# changed, but trunk runs wasm-bindgen and wasm-opt on every build (a minute and a half on two
# cores), so the whole build is skipped when none of its inputs changed since the last one:
# their paths, sizes and modification times (a fresh clone has new times, so it builds).
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
  const files = new Set([...m.pipeline_models, ...(m.gender_models ?? []), ...m.networks.flatMap((n) => n.models)].map((f) => f.file));
  console.log([...files].join("\n"));
' | while read -r file; do
  ln -f "$models/$file" "build/models/$file" 2>/dev/null || cp "$models/$file" "build/models/$file"
done
stamp_of_inputs() {
  {
    printf '%s\n' "$*" "$(trunk --version)" "$(wasm-bindgen --version)" "$(rustc --version)"
    find Cargo.toml Cargo.lock Trunk.toml build.rs src www crates index-shards build/models \
      thumbnails scripts/hash-workers.mjs -type f -not -path '*/target/*' -printf '%p %s %T@\n' | LC_ALL=C sort
  } | sha256sum | cut -d' ' -f1
}
stamp="$(stamp_of_inputs "$@")"
if [ -f dist/index.html ] && [ "$(cat dist/.cf-inputs 2>/dev/null)" = "$stamp" ]; then
  echo "dist/ is up to date (no input of the page changed)" >&2
else
  cf_step "trunk build (the page and its worker, release wasm)"
  trunk build "$@"
  # The workers' files named by their content's hash, as trunk names the page's.
  node scripts/hash-workers.mjs dist
  echo "$stamp" > dist/.cf-inputs
fi
# The headers for static hosts (Content-Security-Policy with the inline script's hash, the
# thumbnail host, frame-ancestors) and the allowed parents: written every time, since
# CF_EMBED_PARENTS is a setting of the build, not one of its inputs (README, "Hosting it").
node scripts/site-headers.mjs dist
