//! One error type for every service, and its single mapping to GraphQL errors.
//!
//! Each variant has a stable `extensions.code`; `field` names the offending input
//! field and `reason` is a stable key the UI translates. Database errors are logged
//! with a correlation id and shown as `INTERNAL`, never as SQL text.

use async_graphql::ErrorExtensions;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 404-like: the object does not exist (or is not visible to the caller).
    #[error("{entity} not found")]
    NotFound { entity: &'static str },
    /// The input is malformed or breaks a rule.
    #[error("{field}: {message}")]
    Validation {
        field: String,
        reason: &'static str,
        message: String,
    },
    /// The input clashes with existing data (a duplicate, a used serial).
    #[error("{field}: {message}")]
    Conflict {
        field: String,
        reason: &'static str,
        message: String,
    },
    /// An import file with errors: nothing was written.
    #[error("the file has {} invalid rows", .0.len())]
    Import(Vec<RowError>),
    /// No valid session where one is needed.
    #[error("sign in first")]
    Unauthenticated,
    /// The caller sees the object but their roles do not allow the operation.
    #[error("{operation} is not allowed for your role")]
    Forbidden { operation: String },
    /// Too many attempts; try again after the given number of seconds.
    #[error("too many attempts; try again in {retry_after} s")]
    RateLimited { retry_after: u64 },
    /// Wrong email, password or code (never says which).
    #[error("the email or the password is wrong")]
    InvalidCredentials { reason: &'static str },
    /// A part of the system this operation needs is not set up or not reachable.
    #[error("{message}")]
    Unavailable { what: &'static str, message: String },
    /// Shown to API clients as "internal error" with a correlation id only;
    /// its cause is logged, and printed by the command line.
    #[error("internal error: {0}")]
    Internal(String),
}

/// One bad cell (or row) of an imported file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowError {
    pub line: u64,
    pub column: String,
    pub reason: &'static str,
    pub message: String,
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn validation(
        field: impl Into<String>,
        reason: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self::Validation {
            field: field.into(),
            reason,
            message: message.into(),
        }
    }

    pub fn conflict(
        field: impl Into<String>,
        reason: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self::Conflict {
            field: field.into(),
            reason,
            message: message.into(),
        }
    }

    pub fn not_found(entity: &'static str) -> Self {
        Self::NotFound { entity }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound { .. } => "NOT_FOUND",
            Self::Validation { .. } | Self::Import(_) => "VALIDATION",
            Self::Conflict { .. } => "CONFLICT",
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden { .. } => "FORBIDDEN",
            Self::RateLimited { .. } => "RATE_LIMITED",
            Self::InvalidCredentials { .. } => "INVALID_CREDENTIALS",
            // Named after what is down, so a client or a probe can tell.
            Self::Unavailable { what, .. } => match *what {
                "database" => "DATABASE_UNAVAILABLE",
                "sessions" => "SESSIONS_UNAVAILABLE",
                "bus" => "BUS_UNAVAILABLE",
                _ => "UNAVAILABLE",
            },
            Self::Internal(_) => "INTERNAL",
        }
    }

    /// Prefixes the field with the path of the input it came from.
    pub fn in_field(self, prefix: &str) -> Self {
        match self {
            Self::Validation {
                field,
                reason,
                message,
            } => Self::Validation {
                field: format!("{prefix}.{field}"),
                reason,
                message,
            },
            Self::Conflict {
                field,
                reason,
                message,
            } => Self::Conflict {
                field: format!("{prefix}.{field}"),
                reason,
                message,
            },
            other => other,
        }
    }
}

impl From<sea_orm::DbErr> for AppError {
    fn from(err: sea_orm::DbErr) -> Self {
        match database_down(&err) {
            Some(message) => {
                tracing::error!(error = %err, "the database failed");
                if sqlite_storage_fault(&err) {
                    storage_fault::note();
                }
                Self::Unavailable {
                    what: "database",
                    message: message.into(),
                }
            }
            None => Self::Internal(err.to_string()),
        }
    }
}

