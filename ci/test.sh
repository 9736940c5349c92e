#!/usr/bin/env bash
# The README's test command: formatting, lints, every test (unit, property, CLI, and one
# exhaustive or search-based check per scenario x kernel preset), then the matrix gate.
# The last line counts everything: "tests: N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")/.."
# The real-kernel conformance tests need xfsprogs (mkfs.xfs); as root, install it if missing.
if [ "$(id -u)" = 0 ] && ! command -v mkfs.xfs >/dev/null 2>&1 && ! [ -x /usr/sbin/mkfs.xfs ]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq xfsprogs) >/dev/null
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked 2>&1 | tee "$log"
bash ci/gate.sh 2>&1 | tee -a "$log"
if [ "$(id -u)" = 0 ]; then
  bash ci/conform.sh 2>&1 | tee -a "$log"
elif [ "${CI:-}" = true ]; then
  echo "conformance: not root, cannot mount XFS (CI needs root)" >&2
  exit 1
else
  echo "conformance skipped: not root (iomc conform needs root, loop devices and xfsprogs)"
fi
passed=$(awk '/^test result:/ { p += $4 } /checks met their expectation/ { p += $1 } /^[0-9]+ scenarios agree with the real kernel/ { p += $1 } /^generated conformance: [0-9]+ sequences agree/ { p += 1 } END { print p + 0 }' "$log")
failed=$(awk '/^test result:/ { f += $6 } /checks met their expectation/ { f += $3 - $1 } /^[0-9]+ scenarios agree with the real kernel/ { f += $8 } END { print f + 0 }' "$log")
echo "tests: ${passed} passed, ${failed} failed"
