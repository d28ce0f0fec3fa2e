//! Live events end to end: subscriptions over graphql-transport-ws that see
//! only what their subscriber may see, resume after an event id without gaps or
//! repeats, get what the bus did not carry from the outbox, and cross server
//! processes through Redis.

use std::time::Duration;

use serde_json::{json, Value};

use crate::db_test;
use crate::helpers::{Caller, Db, TestApp};
use crate::readings::{fixture, submit};
use crate::ws::{connect_to, init, next, send, Socket};

const LIVE: &str = "subscription($org: ID!, $after: Int, $house: ID) { readingSubmitted(organisationId: $org, after: $after, houseId: $house) { eventId reading { meterId values address premisesNumber source } } }";
const FLAGGED: &str = "subscription($org: ID!, $after: Int) { readingFlagged(organisationId: $org, after: $after) { eventId reading { meterId flagged } } }";

async fn subscribe_at(base: &str, caller: &Caller, query: &str, vars: Value) -> Socket {
    let mut ws = connect_to(base, None).await;
    assert_eq!(
        init(&mut ws, caller.token.as_deref()).await.unwrap()["type"],
        "connection_ack"
    );
    send(&mut ws, json!({ "id": "live", "type": "subscribe", "payload": { "query": query, "variables": vars } })).await;
    ws
}

async fn subscribe(app: &TestApp, caller: &Caller, query: &str, vars: Value) -> Socket {
    subscribe_at(&app.base, caller, query, vars).await
}

/// The next event's id and meter.
async fn event(ws: &mut Socket) -> (i64, String) {
    let m = next(ws).await.unwrap();
    assert_eq!(m["type"], "next", "{m}");
    let data = &m["payload"]["data"];
    let e = data
        .get("readingSubmitted")
        .or_else(|| data.get("readingFlagged"))
        .unwrap_or_else(|| panic!("{m}"));
    (
        e["eventId"].as_i64().unwrap(),
        e["reading"]["meterId"].as_str().unwrap().to_string(),
    )
}

