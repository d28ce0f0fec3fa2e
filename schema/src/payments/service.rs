//! Recording payments, reversals and refunds, and the ledger they write.
//!
//! Invariants:
//! - The ledger is append-only: a payment, its reversal, a refund, a period's
//!   close write new entries; nothing is updated or deleted.
//! - A payment's entries add up to minus its amount (its parts on debts and
//!   the advance); a reversal's entries mirror everything written under the
//!   payment since, so the two together add up to zero.
//! - An idempotency key is taken in the payment's own transaction: the same
//!   key and request give the first payment back, the same key with another
//!   request is a conflict, and two concurrent calls make one payment.
//! - A payment lands on the first period not closed from its month on, so a
//!   closed period's sums never change.

use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use entities::{account, billing_period, ledger_entry, organisation, payment, payment_return};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::allocation::{allocate, Debt, Rule};
use crate::audit::{record_with, Author};
use crate::auth::Target;
use crate::billing::calc::Period;
use crate::clock::Clock;
use crate::error::{AppError, AppResult};
use crate::events::{topics, Event, Events, NewEvent};

pub const METHODS: [&str; 3] = ["cash", "card", "transfer"];

/// A payment as the caller asks for it (validated by [`NewPayment::check`]).
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewPayment {
    pub account_id: Uuid,
    pub amount_minor: i64,
    pub method: String,
    pub paid_on: NaiveDate,
    pub bank_reference: Option<String>,
    pub payer: Option<String>,
    pub purpose: Option<String>,
}

impl NewPayment {
    fn check(&self, today: NaiveDate) -> AppResult<()> {
        if self.amount_minor <= 0 {
            return Err(AppError::validation(
                "amount",
                "not_positive",
                "a payment is more than zero",
            ));
        }
        if self.amount_minor > 100_000_000_000 {
            return Err(AppError::validation(
                "amount",
                "too_large",
                "a payment is at most 1 000 000 000",
            ));
        }
        if !METHODS.contains(&self.method.as_str()) {
            return Err(AppError::validation(
                "method",
                "invalid",
                "CASH, CARD or TRANSFER",
            ));
        }
        if self.paid_on > today + chrono::Duration::days(1) {
            return Err(AppError::validation(
                "paidOn",
                "in_future",
                format!("{} is after today", self.paid_on),
            ));
        }
        for (field, value, max) in [
            ("bankReference", &self.bank_reference, 100),
            ("payer", &self.payer, 300),
            ("purpose", &self.purpose, 1000),
        ] {
            if value.as_ref().is_some_and(|v| v.chars().count() > max) {
                return Err(AppError::validation(
                    field,
                    "too_long",
                    format!("at most {max} characters"),
                ));
            }
        }
        Ok(())
    }

    /// The request's fingerprint under an idempotency key.
    fn hash(&self) -> String {
        let text = serde_json::to_string(self).unwrap_or_default();
        hex(&Sha256::digest(text.as_bytes()))
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What `record` did: the payment, and whether an earlier call with the same
/// key made it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub payment: payment::Model,
    pub replayed: bool,
}

/// Whether `p` may see a payment's confirmation: their organisation's (their
/// houses, when limited) or a resident's own account; one account's when
/// `account` is given.
pub fn sees_payment(
    p: &crate::auth::Principal,
    operation: &str,
    account: Option<Uuid>,
    e: &Event,
) -> bool {
    let (Some(acc), Some(house)) = (e.account_id, e.house_id) else {
        return false;
    };
    if account.is_some_and(|a| a != acc) {
        return false;
    }
    p.check(
        operation,
        Target::Account {
            org: e.organisation_id,
            house,
            id: acc,
        },
    )
    .is_ok()
}

/// The `payment.confirmed` event's payload.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Confirmed {
    pub payment_id: Uuid,
    pub account_id: Uuid,
    /// `payment`, `reversal` or `refund`.
    pub kind: String,
    pub amount_minor: i64,
    /// The account's balance after it (> 0 owed, < 0 credit).
    pub balance_minor: i64,
}

