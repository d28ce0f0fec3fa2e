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
    // Per connection: WAL lets readers work while the one writer writes; a writer
    // waits for the lock instead of failing at once. FULL sync: each commit reaches
    // the disk before it is acknowledged. (NORMAL leaves commits in the page
    // cache until a checkpoint: a crash of the machine, or a file system the
    // kernel makes read-only after a disk error, lost every payment acknowledged
    // since the last one: tests/tests/e2e/failures.rs.)
    options.map_sqlx_sqlite_opts(|o| {
        o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
            .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Full)
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
    // A connection opened before the storage last failed may hold descriptors
    // of a file system that went read-only and was then replaced: a new one is
    // opened instead.
    let storage = sqlite_file(url).map(|path| std::sync::Arc::new(Storage::new(path)));
    options.map_sqlx_sqlite_pool_opts(move |o| {
        let storage = storage.clone();
        o.before_acquire(move |_, meta| {
            let fresh = storage.as_ref().is_none_or(|s| !s.stale(meta.age));
            Box::pin(async move { Ok(fresh) })
        })
        .after_release(|conn, _| {
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

/// The file of a SQLite URL (`sqlite:///data/kvartal.db?mode=rwc`); none for
/// another database or one in memory.
fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url.strip_prefix("sqlite://")?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.contains(":memory:")).then(|| path.into())
}

/// The SQLite file as the pool last saw it, looked at only once the storage
/// has failed (schema::error::storage_fault): when an operator mounts a
/// repaired file system in place of one that went read-only, or puts a file
/// back, the path names another file (device and inode), and connections
/// opened before that are not reused.
struct Storage {
    path: std::path::PathBuf,
    /// The file's device and inode when last looked at, and when they changed.
    seen: std::sync::Mutex<(Option<FileId>, Option<std::time::Instant>)>,
}

/// A file's device and inode.
type FileId = (u64, u64);

impl Storage {
    fn new(path: std::path::PathBuf) -> Storage {
        let id = identity(&path);
        Storage {
            path,
            seen: std::sync::Mutex::new((id, None)),
        }
    }

    /// Whether a connection of this age predates the last fault, or the file
    /// it opened was replaced since.
    fn stale(&self, age: Duration) -> bool {
        let Some(fault) = schema::error::storage_fault::last() else {
            return false;
        };
        let now = std::time::Instant::now();
        let Some(opened) = now.checked_sub(age) else {
            return true;
        };
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let id = identity(&self.path);
        if id != seen.0 {
            tracing::warn!(path = %self.path.display(), "the database file was replaced: connections opened before are not reused");
            *seen = (id, Some(now));
        }
        opened <= seen.1.map_or(fault, |replaced| replaced.max(fault))
    }
}

fn identity(path: &std::path::Path) -> Option<FileId> {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
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
