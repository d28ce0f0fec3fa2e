//! Periods after their run: closing, recalculations of closed periods, and
//! reading receipts back.
//!
//! Rules:
//! - only a calculated period with no run in progress closes; a closed one is
//!   never written again;
//! - a recalculation corrects a closed period: it is computed from the line
//!   that period billed (absence: its share of days; quality: a percent of
//!   it; reading: the corrected quantity at the billed tariff; other: an
//!   amount the accountant gives) and billed in the organisation's open
//!   period, the one after the last closed period.

use entities::{account, billing_period, charge, recalculation, receipt};
use rust_decimal::{Decimal, RoundingStrategy};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use super::calc::Period;
use super::Billing;
use crate::audit::{diff, record, Author};
use crate::auth::Target;
use crate::error::{AppError, AppResult};

pub const REASONS: [&str; 4] = ["absence", "quality", "reading", "other"];

/// A recalculation as the accountant asks for it.
#[derive(Debug, Clone, Default)]
pub struct RecalcDraft {
    pub account_id: Uuid,
    pub service_id: Uuid,
    pub period_of: String,
    pub reason: String,
    pub comment: String,
    /// Absence: the days away.
    pub days: Option<u32>,
    /// Quality: the reduction in percent.
    pub percent: Option<Decimal>,
    /// Reading: the corrected quantity.
    pub quantity: Option<Decimal>,
    /// Other: the signed amount.
    pub amount: Option<Decimal>,
}

fn round(d: Decimal) -> i64 {
    (d * Decimal::ONE_HUNDRED)
        .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
        .try_into()
        .unwrap_or(0)
}

pub fn parse_period(field: &str, text: &str) -> AppResult<Period> {
    Period::parse(text.trim()).ok_or_else(|| {
        AppError::validation(
            field,
            "invalid_period",
            format!("'{text}' is not a month like 2026-11"),
        )
    })
}

impl Billing {
    /// The account, if `by` may act on it.
    async fn visible_account(&self, by: &Author, id: Uuid) -> AppResult<account::Model> {
        let acc = account::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or_else(|| AppError::not_found("account"))?;
        by.check(Target::Account {
            org: acc.organisation_id,
            house: acc.house_id,
            id: acc.id,
        })?;
        Ok(acc)
    }

    pub async fn periods(&self, by: &Author, org: Uuid) -> AppResult<Vec<billing_period::Model>> {
        by.check(Target::Organisation(org))?;
        Ok(billing_period::Entity::find()
            .filter(billing_period::Column::OrganisationId.eq(org))
            .order_by_desc(billing_period::Column::Period)
            .limit(120)
            .all(&self.db)
            .await?)
    }

    pub async fn close(
        &self,
        by: &Author,
        org: Uuid,
        period: Period,
    ) -> AppResult<billing_period::Model> {
        by.check(Target::WholeOrganisation(org))?;
        let now = self.clock.now();
        let txn = crate::tx::begin_write(&self.db).await?;
        let row = billing_period::Entity::find()
            .filter(billing_period::Column::OrganisationId.eq(org))
            .filter(billing_period::Column::Period.eq(period.to_string()))
            .one(&txn)
            .await?
            .ok_or_else(|| AppError::not_found("billing period"))?;
        let running = row.lock_token.is_some() && row.locked_until.is_some_and(|t| t > now);
        if row.status != "calculated" || running {
            return Err(AppError::validation(
                "period",
                "not_calculated",
                format!("the period {period} must be calculated (and no run in progress) before it closes"),
            ));
        }
        let before = row.clone();
        crate::payments::service::post_period(&txn, org, period, now).await?;
        let mut am: billing_period::ActiveModel = row.into();
        am.status = Set("closed".into());
        am.closed_at = Set(Some(now));
        am.lock_token = Set(None);
        am.locked_until = Set(None);
        am.updated_at = Set(now);
        let after = am.update(&txn).await?;
        record(
            &txn,
            by,
            org,
            "billing_period",
            Some(after.id),
            diff(Some(&before), Some(&after)),
            now,
        )
        .await?;
        txn.commit().await?;
        // The chain as it stands at the close, anchored under the key. A
        // failure here is logged: the close itself has happened.
        if let Some(key) = &self.audit_key {
            let reason = format!("period {period} closed");
            if let Err(e) =
                crate::audit::anchors::checkpoint(&self.db, key, org, &reason, now).await
            {
                tracing::error!(error = %e, %org, "checkpointing the audit log at a period close failed");
            }
        }
        Ok(after)
    }