/// A decimal kept as text in the database, read back: one that does not
/// read is a loud error naming the table, the column and the row, never a
/// silent zero in a bill.
pub fn stored_decimal(
    table: &str,
    column: &str,
    row: impl std::fmt::Display,
    text: &str,
) -> AppResult<rust_decimal::Decimal> {
    text.trim().parse().map_err(|_| {
        AppError::Internal(format!(
            "{table}.{column} of {row} does not read as a number: {:?}",
            text.chars().take(40).collect::<String>()
        ))
    })
}

/// Whether SQLite failed on its own files: a full or read-only disk, an I/O
/// error, a file it cannot open.
fn sqlite_storage_fault(err: &sea_orm::DbErr) -> bool {
    use sea_orm::{DbErr, RuntimeErr};
    let (DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e))) = err
    else {
        return false;
    };
    let sea_orm::sqlx::Error::Database(db) = e.as_ref() else {
        return false;
    };
    db.try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>()
        .and_then(|_| db.code()?.parse::<i64>().ok())
        .is_some_and(|c| matches!(c & 0xff, 8 | 10 | 13 | 14))
}

/// When SQLite last failed on its files. A connection opened before that may
/// hold descriptors of the storage that failed (a file system the kernel made
/// read-only keeps them read-only even once a repaired one is mounted in its
/// place), so the pool closes such a connection instead of handing it out
/// again (`server::db`).
pub mod storage_fault {
    use std::sync::Mutex;
    use std::time::Instant;

    static LAST: Mutex<Option<Instant>> = Mutex::new(None);

    /// Notes a fault now.
    pub fn note() {
        *LAST.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
        tracing::warn!(
            "the database's storage failed: connections opened before now are not reused"
        );
    }

    /// When the last fault was noted, if one was.
    pub fn last() -> Option<Instant> {
        *LAST.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Why the database cannot serve, in words for the user, when an error says
/// it is down, full or read-only rather than that a query was wrong.
pub fn database_down(err: &sea_orm::DbErr) -> Option<&'static str> {
    use sea_orm::{ConnAcquireErr, DbErr, RuntimeErr};
    let sqlx = match err {
        DbErr::ConnectionAcquire(ConnAcquireErr::Timeout) => {
            return Some("the database does not answer: no connection became free in time")
        }
        DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed) | DbErr::Conn(_) => {
            return Some("the database is not reachable")
        }
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => e,
        _ => return None,
    };
    use sea_orm::sqlx::Error;
    match sqlx.as_ref() {
        Error::PoolTimedOut => {
            Some("the database does not answer: no connection became free in time")
        }
        Error::PoolClosed | Error::WorkerCrashed | Error::Io(_) | Error::Tls(_) => {
            Some("the database is not reachable")
        }
        Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            // SQLite's extended codes keep the primary one in the low byte
            // (PostgreSQL's SQLSTATEs, some all digits, are matched as text).
            let sqlite = db
                .try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>()
                .and_then(|_| code.parse::<i64>().ok())
                .map(|c| c & 0xff);
            match (sqlite, code.as_ref()) {
                (Some(13), _) | (_, "53100") => Some("the database cannot write: its disk is full"),
                (Some(8), _) | (_, "25006") => {
                    Some("the database cannot write: its storage is read-only")
                }
                (Some(10), _) | (_, "58030") => {
                    Some("the database cannot read or write its storage (an I/O error)")
                }
                (Some(14), _) => Some("the database cannot open its file"),
                (_, "53300") | (_, "57P01") | (_, "57P02") | (_, "57P03") => {
                    Some("the database is not accepting connections")
                }
                (_, c) if c.starts_with("08") => Some("the database is not reachable"),
                _ => None,
            }
        }
        _ => None,
    }
}

impl From<sea_orm::TransactionError<AppError>> for AppError {
    fn from(err: sea_orm::TransactionError<AppError>) -> Self {
        match err {
            sea_orm::TransactionError::Connection(db) => db.into(),
            sea_orm::TransactionError::Transaction(app) => app,
        }
    }
}

