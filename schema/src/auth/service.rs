//! Logging in and out, and who a session belongs to.
//!
//! Invariants: a wrong password and an unknown email answer the same error after
//! the same work; attempts are counted per account and per address; a session
//! token is shown once and stored only as its hash; a disabled user's sessions
//! authenticate nobody.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use entities::{account, membership, resident_link, user};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set,
};
use uuid::Uuid;

use super::mail::Mailer;
use super::passwords;
use super::principal::{Membership, Principal, Residence, Role};
use super::ratelimit::{Limit, Limiter};
use super::sessions::{new_token, token_hash, SessionRecord, SessionStore};
use crate::audit::{self, Author, RequestMeta};
use crate::clock::Clock;
use crate::error::{AppError, AppResult};

#[derive(Clone, Debug)]
pub struct AuthConfig {
    /// A session unused this long ends.
    pub idle: Duration,
    /// A session ends this long after login, used or not.
    pub absolute: Duration,
    pub per_account: Limit,
    pub per_address: Limit,
    /// Sign-in codes one email may be sent.
    pub codes_per_email: Limit,
    /// The address users open, for links in invitations.
    pub public_url: String,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            idle: Duration::hours(12),
            absolute: Duration::days(30),
            per_account: Limit {
                attempts: 10,
                window: Duration::minutes(15),
            },
            per_address: Limit {
                attempts: 100,
                window: Duration::minutes(15),
            },
            codes_per_email: Limit {
                attempts: 5,
                window: Duration::hours(1),
            },
            public_url: "http://localhost:8080".into(),
        }
    }
}

#[derive(Clone)]
pub struct Auth {
    pub(crate) db: DatabaseConnection,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) sessions: SessionStore,
    pub(crate) limiter: Arc<Limiter>,
    pub(crate) config: AuthConfig,
    pub(crate) mailer: Mailer,
    pub(crate) passkeys: Option<Arc<webauthn_rs::Webauthn>>,
    /// A user's sessions ended (logout, removal from the staff, a new password):
    /// open websockets of that user check theirs at once.
    pub(crate) ended: tokio::sync::broadcast::Sender<Uuid>,
    /// Who each recently seen user is (roles, houses, residences), for
    /// `PRINCIPAL_TTL`: a request checks its session every time, but loads
    /// the roles at most that often. Changes on this instance forget the user
    /// at once; other instances see them within the TTL.
    pub(crate) principals: Arc<std::sync::Mutex<PrincipalCache>>,
    /// Sessions read from the store in the last `SESSION_RECHECK`, by token
    /// hash: a burst of requests reads its session once. Ending a session on
    /// this instance forgets it at once; other instances, within the recheck.
    pub(crate) seen: Arc<std::sync::Mutex<HashMap<String, (std::time::Instant, SessionRecord)>>>,
    /// Counts changes of anyone's roles or residences on this instance, so that
    /// long-lived subscriptions know when to look at their subscriber again.
    pub(crate) generation: Arc<std::sync::atomic::AtomicU64>,
    /// Users whose stale principal one caller is reloading.
    pub(crate) refreshing: Arc<std::sync::Mutex<std::collections::HashSet<Uuid>>>,
}

/// How long a session read from the store is trusted without reading it again.
pub const SESSION_RECHECK: std::time::Duration = std::time::Duration::from_secs(1);

/// Users' principals by id, with when each was loaded.
pub(crate) type PrincipalCache = HashMap<Uuid, (std::time::Instant, Arc<Principal>)>;

/// How long a user's roles and residences are reused between requests.
pub const PRINCIPAL_TTL: std::time::Duration = std::time::Duration::from_secs(5);
const PRINCIPALS_KEPT: usize = 50_000;

/// A session just opened: the token goes to the client once.
pub struct NewSession {
    pub token: String,
    pub record: SessionRecord,
    pub user: user::Model,
}

