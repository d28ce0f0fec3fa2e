//! Logging in and out: cookies for the web, bearer tokens for apps, uniform
//! errors, attempt limits, idle and absolute expiry, and sessions in Redis.

use chrono::Duration;
use serde_json::{json, Value};

use crate::db_test;
use crate::helpers::{redis_url, Caller, TestApp, PASSWORD};

const ME: &str = "{ me { email } }";

async fn me_with_cookie(app: &TestApp, cookie: &str) -> Value {
    app.client
        .post(format!("{}/graphql", app.base))
        .header("cookie", cookie)
        .json(&json!({ "query": ME }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn redis_has(key: &str) -> bool {
    let client = redis::Client::open(redis_url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("EXISTS")
        .arg(key)
        .query_async::<i64>(&mut conn)
        .await
        .unwrap()
        == 1
}

db_test! {
    async fn a_web_login_sets_an_http_only_lax_cookie_that_logout_clears(app: &TestApp) {
        let response = app
            .client
            .post(format!("{}/graphql", app.base))
            .json(&json!({ "query": "mutation($input: LoginInput!) { login(input: $input) { token displayName } }",
                "variables": { "input": { "email": "ADMIN@example.org ", "password": PASSWORD } } }))
            .send()
            .await
            .unwrap();
        let set_cookie = response.headers()["set-cookie"].to_str().unwrap().to_string();
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["data"]["login"]["token"], Value::Null, "the web never sees the token");
        assert!(set_cookie.starts_with("kvartal_session="), "{set_cookie}");
        for part in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=2592000"] {
            assert!(set_cookie.contains(part), "{part} in {set_cookie}");
        }
        assert!(!set_cookie.contains("Secure"), "plain http: no Secure flag");
        let cookie = set_cookie.split(';').next().unwrap().to_string();
        assert_eq!(me_with_cookie(app, &cookie).await["data"]["me"]["email"], "admin@example.org");

        let token = cookie.trim_start_matches("kvartal_session=");
        if let Some(prefix) = &app.redis_prefix {
            let key = format!("{prefix}session:{}", schema::auth::sessions::token_hash(token));
            assert!(redis_has(&key).await, "the session lives in Redis");
        }
        let out = app
            .client
            .post(format!("{}/graphql", app.base))
            .header("cookie", &cookie)
            .json(&json!({ "query": "mutation { logout { ok } }" }))
            .send()
            .await
            .unwrap();
        assert!(out.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
        assert_eq!(me_with_cookie(app, &cookie).await["data"]["me"], Value::Null);
        if let Some(prefix) = &app.redis_prefix {
            let key = format!("{prefix}session:{}", schema::auth::sessions::token_hash(token));
            assert!(!redis_has(&key).await, "logout removed it from Redis");
        }
    }
}

db_test! {
    async fn an_unknown_email_and_a_wrong_password_look_the_same_and_attempts_are_limited(app: &TestApp) {
        let login = |email: &'static str, password: &'static str| async move {
            app.anonymous()
                .error(
                    "mutation($input: LoginInput!) { login(input: $input) { userId } }",
                    json!({ "input": { "email": email, "password": password } }),
                )
                .await
        };
        let unknown = login("nobody@example.org", "whatever it is").await;
        let wrong = login("admin@example.org", "whatever it is").await;
        assert_eq!(unknown["extensions"]["code"], "INVALID_CREDENTIALS");
        assert_eq!(unknown["message"], wrong["message"]);
        assert_eq!(unknown["extensions"], wrong["extensions"]);
        for _ in 0..9 {
            login("admin@example.org", "whatever it is").await;
        }
        let limited = login("admin@example.org", PASSWORD).await;
        assert_eq!(limited["extensions"]["code"], "RATE_LIMITED", "{limited}");
        assert!(limited["extensions"]["retryAfter"].as_u64().unwrap() > 0);
        // Another account from the same address is not blocked by it.
        let other = app.login_as("other@example.org", &app_org(app).await, &["ENGINEER"], &[]).await;
        assert!(other.token.is_some());
    }
}

async fn app_org(app: &TestApp) -> String {
    app.create_org("УК Сессии").await
}

db_test! {
    async fn sessions_end_when_idle_at_their_absolute_end_and_everywhere_on_request(app: &TestApp) {
        let org = app_org(app).await;
        // Removed from the staff, the user's sessions end at once.
        let fired = app.login_as("fired@example.org", &org, &["ENGINEER"], &[]).await;
        let user_id = fired.ok("{ me { id } }", json!({})).await["me"]["id"].clone();
        app.ok(
            "mutation($input: RemoveMembershipInput!) { removeMembership(input: $input) { ok } }",
            json!({ "input": { "organisationId": org, "userId": user_id } }),
        )
        .await;
        assert_eq!(me(&fired).await, Value::Null);

        let phone = app.login_as("phone@example.org", &org, &["ENGINEER"], &[]).await;
        let laptop = app.anonymous().login("phone@example.org", PASSWORD).await;
        let sessions = phone.ok("{ mySessions { current method } }", json!({})).await;
        assert_eq!(sessions["mySessions"].as_array().unwrap().len(), 2);
        assert_eq!(sessions["mySessions"].as_array().unwrap().iter().filter(|s| s["current"] == true).count(), 1);

        // Used every 11 hours the phone stays in; the unused laptop ends after 12.
        app.clock.advance(Duration::hours(11));
        assert_eq!(me(&phone).await, "phone@example.org");
        app.clock.advance(Duration::hours(2));
        assert_eq!(me(&phone).await, "phone@example.org");
        assert_eq!(me(&laptop).await, Value::Null, "idle for 13 hours");

        let tablet = app.anonymous().login("phone@example.org", PASSWORD).await;
        let ended = phone.ok("mutation { logoutEverywhere { ended } }", json!({})).await;
        assert_eq!(ended["logoutEverywhere"]["ended"], 2);
        assert_eq!(me(&phone).await, Value::Null);
        assert_eq!(me(&tablet).await, Value::Null);

        // However busy, a session ends 30 days after login.
        let busy = app.anonymous().login("phone@example.org", PASSWORD).await;
        for _ in 0..65 {
            app.clock.advance(Duration::hours(11));
            assert_eq!(me(&busy).await, "phone@example.org");
        }
        app.clock.advance(Duration::hours(11));
        assert_eq!(me(&busy).await, Value::Null, "past 30 days");

    }
}

async fn me(caller: &Caller) -> Value {
    caller.ok(ME, json!({})).await["me"]["email"].clone()
}
