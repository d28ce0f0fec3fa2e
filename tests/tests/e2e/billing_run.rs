//! Billing runs end to end: a period calculated into receipts (lines, benefit,
//! totals), their PDF with a payment QR a real decoder reads back, the
//! resident's own receipt, reruns that change nothing, and a run killed half
//! way (kill -9 of `kvartal billing run`) that, started again, ends exactly
//! as an uninterrupted one, while a second run at the same time is refused.

use std::time::Duration;

use serde_json::{json, Value};

use crate::db_test;
use crate::helpers::TestApp;

const PERIOD: &str = "2026-11";

/// Calculates `period` through GraphQL, waits for the run to end and answers
/// the period's receipts (up to 500).
pub async fn calculated(app: &TestApp, org: &str, period: &str) -> Vec<Value> {
    app.ok(
        "mutation($org: ID!, $p: String!) { calculatePeriod(organisationId: $org, period: $p) { status } }",
        json!({ "org": org, "p": period }),
    )
    .await;
    wait_calculated(app, org, period).await;
    app.ok(
        "query($org: ID!, $p: String!) { receipts(organisationId: $org, period: $p, limit: 500) { total items { id accountId amountDue } } }",
        json!({ "org": org, "p": period }),
    )
    .await["receipts"]["items"]
        .as_array()
        .unwrap()
        .clone()
}

pub async fn wait_calculated(app: &TestApp, org: &str, period: &str) {
    wait_calculated_as(&app.admin, org, period).await
}

