#!/usr/bin/env bash
# Real-world test photos: the sdist of face_recognition==1.3.0 from PyPI ships tests/test_images
# (Obama, Biden, partial faces, a 32-bit PNG). Pinned by sha256; extracted into the cache.
# Prints the folder holding the photos.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
want=5e5efdd1686aa566af0d3cc1313b131e4b197657a8ffd03669e6d3fad92705ec
dir="$CF_CACHE/test-photos"
photos="$dir/face_recognition-1.3.0/tests/test_images"
if [ ! -f "$photos/obama.jpg" ]; then
  mkdir -p "$dir"
  sdist="$dir/face_recognition-1.3.0.tar.gz"
  if [ ! -f "$sdist" ] || [ "$(sha256sum "$sdist" | cut -d' ' -f1)" != "$want" ]; then
    python3 -m pip download --quiet --no-deps --no-binary :all: face_recognition==1.3.0 -d "$dir"
  fi
  got="$(sha256sum "$sdist" | cut -d' ' -f1)"
  if [ "$got" != "$want" ]; then
    echo "error: face_recognition-1.3.0.tar.gz has sha256 $got, pinned $want" >&2
    exit 1
  fi
  tar -xzf "$sdist" -C "$dir" face_recognition-1.3.0/tests/test_images
fi
echo "$photos"
