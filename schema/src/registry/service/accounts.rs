use chrono::NaiveDate;
use entities::{account, person, premises, RecordStatus};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::premises::find_premises;
use super::{unique_as_conflict, Direction, Page, Registry, Restrict};
use crate::audit::{diff, record, Author};
use crate::auth::Target;
use crate::error::{AppError, AppResult};
use crate::exact::Share;
use crate::registry::drafts::{AccountDraft, ValidAccount};
use crate::search::index;

#[derive(Debug, Clone, Default)]
pub struct AccountFilter {
    pub house_id: Option<Uuid>,
    pub premises_id: Option<Uuid>,
    pub holder_id: Option<Uuid>,
    /// `Some(true)`: open accounts only; `Some(false)`: closed only.
    pub open: Option<bool>,
    pub number_prefix: Option<String>,
    /// What the caller may see (from the access policy).
    pub restrict: Restrict,
}

#[derive(Debug, Clone, Copy, Default)]
pub enum AccountOrder {
    #[default]
    Number,
    OpenedOn,
}

const DUPLICATE_NUMBER: &str = "this account number is already used in the organisation";

impl Registry {
    pub async fn create_account(
        &self,
        by: &Author,
        premises_id: Uuid,
        draft: AccountDraft,
    ) -> AppResult<account::Model> {
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
        self.check_account(&txn, &p, None, &v).await?;
        let now = self.clock.now();
        let model = account::ActiveModel {
            id: Set(Uuid::now_v7()),
            organisation_id: Set(p.organisation_id),
            house_id: Set(p.house_id),
            premises_id: Set(p.id),
            created_at: Set(now),
            ..account_fields(v, now)
        }
        .insert(&txn)
        .await
        .map_err(|e| unique_as_conflict(e, "number", DUPLICATE_NUMBER))?;
        record(
            &txn,
            by,
            model.organisation_id,
            "account",
            Some(model.id),
            diff(None, Some(&model)),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(model)
    }

    /// Applies `patch` to the account as it is inside the transaction.
    pub async fn update_account(
        &self,
        by: &Author,
        id: Uuid,
        patch: impl FnOnce(&mut AccountDraft) + Send,
    ) -> AppResult<account::Model> {
        let txn = crate::tx::begin_write(&self.db).await?;
        super::lock_row(&txn, "accounts", id).await?;
        let current = find_account(&txn, id).await?;
        by.check(account_target(&current))?;
        let mut draft = AccountDraft::from_model(&current);
        patch(&mut draft);
        let v = draft.validate()?;
        let p = find_premises(&txn, current.premises_id).await?;
        self.check_account(&txn, &p, Some(id), &v).await?;
        let now = self.clock.now();
        let mut am = account_fields(v, now);
        am.id = Set(current.id);
        let model = am
            .update(&txn)
            .await
            .map_err(|e| unique_as_conflict(e, "number", DUPLICATE_NUMBER))?;
        record(
            &txn,
            by,
            model.organisation_id,
            "account",
            Some(id),
            diff(Some(&current), Some(&model)),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(model)
    }

    pub async fn close_account(
        &self,
        by: &Author,
        id: Uuid,
        closed_on: NaiveDate,
    ) -> AppResult<account::Model> {
        let txn = crate::tx::begin_write(&self.db).await?;
        let current = find_account(&txn, id).await?;
        by.check(account_target(&current))?;
        if current.closed_on.is_some() {
            return Err(AppError::conflict(
                "id",
                "already_closed",
                "the account is already closed",
            ));
        }
        if closed_on < current.opened_on {
            return Err(AppError::validation(
                "closedOn",
                "dates_out_of_order",
                format!(
                    "must not be before the opening date ({})",
                    current.opened_on
                ),
            ));
        }
        let before = current.clone();
        let mut am: account::ActiveModel = current.into();
        am.closed_on = Set(Some(closed_on));
        let now = self.clock.now();
        am.updated_at = Set(now);
        let model = am.update(&txn).await?;
        record(
            &txn,
            by,
            model.organisation_id,
            "account",
            Some(id),
            diff(Some(&before), Some(&model)),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(model)
    }

    pub async fn account(&self, id: Uuid) -> AppResult<account::Model> {
        find_account(&self.db, id).await
    }

    pub async fn accounts(
        &self,
        organisation_id: Uuid,
        filter: AccountFilter,
        order: AccountOrder,
        direction: Direction,
        page: Page,
    ) -> AppResult<(Vec<account::Model>, u64)> {
        let mut query =
            account::Entity::find().filter(account::Column::OrganisationId.eq(organisation_id));
        if let Some(ids) = filter.restrict.ids.clone() {
            query = query.filter(account::Column::Id.is_in(ids));
        }
        if let Some(h) = filter.restrict.houses.clone() {
            query = query.filter(account::Column::HouseId.is_in(h));
        }
        if let Some(h) = filter.house_id {
            query = query.filter(account::Column::HouseId.eq(h));
        }
        if let Some(p) = filter.premises_id {
            query = query.filter(account::Column::PremisesId.eq(p));
        }
        if let Some(p) = filter.holder_id {
            query = query.filter(account::Column::HolderId.eq(p));
        }
        match filter.open {
            Some(true) => query = query.filter(account::Column::ClosedOn.is_null()),
            Some(false) => query = query.filter(account::Column::ClosedOn.is_not_null()),
            None => {}
        }
        if let Some(prefix) = filter.number_prefix.filter(|n| !n.trim().is_empty()) {
            query = query.filter(account::Column::Number.starts_with(prefix.trim()));
        }
        let column = match order {
            AccountOrder::Number => account::Column::Number,
            AccountOrder::OpenedOn => account::Column::OpenedOn,
        };
        let query = query
            .order_by(column, direction.order())
            .order_by_asc(account::Column::Id);
        let total = query.clone().count(&self.db).await?;
        let rows = query
            .offset(page.offset)
            .limit(page.limit)
            .all(&self.db)
            .await?;
        Ok((rows, total))
    }

    /// A number not used by another account, a holder of the same organisation, and
    /// open shares of the premises within one whole.
    async fn check_account<C: ConnectionTrait>(
        &self,
        conn: &C,
        p: &premises::Model,
        this: Option<Uuid>,
        v: &ValidAccount,
    ) -> AppResult<()> {
        let mut same_number = account::Entity::find()
            .filter(account::Column::OrganisationId.eq(p.organisation_id))
            .filter(account::Column::NumberKey.eq(index::code_key(&v.number)));
        if let Some(id) = this {
            same_number = same_number.filter(account::Column::Id.ne(id));
        }
        if same_number.count(conn).await? > 0 {
            return Err(AppError::conflict("number", "duplicate", DUPLICATE_NUMBER));
        }
        if let Some(holder) = v.holder_id {
            let found = person::Entity::find_by_id(holder)
                .filter(person::Column::OrganisationId.eq(p.organisation_id))
                .one(conn)
                .await?;
            if found.is_none() {
                return Err(AppError::validation(
                    "holderId",
                    "not_found",
                    "no such person in the organisation",
                ));
            }
        }
        if v.closed_on.is_none() {
            let mut others = account::Entity::find()
                .filter(account::Column::PremisesId.eq(p.id))
                .filter(account::Column::ClosedOn.is_null());
            if let Some(id) = this {
                others = others.filter(account::Column::Id.ne(id));
            }
            let total = others.all(conn).await?.iter().fold((0, 1), |acc, a| {
                Share::add(acc, Share::stored(a.share_num, a.share_den))
            });
            let total = Share::add(total, v.share);
            if total.0 > total.1 {
                return Err(AppError::validation(
                    "share",
                    "shares_exceed_whole",
                    format!(
                        "open accounts of premises {} would hold {}/{} of it, more than the whole",
                        p.number, total.0, total.1
                    ),
                ));
            }
        }
        Ok(())
    }
}

pub fn account_target(a: &account::Model) -> Target<'static> {
    Target::Account {
        org: a.organisation_id,
        house: a.house_id,
        id: a.id,
    }
}

pub(crate) async fn find_account<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> AppResult<account::Model> {
    account::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(AppError::not_found("account"))
}

fn account_fields(v: ValidAccount, now: chrono::DateTime<chrono::Utc>) -> account::ActiveModel {
    account::ActiveModel {
        number_key: Set(index::code_key(&v.number)),
        number: Set(v.number),
        holder_id: Set(v.holder_id),
        share_num: Set(v.share.num()),
        share_den: Set(v.share.den()),
        registered_residents: Set(v.registered_residents),
        opened_on: Set(v.opened_on),
        closed_on: Set(v.closed_on),
        privileged_categories: Set(
            serde_json::to_string(&v.privileged_categories).unwrap_or_else(|_| "[]".into())
        ),
        updated_at: Set(now),
        ..Default::default()
    }
}

impl AccountDraft {
    pub fn from_model(m: &account::Model) -> Self {
        Self {
            number: m.number.clone(),
            holder_id: m.holder_id,
            share: Some(Share::stored(m.share_num, m.share_den).render()),
            registered_residents: m.registered_residents,
            opened_on: m.opened_on,
            closed_on: m.closed_on,
            privileged_categories: serde_json::from_str(&m.privileged_categories)
                .unwrap_or_default(),
        }
    }
}
