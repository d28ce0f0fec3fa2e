//! Logging in and out, joining as a resident, and managing staff.

use async_graphql::{Context, InputObject, Json, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};

use super::service::NewSession;
use super::staff::StaffDraft;
use super::types::{
    AnswerAddressClaimInput, AnswerAddressClaimPayload, ClientKind, Member, MembershipInfo,
    PasskeyInfo, RoleKind,
};
use super::{author, meta, Auth, RequestCtx, SESSION_COOKIE};
use crate::error::AppError;
use crate::pagination::uuid;
use crate::registry::types::Account;

#[derive(InputObject)]
pub struct LoginInput {
    pub email: String,
    pub password: String,
    /// WEB: the session goes into an HttpOnly cookie and `token` stays null;
    /// APP: the token is returned for an `Authorization: Bearer` header.
    #[graphql(default)]
    pub client: ClientKind,
}

#[derive(SimpleObject)]
pub struct LoginPayload {
    pub user_id: ID,
    pub display_name: String,
    /// Only for APP clients.
    pub token: Option<String>,
    pub expires_at: DateTime<Utc>,
}

#[derive(InputObject)]
pub struct RegisterResidentInput {
    pub email: String,
    pub display_name: String,
    pub password: String,
    /// The personal account number from the receipt.
    pub account_number: String,
    /// The access code from the receipt (or given by the management office).
    pub code: String,
    #[graphql(default_with = "String::from(\"en\")")]
    pub locale: String,
    #[graphql(default)]
    pub client: ClientKind,
}

#[derive(InputObject)]
pub struct ClaimAccountInput {
    pub account_number: String,
    pub code: String,
}

#[derive(SimpleObject)]
pub struct ClaimAccountPayload {
    pub account: Account,
}

#[derive(InputObject)]
pub struct ChangePasswordInput {
    /// Empty for a user who has no password yet.
    #[graphql(default)]
    pub current_password: String,
    pub new_password: String,
}

#[derive(SimpleObject)]
pub struct DonePayload {
    pub ok: bool,
}

#[derive(SimpleObject)]
pub struct LogoutEverywherePayload {
    /// How many sessions ended.
    pub ended: u64,
}

#[derive(InputObject)]
pub struct IssueAccessCodeInput {
    pub account_id: ID,
}

#[derive(SimpleObject)]
pub struct IssueAccessCodePayload {
    pub account: Account,
    /// Shown once: hand it to the resident. Replaces any earlier code.
    pub code: String,
    pub valid_days: i32,
}

#[derive(InputObject)]
pub struct InviteResidentInput {
    pub account_id: ID,
    pub email: String,
    /// en, ru or pt-BR; the organisation's language when left out.
    pub locale: Option<String>,
}

#[derive(InputObject)]
pub struct AddStaffMemberInput {
    pub organisation_id: ID,
    pub email: String,
    pub display_name: String,
    pub roles: Vec<RoleKind>,
    /// Limits the member to these houses; empty: every house.
    #[graphql(default)]
    pub house_ids: Vec<ID>,
    /// A first password for a new user.
    pub password: Option<String>,
    #[graphql(default_with = "String::from(\"en\")")]
    pub locale: String,
}

#[derive(InputObject)]
pub struct UpdateMembershipInput {
    pub organisation_id: ID,
    pub user_id: ID,
    pub roles: Vec<RoleKind>,
    #[graphql(default)]
    pub house_ids: Vec<ID>,
}

#[derive(InputObject)]
pub struct RemoveMembershipInput {
    pub organisation_id: ID,
    pub user_id: ID,
}

#[derive(SimpleObject)]
pub struct MemberPayload {
    /// The member, once they are one; none while an invitation waits.
    pub member: Option<Member>,
    /// Sent when the email already had an account: its owner accepts it.
    pub invitation: Option<StaffInvitation>,
}

/// An invitation to the staff, sent to an existing account's email.
#[derive(SimpleObject)]
pub struct StaffInvitation {
    pub id: ID,
    pub email: String,
    pub roles: Vec<RoleKind>,
    pub expires_at: DateTime<Utc>,
}

#[derive(InputObject)]
pub struct AcceptStaffInvitationInput {
    /// The token from the invitation's link.
    pub token: String,
}

#[derive(InputObject)]
pub struct RequestEmailCodeInput {
    pub email: String,
}

#[derive(InputObject)]
pub struct LoginWithEmailCodeInput {
    pub email: String,
    pub code: String,
    #[graphql(default)]
    pub client: ClientKind,
}

/// Options for the browser's WebAuthn call, and the ceremony to finish.
#[derive(SimpleObject)]
pub struct PasskeyChallenge {
    pub ceremony_id: ID,
    /// Pass `publicKey` to `PublicKeyCredential.parseCreationOptionsFromJSON`
    /// (registration) or `parseRequestOptionsFromJSON` (sign-in).
    pub options: Json<serde_json::Value>,
}

