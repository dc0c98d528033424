#!/usr/bin/env bash
# Fuzzes the JSON cursor against serde_json (fuzz/fuzz_targets/cursor.rs) for a bounded time.
#
#   fuzz/run.sh            (60 seconds)
#   SECONDS_TO_RUN=600 fuzz/run.sh
#
# cargo-fuzz needs nightly features; RUSTC_BOOTSTRAP=1 lets the one stable toolchain of this
# machine build them. Installs cargo-fuzz when it is missing. Crashes land in fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
exec cargo fuzz run cursor -- -max_total_time="${SECONDS_TO_RUN:-60}" -max_len=4096
