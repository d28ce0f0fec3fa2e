#!/usr/bin/env bash
# Tests that must run alone, one at a time, run by scripts/test.sh:
# - failing storage, tested destructively: the SQLite database on a small tmpfs
#   that fills up, and on an ext4 image the kernel makes read-only after a disk
#   error (tests/tests/e2e/failures.rs); mounting needs root;
# - measurements with nothing else running (tests/tests/e2e/hardening.rs):
#   /healthz within 5 ms (p99) while eight house PDFs render; the process's
#   memory flat through anonymous and oversized uploads.
# Every test it runs is marked #[ignore], so a plain `cargo test` skips them.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "scripts/isolated.sh: needs root (it mounts file systems)" >&2; exit 1; }
cargo test --quiet -p kvartal-tests --test e2e -- --ignored --test-threads=1
