//! Passkeys (WebAuthn, webauthn-rs): a user registers several, names, lists and
//! removes them, and signs in with a discoverable credential (no username).
//!
//! Invariants: ceremony state is kept on the server, used once (the request that
//! deletes it is the only one that may finish), and expires after a few minutes;
//! a credential id belongs to one user; the signature counter only moves forward.

use std::sync::Arc;

use chrono::Duration;
use entities::{ceremony, passkey, user};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::Value;
use uuid::Uuid;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, DiscoverableKey, Passkey, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Url, Webauthn, WebauthnBuilder,
};

use super::service::{Auth, NewSession};
use super::sessions::hex;
use crate::audit::{Author, RequestMeta};
use crate::error::{AppError, AppResult};

pub const CEREMONY_MINUTES: i64 = 5;
const REGISTER: &str = "passkey_registration";
const LOGIN: &str = "passkey_login";

/// The relying party for a public URL (its host is the RP id) and the other
/// allowed origins. On `localhost` any port is accepted (development, tests).
pub fn relying_party(public_url: &str, others: &[String]) -> Result<Webauthn, String> {
    let origin = Url::parse(public_url).map_err(|e| format!("KVARTAL_PUBLIC_URL: {e}"))?;
    let rp_id = origin
        .host_str()
        .ok_or("KVARTAL_PUBLIC_URL has no host")?
        .to_string();
    let mut builder = WebauthnBuilder::new(&rp_id, &origin)
        .map_err(|e| format!("passkeys for {rp_id}: {e}"))?
        .rp_name("Kvartal")
        .allow_any_port(rp_id == "localhost");
    for other in others {
        if let Ok(url) = Url::parse(other) {
            builder = builder.append_allowed_origin(&url);
        }
    }
    builder.build().map_err(|e| format!("passkeys: {e}"))
}

fn invalid(field: &str, e: impl std::fmt::Display) -> AppError {
    AppError::validation(
        field,
        "invalid_credential",
        format!("the passkey was not accepted: {e}"),
    )
}

fn json_err(e: serde_json::Error) -> AppError {
    AppError::Internal(format!("passkey state: {e}"))
}

impl Auth {
    fn webauthn(&self) -> AppResult<&Arc<Webauthn>> {
        self.passkeys.as_ref().ok_or_else(|| AppError::Unavailable {
            what: "passkeys",
            message: "passkeys are not configured (KVARTAL_PUBLIC_URL)".into(),
        })
    }

    async fn save_ceremony(
        &self,
        kind: &str,
        user_id: Option<Uuid>,
        state: String,
    ) -> AppResult<Uuid> {
        let now = self.clock.now();
        // Expired ceremonies are swept as new ones start.
        ceremony::Entity::delete_many()
            .filter(ceremony::Column::ExpiresAt.lte(now))
            .exec(&self.db)
            .await?;
        let id = Uuid::now_v7();
        ceremony::ActiveModel {
            id: Set(id),
            user_id: Set(user_id),
            kind: Set(kind.into()),
            state: Set(state),
            expires_at: Set(now + Duration::minutes(CEREMONY_MINUTES)),
        }
        .insert(&self.db)
        .await?;
        Ok(id)
    }

    /// Takes a ceremony's state, once: a second finish finds nothing.
    async fn take_ceremony(
        &self,
        id: Uuid,
        kind: &str,
        user_id: Option<Uuid>,
    ) -> AppResult<String> {
        let expired = || {
            AppError::validation(
                "ceremonyId",
                "expired",
                "the passkey request expired or was used; start again",
            )
        };
        let row = ceremony::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or_else(expired)?;
        let deleted = ceremony::Entity::delete_by_id(id).exec(&self.db).await?;
        if deleted.rows_affected != 1
            || row.kind != kind
            || row.user_id != user_id
            || row.expires_at <= self.clock.now()
        {
            return Err(expired());
        }
        Ok(row.state)
    }

    /// Starts registering a passkey for the signed-in user: the options for
    /// `navigator.credentials.create`.
    pub async fn start_passkey_registration(&self, by: &Author) -> AppResult<(Uuid, Value)> {
        let webauthn = self.webauthn()?;
        let user = super::service::find_user(&self.db, by.principal.user_id).await?;
        let existing: Vec<_> = self
            .passkeys_of(user.id)
            .await?
            .iter()
            .filter_map(|p| serde_json::from_str::<Passkey>(&p.credential).ok())
            .map(|p| p.cred_id().clone())
            .collect();
        let (challenge, state) = webauthn
            .start_passkey_registration(user.id, &user.email, &user.display_name, Some(existing))
            .map_err(|e| AppError::Internal(format!("passkey registration: {e}")))?;
        let mut options = serde_json::to_value(&challenge).map_err(json_err)?;
        // A passkey must be discoverable: signing in starts without a username.
        if let Some(sel) = options
            .pointer_mut("/publicKey/authenticatorSelection")
            .and_then(Value::as_object_mut)
        {
            sel.insert("residentKey".into(), "required".into());
            sel.insert("requireResidentKey".into(), true.into());
        }
        let id = self
            .save_ceremony(
                REGISTER,
                Some(user.id),
                serde_json::to_string(&state).map_err(json_err)?,
            )
            .await?;
        Ok((id, options))
    }

