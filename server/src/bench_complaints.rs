//! `kvartal bench complaints`: how fast a complaint finds its person.
//!
//! 1. Classification and routing alone (the organisation's rules in three
//!    languages, routes to departments, the least busy member): per
//!    complaint, over many texts.
//! 2. Filing in the service on a fresh database (SQLite file or a new
//!    PostgreSQL database) with a generated registry of N accounts: the
//!    rules and routes read, classified, the open counts read, assigned,
//!    numbered, written with its history, audit entry and event — one
//!    transaction each, and the open complaints growing as it goes.
//! 3. End to end against `kvartal serve` (a child process): residents file
//!    complaints through GraphQL over HTTP at a fixed rate, while every
//!    engineer's screen follows `complaintUpdated` over a websocket and, on
//!    an event for a complaint assigned to them, reloads their work orders
//!    as the web app does; timed from the resident's submit until the
//!    complaint is in the assignee's list.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures_util::{SinkExt, StreamExt};
use schema::audit::{Author, RequestMeta};
use schema::clock::SystemClock;
use schema::complaints::classify;
use schema::complaints::routing::{self, RoutingRule, Target};
use schema::complaints::service::{Complaints, NewComplaint};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

use crate::bench::{generate, BenchDb};
use crate::bench_live::{summary, Server, PASSWORD};
use crate::cli::BenchDatabase;

fn system(op: &'static str) -> Author {
    Author::system("kvartal bench", op)
}

fn err(e: schema::error::AppError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

/// Complaints as residents write them, in the three languages.
const TEXTS: [(&str, &str); 12] = [
    ("ru", "На кухне течёт кран, под раковиной лужа"),
    ("ru", "Протекает стояк в ванной, капает с потолка"),
    ("ru", "Не работает лифт во втором подъезде"),
    (
        "ru",
        "В подъезде не горит свет на третьем этаже, искрит розетка",
    ),
    ("ru", "Батареи холодные уже неделю, в квартире 16 градусов"),
    ("ru", "Соседи сверху шумят после 23:00"),
    ("pt-BR", "Vazamento na torneira da cozinha, água no chão"),
    ("pt-BR", "O elevador do bloco 2 não funciona desde ontem"),
    ("pt-BR", "Cobrança errada no boleto deste mês"),
    ("en", "The kitchen tap is leaking, water on the floor"),
    ("en", "No heating in the bedroom, radiators are cold"),
    ("en", "The stairwell was not cleaned this week"),
];

const FILE: &str = "mutation($input: FileComplaintInput!) { fileComplaint(input: $input) { complaint { id assigneeId } } }";
const MINE: &str = "query($org: ID!, $me: ID!) { complaints(organisationId: $org, assigneeId: $me, status: ASSIGNED, first: 500) { id } }";

/// Each filed complaint: when it was sent, how long the answer took, its assignee.
type Sent = Arc<Mutex<HashMap<String, (Instant, Duration, String)>>>;

pub struct Options {
    /// Part 1 is left out (it runs once, before the databases' runs).
    pub skip_pure: bool,
    pub accounts: u64,
    pub database: BenchDatabase,
    pub postgres_url: String,
    /// Complaints filed in the service (part 2).
    pub filed: usize,
    /// Complaints a second through HTTP (part 3), and for how long.
    pub rate: u64,
    pub seconds: u64,
    pub engineers: usize,
}

pub async fn complaints(o: Options) -> anyhow::Result<()> {
    if !o.skip_pure {
        pure(200_000);
    }
    if o.database == BenchDatabase::Both {
        for one in ["sqlite", "postgres"] {
            let status = std::process::Command::new(std::env::current_exe()?)
                .args(["bench", "complaints", "--database", one, "--skip-pure"])
                .args(["--accounts", &o.accounts.to_string()])
                .args(["--filed", &o.filed.to_string()])
                .args(["--rate", &o.rate.to_string()])
                .args(["--seconds", &o.seconds.to_string()])
                .args(["--engineers", &o.engineers.to_string()])
                .args(["--postgres-url", &o.postgres_url])
                .status()
                .context("running the benchmark for one database")?;
            anyhow::ensure!(status.success(), "the {one} benchmark failed: {status}");
        }
        return Ok(());
    }
    with_database(&o).await
}

pub async fn with_database(o: &Options) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("kvartal-bench-complaints-{}", Uuid::now_v7()));
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("registry.csv");
    generate(&file, o.accounts)?;
    let result = async {
        let bench = BenchDb::open(o.database, &o.postgres_url, &dir).await?;
        let r = run_one(&bench, &file, o).await;
        bench.close().await?;
        r
    }
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Part 1: classification and routing, no database.
pub fn pure(n: usize) {
    let rules = classify::default_rules();
    let houses: Vec<Uuid> = (0..50).map(|_| Uuid::now_v7()).collect();
    let groups: Vec<Uuid> = (0..8).map(|_| Uuid::now_v7()).collect();
    let mut members: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    let mut open: HashMap<Uuid, u32> = HashMap::new();
    for (i, g) in groups.iter().enumerate() {
        let people: Vec<Uuid> = (0..6).map(|_| Uuid::now_v7()).collect();
        for (k, p) in people.iter().enumerate() {
            open.insert(*p, ((i * 7 + k * 3) % 11) as u32);
        }
        members.insert(*g, people);
    }
    let categories = [
        "plumbing",
        "electrical",
        "heating",
        "elevator",
        "cleaning",
        "noise",
        "billing",
        "emergency",
    ];
    let mut routes: Vec<RoutingRule> = categories
        .iter()
        .zip(&groups)
        .map(|(c, g)| RoutingRule {
            category: Some((*c).into()),
            house: None,
            target: Target::Group(*g),
        })
        .collect();
    // Some houses have their own contractor for plumbing.
    for h in houses.iter().take(10) {
        routes.insert(
            0,
            RoutingRule {
                category: Some("plumbing".into()),
                house: Some(*h),
                target: Target::Person(members[&groups[7]][0]),
            },
        );
    }
    let dispatcher = Some(Uuid::now_v7());

    let mut times = Vec::with_capacity(n);
    let mut routed = 0usize;
    let started = Instant::now();
    for i in 0..n {
        let (locale, text) = TEXTS[i % TEXTS.len()];
        let house = houses[i % houses.len()];
        let t = Instant::now();
        let found = classify::classify(text, locale, &rules);
        let who = routing::route(
            found.category.as_deref(),
            house,
            &routes,
            &members,
            &open,
            dispatcher,
        );
        times.push(t.elapsed());
        if let Some((p, _)) = who {
            *open.entry(p).or_default() += 1;
            routed += 1;
        }
    }
    times.sort();
    let us = |q: f64| times[((times.len() as f64 - 1.0) * q) as usize].as_secs_f64() * 1e6;
    println!(
        "classification + routing (no database): {n} complaints in {:.2} s, {routed} assigned; per complaint p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs",
        started.elapsed().as_secs_f64(),
        us(0.5),
        us(0.99),
        us(1.0)
    );
}

