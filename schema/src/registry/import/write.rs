//! The registry import's line work: checking each line, then turning it into writes.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use entities::{account, HouseStatus, OccupancyRole, RecordStatus, Resource};
use uuid::Uuid;

use super::format::{HouseParts, ImportRow};
use super::tables::{
    enum_text, text, ACCOUNTS, HOUSES, METERS, OCCUPANCIES, PEOPLE, PERSON_TERMS, PREMISES,
};
use super::{Counts, Existing, ImportReport, Progress};
use crate::bulk::{Buffer, Cell, Table};
use crate::error::{AppError, AppResult, RowError};
use crate::exact::Share;
use crate::fold::fold;
use crate::registry::drafts::{HouseDraft, ValidHouse, ValidPremises};
use crate::search::index;

type PremisesKey = (String, String);

fn row_error(line: u64, column: &str, reason: &'static str, message: String) -> RowError {
    RowError {
        line,
        column: column.to_string(),
        reason,
        message,
    }
}

fn house_draft(address: &str, parts: &HouseParts) -> HouseDraft {
    HouseDraft {
        city: parts.city.clone(),
        street: parts.street.clone(),
        building: parts.building.clone(),
        postal_code: parts.postal_code.clone(),
        address: address.to_string(),
        ..HouseDraft::default()
    }
}

/// What the checker keeps of one premises of the file.
struct PremisesSeen {
    described: ValidPremises,
    line: u64,
    /// Sum of the shares of the file's accounts on it.
    account_shares: (i128, i128),
    /// The file's owners (by natural key) and their shares.
    owners: Vec<(String, Share)>,
}

/// Everything that makes a file wrong as a whole. It keeps keys and small
/// summaries per premises, never the rows: premises are numbered in the order met
/// and referred to by that number.
pub(super) struct Checker<'a> {
    existing: &'a Existing,
    premises_key_of: HashMap<Uuid, (Uuid, String)>,
    new_houses: HashSet<String>,
    premises_index: HashMap<PremisesKey, u32>,
    premises: Vec<PremisesSeen>,
    accounts: HashMap<String, u64>,
    meters: HashMap<(Resource, String), (u32, u64)>,
    today: NaiveDate,
}

impl<'a> Checker<'a> {
    pub(super) fn new(existing: &'a Existing, today: NaiveDate) -> Self {
        let premises_key_of = existing
            .premises
            .values()
            .map(|p| (p.id, (p.house_id, p.number.clone())))
            .collect();
        Self {
            existing,
            premises_key_of,
            new_houses: HashSet::new(),
            premises_index: HashMap::new(),
            premises: Vec::new(),
            accounts: HashMap::new(),
            meters: HashMap::new(),
            today,
        }
    }

