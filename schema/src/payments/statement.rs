//! Importing a bank statement: each credit becomes a payment on the account it
//! names, or waits in the organisation's queue for an accountant.
//!
//! Invariants:
//! - All or nothing: the file is parsed and checked against its own totals
//!   before anything is written, and everything it writes (its lines, the
//!   payments, their ledger entries, their confirmations, the audit entry) is
//!   one transaction.
//! - Importing the same file again changes nothing and answers the first
//!   import; a credit whose bank reference was counted before (a statement
//!   that overlaps an earlier one, a payment recorded by hand) is kept as a
//!   `duplicate` line and counts nothing.
//! - A credit is matched by [`matching::find`]; payments are allocated as
//!   [`Payments::record`] allocates them, with the debts read once for the
//!   whole file inside the transaction (the organisation's payments are
//!   locked on PostgreSQL; SQLite's writer holds the database).

use std::collections::{HashMap, HashSet};

use chrono::Datelike;
use entities::{organisation, statement_import};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter};
use sha2::{Digest, Sha256};
use statements::{CsvMapping, Format, Limits};
use uuid::Uuid;

use super::allocation::allocate;
use super::matching::{self, How};
use super::service::{caller, hex, Balance, Confirmed, Payments};
use crate::audit::{self, Author};
use crate::auth::Target;
use crate::billing::calc::Period;
use crate::bulk::{BulkTx, Cell, Col, Prepared, Table};
use crate::error::{AppError, AppResult};
use crate::events::{topics, NewEvent};

/// A file to import.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub file_name: String,
    /// Sniffed from the file when absent (a CSV must be named, with its mapping).
    pub format: Option<Format>,
    pub mapping: Option<CsvMapping>,
}

/// How far an import is.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// `read`, `matched`, `written`.
    pub phase: &'static str,
    pub done: u64,
    pub total: u64,
}

#[derive(Debug, Clone)]
pub struct Imported {
    pub import: statement_import::Model,
    /// The file was imported before: nothing was written.
    pub replayed: bool,
}

const LINES: Table = Table {
    name: "statement_lines",
    columns: &[
        ("id", Col::Uuid),
        ("organisation_id", Col::Uuid),
        ("import_id", Col::Uuid),
        ("position", Col::Int),
        ("amount_minor", Col::BigInt),
        ("booked_on", Col::Date),
        ("bank_reference", Col::Text),
        ("payer", Col::OptText),
        ("payer_account", Col::OptText),
        ("payer_tax_id", Col::OptText),
        ("text", Col::Text),
        ("status", Col::Text),
        ("matched_by", Col::OptText),
        ("account_id", Col::Uuid),
        ("payment_id", Col::Uuid),
    ],
};

const PAYMENTS: Table = Table {
    name: "payments",
    columns: &[
        ("id", Col::Uuid),
        ("organisation_id", Col::Uuid),
        ("account_id", Col::Uuid),
        ("house_id", Col::Uuid),
        ("amount_minor", Col::BigInt),
        ("method", Col::Text),
        ("paid_on", Col::Date),
        ("period", Col::Text),
        ("bank_reference", Col::OptText),
        ("payer", Col::OptText),
        ("purpose", Col::OptText),
        ("source", Col::Text),
        ("recorded_by", Col::Text),
        ("created_at", Col::Timestamp),
    ],
};

const LEDGER: Table = Table {
    name: "ledger_entries",
    columns: &[
        ("id", Col::Uuid),
        ("organisation_id", Col::Uuid),
        ("account_id", Col::Uuid),
        ("house_id", Col::Uuid),
        ("period", Col::Text),
        ("debt_period", Col::OptText),
        ("service_id", Col::Uuid),
        ("kind", Col::Text),
        ("amount_minor", Col::BigInt),
        ("document", Col::Text),
        ("document_id", Col::Uuid),
        ("created_at", Col::Timestamp),
    ],
};

const INSERT_IMPORT: &str =
    "INSERT INTO statement_imports (id, organisation_id, format, file_name, \
     file_hash, statement_ref, bank_account, currency, entries, matched, matched_minor, unmatched, \
     unmatched_minor, duplicates, debits, debits_minor, imported_by, created_at) \
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0, 0, 0, 0, 0, ?, ?)";

