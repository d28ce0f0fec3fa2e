//! Hostile requests: documents nested to crash the parser, bursts of
//! subscriptions on one socket, oversized websocket messages. The server must
//! refuse each with a clear error and keep answering everyone else.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::db_test;
use crate::helpers::TestApp;
use crate::ws::{connect, init, next, send};

const DEPTHS: [usize; 4] = [100, 1_000, 10_000, 100_000];

fn nested_list(depth: usize) -> String {
    format!(
        "query {{ organisations(first: {}1{}) {{ totalCount }} }}",
        "[".repeat(depth),
        "]".repeat(depth)
    )
}

fn assert_too_deep(body: &Value, field: &str) {
    let e = &body["errors"][0];
    assert_eq!(e["extensions"]["code"], "TOO_DEEP", "{body}");
    assert_eq!(e["extensions"]["field"], field, "{body}");
    assert!(e["message"].as_str().unwrap().contains("at most"), "{body}");
    assert!(body.get("data").is_none(), "{body}");
}

/// A GET sent over a plain socket, as written; the status of the answer.
async fn raw_get(app: &TestApp, target: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let request = format!("GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    // The server may answer and close before it has read the whole request.
    let _ = stream.write_all(request.as_bytes()).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    let head = String::from_utf8_lossy(&answer[..answer.len().min(64)]).to_string();
    head.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP answer: {head:?}"))
}

async fn alive(app: &TestApp) {
    let r = app
        .client
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

db_test! {
    async fn documents_nested_deeply_are_refused_before_they_are_parsed(app: &TestApp) {
        for depth in DEPTHS {
            // POST, without a session.
            let r = app.client.post(format!("{}/graphql", app.base))
                .json(&json!({ "query": nested_list(depth) })).send().await.unwrap();
            assert_eq!(r.status(), 400, "POST at depth {depth}");
            assert_too_deep(&r.json().await.unwrap(), "query");
            // GET, the query in the address; past 64 KiB an address is refused
            // by the HTTP layer itself (and no client can send it but a raw one).
            let url = reqwest::Url::parse_with_params(&format!("{}/graphql", app.base), [("query", nested_list(depth))]).unwrap();
            if url.as_str().len() < 65_000 {
                let r = app.client.get(url).send().await.unwrap();
                assert_eq!(r.status(), 400, "GET at depth {depth}");
                assert_too_deep(&r.json().await.unwrap(), "query");
            } else {
                let status = raw_get(app, &format!("/graphql?query={}", nested_list(depth).replace(' ', "+"))).await;
                assert!(status == 400 || status == 414 || status == 431, "GET at depth {depth}: {status}");
            }
            alive(app).await;
        }
        // Variables: deeper than the limit but within JSON's own.
        let mut v = json!(1);
        for _ in 0..100 {
            v = json!([v]);
        }
        let r = app.client.post(format!("{}/graphql", app.base))
            .json(&json!({ "query": "query($v: [Int]) { me { id } }", "variables": { "v": v } })).send().await.unwrap();
        assert_eq!(r.status(), 400);
        assert_too_deep(&r.json().await.unwrap(), "variables");
        // Deeper than JSON allows: a plain bad request, and the server lives.
        let deep_json = format!("{{\"query\":\"{{ me {{ id }} }}\",\"variables\":{{\"v\":{}1{}}}}}", "[".repeat(100_000), "]".repeat(100_000));
        let r = app.client.post(format!("{}/graphql", app.base))
            .header("content-type", "application/json").body(deep_json).send().await.unwrap();
        assert_eq!(r.status(), 400);
        alive(app).await;

        // The websocket: an `error` for the operation, the socket stays open.
        let mut ws = connect(app, None).await;
        assert_eq!(init(&mut ws, app.admin.token.as_deref()).await.unwrap()["type"], "connection_ack");
        for (n, depth) in DEPTHS.into_iter().enumerate() {
            send(&mut ws, json!({ "id": format!("d{n}"), "type": "subscribe", "payload": { "query": nested_list(depth) } })).await;
            let m = next(&mut ws).await.unwrap();
            assert_eq!(m["type"], "error", "{m}");
            assert_eq!(m["id"], format!("d{n}"));
            assert_eq!(m["payload"][0]["extensions"]["code"], "TOO_DEEP", "{m}");
        }
        // A normal document still runs on that socket.
        send(&mut ws, json!({ "id": "ok", "type": "subscribe", "payload": { "query": "{ me { email } }" } })).await;
        let m = next(&mut ws).await.unwrap();
        assert_eq!(m["payload"]["data"]["me"]["email"], "admin@example.org", "{m}");
        // A document within the limits keeps its ordinary syntax errors.
        let r = app.anonymous().graphql("{ me { id ", json!({})).await;
        assert!(r["errors"][0]["message"].as_str().is_some(), "{r}");
    }
}

db_test! {
    async fn the_websocket_has_the_http_limits_and_closes_on_an_oversized_message(app: &TestApp) {
        let mut ws = connect(app, None).await;
        init(&mut ws, app.admin.token.as_deref()).await.unwrap();
        let aliases: String = (0..200).map(|i| format!("a{i}: me {{ id }} ")).collect();
        send(&mut ws, json!({ "id": "a", "type": "subscribe", "payload": { "query": format!("{{ {aliases} }}") } })).await;
        let m = next(&mut ws).await.unwrap();
        assert_eq!(m["type"], "error", "{m}");
        assert_eq!(m["payload"][0]["extensions"]["code"], "TOO_MANY_ALIASES", "{m}");
        send(&mut ws, json!({ "type": "ping" })).await;
        assert_eq!(next(&mut ws).await.unwrap()["type"], "pong");
        // Over the message size limit: the protocol's 1009.
        let big = json!({ "id": "b", "type": "subscribe", "payload": { "query": format!("{{ me {{ id }} }} #{}", "x".repeat(2 * 1024 * 1024)) } });
        futures_util::SinkExt::send(&mut ws, Message::text(big.to_string())).await.unwrap();
        assert_eq!(next(&mut ws).await, Err(1009));
        alive(app).await;
    }
}

db_test! {
    async fn a_burst_of_subscribes_on_one_socket_stalls_no_one_else(app: &TestApp) {
        let org = app.ok("{ organisations { nodes { id } } }", json!({})).await["organisations"]["nodes"][0]["id"].as_str().unwrap().to_string();
        let mut ws = connect(app, None).await;
        init(&mut ws, app.admin.token.as_deref()).await.unwrap();
        const BURST: usize = 500;
        let mut frames = Vec::with_capacity(BURST);
        for i in 0..BURST {
            let query = if i % 2 == 0 {
                "subscription($org: ID!) { complaintBoard(organisationId: $org) { seq overdue } }"
            } else {
                "subscription($org: ID!) { readingSubmitted(organisationId: $org) { eventId } }"
            };
            frames.push(Ok(Message::text(json!({ "id": format!("s{i}"), "type": "subscribe",
                "payload": { "query": query, "variables": { "org": org } } }).to_string())));
        }
        // Another client asks all along; the burst goes out at once.
        let other = app.admin.clone();
        let readyz = format!("{}/readyz", app.base);
        let probe = tokio::spawn(async move {
            let mut longest = Duration::ZERO;
            let until = Instant::now() + Duration::from_secs(4);
            while Instant::now() < until {
                let started = Instant::now();
                let r = other.ok("{ organisations { totalCount } }", json!({})).await;
                assert_eq!(r["organisations"]["totalCount"], 1);
                let ready = other.client.get(&readyz).send().await.unwrap();
                assert_eq!(ready.status(), 200);
                longest = longest.max(started.elapsed());
            }
            longest
        });
        let mut burst = futures_util::stream::iter(frames);
        futures_util::SinkExt::send_all(&mut ws, &mut burst).await.unwrap();
        let (mut refused, mut boards) = (0, 0);
        let deadline = Instant::now() + Duration::from_secs(20);
        while refused + boards < BURST - 25 && Instant::now() < deadline {
            let m = next(&mut ws).await.unwrap();
            match m["type"].as_str() {
                Some("error") => {
                    assert_eq!(m["payload"][0]["extensions"]["code"], "TOO_MANY_OPERATIONS", "{m}");
                    assert_eq!(m["payload"][0]["extensions"]["limit"], 50);
                    refused += 1;
                }
                Some("next") => boards += 1,
                _ => panic!("unexpected {m}"),
            }
        }
        let longest = probe.await.unwrap();
        println!("500-subscribe burst: the longest wait of another client (query + /readyz) {:.1} ms", longest.as_secs_f64() * 1000.0);
        assert_eq!(refused, BURST - 50, "all beyond the limit are refused by name");
        assert_eq!(boards, 25, "each running board sends its counts");
        assert!(longest < Duration::from_secs(1), "another client waited {longest:?}");
        // The socket is still open and serves a new operation once one completes.
        send(&mut ws, json!({ "id": "s0", "type": "complete" })).await;
        send(&mut ws, json!({ "id": "after", "type": "subscribe", "payload": { "query": "{ me { email } }" } })).await;
        let m = loop {
            let m = next(&mut ws).await.unwrap();
            if m["id"] == "after" { break m; }
        };
        assert_eq!(m["payload"]["data"]["me"]["email"], "admin@example.org", "{m}");
    }
}

/// A TCP proxy on loopback to `target` that can be cut: while cut, every open
/// connection is dropped and new ones are closed at once, as when the
/// service behind it goes down.
struct Proxy {
    addr: String,
    cut: tokio::sync::watch::Sender<bool>,
}

impl Proxy {
    async fn to(target: &str) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let (cut, watch) = tokio::sync::watch::channel(false);
        let target = target.to_string();
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if *watch.borrow() {
                    continue;
                }
                let (target, mut watch) = (target.clone(), watch.clone());
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = watch.wait_for(|cut| *cut) => {}
                    }
                });
            }
        });
        Proxy { addr, cut }
    }

    fn set_down(&self, down: bool) {
        self.cut.send_replace(down);
    }
}