/// Lower-case, trimmed: what an email is looked up by.
pub fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

pub fn check_email(field: &str, email: &str) -> AppResult<()> {
    let e = email.trim();
    let ok = e.len() <= 254
        && e.split_once('@').is_some_and(|(l, d)| {
            !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.')
        })
        && !e.chars().any(char::is_whitespace);
    if ok {
        Ok(())
    } else {
        Err(AppError::validation(
            field,
            "invalid_email",
            "not an email address",
        ))
    }
}

impl Auth {
    pub fn new(
        db: DatabaseConnection,
        clock: Arc<dyn Clock>,
        sessions: SessionStore,
        limiter: Arc<Limiter>,
        config: AuthConfig,
        mailer: Mailer,
        passkeys: Option<Arc<webauthn_rs::Webauthn>>,
    ) -> Self {
        Self {
            db,
            clock,
            sessions,
            limiter,
            config,
            mailer,
            passkeys,
            ended: tokio::sync::broadcast::channel(1024).0,
            principals: Arc::default(),
            seen: Arc::default(),
            generation: Arc::default(),
            refreshing: Arc::default(),
        }
    }

    /// The user's roles or residences changed: load them afresh next time.
    pub fn access_changed(&self, user_id: Uuid) {
        if let Ok(mut cache) = self.principals.lock() {
            cache.remove(&user_id);
        }
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Bumped whenever someone's access changes on this instance.
    pub fn access_generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Who a user is now (roles, houses, residences), as a request would see
    /// them; `None` when the user is gone or disabled. For subscriptions that
    /// outlive the moment they were authorised.
    pub async fn current_principal(&self, user_id: Uuid) -> AppResult<Option<Arc<Principal>>> {
        if let Some(p) = self.remembered(user_id) {
            return Ok(Some(p));
        }
        let Some(user) = user::Entity::find_by_id(user_id).one(&self.db).await? else {
            return Ok(None);
        };
        if user.disabled {
            return Ok(None);
        }
        let principal = Arc::new(self.principal_of(&user).await?);
        self.remember(&principal);
        Ok(Some(principal))
    }

    /// The user's principal if it is fresh; once stale, the first caller
    /// reloads it while the others keep the stale copy a moment longer (so
    /// thousands of subscriptions of one user do not all reload at once).
    fn remembered(&self, user_id: Uuid) -> Option<Arc<Principal>> {
        let cache = self.principals.lock().ok()?;
        let (at, p) = cache.get(&user_id)?;
        let age = at.elapsed();
        if age < PRINCIPAL_TTL {
            return Some(p.clone());
        }
        if age < PRINCIPAL_TTL * 2 {
            let mut refreshing = self.refreshing.lock().ok()?;
            if !refreshing.insert(user_id) {
                return Some(p.clone());
            }
        }
        None
    }

    fn remember(&self, principal: &Arc<Principal>) {
        if let Ok(mut cache) = self.principals.lock() {
            if cache.len() >= PRINCIPALS_KEPT {
                cache.retain(|_, (at, _)| at.elapsed() < PRINCIPAL_TTL);
                if cache.len() >= PRINCIPALS_KEPT {
                    cache.clear();
                }
            }
            cache.insert(
                principal.user_id,
                (std::time::Instant::now(), principal.clone()),
            );
        }
        if let Ok(mut refreshing) = self.refreshing.lock() {
            refreshing.remove(&principal.user_id);
        }
    }

    /// Users whose sessions just ended on this instance.
    /// The session store, as `/readyz` sees it.
    pub async fn sessions_ready(&self) -> AppResult<&'static str> {
        self.sessions.ping().await.map(|_| self.sessions.kind())
    }

    pub fn session_endings(&self) -> tokio::sync::broadcast::Receiver<Uuid> {
        self.ended.subscribe()
    }