pub async fn wait_calculated_as(app: &crate::helpers::Caller, org: &str, period: &str) {
    for _ in 0..600 {
        let periods = app
            .ok(
                "query($org: ID!) { billingPeriods(organisationId: $org) { period status running } }",
                json!({ "org": org }),
            )
            .await;
        let done = periods["billingPeriods"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["period"] == period && p["status"] == "CALCULATED" && p["running"] == false);
        if done {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the period {period} was not calculated in time");
}

pub async fn service(app: &TestApp, org: &str, input: Value, price: Value) -> String {
    let mut input = input;
    input["organisationId"] = json!(org);
    let id = app
        .ok(
            "mutation($input: CreateServiceInput!) { createService(input: $input) { service { id } } }",
            json!({ "input": input }),
        )
        .await["createService"]["service"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.ok(
        "mutation($input: SetTariffInput!) { setTariff(input: $input) { tariff { id } } }",
        json!({ "input": { "serviceId": id, "validFrom": "2026-01-01", "zones": price } }),
    )
    .await;
    id
}

fn tool(name: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(name)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{name} is not installed (scripts/test.sh installs it): {e}"))
}

db_test! {
    async fn a_period_becomes_receipts_whose_pdf_carries_a_payment_qr_a_decoder_reads(app: &TestApp) {
        let org = app
            .ok(
                "mutation($input: CreateOrganisationInput!) { createOrganisation(input: $input) { organisation { id } } }",
                json!({ "input": { "name": "УК Расчёт", "currency": "RUB", "locale": "ru", "timeZone": "Europe/Moscow",
                    "legalName": "ООО «УК Расчёт»", "taxId": "7701234567", "bankAccount": "40702810938000012345",
                    "bankId": "044525225", "bankName": "ПАО Сбербанк" } }),
            )
            .await["createOrganisation"]["organisation"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        app.ok(
            "mutation($input: BillingSettingsInput!) { setBillingSettings(input: $input) { dueDay } }",
            json!({ "input": { "organisationId": org, "qrStandard": "GOST", "dueDay": 15, "correspAccount": "30101810400000000225",
                "receiptNote": "Вопросы по начислениям: {org}, тел. 8-800-000-00-00" } }),
        )
        .await;
        let house = app.create_house(&org, "Ленина", "7").await;
        let p1 = app.create_premises(&house, "1", "50").await;
        let p2 = app.create_premises(&house, "2", "60").await;
        let holder = app.create_person(&org, "Иванова Анна Сергеевна", "+7 900 123-45-67").await;
        let account = |premises: String, number: &'static str, cats: Value| {
            let holder = holder.clone();
            async move {
                app.ok(
                    "mutation($input: CreateAccountInput!) { createAccount(input: $input) { account { id } } }",
                    json!({ "input": { "premisesId": premises, "number": number, "holderId": holder, "openedOn": "2026-01-01",
                        "registeredResidents": 2, "privilegedCategories": cats } }),
                )
                .await["createAccount"]["account"]["id"]
                    .as_str()
                    .unwrap()
                    .to_string()
            }
        };
        let a1 = account(p1.clone(), "770001", json!(["veteran"])).await;
        let a2 = account(p2.clone(), "770002", json!([])).await;
        let meter = app
            .ok(
                "mutation($input: CreateMeterInput!) { createMeter(input: $input) { meter { id } } }",
                json!({ "input": { "premisesId": p1, "serial": "CW-77", "resource": "COLD_WATER", "initialValues": ["100"] } }),
            )
            .await["createMeter"]["meter"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        app.ok(
            "mutation($input: SubmitReadingInput!) { submitReading(input: $input) { reading { id } } }",
            json!({ "input": { "meterId": meter, "values": ["107.5"] } }),
        )
        .await;
        let water = service(app, &org, json!({ "code": "cold_water", "name": "Холодное водоснабжение", "unit": "м³", "method": "METERED", "resource": "COLD_WATER", "normCoefficient": "1.5" }), json!([{ "tiers": [{ "price": "50" }] }])).await;
        service(app, &org, json!({ "code": "maintenance", "name": "Содержание жилого помещения", "unit": "м²", "method": "AREA" }), json!([{ "tiers": [{ "price": "30.15" }] }])).await;
        app.ok(
            "mutation($input: SetNormInput!) { setNorm(input: $input) { norm { id } } }",
            json!({ "input": { "serviceId": water, "basis": "PERSON", "validFrom": "2026-01-01", "value": "4.5" } }),
        )
        .await;
        app.ok(
            "mutation($input: BenefitCategoryInput!) { setBenefitCategory(input: $input) { code } }",
            json!({ "input": { "organisationId": org, "code": "veteran", "name": "Ветеран труда", "percent": "50", "services": ["maintenance"] } }),
        )
        .await;

        let receipts = calculated(app, &org, PERIOD).await;
        assert_eq!(receipts.len(), 2);
        let id_of = |account: &str| receipts.iter().find(|r| r["accountId"] == account).unwrap()["id"].as_str().unwrap().to_string();
        let (r1, r2) = (id_of(&a1), id_of(&a2));
        let receipt = |id: String| async move {
            app.ok(
                "query($id: ID!) { receipt(id: $id) { amountDue charged benefits dueDate accessCode payment { standard payload }
                    lines { kind label source quantity tariff amount } } }",
                json!({ "id": id }),
            )
            .await["receipt"]
                .clone()
        };
        let one = receipt(r1.clone()).await;
        let lines: Vec<(String, String, String, String)> = one["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| (l["kind"].as_str().unwrap().into(), l["source"].as_str().unwrap().into(), l["quantity"].as_str().unwrap().into(), l["amount"].as_str().unwrap().into()))
            .collect();
        // 7.5 m³ × 50; 50 m² × 30.15; half of the maintenance back.
        assert_eq!(
            lines,
            vec![
                ("CHARGE".into(), "reading".into(), "7.5".into(), "375.00".into()),
                ("CHARGE".into(), "area".into(), "50".into(), "1507.50".into()),
                ("BENEFIT".into(), "veteran".into(), "50".into(), "-753.75".into()),
            ]
        );
        assert_eq!(one["amountDue"], "1128.75");
        assert_eq!(one["dueDate"], "2026-12-15");
        // No meter on the second premises: the norm for 2 people, raised by 1.5.
        let two = receipt(r2.clone()).await;
        assert_eq!(two["lines"][0]["source"], "norm_raised");
        assert_eq!(two["lines"][0]["quantity"], "9");
        assert_eq!(two["lines"][0]["amount"], "675.00");
        let payload = one["payment"]["payload"].as_str().unwrap().to_string();
        assert!(payload.starts_with("ST00012|Name=ООО «УК Расчёт»|PersonalAcc=40702810938000012345"), "{payload}");
        assert!(payload.contains("|Sum=112875|"), "{payload}");

        // The PDF: its text in Russian, and its QR read back by zbarimg.
        let pdf = app
            .client
            .get(format!("{}/receipts/{r1}.pdf", app.base))
            .bearer_auth(app.admin.token.clone().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(pdf.status(), 200);
        assert_eq!(pdf.headers()["content-type"], "application/pdf");
        let bytes = pdf.bytes().await.unwrap();
        let dir = std::env::temp_dir().join(format!("kvartal-receipt-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("r.pdf");
        std::fs::write(&file, &bytes).unwrap();
        let text = String::from_utf8(tool("pdftotext", &["-layout", file.to_str().unwrap(), "-"]).stdout).unwrap();
        for expected in ["Единый платёжный документ", "770001", "Иванова Анна Сергеевна", "Ветеран труда", "128,75 ₽", "15.12.2026", "Вопросы по начислениям: УК Расчёт"] {
            assert!(text.contains(expected), "{expected:?} is not in the receipt:\n{text}");
        }
        let png = dir.join("page");
        let out = tool("pdftoppm", &["-r", "150", "-png", "-singlefile", file.to_str().unwrap(), png.to_str().unwrap()]);
        assert!(out.status.success(), "{out:?}");
        let decoded = tool("zbarimg", &["-q", "--raw", dir.join("page.png").to_str().unwrap()]);
        assert_eq!(String::from_utf8(decoded.stdout).unwrap().trim_end_matches('\n'), payload);

        // The resident joins; the receipt waits for the period to close.
        let resident = app.resident_of("anna@example.org", &a1, "770001").await;
        let get = |id: String, token: Option<String>| async move {
            let mut r = app.client.get(format!("{}/receipts/{id}.pdf", app.base));
            if let Some(t) = token {
                r = r.bearer_auth(t);
            }
            r.send().await.unwrap().status().as_u16()
        };
        assert_eq!(get(r1.clone(), resident.token.clone()).await, 404, "not before the period closes");

        // The house's batch: one page per receipt.
        let batch = app
            .client
            .get(format!("{}/houses/{house}/receipts/{PERIOD}.pdf", app.base))
            .bearer_auth(app.admin.token.clone().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(batch.status(), 200);
        std::fs::write(dir.join("b.pdf"), batch.bytes().await.unwrap()).unwrap();
        let info = String::from_utf8(tool("pdfinfo", &[dir.join("b.pdf").to_str().unwrap()]).stdout).unwrap();
        assert!(info.lines().any(|l| l.starts_with("Pages:") && l.trim_end().ends_with(" 2")), "{info}");

        // Again: the same receipts, the same lines, nothing doubled.
        let again = calculated(app, &org, PERIOD).await;
        assert_eq!(again.len(), 2);
        let one_again = receipt(id_of(&a1)).await;
        assert_eq!(one_again["lines"], one["lines"]);
        assert_eq!(one_again["accessCode"], Value::Null, "the account has a resident now: no code on the receipt");

        // Closed: never calculated again; a correction goes to the next period.
        app.ok(
            "mutation($org: ID!) { closePeriod(organisationId: $org, period: \"2026-11\") { status } }",
            json!({ "org": org }),
        )
        .await;
        let refused = app
            .graphql(
                "mutation($org: ID!) { calculatePeriod(organisationId: $org, period: \"2026-11\") { status } }",
                json!({ "org": org }),
            )
            .await;
        assert_eq!(refused["errors"][0]["extensions"]["field"], "period", "{refused}");
        // The resident: their own receipt, not the neighbour's.
        assert_eq!(get(r1.clone(), resident.token.clone()).await, 200);
        assert_eq!(get(r2.clone(), resident.token.clone()).await, 404);
        assert_eq!(get(r1.clone(), None).await, 401);
        let mine = resident
            .ok("query($id: ID!) { accountReceipts(accountId: $id) { id amountDue } }", json!({ "id": a1 }))
            .await;
        assert_eq!(mine["accountReceipts"][0]["id"], r1.as_str());
        let recalc = app
            .ok(
                "mutation($input: RecalculationInput!) { addRecalculation(input: $input) { appliedIn amount } }",
                json!({ "input": { "accountId": a2, "serviceId": water, "periodOf": "2026-11", "reason": "ABSENCE", "days": 10,
                    "comment": "Отсутствовал с 1 по 10 ноября, справка с места временного пребывания" } }),
            )
            .await;
        // 675.00 × 10 / 30 days back, on December's receipt.
        assert_eq!(recalc["addRecalculation"], json!({ "appliedIn": "2026-12", "amount": "-225.00" }));
        // December begins (a new sign-in: the clock passed the session's life).
        app.clock.advance(chrono::Duration::days(5));
        let admin = app.anonymous().login("admin@example.org", crate::helpers::PASSWORD).await;
        admin.ok(
            "mutation($org: ID!) { calculatePeriod(organisationId: $org, period: \"2026-12\") { status } }",
            json!({ "org": org }),
        )
        .await;
        crate::billing_run::wait_calculated_as(&admin, &org, "2026-12").await;
        let december = admin
            .ok(
                "query($org: ID!) { receipts(organisationId: $org, period: \"2026-12\", limit: 500) { items { id accountId } } }",
                json!({ "org": org }),
            )
            .await["receipts"]["items"]
            .as_array()
            .unwrap()
            .clone();
        let dec2 = december.iter().find(|r| r["accountId"] == a2.as_str()).unwrap();
        let dec2 = admin
            .ok("query($id: ID!) { receipt(id: $id) { lines { kind amount } } }", json!({ "id": dec2["id"] }))
            .await["receipt"]
            .clone();
        let last = dec2["lines"].as_array().unwrap().last().unwrap().clone();
        assert_eq!((last["kind"].as_str(), last["amount"].as_str()), (Some("RECALCULATION"), Some("-225.00")));
        std::fs::remove_dir_all(&dir).ok();
    }
}

pub(crate) fn binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .and_then(|d| d.parent())
        .unwrap()
        .join("kvartal");
    assert!(
        bin.exists(),
        "{} is missing: build it first (cargo build -p kvartal)",
        bin.display()
    );
    bin
}

/// `kvartal billing run` against the app's database, as a process of its own.
fn cli_run(app: &TestApp, org: &str, lease_secs: u64) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(binary());
    cmd.args(["billing", "run", "--org", org, "--period", PERIOD])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("KVARTAL_DATA_DIR", app.data_dir())
        .env("KVARTAL_BILLING_LEASE_SECS", lease_secs.to_string())
        .env("KVARTAL_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    if let Some(url) = &app.database_url {
        cmd.env("KVARTAL_DATABASE_URL", url);
    }
    cmd
}

/// Every line and receipt of the period, in a stable order, as text.
async fn snapshot(app: &TestApp) -> (Vec<String>, Vec<String>) {
    use sea_orm::{ConnectionTrait, Statement};
    let db = app.db();
    let backend = db.get_database_backend();
    let rows = |sql: &'static str| async move {
        schema::tenancy::as_system(db.query_all_raw(Statement::from_string(backend, sql)))
            .await
            .unwrap()
    };
    let lines = rows("SELECT account_id, position, kind, label, source, quantity, unit, tariff, amount_minor FROM charge_lines WHERE period = '2026-11' ORDER BY account_id, position").await;
    let lines = lines
        .iter()
        .map(|r| {
            let id: uuid::Uuid = r.try_get("", "account_id").unwrap();
            let pos: i32 = r.try_get("", "position").unwrap();
            let text = |c: &str| -> String { r.try_get("", c).unwrap() };
            let amount: i64 = r.try_get("", "amount_minor").unwrap();
            format!(
                "{id} {pos} {} {} {} {} {} {} {amount}",
                text("kind"),
                text("label"),
                text("source"),
                text("quantity"),
                text("unit"),
                text("tariff")
            )
        })
        .collect();
    let receipts = rows("SELECT id, account_id, opening_minor, charged_minor, benefits_minor, due_minor, access_code FROM receipts WHERE period = '2026-11' ORDER BY account_id").await;
    let receipts = receipts
        .iter()
        .map(|r| {
            let id: uuid::Uuid = r.try_get("", "id").unwrap();
            let account: uuid::Uuid = r.try_get("", "account_id").unwrap();
            let n = |c: &str| -> i64 { r.try_get("", c).unwrap() };
            let code: Option<String> = r.try_get("", "access_code").unwrap();
            format!(
                "{id} {account} {} {} {} {} {code:?}",
                n("opening_minor"),
                n("charged_minor"),
                n("benefits_minor"),
                n("due_minor")
            )
        })
        .collect();
    (lines, receipts)
}

async fn progress(app: &TestApp, org: &str) -> (String, i64) {
    let p = app
        .ok("query($org: ID!) { billingPeriods(organisationId: $org) { period status accountsDone } }", json!({ "org": org }))
        .await;
    let p = p["billingPeriods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["period"] == PERIOD)
        .cloned()
        .unwrap_or(json!({}));
    (
        p["status"].as_str().unwrap_or("NONE").to_string(),
        p["accountsDone"].as_i64().unwrap_or(0),
    )
}

db_test! {
    async fn a_run_killed_half_way_ends_as_an_uninterrupted_one_and_two_runs_never_overlap(app: &TestApp) {
        let org = app.create_org("УК Надёжная").await;
        // 7000 accounts (four chunks) with a cold-water and a two-zone electricity meter each.
        let file = app.data_dir().join("registry.csv");
        kvartal::bench::generate(&file, 7_000).unwrap();
        let imported = crate::import::upload(app, &org, "registry.csv", &std::fs::read_to_string(&file).unwrap()).await;
        assert_eq!(imported["data"]["importRegistry"]["ok"], true, "{imported}");
        let water = service(app, &org, json!({ "code": "cold_water", "name": "Холодная вода", "unit": "м³", "method": "METERED", "resource": "COLD_WATER" }), json!([{ "tiers": [{ "price": "48.17" }] }])).await;
        app.ok(
            "mutation($input: SetNormInput!) { setNorm(input: $input) { norm { id } } }",
            json!({ "input": { "serviceId": water, "basis": "PERSON", "validFrom": "2026-01-01", "value": "4.85" } }),
        )
        .await;
        service(app, &org, json!({ "code": "electricity", "name": "Электроэнергия", "unit": "кВт·ч", "method": "METERED", "resource": "ELECTRICITY", "zones": 2 }), json!([{ "tiers": [{ "price": "6.43" }] }, { "tiers": [{ "price": "2.91" }] }])).await;
        service(app, &org, json!({ "code": "maintenance", "name": "Содержание", "unit": "м²", "method": "AREA" }), json!([{ "tiers": [{ "price": "31.07" }] }])).await;
        service(app, &org, json!({ "code": "waste", "name": "Обращение с ТКО", "unit": "чел.", "method": "PER_PERSON" }), json!([{ "tiers": [{ "price": "117.3" }] }])).await;

        // The reference: one uninterrupted run.
        let out = cli_run(app, &org, 60).output().await.unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let reference = snapshot(app).await;
        assert_eq!(reference.1.len(), 7_000);
        // Water and upkeep on every receipt at least (zero lines are not printed).
        assert!(reference.0.len() >= 14_000, "{} lines", reference.0.len());

        // Killed (SIGKILL) once it has written a chunk but not finished.
        let mut child = cli_run(app, &org, 2).spawn().unwrap();
        let mut killed_at = None;
        for _ in 0..2_000 {
            let (status, done) = progress(app, &org).await;
            if status == "OPEN" && done > 0 {
                child.start_kill().unwrap();
                child.wait().await.unwrap();
                killed_at = Some(done);
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let done = killed_at.expect("the run was not caught half-way");
        let (status, after) = progress(app, &org).await;
        assert_eq!(status, "OPEN", "killed after {done} accounts");
        assert!(after < 7_000, "killed after {after} accounts");

        // While its lease holds, no other run starts: not through GraphQL…
        let refused = app
            .graphql("mutation($org: ID!) { calculatePeriod(organisationId: $org, period: \"2026-11\") { status } }", json!({ "org": org }))
            .await;
        assert_eq!(refused["errors"][0]["extensions"]["code"], "CONFLICT", "{refused}");
        // …and once it lapses, the run starts again and ends as the reference.
        tokio::time::sleep(Duration::from_millis(2_100)).await;
        let out = cli_run(app, &org, 60).output().await.unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let again = snapshot(app).await;
        assert_eq!(again.1, reference.1, "receipts differ after an interrupted run");
        assert_eq!(again.0.len(), reference.0.len());
        assert!(again.0 == reference.0, "lines differ after an interrupted run");

        // Two runs started together: one calculates, the other is refused.
        let (a, b) = tokio::join!(cli_run(app, &org, 60).output(), cli_run(app, &org, 60).output());
        let (a, b) = (a.unwrap(), b.unwrap());
        assert!(a.status.success() != b.status.success(), "both or neither ran: {a:?} {b:?}");
        let refused = if a.status.success() { b } else { a };
        assert!(String::from_utf8_lossy(&refused.stderr).contains("another run"), "{refused:?}");
        assert!(snapshot(app).await == reference);
    }
}

db_test! {
    async fn periods_are_calculated_in_order_and_residents_see_a_receipt_once_closed(app: &TestApp) {
        const CALC: &str = "mutation($org: ID!, $p: String!) { calculatePeriod(organisationId: $org, period: $p) { status } }";
        const CLOSE: &str = "mutation($org: ID!, $p: String!) { closePeriod(organisationId: $org, period: $p) { status } }";
        let org = app.create_org("УК Порядок").await;
        let house = app.create_house(&org, "Порядковая", "1").await;
        let account = app.create_account(&app.create_premises(&house, "1", "40").await, "880001").await;
        service(app, &org, json!({ "code": "upkeep", "name": "Содержание", "unit": "м²", "method": "AREA" }), json!([{ "tiers": [{ "price": "30" }] }])).await;
        let resident = app.resident_of("order@example.org", &account, "880001").await;
        let refused = |r: &Value| crate::helpers::refusal(r);
        // Today is 26 November: December has not begun.
        let r = app.graphql(CALC, json!({ "org": org, "p": "2026-12" })).await;
        assert_eq!(refused(&r), crate::helpers::refused("VALIDATION", "period", "not_started"), "{r}");
        calculated(app, &org, "2026-09").await;
        // October waits for September to close.
        let r = app.graphql(CALC, json!({ "org": org, "p": "2026-10" })).await;
        assert_eq!(refused(&r), crate::helpers::refused("VALIDATION", "period", "previous_open"), "{r}");
        assert!(r["errors"][0]["message"].as_str().unwrap().contains("2026-09"), "{r}");
        // The resident does not see September's receipt until it is closed.
        const MINE: &str = "query($a: ID!) { accountReceipts(accountId: $a) { id period } }";
        assert_eq!(resident.ok(MINE, json!({ "a": account })).await["accountReceipts"], json!([]));
        let staff = app.ok(MINE, json!({ "a": account })).await;
        let id = staff["accountReceipts"][0]["id"].clone();
        let r = resident.graphql("query($id: ID!) { receipt(id: $id) { id } }", json!({ "id": id })).await;
        assert_eq!(r["errors"][0]["extensions"]["code"], "NOT_FOUND", "{r}");
        app.ok(CLOSE, json!({ "org": org, "p": "2026-09" })).await;
        assert_eq!(resident.ok(MINE, json!({ "a": account })).await["accountReceipts"][0]["period"], "2026-09");
        resident.ok("query($id: ID!) { receipt(id: $id) { id } }", json!({ "id": id })).await;
        // No month skipped after the last closed one, none before it.
        let r = app.graphql(CALC, json!({ "org": org, "p": "2026-11" })).await;
        assert_eq!(refused(&r), crate::helpers::refused("VALIDATION", "period", "period_order"), "{r}");
        let r = app.graphql(CALC, json!({ "org": org, "p": "2026-08" })).await;
        assert_eq!(refused(&r), crate::helpers::refused("VALIDATION", "period", "period_closed"), "{r}");
        calculated(app, &org, "2026-10").await;
    }
}
