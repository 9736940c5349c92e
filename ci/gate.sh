#!/usr/bin/env bash
# The CI regression gate: every scenario x every preset its [expect] names must give its
# expected verdict. The checks are dealt to two shards run side by side (this machine has two
# cores; loom checks are single-threaded); each writes JUnit XML for CI systems to
# target/iomc-junit-K.xml. Both logs are printed after both shards finish.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -q -p iomc
logs=()
pids=()
for k in 1 2; do
  log=$(mktemp)
  logs+=("$log")
  target/release/iomc matrix scenarios/ --shard "$k/2" --junit "target/iomc-junit-$k.xml" >"$log" 2>&1 &
  pids+=($!)
done
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -f "${logs[@]}"' EXIT
rc=0
for p in "${pids[@]}"; do
  wait "$p" || rc=1
done
for log in "${logs[@]}"; do
  grep -vE 'executions, [0-9]+/s' "$log" || true
done
exit "$rc"
