//! Sessions: an opaque random token given to the client once; only its SHA-256 is
//! stored, in Redis when `REDIS_URL` is set and in the `sessions` table otherwise.
//! A session ends after an idle period or at its absolute expiry, whichever
//! comes first, or when its user logs out (here or everywhere).

use chrono::{DateTime, Duration, Utc};
use entities::session;
use redis::aio::ConnectionManager;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct SessionRecord {
    pub token_hash: String,
    pub user_id: Uuid,
    /// How the user proved who they are: password, email_code, passkey, join.
    pub method: String,
    pub address: String,
    pub user_agent: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// The absolute end.
    pub expires_at: DateTime<Utc>,
}

impl SessionRecord {
    /// When the session ends if unused from now on.
    pub fn ends_at(&self, idle: Duration) -> DateTime<Utc> {
        (self.last_seen_at + idle).min(self.expires_at)
    }
}

/// 32 random bytes as hex: what the client holds.
pub fn new_token() -> AppResult<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| AppError::Internal(format!("no randomness: {e}")))?;
    Ok(hex(&bytes))
}

pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Redis expiries are relative: the server's clock (moved by tests) decides
/// when a session ends; Redis only forgets it at about the same time.
fn ttl_ms(until: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    (until - now).num_milliseconds().max(1)
}

pub(crate) fn redis_err(e: redis::RedisError) -> AppError {
    tracing::error!(error = %e, "Redis failed");
    AppError::Unavailable {
        what: "sessions",
        message: "sessions are unavailable: Redis does not answer; try again shortly".into(),
    }
}

#[derive(Clone)]
pub enum SessionStore {
    Db(DatabaseConnection),
    Redis {
        conn: ConnectionManager,
        /// Keeps tests (and several deployments on one Redis) apart.
        prefix: String,
    },
}

impl SessionStore {
    /// Whether the store answers now (Redis: a PING; the database is checked
    /// on its own).
    pub async fn ping(&self) -> AppResult<()> {
        match self {
            SessionStore::Db(_) => Ok(()),
            SessionStore::Redis { conn, .. } => {
                let mut conn = conn.clone();
                redis::cmd("PING")
                    .query_async::<String>(&mut conn)
                    .await
                    .map(|_| ())
                    .map_err(redis_err)
            }
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            SessionStore::Db(_) => "database",
            SessionStore::Redis { .. } => "redis",
        }
    }

    pub async fn put(&self, rec: &SessionRecord, idle: Duration) -> AppResult<()> {
        match self {
            SessionStore::Db(db) => {
                let am = session::ActiveModel {
                    token_hash: Set(rec.token_hash.clone()),
                    user_id: Set(rec.user_id),
                    method: Set(rec.method.clone()),
                    address: Set(rec.address.clone()),
                    user_agent: Set(rec.user_agent.clone()),
                    created_at: Set(rec.created_at),
                    last_seen_at: Set(rec.last_seen_at),
                    expires_at: Set(rec.expires_at),
                };
                am.insert(db).await?;
                Ok(())
            }
            SessionStore::Redis { conn, prefix } => {
                let mut conn = conn.clone();
                let json =
                    serde_json::to_string(rec).map_err(|e| AppError::Internal(e.to_string()))?;
                let key = format!("{prefix}session:{}", rec.token_hash);
                let set_key = format!("{prefix}user-sessions:{}", rec.user_id);
                redis::pipe()
                    .atomic()
                    .cmd("SET")
                    .arg(&key)
                    .arg(json)
                    .arg("PX")
                    .arg(ttl_ms(rec.ends_at(idle), rec.last_seen_at))
                    .ignore()
                    .cmd("SADD")
                    .arg(&set_key)
                    .arg(&rec.token_hash)
                    .ignore()
                    // NX gives a new set its expiry; GT only ever extends it.
                    .cmd("PEXPIRE")
                    .arg(&set_key)
                    .arg(ttl_ms(rec.expires_at, rec.last_seen_at))
                    .arg("NX")
                    .ignore()
                    .cmd("PEXPIRE")
                    .arg(&set_key)
                    .arg(ttl_ms(rec.expires_at, rec.last_seen_at))
                    .arg("GT")
                    .ignore()
                    .query_async::<()>(&mut conn)
                    .await
                    .map_err(redis_err)?;
                Ok(())
            }
        }
    }

    pub async fn get(&self, token_hash: &str) -> AppResult<Option<SessionRecord>> {
        match self {
            SessionStore::Db(db) => Ok(session::Entity::find_by_id(token_hash.to_string())
                .one(db)
                .await?
                .map(from_row)),
            SessionStore::Redis { conn, prefix } => {
                let mut conn = conn.clone();
                let raw: Option<String> = redis::cmd("GET")
                    .arg(format!("{prefix}session:{token_hash}"))
                    .query_async(&mut conn)
                    .await
                    .map_err(redis_err)?;
                Ok(raw.and_then(|r| serde_json::from_str(&r).ok()))
            }
        }
    }

