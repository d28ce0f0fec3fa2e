//! `kvartal bench billing`: a billing run over a generated organisation.
//!
//! For each database (a process each, so that peak memory is its own): a
//! fresh database, N accounts imported (houses of 1000 flats, a cold-water
//! and a two-zone electricity meter each), readings for most meters (some
//! only earlier ones: billed by average; some none: by norm), six services
//! (metered water and electricity, hot water by norm, upkeep and capital
//! repair by area, waste per person) and a benefit on a tenth of the
//! accounts. It times the run, a rerun, the bulk insert of as many rows into
//! the same tables (the physical reference), and receipts rendered to PDF.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use chrono::{NaiveDate, Utc};
use rust_decimal::Decimal;
use schema::audit::Author;
use schema::billing::calc::Period;
use schema::billing::catalogue::{Catalogue, NormDraft, ServiceDraft, StoredTier, TariffDraft};
use schema::billing::run::{CHARGES, RECEIPTS};
use schema::billing::settings::{CategoryDraft, Settings};
use schema::billing::Billing;
use schema::bulk::{BulkTx, Cell};
use schema::clock::SystemClock;
use schema::registry::drafts::OrganisationDraft;
use schema::registry::Registry;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement};
use uuid::Uuid;

use crate::bench::{generate, peak_rss, reset_peak_rss, BenchDb};
use crate::cli::BenchDatabase;

pub(crate) const PERIOD: Period = Period {
    year: 2026,
    month: 11,
};

fn system(op: &'static str) -> Author {
    Author::system("kvartal bench", op)
}

