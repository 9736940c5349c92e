#!/usr/bin/env bash
# The README's test command: formatting, lints, every test (unit, property, CLI, and one
# exhaustive or search-based check per scenario x kernel preset), then the matrix gate.
# The last line counts everything: "tests: N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked 2>&1 | tee "$log"
bash ci/gate.sh 2>&1 | tee -a "$log"
passed=$(awk '/^test result:/ { p += $4 } /checks met their expectation/ { p += $1 } END { print p + 0 }' "$log")
failed=$(awk '/^test result:/ { f += $6 } /checks met their expectation/ { f += $3 - $1 } END { print f + 0 }' "$log")
echo "tests: ${passed} passed, ${failed} failed"
