//! Write transactions.
//!
//! On SQLite a transaction that reads before it writes would otherwise start as
//! a reader and, when another connection is writing, fail at once with "database
//! is locked" instead of waiting (no busy handler runs for an upgrade). A write
//! transaction therefore starts as `BEGIN IMMEDIATE` and queues for the write
//! lock from its first statement; on PostgreSQL it is a plain `BEGIN`.

use sea_orm::{
    DatabaseConnection, DatabaseTransaction, DbErr, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
};

pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}
