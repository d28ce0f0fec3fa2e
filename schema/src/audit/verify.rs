//! Checks an organisation's chain: numbers from 1 without gaps, each row's
//! `prev_hash` equal to the previous row's hash, each hash equal to the hash of
//! the row's content, and the head pointing at the last row.

use entities::{audit_entry, audit_head};
use futures_util::TryStreamExt;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::{row_hash, GENESIS};
use crate::error::AppResult;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    pub organisation_id: Uuid,
    pub entries: u64,
    /// The first row (by number) where the chain breaks, and why.
    pub broken: Option<(i64, String)>,
}

impl ChainReport {
    pub fn ok(&self) -> bool {
        self.broken.is_none()
    }
}

pub async fn verify_chain(
    db: &DatabaseConnection,
    organisation_id: Uuid,
) -> AppResult<ChainReport> {
    let mut rows = audit_entry::Entity::find()
        .filter(audit_entry::Column::OrganisationId.eq(organisation_id))
        .order_by_asc(audit_entry::Column::Seq)
        .stream(db)
        .await?;
    let mut expected_seq = 1i64;
    let mut prev = GENESIS.to_string();
    let mut entries = 0u64;
    let mut broken = None;
    while let Some(row) = rows.try_next().await? {
        entries += 1;
        if broken.is_some() {
            continue;
        }
        if row.seq != expected_seq {
            broken = Some((
                expected_seq,
                format!("entry {expected_seq} is missing (next is {})", row.seq),
            ));
        } else if row.prev_hash != prev {
            broken = Some((row.seq, "does not follow the previous entry".into()));
        } else if row_hash(&row) != row.hash {
            broken = Some((row.seq, "its content was changed".into()));
        }
        prev = row.hash;
        expected_seq = row.seq + 1;
    }
    drop(rows);
    if broken.is_none() {
        let head = audit_head::Entity::find_by_id(organisation_id)
            .one(db)
            .await?;
        let (head_seq, head_hash) = head.map_or((0, GENESIS.to_string()), |h| (h.seq, h.hash));
        if head_seq != expected_seq - 1 || head_hash != prev {
            broken = Some((
                expected_seq,
                format!(
                    "entries after {} were removed (the head is at {head_seq})",
                    expected_seq - 1
                ),
            ));
        }
    }
    Ok(ChainReport {
        organisation_id,
        entries,
        broken,
    })
}

/// Every organisation that has an audit log.
pub async fn verify_all(db: &DatabaseConnection) -> AppResult<Vec<ChainReport>> {
    let orgs: Vec<Uuid> = audit_head::Entity::find()
        .select_only()
        .column(audit_head::Column::OrganisationId)
        .order_by_asc(audit_head::Column::OrganisationId)
        .into_tuple()
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(orgs.len());
    for org in orgs {
        out.push(verify_chain(db, org).await?);
    }
    Ok(out)
}
