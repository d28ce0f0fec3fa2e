//! Typed, validated inputs of the registry. Every field is checked once here, with
//! the field named in the error; services only see valid drafts.

use chrono::{Datelike, NaiveDate};
use entities::{Channel, MeterStatus, OccupancyRole, PremisesKind, Resource};
use rust_decimal::Decimal;

use crate::error::{AppError, AppResult};
use crate::exact::{non_negative_micro, positive_micro, Share};
use crate::fold::normalize_phone;

pub(crate) fn required(field: &str, value: &str, max: usize) -> AppResult<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(AppError::validation(field, "required", "must not be empty"));
    }
    if v.chars().count() > max {
        return Err(AppError::validation(
            field,
            "too_long",
            format!("at most {max} characters"),
        ));
    }
    Ok(v.to_string())
}

pub(crate) fn optional_text(field: &str, value: &str, max: usize) -> AppResult<String> {
    let v = value.trim();
    if v.chars().count() > max {
        return Err(AppError::validation(
            field,
            "too_long",
            format!("at most {max} characters"),
        ));
    }
    Ok(v.to_string())
}

pub(crate) fn in_range(
    field: &str,
    value: Option<i32>,
    min: i32,
    max: i32,
) -> AppResult<Option<i32>> {
    match value {
        Some(v) if v < min || v > max => Err(AppError::validation(
            field,
            "out_of_range",
            format!("must be between {min} and {max}"),
        )),
        other => Ok(other),
    }
}

pub(crate) fn dates_in_order(
    field: &str,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    what: &str,
) -> AppResult<()> {
    if let (Some(from), Some(to)) = (from, to) {
        if to < from {
            return Err(AppError::validation(
                field,
                "dates_out_of_order",
                format!("must not be before {what} ({from})"),
            ));
        }
    }
    Ok(())
}

#[derive(Debug, Clone, Default)]
pub struct OrganisationDraft {
    pub name: String,
    pub currency: String,
    pub locale: String,
    pub time_zone: String,
    pub legal_name: String,
    pub tax_id: String,
    pub bank_account: String,
    pub bank_id: String,
    pub bank_name: String,
}

pub const LOCALES: [&str; 3] = ["en", "ru", "pt-BR"];

impl OrganisationDraft {
    pub fn validate(mut self) -> AppResult<Self> {
        self.name = required("name", &self.name, 200)?;
        let currency = self.currency.trim().to_ascii_uppercase();
        if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(AppError::validation(
                "currency",
                "invalid_currency",
                "an ISO 4217 code such as RUB, BRL or EUR",
            ));
        }
        self.currency = currency;
        if !LOCALES.contains(&self.locale.trim()) {
            return Err(AppError::validation(
                "locale",
                "unsupported_locale",
                "one of en, ru, pt-BR",
            ));
        }
        self.locale = self.locale.trim().to_string();
        let tz = self.time_zone.trim();
        // A zone the time zone database knows: a misspelt one would otherwise
        // make every "today" of the organisation silently UTC.
        if tz.parse::<chrono_tz::Tz>().is_err() || !(tz == "UTC" || tz.contains('/')) {
            return Err(AppError::validation(
                "timeZone",
                "invalid_time_zone",
                "an IANA zone such as Europe/Moscow",
            ));
        }
        self.time_zone = tz.to_string();
        self.legal_name = optional_text("legalName", &self.legal_name, 300)?;
        self.tax_id = optional_text("taxId", &self.tax_id, 40)?;
        self.bank_account = optional_text("bankAccount", &self.bank_account, 40)?;
        self.bank_id = optional_text("bankId", &self.bank_id, 40)?;
        self.bank_name = optional_text("bankName", &self.bank_name, 200)?;
        Ok(self)
    }
}

