#!/usr/bin/env bash
# The CI regression gate: every scenario x every preset its [expect] names must give its
# expected verdict. Writes JUnit XML for CI systems to target/iomc-junit.xml.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --release --locked -q -p iomc -- matrix scenarios/ --junit target/iomc-junit.xml
