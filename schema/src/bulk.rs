//! Bulk writes for the paths that grow with the number of accounts.
//!
//! A [`BulkTx`] is one database transaction on a raw sqlx connection, beside
//! sea-orm: sea-orm turns every bound value into its own `Value` and clones it on
//! the way to sqlx, which costs more than the database itself at this volume.
//! PostgreSQL gets `INSERT … SELECT * FROM unnest(…)` with one typed array per
//! column; SQLite gets one multi-row
//! `INSERT … VALUES` per chunk, whose SQL text is the same for every full chunk, so
//! sqlx reuses the prepared statement. Values are bound with the same sqlx
//! encoders sea-orm uses, so rows read back through the entities unchanged.

use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sqlx::{self, Postgres, Sqlite};
use sea_orm::{DatabaseBackend, DatabaseConnection, DbErr};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Col {
    Uuid,
    Text,
    Int,
    BigInt,
    Date,
    Timestamp,
    Bool,
}

#[derive(Debug, Clone)]
pub enum Cell {
    Uuid(Option<Uuid>),
    Text(String),
    Int(Option<i32>),
    BigInt(Option<i64>),
    Date(Option<NaiveDate>),
    Timestamp(DateTime<Utc>),
    Bool(bool),
}

/// A table and the columns a bulk insert fills, in order.
#[derive(Debug)]
pub struct Table {
    pub name: &'static str,
    pub columns: &'static [(&'static str, Col)],
}

fn db_err(e: sqlx::Error) -> DbErr {
    DbErr::Custom(e.to_string())
}

/// SQLite allows 32 766 bound values per statement.
const SQLITE_MAX_VARS: usize = 32_766;
const SQLITE_MAX_ROWS: usize = 1_000;

pub enum BulkTx {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

impl BulkTx {
    pub async fn begin(db: &DatabaseConnection) -> Result<Self, DbErr> {
        Ok(match db.get_database_backend() {
            DatabaseBackend::Postgres => BulkTx::Postgres(
                db.get_postgres_connection_pool()
                    .begin()
                    .await
                    .map_err(db_err)?,
            ),
            _ => BulkTx::Sqlite(
                db.get_sqlite_connection_pool()
                    .begin()
                    .await
                    .map_err(db_err)?,
            ),
        })
    }

    pub async fn commit(self) -> Result<(), DbErr> {
        match self {
            BulkTx::Sqlite(tx) => tx.commit().await.map_err(db_err),
            BulkTx::Postgres(tx) => tx.commit().await.map_err(db_err),
        }
    }

    pub async fn rollback(self) -> Result<(), DbErr> {
        match self {
            BulkTx::Sqlite(tx) => tx.rollback().await.map_err(db_err),
            BulkTx::Postgres(tx) => tx.rollback().await.map_err(db_err),
        }
    }

    /// Inserts rows into a table.
    pub async fn insert(&mut self, table: &Table, rows: Vec<Vec<Cell>>) -> Result<(), DbErr> {
        if rows.is_empty() {
            return Ok(());
        }
        match self {
            BulkTx::Postgres(tx) => insert_pg(tx, table, rows).await,
            BulkTx::Sqlite(tx) => {
                let per = (SQLITE_MAX_VARS / table.columns.len()).clamp(1, SQLITE_MAX_ROWS);
                let mut rows = rows.into_iter().peekable();
                let mut full_sql: Option<String> = None;
                while rows.peek().is_some() {
                    let chunk: Vec<Vec<Cell>> = rows.by_ref().take(per).collect();
                    let sql = if chunk.len() == per {
                        full_sql
                            .get_or_insert_with(|| insert_sql(table, per))
                            .clone()
                    } else {
                        insert_sql(table, chunk.len())
                    };
                    let mut query = sqlx::query::<Sqlite>(sqlx::AssertSqlSafe(sql));
                    for cell in chunk.into_iter().flatten() {
                        query = bind_sqlite(query, cell);
                    }
                    query.execute(&mut **tx).await.map_err(db_err)?;
                }
                Ok(())
            }
        }
    }