/// An account's standing, from its ledger.
#[derive(Debug, Clone, Default)]
pub struct Balance {
    /// > 0 owed, < 0 credit.
    pub balance_minor: i64,
    /// Money received and not yet owed.
    pub advance_minor: i64,
    /// Outstanding debts by period and service, oldest first.
    pub debts: Vec<Debt>,
}

impl Balance {
    /// An account's standing from its ledger summed by debt period and service.
    pub(crate) fn of(buckets: impl IntoIterator<Item = Bucket>) -> Balance {
        let mut b = Balance::default();
        for (debt, service, amount) in buckets {
            b.balance_minor += amount;
            match debt {
                None => b.advance_minor -= amount,
                Some(period) if amount > 0 => b.debts.push(Debt {
                    period,
                    service_id: service,
                    outstanding_minor: amount,
                }),
                // A period and service paid beyond what it owed (a benefit or
                // recalculation after its payment) counts as advance.
                Some(_) => b.advance_minor -= amount,
            }
        }
        b.debts.sort_by(|x, y| {
            (x.period.as_str(), x.service_id).cmp(&(y.period.as_str(), y.service_id))
        });
        b
    }
}

#[derive(Clone)]
pub struct Payments {
    pub(super) db: DatabaseConnection,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) events: Option<Events>,
}

pub(crate) type Bucket = (Option<String>, Option<Uuid>, i64);

impl Payments {
    pub fn new(db: DatabaseConnection, clock: Arc<dyn Clock>, events: Option<Events>) -> Self {
        Self { db, clock, events }
    }

    /// An account the caller may act on.
    pub(crate) async fn account(&self, by: &Author, id: Uuid) -> AppResult<account::Model> {
        let a = account::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or_else(|| AppError::not_found("account"))?;
        by.check(Target::Account {
            org: a.organisation_id,
            house: a.house_id,
            id: a.id,
        })?;
        Ok(a)
    }

    /// Records a payment; with a key, exactly once per key.
    pub async fn record(
        &self,
        by: &Author,
        new: NewPayment,
        key: Option<String>,
        source: &str,
    ) -> AppResult<Recorded> {
        let now = self.clock.now();
        new.check(now.date_naive())?;
        if let Some(k) = &key {
            if k.trim().is_empty() || k.len() > 200 {
                return Err(AppError::validation(
                    "idempotencyKey",
                    "invalid",
                    "from 1 to 200 characters",
                ));
            }
        }
        let acc = self.account(by, new.account_id).await?;
        let org = acc.organisation_id;
        let id = Uuid::now_v7();
        let txn = crate::tx::begin_write(&self.db).await?;
        if let Some(k) = &key {
            let caller = caller(by);
            let hash = new.hash();
            let taken =
                entities::idempotency_key::Entity::insert(entities::idempotency_key::ActiveModel {
                    organisation_id: Set(org),
                    caller: Set(caller.clone()),
                    key: Set(k.clone()),
                    request_hash: Set(hash.clone()),
                    payment_id: Set(id),
                    created_at: Set(now),
                })
                .on_conflict(
                    OnConflict::columns([
                        entities::idempotency_key::Column::OrganisationId,
                        entities::idempotency_key::Column::Caller,
                        entities::idempotency_key::Column::Key,
                    ])
                    .do_nothing()
                    .to_owned(),
                )
                .exec_without_returning(&txn)
                .await?;
            if taken == 0 {
                let first = entities::idempotency_key::Entity::find_by_id((org, caller, k.clone()))
                    .one(&txn)
                    .await?
                    .ok_or_else(|| AppError::Internal("an idempotency key vanished".into()))?;
                txn.rollback().await?;
                if first.request_hash != hash {
                    return Err(AppError::conflict(
                        "idempotencyKey",
                        "key_reused",
                        "this key was used for another request",
                    ));
                }
                let payment = payment::Entity::find_by_id(first.payment_id)
                    .one(&self.db)
                    .await?
                    .ok_or_else(|| AppError::not_found("payment"))?;
                return Ok(Recorded {
                    payment,
                    replayed: true,
                });
            }
        }
        let (row, event) = self.write(&txn, by, &acc, &new, id, source).await?;
        txn.commit().await?;
        self.announce(event);
        Ok(Recorded {
            payment: row,
            replayed: false,
        })
    }