    pub(crate) fn sessions_ended(&self, user_id: Uuid) {
        self.access_changed(user_id);
        if let Ok(mut seen) = self.seen.lock() {
            seen.retain(|_, (_, rec)| rec.user_id != user_id);
        }
        let _ = self.ended.send(user_id);
    }

    pub fn session_store(&self) -> &SessionStore {
        &self.sessions
    }

    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    /// Counts one attempt of `what` from the request's address.
    pub(crate) async fn limit_address(
        &self,
        what: &str,
        meta: &RequestMeta,
        now: DateTime<Utc>,
    ) -> AppResult<()> {
        self.limiter
            .hit(
                &format!("{what}:addr:{}", meta.address),
                self.config.per_address,
                now,
            )
            .await
    }

    /// The principal behind a session token, or `None` when the token is unknown,
    /// ended, or its user disabled.
    pub async fn authenticate(&self, token: &str) -> AppResult<Option<Principal>> {
        let hash = token_hash(token);
        let Some(mut rec) = self.session(&hash).await? else {
            return Ok(None);
        };
        let now = self.clock.now();
        if rec.ends_at(self.config.idle) <= now {
            self.forget_session(&hash);
            self.sessions.remove(&hash).await?;
            return Ok(None);
        }
        // One write a minute at most, not one per request.
        if now - rec.last_seen_at > Duration::seconds(60) {
            self.sessions.touch(&rec, now, self.config.idle).await?;
            rec.last_seen_at = now;
            self.keep_session(&rec);
        }
        if let Some(principal) = self.remembered(rec.user_id) {
            let mut principal = (*principal).clone();
            principal.session = Some(hash);
            return Ok(Some(principal));
        }
        let Some(user) = user::Entity::find_by_id(rec.user_id).one(&self.db).await? else {
            return Ok(None);
        };
        if user.disabled {
            return Ok(None);
        }
        let mut principal = self.principal_of(&user).await?;
        self.remember(&Arc::new(principal.clone()));
        principal.session = Some(hash);
        Ok(Some(principal))
    }

    /// A session by its token's hash: from the store, or as read from it a moment ago.
    async fn session(&self, hash: &str) -> AppResult<Option<SessionRecord>> {
        if let Ok(seen) = self.seen.lock() {
            if let Some((at, rec)) = seen.get(hash) {
                if at.elapsed() < SESSION_RECHECK {
                    return Ok(Some(rec.clone()));
                }
            }
        }
        let rec = self.sessions.get(hash).await?;
        match &rec {
            Some(r) => self.keep_session(r),
            None => self.forget_session(hash),
        }
        Ok(rec)
    }

    fn keep_session(&self, rec: &SessionRecord) {
        if let Ok(mut seen) = self.seen.lock() {
            if seen.len() >= PRINCIPALS_KEPT {
                seen.retain(|_, (at, _)| at.elapsed() < SESSION_RECHECK);
            }
            seen.insert(
                rec.token_hash.clone(),
                (std::time::Instant::now(), rec.clone()),
            );
        }
    }

    fn forget_session(&self, hash: &str) {
        if let Ok(mut seen) = self.seen.lock() {
            seen.remove(hash);
        }
    }

    /// Whether the session of `token` still holds (an open websocket asks this
    /// periodically: the session and its user, without loading the roles).
    pub async fn session_holds(&self, token: &str) -> AppResult<bool> {
        let hash = token_hash(token);
        let Some(rec) = self.sessions.get(&hash).await? else {
            return Ok(false);
        };
        let now = self.clock.now();
        if rec.ends_at(self.config.idle) <= now {
            self.sessions.remove(&hash).await?;
            return Ok(false);
        }
        if now - rec.last_seen_at > Duration::seconds(60) {
            self.sessions.touch(&rec, now, self.config.idle).await?;
        }
        let disabled = user::Entity::find_by_id(rec.user_id)
            .select_only()
            .column(user::Column::Disabled)
            .into_tuple::<bool>()
            .one(&self.db)
            .await?;
        Ok(disabled == Some(false))
    }