    /// Runs one statement written with `?` placeholders.
    pub async fn execute(&mut self, sql: &str, cells: Vec<Cell>) -> Result<u64, DbErr> {
        match self {
            BulkTx::Sqlite(tx) => {
                let mut query = sqlx::query::<Sqlite>(sqlx::AssertSqlSafe(sql.to_string()));
                for cell in cells {
                    query = bind_sqlite(query, cell);
                }
                Ok(query
                    .execute(&mut **tx)
                    .await
                    .map_err(db_err)?
                    .rows_affected())
            }
            BulkTx::Postgres(tx) => {
                let sql = numbered(sql);
                let mut query = sqlx::query::<Postgres>(sqlx::AssertSqlSafe(sql));
                for cell in cells {
                    query = bind_pg(query, cell);
                }
                Ok(query
                    .execute(&mut **tx)
                    .await
                    .map_err(db_err)?
                    .rows_affected())
            }
        }
    }
}

fn insert_sql(table: &Table, rows: usize) -> String {
    let columns: Vec<&str> = table.columns.iter().map(|(n, _)| *n).collect();
    let one = format!("({})", vec!["?"; columns.len()].join(","));
    let mut sql = format!(
        "INSERT INTO {} ({}) VALUES ",
        table.name,
        columns.join(", ")
    );
    sql.reserve(rows * (one.len() + 1));
    for i in 0..rows {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str(&one);
    }
    sql
}

/// `?` placeholders as PostgreSQL's `$1, $2, …`.
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            let _ = write!(out, "${n}");
        } else {
            out.push(c);
        }
    }
    out
}

type SqliteQuery<'q> = sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments>;
type PgQuery<'q> = sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>;

