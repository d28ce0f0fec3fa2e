#!/usr/bin/env bash
# Fuzzes the bank statement parsers (statements/fuzz) with cargo-fuzz on the
# nightly toolchain, SECONDS per target (default 60). Not part of the test
# suite: a crash leaves its input in statements/fuzz/artifacts/<target>/, and
# each such input becomes a unit test in statements/tests/crashers.rs.
set -euo pipefail
cd "$(dirname "$0")/../statements/fuzz"
seconds="${1:-60}"
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
for target in camt053 cnab240 onec csv; do
    mkdir -p "corpus/$target"
    echo "== $target for ${seconds}s"
    cargo +nightly fuzz run "$target" "corpus/$target" "seeds/$target" -- \
        -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=1024 -timeout=5
done
