#!/usr/bin/env bash
# Runs every cargo-fuzz target for a short smoke period (FUZZ_SECONDS, default 20).
# Long runs: FUZZ_SECONDS=3600 scripts/fuzz-smoke.sh, or `cargo fuzz run TARGET` in fuzz/.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs="${FUZZ_SECONDS:-20}"
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install --locked cargo-fuzz
fi
# cargo-fuzz needs nightly-only flags (-Zsanitizer); the stable toolchain allows them with this.
export RUSTC_BOOTSTRAP=1
targets=$(cargo fuzz list)
[ -n "$targets" ] || { echo "no fuzz targets found" >&2; exit 1; }
for t in $targets; do
  echo "== fuzz smoke: $t (${secs}s)"
  mkdir -p "corpus/$t"
  if [ -d "seeds/$t" ]; then cp -n seeds/"$t"/* "corpus/$t/" 2>/dev/null || true; fi
  cargo fuzz run "$t" "corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=1 2>&1 | tail -n 12
done
echo "fuzz smoke: all targets ran without a crash"
