//! Which organisations the database may show: the second wall behind the policy.
//!
//! On PostgreSQL every tenant table has a row-level security policy that shows
//! only rows of the organisations named in the connection's `kvartal.orgs`
//! setting (`*`: all of them; empty: none). The pool sets it from this task's
//! scope each time a connection is handed out, so a request sees only its
//! caller's organisations even if a query forgot to filter. Outside any scope
//! nothing is visible: the server's own work (command line, background jobs,
//! authentication lookups) runs explicitly `as_system`.

use std::future::Future;
use std::sync::Arc;

use crate::auth::Principal;

tokio::task_local! {
    static ORGS: Arc<str>;
}

/// Every organisation.
pub const ALL: &str = "*";

/// The organisations of the current task: `*`, a comma-separated list of ids,
/// or empty.
pub fn current() -> Arc<str> {
    ORGS.try_with(Arc::clone).unwrap_or_else(|_| Arc::from(""))
}

/// What a principal may see: their organisations (staff or resident).
pub fn of(principal: Option<&Principal>) -> Arc<str> {
    match principal {
        Some(p) if p.system => Arc::from(ALL),
        Some(p) => Arc::from(
            p.organisations()
                .iter()
                .map(uuid::Uuid::to_string)
                .collect::<Vec<_>>()
                .join(","),
        ),
        None => Arc::from(""),
    }
}

/// Runs `f` seeing `orgs`.
pub async fn scoped<F: Future>(orgs: Arc<str>, f: F) -> F::Output {
    ORGS.scope(orgs, f).await
}

/// Runs `f` as the server itself, seeing every organisation.
pub async fn as_system<F: Future>(f: F) -> F::Output {
    scoped(Arc::from(ALL), f).await
}

/// Spawns a task that keeps the current scope (the DataLoader's batches).
pub fn spawn_in_scope(
    fut: futures_util::future::BoxFuture<'static, ()>,
) -> tokio::task::JoinHandle<()> {
    let orgs = current();
    tokio::spawn(scoped(orgs, fut))
}

/// A stream polled in a scope: each poll of `inner` sees `orgs`, as a future
/// inside [`scoped`] would (the pool reads the scope when it hands out a connection).
pub struct ScopedStream<S> {
    orgs: Arc<str>,
    inner: S,
}

impl<S> ScopedStream<S> {
    pub fn new(orgs: Arc<str>, inner: S) -> Self {
        Self { orgs, inner }
    }
}

impl<S: futures_util::Stream + Unpin> futures_util::Stream for ScopedStream<S> {
    type Item = S::Item;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<S::Item>> {
        let this = &mut *self;
        let orgs = this.orgs.clone();
        ORGS.sync_scope(orgs, || std::pin::Pin::new(&mut this.inner).poll_next(cx))
    }
}
