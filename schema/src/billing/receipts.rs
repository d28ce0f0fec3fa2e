//! GraphQL of billing periods and receipts: settings, privileged categories,
//! runs with live progress, closing, recalculations, receipts.

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, Subscription, ID};
use chrono::{DateTime, NaiveDate, Utc};
use entities::{benefit_category, billing_period, charge, recalculation, receipt};
use futures_util::stream::BoxStream;
use rust_decimal::Decimal;

use super::periods::{parse_period, RecalcDraft};
use super::run::{Progress, TOPIC_PROGRESS};
use super::settings::{CategoryDraft, Settings};
use super::Billing;
use crate::auth::{author, principal, Target};
use crate::error::{stored_decimal, AppError};
use crate::exact::from_minor as money;
use crate::pagination::uuid;
use crate::registry::mutation::InInput;

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum BillingPeriodStatus {
    Open,
    Calculated,
    Closed,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum QrStandard {
    /// GOST R 56042-2014 (Russia).
    Gost,
    /// PIX BR Code, static (Brazil).
    Pix,
    /// EPC069-12, SEPA credit transfer (Europe).
    Epc,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum RecalculationReason {
    /// Temporary absence, with documents: the days away of a norm charge.
    Absence,
    /// Poor service quality: a percent of the charge.
    Quality,
    /// A corrected reading: the quantity's difference at the billed tariff.
    Reading,
    Other,
}

impl RecalculationReason {
    fn code(self) -> &'static str {
        match self {
            Self::Absence => "absence",
            Self::Quality => "quality",
            Self::Reading => "reading",
            Self::Other => "other",
        }
    }
}

fn qr_code(q: QrStandard) -> &'static str {
    match q {
        QrStandard::Gost => "gost",
        QrStandard::Pix => "pix",
        QrStandard::Epc => "epc",
    }
}

pub struct BillingPeriod(pub billing_period::Model);

#[Object]
impl BillingPeriod {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// `2026-11`.
    async fn period(&self) -> &str {
        &self.0.period
    }
    async fn status(&self) -> BillingPeriodStatus {
        match self.0.status.as_str() {
            "calculated" => BillingPeriodStatus::Calculated,
            "closed" => BillingPeriodStatus::Closed,
            _ => BillingPeriodStatus::Open,
        }
    }
    /// A run holds the period now.
    async fn running(&self) -> bool {
        self.0.lock_token.is_some() && self.0.locked_until.is_some_and(|t| t > Utc::now())
    }
    async fn accounts_total(&self) -> i32 {
        self.0.accounts_total
    }
    async fn accounts_done(&self) -> i32 {
        self.0.accounts_done
    }
    async fn calculated_at(&self) -> Option<DateTime<Utc>> {
        self.0.calculated_at
    }
    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.0.closed_at
    }
}

#[derive(SimpleObject)]
pub struct BillingSettings {
    pub qr_standard: QrStandard,
    /// Day of the next month a receipt is due.
    pub due_day: i32,
    pub pix_key: Option<String>,
    pub pix_city: Option<String>,
    pub corresp_account: Option<String>,
    /// Months the average of a missing reading spans, the fewest it needs,
    /// and the most periods in a row billed by it.
    pub average_months: i32,
    pub min_months: i32,
    pub max_average_periods: i32,
    /// Common-house needs measured by the house meter (house meter minus the
    /// premises' own consumption, shared by area) are capped at the norm for
    /// common areas.
    pub common_house_capped: bool,
    /// The receipt template's texts; `{org}`, `{period}`, `{account}`,
    /// `{payer}`, `{due_date}` and `{amount_due}` are filled per receipt.
    pub receipt_title: String,
    pub receipt_note: String,
    pub receipt_footer: String,
    /// `#rrggbb`.
    pub accent_color: String,
    /// Where a payment goes.
    pub allocation: AllocationRule,
    /// Late-payment penalties, added to the next receipt as their own lines.
    pub penalty_rule: PenaltyRule,
    /// GRADUATED: the annual rate in percent (e.g. the key rate, capped as the
    /// law says); FINE_INTEREST: the monthly interest in percent.
    pub penalty_rate: Decimal,
    /// FINE_INTEREST: the fine in percent, charged once.
    pub penalty_fine: Decimal,
    /// FINE_INTEREST: days after the due date without a penalty.
    pub penalty_grace_days: i32,
    /// GRADUATED: from which day late each divisor applies, `31:300,91:130`.
    pub penalty_steps: String,
}