    /// Loads a user's memberships and residences.
    pub async fn principal_of(&self, user: &user::Model) -> AppResult<Principal> {
        let memberships = membership::Entity::find()
            .filter(membership::Column::UserId.eq(user.id))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|m| Membership {
                organisation_id: m.organisation_id,
                roles: m.roles.split(',').filter_map(Role::parse).collect(),
                houses: if m.house_ids.is_empty() {
                    None
                } else {
                    Some(
                        m.house_ids
                            .split(',')
                            .filter_map(|h| Uuid::parse_str(h).ok())
                            .collect(),
                    )
                },
            })
            .collect();
        let account_ids: Vec<Uuid> = resident_link::Entity::find()
            .select_only()
            .column(resident_link::Column::AccountId)
            .filter(resident_link::Column::UserId.eq(user.id))
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut residences: HashMap<Uuid, Residence> = HashMap::new();
        if !account_ids.is_empty() {
            let rows: Vec<(Uuid, Uuid, Uuid, Uuid, Option<Uuid>)> = account::Entity::find()
                .select_only()
                .columns([
                    account::Column::Id,
                    account::Column::OrganisationId,
                    account::Column::PremisesId,
                    account::Column::HouseId,
                    account::Column::HolderId,
                ])
                .filter(account::Column::Id.is_in(account_ids))
                .into_tuple()
                .all(&self.db)
                .await?;
            for (id, org, premises, house, holder) in rows {
                let r = residences.entry(org).or_insert_with(|| Residence {
                    organisation_id: org,
                    ..Residence::default()
                });
                r.accounts.insert(id);
                r.premises.insert(premises);
                r.houses.insert(house);
                r.people.extend(holder);
            }
        }
        Ok(Principal {
            user_id: user.id,
            email: user.email.clone(),
            display_name: user.display_name.clone(),
            session: None,
            memberships,
            residences: residences.into_values().collect(),
            system: false,
        })
    }

    /// Email and password. The same error for an unknown email and a wrong
    /// password, after the same work.
    pub async fn login_password(
        &self,
        email: &str,
        password: String,
        meta: &RequestMeta,
    ) -> AppResult<NewSession> {
        let now = self.clock.now();
        let key = email_key(email);
        self.limit_address("login", meta, now).await?;
        // Wrong passwords slow down the address that sends them, for this
        // account (after 3, each one doubles the wait, up to 15 minutes); the
        // owner elsewhere is not locked out, and a passkey or an emailed code
        // still signs them in. Guesses spread over many addresses meet the
        // account's own limit on failures.
        let pair = format!("login:pw:{key}:{}", meta.address);
        self.limiter.wait(&pair, now).await?;
        self.limiter.wait(&format!("login:acct:{key}"), now).await?;
        let user = user::Entity::find()
            .filter(user::Column::EmailKey.eq(key.clone()))
            .one(&self.db)
            .await?;
        let stored = user.as_ref().and_then(|u| u.password_hash.clone());
        let ok = passwords::verify(password, stored).await?;
        let user = match user {
            Some(u) if ok && !u.disabled => u,
            _ => {
                tracing::info!(address = %meta.address, "failed password login");
                let cap = chrono::Duration::minutes(15);
                self.limiter.failed(&pair, now, 3, cap).await?;
                self.limiter
                    .failed(
                        &format!("login:acct:{key}"),
                        now,
                        self.config.per_account.attempts.saturating_mul(5),
                        cap,
                    )
                    .await?;
                return Err(AppError::InvalidCredentials { reason: "password" });
            }
        };
        self.limiter.succeeded(&pair).await?;
        self.limiter.succeeded(&format!("login:acct:{key}")).await?;
        self.no_claim_pending(&user)?;
        self.open_session(user, "password", meta).await
    }

    /// Opens a session for a user who has proved who they are, and writes a
    /// `login` entry in the audit log of each of their organisations.
    pub async fn open_session(
        &self,
        user: user::Model,
        method: &str,
        meta: &RequestMeta,
    ) -> AppResult<NewSession> {
        // The user's memberships and residences span organisations.
        crate::tenancy::as_system(self.open_session_unscoped(user, method, meta)).await
    }

    /// The body of the function above, in the scope it sets.
    async fn open_session_unscoped(
        &self,
        user: user::Model,
        method: &str,
        meta: &RequestMeta,
    ) -> AppResult<NewSession> {
        let now = self.clock.now();
        let token = new_token()?;
        let record = SessionRecord {
            token_hash: token_hash(&token),
            user_id: user.id,
            method: method.to_string(),
            address: meta.address.clone(),
            user_agent: meta.user_agent.chars().take(300).collect(),
            created_at: now,
            last_seen_at: now,
            expires_at: now + self.config.absolute,
        };
        self.sessions.put(&record, self.config.idle).await?;
        let principal = Arc::new(self.principal_of(&user).await?);
        let by = Author::new(principal.clone(), meta.clone(), "Mutation.login");
        let txn = crate::tx::begin_write(&self.db).await?;
        let changes = serde_json::json!({ "after": { "method": method } });
        record_for_user(&txn, &by, user.id, changes, now).await?;
        txn.commit().await?;
        Ok(NewSession {
            token,
            record,
            user,
        })
    }

    pub async fn logout(&self, by: &Author) -> AppResult<()> {
        if let Some(hash) = &by.principal.session {
            self.sessions.remove(hash).await?;
        }
        self.sessions_ended(by.principal.user_id);
        let changes = serde_json::json!({ "after": { "sessions": "this one ended" } });
        self.record_sign_out(by, changes).await
    }

    /// Ends every session of the caller, this one included.
    pub async fn logout_everywhere(&self, by: &Author) -> AppResult<u64> {
        let ended = self
            .sessions
            .remove_user(by.principal.user_id, None)
            .await?;
        self.sessions_ended(by.principal.user_id);
        let changes = serde_json::json!({ "after": { "sessions": format!("{ended} ended") } });
        self.record_sign_out(by, changes).await?;
        Ok(ended)
    }

    async fn record_sign_out(&self, by: &Author, changes: serde_json::Value) -> AppResult<()> {
        let txn = crate::tx::begin_write(&self.db).await?;
        record_for_user(&txn, by, by.principal.user_id, changes, self.clock.now()).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Forgets what has expired: sessions kept in the database, passkey
    /// ceremonies, sign-in codes and access codes. Answers how many rows went.
    pub async fn prune_expired(&self) -> AppResult<u64> {
        use entities::{access_code, ceremony, one_time_code};
        let now = self.clock.now();
        let mut gone = self.sessions.prune(now, self.config.idle).await?;
        gone += ceremony::Entity::delete_many()
            .filter(ceremony::Column::ExpiresAt.lte(now))
            .exec(&self.db)
            .await?
            .rows_affected;
        gone += one_time_code::Entity::delete_many()
            .filter(one_time_code::Column::ExpiresAt.lte(now))
            .exec(&self.db)
            .await?
            .rows_affected;
        gone += access_code::Entity::delete_many()
            .filter(access_code::Column::ExpiresAt.lte(now))
            .exec(&self.db)
            .await?
            .rows_affected;
        Ok(gone)
    }

    pub async fn sessions_of(&self, user_id: Uuid) -> AppResult<Vec<SessionRecord>> {
        self.sessions.list_user(user_id).await
    }

    /// Changes the caller's password; their other sessions end.
    pub async fn change_password(
        &self,
        by: &Author,
        current: String,
        new: String,
    ) -> AppResult<()> {
        passwords::check_strength("newPassword", &new)?;
        let user = find_user(&self.db, by.principal.user_id).await?;
        let now = self.clock.now();
        self.limiter
            .hit(
                &format!("password:{}", user.id),
                self.config.per_account,
                now,
            )
            .await?;
        if user.password_hash.is_some()
            && !passwords::verify(current, user.password_hash.clone()).await?
        {
            return Err(AppError::validation(
                "currentPassword",
                "wrong_password",
                "the current password is wrong",
            ));
        }
        let hash = passwords::hash(new).await?;
        let txn = crate::tx::begin_write(&self.db).await?;
        let mut am: user::ActiveModel = user.clone().into();
        am.password_hash = Set(Some(hash));
        am.updated_at = Set(now);
        am.update(&txn).await?;
        let changes = serde_json::json!({ "after": { "password": "changed" } });
        record_for_user(&txn, by, user.id, changes, now).await?;
        txn.commit().await?;
        self.sessions
            .remove_user(user.id, by.principal.session.as_deref())
            .await?;
        self.sessions_ended(user.id);
        Ok(())
    }

    /// Creates a user (no organisation yet). The email must be new.
    pub async fn create_user<C: sea_orm::ConnectionTrait>(
        &self,
        conn: &C,
        email: &str,
        display_name: &str,
        password_hash: Option<String>,
        locale: &str,
        now: DateTime<Utc>,
    ) -> AppResult<user::Model> {
        check_email("email", email)?;
        let name = display_name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(AppError::validation(
                "displayName",
                "required",
                "a name of 1 to 200 characters",
            ));
        }
        let am = user::ActiveModel {
            id: Set(Uuid::now_v7()),
            email: Set(email.trim().to_string()),
            email_key: Set(email_key(email)),
            display_name: Set(name.to_string()),
            password_hash: Set(password_hash),
            locale: Set(locale.to_string()),
            disabled: Set(false),
            email_verified_at: Set(None),
            address_claim_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        };
        am.insert(conn).await.map_err(|e| {
            crate::registry::service::unique_as_conflict(
                e,
                "email",
                "a user with this email already exists",
            )
        })
    }

    pub async fn user_by_email(&self, email: &str) -> AppResult<Option<user::Model>> {
        Ok(user::Entity::find()
            .filter(user::Column::EmailKey.eq(email_key(email)))
            .one(&self.db)
            .await?)
    }

    /// The signed-in user, their memberships, and the accounts they are a resident of.
    pub async fn me(
        &self,
        p: &Principal,
    ) -> AppResult<(user::Model, Vec<membership::Model>, Vec<account::Model>)> {
        use sea_orm::QueryOrder;
        let user = self.user(p.user_id).await?;
        let memberships = membership::Entity::find()
            .filter(membership::Column::UserId.eq(user.id))
            .all(&self.db)
            .await?;
        let ids: Vec<Uuid> = p
            .residences
            .iter()
            .flat_map(|r| r.accounts.iter().copied())
            .collect();
        let accounts = if ids.is_empty() {
            Vec::new()
        } else {
            account::Entity::find()
                .filter(account::Column::Id.is_in(ids))
                .order_by_asc(account::Column::Number)
                .all(&self.db)
                .await?
        };
        Ok((user, memberships, accounts))
    }

    pub async fn user(&self, id: Uuid) -> AppResult<user::Model> {
        find_user(&self.db, id).await
    }
}

pub(crate) async fn find_user<C: sea_orm::ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> AppResult<user::Model> {
    user::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(AppError::not_found("user"))
}

/// A change to a user's own sign-in means, in the log of each of their organisations.
pub(crate) async fn record_for_user<C: sea_orm::ConnectionTrait>(
    conn: &C,
    by: &Author,
    user_id: Uuid,
    changes: serde_json::Value,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), sea_orm::DbErr> {
    for org in by.principal.organisations() {
        audit::record(conn, by, org, "user", Some(user_id), changes.clone(), now).await?;
    }
    Ok(())
}
