#!/usr/bin/env bash
# Fuzzes the parsers of untrusted bytes (fuzz/fuzz_targets: the manifest, the catalog, the
# shards, a packed model, a photo) with cargo-fuzz: libFuzzer, AddressSanitizer.
#   scripts/fuzz.sh [SECONDS] [TARGET ...]   all targets at once for SECONDS (default 30)
# The targets run side by side, sharing the cores (the test command's 30 s is 30 s of wall time,
# not 30 s a target one after another); a longer hunt is the same command with more seconds,
# or with fewer targets to give each more of the machine.
# The corpus grows across runs in the cache folder, seeded from fuzz/seeds/TARGET; anything
# found is written to fuzz/artifacts/TARGET and the script stops non-zero: fix it, then keep the
# input as a test beside the code it broke (crates/shards/tests/fuzz_found.rs does).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$CF_ROOT/fuzz"
seconds="${1:-30}"
shift || true
if ! [[ "$seconds" =~ ^[0-9]+$ ]]; then
  echo "usage: scripts/fuzz.sh [SECONDS] [TARGET ...]" >&2
  exit 2
fi
# cargo-fuzz passes nightly-only flags (-Zsanitizer=address); these machines have the stable
# toolchain only. RUSTC_BOOTSTRAP lets stable take them, for these builds alone: they have a
# target folder of their own, and the variable is set in this script's process only.
export RUSTC_BOOTSTRAP=1
fuzz=(cargo fuzz run --release --codegen-units 16 --target-dir "$CF_CACHE/fuzz-target")
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo fuzz list)
fi
cf_step "fuzz: building ${#targets[@]} targets (AddressSanitizer; slow the first time)"
cargo fuzz build --release --codegen-units 16 --target-dir "$CF_CACHE/fuzz-target"
cf_step "fuzz: ${targets[*]}, side by side for ${seconds} s"
pids=()
for target in "${targets[@]}"; do
  corpus="$CF_CACHE/fuzz-corpus/$target"
  mkdir -p "$corpus"
  seeds=()
  [ -d "seeds/$target" ] && seeds=("seeds/$target")
  # -rss_limit_mb: a browser tab has about this much; an input that needs more is a finding.
  "${fuzz[@]}" "$target" "$corpus" "${seeds[@]}" -- -max_total_time="$seconds" \
    -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=20 -print_final_stats=1 \
    >"$CF_CACHE/fuzz-$target.log" 2>&1 &
  pids+=($!)
done
failed=()
for i in "${!targets[@]}"; do
  target="${targets[$i]}"
  log="$CF_CACHE/fuzz-$target.log"
  if wait "${pids[$i]}"; then
    printf '%-13s %s\n' "$target" "$(grep -E "^stat::number_of_executed_units|^Done" "$log" | tr '\n' ' ')" >&2
  else
    tail -60 "$log" >&2
    echo "error: fuzzing $target found a failure (above; the input is in fuzz/artifacts/$target)" >&2
    failed+=("$target")
  fi
done
[ ${#failed[@]} -eq 0 ] || exit 1