fn bind_sqlite(query: SqliteQuery<'_>, cell: Cell) -> SqliteQuery<'_> {
    match cell {
        Cell::Uuid(v) => query.bind(v),
        Cell::Text(v) => query.bind(v),
        Cell::Int(v) => query.bind(v),
        Cell::BigInt(v) => query.bind(v),
        Cell::Date(v) => query.bind(v),
        Cell::Timestamp(v) => query.bind(v),
        Cell::Bool(v) => query.bind(v),
    }
}

fn bind_pg(query: PgQuery<'_>, cell: Cell) -> PgQuery<'_> {
    match cell {
        Cell::Uuid(v) => query.bind(v),
        Cell::Text(v) => query.bind(v),
        Cell::Int(v) => query.bind(v),
        Cell::BigInt(v) => query.bind(v),
        Cell::Date(v) => query.bind(v),
        Cell::Timestamp(v) => query.bind(v),
        Cell::Bool(v) => query.bind(v),
    }
}

/// One column of a chunk, as the typed array PostgreSQL's `unnest` takes.
enum Column {
    Uuid(Vec<Option<Uuid>>),
    Text(Vec<String>),
    Int(Vec<Option<i32>>),
    BigInt(Vec<Option<i64>>),
    Date(Vec<Option<NaiveDate>>),
    Timestamp(Vec<DateTime<Utc>>),
    Bool(Vec<bool>),
}

impl Column {
    fn new(col: Col, capacity: usize) -> Self {
        match col {
            Col::Uuid => Column::Uuid(Vec::with_capacity(capacity)),
            Col::Text => Column::Text(Vec::with_capacity(capacity)),
            Col::Int => Column::Int(Vec::with_capacity(capacity)),
            Col::BigInt => Column::BigInt(Vec::with_capacity(capacity)),
            Col::Date => Column::Date(Vec::with_capacity(capacity)),
            Col::Timestamp => Column::Timestamp(Vec::with_capacity(capacity)),
            Col::Bool => Column::Bool(Vec::with_capacity(capacity)),
        }
    }

    fn push(&mut self, cell: Cell) -> Result<(), DbErr> {
        match (self, cell) {
            (Column::Uuid(v), Cell::Uuid(x)) => v.push(x),
            (Column::Text(v), Cell::Text(x)) => v.push(x),
            (Column::Int(v), Cell::Int(x)) => v.push(x),
            (Column::BigInt(v), Cell::BigInt(x)) => v.push(x),
            (Column::Date(v), Cell::Date(x)) => v.push(x),
            (Column::Timestamp(v), Cell::Timestamp(x)) => v.push(x),
            (Column::Bool(v), Cell::Bool(x)) => v.push(x),
            (_, cell) => {
                return Err(DbErr::Custom(format!(
                    "bulk insert: a {cell:?} in a column of another type"
                )))
            }
        }
        Ok(())
    }

    fn bind(self, query: PgQuery<'_>) -> PgQuery<'_> {
        match self {
            Column::Uuid(v) => query.bind(v),
            Column::Text(v) => query.bind(v),
            Column::Int(v) => query.bind(v),
            Column::BigInt(v) => query.bind(v),
            Column::Date(v) => query.bind(v),
            Column::Timestamp(v) => query.bind(v),
            Column::Bool(v) => query.bind(v),
        }
    }
}

fn pg_array_type(col: Col) -> &'static str {
    match col {
        Col::Uuid => "uuid[]",
        Col::Text => "text[]",
        Col::Int => "int4[]",
        Col::BigInt => "int8[]",
        Col::Date => "date[]",
        Col::Timestamp => "timestamptz[]",
        Col::Bool => "bool[]",
    }
}

const PG_CHUNK: usize = 20_000;

/// `INSERT … SELECT * FROM unnest($1::uuid[], …)`: one statement, one round trip
/// and binary arrays per chunk. (sqlx's COPY stalls ~40 ms per table on TCP.)
async fn insert_pg(
    tx: &mut sqlx::Transaction<'static, Postgres>,
    table: &Table,
    rows: Vec<Vec<Cell>>,
) -> Result<(), DbErr> {
    let names: Vec<&str> = table.columns.iter().map(|(n, _)| *n).collect();
    let params: Vec<String> = table
        .columns
        .iter()
        .enumerate()
        .map(|(i, (_, col))| format!("${}::{}", i + 1, pg_array_type(*col)))
        .collect();
    let sql = format!(
        "INSERT INTO {} ({}) SELECT * FROM unnest({})",
        table.name,
        names.join(", "),
        params.join(", ")
    );
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Vec<Cell>> = rows.by_ref().take(PG_CHUNK).collect();
        let mut columns: Vec<Column> = table
            .columns
            .iter()
            .map(|(_, c)| Column::new(*c, chunk.len()))
            .collect();
        for row in chunk {
            for (column, cell) in columns.iter_mut().zip(row) {
                column.push(cell)?;
            }
        }
        let mut query = sqlx::query::<Postgres>(sqlx::AssertSqlSafe(sql.clone()));
        for column in columns {
            query = column.bind(query);
        }
        query.execute(&mut **tx).await.map_err(db_err)?;
    }
    Ok(())
}

/// Rows waiting to be inserted into one table.
#[derive(Debug)]
pub struct Buffer {
    pub table: &'static Table,
    rows: Vec<Vec<Cell>>,
}

impl Buffer {
    pub fn new(table: &'static Table) -> Self {
        Self {
            table,
            rows: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Vec<Cell>) {
        debug_assert_eq!(row.len(), self.table.columns.len());
        self.rows.push(row);
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The buffered rows, leaving the buffer empty.
    pub fn take(&mut self) -> Vec<Vec<Cell>> {
        std::mem::take(&mut self.rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_for_postgres() {
        assert_eq!(
            numbered("UPDATE t SET a = ?, b = ? WHERE id = ?"),
            "UPDATE t SET a = $1, b = $2 WHERE id = $3"
        );
    }
}
