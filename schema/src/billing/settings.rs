//! An organisation's billing settings and privileged categories.
//!
//! Rules:
//! - without a row of its own an organisation bills by the defaults: the QR
//!   standard of its currency (RUB: GOST R 56042, BRL: PIX, EUR: EPC069),
//!   due on the 15th of the next month, averages over 6 months (at least 3) for
//!   at most 3 periods, and caps common-house needs measured by the house
//!   meter at the norm;
//! - a PIX organisation names its key and city; the payee's requisites come
//!   from the organisation;
//! - a category's code is unique in its organisation, its percent within
//!   0–100, its services named by code.

use chrono::NaiveDate;
use entities::{benefit_category, billing_setting, organisation};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use super::calc::Period;
use super::Billing;
use crate::audit::{diff, record, Author};
use crate::auth::Target;
use crate::error::{stored_decimal, AppError, AppResult};

/// The settings a run and a receipt use.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    pub qr_standard: String,
    pub due_day: i32,
    pub pix_key: Option<String>,
    pub pix_city: Option<String>,
    pub corresp_account: Option<String>,
    pub average_months: i32,
    pub min_months: i32,
    pub max_average_periods: i32,
    /// Common-house needs by the house meter are capped at the norm.
    pub common_house_capped: bool,
    pub receipt_title: String,
    pub receipt_note: String,
    pub receipt_footer: String,
    pub accent_color: String,
    /// Where a payment goes: `oldest_first` or `proportional` (by service).
    pub allocation: String,
    /// Late-payment penalties: `none`, `graduated` or `fine_interest`.
    pub penalty_rule: String,
    /// Graduated: the annual rate in percent (the key rate, capped as the law
    /// says); fine and interest: the monthly interest in percent.
    pub penalty_rate: Decimal,
    /// Fine and interest: the fine in percent, once.
    pub penalty_fine: Decimal,
    /// Fine and interest: days after the due date without a penalty.
    pub penalty_grace_days: i32,
    /// Graduated: from which day late each divisor applies, `31:300,91:130`.
    pub penalty_steps: String,
}

pub const QR_STANDARDS: [&str; 3] = ["gost", "pix", "epc"];
pub const PENALTY_RULES: [&str; 3] = ["none", "graduated", "fine_interest"];
/// Russia's Housing Code: the rate ÷ 300 from day 31, ÷ 130 from day 91.
pub const DEFAULT_STEPS: &str = "31:300,91:130";

/// The graduated rule's steps, `31:300,91:130`: days ascending, divisors
/// more than zero.
pub fn steps(text: &str) -> Result<Vec<(i64, Decimal)>, String> {
    let mut out: Vec<(i64, Decimal)> = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (day, divisor) = part
            .split_once(':')
            .ok_or_else(|| format!("{part}: a day and a divisor, as 31:300"))?;
        let day: i64 = day
            .trim()
            .parse()
            .map_err(|_| format!("{part}: the day is a whole number"))?;
        let divisor: Decimal = divisor
            .trim()
            .parse()
            .map_err(|_| format!("{part}: the divisor is a number"))?;
        if day < 1 || divisor <= Decimal::ZERO {
            return Err(format!("{part}: a day from 1 and a divisor above 0"));
        }
        if out.last().is_some_and(|(d, _)| *d >= day) {
            return Err(format!("{part}: the days go up"));
        }
        out.push((day, divisor));
    }
    if out.is_empty() || out.len() > 10 {
        return Err("from one to ten steps, as 31:300,91:130".into());
    }
    Ok(out)
}

/// The currency a payment QR standard pays in: GOST R 56042 in roubles, PIX
/// in reais, EPC069-12 (SEPA) in euros.
pub fn standard_currency(standard: &str) -> Option<&'static str> {
    match standard {
        "gost" => Some("RUB"),
        "pix" => Some("BRL"),
        "epc" => Some("EUR"),
        _ => None,
    }
}

/// Refuses a QR standard that does not pay in the organisation's currency,
/// naming the setting (`qrStandard`).
pub fn standard_fits(standard: &str, currency: &str) -> AppResult<()> {
    match standard_currency(standard) {
        Some(c) if c != currency => Err(AppError::validation(
            "qrStandard",
            "currency_mismatch",
            format!(
                "{} pays in {c}, the organisation's currency is {currency}",
                standard.to_ascii_uppercase()
            ),
        )),
        _ => Ok(()),
    }
}

