//! Checks an organisation's chain: numbers from 1 without gaps, each row's
//! `prev_hash` equal to the previous row's hash, each hash equal to the hash of
//! the row's content, the head pointing at the last row, and every checkpoint
//! (see `anchors`) genuine and matching the chain.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use entities::{audit_entry, audit_head};
use futures_util::TryStreamExt;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    Statement,
};
use uuid::Uuid;

use super::anchors::{checkpoints, AuditKey};
use super::{row_hash, GENESIS};
use crate::error::AppResult;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    pub organisation_id: Uuid,
    pub entries: u64,
    /// The first row (by number) where the chain breaks, and why.
    pub broken: Option<(i64, String)>,
    /// Checkpoints found (and checked, with the key).
    pub checkpoints: usize,
    /// What is not wrong but worth knowing: no key, a stale checkpoint.
    pub notes: Vec<String>,
}

impl ChainReport {
    pub fn ok(&self) -> bool {
        self.broken.is_none()
    }
}

pub async fn verify_chain(
    db: &DatabaseConnection,
    organisation_id: Uuid,
    key: Option<&AuditKey>,
    now: DateTime<Utc>,
) -> AppResult<ChainReport> {
    let anchors = checkpoints(db, organisation_id).await?;
    let mut report = ChainReport {
        organisation_id,
        entries: 0,
        broken: None,
        checkpoints: anchors.len(),
        notes: Vec::new(),
    };
    // The checkpoints themselves: genuine, each after the one before.
    match key {
        Some(key) => {
            let mut previous = String::new();
            for c in &anchors {
                if key.checkpoint_mac(organisation_id, c.seq, &c.hash, &previous) != c.mac {
                    report.broken = Some((
                        c.seq,
                        format!(
                            "the checkpoint of {} at entry {} is not genuine (its MAC does not match the key), or one before it was removed",
                            c.created_at.format("%Y-%m-%d %H:%M UTC"),
                            c.seq
                        ),
                    ));
                    return Ok(report);
                }
                previous = c.mac.clone();
            }
        }
        None if !anchors.is_empty() => report
            .notes
            .push("no audit key is set: the checkpoints' MACs were not checked".into()),
        None => {}
    }
    let mut rows = audit_entry::Entity::find()
        .filter(audit_entry::Column::OrganisationId.eq(organisation_id))
        .order_by_asc(audit_entry::Column::Seq)
        .stream(db)
        .await?;
    let mut expected_seq = 1i64;
    let mut prev = GENESIS.to_string();
    let mut anchor = anchors.iter().peekable();
    loop {
        let row = match rows.try_next().await {
            Ok(Some(row)) => row,
            Ok(None) => break,
            Err(e) => {
                report.entries += 1;
                report.broken.get_or_insert((
                    expected_seq,
                    format!("entry {expected_seq} (or the one after it) cannot be read: {e}"),
                ));
                break;
            }
        };
        report.entries += 1;
        if report.broken.is_some() {
            continue;
        }
        if row.seq != expected_seq {
            report.broken = Some((
                expected_seq,
                format!("entry {expected_seq} is missing (next is {})", row.seq),
            ));
        } else if row.prev_hash != prev {
            report.broken = Some((row.seq, "does not follow the previous entry".into()));
        } else if row_hash(&row) != row.hash {
            report.broken = Some((row.seq, "its content was changed".into()));
        }
        while let Some(c) = anchor.next_if(|c| c.seq <= row.seq) {
            if report.broken.is_none() && (c.seq != row.seq || c.hash != row.hash) {
                report.broken = Some((
                    c.seq,
                    format!(
                        "entry {} is not the one checkpointed on {}",
                        c.seq,
                        c.created_at.format("%Y-%m-%d %H:%M UTC")
                    ),
                ));
            }
        }
        prev = row.hash;
        expected_seq = row.seq + 1;
    }
    drop(rows);
    if report.broken.is_none() {
        if let Some(c) = anchor.next() {
            report.broken = Some((
                expected_seq,
                format!(
                    "entries after {} were removed: the checkpoint of {} saw entry {}",
                    expected_seq - 1,
                    c.created_at.format("%Y-%m-%d %H:%M UTC"),
                    c.seq
                ),
            ));
        }
    }
    if report.broken.is_none() {
        let head = audit_head::Entity::find_by_id(organisation_id)
            .one(db)
            .await?;
        match head {
            None if report.entries > 0 => {
                report.broken = Some((
                    expected_seq - 1,
                    "the chain's head is missing (the audit_heads row was removed)".into(),
                ))
            }
            None => {}
            Some(h) if h.seq != expected_seq - 1 || h.hash != prev => {
                report.broken = Some((
                    expected_seq,
                    format!(
                        "entries after {} were removed (the head is at {})",
                        expected_seq - 1,
                        h.seq
                    ),
                ))
            }
            Some(_) => {}
        }
    }
    if report.broken.is_none() && report.entries == 0 {
        report.broken = Some((
            1,
            "the organisation has no audit log (its chain was removed)".into(),
        ));
    }
    if let Some(last) = anchors.last() {
        if now - last.created_at > Duration::days(2) {
            report.notes.push(format!(
                "the last checkpoint is from {}: checkpoints are made daily",
                last.created_at.format("%Y-%m-%d")
            ));
        }
    }
    Ok(report)
}

/// Every organisation: those of the organisations table, and any the audit
/// log, its heads or its checkpoints name (an organisation removed without
/// its log is checked too).
pub async fn verify_all(
    db: &DatabaseConnection,
    key: Option<&AuditKey>,
    now: DateTime<Utc>,
) -> AppResult<Vec<ChainReport>> {
    let backend = db.get_database_backend();
    let mut orgs = BTreeSet::new();
    for table in [
        "SELECT id AS organisation_id FROM organisations",
        "SELECT organisation_id FROM audit_heads",
        "SELECT DISTINCT organisation_id FROM audit_log",
        "SELECT DISTINCT organisation_id FROM audit_checkpoints",
    ] {
        let rows = db
            .query_all_raw(Statement::from_string(backend, table))
            .await?;
        for r in rows {
            orgs.insert(r.try_get::<Uuid>("", "organisation_id")?);
        }
    }
    let mut out = Vec::with_capacity(orgs.len());
    for org in orgs {
        out.push(verify_chain(db, org, key, now).await?);
    }
    Ok(out)
}
