//! The billing catalogue: services and their tariffs over time.
//!
//! Rules:
//! - a service's code is unique in its organisation and never changes; a
//!   service that is no longer billed is archived, never deleted (receipts of
//!   past periods name it);
//! - a metered service names the meters' resource and has 1 to 3 zones (day,
//!   night, peak); any other has one zone;
//! - a tariff version holds one list of tiers per zone, in increasing order,
//!   the last without a limit; prices are exact and not negative;
//! - versions of one service and scope (the organisation, or one house) never
//!   overlap: a new version that starts inside an earlier one ends that one
//!   the day before; one that would start inside a later version is refused;
//! - a house's own versions take precedence over the organisation's on the
//!   days they cover.

use std::sync::Arc;

use chrono::NaiveDate;
use entities::{house, norm, service, tariff, CalculationMethod, NormBasis, Resource};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::calc::{Period, TariffVersion, Tier};
use crate::audit::{diff, record, Author};
use crate::auth::Target;
use crate::clock::Clock;
use crate::error::{AppError, AppResult};

#[derive(Clone)]
pub struct Catalogue {
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
}

/// A new service.
#[derive(Debug, Clone, Default)]
pub struct ServiceDraft {
    pub code: String,
    pub name: String,
    pub unit: String,
    pub method: Option<CalculationMethod>,
    pub resource: Option<Resource>,
    pub zones: Option<i32>,
    pub norm_coefficient: Option<Decimal>,
    pub provider: Provider,
}

/// Whom the organisation bills on behalf of (empty: itself).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Provider {
    pub name: Option<String>,
    pub tax_id: Option<String>,
    pub account: Option<String>,
    pub bank_id: Option<String>,
}

/// Changes to a service; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ServicePatch {
    pub name: Option<String>,
    pub unit: Option<String>,
    pub norm_coefficient: Option<Option<Decimal>>,
    pub provider: Option<Provider>,
    pub archived: Option<bool>,
}

/// One band of a tariff as stored: exact decimals as strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredTier {
    pub up_to: Option<Decimal>,
    pub price: Decimal,
}

/// A tariff version to write.
#[derive(Debug, Clone)]
pub struct TariffDraft {
    pub service_id: Uuid,
    pub house_id: Option<Uuid>,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    /// Per zone, its tiers.
    pub zones: Vec<Vec<StoredTier>>,
}

/// A norm version to write.
#[derive(Debug, Clone)]
pub struct NormDraft {
    pub service_id: Uuid,
    pub house_id: Option<Uuid>,
    pub basis: NormBasis,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    /// Per month and per unit of the basis.
    pub value: Decimal,
}

fn trimmed(field: &str, value: &str, max: usize) -> AppResult<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(AppError::validation(field, "required", "required"));
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

fn optional(field: &str, value: Option<&str>, max: usize) -> AppResult<Option<String>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => trimmed(field, v, max).map(Some),
        None => Ok(None),
    }
}

/// Exact and at most six decimal places (prices per unit, limits, coefficients).
fn exact(field: &str, value: Decimal) -> AppResult<Decimal> {
    let v = value.normalize();
    if v.scale() > 6 {
        return Err(AppError::validation(
            field,
            "too_precise",
            "at most 6 decimal places",
        ));
    }
    if v.is_sign_negative() && !v.is_zero() {
        return Err(AppError::validation(
            field,
            "must_not_be_negative",
            "must not be negative",
        ));
    }
    Ok(v)
}

