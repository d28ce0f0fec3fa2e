//! Passwords: argon2id with the current recommended parameters (19 MiB, 2
//! passes, 1 lane), hashed and checked off the async threads.

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;

use crate::error::{AppError, AppResult};

pub const MIN_LENGTH: usize = 10;
pub const MAX_LENGTH: usize = 256;

/// Refuses a password too short or too long to be hashed.
pub fn check_strength(field: &str, password: &str) -> AppResult<()> {
    let n = password.chars().count();
    if n < MIN_LENGTH {
        return Err(AppError::validation(
            field,
            "too_short",
            format!("at least {MIN_LENGTH} characters"),
        ));
    }
    if n > MAX_LENGTH {
        return Err(AppError::validation(
            field,
            "too_long",
            format!("at most {MAX_LENGTH} characters"),
        ));
    }
    Ok(())
}

pub async fn hash(password: String) -> AppResult<String> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| AppError::Internal(format!("argon2: {e}")))
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
}

/// A hash of a random password nobody has, checked when the user is unknown so
/// that an unknown email costs the same time as a wrong password.
static DUMMY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let mut secret = [0u8; 24];
    let _ = getrandom::fill(&mut secret);
    Argon2::default()
        .hash_password(&secret)
        .map(|h| h.to_string())
        .unwrap_or_default()
});

pub async fn verify(password: String, stored: Option<String>) -> AppResult<bool> {
    let known = stored.is_some();
    tokio::task::spawn_blocking(move || {
        let stored = stored.unwrap_or_else(|| DUMMY.clone());
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), stored.as_str())
            .is_ok();
        ok && known
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn a_password_verifies_against_its_own_hash_only() {
        let h = hash("correct horse battery".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("correct horse battery".into(), Some(h.clone()))
            .await
            .unwrap());
        assert!(!verify("wrong horse battery".into(), Some(h)).await.unwrap());
        assert!(!verify("anything at all".into(), None).await.unwrap());
    }
}
