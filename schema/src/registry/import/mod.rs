//! Onboarding a house from CSV: all or nothing, idempotent by natural keys.
//!
//! One streaming pass validates every line, within the file (duplicate account
//! numbers and serials, premises described two ways, shares over the whole) and
//! against the registry (an account or meter that already belongs elsewhere),
//! keeping only keys, never the rows; and writes the good lines in bulk inside one
//! transaction, on the other core: new objects are inserted, changed ones updated,
//! identical ones left alone, so importing the same file twice changes nothing.
//! With any error the transaction is rolled back, so nothing is written, and every
//! bad line is reported.
//!
//! Natural keys: a house by its folded one-line address, premises by house and
//! number, an account by number, a person by folded name and first phone or e-mail,
//! a meter by resource and serial, an occupancy by premises, person and role.

pub mod format;
mod tables;
mod write;

use std::collections::{HashMap, HashSet};
use std::io::{Read, Seek, SeekFrom};

use chrono::NaiveDate;
use entities::{account, house, meter, occupancy, person, premises, OccupancyRole};
use futures_util::TryStreamExt;
use sea_orm::{ColumnTrait, DatabaseBackend, DatabaseConnection, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::bulk::{BulkTx, Prepared};
use crate::error::{AppError, AppResult, RowError};
use crate::exact::Share;
use crate::fold::fold;
use crate::registry::Registry;
use format::{Header, ImportRow};

/// At most this many errors are reported; the count says how many there were.
pub const MAX_REPORTED_ERRORS: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Lines are checked and written.
    Importing,
    /// A bad line was found: the rest is only checked, to report every error.
    Checking,
    /// Every line was written; the transaction commits.
    Committing,
}

/// Progress of an import, for a progress bar.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub phase: Phase,
    pub lines: u64,
    pub bytes: u64,
    pub total_bytes: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub lines: u64,
    pub houses: Counts,
    pub premises: Counts,
    pub accounts: Counts,
    pub people: Counts,
    pub occupancies: Counts,
    pub meters: Counts,
    pub error_count: u64,
    pub errors: Vec<RowError>,
}

impl ImportReport {
    pub fn ok(&self) -> bool {
        self.error_count == 0
    }
}

/// What already exists in the organisation, keyed the way the file refers to it.
#[derive(Default)]
pub(crate) struct Existing {
    pub houses: HashMap<String, house::Model>,
    pub premises: HashMap<(Uuid, String), premises::Model>,
    /// By `number_key`.
    pub accounts: HashMap<String, account::Model>,
    pub people: HashMap<String, person::Model>,
    pub occupancies: HashSet<(Uuid, Uuid, OccupancyRole)>,
    pub owner_shares: HashMap<Uuid, Vec<(Uuid, Share)>>,
    /// By resource and `serial_key`.
    pub meters: HashMap<(entities::Resource, String), meter::Model>,
}

/// Reads the organisation's registry as a stream, one row at a time: collecting
/// all rows first would hold each twice (raw and decoded), gigabytes at 100 000
/// accounts.
async fn load_existing(conn: &DatabaseConnection, org: Uuid) -> AppResult<Existing> {
    let mut e = Existing::default();
    let mut houses = house::Entity::find()
        .filter(house::Column::OrganisationId.eq(org))
        .stream(conn)
        .await?;
    while let Some(h) = houses.try_next().await? {
        e.houses.insert(fold(&h.address), h);
    }
    drop(houses);
    let mut rows = premises::Entity::find()
        .filter(premises::Column::OrganisationId.eq(org))
        .stream(conn)
        .await?;
    while let Some(p) = rows.try_next().await? {
        e.premises.insert((p.house_id, p.number.clone()), p);
    }
    drop(rows);
    let mut rows = account::Entity::find()
        .filter(account::Column::OrganisationId.eq(org))
        .stream(conn)
        .await?;
    while let Some(a) = rows.try_next().await? {
        e.accounts.insert(a.number_key.clone(), a);
    }
    drop(rows);
    let mut rows = person::Entity::find()
        .filter(person::Column::OrganisationId.eq(org))
        .stream(conn)
        .await?;
    while let Some(p) = rows.try_next().await? {
        e.people.entry(p.natural_key.clone()).or_insert(p);
    }
    drop(rows);
    let mut rows = occupancy::Entity::find()
        .filter(occupancy::Column::OrganisationId.eq(org))
        .stream(conn)
        .await?;
    while let Some(o) = rows.try_next().await? {
        if o.role == OccupancyRole::Owner && o.until.is_none() {
            e.owner_shares
                .entry(o.premises_id)
                .or_default()
                .push((o.person_id, Share::stored(o.share_num, o.share_den)));
        }
        e.occupancies.insert((o.premises_id, o.person_id, o.role));
    }
    drop(rows);
    let mut rows = meter::Entity::find()
        .filter(meter::Column::OrganisationId.eq(org))
        .stream(conn)
        .await?;
    while let Some(m) = rows.try_next().await? {
        e.meters.insert((m.resource, m.serial_key.clone()), m);
    }
    Ok(e)
}

