//! `kvartal bench payments`: a bank statement's import and `recordPayment`.
//!
//! On a fresh database (SQLite file or a new PostgreSQL database) with a
//! generated registry of N accounts, billed for a month and closed (so every
//! account owes its receipt, by service, in the ledger), it times:
//!
//! 1. importing a CSV statement of N credits (one per account: 90 % name the
//!    account number, 5 % a receipt's reference, 5 % nothing and wait in the
//!    queue), parsed, matched, allocated and written in one transaction — as
//!    `kvartal import statement` and the GraphQL upload do; then the same file
//!    again (changes nothing);
//! 2. `recordPayment` through GraphQL over HTTP against `kvartal serve` (a
//!    child process), each call with its own idempotency key, sent at a fixed
//!    rate (open loop: a late answer does not slow the next request); then
//!    calls repeating earlier keys (answered with the first payment).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use schema::audit::Author;
use schema::clock::SystemClock;
use schema::payments::statement::Request;
use schema::payments::Payments;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::bench::{generate, peak_rss, reset_peak_rss, BenchDb};
use crate::bench_billing::{setup, PERIOD};
use crate::bench_live::{summary, Server, PASSWORD};
use crate::cli::BenchDatabase;

const RECORD: &str = "mutation($input: RecordPaymentInput!) { recordPayment(input: $input) { replayed payment { id } } }";

fn system(op: &'static str) -> Author {
    Author::system("kvartal bench", op)
}

