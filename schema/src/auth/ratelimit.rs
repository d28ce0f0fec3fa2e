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

    /// Refused while a delay set by [`Limiter::failed`] under `key` runs.
    pub async fn wait(&self, key: &str, now: DateTime<Utc>) -> AppResult<()> {
        let until = match self {
            Limiter::Memory(map) => map
                .lock()
                .map_err(|_| AppError::Internal("rate limiter poisoned".into()))?
                .get(&format!("delay:{key}"))
                .map(|(_, until)| *until),
            Limiter::Redis { conn, prefix } => {
                let mut conn = conn.clone();
                let ms: Option<i64> = redis::cmd("GET")
                    .arg(format!("{prefix}delay:{key}:until"))
                    .query_async(&mut conn)
                    .await
                    .map_err(super::sessions::redis_err)?;
                ms.and_then(DateTime::<Utc>::from_timestamp_millis)
            }
        };
        match until {
            Some(until) if until > now => Err(AppError::RateLimited {
                retry_after: (until - now).num_seconds().max(1) as u64,
            }),
            _ => Ok(()),
        }
    }

    /// Counts a failure under `key`: after `free` of them each one more makes
    /// the next attempt wait 1 s, 2 s, 4 s … up to `cap`. Failures older than a
    /// day are forgotten.
    pub async fn failed(
        &self,
        key: &str,
        now: DateTime<Utc>,
        free: u32,
        cap: Duration,
    ) -> AppResult<()> {
        let delay = |n: u32| -> Option<Duration> {
            let over = n.checked_sub(free + 1)?;
            let seconds = 1i64.checked_shl(over.min(30)).unwrap_or(i64::MAX);
            Some(Duration::seconds(seconds).min(cap))
        };
        match self {
            Limiter::Memory(map) => {
                let mut map = map
                    .lock()
                    .map_err(|_| AppError::Internal("rate limiter poisoned".into()))?;
                let entry = map.entry(format!("delay:{key}")).or_insert((0, now));
                if entry.1 + Duration::days(1) < now {
                    *entry = (0, now);
                }
                entry.0 += 1;
                if let Some(d) = delay(entry.0) {
                    entry.1 = now + d;
                }
                Ok(())
            }
            Limiter::Redis { conn, prefix } => {
                let mut conn = conn.clone();
                let count_key = format!("{prefix}delay:{key}:n");
                let (n,): (u32,) = redis::pipe()
                    .atomic()
                    .cmd("INCR")
                    .arg(&count_key)
                    .cmd("PEXPIRE")
                    .arg(&count_key)
                    .arg(Duration::days(1).num_milliseconds())
                    .ignore()
                    .query_async(&mut conn)
                    .await
                    .map_err(super::sessions::redis_err)?;
                if let Some(d) = delay(n) {
                    // The time is the server's clock's; the expiry only tidies up.
                    redis::cmd("SET")
                        .arg(format!("{prefix}delay:{key}:until"))
                        .arg((now + d).timestamp_millis())
                        .arg("PX")
                        .arg((d + Duration::minutes(1)).num_milliseconds())
                        .query_async::<()>(&mut conn)
                        .await
                        .map_err(super::sessions::redis_err)?;
                }
                Ok(())
            }
        }
    }

    /// Forgets the failures and delay under `key` (after a success).
    pub async fn succeeded(&self, key: &str) -> AppResult<()> {
        match self {
            Limiter::Memory(map) => {
                if let Ok(mut map) = map.lock() {
                    map.remove(&format!("delay:{key}"));
                }
                Ok(())
            }
            Limiter::Redis { conn, prefix } => {
                let mut conn = conn.clone();
                redis::cmd("DEL")
                    .arg(format!("{prefix}delay:{key}:n"))
                    .arg(format!("{prefix}delay:{key}:until"))
                    .query_async::<()>(&mut conn)
                    .await
                    .map_err(super::sessions::redis_err)
            }
        }
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

    #[tokio::test]
    async fn failures_make_the_next_attempt_wait_longer_and_longer() {
        let limiter = Limiter::memory();
        let t0 = Utc::now();
        let cap = Duration::minutes(15);
        for _ in 0..3 {
            limiter.failed("k", t0, 3, cap).await.unwrap();
            limiter.wait("k", t0).await.unwrap();
        }
        limiter.failed("k", t0, 3, cap).await.unwrap();
        assert!(matches!(
            limiter.wait("k", t0).await,
            Err(AppError::RateLimited { retry_after: 1 })
        ));
        limiter.wait("k", t0 + Duration::seconds(1)).await.unwrap();
        let t1 = t0 + Duration::seconds(1);
        limiter.failed("k", t1, 3, cap).await.unwrap();
        assert!(matches!(
            limiter.wait("k", t1).await,
            Err(AppError::RateLimited { retry_after: 2 })
        ));
        for _ in 0..40 {
            limiter.failed("k", t1, 3, cap).await.unwrap();
        }
        assert!(matches!(
            limiter.wait("k", t1).await,
            Err(AppError::RateLimited { retry_after: 900 })
        ));
        limiter.wait("other", t1).await.unwrap();
        limiter.succeeded("k").await.unwrap();
        limiter.wait("k", t1).await.unwrap();
    }
}
