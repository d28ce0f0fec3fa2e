//! The registry import format: one CSV line per personal account.
//!
//! Pure parsing and validation of one line into typed values; no database. Column
//! names are case-insensitive; the separator (`,` or `;`) is taken from the header;
//! numbers may use a decimal comma; dates are `2026-11-01`, `01.11.2026` or
//! `01/11/2026`. Any number of meters per line: `meter1_serial`, `meter2_serial`, …
//! See `docs/import-registry.md` for the whole format.

use std::collections::HashMap;
use std::str::FromStr;

use chrono::NaiveDate;
use entities::{Channel, MeterStatus, OccupancyRole, PremisesKind, Resource};
use rust_decimal::Decimal;

use crate::error::{AppError, RowError};
use crate::registry::drafts::{
    AccountDraft, MeterDraft, OccupancyDraft, PersonDraft, PremisesDraft, ValidAccount, ValidMeter,
    ValidOccupancy, ValidPerson, ValidPremises,
};

pub const REQUIRED: [&str; 4] = ["house", "premises_number", "area", "account_number"];
const KNOWN: [&str; 22] = [
    "house",
    "house_city",
    "house_street",
    "house_building",
    "house_postal_code",
    "premises_number",
    "premises_kind",
    "entrance",
    "floor",
    "area",
    "rooms",
    "account_number",
    "account_opened",
    "account_share",
    "registered_residents",
    "privileged_categories",
    "person_name",
    "person_role",
    "person_share",
    "person_phone",
    "person_email",
    "person_channel",
];
const METER_FIELDS: [&str; 7] = [
    "serial",
    "resource",
    "zones",
    "unit",
    "installed",
    "verification_due",
    "initial",
];

/// Column positions, read from the header line.
#[derive(Debug, Clone)]
pub struct Header {
    index: HashMap<String, usize>,
    meter_slots: Vec<u32>,
}

impl Header {
    pub fn parse(record: &csv::StringRecord) -> Result<Header, Vec<RowError>> {
        let mut index = HashMap::new();
        let mut errors = Vec::new();
        let mut slots = Vec::new();
        for (i, raw) in record.iter().enumerate() {
            let name = raw.trim().trim_start_matches('\u{feff}').to_lowercase();
            if name.is_empty() {
                continue;
            }
            let known = KNOWN.contains(&name.as_str()) || meter_column(&name).is_some();
            if !known {
                errors.push(RowError {
                    line: 1,
                    column: name.clone(),
                    reason: "unknown_column",
                    message: format!("unknown column '{name}'"),
                });
                continue;
            }
            if let Some((slot, _)) = meter_column(&name) {
                if !slots.contains(&slot) {
                    slots.push(slot);
                }
            }
            if index.insert(name.clone(), i).is_some() {
                errors.push(RowError {
                    line: 1,
                    column: name.clone(),
                    reason: "duplicate_column",
                    message: format!("column '{name}' appears twice"),
                });
            }
        }
        for required in REQUIRED {
            if !index.contains_key(required) {
                errors.push(RowError {
                    line: 1,
                    column: required.to_string(),
                    reason: "missing_column",
                    message: format!("the required column '{required}' is missing"),
                });
            }
        }
        slots.sort_unstable();
        for slot in &slots {
            for field in ["serial", "resource"] {
                let name = format!("meter{slot}_{field}");
                if !index.contains_key(&name) {
                    errors.push(RowError {
                        line: 1,
                        column: name.clone(),
                        reason: "missing_column",
                        message: format!("meter {slot} needs the column '{name}'"),
                    });
                }
            }
        }
        if errors.is_empty() {
            Ok(Header {
                index,
                meter_slots: slots,
            })
        } else {
            Err(errors)
        }
    }
}

fn meter_column(name: &str) -> Option<(u32, &str)> {
    let rest = name.strip_prefix("meter")?;
    let (slot, field) = rest.split_once('_')?;
    let slot: u32 = slot.parse().ok()?;
    if !(1..=20).contains(&slot) {
        return None;
    }
    METER_FIELDS
        .iter()
        .find(|f| **f == field)
        .map(|f| (slot, *f))
}

/// The parts of a house that a line may carry to create it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HouseParts {
    pub city: String,
    pub street: String,
    pub building: String,
    pub postal_code: String,
}

#[derive(Debug, Clone)]
pub struct ImportRow {
    pub line: u64,
    pub house: String,
    pub house_parts: Option<HouseParts>,
    pub premises: ValidPremises,
    pub account: ValidAccount,
    pub person: Option<(ValidPerson, ValidOccupancy)>,
    pub meters: Vec<ValidMeter>,
}