/// How late payment is charged.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum PenaltyRule {
    /// No penalties.
    #[graphql(name = "NONE")]
    Off,
    /// The debt × the rate ÷ a divisor a day, by days late (Russia: ÷300
    /// from day 31, ÷130 from day 91).
    Graduated,
    /// A fine once, then monthly interest pro rata (Brazil's condominiums).
    FineInterest,
}

impl PenaltyRule {
    pub fn code(self) -> &'static str {
        match self {
            PenaltyRule::Off => "none",
            PenaltyRule::Graduated => "graduated",
            PenaltyRule::FineInterest => "fine_interest",
        }
    }
}

/// Where a payment goes among an account's debts.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum AllocationRule {
    /// The oldest period's debt first; within a period, service by service.
    OldestFirst,
    /// Every debt in proportion to what is owed on it, across periods and services.
    Proportional,
}

impl AllocationRule {
    pub fn code(self) -> &'static str {
        match self {
            AllocationRule::OldestFirst => "oldest_first",
            AllocationRule::Proportional => "proportional",
        }
    }
}

impl From<Settings> for BillingSettings {
    fn from(s: Settings) -> Self {
        BillingSettings {
            qr_standard: match s.qr_standard.as_str() {
                "pix" => QrStandard::Pix,
                "epc" => QrStandard::Epc,
                _ => QrStandard::Gost,
            },
            due_day: s.due_day,
            pix_key: s.pix_key,
            pix_city: s.pix_city,
            corresp_account: s.corresp_account,
            average_months: s.average_months,
            min_months: s.min_months,
            max_average_periods: s.max_average_periods,
            common_house_capped: s.common_house_capped,
            receipt_title: s.receipt_title,
            receipt_note: s.receipt_note,
            receipt_footer: s.receipt_footer,
            accent_color: s.accent_color,
            allocation: match s.allocation.as_str() {
                "proportional" => AllocationRule::Proportional,
                _ => AllocationRule::OldestFirst,
            },
            penalty_rule: match s.penalty_rule.as_str() {
                "graduated" => PenaltyRule::Graduated,
                "fine_interest" => PenaltyRule::FineInterest,
                _ => PenaltyRule::Off,
            },
            penalty_rate: s.penalty_rate,
            penalty_fine: s.penalty_fine,
            penalty_grace_days: s.penalty_grace_days,
            penalty_steps: s.penalty_steps,
        }
    }
}

#[derive(InputObject)]
pub struct BillingSettingsInput {
    pub organisation_id: ID,
    pub qr_standard: QrStandard,
    pub due_day: i32,
    pub pix_key: Option<String>,
    pub pix_city: Option<String>,
    pub corresp_account: Option<String>,
    #[graphql(default = 6)]
    pub average_months: i32,
    #[graphql(default = 3)]
    pub min_months: i32,
    #[graphql(default = 3)]
    pub max_average_periods: i32,
    #[graphql(default = true)]
    pub common_house_capped: bool,
    #[graphql(default)]
    pub receipt_title: String,
    #[graphql(default)]
    pub receipt_note: String,
    #[graphql(default)]
    pub receipt_footer: String,
    #[graphql(default_with = "\"#1f4e79\".to_string()")]
    pub accent_color: String,
    #[graphql(default_with = "AllocationRule::OldestFirst")]
    pub allocation: AllocationRule,
    #[graphql(default_with = "PenaltyRule::Off")]
    pub penalty_rule: PenaltyRule,
    #[graphql(default)]
    pub penalty_rate: Decimal,
    #[graphql(default)]
    pub penalty_fine: Decimal,
    #[graphql(default)]
    pub penalty_grace_days: i32,
    #[graphql(default_with = "crate::billing::settings::DEFAULT_STEPS.to_string()")]
    pub penalty_steps: String,
}

pub struct BenefitCategory(pub benefit_category::Model);

