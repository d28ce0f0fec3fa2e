//! Who am I, my sessions, and an organisation's staff.

use async_graphql::{Context, Object, Result, ID};

use super::types::{Me, Member, MembershipInfo, PasskeyInfo, SessionInfo};
use super::{principal, Auth, RequestCtx};
use crate::pagination::uuid;

#[derive(Default)]
pub struct AuthQuery;

#[Object]
impl AuthQuery {
    /// The signed-in user, or null.
    async fn me(&self, ctx: &Context<'_>) -> Result<Option<Me>> {
        let Some(p) = ctx
            .data_opt::<RequestCtx>()
            .and_then(|r| r.principal.clone())
        else {
            return Ok(None);
        };
        let (user, memberships, accounts) = ctx.data::<Auth>()?.me(&p).await?;
        let memberships = memberships.iter().map(MembershipInfo::from).collect();
        Ok(Some(Me {
            user,
            memberships,
            accounts,
        }))
    }

    /// The signed-in user's open sessions, newest first.
    async fn my_sessions(&self, ctx: &Context<'_>) -> Result<Vec<SessionInfo>> {
        let p = principal(ctx)?;
        let auth = ctx.data::<Auth>()?;
        let list = auth.sessions_of(p.user_id).await?;
        Ok(list
            .into_iter()
            .map(|r| SessionInfo::new(r, p.session.as_deref()))
            .collect())
    }

    /// The signed-in user's passkeys.
    async fn my_passkeys(&self, ctx: &Context<'_>) -> Result<Vec<PasskeyInfo>> {
        let p = principal(ctx)?;
        let auth = ctx.data::<Auth>()?;
        Ok(auth
            .passkeys_of(p.user_id)
            .await?
            .into_iter()
            .map(PasskeyInfo)
            .collect())
    }

    /// The staff of an organisation.
    async fn members(&self, ctx: &Context<'_>, organisation_id: ID) -> Result<Vec<Member>> {
        let p = principal(ctx)?;
        let org = uuid("organisationId", &organisation_id)?;
        p.scope_whole("Query.members", org)?;
        let auth = ctx.data::<Auth>()?;
        Ok(auth
            .members(org)
            .await?
            .into_iter()
            .map(|(user, m)| Member {
                user,
                membership: MembershipInfo::from(&m),
            })
            .collect())
    }
}