impl Settings {
    pub fn defaults(org: &organisation::Model) -> Settings {
        let qr = match org.currency.as_str() {
            "BRL" => "pix",
            "EUR" => "epc",
            _ => "gost",
        };
        Settings {
            qr_standard: qr.into(),
            due_day: 15,
            pix_key: None,
            pix_city: None,
            corresp_account: None,
            average_months: 6,
            min_months: 3,
            max_average_periods: 3,
            common_house_capped: true,
            receipt_title: String::new(),
            receipt_note: String::new(),
            receipt_footer: String::new(),
            accent_color: "#1f4e79".into(),
            allocation: "oldest_first".into(),
            penalty_rule: "none".into(),
            penalty_rate: Decimal::ZERO,
            penalty_fine: Decimal::ZERO,
            penalty_grace_days: 0,
            penalty_steps: DEFAULT_STEPS.into(),
        }
    }

    /// The penalty rule to bill by, if any.
    pub fn penalty(&self) -> Option<crate::payments::penalty::Rule> {
        use crate::payments::penalty::Rule;
        match self.penalty_rule.as_str() {
            "graduated" => Some(Rule::Graduated {
                rate_percent: self.penalty_rate,
                steps: steps(&self.penalty_steps).ok()?,
            }),
            "fine_interest" => Some(Rule::FineAndInterest {
                grace_days: i64::from(self.penalty_grace_days),
                fine_percent: self.penalty_fine,
                monthly_interest_percent: self.penalty_rate,
            }),
            _ => None,
        }
    }

    fn of(m: billing_setting::Model) -> AppResult<Settings> {
        Ok(Settings {
            qr_standard: m.qr_standard,
            due_day: m.due_day,
            pix_key: m.pix_key,
            pix_city: m.pix_city,
            corresp_account: m.corresp_account,
            average_months: m.average_months,
            min_months: m.min_months,
            max_average_periods: m.max_average_periods,
            common_house_capped: m.common_house_capped,
            receipt_title: m.receipt_title,
            receipt_note: m.receipt_note,
            receipt_footer: m.receipt_footer,
            accent_color: m.accent_color,
            allocation: m.allocation,
            penalty_rule: m.penalty_rule,
            penalty_rate: stored_decimal(
                "billing_settings",
                "penalty_rate",
                m.organisation_id,
                &m.penalty_rate,
            )?,
            penalty_fine: stored_decimal(
                "billing_settings",
                "penalty_fine",
                m.organisation_id,
                &m.penalty_fine,
            )?,
            penalty_grace_days: m.penalty_grace_days,
            penalty_steps: m.penalty_steps,
        })
    }

    /// Checks every field, naming the first wrong one.
    pub fn validate(&self) -> AppResult<()> {
        let v =
            |field: &str, why: &str| Err(AppError::validation(field, "invalid", why.to_string()));
        if !QR_STANDARDS.contains(&self.qr_standard.as_str()) {
            return v("qrStandard", "one of GOST, PIX, EPC");
        }
        if !["oldest_first", "proportional"].contains(&self.allocation.as_str()) {
            return v("allocation", "OLDEST_FIRST or PROPORTIONAL");
        }
        if !PENALTY_RULES.contains(&self.penalty_rule.as_str()) {
            return v("penaltyRule", "NONE, GRADUATED or FINE_INTEREST");
        }
        if self.penalty_rate < Decimal::ZERO || self.penalty_rate > Decimal::from(100) {
            return v("penaltyRate", "a rate in percent from 0 to 100");
        }
        if self.penalty_fine < Decimal::ZERO || self.penalty_fine > Decimal::from(100) {
            return v("penaltyFine", "a fine in percent from 0 to 100");
        }
        if !(0..=365).contains(&self.penalty_grace_days) {
            return v("penaltyGraceDays", "from 0 to 365 days");
        }
        if let Err(why) = steps(&self.penalty_steps) {
            return Err(AppError::validation("penaltySteps", "invalid", why));
        }
        if !(1..=28).contains(&self.due_day) {
            return v("dueDay", "a day from 1 to 28 of the next month");
        }
        if !(1..=12).contains(&self.average_months) {
            return v("averageMonths", "from 1 to 12 months");
        }
        if !(1..=self.average_months).contains(&self.min_months) {
            return v("minMonths", "from 1 to the months of the average");
        }
        if !(0..=12).contains(&self.max_average_periods) {
            return v("maxAveragePeriods", "from 0 to 12 periods");
        }
        if self.qr_standard == "pix" {
            if self
                .pix_key
                .as_deref()
                .is_none_or(|k| k.trim().is_empty() || k.len() > 77)
            {
                return v("pixKey", "a PIX key of at most 77 characters");
            }
            if self
                .pix_city
                .as_deref()
                .is_none_or(|c| c.trim().is_empty() || c.chars().count() > 15)
            {
                return v("pixCity", "the city, at most 15 characters");
            }
        }
        if self.qr_standard == "gost"
            && self
                .corresp_account
                .as_deref()
                .is_some_and(|c| c.len() != 20 || !c.bytes().all(|b| b.is_ascii_digit()))
        {
            return v(
                "correspAccount",
                "the bank's correspondent account, 20 digits",
            );
        }
        for (field, text, max) in [
            ("receiptTitle", &self.receipt_title, 120),
            ("receiptNote", &self.receipt_note, 1000),
            ("receiptFooter", &self.receipt_footer, 1000),
        ] {
            if text.chars().count() > max {
                return Err(AppError::validation(
                    field,
                    "too_long",
                    format!("at most {max} characters"),
                ));
            }
        }
        let c = self.accent_color.as_bytes();
        if c.len() != 7 || c[0] != b'#' || !c[1..].iter().all(u8::is_ascii_hexdigit) {
            return v("accentColor", "a colour as #rrggbb");
        }
        Ok(())
    }
}

