//! The audit log: every mutation writes, in its own transaction, who did what to
//! which object, with the changed fields before and after.
//!
//! Invariants: rows are append-only (database triggers refuse UPDATE and DELETE);
//! each organisation's rows form a chain, numbered from 1 without gaps, where each
//! row's hash covers its content and the previous row's hash, and `audit_heads`
//! holds the last number and hash. Writers serialise per organisation on the head
//! row, so the chain never forks.

pub mod anchors;
pub mod query;
pub mod read;
mod verify;

use std::sync::Arc;

use chrono::{DateTime, SubsecRound, Utc};
use entities::audit_entry;
use sea_orm::{ConnectionTrait, DbErr, Statement};
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::auth::policy::Target;
use crate::auth::principal::Principal;
use crate::error::AppResult;

pub use anchors::AuditKey;
pub use verify::{verify_all, verify_chain, ChainReport};

/// The hash a chain starts from.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Where a request came from, for the audit log and the sessions list.
#[derive(Clone, Debug, Default)]
pub struct RequestMeta {
    pub request_id: String,
    pub address: String,
    pub user_agent: String,
}

/// The caller of one operation: who, from where, doing what.
#[derive(Clone, Debug)]
pub struct Author {
    pub principal: Arc<Principal>,
    pub request: RequestMeta,
    /// `Mutation.updateHouse`, as named in the access matrix.
    pub operation: &'static str,
}

impl Author {
    pub fn new(principal: Arc<Principal>, request: RequestMeta, operation: &'static str) -> Self {
        Self {
            principal,
            request,
            operation,
        }
    }

    /// The server itself (command line, demo), with every right.
    pub fn system(what: &str, operation: &'static str) -> Self {
        Self::new(
            Arc::new(Principal::system(what)),
            RequestMeta {
                request_id: Uuid::now_v7().to_string(),
                address: "local".into(),
                user_agent: String::new(),
            },
            operation,
        )
    }

    /// Asks the policy whether this operation may touch `target`.
    pub fn check(&self, target: Target<'_>) -> AppResult<()> {
        self.principal.check(self.operation, target)
    }

    /// The short name of the operation, as the log shows it (`updateHouse`).
    pub fn operation_name(&self) -> &'static str {
        self.operation
            .split_once('.')
            .map_or(self.operation, |(_, n)| n)
    }
}

/// Fields never worth logging: bookkeeping and derived search keys.
fn skipped(field: &str) -> bool {
    matches!(
        field,
        "created_at" | "updated_at" | "organisation_id" | "natural_key"
    ) || field.ends_with("_key")
        || field == "password_hash"
        || field == "code_hash"
}

/// `{"before": {...}, "after": {...}}` with only the fields that differ; a
/// creation has no `before`, a removal no `after`.
pub fn diff<T: Serialize>(before: Option<&T>, after: Option<&T>) -> Value {
    let as_map = |v: Option<&T>| -> Map<String, Value> {
        match v.map(serde_json::to_value) {
            Some(Ok(Value::Object(m))) => m,
            _ => Map::new(),
        }
    };
    let (b, a) = (as_map(before), as_map(after));
    let mut out_b = Map::new();
    let mut out_a = Map::new();
    let keys: Vec<&String> = b
        .keys()
        .chain(a.keys().filter(|k| !b.contains_key(*k)))
        .collect();
    for key in keys {
        if skipped(key) {
            continue;
        }
        let (vb, va) = (b.get(key), a.get(key));
        if vb != va {
            if let Some(v) = vb {
                out_b.insert(key.clone(), v.clone());
            }
            if let Some(v) = va {
                out_a.insert(key.clone(), v.clone());
            }
        }
    }
    let mut out = Map::new();
    if before.is_some() {
        out.insert("before".into(), Value::Object(out_b));
    }
    if after.is_some() {
        out.insert("after".into(), Value::Object(out_a));
    }
    Value::Object(out)
}

