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
    OptText,
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
    OptText(Option<String>),
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

macro_rules! bind_cell {
    ($query:expr, $cell:expr) => {
        match $cell {
            Cell::Uuid(v) => $query.bind(v),
            Cell::Text(v) => $query.bind(v),
            Cell::OptText(v) => $query.bind(v),
            Cell::Int(v) => $query.bind(v),
            Cell::BigInt(v) => $query.bind(v),
            Cell::Date(v) => $query.bind(v),
            Cell::Timestamp(v) => $query.bind(v),
            Cell::Bool(v) => $query.bind(v),
        }
    };
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

    pub fn backend(&self) -> DatabaseBackend {
        match self {
            BulkTx::Sqlite(_) => DatabaseBackend::Sqlite,
            BulkTx::Postgres(_) => DatabaseBackend::Postgres,
        }
    }

    /// Inserts rows into a table.
    pub async fn insert(&mut self, table: &Table, rows: Vec<Vec<Cell>>) -> Result<(), DbErr> {
        let prepared = Prepared::insert(self.backend(), vec![(table, rows)])?;
        self.run(prepared).await.map(|_| ())
    }

    /// Runs one statement written with `?` placeholders.
    pub async fn execute(&mut self, sql: &str, cells: Vec<Cell>) -> Result<u64, DbErr> {
        let prepared = Prepared::statement(self.backend(), sql, cells);
        self.run(prepared).await
    }

    /// Reads one `(BIGINT, TEXT)` row of a query written with one `?` for a uuid.
    pub async fn fetch_pair(
        &mut self,
        sql: &str,
        id: Uuid,
    ) -> Result<Option<(i64, String)>, DbErr> {
        match self {
            BulkTx::Sqlite(tx) => {
                sqlx::query_as::<_, (i64, String)>(sqlx::AssertSqlSafe(sql.to_string()))
                    .bind(id)
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(db_err)
            }
            BulkTx::Postgres(tx) => {
                sqlx::query_as::<_, (i64, String)>(sqlx::AssertSqlSafe(numbered(sql)))
                    .bind(id)
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(db_err)
            }
        }
    }

    /// Reads rows of a query written with `?` placeholders inside this
    /// transaction, straight into tuples.
    pub async fn fetch_all<T>(&mut self, sql: &str, cells: Vec<Cell>) -> Result<Vec<T>, DbErr>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
            + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
            + Send
            + Unpin,
    {
        match self {
            BulkTx::Sqlite(tx) => {
                let mut query = sqlx::query_as::<Sqlite, T>(sqlx::AssertSqlSafe(sql.to_string()));
                for cell in cells {
                    query = bind_cell!(query, cell);
                }
                query.fetch_all(&mut **tx).await.map_err(db_err)
            }
            BulkTx::Postgres(tx) => {
                let mut query = sqlx::query_as::<Postgres, T>(sqlx::AssertSqlSafe(numbered(sql)));
                for cell in cells {
                    query = bind_cell!(query, cell);
                }
                query.fetch_all(&mut **tx).await.map_err(db_err)
            }
        }
    }

    /// Runs prepared statements in order; answers the rows they affected.
    pub async fn run(&mut self, prepared: Prepared) -> Result<u64, DbErr> {
        let mut affected = 0;
        match (self, prepared) {
            (BulkTx::Sqlite(tx), Prepared::Sqlite(queries)) => {
                for query in queries {
                    affected += query
                        .execute(&mut **tx)
                        .await
                        .map_err(db_err)?
                        .rows_affected();
                }
            }
            (BulkTx::Postgres(tx), Prepared::Postgres(queries)) => {
                for query in queries {
                    affected += query
                        .execute(&mut **tx)
                        .await
                        .map_err(db_err)?
                        .rows_affected();
                }
            }
            _ => {
                return Err(DbErr::Custom(
                    "bulk: statements prepared for another database".into(),
                ))
            }
        }
        Ok(affected)
    }
}