async fn readyz(app: &TestApp) -> (u16, String) {
    let r = app
        .client
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dependency_that_is_down_is_named_within_five_seconds() {
    let redis = Proxy::to(crate::helpers::redis_url().trim_start_matches("redis://")).await;
    let postgres = Proxy::to("127.0.0.1:5432").await;
    let (redis_addr, postgres_addr) = (redis.addr.clone(), postgres.addr.clone());
    let app = crate::helpers::spawn_app_with(crate::helpers::Db::Postgres, move |s| {
        s.redis_url = Some(format!("redis://{redis_addr}"));
        s.database_url = s
            .database_url
            .as_ref()
            .map(|u| u.replace("127.0.0.1:5432", &postgres_addr));
    })
    .await;
    let body = || async {
        let (status, text) = readyz(&app).await;
        assert_eq!(status, 200, "{text}");
        assert!(
            text.contains("database: ok") && text.contains("sessions (redis): ok"),
            "{text}"
        );

        // Redis goes down: sign-in and readiness say so, quickly.
        redis.set_down(true);
        let started = Instant::now();
        let r = app.client.post(format!("{}/graphql", app.base))
            .json(&json!({ "query": "mutation($input: LoginInput!) { login(input: $input) { token } }",
                "variables": { "input": { "email": "admin@example.org", "password": crate::helpers::PASSWORD, "client": "APP" } } }))
            .send().await.unwrap();
        let status = r.status();
        let answer: Value = r.json().await.unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "login answered after {:?}",
            started.elapsed()
        );
        assert_eq!(status, 503, "{answer}");
        assert_eq!(
            answer["errors"][0]["extensions"]["code"], "SESSIONS_UNAVAILABLE",
            "{answer}"
        );
        let started = Instant::now();
        let (status, text) = readyz(&app).await;
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(status, 503, "{text}");
        assert!(
            text.contains("sessions (redis): down") && text.contains("database: ok"),
            "{text}"
        );
        redis.set_down(false);

        // The database goes down: the same, naming the database.
        postgres.set_down(true);
        let started = Instant::now();
        let r = app
            .client
            .post(format!("{}/graphql", app.base))
            .bearer_auth(app.admin.token.clone().unwrap())
            .json(&json!({ "query": "{ organisations { totalCount } }" }))
            .send()
            .await
            .unwrap();
        let status = r.status();
        let answer: Value = r.json().await.unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(6),
            "answered after {:?}",
            started.elapsed()
        );
        assert_eq!(status, 503, "{answer}");
        assert_eq!(
            answer["errors"][0]["extensions"]["code"], "DATABASE_UNAVAILABLE",
            "{answer}"
        );
        let (status, text) = readyz(&app).await;
        assert_eq!(status, 503, "{text}");
        assert!(text.contains("database: down"), "{text}");
        postgres.set_down(false);

        // Both back: ready again without a restart.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (status, text) = readyz(&app).await;
            if status == 200 {
                break;
            }
            assert!(Instant::now() < deadline, "not ready again: {text}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        app.ok("{ organisations { totalCount } }", json!({})).await;
    };
    let result = futures_util::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(body())).await;
    app.cleanup().await;
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

