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

/// A real SMTP server on loopback (Python's aiosmtpd) that stores every message
/// in a maildir.
struct SmtpServer {
    port: u16,
    dir: std::path::PathBuf,
    child: std::process::Child,
}

impl SmtpServer {
    async fn start() -> SmtpServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = std::env::temp_dir().join(format!("kvartal-mail-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let child = std::process::Command::new("python3")
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg(dir.join("mail"))
            .stdin(std::process::Stdio::null())
            .spawn()
            .expect("python3 -m aiosmtpd (pip install aiosmtpd; scripts/test.sh does)");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        SmtpServer { port, dir, child }
    }

    /// The messages received so far: their decoded headers and body, as Python's
    /// email package reads them.
    fn messages(&self) -> Vec<String> {
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            if let Ok(entries) = std::fs::read_dir(self.dir.join("mail").join(sub)) {
                for e in entries.flatten() {
                    let script = "import email, email.header, sys\nm = email.message_from_binary_file(open(sys.argv[1], 'rb'))\nfor k in ('From', 'To', 'Subject'):\n    print(k + ': ' + str(email.header.make_header(email.header.decode_header(m[k]))))\nprint()\nprint(m.get_payload(decode=True).decode(m.get_content_charset() or 'utf-8'))";
                    let decoded = std::process::Command::new("python3")
                        .args(["-c", script])
                        .arg(e.path())
                        .output()
                        .unwrap();
                    out.push(String::from_utf8_lossy(&decoded.stdout).to_string());
                }
            }
        }
        out
    }

