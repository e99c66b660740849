#!/usr/bin/env bash
# The README test command: installs what is missing, then runs every check and test:
# formatting, clippy (native and wasm32), the Rust tests, the committed index's integrity, a
# short fuzzing of each parser of untrusted bytes, and the browser tests against the built page
# in headless chromium.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$CF_ROOT/scripts/setup.sh" test
cd "$CF_ROOT"

step() { cf_step "$@"; }

step "rustfmt"
cargo fmt --all --check
cargo fmt --manifest-path fuzz/Cargo.toml --all --check
step "clippy (native)"
cargo clippy --release --workspace --all-targets -- -D warnings
step "clippy (the app, wasm32)"
# Three times: the page (no features), its worker (feature `worker`) and the morph worker
# (feature `morph`) are built apart.
cargo clippy --profile release-wasm -p celebrityfaces --target wasm32-unknown-unknown -- -D warnings
cargo clippy --profile release-wasm -p celebrityfaces --target wasm32-unknown-unknown --features worker -- -D warnings
cargo clippy --profile release-wasm -p celebrityfaces --target wasm32-unknown-unknown --features morph -- -D warnings
step "cargo test"
# The face tests run the real models on real photos; here their absence is a failure.
export CF_MODELS="$CF_ROOT/models"
CF_TEST_PHOTOS="$("$CF_ROOT/scripts/fetch-test-photos.sh")"
export CF_TEST_PHOTOS
CF_REQUIRE_MODELS=1 cargo test --release --workspace
step "the face pipeline in the browser equals native (wasm-bindgen-test, headless chromium)"
# Native vectors and stage times first; the wasm test compiles them in and prints its own times.
# It is built in the page's profile: its times are the page's, and the page build after it
# reuses the compiled tract instead of compiling it a second time at another opt-level.
export CF_PARITY="$CF_CACHE/parity"
mkdir -p "$CF_PARITY"
for network in mobilefacenet192 look faceplugin512; do
  printf 'native ' >&2
  "$CARGO_TARGET_DIR/release/cfaces" embed --network "$network" --repeat 5 \
    "$CF_TEST_PHOTOS/obama.jpg" >"$CF_PARITY/$network.json.new"
  # Replaced only when the vectors changed: a new file time alone makes cargo build the wasm
  # test again (a minute, with the page's fat LTO).
  if cmp -s "$CF_PARITY/$network.json.new" "$CF_PARITY/$network.json"; then
    rm "$CF_PARITY/$network.json.new"
  else
    mv "$CF_PARITY/$network.json.new" "$CF_PARITY/$network.json"
  fi
done
(cd crates/face && CHROMEDRIVER=/usr/bin/chromedriver cargo test --profile release-wasm \
  --no-default-features --target wasm32-unknown-unknown --test wasm_parity -- --nocapture)
step "the committed index verifies"
"$CARGO_TARGET_DIR/release/cfaces" verify index-shards
step "fuzzing the parsers of untrusted bytes (30 s, the targets side by side)"
"$CF_ROOT/scripts/fuzz.sh" 30
step "build the page"
"$CF_ROOT/scripts/build-web.sh"
step "browser tests (headless chromium)"
export CF_ARTIFACTS="${CF_ARTIFACTS:-$CF_ROOT/artifacts}"
export CF_CFACES="$CARGO_TARGET_DIR/release/cfaces"
# Three files at a time on two cores: much of a browser test is waiting (downloads that stall,
# timeouts, the worker's answer), and each file has its own server, browser and artifacts
# (browser tests: 3m35s-3m43s one after another, 2m48s two at a time, 2m16s-2m34s three).
node --test --test-concurrency=3 tests/browser/
step "every check and test passed"
