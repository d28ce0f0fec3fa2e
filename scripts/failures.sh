#!/usr/bin/env bash
# Failing storage, tested destructively: the SQLite database on a small tmpfs
# that fills up (tests/tests/e2e/failures.rs). Mounting needs root; run by
# scripts/test.sh. Every test it runs is marked #[ignore], so a plain
# `cargo test` skips them.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "scripts/failures.sh: needs root (it mounts a tmpfs)" >&2; exit 1; }
cargo test --quiet -p kvartal-tests --test e2e -- --ignored failures::