    /// Waits for the `n`-th message.
    async fn wait_for(&self, n: usize) -> String {
        for _ in 0..200 {
            let mut all = self.messages();
            if all.len() >= n {
                all.sort();
                return all.pop().unwrap();
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("no message arrived");
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The app on `db` sending its mail through `smtp`, with other settings changed
/// by `configure`.
async fn app_with_smtp(
    db: crate::helpers::Db,
    smtp: &SmtpServer,
    configure: impl FnOnce(&mut kvartal::config::Settings),
) -> crate::helpers::TestApp {
    let port = smtp.port;
    crate::helpers::spawn_app_with(db, move |s| {
        s.smtp_host = Some("127.0.0.1".into());
        s.smtp_port = port;
        s.smtp_security = "none".into();
        s.smtp_from = "Kvartal <no-reply@kvartal.test>".into();
        configure(s);
    })
    .await
}

fn code_in(message: &str) -> String {
    let digits: Vec<char> = message.chars().collect();
    digits
        .windows(6)
        .map(|w| w.iter().collect::<String>())
        .find(|w| w.chars().all(|c| c.is_ascii_digit()))
        .expect("a six-digit code")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_sent_by_email_signs_in_once() {
    let smtp = SmtpServer::start().await;
    let port = smtp.port;
    let app = crate::helpers::spawn_app_with(crate::helpers::Db::Sqlite, move |s| {
        s.smtp_host = Some("127.0.0.1".into());
        s.smtp_port = port;
        s.smtp_security = "none".into();
        s.smtp_from = "Kvartal <no-reply@kvartal.test>".into();
    })
    .await;
    let anon = app.anonymous();
    let ask = |email: &'static str| {
        let anon = anon.clone();
        async move {
            anon.ok("mutation($input: RequestEmailCodeInput!) { requestEmailCode(input: $input) { ok } }",
                json!({ "input": { "email": email } })).await
        }
    };
    let sign_in = |code: String| {
        let anon = anon.clone();
        async move {
            anon.graphql("mutation($input: LoginWithEmailCodeInput!) { loginWithEmailCode(input: $input) { token } }",
                json!({ "input": { "email": "admin@example.org", "code": code, "client": "APP" } })).await
        }
    };
    // An unknown address gets the same answer and no mail.
    assert_eq!(
        ask("stranger@example.org").await["requestEmailCode"]["ok"],
        true
    );
    ask("admin@example.org").await;
    let message = smtp.wait_for(1).await;
    assert_eq!(smtp.messages().len(), 1, "nothing was sent to the stranger");
    assert!(message.contains("To: admin@example.org"), "{message}");
    assert!(message.contains("no-reply@kvartal.test"), "{message}");
    let code = code_in(message.split("\n\n").nth(1).unwrap_or(&message));
    let wrong = sign_in("999999".into()).await;
    assert_eq!(
        wrong["errors"][0]["extensions"]["code"],
        "INVALID_CREDENTIALS"
    );
    let ok = sign_in(code.clone()).await;
    let token = ok["data"]["loginWithEmailCode"]["token"]
        .as_str()
        .expect("signed in")
        .to_string();
    let me = crate::helpers::Caller {
        token: Some(token),
        ..app.anonymous()
    };
    let sessions = me.ok("{ mySessions { method current } }", json!({})).await;
    let current = sessions["mySessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == true)
        .unwrap()
        .clone();
    assert_eq!(current["method"], "email_code");
    let again = sign_in(code).await;
    assert_eq!(
        again["errors"][0]["extensions"]["code"], "INVALID_CREDENTIALS",
        "a code works once"
    );

    // Five wrong tries spend a code.
    ask("admin@example.org").await;
    let message = smtp.wait_for(2).await;
    let code = code_in(message.split("\n\n").nth(1).unwrap_or(&message));
    for _ in 0..5 {
        sign_in("000001".into()).await;
    }
    assert_eq!(
        sign_in(code).await["errors"][0]["extensions"]["code"],
        "INVALID_CREDENTIALS"
    );
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resident_invited_by_email_joins_with_the_link_and_sees_their_account() {
    let smtp = SmtpServer::start().await;
    let port = smtp.port;
    let app = crate::helpers::spawn_app_with(crate::helpers::Db::Sqlite, move |s| {
        s.smtp_host = Some("127.0.0.1".into());
        s.smtp_port = port;
        s.smtp_security = "none".into();
        s.public_url = "https://kvartal.example.org".into();
    })
    .await;
    let org = app.create_org("УК Приглашение").await;
    let house = app.create_house(&org, "Новая", "7").await;
    let premises = app.create_premises(&house, "12", "48.5").await;
    let account = app.create_account(&premises, "7700012").await;
    app.ok(
        "mutation($input: InviteResidentInput!) { inviteResident(input: $input) { account { number } } }",
        json!({ "input": { "accountId": account, "email": "neighbour@example.org" } }),
    )
    .await;
    let message = smtp.wait_for(1).await;
    assert!(message.contains("To: neighbour@example.org"), "{message}");
    // The organisation speaks Russian: so does its invitation.
    assert!(
        message.contains("Subject: УК Приглашение: приглашение в личный кабинет"),
        "{message}"
    );
    let link_start = message
        .find("https://kvartal.example.org/#/join?")
        .expect("a join link");
    let link: String = message[link_start..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let param = |name: &str| {
        link.split(['?', '&'])
            .find_map(|p| p.strip_prefix(&format!("{name}=")))
            .unwrap()
            .replace("%40", "@")
    };
    assert_eq!(param("account"), "7700012");
    assert_eq!(param("email"), "neighbour@example.org");
    let joined = app
        .anonymous()
        .ok(
            "mutation($input: RegisterResidentInput!) { registerResident(input: $input) { token } }",
            json!({ "input": { "email": "neighbour@example.org", "displayName": "Сосед", "password": PASSWORD,
                "accountNumber": param("account"), "code": param("code"), "client": "APP" } }),
        )
        .await;
    let resident = Caller {
        token: joined["registerResident"]["token"]
            .as_str()
            .map(str::to_string),
        ..app.anonymous()
    };
    let me = resident
        .ok(
            "{ me { accounts { number } memberships { roles } } }",
            json!({}),
        )
        .await;
    assert_eq!(me["me"]["accounts"][0]["number"], "7700012");
    assert_eq!(me["me"]["memberships"], json!([]));
    let log = app
        .ok("query($org: ID!) { auditLog(organisationId: $org, filter: { objectId: null, operation: \"inviteResident\" }) { totalCount } }", json!({ "org": org }))
        .await;
    assert_eq!(log["auditLog"]["totalCount"], 1);
    app.cleanup().await;
}

/// A letter that cannot go says the new code is saved (never a letter with a
/// code that was not kept): the invitation is in the audit log, and inviting
/// again sends another code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resident_invitation_whose_letter_fails_says_the_code_is_saved() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = crate::helpers::spawn_app_with(crate::helpers::Db::Sqlite, move |s| {
        s.smtp_host = Some("127.0.0.1".into());
        s.smtp_port = port;
        s.smtp_security = "none".into();
    })
    .await;
    let org = app.create_org("УК Почта").await;
    let house = app.create_house(&org, "Почтовая", "1").await;
    let account = app
        .create_account(&app.create_premises(&house, "1", "40").await, "7700099")
        .await;
    let error = app
        .error(
            "mutation($input: InviteResidentInput!) { inviteResident(input: $input) { account { number } } }",
            json!({ "input": { "accountId": account, "email": "neighbour@example.org" } }),
        )
        .await;
    assert_eq!(error["extensions"]["code"], "UNAVAILABLE", "{error}");
    assert_eq!(error["extensions"]["what"], "email", "{error}");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("7700099")
            && message.contains("saved")
            && message.contains("neighbour@example.org"),
        "{error}"
    );
    let log = app
        .ok("query($org: ID!) { auditLog(organisationId: $org, filter: { operation: \"inviteResident\" }) { totalCount } }", json!({ "org": org }))
        .await;
    assert_eq!(
        log["auditLog"]["totalCount"], 1,
        "the code was stored before the letter"
    );
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_sessions_and_ceremonies_are_swept_from_the_database() {
    use sea_orm::{EntityTrait, PaginatorTrait};
    let app = crate::helpers::spawn_app(crate::helpers::Db::Sqlite).await;
    app.ok(
        "mutation { startPasskeyRegistration { ceremonyId } }",
        json!({}),
    )
    .await;
    let sessions = entities::session::Entity::find()
        .count(app.db())
        .await
        .unwrap();
    assert!(sessions >= 1);
    let auth = kvartal::local_auth(app.db(), app.clock.clone());
    assert_eq!(
        auth.prune_expired().await.unwrap(),
        0,
        "nothing has expired yet"
    );
    app.clock.advance(Duration::days(31));
    assert!(auth.prune_expired().await.unwrap() > sessions);
    assert_eq!(
        entities::session::Entity::find()
            .count(app.db())
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        entities::ceremony::Entity::find()
            .count(app.db())
            .await
            .unwrap(),
        0
    );
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passkey_ceremonies_are_used_once_and_expire_in_minutes() {
    let owned = crate::helpers::spawn_app(crate::helpers::Db::Sqlite).await;
    let app = &owned;
    let start = || async {
        app.ok(
            "mutation { startPasskeyRegistration { ceremonyId options } }",
            json!({}),
        )
        .await["startPasskeyRegistration"]
            .clone()
    };
    let finish = |ceremony: Value| async move {
        app.error(
            "mutation($input: FinishPasskeyRegistrationInput!) { finishPasskeyRegistration(input: $input) { passkey { id } } }",
            json!({ "input": { "ceremonyId": ceremony, "credential": { "id": "x" }, "name": "Key" } }),
        )
        .await
    };
    let c = start().await;
    let options = &c["options"]["publicKey"];
    assert_eq!(options["rp"]["id"], "localhost");
    assert_eq!(options["authenticatorSelection"]["residentKey"], "required");
    assert_eq!(
        options["authenticatorSelection"]["userVerification"],
        "required"
    );
    // A bad answer spends the ceremony: it cannot be tried again.
    assert_eq!(
        finish(c["ceremonyId"].clone()).await["extensions"]["reason"],
        "invalid_credential"
    );
    assert_eq!(
        finish(c["ceremonyId"].clone()).await["extensions"]["reason"],
        "expired"
    );
    // Left for more than five minutes, a ceremony is gone.
    let c = start().await;
    app.clock.advance(Duration::minutes(6));
    let late = app
        .anonymous()
        .login("admin@example.org", PASSWORD)
        .await
        .error(
            "mutation($input: FinishPasskeyRegistrationInput!) { finishPasskeyRegistration(input: $input) { passkey { id } } }",
            json!({ "input": { "ceremonyId": c["ceremonyId"], "credential": { "id": "x" }, "name": "Key" } }),
        )
        .await;
    assert_eq!(late["extensions"]["reason"], "expired", "{late}");
    owned.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_https_cookies_are_secure_and_production_never_logs_codes() {
    let app = crate::helpers::spawn_app_with(crate::helpers::Db::Sqlite, |s| {
        s.public_url = "https://kvartal.example.org".into();
        s.environment = kvartal::config::Environment::Production;
    })
    .await;
    let response = app
        .client
        .post(format!("{}/graphql", app.base))
        .json(
            &json!({ "query": "mutation($input: LoginInput!) { login(input: $input) { userId } }",
            "variables": { "input": { "email": "admin@example.org", "password": PASSWORD } } }),
        )
        .send()
        .await
        .unwrap();
    assert!(response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("; Secure"));
    assert!(response.headers()["strict-transport-security"]
        .to_str()
        .unwrap()
        .contains("max-age="));
    let error = app
        .anonymous()
        .error(
            "mutation { requestEmailCode(input: { email: \"admin@example.org\" }) { ok } }",
            json!({}),
        )
        .await;
    assert_eq!(error["extensions"]["code"], "UNAVAILABLE", "{error}");
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_trying_many_accounts_is_slowed_down_too() {
    let app = crate::helpers::spawn_app_with(crate::helpers::Db::Sqlite, |s| {
        s.login_attempts_per_address = 4
    })
    .await;
    // The administrator's own login in the set-up was the first attempt.
    let mut codes = Vec::new();
    for i in 0..4 {
        let error = app
            .anonymous()
            .error(
                "mutation($input: LoginInput!) { login(input: $input) { userId } }",
                json!({ "input": { "email": format!("guess{i}@example.org"), "password": "whatever it is" } }),
            )
            .await;
        codes.push(error["extensions"]["code"].as_str().unwrap().to_string());
    }
    assert_eq!(
        codes,
        [
            "INVALID_CREDENTIALS",
            "INVALID_CREDENTIALS",
            "INVALID_CREDENTIALS",
            "RATE_LIMITED"
        ]
    );
    app.cleanup().await;
}

/// Forty guesses at once take forty tries, not four: a code compared more
/// often than it allows could be guessed in parallel.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_guesses_at_an_emailed_code_count_every_try() {
    for db in [crate::helpers::Db::Sqlite, crate::helpers::Db::Postgres] {
        let smtp = SmtpServer::start().await;
        let app = app_with_smtp(db, &smtp, |s| {
            s.login_attempts_per_address = 1000;
        })
        .await;
        let anon = app.anonymous();
        anon.ok(
            "mutation($input: RequestEmailCodeInput!) { requestEmailCode(input: $input) { ok } }",
            json!({ "input": { "email": "admin@example.org" } }),
        )
        .await;
        let message = smtp.wait_for(1).await;
        let code = code_in(message.split("\n\n").nth(1).unwrap_or(&message));
        let wrong = if code == "000000" { "000001" } else { "000000" };
        let guesses = (0..40).map(|_| {
            let anon = anon.clone();
            tokio::spawn(async move {
                anon.graphql("mutation($input: LoginWithEmailCodeInput!) { loginWithEmailCode(input: $input) { token } }",
                    json!({ "input": { "email": "admin@example.org", "code": wrong, "client": "APP" } })).await
            })
        });
        for answer in futures_util::future::join_all(guesses).await {
            assert_eq!(
                answer.unwrap()["errors"][0]["extensions"]["code"],
                "INVALID_CREDENTIALS"
            );
        }
        use sea_orm::ConnectionTrait;
        let row =
            schema::tenancy::as_system(app.db().query_one_raw(sea_orm::Statement::from_string(
                app.db().get_database_backend(),
                "SELECT attempts FROM one_time_codes",
            )))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            row.try_get_by_index::<i32>(0).unwrap(),
            schema::auth::email_codes::CODE_TRIES,
            "{db:?}"
        );
        // Its tries are spent: even the right code no longer signs in.
        let late = anon.graphql("mutation($input: LoginWithEmailCodeInput!) { loginWithEmailCode(input: $input) { token } }",
            json!({ "input": { "email": "admin@example.org", "code": code, "client": "APP" } })).await;
        assert_eq!(
            late["errors"][0]["extensions"]["code"], "INVALID_CREDENTIALS",
            "{db:?}"
        );
        app.cleanup().await;
    }
}

/// Ten wrong passwords from one address slow that address down for the
/// account, and lock no one out: the owner signs in from elsewhere, and with an
/// emailed code from the very same address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_passwords_slow_their_sender_and_never_lock_the_owner_out() {
    for db in [crate::helpers::Db::Sqlite, crate::helpers::Db::Postgres] {
        let smtp = SmtpServer::start().await;
        let app = app_with_smtp(db, &smtp, |s| {
            s.trust_proxy = true;
        })
        .await;
        let from = |address: &'static str, query: &'static str, input: Value| {
            let client = app.client.clone();
            let url = format!("{}/graphql", app.base);
            async move {
                client
                    .post(url)
                    .header("x-forwarded-for", address)
                    .json(&json!({ "query": query, "variables": { "input": input } }))
                    .send()
                    .await
                    .unwrap()
                    .json::<Value>()
                    .await
                    .unwrap()
            }
        };
        const LOGIN: &str = "mutation($input: LoginInput!) { login(input: $input) { token } }";
        let attacker = "203.0.113.7";
        for _ in 0..10 {
            let r = from(attacker, LOGIN, json!({ "email": "admin@example.org", "password": "guess guess guess", "client": "APP" })).await;
            let code = r["errors"][0]["extensions"]["code"]
                .as_str()
                .unwrap()
                .to_string();
            assert!(
                code == "INVALID_CREDENTIALS" || code == "RATE_LIMITED",
                "{r}"
            );
        }
        // The guesser's address waits, even with the right password…
        let r = from(
            attacker,
            LOGIN,
            json!({ "email": "admin@example.org", "password": PASSWORD, "client": "APP" }),
        )
        .await;
        assert_eq!(
            r["errors"][0]["extensions"]["code"], "RATE_LIMITED",
            "{db:?}: {r}"
        );
        assert!(r["errors"][0]["extensions"]["retryAfter"].as_u64().unwrap() >= 1);
        // … the owner elsewhere does not.
        let r = from(
            "198.51.100.9",
            LOGIN,
            json!({ "email": "admin@example.org", "password": PASSWORD, "client": "APP" }),
        )
        .await;
        assert!(r["data"]["login"]["token"].is_string(), "{db:?}: {r}");
        // An emailed code signs the owner in from the guesser's address too.
        let r = from(
            attacker,
            "mutation($input: RequestEmailCodeInput!) { requestEmailCode(input: $input) { ok } }",
            json!({ "email": "admin@example.org" }),
        )
        .await;
        assert_eq!(r["data"]["requestEmailCode"]["ok"], true, "{r}");
        let message = smtp.wait_for(1).await;
        let code = code_in(message.split("\n\n").nth(1).unwrap_or(&message));
        let r = from(attacker, "mutation($input: LoginWithEmailCodeInput!) { loginWithEmailCode(input: $input) { token } }",
            json!({ "email": "admin@example.org", "code": code, "client": "APP" })).await;
        assert!(
            r["data"]["loginWithEmailCode"]["token"].is_string(),
            "{db:?}: {r}"
        );
        app.cleanup().await;
    }
}

/// Pre-account hijack: someone registers (as a resident, with a receipt's
/// code) under an email that staff will add later. Adding that email to the
/// staff no longer makes the account staff: its owner is sent an invitation
/// and only they, signed in, can accept it; a password cannot be set for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adding_an_existing_account_to_the_staff_invites_its_owner_and_merges_nothing() {
    for db in [crate::helpers::Db::Sqlite, crate::helpers::Db::Postgres] {
        let smtp = SmtpServer::start().await;
        let app = app_with_smtp(db, &smtp, |_| {}).await;
        let org = app.create_org("УК Приглашение").await;
        let house = app.create_house(&org, "Ленина", "3").await;
        let acc = app
            .create_account(&app.create_premises(&house, "1", "40").await, "300001")
            .await;
        // The squatter registers first, under the future engineer's email.
        let squatter = app
            .resident_of("future.engineer@example.org", &acc, "300001")
            .await;
        const ADD: &str = "mutation($input: AddStaffMemberInput!) { addStaffMember(input: $input) {
            member { userId } invitation { email roles expiresAt } } }";
        let input = |password: Option<&str>| {
            json!({ "input": { "organisationId": org, "email": "Future.Engineer@example.org",
            "displayName": "Engineer", "roles": ["ENGINEER"], "password": password } })
        };
        // A password for someone else's account is refused by name.
        let r = app.graphql(ADD, input(Some("a brand new password"))).await;
        assert_eq!(
            crate::helpers::refusal(&r),
            crate::helpers::refused("VALIDATION", "input.password", "account_exists"),
            "{r}"
        );
        // Without one: an invitation, and nothing else.
        let added = app.ok(ADD, input(None)).await;
        assert!(added["addStaffMember"]["member"].is_null(), "{added}");
        assert_eq!(
            added["addStaffMember"]["invitation"]["email"],
            "future.engineer@example.org"
        );
        assert_eq!(
            added["addStaffMember"]["invitation"]["roles"],
            json!(["ENGINEER"])
        );
        let me = squatter
            .ok("{ me { memberships { organisationId } } }", json!({}))
            .await;
        assert_eq!(
            me["me"]["memberships"],
            json!([]),
            "the account is no member yet"
        );
        let message = smtp.wait_for(1).await;
        assert!(
            message.contains("To: future.engineer@example.org"),
            "{message}"
        );
        let token = message
            .split("token=")
            .nth(1)
            .map(|t| {
                t.chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                    .collect::<String>()
            })
            .expect("the link carries a token");
        const ACCEPT: &str = "mutation($input: AcceptStaffInvitationInput!) { acceptStaffInvitation(input: $input) { member { roles } } }";
        // Someone else cannot accept it, even with the token.
        let other = app
            .login_as("bystander@example.org", &org, &["DISPATCHER"], &[])
            .await;
        let r = other
            .graphql(ACCEPT, json!({ "input": { "token": token } }))
            .await;
        assert_eq!(r["errors"][0]["extensions"]["code"], "NOT_FOUND", "{r}");
        // The account's owner, signed in with the emailed link's token, joins.
        let joined = squatter
            .ok(ACCEPT, json!({ "input": { "token": token } }))
            .await;
        assert_eq!(
            joined["acceptStaffInvitation"]["member"]["roles"],
            json!(["ENGINEER"])
        );
        let me = squatter
            .ok("{ me { memberships { organisationId roles } } }", json!({}))
            .await;
        assert_eq!(me["me"]["memberships"][0]["organisationId"], org.as_str());
        // Once.
        let again = squatter
            .graphql(ACCEPT, json!({ "input": { "token": token } }))
            .await;
        assert_eq!(
            again["errors"][0]["extensions"]["code"], "NOT_FOUND",
            "{again}"
        );
        app.cleanup().await;
    }
}

/// An address counts once it is proven. Whoever registered under it first
/// (with a receipt's access code) is out the moment its owner signs in with a
/// code sent there: their session ends and their password no longer signs in.
/// The owner is asked whether they set up the account: "no" removes the
/// password, passkeys and the residences the stranger claimed; "yes" (a
/// resident who registered and now signs in by code) keeps everything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_of_an_address_takes_an_account_registered_under_it_without_proof() {
    const CLAIM: &str = "{ me { id accounts { number } addressClaim { password passkeys accounts registeredAt } } }";
    const ANSWER: &str =
        "mutation($input: AnswerAddressClaimInput!) { answerAddressClaim(input: $input) {
        kept passwordRemoved passkeysRemoved accountsRemoved } }";
    const LOGIN: &str = "mutation($input: LoginInput!) { login(input: $input) { token } }";
    for db in [crate::helpers::Db::Sqlite, crate::helpers::Db::Postgres] {
        let smtp = SmtpServer::start().await;
        let app = app_with_smtp(db, &smtp, |_| {}).await;
        let org = app.create_org("УК Адрес").await;
        let house = app.create_house(&org, "Ленина", "5").await;
        let acc = app
            .create_account(&app.create_premises(&house, "2", "40").await, "500002")
            .await;
        let other = app
            .create_account(&app.create_premises(&house, "3", "40").await, "500003")
            .await;
        let anon = app.anonymous();
        // Signs in with a code sent to the address; the n-th letter.
        let by_code = |email: &'static str, n: usize| {
            let (anon, smtp, app) = (&anon, &smtp, &app);
            async move {
                let before = smtp.messages();
                anon.ok(
                    "mutation($input: RequestEmailCodeInput!) { requestEmailCode(input: $input) { ok } }",
                    json!({ "input": { "email": email } }),
                )
                .await;
                smtp.wait_for(n).await;
                let letter = smtp
                    .messages()
                    .into_iter()
                    .find(|m| !before.contains(m))
                    .expect("a new letter");
                let code = code_in(letter.split("\n\n").nth(1).unwrap_or(&letter));
                let signed = anon.ok("mutation($input: LoginWithEmailCodeInput!) { loginWithEmailCode(input: $input) { token } }",
                    json!({ "input": { "email": email, "code": code, "client": "APP" } })).await;
                crate::helpers::Caller {
                    token: signed["loginWithEmailCode"]["token"]
                        .as_str()
                        .map(str::to_string),
                    ..app.anonymous()
                }
            }
        };

        // A stranger registers under the owner's address with a receipt's code.
        let squatter = app.resident_of("owner@example.org", &acc, "500002").await;
        assert!(squatter.ok("{ me { id } }", json!({})).await["me"]["id"].is_string());
        assert!(squatter.ok(CLAIM, json!({})).await["me"]["addressClaim"].is_null());
        // The address's owner signs in with a code sent there.
        let owner = by_code("owner@example.org", 1).await;
        let me = owner.ok(CLAIM, json!({})).await;
        let claim = &me["me"]["addressClaim"];
        assert_eq!(claim["password"], true, "{db:?}: {me}");
        assert_eq!(claim["accounts"], json!(["500002"]), "{me}");
        // The one who registered first is out: session ended, password refused.
        let r = squatter.graphql("{ me { id } }", json!({})).await;
        assert!(
            r["data"]["me"].is_null(),
            "{db:?}: the squatter's session still holds: {r}"
        );
        let password = json!({ "input": { "email": "owner@example.org", "password": PASSWORD, "client": "APP" } });
        let r = anon.graphql(LOGIN, password.clone()).await;
        assert_eq!(
            r["errors"][0]["extensions"]["code"], "INVALID_CREDENTIALS",
            "{db:?}: {r}"
        );
        assert_eq!(
            r["errors"][0]["extensions"]["reason"], "address_claim_pending",
            "{r}"
        );
        // "Not me": the password and the stranger's residence go.
        let answer = owner
            .ok(ANSWER, json!({ "input": { "registeredByMe": false } }))
            .await;
        assert_eq!(
            answer["answerAddressClaim"],
            json!({ "kept": false, "passwordRemoved": true, "passkeysRemoved": 0, "accountsRemoved": ["500002"] }),
            "{db:?}"
        );
        let me = owner.ok(CLAIM, json!({})).await;
        assert_eq!(
            me["me"]["accounts"],
            json!([]),
            "the owner sees no stranger's flat: {me}"
        );
        assert!(me["me"]["addressClaim"].is_null(), "{me}");
        let r = anon.graphql(LOGIN, password).await;
        assert_eq!(
            r["errors"][0]["extensions"]["reason"], "password",
            "{db:?}: {r}"
        );
        let r = owner
            .graphql(ANSWER, json!({ "input": { "registeredByMe": false } }))
            .await;
        assert_eq!(
            crate::helpers::refusal(&r),
            crate::helpers::refused("VALIDATION", "input.registeredByMe", "no_claim"),
            "answered once: {r}"
        );
        // A second code sign-in changes nothing more: the address is proven.
        let again = by_code("owner@example.org", 2).await;
        assert!(again.ok(CLAIM, json!({})).await["me"]["addressClaim"].is_null());
        assert!(
            owner.ok("{ me { id } }", json!({})).await["me"]["id"].is_string(),
            "the owner's first session holds"
        );

        // A resident who registered themselves and later signs in by code
        // answers "it was me": their password and residence stay.
        let resident = app
            .resident_of("tenant@example.org", &other, "500003")
            .await;
        let proven = by_code("tenant@example.org", 3).await;
        let r = resident.graphql("{ me { id } }", json!({})).await;
        assert!(
            r["data"]["me"].is_null(),
            "sessions from before the proof end: {r}"
        );
        let answer = proven
            .ok(ANSWER, json!({ "input": { "registeredByMe": true } }))
            .await;
        assert_eq!(
            answer["answerAddressClaim"],
            json!({ "kept": true, "passwordRemoved": false, "passkeysRemoved": 0, "accountsRemoved": [] })
        );
        assert_eq!(
            proven.ok(CLAIM, json!({})).await["me"]["accounts"],
            json!([{ "number": "500003" }])
        );
        anon.ok(LOGIN, json!({ "input": { "email": "tenant@example.org", "password": PASSWORD, "client": "APP" } })).await;
        // Both answers are in the organisation's audit log.
        let log = app.ok("query($org: ID!) { auditLog(organisationId: $org, filter: { objectType: \"user\" }) { nodes { operation } } }", json!({ "org": org })).await;
        let ops: Vec<&str> = log["auditLog"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|n| n["operation"].as_str())
            .collect();
        assert_eq!(
            ops.iter().filter(|o| **o == "answerAddressClaim").count(),
            2,
            "{log}"
        );
        app.cleanup().await;
    }
}