    /// Writes a payment in `txn`: the document, its ledger entries, its
    /// audit row and its event (to announce after the commit).
    pub(crate) async fn write(
        &self,
        txn: &DatabaseTransaction,
        by: &Author,
        acc: &account::Model,
        new: &NewPayment,
        id: Uuid,
        source: &str,
    ) -> AppResult<(payment::Model, Event)> {
        let now = self.clock.now();
        let org = acc.organisation_id;
        if let Some(r) = &new.bank_reference {
            let seen = payment::Entity::find()
                .filter(payment::Column::OrganisationId.eq(org))
                .filter(payment::Column::BankReference.eq(r.clone()))
                .one(txn)
                .await?;
            if seen.is_some() {
                return Err(AppError::conflict(
                    "bankReference",
                    "duplicate",
                    format!("a payment with the bank reference {r} is recorded already"),
                ));
            }
        }
        lock_account(txn, org, acc.id).await?;
        let period = landing_period(txn, org, new.paid_on).await?;
        let row = payment::ActiveModel {
            id: Set(id),
            organisation_id: Set(org),
            account_id: Set(acc.id),
            house_id: Set(acc.house_id),
            amount_minor: Set(new.amount_minor),
            method: Set(new.method.clone()),
            paid_on: Set(new.paid_on),
            period: Set(period.to_string()),
            bank_reference: Set(new.bank_reference.clone()),
            payer: Set(new.payer.clone()),
            purpose: Set(new.purpose.clone()),
            source: Set(source.to_string()),
            recorded_by: Set(caller(by)),
            created_at: Set(now),
        }
        .insert(txn)
        .await
        .map_err(|e| {
            crate::registry::service::unique_as_conflict(
                e,
                "bankReference",
                "a payment with this bank reference is recorded already",
            )
        })?;
        let rule = rule(txn, org).await?;
        let debts = debts(txn, org, acc.id).await?;
        let split = allocate(new.amount_minor, &debts, rule);
        let mut entries: Vec<(Option<String>, Option<Uuid>, i64)> = split
            .parts
            .iter()
            .map(|(i, amount)| {
                (
                    Some(debts[*i].period.clone()),
                    debts[*i].service_id,
                    -amount,
                )
            })
            .collect();
        if split.credit_minor > 0 {
            entries.push((None, None, -split.credit_minor));
        }
        let ctx = Posting {
            org,
            account: acc.id,
            house: acc.house_id,
            period,
            document: id,
        };
        post(txn, &ctx, "payment", entries, now).await?;
        let confirmation = self
            .confirmation(txn, acc, id, "payment", new.amount_minor)
            .await?;
        // The audit entry and the event last: their counters stay locked
        // until the commit, so as little as possible happens after them.
        let event = record_with(
            txn,
            by,
            org,
            "payment",
            Some(id),
            serde_json::json!({ "after": &row }),
            now,
            None,
            vec![confirmation],
        )
        .await?
        .pop()
        .ok_or_else(|| AppError::Internal("a payment's event was not written".into()))?;
        Ok((row, event))
    }

    /// Reverses a payment as a whole (a wrong account, a bounced transfer).
    pub async fn reverse(
        &self,
        by: &Author,
        payment_id: Uuid,
        reason: &str,
    ) -> AppResult<payment_return::Model> {
        let reason = reason_of(reason)?;
        let (p, txn) = self.open_return(by, payment_id).await?;
        let entries: Vec<Bucket> = by_document(&txn, p.organisation_id, p.id)
            .await?
            .into_iter()
            .filter(|(_, _, amount)| *amount != 0)
            .map(|(debt, service, amount)| (debt, service, -amount))
            .collect();
        let amount = p.amount_minor;
        self.close_return(txn, by, &p, "reversal", amount, reason, entries)
            .await
    }

