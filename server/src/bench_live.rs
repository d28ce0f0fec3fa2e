//! `kvartal bench live`: the load generator for live events and readings.
//!
//! On a new PostgreSQL database with a generated registry it starts the server
//! as child processes (`kvartal serve`, so that their memory is their own) and
//! measures, generator included on the same machine:
//!
//! 1. fan-out: N graphql-transport-ws subscribers (staff, `readingSubmitted`)
//!    on one instance; the server's resident memory with all of them open; a
//!    resident submits readings and each subscriber's delay from the commit
//!    (the event's `committedAt`) is recorded;
//! 2. throughput: readings submitted through GraphQL over HTTP at a fixed rate
//!    (open loop: a late answer does not slow the next request), their latency,
//!    and the delay to a few dashboards following the feed;
//! 3. the same two with two instances sharing one PostgreSQL and one Redis:
//!    subscribers split between them, submissions alternating.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use futures_util::{SinkExt, StreamExt};
use schema::audit::Author;
use schema::clock::{Clock, SystemClock};
use schema::registry::drafts::OrganisationDraft;
use schema::registry::Registry;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::{json, Value};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

use crate::bench::{generate, percentile, replace_database, with_user};

pub(crate) const PASSWORD: &str = "bench password 2026";
const SUBMIT: &str = "mutation Submit($input: SubmitReadingInput!) { submitReading(input: $input) { reading { id } } }";
const FEED: &str = "subscription Feed($org: ID!) { readingSubmitted(organisationId: $org) { eventId committedAt reading { meterSerial values address premisesNumber } } }";

pub struct Options {
    pub subscribers: usize,
    pub rate: u64,
    pub seconds: u64,
    pub accounts: u64,
    pub readings: usize,
    pub feed: usize,
    pub postgres_url: String,
    pub redis_url: String,
    /// Database connections per server instance.
    pub pool: u32,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub(crate) fn summary(mut v: Vec<Duration>) -> String {
    v.sort();
    format!(
        "p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} samples)",
        ms(percentile(&v, 0.50)),
        ms(percentile(&v, 0.99)),
        ms(v.last().copied().unwrap_or_default()),
        v.len()
    )
}

fn p99(mut v: Vec<Duration>) -> Duration {
    v.sort();
    percentile(&v, 0.99)
}

fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Resident and peak memory of a process, in bytes.
fn memory(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
            * 1024
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// CPU seconds a process has used (user + system).
fn cpu_of(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// CPU seconds the whole machine has been busy.
fn cpu_busy() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let line = stat.lines().next().unwrap_or_default();
    let v: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal
    let busy: f64 = v
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4)
        .map(|(_, x)| x)
        .sum();
    busy / 100.0
}

/// Where the CPU went between two points: the servers, this generator, the rest.
struct CpuMeter {
    servers: Vec<u32>,
    start: (f64, f64, f64),
}

impl CpuMeter {
    fn start(servers: &[&Server]) -> CpuMeter {
        let pids: Vec<u32> = servers.iter().map(|s| s.pid()).collect();
        let start = (
            pids.iter().map(|p| cpu_of(*p)).sum(),
            cpu_of(std::process::id()),
            cpu_busy(),
        );
        CpuMeter {
            servers: pids,
            start,
        }
    }

