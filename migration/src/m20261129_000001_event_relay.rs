//! The relay keeps one cursor per organisation instead of marking each event.
//!
//! Events are numbered without gaps in commit order, so "everything up to n has
//! been handed to the bus" is one number: `event_relay.published`. A relay round
//! advances it with one write per organisation, where marking `published_at`
//! on every event cost an update of the row and its indexes per event. The
//! column and its partial index go; the cursor starts where the marks left off
//! (below the first unmarked event).

use sea_orm_migration::prelude::*;

use crate::run_ddl;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000001_event_relay"
    }
}

const UP: &str = r#"
CREATE TABLE event_relay (
    organisation_id {uuid} PRIMARY KEY,
    published BIGINT NOT NULL,
    published_at {ts}
) {without_rowid};
INSERT INTO event_relay (organisation_id, published)
    SELECT e.organisation_id,
           COALESCE((SELECT MIN(u.seq) - 1 FROM events u
                     WHERE u.organisation_id = e.organisation_id AND u.published_at IS NULL),
                    MAX(e.seq))
    FROM events e GROUP BY e.organisation_id;
DROP INDEX events_unpublished;
ALTER TABLE events DROP COLUMN published_at
"#;

const DOWN: &str = r#"
ALTER TABLE events ADD COLUMN published_at {ts};
CREATE INDEX events_unpublished ON events (organisation_id, seq) WHERE published_at IS NULL;
DROP TABLE event_relay
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_ddl(manager, UP).await?;
        crate::tenant_tables(manager, &[("event_relay", "organisation_id")]).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_ddl(manager, DOWN).await
    }
}
