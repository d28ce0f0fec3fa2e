//! Paid extra services: the organisation's catalogue, prices per house, and
//! orders.
//!
//! Invariants:
//! - An order is a work order: a complaint filed in the same transaction,
//!   classified by the service's category, routed and worked like any other
//!   (done needs its photo); its price is fixed when ordered.
//! - Done, the order goes on the receipt of the open period (the month after
//!   the last closed one) as its own line; reopened before that period
//!   closes, it comes off again; rejected, it is cancelled.
//! - Paid at once (staff at the desk): the payment is recorded in the same
//!   transaction and meets the order's charge when its period closes.

use std::collections::HashMap;
use std::sync::Arc;

use entities::{complaint, paid_service, service_order};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::audit::{record_with, Author};
use crate::auth::{ListScope, Role, Target};
use crate::bulk::{fetch_all, Cell};
use crate::clock::Clock;
use crate::complaints::service::{Complaints, NewComplaint};
use crate::complaints::workflow::Status;
use crate::error::{AppError, AppResult};
use crate::payments::service::{NewPayment, Payments};

/// At most 100 000 000 (in minor units).
const MAX_PRICE: i64 = 10_000_000_000;

/// An order written in the filing's transaction, and the payment event to
/// announce after the commit.
type Made = Arc<std::sync::Mutex<Option<(service_order::Model, Vec<crate::events::Event>)>>>;

#[derive(Debug, Clone, Default)]
pub struct ServiceDraft {
    pub id: Option<Uuid>,
    pub code: String,
    pub name: String,
    pub category: Option<String>,
    pub unit: String,
    pub price_minor: i64,
    pub active: bool,
    /// Houses with their own price.
    pub house_prices: Vec<(Uuid, i64)>,
}

/// A service with the price that applies (to the house asked, or its default).
#[derive(Debug, Clone)]
pub struct Priced {
    pub service: paid_service::Model,
    pub price_minor: i64,
    pub house_prices: Vec<(Uuid, i64)>,
}

#[derive(Debug, Clone)]
pub struct NewOrder {
    pub service_id: Uuid,
    pub account_id: Uuid,
    pub note: Option<String>,
    /// Paid at the desk now: the method (CASH, CARD, TRANSFER).
    pub paid_at_once: Option<String>,
}

#[derive(Clone)]
pub struct PaidServices {
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
    complaints: Complaints,
    payments: Payments,
}

fn bad(field: impl Into<String>, reason: &'static str, message: impl Into<String>) -> AppError {
    AppError::Validation {
        field: field.into(),
        reason,
        message: message.into(),
    }
}

