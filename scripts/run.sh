#!/usr/bin/env bash
# The README run command: installs what is missing, builds the page in release, and serves it
# on 127.0.0.1 (PORT, default 8080). Ctrl-C stops it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$CF_ROOT/scripts/setup.sh" app
# Thumbnails are not committed: cut them from the dataset when it is here and they are missing
# (a full build the first time, about 2-3 minutes on two cores; seconds from the cache after).
dataset="${CF_DATASET:-$CF_ROOT/../shared/data/lfw}"
cd "$CF_ROOT"
if [ -d "$dataset" ]; then
  cargo build --release -p cf-cli --bin cfaces
  cfaces="$CARGO_TARGET_DIR/release/cfaces"
  if ! "$cfaces" verify index-shards --thumbnails thumbnails >/dev/null 2>&1; then
    echo "cutting thumbnails from $dataset" >&2
    "$cfaces" build-index --dataset "$dataset" --out "$CF_CACHE/index-from-dataset" \
      --thumbnails thumbnails
  fi
else
  echo "no dataset at $dataset (set CF_DATASET): the page will show names without thumbnails" >&2
fi
"$CF_ROOT/scripts/build-web.sh"
port="${PORT:-8080}"
echo "serving CelebrityFaces on http://127.0.0.1:$port/" >&2
cd "$CF_ROOT"
exec trunk serve --address 127.0.0.1 --port "$port" --no-autoreload
