//! Anchors: each organisation's chain head, checkpointed every day and at
//! each period close, with a MAC (HMAC-SHA256) under a key kept outside the
//! database (the `audit_key` setting).
//!
//! The hash chain alone proves that no row inside it was changed or removed;
//! someone who can write the database could still cut its tail and move the
//! head back. A checkpoint remembers an entry's number and hash, and its MAC
//! covers them and the previous checkpoint's MAC: without the key nobody can
//! write a checkpoint that verifies, nor take one out of the middle. Cutting
//! the tail and the checkpoints after it leaves the last checkpoint older than
//! a day, which `audit verify` reports.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Statement};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::auth::sessions::hex;

/// The key checkpoints are signed with; never logged, never in the database.
#[derive(Clone)]
pub struct AuditKey(Vec<u8>);

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditKey(***)")
    }
}

impl AuditKey {
    /// A key from its text: at least 32 characters.
    pub fn new(text: &str) -> Result<AuditKey, String> {
        if text.chars().count() < 32 {
            return Err("the audit key must be at least 32 characters long".into());
        }
        Ok(AuditKey(text.as_bytes().to_vec()))
    }

    fn mac(&self, message: &[u8]) -> String {
        hex(&hmac_sha256(&self.0, message))
    }

    /// The MAC of a checkpoint of `org` at entry `seq` with `hash`, after the
    /// checkpoint whose MAC is `previous` (empty for the first).
    pub fn checkpoint_mac(&self, org: Uuid, seq: i64, hash: &str, previous: &str) -> String {
        self.mac(format!("{org}|{seq}|{hash}|{previous}").as_bytes())
    }
}

/// HMAC-SHA256 (RFC 2104).
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(message);
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// A checkpoint as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub seq: i64,
    pub hash: String,
    pub mac: String,
    pub reason: String,
    pub created_at: DateTime<Utc>,
}

/// An organisation's checkpoints, oldest first.
pub async fn checkpoints<C: ConnectionTrait>(
    conn: &C,
    org: Uuid,
) -> Result<Vec<Checkpoint>, DbErr> {
    let backend = conn.get_database_backend();
    let rows = conn
        .query_all_raw(crate::bulk::statement(
            backend,
            "SELECT seq, hash, mac, reason, created_at FROM audit_checkpoints \
                 WHERE organisation_id = ? ORDER BY seq",
            vec![org.into()],
        ))
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Checkpoint {
                seq: r.try_get("", "seq")?,
                hash: r.try_get("", "hash")?,
                mac: r.try_get("", "mac")?,
                reason: r.try_get("", "reason")?,
                created_at: r.try_get("", "created_at")?,
            })
        })
        .collect()
}

/// Checkpoints `org`'s chain head now, unless the last checkpoint already
/// holds it; the entry number checkpointed, if any.
pub async fn checkpoint(
    db: &DatabaseConnection,
    key: &AuditKey,
    org: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Option<i64>, DbErr> {
    let backend = db.get_database_backend();
    let head = db
        .query_one_raw(crate::bulk::statement(
            backend,
            "SELECT seq, hash FROM audit_heads WHERE organisation_id = ?",
            vec![org.into()],
        ))
        .await?;
    let Some(head) = head else { return Ok(None) };
    let (seq, hash): (i64, String) = (head.try_get("", "seq")?, head.try_get("", "hash")?);
    let last = checkpoints(db, org).await?.pop();
    if seq == 0 || last.as_ref().is_some_and(|c| c.seq >= seq) {
        return Ok(None);
    }
    let mac = key.checkpoint_mac(org, seq, &hash, last.as_ref().map_or("", |c| &c.mac));
    db.execute_raw(crate::bulk::statement(
        backend,
        "INSERT INTO audit_checkpoints (organisation_id, seq, hash, mac, reason, created_at) \
             VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (organisation_id, seq) DO NOTHING",
        vec![
            org.into(),
            seq.into(),
            hash.into(),
            mac.into(),
            reason.into(),
            now.trunc_subsecs(6).into(),
        ],
    ))
    .await?;
    Ok(Some(seq))
}

/// The daily checkpoint: every organisation whose last checkpoint is a day
/// old (or that has none) and whose chain grew since. How many were written.
pub async fn checkpoint_due(
    db: &DatabaseConnection,
    key: &AuditKey,
    now: DateTime<Utc>,
) -> Result<usize, DbErr> {
    let backend = db.get_database_backend();
    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT h.organisation_id, (SELECT MAX(c.created_at) FROM audit_checkpoints c \
             WHERE c.organisation_id = h.organisation_id) AS last FROM audit_heads h",
        ))
        .await?;
    let mut written = 0;
    for row in rows {
        let org: Uuid = row.try_get("", "organisation_id")?;
        let last: Option<DateTime<Utc>> = row.try_get("", "last")?;
        if last.is_some_and(|l| now - l < Duration::days(1)) {
            continue;
        }
        if checkpoint(db, key, org, "daily", now).await?.is_some() {
            written += 1;
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_test_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn a_long_key_is_hashed_first_as_the_rfc_says() {
        let key = [0xaau8; 131];
        let mac = hmac_sha256(
            &key,
            b"Test Using Larger Than Block-Size Key - Hash Key First",
        );
        assert_eq!(
            hex(&mac),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn a_short_key_is_refused_and_a_checkpoint_mac_depends_on_everything() {
        assert!(AuditKey::new("short").is_err());
        let key = AuditKey::new("0123456789abcdef0123456789abcdef").unwrap();
        let org = Uuid::nil();
        let one = key.checkpoint_mac(org, 5, "aa", "");
        assert_ne!(one, key.checkpoint_mac(org, 6, "aa", ""));
        assert_ne!(one, key.checkpoint_mac(org, 5, "ab", ""));
        assert_ne!(one, key.checkpoint_mac(org, 5, "aa", "x"));
        let other = AuditKey::new("0123456789abcdef0123456789abcdeX").unwrap();
        assert_ne!(one, other.checkpoint_mac(org, 5, "aa", ""));
        assert_eq!(format!("{key:?}"), "AuditKey(***)");
    }
}