const UPDATE_IMPORT: &str = "UPDATE statement_imports SET matched = ?, matched_minor = ?, \
     unmatched = ?, unmatched_minor = ?, duplicates = ?, debits = ?, debits_minor = ? WHERE id = ?";

/// Rows written per statement (and progress step).
const CHUNK: usize = 5_000;
/// Bank references looked up per query.
const REFS_PER_QUERY: usize = 1_000;

/// What became of the file's entries.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    matched: i32,
    matched_minor: i64,
    unmatched: i32,
    unmatched_minor: i64,
    duplicates: i32,
    debits: i32,
    debits_minor: i64,
}

fn bulk_err(e: sea_orm::DbErr) -> AppError {
    let text = e.to_string();
    if text.contains("UNIQUE") || text.contains("duplicate key") {
        return AppError::conflict(
            "file",
            "already_imported",
            "this file is being imported by another request",
        );
    }
    AppError::from(e)
}

fn opt(v: &Option<String>, max: usize) -> Option<String> {
    v.as_ref().map(|s| s.chars().take(max).collect())
}

impl Payments {
    /// Imports a statement file into organisation `org`; `progress` hears how
    /// far it is.
    pub async fn import_statement(
        &self,
        by: &Author,
        org: Uuid,
        bytes: Vec<u8>,
        request: Request,
        progress: &(dyn Fn(Progress) + Sync),
    ) -> AppResult<Imported> {
        by.check(Target::WholeOrganisation(org))?;
        let mut clock = Phases::start();
        let name = request.file_name.trim();
        if name.chars().count() > 255 {
            return Err(AppError::validation(
                "fileName",
                "too_long",
                "at most 255 characters",
            ));
        }
        let file_name = if name.is_empty() { "statement" } else { name }.to_string();
        let hash = hex(&Sha256::digest(&bytes));
        if let Some(first) = self.import_by_hash(org, &hash).await? {
            return Ok(Imported {
                import: first,
                replayed: true,
            });
        }
        let format = request
            .format
            .or_else(|| statements::sniff(&bytes))
            .ok_or_else(|| {
                AppError::validation(
                    "format",
                    "unknown",
                    "not a camt.053, CNAB 240 or 1CClientBankExchange file; for a CSV choose the format and its column mapping",
                )
            })?;
        let mapping = match (format, request.mapping) {
            (Format::Csv, None) => {
                return Err(AppError::validation(
                    "csvMapping",
                    "required",
                    "a CSV statement needs its column mapping",
                ))
            }
            (Format::Csv, Some(m)) => {
                m.validate().map_err(|e| {
                    AppError::validation(
                        format!("csvMapping.{}", e.field),
                        "invalid",
                        e.reason.clone(),
                    )
                })?;
                Some(m)
            }
            (_, _) => None,
        };
        let statement = tokio::task::spawn_blocking(move || {
            statements::parse(format, &bytes, mapping.as_ref(), &Limits::default())
        })
        .await
        .map_err(|e| AppError::Internal(format!("parsing a statement: {e}")))?
        .map_err(|e| AppError::validation("file", "invalid_statement", e.to_string()))?;
        let o = organisation::Entity::find_by_id(org)
            .one(&self.db)
            .await?
            .ok_or_else(|| AppError::not_found("organisation"))?;
        if let Some(c) = &statement.currency {
            if !c.eq_ignore_ascii_case(&o.currency) {
                return Err(AppError::validation(
                    "file",
                    "currency",
                    format!(
                        "the statement is in {c}, the organisation keeps its books in {}",
                        o.currency
                    ),
                ));
            }
        }
        let total = statement.entries.len() as u64;
        clock.lap("parsed");
        progress(Progress {
            phase: "read",
            done: total,
            total,
        });
        let rule = super::service::rule(&self.db, org).await?;
        let now = self.clock.now();
        let import_id = Uuid::now_v7();
        let mut tx = BulkTx::begin(&self.db).await?;
        // A write first: SQLite's writer lock is held from here on.
        tx.execute(
            INSERT_IMPORT,
            vec![
                Cell::Uuid(Some(import_id)),
                Cell::Uuid(Some(org)),
                Cell::Text(format.as_str().into()),
                Cell::Text(file_name),
                Cell::Text(hash),
                Cell::OptText(opt(&statement.id, 200)),
                Cell::OptText(opt(&statement.account, 100)),
                Cell::OptText(statement.currency.clone()),
                Cell::Int(Some(statement.entries.len() as i32)),
                Cell::Text(caller(by)),
                Cell::Timestamp(now),
            ],
        )
        .await
        .map_err(bulk_err)?;
        let known = known_references(&mut tx, org, &statement.entries).await?;
        let accounts: Vec<(Uuid, Uuid, Uuid, String)> = tx
            .fetch_all(
                "SELECT id, house_id, premises_id, number_key FROM accounts WHERE organisation_id = ?",
                vec![Cell::Uuid(Some(org))],
            )
            .await?;
        let by_number: HashMap<String, Uuid> = accounts
            .iter()
            .map(|(id, _, _, key)| (key.clone(), *id))
            .collect();
        let places: HashMap<Uuid, (Uuid, Uuid)> = accounts
            .iter()
            .map(|(id, house, premises, _)| (*id, (*house, *premises)))
            .collect();
        drop(accounts);
        let payers: HashMap<String, Uuid> = tx
            .fetch_all::<(String, Uuid)>(
                "SELECT payer_key, account_id FROM payer_matches WHERE organisation_id = ?",
                vec![Cell::Uuid(Some(org))],
            )
            .await?
            .into_iter()
            .collect();
        // Which account each entry pays for.
        let mut seen: HashSet<&str> = HashSet::new();
        let mut fates: Vec<Fate> = Vec::with_capacity(statement.entries.len());
        for e in &statement.entries {
            let fate = if !e.credit {
                Fate::Debit
            } else if known.contains(&e.bank_ref) || !seen.insert(e.bank_ref.as_str()) {
                Fate::Duplicate
            } else {
                let keys = matching::payer_keys(
                    e.payer_name.as_deref(),
                    e.payer_account.as_deref(),
                    e.payer_tax_id.as_deref(),
                );
                match matching::find(&e.text, &keys, &by_number, &payers) {
                    Ok((account, how)) => Fate::Matched(account, how),
                    Err(_) => Fate::Unmatched,
                }
            };
            fates.push(fate);
        }
        drop(seen);
        clock.lap("references, accounts and payers read; matched");
        progress(Progress {
            phase: "matched",
            done: total,
            total,
        });
        let mut matched: Vec<Uuid> = fates
            .iter()
            .filter_map(|f| match f {
                Fate::Matched(a, _) => Some(*a),
                _ => None,
            })
            .collect();
        matched.sort();
        matched.dedup();
        lock_payments(&mut tx, org).await?;
        // Read under the lock: a period closing now has finished, or waits.
        let last_closed = super::service::last_closed(&self.db, org).await?;
        clock.lap("payments locked");
        let mut balances = balances(&mut tx, org, &matched, by_number.len()).await?;
        clock.lap("balances read");
        let backend = tx.backend();
        // Batches are encoded for the database on a blocking thread while the
        // one before is written and the next is built.
        let (raw, mut raw_rx) = tokio::sync::mpsc::channel::<Batch>(1);
        let (encoded_tx, mut encoded) = tokio::sync::mpsc::channel::<Result<Prepared, DbErr>>(1);
        let encoder = tokio::task::spawn_blocking(move || {
            while let Some(batch) = raw_rx.blocking_recv() {
                if encoded_tx
                    .blocking_send(Prepared::insert(backend, batch))
                    .is_err()
                {
                    break;
                }
            }
        });
        let mut in_flight = 0usize;
        let recorded_by = caller(by);
        let mut counts = Counts::default();
        let (mut lines, mut pays, mut ledger) = (Vec::new(), Vec::new(), Vec::new());
        let mut news: Vec<NewEvent> = Vec::new();
        for (n, (e, fate)) in statement.entries.iter().zip(&fates).enumerate() {
            let (status, how, account, payment) = match fate {
                Fate::Debit => {
                    counts.debits += 1;
                    counts.debits_minor += e.amount_minor;
                    ("debit", None, None, None)
                }
                Fate::Duplicate => {
                    counts.duplicates += 1;
                    ("duplicate", None, None, None)
                }
                Fate::Unmatched => {
                    counts.unmatched += 1;
                    counts.unmatched_minor += e.amount_minor;
                    ("unmatched", None, None, None)
                }
                Fate::Matched(account, how) => {
                    counts.matched += 1;
                    counts.matched_minor += e.amount_minor;
                    let (house, premises) = places.get(account).copied().unwrap_or_default();
                    let id = Uuid::now_v7();
                    let period = landing(last_closed, e.booked_on)?;
                    pays.push(vec![
                        Cell::Uuid(Some(id)),
                        Cell::Uuid(Some(org)),
                        Cell::Uuid(Some(*account)),
                        Cell::Uuid(Some(house)),
                        Cell::BigInt(Some(e.amount_minor)),
                        Cell::Text("transfer".into()),
                        Cell::Date(Some(e.booked_on)),
                        Cell::Text(period.to_string()),
                        Cell::OptText(Some(e.bank_ref.chars().take(100).collect())),
                        Cell::OptText(opt(&e.payer_name, 300)),
                        Cell::OptText(Some(e.text.chars().take(1000).collect())),
                        Cell::Text("statement".into()),
                        Cell::Text(recorded_by.clone()),
                        Cell::Timestamp(now),
                    ]);
                    let b = balances.entry(*account).or_default();
                    let split = allocate(e.amount_minor, &b.debts, rule);
                    let mut entries: Vec<(Option<String>, Option<Uuid>, i64)> = Vec::new();
                    for (k, part) in &split.parts {
                        let debt = &mut b.debts[*k];
                        debt.outstanding_minor -= part;
                        entries.push((Some(debt.period.clone()), debt.service_id, -part));
                    }
                    b.debts.retain(|d| d.outstanding_minor > 0);
                    if split.credit_minor > 0 {
                        entries.push((None, None, -split.credit_minor));
                        b.advance_minor += split.credit_minor;
                    }
                    b.balance_minor -= e.amount_minor;
                    for (debt, service, amount) in entries {
                        ledger.push(vec![
                            Cell::Uuid(Some(Uuid::now_v7())),
                            Cell::Uuid(Some(org)),
                            Cell::Uuid(Some(*account)),
                            Cell::Uuid(Some(house)),
                            Cell::Text(period.to_string()),
                            Cell::OptText(debt),
                            Cell::Uuid(service),
                            Cell::Text("payment".into()),
                            Cell::BigInt(Some(amount)),
                            Cell::Text("payment".into()),
                            Cell::Uuid(Some(id)),
                            Cell::Timestamp(now),
                        ]);
                    }
                    news.push(NewEvent {
                        organisation_id: org,
                        topic: topics::PAYMENT_CONFIRMED,
                        house_id: Some(house),
                        premises_id: Some(premises),
                        account_id: Some(*account),
                        object_id: Some(id),
                        payload: serde_json::to_value(Confirmed {
                            payment_id: id,
                            account_id: *account,
                            kind: "payment".into(),
                            amount_minor: e.amount_minor,
                            balance_minor: b.balance_minor,
                        })
                        .unwrap_or_default(),
                    });
                    ("matched", Some(*how), Some(*account), Some(id))
                }
            };
            lines.push(vec![
                Cell::Uuid(Some(Uuid::now_v7())),
                Cell::Uuid(Some(org)),
                Cell::Uuid(Some(import_id)),
                Cell::Int(Some(i32::try_from(e.position).unwrap_or(i32::MAX))),
                Cell::BigInt(Some(e.amount_minor)),
                Cell::Date(Some(e.booked_on)),
                Cell::Text(e.bank_ref.clone()),
                Cell::OptText(opt(&e.payer_name, 300)),
                Cell::OptText(opt(&e.payer_account, 100)),
                Cell::OptText(opt(&e.payer_tax_id, 50)),
                Cell::Text(e.text.clone()),
                Cell::Text(status.into()),
                Cell::OptText(how.map(|h: How| h.as_str().to_string())),
                Cell::Uuid(account),
                Cell::Uuid(payment),
            ]);
            if lines.len() >= CHUNK {
                let batch = vec![
                    (&LINES, std::mem::take(&mut lines)),
                    (&PAYMENTS, std::mem::take(&mut pays)),
                    (&LEDGER, std::mem::take(&mut ledger)),
                ];
                raw.send(batch).await.map_err(|_| encoder_gone())?;
                in_flight += 1;
                if in_flight > 1 {
                    let prepared = encoded.recv().await.ok_or_else(encoder_gone)??;
                    tx.run(prepared).await?;
                    in_flight -= 1;
                    progress(Progress {
                        phase: "written",
                        done: n as u64 + 1 - CHUNK as u64,
                        total,
                    });
                }
            }
        }
        let batch = vec![(&LINES, lines), (&PAYMENTS, pays), (&LEDGER, ledger)];
        raw.send(batch).await.map_err(|_| encoder_gone())?;
        drop(raw);
        while let Some(prepared) = encoded.recv().await {
            tx.run(prepared?).await?;
        }
        encoder
            .await
            .map_err(|e| AppError::Internal(format!("encoding an import: {e}")))?;
        clock.lap("lines, payments and ledger written");
        let c = counts;
        tx.execute(
            UPDATE_IMPORT,
            vec![
                Cell::Int(Some(c.matched)),
                Cell::BigInt(Some(c.matched_minor)),
                Cell::Int(Some(c.unmatched)),
                Cell::BigInt(Some(c.unmatched_minor)),
                Cell::Int(Some(c.duplicates)),
                Cell::Int(Some(c.debits)),
                Cell::BigInt(Some(c.debits_minor)),
                Cell::Uuid(Some(import_id)),
            ],
        )
        .await?;
        audit::record_bulk(
            &mut tx,
            by,
            org,
            "statement_import",
            Some(import_id),
            serde_json::json!({ "after": {
                "format": format.as_str(),
                "statement": statement.id,
                "entries": statement.entries.len(),
                "matched": c.matched,
                "matchedMinor": c.matched_minor,
                "unmatched": c.unmatched,
                "duplicates": c.duplicates,
                "debits": c.debits,
            }}),
            now,
        )
        .await?;
        let events = crate::events::emit_bulk(&mut tx, org, news, now).await?;
        clock.lap("audit and confirmations written");
        tx.commit().await.map_err(bulk_err)?;
        clock.lap("committed");
        progress(Progress {
            phase: "written",
            done: total,
            total,
        });
        if let Some(bus) = &self.events {
            bus.committed(events);
        }
        let import = statement_import::Entity::find_by_id(import_id)
            .one(&self.db)
            .await?
            .ok_or_else(|| AppError::not_found("statement import"))?;
        Ok(Imported {
            import,
            replayed: false,
        })
    }