db_test! {
    async fn control_characters_in_text_are_refused_by_field_on_both_databases(app: &TestApp) {
        let org = app.ok("{ organisations { nodes { id } } }", json!({})).await["organisations"]["nodes"][0]["id"].as_str().unwrap().to_string();
        const CREATE: &str = "mutation($input: CreatePersonInput!) { createPerson(input: $input) { person { id fullName } } }";
        for bad in ["Иван\u{0}Петров", "Ivan\u{1b}[31m", "Ana\u{7f}", "Jo\u{85}ão"] {
            let r = app.graphql(CREATE, json!({ "input": { "organisationId": org, "fullName": bad, "phones": [], "consentPersonalData": true } })).await;
            assert_eq!(crate::helpers::refusal(&r), crate::helpers::refused("VALIDATION", "input.fullName", "control_character"), "{r}");
        }
        // In a literal too, and never as INTERNAL.
        let r = app.graphql(&format!("mutation {{ createPerson(input: {{ organisationId: \"{org}\", fullName: \"a\\u0000b\", phones: [], consentPersonalData: true }}) {{ person {{ id }} }} }}"), json!({})).await;
        assert_eq!(r["errors"][0]["extensions"]["code"], "VALIDATION", "{r}");
        let people = app.ok("query($org: ID!) { people(organisationId: $org) { totalCount } }", json!({ "org": org })).await;
        assert_eq!(people["people"]["totalCount"], 0, "nothing was written");
        // A time zone the zone database does not know is refused, not taken as UTC.
        let r = app.graphql("mutation($input: CreateOrganisationInput!) { createOrganisation(input: $input) { organisation { id } } }",
            json!({ "input": { "name": "Зона", "currency": "RUB", "locale": "ru", "timeZone": "Europe/Moskow" } })).await;
        let (code, field, reason) = crate::helpers::refusal(&r);
        assert_eq!((code.as_str(), reason.as_str()), ("VALIDATION", "invalid_time_zone"), "{r}");
        assert!(field.ends_with("timeZone"), "{r}");
        // Dates a housing company cannot mean.
        let premises = app.create_premises(&app.create_house(&org, "Датская", "1").await, "1", "30").await;
        const ACCOUNT: &str = "mutation($input: CreateAccountInput!) { createAccount(input: $input) { account { id } } }";
        for (date, reason) in [("0202-11-01", "date_out_of_range"), ("20260-11-01", "not_a_date"), ("2300-01-01", "date_out_of_range"),
                               ("2026-13-45", "not_a_date"), ("01.11.2026", "not_a_date")] {
            let r = app.graphql(ACCOUNT, json!({ "input": { "premisesId": premises, "number": format!("D{date}"), "openedOn": date } })).await;
            assert!(r["data"].is_null(), "{date}: {r}");
            assert_eq!(crate::helpers::refusal(&r), crate::helpers::refused("VALIDATION", "input.openedOn", reason), "{date}: {r}");
            // In a literal the same (the 400 of graphql-response+json: e2e/http.rs).
            let literal = format!("mutation {{ createAccount(input: {{ premisesId: \"{premises}\", number: \"L{date}\", openedOn: \"{date}\" }}) {{ account {{ id }} }} }}");
            let r = app.graphql(&literal, json!({})).await;
            assert_eq!(crate::helpers::refusal(&r), crate::helpers::refused("VALIDATION", "input.openedOn", reason), "{date}: {r}");
        }
        // A variable of its own, typed as a date, is checked where it is used.
        let r = app.graphql("mutation($d: NaiveDate!) { createAccount(input: { premisesId: \"x\", number: \"V1\", openedOn: $d }) { account { id } } }",
            json!({ "d": "2026-02-30" })).await;
        assert_eq!(crate::helpers::refusal(&r), crate::helpers::refused("VALIDATION", "input.openedOn", "not_a_date"), "{r}");
        // A text that only looks like a date is text: an account number.
        app.ok(ACCOUNT, json!({ "input": { "premisesId": premises, "number": "0202-11-01", "openedOn": "2026-11-01" } })).await;
        let accounts = app.ok("query($org: ID!) { accounts(organisationId: $org) { totalCount } }", json!({ "org": org })).await;
        assert_eq!(accounts["accounts"]["totalCount"], 1, "only the good one was written: {accounts}");
        // Line breaks and tabs are text.
        app.ok(CREATE, json!({ "input": { "organisationId": org, "fullName": "Мария\tИванова", "phones": [], "consentPersonalData": true } })).await;
    }
}

