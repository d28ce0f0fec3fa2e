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
    let index = get("/").await.unwrap();
    assert_eq!(index.headers()["content-type"], "text/html; charset=utf-8");
    assert_eq!(get("/graphql/ws").await.unwrap().status(), 501);
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
