#!/usr/bin/env bash
# Installs everything the test suite needs, then runs all of it:
# formatting, lints, docs, unit/integration/property tests, interop tests
# against third-party programs, and a short fuzz smoke run.
#
# Environment:
#   FUZZ_SECONDS   seconds per fuzz target (default 20)
#   SKIP_FUZZ=1    skip the fuzz smoke run (never set in CI)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

echo "== installing test dependencies"
scripts/install-test-deps.sh

echo "== cargo fmt / clippy / doc"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet

echo "== cargo test"
cargo test --workspace 2>&1 | tee "$root/target/cargo-test.log"

echo "== interop tests"
cargo build --release -p examples --bins
IMP_BIN_DIR="$root/target/release" "$root/.venv/bin/python" -m pytest -q interop

if [ "${SKIP_FUZZ:-0}" != 1 ] || [ "${CI:-}" = true ]; then
  echo "== fuzz smoke"
  scripts/fuzz-smoke.sh
fi
echo "== all tests passed"
