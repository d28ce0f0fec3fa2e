//! Fixed-window attempt counters (per account, per address): in Redis when it is
//! configured, so every instance counts together; in memory otherwise.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use redis::aio::ConnectionManager;

use crate::error::{AppError, AppResult};

#[derive(Clone, Copy, Debug)]
pub struct Limit {
    pub attempts: u32,
    pub window: Duration,
}

pub enum Limiter {
    Memory(Mutex<HashMap<String, (u32, DateTime<Utc>)>>),
    Redis {
        conn: ConnectionManager,
        prefix: String,
    },
}

impl Limiter {
    pub fn memory() -> Self {
        Limiter::Memory(Mutex::new(HashMap::new()))
    }

    /// Counts one attempt under `key`; refused once the window's allowance is spent.
    pub async fn hit(&self, key: &str, limit: Limit, now: DateTime<Utc>) -> AppResult<()> {
        let (count, window_end) = match self {
            Limiter::Memory(map) => {
                let mut map = map
                    .lock()
                    .map_err(|_| AppError::Internal("rate limiter poisoned".into()))?;
                if map.len() > 100_000 {
                    map.retain(|_, (_, end)| *end > now);
                }
                let entry = map
                    .entry(key.to_string())
                    .or_insert((0, now + limit.window));
                if entry.1 <= now {
                    *entry = (0, now + limit.window);
                }
                entry.0 += 1;
                *entry
            }
            Limiter::Redis { conn, prefix } => {
                let mut conn = conn.clone();
                let key = format!("{prefix}limit:{key}");
                let (count, ttl): (u32, i64) = redis::pipe()
                    .atomic()
                    .cmd("INCR")
                    .arg(&key)
                    .cmd("PEXPIRE")
                    .arg(&key)
                    .arg(limit.window.num_milliseconds())
                    .arg("NX")
                    .ignore()
                    .cmd("PTTL")
                    .arg(&key)
                    .query_async(&mut conn)
                    .await
                    .map_err(super::sessions::redis_err)?;
                (count, now + Duration::milliseconds(ttl.max(0)))
            }
        };
        if count > limit.attempts {
            let retry_after = (window_end - now).num_seconds().max(1) as u64;
            return Err(AppError::RateLimited { retry_after });
        }
        Ok(())
    }

    /// Forgets the attempts under `key` (after a success).
    pub async fn clear(&self, key: &str) -> AppResult<()> {
        match self {
            Limiter::Memory(map) => {
                if let Ok(mut map) = map.lock() {
                    map.remove(key);
                }
                Ok(())
            }
            Limiter::Redis { conn, prefix } => {
                let mut conn = conn.clone();
                redis::cmd("DEL")
                    .arg(format!("{prefix}limit:{key}"))
                    .query_async::<()>(&mut conn)
                    .await
                    .map_err(super::sessions::redis_err)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn the_window_allows_its_attempts_then_refuses_until_it_ends() {
        let limiter = Limiter::memory();
        let limit = Limit {
            attempts: 3,
            window: Duration::minutes(15),
        };
        let t0 = DateTime::<Utc>::UNIX_EPOCH;
        for _ in 0..3 {
            limiter.hit("a", limit, t0).await.unwrap();
        }
        let err = limiter
            .hit("a", limit, t0 + Duration::minutes(1))
            .await
            .unwrap_err();
        assert!(matches!(err, AppError::RateLimited { retry_after: 840 }));
        limiter.hit("b", limit, t0).await.unwrap();
        limiter
            .hit("a", limit, t0 + Duration::minutes(15))
            .await
            .unwrap();
    }
}
