//! `spawn_app()`: the real server on port 0 over a fresh database, and a client.

use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use futures_util::FutureExt;
use kvartal::config::Settings;
use schema::clock::ManualClock;
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    /// The administrator every test acts as unless it logs in as someone else.
    pub admin: Caller,
    /// The server's clock, which tests move.
    pub clock: Arc<ManualClock>,
    /// The Redis key prefix of this app's sessions, when it uses Redis.
    pub redis_prefix: Option<String>,
    /// The PostgreSQL URL the server uses (as the application's role).
    pub database_url: Option<String>,
    running: Option<kvartal::Running>,
    /// The settings it started with, to start it again.
    pub settings: Settings,
    pg_database: Option<String>,
    dir: PathBuf,
}

/// The password of every user the tests create.
pub const PASSWORD: &str = "correct horse battery staple";

/// A client with (or without) a session token.
#[derive(Clone)]
pub struct Caller {
    pub base: String,
    pub client: reqwest::Client,
    pub token: Option<String>,
}

impl Caller {
    /// The whole GraphQL response.
    pub async fn graphql(&self, query: &str, variables: Value) -> Value {
        let mut request = self
            .client
            .post(format!("{}/graphql", self.base))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap().json().await.unwrap()
    }

    /// `data` of a response that must have no errors.
    pub async fn ok(&self, query: &str, variables: Value) -> Value {
        let response = self.graphql(query, variables).await;
        assert!(
            response.get("errors").is_none(),
            "unexpected errors: {response:#}"
        );
        response["data"].clone()
    }

    /// The first error of a response that must fail.
    pub async fn error(&self, query: &str, variables: Value) -> Value {
        let response = self.graphql(query, variables).await;
        response["errors"][0].clone()
    }

    /// Logs in with email and password as an app (bearer token).
    pub async fn login(&self, email: &str, password: &str) -> Caller {
        let data = self
            .ok(
                "mutation($input: LoginInput!) { login(input: $input) { token } }",
                json!({ "input": { "email": email, "password": password, "client": "APP" } }),
            )
            .await;
        Caller {
            token: data["login"]["token"].as_str().map(str::to_string),
            ..self.clone()
        }
    }
}