    /// The period whose receipts carry new recalculations: the one after the
    /// last closed period (or the current month's when none is closed).
    pub async fn open_period(&self, org: Uuid) -> AppResult<Period> {
        let last_closed = billing_period::Entity::find()
            .filter(billing_period::Column::OrganisationId.eq(org))
            .filter(billing_period::Column::Status.eq("closed"))
            .order_by_desc(billing_period::Column::Period)
            .one(&self.db)
            .await?;
        Ok(match last_closed.and_then(|p| Period::parse(&p.period)) {
            Some(p) => p.next(),
            None => {
                let today = self.clock.now().date_naive();
                Period::new(
                    chrono::Datelike::year(&today),
                    chrono::Datelike::month(&today),
                )
                .unwrap_or(Period {
                    year: 2026,
                    month: 1,
                })
            }
        })
    }

    pub async fn recalculate(
        &self,
        by: &Author,
        d: RecalcDraft,
    ) -> AppResult<recalculation::Model> {
        let acc = self.visible_account(by, d.account_id).await?;
        let org = acc.organisation_id;
        let period_of = parse_period("periodOf", &d.period_of)?;
        if !REASONS.contains(&d.reason.as_str()) {
            return Err(AppError::validation(
                "reason",
                "invalid",
                "absence, quality, reading or other",
            ));
        }
        let comment = d.comment.trim().to_string();
        if comment.is_empty() || comment.chars().count() > 500 {
            return Err(AppError::validation(
                "comment",
                "required",
                "the reason in words and the documents it rests on (up to 500 characters)",
            ));
        }
        let closed = billing_period::Entity::find()
            .filter(billing_period::Column::OrganisationId.eq(org))
            .filter(billing_period::Column::Period.eq(period_of.to_string()))
            .one(&self.db)
            .await?
            .is_some_and(|p| p.status == "closed");
        if !closed {
            return Err(AppError::validation(
                "periodOf",
                "not_closed",
                format!("the period {period_of} is not closed: calculate it again instead"),
            ));
        }
        let line = charge::Entity::find()
            .filter(charge::Column::OrganisationId.eq(org))
            .filter(charge::Column::Period.eq(period_of.to_string()))
            .filter(charge::Column::AccountId.eq(acc.id))
            .filter(charge::Column::ServiceId.eq(d.service_id))
            .filter(charge::Column::Kind.eq("charge"))
            .one(&self.db)
            .await?
            .ok_or_else(|| {
                AppError::validation(
                    "serviceId",
                    "not_billed",
                    format!("the service was not billed in {period_of}"),
                )
            })?;
        let billed = Decimal::new(line.amount_minor, 2);
        let row = format!("{} {} line {}", line.account_id, line.period, line.position);
        let billed_qty =
            crate::error::stored_decimal("charge_lines", "quantity", &row, &line.quantity)?;
        let tariff = crate::error::stored_decimal("charge_lines", "tariff", &row, &line.tariff)?;
        let (amount, quantity) = match d.reason.as_str() {
            "absence" => {
                if !matches!(line.source.as_str(), "norm" | "norm_raised" | "people") {
                    return Err(AppError::validation(
                        "reason",
                        "metered",
                        "a temporary absence changes only charges by norm or by people, not by a meter",
                    ));
                }
                let days = d
                    .days
                    .filter(|n| (1..=period_of.days()).contains(n))
                    .ok_or_else(|| {
                        AppError::validation(
                            "days",
                            "range",
                            format!("from 1 to {} days", period_of.days()),
                        )
                    })?;
                (
                    -round(billed * Decimal::from(days) / Decimal::from(period_of.days())),
                    None,
                )
            }
            "quality" => {
                let p = d
                    .percent
                    .filter(|p| *p > Decimal::ZERO && *p <= Decimal::ONE_HUNDRED)
                    .ok_or_else(|| {
                        AppError::validation("percent", "range", "more than 0 and at most 100")
                    })?;
                (-round(billed * p / Decimal::ONE_HUNDRED), None)
            }
            "reading" => {
                let q = d.quantity.filter(|q| *q >= Decimal::ZERO).ok_or_else(|| {
                    AppError::validation(
                        "quantity",
                        "required",
                        "the corrected quantity, not negative",
                    )
                })?;
                (round((q - billed_qty) * tariff), Some(q - billed_qty))
            }
            _ => {
                let a = d
                    .amount
                    .filter(|a| !a.is_zero() && a.abs() <= Decimal::from(10_000_000))
                    .ok_or_else(|| {
                        AppError::validation("amount", "required", "the amount, not zero")
                    })?;
                (round(a), None)
            }
        };
        let applied_in = self.open_period(org).await?;
        let now = self.clock.now();
        let txn = crate::tx::begin_write(&self.db).await?;
        let model = recalculation::ActiveModel {
            id: Set(Uuid::now_v7()),
            organisation_id: Set(org),
            account_id: Set(acc.id),
            service_id: Set(d.service_id),
            period_of: Set(period_of.to_string()),
            applied_in: Set(applied_in.to_string()),
            reason: Set(d.reason),
            comment: Set(comment),
            quantity: Set(quantity.map(|q| q.normalize().to_string())),
            amount_minor: Set(amount),
            created_by: Set((!by.principal.system).then_some(by.principal.user_id)),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
        record(
            &txn,
            by,
            org,
            "recalculation",
            Some(model.id),
            diff(None, Some(&model)),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(model)
    }

    pub async fn recalculations(
        &self,
        by: &Author,
        account_id: Uuid,
    ) -> AppResult<Vec<recalculation::Model>> {
        self.visible_account(by, account_id).await?;
        Ok(recalculation::Entity::find()
            .filter(recalculation::Column::AccountId.eq(account_id))
            .order_by_desc(recalculation::Column::CreatedAt)
            .all(&self.db)
            .await?)
    }

    /// A receipt, if `by` may see its account.
    pub async fn receipt(&self, by: &Author, id: Uuid) -> AppResult<receipt::Model> {
        let r = receipt::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or_else(|| AppError::not_found("receipt"))?;
        by.check(Target::Account {
            org: r.organisation_id,
            house: r.house_id,
            id: r.account_id,
        })?;
        if !by.principal.is_staff_of(r.organisation_id)
            && !self
                .closed_periods(r.organisation_id)
                .await?
                .contains(&r.period)
        {
            // A resident sees a receipt once its period is closed: until then
            // a rerun may change it.
            return Err(AppError::not_found("receipt"));
        }
        Ok(r)
    }

    /// The organisation's closed periods.
    async fn closed_periods(&self, org: Uuid) -> AppResult<Vec<String>> {
        Ok(billing_period::Entity::find()
            .filter(billing_period::Column::OrganisationId.eq(org))
            .filter(billing_period::Column::Status.eq("closed"))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|p| p.period)
            .collect())
    }

    pub async fn lines(&self, r: &receipt::Model) -> AppResult<Vec<charge::Model>> {
        Ok(charge::Entity::find()
            .filter(charge::Column::OrganisationId.eq(r.organisation_id))
            .filter(charge::Column::Period.eq(r.period.clone()))
            .filter(charge::Column::AccountId.eq(r.account_id))
            .order_by_asc(charge::Column::Position)
            .all(&self.db)
            .await?)
    }

    /// A page of a period's receipts, by account, optionally of one house.
    pub async fn receipts(
        &self,
        by: &Author,
        org: Uuid,
        period: Period,
        house: Option<Uuid>,
        offset: u64,
        limit: u64,
    ) -> AppResult<(Vec<receipt::Model>, u64)> {
        match house {
            Some(h) => by.check(Target::House { org, id: h })?,
            None => by.check(Target::WholeOrganisation(org))?,
        }
        let mut q = receipt::Entity::find()
            .filter(receipt::Column::OrganisationId.eq(org))
            .filter(receipt::Column::Period.eq(period.to_string()));
        if let Some(h) = house {
            q = q.filter(receipt::Column::HouseId.eq(h));
        }
        let total = q.clone().count(&self.db).await?;
        let rows = q
            .order_by_asc(receipt::Column::AccountId)
            .offset(offset)
            .limit(limit.clamp(1, 500))
            .all(&self.db)
            .await?;
        Ok((rows, total))
    }

    /// Receipts of an account, newest first.
    pub async fn account_receipts(
        &self,
        by: &Author,
        account_id: Uuid,
    ) -> AppResult<Vec<receipt::Model>> {
        let acc = self.visible_account(by, account_id).await?;
        let mut find = receipt::Entity::find().filter(receipt::Column::AccountId.eq(account_id));
        if !by.principal.is_staff_of(acc.organisation_id) {
            find = find.filter(
                receipt::Column::Period.is_in(self.closed_periods(acc.organisation_id).await?),
            );
        }
        Ok(find
            .order_by_desc(receipt::Column::Period)
            .limit(60)
            .all(&self.db)
            .await?)
    }
}