    /// Pays back part of what is left of a payment's advance.
    pub async fn refund(
        &self,
        by: &Author,
        payment_id: Uuid,
        amount_minor: i64,
        reason: &str,
    ) -> AppResult<payment_return::Model> {
        let reason = reason_of(reason)?;
        if amount_minor <= 0 {
            return Err(AppError::validation(
                "amount",
                "not_positive",
                "a refund is more than zero",
            ));
        }
        let (p, txn) = self.open_return(by, payment_id).await?;
        let left: i64 = -by_document(&txn, p.organisation_id, p.id)
            .await?
            .into_iter()
            .filter(|(debt, _, _)| debt.is_none())
            .map(|(_, _, amount)| amount)
            .sum::<i64>();
        if amount_minor > left {
            return Err(AppError::validation(
                "amount",
                "exceeds_advance",
                format!(
                    "at most {} of this payment is not owed yet",
                    rust_decimal::Decimal::new(left, 2)
                ),
            ));
        }
        let entries = vec![(None, None, amount_minor)];
        self.close_return(txn, by, &p, "refund", amount_minor, reason, entries)
            .await
    }

    /// The payment, in a transaction that holds its account, unless it is
    /// reversed already.
    async fn open_return(
        &self,
        by: &Author,
        payment_id: Uuid,
    ) -> AppResult<(payment::Model, DatabaseTransaction)> {
        let p = self.payment(by, payment_id).await?;
        let txn = crate::tx::begin_write(&self.db).await?;
        lock_account(&txn, p.organisation_id, p.account_id).await?;
        if returns(&txn, p.organisation_id, p.id, Some("reversal"))
            .await?
            .is_some()
        {
            return Err(AppError::conflict(
                "paymentId",
                "already_reversed",
                "the payment is reversed already",
            ));
        }
        Ok((p, txn))
    }

    /// Posts a reversal's or refund's entries under the payment, records the
    /// document, commits and confirms it.
    #[allow(clippy::too_many_arguments)]
    async fn close_return(
        &self,
        txn: DatabaseTransaction,
        by: &Author,
        p: &payment::Model,
        kind: &str,
        amount_minor: i64,
        reason: String,
        entries: Vec<Bucket>,
    ) -> AppResult<payment_return::Model> {
        let now = self.clock.now();
        let period = landing_period(&txn, p.organisation_id, now.date_naive()).await?;
        let at = Posting {
            org: p.organisation_id,
            account: p.account_id,
            house: p.house_id,
            period,
            document: p.id,
        };
        post(&txn, &at, kind, entries, now).await?;
        let acc = account::Entity::find_by_id(p.account_id)
            .one(&txn)
            .await?
            .ok_or_else(|| AppError::not_found("account"))?;
        let confirmation = self
            .confirmation(&txn, &acc, p.id, kind, amount_minor)
            .await?;
        let (row, event) = self
            .returned(
                &txn,
                by,
                p,
                (kind, amount_minor, reason, period),
                confirmation,
            )
            .await?;
        txn.commit().await?;
        self.announce(event);
        Ok(row)
    }

    /// A payment the caller may see.
    pub async fn payment(&self, by: &Author, id: Uuid) -> AppResult<payment::Model> {
        let p = payment::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or_else(|| AppError::not_found("payment"))?;
        by.check(Target::Account {
            org: p.organisation_id,
            house: p.house_id,
            id: p.account_id,
        })?;
        Ok(p)
    }

    /// An account's payments, newest first.
    pub async fn account_payments(
        &self,
        by: &Author,
        account_id: Uuid,
        limit: u64,
    ) -> AppResult<Vec<payment::Model>> {
        let acc = self.account(by, account_id).await?;
        Ok(payment::Entity::find()
            .filter(payment::Column::OrganisationId.eq(acc.organisation_id))
            .filter(payment::Column::AccountId.eq(acc.id))
            .order_by_desc(payment::Column::CreatedAt)
            .limit(limit)
            .all(&self.db)
            .await?)
    }

