# Sourced by the other scripts: where tools and build caches live, outside the clone, so that a
# fresh clone (CI) reuses what an earlier run installed or compiled.
CF_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CF_CACHE="${CF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/celebrityfaces}"
CF_TOOLS="$CF_CACHE/tools"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CF_CACHE/target}"
export PATH="$CF_TOOLS/bin:$CF_ROOT/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export CF_ROOT CF_CACHE CF_TOOLS
# Each command's steps say how long after its start they begin (a new machine's first run is
# long: the times show where it goes).
export CF_STARTED="${CF_STARTED:-$(date +%s)}"
cf_step() {
  local elapsed=$(($(date +%s) - CF_STARTED))
  printf '\n\033[1m== [%dm%02ds] %s\033[0m\n' $((elapsed / 60)) $((elapsed % 60)) "$*" >&2
}
