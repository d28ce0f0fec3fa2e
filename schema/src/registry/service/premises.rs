use entities::{account, house, premises, HouseStatus, PremisesKind, RecordStatus};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::houses::find_house;
use super::{unique_as_conflict, Direction, Page, Registry, Restrict};
use crate::audit::{diff, record, Author};
use crate::auth::Target;
use crate::error::{AppError, AppResult};
use crate::exact::from_micro;
use crate::registry::drafts::{PremisesDraft, ValidPremises};

#[derive(Debug, Clone, Default)]
pub struct PremisesFilter {
    pub house_id: Option<Uuid>,
    pub kind: Option<PremisesKind>,
    pub status: Option<RecordStatus>,
    pub number: Option<String>,
    /// What the caller may see (from the access policy).
    pub restrict: Restrict,
}

#[derive(Debug, Clone, Copy, Default)]
pub enum PremisesOrder {
    #[default]
    Number,
    Area,
    Floor,
}

const DUPLICATE_NUMBER: &str = "the house already has premises with this number";

impl Registry {
    pub async fn create_premises(
        &self,
        by: &Author,
        house_id: Uuid,
        draft: PremisesDraft,
    ) -> AppResult<premises::Model> {
        let txn = crate::tx::begin_write(&self.db).await?;
        let h = find_house(&txn, house_id).await?;
        by.check(super::houses::house_target(&h))?;
        if h.status == HouseStatus::Archived {
            return Err(AppError::validation(
                "houseId",
                "archived",
                "the house is archived",
            ));
        }
        let v = draft.validate(h.floors, h.entrances)?;
        let now = self.clock.now();
        let model = premises_active_model(Uuid::now_v7(), &h, v, now)
            .insert(&txn)
            .await
            .map_err(|e| unique_as_conflict(e, "number", DUPLICATE_NUMBER))?;
        record(
            &txn,
            by,
            model.organisation_id,
            "premises",
            Some(model.id),
            diff(None, Some(&model)),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(model)
    }

    /// Applies `patch` to the premises as it is inside the transaction.
    pub async fn update_premises(
        &self,
        by: &Author,
        id: Uuid,
        patch: impl FnOnce(&mut PremisesDraft) + Send,
    ) -> AppResult<premises::Model> {
        let txn = crate::tx::begin_write(&self.db).await?;
        super::lock_row(&txn, "premises", id).await?;
        let current = find_premises(&txn, id).await?;
        by.check(premises_target(&current))?;
        let mut draft = PremisesDraft::from_model(&current);
        patch(&mut draft);
        let h = find_house(&txn, current.house_id).await?;
        let v = draft.validate(h.floors, h.entrances)?;
        let now = self.clock.now();
        let mut am = premises_active_model(current.id, &h, v, now);
        am.created_at = Set(current.created_at);
        am.status = Set(current.status);
        let model = am
            .update(&txn)
            .await
            .map_err(|e| unique_as_conflict(e, "number", DUPLICATE_NUMBER))?;
        record(
            &txn,
            by,
            model.organisation_id,
            "premises",
            Some(id),
            diff(Some(&current), Some(&model)),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(model)
    }

    /// Archives premises that have no open accounts.
    pub async fn archive_premises(&self, by: &Author, id: Uuid) -> AppResult<premises::Model> {
        let txn = crate::tx::begin_write(&self.db).await?;
        let current = find_premises(&txn, id).await?;
        by.check(premises_target(&current))?;
        let open = account::Entity::find()
            .filter(account::Column::PremisesId.eq(id))
            .filter(account::Column::ClosedOn.is_null())
            .count(&txn)
            .await?;
        if open > 0 {
            return Err(AppError::conflict(
                "id",
                "has_open_accounts",
                format!("the premises still has {open} open accounts"),
            ));
        }
        let before = current.clone();
        let mut am: premises::ActiveModel = current.into();
        am.status = Set(RecordStatus::Archived);
        let now = self.clock.now();
        am.updated_at = Set(now);
        let model = am.update(&txn).await?;
        record(
            &txn,
            by,
            model.organisation_id,
            "premises",
            Some(id),
            diff(Some(&before), Some(&model)),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(model)
    }

    pub async fn premises(&self, id: Uuid) -> AppResult<premises::Model> {
        find_premises(&self.db, id).await
    }

    pub async fn premises_list(
        &self,
        organisation_id: Uuid,
        filter: PremisesFilter,
        order: PremisesOrder,
        direction: Direction,
        page: Page,
    ) -> AppResult<(Vec<premises::Model>, u64)> {
        let mut query =
            premises::Entity::find().filter(premises::Column::OrganisationId.eq(organisation_id));
        if let Some(ids) = filter.restrict.ids.clone() {
            query = query.filter(premises::Column::Id.is_in(ids));
        }
        if let Some(h) = filter.restrict.houses.clone() {
            query = query.filter(premises::Column::HouseId.is_in(h));
        }
        if let Some(h) = filter.house_id {
            query = query.filter(premises::Column::HouseId.eq(h));
        }
        if let Some(k) = filter.kind {
            query = query.filter(premises::Column::Kind.eq(k));
        }
        if let Some(s) = filter.status {
            query = query.filter(premises::Column::Status.eq(s));
        }
        if let Some(n) = filter.number.filter(|n| !n.trim().is_empty()) {
            query = query.filter(premises::Column::Number.eq(n.trim()));
        }
        let query = match order {
            // Numbers sort as people read them: 2 before 10.
            PremisesOrder::Number => query
                .order_by(premises::Column::HouseId, direction.order())
                .order_by(
                    sea_orm::sea_query::Expr::cust("LENGTH(number)"),
                    direction.order(),
                )
                .order_by(premises::Column::Number, direction.order()),
            PremisesOrder::Area => query.order_by(premises::Column::AreaMicro, direction.order()),
            PremisesOrder::Floor => query.order_by(premises::Column::Floor, direction.order()),
        }
        .order_by_asc(premises::Column::Id);
        let total = query.clone().count(&self.db).await?;
        let rows = query
            .offset(page.offset)
            .limit(page.limit)
            .all(&self.db)
            .await?;
        Ok((rows, total))
    }
}

pub fn premises_target(p: &premises::Model) -> Target<'static> {
    Target::Premises {
        org: p.organisation_id,
        house: p.house_id,
        id: p.id,
    }
}

pub(crate) async fn find_premises<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> AppResult<premises::Model> {
    premises::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(AppError::not_found("premises"))
}

fn premises_active_model(
    id: Uuid,
    h: &house::Model,
    v: ValidPremises,
    now: chrono::DateTime<chrono::Utc>,
) -> premises::ActiveModel {
    premises::ActiveModel {
        id: Set(id),
        organisation_id: Set(h.organisation_id),
        house_id: Set(h.id),
        number: Set(v.number),
        kind: Set(v.kind),
        entrance: Set(v.entrance),
        floor: Set(v.floor),
        area_micro: Set(v.area_micro),
        rooms: Set(v.rooms),
        status: Set(RecordStatus::Active),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

impl PremisesDraft {
    pub fn from_model(m: &premises::Model) -> Self {
        Self {
            number: m.number.clone(),
            kind: m.kind,
            entrance: m.entrance,
            floor: m.floor,
            area: from_micro(m.area_micro),
            rooms: m.rooms,
        }
    }
}