#[derive(InputObject)]
pub struct FinishPasskeyRegistrationInput {
    pub ceremony_id: ID,
    /// The browser's `credential.toJSON()`.
    pub credential: Json<serde_json::Value>,
    /// How the user will recognise it, e.g. "Work laptop".
    pub name: String,
}

#[derive(InputObject)]
pub struct FinishPasskeyLoginInput {
    pub ceremony_id: ID,
    pub credential: Json<serde_json::Value>,
    #[graphql(default)]
    pub client: ClientKind,
}

#[derive(InputObject)]
pub struct RenamePasskeyInput {
    pub id: ID,
    pub name: String,
}

#[derive(InputObject)]
pub struct RemovePasskeyInput {
    pub id: ID,
}

#[derive(SimpleObject)]
pub struct PasskeyPayload {
    pub passkey: PasskeyInfo,
}

fn in_input<T>(r: Result<T, AppError>) -> Result<T> {
    r.map_err(|e| e.in_field("input").into())
}

fn ids(field: &str, list: &[ID]) -> Result<Vec<uuid::Uuid>> {
    list.iter()
        .enumerate()
        .map(|(i, id)| in_input(uuid(&format!("{field}[{i}]"), id)))
        .collect()
}

/// Hands a new session to the client: a cookie for the web, the token for apps.
fn deliver(ctx: &Context<'_>, s: NewSession, client: ClientKind) -> LoginPayload {
    let token = match client {
        ClientKind::Web => {
            let secure = ctx.data_opt::<RequestCtx>().is_some_and(|r| r.secure);
            let max_age = (s.record.expires_at - s.record.created_at).num_seconds();
            ctx.append_http_header(
                "Set-Cookie",
                format!(
                    "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
                    s.token,
                    if secure { "; Secure" } else { "" }
                ),
            );
            None
        }
        ClientKind::App => Some(s.token),
    };
    LoginPayload {
        user_id: ID(s.user.id.to_string()),
        display_name: s.user.display_name,
        token,
        expires_at: s.record.expires_at,
    }
}