/// The period a receipt charges new things on: the month after the last
/// closed one, or the current month when none is closed.
async fn open_period(
    txn: &DatabaseTransaction,
    org: Uuid,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<String> {
    let closed: Option<String> = txn
        .query_one_raw(crate::bulk::statement(
            txn.get_database_backend(),
            "SELECT MAX(period) AS p FROM billing_periods WHERE organisation_id = ? AND status = 'closed'",
            vec![org.into()],
        ))
        .await?
        .and_then(|r| r.try_get::<Option<String>>("", "p").ok().flatten());
    let p = closed
        .as_deref()
        .and_then(crate::billing::calc::Period::parse)
        .map(|p| p.next())
        .unwrap_or_else(|| {
            let d = now.date_naive();
            crate::billing::calc::Period::new(
                chrono::Datelike::year(&d),
                chrono::Datelike::month(&d),
            )
            .unwrap_or(crate::billing::calc::Period {
                year: 2026,
                month: 1,
            })
        });
    Ok(p.to_string())
}

/// Keeps an order in step with its work order: done → on the open
/// period's receipt; reopened before that period closes → off it again;
/// rejected → cancelled. Runs in the move's transaction.
pub(crate) async fn follow_work_order(
    txn: &DatabaseTransaction,
    c: &complaint::Model,
    from: Status,
    to: Status,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    let Some(o) = service_order::Entity::find()
        .filter(service_order::Column::OrganisationId.eq(c.organisation_id))
        .filter(service_order::Column::ComplaintId.eq(c.id))
        .one(txn)
        .await?
    else {
        return Ok(());
    };
    let mut am: service_order::ActiveModel = o.clone().into();
    match (from, to) {
        (_, Status::Done) if o.status == "ordered" => {
            am.status = Set("done".into());
            am.done_at = Set(Some(now));
            am.bill_period = Set(Some(open_period(txn, c.organisation_id, now).await?));
        }
        (Status::Done | Status::Closed, Status::Assigned) if o.status == "done" => {
            let open = open_period(txn, c.organisation_id, now).await?;
            if o.bill_period.as_deref() >= Some(open.as_str()) {
                am.status = Set("ordered".into());
                am.done_at = Set(None);
                am.bill_period = Set(None);
            }
        }
        (_, Status::Rejected) if o.status == "ordered" => am.status = Set("cancelled".into()),
        _ => return Ok(()),
    }
    am.update(txn).await?;
    Ok(())
}

impl PaidServices {
    pub fn new(
        db: DatabaseConnection,
        clock: Arc<dyn Clock>,
        complaints: Complaints,
        payments: Payments,
    ) -> Self {
        Self {
            db,
            clock,
            complaints,
            payments,
        }
    }

    async fn house_prices(&self, org: Uuid) -> AppResult<HashMap<Uuid, Vec<(Uuid, i64)>>> {
        let rows: Vec<(Uuid, Uuid, i64)> = fetch_all(
            &self.db,
            "SELECT service_id, house_id, price_minor FROM paid_service_prices WHERE organisation_id = ?",
            vec![Cell::Uuid(Some(org))],
        )
        .await?;
        let mut out: HashMap<Uuid, Vec<(Uuid, i64)>> = HashMap::new();
        for (s, h, p) in rows {
            out.entry(s).or_default().push((h, p));
        }
        Ok(out)
    }

    /// The catalogue: staff all of it, residents what may be ordered; with
    /// `house`, the prices of that house.
    pub async fn list(
        &self,
        by: &Author,
        org: Uuid,
        house: Option<Uuid>,
    ) -> AppResult<Vec<Priced>> {
        by.check(Target::Organisation(org))?;
        let staff = by.principal.is_staff_of(org);
        let mut q =
            paid_service::Entity::find().filter(paid_service::Column::OrganisationId.eq(org));
        if !staff {
            q = q.filter(paid_service::Column::Active.eq(true));
        }
        let prices = self.house_prices(org).await?;
        Ok(q.order_by_asc(paid_service::Column::Name)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|s| {
                let own = prices.get(&s.id).cloned().unwrap_or_default();
                let price = house
                    .and_then(|h| own.iter().find(|(x, _)| *x == h).map(|(_, p)| *p))
                    .unwrap_or(s.price_minor);
                Priced {
                    price_minor: price,
                    house_prices: if staff { own } else { Vec::new() },
                    service: s,
                }
            })
            .collect())
    }

    /// Adds a service or changes one (administrators, accountants, managers).
    pub async fn save(&self, by: &Author, org: Uuid, d: ServiceDraft) -> AppResult<Priced> {
        by.check(Target::WholeOrganisation(org))?;
        let code = d.code.trim().to_lowercase();
        if code.is_empty()
            || code.len() > 40
            || !code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(bad(
                "code",
                "invalid",
                "letters, digits, - and _ (up to 40)",
            ));
        }
        let name = d.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(bad("name", "length", "from 1 to 200 characters"));
        }
        let unit = d.unit.trim().to_string();
        if unit.is_empty() || unit.chars().count() > 20 {
            return Err(bad(
                "unit",
                "length",
                "from 1 to 20 characters (шт., visit, hour)",
            ));
        }
        if d.price_minor <= 0 || d.price_minor > MAX_PRICE {
            return Err(bad(
                "price",
                "out_of_range",
                "more than zero, at most 100 000 000",
            ));
        }
        let category = d
            .category
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty());
        if let Some(c) = &category {
            let known = self.complaints.categories(by, org).await?;
            if !known.contains(c) {
                return Err(bad(
                    "category",
                    "unknown",
                    format!("one of {}", known.join(", ")),
                ));
            }
        }
        let houses: Vec<(Uuid,)> = fetch_all(
            &self.db,
            "SELECT id FROM houses WHERE organisation_id = ?",
            vec![Cell::Uuid(Some(org))],
        )
        .await?;
        for (i, (h, p)) in d.house_prices.iter().enumerate() {
            if !houses.iter().any(|x| x.0 == *h) {
                return Err(bad(
                    format!("housePrices.{i}.houseId"),
                    "unknown",
                    "a house of the organisation",
                ));
            }
            if *p <= 0 || *p > MAX_PRICE {
                return Err(bad(
                    format!("housePrices.{i}.price"),
                    "out_of_range",
                    "more than zero",
                ));
            }
        }
        let now = self.clock.now();
        let before = match d.id {
            Some(id) => Some(
                paid_service::Entity::find_by_id(id)
                    .one(&self.db)
                    .await?
                    .filter(|s| s.organisation_id == org)
                    .ok_or_else(|| AppError::not_found("paid service"))?,
            ),
            None => None,
        };
        let txn = crate::tx::begin_write(&self.db).await?;
        let row = paid_service::ActiveModel {
            id: Set(d.id.unwrap_or_else(Uuid::now_v7)),
            organisation_id: Set(org),
            code: Set(code),
            name: Set(name),
            category: Set(category),
            unit: Set(unit),
            price_minor: Set(d.price_minor),
            active: Set(d.active),
            created_at: Set(before.as_ref().map_or(now, |b| b.created_at)),
            updated_at: Set(now),
        };
        let saved = if before.is_some() {
            row.update(&txn).await
        } else {
            row.insert(&txn).await
        }
        .map_err(|e| {
            crate::registry::service::unique_as_conflict(e, "code", "another service has this code")
        })?;
        let backend = txn.get_database_backend();
        txn.execute_raw(crate::bulk::statement(
            backend,
            "DELETE FROM paid_service_prices WHERE organisation_id = ? AND service_id = ?",
            vec![org.into(), saved.id.into()],
        ))
        .await?;
        let mut own = d.house_prices.clone();
        own.sort();
        own.dedup_by_key(|x| x.0);
        for (h, p) in &own {
            txn.execute_raw(crate::bulk::statement(
                backend,
                "INSERT INTO paid_service_prices (organisation_id, service_id, house_id, price_minor) VALUES (?, ?, ?, ?)",
                vec![org.into(), saved.id.into(), (*h).into(), (*p).into()],
            ))
            .await?;
        }
        let changes = serde_json::json!({ "before": before, "after": { "service": &saved, "housePrices": own.iter().map(|(h, p)| serde_json::json!({ "houseId": h, "priceMinor": p })).collect::<Vec<_>>() } });
        record_with(
            &txn,
            by,
            org,
            "paid_service",
            Some(saved.id),
            changes,
            now,
            None,
            vec![],
        )
        .await?;
        txn.commit().await?;
        Ok(Priced {
            price_minor: saved.price_minor,
            house_prices: own,
            service: saved,
        })
    }

    /// Orders a service for an account: a work order, routed like a
    /// complaint; paid at once when the desk says so.
    pub async fn order(
        &self,
        by: &Author,
        o: NewOrder,
    ) -> AppResult<(service_order::Model, complaint::Model)> {
        let acc = self.payments.account(by, o.account_id).await?;
        let org = acc.organisation_id;
        let s = paid_service::Entity::find_by_id(o.service_id)
            .one(&self.db)
            .await?
            .filter(|s| s.organisation_id == org)
            .ok_or_else(|| AppError::not_found("paid service"))?;
        if !s.active {
            return Err(bad(
                "serviceId",
                "inactive",
                "this service is not offered now",
            ));
        }
        let p = &by.principal;
        let desk = p.system
            || p.membership(org).is_some_and(|m| {
                m.roles.iter().any(|r| {
                    matches!(
                        r,
                        Role::Admin | Role::Accountant | Role::Dispatcher | Role::Manager
                    )
                })
            });
        let method = match &o.paid_at_once {
            None => None,
            Some(_) if !desk => {
                return Err(bad(
                    "paidAtOnce",
                    "desk_only",
                    "paid at once is recorded by staff at the desk",
                ))
            }
            Some(m) if ["CASH", "CARD", "TRANSFER"].contains(&m.as_str()) => Some(m.to_lowercase()),
            Some(_) => return Err(bad("paidAtOnce", "invalid", "CASH, CARD or TRANSFER")),
        };
        let price: i64 = fetch_all::<(i64,)>(
            &self.db,
            "SELECT price_minor FROM paid_service_prices WHERE organisation_id = ? AND service_id = ? AND house_id = ?",
            vec![Cell::Uuid(Some(org)), Cell::Uuid(Some(s.id)), Cell::Uuid(Some(acc.house_id))],
        )
        .await?
        .first()
        .map_or(s.price_minor, |r| r.0);
        let note = o
            .note
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_string);
        if note.as_ref().is_some_and(|n| n.chars().count() > 2000) {
            return Err(bad("note", "too_long", "at most 2000 characters"));
        }
        let locale = entities::organisation::Entity::find_by_id(org)
            .one(&self.db)
            .await?
            .map(|o| o.locale)
            .unwrap_or_default();
        let word = if locale.starts_with("ru") {
            "Заказ"
        } else if locale.starts_with("pt") {
            "Pedido"
        } else {
            "Order"
        };
        let text = match &note {
            Some(n) => format!("{word}: {}. {n}", s.name),
            None => format!("{word}: {}", s.name),
        };
        let resident = !p.is_staff_of(org);
        let new = NewComplaint {
            account_id: Some(acc.id),
            text,
            category: s.category.clone(),
            source: if resident {
                "app".into()
            } else {
                "visit".into()
            },
            contact: (!resident).then(|| format!("{} ({})", acc.number, p.display_name)),
            ..Default::default()
        };
        let now = self.clock.now();
        let order_id = Uuid::now_v7();
        let made: Made = Arc::default();
        let slot = made.clone();
        let payments = self.payments.clone();
        let (by2, acc2, s2) = (by.clone(), acc.clone(), s.clone());
        let hook = crate::complaints::service::hook(move |txn, c| {
            Box::pin(async move {
                let mut payment_id = None;
                let mut announce = Vec::new();
                if let Some(method) = method {
                    let pid = Uuid::now_v7();
                    let (pay, event) = payments
                        .write(
                            txn,
                            &by2,
                            &acc2,
                            &NewPayment {
                                account_id: acc2.id,
                                amount_minor: price,
                                method,
                                paid_on: now.date_naive(),
                                bank_reference: None,
                                payer: None,
                                purpose: Some(format!("{} №{}", s2.name, c.number)),
                            },
                            pid,
                            "staff",
                        )
                        .await?;
                    payment_id = Some(pay.id);
                    announce.push(event);
                }
                let row = service_order::ActiveModel {
                    id: Set(order_id),
                    organisation_id: Set(org),
                    service_id: Set(s2.id),
                    account_id: Set(acc2.id),
                    house_id: Set(acc2.house_id),
                    complaint_id: Set(c.id),
                    number: Set(c.number),
                    name: Set(s2.name.clone()),
                    unit: Set(s2.unit.clone()),
                    price_minor: Set(price),
                    status: Set("ordered".into()),
                    payment_id: Set(payment_id),
                    bill_period: Set(None),
                    ordered_by: Set((!by2.principal.system).then_some(by2.principal.user_id)),
                    created_at: Set(now),
                    done_at: Set(None),
                }
                .insert(txn)
                .await?;
                record_with(
                    txn,
                    &by2,
                    org,
                    "service_order",
                    Some(row.id),
                    serde_json::json!({ "after": &row }),
                    now,
                    None,
                    vec![],
                )
                .await?;
                if let Ok(mut m) = slot.lock() {
                    *m = Some((row, announce));
                }
                Ok(())
            })
        });
        let c = self.complaints.file_with(by, new, Some(hook)).await?;
        let (row, announce) = made
            .lock()
            .ok()
            .and_then(|mut m| m.take())
            .ok_or_else(|| AppError::Internal("the order was not written".into()))?;
        for e in announce {
            self.payments.announce(e);
        }
        Ok((row, c))
    }

    /// Orders, newest first: staff the organisation's (their houses'),
    /// residents their accounts'.
    pub async fn orders(
        &self,
        by: &Author,
        org: Uuid,
        account: Option<Uuid>,
        limit: u64,
    ) -> AppResult<Vec<service_order::Model>> {
        let mut q =
            service_order::Entity::find().filter(service_order::Column::OrganisationId.eq(org));
        match by.principal.scope(by.operation, org)? {
            ListScope::All => {}
            ListScope::Houses(h) => q = q.filter(service_order::Column::HouseId.is_in(h)),
            ListScope::Own(r) => {
                q = q.filter(service_order::Column::AccountId.is_in(r.accounts.iter().copied()))
            }
        }
        if let Some(a) = account {
            q = q.filter(service_order::Column::AccountId.eq(a));
        }
        Ok(q.order_by_desc(service_order::Column::CreatedAt)
            .limit(limit)
            .all(&self.db)
            .await?)
    }
}
