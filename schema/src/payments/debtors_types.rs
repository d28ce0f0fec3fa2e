//! GraphQL of the debtors report (its CSV and XLSX are served over plain
//! HTTP: `/reports/debtors.csv`, `/reports/debtors.xlsx`).

use async_graphql::{Context, Object, Result, SimpleObject, ID};
use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::debtors::Debtor as Row;
use super::service::Payments;
use crate::auth::author;
use crate::exact::{from_minor as money, to_minor as minor};
use crate::pagination::{opt_uuid, uuid};

/// An account that owes.
#[derive(SimpleObject)]
pub struct Debtor {
    pub account_id: ID,
    pub number: String,
    pub house_id: ID,
    pub address: String,
    pub premises: String,
    pub holder: Option<String>,
    pub debt: Decimal,
    /// Owed up to 30 days after the due date (or not yet due).
    pub aged0to30: Decimal,
    pub aged31to90: Decimal,
    pub aged91plus: Decimal,
    /// The oldest period still owed, `2026-10`.
    pub oldest_period: String,
    pub days_overdue: i64,
    pub last_paid_on: Option<NaiveDate>,
}

impl From<Row> for Debtor {
    fn from(d: Row) -> Self {
        Debtor {
            account_id: ID(d.account_id.to_string()),
            number: d.number,
            house_id: ID(d.house_id.to_string()),
            address: d.address,
            premises: d.premises,
            holder: d.holder,
            debt: money(d.total_minor),
            aged0to30: money(d.aged_minor[0]),
            aged31to90: money(d.aged_minor[1]),
            aged91plus: money(d.aged_minor[2]),
            oldest_period: d.oldest_period,
            days_overdue: d.days_overdue,
            last_paid_on: d.last_paid_on,
        }
    }
}

#[derive(SimpleObject)]
pub struct DebtorsReport {
    pub as_of: NaiveDate,
    /// Debtors in the report (all pages).
    pub count: u64,
    pub debt: Decimal,
    pub aged0to30: Decimal,
    pub aged31to90: Decimal,
    pub aged91plus: Decimal,
    /// A page of them, the largest debt first.
    pub debtors: Vec<Debtor>,
}

#[derive(Default)]
pub struct DebtorsQuery;

#[Object]
impl DebtorsQuery {
    /// Accounts that owe, by debt and its age (0–30, 31–90, over 90 days
    /// after the due date), on `asOf` (today when left out).
    #[allow(clippy::too_many_arguments)]
    async fn debtors(
        &self,
        ctx: &Context<'_>,
        organisation_id: ID,
        house_id: Option<ID>,
        as_of: Option<NaiveDate>,
        min_debt: Option<Decimal>,
        #[graphql(default = 100)] first: i32,
        #[graphql(default = 0)] offset: i32,
    ) -> Result<DebtorsReport> {
        let by = author(ctx, "Query.debtors")?;
        let org = uuid("organisationId", &organisation_id)?;
        let house = opt_uuid("houseId", house_id.as_ref())?;
        let min = match min_debt {
            Some(m) => minor("minDebt", m)?,
            None => 1,
        };
        let (_, r) = ctx
            .data::<Payments>()?
            .debtors(&by, org, house, as_of, min)
            .await?;
        let count = r.debtors.len() as u64;
        let page = r
            .debtors
            .into_iter()
            .skip(offset.max(0) as usize)
            .take(first.clamp(1, 1000) as usize)
            .map(Debtor::from)
            .collect();
        Ok(DebtorsReport {
            as_of: r.as_of,
            count,
            debt: money(r.total_minor),
            aged0to30: money(r.aged_minor[0]),
            aged31to90: money(r.aged_minor[1]),
            aged91plus: money(r.aged_minor[2]),
            debtors: page,
        })
    }
}