/// The resident set of this process (the server runs in it), in MiB.
fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap();
    kb / 1024.0
}

/// Sends a multipart upload of `size` bytes of file over a plain socket, as a
/// client that streams it would, with `Content-Length` (or chunked when
/// `declared` is false) and `files` file parts; the answer's status.
async fn raw_upload(
    app: &TestApp,
    token: Option<&str>,
    size: usize,
    declared: bool,
    files: usize,
) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = app.base.trim_start_matches("http://").to_string();
    let map: serde_json::Map<String, Value> = (0..files)
        .map(|i| (i.to_string(), json!(["variables.input.file"])))
        .collect();
    let mut head = String::new();
    head.push_str("--x\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n");
    head.push_str(&json!({ "query": "mutation($input: UploadAttachmentInput!) { uploadAttachment(input: $input) { attachment { id } } }",
        "variables": { "input": { "ownerType": "ACCOUNT", "ownerId": "00000000-0000-0000-0000-000000000000", "file": null } } }).to_string());
    head.push_str("\r\n--x\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n");
    head.push_str(&Value::Object(map).to_string());
    head.push_str("\r\n");
    let per_file = size / files.max(1);
    let part = |i: usize| {
        format!("--x\r\nContent-Disposition: form-data; name=\"{i}\"; filename=\"f{i}.pdf\"\r\nContent-Type: application/pdf\r\n\r\n")
    };
    let length = head.len()
        + (0..files)
            .map(|i| part(i).len() + per_file + 2)
            .sum::<usize>()
        + "--x--\r\n".len();
    let mut request = format!("POST /graphql HTTP/1.1\r\nHost: {host}\r\nContent-Type: multipart/form-data; boundary=x\r\nX-Requested-With: test\r\n");
    if let Some(t) = token {
        request.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    if declared {
        request.push_str(&format!("Content-Length: {length}\r\n\r\n"));
    } else {
        request.push_str("Transfer-Encoding: chunked\r\n\r\n");
    }
    let stream = tokio::net::TcpStream::connect(&host).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let sending = tokio::spawn(async move {
        let frame = |bytes: &[u8]| -> Vec<u8> {
            if declared {
                bytes.to_vec()
            } else {
                let mut f = format!("{:x}\r\n", bytes.len()).into_bytes();
                f.extend_from_slice(bytes);
                f.extend_from_slice(b"\r\n");
                f
            }
        };
        writer.write_all(request.as_bytes()).await?;
        writer.write_all(&frame(head.as_bytes())).await?;
        let chunk = vec![b'%'; 64 * 1024];
        for i in 0..files {
            writer.write_all(&frame(part(i).as_bytes())).await?;
            let mut left = per_file;
            while left > 0 {
                let n = left.min(chunk.len());
                writer.write_all(&frame(&chunk[..n])).await?;
                left -= n;
            }
            writer.write_all(&frame(b"\r\n")).await?;
        }
        writer.write_all(&frame(b"--x--\r\n")).await?;
        if !declared {
            writer.write_all(b"0\r\n\r\n").await?;
        }
        // Kept open: a half-closed connection is one the server may drop.
        Ok::<_, std::io::Error>(writer)
    });
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(60), reader.read(&mut answer))
        .await
        .unwrap()
        .unwrap();
    sending.abort();
    let head = String::from_utf8_lossy(&answer[..n]).to_string();
    head.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP answer: {head:?}"))
}