/// The content a row's hash covers, in a fixed order.
pub(crate) fn row_hash(m: &audit_entry::Model) -> String {
    let content = serde_json::json!([
        m.organisation_id,
        m.seq,
        m.id,
        m.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        m.user_id,
        m.user_email,
        m.roles,
        m.operation,
        m.object_type,
        m.object_id,
        m.changes,
        m.request_id,
        m.client_address,
        m.prev_hash,
    ]);
    let digest = Sha256::digest(content.to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The row that follows `(last_seq, prev_hash)` in an organisation's chain.
#[allow(clippy::too_many_arguments)]
fn next_entry(
    by: &Author,
    organisation_id: Uuid,
    object_type: &str,
    object_id: Option<Uuid>,
    changes: Value,
    at: DateTime<Utc>,
    last_seq: i64,
    prev_hash: String,
) -> audit_entry::Model {
    let principal = &by.principal;
    let mut model = audit_entry::Model {
        organisation_id,
        seq: last_seq + 1,
        id: Uuid::now_v7(),
        at: at.trunc_subsecs(6),
        user_id: (!principal.system).then_some(principal.user_id),
        user_email: principal.email.clone(),
        roles: principal.roles_in(organisation_id),
        operation: by.operation_name().to_string(),
        object_type: object_type.to_string(),
        object_id,
        changes: changes.to_string(),
        request_id: by.request.request_id.clone(),
        client_address: by.request.address.clone(),
        prev_hash,
        hash: String::new(),
    };
    model.hash = row_hash(&model);
    model
}

const INSERT_HEAD: &str = "INSERT INTO audit_heads (organisation_id, seq, hash) VALUES (?, 0, ?) ON CONFLICT (organisation_id) DO NOTHING";
const UPDATE_HEAD: &str = "UPDATE audit_heads SET seq = ?, hash = ? WHERE organisation_id = ?";
const LOCK_HEAD: &str = "INSERT INTO audit_heads (organisation_id, seq, hash) VALUES (?, 0, ?) \
     ON CONFLICT (organisation_id) DO UPDATE SET seq = audit_heads.seq RETURNING seq, hash";
const INSERT_ENTRY: &str = "INSERT INTO audit_log (organisation_id, seq, id, at, user_id, user_email, roles, operation, object_type, object_id, changes, request_id, client_address, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

fn head_query(backend: sea_orm::DatabaseBackend) -> &'static str {
    // FOR UPDATE: writers of one organisation queue here until the first commits.
    match backend {
        sea_orm::DatabaseBackend::Postgres => {
            "SELECT seq, hash FROM audit_heads WHERE organisation_id = ? FOR UPDATE"
        }
        _ => "SELECT seq, hash FROM audit_heads WHERE organisation_id = ?",
    }
}

fn numbered(backend: sea_orm::DatabaseBackend, sql: &str) -> String {
    if backend == sea_orm::DatabaseBackend::Postgres {
        crate::bulk::numbered(sql)
    } else {
        sql.to_string()
    }
}

/// Appends one row to the organisation's chain inside the caller's transaction.
pub async fn record<C: ConnectionTrait>(
    conn: &C,
    by: &Author,
    organisation_id: Uuid,
    object_type: &str,
    object_id: Option<Uuid>,
    changes: Value,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    record_with(
        conn,
        by,
        organisation_id,
        object_type,
        object_id,
        changes,
        at,
        None,
        vec![],
    )
    .await
    .map(|_| ())
}

/// The values of an entry, in `INSERT_ENTRY`'s order.
fn entry_values(m: audit_entry::Model) -> [sea_orm::Value; 15] {
    [
        m.organisation_id.into(),
        m.seq.into(),
        m.id.into(),
        m.at.into(),
        m.user_id.into(),
        m.user_email.into(),
        m.roles.into(),
        m.operation.into(),
        m.object_type.into(),
        m.object_id.into(),
        m.changes.into(),
        m.request_id.into(),
        m.client_address.into(),
        m.prev_hash.into(),
        m.hash.into(),
    ]
}

pub async fn record_bulk(
    tx: &mut crate::bulk::BulkTx,
    by: &Author,
    organisation_id: Uuid,
    object_type: &str,
    object_id: Option<Uuid>,
    changes: Value,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    use crate::bulk::Cell;
    tx.execute(
        INSERT_HEAD,
        vec![
            Cell::Uuid(Some(organisation_id)),
            Cell::Text(GENESIS.into()),
        ],
    )
    .await?;
    let (last_seq, prev_hash) = tx
        .fetch_pair(head_query(tx.backend()), organisation_id)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("audit head".into()))?;
    let m = next_entry(
        by,
        organisation_id,
        object_type,
        object_id,
        changes,
        at,
        last_seq,
        prev_hash,
    );
    tx.execute(
        UPDATE_HEAD,
        vec![
            Cell::BigInt(Some(m.seq)),
            Cell::Text(m.hash.clone()),
            Cell::Uuid(Some(organisation_id)),
        ],
    )
    .await?;
    tx.execute(
        INSERT_ENTRY,
        vec![
            Cell::Uuid(Some(m.organisation_id)),
            Cell::BigInt(Some(m.seq)),
            Cell::Uuid(Some(m.id)),
            Cell::Timestamp(m.at),
            Cell::Uuid(m.user_id),
            Cell::Text(m.user_email),
            Cell::Text(m.roles),
            Cell::Text(m.operation),
            Cell::Text(m.object_type),
            Cell::Uuid(m.object_id),
            Cell::Text(m.changes),
            Cell::Text(m.request_id),
            Cell::Text(m.client_address),
            Cell::Text(m.prev_hash),
            Cell::Text(m.hash),
        ],
    )
    .await?;
    Ok(())
}

