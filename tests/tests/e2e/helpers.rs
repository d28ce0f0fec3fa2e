//! `spawn_app()`: the real server on port 0 over a fresh database, and a client.

use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use futures_util::FutureExt;
use kvartal::config::Settings;
use schema::clock::FixedClock;
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
    running: Option<kvartal::Running>,
    pg_database: Option<String>,
    dir: PathBuf,
}

/// The PostgreSQL server the tests create their databases on.
pub fn postgres_admin_url() -> String {
    std::env::var("KVARTAL_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// The instant the services see as now.
pub fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0)
        .single()
        .unwrap_or_default()
}

pub async fn spawn_app(db: Db) -> TestApp {
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
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        admin.close().await.unwrap();
        settings.database_url = Some(kvartal::bench::replace_database(
            &postgres_admin_url(),
            &name,
        ));
        pg_database = Some(name);
    }
    settings.db_max_connections = 5;
    let running = kvartal::start(&settings, Arc::new(FixedClock(now())))
        .await
        .unwrap();
    TestApp {
        base: format!("http://{}", running.addr),
        client: reqwest::Client::new(),
        running: Some(running),
        pg_database,
        dir,
    }
}

impl TestApp {
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
    }

    /// The whole GraphQL response.
    pub async fn graphql(&self, query: &str, variables: Value) -> Value {
        self.client
            .post(format!("{}/graphql", self.base))
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
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
