use chrono::NaiveDate;
use entities::{house, meter, premises, HouseStatus, MeterStatus, RecordStatus, Resource};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::houses::find_house;
use super::premises::find_premises;
use super::{unique_as_conflict, Direction, Page, Registry, Restrict};
use crate::audit::{diff, record, Author};
use crate::auth::Target;
use crate::error::{AppError, AppResult};
use crate::exact::from_micro;
use crate::registry::drafts::{MeterDraft, ValidMeter};
use crate::search::index;

#[derive(Debug, Clone, Default)]
pub struct MeterFilter {
    pub house_id: Option<Uuid>,
    pub premises_id: Option<Uuid>,
    /// `Some(true)`: house-level (common) meters only.
    pub common: Option<bool>,
    pub resource: Option<Resource>,
    pub status: Option<MeterStatus>,
    /// Meters whose verification is due on or before this date.
    pub verification_due_before: Option<NaiveDate>,
    /// What the caller may see (from the access policy).
    pub restrict: Restrict,
}

#[derive(Debug, Clone, Copy, Default)]
pub enum MeterOrder {
    #[default]
    Serial,
    VerificationDue,
}

const DUPLICATE_SERIAL: &str = "a meter of this resource with this serial number already exists";

impl Registry {
    /// Installs a meter in premises, or a common meter on the house when
    /// `premises_id` is `None`.
    pub async fn create_meter(
        &self,
        by: &Author,
        house_id: Option<Uuid>,
        premises_id: Option<Uuid>,
        draft: MeterDraft,
    ) -> AppResult<meter::Model> {
        let txn = crate::tx::begin_write(&self.db).await?;
        let (h, p) = place(&txn, house_id, premises_id).await?;
        by.check(Target::Meter {
            org: h.organisation_id,
            house: h.id,
            premises: p.as_ref().map(|p| p.id),
        })?;
        let v = draft.validate()?;
        check_serial(&txn, h.organisation_id, None, &v).await?;
        let now = self.clock.now();
        let model = meter::ActiveModel {
            id: Set(Uuid::now_v7()),
            organisation_id: Set(h.organisation_id),
            house_id: Set(h.id),
            premises_id: Set(p.as_ref().map(|p| p.id)),
            created_at: Set(now),
            ..meter_fields(v, now)
        }
        .insert(&txn)
        .await
        .map_err(|e| unique_as_conflict(e, "serial", DUPLICATE_SERIAL))?;
        record(
            &txn,
            by,
            model.organisation_id,
            "meter",
            Some(model.id),
            diff(None, Some(&model)),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(model)
    }

    /// Applies `patch` to the meter as it is inside the transaction.
    pub async fn update_meter(
        &self,
        by: &Author,
        id: Uuid,
        patch: impl FnOnce(&mut MeterDraft) + Send,
    ) -> AppResult<meter::Model> {
        let txn = crate::tx::begin_write(&self.db).await?;
        super::lock_row(&txn, "meters", id).await?;
        let current = find_meter(&txn, id).await?;
        by.check(meter_target(&current))?;
        let mut draft = MeterDraft::from_model(&current);
        patch(&mut draft);
        let v = draft.validate()?;
        check_serial(&txn, current.organisation_id, Some(id), &v).await?;
        let now = self.clock.now();
        let mut am = meter_fields(v, now);
        am.id = Set(current.id);
        let model = am
            .update(&txn)
            .await
            .map_err(|e| unique_as_conflict(e, "serial", DUPLICATE_SERIAL))?;
        record(
            &txn,
            by,
            model.organisation_id,
            "meter",
            Some(id),
            diff(Some(&current), Some(&model)),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(model)
    }

    /// Moves a meter to active, failed or archived; an archived meter stays archived.
    pub async fn set_meter_status(
        &self,
        by: &Author,
        id: Uuid,
        status: MeterStatus,
    ) -> AppResult<meter::Model> {
        let txn = crate::tx::begin_write(&self.db).await?;
        let current = find_meter(&txn, id).await?;
        by.check(meter_target(&current))?;
        if current.status == MeterStatus::Archived && status != MeterStatus::Archived {
            return Err(AppError::conflict(
                "status",
                "archived",
                "an archived meter cannot be put back in service; install a new one",
            ));
        }
        let before = current.clone();
        let mut am: meter::ActiveModel = current.into();
        am.status = Set(status);
        let now = self.clock.now();
        am.updated_at = Set(now);
        let model = am.update(&txn).await?;
        record(
            &txn,
            by,
            model.organisation_id,
            "meter",
            Some(id),
            diff(Some(&before), Some(&model)),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(model)
    }

    pub async fn meter(&self, id: Uuid) -> AppResult<meter::Model> {
        find_meter(&self.db, id).await
    }

    pub async fn meters(
        &self,
        organisation_id: Uuid,
        filter: MeterFilter,
        order: MeterOrder,
        direction: Direction,
        page: Page,
    ) -> AppResult<(Vec<meter::Model>, u64)> {
        let mut query =
            meter::Entity::find().filter(meter::Column::OrganisationId.eq(organisation_id));
        if let Some(ids) = filter.restrict.ids.clone() {
            query = query.filter(meter::Column::Id.is_in(ids));
        }
        if let Some(h) = filter.restrict.houses.clone() {
            query = query.filter(meter::Column::HouseId.is_in(h));
        }
        if let Some(p) = filter.restrict.premises.clone() {
            query = query.filter(meter::Column::PremisesId.is_in(p));
        }
        if let Some(h) = filter.house_id {
            query = query.filter(meter::Column::HouseId.eq(h));
        }
        if let Some(p) = filter.premises_id {
            query = query.filter(meter::Column::PremisesId.eq(p));
        }
        match filter.common {
            Some(true) => query = query.filter(meter::Column::PremisesId.is_null()),
            Some(false) => query = query.filter(meter::Column::PremisesId.is_not_null()),
            None => {}
        }
        if let Some(r) = filter.resource {
            query = query.filter(meter::Column::Resource.eq(r));
        }
        if let Some(s) = filter.status {
            query = query.filter(meter::Column::Status.eq(s));
        }
        if let Some(d) = filter.verification_due_before {
            query = query.filter(meter::Column::VerificationDue.lte(d));
        }
        let column = match order {
            MeterOrder::Serial => meter::Column::Serial,
            MeterOrder::VerificationDue => meter::Column::VerificationDue,
        };
        let query = query
            .order_by(column, direction.order())
            .order_by_asc(meter::Column::Id);
        let total = query.clone().count(&self.db).await?;
        let rows = query
            .offset(page.offset)
            .limit(page.limit)
            .all(&self.db)
            .await?;
        Ok((rows, total))
    }
}

async fn place<C: ConnectionTrait>(
    conn: &C,
    house_id: Option<Uuid>,
    premises_id: Option<Uuid>,
) -> AppResult<(house::Model, Option<premises::Model>)> {
    let p = match premises_id {
        Some(id) => Some(find_premises(conn, id).await?),
        None => None,
    };
    let house_id = match (house_id, &p) {
        (Some(h), Some(p)) if h != p.house_id => {
            return Err(AppError::validation(
                "houseId",
                "premises_elsewhere",
                "the premises belongs to another house",
            ))
        }
        (_, Some(p)) => p.house_id,
        (Some(h), None) => h,
        (None, None) => {
            return Err(AppError::validation(
                "premisesId",
                "required",
                "a meter is installed in premises or, as a common meter, on a house",
            ))
        }
    };
    let h = find_house(conn, house_id).await?;
    if h.status == HouseStatus::Archived
        || p.as_ref()
            .is_some_and(|p| p.status == RecordStatus::Archived)
    {
        return Err(AppError::validation(
            "premisesId",
            "archived",
            "meters cannot be installed in archived premises or houses",
        ));
    }
    Ok((h, p))
}

async fn check_serial<C: ConnectionTrait>(
    conn: &C,
    organisation_id: Uuid,
    this: Option<Uuid>,
    v: &ValidMeter,
) -> AppResult<()> {
    let mut same = meter::Entity::find()
        .filter(meter::Column::OrganisationId.eq(organisation_id))
        .filter(meter::Column::Resource.eq(v.resource))
        .filter(meter::Column::SerialKey.eq(index::code_key(&v.serial)));
    if let Some(id) = this {
        same = same.filter(meter::Column::Id.ne(id));
    }
    if same.count(conn).await? > 0 {
        return Err(AppError::conflict("serial", "duplicate", DUPLICATE_SERIAL));
    }
    Ok(())
}

pub fn meter_target(m: &meter::Model) -> Target<'static> {
    Target::Meter {
        org: m.organisation_id,
        house: m.house_id,
        premises: m.premises_id,
    }
}

pub(crate) async fn find_meter<C: ConnectionTrait>(conn: &C, id: Uuid) -> AppResult<meter::Model> {
    meter::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(AppError::not_found("meter"))
}

fn meter_fields(v: ValidMeter, now: chrono::DateTime<chrono::Utc>) -> meter::ActiveModel {
    meter::ActiveModel {
        serial_key: Set(index::code_key(&v.serial)),
        serial: Set(v.serial),
        resource: Set(v.resource),
        zones: Set(v.zones),
        unit: Set(v.unit),
        installed_on: Set(v.installed_on),
        verification_due: Set(v.verification_due),
        initial1_micro: Set(v.initial_micro[0].unwrap_or(0)),
        initial2_micro: Set(v.initial_micro[1]),
        initial3_micro: Set(v.initial_micro[2]),
        status: Set(v.status),
        digits: Set(v.digits),
        updated_at: Set(now),
        ..Default::default()
    }
}

impl MeterDraft {
    pub fn from_model(m: &meter::Model) -> Self {
        let values = [Some(m.initial1_micro), m.initial2_micro, m.initial3_micro];
        Self {
            serial: m.serial.clone(),
            resource: m.resource,
            zones: m.zones,
            unit: Some(m.unit.clone()),
            installed_on: m.installed_on,
            verification_due: m.verification_due,
            initial_values: values
                .iter()
                .take(m.zones as usize)
                .map(|v| from_micro(v.unwrap_or(0)))
                .collect(),
            status: m.status,
            digits: m.digits,
        }
    }
}