#[Object]
impl BenefitCategory {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn code(&self) -> &str {
        &self.0.code
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn percent(&self) -> Result<Decimal> {
        Ok(stored_decimal(
            "benefit_categories",
            "percent",
            &self.0.code,
            &self.0.percent,
        )?)
    }
    /// Codes of the services the discount applies to.
    async fn services(&self) -> Vec<String> {
        serde_json::from_str(&self.0.service_codes).unwrap_or_default()
    }
    /// The discount covers one person's share, not the whole account's.
    async fn per_person(&self) -> bool {
        self.0.per_person
    }
    /// The most quantity per person the discount covers.
    async fn social_norm(&self) -> Result<Option<Decimal>> {
        Ok(self
            .0
            .social_norm
            .as_deref()
            .map(|n| stored_decimal("benefit_categories", "social_norm", &self.0.code, n))
            .transpose()?)
    }
}

#[derive(InputObject)]
pub struct BenefitCategoryInput {
    pub organisation_id: ID,
    /// a–z, 0–9, _ and -; the code accounts list in `privilegedCategories`.
    pub code: String,
    pub name: String,
    pub percent: Decimal,
    pub services: Vec<String>,
    #[graphql(default)]
    pub per_person: bool,
    pub social_norm: Option<Decimal>,
}

pub struct Recalculation(pub recalculation::Model);

#[Object]
impl Recalculation {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn account_id(&self) -> ID {
        ID(self.0.account_id.to_string())
    }
    async fn service_id(&self) -> ID {
        ID(self.0.service_id.to_string())
    }
    /// The corrected (closed) period.
    async fn period_of(&self) -> &str {
        &self.0.period_of
    }
    /// The period whose receipt carries it.
    async fn applied_in(&self) -> &str {
        &self.0.applied_in
    }
    async fn reason(&self) -> RecalculationReason {
        match self.0.reason.as_str() {
            "absence" => RecalculationReason::Absence,
            "quality" => RecalculationReason::Quality,
            "reading" => RecalculationReason::Reading,
            _ => RecalculationReason::Other,
        }
    }
    async fn comment(&self) -> &str {
        &self.0.comment
    }
    async fn quantity(&self) -> Result<Option<Decimal>> {
        Ok(self
            .0
            .quantity
            .as_deref()
            .map(|q| stored_decimal("recalculations", "quantity", self.0.id, q))
            .transpose()?)
    }
    /// Negative: money back.
    async fn amount(&self) -> Decimal {
        money(self.0.amount_minor)
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

#[derive(InputObject)]
pub struct RecalculationInput {
    pub account_id: ID,
    pub service_id: ID,
    /// The closed period to correct, `2026-10`.
    pub period_of: String,
    pub reason: RecalculationReason,
    /// What happened and the documents it rests on.
    pub comment: String,
    /// ABSENCE: the days away.
    pub days: Option<u32>,
    /// QUALITY: the reduction in percent.
    pub percent: Option<Decimal>,
    /// READING: the corrected quantity.
    pub quantity: Option<Decimal>,
    /// OTHER: the signed amount.
    pub amount: Option<Decimal>,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum ReceiptLineKind {
    Charge,
    Benefit,
    Recalculation,
    /// A late-payment penalty on an earlier month's debt; `source` shows the calculation.
    Penalty,
}

pub struct ReceiptLine(pub charge::Model);

impl ReceiptLine {
    /// The line's row, for an error that names it.
    fn row(&self) -> String {
        format!(
            "{} {} line {}",
            self.0.account_id, self.0.period, self.0.position
        )
    }
}

#[Object]
impl ReceiptLine {
    async fn kind(&self) -> ReceiptLineKind {
        match self.0.kind.as_str() {
            "benefit" => ReceiptLineKind::Benefit,
            "recalculation" => ReceiptLineKind::Recalculation,
            "penalty" => ReceiptLineKind::Penalty,
            _ => ReceiptLineKind::Charge,
        }
    }
    async fn service_id(&self) -> Option<ID> {
        self.0.service_id.map(|s| ID(s.to_string()))
    }
    async fn label(&self) -> &str {
        &self.0.label
    }
    /// How the quantity was found: `reading`, `average`, `norm`,
    /// `norm_raised`, `area`, `people`, `fixed`, `house_meter`,
    /// `common_norm`, `common_meter`, `water_sum`; a benefit's category; a recalculation's
    /// `reason:period`.
    async fn source(&self) -> &str {
        &self.0.source
    }
    async fn quantity(&self) -> Result<Decimal> {
        Ok(stored_decimal(
            "charge_lines",
            "quantity",
            self.row(),
            &self.0.quantity,
        )?)
    }
    async fn unit(&self) -> &str {
        &self.0.unit
    }
    /// Per unit; a benefit's percent.
    async fn tariff(&self) -> Result<Decimal> {
        Ok(stored_decimal(
            "charge_lines",
            "tariff",
            self.row(),
            &self.0.tariff,
        )?)
    }
    async fn amount(&self) -> Decimal {
        money(self.0.amount_minor)
    }
}

pub struct Receipt(pub receipt::Model);

#[Object]
impl Receipt {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn period(&self) -> &str {
        &self.0.period
    }
    async fn account_id(&self) -> ID {
        ID(self.0.account_id.to_string())
    }
    async fn house_id(&self) -> ID {
        ID(self.0.house_id.to_string())
    }
    /// The account, checked like `account(id)`.
    async fn account(&self, ctx: &Context<'_>) -> Result<crate::registry::types::Account> {
        crate::registry::loaders::visible_account(ctx, self.0.account_id).await
    }
    async fn opening_balance(&self) -> Decimal {
        money(self.0.opening_minor)
    }
    async fn charged(&self) -> Decimal {
        money(self.0.charged_minor)
    }
    async fn benefits(&self) -> Decimal {
        money(self.0.benefits_minor)
    }
    async fn recalculated(&self) -> Decimal {
        money(self.0.recalculated_minor)
    }
    /// Late-payment penalties on earlier debts (their lines show how).
    async fn penalties(&self) -> Decimal {
        money(self.0.penalties_minor)
    }
    async fn paid(&self) -> Decimal {
        money(self.0.paid_minor)
    }
    async fn amount_due(&self) -> Decimal {
        money(self.0.due_minor)
    }
    async fn due_date(&self) -> NaiveDate {
        self.0.due_date
    }
    /// The code printed for joining the residents' app (accounts nobody has joined).
    async fn access_code(&self) -> Option<&str> {
        self.0.access_code.as_deref()
    }
    /// The receipt as a PDF (the caller's session opens it).
    async fn pdf_url(&self) -> String {
        format!("/receipts/{}.pdf", self.0.id)
    }
    async fn lines(&self, ctx: &Context<'_>) -> Result<Vec<ReceiptLine>> {
        let lines = ctx.data::<Billing>()?.lines(&self.0).await?;
        Ok(lines.into_iter().map(ReceiptLine).collect())
    }
    /// The payment QR: its text in the organisation's standard and the
    /// symbol as an SVG path (a 1-unit square per module).
    async fn payment(&self, ctx: &Context<'_>) -> Result<Option<PaymentCode>> {
        let docs = ctx
            .data::<Billing>()?
            .documents(self.0.organisation_id, vec![self.0.clone()])
            .await?;
        let Some(Ok((payload, standard))) = docs.into_iter().next().map(|d| d.qr) else {
            return Ok(None);
        };
        let code = super::qr::symbol(&payload).map_err(|e| AppError::Internal(e.reason))?;
        Ok(Some(PaymentCode {
            standard,
            size: code.size(),
            svg_path: super::qr::svg_path(&code),
            payload,
        }))
    }
}

#[derive(SimpleObject)]
pub struct PaymentCode {
    pub standard: String,
    pub payload: String,
    pub size: i32,
    pub svg_path: String,
}

#[derive(SimpleObject)]
pub struct ReceiptPage {
    pub items: Vec<Receipt>,
    pub total: u64,
}

#[derive(SimpleObject)]
pub struct BillingProgress {
    pub period_id: ID,
    pub period: String,
    /// `running`, `calculated` or `failed`.
    pub status: String,
    pub done: u32,
    pub total: u32,
    pub lines: u64,
    pub error: Option<String>,
}

impl From<&Progress> for BillingProgress {
    fn from(p: &Progress) -> Self {
        BillingProgress {
            period_id: ID(p.period_id.to_string()),
            period: p.period.clone(),
            status: p.status.clone(),
            done: p.done,
            total: p.total,
            lines: p.lines,
            error: p.error.clone(),
        }
    }
}

#[derive(Default)]
pub struct PeriodsQuery;

#[Object]
impl PeriodsQuery {
    async fn billing_settings(
        &self,
        ctx: &Context<'_>,
        organisation_id: ID,
    ) -> Result<BillingSettings> {
        let by = author(ctx, "Query.billingSettings")?;
        let org = uuid("organisationId", &organisation_id)?;
        Ok(ctx.data::<Billing>()?.settings(&by, org).await?.into())
    }

    async fn benefit_categories(
        &self,
        ctx: &Context<'_>,
        organisation_id: ID,
    ) -> Result<Vec<BenefitCategory>> {
        let by = author(ctx, "Query.benefitCategories")?;
        let org = uuid("organisationId", &organisation_id)?;
        let list = ctx.data::<Billing>()?.categories(&by, org).await?;
        Ok(list.into_iter().map(BenefitCategory).collect())
    }

    /// The organisation's billing periods, newest first.
    async fn billing_periods(
        &self,
        ctx: &Context<'_>,
        organisation_id: ID,
    ) -> Result<Vec<BillingPeriod>> {
        let by = author(ctx, "Query.billingPeriods")?;
        let org = uuid("organisationId", &organisation_id)?;
        let list = ctx.data::<Billing>()?.periods(&by, org).await?;
        Ok(list.into_iter().map(BillingPeriod).collect())
    }

    /// A period's receipts by account, optionally of one house.
    async fn receipts(
        &self,
        ctx: &Context<'_>,
        organisation_id: ID,
        period: String,
        house_id: Option<ID>,
        #[graphql(default)] offset: u64,
        #[graphql(default = 50)] limit: u64,
    ) -> Result<ReceiptPage> {
        let by = author(ctx, "Query.receipts")?;
        let org = uuid("organisationId", &organisation_id)?;
        let period = parse_period("period", &period)?;
        let house = crate::pagination::opt_uuid("houseId", house_id.as_ref())?;
        let (items, total) = ctx
            .data::<Billing>()?
            .receipts(&by, org, period, house, offset, limit)
            .await?;
        Ok(ReceiptPage {
            items: items.into_iter().map(Receipt).collect(),
            total,
        })
    }

    async fn receipt(&self, ctx: &Context<'_>, id: ID) -> Result<Receipt> {
        let by = author(ctx, "Query.receipt")?;
        let id = uuid("id", &id)?;
        let r = ctx.data::<Billing>()?.receipt(&by, id).await?;
        Ok(Receipt(r))
    }

    /// An account's receipts, newest first (residents: their own).
    async fn account_receipts(&self, ctx: &Context<'_>, account_id: ID) -> Result<Vec<Receipt>> {
        let by = author(ctx, "Query.accountReceipts")?;
        let id = uuid("accountId", &account_id)?;
        let list = ctx.data::<Billing>()?.account_receipts(&by, id).await?;
        Ok(list.into_iter().map(Receipt).collect())
    }

    async fn recalculations(
        &self,
        ctx: &Context<'_>,
        account_id: ID,
    ) -> Result<Vec<Recalculation>> {
        let by = author(ctx, "Query.recalculations")?;
        let id = uuid("accountId", &account_id)?;
        let list = ctx.data::<Billing>()?.recalculations(&by, id).await?;
        Ok(list.into_iter().map(Recalculation).collect())
    }
}

#[derive(Default)]
pub struct PeriodsMutation;

#[Object]
impl PeriodsMutation {
    async fn set_billing_settings(
        &self,
        ctx: &Context<'_>,
        input: BillingSettingsInput,
    ) -> Result<BillingSettings> {
        let by = author(ctx, "Mutation.setBillingSettings")?;
        let org = uuid("organisationId", &input.organisation_id).input()?;
        let blank = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        let s = Settings {
            qr_standard: qr_code(input.qr_standard).into(),
            due_day: input.due_day,
            pix_key: blank(input.pix_key),
            pix_city: blank(input.pix_city),
            corresp_account: blank(input.corresp_account),
            average_months: input.average_months,
            min_months: input.min_months,
            max_average_periods: input.max_average_periods,
            common_house_capped: input.common_house_capped,
            receipt_title: input.receipt_title,
            receipt_note: input.receipt_note,
            receipt_footer: input.receipt_footer,
            accent_color: input.accent_color.trim().to_lowercase(),
            allocation: input.allocation.code().into(),
            penalty_rule: input.penalty_rule.code().into(),
            penalty_rate: input.penalty_rate,
            penalty_fine: input.penalty_fine,
            penalty_grace_days: input.penalty_grace_days,
            penalty_steps: input.penalty_steps.trim().to_string(),
        };
        let saved = ctx
            .data::<Billing>()?
            .set_settings(&by, org, s)
            .await
            .input()?;
        Ok(saved.into())
    }

    /// Creates or replaces the privileged category with this code.
    async fn set_benefit_category(
        &self,
        ctx: &Context<'_>,
        input: BenefitCategoryInput,
    ) -> Result<BenefitCategory> {
        let by = author(ctx, "Mutation.setBenefitCategory")?;
        let org = uuid("organisationId", &input.organisation_id).input()?;
        let d = CategoryDraft {
            code: input.code,
            name: input.name,
            percent: input.percent,
            services: input.services,
            per_person: input.per_person,
            social_norm: input.social_norm,
        };
        let m = ctx
            .data::<Billing>()?
            .set_category(&by, org, d)
            .await
            .input()?;
        Ok(BenefitCategory(m))
    }

    /// Starts calculating a period (again, while it is open): answers at once
    /// with the period running; `billingProgress` follows the run.
    async fn calculate_period(
        &self,
        ctx: &Context<'_>,
        organisation_id: ID,
        period: String,
    ) -> Result<BillingPeriod> {
        let by = author(ctx, "Mutation.calculatePeriod")?;
        let org = uuid("organisationId", &organisation_id)?;
        let period = parse_period("period", &period)?;
        let billing = ctx.data::<Billing>()?.clone();
        let started = billing.start(&by, org, period).await?;
        let row = started.row.clone();
        let orgs = crate::tenancy::current();
        tokio::spawn(crate::tenancy::scoped(orgs, async move {
            if let Err(e) = billing.execute(&by, started, &|_| {}).await {
                tracing::warn!(error = %e, "a billing run failed");
            }
        }));
        Ok(BillingPeriod(row))
    }

    /// Freezes a calculated period: its receipts never change again.
    async fn close_period(
        &self,
        ctx: &Context<'_>,
        organisation_id: ID,
        period: String,
    ) -> Result<BillingPeriod> {
        let by = author(ctx, "Mutation.closePeriod")?;
        let org = uuid("organisationId", &organisation_id)?;
        let period = parse_period("period", &period)?;
        let m = ctx.data::<Billing>()?.close(&by, org, period).await?;
        Ok(BillingPeriod(m))
    }

    /// Corrects a closed period: the difference goes on the open period's receipt.
    async fn add_recalculation(
        &self,
        ctx: &Context<'_>,
        input: RecalculationInput,
    ) -> Result<Recalculation> {
        let by = author(ctx, "Mutation.addRecalculation")?;
        let d = RecalcDraft {
            account_id: uuid("accountId", &input.account_id).input()?,
            service_id: uuid("serviceId", &input.service_id).input()?,
            period_of: input.period_of,
            reason: input.reason.code().into(),
            comment: input.comment,
            days: input.days,
            percent: input.percent,
            quantity: input.quantity,
            amount: input.amount,
        };
        let m = ctx.data::<Billing>()?.recalculate(&by, d).await.input()?;
        Ok(Recalculation(m))
    }
}

#[derive(Default)]
pub struct BillingSubscription;

#[Subscription]
impl BillingSubscription {
    /// Progress of the organisation's billing runs, chunk by chunk, from this
    /// instance or any other (the command line's too).
    async fn billing_progress(
        &self,
        ctx: &Context<'_>,
        organisation_id: ID,
    ) -> Result<BoxStream<'static, BillingProgress>> {
        const OP: &str = "Subscription.billingProgress";
        let org = uuid("organisationId", &organisation_id)?;
        if ctx.data_opt::<crate::events::RenderOne>().is_none() {
            principal(ctx)?.check(OP, Target::WholeOrganisation(org))?;
        }
        crate::events::subscribe(
            ctx,
            crate::events::Feed {
                operation: OP,
                topic: TOPIC_PROGRESS,
                organisation: org,
                after: None,
                // The whole organisation's runs: checked again with each
                // chunk, so a right taken away ends the progress at once.
                visible: std::sync::Arc::new(|p, e| {
                    p.check(OP, Target::WholeOrganisation(e.organisation_id))
                        .is_ok()
                }),
            },
            |e| Some(BillingProgress::from(e.decode::<Progress>()?.as_ref())),
        )
        .await
    }
}
