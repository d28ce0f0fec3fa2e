use chrono::NaiveDate;
use entities::{occupancy, person, OccupancyRole, RecordStatus};
use sea_orm::sea_query::ExprTrait;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::premises::find_premises;
use super::{contains_pattern, Direction, Page, Registry, Restrict};
use crate::audit::{diff, record, Author};
use crate::auth::Target;
use crate::error::{AppError, AppResult};
use crate::exact::Share;
use crate::registry::drafts::{OccupancyDraft, PersonDraft, ValidOccupancy, ValidPerson};
use crate::search::index;

#[derive(Debug, Clone, Default)]
pub struct PersonFilter {
    pub name: Option<String>,
    /// What the caller may see (from the access policy).
    pub restrict: Restrict,
}

#[derive(Debug, Clone, Copy, Default)]
pub enum PersonOrder {
    #[default]
    Name,
    CreatedAt,
}

impl Registry {
    pub async fn create_person(
        &self,
        by: &Author,
        organisation_id: Uuid,
        draft: PersonDraft,
    ) -> AppResult<person::Model> {
        by.check(Target::Organisation(organisation_id))?;
        let v = draft.validate()?;
        let txn = crate::tx::begin_write(&self.db).await?;
        entities::organisation::Entity::find_by_id(organisation_id)
            .one(&txn)
            .await?
            .ok_or(AppError::not_found("organisation"))?;
        let now = self.clock.now();
        let model = person::ActiveModel {
            id: Set(Uuid::now_v7()),
            organisation_id: Set(organisation_id),
            created_at: Set(now),
            ..person_fields(v, now)
        }
        .insert(&txn)
        .await?;
        index::replace_person_terms(&txn, organisation_id, model.id, &[], &terms_of(&model))
            .await?;
        record(
            &txn,
            by,
            organisation_id,
            "person",
            Some(model.id),
            diff(None, Some(&model)),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(model)
    }

    /// Applies `patch` to the person as they are inside the transaction.
    pub async fn update_person(
        &self,
        by: &Author,
        id: Uuid,
        patch: impl FnOnce(&mut PersonDraft) + Send,
    ) -> AppResult<person::Model> {
        let txn = crate::tx::begin_write(&self.db).await?;
        super::lock_row(&txn, "people", id).await?;
        let current = find_person(&txn, id).await?;
        let houses = if by.principal.house_limited(current.organisation_id) {
            Some(houses_of_person(&txn, id).await?)
        } else {
            None
        };
        by.check(Target::Person {
            org: current.organisation_id,
            id,
            houses: houses.as_deref(),
        })?;
        let mut draft = PersonDraft::from_model(&current);
        patch(&mut draft);
        let v = draft.validate()?;
        let now = self.clock.now();
        let mut am = person_fields(v, now);
        am.id = Set(current.id);
        let model = am.update(&txn).await?;
        record(
            &txn,
            by,
            model.organisation_id,
            "person",
            Some(id),
            diff(Some(&current), Some(&model)),
            now,
        )
        .await?;
        index::replace_person_terms(
            &txn,
            model.organisation_id,
            model.id,
            &terms_of(&current),
            &terms_of(&model),
        )
        .await?;
        txn.commit().await?;
        Ok(model)
    }

    pub async fn person(&self, id: Uuid) -> AppResult<person::Model> {
        find_person(&self.db, id).await
    }

    pub async fn people(
        &self,
        organisation_id: Uuid,
        filter: PersonFilter,
        order: PersonOrder,
        direction: Direction,
        page: Page,
    ) -> AppResult<(Vec<person::Model>, u64)> {
        let mut query =
            person::Entity::find().filter(person::Column::OrganisationId.eq(organisation_id));
        if let Some(ids) = filter.restrict.ids.clone() {
            query = query.filter(person::Column::Id.is_in(ids));
        }
        if let Some(houses) = filter.restrict.houses.clone() {
            // Holders of accounts or occupants of premises in those houses.
            let holders = sea_orm::sea_query::Query::select()
                .column(entities::account::Column::HolderId)
                .from(entities::account::Entity)
                .and_where(entities::account::Column::HouseId.is_in(houses.clone()))
                .and_where(entities::account::Column::HolderId.is_not_null())
                .to_owned();
            let occupants = sea_orm::sea_query::Query::select()
                .column((occupancy::Entity, occupancy::Column::PersonId))
                .from(occupancy::Entity)
                .inner_join(
                    entities::premises::Entity,
                    sea_orm::sea_query::Expr::col((
                        entities::premises::Entity,
                        entities::premises::Column::Id,
                    ))
                    .equals((occupancy::Entity, occupancy::Column::PremisesId)),
                )
                .and_where(
                    sea_orm::sea_query::Expr::col((
                        entities::premises::Entity,
                        entities::premises::Column::HouseId,
                    ))
                    .is_in(houses),
                )
                .to_owned();
            query = query.filter(
                sea_orm::Condition::any()
                    .add(person::Column::Id.in_subquery(holders))
                    .add(person::Column::Id.in_subquery(occupants)),
            );
        }
        if let Some(name) = filter.name.filter(|n| !n.trim().is_empty()) {
            query = query.filter(person::Column::FullName.like(contains_pattern(&name)));
        }
        let column = match order {
            PersonOrder::Name => person::Column::FullName,
            PersonOrder::CreatedAt => person::Column::CreatedAt,
        };
        let query = query
            .order_by(column, direction.order())
            .order_by_asc(person::Column::Id);
        let total = query.clone().count(&self.db).await?;
        let rows = query
            .offset(page.offset)
            .limit(page.limit)
            .all(&self.db)
            .await?;
        Ok((rows, total))
    }

    /// Links a person to premises as owner (with a share) or tenant.
    pub async fn link_person(
        &self,
        by: &Author,
        premises_id: Uuid,
        person_id: Uuid,
        draft: OccupancyDraft,
    ) -> AppResult<occupancy::Model> {
        let txn = crate::tx::begin_write(&self.db).await?;
        let p = find_premises(&txn, premises_id).await?;
        by.check(super::premises::premises_target(&p))?;
        let v = draft.validate()?;
        if p.status == RecordStatus::Archived {
            return Err(AppError::validation(
                "premisesId",
                "archived",
                "the premises is archived",
            ));
        }
        let who = find_person(&txn, person_id).await?;
        if who.organisation_id != p.organisation_id {
            return Err(AppError::not_found("person"));
        }
        check_owner_shares(&txn, premises_id, None, &v, self.today()).await?;
        let now = self.clock.now();
        let model = occupancy::ActiveModel {
            id: Set(Uuid::now_v7()),
            organisation_id: Set(p.organisation_id),
            premises_id: Set(premises_id),
            person_id: Set(person_id),
            role: Set(v.role),
            share_num: Set(v.share.num()),
            share_den: Set(v.share.den()),
            since: Set(v.since),
            until: Set(v.until),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await?;
        record(
            &txn,
            by,
            model.organisation_id,
            "occupancy",
            Some(model.id),
            diff(None, Some(&model)),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(model)
    }

    /// Ends a person's link to premises on a date; the history stays.
    pub async fn end_occupancy(
        &self,
        by: &Author,
        id: Uuid,
        until: NaiveDate,
    ) -> AppResult<occupancy::Model> {
        let txn = crate::tx::begin_write(&self.db).await?;
        let current = occupancy::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or(AppError::not_found("occupancy"))?;
        let p = find_premises(&txn, current.premises_id).await?;
        by.check(super::premises::premises_target(&p))
            .map_err(|e| match e {
                AppError::NotFound { .. } => AppError::not_found("occupancy"),
                other => other,
            })?;
        if let Some(since) = current.since {
            if until < since {
                return Err(AppError::validation(
                    "until",
                    "dates_out_of_order",
                    format!("must not be before the start date ({since})"),
                ));
            }
        }
        let before = current.clone();
        let mut am: occupancy::ActiveModel = current.into();
        am.until = Set(Some(until));
        let now = self.clock.now();
        am.updated_at = Set(now);
        let model = am.update(&txn).await?;
        record(
            &txn,
            by,
            model.organisation_id,
            "occupancy",
            Some(id),
            diff(Some(&before), Some(&model)),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(model)
    }

    pub async fn occupancies_of_person(&self, person_id: Uuid) -> AppResult<Vec<occupancy::Model>> {
        Ok(occupancy::Entity::find()
            .filter(occupancy::Column::PersonId.eq(person_id))
            .order_by_asc(occupancy::Column::CreatedAt)
            .all(&self.db)
            .await?)
    }
}

/// Current owners' shares of the premises plus the new one stay within one whole.
pub(crate) async fn check_owner_shares<C: ConnectionTrait>(
    conn: &C,
    premises_id: Uuid,
    this: Option<Uuid>,
    v: &ValidOccupancy,
    today: NaiveDate,
) -> AppResult<()> {
    if v.role != OccupancyRole::Owner || v.until.is_some_and(|u| u < today) {
        return Ok(());
    }
    let owners = occupancy::Entity::find()
        .filter(occupancy::Column::PremisesId.eq(premises_id))
        .filter(occupancy::Column::Role.eq(OccupancyRole::Owner))
        .all(conn)
        .await?;
    let total = owners
        .iter()
        .filter(|o| Some(o.id) != this && o.until.is_none_or(|u| u >= today))
        .fold((0, 1), |acc, o| {
            Share::add(acc, Share::stored(o.share_num, o.share_den))
        });
    let total = Share::add(total, v.share);
    if total.0 > total.1 {
        return Err(AppError::validation(
            "share",
            "shares_exceed_whole",
            format!(
                "owners would hold {}/{} of the premises, more than the whole",
                total.0, total.1
            ),
        ));
    }
    Ok(())
}

/// The houses where a person holds an account or occupies premises: what a
/// staff member limited to some houses needs to see them.
pub async fn houses_of_person<C: ConnectionTrait>(
    conn: &C,
    person_id: Uuid,
) -> AppResult<Vec<Uuid>> {
    let mut houses: Vec<Uuid> = entities::account::Entity::find()
        .select_only()
        .column(entities::account::Column::HouseId)
        .filter(entities::account::Column::HolderId.eq(person_id))
        .into_tuple()
        .all(conn)
        .await?;
    let premises: Vec<Uuid> = occupancy::Entity::find()
        .select_only()
        .column(occupancy::Column::PremisesId)
        .filter(occupancy::Column::PersonId.eq(person_id))
        .into_tuple()
        .all(conn)
        .await?;
    if !premises.is_empty() {
        let more: Vec<Uuid> = entities::premises::Entity::find()
            .select_only()
            .column(entities::premises::Column::HouseId)
            .filter(entities::premises::Column::Id.is_in(premises))
            .into_tuple()
            .all(conn)
            .await?;
        houses.extend(more);
    }
    houses.sort();
    houses.dedup();
    Ok(houses)
}

pub(crate) async fn find_person<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> AppResult<person::Model> {
    person::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(AppError::not_found("person"))
}

/// The search terms of a stored person.
pub fn terms_of(m: &person::Model) -> Vec<String> {
    let phones: Vec<String> = serde_json::from_str(&m.phones).unwrap_or_default();
    let emails: Vec<String> = serde_json::from_str(&m.emails).unwrap_or_default();
    index::person_terms(&m.full_name, &phones, &emails)
}

fn person_fields(v: ValidPerson, now: chrono::DateTime<chrono::Utc>) -> person::ActiveModel {
    let natural_key = v.natural_key();
    person::ActiveModel {
        full_name: Set(v.full_name),
        phones: Set(serde_json::to_string(&v.phones).unwrap_or_else(|_| "[]".into())),
        emails: Set(serde_json::to_string(&v.emails).unwrap_or_else(|_| "[]".into())),
        preferred_channel: Set(v.preferred_channel),
        consent_personal_data: Set(v.consent_personal_data),
        consent_electronic_receipts: Set(v.consent_electronic_receipts),
        consent_marketing: Set(v.consent_marketing),
        natural_key: Set(natural_key),
        updated_at: Set(now),
        ..Default::default()
    }
}

impl PersonDraft {
    pub fn from_model(m: &person::Model) -> Self {
        Self {
            full_name: m.full_name.clone(),
            phones: serde_json::from_str(&m.phones).unwrap_or_default(),
            emails: serde_json::from_str(&m.emails).unwrap_or_default(),
            preferred_channel: m.preferred_channel,
            consent_personal_data: m.consent_personal_data,
            consent_electronic_receipts: m.consent_electronic_receipts,
            consent_marketing: m.consent_marketing,
        }
    }
}
