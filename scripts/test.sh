#!/usr/bin/env bash
# The whole test suite: unit tests, end-to-end tests on SQLite and PostgreSQL (a
# fresh database per test), and the browser test in headless Chromium.
#
# It starts PostgreSQL and Redis when they are installed but stopped, installs
# what a fresh machine lacks (PostgreSQL, Redis, aiosmtpd, moto, zbar-tools, poppler-utils, Chromium, Node.js,
# playwright-core) when it runs as root, and otherwise fails with a clear
# message. It never skips a part silently.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_URL="${KVARTAL_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres}"
export KVARTAL_TEST_POSTGRES="$PG_URL"

say() { printf '\n== %s\n' "$*"; }
die() { printf 'scripts/test.sh: %s\n' "$*" >&2; exit 1; }
as_root() { [ "$(id -u)" = 0 ]; }

apt_install() {
  as_root || die "missing $*; install it (apt-get install $*) or run as root"
  if [ -z "${APT_UPDATED:-}" ]; then apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

pg_ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

ensure_postgres() {
  command -v pg_isready >/dev/null || apt_install postgresql postgresql-client
  if ! pg_ready; then
    say "starting PostgreSQL"
    if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    fi
    for _ in $(seq 1 30); do pg_ready && break; sleep 1; done
  fi
  pg_ready || die "PostgreSQL is not reachable at 127.0.0.1:5432 and could not be started (see README: Tests)"
  # Trust authentication for the tests' user, as on the development machines.
  psql "$PG_URL" -qAtc "SELECT 1" >/dev/null 2>&1 \
    || die "cannot connect to $PG_URL (the tests need a user that may create databases)"
  # Databases left by an interrupted earlier run.
  psql "$PG_URL" -qAtc "SELECT datname FROM pg_database WHERE datname LIKE 'kvartal\_test\_%'" | while read -r db; do
    [ -n "$db" ] && psql "$PG_URL" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null
  done
}

redis_ready() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

# The PostgreSQL runs keep sessions and attempt counters in a real Redis.
ensure_redis() {
  command -v redis-server >/dev/null || apt_install redis-server
  command -v redis-cli >/dev/null || apt_install redis-tools
  if ! redis_ready; then
    say "starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
    for _ in $(seq 1 30); do redis_ready && break; sleep 1; done
  fi
  redis_ready || die "Redis is not reachable at 127.0.0.1:6379 and could not be started"
}

# Sign-in codes are sent through a real SMTP server on loopback (aiosmtpd).
ensure_smtp() {
  command -v python3 >/dev/null || apt_install python3
  python3 -c 'import aiosmtpd' 2>/dev/null && return
  say "installing aiosmtpd"
  python3 -m pip install -q aiosmtpd 2>/dev/null || apt_install python3-aiosmtpd
  python3 -c 'import aiosmtpd' || die "python3 cannot import aiosmtpd"
}

# Receipts' QR codes are read back with a decoder of its own (zbarimg), from
# the receipt's PDF rendered to an image (pdftoppm); its text is read with
# pdftotext and its pages counted with pdfinfo (poppler-utils).
ensure_qr_decoder() {
  command -v zbarimg >/dev/null || { say "installing zbar-tools"; apt_install zbar-tools; }
  { command -v pdftoppm && command -v pdftotext && command -v pdfinfo; } >/dev/null \
    || { say "installing poppler-utils"; apt_install poppler-utils; }
}

ensure_browser() {
  [ -x /usr/bin/chromium ] || { say "installing Chromium"; apt_install chromium; }
  command -v node >/dev/null || { say "installing Node.js"; apt_install nodejs npm; }
  if [ ! -d web/tests/node_modules/playwright-core ] || [ web/tests/package-lock.json -nt web/tests/node_modules ]; then
    say "installing playwright-core (no browser download)"
    (cd web/tests && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent)
  fi
}

# Attachments in an S3-compatible store are tested against moto's S3 server.
ensure_s3() {
  command -v moto_server >/dev/null && return
  say "installing moto (an S3-compatible server for the tests)"
  python3 -m pip install -q 'moto[server]==5.1.*' || die "pip cannot install moto[server]"
  command -v moto_server >/dev/null || die "moto_server is not on PATH after pip install"
}

ensure_postgres
ensure_redis
ensure_smtp
ensure_s3
ensure_qr_decoder
ensure_browser

say "building"
cargo build --workspace --all-targets --quiet

say "unit and end-to-end tests (SQLite and PostgreSQL)"
cargo test --workspace --quiet

say "tests that run alone: failing storage (a tmpfs that fills up, an ext4 image that turns read-only; needs root) and timing"
if as_root; then
  { command -v mkfs.ext4 && command -v e2fsck; } >/dev/null || apt_install e2fsprogs
  { command -v losetup && command -v findmnt; } >/dev/null || apt_install mount util-linux
  bash scripts/isolated.sh
else
  die "the failing-storage tests mount file systems and need root: run scripts/isolated.sh as root"
fi

say "browser tests (headless Chromium)"
KVARTAL_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/kvartal" node --test web/tests/
