//! One end-to-end test binary: the real server on a random port over a fresh
//! database (SQLite file or a new PostgreSQL database), real HTTP clients.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

mod access;
mod audit;
mod billing;
mod billing_common;
mod billing_missing;
mod billing_run;
mod complaints;
mod debtors;
mod events;
mod failures;
mod files;
mod hardening;
mod http;
mod import;
mod paid_services;
mod payments;
mod readings;
mod registry;
mod search;
mod sessions;
mod statements;
mod tasks;
mod ws;
