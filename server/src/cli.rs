//! The command line: `kvartal [serve|migrate|demo|schema|import|bench]`.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context as _};
use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use schema::clock::SystemClock;
use schema::registry::import::{Phase, Progress};
use schema::registry::Registry;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::config::Settings;

#[derive(Parser, Debug)]
#[command(
    name = "kvartal",
    version,
    about = "Kvartal: the operating system of a housing management company"
)]
pub struct Cli {
    /// A TOML settings file (also KVARTAL_CONFIG).
    #[arg(long, global = true, env = "KVARTAL_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server (the default).
    Serve {
        /// Load the demo organisation first when the database has none.
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Load a realistic demo organisation: 3 houses, ~350 premises, accounts, people, meters.
    Demo {
        #[arg(long, value_enum, default_value_t = DemoLocale::Ru)]
        locale: DemoLocale,
    },
    /// Print the GraphQL SDL.
    Schema,
    /// Import data from a file.
    Import {
        #[command(subcommand)]
        what: ImportWhat,
    },
    /// Users and access.
    Admin {
        #[command(subcommand)]
        what: AdminWhat,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        what: AuditWhat,
    },
    /// Billing periods.
    Billing {
        #[command(subcommand)]
        what: BillingWhat,
    },
    /// Benchmarks that print their figures.
    Bench {
        #[command(subcommand)]
        what: BenchWhat,
    },
}

#[derive(Subcommand, Debug)]
pub enum ImportWhat {
    /// Premises, accounts, people and meters from CSV (docs/import-registry.md).
    Registry {
        file: PathBuf,
        /// Organisation id or exact name.
        #[arg(long)]
        org: String,
    },
    /// Meter readings from CSV: serial, date, value (or value1…value3), and
    /// optionally resource and reason. All rows or none.
    Readings {
        file: PathBuf,
        /// Organisation id or exact name.
        #[arg(long)]
        org: String,
    },
    /// A bank statement (camt.053, CNAB 240, 1CClientBankExchange, or CSV
    /// with `--format csv --mapping`): credits become payments on the
    /// accounts they name, the rest wait in the queue. All or nothing; the
    /// same file again changes nothing.
    Statement {
        file: PathBuf,
        /// Organisation id or exact name.
        #[arg(long)]
        org: String,
        /// Recognised from the file when left out.
        #[arg(long, value_enum)]
        format: Option<StatementFormat>,
        /// A CSV's column mapping, JSON or TOML: separator, encoding,
        /// decimalComma, headerRows, dateFormat, date, amount, direction,
        /// reference, payer, payerAccount, text (columns from 0).
        #[arg(long)]
        mapping: Option<PathBuf>,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum StatementFormat {
    Camt053,
    Cnab240,
    #[value(name = "1c")]
    OneC,
    Csv,
}

#[derive(Subcommand, Debug)]
pub enum BillingWhat {
    /// Calculates (or recalculates, while open) an organisation's period:
    /// charges and receipts of every account, with a progress bar. Safe to
    /// start again after an interruption; refused while another run holds it.
    Run {
        /// Organisation id or exact name.
        #[arg(long)]
        org: String,
        /// The month, `2026-11`.
        #[arg(long)]
        period: String,
    },
    /// Closes a calculated period: its receipts never change again.
    Close {
        #[arg(long)]
        org: String,
        #[arg(long)]
        period: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum AdminWhat {
    /// Makes a user (created when new) an administrator of an organisation
    /// (created when no organisation has that name).
    Create {
        #[arg(long)]
        email: String,
        /// Organisation id or exact name.
        #[arg(long)]
        org: String,
        /// Display name; the part of the email before `@` when left out.
        #[arg(long)]
        name: Option<String>,
        /// A first password (also KVARTAL_ADMIN_PASSWORD); generated and printed
        /// once when left out.
        #[arg(long, env = "KVARTAL_ADMIN_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        /// For a new organisation: currency, locale and time zone.
        #[arg(long, default_value = "RUB")]
        currency: String,
        #[arg(long, default_value = "ru")]
        locale: String,
        #[arg(long, default_value = "Europe/Moscow")]
        time_zone: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum AuditWhat {
    /// Checks the hash chain of each organisation's audit log.
    Verify {
        /// One organisation (id or exact name); all when left out.
        #[arg(long)]
        org: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum BenchWhat {
    /// Import and search over a generated registry.
    Registry {
        #[arg(long, default_value_t = 100_000)]
        accounts: u64,
        #[arg(long, value_enum, default_value_t = BenchDatabase::Both)]
        database: BenchDatabase,
        /// A PostgreSQL server URL whose user may create databases.
        #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
        postgres_url: String,
        /// How many 3-character searches to time.
        #[arg(long, default_value_t = 2000)]
        searches: usize,
    },
    /// Live events: subscribers, fan-out delay, readings per second (PostgreSQL,
    /// one instance and two with Redis).
    Live {
        /// Staff subscribers held open for the fan-out.
        #[arg(long, default_value_t = 10_000)]
        subscribers: usize,
        /// Readings per second for the throughput run.
        #[arg(long, default_value_t = 1_000)]
        rate: u64,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Accounts of the generated registry (one cold-water meter each).
        #[arg(long, default_value_t = 5_000)]
        accounts: u64,
        /// Readings the resident submits during the fan-out.
        #[arg(long, default_value_t = 10)]
        readings: usize,
        /// Dashboards following the feed during the throughput run.
        #[arg(long, default_value_t = 20)]
        feed: usize,
        /// A PostgreSQL server URL whose user may create databases. On the
        /// same machine without TLS: over TLS, sqlx (which never sets
        /// TCP_NODELAY) sends a statement larger than one TLS record in
        /// pieces that wait ~40 ms for the server's delayed ACK.
        #[arg(
            long,
            default_value = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
        )]
        postgres_url: String,
        #[arg(long, default_value = "redis://127.0.0.1:6379")]
        redis_url: String,
        /// Database connections per server instance (about twice the cores:
        /// more only queue inside PostgreSQL).
        #[arg(long, default_value_t = 4)]
        pool: u32,
    },
    /// The other end of the TCP floor `bench live` measures first: accepts
    /// `sockets` connections on `port` and sends each a frame per event.
    #[command(hide = true)]
    FloorServer {
        #[arg(long)]
        port: u16,
        #[arg(long)]
        sockets: usize,
        #[arg(long)]
        events: usize,
    },
    /// A billing run over generated accounts: run time, accounts and lines per
    /// second, peak memory, the bulk-insert reference, receipts rendered to PDF.
    Billing {
        #[arg(long, default_value_t = 100_000)]
        accounts: u64,
        #[arg(long, value_enum, default_value_t = BenchDatabase::Both)]
        database: BenchDatabase,
        #[arg(
            long,
            default_value = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
        )]
        postgres_url: String,
        /// Receipts rendered to PDF.
        #[arg(long, default_value_t = 500)]
        pdfs: usize,
    },
    /// A bank statement of N credits imported (matched, allocated, written in
    /// one transaction), and recordPayment through GraphQL at a fixed rate.
    Payments {
        #[arg(long, default_value_t = 100_000)]
        accounts: u64,
        #[arg(long, value_enum, default_value_t = BenchDatabase::Both)]
        database: BenchDatabase,
        #[arg(
            long,
            default_value = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
        )]
        postgres_url: String,
        /// recordPayment calls a second.
        #[arg(long, default_value_t = 500)]
        rate: u64,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// Classification and routing per complaint, filing in the service, and
    /// the time from a resident's submit to the assignee's screen.
    Complaints {
        #[arg(long, default_value_t = 10_000)]
        accounts: u64,
        #[arg(long, value_enum, default_value_t = BenchDatabase::Both)]
        database: BenchDatabase,
        #[arg(
            long,
            default_value = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
        )]
        postgres_url: String,
        /// Complaints filed in the service, one after another.
        #[arg(long, default_value_t = 2_000)]
        filed: usize,
        /// Complaints a second filed by residents through HTTP.
        #[arg(long, default_value_t = 20)]
        rate: u64,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Engineers (in four departments), each with a screen open.
        #[arg(long, default_value_t = 8)]
        engineers: usize,
        #[arg(long, hide = true)]
        skip_pure: bool,
    },
    /// Login latency, the policy's cost on a list query, the audit row's cost.
    Access {
        #[arg(long, default_value_t = 20_000)]
        accounts: u64,
        #[arg(long, value_enum, default_value_t = BenchDatabase::Both)]
        database: BenchDatabase,
        #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
        postgres_url: String,
        /// Timed repetitions of each measurement.
        #[arg(long, default_value_t = 300)]
        rounds: usize,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DemoLocale {
    Ru,
    #[value(name = "pt-BR")]
    PtBr,
    En,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum BenchDatabase {
    Sqlite,
    Postgres,
    Both,
}

/// Runs a command as the server itself (every organisation in the database's
/// scope); requests to a running server get their caller's scope instead.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    schema::tenancy::as_system(run_command(cli)).await
}

async fn run_command(cli: Cli) -> anyhow::Result<()> {
    let env: std::collections::BTreeMap<String, String> = std::env::vars().collect();
    let settings = Settings::load(cli.config.as_deref(), &env)?;
    init_tracing(&settings.log);
    match cli.command.unwrap_or(Command::Serve { demo: false }) {
        Command::Serve { demo } => serve(settings, demo).await,
        Command::Migrate => {
            let db = crate::db::connect(&settings).await?;
            crate::db::migrate(&db).await?;
            println!(
                "database migrated: {}",
                crate::db::redact(&settings.database_url())
            );
            Ok(())
        }
        Command::Demo { locale } => {
            let db = crate::db::connect(&settings).await?;
            crate::db::migrate(&db).await?;
            let summary = crate::demo::load(&db, locale).await?;
            println!("{summary}");
            Ok(())
        }
        Command::Schema => {
            print!("{}", schema::graphql::sdl());
            Ok(())
        }
        Command::Import {
            what: ImportWhat::Registry { file, org },
        } => {
            let db = crate::db::connect(&settings).await?;
            crate::db::migrate(&db).await?;
            import_registry(&db, &file, &org).await
        }
        Command::Import {
            what: ImportWhat::Readings { file, org },
        } => {
            let db = crate::db::connect(&settings).await?;
            crate::db::migrate(&db).await?;
            import_readings(&db, &file, &org).await
        }
        Command::Import {
            what:
                ImportWhat::Statement {
                    file,
                    org,
                    format,
                    mapping,
                },
        } => {
            let db = crate::db::connect(&settings).await?;
            crate::db::migrate(&db).await?;
            import_statement(&db, &file, &org, format, mapping.as_deref()).await
        }
        Command::Admin {
            what:
                AdminWhat::Create {
                    email,
                    org,
                    name,
                    password,
                    currency,
                    locale,
                    time_zone,
                },
        } => {
            let db = crate::db::connect(&settings).await?;
            crate::db::migrate(&db).await?;
            crate::admin::create_admin(
                &db, &email, &org, name, password, &currency, &locale, &time_zone,
            )
            .await
        }
        Command::Billing { what } => {
            let db = crate::db::connect(&settings).await?;
            crate::db::migrate(&db).await?;
            billing(&db, &settings, what).await
        }
        Command::Audit {
            what: AuditWhat::Verify { org },
        } => {
            let db = crate::db::connect(&settings).await?;
            crate::db::migrate(&db).await?;
            crate::admin::verify_audit(&db, org.as_deref(), settings.audit_key()?.as_ref()).await
        }
        Command::Bench {
            what:
                BenchWhat::Registry {
                    accounts,
                    database,
                    postgres_url,
                    searches,
                },
        } => crate::bench::registry(accounts, database, &postgres_url, searches).await,
        Command::Bench {
            what:
                BenchWhat::Billing {
                    accounts,
                    database,
                    postgres_url,
                    pdfs,
                },
        } => crate::bench_billing::billing(accounts, database, &postgres_url, pdfs).await,
        Command::Bench {
            what:
                BenchWhat::Payments {
                    accounts,
                    database,
                    postgres_url,
                    rate,
                    seconds,
                },
        } => {
            crate::bench_payments::payments(accounts, database, &postgres_url, rate, seconds).await
        }
        Command::Bench {
            what:
                BenchWhat::Complaints {
                    accounts,
                    database,
                    postgres_url,
                    filed,
                    rate,
                    seconds,
                    engineers,
                    skip_pure,
                },
        } => {
            crate::bench_complaints::complaints(crate::bench_complaints::Options {
                skip_pure,
                accounts,
                database,
                postgres_url,
                filed,
                rate,
                seconds,
                engineers,
            })
            .await
        }
        Command::Bench {
            what:
                BenchWhat::Access {
                    accounts,
                    database,
                    postgres_url,
                    rounds,
                },
        } => crate::bench_access::access(accounts, database, &postgres_url, rounds).await,
        Command::Bench {
            what:
                BenchWhat::Live {
                    subscribers,
                    rate,
                    seconds,
                    accounts,
                    readings,
                    feed,
                    postgres_url,
                    redis_url,
                    pool,
                },
        } => {
            crate::bench_live::live(crate::bench_live::Options {
                subscribers,
                rate,
                seconds,
                accounts,
                readings,
                feed,
                postgres_url,
                redis_url,
                pool,
            })
            .await
        }
        Command::Bench {
            what:
                BenchWhat::FloorServer {
                    port,
                    sockets,
                    events,
                },
        } => crate::bench_live::floor_server(port, sockets, events).await,
    }
}

fn init_tracing(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .try_init();
}

async fn serve(settings: Settings, demo: bool) -> anyhow::Result<()> {
    if demo {
        let db = crate::db::connect(&settings).await?;
        crate::db::migrate(&db).await?;
        if entities::organisation::Entity::find()
            .one(&db)
            .await?
            .is_none()
        {
            let summary = crate::demo::load(&db, DemoLocale::Ru).await?;
            tracing::info!("{summary}");
        }
        db.close().await?;
    }
    let running = crate::start(&settings, Arc::new(SystemClock)).await?;
    tracing::info!(
        "Kvartal listening on http://{} (database {})",
        running.addr,
        crate::db::redact(&settings.database_url())
    );
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::select! {
        _ = ctrl_c => {
            tracing::info!("shutting down");
            running.stop().await;
        }
    }
    Ok(())
}

/// Finds an organisation by id or exact name.
pub async fn find_org(db: &DatabaseConnection, org: &str) -> anyhow::Result<Uuid> {
    if let Ok(id) = Uuid::parse_str(org) {
        if entities::organisation::Entity::find_by_id(id)
            .one(db)
            .await?
            .is_some()
        {
            return Ok(id);
        }
        bail!("no organisation with id {id}");
    }
    let found = entities::organisation::Entity::find()
        .filter(entities::organisation::Column::Name.eq(org))
        .all(db)
        .await?;
    match found.as_slice() {
        [one] => Ok(one.id),
        [] => bail!("no organisation named '{org}'"),
        _ => bail!("several organisations are named '{org}'; give its id"),
    }
}

pub fn progress_bar(total: u64) -> ProgressBar {
    let bar = ProgressBar::new(total);
    if let Ok(style) =
        ProgressStyle::with_template("{prefix:>10} [{bar:40}] {bytes}/{total_bytes} {msg} ({eta})")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

pub fn on_progress(bar: &ProgressBar) -> impl Fn(Progress) + Send + Sync + '_ {
    move |p: Progress| {
        bar.set_prefix(match p.phase {
            Phase::Importing => "importing",
            Phase::Checking => "checking",
            Phase::Committing => "committing",
        });
        bar.set_length(p.total_bytes);
        bar.set_position(p.bytes);
        bar.set_message(format!("{} lines", p.lines));
    }
}

async fn billing(
    db: &DatabaseConnection,
    settings: &Settings,
    what: BillingWhat,
) -> anyhow::Result<()> {
    let clock: Arc<dyn schema::clock::Clock> = Arc::new(SystemClock);
    // Progress goes to the outbox too: a running server's subscribers see it.
    let billing = schema::billing::Billing::new(
        db.clone(),
        clock.clone(),
        Some(crate::local_events(db, clock)),
    )
    .with_lease(std::time::Duration::from_secs(settings.billing_lease_secs))
    .with_audit_key(settings.audit_key()?);
    match what {
        BillingWhat::Run { org, period } => {
            let org = find_org(db, &org).await?;
            let period = schema::billing::calc::Period::parse(&period)
                .with_context(|| format!("'{period}' is not a month like 2026-11"))?;
            let by =
                schema::audit::Author::system("kvartal billing run", "Mutation.calculatePeriod");
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix:>10} [{bar:40}] {pos}/{len} accounts {msg} ({elapsed}, {eta} left)",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.set_prefix(period.to_string());
            let started = std::time::Instant::now();
            let row = billing
                .calculate(&by, org, period, &|p| {
                    bar.set_length(u64::from(p.total));
                    bar.set_position(u64::from(p.done));
                    bar.set_message(format!("{} lines", p.lines));
                })
                .await
                .map_err(|e| anyhow::anyhow!("the run failed: {e}"))?;
            bar.finish_and_clear();
            println!(
                "{period}: {} accounts calculated in {:.1} s; the period is {}",
                row.accounts_done,
                started.elapsed().as_secs_f64(),
                row.status
            );
            Ok(())
        }
        BillingWhat::Close { org, period } => {
            let org = find_org(db, &org).await?;
            let period = schema::billing::calc::Period::parse(&period)
                .with_context(|| format!("'{period}' is not a month like 2026-11"))?;
            let by = schema::audit::Author::system("kvartal billing close", "Mutation.closePeriod");
            let row = billing
                .close(&by, org, period)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{period}: {}", row.status);
            Ok(())
        }
    }
}

async fn import_readings(
    db: &DatabaseConnection,
    file: &std::path::Path,
    org: &str,
) -> anyhow::Result<()> {
    let org = find_org(db, org).await?;
    let source =
        std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let clock: Arc<dyn schema::clock::Clock> = Arc::new(SystemClock);
    // Events go to the outbox; a running server's relay and hub pick them up.
    let readings =
        schema::readings::Readings::new(db.clone(), clock.clone(), crate::local_events(db, clock));
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} readings {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = std::time::Instant::now();
    let report = readings
        .import(
            &schema::audit::Author::system("kvartal import", "Mutation.importReadings"),
            org,
            source,
            &|done, total| {
                bar.set_length(total);
                bar.set_position(done);
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("import failed: {e}"))?;
    bar.finish_and_clear();
    if !report.errors.is_empty() {
        eprintln!("{} errors; nothing was imported:", report.errors.len());
        for e in &report.errors {
            eprintln!(
                "  line {}, column {}: {} ({})",
                e.line,
                if e.column.is_empty() { "-" } else { &e.column },
                e.message,
                e.reason
            );
        }
        bail!("the file has errors");
    }
    println!(
        "imported {} readings ({} flagged for review) in {:.1} s",
        report.imported,
        report.flagged,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn import_statement(
    db: &DatabaseConnection,
    file: &std::path::Path,
    org: &str,
    format: Option<StatementFormat>,
    mapping: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let org = find_org(db, org).await?;
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let mapping = match mapping {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let parsed: statements::CsvMapping = if path.extension().is_some_and(|e| e == "toml") {
                toml::from_str(&text)
                    .with_context(|| format!("{} is not a mapping", path.display()))?
            } else {
                serde_json::from_str(&text)
                    .with_context(|| format!("{} is not a mapping", path.display()))?
            };
            Some(parsed)
        }
    };
    let format = format.map(|f| match f {
        StatementFormat::Camt053 => statements::Format::Camt053,
        StatementFormat::Cnab240 => statements::Format::Cnab240,
        StatementFormat::OneC => statements::Format::OneC,
        StatementFormat::Csv => statements::Format::Csv,
    });
    let clock: Arc<dyn schema::clock::Clock> = Arc::new(SystemClock);
    // Confirmations go to the outbox; a running server's relay and hub pick them up.
    let payments = schema::payments::Payments::new(
        db.clone(),
        clock.clone(),
        Some(crate::local_events(db, clock)),
    );
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{prefix:>8} [{bar:40}] {pos}/{len} entries ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let started = std::time::Instant::now();
    let request = schema::payments::statement::Request {
        file_name: file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        format,
        mapping,
    };
    let done = payments
        .import_statement(
            &schema::audit::Author::system("kvartal import", "Mutation.importStatement"),
            org,
            bytes,
            request,
            &|p| {
                bar.set_prefix(p.phase);
                bar.set_length(p.total);
                bar.set_position(p.done);
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("nothing was imported: {e}"))?;
    bar.finish_and_clear();
    let i = &done.import;
    if done.replayed {
        println!(
            "{} was imported before ({}): nothing changed",
            i.file_name,
            i.created_at.format("%Y-%m-%d %H:%M")
        );
        return Ok(());
    }
    let amount = |minor: i64| schema::exact::from_minor(minor).to_string();
    println!(
        "{} entries in {:.1} s: {} paid onto accounts ({}), {} waiting for an accountant ({}), {} counted before, {} debits ({})",
        i.entries,
        started.elapsed().as_secs_f64(),
        i.matched,
        amount(i.matched_minor),
        i.unmatched,
        amount(i.unmatched_minor),
        i.duplicates,
        i.debits,
        amount(i.debits_minor)
    );
    Ok(())
}

async fn import_registry(
    db: &DatabaseConnection,
    file: &std::path::Path,
    org: &str,
) -> anyhow::Result<()> {
    let org = find_org(db, org).await?;
    let source =
        std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let registry = Registry::new(db.clone(), Arc::new(SystemClock));
    let bar = progress_bar(0);
    let started = std::time::Instant::now();
    let report = registry
        .import_registry(
            &schema::audit::Author::system("kvartal import", "Mutation.importRegistry"),
            org,
            source,
            &on_progress(&bar),
        )
        .await
        .map_err(|e| anyhow::anyhow!("import failed: {e}"))?;
    bar.finish_and_clear();
    if !report.ok() {
        eprintln!("{} errors; nothing was imported:", report.error_count);
        for e in &report.errors {
            eprintln!(
                "  line {}, column {}: {} ({})",
                e.line,
                if e.column.is_empty() { "-" } else { &e.column },
                e.message,
                e.reason
            );
        }
        if report.error_count as usize > report.errors.len() {
            eprintln!(
                "  … and {} more",
                report.error_count as usize - report.errors.len()
            );
        }
        bail!("the file has errors");
    }
    println!(
        "imported {} lines in {:.1} s",
        report.lines,
        started.elapsed().as_secs_f64()
    );
    for (name, c) in [
        ("houses", &report.houses),
        ("premises", &report.premises),
        ("accounts", &report.accounts),
        ("people", &report.people),
        ("occupancies", &report.occupancies),
        ("meters", &report.meters),
    ] {
        println!(
            "  {name:<12} created {:>7}  updated {:>7}  unchanged {:>7}",
            c.created, c.updated, c.unchanged
        );
    }
    Ok(())
}
