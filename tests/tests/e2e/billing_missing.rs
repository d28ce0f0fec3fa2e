//! Missing, late and resumed readings (Rules 354 p.59–61), billed month after
//! month through the API on both databases: consumption starts at the last
//! reading however old; the average is fixed at the first missed period and
//! charged for at most three; a reading that resumes reconciles the estimates
//! in a recalculation line; over any history, what a meter is charged adds up
//! to what it measured.

use serde_json::{json, Value};

use crate::billing_run::{calculated, service};
use crate::db_test;
use crate::helpers::TestApp;

/// A flat at one account (2 residents) with a cold-water meter from 0, at
/// 10 a m³, norm 4 m³ a person.
struct Flat {
    org: String,
    account: String,
    meter: String,
}

async fn flat(app: &TestApp, name: &str) -> Flat {
    let org = app.create_org(name).await;
    let house = app.create_house(&org, "Водная", "1").await;
    let premises = app.create_premises(&house, "1", "50").await;
    let account = app.create_account(&premises, "900001").await;
    let water = service(app, &org, json!({ "code": "cold_water", "name": "Холодная вода", "unit": "м³", "method": "METERED", "resource": "COLD_WATER" }),
        json!([{ "tiers": [{ "price": "10" }] }])).await;
    app.ok("mutation($input: SetNormInput!) { setNorm(input: $input) { norm { id } } }",
        json!({ "input": { "serviceId": water, "basis": "PERSON", "validFrom": "2026-01-01", "value": "4" } })).await;
    let meter = app.ok("mutation($input: CreateMeterInput!) { createMeter(input: $input) { meter { id } } }",
        json!({ "input": { "premisesId": premises, "serial": format!("CW-{name}"), "resource": "COLD_WATER", "initialValues": ["0"] } }))
        .await["createMeter"]["meter"]["id"].as_str().unwrap().to_string();
    Flat {
        org,
        account,
        meter,
    }
}

async fn settings(app: &TestApp, org: &str, average: i32, min: i32, max: i32) {
    app.ok("mutation($input: BillingSettingsInput!) { setBillingSettings(input: $input) { averageMonths } }",
        json!({ "input": { "organisationId": org, "qrStandard": "GOST", "dueDay": 15,
            "averageMonths": average, "minMonths": min, "maxAveragePeriods": max } })).await;
}

async fn read(app: &TestApp, meter: &str, on: &str, value: &str) {
    app.ok(
        "mutation($input: SubmitReadingInput!) { submitReading(input: $input) { reading { id } } }",
        json!({ "input": { "meterId": meter, "values": [value], "takenOn": on } }),
    )
    .await;
}

