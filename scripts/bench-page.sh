#!/usr/bin/env bash
# The page's figures in headless Chromium (bench/page.mjs): cold first visit to first matches,
# warm photo-to-matches per stage, second visit, bytes by type, longest main-thread task.
# Builds the page first (cargo and trunk skip what has not changed). CF_RUNS sets the repeats.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$CF_ROOT"
"$CF_ROOT/scripts/setup.sh" test >/dev/null
"$CF_ROOT/scripts/build-web.sh"
CF_TEST_PHOTOS="$("$CF_ROOT/scripts/fetch-test-photos.sh")"
export CF_TEST_PHOTOS
node bench/page.mjs
