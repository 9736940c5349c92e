#!/usr/bin/env bash
# The README's test command: formatting, lints, then every test (unit, property, and one
# exhaustive or search-based check per scenario x kernel preset).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