/// The tiers of each zone, checked: increasing limits, the last without one.
pub fn check_prices(zones: &[Vec<StoredTier>], expected: i32) -> AppResult<Vec<Vec<StoredTier>>> {
    if zones.len() != expected.max(1) as usize {
        return Err(AppError::validation(
            "zones",
            "zones_mismatch",
            format!("the service has {expected} zone(s); give one list of prices each"),
        ));
    }
    let mut out = Vec::with_capacity(zones.len());
    for (z, tiers) in zones.iter().enumerate() {
        if tiers.is_empty() || tiers.len() > 10 {
            return Err(AppError::validation(
                format!("zones[{z}]"),
                "tiers",
                "1 to 10 price bands",
            ));
        }
        let mut below = Decimal::ZERO;
        let mut checked = Vec::with_capacity(tiers.len());
        for (k, t) in tiers.iter().enumerate() {
            let last = k + 1 == tiers.len();
            let price = exact(&format!("zones[{z}][{k}].price"), t.price)?;
            let up_to = match (t.up_to, last) {
                (None, true) => None,
                (Some(_), true) => {
                    return Err(AppError::validation(
                        format!("zones[{z}][{k}].upTo"),
                        "last_band_open",
                        "the last band has no upper limit",
                    ))
                }
                (None, false) => {
                    return Err(AppError::validation(
                        format!("zones[{z}][{k}].upTo"),
                        "band_limit",
                        "every band but the last has an upper limit",
                    ))
                }
                (Some(u), false) => {
                    let u = exact(&format!("zones[{z}][{k}].upTo"), u)?;
                    if u <= below {
                        return Err(AppError::validation(
                            format!("zones[{z}][{k}].upTo"),
                            "band_order",
                            "each band's limit is above the one before",
                        ));
                    }
                    below = u;
                    Some(u)
                }
            };
            checked.push(StoredTier { up_to, price });
        }
        out.push(checked);
    }
    Ok(out)
}

pub fn prices_of(t: &tariff::Model) -> AppResult<Vec<Vec<StoredTier>>> {
    serde_json::from_str(&t.prices).map_err(|e| AppError::Internal(format!("tariff prices: {e}")))
}

impl Catalogue {
    pub fn new(db: DatabaseConnection, clock: Arc<dyn Clock>) -> Self {
        Self { db, clock }
    }

    pub async fn service(&self, id: Uuid) -> AppResult<service::Model> {
        service::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or_else(|| AppError::not_found("service"))
    }

    /// The organisation's services by code; archived ones on request.
    pub async fn services(&self, org: Uuid, archived: bool) -> AppResult<Vec<service::Model>> {
        let mut q = service::Entity::find().filter(service::Column::OrganisationId.eq(org));
        if !archived {
            q = q.filter(service::Column::Archived.eq(false));
        }
        Ok(q.order_by_asc(service::Column::Code).all(&self.db).await?)
    }

