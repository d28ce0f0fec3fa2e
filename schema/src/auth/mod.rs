//! Identity and access: users, staff memberships, residents, sessions, the
//! policy every resolver asks, and the GraphQL operations to log in and out.

pub mod email_codes;
pub mod invitations;
pub mod mail;
pub mod mutation;
pub mod passkeys;
pub mod passwords;
pub mod policy;
pub mod principal;
pub mod proof;
pub mod query;
pub mod ratelimit;
pub mod residents;
pub mod service;
pub mod sessions;
pub mod staff;
pub mod types;
pub mod watch;

use std::sync::Arc;

use async_graphql::Context;

pub use policy::{ListScope, Target};
pub use principal::{Principal, Role};
pub use service::{Auth, AuthConfig};
pub use watch::Watch;

use crate::audit::{Author, RequestMeta};
use crate::error::{AppError, AppResult};

/// What the HTTP layer knows about a request, handed to every resolver.
#[derive(Clone, Debug, Default)]
pub struct RequestCtx {
    pub meta: RequestMeta,
    pub principal: Option<Arc<Principal>>,
    /// Served over https: cookies get `Secure`.
    pub secure: bool,
}

pub const SESSION_COOKIE: &str = "kvartal_session";

fn request<'a>(ctx: &'a Context<'_>) -> Option<&'a RequestCtx> {
    ctx.data_opt::<RequestCtx>()
}

/// The signed-in caller, or UNAUTHENTICATED.
pub fn principal(ctx: &Context<'_>) -> AppResult<Arc<Principal>> {
    request(ctx)
        .and_then(|r| r.principal.clone())
        .ok_or(AppError::Unauthenticated)
}

pub fn meta(ctx: &Context<'_>) -> RequestMeta {
    request(ctx).map(|r| r.meta.clone()).unwrap_or_default()
}

/// The caller of `operation` (as named in the access matrix), for the policy and
/// the audit log.
pub fn author(ctx: &Context<'_>, operation: &'static str) -> AppResult<Author> {
    Ok(Author::new(principal(ctx)?, meta(ctx), operation))
}