#[derive(Debug, Clone, Default)]
pub struct HouseDraft {
    pub country: String,
    pub region: String,
    pub city: String,
    pub street: String,
    pub building: String,
    pub postal_code: String,
    /// One-line address; built from the parts when empty.
    pub address: String,
    pub year_built: Option<i32>,
    pub floors: Option<i32>,
    pub entrances: Option<i32>,
    pub total_area: Option<Decimal>,
    pub common_area: Option<Decimal>,
    pub management_start: Option<NaiveDate>,
}

#[derive(Debug, Clone)]
pub struct ValidHouse {
    pub country: String,
    pub region: String,
    pub city: String,
    pub street: String,
    pub building: String,
    pub postal_code: String,
    pub address: String,
    pub year_built: Option<i32>,
    pub floors: Option<i32>,
    pub entrances: Option<i32>,
    pub total_area_micro: Option<i64>,
    pub common_area_micro: Option<i64>,
    pub management_start: Option<NaiveDate>,
}

impl HouseDraft {
    pub fn validate(self, today: NaiveDate) -> AppResult<ValidHouse> {
        let street = required("street", &self.street, 200)?;
        let building = required("building", &self.building, 40)?;
        let city = required("city", &self.city, 100)?;
        let address = if self.address.trim().is_empty() {
            format!("{street}, {building}, {city}")
        } else {
            required("address", &self.address, 300)?
        };
        let year_built = in_range("yearBuilt", self.year_built, 1700, today.year() + 5)?;
        let floors = in_range("floors", self.floors, 1, 200)?;
        let entrances = in_range("entrances", self.entrances, 1, 100)?;
        let total_area_micro = self
            .total_area
            .map(|a| positive_micro("totalArea", a))
            .transpose()?;
        let common_area_micro = self
            .common_area
            .map(|a| non_negative_micro("commonArea", a))
            .transpose()?;
        if let (Some(total), Some(common)) = (total_area_micro, common_area_micro) {
            if common > total {
                return Err(AppError::validation(
                    "commonArea",
                    "exceeds_total",
                    "must not exceed the total area",
                ));
            }
        }
        Ok(ValidHouse {
            country: optional_text("country", &self.country, 100)?,
            region: optional_text("region", &self.region, 100)?,
            city,
            street,
            building,
            postal_code: optional_text("postalCode", &self.postal_code, 20)?,
            address,
            year_built,
            floors,
            entrances,
            total_area_micro,
            common_area_micro,
            management_start: self.management_start,
        })
    }
}

