//! The two passes of the registry import: checking lines, then writing them.

use std::collections::{HashMap, HashSet};
use std::io::Read;

use chrono::{DateTime, NaiveDate, Utc};
use entities::{account, meter, HouseStatus, OccupancyRole, RecordStatus, Resource};
use uuid::Uuid;

use super::format::{self, Header, HouseParts, ImportRow};
use super::tables::{
    enum_text, text, ACCOUNTS, HOUSES, METERS, OCCUPANCIES, PEOPLE, PERSON_TERMS, PREMISES,
};
use super::{file_error, Counts, Existing, ImportReport, Phase, Progress};
use crate::bulk::{Buffer, BulkTx, Cell};
use crate::error::{AppError, AppResult, RowError};
use crate::exact::Share;
use crate::fold::fold;
use crate::registry::drafts::{HouseDraft, ValidHouse};
use crate::registry::Registry;
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

/// Pass one: everything that makes a file wrong as a whole.
pub(super) struct Checker<'a> {
    existing: &'a Existing,
    premises_key_of: HashMap<Uuid, (Uuid, String)>,
    new_houses: HashMap<String, bool>,
    premises: HashMap<PremisesKey, (crate::registry::drafts::ValidPremises, u64)>,
    accounts: HashMap<String, u64>,
    meters: HashMap<(Resource, String), (PremisesKey, u64)>,
    account_shares: HashMap<PremisesKey, (i128, i128)>,
    owner_shares: HashMap<PremisesKey, HashMap<String, Share>>,
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
            new_houses: HashMap::new(),
            premises: HashMap::new(),
            accounts: HashMap::new(),
            meters: HashMap::new(),
            account_shares: HashMap::new(),
            owner_shares: HashMap::new(),
            today,
        }
    }

    pub(super) fn row(&mut self, row: &ImportRow) -> Vec<RowError> {
        let mut errors = Vec::new();
        let line = row.line;
        let house_fold = fold(&row.house);
        let existing_house = self.existing.houses.get(&house_fold);
        if existing_house.is_none() {
            let known = self.new_houses.get(&house_fold).copied();
            match (known, &row.house_parts) {
                (Some(true), _) => {}
                (_, Some(parts)) => match house_draft(&row.house, parts).validate(self.today) {
                    Ok(_) => {
                        self.new_houses.insert(house_fold.clone(), true);
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
                    Err(other) => errors.push(row_error(line, "house", "invalid", other.to_string())),
                },
                (_, None) => errors.push(row_error(
                    line,
                    "house",
                    "unknown_house",
                    format!("no house '{}' in the registry; create it first or fill house_city, house_street and house_building", row.house),
                )),
            }
        } else if existing_house.is_some_and(|h| h.status == HouseStatus::Archived) {
            errors.push(row_error(
                line,
                "house",
                "archived",
                "the house is archived".into(),
            ));
        }

        let key: PremisesKey = (house_fold.clone(), row.premises.number.clone());
        let described = row.premises.clone();
        match self.premises.get(&key) {
            Some((first, first_line)) if *first != described => errors.push(row_error(
                line,
                "premises_number",
                "premises_mismatch",
                format!(
                    "premises {} is described differently on line {first_line}",
                    row.premises.number
                ),
            )),
            Some(_) => {}
            None => {
                self.premises.insert(key.clone(), (described, line));
            }
        }

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
            self.accounts.insert(number_key.clone(), line);
            let sum = self.account_shares.entry(key.clone()).or_insert((0, 1));
            *sum = Share::add(*sum, row.account.share);
        }
        if let Some(a) = self.existing.accounts.get(&number_key) {
            let same =
                self.premises_key_of
                    .get(&a.premises_id)
                    .is_some_and(|(house_id, number)| {
                        *number == row.premises.number
                            && existing_house.is_some_and(|h| h.id == *house_id)
                    });
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

        if let Some((p, o)) = &row.person {
            if o.role == OccupancyRole::Owner {
                self.owner_shares
                    .entry(key.clone())
                    .or_default()
                    .insert(p.natural_key(), o.share);
            }
        }

        for (slot, m) in row.meters.iter().enumerate() {
            let column = format!("meter{}_serial", slot + 1);
            let meter_key = (m.resource, index::code_key(&m.serial));
            match self.meters.get(&meter_key) {
                Some((other, first_line)) if *other != key => errors.push(row_error(
                    line,
                    &column,
                    "duplicate",
                    format!(
                        "meter {} is already in other premises on line {first_line}",
                        m.serial
                    ),
                )),
                Some(_) => {}
                None => {
                    self.meters.insert(meter_key.clone(), (key.clone(), line));
                }
            }
            if let Some(existing) = self.existing.meters.get(&meter_key) {
                let same = existing
                    .premises_id
                    .and_then(|id| self.premises_key_of.get(&id))
                    .is_some_and(|(house_id, number)| {
                        *number == row.premises.number
                            && existing_house.is_some_and(|h| h.id == *house_id)
                    });
                if !same {
                    errors.push(row_error(
                        line,
                        &column,
                        "duplicate",
                        format!("meter {} is already installed elsewhere", m.serial),
                    ));
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
        for (key, sum) in &self.account_shares {
            let existing_id = self.existing_premises_id(key);
            let mut total = *sum;
            if let Some(list) = existing_id.and_then(|id| db_accounts.get(&id)) {
                for a in list
                    .iter()
                    .filter(|a| !self.accounts.contains_key(&a.number_key))
                {
                    total = Share::add(total, Share::stored(a.share_num, a.share_den));
                }
            }
            if total.0 > total.1 {
                let line = self.premises.get(key).map(|(_, l)| *l).unwrap_or(0);
                errors.push(row_error(
                    line,
                    "account_share",
                    "shares_exceed_whole",
                    format!(
                        "open accounts of premises {} would hold {}/{} of it, more than the whole",
                        key.1, total.0, total.1
                    ),
                ));
            }
        }
        let person_key_of: HashMap<Uuid, &str> = self
            .existing
            .people
            .iter()
            .map(|(k, p)| (p.id, k.as_str()))
            .collect();
        for (key, owners) in &self.owner_shares {
            let mut total = owners.values().fold((0, 1), |acc, s| Share::add(acc, *s));
            if let Some(list) = self
                .existing_premises_id(key)
                .and_then(|id| self.existing.owner_shares.get(&id))
            {
                for (person_id, share) in list {
                    let in_file = person_key_of
                        .get(person_id)
                        .is_some_and(|k| owners.contains_key(*k));
                    if !in_file {
                        total = Share::add(total, *share);
                    }
                }
            }
            if total.0 > total.1 {
                let line = self.premises.get(key).map(|(_, l)| *l).unwrap_or(0);
                errors.push(row_error(
                    line,
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

/// Pass two's state: ids by natural key, buffers and counts.
struct Writer {
    org: Uuid,
    now: DateTime<Utc>,
    houses: HashMap<String, Uuid>,
    premises: HashMap<(Uuid, String), Uuid>,
    people: HashMap<String, (Uuid, String)>,
    occupancies: HashSet<(Uuid, Uuid, OccupancyRole)>,
    seen: HashSet<Uuid>,
    buffers: [Buffer; 7],
    flush_time: std::time::Duration,
}

const FLUSH_AT: usize = 20_000;
const B_HOUSES: usize = 0;
const B_PREMISES: usize = 1;
const B_PEOPLE: usize = 2;
const B_ACCOUNTS: usize = 3;
const B_OCCUPANCIES: usize = 4;
const B_METERS: usize = 5;
const B_TERMS: usize = 6;

impl Writer {
    fn terms(&mut self, person_id: Uuid, terms: Vec<String>) {
        for term in terms {
            self.buffers[B_TERMS].push(vec![
                Cell::Uuid(Some(self.org)),
                text(term),
                Cell::Uuid(Some(person_id)),
            ]);
        }
    }

    fn buffered(&self) -> usize {
        self.buffers.iter().map(Buffer::len).sum()
    }

    async fn flush(&mut self, tx: &mut BulkTx) -> AppResult<()> {
        let started = std::time::Instant::now();
        for b in self.buffers.iter_mut() {
            if !b.is_empty() {
                b.flush(tx).await?;
            }
        }
        self.flush_time += started.elapsed();
        Ok(())
    }

    fn new_house(&mut self, address: &str, v: ValidHouse) -> Uuid {
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
        self.houses.insert(fold(address), id);
        id
    }
}

fn count(c: &mut Counts, created: bool, changed: bool) {
    if created {
        c.created += 1;
    } else if changed {
        c.updated += 1;
    } else {
        c.unchanged += 1;
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn write_all<R: Read>(
    registry: &Registry,
    org: Uuid,
    mut existing: Existing,
    reader: &mut csv::Reader<R>,
    today: NaiveDate,
    total_bytes: u64,
    progress: &(dyn Fn(Progress) + Send + Sync),
    report: &mut ImportReport,
) -> AppResult<()> {
    let now = registry.clock.now();
    let mut w = Writer {
        org,
        now,
        houses: existing
            .houses
            .values()
            .map(|h| (fold(&h.address), h.id))
            .collect(),
        premises: existing
            .premises
            .values()
            .map(|p| ((p.house_id, p.number.clone()), p.id))
            .collect(),
        people: existing
            .people
            .iter()
            .map(|(k, p)| (k.clone(), (p.id, p.full_name.clone())))
            .collect(),
        occupancies: std::mem::take(&mut existing.occupancies),
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
        flush_time: std::time::Duration::ZERO,
    };
    let mut tx = BulkTx::begin(&registry.db).await?;
    let mut record = csv::StringRecord::new();
    let header = match reader.read_record(&mut record) {
        Ok(true) => Header::parse(&record).map_err(AppError::Import)?,
        _ => {
            return Err(AppError::Import(vec![file_error(
                "the file changed while it was imported".into(),
            )]))
        }
    };
    let mut lines = 0_u64;
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(AppError::Import(vec![file_error(e.to_string())])),
        }
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let bytes = record.position().map(|p| p.byte()).unwrap_or(0);
        let row = format::parse_row(&header, &record, line, today).map_err(AppError::Import)?;
        write_row(&mut tx, &mut w, &mut existing, row, report).await?;
        lines += 1;
        if w.buffered() >= FLUSH_AT {
            w.flush(&mut tx).await?;
        }
        if lines.is_multiple_of(1000) {
            progress(Progress {
                phase: Phase::Writing,
                lines,
                bytes,
                total_bytes,
            });
        }
    }
    w.flush(&mut tx).await?;
    let started = std::time::Instant::now();
    tx.commit().await?;
    tracing::debug!(flushing = ?w.flush_time, commit = ?started.elapsed(), lines, "import: written");
    progress(Progress {
        phase: Phase::Writing,
        lines,
        bytes: total_bytes,
        total_bytes,
    });
    Ok(())
}

async fn write_row(
    tx: &mut BulkTx,
    w: &mut Writer,
    existing: &mut Existing,
    row: ImportRow,
    report: &mut ImportReport,
) -> AppResult<()> {
    let now = w.now;
    let org = w.org;
    let house_fold = fold(&row.house);
    let house_id = match w.houses.get(&house_fold) {
        Some(id) => {
            if w.seen.insert(*id) {
                count(&mut report.houses, false, false);
            }
            *id
        }
        None => {
            let parts = row.house_parts.as_ref().ok_or_else(|| {
                AppError::Import(vec![row_error(
                    row.line,
                    "house",
                    "unknown_house",
                    "no such house".into(),
                )])
            })?;
            let v = house_draft(&row.house, parts).validate(now.date_naive())?;
            let id = w.new_house(&row.house, v);
            w.seen.insert(id);
            count(&mut report.houses, true, false);
            id
        }
    };

    // Premises
    let pkey = (house_id, row.premises.number.clone());
    let premises_id = match w.premises.get(&pkey).copied() {
        Some(id) => {
            if w.seen.insert(id) {
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
                        tx.execute(
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
                        )
                        .await?;
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
            w.buffers[B_PREMISES].push(vec![
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
            w.premises.insert(pkey, id);
            w.seen.insert(id);
            count(&mut report.premises, true, false);
            id
        }
    };

    // Person and occupancy
    let mut holder: Option<(Uuid, String)> = None;
    if let Some((p, o)) = &row.person {
        let key = p.natural_key();
        let phones = serde_json::to_string(&p.phones).unwrap_or_else(|_| "[]".into());
        let emails = serde_json::to_string(&p.emails).unwrap_or_else(|_| "[]".into());
        let person_id = match w.people.get(&key).cloned() {
            Some((id, _)) => {
                if w.seen.insert(id) {
                    let mut changed = false;
                    if let Some(current) = existing.people.get(&key) {
                        if (
                            &current.full_name,
                            &current.phones,
                            &current.emails,
                            current.preferred_channel,
                        ) != (&p.full_name, &phones, &emails, p.preferred_channel)
                        {
                            tx.execute(
                                "UPDATE people SET full_name = ?, phones = ?, emails = ?, preferred_channel = ?, updated_at = ? WHERE id = ?",
                                vec![
                                    text(p.full_name.clone()),
                                    text(phones.clone()),
                                    text(emails.clone()),
                                    enum_text(p.preferred_channel),
                                    Cell::Timestamp(now),
                                    Cell::Uuid(Some(current.id)),
                                ],
                            )
                            .await?;
                            let old = crate::registry::service::people::terms_of(current);
                            for term in old {
                                tx.execute(
                                    "DELETE FROM person_terms WHERE organisation_id = ? AND term = ? AND person_id = ?",
                                    vec![Cell::Uuid(Some(org)), text(term), Cell::Uuid(Some(current.id))],
                                )
                                .await?;
                            }
                            w.terms(
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
                w.buffers[B_PEOPLE].push(vec![
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
                w.terms(id, index::person_terms(&p.full_name, &p.phones, &p.emails));
                w.people.insert(key, (id, p.full_name.clone()));
                w.seen.insert(id);
                count(&mut report.people, true, false);
                id
            }
        };
        holder = Some((person_id, p.full_name.clone()));
        let okey = (premises_id, person_id, o.role);
        if w.occupancies.insert(okey) {
            w.buffers[B_OCCUPANCIES].push(vec![
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
    let holder_id = holder.as_ref().map(|(id, _)| *id);
    match existing.accounts.get(&index::code_key(&a.number)) {
        Some(current) => {
            let changed = (
                current.holder_id,
                current.share_num,
                current.share_den,
                current.registered_residents,
                current.opened_on,
                &current.privileged_categories,
            ) != (
                holder_id.or(current.holder_id),
                a.share.num(),
                a.share.den(),
                a.registered_residents,
                a.opened_on,
                &categories,
            );
            if changed {
                tx.execute(
                    "UPDATE accounts SET holder_id = ?, share_num = ?, share_den = ?, registered_residents = ?, opened_on = ?, privileged_categories = ?, updated_at = ? WHERE id = ?",
                    vec![
                        Cell::Uuid(holder_id.or(current.holder_id)),
                        Cell::BigInt(Some(a.share.num())),
                        Cell::BigInt(Some(a.share.den())),
                        Cell::Int(Some(a.registered_residents)),
                        Cell::Date(Some(a.opened_on)),
                        text(categories),
                        Cell::Timestamp(now),
                        Cell::Uuid(Some(current.id)),
                    ],
                )
                .await?;
            }
            count(&mut report.accounts, false, changed);
        }
        None => {
            let id = Uuid::now_v7();
            w.buffers[B_ACCOUNTS].push(vec![
                Cell::Uuid(Some(id)),
                Cell::Uuid(Some(org)),
                Cell::Uuid(Some(house_id)),
                Cell::Uuid(Some(premises_id)),
                text(a.number.clone()),
                text(index::code_key(&a.number)),
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

    // Meters
    for m in &row.meters {
        let key = (m.resource, index::code_key(&m.serial));
        match existing.meters.get(&key) {
            Some(current) => {
                if !w.seen.insert(current.id) {
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
                    tx.execute(
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
                    )
                    .await?;
                }
                count(&mut report.meters, false, changed);
            }
            None => {
                let id = Uuid::now_v7();
                w.buffers[B_METERS].push(vec![
                    Cell::Uuid(Some(id)),
                    Cell::Uuid(Some(org)),
                    Cell::Uuid(Some(house_id)),
                    Cell::Uuid(Some(premises_id)),
                    text(m.serial.clone()),
                    text(index::code_key(&m.serial)),
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
                // A meter repeated on another line of the same premises is written once.
                existing
                    .meters
                    .insert(key, stub_meter(id, org, house_id, premises_id, m, now));
                w.seen.insert(id);
                count(&mut report.meters, true, false);
            }
        }
    }
    Ok(())
}

fn stub_meter(
    id: Uuid,
    org: Uuid,
    house_id: Uuid,
    premises_id: Uuid,
    m: &crate::registry::drafts::ValidMeter,
    now: DateTime<Utc>,
) -> meter::Model {
    meter::Model {
        id,
        organisation_id: org,
        house_id,
        premises_id: Some(premises_id),
        serial: m.serial.clone(),
        serial_key: index::code_key(&m.serial),
        resource: m.resource,
        zones: m.zones,
        unit: m.unit.clone(),
        installed_on: m.installed_on,
        verification_due: m.verification_due,
        initial1_micro: m.initial_micro[0].unwrap_or(0),
        initial2_micro: m.initial_micro[1],
        initial3_micro: m.initial_micro[2],
        status: m.status,
        created_at: now,
        updated_at: now,
    }
}
