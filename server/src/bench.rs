//! `kvartal bench registry`: import and search over a generated registry.
//!
//! For each database it creates a fresh one (a temporary SQLite file, or a new
//! PostgreSQL database dropped afterwards), generates a file of N accounts with
//! premises, an owner and two meters each, imports it through the real import
//! (streaming, one pass), imports it again (nothing changes), and times
//! 3-character searches through the GraphQL schema. It prints the figures.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use schema::clock::SystemClock;
use schema::registry::drafts::OrganisationDraft;
use schema::registry::Registry;
use sea_orm::{ConnectionTrait, DatabaseConnection};

use crate::cli::{on_progress, progress_bar, BenchDatabase};
use crate::demo::{format_account, person_name, Rng, RU};

const HOUSE_SIZE: u64 = 1000;

/// Writes a registry file of `accounts` lines: houses of 1000 flats, one owner and
/// two meters (cold water, two-zone electricity) per flat.
pub fn generate(path: &Path, accounts: u64) -> anyhow::Result<()> {
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = BufWriter::new(file);
    out.write_all(b"house,house_city,house_street,house_building,premises_number,premises_kind,entrance,floor,area,rooms,account_number,account_opened,registered_residents,person_name,person_phone,person_email,person_channel,meter1_serial,meter1_resource,meter1_initial,meter2_serial,meter2_resource,meter2_zones,meter2_initial\n")?;
    let mut rng = Rng::new(7);
    let streets = [
        "ул. Ленина",
        "пр-т Мира",
        "ул. Садовая",
        "ул. Гагарина",
        "Набережная ул.",
        "ул. Пушкина",
        "Лесная ул.",
        "ул. Строителей",
    ];
    for i in 0..accounts {
        let house = i / HOUSE_SIZE;
        let flat = i % HOUSE_SIZE + 1;
        let street = streets[(house % streets.len() as u64) as usize];
        let building = house / streets.len() as u64 + 1;
        let name = person_name(&RU, &mut rng);
        let area = 300 + rng.below(900);
        writeln!(
            out,
            "\"г. Казань, {street}, д. {building}\",Казань,{street},{building},{flat},residential,{entrance},{floor},{a}.{b},{rooms},{acc},2024-01-01,{res},{name},+7917{phone:07},,sms,CW{acc},cold_water,{cw}.5,EL{acc},electricity,2,{e1};{e2}",
            entrance = (flat - 1) / 100 + 1,
            floor = (flat - 1) % 100 / 4 + 1,
            a = area / 10,
            b = area % 10,
            rooms = 1 + rng.below(4),
            acc = format_account(10_000_000 + i),
            res = rng.below(5),
            phone = (i * 7919) % 10_000_000,
            cw = rng.below(900),
            e1 = rng.below(20_000),
            e2 = rng.below(9_000),
        )?;
    }
    out.flush()?;
    Ok(())
}

/// Peak resident memory of this process since the last reset, in bytes.
pub fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Resets the peak so that each database's run is measured alone.
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