/// One entry of [`record_many`]: who changed which object, and how.
pub struct Entry<'a> {
    pub by: &'a Author,
    pub object_type: &'a str,
    pub object_id: Option<Uuid>,
    pub changes: Value,
}

/// A change, its audit entry and its events, written together (see [`record_many`]).
#[allow(clippy::too_many_arguments)]
pub async fn record_with<C: ConnectionTrait>(
    conn: &C,
    by: &Author,
    organisation_id: Uuid,
    object_type: &str,
    object_id: Option<Uuid>,
    changes: Value,
    at: DateTime<Utc>,
    change: Option<(String, Vec<sea_orm::Value>)>,
    events: Vec<crate::events::NewEvent>,
) -> Result<Vec<crate::events::Event>, DbErr> {
    record_many(
        conn,
        organisation_id,
        vec![Entry {
            by,
            object_type,
            object_id,
            changes,
        }],
        at,
        change,
        events,
    )
    .await
}

/// Changes of one organisation, their audit entries (in order, chained) and
/// their events, written together. The head is locked and read in one round
/// trip (until the transaction ends); then on PostgreSQL `change` (one INSERT
/// or UPDATE with `?` placeholders), the head, the entries and the events go in
/// one statement, elsewhere one after the other. Returns the events as
/// written, numbered in the order given.
pub async fn record_many<C: ConnectionTrait>(
    conn: &C,
    organisation_id: Uuid,
    entries: Vec<Entry<'_>>,
    at: DateTime<Utc>,
    change: Option<(String, Vec<sea_orm::Value>)>,
    events: Vec<crate::events::NewEvent>,
) -> Result<Vec<crate::events::Event>, DbErr> {
    let backend = conn.get_database_backend();
    let postgres = backend == sea_orm::DatabaseBackend::Postgres;
    if let (false, Some((sql, values))) = (postgres, &change) {
        conn.execute_raw(Statement::from_sql_and_values(
            backend,
            sql.as_str(),
            values.clone(),
        ))
        .await?;
    }
    let head = conn
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            numbered(backend, LOCK_HEAD),
            [organisation_id.into(), GENESIS.into()],
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("audit head".into()))?;
    let (mut seq, mut hash): (i64, String) = (head.try_get("", "seq")?, head.try_get("", "hash")?);
    let mut models = Vec::with_capacity(entries.len());
    for e in entries {
        let m = next_entry(
            e.by,
            organisation_id,
            e.object_type,
            e.object_id,
            e.changes,
            at,
            seq,
            hash,
        );
        (seq, hash) = (m.seq, m.hash.clone());
        models.push(m);
    }
    if !postgres {
        conn.execute_raw(Statement::from_sql_and_values(
            backend,
            UPDATE_HEAD,
            [seq.into(), hash.into(), organisation_id.into()],
        ))
        .await?;
        for m in models {
            conn.execute_raw(Statement::from_sql_and_values(
                backend,
                INSERT_ENTRY,
                entry_values(m),
            ))
            .await?;
        }
        let mut out = Vec::with_capacity(events.len());
        for e in events {
            out.push(crate::events::emit(conn, e, at).await?);
        }
        return Ok(out);
    }
    let at = at.trunc_subsecs(6);
    let mut sql = String::from("WITH ");
    let mut values = Vec::new();
    if let Some((change, change_values)) = change {
        sql.push_str(&format!("c AS ({change}), "));
        values.extend(change_values);
    }
    sql.push_str("h AS (UPDATE audit_heads SET seq = ?, hash = ? WHERE organisation_id = ?), ");
    values.extend([seq.into(), hash.into(), organisation_id.into()]);
    let row = &INSERT_ENTRY[INSERT_ENTRY.find("(?").unwrap_or(INSERT_ENTRY.len())..];
    sql.push_str("a AS (");
    sql.push_str(&INSERT_ENTRY[..INSERT_ENTRY.len() - row.len()]);
    for (k, m) in models.into_iter().enumerate() {
        if k > 0 {
            sql.push_str(", ");
        }
        sql.push_str(row);
        values.extend(entry_values(m));
    }
    sql.push(')');
    let n = events.len() as i64;
    if events.is_empty() {
        sql.push_str(" SELECT 0 AS seq");
    } else {
        sql.push_str(", eh AS (INSERT INTO event_heads (organisation_id, seq) VALUES (?, ?) ON CONFLICT (organisation_id) DO UPDATE SET seq = event_heads.seq + EXCLUDED.seq RETURNING seq) ");
        values.extend([organisation_id.into(), n.into()]);
        sql.push_str("INSERT INTO events (organisation_id, seq, topic, house_id, premises_id, account_id, object_id, payload, created_at) \
             SELECT e.organisation_id, eh.seq - ? + e.k, e.topic, e.house_id, e.premises_id, e.account_id, e.object_id, e.payload, e.created_at FROM eh, (VALUES ");
        values.push(n.into());
        for (k, e) in events.iter().enumerate() {
            if k > 0 {
                sql.push_str(", ");
            }
            sql.push_str("(?::uuid, ?::bigint, ?::text, ?::uuid, ?::uuid, ?::uuid, ?::uuid, ?::text, ?::timestamptz)");
            values.extend([
                e.organisation_id.into(),
                (k as i64 + 1).into(),
                e.topic.into(),
                e.house_id.into(),
                e.premises_id.into(),
                e.account_id.into(),
                e.object_id.into(),
                e.payload.to_string().into(),
                at.into(),
            ]);
        }
        sql.push_str(") AS e(organisation_id, k, topic, house_id, premises_id, account_id, object_id, payload, created_at) RETURNING seq");
    }
    let rows = conn
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            crate::bulk::numbered(&sql),
            values,
        ))
        .await?;
    // The events took the numbers head - n + 1 … head, in the order given.
    if n == 0 {
        return Ok(Vec::new());
    }
    let mut last = 0;
    for r in &rows {
        last = last.max(r.try_get::<i64>("", "seq")?);
    }
    if rows.len() as i64 != n {
        return Err(DbErr::RecordNotFound("event".into()));
    }
    Ok(events
        .into_iter()
        .enumerate()
        .map(|(k, e)| crate::events::Event::written(e, last - n + 1 + k as i64, at))
        .collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[derive(Serialize)]
    struct Row {
        id: u32,
        name: &'static str,
        area: &'static str,
        updated_at: &'static str,
    }

    #[test]
    fn a_diff_keeps_only_the_changed_fields() {
        let a = Row {
            id: 1,
            name: "a",
            area: "10",
            updated_at: "x",
        };
        let b = Row {
            id: 1,
            name: "b",
            area: "10",
            updated_at: "y",
        };
        let d = diff(Some(&a), Some(&b));
        assert_eq!(
            d,
            serde_json::json!({"before": {"name": "a"}, "after": {"name": "b"}})
        );
        let created = diff(None, Some(&a));
        assert_eq!(
            created,
            serde_json::json!({"after": {"id": 1, "name": "a", "area": "10"}})
        );
    }
}
