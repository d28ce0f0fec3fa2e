//! Live events and meter readings.
//!
//! `events` is the transactional outbox: a change and its event commit together.
//! Each organisation numbers its events 1, 2, 3, … without gaps, in commit order
//! (the counter row in `event_heads` is locked until the writing transaction ends),
//! so a client that saw event n resumes with n + 1 and nothing in between was
//! skipped. `published_at` was set by the relay that hands the event to the bus
//! (replaced by one cursor per organisation in m20261129_000001_event_relay).
//!
//! `readings` keeps every meter reading with its source and author; a staff
//! correction adds a new row and marks the corrected one `superseded`.
//! `reading_settings` holds the submission window and the review factor of an
//! organisation (id = the organisation's, house_id NULL) or of one house (id =
//! the house's). `meters.digits` is the number
//! of whole digits of a meter's register: it rolls over to zero at 10^digits.

use sea_orm_migration::prelude::*;

use crate::run_ddl;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261128_000001_events_readings"
    }
}

const UP: &str = r#"
CREATE TABLE event_heads (
    organisation_id {uuid} PRIMARY KEY,
    seq BIGINT NOT NULL
) {without_rowid};
CREATE TABLE events (
    organisation_id {uuid} NOT NULL,
    seq BIGINT NOT NULL,
    topic TEXT NOT NULL,
    house_id {uuid},
    premises_id {uuid},
    account_id {uuid},
    object_id {uuid},
    payload TEXT NOT NULL,
    created_at {ts} NOT NULL,
    published_at {ts},
    PRIMARY KEY (organisation_id, seq)
) {without_rowid};
CREATE INDEX events_unpublished ON events (organisation_id, seq) WHERE published_at IS NULL;
CREATE INDEX events_created ON events (created_at);
ALTER TABLE meters ADD COLUMN digits INTEGER;
CREATE TABLE readings (
    id {uuid} PRIMARY KEY,
    organisation_id {uuid} NOT NULL,
    house_id {uuid} NOT NULL,
    premises_id {uuid},
    meter_id {uuid} NOT NULL,
    taken_on {date} NOT NULL,
    value1_micro BIGINT NOT NULL,
    value2_micro BIGINT,
    value3_micro BIGINT,
    source TEXT NOT NULL,
    author_id {uuid},
    author_name TEXT NOT NULL,
    status TEXT NOT NULL,
    flagged {bool} NOT NULL,
    flag_reason TEXT,
    rollover {bool} NOT NULL,
    corrects {uuid},
    reason TEXT,
    reviewed_by {uuid},
    reviewed_at {ts},
    created_at {ts} NOT NULL
) {without_rowid};
CREATE INDEX readings_meter ON readings (meter_id, taken_on, created_at);
CREATE INDEX readings_feed ON readings (organisation_id, created_at);
CREATE INDEX readings_review ON readings (organisation_id, flagged, created_at);
CREATE TABLE reading_settings (
    id {uuid} PRIMARY KEY,
    organisation_id {uuid} NOT NULL,
    house_id {uuid},
    window_from INTEGER,
    window_to INTEGER,
    flag_factor_pct INTEGER,
    average_readings INTEGER,
    updated_at {ts} NOT NULL
) {without_rowid}
"#;

const DOWN: &str = r#"
DROP TABLE reading_settings;
DROP TABLE readings;
ALTER TABLE meters DROP COLUMN digits;
DROP TABLE events;
DROP TABLE event_heads
"#;

/// Tenant tables of this migration for row-level security (see m20261127_000002_tenancy).
const TENANT_TABLES: [&str; 4] = ["event_heads", "events", "readings", "reading_settings"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_ddl(manager, UP).await?;
        crate::tenant_tables(manager, &TENANT_TABLES.map(|t| (t, "organisation_id"))).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_ddl(manager, DOWN).await
    }
}
