use entities::organisation;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait as _, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::{Page, Registry};
use crate::audit::{diff, record, Author};
use crate::auth::Target;
use crate::error::{AppError, AppResult};
use crate::registry::drafts::OrganisationDraft;

impl Registry {
    /// Creates an organisation; a signed-in admin becomes its first admin.
    pub async fn create_organisation(
        &self,
        by: &Author,
        draft: OrganisationDraft,
    ) -> AppResult<organisation::Model> {
        // A new organisation is in nobody's scope yet; who may create one is checked inside.
        crate::tenancy::as_system(self.create_organisation_unscoped(by, draft)).await
    }

    /// The body of the function above, in the scope it sets.
    async fn create_organisation_unscoped(
        &self,
        by: &Author,
        draft: OrganisationDraft,
    ) -> AppResult<organisation::Model> {
        if !by.principal.is_admin_anywhere() {
            return Err(crate::auth::policy::forbidden(by.operation));
        }
        let d = draft.validate()?;
        let now = self.clock.now();
        let txn = crate::tx::begin_write(&self.db).await?;
        let model = organisation::ActiveModel {
            id: Set(Uuid::now_v7()),
            name: Set(d.name),
            currency: Set(d.currency),
            locale: Set(d.locale),
            time_zone: Set(d.time_zone),
            legal_name: Set(d.legal_name),
            tax_id: Set(d.tax_id),
            bank_account: Set(d.bank_account),
            bank_id: Set(d.bank_id),
            bank_name: Set(d.bank_name),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await?;
        if !by.principal.system {
            entities::membership::ActiveModel {
                id: Set(Uuid::now_v7()),
                organisation_id: Set(model.id),
                user_id: Set(by.principal.user_id),
                roles: Set("admin".into()),
                house_ids: Set(String::new()),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(&txn)
            .await?;
        }
        record(
            &txn,
            by,
            model.id,
            "organisation",
            Some(model.id),
            diff(None, Some(&model)),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(model)
    }

    /// Applies `patch` to the organisation as it is inside the transaction.
    pub async fn update_organisation(
        &self,
        by: &Author,
        id: Uuid,
        patch: impl FnOnce(&mut OrganisationDraft) + Send,
    ) -> AppResult<organisation::Model> {
        let txn = crate::tx::begin_write(&self.db).await?;
        super::lock_row(&txn, "organisations", id).await?;
        let current = organisation::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or(AppError::not_found("organisation"))?;
        by.check(Target::WholeOrganisation(id))?;
        let before = current.clone();
        let mut draft = OrganisationDraft::from_model(&current);
        patch(&mut draft);
        let d = draft.validate()?;
        if d.currency != current.currency {
            // The receipts' payment QR pays in one currency: the billing
            // settings' standard must change first.
            let standard = txn
                .query_one_raw(crate::bulk::statement(
                    txn.get_database_backend(),
                    "SELECT qr_standard FROM billing_settings WHERE organisation_id = ?",
                    vec![id.into()],
                ))
                .await?
                .map(|r| r.try_get::<String>("", "qr_standard"))
                .transpose()?;
            if let Some(standard) = standard {
                crate::billing::settings::standard_fits(&standard, &d.currency).map_err(|_| {
                    AppError::validation(
                        "currency",
                        "qr_standard_mismatch",
                        format!(
                            "the billing settings' payment QR ({}) does not pay in {}: change qrStandard first",
                            standard.to_ascii_uppercase(),
                            d.currency
                        ),
                    )
                })?;
            }
        }
        let mut am: organisation::ActiveModel = current.into();
        am.name = Set(d.name);
        am.currency = Set(d.currency);
        am.locale = Set(d.locale);
        am.time_zone = Set(d.time_zone);
        am.legal_name = Set(d.legal_name);
        am.tax_id = Set(d.tax_id);
        am.bank_account = Set(d.bank_account);
        am.bank_id = Set(d.bank_id);
        am.bank_name = Set(d.bank_name);
        let now = self.clock.now();
        am.updated_at = Set(now);
        let model = am.update(&txn).await?;
        record(
            &txn,
            by,
            id,
            "organisation",
            Some(id),
            diff(Some(&before), Some(&model)),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(model)
    }

    pub async fn organisation(&self, id: Uuid) -> AppResult<organisation::Model> {
        organisation::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(AppError::not_found("organisation"))
    }

    /// Organisations by name; `only`: just these.
    pub async fn organisations(
        &self,
        only: Option<Vec<Uuid>>,
        page: Page,
    ) -> AppResult<(Vec<organisation::Model>, u64)> {
        let mut query = organisation::Entity::find().order_by_asc(organisation::Column::Name);
        if let Some(ids) = only {
            query = query.filter(organisation::Column::Id.is_in(ids));
        }
        let total = query.clone().count(&self.db).await?;
        let rows = query
            .offset(page.offset)
            .limit(page.limit)
            .all(&self.db)
            .await?;
        Ok((rows, total))
    }
}

impl OrganisationDraft {
    pub fn from_model(m: &organisation::Model) -> Self {
        Self {
            name: m.name.clone(),
            currency: m.currency.clone(),
            locale: m.locale.clone(),
            time_zone: m.time_zone.clone(),
            legal_name: m.legal_name.clone(),
            tax_id: m.tax_id.clone(),
            bank_account: m.bank_account.clone(),
            bank_id: m.bank_id.clone(),
            bank_name: m.bank_name.clone(),
        }
    }
}