impl From<AppError> for async_graphql::Error {
    fn from(err: AppError) -> Self {
        let code = err.code();
        match err {
            AppError::Internal(detail) => {
                let correlation = uuid::Uuid::now_v7();
                tracing::error!(%correlation, %detail, "internal error");
                async_graphql::Error::new("internal error").extend_with(|_, e| {
                    e.set("code", code);
                    e.set("correlationId", correlation.to_string());
                })
            }
            AppError::Unauthenticated => {
                async_graphql::Error::new("sign in first").extend_with(|_, e| e.set("code", code))
            }
            AppError::Forbidden { operation } => {
                async_graphql::Error::new(format!("{operation} is not allowed for your role"))
                    .extend_with(|_, e| {
                        e.set("code", code);
                        e.set("operation", operation.as_str());
                    })
            }
            AppError::RateLimited { retry_after } => async_graphql::Error::new(format!(
                "too many attempts; try again in {retry_after} s"
            ))
            .extend_with(|_, e| {
                e.set("code", code);
                e.set("retryAfter", retry_after);
            }),
            AppError::InvalidCredentials { reason } => {
                let message = match reason {
                    "code" => "the code is wrong or has expired",
                    "address_claim_pending" => "this account waits for the owner of its email to confirm it: sign in with a code sent to the email",
                    _ => "the email or the password is wrong",
                };
                async_graphql::Error::new(message).extend_with(|_, e| {
                    e.set("code", code);
                    e.set("reason", reason);
                })
            }
            AppError::Unavailable { what, message } => async_graphql::Error::new(message)
                .extend_with(|_, e| {
                    e.set("code", code);
                    e.set("what", what);
                }),
            AppError::NotFound { entity } => {
                async_graphql::Error::new(format!("{entity} not found")).extend_with(|_, e| {
                    e.set("code", code);
                    e.set("entity", entity);
                })
            }
            AppError::Validation {
                field,
                reason,
                message,
            }
            | AppError::Conflict {
                field,
                reason,
                message,
            } => async_graphql::Error::new(format!("{field}: {message}")).extend_with(|_, e| {
                e.set("code", code);
                e.set("field", field.as_str());
                e.set("reason", reason);
            }),
            AppError::Import(rows) => {
                let count = rows.len();
                let list: Vec<async_graphql::Value> = rows
                    .iter()
                    .map(|r| {
                        let mut m = async_graphql::indexmap::IndexMap::new();
                        m.insert(
                            async_graphql::Name::new("line"),
                            async_graphql::Value::from(r.line),
                        );
                        m.insert(
                            async_graphql::Name::new("column"),
                            async_graphql::Value::from(r.column.as_str()),
                        );
                        m.insert(
                            async_graphql::Name::new("reason"),
                            async_graphql::Value::from(r.reason),
                        );
                        m.insert(
                            async_graphql::Name::new("message"),
                            async_graphql::Value::from(r.message.as_str()),
                        );
                        async_graphql::Value::Object(m)
                    })
                    .collect();
                async_graphql::Error::new(format!(
                    "the file has {count} errors; nothing was imported"
                ))
                .extend_with(|_, e| {
                    e.set("code", code);
                    e.set("field", "input.file");
                    e.set("reason", "invalid_file");
                    e.set("rows", async_graphql::Value::List(list.clone()));
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_stored_decimal_that_does_not_read_names_its_row() {
        assert_eq!(
            super::stored_decimal("norms", "value", "n-1", " 4.5 ").unwrap(),
            rust_decimal::Decimal::new(45, 1)
        );
        let e = super::stored_decimal("charge_lines", "quantity", "a 2026-11 line 3", "1,5")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("charge_lines.quantity of a 2026-11 line 3") && e.contains("\"1,5\""),
            "{e}"
        );
    }

    use super::AppError;

    #[test]
    fn the_command_line_sees_the_cause_and_the_api_a_correlation_id_only() {
        let e = AppError::Internal("database or disk is full".into());
        assert_eq!(e.to_string(), "internal error: database or disk is full");
        let shown =
            async_graphql::Error::from(AppError::Internal("database or disk is full".into()));
        assert_eq!(shown.message, "internal error");
        let ext = format!("{:?}", shown.extensions);
        assert!(
            ext.contains("correlationId") && !ext.contains("disk"),
            "{ext}"
        );
    }
}
