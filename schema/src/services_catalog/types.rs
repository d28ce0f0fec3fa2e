//! GraphQL of paid extra services: the catalogue, orders.

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use entities::service_order;
use rust_decimal::Decimal;

use super::service::{NewOrder, PaidServices, Priced, ServiceDraft};
use crate::auth::author;
use crate::complaints::types::Complaint;
use crate::error::{AppError, AppResult};
use crate::pagination::{opt_uuid, uuid};
use crate::registry::mutation::InInput;

fn money(minor: i64) -> Decimal {
    Decimal::new(minor, 2)
}

fn minor(field: &str, d: Decimal) -> AppResult<i64> {
    if d.scale() > 2 {
        return Err(AppError::validation(
            field,
            "precision",
            "at most two decimals",
        ));
    }
    let m = (d * Decimal::from(100)).trunc();
    i64::try_from(m.mantissa() / 10i128.pow(m.scale()))
        .map_err(|_| AppError::validation(field, "out_of_range", "too large"))
}

#[derive(SimpleObject)]
pub struct HousePrice {
    pub house_id: ID,
    pub price: Decimal,
}

pub struct PaidService(pub Priced);

#[Object]
impl PaidService {
    async fn id(&self) -> ID {
        ID(self.0.service.id.to_string())
    }
    async fn code(&self) -> &str {
        &self.0.service.code
    }
    async fn name(&self) -> &str {
        &self.0.service.name
    }
    /// The complaint category its work orders are routed by.
    async fn category(&self) -> Option<&str> {
        self.0.service.category.as_deref()
    }
    async fn unit(&self) -> &str {
        &self.0.service.unit
    }
    /// The price that applies: the house's own when asked for a house, else the default.
    async fn price(&self) -> Decimal {
        money(self.0.price_minor)
    }
    async fn default_price(&self) -> Decimal {
        money(self.0.service.price_minor)
    }
    /// Houses with their own price (staff).
    async fn house_prices(&self) -> Vec<HousePrice> {
        self.0
            .house_prices
            .iter()
            .map(|(h, p)| HousePrice {
                house_id: ID(h.to_string()),
                price: money(*p),
            })
            .collect()
    }
    async fn active(&self) -> bool {
        self.0.service.active
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum ServiceOrderStatus {
    Ordered,
    Done,
    Cancelled,
}

pub struct ServiceOrder(pub service_order::Model);

#[Object]
impl ServiceOrder {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The work order's number (the complaint's).
    async fn number(&self) -> i64 {
        self.0.number
    }
    async fn service_id(&self) -> ID {
        ID(self.0.service_id.to_string())
    }
    async fn account_id(&self) -> ID {
        ID(self.0.account_id.to_string())
    }
    /// The work order, routed and worked like a complaint.
    async fn complaint_id(&self) -> ID {
        ID(self.0.complaint_id.to_string())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn price(&self) -> Decimal {
        money(self.0.price_minor)
    }
    async fn status(&self) -> ServiceOrderStatus {
        match self.0.status.as_str() {
            "done" => ServiceOrderStatus::Done,
            "cancelled" => ServiceOrderStatus::Cancelled,
            _ => ServiceOrderStatus::Ordered,
        }
    }
    /// Paid at once at the desk: the payment.
    async fn payment_id(&self) -> Option<ID> {
        self.0.payment_id.map(|p| ID(p.to_string()))
    }
    /// The receipt (period) it is charged on, once done.
    async fn bill_period(&self) -> Option<&str> {
        self.0.bill_period.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn done_at(&self) -> Option<DateTime<Utc>> {
        self.0.done_at
    }
}

#[derive(Default)]
pub struct PaidServicesQuery;

#[Object]
impl PaidServicesQuery {
    /// The catalogue (residents: what may be ordered); `houseId`: that house's prices.
    async fn paid_services(
        &self,
        ctx: &Context<'_>,
        organisation_id: ID,
        house_id: Option<ID>,
    ) -> Result<Vec<PaidService>> {
        let by = author(ctx, "Query.paidServices")?;
        let org = uuid("organisationId", &organisation_id)?;
        let house = opt_uuid("houseId", house_id.as_ref())?;
        let list = ctx.data::<PaidServices>()?.list(&by, org, house).await?;
        Ok(list.into_iter().map(PaidService).collect())
    }

    /// Orders, newest first (residents: their accounts').
    async fn service_orders(
        &self,
        ctx: &Context<'_>,
        organisation_id: ID,
        account_id: Option<ID>,
        #[graphql(default = 100)] first: i32,
    ) -> Result<Vec<ServiceOrder>> {
        let by = author(ctx, "Query.serviceOrders")?;
        let org = uuid("organisationId", &organisation_id)?;
        let account = opt_uuid("accountId", account_id.as_ref())?;
        let list = ctx
            .data::<PaidServices>()?
            .orders(&by, org, account, first.clamp(1, 500) as u64)
            .await?;
        Ok(list.into_iter().map(ServiceOrder).collect())
    }
}

#[derive(InputObject)]
pub struct HousePriceInput {
    pub house_id: ID,
    pub price: Decimal,
}

#[derive(InputObject)]
pub struct SavePaidServiceInput {
    /// Leave out to add one.
    pub id: Option<ID>,
    pub organisation_id: ID,
    pub code: String,
    pub name: String,
    /// The complaint category its work orders are routed by (plumbing, electrical, …).
    pub category: Option<String>,
    pub unit: String,
    pub price: Decimal,
    #[graphql(default = true)]
    pub active: bool,
    #[graphql(default)]
    pub house_prices: Vec<HousePriceInput>,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum PaidAtOnce {
    Cash,
    Card,
    Transfer,
}

#[derive(InputObject)]
pub struct OrderPaidServiceInput {
    pub service_id: ID,
    pub account_id: ID,
    /// What the resident adds (when, where, details).
    pub note: Option<String>,
    /// Paid at the desk now (staff): recorded as a payment in the same step.
    pub paid_at_once: Option<PaidAtOnce>,
}

#[derive(SimpleObject)]
pub struct OrderPaidServicePayload {
    pub order: ServiceOrder,
    pub work_order: Complaint,
}

#[derive(Default)]
pub struct PaidServicesMutation;

#[Object]
impl PaidServicesMutation {
    /// Adds a paid service to the catalogue or changes one, with its houses' own prices.
    async fn save_paid_service(
        &self,
        ctx: &Context<'_>,
        input: SavePaidServiceInput,
    ) -> Result<PaidService> {
        let by = author(ctx, "Mutation.savePaidService")?;
        let org = uuid("organisationId", &input.organisation_id).input()?;
        let mut house_prices = Vec::new();
        for (i, h) in input.house_prices.iter().enumerate() {
            house_prices.push((
                uuid(&format!("housePrices.{i}.houseId"), &h.house_id).input()?,
                minor(&format!("housePrices.{i}.price"), h.price).input()?,
            ));
        }
        let draft = ServiceDraft {
            id: opt_uuid("id", input.id.as_ref()).input()?,
            code: input.code,
            name: input.name,
            category: input.category,
            unit: input.unit,
            price_minor: minor("price", input.price).input()?,
            active: input.active,
            house_prices,
        };
        Ok(PaidService(
            ctx.data::<PaidServices>()?
                .save(&by, org, draft)
                .await
                .input()?,
        ))
    }

    /// Orders a paid service for an account: a work order routed like a complaint.
    async fn order_paid_service(
        &self,
        ctx: &Context<'_>,
        input: OrderPaidServiceInput,
    ) -> Result<OrderPaidServicePayload> {
        let by = author(ctx, "Mutation.orderPaidService")?;
        let o = NewOrder {
            service_id: uuid("serviceId", &input.service_id).input()?,
            account_id: uuid("accountId", &input.account_id).input()?,
            note: input.note,
            paid_at_once: input.paid_at_once.map(|p| {
                match p {
                    PaidAtOnce::Cash => "CASH",
                    PaidAtOnce::Card => "CARD",
                    PaidAtOnce::Transfer => "TRANSFER",
                }
                .to_string()
            }),
        };
        let (order, c) = ctx.data::<PaidServices>()?.order(&by, o).await.input()?;
        Ok(OrderPaidServicePayload {
            order: ServiceOrder(order),
            work_order: Complaint(c),
        })
    }
}