    pub(super) fn row(&mut self, row: &ImportRow) -> Vec<RowError> {
        let mut errors = Vec::new();
        let line = row.line;
        let house_fold = fold(&row.house);
        let existing_house = self.existing.houses.get(&house_fold);
        if existing_house.is_none() {
            if !self.new_houses.contains(&house_fold) {
                match &row.house_parts {
                    Some(parts) => match house_draft(&row.house, parts).validate(self.today) {
                        Ok(_) => {
                            self.new_houses.insert(house_fold.clone());
                        }
                        Err(AppError::Validation { field, reason, message }) => {
                            let column = match field.as_str() {
                                "city" => "house_city",
                                "street" => "house_street",
                                "building" => "house_building",
                                "postalCode" => "house_postal_code",
                                _ => "house",
                            };
                            errors.push(row_error(line, column, reason, message));
                        }
                        Err(other) => {
                            errors.push(row_error(line, "house", "invalid", other.to_string()))
                        }
                    },
                    None => errors.push(row_error(
                        line,
                        "house",
                        "unknown_house",
                        format!("no house '{}' in the registry; create it first or fill house_city, house_street and house_building", row.house),
                    )),
                }
            }
        } else if existing_house.is_some_and(|h| h.status == HouseStatus::Archived) {
            errors.push(row_error(
                line,
                "house",
                "archived",
                "the house is archived".into(),
            ));
        }

        let key: PremisesKey = (house_fold, row.premises.number.clone());
        let premises = match self.premises_index.get(&key) {
            Some(&index) => {
                let first = &self.premises[index as usize];
                if first.described != row.premises {
                    errors.push(row_error(
                        line,
                        "premises_number",
                        "premises_mismatch",
                        format!(
                            "premises {} is described differently on line {}",
                            row.premises.number, first.line
                        ),
                    ));
                }
                index
            }
            None => {
                let index = self.premises.len() as u32;
                self.premises.push(PremisesSeen {
                    described: row.premises.clone(),
                    line,
                    account_shares: (0, 1),
                    owners: Vec::new(),
                });
                self.premises_index.insert(key, index);
                index
            }
        };
        let same_premises = |house_id: &Uuid, number: &String| {
            *number == row.premises.number && existing_house.is_some_and(|h| h.id == *house_id)
        };

        let number_key = index::code_key(&row.account.number);
        if let Some(first_line) = self.accounts.get(&number_key) {
            errors.push(row_error(
                line,
                "account_number",
                "duplicate",
                format!(
                    "account {} is already on line {first_line}",
                    row.account.number
                ),
            ));
        } else {
            let seen = &mut self.premises[premises as usize];
            seen.account_shares = Share::add(seen.account_shares, row.account.share);
            if let Some(a) = self.existing.accounts.get(&number_key) {
                let same = self
                    .premises_key_of
                    .get(&a.premises_id)
                    .is_some_and(|(h, n)| same_premises(h, n));
                if !same {
                    errors.push(row_error(
                        line,
                        "account_number",
                        "duplicate",
                        format!(
                            "account {} already belongs to other premises",
                            row.account.number
                        ),
                    ));
                }
            }
            self.accounts.insert(number_key, line);
        }

        if let Some((p, o)) = &row.person {
            if o.role == OccupancyRole::Owner {
                let owners = &mut self.premises[premises as usize].owners;
                let key = p.natural_key();
                match owners.iter_mut().find(|(k, _)| *k == key) {
                    Some(owner) => owner.1 = o.share,
                    None => owners.push((key, o.share)),
                }
            }
        }

        for (slot, m) in row.meters.iter().enumerate() {
            let meter_key = (m.resource, index::code_key(&m.serial));
            if let Some(existing) = self.existing.meters.get(&meter_key) {
                let same = existing
                    .premises_id
                    .and_then(|id| self.premises_key_of.get(&id))
                    .is_some_and(|(h, n)| same_premises(h, n));
                if !same {
                    errors.push(row_error(
                        line,
                        &format!("meter{}_serial", slot + 1),
                        "duplicate",
                        format!("meter {} is already installed elsewhere", m.serial),
                    ));
                }
            }
            match self.meters.get(&meter_key) {
                Some((other, first_line)) if *other != premises => errors.push(row_error(
                    line,
                    &format!("meter{}_serial", slot + 1),
                    "duplicate",
                    format!(
                        "meter {} is already in other premises on line {first_line}",
                        m.serial
                    ),
                )),
                Some(_) => {}
                None => {
                    self.meters.insert(meter_key, (premises, line));
                }
            }
        }
        errors
    }

