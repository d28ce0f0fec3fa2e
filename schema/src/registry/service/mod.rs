//! Registry rules and transactions.
//!
//! Invariants: every row carries its `organisation_id` and every lookup is scoped by
//! it; account numbers are unique per organisation; a meter serial is unique per
//! organisation and resource; open account shares and current owner shares of a
//! premises never exceed one whole; nothing referenced is ever deleted (houses and
//! premises are archived, accounts closed, meters archived). Each operation is one
//! transaction that also rewrites the search rows of what it touched.

mod accounts;
mod houses;
mod meters;
mod organisations;
pub mod people;
mod premises;

use std::sync::Arc;

use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, SqlErr, Statement};
use uuid::Uuid;

use crate::clock::Clock;
use crate::error::AppError;

pub use accounts::{account_target, AccountFilter, AccountOrder};
pub use houses::{house_target, HouseFilter, HouseOrder};
pub use meters::{meter_target, MeterFilter, MeterOrder};
pub use people::{houses_of_person, PersonFilter, PersonOrder};
pub use premises::{premises_target, PremisesFilter, PremisesOrder};

/// Takes the write lock on one row for the rest of the transaction, before it is
/// read: a row lock on PostgreSQL, the database's write lock on SQLite. An update
/// reads the row, applies the caller's changes and writes it back; without the
/// lock two concurrent updates of different fields would lose one of them.
pub(crate) async fn lock_row<C: ConnectionTrait>(
    conn: &C,
    table: &'static str,
    id: Uuid,
) -> Result<(), DbErr> {
    let backend = conn.get_database_backend();
    let sql = match backend {
        DatabaseBackend::Postgres => {
            format!("UPDATE {table} SET updated_at = updated_at WHERE id = $1")
        }
        _ => format!("UPDATE {table} SET updated_at = updated_at WHERE id = ?"),
    };
    conn.execute_raw(Statement::from_sql_and_values(backend, sql, [id.into()]))
        .await?;
    Ok(())
}

/// Rows a list may return, from the caller's rights: `None` leaves a dimension
/// open. Ids are those of the listed objects; houses and premises restrict by
/// where the objects are.
#[derive(Debug, Clone, Default)]
pub struct Restrict {
    pub ids: Option<Vec<Uuid>>,
    pub houses: Option<Vec<Uuid>>,
    pub premises: Option<Vec<Uuid>>,
}

/// Offset paging, as the API's connections ask for it.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub offset: u64,
    pub limit: u64,
}

/// Sort direction of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    #[default]
    Asc,
    Desc,
}

impl Direction {
    pub(crate) fn order(self) -> sea_orm::Order {
        match self {
            Direction::Asc => sea_orm::Order::Asc,
            Direction::Desc => sea_orm::Order::Desc,
        }
    }
}

#[derive(Clone)]
pub struct Registry {
    pub(crate) db: DatabaseConnection,
    pub(crate) clock: Arc<dyn Clock>,
}

impl Registry {
    pub fn new(db: DatabaseConnection, clock: Arc<dyn Clock>) -> Self {
        Self { db, clock }
    }

    pub(crate) fn today(&self) -> NaiveDate {
        self.clock.now().date_naive()
    }
}

/// Turns a unique-constraint violation into a clean conflict on `field`.
pub fn unique_as_conflict(err: DbErr, field: &str, message: &str) -> AppError {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => {
            AppError::conflict(field, "duplicate", message)
        }
        _ => err.into(),
    }
}

/// Folds an optional free-text filter into a LIKE pattern.
pub(crate) fn contains_pattern(text: &str) -> String {
    let escaped: String = text
        .trim()
        .chars()
        .filter(|c| *c != '%' && *c != '_')
        .collect();
    format!("%{escaped}%")
}