db_test! {
    async fn each_subscriber_sees_only_its_own_readings_in_order_and_resumes_after_its_last(app: &TestApp) {
        let f = fixture(app, "Live").await;
        let dispatcher = app.login_as("dispatcher-house2@example.org", &f.org, &["DISPATCHER"], &[&f.house2]).await;
        let from_start = json!({ "org": f.org, "after": 0 });
        let mut staff = subscribe(app, &app.admin, LIVE, from_start.clone()).await;
        let mut mine = subscribe(app, &f.resident, LIVE, from_start.clone()).await;
        let mut theirs = subscribe(app, &f.resident2, LIVE, from_start.clone()).await;
        let mut limited = subscribe(app, &dispatcher, LIVE, from_start.clone()).await;
        let mut flagged = subscribe(app, &app.admin, FLAGGED, from_start.clone()).await;

        submit(&f.resident, &f.meter, &["5"]).await;
        assert_eq!(event(&mut staff).await, (1, f.meter.clone()));
        let first = next(&mut mine).await.unwrap();
        assert_eq!(first["payload"]["data"]["readingSubmitted"]["reading"]["premisesNumber"], "1", "{first}");
        assert_eq!(first["payload"]["data"]["readingSubmitted"]["reading"]["source"], "RESIDENT");
        submit(&f.resident2, &f.meter2, &["7"]).await;
        assert_eq!(event(&mut staff).await, (2, f.meter2.clone()));
        assert_eq!(event(&mut theirs).await, (2, f.meter2.clone()), "the other resident never got event 1");
        submit(&app.admin, &f.meter3, &["9"]).await;
        assert_eq!(event(&mut staff).await, (3, f.meter3.clone()));
        assert_eq!(event(&mut limited).await, (3, f.meter3.clone()), "the dispatcher of the second house sees only it");

        // The dispatcher is moved to the first house: the stream follows at once.
        let who = dispatcher.ok("{ me { id } }", json!({})).await["me"]["id"].as_str().unwrap().to_string();
        app.ok("mutation($input: UpdateMembershipInput!) { updateMembership(input: $input) { member { userId } } }",
            json!({ "input": { "organisationId": f.org, "userId": who, "roles": ["DISPATCHER"], "houseIds": [f.house] } })).await;

        // A refused submission writes no event: the numbers stay without gaps.
        assert!(submit(&f.resident, &f.meter, &["1"]).await.get("errors").is_some());
        submit(&f.resident, &f.meter, &["6"]).await;
        assert_eq!(event(&mut staff).await, (4, f.meter.clone()));
        assert_eq!(event(&mut mine).await, (4, f.meter.clone()), "events 2 and 3 were not the resident's");
        submit(&app.admin, &f.meter3, &["10"]).await;
        assert_eq!(event(&mut staff).await.0, 5);
        send(&mut limited, json!({ "type": "ping" })).await;
        assert_eq!(next(&mut limited).await.unwrap()["type"], "pong", "no longer the second house's dispatcher: event 5 is not sent");

        // Resuming after event 2: 3 and 4 from the outbox, then live, each once.
        let mut resumed = subscribe(app, &app.admin, LIVE, json!({ "org": f.org, "after": 2 })).await;
        assert_eq!(event(&mut resumed).await.0, 3);
        assert_eq!(event(&mut resumed).await.0, 4);
        assert_eq!(event(&mut resumed).await.0, 5);
        submit(&app.admin, &f.meter2, &["8"]).await;
        assert_eq!(event(&mut resumed).await.0, 6);
        assert_eq!(event(&mut staff).await.0, 6);
        // One house only.
        let mut one_house = subscribe(app, &app.admin, LIVE, json!({ "org": f.org, "after": 0, "house": f.house2 })).await;
        assert_eq!(event(&mut one_house).await, (3, f.meter3.clone()));

        // No flag so far; the flagged stream stays quiet until one comes.
        send(&mut flagged, json!({ "type": "ping" })).await;
        assert_eq!(next(&mut flagged).await.unwrap()["type"], "pong");

        // An unknown cursor is refused with the field; a resident may not follow flags.
        let mut ahead = subscribe(app, &app.admin, LIVE, json!({ "org": f.org, "after": 99 })).await;
        let refused = next(&mut ahead).await.unwrap();
        assert_eq!(refused["type"], "error", "{refused}");
        assert_eq!(refused["payload"][0]["extensions"]["reason"], "unknown_event");
        let mut nosy = subscribe(app, &f.resident, FLAGGED, json!({ "org": f.org })).await;
        assert_eq!(next(&mut nosy).await.unwrap()["payload"][0]["extensions"]["code"], "FORBIDDEN");
        // Another organisation does not exist for a resident.
        let other = app.create_org("Other").await;
        let mut elsewhere = subscribe(app, &f.resident, LIVE, json!({ "org": other })).await;
        assert_eq!(next(&mut elsewhere).await.unwrap()["payload"][0]["extensions"]["code"], "NOT_FOUND");

        // A second subscribe with a running id closes the socket (4409); a completed id stops.
        send(&mut staff, json!({ "id": "live", "type": "subscribe", "payload": { "query": LIVE, "variables": { "org": f.org } } })).await;
        assert_eq!(next(&mut staff).await, Err(4409));
        send(&mut mine, json!({ "id": "live", "type": "complete" })).await;
        submit(&f.resident, &f.meter, &["7"]).await;
        send(&mut mine, json!({ "type": "ping" })).await;
        assert_eq!(next(&mut mine).await.unwrap()["type"], "pong", "nothing after complete");
    }
}

db_test! {
    async fn a_committed_event_the_bus_never_carried_reaches_subscribers_from_the_outbox(app: &TestApp) {
        use schema::events::{Bus, Events, Hub, Relay};
        let f = fixture(app, "Outbox").await;
        let mut staff = subscribe(app, &app.admin, LIVE, json!({ "org": f.org, "after": 0 })).await;
        // Another writer whose relay never runs: a process that died after its commit.
        let db = app.db().clone();
        let hub = Hub::start(db.clone(), Duration::from_secs(3600));
        let relay = Relay::new(db.clone(), Bus::Local(hub.clone()), app.clock.clone());
        let events = Events { db: db.clone(), hub, relay };
        let readings = schema::readings::Readings::new(db.clone(), app.clock.clone(), events);
        let meter = uuid::Uuid::parse_str(&f.meter).unwrap();
        schema::tenancy::as_system(readings.submit(
            &schema::audit::Author::system("another process", "Mutation.submitReading"),
            schema::readings::Submission { meter_id: meter, taken_on: None, values: vec![rust_decimal::Decimal::from(3)], reason: None, source: None },
        ))
        .await
        .unwrap();
        assert_eq!(event(&mut staff).await, (1, f.meter.clone()), "the server found it in the outbox");
        // … and this server's relay publishes it, so that it can be pruned later.
        let published = async {
            loop {
                let row = schema::tenancy::as_system(async {
                    use sea_orm::ConnectionTrait;
                    db.query_one_raw(sea_orm::Statement::from_string(db.get_database_backend(), "SELECT published FROM event_relay")).await
                })
                .await
                .unwrap();
                let published: i64 = row.map(|r| r.try_get("", "published").unwrap()).unwrap_or(0);
                if published >= 1 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(10), published).await.expect("the relay published the event");
        // Pruning keeps what is younger than the retention and removes the rest.
        let kept = schema::tenancy::as_system(schema::events::prune(&db, crate::helpers::now() - chrono::Duration::hours(1))).await.unwrap();
        assert_eq!(kept, 0);
        let removed = schema::tenancy::as_system(schema::events::prune(&db, crate::helpers::now() + chrono::Duration::hours(1))).await.unwrap();
        assert_eq!(removed, 1);
        let mut late = subscribe(app, &app.admin, LIVE, json!({ "org": f.org, "after": 0 })).await;
        assert_eq!(next(&mut late).await.unwrap()["payload"][0]["extensions"]["reason"], "events_expired");
        // Every feed resumes through the one pipeline, and says so alike.
        for feed in [
            "subscription($org: ID!, $after: Int) { paymentConfirmed(organisationId: $org, after: $after) { seq } }",
            "subscription($org: ID!, $after: Int) { complaintUpdated(organisationId: $org, after: $after) { seq } }",
        ] {
            let mut late = subscribe(app, &app.admin, feed, json!({ "org": f.org, "after": 0 })).await;
            let refusal = next(&mut late).await.unwrap();
            assert_eq!(refusal["payload"][0]["extensions"]["reason"], "events_expired", "{feed}: {refusal}");
            assert_eq!(refusal["payload"][0]["extensions"]["field"], "after", "{feed}: {refusal}");
        }
    }
}

/// A `kvartal serve` process of its own on the test's database and Redis.
struct Instance {
    child: tokio::process::Child,
    base: String,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

fn binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|d| d.parent()).unwrap();
    let bin = dir.join("kvartal");
    assert!(
        bin.exists(),
        "{} is missing: build it first (cargo build -p kvartal)",
        bin.display()
    );
    bin
}

