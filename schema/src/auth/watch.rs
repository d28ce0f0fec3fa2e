//! A subscriber's rights, looked at again while their subscription runs: when
//! they changed on this instance, or after the time a request would trust
//! them. Every live feed asks before each event (`events::subscribe`).

use std::sync::Arc;

use super::Principal;

/// When a subscription looks at its subscriber's rights again: when they
/// changed on this instance, or after the time a request would trust them.
pub struct Watch {
    auth: Arc<crate::auth::Auth>,
    generation: u64,
    checked: std::time::Instant,
}

impl Watch {
    pub fn new(auth: Arc<crate::auth::Auth>) -> Watch {
        Watch {
            generation: auth.access_generation(),
            auth,
            checked: std::time::Instant::now(),
        }
    }

    /// The subscriber's rights as they are now, when they may have changed:
    /// `None` when the user is gone or disabled.
    pub async fn current(&mut self, p: Arc<Principal>) -> Option<Arc<Principal>> {
        if p.system || !self.stale() {
            return Some(p);
        }
        match crate::tenancy::as_system(self.auth.current_principal(p.user_id)).await {
            Ok(Some(now)) => Some(now),
            Ok(None) => None,
            Err(err) => {
                tracing::warn!(error = %err, "a subscriber's rights could not be read again");
                self.retry();
                Some(p)
            }
        }
    }

    /// Asks again at the next event.
    pub fn retry(&mut self) {
        self.generation = self.generation.wrapping_sub(1);
    }

    pub fn stale(&mut self) -> bool {
        let generation = self.auth.access_generation();
        if generation != self.generation
            || self.checked.elapsed() >= crate::auth::service::PRINCIPAL_TTL
        {
            self.generation = generation;
            self.checked = std::time::Instant::now();
            return true;
        }
        false
    }
}