struct Cells<'a> {
    header: &'a Header,
    record: &'a csv::StringRecord,
    line: u64,
    errors: Vec<RowError>,
}

impl<'a> Cells<'a> {
    fn get(&self, column: &str) -> &'a str {
        self.header
            .index
            .get(column)
            .and_then(|i| self.record.get(*i))
            .map(str::trim)
            .unwrap_or("")
    }

    fn error(&mut self, column: &str, reason: &'static str, message: impl Into<String>) {
        self.errors.push(RowError {
            line: self.line,
            column: column.to_string(),
            reason,
            message: message.into(),
        });
    }

    fn app_error(&mut self, err: AppError, column_of: impl Fn(&str) -> String) {
        match err {
            AppError::Validation {
                field,
                reason,
                message,
            }
            | AppError::Conflict {
                field,
                reason,
                message,
            } => {
                let column = column_of(field.split('[').next().unwrap_or(&field));
                self.error(&column, reason, message);
            }
            other => self.error("", "invalid", other.to_string()),
        }
    }

    fn int(&mut self, column: &str) -> Option<i32> {
        let v = self.get(column);
        if v.is_empty() {
            return None;
        }
        match v.parse() {
            Ok(n) => Some(n),
            Err(_) => {
                self.error(
                    column,
                    "not_a_number",
                    format!("'{v}' is not a whole number"),
                );
                None
            }
        }
    }

    fn decimal(&mut self, column: &str) -> Option<Decimal> {
        let v = self.get(column);
        if v.is_empty() {
            return None;
        }
        match parse_decimal(v) {
            Some(d) => Some(d),
            None => {
                self.error(column, "not_a_number", format!("'{v}' is not a number"));
                None
            }
        }
    }

    fn date(&mut self, column: &str) -> Option<NaiveDate> {
        let v = self.get(column);
        if v.is_empty() {
            return None;
        }
        match parse_date(v) {
            Some(d) => Some(d),
            None => {
                self.error(
                    column,
                    "not_a_date",
                    format!("'{v}' is not a date (2026-11-01, 01.11.2026 or 01/11/2026)"),
                );
                None
            }
        }
    }

    fn choice<T: Copy>(&mut self, column: &str, table: &[(&str, T)], default: T) -> T {
        let v = self.get(column);
        if v.is_empty() {
            return default;
        }
        let key = crate::fold::fold(v).replace(' ', "_");
        match table.iter().find(|(name, _)| *name == key) {
            Some((_, value)) => *value,
            None => {
                let names: Vec<&str> = table.iter().map(|(n, _)| *n).take(5).collect();
                self.error(
                    column,
                    "unknown_value",
                    format!("'{v}' is not one of {}", names.join(", ")),
                );
                default
            }
        }
    }
}

pub fn parse_decimal(text: &str) -> Option<Decimal> {
    let cleaned: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{a0}')
        .collect();
    Decimal::from_str(&cleaned.replace(',', ".")).ok()
}

pub fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(text, "%d.%m.%Y"))
        .or_else(|_| NaiveDate::parse_from_str(text, "%d/%m/%Y"))
        .ok()
}