/// Calculates and closes a period; the account's water lines as
/// (kind, source, quantity).
async fn bill(app: &TestApp, f: &Flat, period: &str) -> Vec<(String, String, String)> {
    let receipts = calculated(app, &f.org, period).await;
    let receipt = receipts
        .iter()
        .find(|r| r["accountId"] == f.account.as_str())
        .unwrap();
    let data = app
        .ok(
            "query($id: ID!) { receipt(id: $id) { lines { kind label source quantity amount } } }",
            json!({ "id": receipt["id"] }),
        )
        .await;
    app.ok("mutation($org: ID!, $p: String!) { closePeriod(organisationId: $org, period: $p) { status } }",
        json!({ "org": f.org, "p": period })).await;
    data["receipt"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["label"] == "Холодная вода")
        .map(|l: &Value| {
            (
                l["kind"].as_str().unwrap().to_lowercase(),
                l["source"]
                    .as_str()
                    .unwrap()
                    .split(':')
                    .next()
                    .unwrap()
                    .to_string(),
                l["quantity"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn line(kind: &str, source: &str, q: &str) -> (String, String, String) {
    (kind.to_string(), source.to_string(), q.to_string())
}

db_test! {
    async fn consumption_starts_at_the_last_reading_however_old(app: &TestApp) {
        // The organisation's first period is October; the meter was read in
        // January (500) and in October (510): 10 m³, not 510 from the
        // initial value.
        let f = flat(app, "Старое").await;
        read(app, &f.meter, "2026-01-20", "500").await;
        read(app, &f.meter, "2026-10-20", "510").await;
        assert_eq!(bill(app, &f, "2026-10").await, vec![line("charge", "reading", "10")]);

        // A short averaging setting and a three-month gap: the same.
        let g = flat(app, "Короткое").await;
        settings(app, &g.org, 1, 1, 3).await;
        read(app, &g.meter, "2026-01-20", "500").await;
        read(app, &g.meter, "2026-04-20", "512").await;
        assert_eq!(bill(app, &g, "2026-04").await, vec![line("charge", "reading", "12")]);
    }
}

db_test! {
    async fn the_average_is_fixed_at_the_first_missed_period_then_the_norm(app: &TestApp) {
        let f = flat(app, "Среднее").await;
        // 1 m³ a month January to March, then 30 a month to June.
        for (on, v) in [("2026-01-10", "1"), ("2026-02-10", "2"), ("2026-03-10", "3"), ("2026-04-10", "33"), ("2026-05-10", "63"), ("2026-06-10", "93")] {
            read(app, &f.meter, on, v).await;
        }
        for p in ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"] {
            bill(app, &f, p).await;
        }
        // Six months before July (Jan 10 → Jun 10: 92 over 5 months), the
        // same in July, August and September; then the norm (2 × 4).
        let mut got = Vec::new();
        for p in ["2026-07", "2026-08", "2026-09", "2026-10"] {
            got.push(bill(app, &f, p).await);
        }
        assert_eq!(got, vec![
            vec![line("charge", "average", "18.4")],
            vec![line("charge", "average", "18.4")],
            vec![line("charge", "average", "18.4")],
            vec![line("charge", "norm", "8")],
        ]);

        // averageMonths = 3 is honoured: April to June, 30 a month.
        let g = flat(app, "Три").await;
        settings(app, &g.org, 3, 2, 3).await;
        for (on, v) in [("2026-01-10", "1"), ("2026-02-10", "2"), ("2026-03-10", "3"), ("2026-04-10", "33"), ("2026-05-10", "63"), ("2026-06-10", "93")] {
            read(app, &g.meter, on, v).await;
        }
        for p in ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"] {
            bill(app, &g, p).await;
        }
        assert_eq!(bill(app, &g, "2026-07").await, vec![line("charge", "average", "30")]);
        assert_eq!(bill(app, &g, "2026-08").await, vec![line("charge", "average", "30")]);
    }
}

db_test! {
    async fn a_resumed_reading_reconciles_the_estimates_in_a_recalculation_line(app: &TestApp) {
        let f = flat(app, "Возврат").await;
        for m in 1..=6 {
            read(app, &f.meter, &format!("2026-{m:02}-15"), &format!("{}", 10 * m)).await;
        }
        for m in 1..=6 {
            bill(app, &f, &format!("2026-{m:02}")).await;
        }
        // July and August by the average (10 each).
        assert_eq!(bill(app, &f, "2026-07").await, vec![line("charge", "average", "10")]);
        assert_eq!(bill(app, &f, "2026-08").await, vec![line("charge", "average", "10")]);
        // Read on 10 September at 100: 40 m³ since 15 June (87 days).
        // September's own 10 days: 40 × 10/87 = 4.597701; the 77 days before:
        // 35.402299 measured against 20 charged: +15.402299.
        read(app, &f.meter, "2026-09-10", "100").await;
        let september = bill(app, &f, "2026-09").await;
        assert_eq!(september, vec![
            line("charge", "reading", "4.597701"),
            line("recalculation", "readings_resumed", "15.402299"),
        ]);
        let receipts = calculated(app, &f.org, "2026-10").await;
        let receipt = receipts.iter().find(|r| r["accountId"] == f.account.as_str()).unwrap();
        let data = app.ok("query($id: ID!) { receipt(id: $id) { lines { kind source amount } } }", json!({ "id": receipt["id"] })).await;
        assert!(data["receipt"]["lines"].as_array().unwrap().iter().all(|l| l["kind"] != "RECALCULATION"), "once: {data}");

        // Overcharged estimates come back: 1 m³ in two months after 20 a month.
        let g = flat(app, "Переплата").await;
        for m in 1..=6 {
            read(app, &g.meter, &format!("2026-{m:02}-15"), &format!("{}", 20 * m)).await;
            bill(app, &g, &format!("2026-{m:02}")).await;
        }
        bill(app, &g, "2026-07").await;
        read(app, &g.meter, "2026-08-15", "121").await;
        let august = bill(app, &g, "2026-08").await;
        // 15 June → 15 August: 61 days, August's own 15: 1 × 15/61.
        assert_eq!(august, vec![
            line("charge", "reading", "0.245902"),
            line("recalculation", "readings_resumed", "-19.245902"),
        ]);
        // The line names the periods and the volumes, in the organisation's language.
        let receipts = app.ok("query($org: ID!, $p: String!) { receipts(organisationId: $org, period: $p, limit: 5) { items { id accountId } } }",
            json!({ "org": g.org, "p": "2026-08" })).await;
        let id = receipts["receipts"]["items"].as_array().unwrap().iter().find(|r| r["accountId"] == g.account.as_str()).unwrap()["id"].clone();
        let data = app.ok("query($id: ID!) { receipt(id: $id) { lines { kind source amount } } }", json!({ "id": id })).await;
        let recalc = data["receipt"]["lines"].as_array().unwrap().iter().find(|l| l["kind"] == "RECALCULATION").unwrap().clone();
        assert_eq!(recalc["source"], "readings_resumed:2026-07: начислено 20, по показаниям 0,754098", "{recalc}");
        assert_eq!(recalc["amount"], "-192.46", "{recalc}");
    }
}

db_test! {
    async fn a_late_reading_reconciles_the_periods_already_charged(app: &TestApp) {
        let f = flat(app, "Поздно").await;
        for m in 1..=6 {
            read(app, &f.meter, &format!("2026-{m:02}-15"), &format!("{}", 10 * m)).await;
            bill(app, &f, &format!("2026-{m:02}")).await;
        }
        bill(app, &f, "2026-07").await;
        bill(app, &f, "2026-08").await;
        // A reading of 20 July entered in September: 2 m³ since 15 June,
        // against the 20 the estimates charged; September by the average again.
        read(app, &f.meter, "2026-07-20", "62").await;
        let september = bill(app, &f, "2026-09").await;
        assert_eq!(september, vec![
            line("charge", "average", "8.4"),
            line("recalculation", "readings_resumed", "-18"),
        ]);
    }
}

db_test! {
    async fn what_a_meter_is_charged_adds_up_to_what_it_measured(app: &TestApp) {
        // Random histories of readings with gaps, billed month by month: at
        // every month that ends with a reading, the volumes charged (own and
        // recalculations) add up to the meter's value.
        let mut seed = 0x9e37_79b9_7f4a_7c15u64 ^ (app.base.len() as u64);
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for history in 0..3 {
            let f = flat(app, &format!("История{history}")).await;
            let average = 1 + (next() % 6) as i32;
            let min = 1 + (next() % average.min(3) as u64) as i32;
            settings(app, &f.org, average, min, (next() % 4) as i32).await;
            let mut value = rust_decimal::Decimal::ZERO;
            let mut charged = rust_decimal::Decimal::ZERO;
            for m in 1..=11 {
                let period = format!("2026-{m:02}");
                let read_now = next() % 3 != 0;
                if read_now {
                    value += rust_decimal::Decimal::new((next() % 30_000) as i64, 3);
                    read(app, &f.meter, &format!("{period}-{:02}", 1 + next() % 28), &value.to_string()).await;
                }
                for (_, _, q) in bill(app, &f, &period).await {
                    charged += q.parse::<rust_decimal::Decimal>().unwrap();
                }
                if read_now {
                    assert_eq!(charged, value, "history {history}, {period}");
                }
            }
        }
    }
}

db_test! {
    async fn a_stored_quantity_that_does_not_read_is_an_error_not_a_zero(app: &TestApp) {
        use sea_orm::ConnectionTrait;
        let f = flat(app, "Порча").await;
        read(app, &f.meter, "2026-10-20", "12").await;
        bill(app, &f, "2026-10").await;
        let db = app.db();
        schema::tenancy::as_system(db.execute_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "UPDATE charge_lines SET quantity = 'twelve' WHERE period = '2026-10'",
        )))
        .await
        .unwrap();
        let receipts = app.ok("query($org: ID!) { receipts(organisationId: $org, period: \"2026-10\", limit: 5) { items { id } } }",
            json!({ "org": f.org })).await;
        let id = receipts["receipts"]["items"][0]["id"].clone();
        let r = app.graphql("query($id: ID!) { receipt(id: $id) { lines { quantity amount } } }", json!({ "id": id })).await;
        assert_eq!(r["errors"][0]["extensions"]["code"], "INTERNAL", "{r}");
        assert_eq!(r["errors"][0]["path"], json!(["receipt", "lines", 0, "quantity"]), "{r}");
        assert!(r["data"]["receipt"]["lines"][0]["quantity"].is_null(), "no line shows a zero: {r}");
        // The PDF is refused the same way, not printed with zeros.
        let pdf = app.client.get(format!("{}/receipts/{}.pdf", app.base, id.as_str().unwrap()))
            .bearer_auth(app.admin.token.clone().unwrap()).send().await.unwrap();
        assert_eq!(pdf.status().as_u16(), 500);
    }
}