    /// Checks that need the whole file: shares of each premises.
    pub(super) fn finish(self) -> Vec<RowError> {
        let mut errors = Vec::new();
        let mut db_accounts: HashMap<Uuid, Vec<&account::Model>> = HashMap::new();
        for a in self
            .existing
            .accounts
            .values()
            .filter(|a| a.closed_on.is_none())
        {
            db_accounts.entry(a.premises_id).or_default().push(a);
        }
        let person_key_of: HashMap<Uuid, &str> = self
            .existing
            .people
            .iter()
            .map(|(k, p)| (p.id, k.as_str()))
            .collect();
        for (key, index) in &self.premises_index {
            let seen = &self.premises[*index as usize];
            let existing_id = self.existing_premises_id(key);
            let mut total = seen.account_shares;
            if let Some(list) = existing_id.and_then(|id| db_accounts.get(&id)) {
                for a in list
                    .iter()
                    .filter(|a| !self.accounts.contains_key(&a.number_key))
                {
                    total = Share::add(total, Share::stored(a.share_num, a.share_den));
                }
            }
            if total.0 > total.1 {
                errors.push(row_error(
                    seen.line,
                    "account_share",
                    "shares_exceed_whole",
                    format!(
                        "open accounts of premises {} would hold {}/{} of it, more than the whole",
                        key.1, total.0, total.1
                    ),
                ));
            }
            if seen.owners.is_empty() {
                continue;
            }
            let mut total = seen
                .owners
                .iter()
                .fold((0, 1), |acc, (_, s)| Share::add(acc, *s));
            if let Some(list) = existing_id.and_then(|id| self.existing.owner_shares.get(&id)) {
                for (person_id, share) in list {
                    let in_file = person_key_of
                        .get(person_id)
                        .is_some_and(|k| seen.owners.iter().any(|(o, _)| o == k));
                    if !in_file {
                        total = Share::add(total, *share);
                    }
                }
            }
            if total.0 > total.1 {
                errors.push(row_error(
                    seen.line,
                    "person_share",
                    "shares_exceed_whole",
                    format!(
                        "owners of premises {} would hold {}/{} of it, more than the whole",
                        key.1, total.0, total.1
                    ),
                ));
            }
        }
        errors
    }

    fn existing_premises_id(&self, key: &PremisesKey) -> Option<Uuid> {
        let house = self.existing.houses.get(&key.0)?;
        self.existing
            .premises
            .get(&(house.id, key.1.clone()))
            .map(|p| p.id)
    }
}

