//! Imported statements and the queue of credits no account was found for:
//! an accountant matches each by hand (a payment like any other, and the
//! payer remembered for the next statements) or sets it aside with a reason.

use entities::{account, payer_match, statement_import, statement_line};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use super::matching::{payer_keys, How};
use super::service::{caller, NewPayment, Payments};
use crate::audit::{record, Author};
use crate::auth::Target;
use crate::error::{AppError, AppResult};

pub const STATUSES: [&str; 5] = ["matched", "unmatched", "duplicate", "debit", "dismissed"];

impl Payments {
    /// The organisation's imported statements, newest first.
    pub async fn imports(
        &self,
        by: &Author,
        org: Uuid,
        limit: u64,
    ) -> AppResult<Vec<statement_import::Model>> {
        by.check(Target::WholeOrganisation(org))?;
        Ok(statement_import::Entity::find()
            .filter(statement_import::Column::OrganisationId.eq(org))
            .order_by_desc(statement_import::Column::CreatedAt)
            .limit(limit)
            .all(&self.db)
            .await?)
    }

    pub async fn import(&self, by: &Author, id: Uuid) -> AppResult<statement_import::Model> {
        let i = statement_import::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or_else(|| AppError::not_found("statement import"))?;
        by.check(Target::WholeOrganisation(i.organisation_id))?;
        Ok(i)
    }

    /// An import's lines in file order after `after` (a position), of one
    /// status when given.
    pub async fn import_lines(
        &self,
        i: &statement_import::Model,
        status: Option<&str>,
        after: Option<i32>,
        limit: u64,
    ) -> AppResult<Vec<statement_line::Model>> {
        let mut q = statement_line::Entity::find()
            .filter(statement_line::Column::OrganisationId.eq(i.organisation_id))
            .filter(statement_line::Column::ImportId.eq(i.id));
        if let Some(s) = status {
            q = q.filter(statement_line::Column::Status.eq(s));
        }
        if let Some(a) = after {
            q = q.filter(statement_line::Column::Position.gt(a));
        }
        Ok(q.order_by_asc(statement_line::Column::Position)
            .limit(limit)
            .all(&self.db)
            .await?)
    }

