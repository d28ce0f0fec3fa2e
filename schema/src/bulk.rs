//! Bulk inserts for the paths that grow with the number of accounts.
//!
//! PostgreSQL gets one `INSERT … SELECT … FROM unnest($1::text[], …)` per chunk
//! (every column travels as a text array, cast in SQL, so nullable columns need no
//! special array type); SQLite gets one multi-row `VALUES` statement per chunk,
//! whose SQL text is the same for every full chunk, so sqlx reuses the prepared
//! statement. Both run inside the caller's transaction.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, Statement, Value};
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

impl Col {
    fn pg_cast(self) -> &'static str {
        match self {
            Col::Uuid => "uuid",
            Col::Text => "text",
            Col::Int => "integer",
            Col::BigInt => "bigint",
            Col::Date => "date",
            Col::Timestamp => "timestamptz",
            Col::Bool => "boolean",
        }
    }
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

impl Cell {
    fn into_value(self) -> Value {
        match self {
            Cell::Uuid(v) => Value::Uuid(v),
            Cell::Text(v) => Value::String(Some(v)),
            Cell::Int(v) => Value::Int(v),
            Cell::BigInt(v) => Value::BigInt(v),
            Cell::Date(v) => Value::ChronoDate(v),
            Cell::Timestamp(v) => Value::ChronoDateTimeUtc(Some(v)),
            Cell::Bool(v) => Value::Bool(Some(v)),
        }
    }

    /// The text form PostgreSQL casts back; `None` stands for NULL.
    fn into_text(self) -> Option<String> {
        match self {
            Cell::Uuid(v) => v.map(|u| u.to_string()),
            Cell::Text(v) => Some(v),
            Cell::Int(v) => v.map(|n| n.to_string()),
            Cell::BigInt(v) => v.map(|n| n.to_string()),
            Cell::Date(v) => v.map(|d| d.format("%Y-%m-%d").to_string()),
            Cell::Timestamp(v) => Some(v.to_rfc3339()),
            Cell::Bool(v) => Some(if v { "t" } else { "f" }.to_string()),
        }
    }
}

/// A table and the columns a bulk insert fills, in order.
#[derive(Debug)]
pub struct Table {
    pub name: &'static str,
    pub columns: &'static [(&'static str, Col)],
}

/// Rows waiting to be inserted into one table.
#[derive(Debug)]
pub struct Buffer {
    pub table: &'static Table,
    rows: Vec<Vec<Cell>>,
    pub written: u64,
}

/// SQLite allows 32 766 bound values per statement.
const SQLITE_MAX_VARS: usize = 32_766;
const PG_CHUNK: usize = 20_000;

impl Buffer {
    pub fn new(table: &'static Table) -> Self {
        Self {
            table,
            rows: Vec::new(),
            written: 0,
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

    /// Writes every buffered row.
    pub async fn flush<C: ConnectionTrait>(&mut self, conn: &C) -> Result<(), DbErr> {
        let rows = std::mem::take(&mut self.rows);
        let count = rows.len() as u64;
        match conn.get_database_backend() {
            DatabaseBackend::Postgres => {
                let mut rows = rows.into_iter().peekable();
                while rows.peek().is_some() {
                    let chunk: Vec<Vec<Cell>> = rows.by_ref().take(PG_CHUNK).collect();
                    insert_pg(conn, self.table, chunk).await?;
                }
            }
            _ => {
                let per = (SQLITE_MAX_VARS / self.table.columns.len()).clamp(1, 500);
                let mut rows = rows.into_iter().peekable();
                while rows.peek().is_some() {
                    let chunk: Vec<Vec<Cell>> = rows.by_ref().take(per).collect();
                    insert_sqlite(conn, self.table, chunk).await?;
                }
            }
        }
        self.written += count;
        Ok(())
    }
}

fn column_list(table: &Table) -> String {
    table
        .columns
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

async fn insert_pg<C: ConnectionTrait>(
    conn: &C,
    table: &Table,
    rows: Vec<Vec<Cell>>,
) -> Result<(), DbErr> {
    let n = table.columns.len();
    let mut columns: Vec<Vec<String>> = (0..n).map(|_| Vec::with_capacity(rows.len())).collect();
    for row in rows {
        for (i, cell) in row.into_iter().enumerate() {
            // Only non-text columns are nullable, and for them '' is never a value.
            columns[i].push(cell.into_text().unwrap_or_default());
        }
    }
    let selects: Vec<String> = table
        .columns
        .iter()
        .enumerate()
        .map(|(i, (_, col))| match col {
            Col::Text => format!("c{i}"),
            other => format!("NULLIF(c{i}, '')::{}", other.pg_cast()),
        })
        .collect();
    let params: Vec<String> = (1..=n).map(|i| format!("${i}::text[]")).collect();
    let aliases: Vec<String> = (0..n).map(|i| format!("c{i}")).collect();
    let sql = format!(
        "INSERT INTO {} ({}) SELECT {} FROM unnest({}) AS u({})",
        table.name,
        column_list(table),
        selects.join(", "),
        params.join(", "),
        aliases.join(", ")
    );
    let values: Vec<Value> = columns.into_iter().map(Value::from).collect();
    conn.execute_raw(Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        sql,
        values,
    ))
    .await?;
    Ok(())
}

async fn insert_sqlite<C: ConnectionTrait>(
    conn: &C,
    table: &Table,
    rows: Vec<Vec<Cell>>,
) -> Result<(), DbErr> {
    let n = table.columns.len();
    let one = format!("({})", vec!["?"; n].join(", "));
    let sql = format!(
        "INSERT INTO {} ({}) VALUES {}",
        table.name,
        column_list(table),
        vec![one.as_str(); rows.len()].join(", ")
    );
    let values: Vec<Value> = rows.into_iter().flatten().map(Cell::into_value).collect();
    conn.execute_raw(Statement::from_sql_and_values(
        DatabaseBackend::Sqlite,
        sql,
        values,
    ))
    .await?;
    Ok(())
}