fn csv_reader<R: Read>(source: R, delimiter: u8) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(false)
        .from_reader(source)
}

/// `;` when the header line has more semicolons than commas (spreadsheets in ru
/// and pt-BR save so), else `,`.
fn sniff_delimiter<R: Read + Seek>(source: &mut R) -> AppResult<u8> {
    let mut first = Vec::new();
    let mut buf = [0_u8; 4096];
    loop {
        let n = source
            .read(&mut buf)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        if n == 0 {
            break;
        }
        first.extend_from_slice(&buf[..n]);
        if first.contains(&b'\n') || first.len() > 64 * 1024 {
            break;
        }
    }
    source
        .seek(SeekFrom::Start(0))
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let line = first.split(|b| *b == b'\n').next().unwrap_or(&[]);
    let semis = line.iter().filter(|b| **b == b';').count();
    let commas = line.iter().filter(|b| **b == b',').count();
    Ok(if semis > commas { b';' } else { b',' })
}

fn file_error(message: String) -> RowError {
    RowError {
        line: 0,
        column: String::new(),
        reason: "unreadable_file",
        message,
    }
}

/// Streams the records of the file, handing each parsed line (or its errors) on.
fn for_each_row<R: Read>(
    reader: &mut csv::Reader<R>,
    today: NaiveDate,
    mut on_row: impl FnMut(Result<ImportRow, Vec<RowError>>, u64) -> AppResult<()>,
) -> AppResult<Result<(), Vec<RowError>>> {
    let mut record = csv::StringRecord::new();
    let header = match reader.read_record(&mut record) {
        Ok(true) => match Header::parse(&record) {
            Ok(h) => h,
            Err(errors) => return Ok(Err(errors)),
        },
        Ok(false) => return Ok(Err(vec![file_error("the file is empty".into())])),
        Err(e) => {
            return Ok(Err(vec![file_error(format!(
                "the header cannot be read: {e}"
            ))]))
        }
    };
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                if record.iter().all(|c| c.trim().is_empty()) {
                    continue;
                }
                let line = record.position().map(|p| p.line()).unwrap_or(0);
                let bytes = record.position().map(|p| p.byte()).unwrap_or(0);
                on_row(format::parse_row(&header, &record, line, today), bytes)?;
            }
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                let message = match e.kind() {
                    csv::ErrorKind::Utf8 { .. } => {
                        "the file is not UTF-8 text; save it as CSV UTF-8".to_string()
                    }
                    _ => e.to_string(),
                };
                return Ok(Err(vec![RowError {
                    line,
                    column: String::new(),
                    reason: "unreadable_line",
                    message,
                }]));
            }
        }
    }
    Ok(Ok(()))
}

/// Batches of writes waiting for the database task; bounds the memory held.
const QUEUE: usize = 1;

/// The file side of an import, on a blocking thread: reads and checks every line
/// and, while the file is still without errors, hands its writes on.
#[allow(clippy::too_many_arguments)]
fn read_and_check<R: Read>(
    source: R,
    delimiter: u8,
    existing: &Existing,
    organisation_id: Uuid,
    today: NaiveDate,
    now: chrono::DateTime<chrono::Utc>,
    total_bytes: u64,
    sink: write::Sink,
) -> AppResult<ImportReport> {
    let mut check = write::Checker::new(existing, today);
    let mut writer = write::Writer::new(existing, organisation_id, now, sink);
    let mut report = ImportReport::default();
    let mut errors: Vec<RowError> = Vec::new();
    let mut error_count = 0_u64;
    let mut reader = csv_reader(source, delimiter);
    let outcome = for_each_row(&mut reader, today, |row, bytes| {
        report.lines += 1;
        let row_errors = match row {
            Ok(row) => {
                let row_errors = check.row(&row);
                if row_errors.is_empty() && error_count == 0 {
                    writer.row(row, &mut report)?;
                }
                row_errors
            }
            Err(e) => e,
        };
        error_count += row_errors.len() as u64;
        for e in row_errors {
            if errors.len() < MAX_REPORTED_ERRORS {
                errors.push(e);
            }
        }
        if report.lines.is_multiple_of(1000) {
            writer.progress(Progress {
                phase: if error_count == 0 {
                    Phase::Importing
                } else {
                    Phase::Checking
                },
                lines: report.lines,
                bytes,
                total_bytes,
            })?;
        }
        Ok(())
    })?;
    if let Err(file_errors) = outcome {
        error_count += file_errors.len() as u64;
        errors.extend(file_errors);
    }
    for e in check.finish() {
        error_count += 1;
        if errors.len() < MAX_REPORTED_ERRORS {
            errors.push(e);
        }
    }
    if report.lines == 0 && error_count == 0 {
        error_count = 1;
        errors.push(file_error("the file has a header but no lines".into()));
    }
    if error_count > 0 {
        errors.sort_by_key(|e| e.line);
        return Ok(ImportReport {
            lines: report.lines,
            error_count,
            errors,
            ..ImportReport::default()
        });
    }
    writer.flush()?;
    writer.progress(Progress {
        phase: Phase::Committing,
        lines: report.lines,
        bytes: total_bytes,
        total_bytes,
    })?;
    Ok(report)
}