    async fn import_by_hash(
        &self,
        org: Uuid,
        hash: &str,
    ) -> AppResult<Option<statement_import::Model>> {
        Ok(statement_import::Entity::find()
            .filter(statement_import::Column::OrganisationId.eq(org))
            .filter(statement_import::Column::FileHash.eq(hash))
            .one(&self.db)
            .await?)
    }
}

type Batch = Vec<(&'static Table, Vec<Vec<Cell>>)>;

fn encoder_gone() -> AppError {
    AppError::Internal("the import's encoder stopped".into())
}

/// How long each phase of an import took, in the debug log.
struct Phases(std::time::Instant);

impl Phases {
    fn start() -> Self {
        Phases(std::time::Instant::now())
    }

    fn lap(&mut self, phase: &str) {
        tracing::debug!(elapsed = ?self.0.elapsed(), "statement import: {phase}");
        self.0 = std::time::Instant::now();
    }
}

enum Fate {
    Debit,
    Duplicate,
    Unmatched,
    Matched(Uuid, How),
}

/// The period whose receipt shows money received on `day`.
fn landing(last_closed: Option<Period>, day: chrono::NaiveDate) -> AppResult<Period> {
    let month = Period::new(day.year(), day.month()).ok_or_else(|| {
        AppError::validation("file", "invalid_date", format!("{day} is out of range"))
    })?;
    Ok(match last_closed {
        Some(closed) if closed >= month => closed.next(),
        _ => month,
    })
}

/// The bank references of the file counted before: payments, and lines of
/// earlier statements.
async fn known_references(
    tx: &mut BulkTx,
    org: Uuid,
    entries: &[statements::Entry],
) -> AppResult<HashSet<String>> {
    let refs: Vec<&str> = entries.iter().map(|e| e.bank_ref.as_str()).collect();
    let mut known = HashSet::new();
    for chunk in refs.chunks(REFS_PER_QUERY) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let sql = format!(
            "SELECT bank_reference FROM payments WHERE organisation_id = ? AND bank_reference IN ({marks}) \
             UNION SELECT bank_reference FROM statement_lines WHERE organisation_id = ? \
             AND status <> 'duplicate' AND bank_reference IN ({marks})"
        );
        let mut cells = Vec::with_capacity(chunk.len() * 2 + 2);
        for _ in 0..2 {
            cells.push(Cell::Uuid(Some(org)));
            cells.extend(chunk.iter().map(|r| Cell::Text((*r).to_string())));
        }
        let rows: Vec<(String,)> = tx.fetch_all(&sql, cells).await?;
        known.extend(rows.into_iter().map(|r| r.0));
    }
    Ok(known)
}