db_test! {
    async fn uploads_are_read_only_from_signed_in_users_and_within_their_limits(app: &TestApp) {
        // Anonymous: refused before the body is read.
        assert_eq!(raw_upload(app, None, 60 * 1024 * 1024, true, 1).await, 401);
        let token = app.admin.token.clone();
        // Declared too large: refused at once; streamed too large: refused when counted.
        assert_eq!(raw_upload(app, token.as_deref(), 70 * 1024 * 1024, true, 1).await, 413);
        assert_eq!(raw_upload(app, token.as_deref(), 70 * 1024 * 1024, false, 1).await, 413);
        // One small file is read; more files than allowed are refused.
        assert_eq!(raw_upload(app, token.as_deref(), 10 * 1024, true, 1).await, 200);
        assert_eq!(raw_upload(app, token.as_deref(), 10 * 1024, true, 5).await, 400);
        alive(app).await;
    }
}

/// Memory, measured alone by `scripts/isolated.sh` (the process's resident set
/// is shared with every test running beside it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement of the process's memory: run alone by scripts/isolated.sh"]
async fn anonymous_and_oversized_uploads_leave_memory_flat() {
    crate::helpers::run(crate::helpers::Db::Sqlite, |app| Box::pin(async move {
        let before = rss_mib();
        let uploads = (0..3).map(|_| raw_upload(app, None, 60 * 1024 * 1024, true, 1));
        for status in futures_util::future::join_all(uploads).await {
            assert_eq!(status, 401);
        }
        let after = rss_mib();
        println!("three anonymous 60 MB uploads at once: RSS {before:.1} MiB before, {after:.1} MiB after");
        assert!(after - before < 16.0, "memory grew from {before:.1} to {after:.1} MiB");
        let token = app.admin.token.clone();
        let before = rss_mib();
        assert_eq!(raw_upload(app, token.as_deref(), 70 * 1024 * 1024, false, 1).await, 413);
        let after = rss_mib();
        println!("a signed-in 70 MB upload, chunked, over the limit: RSS {before:.1} MiB before, {after:.1} MiB after");
        assert!(after - before < 16.0, "memory grew from {before:.1} to {after:.1} MiB");
    })).await;
}

