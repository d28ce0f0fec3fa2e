//! An address proven, and the claim its owner answers.
//!
//! A resident may register with a receipt's access code under any email,
//! without proving it theirs. The first time someone shows they read mail at
//! that address (an emailed code), they are its owner; but whether the
//! password, passkeys and residences set on the account before were set by
//! them (a resident who registered and now signs in by code) or by someone
//! else (who registered first under their address) only they can tell. So the
//! account's sessions end, its password and passkeys stop signing anyone in,
//! and the owner is asked (`Me.addressClaim`, `answerAddressClaim`): theirs,
//! and all is kept; not theirs, and the password, passkeys and residences are
//! removed, so that no one keeps a way in and the owner does not see a
//! stranger's flat.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use entities::{account, passkey, resident_link, user};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, Set,
};
use uuid::Uuid;

use super::service::{record_for_user, Auth};
use crate::audit::{Author, RequestMeta};
use crate::error::{AppError, AppResult};

/// What was set on an account before its address was proven, waiting for the
/// owner's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressClaim {
    /// When the owner proved the address.
    pub since: DateTime<Utc>,
    /// When the account was registered.
    pub registered_at: DateTime<Utc>,
    pub password: bool,
    pub passkeys: u64,
    /// Numbers of the personal accounts it is a resident of.
    pub accounts: Vec<String>,
}

/// What answering a claim removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimAnswer {
    pub kept: bool,
    pub password_removed: bool,
    pub passkeys_removed: u64,
    pub accounts_removed: Vec<String>,
}

impl Auth {
    /// The user has just shown they read mail at their address (an emailed
    /// code). The first time, for an account registered without that proof
    /// that has anything set on it, its sessions end and a claim waits for the
    /// owner's answer (see the module).
    pub(crate) async fn email_proven(
        &self,
        user: user::Model,
        meta: &RequestMeta,
        operation: &'static str,
    ) -> AppResult<user::Model> {
        if user.email_verified_at.is_some() {
            return Ok(user);
        }
        let now = self.clock.now();
        let principal = crate::tenancy::as_system(self.principal_of(&user)).await?;
        let by = Author::new(Arc::new(principal), meta.clone(), operation);
        crate::tenancy::as_system(async {
            let txn = crate::tx::begin_write(&self.db).await?;
            let passkeys = passkey::Entity::find()
                .filter(passkey::Column::UserId.eq(user.id))
                .count(&txn)
                .await?;
            let residences = resident_link::Entity::find()
                .filter(resident_link::Column::UserId.eq(user.id))
                .count(&txn)
                .await?;
            let had_password = user.password_hash.is_some();
            let claim = had_password || passkeys > 0 || residences > 0;
            let mut am: user::ActiveModel = user.clone().into();
            am.email_verified_at = Set(Some(now));
            if claim {
                am.address_claim_at = Set(Some(now));
            }
            am.updated_at = Set(now);
            let proven = am.update(&txn).await?;
            let changes = serde_json::json!({
                "before": { "emailVerified": false },
                "after": { "emailVerified": true, "addressClaim": claim,
                           "password": had_password, "passkeys": passkeys, "residences": residences },
            });
            record_for_user(&txn, &by, user.id, changes, now).await?;
            txn.commit().await?;
            if claim {
                let ended = self.sessions.remove_user(user.id, None).await?;
                self.sessions_ended(user.id);
                tracing::info!(user = %user.id, sessions = ended, passkeys, residences, had_password,
                    "an address proven for the first time: the account waits for its owner's answer");
            }
            self.access_changed(user.id);
            Ok(proven)
        })
        .await
    }

    /// Refuses a password or passkey sign-in while a claim waits: only the
    /// address's owner, by an emailed code, may sign in and answer it.
    pub(crate) fn no_claim_pending(&self, user: &user::Model) -> AppResult<()> {
        match user.address_claim_at {
            Some(_) => Err(AppError::InvalidCredentials {
                reason: "address_claim_pending",
            }),
            None => Ok(()),
        }
    }

    /// The claim waiting for this user's answer, if one is.
    pub async fn address_claim(&self, user: &user::Model) -> AppResult<Option<AddressClaim>> {
        let Some(since) = user.address_claim_at else {
            return Ok(None);
        };
        crate::tenancy::as_system(async {
            let passkeys = passkey::Entity::find()
                .filter(passkey::Column::UserId.eq(user.id))
                .count(&self.db)
                .await?;
            Ok(Some(AddressClaim {
                since,
                registered_at: user.created_at,
                password: user.password_hash.is_some(),
                passkeys,
                accounts: self.residence_numbers(user.id).await?,
            }))
        })
        .await
    }

    async fn residence_numbers(&self, user_id: Uuid) -> AppResult<Vec<String>> {
        let ids: Vec<Uuid> = resident_link::Entity::find()
            .select_only()
            .column(resident_link::Column::AccountId)
            .filter(resident_link::Column::UserId.eq(user_id))
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut numbers: Vec<String> = account::Entity::find()
            .filter(account::Column::Id.is_in(ids))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|a| a.number)
            .collect();
        numbers.sort();
        Ok(numbers)
    }

    /// The owner's answer: `registered_by_me` keeps everything; otherwise the
    /// password, passkeys and residences set before the proof are removed.
    /// Either way the claim is settled and the account signs in as usual.
    pub async fn answer_address_claim(
        &self,
        user_id: Uuid,
        registered_by_me: bool,
        by: &Author,
    ) -> AppResult<ClaimAnswer> {
        let now = self.clock.now();
        crate::tenancy::as_system(async {
            let txn = crate::tx::begin_write(&self.db).await?;
            let user = user::Entity::find_by_id(user_id)
                .one(&txn)
                .await?
                .ok_or(AppError::not_found("user"))?;
            if user.address_claim_at.is_none() {
                return Err(AppError::validation(
                    "registeredByMe",
                    "no_claim",
                    "there is no claim on this account waiting for an answer",
                ));
            }
            let mut answer = ClaimAnswer {
                kept: registered_by_me,
                password_removed: false,
                passkeys_removed: 0,
                accounts_removed: Vec::new(),
            };
            let mut am: user::ActiveModel = user.clone().into();
            if !registered_by_me {
                answer.accounts_removed = self.residence_numbers(user.id).await?;
                answer.passkeys_removed = passkey::Entity::delete_many()
                    .filter(passkey::Column::UserId.eq(user.id))
                    .exec(&txn)
                    .await?
                    .rows_affected;
                resident_link::Entity::delete_many()
                    .filter(resident_link::Column::UserId.eq(user.id))
                    .exec(&txn)
                    .await?;
                answer.password_removed = user.password_hash.is_some();
                am.password_hash = Set(None);
            }
            am.address_claim_at = Set(None);
            am.updated_at = Set(now);
            am.update(&txn).await?;
            let changes = serde_json::json!({
                "before": { "addressClaim": true },
                "after": { "addressClaim": false, "registeredByOwner": registered_by_me,
                           "passwordRemoved": answer.password_removed,
                           "passkeysRemoved": answer.passkeys_removed,
                           "residencesRemoved": answer.accounts_removed },
            });
            // In the log of every organisation the account was known to, the
            // ones it leaves included (the author's principal was read before).
            record_for_user(&txn, by, user.id, changes, now).await?;
            txn.commit().await?;
            self.access_changed(user.id);
            Ok(answer)
        })
        .await
    }
}