    fn report(&self, per: &str, n: f64) {
        let server: f64 = self.servers.iter().map(|p| cpu_of(*p)).sum::<f64>() - self.start.0;
        let generator = cpu_of(std::process::id()) - self.start.1;
        let all = cpu_busy() - self.start.2;
        let rest = (all - server - generator).max(0.0);
        println!(
            "  CPU: server {:.2} s, generator {:.2} s, rest of the machine (PostgreSQL, Redis) {:.2} s; {:.0} µs of server CPU per {per}",
            server,
            generator,
            rest,
            server * 1e6 / n.max(1.0)
        );
    }
}

pub(crate) struct Server {
    pub(crate) child: tokio::process::Child,
    pub(crate) base: String,
    pub(crate) http: reqwest::Client,
}

impl Server {
    pub(crate) async fn start(
        database_url: &str,
        redis: Option<(&str, &str)>,
        pool: u32,
    ) -> anyhow::Result<Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let dir = std::env::temp_dir().join(format!("kvartal-bench-live-{port}"));
        let mut cmd = tokio::process::Command::new(std::env::current_exe()?);
        cmd.arg("serve")
            .env("KVARTAL_DATABASE_URL", database_url)
            .env("KVARTAL_BIND", format!("127.0.0.1:{port}"))
            .env("KVARTAL_DATA_DIR", &dir)
            .env("KVARTAL_LOG", "warn")
            .env("KVARTAL_DB_MAX_CONNECTIONS", pool.to_string())
            .env_remove("KVARTAL_REDIS_URL")
            .env_remove("KVARTAL_CONFIG")
            .kill_on_drop(true);
        if let Some((url, prefix)) = redis {
            cmd.env("KVARTAL_REDIS_URL", url)
                .env("KVARTAL_REDIS_PREFIX", prefix);
        }
        let child = cmd.spawn().context("starting `kvartal serve`")?;
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(512)
            .build()?;
        for _ in 0..600 {
            if let Ok(r) = http.get(format!("{base}/readyz")).send().await {
                if r.status().is_success() {
                    return Ok(Server { child, base, http });
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("the server at {base} did not become ready")
    }

    fn pid(&self) -> u32 {
        self.child.id().unwrap_or(0)
    }

    pub(crate) async fn graphql(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> anyhow::Result<Value> {
        let mut request = self
            .http
            .post(format!("{}/graphql", self.base))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        let body: Value = request.send().await?.json().await?;
        if let Some(errors) = body.get("errors") {
            bail!("GraphQL errors: {errors}");
        }
        Ok(body["data"].clone())
    }

    pub(crate) async fn login(&self, email: &str) -> anyhow::Result<String> {
        let data = self
            .graphql(
                None,
                "mutation($input: LoginInput!) { login(input: $input) { token } }",
                json!({ "input": { "email": email, "password": PASSWORD, "client": "APP" } }),
            )
            .await?;
        data["login"]["token"]
            .as_str()
            .map(str::to_string)
            .context("no token")
    }

    async fn subscriptions(&self) -> u64 {
        let Ok(r) = self.http.get(format!("{}/metrics", self.base)).send().await else {
            return 0;
        };
        let text = r.text().await.unwrap_or_default();
        text.lines()
            .find_map(|l| l.strip_prefix("kvartal_subscriptions "))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    }

    pub(crate) async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// One subscriber: connects, follows the feed and records each event's delay
/// from its commit until `stop` changes.
async fn subscriber(
    base: String,
    token: String,
    org: String,
    mut stop: watch::Receiver<bool>,
    received: Arc<std::sync::atomic::AtomicU64>,
) -> anyhow::Result<Vec<Duration>> {
    let url = format!("{}/graphql/ws", base.replace("http://", "ws://"));
    let mut request = url.into_client_request()?;
    request
        .headers_mut()
        .insert("sec-websocket-protocol", "graphql-transport-ws".parse()?);
    let config = WebSocketConfig::default()
        .read_buffer_size(8 * 1024)
        .write_buffer_size(8 * 1024);
    let (mut ws, _) =
        tokio_tungstenite::connect_async_with_config(request, Some(config), false).await?;
    ws.send(Message::text(
        json!({ "type": "connection_init", "payload": { "token": token } }).to_string(),
    ))
    .await?;
    ws.next().await.context("no connection_ack")??;
    ws.send(Message::text(
        json!({ "id": "feed", "type": "subscribe", "payload": { "query": FEED, "variables": { "org": org } } })
            .to_string(),
    ))
    .await?;
    let mut delays = Vec::new();
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            msg = ws.next() => {
                let Some(msg) = msg else { bail!("the server closed the socket") };
                let Message::Text(text) = msg? else { continue };
                let received_at = chrono::Utc::now();
                // The generator shares the machine: it reads only what it measures.
                const MARK: &str = "\"committedAt\":\"";
                let text = text.as_str();
                let Some(start) = text.find(MARK).map(|i| i + MARK.len()) else {
                    let v: Value = serde_json::from_str(text)?;
                    if v["type"] == "ping" {
                        ws.send(Message::text(json!({ "type": "pong" }).to_string())).await?;
                        continue;
                    }
                    bail!("unexpected message: {v}");
                };
                let at = text[start..]
                    .split('"')
                    .next()
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                    .context("an event without committedAt")?;
                delays.push((received_at - at.with_timezone(&chrono::Utc)).to_std().unwrap_or_default());
                received.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
    }
    let _ = ws.close(None).await;
    Ok(delays)
}

struct Crowd {
    stop: watch::Sender<bool>,
    received: Arc<std::sync::atomic::AtomicU64>,
    tasks: Vec<tokio::task::JoinHandle<anyhow::Result<Vec<Duration>>>>,
}

/// Opens `n` subscribers spread over `servers`, and waits until every one is
/// following the feed.
async fn crowd(
    servers: &[&Server],
    tokens: &[String],
    org: &str,
    n: usize,
) -> anyhow::Result<Crowd> {
    // Subscriptions of an earlier crowd may still be closing.
    let mut before = 0;
    for _ in 0..100 {
        before = 0;
        for s in servers {
            before += s.subscriptions().await;
        }
        if before == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (stop, rx) = watch::channel(false);
    let received = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut tasks = Vec::with_capacity(n);
    let started = Instant::now();
    let gate = Arc::new(tokio::sync::Semaphore::new(256));
    for i in 0..n {
        let server = servers[i % servers.len()];
        let (base, token, org, rx, received) = (
            server.base.clone(),
            tokens[i % servers.len()].clone(),
            org.to_string(),
            rx.clone(),
            received.clone(),
        );
        let permit = gate.clone().acquire_owned().await?;
        tasks.push(tokio::spawn(async move {
            drop(permit);
            subscriber(base, token, org, rx, received).await
        }));
    }
    let want: u64 = n as u64 + before;
    loop {
        let mut open = 0;
        for s in servers {
            open += s.subscriptions().await;
        }
        if open >= want {
            break;
        }
        if let Some(t) = tasks.iter().find(|t| t.is_finished()) {
            let _ = t;
            bail!("a subscriber stopped while connecting ({open} of {want} open)");
        }
        if started.elapsed() > Duration::from_secs(300) {
            bail!("only {open} of {want} subscribers after 5 minutes");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!(
        "  {n} subscribers connected and following in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(Crowd {
        stop,
        received,
        tasks,
    })
}

impl Crowd {
    /// Waits (at most 60 s) until `expected` deliveries in all arrived, then closes.
    async fn finish(self, expected: u64) -> anyhow::Result<Vec<Vec<Duration>>> {
        let started = Instant::now();
        while self.received.load(std::sync::atomic::Ordering::Relaxed) < expected
            && started.elapsed() < Duration::from_secs(60)
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Anything beyond what was expected would show now.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let _ = self.stop.send(true);
        let mut out = Vec::with_capacity(self.tasks.len());
        for t in self.tasks {
            out.push(t.await??);
        }
        Ok(out)
    }
}

struct Fixture {
    org: String,
    /// Cold-water meters with their current value (whole units).
    meters: Vec<String>,
    resident_meter: String,
}

async fn seed(db: &DatabaseConnection, accounts: u64) -> anyhow::Result<(Fixture, String)> {
    let e = |e: schema::error::AppError| anyhow::anyhow!("{e}");
    crate::db::migrate(db).await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let registry = Registry::new(db.clone(), clock.clone());
    let org = registry
        .create_organisation(
            &Author::system("kvartal bench", "Mutation.createOrganisation"),
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
    let dir = std::env::temp_dir().join(format!("kvartal-bench-live-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("registry.csv");
    generate(&file, accounts)?;
    registry
        .import_registry(
            &Author::system("kvartal bench", "Mutation.importRegistry"),
            org.id,
            std::fs::File::open(&file)?,
            &|_| {},
        )
        .await
        .map_err(e)?;
    let _ = std::fs::remove_dir_all(&dir);
    let auth = crate::local_auth(db, clock);
    auth.bootstrap_admin(
        org.id,
        "admin@bench.test",
        "Bench Admin",
        Some(PASSWORD.into()),
    )
    .await
    .map_err(e)?;
    let backend = db.get_database_backend();
    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT m.id, a.id AS account_id, a.number FROM meters m JOIN accounts a ON a.premises_id = m.premises_id \
             WHERE m.resource = 'cold_water' ORDER BY a.number",
        ))
        .await?;
    let mut meters = Vec::with_capacity(rows.len());
    let mut first_account = None;
    for r in &rows {
        let id: uuid::Uuid = r.try_get("", "id")?;
        if first_account.is_none() {
            let account: uuid::Uuid = r.try_get("", "account_id")?;
            let number: String = r.try_get("", "number")?;
            first_account = Some((account, number));
        }
        meters.push(id.to_string());
    }
    let (account, number) = first_account.context("the registry has no meters")?;
    let resident_meter = meters.remove(0);
    let fixture = Fixture {
        org: org.id.to_string(),
        meters,
        resident_meter,
    };
    Ok((fixture, format!("{account}|{number}")))
}

/// A resident of the first account, joined with an access code.
async fn resident(server: &Server, admin: &str, account: &str) -> anyhow::Result<String> {
    let (id, number) = account.split_once('|').context("account")?;
    let code = server
        .graphql(
            Some(admin),
            "mutation($input: IssueAccessCodeInput!) { issueAccessCode(input: $input) { code } }",
            json!({ "input": { "accountId": id } }),
        )
        .await?["issueAccessCode"]["code"]
        .as_str()
        .context("no code")?
        .to_string();
    let data = server
        .graphql(
            None,
            "mutation($input: RegisterResidentInput!) { registerResident(input: $input) { token } }",
            json!({ "input": { "email": "resident@bench.test", "displayName": "Bench Resident", "password": PASSWORD,
                "accountNumber": number, "code": code, "client": "APP" } }),
        )
        .await?;
    data["registerResident"]["token"]
        .as_str()
        .map(str::to_string)
        .context("no token")
}

/// Fan-out: a resident's readings to every subscriber.
#[allow(clippy::too_many_arguments)]
async fn fan_out(
    label: &str,
    servers: &[&Server],
    staff: &[String],
    resident: &str,
    f: &Fixture,
    n: usize,
    readings: usize,
    value: &mut u64,
) -> anyhow::Result<(Duration, u64)> {
    println!("[{label}] fan-out: {n} staff subscribers, {readings} readings by a resident");
    let crowd = crowd(servers, staff, &f.org, n).await?;
    for s in servers {
        let (rss, _) = memory(s.pid());
        println!(
            "  server pid {}: RSS {:.0} MiB with its subscribers open ({:.1} KiB each)",
            s.pid(),
            rss as f64 / 1048576.0,
            rss as f64 / 1024.0 / (n / servers.len()).max(1) as f64
        );
    }
    let cpu = CpuMeter::start(servers);
    for _ in 0..readings {
        *value += 10;
        servers[0]
            .graphql(
                Some(resident),
                SUBMIT,
                json!({ "input": { "meterId": f.resident_meter, "values": [value.to_string()] } }),
            )
            .await?;
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    let per = crowd.finish((n * readings) as u64).await?;
    cpu.report("delivery", (n * readings) as f64);
    let delivered: usize = per.iter().map(Vec::len).sum();
    let all: Vec<Duration> = per.into_iter().flatten().collect();
    if delivered != n * readings {
        println!(
            "  WARNING: {delivered} deliveries, {} expected",
            n * readings
        );
    }
    let worst = p99(all.clone());
    println!("  delivery from commit: {}", summary(all));
    let mut peak = 0;
    for s in servers {
        let (rss, hwm) = memory(s.pid());
        peak = peak.max(hwm);
        println!(
            "  server pid {}: RSS {:.0} MiB now, peak {:.0} MiB",
            s.pid(),
            rss as f64 / 1048576.0,
            hwm as f64 / 1048576.0
        );
    }
    Ok((worst, peak))
}

/// Throughput: readings through GraphQL at a fixed rate.
#[allow(clippy::too_many_arguments)]
async fn throughput(
    label: &str,
    servers: &[&Server],
    staff: &[String],
    f: &Fixture,
    rate: u64,
    seconds: u64,
    feed: usize,
    round: &mut u64,
) -> anyhow::Result<(Duration, Duration)> {
    println!("[{label}] throughput: {rate} readings/s for {seconds} s through GraphQL, {feed} dashboards following");
    let crowd = crowd(servers, staff, &f.org, feed).await?;
    let total = rate * seconds;
    let meters = Arc::new(f.meters.clone());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<anyhow::Result<Duration>>();
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_nanos(1_000_000_000 / rate.max(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let base_round = *round;
    let cpu = CpuMeter::start(servers);
    for i in 0..total {
        tick.tick().await;
        let k = i as usize % meters.len();
        let pass = i / meters.len() as u64;
        let value = 1000 + (base_round + pass) * 10;
        let server = servers[i as usize % servers.len()];
        let (http, url, token, meter, tx) = (
            server.http.clone(),
            format!("{}/graphql", server.base),
            staff[i as usize % servers.len()].clone(),
            meters[k].clone(),
            tx.clone(),
        );
        tokio::spawn(async move {
            let t = Instant::now();
            let r = async {
                let body: Value = http
                    .post(url)
                    .bearer_auth(token)
                    .json(&json!({ "query": SUBMIT, "variables": { "input": { "meterId": meter, "values": [value.to_string()] } } }))
                    .send()
                    .await?
                    .json()
                    .await?;
                if let Some(e) = body.get("errors") {
                    bail!("{e}");
                }
                Ok(t.elapsed())
            }
            .await;
            let _ = tx.send(r);
        });
    }
    drop(tx);
    let sent_in = started.elapsed();
    let mut latencies = Vec::with_capacity(total as usize);
    let mut errors = 0;
    let mut first_error = None;
    while let Some(r) = rx.recv().await {
        match r {
            Ok(d) => latencies.push(d),
            Err(e) => {
                errors += 1;
                first_error.get_or_insert(e.to_string());
            }
        }
    }
    let done_in = started.elapsed();
    cpu.report("reading", total as f64);
    *round = base_round + total / meters.len() as u64 + 1;
    println!(
        "  {} readings sent in {:.2} s, all answered in {:.2} s: {:.0} readings/s; {} errors{}",
        total,
        sent_in.as_secs_f64(),
        done_in.as_secs_f64(),
        latencies.len() as f64 / done_in.as_secs_f64(),
        errors,
        first_error
            .map(|e| format!(" (first: {e})"))
            .unwrap_or_default()
    );
    let worst = p99(latencies.clone());
    println!("  submitReading latency: {}", summary(latencies));
    let per = crowd.finish((total - errors) * feed as u64).await?;
    let complete = per
        .iter()
        .filter(|d| d.len() as u64 >= total - errors)
        .count();
    let short: Vec<usize> = per
        .iter()
        .map(Vec::len)
        .filter(|n| (*n as u64) < total - errors)
        .collect();
    if !short.is_empty() {
        println!(
            "  WARNING: dashboards with fewer readings than committed: {short:?} of {}",
            total - errors
        );
    }
    let all: Vec<Duration> = per.into_iter().flatten().collect();
    let feed_p99 = p99(all.clone());
    println!(
        "  dashboards: {complete} of {feed} got every reading; delivery from commit: {}",
        summary(all)
    );
    Ok((worst, feed_p99))
}

/// Nanoseconds since the epoch: the floor's frames carry their send time.
fn epoch_nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos()
}

/// A server-to-client websocket text frame (unmasked) of `text`.
fn ws_frame(text: &str) -> Vec<u8> {
    let len = text.len();
    let mut frame = Vec::with_capacity(len + 10);
    frame.push(0x81);
    if len < 126 {
        frame.push(len as u8);
    } else if len <= 0xffff {
        frame.push(126);
        frame.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        frame.push(127);
        frame.extend_from_slice(&(len as u64).to_be_bytes());
    }
    frame.extend_from_slice(text.as_bytes());
    frame
}

/// The floor's server (a process of its own, as `kvartal serve` is): a task
/// per socket woken by a broadcast, as the server's subscriptions are, each
/// writing one pre-built frame of an event's size per event, 700 ms apart.
pub async fn floor_server(port: u16, sockets: usize, events: usize) -> anyhow::Result<()> {
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let (tx, _) = tokio::sync::broadcast::channel::<Arc<Vec<u8>>>(16);
    let mut writers = Vec::with_capacity(sockets);
    for _ in 0..sockets {
        let (mut socket, _) = listener.accept().await?;
        socket.set_nodelay(true)?;
        let mut rx = tx.subscribe();
        writers.push(tokio::spawn(async move {
            while let Ok(frame) = rx.recv().await {
                if socket.write_all(&frame).await.is_err() {
                    return;
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    for n in 1..=events {
        let text = json!({ "id": "feed", "type": "next", "payload": { "data": { "readingSubmitted": {
            "eventId": n, "committedAt": epoch_nanos().to_string(),
            "reading": { "meterSerial": "CW-0000001", "values": ["1010"], "address": "Rua das Flores, 120, Bloco B", "premisesNumber": "101" } } } } })
        .to_string();
        let _ = tx.send(Arc::new(ws_frame(&text)));
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    drop(tx);
    for w in writers {
        let _ = w.await;
    }
    Ok(())
}

/// What this machine's kernel and scheduler cost a fan-out before any work of
/// ours: `n` loopback TCP sockets to a process of their own, one frame of an
/// event's size per event to each, read by a client that only finds the send
/// time. No websocket library, JSON, GraphQL or rights on either side.
async fn tcp_floor(n: usize, events: usize) -> anyhow::Result<Duration> {
    use tokio::io::AsyncReadExt;
    println!("[floor] {n} loopback TCP sockets, {events} pre-built frames each, nothing else");
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut child = tokio::process::Command::new(std::env::current_exe()?)
        .args(["bench", "floor-server", "--port", &port.to_string()])
        .args(["--sockets", &n.to_string(), "--events", &events.to_string()])
        .kill_on_drop(true)
        .spawn()
        .context("starting the floor's server")?;
    let mut sockets = Vec::with_capacity(n);
    for _ in 0..n {
        let mut tries = 0;
        let socket = loop {
            match tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
                Ok(s) => break s,
                Err(_) if tries < 100 => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => return Err(e.into()),
            }
        };
        sockets.push(socket);
    }
    let readers: Vec<_> = sockets
        .into_iter()
        .map(|mut socket| {
            tokio::spawn(async move {
                let mut delays = Vec::with_capacity(events);
                let mut buf = vec![0_u8; 1024];
                const MARK: &str = "\"committedAt\":\"";
                while delays.len() < events {
                    let Ok(k) = socket.read(&mut buf).await else {
                        break;
                    };
                    if k == 0 {
                        break;
                    }
                    let at = epoch_nanos();
                    let text = String::from_utf8_lossy(&buf[..k]);
                    for part in text.split(MARK).skip(1) {
                        if let Some(sent) =
                            part.split('"').next().and_then(|t| t.parse::<u128>().ok())
                        {
                            delays.push(Duration::from_nanos(at.saturating_sub(sent) as u64));
                        }
                    }
                }
                delays
            })
        })
        .collect();
    let mut all = Vec::with_capacity(n * events);
    for r in readers {
        all.extend(r.await?);
    }
    let _ = child.wait().await;
    let worst = p99(all.clone());
    println!("  delivery from send: {}", summary(all));
    Ok(worst)
}

pub async fn live(o: Options) -> anyhow::Result<()> {
    let limit = open_files_limit().unwrap_or(0);
    if limit < o.subscribers as u64 + 500 {
        bail!(
            "this process may open {limit} files; {} subscribers need more: raise it (ulimit -n) or pass fewer --subscribers",
            o.subscribers
        );
    }
    let name = format!("kvartal_bench_{}", uuid::Uuid::now_v7().simple());
    let admin = crate::db::connect_url(&o.postgres_url, 1)
        .await
        .context("PostgreSQL for the benchmark")?;
    let _ = admin
        .execute_unprepared("CREATE ROLE kvartal_bench LOGIN NOSUPERUSER NOBYPASSRLS")
        .await;
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name} OWNER kvartal_bench"))
        .await?;
    let url = with_user(&replace_database(&o.postgres_url, &name), "kvartal_bench");
    let prefix = format!("kvartal-bench-{}:", uuid::Uuid::now_v7().simple());
    let outcome = run(&o, &url, &prefix).await;
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await?;
    if let Ok(client) = redis::Client::open(o.redis_url.as_str()) {
        if let Ok(mut conn) = client.get_multiplexed_async_connection().await {
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg(format!("{prefix}*"))
                .query_async(&mut conn)
                .await
                .unwrap_or_default();
            for k in keys {
                let _: redis::RedisResult<i64> =
                    redis::cmd("DEL").arg(k).query_async(&mut conn).await;
            }
        }
    }
    outcome
}

async fn run(o: &Options, url: &str, prefix: &str) -> anyhow::Result<()> {
    let floor = tcp_floor(o.subscribers, o.readings).await?;
    let started = Instant::now();
    let db = crate::db::connect_url(url, 4).await?;
    let (f, account) = schema::tenancy::as_system(seed(&db, o.accounts)).await?;
    db.close().await?;
    println!(
        "seeded {} accounts with {} cold-water meters in {:.1} s (PostgreSQL, row-level security on)",
        o.accounts,
        f.meters.len() + 1,
        started.elapsed().as_secs_f64()
    );
    let mut value = 1000_u64;
    let mut round = 1_u64;
    let mut verdicts = Vec::new();

    // One instance, in-process bus.
    let a = Server::start(url, None, o.pool).await?;
    let admin = a.login("admin@bench.test").await?;
    let resident_token = resident(&a, &admin, &account).await?;
    let (fan, rss) = fan_out(
        "one instance",
        &[&a],
        std::slice::from_ref(&admin),
        &resident_token,
        &f,
        o.subscribers,
        o.readings,
        &mut value,
    )
    .await?;
    verdicts.push((
        "one instance: peak RSS ≤ 1 GiB with every subscriber",
        rss <= 1 << 30,
    ));
    let (p99_submit, p99_feed) = throughput(
        "one instance",
        &[&a],
        std::slice::from_ref(&admin),
        &f,
        o.rate,
        o.seconds,
        o.feed,
        &mut round,
    )
    .await?;
    verdicts.push((
        "one instance: fan-out p99 ≤ 100 ms",
        fan <= Duration::from_millis(100),
    ));
    verdicts.push((
        "one instance: submitReading p99 ≤ 50 ms",
        p99_submit <= Duration::from_millis(50),
    ));
    let _ = p99_feed;
    a.stop().await;

    // Two instances, Redis pub/sub.
    let a = Server::start(url, Some((&o.redis_url, prefix)), o.pool).await?;
    let b = Server::start(url, Some((&o.redis_url, prefix)), o.pool).await?;
    let tokens = vec![
        a.login("admin@bench.test").await?,
        b.login("admin@bench.test").await?,
    ];
    let resident_token = a
        .graphql(
            None,
            "mutation($input: LoginInput!) { login(input: $input) { token } }",
            json!({ "input": { "email": "resident@bench.test", "password": PASSWORD, "client": "APP" } }),
        )
        .await?["login"]["token"]
        .as_str()
        .context("no token")?
        .to_string();
    let (fan, _) = fan_out(
        "two instances + Redis",
        &[&a, &b],
        &tokens,
        &resident_token,
        &f,
        o.subscribers,
        o.readings,
        &mut value,
    )
    .await?;
    let (p99_submit, _) = throughput(
        "two instances + Redis",
        &[&a, &b],
        &tokens,
        &f,
        o.rate,
        o.seconds,
        o.feed,
        &mut round,
    )
    .await?;
    verdicts.push((
        "two instances: fan-out p99 ≤ 100 ms",
        fan <= Duration::from_millis(100),
    ));
    verdicts.push((
        "two instances: submitReading p99 ≤ 50 ms",
        p99_submit <= Duration::from_millis(50),
    ));
    a.stop().await;
    b.stop().await;

    println!();
    for (what, ok) in verdicts {
        println!("{} {what}", if ok { "MET   " } else { "MISSED" });
    }
    println!(
        "(this machine's floor for the fan-out, bare TCP to the same number of sockets: p99 {:.1} ms)",
        ms(floor)
    );
    Ok(())
}