    /// The organisation's payments journal, newest first.
    pub async fn journal(
        &self,
        by: &Author,
        org: Uuid,
        house: Option<Uuid>,
        limit: u64,
    ) -> AppResult<Vec<payment::Model>> {
        let mut q = payment::Entity::find().filter(payment::Column::OrganisationId.eq(org));
        match by.principal.scope(by.operation, org)? {
            crate::auth::ListScope::All => {}
            crate::auth::ListScope::Houses(houses) => {
                if house.is_some_and(|h| !houses.contains(&h)) {
                    return Err(AppError::not_found("house"));
                }
                q = q.filter(payment::Column::HouseId.is_in(houses));
            }
            crate::auth::ListScope::Own(r) => {
                q = q.filter(payment::Column::AccountId.is_in(r.accounts.iter().copied()));
            }
        }
        if let Some(h) = house {
            q = q.filter(payment::Column::HouseId.eq(h));
        }
        Ok(q.order_by_desc(payment::Column::CreatedAt)
            .limit(limit)
            .all(&self.db)
            .await?)
    }

    /// The reversals and refunds of a payment.
    pub async fn returns_of(&self, p: &payment::Model) -> AppResult<Vec<payment_return::Model>> {
        Ok(payment_return::Entity::find()
            .filter(payment_return::Column::OrganisationId.eq(p.organisation_id))
            .filter(payment_return::Column::PaymentId.eq(p.id))
            .order_by_asc(payment_return::Column::CreatedAt)
            .all(&self.db)
            .await?)
    }

    /// An account's balance, advance and debts.
    pub async fn balance(&self, by: &Author, account_id: Uuid) -> AppResult<Balance> {
        let acc = self.account(by, account_id).await?;
        balance(&self.db, acc.organisation_id, acc.id).await
    }

    /// An account's ledger, oldest first.
    pub async fn ledger(
        &self,
        by: &Author,
        account_id: Uuid,
    ) -> AppResult<Vec<ledger_entry::Model>> {
        let acc = self.account(by, account_id).await?;
        Ok(ledger_entry::Entity::find()
            .filter(ledger_entry::Column::OrganisationId.eq(acc.organisation_id))
            .filter(ledger_entry::Column::AccountId.eq(acc.id))
            .order_by_asc(ledger_entry::Column::Period)
            .order_by_asc(ledger_entry::Column::CreatedAt)
            .order_by_asc(ledger_entry::Column::Id)
            .all(&self.db)
            .await?)
    }

    /// Writes a reversal's or refund's document, its audit entry and its event.
    async fn returned(
        &self,
        txn: &DatabaseTransaction,
        by: &Author,
        p: &payment::Model,
        (kind, amount_minor, reason, period): (&str, i64, String, Period),
        confirmation: NewEvent,
    ) -> AppResult<(payment_return::Model, Event)> {
        let now = self.clock.now();
        let row = payment_return::ActiveModel {
            id: Set(Uuid::now_v7()),
            organisation_id: Set(p.organisation_id),
            payment_id: Set(p.id),
            kind: Set(kind.to_string()),
            amount_minor: Set(amount_minor),
            reason: Set(reason),
            period: Set(period.to_string()),
            recorded_by: Set(caller(by)),
            created_at: Set(now),
        }
        .insert(txn)
        .await?;
        let event = record_with(
            txn,
            by,
            p.organisation_id,
            "payment_return",
            Some(row.id),
            serde_json::json!({ "after": &row }),
            now,
            None,
            vec![confirmation],
        )
        .await?
        .pop()
        .ok_or_else(|| AppError::Internal("a return's event was not written".into()))?;
        Ok((row, event))
    }

    /// The `payment.confirmed` event of a change, with the account's balance
    /// after it (read inside the change's transaction).
    async fn confirmation(
        &self,
        txn: &DatabaseTransaction,
        acc: &account::Model,
        payment_id: Uuid,
        kind: &str,
        amount_minor: i64,
    ) -> AppResult<NewEvent> {
        let b = balance(txn, acc.organisation_id, acc.id).await?;
        let payload = Confirmed {
            payment_id,
            account_id: acc.id,
            kind: kind.to_string(),
            amount_minor,
            balance_minor: b.balance_minor,
        };
        Ok(NewEvent {
            organisation_id: acc.organisation_id,
            topic: topics::PAYMENT_CONFIRMED,
            house_id: Some(acc.house_id),
            premises_id: Some(acc.premises_id),
            account_id: Some(acc.id),
            object_id: Some(payment_id),
            payload: serde_json::to_value(&payload).unwrap_or_default(),
        })
    }

