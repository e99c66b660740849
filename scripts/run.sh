#!/usr/bin/env bash
# The README run command: installs what is missing, builds the page in release, and serves it
# on 127.0.0.1 (PORT, default 8080). Ctrl-C stops it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$CF_ROOT/scripts/setup.sh" app
"$CF_ROOT/scripts/build-web.sh"
port="${PORT:-8080}"
echo "serving CelebrityFaces on http://127.0.0.1:$port/" >&2
cd "$CF_ROOT"
exec trunk serve --address 127.0.0.1 --port "$port" --no-autoreload