/// Statements with their values bound (and, for PostgreSQL, already encoded in
/// the wire format), ready to run. Preparing costs CPU and needs no connection,
/// so a bulk writer prepares on another thread than the one that waits for the
/// database.
pub enum Prepared {
    Sqlite(Vec<SqliteQuery<'static>>),
    Postgres(Vec<PgQuery<'static>>),
}

impl Prepared {
    /// Inserts rows into several tables: on PostgreSQL in one statement (one
    /// round trip) while the batch is within [`PG_CHUNK`] rows a table, on
    /// SQLite table by table in multi-row statements.
    pub fn insert(
        backend: DatabaseBackend,
        batch: Vec<(&Table, Vec<Vec<Cell>>)>,
    ) -> Result<Self, DbErr> {
        let batch: Vec<(&Table, Vec<Vec<Cell>>)> = batch
            .into_iter()
            .filter(|(_, rows)| !rows.is_empty())
            .collect();
        // A row with a value too few or too many would shift every later one.
        for (table, rows) in &batch {
            if let Some(row) = rows.iter().find(|r| r.len() != table.columns.len()) {
                return Err(DbErr::Custom(format!(
                    "bulk: a row of {} has {} values for {} columns",
                    table.name,
                    row.len(),
                    table.columns.len()
                )));
            }
        }
        match backend {
            DatabaseBackend::Postgres => {
                let mut queries = Vec::new();
                if batch.iter().all(|(_, rows)| rows.len() <= PG_CHUNK) {
                    if !batch.is_empty() {
                        queries.push(insert_pg(batch)?);
                    }
                } else {
                    for (table, rows) in batch {
                        let mut rows = rows.into_iter().peekable();
                        while rows.peek().is_some() {
                            let chunk: Vec<Vec<Cell>> = rows.by_ref().take(PG_CHUNK).collect();
                            queries.push(insert_pg(vec![(table, chunk)])?);
                        }
                    }
                }
                Ok(Prepared::Postgres(queries))
            }
            _ => {
                let mut queries = Vec::new();
                for (table, rows) in batch {
                    insert_sqlite(&mut queries, table, rows);
                }
                Ok(Prepared::Sqlite(queries))
            }
        }
    }

    /// One statement written with `?` placeholders.
    pub fn statement(backend: DatabaseBackend, sql: &str, cells: Vec<Cell>) -> Self {
        match backend {
            DatabaseBackend::Postgres => {
                let mut query = sqlx::query::<Postgres>(sqlx::AssertSqlSafe(numbered(sql)));
                for cell in cells {
                    query = bind_pg(query, cell);
                }
                Prepared::Postgres(vec![query])
            }
            _ => {
                let mut query = sqlx::query::<Sqlite>(sqlx::AssertSqlSafe(sql.to_string()));
                for cell in cells {
                    query = bind_sqlite(query, cell);
                }
                Prepared::Sqlite(vec![query])
            }
        }
    }
}

fn insert_sqlite(queries: &mut Vec<SqliteQuery<'static>>, table: &Table, rows: Vec<Vec<Cell>>) {
    let per = (SQLITE_MAX_VARS / table.columns.len()).clamp(1, SQLITE_MAX_ROWS);
    let mut rows = rows.into_iter().peekable();
    let mut full_sql: Option<String> = None;
    while rows.peek().is_some() {
        let chunk: Vec<Vec<Cell>> = rows.by_ref().take(per).collect();
        let full = chunk.len() == per;
        let sql = if full {
            full_sql
                .get_or_insert_with(|| insert_sql(table, per))
                .clone()
        } else {
            insert_sql(table, chunk.len())
        };
        // Only the full-chunk statement is worth keeping prepared: each size of a
        // last chunk would otherwise stay in the connection's cache, megabytes each.
        let mut query = sqlx::query::<Sqlite>(sqlx::AssertSqlSafe(sql)).persistent(full);
        for cell in chunk.into_iter().flatten() {
            query = bind_sqlite(query, cell);
        }
        queries.push(query);
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
/// `?` placeholders as PostgreSQL's `$1, $2, …`.
/// A statement written with `?` placeholders, numbered for PostgreSQL.
pub(crate) fn statement(
    backend: sea_orm::DatabaseBackend,
    sql: &str,
    values: Vec<sea_orm::Value>,
) -> sea_orm::Statement {
    let sql = if backend == sea_orm::DatabaseBackend::Postgres {
        numbered(sql)
    } else {
        sql.to_string()
    };
    sea_orm::Statement::from_sql_and_values(backend, sql, values)
}

pub(crate) fn numbered(sql: &str) -> String {
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

pub type SqliteQuery<'q> = sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments>;
pub type PgQuery<'q> = sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>;

fn bind_sqlite(query: SqliteQuery<'static>, cell: Cell) -> SqliteQuery<'static> {
    bind_cell!(query, cell)
}

fn bind_pg(query: PgQuery<'static>, cell: Cell) -> PgQuery<'static> {
    bind_cell!(query, cell)
}

/// One column of a chunk, as the typed array PostgreSQL's `unnest` takes.
enum Column {
    Uuid(Vec<Option<Uuid>>),
    Text(Vec<String>),
    OptText(Vec<Option<String>>),
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
            Col::OptText => Column::OptText(Vec::with_capacity(capacity)),
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
            (Column::OptText(v), Cell::OptText(x)) => v.push(x),
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

    fn bind(self, query: PgQuery<'static>) -> PgQuery<'static> {
        match self {
            Column::Uuid(v) => query.bind(v),
            Column::Text(v) => query.bind(v),
            Column::OptText(v) => query.bind(v),
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
        Col::Text | Col::OptText => "text[]",
        Col::Int => "int4[]",
        Col::BigInt => "int8[]",
        Col::Date => "date[]",
        Col::Timestamp => "timestamptz[]",
        Col::Bool => "bool[]",
    }
}

const PG_CHUNK: usize = 50_000;

/// `INSERT … SELECT * FROM unnest($1::uuid[], …)`: binary arrays, one per column.
/// Several tables go into one statement as data-modifying `WITH` parts, so a batch
/// costs one round trip whatever the number of tables. (sqlx's COPY stalls ~40 ms
/// per call on TCP.)
fn insert_pg(batch: Vec<(&Table, Vec<Vec<Cell>>)>) -> Result<PgQuery<'static>, DbErr> {
    let mut parts: Vec<String> = Vec::with_capacity(batch.len());
    let mut n = 0;
    for (table, _) in &batch {
        let names: Vec<&str> = table.columns.iter().map(|(name, _)| *name).collect();
        let params: Vec<String> = table
            .columns
            .iter()
            .map(|(_, col)| {
                n += 1;
                format!("${n}::{}", pg_array_type(*col))
            })
            .collect();
        parts.push(format!(
            "INSERT INTO {} ({}) SELECT * FROM unnest({})",
            table.name,
            names.join(", "),
            params.join(", ")
        ));
    }
    let last = parts.pop().unwrap_or_default();
    let sql = if parts.is_empty() {
        last
    } else {
        let ctes: Vec<String> = parts
            .iter()
            .enumerate()
            .map(|(i, part)| format!("t{i} AS ({part})"))
            .collect();
        format!("WITH {} {last}", ctes.join(", "))
    };
    let mut query = sqlx::query::<Postgres>(sqlx::AssertSqlSafe(sql));
    for (table, rows) in batch {
        let mut columns: Vec<Column> = table
            .columns
            .iter()
            .map(|(_, c)| Column::new(*c, rows.len()))
            .collect();
        for row in rows {
            for (column, cell) in columns.iter_mut().zip(row) {
                column.push(cell)?;
            }
        }
        for column in columns {
            query = column.bind(query);
        }
    }
    Ok(query)
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

/// Reads rows of a query written with `?` placeholders straight into tuples,
/// on either database (the paths that read per account: sea-orm's dynamic
/// rows cost more than the query).
pub async fn fetch_all<T>(
    db: &DatabaseConnection,
    sql: &str,
    cells: Vec<Cell>,
) -> Result<Vec<T>, DbErr>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin,
{
    match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            let mut query = sqlx::query_as::<Postgres, T>(sqlx::AssertSqlSafe(numbered(sql)));
            for cell in cells {
                query = bind_cell!(query, cell);
            }
            query
                .fetch_all(db.get_postgres_connection_pool())
                .await
                .map_err(db_err)
        }
        _ => {
            let mut query = sqlx::query_as::<Sqlite, T>(sqlx::AssertSqlSafe(sql.to_string()));
            for cell in cells {
                query = bind_cell!(query, cell);
            }
            query
                .fetch_all(db.get_sqlite_connection_pool())
                .await
                .map_err(db_err)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_with_a_value_missing_is_refused_not_shifted() {
        const T: Table = Table {
            name: "t",
            columns: &[("a", Col::BigInt), ("b", Col::BigInt)],
        };
        let rows = vec![
            vec![Cell::BigInt(Some(1)), Cell::BigInt(Some(2))],
            vec![Cell::BigInt(Some(3))],
        ];
        for backend in [DatabaseBackend::Sqlite, DatabaseBackend::Postgres] {
            let err = Prepared::insert(backend, vec![(&T, rows.clone())]).err();
            assert!(
                err.is_some_and(|e| e
                    .to_string()
                    .contains("a row of t has 1 values for 2 columns")),
                "{backend:?}"
            );
        }
    }

    #[test]
    fn placeholders_are_numbered_for_postgres() {
        assert_eq!(
            numbered("UPDATE t SET a = ?, b = ? WHERE id = ?"),
            "UPDATE t SET a = $1, b = $2 WHERE id = $3"
        );
    }
}
