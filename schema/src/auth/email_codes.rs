//! One-time codes by email: six digits, valid ten minutes, five tries, one use.
//!
//! Invariants: asking for a code answers the same whether or not the email is
//! known (no way to probe who has an account); only the code's hash is stored;
//! a new code replaces the previous one.

use chrono::Duration;
use entities::one_time_code;
use sea_orm::sea_query::ExprTrait as _;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::service::{email_key, Auth, NewSession};
use super::sessions::hex;
use crate::audit::RequestMeta;
use crate::error::{AppError, AppResult};

pub const CODE_MINUTES: i64 = 10;
pub const CODE_TRIES: i32 = 5;
const PURPOSE: &str = "login";

fn hash(user: Uuid, code: &str) -> String {
    let digits: String = code.chars().filter(char::is_ascii_digit).collect();
    hex(&Sha256::digest(format!("{user}:{digits}").as_bytes()))
}

fn message(locale: &str, code: &str) -> (String, String) {
    match locale {
        "ru" => (
            format!("Код для входа в Квартал: {code}"),
            format!("Ваш код для входа: {code}\n\nКод действует {CODE_MINUTES} минут. Если вы не запрашивали код, просто проигнорируйте это письмо."),
        ),
        "pt-BR" => (
            format!("Código de acesso ao Kvartal: {code}"),
            format!("Seu código de acesso: {code}\n\nO código vale por {CODE_MINUTES} minutos. Se você não pediu este código, ignore esta mensagem."),
        ),
        _ => (
            format!("Your Kvartal sign-in code: {code}"),
            format!("Your sign-in code: {code}\n\nIt is valid for {CODE_MINUTES} minutes. If you did not ask for it, ignore this message."),
        ),
    }
}

impl Auth {
    /// Sends a sign-in code to the email if a user has it; answers the same either way.
    pub async fn request_email_code(&self, email: &str, meta: &RequestMeta) -> AppResult<()> {
        let now = self.clock.now();
        let key = email_key(email);
        self.limit_address("code", meta, now).await?;
        self.limiter
            .hit(
                &format!("code:send:{key}"),
                self.config.codes_per_email,
                now,
            )
            .await?;
        let Some(user) = self.user_by_email(email).await? else {
            return Ok(());
        };
        if user.disabled {
            return Ok(());
        }
        let mut bytes = [0u8; 4];
        getrandom::fill(&mut bytes)
            .map_err(|e| AppError::Internal(format!("no randomness: {e}")))?;
        let code = format!("{:06}", u32::from_le_bytes(bytes) % 1_000_000);
        one_time_code::Entity::delete_many()
            .filter(one_time_code::Column::UserId.eq(user.id))
            .filter(one_time_code::Column::Purpose.eq(PURPOSE))
            .exec(&self.db)
            .await?;
        one_time_code::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(user.id),
            purpose: Set(PURPOSE.into()),
            code_hash: Set(hash(user.id, &code)),
            attempts: Set(0),
            expires_at: Set(now + Duration::minutes(CODE_MINUTES)),
            created_at: Set(now),
        }
        .insert(&self.db)
        .await?;
        let (subject, body) = message(&user.locale, &code);
        self.mailer.send(&user.email, &subject, &body).await
    }

    /// Signs in with the code from the email.
    pub async fn login_email_code(
        &self,
        email: &str,
        code: &str,
        meta: &RequestMeta,
    ) -> AppResult<NewSession> {
        let now = self.clock.now();
        self.limit_address("login", meta, now).await?;
        let wrong = AppError::InvalidCredentials { reason: "code" };
        let Some(user) = self.user_by_email(email).await? else {
            return Err(wrong);
        };
        let Some(row) = one_time_code::Entity::find()
            .filter(one_time_code::Column::UserId.eq(user.id))
            .filter(one_time_code::Column::Purpose.eq(PURPOSE))
            .order_by_desc(one_time_code::Column::CreatedAt)
            .one(&self.db)
            .await?
        else {
            return Err(wrong);
        };
        if row.expires_at <= now || row.attempts >= CODE_TRIES || user.disabled {
            return Err(wrong);
        }
        // Every guess takes one of the code's tries in the database before it
        // is compared, in one statement: parallel guesses cannot all read the
        // same count and compare more codes than there are tries.
        let claimed = one_time_code::Entity::update_many()
            .col_expr(
                one_time_code::Column::Attempts,
                sea_orm::sea_query::Expr::col(one_time_code::Column::Attempts).add(1),
            )
            .filter(one_time_code::Column::Id.eq(row.id))
            .filter(one_time_code::Column::Attempts.lt(CODE_TRIES))
            .filter(one_time_code::Column::ExpiresAt.gt(now))
            .exec(&self.db)
            .await?;
        if claimed.rows_affected != 1 || row.code_hash != hash(user.id, code) {
            return Err(wrong);
        }
        // Used once: only the request that deletes it signs in.
        let deleted = one_time_code::Entity::delete_by_id(row.id)
            .exec(&self.db)
            .await?;
        if deleted.rows_affected != 1 {
            return Err(wrong);
        }
        let user = self
            .email_proven(user, meta, "Mutation.loginWithEmailCode")
            .await?;
        self.open_session(user, "email_code", meta).await
    }
}
