#!/usr/bin/env bash
# The README run command: installs what is missing, builds the page in release (once), and
# serves it on 127.0.0.1 (PORT, default 8080); the address is printed once the page answers
# there. Ctrl-C stops it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$CF_ROOT/scripts/setup.sh" app
cd "$CF_ROOT"
# Thumbnails are not committed: they are cut from the dataset, as index-sources.tsv records,
# when the dataset is here (decoding and cropping only, no face pipeline: seconds).
dataset="${CF_DATASET:-$CF_ROOT/../shared/data/lfw}"
if [ -d "$dataset" ]; then
  cargo build --release --quiet -p cf-cli --bin cfaces
  "$CARGO_TARGET_DIR/release/cfaces" thumbnails --dataset "$dataset" --index index-shards \
    --sources index-sources.tsv --out thumbnails
else
  echo "no dataset at $dataset (set CF_DATASET): the page will show names without thumbnails" >&2
fi
"$CF_ROOT/scripts/build-web.sh"
exec node scripts/serve.mjs dist "${PORT:-8080}"
