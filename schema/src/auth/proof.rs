//! An address proven: the first time the owner of an email shows they read
//! mail there, an account someone registered under it without that proof
//! keeps nothing it had from before.

use std::sync::Arc;

use entities::user;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use super::service::{record_for_user, Auth};
use crate::audit::{Author, RequestMeta};
use crate::error::AppResult;

impl Auth {
    /// The user has just shown they read mail at their address (an emailed
    /// code). The first time for an account registered without that proof (a
    /// resident who joined with a receipt's code), what was set on it before
    /// is removed: its password, passkeys and sessions. Whoever registered the
    /// address first cannot keep using the account its owner now takes.
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
            let passkeys = entities::passkey::Entity::delete_many()
                .filter(entities::passkey::Column::UserId.eq(user.id))
                .exec(&txn)
                .await?
                .rows_affected;
            let had_password = user.password_hash.is_some();
            let mut am: user::ActiveModel = user.clone().into();
            am.password_hash = Set(None);
            am.email_verified_at = Set(Some(now));
            am.updated_at = Set(now);
            let proven = am.update(&txn).await?;
            let changes = serde_json::json!({
                "before": { "emailVerified": false, "password": had_password, "passkeys": passkeys },
                "after": { "emailVerified": true, "password": false, "passkeys": 0 },
            });
            record_for_user(&txn, &by, user.id, changes, now).await?;
            txn.commit().await?;
            let ended = self.sessions.remove_user(user.id, None).await?;
            self.sessions_ended(user.id);
            self.access_changed(user.id);
            tracing::info!(user = %user.id, sessions = ended, passkeys, had_password,
                "an address proven for the first time: what was set on its account before is removed");
            Ok(proven)
        })
        .await
    }
}
