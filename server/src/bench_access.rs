//! `kvartal bench access`: what identity and access cost.
//!
//! On a fresh database (SQLite file or a new PostgreSQL database) with a
//! generated registry of N accounts it times: a password login through the
//! GraphQL schema (argon2id, session write, audit row); the same page of a list
//! query (100 accounts with their premises, house and holder's phones) as the
//! server itself (the policy returns at once), as an admin, and as a dispatcher
//! limited to one house; and the audit row a mutation writes (a write
//! transaction with and without `audit::record`, and a whole `update_house`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use schema::audit::{Author, RequestMeta};
use schema::auth::ratelimit::{Limit, Limiter};
use schema::auth::sessions::SessionStore;
use schema::auth::staff::StaffDraft;
use schema::auth::{Auth, AuthConfig, Principal, RequestCtx, Role};
use schema::clock::{Clock, SystemClock};
use schema::registry::drafts::OrganisationDraft;
use schema::registry::Registry;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, TransactionTrait,
};

use crate::bench::{generate, percentile, replace_database, with_user};
use crate::cli::BenchDatabase;

const PASSWORD: &str = "bench password 2026";

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn p50_p95(mut v: Vec<Duration>) -> (Duration, Duration) {
    v.sort();
    (percentile(&v, 0.50), percentile(&v, 0.95))
}