fn err(e: schema::error::AppError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

pub async fn payments(
    accounts: u64,
    database: BenchDatabase,
    postgres_url: &str,
    rate: u64,
    seconds: u64,
) -> anyhow::Result<()> {
    if database == BenchDatabase::Both {
        for one in ["sqlite", "postgres"] {
            let status = std::process::Command::new(std::env::current_exe()?)
                .args(["bench", "payments", "--database", one])
                .args(["--accounts", &accounts.to_string()])
                .args(["--rate", &rate.to_string()])
                .args(["--seconds", &seconds.to_string()])
                .args(["--postgres-url", postgres_url])
                .status()
                .context("running the benchmark for one database")?;
            anyhow::ensure!(status.success(), "the {one} benchmark failed: {status}");
        }
        return Ok(());
    }
    let dir = std::env::temp_dir().join(format!("kvartal-bench-payments-{}", Uuid::now_v7()));
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("registry.csv");
    generate(&file, accounts)?;
    let result = async {
        let bench = BenchDb::open(database, postgres_url, &dir).await?;
        let r = run_one(&bench, &file, accounts, rate, seconds).await;
        bench.close().await?;
        r
    }
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn count(db: &DatabaseConnection, sql: &str) -> anyhow::Result<i64> {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?
        .context("no row")?;
    Ok(row.try_get_by_index::<i64>(0)?)
}

async fn run_one(
    bench: &BenchDb,
    file: &std::path::Path,
    accounts: u64,
    rate: u64,
    seconds: u64,
) -> anyhow::Result<()> {
    let (db, label) = (&bench.db, bench.label);
    let started = Instant::now();
    let (org, billing) = setup(label, db, file, accounts).await?;
    billing
        .calculate(&system("Mutation.calculatePeriod"), org, PERIOD, &|_| {})
        .await
        .map_err(err)?;
    billing
        .close(&system("Mutation.closePeriod"), org, PERIOD)
        .await
        .map_err(err)?;
    let before = count(db, "SELECT COUNT(*) FROM ledger_entries").await?;
    println!(
        "[{label}] set-up: {accounts} accounts billed for {PERIOD} and closed in {:.1} s; ledger {before} entries",
        started.elapsed().as_secs_f64()
    );

    // 1. The statement: one credit an account, in account order.
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
                "SELECT a.number, r.due_minor FROM receipts r JOIN accounts a ON a.id = r.account_id WHERE r.period = $1 ORDER BY a.number"
            } else {
                "SELECT a.number, r.due_minor FROM receipts r JOIN accounts a ON a.id = r.account_id WHERE r.period = ? ORDER BY a.number"
            },
            [PERIOD.to_string().into()],
        ))
        .await?;
    let month = PERIOD.to_string().replace('-', "");
    let today = chrono::Utc::now().date_naive();
    let mut csv = String::from("Дата;Сумма;Плательщик;Счёт плательщика;Назначение;Референс\n");
    for (i, r) in rows.iter().enumerate() {
        let number: String = r.try_get("", "number")?;
        let due: i64 = r.try_get("", "due_minor")?;
        let due = if due > 0 { due } else { 10_000 };
        let text = match i % 20 {
            0 => "оплата за квартиру".to_string(),
            1 => format!("PIX {number}{month}"),
            _ => format!("Оплата ЖКУ за {PERIOD} л/с {number}"),
        };
        csv.push_str(&format!(
            "{};{},{:02};Плательщик {i};40817810{i:012};{text};ST-{i}\n",
            today.format("%d.%m.%Y"),
            due / 100,
            due % 100
        ));
    }
    let bytes = csv.into_bytes();
    let entries = rows.len();
    drop(rows);
    let clock: Arc<dyn schema::clock::Clock> = Arc::new(SystemClock);
    let payments = Payments::new(db.clone(), clock.clone(), None);
    let request = Request {
        file_name: "bench.csv".into(),
        format: Some(statements::Format::Csv),
        mapping: Some(statements::CsvMapping {
            separator: ';',
            encoding: "utf-8".into(),
            decimal_comma: true,
            header_rows: 1,
            date_format: "%d.%m.%Y".into(),
            date: 0,
            amount: 1,
            direction: None,
            reference: Some(5),
            payer: Some(2),
            payer_account: Some(3),
            text: 4,
        }),
    };
    reset_peak_rss();
    let bar = indicatif::ProgressBar::new(entries as u64);
    let started = Instant::now();
    let done = payments
        .import_statement(
            &system("Mutation.importStatement"),
            org,
            bytes.clone(),
            request.clone(),
            &|p| bar.set_position(p.done),
        )
        .await
        .map_err(err)?;
    let took = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let peak = peak_rss().unwrap_or(0) as f64 / 1e6;
    let written = count(db, "SELECT COUNT(*) FROM ledger_entries").await? - before;
    let i = &done.import;
    println!(
        "[{label}] statement import: {} entries ({:.1} MB CSV) in {took:.2} s = {:.0} entries/s; {} paid onto accounts, {} waiting; {} payments and {written} ledger entries written; peak RSS {peak:.0} MB",
        i.entries,
        bytes.len() as f64 / 1e6,
        f64::from(i.entries) / took,
        i.matched,
        i.unmatched,
        count(db, "SELECT COUNT(*) FROM payments").await?,
    );
    let started = Instant::now();
    let again = payments
        .import_statement(
            &system("Mutation.importStatement"),
            org,
            bytes,
            request,
            &|_| {},
        )
        .await
        .map_err(err)?;
    anyhow::ensure!(again.replayed, "the second import was not recognised");
    println!(
        "[{label}] the same file again: nothing written, answered in {:.3} s",
        started.elapsed().as_secs_f64()
    );

    // 2. recordPayment through GraphQL over HTTP.
    crate::local_auth(db, clock)
        .bootstrap_admin(
            org,
            "accountant@bench.test",
            "Bench Accountant",
            Some(PASSWORD.into()),
        )
        .await
        .map_err(err)?;
    let ids: Vec<String> = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT id FROM accounts ORDER BY number",
        ))
        .await?
        .iter()
        .map(|r| r.try_get::<Uuid>("", "id").map(|u| u.to_string()))
        .collect::<Result<_, _>>()?;
    // What a database does after a large write (a checkpoint, fresh
    // statistics for the planner) is done before payments are timed.
    let started = Instant::now();
    let settle: &[&str] = if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        &["CHECKPOINT", "VACUUM ANALYZE"]
    } else {
        &["PRAGMA wal_checkpoint(TRUNCATE)", "ANALYZE"]
    };
    for sql in settle {
        db.execute_unprepared(sql).await?;
    }
    println!(
        "[{label}] after the import: {} in {:.1} s",
        settle.join(", "),
        started.elapsed().as_secs_f64()
    );
    let server = Server::start(&bench.url, None, 8).await?;
    // The import's confirmations are in the outbox: the server's relay hands
    // them on first; payments are timed on a server that is done with them.
    let started = Instant::now();
    loop {
        let left = count(
            db,
            "SELECT COALESCE((SELECT MAX(seq) FROM event_heads), 0) \
             - COALESCE((SELECT MAX(published) FROM event_relay), 0)",
        )
        .await?;
        if left == 0 || started.elapsed() > Duration::from_secs(300) {
            println!(
                "[{label}] the server relayed the import's confirmations in {:.1} s ({left} left)",
                started.elapsed().as_secs_f64()
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let token = server.login("accountant@bench.test").await?;
    let ids = Arc::new(ids);
    // Warm-up: connections, prepared statements.
    let warm = fire(&server, &token, &ids, (rate, 1), "warm", today).await?;
    drop(warm);
    println!("[{label}] recordPayment: {rate} calls/s for {seconds} s through GraphQL over HTTP, each with its own idempotency key");
    let (latencies, answered, errors) =
        fire(&server, &token, &ids, (rate, seconds), "key", today).await?;
    let slow = latencies
        .iter()
        .filter(|d| **d > Duration::from_millis(50))
        .count();
    println!(
        "  {} calls answered in {:.2} s = {:.0} payments/s; {errors} errors; latency {}; {slow} over 50 ms",
        latencies.len(),
        answered.as_secs_f64(),
        latencies.len() as f64 / answered.as_secs_f64(),
        summary(latencies)
    );
    let (latencies, answered, errors) =
        fire(&server, &token, &ids, (rate, 1), "key", today).await?;
    println!(
        "  the first {rate} keys again (answered with the first payment): {:.0} calls/s; {errors} errors; latency {}",
        latencies.len() as f64 / answered.as_secs_f64(),
        summary(latencies)
    );
    server.stop().await;
    Ok(())
}

/// Sends `rate × seconds` payments at a fixed rate, keys `{prefix}-{i}`;
/// answers the latencies, the time until the last answer, and the errors.
async fn fire(
    server: &Server,
    token: &str,
    ids: &Arc<Vec<String>>,
    (rate, seconds): (u64, u64),
    prefix: &str,
    today: chrono::NaiveDate,
) -> anyhow::Result<(Vec<Duration>, Duration, u64)> {
    let total = rate * seconds;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<anyhow::Result<Duration>>();
    let mut tick = tokio::time::interval(Duration::from_nanos(1_000_000_000 / rate.max(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    for i in 0..total {
        tick.tick().await;
        let account = ids[i as usize % ids.len()].clone();
        let (http, url, token, tx) = (
            server.http.clone(),
            format!("{}/graphql", server.base),
            token.to_string(),
            tx.clone(),
        );
        let key = format!("{prefix}-{i}");
        tokio::spawn(async move {
            let t = Instant::now();
            let r = async {
                let body: Value = http
                    .post(url)
                    .bearer_auth(token)
                    .json(&json!({ "query": RECORD, "variables": { "input": {
                        "accountId": account, "amount": "100.00", "method": "CARD",
                        "paidOn": today, "idempotencyKey": key } } }))
                    .send()
                    .await?
                    .json()
                    .await?;
                if let Some(e) = body.get("errors") {
                    anyhow::bail!("{e}");
                }
                Ok(t.elapsed())
            }
            .await;
            let _ = tx.send(r);
        });
    }
    drop(tx);
    let mut latencies = Vec::with_capacity(total as usize);
    let mut errors = 0;
    let mut first = None;
    while let Some(r) = rx.recv().await {
        match r {
            Ok(d) => latencies.push(d),
            Err(e) => {
                errors += 1;
                first.get_or_insert(e.to_string());
            }
        }
    }
    if let Some(e) = first {
        println!("  first error: {e}");
    }
    Ok((latencies, started.elapsed(), errors))
}