    pub async fn create_service(
        &self,
        by: &Author,
        org: Uuid,
        d: ServiceDraft,
    ) -> AppResult<service::Model> {
        by.check(Target::WholeOrganisation(org))?;
        let code = trimmed("code", &d.code, 40)?.to_lowercase();
        if !code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(AppError::validation(
                "code",
                "code_format",
                "letters a–z, digits and _",
            ));
        }
        let name = trimmed("name", &d.name, 120)?;
        let unit = trimmed("unit", &d.unit, 20)?;
        let method = d
            .method
            .ok_or_else(|| AppError::validation("method", "required", "required"))?;
        let metered = matches!(method, CalculationMethod::Metered);
        let resource = match (method, d.resource) {
            (CalculationMethod::Metered | CalculationMethod::CommonHouse, None) => {
                return Err(AppError::validation(
                    "resource",
                    "required",
                    "a metered service names the meters' resource",
                ))
            }
            (_, r) => r,
        };
        let zones = d.zones.unwrap_or(1);
        if !(1..=3).contains(&zones) || (!metered && zones != 1) {
            return Err(AppError::validation(
                "zones",
                "out_of_range",
                "1 to 3 zones for a metered service, 1 otherwise",
            ));
        }
        let coefficient = match d.norm_coefficient {
            Some(k) => {
                let k = exact("normCoefficient", k)?;
                if k < Decimal::ONE || k > Decimal::from(10) {
                    return Err(AppError::validation(
                        "normCoefficient",
                        "out_of_range",
                        "from 1 to 10",
                    ));
                }
                Some(k.to_string())
            }
            None => None,
        };
        let provider = check_provider(&d.provider)?;
        let txn = crate::tx::begin_write(&self.db).await?;
        let taken = service::Entity::find()
            .filter(service::Column::OrganisationId.eq(org))
            .filter(service::Column::Code.eq(code.clone()))
            .one(&txn)
            .await?;
        if taken.is_some() {
            return Err(AppError::conflict(
                "code",
                "code_taken",
                "another service has this code",
            ));
        }
        let now = self.clock.now();
        let model = service::ActiveModel {
            id: Set(Uuid::now_v7()),
            organisation_id: Set(org),
            code: Set(code),
            name: Set(name),
            unit: Set(unit),
            method: Set(method),
            resource: Set(resource),
            zones: Set(zones),
            norm_coefficient: Set(coefficient),
            provider_name: Set(provider.name),
            provider_tax_id: Set(provider.tax_id),
            provider_account: Set(provider.account),
            provider_bank_id: Set(provider.bank_id),
            archived: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await?;
        record(
            &txn,
            by,
            org,
            "service",
            Some(model.id),
            diff(None, Some(&model)),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(model)
    }

    pub async fn update_service(
        &self,
        by: &Author,
        id: Uuid,
        p: ServicePatch,
    ) -> AppResult<service::Model> {
        let txn = crate::tx::begin_write(&self.db).await?;
        let old = service::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or_else(|| AppError::not_found("service"))?;
        by.check(Target::WholeOrganisation(old.organisation_id))?;
        let mut am: service::ActiveModel = old.clone().into();
        if let Some(name) = &p.name {
            am.name = Set(trimmed("name", name, 120)?);
        }
        if let Some(unit) = &p.unit {
            am.unit = Set(trimmed("unit", unit, 20)?);
        }
        if let Some(k) = p.norm_coefficient {
            am.norm_coefficient = Set(match k {
                Some(k) => {
                    let k = exact("normCoefficient", k)?;
                    if k < Decimal::ONE || k > Decimal::from(10) {
                        return Err(AppError::validation(
                            "normCoefficient",
                            "out_of_range",
                            "from 1 to 10",
                        ));
                    }
                    Some(k.to_string())
                }
                None => None,
            });
        }
        if let Some(provider) = &p.provider {
            let provider = check_provider(provider)?;
            am.provider_name = Set(provider.name);
            am.provider_tax_id = Set(provider.tax_id);
            am.provider_account = Set(provider.account);
            am.provider_bank_id = Set(provider.bank_id);
        }
        if let Some(archived) = p.archived {
            am.archived = Set(archived);
        }
        let now = self.clock.now();
        am.updated_at = Set(now);
        let model = am.update(&txn).await?;
        record(
            &txn,
            by,
            old.organisation_id,
            "service",
            Some(id),
            diff(Some(&old), Some(&model)),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(model)
    }

    /// A service's versions for one scope (`house` none: the organisation's), oldest first.
    pub async fn tariffs(
        &self,
        service: Uuid,
        house: Option<Uuid>,
    ) -> AppResult<Vec<tariff::Model>> {
        let q = tariff::Entity::find().filter(tariff::Column::ServiceId.eq(service));
        let q = match house {
            Some(h) => q.filter(tariff::Column::HouseId.eq(h)),
            None => q.filter(tariff::Column::HouseId.is_null()),
        };
        Ok(q.order_by_asc(tariff::Column::ValidFrom)
            .all(&self.db)
            .await?)
    }

    /// Writes a version; an earlier one of the same scope still running on
    /// `valid_from` ends the day before. Returns the new version.
    pub async fn set_tariff(&self, by: &Author, d: TariffDraft) -> AppResult<tariff::Model> {
        let txn = crate::tx::begin_write(&self.db).await?;
        let svc = self.writable(&txn, by, d.service_id, d.house_id).await?;
        let org = svc.organisation_id;
        if d.valid_to.is_some_and(|to| to < d.valid_from) {
            return Err(AppError::validation(
                "validTo",
                "before_start",
                "the last day is before the first",
            ));
        }
        let zones = check_prices(&d.zones, svc.zones)?;
        let existing = {
            let q = tariff::Entity::find().filter(tariff::Column::ServiceId.eq(svc.id));
            let q = match d.house_id {
                Some(h) => q.filter(tariff::Column::HouseId.eq(h)),
                None => q.filter(tariff::Column::HouseId.is_null()),
            };
            q.order_by_asc(tariff::Column::ValidFrom).all(&txn).await?
        };
        let now = self.clock.now();
        apply_room(
            &txn,
            by,
            "tariff",
            &existing,
            |t: &tariff::Model| (t.id, t.valid_from, t.valid_to),
            (d.valid_from, d.valid_to, now),
            |old: tariff::Model, to| tariff::ActiveModel {
                valid_to: Set(Some(to)),
                ..old.into()
            },
            |old: tariff::Model, from| tariff::ActiveModel {
                id: Set(Uuid::now_v7()),
                valid_from: Set(from),
                created_at: Set(now),
                ..old.into()
            },
        )
        .await?;
        let model = tariff::ActiveModel {
            id: Set(Uuid::now_v7()),
            organisation_id: Set(org),
            service_id: Set(svc.id),
            house_id: Set(d.house_id),
            valid_from: Set(d.valid_from),
            valid_to: Set(d.valid_to),
            prices: Set(
                serde_json::to_string(&zones).map_err(|e| AppError::Internal(e.to_string()))?
            ),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
        record(
            &txn,
            by,
            org,
            "tariff",
            Some(model.id),
            diff(None, Some(&model)),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(model)
    }

    /// A service's norms for one scope, by basis and then oldest first.
    pub async fn norms(&self, service: Uuid, house: Option<Uuid>) -> AppResult<Vec<norm::Model>> {
        let q = norm::Entity::find().filter(norm::Column::ServiceId.eq(service));
        let q = match house {
            Some(h) => q.filter(norm::Column::HouseId.eq(h)),
            None => q.filter(norm::Column::HouseId.is_null()),
        };
        Ok(q.order_by_asc(norm::Column::Basis)
            .order_by_asc(norm::Column::ValidFrom)
            .all(&self.db)
            .await?)
    }

    /// Writes a norm version, making room as for tariffs (per basis).
    pub async fn set_norm(&self, by: &Author, d: NormDraft) -> AppResult<norm::Model> {
        let txn = crate::tx::begin_write(&self.db).await?;
        let svc = self.writable(&txn, by, d.service_id, d.house_id).await?;
        let org = svc.organisation_id;
        if d.valid_to.is_some_and(|to| to < d.valid_from) {
            return Err(AppError::validation(
                "validTo",
                "before_start",
                "the last day is before the first",
            ));
        }
        let value = exact("value", d.value)?;
        let existing = {
            let q = norm::Entity::find()
                .filter(norm::Column::ServiceId.eq(svc.id))
                .filter(norm::Column::Basis.eq(d.basis));
            let q = match d.house_id {
                Some(h) => q.filter(norm::Column::HouseId.eq(h)),
                None => q.filter(norm::Column::HouseId.is_null()),
            };
            q.order_by_asc(norm::Column::ValidFrom).all(&txn).await?
        };
        let now = self.clock.now();
        apply_room(
            &txn,
            by,
            "norm",
            &existing,
            |n: &norm::Model| (n.id, n.valid_from, n.valid_to),
            (d.valid_from, d.valid_to, now),
            |old: norm::Model, to| norm::ActiveModel {
                valid_to: Set(Some(to)),
                ..old.into()
            },
            |old: norm::Model, from| norm::ActiveModel {
                id: Set(Uuid::now_v7()),
                valid_from: Set(from),
                created_at: Set(now),
                ..old.into()
            },
        )
        .await?;
        let model = norm::ActiveModel {
            id: Set(Uuid::now_v7()),
            organisation_id: Set(org),
            service_id: Set(svc.id),
            house_id: Set(d.house_id),
            basis: Set(d.basis),
            valid_from: Set(d.valid_from),
            valid_to: Set(d.valid_to),
            value: Set(value.to_string()),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
        record(
            &txn,
            by,
            org,
            "norm",
            Some(model.id),
            diff(None, Some(&model)),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(model)
    }

    /// The service, if `by` may set its prices for the organisation or `house`
    /// and it is still billed.
    async fn writable<C: sea_orm::ConnectionTrait>(
        &self,
        conn: &C,
        by: &Author,
        service: Uuid,
        house: Option<Uuid>,
    ) -> AppResult<service::Model> {
        let svc = service::Entity::find_by_id(service)
            .one(conn)
            .await?
            .ok_or_else(|| AppError::not_found("service"))?;
        match house {
            Some(h) => {
                let model = house::Entity::find_by_id(h)
                    .one(conn)
                    .await?
                    .filter(|m| m.organisation_id == svc.organisation_id)
                    .ok_or_else(|| AppError::not_found("house"))?;
                by.check(crate::registry::access::house(&model))?;
            }
            None => by.check(Target::WholeOrganisation(svc.organisation_id))?,
        }
        if svc.archived {
            return Err(AppError::validation(
                "serviceId",
                "archived",
                "the service is archived",
            ));
        }
        Ok(svc)
    }

    /// The versions in force for `house` during `period`, as the calculation
    /// takes them: the house's own on the days they cover, the organisation's
    /// on the others.
    pub async fn in_force(
        &self,
        service: Uuid,
        house: Uuid,
        period: Period,
    ) -> AppResult<Vec<TariffVersion>> {
        let all = tariff::Entity::find()
            .filter(tariff::Column::ServiceId.eq(service))
            .filter(
                sea_orm::Condition::any()
                    .add(tariff::Column::HouseId.eq(house))
                    .add(tariff::Column::HouseId.is_null()),
            )
            .filter(tariff::Column::ValidFrom.lte(period.last_day()))
            .all(&self.db)
            .await?;
        resolve(&all, house, period)
    }
}

/// The day-by-day choice of versions for one house and month (see `in_force`).
pub fn resolve(
    all: &[tariff::Model],
    house: Uuid,
    period: Period,
) -> AppResult<Vec<TariffVersion>> {
    let covers = |t: &tariff::Model, day: NaiveDate| {
        t.valid_from <= day && t.valid_to.is_none_or(|to| to >= day)
    };
    let mut out: Vec<TariffVersion> = Vec::new();
    let mut day = period.first_day();
    while day <= period.last_day() {
        let chosen = all
            .iter()
            .filter(|t| t.house_id == Some(house) && covers(t, day))
            .chain(
                all.iter()
                    .filter(|t| t.house_id.is_none() && covers(t, day)),
            )
            .next();
        if let Some(t) = chosen {
            let zones = prices_of(t)?
                .into_iter()
                .map(|z| {
                    z.into_iter()
                        .map(|s| Tier {
                            up_to: s.up_to,
                            price: s.price,
                        })
                        .collect()
                })
                .collect();
            match out.last_mut() {
                Some(last) if last.zones == zones && last.to == day.pred_opt() => {
                    last.to = Some(day)
                }
                _ => out.push(TariffVersion {
                    from: day,
                    to: Some(day),
                    zones,
                }),
            }
        }
        day = match day.succ_opt() {
            Some(d) => d,
            None => break,
        };
    }
    Ok(out)
}

/// A version's id and days (`to` none: until changed).
pub type Span = (Uuid, NaiveDate, Option<NaiveDate>);

/// What an existing version of the same scope does to make room for a new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Room {
    /// It ends on `to`, the day before the new one starts.
    Cut { id: Uuid, to: NaiveDate },
    /// It went on past the new one's end: a copy of it resumes on `from`.
    Resume { id: Uuid, from: NaiveDate },
}

/// How the versions of one scope make room for a new one from `from` to `to`
/// (inclusive): one that started before ends the day before (and resumes the
/// day after when it went on past the new one's end); one that would start
/// within the new one's days is a conflict.
pub fn make_room(
    existing: &[Span],
    from: NaiveDate,
    to: Option<NaiveDate>,
) -> AppResult<Vec<Room>> {
    let end = to.unwrap_or(NaiveDate::MAX);
    let mut steps = Vec::new();
    for &(id, old_from, old_to) in existing {
        let old_end = old_to.unwrap_or(NaiveDate::MAX);
        if old_end < from || old_from > end {
            continue;
        }
        if old_from >= from {
            return Err(AppError::conflict(
                "validFrom",
                "overlaps",
                format!("a version from {old_from} is in force then; end this one before it"),
            ));
        }
        let (Some(before), after) = (from.pred_opt(), end.succ_opt()) else {
            continue;
        };
        steps.push(Room::Cut { id, to: before });
        if let Some(after) = after.filter(|a| old_end >= *a && to.is_some()) {
            steps.push(Room::Resume { id, from: after });
        }
    }
    Ok(steps)
}

/// Makes room for a new version among `existing` (tariffs or norms of one
/// scope) as [`make_room`] plans it: `cut` ends a version, `resume` copies
/// one to start again; each change has its audit entry.
#[allow(clippy::too_many_arguments)]
async fn apply_room<A>(
    txn: &sea_orm::DatabaseTransaction,
    by: &Author,
    object: &str,
    existing: &[ModelOf<A>],
    span: impl Fn(&ModelOf<A>) -> Span,
    (from, to, now): (NaiveDate, Option<NaiveDate>, chrono::DateTime<chrono::Utc>),
    cut: impl Fn(ModelOf<A>, NaiveDate) -> A,
    resume: impl Fn(ModelOf<A>, NaiveDate) -> A,
) -> AppResult<()>
where
    A: ActiveModelTrait + sea_orm::ActiveModelBehavior + Send,
    ModelOf<A>: sea_orm::IntoActiveModel<A> + Serialize + Clone + Send + Sync + Organisational,
{
    let spans: Vec<Span> = existing.iter().map(&span).collect();
    for step in make_room(&spans, from, to)? {
        let id = match step {
            Room::Cut { id, .. } | Room::Resume { id, .. } => id,
        };
        let Some(old) = existing.iter().find(|m| span(m).0 == id) else {
            continue;
        };
        let (before, after) = match step {
            Room::Cut { to, .. } => (Some(old), cut(old.clone(), to).update(txn).await?),
            Room::Resume { from, .. } => (None, resume(old.clone(), from).insert(txn).await?),
        };
        record(
            txn,
            by,
            old.organisation(),
            object,
            Some(span(&after).0),
            diff(before, Some(&after)),
            now,
        )
        .await?;
    }
    Ok(())
}

type ModelOf<A> = <<A as ActiveModelTrait>::Entity as EntityTrait>::Model;

/// A row of one organisation.
trait Organisational {
    fn organisation(&self) -> Uuid;
}

impl Organisational for tariff::Model {
    fn organisation(&self) -> Uuid {
        self.organisation_id
    }
}

impl Organisational for norm::Model {
    fn organisation(&self) -> Uuid {
        self.organisation_id
    }
}

fn check_provider(p: &Provider) -> AppResult<Provider> {
    Ok(Provider {
        name: optional("provider.name", p.name.as_deref(), 160)?,
        tax_id: optional("provider.taxId", p.tax_id.as_deref(), 20)?,
        account: optional("provider.account", p.account.as_deref(), 40)?,
        bank_id: optional("provider.bankId", p.bank_id.as_deref(), 20)?,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn tier(up_to: Option<&str>, price: &str) -> StoredTier {
        StoredTier {
            up_to: up_to.map(d),
            price: d(price),
        }
    }

    #[test]
    fn prices_need_increasing_bands_ending_open() {
        assert!(check_prices(&[vec![tier(Some("100"), "5"), tier(None, "7")]], 1).is_ok());
        let field = |z: &[Vec<StoredTier>], n| match check_prices(z, n).unwrap_err() {
            AppError::Validation { field, reason, .. } => (field, reason),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(&[vec![tier(Some("100"), "5")]], 1),
            ("zones[0][0].upTo".into(), "last_band_open")
        );
        assert_eq!(
            field(&[vec![tier(None, "5"), tier(None, "7")]], 1),
            ("zones[0][0].upTo".into(), "band_limit")
        );
        assert_eq!(
            field(
                &[vec![
                    tier(Some("100"), "5"),
                    tier(Some("50"), "6"),
                    tier(None, "7")
                ]],
                1
            ),
            ("zones[0][1].upTo".into(), "band_order")
        );
        assert_eq!(
            field(&[vec![tier(None, "-1")]], 1),
            ("zones[0][0].price".into(), "must_not_be_negative")
        );
        assert_eq!(
            field(&[vec![tier(None, "1.0000001")]], 1),
            ("zones[0][0].price".into(), "too_precise")
        );
        assert_eq!(
            field(&[vec![tier(None, "1")]], 2),
            ("zones".into(), "zones_mismatch")
        );
    }

    fn version(house: Option<Uuid>, from: &str, to: Option<&str>, price: &str) -> tariff::Model {
        tariff::Model {
            id: Uuid::now_v7(),
            organisation_id: Uuid::nil(),
            service_id: Uuid::nil(),
            house_id: house,
            valid_from: from.parse().unwrap(),
            valid_to: to.map(|t| t.parse().unwrap()),
            prices: serde_json::to_string(&vec![vec![tier(None, price)]]).unwrap(),
            created_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn a_new_version_cuts_the_running_one_and_lets_it_resume_after() {
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let spans = [
            (a, day("2026-01-01"), None),
            (b, day("2025-01-01"), Some(day("2025-12-31"))),
        ];
        assert_eq!(
            make_room(&spans, day("2026-07-01"), None).unwrap(),
            vec![Room::Cut {
                id: a,
                to: day("2026-06-30")
            }]
        );
        assert_eq!(
            make_room(&spans, day("2026-03-01"), Some(day("2026-03-31"))).unwrap(),
            vec![
                Room::Cut {
                    id: a,
                    to: day("2026-02-28")
                },
                Room::Resume {
                    id: a,
                    from: day("2026-04-01")
                }
            ]
        );
        assert!(
            make_room(&spans, day("2024-06-01"), None).is_err(),
            "later versions are in force"
        );
        assert!(
            make_room(&spans, day("2026-01-01"), None).is_err(),
            "the same first day"
        );
        assert_eq!(
            make_room(&spans, day("2024-01-01"), Some(day("2024-12-31"))).unwrap(),
            vec![]
        );
    }

    #[test]
    fn a_house_version_takes_the_days_it_covers() {
        let h = Uuid::now_v7();
        let all = [
            version(None, "2026-01-01", None, "40"),
            version(Some(h), "2026-11-11", Some("2026-11-20"), "30"),
        ];
        let nov = Period::parse("2026-11").unwrap();
        let v = resolve(&all, h, nov).unwrap();
        let spans: Vec<(String, String, Decimal)> = v
            .iter()
            .map(|t| {
                (
                    t.from.to_string(),
                    t.to.unwrap().to_string(),
                    t.zones[0][0].price,
                )
            })
            .collect();
        assert_eq!(
            spans,
            vec![
                ("2026-11-01".into(), "2026-11-10".into(), d("40")),
                ("2026-11-11".into(), "2026-11-20".into(), d("30")),
                ("2026-11-21".into(), "2026-11-30".into(), d("40")),
            ]
        );
        // 30 units over 30 days: 10 × 40 + 10 × 30 + 10 × 40.
        assert_eq!(
            super::super::calc::price(nov, &v, &[d("30")]).unwrap(),
            d("1100")
        );
        // Another house pays the organisation's price all month.
        let other = resolve(&all, Uuid::now_v7(), nov).unwrap();
        assert_eq!(other.len(), 1);
    }
}
