//! Connecting to the database and migrating it.

use std::time::Duration;

use anyhow::Context as _;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection};

use crate::config::Settings;

/// Longest wait for a pooled connection.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

pub async fn connect(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    let url = settings.database_url();
    if settings.database_url.is_none() {
        std::fs::create_dir_all(&settings.data_dir).with_context(|| {
            format!(
                "cannot create the data folder {}",
                settings.data_dir.display()
            )
        })?;
    }
    connect_url(&url, settings.db_max_connections).await
}

pub async fn connect_url(url: &str, max_connections: u32) -> anyhow::Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url.to_string());
    options
        .max_connections(max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5))
        // A request waits this long for a connection, then hears that the
        // database does not answer (503), instead of hanging.
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .sqlx_logging(false);
    // Per connection: WAL lets readers work while the one writer writes; NORMAL sync is
    // safe with WAL; a writer waits for the lock instead of failing at once.
    options.map_sqlx_sqlite_opts(|o| {
        o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
            .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(30))
            .foreign_keys(true)
            // The default 2 MB page cache makes bulk writes spill and re-read pages; 32 MB
            // holds the hot index pages of an import.
            .pragma("cache_size", "-32768")
            .pragma("temp_store", "memory")
            // Reads map the first 256 MB of the file instead of copying each page
            // through read(2) into every connection's cache.
            .pragma("mmap_size", "268435456")
            // Rows come from the connection's own thread: a larger buffer lets it run
            // ahead of the task that reads them instead of waking it for each row.
            .row_buffer_size(4096)
    });
    // A connection whose transaction failed to end (a COMMIT or ROLLBACK that
    // hit a full or read-only disk) may still be inside it, holding the write
    // lock, or out of step with the driver's count of open transactions: its
    // next "transaction" would be a savepoint that commits nothing while the
    // caller is told it did. Such a connection is closed, never reused.
    options.map_sqlx_sqlite_pool_opts(|o| {
        o.after_release(|conn, _| {
            Box::pin(async move {
                use sea_orm::sqlx::Connection as _;
                // Most releases end no transaction: nothing to wait for.
                if !conn.is_in_transaction() {
                    return Ok(true);
                }
                // A dropped transaction's rollback is queued: let it run, then look again.
                conn.ping().await?;
                if conn.is_in_transaction() {
                    tracing::warn!(
                        "a database connection left inside a failed transaction is closed"
                    );
                    return Ok(false);
                }
                Ok(true)
            })
        })
    });
    // Row-level security: each connection shows what the task that takes it may
    // see (schema::tenancy), set when it is opened and each time it is handed out.
    options.map_sqlx_postgres_pool_opts(|o| {
        o.after_connect(|conn, _| Box::pin(async move { set_visible_orgs(conn).await.map(|_| ()) }))
            .before_acquire(|conn, _| Box::pin(async move { set_visible_orgs(conn).await }))
    });
    let db = Database::connect(options)
        .await
        .with_context(|| format!("cannot connect to the database at {}", redact(url)))?;
    if db.get_database_backend() == DatabaseBackend::Postgres {
        db.execute_unprepared("SELECT 1").await?;
    }
    Ok(db)
}

async fn set_visible_orgs(
    conn: &mut sea_orm::sqlx::postgres::PgConnection,
) -> Result<bool, sea_orm::sqlx::Error> {
    let orgs = schema::tenancy::current();
    sea_orm::sqlx::query("SELECT set_config('kvartal.orgs', $1, false)")
        .bind(orgs.as_ref())
        .execute(conn)
        .await?;
    Ok(true)
}

pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    // The server's own work: every organisation's rows are visible to it
    // (row-level security on PostgreSQL), as a data migration needs.
    schema::tenancy::as_system(Migrator::up(db, None))
        .await
        .context("migrating the database")?;
    Ok(())
}

/// A URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}{}:***{}", &url[..scheme + 3], user, &url[at..])
        }
        _ => url.to_string(),
    }
}
