#!/usr/bin/env bash
# The page's figures in headless Chromium (bench/page.mjs): cold first visit to first matches,
# warm photo-to-matches per stage, second visit, bytes by type, longest main-thread task; and
# the same figures of face-api.js (bench/peer: @vladmandic/face-api with TensorFlow.js's wasm
# backend, by name and pinned version from the npm registry, checked against its lock file's
# hashes), run alternately with the page in the same browser, with the ratios.
# Builds the page first (cargo and trunk skip what has not changed). CF_RUNS sets the repeats;
# CF_PEER=0 leaves the peer out (an older build measured beside this one).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$CF_ROOT"
"$CF_ROOT/scripts/setup.sh" test >/dev/null
"$CF_ROOT/scripts/build-web.sh"
CF_TEST_PHOTOS="$("$CF_ROOT/scripts/fetch-test-photos.sh")"
export CF_TEST_PHOTOS
if [ "${CF_PEER:-1}" != 0 ]; then
  # The peer lives in the cache folder, never in the clone or the site.
  peer="$CF_CACHE/bench-peer"
  mkdir -p "$peer"
  if ! cmp -s bench/peer/package-lock.json "$peer/package-lock.json" || [ ! -d "$peer/node_modules" ]; then
    cf_step "bench: fetching the peer (bench/peer/package-lock.json)"
    cp bench/peer/package.json bench/peer/package-lock.json "$peer/"
    (cd "$peer" && npm ci --ignore-scripts --no-audit --no-fund --silent)
  fi
  site="$peer/site"
  rm -rf "$site"
  mkdir -p "$site/tfjs" "$site/model"
  cp bench/peer/index.html bench/peer/peer.js "$site/"
  cp "$peer/node_modules/@vladmandic/face-api/dist/face-api.esm.js" "$site/"
  cp "$peer/node_modules/@tensorflow/tfjs-backend-wasm/dist/"*.wasm "$site/tfjs/"
  for model in tiny_face_detector ssd_mobilenetv1 face_landmark_68 face_recognition; do
    cp "$peer/node_modules/@vladmandic/face-api/model/${model}_model"{.bin,-weights_manifest.json} "$site/model/"
  done
  export CF_PEER_SITE="$site"
fi
node bench/page.mjs
