//! Residents join by proving an account: its number and the access code printed
//! on the receipt (issued by staff until receipts carry it).
//!
//! Invariants: a code is stored only as its hash, is used once, expires, and is
//! revoked after a few wrong tries; a wrong number and a wrong code answer the
//! same error; joining creates the user, the link and the session together.

use chrono::Duration;
use entities::{access_code, account, resident_link, user};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::passwords;
use super::policy::Target;
use super::service::{Auth, NewSession};
use super::sessions::hex;
use crate::audit::{self, Author, RequestMeta};
use crate::error::{AppError, AppResult};
use crate::search::index::code_key;

/// Unambiguous letters and digits (no 0/O, 1/I/L).
const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
pub const CODE_ATTEMPTS: i32 = 5;
pub const CODE_VALID_DAYS: i64 = 120;

pub(crate) fn code_hash(account_id: Uuid, code: &str) -> String {
    let normal: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    hex(&Sha256::digest(format!("{account_id}:{normal}").as_bytes()))
}

fn new_code() -> AppResult<String> {
    let mut bytes = [0u8; 10];
    getrandom::fill(&mut bytes).map_err(|e| AppError::Internal(format!("no randomness: {e}")))?;
    Ok(format_code(&bytes))
}

/// Ten bytes as a code of ten unambiguous characters: `ABCDE-23456`.
pub(crate) fn format_code(bytes: &[u8]) -> String {
    let chars: String = bytes
        .iter()
        .take(10)
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect();
    format!(
        "{}-{}",
        &chars[..5.min(chars.len())],
        &chars[5.min(chars.len())..]
    )
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn invitation(locale: &str, org: &str, number: &str, code: &str, link: &str) -> (String, String) {
    match locale {
        "ru" => (
            format!("{org}: приглашение в личный кабинет"),
            format!("Здравствуйте!\n\n{org} приглашает вас в личный кабинет жителя.\n\nЛицевой счёт: {number}\nКод доступа: {code}\n\nОткройте ссылку, чтобы подключиться:\n{link}\n\nКод действует {CODE_VALID_DAYS} дней и подходит один раз."),
        ),
        "pt-BR" => (
            format!("{org}: convite para a área do morador"),
            format!("Olá!\n\n{org} convida você para a área do morador.\n\nConta: {number}\nCódigo de acesso: {code}\n\nAbra o link para se cadastrar:\n{link}\n\nO código vale por {CODE_VALID_DAYS} dias e pode ser usado uma vez."),
        ),
        _ => (
            format!("{org}: your invitation to the residents' app"),
            format!("Hello,\n\n{org} invites you to the residents' app.\n\nAccount: {number}\nAccess code: {code}\n\nOpen this link to join:\n{link}\n\nThe code is valid for {CODE_VALID_DAYS} days and works once."),
        ),
    }
}

fn wrong_code() -> AppError {
    AppError::InvalidCredentials { reason: "code" }
}

impl Auth {
    /// Issues (or replaces) the access code of an account; the code is shown once.
    pub async fn issue_access_code(
        &self,
        by: &Author,
        account_id: Uuid,
    ) -> AppResult<(account::Model, String)> {
        let code = new_code()?;
        let changes = serde_json::json!({ "after": { "accessCode": "issued" } });
        let acc = self.store_code(by, account_id, &code, changes).await?;
        Ok((acc, code))
    }

    /// Replaces an account's code and records it, in one transaction.
    async fn store_code(
        &self,
        by: &Author,
        account_id: Uuid,
        code: &str,
        changes: serde_json::Value,
    ) -> AppResult<account::Model> {
        let now = self.clock.now();
        let txn = crate::tx::begin_write(&self.db).await?;
        let acc = self.visible_account(&txn, by, account_id).await?;
        access_code::Entity::delete_by_id(acc.id).exec(&txn).await?;
        access_code::ActiveModel {
            account_id: Set(acc.id),
            organisation_id: Set(acc.organisation_id),
            code_hash: Set(code_hash(acc.id, code)),
            issued_by: Set((!by.principal.system).then_some(by.principal.user_id)),
            attempts: Set(0),
            expires_at: Set(now + Duration::days(CODE_VALID_DAYS)),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
        audit::record(
            &txn,
            by,
            acc.organisation_id,
            "account",
            Some(acc.id),
            changes,
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(acc)
    }

    async fn visible_account<C: ConnectionTrait>(
        &self,
        conn: &C,
        by: &Author,
        account_id: Uuid,
    ) -> AppResult<account::Model> {
        let acc = account::Entity::find_by_id(account_id)
            .one(conn)
            .await?
            .ok_or(AppError::not_found("account"))?;
        by.check(Target::Account {
            org: acc.organisation_id,
            house: acc.house_id,
            id: acc.id,
        })?;
        Ok(acc)
    }

    /// Invites a resident by email: a fresh access code for the account and a
    /// link that opens the join form filled in. Replaces any earlier code. The
    /// mail goes first: if it cannot be sent, nothing changes.
    pub async fn invite_resident(
        &self,
        by: &Author,
        account_id: Uuid,
        email: &str,
        locale: Option<&str>,
    ) -> AppResult<account::Model> {
        super::service::check_email("email", email)?;
        let acc = self.visible_account(&self.db, by, account_id).await?;
        let org = entities::organisation::Entity::find_by_id(acc.organisation_id)
            .one(&self.db)
            .await?
            .ok_or(AppError::not_found("organisation"))?;
        let code = new_code()?;
        let locale = locale.unwrap_or(&org.locale);
        let link = format!(
            "{}/#/join?account={}&code={}&email={}",
            self.config.public_url.trim_end_matches('/'),
            urlencode(&acc.number),
            urlencode(&code),
            urlencode(email.trim())
        );
        let (subject, body) = invitation(locale, &org.name, &acc.number, &code, &link);
        // Stored (and committed) first: a letter never carries a code that was
        // not kept. A letter that fails says so; inviting again sends a new code.
        let changes =
            serde_json::json!({ "after": { "accessCode": "issued", "invitation": email.trim() } });
        let acc = self.store_code(by, account_id, &code, changes).await?;
        self.mailer
            .send(email.trim(), &subject, &body)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "a resident's invitation could not be sent");
                AppError::Unavailable {
                    what: "email",
                    message: format!(
                        "a new access code for account {} is saved but the letter to {} could not be sent; invite again to send another code",
                        acc.number,
                        email.trim()
                    ),
                }
            })?;
        Ok(acc)
    }

    /// Finds the account a number and code prove, spending the code. Wrong codes
    /// count against every account with that number.
    async fn prove_account<C: ConnectionTrait>(
        &self,
        conn: &C,
        number: &str,
        code: &str,
    ) -> AppResult<account::Model> {
        let now = self.clock.now();
        let key = code_key(number);
        if key.is_empty() {
            return Err(AppError::validation(
                "accountNumber",
                "required",
                "the account number",
            ));
        }
        let candidates = account::Entity::find()
            .filter(account::Column::NumberKey.eq(key))
            .all(conn)
            .await?;
        for acc in candidates {
            let Some(row) = access_code::Entity::find_by_id(acc.id).one(conn).await? else {
                continue;
            };
            if row.expires_at <= now || row.attempts >= CODE_ATTEMPTS {
                continue;
            }
            if row.code_hash == code_hash(acc.id, code) {
                access_code::Entity::delete_by_id(acc.id).exec(conn).await?;
                return Ok(acc);
            }
            let mut am: access_code::ActiveModel = row.clone().into();
            am.attempts = Set(row.attempts + 1);
            am.update(conn).await?;
        }
        Err(wrong_code())
    }

    async fn link<C: ConnectionTrait>(
        &self,
        conn: &C,
        by: &Author,
        user_id: Uuid,
        acc: &account::Model,
    ) -> AppResult<()> {
        let now = self.clock.now();
        let exists = resident_link::Entity::find()
            .filter(resident_link::Column::UserId.eq(user_id))
            .filter(resident_link::Column::AccountId.eq(acc.id))
            .one(conn)
            .await?;
        if exists.is_none() {
            let model = resident_link::ActiveModel {
                id: Set(Uuid::now_v7()),
                organisation_id: Set(acc.organisation_id),
                user_id: Set(user_id),
                account_id: Set(acc.id),
                created_at: Set(now),
            }
            .insert(conn)
            .await?;
            audit::record(
                conn,
                by,
                acc.organisation_id,
                "resident_link",
                Some(acc.id),
                audit::diff(None, Some(&model)),
                now,
            )
            .await?;
        }
        Ok(())
    }

    /// A signed-in user adds an account they prove.
    pub async fn claim_account(
        &self,
        by: &Author,
        number: &str,
        code: &str,
    ) -> AppResult<account::Model> {
        // The account proven may be in any organisation.
        crate::tenancy::as_system(self.claim_account_unscoped(by, number, code)).await
    }

    /// The body of the function above, in the scope it sets.
    async fn claim_account_unscoped(
        &self,
        by: &Author,
        number: &str,
        code: &str,
    ) -> AppResult<account::Model> {
        let now = self.clock.now();
        self.limiter
            .hit(
                &format!("claim:{}", by.principal.user_id),
                self.config.per_account,
                now,
            )
            .await?;
        let txn = crate::tx::begin_write(&self.db).await?;
        let result = self.prove_account(&txn, number, code).await;
        match result {
            Ok(acc) => {
                self.link(&txn, by, by.principal.user_id, &acc).await?;
                txn.commit().await?;
                self.access_changed(by.principal.user_id);
                Ok(acc)
            }
            Err(e) => {
                // Keep the counted attempts.
                txn.commit().await?;
                Err(e)
            }
        }
    }

    /// Joins as a resident: a new user, proven by an account number and code,
    /// signed in at once.
    #[allow(clippy::too_many_arguments)]
    pub async fn register_resident(
        &self,
        meta: &RequestMeta,
        email: &str,
        display_name: &str,
        password: String,
        number: &str,
        code: &str,
        locale: &str,
    ) -> AppResult<NewSession> {
        // The account proven may be in any organisation.
        crate::tenancy::as_system(self.register_resident_unscoped(
            meta,
            email,
            display_name,
            password,
            number,
            code,
            locale,
        ))
        .await
    }

    /// The body of the function above, in the scope it sets.
    #[allow(clippy::too_many_arguments)]
    async fn register_resident_unscoped(
        &self,
        meta: &RequestMeta,
        email: &str,
        display_name: &str,
        password: String,
        number: &str,
        code: &str,
        locale: &str,
    ) -> AppResult<NewSession> {
        let now = self.clock.now();
        passwords::check_strength("password", &password)?;
        super::service::check_email("email", email)?;
        self.limit_address("join", meta, now).await?;
        let hash = passwords::hash(password).await?;
        let txn = crate::tx::begin_write(&self.db).await?;
        let acc = match self.prove_account(&txn, number, code).await {
            Ok(acc) => acc,
            Err(e) => {
                txn.commit().await?;
                return Err(e);
            }
        };
        let user: user::Model = self
            .create_user(&txn, email, display_name, Some(hash), locale, now)
            .await?;
        let principal = std::sync::Arc::new(crate::auth::principal::Principal {
            user_id: user.id,
            email: user.email.clone(),
            display_name: user.display_name.clone(),
            session: None,
            memberships: vec![],
            residences: vec![],
            system: false,
        });
        let by = Author::new(principal, meta.clone(), "Mutation.registerResident");
        self.link(&txn, &by, user.id, &acc).await?;
        txn.commit().await?;
        self.open_session(user, "join", meta).await
    }
}
