#!/usr/bin/env bash
# The README run command: installs what is missing, builds the page in release (once), and
# serves it on 127.0.0.1 (PORT, default 8080); the address is printed once the page answers
# there. Ctrl-C stops it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
# cfaces only packs the models and cuts thumbnails here: built in the `tool` profile, which
# compiles in half of release's time on a new machine (Cargo.toml).
export CF_CLI_PROFILE=tool
"$CF_ROOT/scripts/setup.sh" app
cd "$CF_ROOT"
# Thumbnails are not committed: they are cut from the dataset, as index-sources.tsv records,
# when the dataset is here (decoding and cropping only, no face pipeline: seconds).
dataset="${CF_DATASET:-$CF_ROOT/../shared/data/lfw}"
if [ -d "$dataset" ]; then
  cf_step "thumbnails (cfaces thumbnails)"
  cargo build --profile "$CF_CLI_PROFILE" --quiet -p cf-cli --bin cfaces
  "$CARGO_TARGET_DIR/$CF_CLI_PROFILE/cfaces" thumbnails --dataset "$dataset" --index index-shards \
    --sources index-sources.tsv --out thumbnails
else
  echo "no dataset at $dataset (set CF_DATASET): the page will show names without thumbnails" >&2
fi
"$CF_ROOT/scripts/build-web.sh"
exec node scripts/serve.mjs dist "${PORT:-8080}"
