//! The HTTP surface: request hygiene, health, metrics, GraphiQL, the committed SDL.

use serde_json::{json, Value};

use crate::db_test;
use crate::helpers::{spawn_app, Db};

#[test]
fn the_committed_schema_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../schema.graphql");
    let sdl = schema::graphql::sdl();
    if std::env::var("KVARTAL_UPDATE_SCHEMA").is_ok() {
        std::fs::write(path, &sdl).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == sdl,
        "schema.graphql is out of date: run `KVARTAL_UPDATE_SCHEMA=1 cargo test -p kvartal-tests --test e2e committed_schema` or `cargo run -- schema > schema.graphql`"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_and_metrics_answer() {
    let app = spawn_app(Db::Sqlite).await;
    let get = |path: &str| app.client.get(format!("{}{path}", app.base)).send();
    assert_eq!(get("/healthz").await.unwrap().text().await.unwrap(), "ok");
    assert_eq!(get("/readyz").await.unwrap().status(), 200);
    app.graphql(
        "query Organisations { organisations { totalCount } }",
        json!({}),
    )
    .await;
    let metrics = get("/metrics").await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains(
            "kvartal_graphql_requests_total{operation=\"Organisations\",outcome=\"ok\"} 1"
        ),
        "{metrics}"
    );
    assert!(metrics
        .contains("kvartal_graphql_request_duration_seconds_count{operation=\"Organisations\"} 1"));
    let page = app
        .client
        .get(format!("{}/graphql", app.base))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("graphiql"), "GraphiQL is served to browsers");
    // From the server's own assets: nothing from a CDN, and a CSP that allows
    // no other origin.
    assert!(page.contains("/vendor/graphiql/graphiql.min.js"), "{page}");
    assert!(
        !page.contains("https://") && !page.contains("unpkg"),
        "{page}"
    );
    let page_csp = app
        .client
        .get(format!("{}/graphql", app.base))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        !page_csp.contains("https:") && !page_csp.contains("http:"),
        "{page_csp}"
    );
    for asset in [
        "/vendor/graphiql/graphiql.min.js",
        "/vendor/graphiql/graphiql.min.css",
        "/graphiql.js",
    ] {
        assert_eq!(get(asset).await.unwrap().status(), 200, "{asset}");
    }
    let index = get("/").await.unwrap();
    assert_eq!(index.headers()["content-type"], "text/html; charset=utf-8");
    assert!(
        get("/graphql/ws").await.unwrap().status().is_client_error(),
        "a plain GET is no websocket"
    );
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_that_could_be_forged_or_batched_are_refused() {
    let app = spawn_app(Db::Sqlite).await;
    let url = format!("{}/graphql", app.base);
    let mutation = "mutation { createOrganisation(input: {name: \"X\", currency: \"EUR\", locale: \"en\", timeZone: \"UTC\"}) { organisation { id } } }";
    let response = app
        .client
        .get(&url)
        .query(&[("query", mutation)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    let response = app
        .client
        .get(&url)
        .query(&[("query", "{ organisations { totalCount } }")])
        .bearer_auth(app.admin.token.as_deref().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["data"]["organisations"]["totalCount"], 1, "{body}");
    for content_type in ["text/plain", "application/x-www-form-urlencoded"] {
        let response = app
            .client
            .post(&url)
            .header("content-type", content_type)
            .body(json!({ "query": mutation }).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 415, "{content_type}");
    }
    let form = reqwest::multipart::Form::new()
        .text("operations", json!({ "query": mutation }).to_string())
        .text("map", "{}");
    let response = app.client.post(&url).multipart(form).send().await.unwrap();
    assert_eq!(response.status(), 400);
    let response = app
        .client
        .post(&url)
        .json(&json!([{ "query": "{ __typename }" }]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = app
        .graphql("{ organisations { totalCount } }", json!({}))
        .await;
    assert_eq!(
        body["data"]["organisations"]["totalCount"], 1,
        "nothing was created"
    );
    app.cleanup().await;
}

db_test! {
    async fn overly_deep_queries_are_refused(app: &TestApp) {
        let org = app.create_org("УК Глубина").await;
        let deep = "query($org: ID!) { accounts(organisationId: $org) { edges { node { premises { house { premises { edges { node { accounts { premises { house { premises { edges { node { number } } } } } } } } } } } } } } }";
        let response = app.graphql(deep, json!({ "org": org })).await;
        let message = response["errors"][0]["message"].as_str().unwrap_or("");
        assert!(message.contains("nested too deep") || message.contains("depth"), "{response}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app(Db::Sqlite).await;
    for path in [
        "/",
        "/graphql?query=%7B__typename%7D",
        "/nowhere",
        "/healthz",
    ] {
        let r = app
            .client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        let h = r.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{path}: {csp}"
        );
        assert!(
            !h.contains_key("strict-transport-security"),
            "plain http: no HSTS"
        );
    }
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_allowed_origins_may_call_the_api_or_open_a_websocket() {
    let app = crate::helpers::spawn_app_with(Db::Sqlite, |s| {
        s.allowed_origins = vec!["https://app.example.org".into()];
    })
    .await;
    let url = format!("{}/graphql", app.base);
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, &url)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let ok = preflight("https://app.example.org").await.unwrap();
    assert_eq!(ok.status(), 204);
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://app.example.org"
    );
    assert_eq!(ok.headers()["access-control-allow-credentials"], "true");
    let evil = preflight("https://evil.example.com").await.unwrap();
    assert_eq!(evil.status(), 403);
    assert!(!evil.headers().contains_key("access-control-allow-origin"));
    // A cross-site POST that skips the preflight is refused before it runs.
    let forged = app
        .client
        .post(&url)
        .header("origin", "https://evil.example.com")
        .bearer_auth(app.admin.token.as_deref().unwrap())
        .json(&json!({ "query": "mutation { logoutEverywhere { ended } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert_eq!(
        app.ok("{ me { email } }", json!({})).await["me"]["email"],
        "admin@example.org"
    );
    // The server's own origin is always allowed.
    let own = app
        .client
        .post(&url)
        .header("origin", &app.base)
        .json(&json!({ "query": "{ me { email } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 200);
    let ws = |origin: &'static str| {
        app.client
            .get(format!("{}/graphql/ws", app.base))
            .header("origin", origin)
            .header("connection", "upgrade")
            .header("upgrade", "websocket")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
            .header("sec-websocket-protocol", "graphql-transport-ws")
            .send()
    };
    assert_eq!(ws("https://evil.example.com").await.unwrap().status(), 403);
    assert_ne!(ws("https://app.example.org").await.unwrap().status(), 403);
    // DNS rebinding: a page whose own name resolves here sends its name as
    // both `Host` and `Origin`; the configuration alone decides.
    let rebound = app
        .client
        .post(&url)
        .header("host", "rebind.example.com")
        .header("origin", "http://rebind.example.com")
        .bearer_auth(app.admin.token.as_deref().unwrap())
        .json(&json!({ "query": "mutation { logoutEverywhere { ended } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(rebound.status(), 403);
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_with_a_public_url_allows_that_origin_only() {
    let app = crate::helpers::spawn_app_with(Db::Sqlite, |s| {
        s.public_url = "https://kvartal.example.org".into();
    })
    .await;
    let post = |origin: String| {
        app.client
            .post(format!("{}/graphql", app.base))
            .header("origin", origin)
            .json(&json!({ "query": "{ me { email } }" }))
            .send()
    };
    assert_eq!(
        post("https://kvartal.example.org".into())
            .await
            .unwrap()
            .status(),
        200
    );
    // Its loopback address is no origin of its own once it has a public one.
    assert_eq!(post(app.base.clone()).await.unwrap().status(), 403);
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aliases_bodies_and_time_are_limited() {
    let app = crate::helpers::spawn_app_with(Db::Postgres, |s| s.request_timeout_secs = 1).await;
    let many: String = (0..31).map(|i| format!("a{i}: __typename ")).collect();
    let response = app
        .client
        .post(format!("{}/graphql", app.base))
        .json(&json!({ "query": format!("{{ {many} }}") }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "TOO_MANY_ALIASES");
    let huge = "x".repeat(1024 * 1024 + 1);
    let response = app
        .client
        .post(format!("{}/graphql", app.base))
        .json(&json!({ "query": "{ __typename }", "variables": { "pad": huge } }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    // A change stuck behind another writer for longer than allowed is cut off.
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let org = app.create_org("УК Время").await;
    let blocker = app.db().begin().await.unwrap();
    blocker
        .execute_unprepared("LOCK TABLE houses IN EXCLUSIVE MODE")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let response = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(app.admin.token.as_deref().unwrap())
        .json(&json!({ "query": "mutation($input: CreateHouseInput!) { createHouse(input: $input) { house { id } } }",
            "variables": { "input": { "organisationId": org, "city": "Город", "street": "Долгая", "building": "1" } } }))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 503, "{body}");
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
    assert_eq!(body["errors"][0]["extensions"]["code"], "TIMEOUT");
    blocker.rollback().await.unwrap();
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_and_suggestions_can_be_switched_off() {
    let app = crate::helpers::spawn_app_with(Db::Sqlite, |s| {
        s.introspection = false;
        s.field_suggestions = false;
    })
    .await;
    let response = app
        .graphql("{ __schema { types { name } } }", json!({}))
        .await;
    assert!(
        response["data"]["__schema"].is_null() || response["errors"].is_array(),
        "{response}"
    );
    assert!(!response.to_string().contains("Organisation"), "{response}");
    let response = app
        .graphql("{ organisatoins { totalCount } }", json!({}))
        .await;
    let message = response["errors"][0]["message"].as_str().unwrap();
    assert!(!message.contains("Did you mean"), "{message}");
    app.cleanup().await;
    let open = spawn_app(Db::Sqlite).await;
    let response = open
        .graphql("{ organisatoins { totalCount } }", json!({}))
        .await;
    assert!(
        response["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Did you mean"),
        "{response}"
    );
    open.cleanup().await;
}

/// GraphQL over HTTP (graphql/graphql-over-http): the media type the client
/// accepts, request errors as 400 without `data` under
/// `application/graphql-response+json`, messages that never echo the document,
/// and `operationName` over GET.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_follow_the_graphql_over_http_specification() {
    let app = spawn_app(Db::Sqlite).await;
    let post = |accept: &'static str, body: Value| {
        let mut r = app
            .client
            .post(format!("{}/graphql", app.base))
            .bearer_auth(app.admin.token.clone().unwrap())
            .json(&body);
        if !accept.is_empty() {
            r = r.header("accept", accept);
        }
        r.send()
    };
    const GQL: &str = "application/graphql-response+json";
    const JSON: &str = "application/json";
    // The media type asked for (none: JSON).
    for (accept, media) in [
        (JSON, JSON),
        (GQL, GQL),
        ("", JSON),
        (
            "application/graphql-response+json, application/json;q=0.9",
            GQL,
        ),
    ] {
        let r = post(accept, json!({ "query": "{ me { email } }" }))
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let kind = r.headers()["content-type"].to_str().unwrap().to_string();
        assert!(kind.starts_with(media), "Accept {accept:?} gave {kind}");
    }
    // Request errors: parse, validation, variable coercion.
    let failures = [
        json!({ "query": "{ me { email " }),
        json!({ "query": "{ me { nonsense } }" }),
        json!({ "query": "query($n: Int!) { organisations(first: $n) { totalCount } }", "variables": { "n": "many" } }),
        // A date inside an input object, as a variable and as a literal.
        json!({ "query": "mutation($i: CreateAccountInput!) { createAccount(input: $i) { account { id } } }",
               "variables": { "i": { "premisesId": "x", "number": "1", "openedOn": "2026-13-45" } } }),
        json!({ "query": "mutation { createAccount(input: { premisesId: \"x\", number: \"1\", openedOn: \"2026-02-30\" }) { account { id } } }" }),
    ];
    for body in &failures {
        let r = post(GQL, body.clone()).await.unwrap();
        assert_eq!(r.status(), 400, "{body}");
        let answer: Value = r.json().await.unwrap();
        assert!(answer.get("data").is_none(), "{answer}");
        assert!(answer["errors"][0]["message"].is_string(), "{answer}");
        let r = post(JSON, body.clone()).await.unwrap();
        assert_eq!(r.status(), 200, "{body}");
    }
    // A field that fails while running is no request error: 200 with data.
    let r = post(
        GQL,
        json!({ "query": "{ organisation(id: \"00000000-0000-0000-0000-000000000000\") { id } }" }),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    // A long document's syntax error does not quote it back.
    let marker = "x".repeat(100_000);
    let r = post(
        GQL,
        json!({ "query": format!("{{ me {{ email }} }} \"{marker}") }),
    )
    .await
    .unwrap();
    let answer: Value = r.json().await.unwrap();
    let message = answer["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.len() < 400 && !message.contains(&marker[..400]),
        "{} bytes",
        message.len()
    );
    // GET selects the operation named.
    let url = reqwest::Url::parse_with_params(
        &format!("{}/graphql", app.base),
        [
            (
                "query",
                "query A { me { email } } query B { organisations { totalCount } }",
            ),
            ("operationName", "B"),
        ],
    )
    .unwrap();
    let r: Value = app
        .client
        .get(url)
        .bearer_auth(app.admin.token.clone().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["data"]["organisations"]["totalCount"], 1, "{r}");
    assert!(r["data"].get("me").is_none(), "{r}");
    app.cleanup().await;
}