async fn instance(app: &TestApp, poll_ms: u64) -> Instance {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = std::env::temp_dir().join(format!("kvartal-instance-{port}"));
    let child = tokio::process::Command::new(binary())
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("KVARTAL_DATABASE_URL", app.database_url.clone().unwrap())
        .env("KVARTAL_REDIS_URL", crate::helpers::redis_url())
        .env("KVARTAL_REDIS_PREFIX", app.redis_prefix.clone().unwrap())
        .env("KVARTAL_BIND", format!("127.0.0.1:{port}"))
        .env("KVARTAL_DATA_DIR", &dir)
        .env("KVARTAL_EVENTS_POLL_MS", poll_ms.to_string())
        .env("KVARTAL_LOG", "warn")
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..300 {
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await {
            if r.status().is_success() {
                return Instance { child, base };
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the instance at {base} did not become ready");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_server_processes_share_events_through_redis_and_the_outbox() {
    crate::helpers::run(Db::Postgres, |app| {
        Box::pin(async move {
            let f = fixture(app, "Twins").await;
            // A reads the outbox only once a minute: what reaches it quickly came through Redis.
            let a = instance(app, 60_000).await;
            let b = instance(app, 60_000).await;
            // The processes keep real time, this test's app a fixed day: sign in afresh.
            let admin_on_a = Caller {
                base: a.base.clone(),
                token: None,
                ..app.admin.clone()
            }
            .login("admin@example.org", crate::helpers::PASSWORD)
            .await;
            let resident_on_b = Caller {
                base: b.base.clone(),
                token: None,
                ..app.admin.clone()
            }
            .login("r1-5@example.org", crate::helpers::PASSWORD)
            .await;
            let mut on_a = subscribe_at(
                &a.base,
                &admin_on_a,
                LIVE,
                json!({ "org": f.org, "after": 0 }),
            )
            .await;
            let got = submit(&resident_on_b, &f.meter, &["4"]).await;
            assert!(got.get("errors").is_none(), "{got}");
            let started = std::time::Instant::now();
            assert_eq!(event(&mut on_a).await, (1, f.meter.clone()));
            assert!(started.elapsed() < Duration::from_secs(5));

            // Redis drops every subscriber connection; what B publishes meanwhile is lost
            // on the bus, and A fills the gap from the outbox when the next event comes.
            let client = redis::Client::open(crate::helpers::redis_url()).unwrap();
            let mut conn = client.get_multiplexed_async_connection().await.unwrap();
            let _: redis::Value = redis::cmd("CLIENT")
                .arg("KILL")
                .arg("TYPE")
                .arg("pubsub")
                .query_async(&mut conn)
                .await
                .unwrap();
            submit(&resident_on_b, &f.meter, &["5"]).await;
            tokio::time::sleep(Duration::from_millis(1500)).await;
            submit(&resident_on_b, &f.meter, &["6"]).await;
            assert_eq!(event(&mut on_a).await.0, 2);
            assert_eq!(event(&mut on_a).await.0, 3);
            drop((a, b));
        })
    })
    .await;
}
