//! The Kvartal server: settings, HTTP surface, CLI sub-commands.

pub mod admin;
pub mod bench;
pub mod bench_access;
pub mod bench_billing;
pub mod bench_complaints;
pub mod bench_live;
pub mod bench_payments;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod files;
pub mod forwarded;
pub mod http;
pub mod limits;
pub mod metrics;
pub mod receipts;
pub mod reports;
pub mod respond;
pub mod security;
pub mod web;
pub mod ws;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use schema::clock::Clock;
use sea_orm::DatabaseConnection;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use schema::auth::ratelimit::{Limit, Limiter};
use schema::auth::sessions::SessionStore;
use schema::auth::{Auth, AuthConfig};

use crate::config::Settings;
use crate::http::AppState;

/// A server listening on its address; dropped or stopped, it shuts down.
pub struct Running {
    pub addr: SocketAddr,
    pub db: DatabaseConnection,
    shutdown: Option<oneshot::Sender<()>>,
    join: Option<JoinHandle<()>>,
}

impl Running {
    /// Stops accepting requests and waits for the server to finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(join) = self.join.take() {
            let _ = join.await;
        }
    }

    /// Waits until the server ends (Ctrl-C for `serve`).
    pub async fn wait(mut self) {
        if let Some(join) = self.join.take() {
            let _ = join.await;
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Sessions and rate limits: in Redis when configured, else database and memory.
pub async fn auth(
    settings: &Settings,
    db: &DatabaseConnection,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Auth> {
    let (sessions, limiter) = match &settings.redis_url {
        Some(url) => {
            let client = redis::Client::open(url.as_str())
                .with_context(|| format!("REDIS_URL {}", db::redact(url)))?;
            let conn = redis::aio::ConnectionManager::new(client)
                .await
                .with_context(|| format!("cannot reach Redis at {}", db::redact(url)))?;
            let prefix = settings.redis_prefix.clone();
            (
                SessionStore::Redis {
                    conn: conn.clone(),
                    prefix: prefix.clone(),
                },
                Limiter::Redis { conn, prefix },
            )
        }
        None => (SessionStore::Db(db.clone()), Limiter::memory()),
    };
    let config = AuthConfig {
        idle: chrono::Duration::minutes(i64::from(settings.session_idle_minutes)),
        absolute: chrono::Duration::days(i64::from(settings.session_days)),
        per_account: Limit {
            attempts: settings.login_attempts_per_account,
            window: chrono::Duration::minutes(15),
        },
        per_address: Limit {
            attempts: settings.login_attempts_per_address,
            window: chrono::Duration::minutes(15),
        },
        public_url: settings.public_url.clone(),
        ..AuthConfig::default()
    };
    let passkeys =
        schema::auth::passkeys::relying_party(&settings.public_url, &settings.allowed_origins)
            .map_err(|e| anyhow::anyhow!(e))?;
    Ok(Auth::new(
        db.clone(),
        clock,
        sessions,
        Arc::new(limiter),
        config,
        settings.mailer()?,
        Some(Arc::new(passkeys)),
    ))
}

/// The event hub and relay of this instance: over Redis pub/sub when
/// `REDIS_URL` is set, in-process otherwise.
pub async fn events(
    settings: &Settings,
    db: &DatabaseConnection,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<schema::events::Events> {
    let poll = std::time::Duration::from_millis(settings.events_poll_ms);
    let hub = schema::events::Hub::start(db.clone(), poll);
    let bus = match &settings.redis_url {
        Some(url) => {
            let client = redis::Client::open(url.as_str())
                .with_context(|| format!("REDIS_URL {}", db::redact(url)))?;
            let conn = redis::aio::ConnectionManager::new(client.clone())
                .await
                .with_context(|| format!("cannot reach Redis at {}", db::redact(url)))?;
            let channel = format!("{}events", settings.redis_prefix);
            hub.listen_redis(client, channel.clone());
            schema::events::Bus::Redis { conn, channel }
        }
        None => schema::events::Bus::Local(hub.clone()),
    };
    let relay = schema::events::Relay::new(db.clone(), bus, clock);
    relay.start(poll);
    Ok(schema::events::Events {
        db: db.clone(),
        hub,
        relay,
    })
}

/// Events in-process (hub and relay started): for commands and benchmarks.
pub fn local_events(db: &DatabaseConnection, clock: Arc<dyn Clock>) -> schema::events::Events {
    let poll = std::time::Duration::from_secs(1);
    let hub = schema::events::Hub::start(db.clone(), poll);
    let relay =
        schema::events::Relay::new(db.clone(), schema::events::Bus::Local(hub.clone()), clock);
    relay.start(poll);
    schema::events::Events {
        db: db.clone(),
        hub,
        relay,
    }
}

/// Sessions in the database, limits in memory: for commands that run in-process.
pub fn local_auth(db: &DatabaseConnection, clock: Arc<dyn Clock>) -> Auth {
    Auth::new(
        db.clone(),
        clock,
        SessionStore::Db(db.clone()),
        Arc::new(Limiter::memory()),
        AuthConfig::default(),
        schema::auth::mail::Mailer::Log,
        None,
    )
}

/// Connects, migrates and starts serving on `settings.bind` (port 0 picks one).
pub async fn start(settings: &Settings, clock: Arc<dyn Clock>) -> anyhow::Result<Running> {
    let db = db::connect(settings).await?;
    db::migrate(&db).await?;
    let auth = auth(settings, &db, clock.clone()).await?;
    let events = events(settings, &db, clock.clone()).await?;
    let files = schema::files::service::Files::new(
        db.clone(),
        clock.clone(),
        settings.file_store()?,
        settings.files_max_mb as usize * 1024 * 1024,
        Some(events.clone()),
    );
    let schema = schema::build_schema(schema::Deps {
        files: files.clone(),
        db: db.clone(),
        clock: clock.clone(),
        auth: auth.clone(),
        events: events.clone(),
        introspection: settings.introspection,
        field_suggestions: settings.field_suggestions,
        billing_lease: std::time::Duration::from_secs(settings.billing_lease_secs),
        audit_key: settings.audit_key()?,
    });
    let listener = tokio::net::TcpListener::bind(settings.bind)
        .await
        .with_context(|| format!("cannot listen on {}", settings.bind))?;
    let addr = listener.local_addr()?;
    let state = AppState {
        schema,
        db: db.clone(),
        registry: schema::registry::Registry::new(db.clone(), clock.clone()),
        billing: schema::billing::Billing::new(db.clone(), clock.clone(), Some(events.clone())),
        payments: schema::payments::Payments::new(db.clone(), clock.clone(), Some(events.clone())),
        files,
        auth,
        metrics: Arc::new(metrics::Metrics::default()),
        events: events.clone(),
        graphiql: settings.graphiql,
        secure: settings.https(),
        proxies: Arc::new(forwarded::ProxyTrust::new(
            settings.trust_proxy,
            &settings.trusted_proxies,
        )?),
        origins: Arc::new(settings.origins_at(addr)),
        request_timeout: std::time::Duration::from_secs(settings.request_timeout_secs),
        ws_init_timeout: std::time::Duration::from_secs(settings.ws_init_timeout_secs),
        ws_session_check: std::time::Duration::from_secs(settings.ws_session_check_secs.max(1)),
    };
    // Expired sessions, ceremonies and codes, and events past their retention,
    // are swept every hour.
    let sweeper = {
        let auth = state.auth.clone();
        let audit_key = settings.audit_key()?;
        let retention = chrono::Duration::hours(i64::from(settings.event_retention_hours));
        let (db, clock) = (db.clone(), clock.clone());
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
            loop {
                every.tick().await;
                let cutoff = clock.now() - retention;
                match schema::tenancy::as_system(schema::events::prune(&db, cutoff)).await {
                    Ok(n) if n > 0 => {
                        tracing::info!(rows = n, "events past their retention removed")
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "pruning events failed"),
                }
                // Each organisation's audit chain head, anchored once a day.
                if let Some(key) = &audit_key {
                    let due = schema::audit::anchors::checkpoint_due(&db, key, clock.now());
                    match schema::tenancy::as_system(due).await {
                        Ok(n) if n > 0 => {
                            tracing::info!(organisations = n, "audit log checkpointed")
                        }
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "checkpointing the audit log failed"),
                    }
                }
                match schema::tenancy::as_system(auth.prune_expired()).await {
                    Ok(n) if n > 0 => {
                        tracing::info!(rows = n, "expired sessions and codes removed")
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "pruning expired sessions failed"),
                }
            }
        })
    };
    // Late complaints are marked and escalated, tasks reminded and escalated
    // (every instance looks; one marks each).
    let overdue = {
        let complaints = schema::complaints::service::Complaints::new(
            db.clone(),
            clock.clone(),
            Some(events.clone()),
        );
        let tasks = schema::staff::tasks::Tasks::new(db.clone(), clock.clone());
        let every = std::time::Duration::from_secs(settings.overdue_check_secs);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(every);
            loop {
                every.tick().await;
                match schema::tenancy::as_system(complaints.sweep_overdue()).await {
                    Ok(n) if n > 0 => {
                        tracing::info!(complaints = n, "overdue complaints escalated")
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "the overdue check failed"),
                }
                match schema::tenancy::as_system(tasks.sweep()).await {
                    Ok((r, e)) if r + e > 0 => {
                        tracing::info!(
                            reminded = r,
                            escalated = e,
                            "task reminders and escalations recorded"
                        )
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "the task check failed"),
                }
            }
        })
    };
    let (tx, rx) = oneshot::channel::<()>();
    let app = http::router(state).into_make_service_with_connect_info::<SocketAddr>();
    let join = tokio::spawn(async move {
        let shutdown = async move {
            let _ = rx.await;
        };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::error!(error = %e, "server stopped");
        }
        sweeper.abort();
        overdue.abort();
    });
    Ok(Running {
        addr,
        db,
        shutdown: Some(tx),
        join: Some(join),
    })
}