/// A timing: measured alone by `scripts/isolated.sh`, not among the suite's
/// parallel tests (which share the two cores with it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a timing: run alone by scripts/isolated.sh"]
async fn health_answers_quickly_while_eight_house_pdfs_render() {
    crate::helpers::run(crate::helpers::Db::Sqlite, |app| Box::pin(async move {
        let org = app.create_org("Pdf").await;
        app.ok("mutation($input: BillingSettingsInput!) { setBillingSettings(input: $input) { dueDay } }",
            json!({ "input": { "organisationId": org, "qrStandard": "GOST", "dueDay": 15, "correspAccount": "30101810400000000225" } })).await;
        let house = app.create_house(&org, "Ленина", "8").await;
        for n in 1..=40 {
            let premises = app.create_premises(&house, &n.to_string(), "48.5").await;
            app.create_account(&premises, &format!("8800{n:02}")).await;
        }
        crate::billing_run::service(app, &org, json!({ "code": "maintenance", "name": "Содержание жилого помещения", "unit": "м²", "method": "AREA" }), json!([{ "tiers": [{ "price": "30.15" }] }])).await;
        crate::billing_run::calculated(app, &org, "2026-11").await;
        let url = format!("{}/houses/{house}/receipts/2026-11.pdf", app.base);
        let token = app.admin.token.clone().unwrap();
        let started = Instant::now();
        let renders: Vec<_> = (0..8).map(|_| {
            let (client, url, token) = (app.client.clone(), url.clone(), token.clone());
            tokio::spawn(async move {
                let r = client.get(url).bearer_auth(token).send().await.unwrap();
                assert_eq!(r.status(), 200);
                r.bytes().await.unwrap().len()
            })
        }).collect();
        let mut waits = Vec::new();
        while renders.iter().any(|r| !r.is_finished()) {
            let t = Instant::now();
            let r = app.client.get(format!("{}/healthz", app.base)).send().await.unwrap();
            assert_eq!(r.status(), 200);
            waits.push(t.elapsed());
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let rendering = started.elapsed();
        for r in renders {
            assert!(r.await.unwrap() > 10_000);
        }
        waits.sort();
        let p99 = waits[(waits.len() * 99 / 100).min(waits.len() - 1)];
        println!("/healthz while eight house PDFs (40 receipts each) rendered for {:.1} s: {} probes, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            rendering.as_secs_f64(), waits.len(), waits[waits.len() / 2].as_secs_f64() * 1e3, p99.as_secs_f64() * 1e3,
            waits[waits.len() - 1].as_secs_f64() * 1e3);
        assert!(waits.len() >= 20, "the renders ended too soon to tell");
        assert!(p99 < Duration::from_millis(5), "p99 {p99:?}");
    })).await;
}

db_test! {
    async fn billing_progress_stops_for_a_subscriber_whose_rights_were_taken_away(app: &TestApp) {
        let org = app.create_org("Progress").await;
        let house = app.create_house(&org, "Ленина", "9").await;
        for n in 1..=3 {
            let premises = app.create_premises(&house, &n.to_string(), "40").await;
            app.create_account(&premises, &format!("9900{n}")).await;
        }
        crate::billing_run::service(app, &org, json!({ "code": "maintenance", "name": "Содержание", "unit": "м²", "method": "AREA" }), json!([{ "tiers": [{ "price": "30" }] }])).await;
        let accountant = app.login_as("progress@example.org", &org, &["ACCOUNTANT"], &[]).await;
        let user = accountant.ok("{ me { id } }", json!({})).await["me"]["id"].as_str().unwrap().to_string();
        const PROGRESS: &str = "subscription($org: ID!) { billingProgress(organisationId: $org) { period status done total } }";
        let watch = |caller: crate::helpers::Caller| {
            let org = org.clone();
            async move {
                let mut ws = connect(app, None).await;
                init(&mut ws, caller.token.as_deref()).await.unwrap();
                send(&mut ws, json!({ "id": "p", "type": "subscribe", "payload": { "query": PROGRESS, "variables": { "org": org } } })).await;
                ws
            }
        };
        let mut theirs = watch(accountant.clone()).await;
        let mut admins = watch(app.admin.clone()).await;
        // A subscription has no acknowledgement: run until its first progress
        // shows it is following.
        let mut first = None;
        for _ in 0..5 {
            crate::billing_run::calculated(app, &org, "2026-11").await;
            if let Ok(Ok(m)) = tokio::time::timeout(Duration::from_secs(3), next(&mut theirs)).await {
                first = Some(m);
                break;
            }
        }
        let first = first.expect("the accountant saw the run's progress");
        assert_eq!(first["payload"]["data"]["billingProgress"]["period"], "2026-11", "{first}");
        // The accountant becomes an engineer: no more billing progress for them.
        app.ok("mutation($input: UpdateMembershipInput!) { updateMembership(input: $input) { member { userId } } }",
            json!({ "input": { "organisationId": org, "userId": user, "roles": ["ENGINEER"] } })).await;
        while let Ok(Ok(m)) = tokio::time::timeout(Duration::from_millis(300), next(&mut theirs)).await {
            assert_eq!(m["payload"]["data"]["billingProgress"]["period"], "2026-11", "only the first run's: {m}");
        }
        while tokio::time::timeout(Duration::from_millis(300), next(&mut admins)).await.is_ok() {}
        crate::billing_run::calculated(app, &org, "2026-11").await;
        let admin_saw = next(&mut admins).await.unwrap();
        assert_eq!(admin_saw["payload"]["data"]["billingProgress"]["period"], "2026-11");
        let late = tokio::time::timeout(Duration::from_secs(2), next(&mut theirs)).await;
        assert!(late.is_err() || late.as_ref().is_ok_and(|m| m.as_ref().is_ok_and(|m| m["type"] == "complete")),
            "the former accountant still sees billing progress: {late:?}");
    }
}