/// A write for the database task, in the order it must run.
pub(super) enum Op {
    Insert(Vec<(&'static Table, Vec<Vec<Cell>>)>),
    Execute(&'static str, Vec<Cell>),
    Progress(Progress),
}

/// The database task stopped (it failed); the file is not read further.
#[derive(Debug)]
pub(super) struct Stopped;

impl From<Stopped> for AppError {
    fn from(_: Stopped) -> Self {
        AppError::Internal("the import's database task stopped".into())
    }
}

/// Where the lines' writes go: a bounded queue to the task that owns the
/// transaction, so that reading the file and writing run on both cores at once.
pub(super) struct Sink {
    sender: tokio::sync::mpsc::Sender<Op>,
    batch_rows: usize,
}

impl Sink {
    pub(super) fn new(sender: tokio::sync::mpsc::Sender<Op>, batch_rows: usize) -> Self {
        Self { sender, batch_rows }
    }

    pub(super) fn send(&self, op: Op) -> Result<(), Stopped> {
        self.sender.blocking_send(op).map_err(|_| Stopped)
    }
}

/// Turns checked lines into writes: ids by natural key, row buffers and counts.
pub(super) struct Writer<'a> {
    existing: &'a Existing,
    org: Uuid,
    now: DateTime<Utc>,
    /// Ids by natural key, and whether this import creates the object.
    houses: HashMap<String, (Uuid, bool)>,
    premises: HashMap<(Uuid, String), (Uuid, bool)>,
    people: HashMap<String, (Uuid, bool)>,
    new_occupancies: HashSet<(Uuid, Uuid, OccupancyRole)>,
    new_meters: HashSet<(Resource, String)>,
    /// Existing objects already counted (as updated or unchanged).
    seen: HashSet<Uuid>,
    buffers: [Buffer; 7],
    sink: Sink,
}

/// Rows (of all tables) that go to the database task as one batch, one statement
/// on PostgreSQL. Few statements matter there over TCP: sqlx 0.9.0 leaves Nagle's
/// algorithm on, and a statement of several segments can wait ~40 ms for the
/// server's delayed ACK, so the number of statements, not their size, bounds the
/// speed (transact-rs/sqlx#4335). SQLite runs in the process and gains nothing
/// from large batches, so it gets small ones. A batch of 30 000 rows holds ~15 MB;
/// up to five are in flight (being built, queued, encoded, queued, written).
pub(super) fn batch_rows(backend: sea_orm::DatabaseBackend) -> usize {
    match backend {
        sea_orm::DatabaseBackend::Postgres => 30_000,
        _ => 10_000,
    }
}
const B_HOUSES: usize = 0;
const B_PREMISES: usize = 1;
const B_PEOPLE: usize = 2;
const B_ACCOUNTS: usize = 3;
const B_OCCUPANCIES: usize = 4;
const B_METERS: usize = 5;
const B_TERMS: usize = 6;

fn count(c: &mut Counts, created: bool, changed: bool) {
    if created {
        c.created += 1;
    } else if changed {
        c.updated += 1;
    } else {
        c.unchanged += 1;
    }
}

impl<'a> Writer<'a> {
    pub(super) fn new(existing: &'a Existing, org: Uuid, now: DateTime<Utc>, sink: Sink) -> Self {
        Self {
            existing,
            org,
            now,
            houses: existing
                .houses
                .values()
                .map(|h| (fold(&h.address), (h.id, false)))
                .collect(),
            premises: existing
                .premises
                .values()
                .map(|p| ((p.house_id, p.number.clone()), (p.id, false)))
                .collect(),
            people: existing
                .people
                .iter()
                .map(|(k, p)| (k.clone(), (p.id, false)))
                .collect(),
            new_occupancies: HashSet::new(),
            new_meters: HashSet::new(),
            seen: HashSet::new(),
            buffers: [
                Buffer::new(&HOUSES),
                Buffer::new(&PREMISES),
                Buffer::new(&PEOPLE),
                Buffer::new(&ACCOUNTS),
                Buffer::new(&OCCUPANCIES),
                Buffer::new(&METERS),
                Buffer::new(&PERSON_TERMS),
            ],
            sink,
        }
    }

    pub(super) fn progress(&self, progress: Progress) -> Result<(), Stopped> {
        self.sink.send(Op::Progress(progress))
    }

    /// Hands the buffered rows of every table on as one batch.
    pub(super) fn flush(&mut self) -> Result<(), Stopped> {
        let batch: Vec<(&'static Table, Vec<Vec<Cell>>)> = self
            .buffers
            .iter_mut()
            .filter(|b| !b.is_empty())
            .map(|b| (b.table, b.take()))
            .collect();
        if batch.is_empty() {
            return Ok(());
        }
        self.sink.send(Op::Insert(batch))
    }

    fn execute(&self, sql: &'static str, cells: Vec<Cell>) -> Result<(), Stopped> {
        self.sink.send(Op::Execute(sql, cells))
    }

    fn terms(&mut self, person_id: Uuid, terms: Vec<String>) {
        for term in terms {
            self.buffers[B_TERMS].push(vec![
                Cell::Uuid(Some(self.org)),
                text(term),
                Cell::Uuid(Some(person_id)),
            ]);
        }
    }

    /// Writes one checked line.
    pub(super) fn row(&mut self, row: ImportRow, report: &mut ImportReport) -> AppResult<()> {
        self.write_row(row, report)?;
        if self.buffers.iter().map(Buffer::len).sum::<usize>() >= self.sink.batch_rows {
            self.flush()?;
        }
        Ok(())
    }

    fn house(&mut self, row: &ImportRow, report: &mut ImportReport) -> AppResult<Uuid> {
        let house_fold = fold(&row.house);
        if let Some((id, created)) = self.houses.get(&house_fold).copied() {
            if !created && self.seen.insert(id) {
                count(&mut report.houses, false, false);
            }
            return Ok(id);
        }
        let parts = row.house_parts.as_ref().ok_or_else(|| {
            AppError::Import(vec![row_error(
                row.line,
                "house",
                "unknown_house",
                "no such house".into(),
            )])
        })?;
        let v: ValidHouse = house_draft(&row.house, parts).validate(self.now.date_naive())?;
        let id = Uuid::now_v7();
        self.buffers[B_HOUSES].push(vec![
            Cell::Uuid(Some(id)),
            Cell::Uuid(Some(self.org)),
            text(v.country),
            text(v.region),
            text(v.city),
            text(v.street),
            text(v.building),
            text(v.postal_code),
            text(v.address),
            enum_text(HouseStatus::Active),
            Cell::Timestamp(self.now),
            Cell::Timestamp(self.now),
        ]);
        self.houses.insert(house_fold, (id, true));
        count(&mut report.houses, true, false);
        Ok(id)
    }

    fn write_row(&mut self, row: ImportRow, report: &mut ImportReport) -> AppResult<()> {
        let now = self.now;
        let org = self.org;
        let existing = self.existing;
        let house_id = self.house(&row, report)?;

        // Premises
        let pkey = (house_id, row.premises.number.clone());
        let premises_id = match self.premises.get(&pkey).copied() {
            Some((id, created)) => {
                if !created && self.seen.insert(id) {
                    let mut changed = false;
                    if let Some(current) = existing.premises.get(&pkey) {
                        let p = &row.premises;
                        if (
                            current.kind,
                            current.entrance,
                            current.floor,
                            current.area_micro,
                            current.rooms,
                        ) != (p.kind, p.entrance, p.floor, p.area_micro, p.rooms)
                        {
                            self.execute(
                                "UPDATE premises SET kind = ?, entrance = ?, floor = ?, area_micro = ?, rooms = ?, status = ?, updated_at = ? WHERE id = ?",
                                vec![
                                    enum_text(p.kind),
                                    Cell::Int(p.entrance),
                                    Cell::Int(p.floor),
                                    Cell::BigInt(Some(p.area_micro)),
                                    Cell::Int(p.rooms),
                                    enum_text(RecordStatus::Active),
                                    Cell::Timestamp(now),
                                    Cell::Uuid(Some(current.id)),
                                ],
                            )?;
                            changed = true;
                        }
                    }
                    count(&mut report.premises, false, changed);
                }
                id
            }
            None => {
                let id = Uuid::now_v7();
                let p = &row.premises;
                self.buffers[B_PREMISES].push(vec![
                    Cell::Uuid(Some(id)),
                    Cell::Uuid(Some(org)),
                    Cell::Uuid(Some(house_id)),
                    text(p.number.clone()),
                    enum_text(p.kind),
                    Cell::Int(p.entrance),
                    Cell::Int(p.floor),
                    Cell::BigInt(Some(p.area_micro)),
                    Cell::Int(p.rooms),
                    enum_text(RecordStatus::Active),
                    Cell::Timestamp(now),
                    Cell::Timestamp(now),
                ]);
                self.premises.insert(pkey, (id, true));
                count(&mut report.premises, true, false);
                id
            }
        };

        // Person and occupancy
        let mut holder_id: Option<Uuid> = None;
        if let Some((p, o)) = &row.person {
            let key = p.natural_key();
            let phones = serde_json::to_string(&p.phones).unwrap_or_else(|_| "[]".into());
            let emails = serde_json::to_string(&p.emails).unwrap_or_else(|_| "[]".into());
            let person_id = match self.people.get(&key).copied() {
                Some((id, created)) => {
                    if !created && self.seen.insert(id) {
                        let mut changed = false;
                        if let Some(current) = existing.people.get(&key) {
                            if (
                                &current.full_name,
                                &current.phones,
                                &current.emails,
                                current.preferred_channel,
                            ) != (&p.full_name, &phones, &emails, p.preferred_channel)
                            {
                                self.execute(
                                    "UPDATE people SET full_name = ?, phones = ?, emails = ?, preferred_channel = ?, updated_at = ? WHERE id = ?",
                                    vec![
                                        text(p.full_name.clone()),
                                        text(phones.clone()),
                                        text(emails.clone()),
                                        enum_text(p.preferred_channel),
                                        Cell::Timestamp(now),
                                        Cell::Uuid(Some(current.id)),
                                    ],
                                )?;
                                for term in crate::registry::service::people::terms_of(current) {
                                    self.execute(
                                        "DELETE FROM person_terms WHERE organisation_id = ? AND term = ? AND person_id = ?",
                                        vec![Cell::Uuid(Some(org)), text(term), Cell::Uuid(Some(current.id))],
                                    )?;
                                }
                                self.terms(
                                    current.id,
                                    index::person_terms(&p.full_name, &p.phones, &p.emails),
                                );
                                changed = true;
                            }
                        }
                        count(&mut report.people, false, changed);
                    }
                    id
                }
                None => {
                    let id = Uuid::now_v7();
                    self.buffers[B_PEOPLE].push(vec![
                        Cell::Uuid(Some(id)),
                        Cell::Uuid(Some(org)),
                        text(p.full_name.clone()),
                        text(phones),
                        text(emails),
                        enum_text(p.preferred_channel),
                        Cell::Bool(p.consent_personal_data),
                        Cell::Bool(p.consent_electronic_receipts),
                        Cell::Bool(p.consent_marketing),
                        text(key.clone()),
                        Cell::Timestamp(now),
                        Cell::Timestamp(now),
                    ]);
                    self.terms(id, index::person_terms(&p.full_name, &p.phones, &p.emails));
                    self.people.insert(key, (id, true));
                    count(&mut report.people, true, false);
                    id
                }
            };
            holder_id = Some(person_id);
            let okey = (premises_id, person_id, o.role);
            if !existing.occupancies.contains(&okey) && self.new_occupancies.insert(okey) {
                self.buffers[B_OCCUPANCIES].push(vec![
                    Cell::Uuid(Some(Uuid::now_v7())),
                    Cell::Uuid(Some(org)),
                    Cell::Uuid(Some(premises_id)),
                    Cell::Uuid(Some(person_id)),
                    enum_text(o.role),
                    Cell::BigInt(Some(o.share.num())),
                    Cell::BigInt(Some(o.share.den())),
                    Cell::Date(o.since),
                    Cell::Date(o.until),
                    Cell::Timestamp(now),
                    Cell::Timestamp(now),
                ]);
                count(&mut report.occupancies, true, false);
            } else {
                count(&mut report.occupancies, false, false);
            }
        }

        // Account
        let a = &row.account;
        let categories =
            serde_json::to_string(&a.privileged_categories).unwrap_or_else(|_| "[]".into());
        let number_key = index::code_key(&a.number);
        match existing.accounts.get(&number_key) {
            Some(current) => {
                let holder = holder_id.or(current.holder_id);
                let changed = (
                    current.holder_id,
                    current.share_num,
                    current.share_den,
                    current.registered_residents,
                    current.opened_on,
                    &current.privileged_categories,
                ) != (
                    holder,
                    a.share.num(),
                    a.share.den(),
                    a.registered_residents,
                    a.opened_on,
                    &categories,
                );
                if changed {
                    self.execute(
                        "UPDATE accounts SET holder_id = ?, share_num = ?, share_den = ?, registered_residents = ?, opened_on = ?, privileged_categories = ?, updated_at = ? WHERE id = ?",
                        vec![
                            Cell::Uuid(holder),
                            Cell::BigInt(Some(a.share.num())),
                            Cell::BigInt(Some(a.share.den())),
                            Cell::Int(Some(a.registered_residents)),
                            Cell::Date(Some(a.opened_on)),
                            text(categories),
                            Cell::Timestamp(now),
                            Cell::Uuid(Some(current.id)),
                        ],
                    )?;
                }
                count(&mut report.accounts, false, changed);
            }
            None => {
                self.buffers[B_ACCOUNTS].push(vec![
                    Cell::Uuid(Some(Uuid::now_v7())),
                    Cell::Uuid(Some(org)),
                    Cell::Uuid(Some(house_id)),
                    Cell::Uuid(Some(premises_id)),
                    text(a.number.clone()),
                    text(number_key),
                    Cell::Uuid(holder_id),
                    Cell::BigInt(Some(a.share.num())),
                    Cell::BigInt(Some(a.share.den())),
                    Cell::Int(Some(a.registered_residents)),
                    Cell::Date(Some(a.opened_on)),
                    Cell::Date(None),
                    text(categories),
                    Cell::Timestamp(now),
                    Cell::Timestamp(now),
                ]);
                count(&mut report.accounts, true, false);
            }
        }

        // Meters: one repeated on another line of the same premises is written once.
        for m in &row.meters {
            let key = (m.resource, index::code_key(&m.serial));
            match existing.meters.get(&key) {
                Some(current) => {
                    if !self.seen.insert(current.id) {
                        continue;
                    }
                    let changed = (
                        current.zones,
                        &current.unit,
                        current.installed_on,
                        current.verification_due,
                        current.initial1_micro,
                        current.initial2_micro,
                        current.initial3_micro,
                    ) != (
                        m.zones,
                        &m.unit,
                        m.installed_on,
                        m.verification_due,
                        m.initial_micro[0].unwrap_or(0),
                        m.initial_micro[1],
                        m.initial_micro[2],
                    );
                    if changed {
                        self.execute(
                            "UPDATE meters SET zones = ?, unit = ?, installed_on = ?, verification_due = ?, initial1_micro = ?, initial2_micro = ?, initial3_micro = ?, updated_at = ? WHERE id = ?",
                            vec![
                                Cell::Int(Some(m.zones)),
                                text(m.unit.clone()),
                                Cell::Date(m.installed_on),
                                Cell::Date(m.verification_due),
                                Cell::BigInt(Some(m.initial_micro[0].unwrap_or(0))),
                                Cell::BigInt(m.initial_micro[1]),
                                Cell::BigInt(m.initial_micro[2]),
                                Cell::Timestamp(now),
                                Cell::Uuid(Some(current.id)),
                            ],
                        )?;
                    }
                    count(&mut report.meters, false, changed);
                }
                None => {
                    if self.new_meters.contains(&key) {
                        continue;
                    }
                    self.buffers[B_METERS].push(vec![
                        Cell::Uuid(Some(Uuid::now_v7())),
                        Cell::Uuid(Some(org)),
                        Cell::Uuid(Some(house_id)),
                        Cell::Uuid(Some(premises_id)),
                        text(m.serial.clone()),
                        text(key.1.clone()),
                        enum_text(m.resource),
                        Cell::Int(Some(m.zones)),
                        text(m.unit.clone()),
                        Cell::Date(m.installed_on),
                        Cell::Date(m.verification_due),
                        Cell::BigInt(Some(m.initial_micro[0].unwrap_or(0))),
                        Cell::BigInt(m.initial_micro[1]),
                        Cell::BigInt(m.initial_micro[2]),
                        enum_text(m.status),
                        Cell::Timestamp(now),
                        Cell::Timestamp(now),
                    ]);
                    self.new_meters.insert(key);
                    count(&mut report.meters, true, false);
                }
            }
        }
        Ok(())
    }
}