    /// Credits waiting for an accountant, oldest first.
    pub async fn queue(
        &self,
        by: &Author,
        org: Uuid,
        limit: u64,
    ) -> AppResult<(Vec<statement_line::Model>, u64)> {
        by.check(Target::WholeOrganisation(org))?;
        let q = statement_line::Entity::find()
            .filter(statement_line::Column::OrganisationId.eq(org))
            .filter(statement_line::Column::Status.eq("unmatched"));
        let total = sea_orm::PaginatorTrait::count(q.clone(), &self.db).await?;
        let rows = q
            .order_by_asc(statement_line::Column::BookedOn)
            .order_by_asc(statement_line::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?;
        Ok((rows, total))
    }

    /// A waiting credit, for an action on it.
    async fn waiting(&self, by: &Author, line_id: Uuid) -> AppResult<statement_line::Model> {
        let line = statement_line::Entity::find_by_id(line_id)
            .one(&self.db)
            .await?
            .ok_or_else(|| AppError::not_found("statement line"))?;
        by.check(Target::WholeOrganisation(line.organisation_id))?;
        Ok(line)
    }

    /// Pays a waiting credit onto an account; with `remember`, the payer's
    /// next credits go to that account too.
    pub async fn match_line(
        &self,
        by: &Author,
        line_id: Uuid,
        account_id: Uuid,
        remember: bool,
    ) -> AppResult<(statement_line::Model, entities::payment::Model)> {
        let line = self.waiting(by, line_id).await?;
        let acc = account::Entity::find_by_id(account_id)
            .one(&self.db)
            .await?
            .filter(|a| a.organisation_id == line.organisation_id)
            .ok_or_else(|| AppError::not_found("account"))?;
        by.check(Target::Account {
            org: acc.organisation_id,
            house: acc.house_id,
            id: acc.id,
        })?;
        let now = self.clock.now();
        let txn = crate::tx::begin_write(&self.db).await?;
        let line = still_waiting(&txn, line.id).await?;
        let new = NewPayment {
            account_id: acc.id,
            amount_minor: line.amount_minor,
            method: "transfer".into(),
            paid_on: line.booked_on,
            bank_reference: Some(line.bank_reference.chars().take(100).collect()),
            payer: line.payer.clone(),
            purpose: Some(line.text.chars().take(1000).collect()),
        };
        let payment_id = Uuid::now_v7();
        let (payment, event) = self
            .write(&txn, by, &acc, &new, payment_id, "statement")
            .await?;
        let before = line.clone();
        let mut active = line.into_active_model();
        active.status = Set("matched".into());
        active.matched_by = Set(Some(How::Manual.as_str().into()));
        active.account_id = Set(Some(acc.id));
        active.payment_id = Set(Some(payment_id));
        active.resolved_by = Set(Some(caller(by)));
        active.resolved_at = Set(Some(now));
        let after = active.update(&txn).await?;
        adjust_import(&txn, &after, -1, 1).await?;
        let mut remembered = Vec::new();
        if remember {
            let keys = payer_keys(
                after.payer.as_deref(),
                after.payer_account.as_deref(),
                after.payer_tax_id.as_deref(),
            );
            // A name alone is remembered only when nothing better identifies the payer.
            let strong: Vec<String> = keys
                .iter()
                .filter(|k| !k.starts_with("name:"))
                .cloned()
                .collect();
            // Without any payer from the bank there is nothing to remember.
            let keys = if strong.is_empty() { keys } else { strong };
            for key in keys {
                payer_match::Entity::insert(payer_match::ActiveModel {
                    organisation_id: Set(after.organisation_id),
                    payer_key: Set(key.clone()),
                    account_id: Set(acc.id),
                    created_by: Set(caller(by)),
                    created_at: Set(now),
                })
                .on_conflict(
                    OnConflict::columns([
                        payer_match::Column::OrganisationId,
                        payer_match::Column::PayerKey,
                    ])
                    .update_columns([
                        payer_match::Column::AccountId,
                        payer_match::Column::CreatedBy,
                        payer_match::Column::CreatedAt,
                    ])
                    .to_owned(),
                )
                .exec_without_returning(&txn)
                .await?;
                remembered.push(key);
            }
        }
        record(
            &txn,
            by,
            after.organisation_id,
            "statement_line",
            Some(after.id),
            serde_json::json!({
                "before": { "status": before.status },
                "after": { "status": "matched", "accountId": acc.id, "paymentId": payment_id, "remembered": remembered },
            }),
            now,
        )
        .await?;
        txn.commit().await?;
        if let Some(events) = &self.events {
            events.committed(vec![event]);
        }
        Ok((after, payment))
    }

    /// Sets a waiting credit aside (not a resident's payment: a bank's
    /// interest, a refund from a supplier), with the reason.
    pub async fn dismiss_line(
        &self,
        by: &Author,
        line_id: Uuid,
        reason: &str,
    ) -> AppResult<statement_line::Model> {
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 500 {
            return Err(AppError::validation(
                "reason",
                "required",
                "say why, in at most 500 characters",
            ));
        }
        let line = self.waiting(by, line_id).await?;
        let now = self.clock.now();
        let txn = crate::tx::begin_write(&self.db).await?;
        let line = still_waiting(&txn, line.id).await?;
        let mut active = line.into_active_model();
        active.status = Set("dismissed".into());
        active.note = Set(Some(reason.to_string()));
        active.resolved_by = Set(Some(caller(by)));
        active.resolved_at = Set(Some(now));
        let after = active.update(&txn).await?;
        adjust_import(&txn, &after, -1, 0).await?;
        record(
            &txn,
            by,
            after.organisation_id,
            "statement_line",
            Some(after.id),
            serde_json::json!({
                "before": { "status": "unmatched" },
                "after": { "status": "dismissed", "note": reason },
            }),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(after)
    }
}

/// The line again inside the action's transaction, while it still waits:
/// two accountants may act on it at once.
async fn still_waiting(
    txn: &sea_orm::DatabaseTransaction,
    id: Uuid,
) -> AppResult<statement_line::Model> {
    let line = statement_line::Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or_else(|| AppError::not_found("statement line"))?;
    if line.status != "unmatched" {
        return Err(AppError::conflict(
            "lineId",
            "not_waiting",
            format!("this credit is {} already", line.status),
        ));
    }
    Ok(line)
}

/// Keeps an import's counts as its lines stand.
async fn adjust_import(
    txn: &sea_orm::DatabaseTransaction,
    line: &statement_line::Model,
    unmatched: i32,
    matched: i32,
) -> AppResult<()> {
    use sea_orm::sea_query::{Expr, ExprTrait};
    statement_import::Entity::update_many()
        .col_expr(
            statement_import::Column::Unmatched,
            Expr::col(statement_import::Column::Unmatched).add(unmatched),
        )
        .col_expr(
            statement_import::Column::UnmatchedMinor,
            Expr::col(statement_import::Column::UnmatchedMinor)
                .add(i64::from(unmatched) * line.amount_minor),
        )
        .col_expr(
            statement_import::Column::Matched,
            Expr::col(statement_import::Column::Matched).add(matched),
        )
        .col_expr(
            statement_import::Column::MatchedMinor,
            Expr::col(statement_import::Column::MatchedMinor)
                .add(i64::from(matched) * line.amount_minor),
        )
        .filter(statement_import::Column::OrganisationId.eq(line.organisation_id))
        .filter(statement_import::Column::Id.eq(line.import_id))
        .exec(txn)
        .await?;
    Ok(())
}