fn list(text: &str) -> Vec<String> {
    text.split([';', '|'])
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

const KINDS: [(&str, PremisesKind); 12] = [
    ("residential", PremisesKind::Residential),
    ("non_residential", PremisesKind::NonResidential),
    ("parking", PremisesKind::Parking),
    ("storage", PremisesKind::Storage),
    ("жилое", PremisesKind::Residential),
    ("нежилое", PremisesKind::NonResidential),
    ("машиноместо", PremisesKind::Parking),
    ("кладовая", PremisesKind::Storage),
    ("residencial", PremisesKind::Residential),
    ("comercial", PremisesKind::NonResidential),
    ("garagem", PremisesKind::Parking),
    ("deposito", PremisesKind::Storage),
];

const RESOURCES: [(&str, Resource); 15] = [
    ("cold_water", Resource::ColdWater),
    ("hot_water", Resource::HotWater),
    ("electricity", Resource::Electricity),
    ("heat", Resource::Heat),
    ("gas", Resource::Gas),
    ("хвс", Resource::ColdWater),
    ("гвс", Resource::HotWater),
    ("электроэнергия", Resource::Electricity),
    ("отопление", Resource::Heat),
    ("газ", Resource::Gas),
    ("agua_fria", Resource::ColdWater),
    ("agua_quente", Resource::HotWater),
    ("energia", Resource::Electricity),
    ("aquecimento", Resource::Heat),
    ("gas_natural", Resource::Gas),
];

const ROLES: [(&str, OccupancyRole); 6] = [
    ("owner", OccupancyRole::Owner),
    ("tenant", OccupancyRole::Tenant),
    ("собственник", OccupancyRole::Owner),
    ("наниматель", OccupancyRole::Tenant),
    ("proprietario", OccupancyRole::Owner),
    ("inquilino", OccupancyRole::Tenant),
];

const CHANNELS: [(&str, Channel); 5] = [
    ("email", Channel::Email),
    ("sms", Channel::Sms),
    ("viber", Channel::Viber),
    ("post", Channel::Post),
    ("none", Channel::None),
];

/// Parses and validates one line. `today` is the default opening date.
pub fn parse_row(
    header: &Header,
    record: &csv::StringRecord,
    line: u64,
    today: NaiveDate,
) -> Result<ImportRow, Vec<RowError>> {
    let mut c = Cells {
        header,
        record,
        line,
        errors: Vec::new(),
    };
    let house = c.get("house").to_string();
    if house.is_empty() {
        c.error("house", "required", "the house address is required");
    }
    let house_parts = match (
        c.get("house_city"),
        c.get("house_street"),
        c.get("house_building"),
    ) {
        ("", "", "") => None,
        (city, street, building) => Some(HouseParts {
            city: city.to_string(),
            street: street.to_string(),
            building: building.to_string(),
            postal_code: c.get("house_postal_code").to_string(),
        }),
    };

    if c.get("area").is_empty() {
        c.error("area", "required", "the area is required");
    }
    let premises_draft = PremisesDraft {
        number: c.get("premises_number").to_string(),
        kind: c.choice("premises_kind", &KINDS, PremisesKind::Residential),
        entrance: c.int("entrance"),
        floor: c.int("floor"),
        area: c.decimal("area").unwrap_or(Decimal::ONE),
        rooms: c.int("rooms"),
    };
    let premises = match premises_draft.validate(None, None) {
        Ok(p) => Some(p),
        Err(e) => {
            c.app_error(e, |f| match f {
                "number" => "premises_number".into(),
                "kind" => "premises_kind".into(),
                other => other.to_string(),
            });
            None
        }
    };

    let opened = c.date("account_opened").unwrap_or(today);
    let residents = c.int("registered_residents").unwrap_or(0);
    let account_draft = AccountDraft {
        number: c.get("account_number").to_string(),
        holder_id: None,
        share: Some(c.get("account_share").to_string()),
        registered_residents: residents,
        opened_on: opened,
        closed_on: None,
        privileged_categories: list(c.get("privileged_categories")),
    };
    let account = match account_draft.validate() {
        Ok(a) => Some(a),
        Err(e) => {
            c.app_error(e, |f| match f {
                "number" => "account_number".into(),
                "share" => "account_share".into(),
                "registeredResidents" => "registered_residents".into(),
                "privilegedCategories" => "privileged_categories".into(),
                other => other.to_string(),
            });
            None
        }
    };

    let person = if c.get("person_name").is_empty() {
        for column in [
            "person_phone",
            "person_email",
            "person_share",
            "person_role",
        ] {
            if !c.get(column).is_empty() {
                c.error(
                    "person_name",
                    "required",
                    format!("'{column}' is given but the person has no name"),
                );
                break;
            }
        }
        None
    } else {
        let draft = PersonDraft {
            full_name: c.get("person_name").to_string(),
            phones: list(c.get("person_phone")),
            emails: list(c.get("person_email")),
            preferred_channel: c.choice("person_channel", &CHANNELS, Channel::None),
            consent_personal_data: true,
            consent_electronic_receipts: false,
            consent_marketing: false,
        };
        let role = c.choice("person_role", &ROLES, OccupancyRole::Owner);
        let share = c.get("person_share");
        let occupancy = OccupancyDraft {
            role,
            share: (!share.is_empty()).then(|| share.to_string()),
            since: Some(opened),
            until: None,
        };
        let p = draft.validate().map_err(|e| {
            (e, |f: &str| match f {
                "fullName" => "person_name".to_string(),
                "phones" => "person_phone".into(),
                "emails" => "person_email".into(),
                "preferredChannel" => "person_channel".into(),
                other => other.to_string(),
            })
        });
        let o = occupancy.validate();
        match (p, o) {
            (Ok(p), Ok(o)) => Some((p, o)),
            (p, o) => {
                if let Err((e, map)) = p {
                    c.app_error(e, map);
                }
                if let Err(e) = o {
                    c.app_error(e, |_| "person_share".to_string());
                }
                None
            }
        }
    };

    let mut meters = Vec::new();
    for slot in header.meter_slots.clone() {
        let col = |f: &str| format!("meter{slot}_{f}");
        let serial = c.get(&col("serial")).to_string();
        let resource_text = c.get(&col("resource"));
        if serial.is_empty() && resource_text.is_empty() {
            continue;
        }
        if resource_text.is_empty() {
            c.error(
                &col("resource"),
                "required",
                "the meter's resource is required",
            );
            continue;
        }
        let resource = c.choice(&col("resource"), &RESOURCES, Resource::ColdWater);
        let zones = c.int(&col("zones")).unwrap_or(1);
        let initial_text = c.get(&col("initial"));
        let mut initial_values = Vec::new();
        for v in list(initial_text) {
            match parse_decimal(&v) {
                Some(d) => initial_values.push(d),
                None => c.error(
                    &col("initial"),
                    "not_a_number",
                    format!("'{v}' is not a number"),
                ),
            }
        }
        let draft = MeterDraft {
            serial,
            resource,
            zones,
            unit: Some(c.get(&col("unit")).to_string()),
            installed_on: c.date(&col("installed")),
            verification_due: c.date(&col("verification_due")),
            initial_values,
            status: MeterStatus::Active,
            digits: None,
        };
        match draft.validate() {
            Ok(m) => meters.push(m),
            Err(e) => c.app_error(e, |f| match f {
                "verificationDue" => col("verification_due"),
                "initialValues" => col("initial"),
                "installedOn" => col("installed"),
                other => col(other),
            }),
        }
    }

    match (premises, account, c.errors.is_empty()) {
        (Some(premises), Some(account), true) => Ok(ImportRow {
            line,
            house,
            house_parts,
            premises,
            account,
            person,
            meters,
        }),
        _ => {
            if c.errors.is_empty() {
                c.error("", "invalid", "the line is not valid");
            }
            Err(c.errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(cols: &str) -> Header {
        Header::parse(&csv::StringRecord::from(
            cols.split(',').collect::<Vec<_>>(),
        ))
        .unwrap()
    }

    fn rec(cells: &str) -> csv::StringRecord {
        csv::StringRecord::from(cells.split(',').collect::<Vec<_>>())
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
    }

    #[test]
    fn a_good_line_parses_into_typed_values() {
        let h = header("house,premises_number,area,account_number,person_name,person_phone,meter1_serial,meter1_resource,meter1_initial,meter2_serial,meter2_resource,meter2_zones,meter2_initial");
        let row = parse_row(&h, &rec("Lenina 5,12,54.3,1001,Ivanov Ivan,+79160000001,CW1,cold_water,0.1,EL1,electricity,2,10;5"), 2, today()).unwrap();
        assert_eq!(row.premises.area_micro, 54_300_000);
        assert_eq!(row.account.opened_on, today());
        assert_eq!(row.meters.len(), 2);
        assert_eq!(
            row.meters[1].initial_micro,
            [Some(10_000_000), Some(5_000_000), None]
        );
        assert_eq!(
            row.person.unwrap().0.phones,
            vec!["+79160000001".to_string()]
        );
    }

    #[test]
    fn every_bad_cell_of_a_line_is_reported_with_its_column() {
        let h = header("house,premises_number,area,account_number,account_opened,meter1_serial,meter1_resource");
        let errors =
            parse_row(&h, &rec("Lenina 5,12,-3,,31.02.2026,CW1,steam"), 7, today()).unwrap_err();
        let columns: Vec<&str> = errors.iter().map(|e| e.column.as_str()).collect();
        assert_eq!(
            columns,
            vec![
                "area",
                "account_opened",
                "account_number",
                "meter1_resource"
            ]
        );
        assert!(errors.iter().all(|e| e.line == 7));
    }

    #[test]
    fn an_unknown_or_missing_column_is_refused_at_the_header() {
        let errors =
            Header::parse(&rec("house,premises_number,account_number,colour")).unwrap_err();
        let reasons: Vec<&str> = errors.iter().map(|e| e.reason).collect();
        assert_eq!(reasons, vec!["unknown_column", "missing_column"]);
    }

    #[test]
    fn localized_values_and_decimal_commas_are_understood() {
        let h = header(
            "house;premises_number;area;account_number;premises_kind;meter1_serial;meter1_resource"
                .replace(';', ",")
                .as_str(),
        );
        let row = parse_row(
            &h,
            &csv::StringRecord::from(vec!["Ленина 5", "12", "54,3", "1001", "Жилое", "X1", "ХВС"]),
            2,
            today(),
        )
        .unwrap();
        assert_eq!(row.premises.kind, PremisesKind::Residential);
        assert_eq!(row.meters[0].resource, Resource::ColdWater);
        assert_eq!(row.premises.area_micro, 54_300_000);
    }
}