/// The organisation's settings, or the defaults.
pub async fn load<C: ConnectionTrait>(conn: &C, org: &organisation::Model) -> AppResult<Settings> {
    match billing_setting::Entity::find_by_id(org.id)
        .one(conn)
        .await?
    {
        Some(m) => Settings::of(m),
        None => Ok(Settings::defaults(org)),
    }
}

/// The day a period's receipt is due: `due_day` of the next month.
pub fn due_date(period: Period, due_day: i32) -> NaiveDate {
    let next = period.next();
    let day = (due_day.max(1) as u32).min(next.days());
    NaiveDate::from_ymd_opt(next.year, next.month, day).unwrap_or(next.first_day())
}

pub async fn categories<C: ConnectionTrait>(
    conn: &C,
    org: Uuid,
) -> AppResult<Vec<benefit_category::Model>> {
    Ok(benefit_category::Entity::find()
        .filter(benefit_category::Column::OrganisationId.eq(org))
        .order_by_asc(benefit_category::Column::Code)
        .all(conn)
        .await?)
}

/// A privileged category to write.
#[derive(Debug, Clone)]
pub struct CategoryDraft {
    pub code: String,
    pub name: String,
    pub percent: Decimal,
    pub services: Vec<String>,
    pub per_person: bool,
    pub social_norm: Option<Decimal>,
}

impl Billing {
    pub async fn settings(&self, by: &Author, org: Uuid) -> AppResult<Settings> {
        by.check(Target::Organisation(org))?;
        let o = self.organisation(org).await?;
        load(&self.db, &o).await
    }

    pub(crate) async fn organisation(&self, org: Uuid) -> AppResult<organisation::Model> {
        organisation::Entity::find_by_id(org)
            .one(&self.db)
            .await?
            .ok_or_else(|| AppError::not_found("organisation"))
    }

