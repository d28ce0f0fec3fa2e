use entities::{account, house, organisation, HouseStatus};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::{contains_pattern, unique_as_conflict, Direction, Page, Registry, Restrict};
use crate::audit::{diff, record, Author};
use crate::auth::Target;
use crate::error::{AppError, AppResult};
use crate::exact::from_micro;
use crate::registry::drafts::{HouseDraft, ValidHouse};

#[derive(Debug, Clone, Default)]
pub struct HouseFilter {
    pub status: Option<HouseStatus>,
    /// Part of the one-line address.
    pub address: Option<String>,
    /// What the caller may see (from the access policy).
    pub restrict: Restrict,
}

#[derive(Debug, Clone, Copy, Default)]
pub enum HouseOrder {
    #[default]
    Address,
    CreatedAt,
}

const DUPLICATE_ADDRESS: &str = "a house with this address already exists";

impl Registry {
    pub async fn create_house(
        &self,
        by: &Author,
        organisation_id: Uuid,
        draft: HouseDraft,
    ) -> AppResult<house::Model> {
        by.check(Target::WholeOrganisation(organisation_id))?;
        let v = draft.validate(self.today())?;
        let now = self.clock.now();
        let txn = crate::tx::begin_write(&self.db).await?;
        organisation::Entity::find_by_id(organisation_id)
            .one(&txn)
            .await?
            .ok_or(AppError::not_found("organisation"))?;
        let model = house_active_model(Uuid::now_v7(), organisation_id, v, now)
            .insert(&txn)
            .await
            .map_err(|e| unique_as_conflict(e, "address", DUPLICATE_ADDRESS))?;
        record(
            &txn,
            by,
            organisation_id,
            "house",
            Some(model.id),
            diff(None, Some(&model)),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(model)
    }

    /// Applies `patch` to the house as it is inside the transaction.
    pub async fn update_house(
        &self,
        by: &Author,
        id: Uuid,
        patch: impl FnOnce(&mut HouseDraft) + Send,
    ) -> AppResult<house::Model> {
        let txn = crate::tx::begin_write(&self.db).await?;
        super::lock_row(&txn, "houses", id).await?;
        let current = find_house(&txn, id).await?;
        by.check(house_target(&current))?;
        let mut draft = HouseDraft::from_model(&current);
        patch(&mut draft);
        let v = draft.validate(self.today())?;
        let now = self.clock.now();
        let mut am = house_active_model(current.id, current.organisation_id, v, now);
        am.created_at = Set(current.created_at);
        am.status = Set(current.status);
        let model = am
            .update(&txn)
            .await
            .map_err(|e| unique_as_conflict(e, "address", DUPLICATE_ADDRESS))?;
        record(
            &txn,
            by,
            model.organisation_id,
            "house",
            Some(id),
            diff(Some(&current), Some(&model)),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(model)
    }

    /// Archives a house that has no open accounts left.
    pub async fn archive_house(&self, by: &Author, id: Uuid) -> AppResult<house::Model> {
        let txn = crate::tx::begin_write(&self.db).await?;
        let current = find_house(&txn, id).await?;
        by.check(house_target(&current))?;
        let open = account::Entity::find()
            .filter(account::Column::HouseId.eq(id))
            .filter(account::Column::ClosedOn.is_null())
            .count(&txn)
            .await?;
        if open > 0 {
            return Err(AppError::conflict(
                "id",
                "has_open_accounts",
                format!("the house still has {open} open accounts"),
            ));
        }
        let before = current.clone();
        let mut am: house::ActiveModel = current.into();
        am.status = Set(HouseStatus::Archived);
        let now = self.clock.now();
        am.updated_at = Set(now);
        let model = am.update(&txn).await?;
        record(
            &txn,
            by,
            model.organisation_id,
            "house",
            Some(id),
            diff(Some(&before), Some(&model)),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(model)
    }

    pub async fn house(&self, id: Uuid) -> AppResult<house::Model> {
        find_house(&self.db, id).await
    }

    pub async fn houses(
        &self,
        organisation_id: Uuid,
        filter: HouseFilter,
        order: HouseOrder,
        direction: Direction,
        page: Page,
    ) -> AppResult<(Vec<house::Model>, u64)> {
        let mut query =
            house::Entity::find().filter(house::Column::OrganisationId.eq(organisation_id));
        if let Some(ids) = filter.restrict.ids {
            query = query.filter(house::Column::Id.is_in(ids));
        }
        if let Some(status) = filter.status {
            query = query.filter(house::Column::Status.eq(status));
        }
        if let Some(text) = filter.address.filter(|t| !t.trim().is_empty()) {
            query = query.filter(house::Column::Address.like(contains_pattern(&text)));
        }
        let column = match order {
            HouseOrder::Address => house::Column::Address,
            HouseOrder::CreatedAt => house::Column::CreatedAt,
        };
        let query = query
            .order_by(column, direction.order())
            .order_by_asc(house::Column::Id);
        let total = query.clone().count(&self.db).await?;
        let rows = query
            .offset(page.offset)
            .limit(page.limit)
            .all(&self.db)
            .await?;
        Ok((rows, total))
    }
}

pub fn house_target(h: &house::Model) -> Target<'static> {
    Target::House {
        org: h.organisation_id,
        id: h.id,
    }
}

pub(crate) async fn find_house<C: ConnectionTrait>(conn: &C, id: Uuid) -> AppResult<house::Model> {
    house::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(AppError::not_found("house"))
}

fn house_active_model(
    id: Uuid,
    organisation_id: Uuid,
    v: ValidHouse,
    now: chrono::DateTime<chrono::Utc>,
) -> house::ActiveModel {
    house::ActiveModel {
        id: Set(id),
        organisation_id: Set(organisation_id),
        country: Set(v.country),
        region: Set(v.region),
        city: Set(v.city),
        street: Set(v.street),
        building: Set(v.building),
        postal_code: Set(v.postal_code),
        address: Set(v.address),
        year_built: Set(v.year_built),
        floors: Set(v.floors),
        entrances: Set(v.entrances),
        total_area_micro: Set(v.total_area_micro),
        common_area_micro: Set(v.common_area_micro),
        management_start: Set(v.management_start),
        status: Set(HouseStatus::Active),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

impl HouseDraft {
    pub fn from_model(m: &house::Model) -> Self {
        Self {
            country: m.country.clone(),
            region: m.region.clone(),
            city: m.city.clone(),
            street: m.street.clone(),
            building: m.building.clone(),
            postal_code: m.postal_code.clone(),
            address: m.address.clone(),
            year_built: m.year_built,
            floors: m.floors,
            entrances: m.entrances,
            total_area: m.total_area_micro.map(from_micro),
            common_area: m.common_area_micro.map(from_micro),
            management_start: m.management_start,
        }
    }
}