    /// Finishes a registration with the browser's answer and stores the passkey.
    pub async fn finish_passkey_registration(
        &self,
        by: &Author,
        ceremony_id: Uuid,
        credential: Value,
        name: &str,
    ) -> AppResult<passkey::Model> {
        let webauthn = self.webauthn()?;
        let name = check_name(name)?;
        let state: PasskeyRegistration = serde_json::from_str(
            &self
                .take_ceremony(ceremony_id, REGISTER, Some(by.principal.user_id))
                .await?,
        )
        .map_err(json_err)?;
        let answer: RegisterPublicKeyCredential =
            serde_json::from_value(credential).map_err(|e| invalid("credential", e))?;
        let key = webauthn
            .finish_passkey_registration(&answer, &state)
            .map_err(|e| invalid("credential", e))?;
        let now = self.clock.now();
        let txn = crate::tx::begin_write(&self.db).await?;
        let model = passkey::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(by.principal.user_id),
            credential_id: Set(hex(key.cred_id().as_ref())),
            name: Set(name),
            credential: Set(serde_json::to_string(&key).map_err(json_err)?),
            created_at: Set(now),
            last_used_at: Set(None),
        }
        .insert(&txn)
        .await
        .map_err(|e| {
            crate::registry::service::unique_as_conflict(
                e,
                "credential",
                "this passkey is already registered",
            )
        })?;
        let changes = serde_json::json!({ "after": { "passkey": model.name } });
        super::service::record_for_user(&txn, by, by.principal.user_id, changes, now).await?;
        txn.commit().await?;
        Ok(model)
    }

    pub async fn passkeys_of(&self, user_id: Uuid) -> AppResult<Vec<passkey::Model>> {
        Ok(passkey::Entity::find()
            .filter(passkey::Column::UserId.eq(user_id))
            .order_by_asc(passkey::Column::CreatedAt)
            .all(&self.db)
            .await?)
    }

    async fn own_passkey(&self, by: &Author, id: Uuid) -> AppResult<passkey::Model> {
        passkey::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .filter(|p| p.user_id == by.principal.user_id)
            .ok_or(AppError::not_found("passkey"))
    }

    pub async fn rename_passkey(
        &self,
        by: &Author,
        id: Uuid,
        name: &str,
    ) -> AppResult<passkey::Model> {
        let name = check_name(name)?;
        let current = self.own_passkey(by, id).await?;
        let now = self.clock.now();
        let txn = crate::tx::begin_write(&self.db).await?;
        let mut am: passkey::ActiveModel = current.clone().into();
        am.name = Set(name);
        let model = am.update(&txn).await?;
        let changes = serde_json::json!({ "before": { "passkey": current.name }, "after": { "passkey": model.name } });
        super::service::record_for_user(&txn, by, by.principal.user_id, changes, now).await?;
        txn.commit().await?;
        Ok(model)
    }

    pub async fn remove_passkey(&self, by: &Author, id: Uuid) -> AppResult<()> {
        let current = self.own_passkey(by, id).await?;
        let now = self.clock.now();
        let txn = crate::tx::begin_write(&self.db).await?;
        passkey::Entity::delete_by_id(id).exec(&txn).await?;
        let changes = serde_json::json!({ "before": { "passkey": current.name } });
        super::service::record_for_user(&txn, by, by.principal.user_id, changes, now).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Starts a sign-in with any passkey of this site: the options for
    /// `navigator.credentials.get`.
    pub async fn start_passkey_login(&self) -> AppResult<(Uuid, Value)> {
        let webauthn = self.webauthn()?;
        let (challenge, state) = webauthn
            .start_discoverable_authentication()
            .map_err(|e| AppError::Internal(format!("passkey login: {e}")))?;
        let mut options = serde_json::to_value(&challenge).map_err(json_err)?;
        // A button, not the autofill prompt.
        if let Some(o) = options.as_object_mut() {
            o.remove("mediation");
        }
        let id = self
            .save_ceremony(
                LOGIN,
                None,
                serde_json::to_string(&state).map_err(json_err)?,
            )
            .await?;
        Ok((id, options))
    }

    /// Finishes a passkey sign-in and opens a session.
    pub async fn finish_passkey_login(
        &self,
        ceremony_id: Uuid,
        credential: Value,
        meta: &RequestMeta,
    ) -> AppResult<NewSession> {
        let webauthn = self.webauthn()?;
        let now = self.clock.now();
        self.limit_address("login", meta, now).await?;
        let state: DiscoverableAuthentication =
            serde_json::from_str(&self.take_ceremony(ceremony_id, LOGIN, None).await?)
                .map_err(json_err)?;
        let answer: PublicKeyCredential =
            serde_json::from_value(credential).map_err(|e| invalid("credential", e))?;
        let wrong = || AppError::InvalidCredentials { reason: "passkey" };
        let (user_id, cred_id) = webauthn
            .identify_discoverable_authentication(&answer)
            .map_err(|_| wrong())?;
        let row = passkey::Entity::find()
            .filter(passkey::Column::CredentialId.eq(hex(cred_id)))
            .filter(passkey::Column::UserId.eq(user_id))
            .one(&self.db)
            .await?
            .ok_or_else(wrong)?;
        let mut key: Passkey = serde_json::from_str(&row.credential).map_err(json_err)?;
        let result = webauthn
            .finish_discoverable_authentication_v2(&answer, state, DiscoverableKey::from(&key))
            .map_err(|e| {
                tracing::info!(error = %e, "passkey sign-in refused");
                wrong()
            })?;
        key.update_credential(&result);
        let mut am: passkey::ActiveModel = row.into();
        am.credential = Set(serde_json::to_string(&key).map_err(json_err)?);
        am.last_used_at = Set(Some(now));
        am.update(&self.db).await?;
        let user = user::Entity::find_by_id(user_id)
            .one(&self.db)
            .await?
            .filter(|u| !u.disabled)
            .ok_or_else(wrong)?;
        self.no_claim_pending(&user)?;
        self.open_session(user, "passkey", meta).await
    }
}

fn check_name(name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::validation(
            "name",
            "required",
            "a name of 1 to 100 characters",
        ));
    }
    Ok(name.to_string())
}