    pub async fn set_settings(&self, by: &Author, org: Uuid, s: Settings) -> AppResult<Settings> {
        by.check(Target::WholeOrganisation(org))?;
        s.validate()?;
        let o = self.organisation(org).await?;
        standard_fits(&s.qr_standard, &o.currency)?;
        let now = self.clock.now();
        let txn = crate::tx::begin_write(&self.db).await?;
        let before = load(&txn, &o).await?;
        billing_setting::Entity::delete_by_id(org)
            .exec(&txn)
            .await?;
        billing_setting::ActiveModel {
            organisation_id: Set(org),
            qr_standard: Set(s.qr_standard.clone()),
            due_day: Set(s.due_day),
            pix_key: Set(s.pix_key.clone()),
            pix_city: Set(s.pix_city.clone()),
            corresp_account: Set(s.corresp_account.clone()),
            average_months: Set(s.average_months),
            min_months: Set(s.min_months),
            max_average_periods: Set(s.max_average_periods),
            common_house_capped: Set(s.common_house_capped),
            receipt_title: Set(s.receipt_title.clone()),
            receipt_note: Set(s.receipt_note.clone()),
            receipt_footer: Set(s.receipt_footer.clone()),
            accent_color: Set(s.accent_color.clone()),
            allocation: Set(s.allocation.clone()),
            penalty_rule: Set(s.penalty_rule.clone()),
            penalty_rate: Set(s.penalty_rate.normalize().to_string()),
            penalty_fine: Set(s.penalty_fine.normalize().to_string()),
            penalty_grace_days: Set(s.penalty_grace_days),
            penalty_steps: Set(s.penalty_steps.clone()),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await?;
        let changes = diff(Some(&before), Some(&s));
        record(&txn, by, org, "billing_settings", Some(org), changes, now).await?;
        txn.commit().await?;
        Ok(s)
    }

    pub async fn categories(
        &self,
        by: &Author,
        org: Uuid,
    ) -> AppResult<Vec<benefit_category::Model>> {
        by.check(Target::Organisation(org))?;
        categories(&self.db, org).await
    }

    /// Creates or replaces the category with the draft's code.
    pub async fn set_category(
        &self,
        by: &Author,
        org: Uuid,
        d: CategoryDraft,
    ) -> AppResult<benefit_category::Model> {
        by.check(Target::WholeOrganisation(org))?;
        let code = crate::registry::drafts::category_codes("code", std::slice::from_ref(&d.code))?
            .pop()
            .ok_or_else(|| AppError::validation("code", "required", "the category's code"))?;
        let name = d.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 120 {
            return Err(AppError::validation(
                "name",
                "invalid",
                "a name of 1 to 120 characters",
            ));
        }
        if d.percent <= Decimal::ZERO || d.percent > Decimal::ONE_HUNDRED {
            return Err(AppError::validation(
                "percent",
                "range",
                "more than 0 and at most 100",
            ));
        }
        if d.social_norm.is_some_and(|n| n <= Decimal::ZERO) {
            return Err(AppError::validation("socialNorm", "range", "more than 0"));
        }
        let services = crate::registry::drafts::category_codes("services", &d.services)?;
        if services.is_empty() {
            return Err(AppError::validation(
                "services",
                "required",
                "at least one service",
            ));
        }
        let known: Vec<String> = entities::service::Entity::find()
            .filter(entities::service::Column::OrganisationId.eq(org))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|s| s.code)
            .collect();
        if let Some(unknown) = services.iter().find(|c| !known.contains(c)) {
            return Err(AppError::validation(
                "services",
                "unknown_service",
                format!("no service has the code {unknown}"),
            ));
        }
        let now = self.clock.now();
        let txn = crate::tx::begin_write(&self.db).await?;
        let existing = benefit_category::Entity::find()
            .filter(benefit_category::Column::OrganisationId.eq(org))
            .filter(benefit_category::Column::Code.eq(code.clone()))
            .one(&txn)
            .await?;
        let mut am = benefit_category::ActiveModel {
            id: Set(existing.as_ref().map_or_else(Uuid::now_v7, |e| e.id)),
            organisation_id: Set(org),
            code: Set(code),
            name: Set(name),
            percent: Set(d.percent.normalize().to_string()),
            service_codes: Set(serde_json::to_string(&services).unwrap_or_else(|_| "[]".into())),
            per_person: Set(d.per_person),
            social_norm: Set(d.social_norm.map(|n| n.normalize().to_string())),
            created_at: Set(existing.as_ref().map_or(now, |e| e.created_at)),
            updated_at: Set(now),
        };
        let model = if existing.is_some() {
            am.id =
                sea_orm::ActiveValue::Unchanged(existing.as_ref().map_or_else(Uuid::nil, |e| e.id));
            am.update(&txn).await?
        } else {
            am.insert(&txn).await?
        };
        let changes = diff(existing.as_ref(), Some(&model));
        record(
            &txn,
            by,
            org,
            "benefit_category",
            Some(model.id),
            changes,
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receipt_is_due_on_the_day_of_the_next_month() {
        let p = Period::new(2026, 12).unwrap_or(Period {
            year: 2026,
            month: 12,
        });
        assert_eq!(
            due_date(p, 15),
            NaiveDate::from_ymd_opt(2027, 1, 15).unwrap_or_default()
        );
        let jan = Period {
            year: 2027,
            month: 1,
        };
        assert_eq!(
            due_date(jan, 28),
            NaiveDate::from_ymd_opt(2027, 2, 28).unwrap_or_default()
        );
    }
}