/// Holds the organisation's payments lock alone (PostgreSQL; SQLite's writer
/// holds the database): no payment is recorded while the import reads and
/// settles the debts.
async fn lock_payments(tx: &mut BulkTx, org: Uuid) -> AppResult<()> {
    if tx.backend() != sea_orm::DatabaseBackend::Postgres {
        return Ok(());
    }
    let (class, key) = super::service::payments_lock(org);
    tx.execute(
        "SELECT pg_advisory_xact_lock(?, ?)",
        vec![Cell::Int(Some(class)), Cell::Int(Some(key))],
    )
    .await?;
    Ok(())
}

/// The balances of the accounts being paid, from the ledger: one query for
/// the organisation when most of it is paid, else by account.
async fn balances(
    tx: &mut BulkTx,
    org: Uuid,
    ids: &[Uuid],
    all: usize,
) -> AppResult<HashMap<Uuid, Balance>> {
    type Row = (Uuid, Option<String>, Option<Uuid>, i64);
    const SELECT: &str = "SELECT account_id, debt_period, service_id, \
         CAST(SUM(amount_minor) AS BIGINT) FROM ledger_entries WHERE organisation_id = ?";
    const GROUP: &str = " GROUP BY account_id, debt_period, service_id";
    let mut rows: Vec<Row> = Vec::new();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    if ids.len() * 4 > all {
        rows = tx
            .fetch_all(&format!("{SELECT}{GROUP}"), vec![Cell::Uuid(Some(org))])
            .await?;
    } else {
        for chunk in ids.chunks(REFS_PER_QUERY) {
            let marks = vec!["?"; chunk.len()].join(", ");
            let mut cells = vec![Cell::Uuid(Some(org))];
            cells.extend(chunk.iter().map(|id| Cell::Uuid(Some(*id))));
            let part: Vec<Row> = tx
                .fetch_all(
                    &format!("{SELECT} AND account_id IN ({marks}){GROUP}"),
                    cells,
                )
                .await?;
            rows.extend(part);
        }
    }
    let mut by_account: HashMap<Uuid, Vec<super::service::Bucket>> = HashMap::new();
    for (account, debt, service, amount) in rows {
        by_account
            .entry(account)
            .or_default()
            .push((debt, service, amount));
    }
    Ok(by_account
        .into_iter()
        .map(|(a, buckets)| (a, Balance::of(buckets)))
        .collect())
}