    pub(crate) fn announce(&self, event: Event) {
        if let Some(events) = &self.events {
            events.committed(vec![event]);
        }
    }
}

/// Payments on one account take their turn: each reads the debts it
/// settles. A statement's import holds the organisation's payments lock
/// alone; a payment shares it (see [`payments_lock`]). (SQLite's write
/// transactions take their turn already.)
async fn lock_account(txn: &DatabaseTransaction, org: Uuid, id: Uuid) -> AppResult<()> {
    if txn.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        let (class, key) = payments_lock(org);
        txn.execute_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT pg_advisory_xact_lock_shared($1, $2)",
            [class.into(), key.into()],
        ))
        .await?;
        account::Entity::find_by_id(id)
            .lock_exclusive()
            .one(txn)
            .await?;
    }
    Ok(())
}

/// The organisation's payments lock on PostgreSQL (a transaction advisory
/// lock): every payment, reversal and refund shares it, an import holds it
/// alone, so an import's reading of all debts and a single payment's never
/// overlap, and the import locks one thing instead of every account.
pub(crate) fn payments_lock(org: Uuid) -> (i32, i32) {
    let b = org.as_bytes();
    let key = i32::from_be_bytes([b[12] ^ b[0], b[13] ^ b[1], b[14] ^ b[2], b[15] ^ b[3]]);
    (0x6b76_0006, key)
}

pub(crate) fn caller(by: &Author) -> String {
    if by.principal.system {
        format!("system:{}", by.principal.email)
    } else {
        by.principal.user_id.to_string()
    }
}

fn reason_of(reason: &str) -> AppResult<String> {
    let r = reason.trim();
    if r.is_empty() || r.chars().count() > 500 {
        return Err(AppError::validation(
            "reason",
            "required",
            "say why, in at most 500 characters",
        ));
    }
    Ok(r.to_string())
}

/// Where entries go and which document they belong to.
pub(crate) struct Posting {
    pub org: Uuid,
    pub account: Uuid,
    pub house: Uuid,
    pub period: Period,
    pub document: Uuid,
}

