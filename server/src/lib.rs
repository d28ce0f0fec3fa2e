//! The Kvartal server: settings, HTTP surface, CLI sub-commands.

pub mod bench;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod http;
pub mod metrics;
pub mod web;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use schema::clock::Clock;
use sea_orm::DatabaseConnection;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

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

/// Connects, migrates and starts serving on `settings.bind` (port 0 picks one).
pub async fn start(settings: &Settings, clock: Arc<dyn Clock>) -> anyhow::Result<Running> {
    let db = db::connect(settings).await?;
    db::migrate(&db).await?;
    let schema = schema::build_schema(schema::Deps {
        db: db.clone(),
        clock,
        introspection: settings.introspection,
    });
    let state = AppState {
        schema,
        db: db.clone(),
        metrics: Arc::new(metrics::Metrics::default()),
        graphiql: settings.graphiql,
    };
    let listener = tokio::net::TcpListener::bind(settings.bind)
        .await
        .with_context(|| format!("cannot listen on {}", settings.bind))?;
    let addr = listener.local_addr()?;
    let (tx, rx) = oneshot::channel::<()>();
    let app = http::router(state);
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
    });
    Ok(Running {
        addr,
        db,
        shutdown: Some(tx),
        join: Some(join),
    })
}
