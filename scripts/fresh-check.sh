#!/usr/bin/env bash
# Proves the README's two commands on a machine that has none of our caches, and times them.
# Run it whenever a change touches scripts/, Cargo.lock, package-lock.json, Trunk.toml or the
# toolchain (slow: about an hour on two cores; not part of .ci/run).
#
# It clones the repository (HEAD: commit first) into a temporary folder beside a copy of
# ../shared, and points every cache the scripts and their tools use at empty folders there:
# CF_CACHE (tools, cargo build cache, model tarballs, test photos), CARGO_HOME (crates.io
# downloads), npm's and pip's caches, and node_modules (inside the fresh clone). Then:
#   1. the run command from nothing, until the page answers on its port; then stopped;
#   2. the run command again (warm), until the page answers;
#   3. the test command from nothing, in a second set of empty caches (a new machine that
#      never ran the run command);
#   4. the test command again (warm).
# What a new machine has and this check cannot take away: the Rust toolchain (and, once
# installed, its wasm32 target), Debian's chromium, node and npm.
#
#   scripts/fresh-check.sh            all four stages
#   scripts/fresh-check.sh run        stages 1 and 2 only
#   scripts/fresh-check.sh test       stages 3 and 4 only
# CF_FRESH_DIR keeps the temporary folder (default: a new one under /tmp, removed at the end
# unless the check fails).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
what="${1:-all}"
case "$what" in all | run | test) ;; *)
  echo "usage: scripts/fresh-check.sh [all|run|test]" >&2
  exit 2
  ;;
esac
shared="$here/../shared"
if [ ! -d "$shared/data/lfw" ]; then
  echo "error: $shared/data/lfw is missing: the check runs beside a copy of ../shared" >&2
  exit 1
fi
if [ -n "$(git -C "$here" status --porcelain --untracked-files=no)" ]; then
  echo "note: the working tree has uncommitted changes; the check clones HEAD without them" >&2
fi

keep="${CF_FRESH_DIR:-}"
root="${keep:-$(mktemp -d /tmp/cf-fresh.XXXXXX)}"
mkdir -p "$root"
server=""
cleanup() {
  local status=$?
  if [ -n "$server" ]; then kill -- "-$server" 2>/dev/null || true; fi
  if [ -z "$keep" ] && [ "$status" -eq 0 ]; then
    rm -rf "$root"
  else
    echo "the check's folder, with its logs, is kept: $root" >&2
  fi
}
trap cleanup EXIT

step() { printf '\n\033[1m== fresh check: %s\033[0m\n' "$*" >&2; }
results=()
record() { results+=("$(printf '%-46s %8s' "$1" "$2")"); }
clock() { date +%s; }
minutes() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

step "copying ../shared into $root"
rm -rf "$root/shared"
cp -a "$shared" "$root/shared"

# A fresh machine: `$1` names its set of caches.
machine() {
  local name="$1"
  rm -rf "$root/$name"
  mkdir -p "$root/$name/cache" "$root/$name/cargo-home" "$root/$name/npm-cache" "$root/$name/pip-cache"
  git clone --quiet "$here" "$root/$name/main"
  # The clone finds the dataset where a checkout does: ../shared beside it.
  ln -s "$root/shared" "$root/$name/shared"
}

# Runs a README command of machine `$1` in its own empty caches.
on_machine() {
  local name="$1"
  shift
  (
    cd "$root/$name/main"
    env -u CARGO_TARGET_DIR -u XDG_CACHE_HOME \
      CF_CACHE="$root/$name/cache" \
      CARGO_HOME="$root/$name/cargo-home" \
      RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}" \
      PATH="$HOME/.cargo/bin:$PATH" \
      npm_config_cache="$root/$name/npm-cache" \
      PIP_CACHE_DIR="$root/$name/pip-cache" \
      "$@"
  )
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts the run command on machine `$1`; returns once the page answers; leaves it running.
run_until_answering() {
  local name="$1" port log
  port="$(free_port)"
  log="$root/$name/run.log"
  set -m
  on_machine "$name" env PORT="$port" bash scripts/run.sh >"$log" 2>&1 &
  server=$!
  set +m
  until curl -fsS -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null; do
    if ! kill -0 "$server" 2>/dev/null; then
      echo "error: the run command stopped before the page answered; its output:" >&2
      tail -40 "$log" >&2
      exit 1
    fi
    sleep 2
  done
  # The server says where it serves once its own first request has come back, which may be a
  # moment after this one: it is given 10 s.
  local waited=0
  until grep -q "serving CelebrityFaces on http://127.0.0.1:$port/" "$log"; do
    if [ "$waited" -ge 10 ]; then
      echo "error: the page answers but the run command has not said where" >&2
      exit 1
    fi
    sleep 1
    waited=$((waited + 1))
  done
  curl -fsS "http://127.0.0.1:$port/index-shards/manifest.json" -o /dev/null
}

stop_server() {
  kill -- "-$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  server=""
}

if [ "$what" != test ]; then
  machine run
  step "1. the run command on a new machine (output in $root/run/run.log)"
  t0="$(clock)"
  run_until_answering run
  record "run command, new machine, to the page answering" "$(minutes $(($(clock) - t0)))"
  stop_server
  step "2. the run command again, warm"
  t0="$(clock)"
  run_until_answering run
  record "run command, warm re-run, to the page answering" "$(minutes $(($(clock) - t0)))"
  stop_server
fi

# The test command on machine `$1`, its output in `$2`; records its time as `$3`.
test_command() {
  local t0
  t0="$(clock)"
  if ! on_machine "$1" bash scripts/test.sh >"$2" 2>&1; then
    tail -60 "$2" >&2
    echo "error: the test command failed ($3); its output is in $2" >&2
    exit 1
  fi
  record "$3" "$(minutes $(($(clock) - t0)))"
}

if [ "$what" != run ]; then
  machine test
  step "3. the test command on a new machine (output in $root/test/test.log)"
  test_command test "$root/test/test.log" "test command, new machine"
  step "4. the test command again, warm"
  test_command test "$root/test/test-warm.log" "test command, warm re-run"
fi

step "done: $(git -C "$here" rev-parse --short HEAD) on $(nproc) cores"
printf '%s\n' "${results[@]}"