fn clear_cookie(ctx: &Context<'_>) {
    ctx.append_http_header(
        "Set-Cookie",
        format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
}

#[derive(Default)]
pub struct AuthMutation;

#[Object]
impl AuthMutation {
    /// Email and password. Wrong email and wrong password answer the same
    /// INVALID_CREDENTIALS; too many attempts answer RATE_LIMITED.
    async fn login(&self, ctx: &Context<'_>, input: LoginInput) -> Result<LoginPayload> {
        let auth = ctx.data::<Auth>()?;
        let session = auth
            .login_password(&input.email, input.password, &meta(ctx))
            .await?;
        Ok(deliver(ctx, session, input.client))
    }

    /// Joins as a resident with the account number and access code from a
    /// receipt, and signs in.
    async fn register_resident(
        &self,
        ctx: &Context<'_>,
        input: RegisterResidentInput,
    ) -> Result<LoginPayload> {
        let auth = ctx.data::<Auth>()?;
        let session = in_input(
            auth.register_resident(
                &meta(ctx),
                &input.email,
                &input.display_name,
                input.password,
                &input.account_number,
                &input.code,
                &input.locale,
            )
            .await,
        )?;
        Ok(deliver(ctx, session, input.client))
    }

    /// Emails a six-digit sign-in code when a user has this email; answers the
    /// same either way.
    async fn request_email_code(
        &self,
        ctx: &Context<'_>,
        input: RequestEmailCodeInput,
    ) -> Result<DonePayload> {
        let auth = ctx.data::<Auth>()?;
        in_input(auth.request_email_code(&input.email, &meta(ctx)).await)?;
        Ok(DonePayload { ok: true })
    }

    /// Signs in with the code from the email.
    async fn login_with_email_code(
        &self,
        ctx: &Context<'_>,
        input: LoginWithEmailCodeInput,
    ) -> Result<LoginPayload> {
        let auth = ctx.data::<Auth>()?;
        let session = auth
            .login_email_code(&input.email, &input.code, &meta(ctx))
            .await?;
        Ok(deliver(ctx, session, input.client))
    }

    /// Starts signing in with a passkey (no email needed).
    async fn start_passkey_login(&self, ctx: &Context<'_>) -> Result<PasskeyChallenge> {
        let (id, options) = ctx.data::<Auth>()?.start_passkey_login().await?;
        Ok(PasskeyChallenge {
            ceremony_id: ID(id.to_string()),
            options: Json(options),
        })
    }

    async fn finish_passkey_login(
        &self,
        ctx: &Context<'_>,
        input: FinishPasskeyLoginInput,
    ) -> Result<LoginPayload> {
        let id = in_input(uuid("ceremonyId", &input.ceremony_id))?;
        let session = in_input(
            ctx.data::<Auth>()?
                .finish_passkey_login(id, input.credential.0, &meta(ctx))
                .await,
        )?;
        Ok(deliver(ctx, session, input.client))
    }

    /// Starts registering a passkey for the signed-in user.
    async fn start_passkey_registration(&self, ctx: &Context<'_>) -> Result<PasskeyChallenge> {
        let by = author(ctx, "Mutation.startPasskeyRegistration")?;
        let (id, options) = ctx.data::<Auth>()?.start_passkey_registration(&by).await?;
        Ok(PasskeyChallenge {
            ceremony_id: ID(id.to_string()),
            options: Json(options),
        })
    }

    async fn finish_passkey_registration(
        &self,
        ctx: &Context<'_>,
        input: FinishPasskeyRegistrationInput,
    ) -> Result<PasskeyPayload> {
        let by = author(ctx, "Mutation.finishPasskeyRegistration")?;
        let id = in_input(uuid("ceremonyId", &input.ceremony_id))?;
        let model = in_input(
            ctx.data::<Auth>()?
                .finish_passkey_registration(&by, id, input.credential.0, &input.name)
                .await,
        )?;
        Ok(PasskeyPayload {
            passkey: PasskeyInfo(model),
        })
    }

    async fn rename_passkey(
        &self,
        ctx: &Context<'_>,
        input: RenamePasskeyInput,
    ) -> Result<PasskeyPayload> {
        let by = author(ctx, "Mutation.renamePasskey")?;
        let id = in_input(uuid("id", &input.id))?;
        let model = in_input(
            ctx.data::<Auth>()?
                .rename_passkey(&by, id, &input.name)
                .await,
        )?;
        Ok(PasskeyPayload {
            passkey: PasskeyInfo(model),
        })
    }

    async fn remove_passkey(
        &self,
        ctx: &Context<'_>,
        input: RemovePasskeyInput,
    ) -> Result<DonePayload> {
        let by = author(ctx, "Mutation.removePasskey")?;
        let id = in_input(uuid("id", &input.id))?;
        in_input(ctx.data::<Auth>()?.remove_passkey(&by, id).await)?;
        Ok(DonePayload { ok: true })
    }

    /// Ends this session.
    async fn logout(&self, ctx: &Context<'_>) -> Result<DonePayload> {
        let by = author(ctx, "Mutation.logout")?;
        ctx.data::<Auth>()?.logout(&by).await?;
        clear_cookie(ctx);
        Ok(DonePayload { ok: true })
    }

    /// Ends every session of the signed-in user, on every device.
    async fn logout_everywhere(&self, ctx: &Context<'_>) -> Result<LogoutEverywherePayload> {
        let by = author(ctx, "Mutation.logoutEverywhere")?;
        let ended = ctx.data::<Auth>()?.logout_everywhere(&by).await?;
        clear_cookie(ctx);
        Ok(LogoutEverywherePayload { ended })
    }

    /// Sets a new password; other sessions of the user end.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        input: ChangePasswordInput,
    ) -> Result<DonePayload> {
        let by = author(ctx, "Mutation.changePassword")?;
        in_input(
            ctx.data::<Auth>()?
                .change_password(&by, input.current_password, input.new_password)
                .await,
        )?;
        Ok(DonePayload { ok: true })
    }

    /// The owner of the email answers the claim on their account
    /// (`Me.addressClaim`): whether they set what was on it before they proved
    /// the address.
    async fn answer_address_claim(
        &self,
        ctx: &Context<'_>,
        input: AnswerAddressClaimInput,
    ) -> Result<AnswerAddressClaimPayload> {
        let by = author(ctx, "Mutation.answerAddressClaim")?;
        let a = in_input(
            ctx.data::<Auth>()?
                .answer_address_claim(by.principal.user_id, input.registered_by_me, &by)
                .await,
        )?;
        Ok(AnswerAddressClaimPayload {
            kept: a.kept,
            password_removed: a.password_removed,
            passkeys_removed: a.passkeys_removed,
            accounts_removed: a.accounts_removed,
        })
    }

    /// Adds a personal account to the signed-in resident with its number and code.
    async fn claim_account(
        &self,
        ctx: &Context<'_>,
        input: ClaimAccountInput,
    ) -> Result<ClaimAccountPayload> {
        let by = author(ctx, "Mutation.claimAccount")?;
        let account = in_input(
            ctx.data::<Auth>()?
                .claim_account(&by, &input.account_number, &input.code)
                .await,
        )?;
        Ok(ClaimAccountPayload {
            account: Account(account),
        })
    }

    /// Issues the code a resident joins with for an account (until receipts print it).
    async fn issue_access_code(
        &self,
        ctx: &Context<'_>,
        input: IssueAccessCodeInput,
    ) -> Result<IssueAccessCodePayload> {
        let by = author(ctx, "Mutation.issueAccessCode")?;
        let id = in_input(uuid("accountId", &input.account_id))?;
        let (account, code) = in_input(ctx.data::<Auth>()?.issue_access_code(&by, id).await)?;
        Ok(IssueAccessCodePayload {
            account: Account(account),
            code,
            valid_days: super::residents::CODE_VALID_DAYS as i32,
        })
    }

    /// Emails a resident an invitation to join with this account (a fresh access
    /// code and a link to the join form).
    async fn invite_resident(
        &self,
        ctx: &Context<'_>,
        input: InviteResidentInput,
    ) -> Result<ClaimAccountPayload> {
        let by = author(ctx, "Mutation.inviteResident")?;
        let id = in_input(uuid("accountId", &input.account_id))?;
        let account = in_input(
            ctx.data::<Auth>()?
                .invite_resident(&by, id, &input.email, input.locale.as_deref())
                .await,
        )?;
        Ok(ClaimAccountPayload {
            account: Account(account),
        })
    }

    /// Adds someone to the organisation's staff with roles (and optionally houses).
    async fn add_staff_member(
        &self,
        ctx: &Context<'_>,
        input: AddStaffMemberInput,
    ) -> Result<MemberPayload> {
        let by = author(ctx, "Mutation.addStaffMember")?;
        let org = in_input(uuid("organisationId", &input.organisation_id))?;
        let draft = StaffDraft {
            email: input.email,
            display_name: input.display_name,
            roles: input.roles.into_iter().map(Into::into).collect(),
            houses: ids("houseIds", &input.house_ids)?,
            password: input.password,
            locale: input.locale,
        };
        match in_input(ctx.data::<Auth>()?.add_staff_member(&by, org, draft).await)? {
            super::staff::Added::Member(user, m) => Ok(MemberPayload {
                member: Some(Member {
                    user,
                    membership: MembershipInfo::from(&m),
                }),
                invitation: None,
            }),
            super::staff::Added::Invited(i) => Ok(MemberPayload {
                member: None,
                invitation: Some(StaffInvitation {
                    id: ID(i.id.to_string()),
                    email: i.email,
                    roles: i
                        .roles
                        .split(',')
                        .filter_map(super::Role::parse)
                        .map(Into::into)
                        .collect(),
                    expires_at: i.expires_at,
                }),
            }),
        }
    }

    /// Accepts an invitation to an organisation's staff sent to the signed-in
    /// user's email (the token from its link).
    async fn accept_staff_invitation(
        &self,
        ctx: &Context<'_>,
        input: AcceptStaffInvitationInput,
    ) -> Result<MemberPayload> {
        let by = author(ctx, "Mutation.acceptStaffInvitation")?;
        let (user, m) = ctx
            .data::<Auth>()?
            .accept_staff_invitation(&by, &input.token)
            .await?;
        Ok(MemberPayload {
            member: Some(Member {
                user,
                membership: MembershipInfo::from(&m),
            }),
            invitation: None,
        })
    }

    async fn update_membership(
        &self,
        ctx: &Context<'_>,
        input: UpdateMembershipInput,
    ) -> Result<MemberPayload> {
        let by = author(ctx, "Mutation.updateMembership")?;
        let org = in_input(uuid("organisationId", &input.organisation_id))?;
        let user_id = in_input(uuid("userId", &input.user_id))?;
        let auth = ctx.data::<Auth>()?;
        let m = in_input(
            auth.update_membership(
                &by,
                org,
                user_id,
                input.roles.into_iter().map(Into::into).collect(),
                ids("houseIds", &input.house_ids)?,
            )
            .await,
        )?;
        let user = auth.user(user_id).await?;
        Ok(MemberPayload {
            member: Some(Member {
                user,
                membership: MembershipInfo::from(&m),
            }),
            invitation: None,
        })
    }

    /// Removes someone from the staff; their sessions end.
    async fn remove_membership(
        &self,
        ctx: &Context<'_>,
        input: RemoveMembershipInput,
    ) -> Result<DonePayload> {
        let by = author(ctx, "Mutation.removeMembership")?;
        let org = in_input(uuid("organisationId", &input.organisation_id))?;
        let user_id = in_input(uuid("userId", &input.user_id))?;
        in_input(
            ctx.data::<Auth>()?
                .remove_membership(&by, org, user_id)
                .await,
        )?;
        Ok(DonePayload { ok: true })
    }
}