async fn run_one(bench: &BenchDb, file: &std::path::Path, o: &Options) -> anyhow::Result<()> {
    let (db, label) = (&bench.db, bench.label);
    let clock: Arc<dyn schema::clock::Clock> = Arc::new(SystemClock);
    let org = crate::bench_billing::organisation(label, db, file, o.accounts)
        .await?
        .id;

    // Staff: a dispatcher, engineers in four departments routed by category.
    let auth = crate::local_auth(db, clock.clone());
    let mut engineers = Vec::new();
    for i in 0..o.engineers.max(1) {
        let (user, _) = auth
            .add_staff_member(
                &system("Mutation.addStaffMember"),
                org,
                schema::auth::staff::StaffDraft {
                    email: format!("engineer{i}@bench.test"),
                    display_name: format!("Engineer {i}"),
                    roles: vec![schema::auth::Role::Engineer],
                    houses: vec![],
                    password: Some(PASSWORD.into()),
                    locale: "ru".into(),
                },
            )
            .await
            .and_then(|a| a.member())
            .map_err(err)?;
        engineers.push((user.id, user.email));
    }
    auth.add_staff_member(
        &system("Mutation.addStaffMember"),
        org,
        schema::auth::staff::StaffDraft {
            email: "dispatcher@bench.test".into(),
            display_name: "Dispatcher".into(),
            roles: vec![schema::auth::Role::Dispatcher],
            houses: vec![],
            password: Some(PASSWORD.into()),
            locale: "ru".into(),
        },
    )
    .await
    .map_err(err)?;
    let complaints = Complaints::new(db.clone(), clock.clone(), None);
    let mut routes = Vec::new();
    for (d, category) in ["plumbing", "electrical", "heating", "elevator"]
        .iter()
        .enumerate()
    {
        let people: Vec<Uuid> = engineers
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 4 == d)
            .map(|(_, e)| e.0)
            .collect();
        let group = complaints
            .save_group(
                &system("Mutation.saveStaffGroup"),
                org,
                None,
                "department",
                &format!("Dept {category}"),
                &people,
            )
            .await
            .map_err(err)?;
        routes.push(RoutingRule {
            category: Some((*category).into()),
            house: None,
            target: Target::Group(group.id),
        });
    }
    complaints
        .update_setup(
            &system("Mutation.updateComplaintSetup"),
            org,
            schema::complaints::setup::Change {
                routes: Some(routes),
                ..Default::default()
            },
        )
        .await
        .map_err(err)?;
    let accounts: Vec<Uuid> = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT id FROM accounts ORDER BY number",
        ))
        .await?
        .iter()
        .map(|r| r.try_get::<Uuid>("", "id"))
        .collect::<Result<_, _>>()?;

    // Part 2: filing in the service, one transaction each.
    let by = system("Mutation.fileComplaint");
    let mut times = Vec::with_capacity(o.filed);
    let started = Instant::now();
    for i in 0..o.filed {
        let (_, text) = TEXTS[i % 6];
        let t = Instant::now();
        complaints
            .file(
                &by,
                NewComplaint {
                    account_id: Some(accounts[(i * 7919) % accounts.len()]),
                    text: text.into(),
                    source: "phone".into(),
                    contact: Some(format!("+7 900 000-{:02}-{:02}", i / 100 % 100, i % 100)),
                    ..Default::default()
                },
            )
            .await
            .map_err(err)?;
        times.push(t.elapsed());
    }
    println!(
        "[{label}] filing in the service (rules, routing with open counts, number, history, audit, event; one transaction each): {} complaints in {:.2} s; per complaint {}",
        o.filed,
        started.elapsed().as_secs_f64(),
        summary(times)
    );

    // Part 3: end to end through the server.
    let residents = 20.min(accounts.len());
    let meta = RequestMeta {
        request_id: "bench".into(),
        address: "local".into(),
        user_agent: "kvartal bench".into(),
    };
    let numbers: Vec<String> = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT id, number FROM accounts ORDER BY number",
        ))
        .await?
        .iter()
        .take(residents)
        .map(|r| r.try_get::<String>("", "number"))
        .collect::<Result<_, _>>()?;
    for (i, number) in numbers.iter().enumerate() {
        let (_, code) = auth
            .issue_access_code(&system("Mutation.issueAccessCode"), accounts[i])
            .await
            .map_err(err)?;
        auth.register_resident(
            &meta,
            &format!("resident{i}@bench.test"),
            &format!("Resident {i}"),
            PASSWORD.into(),
            number,
            &code,
            "ru",
        )
        .await
        .map_err(err)?;
    }
    let server = Server::start(&bench.url, None, 8).await?;
    let mut resident_tokens = Vec::new();
    for i in 0..residents {
        resident_tokens.push(server.login(&format!("resident{i}@bench.test")).await?);
    }
    // Each engineer's screen: follows the feed, reloads its list on its own complaints.
    let seen: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut screens = Vec::new();
    for (id, email) in &engineers {
        let token = server.login(email).await?;
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        screens.push(tokio::spawn(screen(
            server.base.clone(),
            server.http.clone(),
            token,
            org.to_string(),
            id.to_string(),
            seen.clone(),
            stopped.clone(),
            ready_tx,
        )));
        ready_rx.await.context("a screen did not subscribe")?;
    }
    println!(
        "[{label}] end to end: {} engineers' screens follow complaintUpdated; residents file {} complaints/s for {} s",
        engineers.len(),
        o.rate,
        o.seconds
    );
    let sent: Sent = Arc::default();
    let total = o.rate * o.seconds;
    let mut tick = tokio::time::interval(Duration::from_nanos(1_000_000_000 / o.rate.max(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut calls = Vec::new();
    for i in 0..total as usize {
        tick.tick().await;
        let token = resident_tokens[i % residents].clone();
        let (http, url, sent) = (
            server.http.clone(),
            format!("{}/graphql", server.base),
            sent.clone(),
        );
        let (_, text) = TEXTS[i % 5];
        let account = accounts[i % residents].to_string();
        calls.push(tokio::spawn(async move {
            let t = Instant::now();
            let body: Value = http
                .post(url)
                .bearer_auth(token)
                .json(&json!({ "query": FILE, "variables": { "input": { "accountId": account, "text": text } } }))
                .send()
                .await?
                .json()
                .await?;
            let c = &body["data"]["fileComplaint"]["complaint"];
            let id = c["id"]
                .as_str()
                .with_context(|| format!("not filed: {body}"))?
                .to_string();
            let assignee = c["assigneeId"].as_str().unwrap_or_default().to_string();
            sent.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.insert(id, (t, t.elapsed(), assignee));
            anyhow::Ok(())
        }));
    }
    let mut errors = 0;
    for c in calls {
        if c.await
            .map_err(anyhow::Error::from)
            .and_then(|r| r)
            .is_err()
        {
            errors += 1;
        }
    }
    // Every complaint on its assignee's screen, or 10 s more at most.
    let wait = Instant::now();
    loop {
        let (s, n) = (
            seen.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.len(),
            sent.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.len(),
        );
        if s >= n || wait.elapsed() > Duration::from_secs(10) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = stop.send(true);
    for s in screens {
        let _ = s.await;
    }
    let sent = sent
        .lock()
        .map_err(|_| anyhow::anyhow!("poisoned"))?
        .clone();
    let seen = seen
        .lock()
        .map_err(|_| anyhow::anyhow!("poisoned"))?
        .clone();
    let submit: Vec<Duration> = sent.values().map(|(_, d, _)| *d).collect();
    let to_engineers: Vec<(&String, &Instant)> = sent
        .iter()
        .filter(|(_, (_, _, a))| engineers.iter().any(|(e, _)| e.to_string() == *a))
        .map(|(id, (t, _, _))| (id, t))
        .collect();
    let end_to_end: Vec<Duration> = to_engineers
        .iter()
        .filter_map(|(id, t)| seen.get(*id).map(|s| s.saturating_duration_since(**t)))
        .collect();
    println!(
        "  fileComplaint answered: {} of {total} ({errors} errors); latency {}",
        submit.len(),
        summary(submit)
    );
    println!(
        "  submit → on the assignee's screen (event pushed, their work orders reloaded): {} of the {} routed to engineers ({} went to the dispatcher); {}",
        end_to_end.len(),
        to_engineers.len(),
        sent.len() - to_engineers.len(),
        summary(end_to_end)
    );
    server.stop().await;
    Ok(())
}

/// An engineer's work-order screen: on an event for a complaint assigned to
/// them, it reloads the list and records when the complaint is in it.
#[allow(clippy::too_many_arguments)]
async fn screen(
    base: String,
    http: reqwest::Client,
    token: String,
    org: String,
    me: String,
    seen: Arc<Mutex<HashMap<String, Instant>>>,
    mut stop: tokio::sync::watch::Receiver<bool>,
    ready: tokio::sync::oneshot::Sender<()>,
) -> anyhow::Result<()> {
    let url = format!("{}/graphql/ws", base.replace("http://", "ws://"));
    let mut request = url.into_client_request()?;
    request
        .headers_mut()
        .insert("sec-websocket-protocol", "graphql-transport-ws".parse()?);
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await?;
    ws.send(Message::text(
        json!({ "type": "connection_init", "payload": { "token": token } }).to_string(),
    ))
    .await?;
    ws.next().await.context("no connection_ack")??;
    ws.send(Message::text(
        json!({ "id": "mine", "type": "subscribe", "payload": {
            "query": "subscription($org: ID!) { complaintUpdated(organisationId: $org) { id assigneeId } }",
            "variables": { "org": org } } })
        .to_string(),
    ))
    .await?;
    let _ = ready.send(());
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            msg = ws.next() => {
                let Some(msg) = msg else { break };
                let Message::Text(text) = msg? else { continue };
                let v: Value = serde_json::from_str(text.as_str())?;
                if v["type"] == "ping" {
                    ws.send(Message::text(json!({ "type": "pong" }).to_string())).await?;
                    continue;
                }
                let c = &v["payload"]["data"]["complaintUpdated"];
                if c["assigneeId"].as_str() != Some(me.as_str()) {
                    continue;
                }
                let id = c["id"].as_str().unwrap_or_default().to_string();
                let list: Value = http
                    .post(format!("{base}/graphql"))
                    .bearer_auth(&token)
                    .json(&json!({ "query": MINE, "variables": { "org": org, "me": me } }))
                    .send()
                    .await?
                    .json()
                    .await?;
                let shown = list["data"]["complaints"]
                    .as_array()
                    .is_some_and(|l| l.iter().any(|x| x["id"].as_str() == Some(id.as_str())));
                if shown {
                    seen.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.entry(id).or_insert_with(Instant::now);
                }
            }
        }
    }
    let _ = ws.close(None).await;
    Ok(())
}