#[derive(Debug, Clone)]
pub struct PremisesDraft {
    pub number: String,
    pub kind: PremisesKind,
    pub entrance: Option<i32>,
    pub floor: Option<i32>,
    pub area: Decimal,
    pub rooms: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidPremises {
    pub number: String,
    pub kind: PremisesKind,
    pub entrance: Option<i32>,
    pub floor: Option<i32>,
    pub area_micro: i64,
    pub rooms: Option<i32>,
}

impl PremisesDraft {
    /// Checks the premises against its house's entrances and floors where known.
    pub fn validate(self, floors: Option<i32>, entrances: Option<i32>) -> AppResult<ValidPremises> {
        let number = required("number", &self.number, 20)?;
        let entrance = in_range("entrance", self.entrance, 1, entrances.unwrap_or(100))?;
        let floor = in_range("floor", self.floor, -10, floors.unwrap_or(200))?;
        Ok(ValidPremises {
            number,
            kind: self.kind,
            entrance,
            floor,
            area_micro: positive_micro("area", self.area)?,
            rooms: in_range("rooms", self.rooms, 0, 50)?,
        })
    }
}

#[derive(Debug, Clone)]
pub struct AccountDraft {
    pub number: String,
    pub holder_id: Option<uuid::Uuid>,
    pub share: Option<String>,
    pub registered_residents: i32,
    pub opened_on: NaiveDate,
    pub closed_on: Option<NaiveDate>,
    pub privileged_categories: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidAccount {
    pub number: String,
    pub holder_id: Option<uuid::Uuid>,
    pub share: Share,
    pub registered_residents: i32,
    pub opened_on: NaiveDate,
    pub closed_on: Option<NaiveDate>,
    pub privileged_categories: Vec<String>,
}

pub(crate) fn account_number(field: &str, value: &str) -> AppResult<String> {
    let number = required(field, value, 30)?;
    if !number
        .chars()
        .all(|c| c.is_alphanumeric() || c == '-' || c == '/' || c == '.')
    {
        return Err(AppError::validation(
            field,
            "invalid_account_number",
            "letters, digits, '-', '/' and '.' only",
        ));
    }
    Ok(number)
}

pub(crate) fn category_codes(field: &str, codes: &[String]) -> AppResult<Vec<String>> {
    let mut out = Vec::new();
    for code in codes {
        let c = code.trim().to_lowercase();
        if c.is_empty() {
            continue;
        }
        if c.len() > 40
            || !c
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-')
        {
            return Err(AppError::validation(
                field,
                "invalid_category",
                format!("'{code}' is not a category code (a-z, 0-9, _ and -)"),
            ));
        }
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out.sort();
    Ok(out)
}

impl AccountDraft {
    pub fn validate(self) -> AppResult<ValidAccount> {
        let share = match self.share.as_deref() {
            Some(s) if !s.trim().is_empty() => Share::parse("share", s)?,
            _ => Share::WHOLE,
        };
        dates_in_order(
            "closedOn",
            Some(self.opened_on),
            self.closed_on,
            "the opening date",
        )?;
        if !(0..=100).contains(&self.registered_residents) {
            return Err(AppError::validation(
                "registeredResidents",
                "out_of_range",
                "must be between 0 and 100",
            ));
        }
        Ok(ValidAccount {
            number: account_number("number", &self.number)?,
            holder_id: self.holder_id,
            share,
            registered_residents: self.registered_residents,
            opened_on: self.opened_on,
            closed_on: self.closed_on,
            privileged_categories: category_codes(
                "privilegedCategories",
                &self.privileged_categories,
            )?,
        })
    }
}

#[derive(Debug, Clone)]
pub struct PersonDraft {
    pub full_name: String,
    pub phones: Vec<String>,
    pub emails: Vec<String>,
    pub preferred_channel: Channel,
    pub consent_personal_data: bool,
    pub consent_electronic_receipts: bool,
    pub consent_marketing: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidPerson {
    pub full_name: String,
    pub phones: Vec<String>,
    pub emails: Vec<String>,
    pub preferred_channel: Channel,
    pub consent_personal_data: bool,
    pub consent_electronic_receipts: bool,
    pub consent_marketing: bool,
}

pub(crate) fn email(field: &str, value: &str) -> AppResult<String> {
    let e = value.trim().to_lowercase();
    let ok = match e.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !e.contains(' ')
                && e.len() <= 254
        }
        None => false,
    };
    if !ok {
        return Err(AppError::validation(
            field,
            "invalid_email",
            format!("'{value}' is not an e-mail address"),
        ));
    }
    Ok(e)
}

impl PersonDraft {
    pub fn validate(self) -> AppResult<ValidPerson> {
        let full_name = required("fullName", &self.full_name, 200)?;
        let mut phones = Vec::new();
        for (i, p) in self
            .phones
            .iter()
            .enumerate()
            .filter(|(_, p)| !p.trim().is_empty())
        {
            let n = normalize_phone(p).ok_or_else(|| {
                AppError::validation(
                    format!("phones[{i}]"),
                    "invalid_phone",
                    format!("'{p}' is not a phone number (5 to 15 digits)"),
                )
            })?;
            if !phones.contains(&n) {
                phones.push(n);
            }
        }
        let mut emails = Vec::new();
        for (i, e) in self
            .emails
            .iter()
            .enumerate()
            .filter(|(_, e)| !e.trim().is_empty())
        {
            let e = email(&format!("emails[{i}]"), e)?;
            if !emails.contains(&e) {
                emails.push(e);
            }
        }
        match self.preferred_channel {
            Channel::Email if emails.is_empty() => {
                return Err(AppError::validation(
                    "preferredChannel",
                    "channel_without_contact",
                    "e-mail is preferred but no e-mail address is given",
                ))
            }
            Channel::Sms | Channel::Viber if phones.is_empty() => {
                return Err(AppError::validation(
                    "preferredChannel",
                    "channel_without_contact",
                    "a phone channel is preferred but no phone is given",
                ))
            }
            _ => {}
        }
        Ok(ValidPerson {
            full_name,
            phones,
            emails,
            preferred_channel: self.preferred_channel,
            consent_personal_data: self.consent_personal_data,
            consent_electronic_receipts: self.consent_electronic_receipts,
            consent_marketing: self.consent_marketing,
        })
    }
}

impl ValidPerson {
    /// The key an import matches people by: folded name and first contact.
    pub fn natural_key(&self) -> String {
        let contact = self
            .phones
            .first()
            .or(self.emails.first())
            .map(String::as_str)
            .unwrap_or("");
        format!("{}|{}", crate::fold::fold(&self.full_name), contact)
    }
}

#[derive(Debug, Clone)]
pub struct OccupancyDraft {
    pub role: OccupancyRole,
    pub share: Option<String>,
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidOccupancy {
    pub role: OccupancyRole,
    pub share: Share,
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
}

impl OccupancyDraft {
    pub fn validate(self) -> AppResult<ValidOccupancy> {
        let share = match (self.role, self.share.as_deref().map(str::trim)) {
            (OccupancyRole::Owner, Some(s)) if !s.is_empty() => Share::parse("share", s)?,
            (OccupancyRole::Owner, _) => Share::WHOLE,
            (OccupancyRole::Tenant, Some(s)) if !s.is_empty() => {
                return Err(AppError::validation(
                    "share",
                    "tenant_share",
                    "a tenant holds no ownership share",
                ))
            }
            (OccupancyRole::Tenant, _) => Share::ZERO,
        };
        dates_in_order("until", self.since, self.until, "the start date")?;
        Ok(ValidOccupancy {
            role: self.role,
            share,
            since: self.since,
            until: self.until,
        })
    }
}

#[derive(Debug, Clone)]
pub struct MeterDraft {
    pub serial: String,
    pub resource: Resource,
    pub zones: i32,
    pub unit: Option<String>,
    pub installed_on: Option<NaiveDate>,
    pub verification_due: Option<NaiveDate>,
    pub initial_values: Vec<Decimal>,
    pub status: MeterStatus,
    /// Whole digits of the register (it rolls over to zero at 10^digits).
    pub digits: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidMeter {
    pub serial: String,
    pub resource: Resource,
    pub zones: i32,
    pub unit: String,
    pub installed_on: Option<NaiveDate>,
    pub verification_due: Option<NaiveDate>,
    pub initial_micro: [Option<i64>; 3],
    pub status: MeterStatus,
    pub digits: Option<i32>,
}

pub fn default_unit(resource: Resource) -> &'static str {
    match resource {
        Resource::ColdWater | Resource::HotWater | Resource::Gas => "m3",
        Resource::Electricity => "kWh",
        Resource::Heat => "Gcal",
    }
}

pub(crate) fn meter_serial(field: &str, value: &str) -> AppResult<String> {
    let serial = required(field, value, 40)?;
    if serial.chars().any(char::is_whitespace) {
        return Err(AppError::validation(
            field,
            "invalid_serial",
            "a serial number has no spaces",
        ));
    }
    Ok(serial)
}

impl MeterDraft {
    pub fn validate(self) -> AppResult<ValidMeter> {
        let serial = meter_serial("serial", &self.serial)?;
        if !(1..=3).contains(&self.zones) {
            return Err(AppError::validation(
                "zones",
                "out_of_range",
                "a meter has 1 to 3 zones",
            ));
        }
        if self.zones > 1 && self.resource != Resource::Electricity {
            return Err(AppError::validation(
                "zones",
                "zones_for_resource",
                "only electricity meters have day/night zones",
            ));
        }
        dates_in_order(
            "verificationDue",
            self.installed_on,
            self.verification_due,
            "the installation date",
        )?;
        let values = if self.initial_values.is_empty() {
            vec![Decimal::ZERO; self.zones as usize]
        } else {
            self.initial_values
        };
        if values.len() != self.zones as usize {
            return Err(AppError::validation(
                "initialValues",
                "values_per_zone",
                format!(
                    "one value per zone: {} expected, {} given",
                    self.zones,
                    values.len()
                ),
            ));
        }
        let mut initial_micro = [None; 3];
        for (i, v) in values.into_iter().enumerate() {
            initial_micro[i] = Some(non_negative_micro(&format!("initialValues[{i}]"), v)?);
        }
        if let Some(d) = self.digits {
            if !(3..=9).contains(&d) {
                return Err(AppError::validation(
                    "digits",
                    "out_of_range",
                    "a register has 3 to 9 whole digits",
                ));
            }
            let capacity = 10_i64.pow(d as u32) * 1_000_000;
            if initial_micro.iter().flatten().any(|v| *v >= capacity) {
                return Err(AppError::validation(
                    "initialValues",
                    "above_capacity",
                    format!(
                        "a register of {d} digits shows at most {}",
                        "9".repeat(d as usize)
                    ),
                ));
            }
        }
        let unit = match self.unit {
            Some(u) if !u.trim().is_empty() => required("unit", &u, 20)?,
            _ => default_unit(self.resource).to_string(),
        };
        Ok(ValidMeter {
            serial,
            resource: self.resource,
            zones: self.zones,
            unit,
            installed_on: self.installed_on,
            verification_due: self.verification_due,
            initial_micro,
            status: self.status,
            digits: self.digits,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::from_str(s).unwrap()
    }

    #[test]
    fn an_account_closed_before_it_opened_is_refused() {
        let draft = AccountDraft {
            number: "1001".into(),
            holder_id: None,
            share: None,
            registered_residents: 2,
            opened_on: date("2026-05-01"),
            closed_on: Some(date("2026-04-30")),
            privileged_categories: vec![],
        };
        let err = draft.validate().unwrap_err();
        assert!(
            matches!(err, AppError::Validation { ref field, reason: "dates_out_of_order", .. } if field == "closedOn")
        );
    }

    #[test]
    fn a_water_meter_has_one_zone_and_one_value_per_zone() {
        let mut draft = MeterDraft {
            serial: "CW-1".into(),
            resource: Resource::ColdWater,
            zones: 2,
            unit: None,
            installed_on: None,
            verification_due: None,
            initial_values: vec![],
            status: MeterStatus::Active,
            digits: None,
        };
        assert!(draft.clone().validate().is_err());
        draft.resource = Resource::Electricity;
        draft.initial_values = vec![Decimal::ONE];
        assert!(matches!(
            draft.clone().validate(),
            Err(AppError::Validation {
                reason: "values_per_zone",
                ..
            })
        ));
        draft.initial_values = vec![Decimal::ONE, Decimal::from_str("123456789.123456").unwrap()];
        let valid = draft.validate().unwrap();
        assert_eq!(
            valid.initial_micro,
            [Some(1_000_000), Some(123_456_789_123_456), None]
        );
        assert_eq!(valid.unit, "kWh");
    }

    #[test]
    fn an_email_preference_needs_an_email() {
        let draft = PersonDraft {
            full_name: "Ivanova Anna".into(),
            phones: vec!["+7 916 000-00-01".into()],
            emails: vec![],
            preferred_channel: Channel::Email,
            consent_personal_data: true,
            consent_electronic_receipts: false,
            consent_marketing: false,
        };
        assert!(matches!(
            draft.validate(),
            Err(AppError::Validation {
                reason: "channel_without_contact",
                ..
            })
        ));
    }
}