    /// Records use at `now`, pushing the idle end back.
    pub async fn touch(
        &self,
        rec: &SessionRecord,
        now: DateTime<Utc>,
        idle: Duration,
    ) -> AppResult<()> {
        let mut rec = rec.clone();
        rec.last_seen_at = now;
        match self {
            SessionStore::Db(db) => {
                session::Entity::update_many()
                    .col_expr(
                        session::Column::LastSeenAt,
                        sea_orm::sea_query::Expr::value(now),
                    )
                    .filter(session::Column::TokenHash.eq(rec.token_hash.clone()))
                    .exec(db)
                    .await?;
                Ok(())
            }
            SessionStore::Redis { conn, prefix } => {
                let mut conn = conn.clone();
                let json =
                    serde_json::to_string(&rec).map_err(|e| AppError::Internal(e.to_string()))?;
                // XX: never bring back a session removed meanwhile.
                redis::cmd("SET")
                    .arg(format!("{prefix}session:{}", rec.token_hash))
                    .arg(json)
                    .arg("XX")
                    .arg("PX")
                    .arg(ttl_ms(rec.ends_at(idle), now))
                    .query_async::<()>(&mut conn)
                    .await
                    .map_err(redis_err)?;
                Ok(())
            }
        }
    }

    pub async fn remove(&self, token_hash: &str) -> AppResult<()> {
        match self {
            SessionStore::Db(db) => {
                session::Entity::delete_by_id(token_hash.to_string())
                    .exec(db)
                    .await?;
                Ok(())
            }
            SessionStore::Redis { conn, prefix } => {
                let mut conn = conn.clone();
                redis::cmd("DEL")
                    .arg(format!("{prefix}session:{token_hash}"))
                    .query_async::<()>(&mut conn)
                    .await
                    .map_err(redis_err)?;
                Ok(())
            }
        }
    }

    /// Ends every session of a user but `keep`; answers how many ended.
    pub async fn remove_user(&self, user_id: Uuid, keep: Option<&str>) -> AppResult<u64> {
        let all = self.list_user(user_id).await?;
        let mut ended = 0;
        for rec in all.iter().filter(|r| Some(r.token_hash.as_str()) != keep) {
            self.remove(&rec.token_hash).await?;
            ended += 1;
        }
        if let SessionStore::Redis { conn, prefix } = self {
            let mut conn = conn.clone();
            let set_key = format!("{prefix}user-sessions:{user_id}");
            let mut cmd = redis::cmd("SREM");
            cmd.arg(&set_key);
            let mut any = false;
            for rec in all.iter().filter(|r| Some(r.token_hash.as_str()) != keep) {
                cmd.arg(&rec.token_hash);
                any = true;
            }
            if any {
                cmd.query_async::<()>(&mut conn).await.map_err(redis_err)?;
            }
        }
        Ok(ended)
    }

    /// The user's live sessions, newest first.
    pub async fn list_user(&self, user_id: Uuid) -> AppResult<Vec<SessionRecord>> {
        let mut out = match self {
            SessionStore::Db(db) => session::Entity::find()
                .filter(session::Column::UserId.eq(user_id))
                .order_by_desc(session::Column::CreatedAt)
                .all(db)
                .await?
                .into_iter()
                .map(from_row)
                .collect(),
            SessionStore::Redis { conn, prefix } => {
                let mut conn = conn.clone();
                let set_key = format!("{prefix}user-sessions:{user_id}");
                let hashes: Vec<String> = redis::cmd("SMEMBERS")
                    .arg(&set_key)
                    .query_async(&mut conn)
                    .await
                    .map_err(redis_err)?;
                let mut out = Vec::new();
                let mut gone = Vec::new();
                for h in hashes {
                    match self.get(&h).await? {
                        Some(rec) => out.push(rec),
                        None => gone.push(h),
                    }
                }
                if !gone.is_empty() {
                    redis::cmd("SREM")
                        .arg(&set_key)
                        .arg(gone)
                        .query_async::<()>(&mut conn)
                        .await
                        .map_err(redis_err)?;
                }
                out
            }
        };
        out.sort_by_key(|r: &SessionRecord| std::cmp::Reverse(r.created_at));
        Ok(out)
    }

    /// Removes ended sessions from the table (Redis expires them by itself).
    pub async fn prune(&self, now: DateTime<Utc>, idle: Duration) -> AppResult<u64> {
        match self {
            SessionStore::Db(db) => {
                let res = session::Entity::delete_many()
                    .filter(
                        sea_orm::Condition::any()
                            .add(session::Column::ExpiresAt.lte(now))
                            .add(session::Column::LastSeenAt.lte(now - idle)),
                    )
                    .exec(db)
                    .await?;
                Ok(res.rows_affected)
            }
            SessionStore::Redis { .. } => Ok(0),
        }
    }
}

fn from_row(m: session::Model) -> SessionRecord {
    SessionRecord {
        token_hash: m.token_hash,
        user_id: m.user_id,
        method: m.method,
        address: m.address,
        user_agent: m.user_agent,
        created_at: m.created_at,
        last_seen_at: m.last_seen_at,
        expires_at: m.expires_at,
    }
}
