//! GraphQL of payments: recording (with idempotency keys), reversals and
//! refunds, the journal, an account's balance and ledger, and live
//! confirmations.

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, Subscription, ID};
use chrono::{DateTime, NaiveDate, Utc};
use entities::{ledger_entry, payment, payment_return};
use futures_util::stream::BoxStream;
use rust_decimal::Decimal;

use super::service::{Confirmed, NewPayment, Payments};
use crate::auth::author;
use crate::events::topics;
use crate::exact::{from_minor as money, to_minor as minor};
use crate::pagination::{opt_uuid, uuid};
use crate::registry::mutation::InInput;

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum PaymentMethod {
    Cash,
    Card,
    Transfer,
}

impl PaymentMethod {
    fn code(self) -> &'static str {
        match self {
            PaymentMethod::Cash => "cash",
            PaymentMethod::Card => "card",
            PaymentMethod::Transfer => "transfer",
        }
    }
    fn of(code: &str) -> Self {
        match code {
            "cash" => PaymentMethod::Cash,
            "card" => PaymentMethod::Card,
            _ => PaymentMethod::Transfer,
        }
    }
}

pub struct Payment(pub payment::Model);

#[Object]
impl Payment {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn account_id(&self) -> ID {
        ID(self.0.account_id.to_string())
    }
    async fn house_id(&self) -> ID {
        ID(self.0.house_id.to_string())
    }
    /// The account, checked like `account(id)` (loaded in batches).
    async fn account(&self, ctx: &Context<'_>) -> Result<crate::registry::types::Account> {
        crate::registry::loaders::visible_account(ctx, self.0.account_id).await
    }
    async fn amount(&self) -> Decimal {
        money(self.0.amount_minor)
    }
    async fn method(&self) -> PaymentMethod {
        PaymentMethod::of(&self.0.method)
    }
    async fn paid_on(&self) -> NaiveDate {
        self.0.paid_on
    }
    /// The receipt (`2026-11`) that shows it.
    async fn period(&self) -> &str {
        &self.0.period
    }
    async fn bank_reference(&self) -> Option<&str> {
        self.0.bank_reference.as_deref()
    }
    async fn payer(&self) -> Option<&str> {
        self.0.payer.as_deref()
    }
    async fn purpose(&self) -> Option<&str> {
        self.0.purpose.as_deref()
    }
    /// `staff`, `integration` or `statement`.
    async fn source(&self) -> &str {
        &self.0.source
    }
    async fn recorded_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Its reversal and refunds.
    async fn returns(&self, ctx: &Context<'_>) -> Result<Vec<PaymentReturn>> {
        let list = ctx.data::<Payments>()?.returns_of(&self.0).await?;
        Ok(list.into_iter().map(PaymentReturn).collect())
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum PaymentReturnKind {
    /// The whole payment undone (a wrong account, a bounced transfer).
    Reversal,
    /// Part of its advance paid back to the payer.
    Refund,
}

pub struct PaymentReturn(pub payment_return::Model);

#[Object]
impl PaymentReturn {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn payment_id(&self) -> ID {
        ID(self.0.payment_id.to_string())
    }
    async fn kind(&self) -> PaymentReturnKind {
        if self.0.kind == "refund" {
            PaymentReturnKind::Refund
        } else {
            PaymentReturnKind::Reversal
        }
    }
    async fn amount(&self) -> Decimal {
        money(self.0.amount_minor)
    }
    async fn reason(&self) -> &str {
        &self.0.reason
    }
    async fn period(&self) -> &str {
        &self.0.period
    }
    async fn recorded_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// What an account owes for one period and service.
#[derive(SimpleObject)]
pub struct Debt {
    pub period: String,
    pub service_id: Option<ID>,
    pub amount: Decimal,
}

/// An account's standing, from its ledger.
#[derive(SimpleObject)]
pub struct AccountBalance {
    pub account_id: ID,
    /// Owed (> 0) or in credit (< 0).
    pub balance: Decimal,
    /// Money received and not yet owed; the next receipts take it.
    pub advance: Decimal,
    /// Outstanding debts, oldest first.
    pub debts: Vec<Debt>,
}

pub struct LedgerEntry(pub ledger_entry::Model);

#[Object]
impl LedgerEntry {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The receipt that shows it.
    async fn period(&self) -> &str {
        &self.0.period
    }
    /// The debt it makes or settles; none for an advance.
    async fn debt_period(&self) -> Option<&str> {
        self.0.debt_period.as_deref()
    }
    async fn service_id(&self) -> Option<ID> {
        self.0.service_id.map(|s| ID(s.to_string()))
    }
    /// `charge`, `benefit`, `recalculation`, `penalty`, `payment`,
    /// `reversal`, `refund` or `allocation`.
    async fn kind(&self) -> &str {
        &self.0.kind
    }
    /// Owed (> 0) or received (< 0).
    async fn amount(&self) -> Decimal {
        money(self.0.amount_minor)
    }
    /// `receipt` or `payment`, and its id.
    async fn document(&self) -> &str {
        &self.0.document
    }
    async fn document_id(&self) -> ID {
        ID(self.0.document_id.to_string())
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

#[derive(Default)]
pub struct PaymentsQuery;

#[Object]
impl PaymentsQuery {
    /// The organisation's payments, newest first (a house's, when given).
    async fn payments(
        &self,
        ctx: &Context<'_>,
        organisation_id: ID,
        house_id: Option<ID>,
        #[graphql(default = 100)] first: i32,
    ) -> Result<Vec<Payment>> {
        let by = author(ctx, "Query.payments")?;
        let org = uuid("organisationId", &organisation_id)?;
        let house = opt_uuid("houseId", house_id.as_ref())?;
        let limit = first.clamp(1, 500) as u64;
        let list = ctx
            .data::<Payments>()?
            .journal(&by, org, house, limit)
            .await?;
        Ok(list.into_iter().map(Payment).collect())
    }

    /// An account's payments, newest first.
    async fn account_payments(
        &self,
        ctx: &Context<'_>,
        account_id: ID,
        #[graphql(default = 100)] first: i32,
    ) -> Result<Vec<Payment>> {
        let by = author(ctx, "Query.accountPayments")?;
        let id = uuid("accountId", &account_id)?;
        let limit = first.clamp(1, 500) as u64;
        let list = ctx
            .data::<Payments>()?
            .account_payments(&by, id, limit)
            .await?;
        Ok(list.into_iter().map(Payment).collect())
    }

    async fn payment(&self, ctx: &Context<'_>, id: ID) -> Result<Payment> {
        let by = author(ctx, "Query.payment")?;
        let id = uuid("id", &id)?;
        Ok(Payment(ctx.data::<Payments>()?.payment(&by, id).await?))
    }

    /// An account's balance, advance and debts by period and service.
    async fn account_balance(&self, ctx: &Context<'_>, account_id: ID) -> Result<AccountBalance> {
        let by = author(ctx, "Query.accountBalance")?;
        let id = uuid("accountId", &account_id)?;
        let b = ctx.data::<Payments>()?.balance(&by, id).await?;
        Ok(AccountBalance {
            account_id,
            balance: money(b.balance_minor),
            advance: money(b.advance_minor),
            debts: b
                .debts
                .into_iter()
                .map(|d| Debt {
                    period: d.period,
                    service_id: d.service_id.map(|s| ID(s.to_string())),
                    amount: money(d.outstanding_minor),
                })
                .collect(),
        })
    }

    /// An account's ledger, oldest first.
    async fn ledger(&self, ctx: &Context<'_>, account_id: ID) -> Result<Vec<LedgerEntry>> {
        let by = author(ctx, "Query.ledger")?;
        let id = uuid("accountId", &account_id)?;
        let list = ctx.data::<Payments>()?.ledger(&by, id).await?;
        Ok(list.into_iter().map(LedgerEntry).collect())
    }
}

#[derive(InputObject)]
pub struct RecordPaymentInput {
    pub account_id: ID,
    pub amount: Decimal,
    pub method: PaymentMethod,
    pub paid_on: NaiveDate,
    pub bank_reference: Option<String>,
    pub payer: Option<String>,
    pub purpose: Option<String>,
    /// The same key with the same request gives the first payment back; with
    /// another request it is refused (CONFLICT). Scoped to the organisation
    /// and the caller.
    pub idempotency_key: Option<String>,
}

#[derive(SimpleObject)]
pub struct RecordPaymentPayload {
    pub payment: Payment,
    /// An earlier call with the same key made it.
    pub replayed: bool,
}

#[derive(InputObject)]
pub struct ReversePaymentInput {
    pub payment_id: ID,
    pub reason: String,
}

#[derive(InputObject)]
pub struct RefundPaymentInput {
    pub payment_id: ID,
    pub amount: Decimal,
    pub reason: String,
}

#[derive(SimpleObject)]
pub struct PaymentReturnPayload {
    pub payment_return: PaymentReturn,
}

#[derive(Default)]
pub struct PaymentsMutation;

fn blank(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

#[Object]
impl PaymentsMutation {
    /// Records money received on an account, once per idempotency key.
    async fn record_payment(
        &self,
        ctx: &Context<'_>,
        input: RecordPaymentInput,
    ) -> Result<RecordPaymentPayload> {
        let by = author(ctx, "Mutation.recordPayment")?;
        let new = NewPayment {
            account_id: uuid("accountId", &input.account_id).input()?,
            amount_minor: minor("amount", input.amount).input()?,
            method: input.method.code().into(),
            paid_on: input.paid_on,
            bank_reference: blank(input.bank_reference),
            payer: blank(input.payer),
            purpose: blank(input.purpose),
        };
        let source = if input.idempotency_key.is_some() {
            "integration"
        } else {
            "staff"
        };
        let done = ctx
            .data::<Payments>()?
            .record(&by, new, input.idempotency_key, source)
            .await
            .input()?;
        Ok(RecordPaymentPayload {
            payment: Payment(done.payment),
            replayed: done.replayed,
        })
    }

    /// Undoes a payment as a whole, with the reason.
    async fn reverse_payment(
        &self,
        ctx: &Context<'_>,
        input: ReversePaymentInput,
    ) -> Result<PaymentReturnPayload> {
        let by = author(ctx, "Mutation.reversePayment")?;
        let id = uuid("paymentId", &input.payment_id).input()?;
        let row = ctx
            .data::<Payments>()?
            .reverse(&by, id, &input.reason)
            .await
            .input()?;
        Ok(PaymentReturnPayload {
            payment_return: PaymentReturn(row),
        })
    }

    /// Pays back part of a payment's advance, with the reason.
    async fn refund_payment(
        &self,
        ctx: &Context<'_>,
        input: RefundPaymentInput,
    ) -> Result<PaymentReturnPayload> {
        let by = author(ctx, "Mutation.refundPayment")?;
        let id = uuid("paymentId", &input.payment_id).input()?;
        let amount = minor("amount", input.amount).input()?;
        let row = ctx
            .data::<Payments>()?
            .refund(&by, id, amount, &input.reason)
            .await
            .input()?;
        Ok(PaymentReturnPayload {
            payment_return: PaymentReturn(row),
        })
    }
}

/// A payment, reversal or refund as it committed.
#[derive(SimpleObject)]
pub struct PaymentConfirmed {
    /// The event's number in the organisation's feed.
    pub seq: i64,
    pub payment_id: ID,
    pub account_id: ID,
    /// `payment`, `reversal` or `refund`.
    pub kind: String,
    pub amount: Decimal,
    /// The account's balance after it.
    pub balance: Decimal,
}

#[derive(Default)]
pub struct PaymentsSubscription;

#[Subscription]
impl PaymentsSubscription {
    /// Payments, reversals and refunds the moment they commit: a resident's
    /// own accounts, staff's organisation (their houses, when limited); one
    /// account's when `accountId` is given. `after`: resume after that event
    /// (`seq`) without a gap; from now when absent.
    async fn payment_confirmed(
        &self,
        ctx: &Context<'_>,
        organisation_id: ID,
        account_id: Option<ID>,
        after: Option<i64>,
    ) -> Result<BoxStream<'static, PaymentConfirmed>> {
        const OP: &str = "Subscription.paymentConfirmed";
        let org = uuid("organisationId", &organisation_id)?;
        let account = opt_uuid("accountId", account_id.as_ref())?;
        crate::events::subscribe(
            ctx,
            crate::events::Feed {
                operation: OP,
                topic: topics::PAYMENT_CONFIRMED,
                organisation: org,
                after,
                visible: std::sync::Arc::new(move |p, e| {
                    super::service::sees_payment(p, OP, account, e)
                }),
            },
            |e| {
                let c = e.decode::<Confirmed>()?;
                Some(PaymentConfirmed {
                    seq: e.seq,
                    payment_id: ID(c.payment_id.to_string()),
                    account_id: ID(c.account_id.to_string()),
                    kind: c.kind.clone(),
                    amount: money(c.amount_minor),
                    balance: money(c.balance_minor),
                })
            },
        )
        .await
    }
}