/// The PostgreSQL server the tests create their databases on.
pub fn postgres_admin_url() -> String {
    std::env::var("KVARTAL_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// The PostgreSQL role the server connects as in the tests.
pub const APP_ROLE: &str = "kvartal_app";

/// The Redis the PostgreSQL runs keep their sessions in.
pub fn redis_url() -> String {
    std::env::var("KVARTAL_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// The instant the services see as now.
pub fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0)
        .single()
        .unwrap_or_default()
}

pub async fn spawn_app(db: Db) -> TestApp {
    spawn_app_with(db, |_| {}).await
}

/// The app with settings changed by `configure` before it starts.
pub async fn spawn_app_with(db: Db, configure: impl FnOnce(&mut Settings)) -> TestApp {
    let id = uuid::Uuid::now_v7().simple().to_string();
    let dir = std::env::temp_dir().join(format!("kvartal-test-{id}"));
    std::fs::create_dir_all(&dir).unwrap();
    let mut settings = Settings {
        data_dir: dir.clone(),
        bind: "127.0.0.1:0".parse().unwrap(),
        ..Settings::default()
    };
    let mut pg_database = None;
    if db == Db::Postgres {
        let name = format!("kvartal_test_{id}");
        let admin = kvartal::db::connect_url(&postgres_admin_url(), 1)
            .await
            .expect("PostgreSQL is not reachable at KVARTAL_TEST_POSTGRES (default 127.0.0.1:5432); start it, see README");
        // The server connects as a role that is neither superuser nor exempt from
        // row-level security, as in production: the database's own wall is tested.
        let _ = admin
            .execute_unprepared(&format!(
                "CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS"
            ))
            .await;
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name} OWNER {APP_ROLE}"))
            .await
            .unwrap();
        admin.close().await.unwrap();
        settings.database_url = Some(kvartal::bench::with_user(
            &kvartal::bench::replace_database(&postgres_admin_url(), &name),
            APP_ROLE,
        ));
        pg_database = Some(name);
    }
    settings.db_max_connections = 5;
    // The embedded mode keeps sessions in SQLite; the mode at scale, in Redis.
    let mut redis_prefix = None;
    if db == Db::Postgres {
        settings.redis_url = Some(redis_url());
        settings.redis_prefix = format!("kvartal-test-{id}:");
        redis_prefix = Some(settings.redis_prefix.clone());
    }
    configure(&mut settings);
    let clock = Arc::new(ManualClock::new(now()));
    let running = kvartal::start(&settings, clock.clone()).await.unwrap();
    let base = format!("http://{}", running.addr);
    let client = reqwest::Client::new();
    // The first administrator, as `kvartal admin create` makes one.
    let registry = schema::registry::Registry::new(running.db.clone(), clock.clone());
    let home = schema::tenancy::as_system(registry.create_organisation(
        &schema::audit::Author::system("tests", "Mutation.createOrganisation"),
        schema::registry::drafts::OrganisationDraft {
            name: "Home".into(),
            currency: "RUB".into(),
            locale: "ru".into(),
            time_zone: "Europe/Moscow".into(),
            legal_name: String::new(),
            tax_id: String::new(),
            bank_account: String::new(),
            bank_id: String::new(),
            bank_name: String::new(),
        },
    ))
    .await
    .unwrap();
    let auth = kvartal::local_auth(&running.db, clock.clone());
    schema::tenancy::as_system(auth.bootstrap_admin(
        home.id,
        "admin@example.org",
        "Admin",
        Some(PASSWORD.into()),
    ))
    .await
    .unwrap();
    let anonymous = Caller {
        base: base.clone(),
        client: client.clone(),
        token: None,
    };
    let admin = anonymous.login("admin@example.org", PASSWORD).await;
    TestApp {
        base,
        client,
        admin,
        clock,
        redis_prefix: redis_prefix.clone(),
        database_url: settings.database_url.clone(),
        running: Some(running),
        settings: settings.clone(),
        pg_database,
        dir,
    }
}

impl TestApp {
    /// The server's database connection, for checks behind the API's back.
    pub fn db(&self) -> &sea_orm::DatabaseConnection {
        &self.running.as_ref().unwrap().db
    }

    /// Stops the server and starts it again on the same database and files
    /// (a new address; the callers' sessions hold).
    pub async fn restart(&mut self) {
        if let Some(running) = self.running.take() {
            let db = running.db.clone();
            running.stop().await;
            let _ = db.close().await;
        }
        let running = kvartal::start(&self.settings, self.clock.clone())
            .await
            .unwrap();
        self.base = format!("http://{}", running.addr);
        self.admin.base = self.base.clone();
        self.running = Some(running);
    }

    pub async fn cleanup(mut self) {
        if let Some(running) = self.running.take() {
            let db = running.db.clone();
            running.stop().await;
            let _ = db.close().await;
        }
        if let Some(name) = self.pg_database.take() {
            if let Ok(admin) = kvartal::db::connect_url(&postgres_admin_url(), 1).await {
                let _ = admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await;
                let _ = admin.close().await;
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some(prefix) = self.redis_prefix.take() {
            let _ = delete_redis_keys(&prefix).await;
        }
    }

    /// The whole GraphQL response, as the administrator.
    pub async fn graphql(&self, query: &str, variables: Value) -> Value {
        self.admin.graphql(query, variables).await
    }

    /// `data` of a response that must have no errors, as the administrator.
    pub async fn ok(&self, query: &str, variables: Value) -> Value {
        self.admin.ok(query, variables).await
    }

    /// The first error of a response that must fail, as the administrator.
    pub async fn error(&self, query: &str, variables: Value) -> Value {
        self.admin.error(query, variables).await
    }

    /// A client without a session.
    /// The directory of this app's files (and its SQLite database).
    pub fn data_dir(&self) -> &std::path::Path {
        &self.dir
    }

    pub fn anonymous(&self) -> Caller {
        Caller {
            token: None,
            ..self.admin.clone()
        }
    }

    /// Adds a staff member with these roles (and houses) to `org` and logs them in.
    pub async fn login_as(
        &self,
        email: &str,
        org: &str,
        roles: &[&str],
        houses: &[&str],
    ) -> Caller {
        self.ok(
            "mutation($input: AddStaffMemberInput!) { addStaffMember(input: $input) { member { userId } } }",
            json!({ "input": { "organisationId": org, "email": email, "displayName": email,
                "roles": roles, "houseIds": houses, "password": PASSWORD } }),
        )
        .await;
        self.anonymous().login(email, PASSWORD).await
    }

    /// Issues an access code for an account and joins as a resident with it.
    pub async fn resident_of(&self, email: &str, account_id: &str, account_number: &str) -> Caller {
        let code = self
            .ok(
                "mutation($input: IssueAccessCodeInput!) { issueAccessCode(input: $input) { code } }",
                json!({ "input": { "accountId": account_id } }),
            )
            .await["issueAccessCode"]["code"]
            .as_str()
            .unwrap()
            .to_string();
        let data = self
            .anonymous()
            .ok(
                "mutation($input: RegisterResidentInput!) { registerResident(input: $input) { token } }",
                json!({ "input": { "email": email, "displayName": email, "password": PASSWORD,
                    "accountNumber": account_number, "code": code, "client": "APP" } }),
            )
            .await;
        Caller {
            token: data["registerResident"]["token"]
                .as_str()
                .map(str::to_string),
            ..self.anonymous()
        }
    }

    pub async fn create_org(&self, name: &str) -> String {
        let data = self
            .ok(
                "mutation($input: CreateOrganisationInput!) { createOrganisation(input: $input) { organisation { id } } }",
                json!({ "input": { "name": name, "currency": "RUB", "locale": "ru", "timeZone": "Europe/Moscow",
                    "legalName": format!("ООО «{name}»"), "taxId": "7701234567", "bankAccount": "40702810938000012345", "bankId": "044525225" } }),
            )
            .await;
        data["createOrganisation"]["organisation"]["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub async fn create_house(&self, org: &str, street: &str, building: &str) -> String {
        let data = self
            .ok(
                "mutation($input: CreateHouseInput!) { createHouse(input: $input) { house { id } } }",
                json!({ "input": { "organisationId": org, "city": "Москва", "street": street, "building": building,
                    "floors": 9, "entrances": 4, "totalArea": "5400.5", "commonArea": "800" } }),
            )
            .await;
        data["createHouse"]["house"]["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub async fn create_premises(&self, house: &str, number: &str, area: &str) -> String {
        let data = self
            .ok(
                "mutation($input: CreatePremisesInput!) { createPremises(input: $input) { premises { id } } }",
                json!({ "input": { "houseId": house, "number": number, "area": area, "floor": 2, "entrance": 1, "rooms": 2 } }),
            )
            .await;
        data["createPremises"]["premises"]["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub async fn create_account(&self, premises: &str, number: &str) -> String {
        let data = self
            .ok(
                "mutation($input: CreateAccountInput!) { createAccount(input: $input) { account { id } } }",
                json!({ "input": { "premisesId": premises, "number": number, "openedOn": "2026-01-01", "registeredResidents": 2 } }),
            )
            .await;
        data["createAccount"]["account"]["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub async fn create_person(&self, org: &str, name: &str, phone: &str) -> String {
        let data = self
            .ok(
                "mutation($input: CreatePersonInput!) { createPerson(input: $input) { person { id } } }",
                json!({ "input": { "organisationId": org, "fullName": name, "phones": [phone], "preferredChannel": "SMS", "consentPersonalData": true } }),
            )
            .await;
        data["createPerson"]["person"]["id"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

/// Removes every Redis key under a prefix.
pub async fn delete_redis_keys(prefix: &str) -> redis::RedisResult<()> {
    let client = redis::Client::open(redis_url())?;
    let mut conn = client.get_multiplexed_async_connection().await?;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut conn)
        .await?;
    if !keys.is_empty() {
        redis::cmd("DEL")
            .arg(keys)
            .query_async::<()>(&mut conn)
            .await?;
    }
    Ok(())
}

/// Runs a test body against an app, cleaning up even when the body panics.
pub async fn run<F>(db: Db, body: F)
where
    F: for<'a> FnOnce(&'a TestApp) -> futures_util::future::BoxFuture<'a, ()>,
{
    let app = spawn_app(db).await;
    let result = AssertUnwindSafe(body(&app)).catch_unwind().await;
    app.cleanup().await;
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

/// Declares one test that runs on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! db_test {
    ($(#[$meta:meta])* async fn $name:ident($app:ident: &TestApp) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn body($app: &$crate::helpers::TestApp) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::helpers::run($crate::helpers::Db::Sqlite, |app| Box::pin(body(app))).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::helpers::run($crate::helpers::Db::Postgres, |app| Box::pin(body(app))).await;
            }
        }
    };
}

/// A refusal's `(code, field, reason)`, from its first error.
pub fn refusal(response: &Value) -> (String, String, String) {
    let e = &response["errors"][0]["extensions"];
    (
        e["code"].as_str().unwrap_or_default().to_string(),
        e["field"].as_str().unwrap_or_default().to_string(),
        e["reason"].as_str().unwrap_or_default().to_string(),
    )
}

/// The refusal a test expects, to compare with [`refusal`].
pub fn refused(code: &str, field: &str, reason: &str) -> (String, String, String) {
    (code.into(), field.into(), reason.into())
}
