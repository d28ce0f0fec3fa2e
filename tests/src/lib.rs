//! End-to-end tests live in `tests/e2e`: the real server on a random port, real
//! HTTP clients, SQLite and PostgreSQL.