pub async fn registry(
    accounts: u64,
    database: BenchDatabase,
    postgres_url: &str,
    searches: usize,
) -> anyhow::Result<()> {
    if database == BenchDatabase::Both {
        // Each database in a process of its own, so that its peak memory is its own.
        for one in ["sqlite", "postgres"] {
            let status = std::process::Command::new(std::env::current_exe()?)
                .args(["bench", "registry", "--database", one])
                .args(["--accounts", &accounts.to_string()])
                .args(["--searches", &searches.to_string()])
                .args(["--postgres-url", postgres_url])
                .status()
                .context("running the benchmark for one database")?;
            anyhow::ensure!(status.success(), "the {one} benchmark failed: {status}");
        }
        return Ok(());
    }
    let dir = std::env::temp_dir().join(format!("kvartal-bench-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("registry.csv");
    let started = Instant::now();
    generate(&file, accounts)?;
    let size = std::fs::metadata(&file)?.len();
    println!(
        "generated {accounts} accounts ({} premises, {accounts} people, {} meters) in {:.1} s: {:.1} MB",
        accounts,
        accounts * 2,
        started.elapsed().as_secs_f64(),
        size as f64 / 1e6
    );
    let result = async {
        let bench = BenchDb::open(database, postgres_url, &dir).await?;
        let r = run_one(bench.label, &bench.db, &file, accounts, searches).await;
        bench.close().await?;
        r
    }
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// A fresh database for one benchmark: a SQLite file in `dir`, or a new
/// PostgreSQL database dropped by `close`.
pub struct BenchDb {
    pub db: DatabaseConnection,
    pub label: &'static str,
    /// Where another process (a server) finds the same database.
    pub url: String,
    postgres: Option<(DatabaseConnection, String)>,
}

impl BenchDb {
    pub async fn open(
        database: BenchDatabase,
        postgres_url: &str,
        dir: &Path,
    ) -> anyhow::Result<Self> {
        if database == BenchDatabase::Postgres {
            let name = format!("kvartal_bench_{}", uuid::Uuid::now_v7().simple());
            let admin = crate::db::connect_url(postgres_url, 1)
                .await
                .context("PostgreSQL for the benchmark")?;
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await?;
            let url = replace_database(postgres_url, &name);
            let db = crate::db::connect_url(&url, 4).await?;
            return Ok(BenchDb {
                db,
                url,
                label: "postgres",
                postgres: Some((admin, name)),
            });
        }
        let url = format!("sqlite://{}?mode=rwc", dir.join("bench.db").display());
        Ok(BenchDb {
            db: crate::db::connect_url(&url, 4).await?,
            url,
            label: "sqlite",
            postgres: None,
        })
    }

    pub async fn close(self) -> anyhow::Result<()> {
        self.db.close().await?;
        if let Some((admin, name)) = self.postgres {
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await?;
        }
        Ok(())
    }
}

/// The same server URL with another user (no password: trust authentication).
pub fn with_user(url: &str, user: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}{user}{}", &url[..s + 3], &url[at..]),
        (Some(s), _) => format!("{}{user}@{}", &url[..s + 3], &url[s + 3..]),
        _ => url.to_string(),
    }
}

/// The same server URL with another database name.
pub fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let base = match base.rfind('/') {
        Some(i) if i > base.find("://").map(|s| s + 2).unwrap_or(0) => &base[..i],
        _ => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

async fn run_one(
    label: &str,
    db: &DatabaseConnection,
    file: &Path,
    accounts: u64,
    searches: usize,
) -> anyhow::Result<()> {
    crate::db::migrate(db).await?;
    let registry = Registry::new(db.clone(), Arc::new(SystemClock));
    let org = registry
        .create_organisation(
            &schema::audit::Author::system("kvartal bench", "Mutation.createOrganisation"),
            OrganisationDraft {
                name: "Bench".into(),
                currency: "RUB".into(),
                locale: "ru".into(),
                time_zone: "Europe/Moscow".into(),
                ..Default::default()
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;

    reset_peak_rss();
    let bar = progress_bar(0);
    let started = Instant::now();
    let report = registry
        .import_registry(
            &schema::audit::Author::system("kvartal bench", "Mutation.importRegistry"),
            org.id,
            std::fs::File::open(file)?,
            &on_progress(&bar),
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let elapsed = started.elapsed();
    bar.finish_and_clear();
    anyhow::ensure!(
        report.ok(),
        "the generated file did not import: {:?}",
        report.errors.first()
    );
    let peak = peak_rss().unwrap_or(0);
    let rows = report.premises.created
        + report.accounts.created
        + report.people.created
        + report.occupancies.created
        + report.meters.created;
    let search_rows: u64 = {
        let r = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT COUNT(*) AS n FROM person_terms",
            ))
            .await?;
        r.and_then(|r| r.try_get::<i64>("", "n").ok()).unwrap_or(0) as u64
    };
    println!("[{label}] import: {accounts} accounts in {:.2} s = {:.0} accounts/s; {rows} registry rows + {search_rows} person search terms = {:.0} rows/s; peak RSS {:.0} MB",
        elapsed.as_secs_f64(),
        accounts as f64 / elapsed.as_secs_f64(),
        (rows + search_rows) as f64 / elapsed.as_secs_f64(),
        peak as f64 / 1e6,
    );

    reset_peak_rss();
    let started = Instant::now();
    let again = registry
        .import_registry(
            &schema::audit::Author::system("kvartal bench", "Mutation.importRegistry"),
            org.id,
            std::fs::File::open(file)?,
            &|_| {},
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let changed = again.premises.created
        + again.premises.updated
        + again.accounts.created
        + again.accounts.updated
        + again.meters.created
        + again.meters.updated
        + again.people.created
        + again.people.updated;
    println!(
        "[{label}] re-import of the same file: {:.2} s, {changed} rows changed; peak RSS {:.0} MB",
        started.elapsed().as_secs_f64(),
        peak_rss().unwrap_or(0) as f64 / 1e6,
    );

    let schema = schema::build_schema(schema::Deps {
        files: schema::files::service::Files::new(
            db.clone(),
            Arc::new(SystemClock),
            schema::files::store::Store::memory(),
            1 << 20,
            None,
        ),
        db: db.clone(),
        clock: Arc::new(SystemClock),
        auth: crate::local_auth(db, Arc::new(SystemClock)),
        events: crate::local_events(db, Arc::new(SystemClock)),
        introspection: false,
        field_suggestions: false,
        billing_lease: std::time::Duration::from_secs(60),
        audit_key: None,
    });
    let as_system = schema::auth::RequestCtx {
        principal: Some(Arc::new(schema::auth::Principal::system("kvartal bench"))),
        ..Default::default()
    };
    let mut rng = Rng::new(11);
    let mut latencies = Vec::with_capacity(searches);
    let mut found = 0_usize;
    for i in 0..searches {
        let text: String = match i % 3 {
            0 => format_account(10_000_000 + rng.below(accounts))
                .chars()
                .skip(2)
                .take(3)
                .collect(),
            1 => person_name(&RU, &mut rng).chars().take(3).collect(),
            _ => format!("EL{}", rng.below(10)),
        };
        let query = format!(
            "{{ search(organisationId: \"{}\", text: \"{}\", first: 20) {{ kind score node {{ ... on Account {{ number }} ... on Person {{ fullName }} ... on Meter {{ serial }} ... on Premises {{ number }} ... on House {{ address }} }} }} }}",
            org.id, text
        );
        let started = Instant::now();
        let response = schema
            .execute(async_graphql::Request::new(query).data(as_system.clone()))
            .await;
        latencies.push(started.elapsed());
        anyhow::ensure!(
            response.errors.is_empty(),
            "search failed: {:?}",
            response.errors
        );
        if let Ok(json) = response.data.into_json() {
            found += json["search"].as_array().map(Vec::len).unwrap_or(0);
        }
    }
    latencies.sort();
    println!(
        "[{label}] search: {searches} queries of 3 characters, p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms, {:.1} hits per query",
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.95).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
        found as f64 / searches.max(1) as f64,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_name_of_a_url_is_replaced() {
        assert_eq!(
            replace_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            replace_database("postgres://u@h/db?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
    }
}