/// Appends entries `(debt period, service, amount)` of one kind.
pub(crate) async fn post<C: ConnectionTrait>(
    conn: &C,
    at: &Posting,
    kind: &str,
    entries: Vec<Bucket>,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    let rows: Vec<ledger_entry::ActiveModel> = entries
        .into_iter()
        .map(|(debt, service, amount)| ledger_entry::ActiveModel {
            id: Set(Uuid::now_v7()),
            organisation_id: Set(at.org),
            account_id: Set(at.account),
            house_id: Set(at.house),
            period: Set(at.period.to_string()),
            debt_period: Set(debt),
            service_id: Set(service),
            kind: Set(kind.to_string()),
            amount_minor: Set(amount),
            document: Set("payment".into()),
            document_id: Set(at.document),
            created_at: Set(now),
        })
        .collect();
    if !rows.is_empty() {
        ledger_entry::Entity::insert_many(rows)
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

fn sum_bigint() -> sea_orm::sea_query::SimpleExpr {
    // SUM(BIGINT) is NUMERIC on PostgreSQL.
    Expr::cust("CAST(SUM(amount_minor) AS BIGINT)")
}

/// What one document wrote, by debt period and service.
async fn by_document<C: ConnectionTrait>(
    conn: &C,
    org: Uuid,
    document: Uuid,
) -> AppResult<Vec<Bucket>> {
    Ok(ledger_entry::Entity::find()
        .select_only()
        .column(ledger_entry::Column::DebtPeriod)
        .column(ledger_entry::Column::ServiceId)
        .column_as(sum_bigint(), "amount")
        .filter(ledger_entry::Column::OrganisationId.eq(org))
        .filter(ledger_entry::Column::DocumentId.eq(document))
        .group_by(ledger_entry::Column::DebtPeriod)
        .group_by(ledger_entry::Column::ServiceId)
        .order_by_asc(ledger_entry::Column::DebtPeriod)
        .into_tuple::<Bucket>()
        .all(conn)
        .await?)
}

/// An account's balance, advance and outstanding debts.
pub(crate) async fn balance<C: ConnectionTrait>(
    conn: &C,
    org: Uuid,
    account: Uuid,
) -> AppResult<Balance> {
    let buckets: Vec<Bucket> = ledger_entry::Entity::find()
        .select_only()
        .column(ledger_entry::Column::DebtPeriod)
        .column(ledger_entry::Column::ServiceId)
        .column_as(sum_bigint(), "amount")
        .filter(ledger_entry::Column::OrganisationId.eq(org))
        .filter(ledger_entry::Column::AccountId.eq(account))
        .group_by(ledger_entry::Column::DebtPeriod)
        .group_by(ledger_entry::Column::ServiceId)
        .into_tuple::<Bucket>()
        .all(conn)
        .await?;
    Ok(Balance::of(buckets))
}

async fn debts<C: ConnectionTrait>(conn: &C, org: Uuid, account: Uuid) -> AppResult<Vec<Debt>> {
    Ok(balance(conn, org, account).await?.debts)
}

/// The organisation's allocation rule.
pub(crate) async fn rule<C: ConnectionTrait>(conn: &C, org: Uuid) -> AppResult<Rule> {
    let o = organisation::Entity::find_by_id(org)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("organisation"))?;
    let s = crate::billing::settings::load(conn, &o).await?;
    Ok(match s.allocation.as_str() {
        "proportional" => Rule::Proportional,
        _ => Rule::OldestFirst,
    })
}

/// The organisation's last closed period.
pub(crate) async fn last_closed<C: ConnectionTrait>(
    conn: &C,
    org: Uuid,
) -> AppResult<Option<Period>> {
    Ok(billing_period::Entity::find()
        .filter(billing_period::Column::OrganisationId.eq(org))
        .filter(billing_period::Column::Status.eq("closed"))
        .order_by_desc(billing_period::Column::Period)
        .one(conn)
        .await?
        .and_then(|p| Period::parse(&p.period)))
}

/// The period whose receipt shows money moved on `day`: its month's, or the
/// first one after the last closed period.
pub(crate) async fn landing_period<C: ConnectionTrait>(
    conn: &C,
    org: Uuid,
    day: NaiveDate,
) -> AppResult<Period> {
    let month = Period::new(day.year(), day.month())
        .ok_or_else(|| AppError::validation("paidOn", "invalid", "not a date"))?;
    Ok(match last_closed(conn, org).await? {
        Some(closed) if closed >= month => closed.next(),
        _ => month,
    })
}

async fn returns<C: ConnectionTrait>(
    conn: &C,
    org: Uuid,
    payment: Uuid,
    kind: Option<&str>,
) -> AppResult<Option<payment_return::Model>> {
    let mut q = payment_return::Entity::find()
        .filter(payment_return::Column::OrganisationId.eq(org))
        .filter(payment_return::Column::PaymentId.eq(payment));
    if let Some(k) = kind {
        q = q.filter(payment_return::Column::Kind.eq(k));
    }
    Ok(q.one(conn).await?)
}

/// Posts a closed period's receipt lines to the ledger and moves advances
/// onto the debts they now meet; inside the close's transaction.
pub(crate) async fn post_period(
    txn: &DatabaseTransaction,
    org: Uuid,
    period: Period,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<u64> {
    let backend = txn.get_database_backend();
    if backend == sea_orm::DatabaseBackend::Postgres {
        // Advances meet debts below: no payment in between.
        let (class, key) = payments_lock(org);
        txn.execute_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            "SELECT pg_advisory_xact_lock($1, $2)",
            [class.into(), key.into()],
        ))
        .await?;
    }
    let new_id = match backend {
        sea_orm::DatabaseBackend::Postgres => "gen_random_uuid()",
        _ => "randomblob(16)",
    };
    let text = period.to_string();
    // Money that moved after the run: the receipt shows it as it closes.
    exec(
        txn,
        "UPDATE receipts SET \
         opening_minor = COALESCE((SELECT CAST(SUM(l.amount_minor) AS BIGINT) \
         FROM ledger_entries l WHERE l.organisation_id = receipts.organisation_id \
         AND l.account_id = receipts.account_id AND l.period < receipts.period), 0), \
         paid_minor = COALESCE((SELECT -CAST(SUM(l.amount_minor) AS BIGINT) \
         FROM ledger_entries l WHERE l.organisation_id = receipts.organisation_id \
         AND l.account_id = receipts.account_id AND l.period = receipts.period), 0) \
         WHERE organisation_id = ? AND period = ?",
        vec![org.into(), text.clone().into()],
    )
    .await?;
    exec(
        txn,
        "UPDATE receipts SET due_minor = opening_minor + charged_minor + benefits_minor \
         + recalculated_minor + penalties_minor - paid_minor WHERE organisation_id = ? AND period = ?",
        vec![org.into(), text.clone().into()],
    )
    .await?;
    let insert = format!(
        "INSERT INTO ledger_entries (id, organisation_id, account_id, house_id, period, debt_period, \
         service_id, kind, amount_minor, document, document_id, created_at) \
         SELECT {new_id}, c.organisation_id, c.account_id, c.house_id, c.period, c.period, \
         c.service_id, c.kind, c.amount_minor, 'receipt', r.id, ? \
         FROM charge_lines c JOIN receipts r ON r.organisation_id = c.organisation_id \
         AND r.period = c.period AND r.account_id = c.account_id \
         WHERE c.organisation_id = ? AND c.period = ? AND c.amount_minor <> 0"
    );
    let posted = exec(
        txn,
        &insert,
        vec![now.into(), org.into(), text.clone().into()],
    )
    .await?;
    // Advances (money received before it was owed) meet the new debts.
    let advances: Vec<(Uuid, Uuid, Uuid, i64)> = ledger_entry::Entity::find()
        .select_only()
        .column(ledger_entry::Column::AccountId)
        .column(ledger_entry::Column::HouseId)
        .column(ledger_entry::Column::DocumentId)
        .column_as(sum_bigint(), "amount")
        .filter(ledger_entry::Column::OrganisationId.eq(org))
        .filter(ledger_entry::Column::DebtPeriod.is_null())
        .group_by(ledger_entry::Column::AccountId)
        .group_by(ledger_entry::Column::HouseId)
        .group_by(ledger_entry::Column::DocumentId)
        .having(Expr::cust("SUM(amount_minor) < 0"))
        .order_by_asc(ledger_entry::Column::AccountId)
        .order_by_asc(ledger_entry::Column::DocumentId)
        .into_tuple()
        .all(txn)
        .await?;
    if advances.is_empty() {
        return Ok(posted);
    }
    let rule = rule(txn, org).await?;
    let mut i = 0;
    while i < advances.len() {
        let account_id = advances[i].0;
        let mut debts = debts(txn, org, account_id).await?;
        while i < advances.len() && advances[i].0 == account_id {
            let (_, house, document, amount) = advances[i];
            i += 1;
            let split = allocate(-amount, &debts, rule);
            if split.parts.is_empty() {
                continue;
            }
            let mut entries = Vec::new();
            let mut moved = 0;
            for (k, part) in split.parts {
                entries.push((Some(debts[k].period.clone()), debts[k].service_id, -part));
                debts[k].outstanding_minor -= part;
                moved += part;
            }
            entries.push((None, None, moved));
            let at = Posting {
                org,
                account: account_id,
                house,
                period,
                document,
            };
            post(txn, &at, "allocation", entries, now).await?;
        }
    }
    Ok(posted)
}

async fn exec(txn: &DatabaseTransaction, sql: &str, values: Vec<sea_orm::Value>) -> AppResult<u64> {
    let backend = txn.get_database_backend();
    let sql = if backend == sea_orm::DatabaseBackend::Postgres {
        crate::bulk::numbered(sql)
    } else {
        sql.to_string()
    };
    Ok(txn
        .execute_raw(sea_orm::Statement::from_sql_and_values(
            backend, sql, values,
        ))
        .await?
        .rows_affected())
}