/// What the database task gets: statements ready to run, or progress to show.
enum Ready {
    Run(Prepared),
    Progress(Progress),
}

/// The middle stage: binds and encodes the writes of the reading thread, in order.
fn prepare_all(
    backend: DatabaseBackend,
    mut lines: tokio::sync::mpsc::Receiver<write::Op>,
    out: tokio::sync::mpsc::Sender<Result<Ready, DbErr>>,
) {
    while let Some(op) = lines.blocking_recv() {
        let ready = match op {
            write::Op::Insert(batch) => Prepared::insert(backend, batch).map(Ready::Run),
            write::Op::Execute(sql, cells) => {
                Ok(Ready::Run(Prepared::statement(backend, sql, cells)))
            }
            write::Op::Progress(p) => Ok(Ready::Progress(p)),
        };
        if out.blocking_send(ready).is_err() {
            return;
        }
    }
}

impl Registry {
    /// Imports a registry file. With any error, nothing is written and the report
    /// lists the bad lines.
    ///
    /// One pass: a blocking thread reads and checks the file and turns good lines
    /// into batched writes, a second binds and encodes them, and this task runs
    /// them in one transaction as they come.
    /// A bad line stops the writes (the checking goes on, to report every bad
    /// line), and the transaction is rolled back. Checks that need the whole file
    /// run at its end, before the commit.
    pub async fn import_registry<R: Read + Seek + Send + 'static>(
        &self,
        by: &crate::audit::Author,
        organisation_id: Uuid,
        mut source: R,
        progress: &(dyn Fn(Progress) + Send + Sync),
    ) -> AppResult<ImportReport> {
        self.organisation(organisation_id).await?;
        by.check(crate::auth::Target::WholeOrganisation(organisation_id))?;
        let today = self.today();
        let now = self.clock.now();
        let total_bytes = source
            .seek(SeekFrom::End(0))
            .map_err(|e| AppError::Internal(e.to_string()))?;
        source
            .seek(SeekFrom::Start(0))
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let delimiter = sniff_delimiter(&mut source)?;

        let started = std::time::Instant::now();
        let existing = load_existing(&self.db, organisation_id).await?;
        tracing::debug!(elapsed = ?started.elapsed(), "import: registry loaded");

        // Three stages, each on its own thread: reading and checking the file,
        // binding and encoding the statements, and waiting for the database.
        let backend = self.db.get_database_backend();
        let (sender, lines) = tokio::sync::mpsc::channel(QUEUE);
        let sink = write::Sink::new(sender, write::batch_rows(backend));
        let reading = tokio::task::spawn_blocking(move || {
            read_and_check(
                source,
                delimiter,
                &existing,
                organisation_id,
                today,
                now,
                total_bytes,
                sink,
            )
        });
        let (prepared, mut receiver) = tokio::sync::mpsc::channel(QUEUE);
        let preparing = tokio::task::spawn_blocking(move || prepare_all(backend, lines, prepared));

        let mut tx = BulkTx::begin(&self.db).await?;
        let mut failure: Option<AppError> = None;
        let mut writing = std::time::Duration::ZERO;
        while let Some(ready) = receiver.recv().await {
            let op_started = std::time::Instant::now();
            let done = match ready {
                Ok(Ready::Run(prepared)) => tx.run(prepared).await.map(|_| ()),
                Ok(Ready::Progress(p)) => {
                    progress(p);
                    Ok(())
                }
                Err(e) => Err(e),
            };
            writing += op_started.elapsed();
            tracing::trace!(elapsed = ?op_started.elapsed(), "import: batch written");
            if let Err(e) = done {
                failure = Some(e.into());
                break;
            }
        }
        // Closing the queue stops the other threads if the writes failed.
        drop(receiver);
        let _ = preparing.await;
        let read = reading
            .await
            .map_err(|e| AppError::Internal(format!("the import's reading thread failed: {e}")));
        tracing::debug!(elapsed = ?started.elapsed(), ?writing, "import: file read and written");
        let report = match (failure, read) {
            (Some(e), _) | (None, Err(e)) | (None, Ok(Err(e))) => {
                let _ = tx.rollback().await;
                return Err(e);
            }
            (None, Ok(Ok(report))) => report,
        };
        if !report.ok() {
            tx.rollback().await?;
            return Ok(report);
        }
        let counts = |c: &Counts| serde_json::json!({ "created": c.created, "updated": c.updated });
        let summary = serde_json::json!({ "after": {
            "lines": report.lines,
            "houses": counts(&report.houses),
            "premises": counts(&report.premises),
            "accounts": counts(&report.accounts),
            "people": counts(&report.people),
            "occupancies": counts(&report.occupancies),
            "meters": counts(&report.meters),
        }});
        crate::audit::record_bulk(
            &mut tx,
            by,
            organisation_id,
            "registry",
            Some(organisation_id),
            summary,
            now,
        )
        .await?;
        tx.commit().await?;
        tracing::debug!(elapsed = ?started.elapsed(), "import: committed");
        Ok(report)
    }
}