fn err(e: schema::error::AppError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

pub async fn billing(
    accounts: u64,
    database: BenchDatabase,
    postgres_url: &str,
    pdfs: usize,
) -> anyhow::Result<()> {
    if database == BenchDatabase::Both {
        for one in ["sqlite", "postgres"] {
            let status = std::process::Command::new(std::env::current_exe()?)
                .args(["bench", "billing", "--database", one])
                .args(["--accounts", &accounts.to_string()])
                .args(["--pdfs", &pdfs.to_string()])
                .args(["--postgres-url", postgres_url])
                .status()
                .context("running the benchmark for one database")?;
            anyhow::ensure!(status.success(), "the {one} benchmark failed: {status}");
        }
        return Ok(());
    }
    let dir = std::env::temp_dir().join(format!("kvartal-bench-{}", Uuid::now_v7()));
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("registry.csv");
    generate(&file, accounts)?;
    let result = async {
        let bench = BenchDb::open(database, postgres_url, &dir).await?;
        let r = run_one(bench.label, &bench.db, &file, accounts, pdfs).await;
        bench.close().await?;
        r
    }
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// The bench organisation on a migrated database, its registry imported
/// from the generated file.
pub(crate) async fn organisation(
    label: &str,
    db: &DatabaseConnection,
    file: &std::path::Path,
    accounts: u64,
) -> anyhow::Result<entities::organisation::Model> {
    crate::db::migrate(db).await?;
    let clock: Arc<dyn schema::clock::Clock> = Arc::new(SystemClock);
    let registry = Registry::new(db.clone(), clock.clone());
    let org = registry
        .create_organisation(
            &system("Mutation.createOrganisation"),
            OrganisationDraft {
                name: "Bench".into(),
                currency: "RUB".into(),
                locale: "ru".into(),
                time_zone: "Europe/Moscow".into(),
                legal_name: "ООО «УК Бенчмарк»".into(),
                tax_id: "7701234567".into(),
                bank_account: "40702810938000012345".into(),
                bank_id: "044525225".into(),
                bank_name: "ПАО Сбербанк".into(),
            },
        )
        .await
        .map_err(err)?;
    let started = Instant::now();
    let report = registry
        .import_registry(
            &system("Mutation.importRegistry"),
            org.id,
            std::fs::File::open(file)?,
            &|_| {},
        )
        .await
        .map_err(err)?;
    anyhow::ensure!(report.ok(), "the generated file did not import");
    println!(
        "[{label}] set-up: {accounts} accounts imported in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(org)
}

/// A billed organisation: the generated registry imported, readings, the
/// catalogue (six services a premises), a benefit category and settings.
pub(crate) async fn setup(
    label: &str,
    db: &DatabaseConnection,
    file: &std::path::Path,
    accounts: u64,
) -> anyhow::Result<(Uuid, Billing)> {
    let clock: Arc<dyn schema::clock::Clock> = Arc::new(SystemClock);
    let org = organisation(label, db, file, accounts).await?;
    let started = Instant::now();
    let readings = seed_readings(db, org.id).await?;
    println!(
        "[{label}] set-up: {readings} readings written in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    catalogue(db, clock.clone(), org.id).await?;
    let billing = Billing::new(db.clone(), clock.clone(), None);
    billing
        .set_category(
            &system("Mutation.setBenefitCategory"),
            org.id,
            CategoryDraft {
                code: "veteran".into(),
                name: "Ветеран труда".into(),
                percent: Decimal::from(50),
                services: vec!["maintenance".into(), "hot_water".into()],
                per_person: true,
                social_norm: Some(Decimal::from(18)),
            },
        )
        .await
        .map_err(err)?;
    db.execute_raw(Statement::from_string(
        db.get_database_backend(),
        "UPDATE accounts SET privileged_categories = '[\"veteran\"]' WHERE number LIKE '%7'",
    ))
    .await?;
    let mut settings = Settings::defaults(&org);
    settings.corresp_account = Some("30101810400000000225".into());
    billing
        .set_settings(&system("Mutation.setBillingSettings"), org.id, settings)
        .await
        .map_err(err)?;
    Ok((org.id, billing))
}

async fn run_one(
    label: &str,
    db: &DatabaseConnection,
    file: &std::path::Path,
    accounts: u64,
    pdfs: usize,
) -> anyhow::Result<()> {
    let (org_id, billing) = setup(label, db, file, accounts).await?;
    // The run.
    reset_peak_rss();
    let bar = indicatif::ProgressBar::new(accounts);
    let started = Instant::now();
    let row = billing
        .calculate(&system("Mutation.calculatePeriod"), org_id, PERIOD, &|p| {
            bar.set_position(u64::from(p.done))
        })
        .await
        .map_err(err)?;
    let run = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let peak = peak_rss().unwrap_or(0) as f64 / 1e6;
    let lines = count(db, "SELECT COUNT(*) AS n FROM charge_lines").await?;
    let receipts = count(db, "SELECT COUNT(*) AS n FROM receipts").await?;
    let codes = count(db, "SELECT COUNT(*) AS n FROM access_codes").await?;
    let rows = lines + receipts + codes;
    println!(
        "[{label}] billing run: {} accounts in {run:.2} s = {:.0} accounts/s; {lines} lines = {:.0} lines/s; {rows} rows written (lines, receipts, access codes); peak RSS {peak:.0} MB",
        row.accounts_done,
        f64::from(row.accounts_done) / run,
        lines as f64 / run,
    );
    let started = Instant::now();
    billing
        .calculate(&system("Mutation.calculatePeriod"), org_id, PERIOD, &|_| {})
        .await
        .map_err(err)?;
    let rerun = started.elapsed().as_secs_f64();
    println!(
        "[{label}] rerun of the same period (replaces every line): {rerun:.2} s; lines now {}",
        count(db, "SELECT COUNT(*) AS n FROM charge_lines").await?
    );

    // The physical reference: as many rows, of the same shape, into the same
    // tables, by the same bulk writer, in as many transactions.
    let insert = reference_insert(db, org_id, lines, receipts + codes).await?;
    println!(
        "[{label}] reference: bulk insert of {rows} rows into the same tables in {insert:.2} s = {:.0} rows/s; run / insert = {:.2}",
        rows as f64 / insert,
        run / insert
    );

    // Receipts as PDF: one at a time, and a house's batch in one file.
    let first: Vec<entities::receipt::Model> = {
        use sea_orm::{EntityTrait, QueryOrder, QuerySelect};
        entities::receipt::Entity::find()
            .order_by_asc(entities::receipt::Column::AccountId)
            .limit(pdfs as u64)
            .all(db)
            .await?
    };
    let started = Instant::now();
    let mut bytes = 0;
    for r in &first {
        let docs = billing
            .documents(org_id, vec![r.clone()])
            .await
            .map_err(err)?;
        bytes += schema::billing::pdf::render(&docs)
            .map_err(|e| anyhow::anyhow!(e))?
            .len();
    }
    let single = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let docs = billing
        .documents(org_id, first.clone())
        .await
        .map_err(err)?;
    let batch = schema::billing::pdf::render(&docs).map_err(|e| anyhow::anyhow!(e))?;
    let batched = started.elapsed().as_secs_f64();
    println!(
        "[{label}] PDF: {} receipts one by one (read and rendered) in {single:.2} s = {:.0} receipts/s, {:.0} KB each; in one batch file {batched:.2} s = {:.0} receipts/s, {:.1} MB",
        first.len(),
        first.len() as f64 / single,
        bytes as f64 / first.len().max(1) as f64 / 1e3,
        first.len() as f64 / batched,
        batch.len() as f64 / 1e6,
    );
    Ok(())
}

async fn count(db: &DatabaseConnection, sql: &str) -> anyhow::Result<u64> {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?;
    Ok(row
        .and_then(|r| r.try_get::<i64>("", "n").ok())
        .unwrap_or(0) as u64)
}

/// Readings for the meters of the flats: two for most (October and
/// November), only July and September for every twentieth (an average), none
/// for every twentieth after it (the norm).
async fn seed_readings(db: &DatabaseConnection, org: Uuid) -> anyhow::Result<u64> {
    let backend = db.get_database_backend();
    let (id, random, which) = match backend {
        DatabaseBackend::Postgres => (
            "gen_random_uuid()",
            "(random() * 9000000)::bigint",
            "(('x' || substr(md5(id::text), 1, 4))::bit(16)::int % 20)",
        ),
        _ => (
            "randomblob(16)",
            "(abs(random()) % 9000000)",
            "(abs(random()) % 20)",
        ),
    };
    let mut total = 0;
    let now = Utc::now();
    for (day, months, filter) in [
        ("2026-07-25", 0, "= 0"),
        ("2026-09-25", 1, "= 0"),
        ("2026-10-25", 2, ">= 2"),
        ("2026-11-25", 3, ">= 2"),
    ] {
        let sql = format!(
            "INSERT INTO readings (id, organisation_id, house_id, premises_id, meter_id, taken_on, value1_micro, value2_micro, value3_micro, \
             source, author_id, author_name, status, flagged, flag_reason, rollover, corrects, reason, reviewed_by, reviewed_at, created_at) \
             SELECT {id}, organisation_id, house_id, premises_id, id, ?, initial1_micro + {months} * 5000000 + {random}, \
             CASE WHEN zones > 1 THEN COALESCE(initial2_micro, 0) + {months} * 2000000 + {random} END, NULL, \
             'import', NULL, 'bench', 'accepted', ?, NULL, ?, NULL, NULL, NULL, NULL, ? \
             FROM meters WHERE organisation_id = ? AND premises_id IS NOT NULL AND {which} {filter}"
        );
        let day = NaiveDate::parse_from_str(day, "%Y-%m-%d")?;
        let mut tx = BulkTx::begin(db).await?;
        total += tx
            .execute(
                &sql,
                vec![
                    Cell::Date(Some(day)),
                    Cell::Bool(false),
                    Cell::Bool(false),
                    Cell::Timestamp(now),
                    Cell::Uuid(Some(org)),
                ],
            )
            .await?;
        tx.commit().await?;
    }
    Ok(total)
}

fn prices(zones: &[&str]) -> Vec<Vec<StoredTier>> {
    zones
        .iter()
        .map(|p| {
            vec![StoredTier {
                up_to: None,
                price: p.parse().unwrap_or_default(),
            }]
        })
        .collect()
}

/// Six services, each with a price from January (and the norms they need).
async fn catalogue(
    db: &DatabaseConnection,
    clock: Arc<dyn schema::clock::Clock>,
    org: Uuid,
) -> anyhow::Result<()> {
    use entities::{CalculationMethod as M, NormBasis, Resource};
    let catalogue = Catalogue::new(db.clone(), clock);
    let from = NaiveDate::from_ymd_opt(2026, 1, 1).context("date")?;
    // (code, name, unit, method, resource, zones, price per zone, norm per person)
    type Bench<'a> = (
        &'a str,
        &'a str,
        &'a str,
        M,
        Option<Resource>,
        i32,
        &'a [&'a str],
        Option<&'a str>,
    );
    let services: [Bench; 6] = [
        (
            "cold_water",
            "Холодное водоснабжение",
            "м³",
            M::Metered,
            Some(Resource::ColdWater),
            1,
            &["48.17"],
            Some("4.85"),
        ),
        (
            "electricity",
            "Электроэнергия",
            "кВт·ч",
            M::Metered,
            Some(Resource::Electricity),
            2,
            &["6.43", "2.91"],
            Some("60"),
        ),
        (
            "hot_water",
            "Горячее водоснабжение",
            "м³",
            M::Metered,
            Some(Resource::HotWater),
            1,
            &["243.6"],
            Some("3.5"),
        ),
        (
            "maintenance",
            "Содержание жилого помещения",
            "м²",
            M::Area,
            None,
            1,
            &["31.07"],
            None,
        ),
        (
            "capital_repair",
            "Взнос на капитальный ремонт",
            "м²",
            M::Area,
            None,
            1,
            &["19.5"],
            None,
        ),
        (
            "waste",
            "Обращение с ТКО",
            "чел.",
            M::PerPerson,
            None,
            1,
            &["117.3"],
            None,
        ),
    ];
    for (code, name, unit, method, resource, zones, price, norm) in services {
        let svc = catalogue
            .create_service(
                &system("Mutation.createService"),
                org,
                ServiceDraft {
                    code: code.into(),
                    name: name.into(),
                    unit: unit.into(),
                    method: Some(method),
                    resource,
                    zones: Some(zones),
                    norm_coefficient: Some(Decimal::new(15, 1)),
                    ..ServiceDraft::default()
                },
            )
            .await
            .map_err(err)?;
        catalogue
            .set_tariff(
                &system("Mutation.setTariff"),
                TariffDraft {
                    service_id: svc.id,
                    house_id: None,
                    valid_from: from,
                    valid_to: None,
                    zones: prices(price),
                },
            )
            .await
            .map_err(err)?;
        if let Some(n) = norm {
            catalogue
                .set_norm(
                    &system("Mutation.setNorm"),
                    NormDraft {
                        service_id: svc.id,
                        house_id: None,
                        basis: NormBasis::Person,
                        valid_from: from,
                        valid_to: None,
                        value: n.parse().unwrap_or_default(),
                    },
                )
                .await
                .map_err(err)?;
        }
    }
    Ok(())
}

/// Inserts `lines` charge rows and `others` receipt rows of another period,
/// built beforehand, in transactions of one run chunk's size; answers the
/// seconds the inserts took, and removes the rows again.
async fn reference_insert(
    db: &DatabaseConnection,
    org: Uuid,
    lines: u64,
    others: u64,
) -> anyhow::Result<f64> {
    let per_chunk = schema::billing::run::CHUNK as u64;
    let chunks = others.div_ceil(per_chunk).max(1);
    let lines_per_chunk = lines.div_ceil(chunks);
    let now = Utc::now();
    let due = NaiveDate::from_ymd_opt(2099, 2, 15).context("date")?;
    let mut batches = Vec::new();
    let (mut left_lines, mut left_others) = (lines, others);
    while left_lines > 0 || left_others > 0 {
        let n_lines = lines_per_chunk.min(left_lines);
        let n_others = per_chunk.min(left_others);
        left_lines -= n_lines;
        left_others -= n_others;
        let account = Uuid::now_v7();
        let charges: Vec<Vec<Cell>> = (0..n_lines)
            .map(|i| {
                vec![
                    Cell::Uuid(Some(org)),
                    Cell::Text("2099-01".into()),
                    Cell::Uuid(Some(account)),
                    Cell::Int(Some(i as i32)),
                    Cell::Uuid(Some(account)),
                    Cell::Text("charge".into()),
                    Cell::Uuid(Some(account)),
                    Cell::Text("Холодное водоснабжение".into()),
                    Cell::Text("reading".into()),
                    Cell::Text("7.5".into()),
                    Cell::Text("м³".into()),
                    Cell::Text("48.17".into()),
                    Cell::BigInt(Some(36128)),
                ]
            })
            .collect();
        let receipts: Vec<Vec<Cell>> = (0..n_others)
            .map(|_| {
                vec![
                    Cell::Uuid(Some(Uuid::now_v7())),
                    Cell::Uuid(Some(org)),
                    Cell::Text("2099-01".into()),
                    Cell::Uuid(Some(Uuid::now_v7())),
                    Cell::Uuid(Some(account)),
                    Cell::BigInt(Some(0)),
                    Cell::BigInt(Some(512_345)),
                    Cell::BigInt(Some(0)),
                    Cell::BigInt(Some(0)),
                    Cell::BigInt(Some(0)),
                    Cell::BigInt(Some(0)),
                    Cell::BigInt(Some(512_345)),
                    Cell::Date(Some(due)),
                    Cell::OptText(Some("ABCDE-23456".into())),
                    Cell::Timestamp(now),
                ]
            })
            .collect();
        batches.push((charges, receipts));
    }
    let started = Instant::now();
    for (charges, receipts) in batches {
        let mut tx = BulkTx::begin(db).await?;
        let prepared = schema::bulk::Prepared::insert(
            tx.backend(),
            vec![(&CHARGES, charges), (&RECEIPTS, receipts)],
        )?;
        tx.run(prepared).await?;
        tx.commit().await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    for table in ["charge_lines", "receipts"] {
        db.execute_raw(Statement::from_string(
            db.get_database_backend(),
            format!("DELETE FROM {table} WHERE period = '2099-01'"),
        ))
        .await?;
    }
    Ok(elapsed)
}