pub async fn access(
    accounts: u64,
    database: BenchDatabase,
    postgres_url: &str,
    rounds: usize,
) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("kvartal-bench-access-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("registry.csv");
    generate(&file, accounts)?;
    let result = async {
        if matches!(database, BenchDatabase::Sqlite | BenchDatabase::Both) {
            let url = format!("sqlite://{}?mode=rwc", dir.join("bench.db").display());
            let db = crate::db::connect_url(&url, 4).await?;
            run("sqlite", &db, &file, rounds).await?;
            db.close().await?;
        }
        if matches!(database, BenchDatabase::Postgres | BenchDatabase::Both) {
            let name = format!("kvartal_bench_{}", uuid::Uuid::now_v7().simple());
            let admin = crate::db::connect_url(postgres_url, 1)
                .await
                .context("PostgreSQL for the benchmark")?;
            // As in production: a role that row-level security applies to.
            let _ = admin
                .execute_unprepared("CREATE ROLE kvartal_bench LOGIN NOSUPERUSER NOBYPASSRLS")
                .await;
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name} OWNER kvartal_bench"))
                .await?;
            let outcome = async {
                let url = with_user(&replace_database(postgres_url, &name), "kvartal_bench");
                let db = crate::db::connect_url(&url, 4).await?;
                let r = run("postgres", &db, &file, rounds).await;
                db.close().await?;
                r
            }
            .await;
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await?;
            outcome?;
        }
        anyhow::Ok(())
    }
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn run(
    label: &str,
    db: &DatabaseConnection,
    file: &std::path::Path,
    rounds: usize,
) -> anyhow::Result<()> {
    let e = |e: schema::error::AppError| anyhow::anyhow!("{e}");
    crate::db::migrate(db).await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let registry = Registry::new(db.clone(), clock.clone());
    let system = Author::system("kvartal bench", "Mutation.createOrganisation");
    let org = registry
        .create_organisation(
            &system,
            OrganisationDraft {
                name: "Bench".into(),
                currency: "RUB".into(),
                locale: "ru".into(),
                time_zone: "Europe/Moscow".into(),
                ..Default::default()
            },
        )
        .await
        .map_err(e)?;
    let report = registry
        .import_registry(
            &Author::system("kvartal bench", "Mutation.importRegistry"),
            org.id,
            std::fs::File::open(file)?,
            &|_| {},
        )
        .await
        .map_err(e)?;
    anyhow::ensure!(report.ok(), "the generated registry did not import");
    // Limits high enough for a benchmark that logs in many times from one place.
    let generous = Limit {
        attempts: u32::MAX,
        window: chrono::Duration::minutes(15),
    };
    let auth = Auth::new(
        db.clone(),
        clock.clone(),
        SessionStore::Db(db.clone()),
        Arc::new(Limiter::memory()),
        AuthConfig {
            per_account: generous,
            per_address: generous,
            ..AuthConfig::default()
        },
        schema::auth::mail::Mailer::Log,
        None,
    );
    let staff = |email: &str, role: Role, houses: Vec<uuid::Uuid>| StaffDraft {
        email: email.into(),
        display_name: email.into(),
        roles: vec![role],
        houses,
        password: Some(PASSWORD.into()),
        locale: "en".into(),
    };
    let by = Author::system("kvartal bench", "Mutation.addStaffMember");
    let (admin, _) = auth
        .add_staff_member(&by, org.id, staff("admin@bench.test", Role::Admin, vec![]))
        .await
        .and_then(|a| a.member())
        .map_err(e)?;
    let first_house = entities::house::Entity::find()
        .filter(sea_orm::ColumnTrait::eq(
            &entities::house::Column::OrganisationId,
            org.id,
        ))
        .order_by_asc(entities::house::Column::Address)
        .one(db)
        .await?
        .context("no house")?;
    let (dispatcher, _) = auth
        .add_staff_member(
            &by,
            org.id,
            staff(
                "dispatcher@bench.test",
                Role::Dispatcher,
                vec![first_house.id],
            ),
        )
        .await
        .and_then(|a| a.member())
        .map_err(e)?;
    let api = schema::build_schema(schema::Deps {
        files: schema::files::service::Files::new(
            db.clone(),
            Arc::new(SystemClock),
            schema::files::store::Store::memory(),
            1 << 20,
            None,
        ),
        db: db.clone(),
        clock: clock.clone(),
        auth: auth.clone(),
        events: crate::local_events(db, clock.clone()),
        introspection: false,
        field_suggestions: false,
        billing_lease: std::time::Duration::from_secs(60),
        audit_key: None,
    });
    let meta = RequestMeta {
        request_id: "bench".into(),
        address: "127.0.0.1".into(),
        user_agent: "kvartal bench".into(),
    };
    let ctx = |p: Option<Principal>| RequestCtx {
        meta: meta.clone(),
        principal: p.map(Arc::new),
        secure: false,
    };

    // 1. Password login.
    let login = format!(
        "mutation {{ login(input: {{ email: \"admin@bench.test\", password: \"{PASSWORD}\", client: APP }}) {{ token }} }}"
    );
    let mut times = Vec::new();
    for _ in 0..rounds.clamp(10, 100) {
        let started = Instant::now();
        let r = schema::graphql::execute(
            &api,
            &registry,
            async_graphql::Request::new(login.clone()),
            ctx(None),
        )
        .await;
        times.push(started.elapsed());
        anyhow::ensure!(r.errors.is_empty(), "login failed: {:?}", r.errors);
    }
    let (p50, p95) = p50_p95(times);
    println!("[{label}] password login (argon2id m=19 MiB t=2 p=1, session, audit row): p50 {:.1} ms, p95 {:.1} ms", ms(p50), ms(p95));

    // 2. The policy on a list query.
    let list = format!(
        "{{ accounts(organisationId: \"{}\", first: 100) {{ totalCount edges {{ node {{ number premises {{ number house {{ address }} }} holder {{ fullName phones }} }} }} }} }}",
        org.id
    );
    let as_admin = auth.principal_of(&admin).await.map_err(e)?;
    let as_dispatcher = auth.principal_of(&dispatcher).await.map_err(e)?;
    let mut results = Vec::new();
    for (who, principal) in [
        (
            "the server itself (no checks, no row filter)",
            Principal::system("bench"),
        ),
        ("admin, every check", as_admin),
        ("dispatcher limited to 1 house", as_dispatcher),
    ] {
        let mut times = Vec::with_capacity(rounds);
        for i in 0..rounds + 20 {
            let started = Instant::now();
            let r = schema::graphql::execute(
                &api,
                &registry,
                async_graphql::Request::new(list.clone()),
                ctx(Some(principal.clone())),
            )
            .await;
            if i >= 20 {
                times.push(started.elapsed());
            }
            anyhow::ensure!(r.errors.is_empty(), "list failed: {:?}", r.errors);
        }
        let (p50, p95) = p50_p95(times);
        results.push(p50);
        println!("[{label}] accounts page of 100 with premises, house, holder phones — {who}: p50 {:.2} ms, p95 {:.2} ms", ms(p50), ms(p95));
    }
    let overhead = ms(results[1]) - ms(results[0]);
    println!(
        "[{label}] access overhead on the list (policy{}): {:+.2} ms per page ({:+.1}%)",
        if label == "postgres" {
            " and row-level security"
        } else {
            ""
        },
        overhead,
        overhead / ms(results[0]) * 100.0
    );

    // 3. The audit row a mutation writes.
    let by = Author::new(
        Arc::new(auth.principal_of(&admin).await.map_err(e)?),
        meta.clone(),
        "Mutation.updateHouse",
    );
    let backend = db.get_database_backend();
    let touch = match backend {
        sea_orm::DatabaseBackend::Postgres => {
            "UPDATE houses SET updated_at = updated_at WHERE id = $1"
        }
        _ => "UPDATE houses SET updated_at = updated_at WHERE id = ?",
    };
    let mut plain = Vec::with_capacity(rounds);
    let mut audited = Vec::with_capacity(rounds);
    let mut whole = Vec::with_capacity(rounds);
    for i in 0..rounds {
        let started = Instant::now();
        let txn = db.begin().await?;
        txn.execute_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            touch,
            [first_house.id.into()],
        ))
        .await?;
        txn.commit().await?;
        plain.push(started.elapsed());

        let started = Instant::now();
        let txn = db.begin().await?;
        txn.execute_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            touch,
            [first_house.id.into()],
        ))
        .await?;
        let changes =
            serde_json::json!({ "before": { "floors": i }, "after": { "floors": i + 1 } });
        schema::audit::record(
            &txn,
            &by,
            org.id,
            "house",
            Some(first_house.id),
            changes,
            clock.now(),
        )
        .await?;
        txn.commit().await?;
        audited.push(started.elapsed());

        let started = Instant::now();
        registry
            .update_house(&by, first_house.id, move |d| {
                d.floors = Some(5 + (i % 20) as i32)
            })
            .await
            .map_err(e)?;
        whole.push(started.elapsed());
    }
    let (plain, _) = p50_p95(plain);
    let (audited, _) = p50_p95(audited);
    let (whole, whole95) = p50_p95(whole);
    println!(
        "[{label}] audit row per mutation: write transaction p50 {:.2} ms without, {:.2} ms with the audit row (+{:.2} ms); a whole updateHouse p50 {:.2} ms, p95 {:.2} ms",
        ms(plain),
        ms(audited),
        ms(audited) - ms(plain),
        ms(whole),
        ms(whole95)
    );
    let report = schema::audit::verify_chain(db, org.id, None, chrono::Utc::now())
        .await
        .map_err(e)?;
    println!(
        "[{label}] audit chain: {} entries, intact: {}",
        report.entries,
        report.ok()
    );
    Ok(())
}
