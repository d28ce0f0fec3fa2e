//! Meter readings through the API: residents and staff, the rules that refuse
//! or flag a reading, rollover, corrections, history and the CSV import.

use serde_json::{json, Value};

use crate::db_test;
use crate::helpers::{refusal, refused, Caller, TestApp};

pub const SUBMIT: &str = "mutation($input: SubmitReadingInput!) { submitReading(input: $input) { reading { id values consumption source authorName flagged rollover status } } }";

/// An organisation with two houses; two flats with an account, a resident and a
/// cold-water meter each (the first with a 5-digit register); a flat in the second house.
pub struct Fixture {
    pub org: String,
    pub house: String,
    pub house2: String,
    pub meter: String,
    pub meter2: String,
    pub meter3: String,
    pub account2: String,
    pub resident: Caller,
    pub resident2: Caller,
}

pub async fn fixture(app: &TestApp, name: &str) -> Fixture {
    let org = app.create_org(name).await;
    let house = app.create_house(&org, "Ленина", "10").await;
    let house2 = app.create_house(&org, "Мира", "20").await;
    let p1 = app.create_premises(&house, "1", "40").await;
    let p2 = app.create_premises(&house, "2", "50").await;
    let p3 = app.create_premises(&house2, "3", "60").await;
    let a1 = app.create_account(&p1, &format!("{}1", name.len())).await;
    let a2 = app.create_account(&p2, &format!("{}2", name.len())).await;
    let meter = |premises: String, serial: String, digits: Option<i32>| async move {
        app.ok(
            "mutation($input: CreateMeterInput!) { createMeter(input: $input) { meter { id } } }",
            json!({ "input": { "premisesId": premises, "serial": serial, "resource": "COLD_WATER", "digits": digits } }),
        )
        .await["createMeter"]["meter"]["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let m1 = meter(p1, format!("CW-{name}-1"), Some(5)).await;
    let m2 = meter(p2, format!("CW-{name}-2"), None).await;
    let m3 = meter(p3, format!("CW-{name}-3"), None).await;
    let resident = app
        .resident_of(
            &format!("r1-{}@example.org", name.len()),
            &a1,
            &format!("{}1", name.len()),
        )
        .await;
    let resident2 = app
        .resident_of(
            &format!("r2-{}@example.org", name.len()),
            &a2,
            &format!("{}2", name.len()),
        )
        .await;
    Fixture {
        org,
        house,
        house2,
        meter: m1,
        meter2: m2,
        meter3: m3,
        account2: a2,
        resident,
        resident2,
    }
}

pub async fn submit(caller: &Caller, meter: &str, values: &[&str]) -> Value {
    caller
        .graphql(
            SUBMIT,
            json!({ "input": { "meterId": meter, "values": values } }),
        )
        .await
}

/// Staff entry dated `on`.
async fn enter(app: &TestApp, meter: &str, on: &str, value: &str) -> Value {
    app.ok(
        SUBMIT,
        json!({ "input": { "meterId": meter, "values": [value], "takenOn": on } }),
    )
    .await["submitReading"]["reading"]
        .clone()
}

db_test! {
    async fn a_resident_submits_a_reading_and_the_rules_refuse_what_is_wrong(app: &TestApp) {
        let f = fixture(app, "Rules").await;
        let got = submit(&f.resident, &f.meter, &["12.5"]).await;
        let r = &got["data"]["submitReading"]["reading"];
        assert_eq!(r["values"], json!(["12.5"]), "{got}");
        assert_eq!(r["consumption"], json!(["12.5"]));
        assert_eq!(r["source"], "RESIDENT");
        assert_eq!(r["authorName"], "r1-5@example.org");

        assert_eq!(refusal(&submit(&f.resident, &f.meter, &["10"]).await), refused("VALIDATION", "input.values[0]", "below_previous"));
        assert_eq!(refusal(&submit(&f.resident, &f.meter, &["13", "1"]).await), refused("VALIDATION", "input.values", "values_per_zone"));
        assert_eq!(refusal(&submit(&f.resident, &f.meter, &["-1"]).await).2, "must_not_be_negative");
        let dated = f.resident.graphql(SUBMIT, json!({ "input": { "meterId": f.meter, "values": ["13"], "takenOn": "2026-11-20" } })).await;
        assert_eq!(refusal(&dated), refused("VALIDATION", "input.takenOn", "resident_date"));
        let reasoned = f.resident.graphql(SUBMIT, json!({ "input": { "meterId": f.meter, "values": ["13"], "reason": "x" } })).await;
        assert_eq!(refusal(&reasoned), refused("VALIDATION", "input.reason", "staff_only"));
        let automatic = f.resident.graphql(SUBMIT, json!({ "input": { "meterId": f.meter, "values": ["13"], "source": "AUTOMATIC" } })).await;
        assert_eq!(refusal(&automatic), refused("VALIDATION", "input.source", "staff_only"));
        assert_eq!(refusal(&submit(&f.resident, &f.meter2, &["1"]).await).0, "NOT_FOUND", "another resident's meter does not exist for them");

        // Staff may enter a lower value with a reason; consumption goes negative.
        assert_eq!(refusal(&submit(&app.admin, &f.meter, &["10"]).await).2, "below_previous");
        let lower = app.ok(SUBMIT, json!({ "input": { "meterId": f.meter, "values": ["10"], "reason": "register replaced" } })).await;
        assert_eq!(lower["submitReading"]["reading"]["consumption"], json!(["-2.5"]));
        assert_eq!(lower["submitReading"]["reading"]["source"], "STAFF");

        // The window: the organisation's from the 1st to the 5th (today is the 26th).
        app.ok("mutation($input: SetReadingSettingsInput!) { setReadingSettings(input: $input) { windowFrom windowTo } }",
            json!({ "input": { "organisationId": f.org, "windowFrom": 1, "windowTo": 5 } })).await;
        let outside = submit(&f.resident, &f.meter, &["11"]).await;
        assert_eq!(refusal(&outside), refused("VALIDATION", "input.takenOn", "outside_window"));
        assert!(outside["errors"][0]["message"].as_str().unwrap().contains("from day 1 to day 5"));
        assert!(submit(&app.admin, &f.meter, &["11"]).await.get("errors").is_none(), "staff are not bound by the window");
        // The house's own window wins.
        let house = app.ok("mutation($input: SetReadingSettingsInput!) { setReadingSettings(input: $input) { windowFrom windowTo houseOverrides } }",
            json!({ "input": { "organisationId": f.org, "houseId": f.house, "windowFrom": 20, "windowTo": 28 } })).await;
        assert_eq!(house["setReadingSettings"], json!({ "windowFrom": 20, "windowTo": 28, "houseOverrides": true }));
        assert!(submit(&f.resident, &f.meter, &["12"]).await.get("errors").is_none());
        let seen = f.resident.ok("query($org: ID!, $h: ID) { readingSettings(organisationId: $org, houseId: $h) { windowFrom windowTo } }",
            json!({ "org": f.org, "h": f.house })).await;
        assert_eq!(seen["readingSettings"], json!({ "windowFrom": 20, "windowTo": 28 }));

        // An archived meter, or one whose verification is overdue, takes staff readings only.
        app.ok("mutation($input: UpdateMeterInput!) { updateMeter(input: $input) { meter { id } } }",
            json!({ "input": { "id": f.meter, "verificationDue": "2026-10-01" } })).await;
        assert_eq!(refusal(&submit(&f.resident, &f.meter, &["13"]).await).2, "verification_overdue");
        app.ok("mutation($input: SetMeterStatusInput!) { setMeterStatus(input: $input) { meter { id } } }",
            json!({ "input": { "id": f.meter, "status": "ARCHIVED" } })).await;
        assert_eq!(refusal(&submit(&f.resident, &f.meter, &["13"]).await).2, "meter_not_active");
        assert!(submit(&app.admin, &f.meter, &["13"]).await.get("errors").is_none());

        // Nothing refused was written: five readings in all.
        let list = app.ok("query($org: ID!, $m: ID) { readings(organisationId: $org, filter: { meterId: $m }) { totalCount } }",
            json!({ "org": f.org, "m": f.meter })).await;
        assert_eq!(list["readings"]["totalCount"], 5);
    }
}

db_test! {
    async fn a_rollover_counts_through_the_capacity_and_a_jump_is_flagged_then_corrected(app: &TestApp) {
        let f = fixture(app, "Flags").await;
        // A 5-digit register near its end rolls over to small numbers.
        enter(app, &f.meter, "2026-09-26", "99990").await;
        let r = submit(&f.resident, &f.meter, &["12"]).await;
        assert_eq!(r["data"]["submitReading"]["reading"]["rollover"], true, "{r}");
        assert_eq!(r["data"]["submitReading"]["reading"]["consumption"], json!(["22"]));
        assert_eq!(refusal(&submit(&f.resident, &f.meter, &["5"]).await).2, "below_previous", "12 → 5 is no rollover");
        assert_eq!(refusal(&submit(&f.resident, &f.meter, &["100000"]).await).2, "above_capacity");

        // Three units a month, then forty-four: flagged for review.
        for (on, v) in [("2026-08-26", "100"), ("2026-09-26", "103"), ("2026-10-26", "106")] {
            enter(app, &f.meter2, on, v).await;
        }
        let jump = submit(&f.resident2, &f.meter2, &["150"]).await;
        let jump = &jump["data"]["submitReading"]["reading"];
        assert_eq!(jump["flagged"], true);
        let flagged_id = jump["id"].as_str().unwrap().to_string();
        let review = "query($org: ID!) { readings(organisationId: $org, filter: { toReview: true }) { totalCount nodes { id flagged flagReason } } }";
        let queue = app.ok(review, json!({ "org": f.org })).await;
        assert_eq!(queue["readings"]["totalCount"], 1);
        assert_eq!(queue["readings"]["nodes"][0]["id"], flagged_id.as_str());
        assert!(queue["readings"]["nodes"][0]["flagReason"].as_str().unwrap().contains("300%"));

        let history = "query($m: ID!) { meterHistory(meterId: $m) { readings { values consumption status } periods { period consumption } } }";
        let h = f.resident2.ok(history, json!({ "m": f.meter2 })).await;
        assert_eq!(h["meterHistory"]["periods"], json!([
            { "period": "2026-08", "consumption": ["100"] },
            { "period": "2026-09", "consumption": ["3"] },
            { "period": "2026-10", "consumption": ["3"] },
            { "period": "2026-11", "consumption": ["44"] },
        ]));

        // A correction replaces it; the old one stays, superseded, out of the history.
        assert_eq!(f.resident2.error("mutation($input: CorrectReadingInput!) { correctReading(input: $input) { reading { id } } }",
            json!({ "input": { "id": flagged_id, "values": ["109"], "reason": "typo" } })).await["extensions"]["code"], "FORBIDDEN");
        let corrected = app.ok("mutation($input: CorrectReadingInput!) { correctReading(input: $input) { reading { id values consumption reason flagged } } }",
            json!({ "input": { "id": flagged_id, "values": ["109"], "reason": "typing error, photo checked" } })).await;
        assert_eq!(corrected["correctReading"]["reading"]["consumption"], json!(["3"]));
        assert_eq!(corrected["correctReading"]["reading"]["flagged"], false);
        let again = app.graphql("mutation($input: CorrectReadingInput!) { correctReading(input: $input) { reading { id } } }",
            json!({ "input": { "id": flagged_id, "values": ["110"], "reason": "again" } })).await;
        assert_eq!(refusal(&again), refused("CONFLICT", "input.id", "already_corrected"));
        let h = app.ok(history, json!({ "m": f.meter2 })).await;
        assert_eq!(h["meterHistory"]["periods"][3], json!({ "period": "2026-11", "consumption": ["3"] }));
        // The list shows each reading's consumption from the accepted one before it.
        let listed = app.ok("query($org: ID!, $m: ID) { readings(organisationId: $org, filter: { meterId: $m }) { nodes { values consumption status } } }",
            json!({ "org": f.org, "m": f.meter2 })).await;
        assert_eq!(listed["readings"]["nodes"][0], json!({ "values": ["109"], "consumption": ["3"], "status": "ACCEPTED" }));
        assert_eq!(listed["readings"]["nodes"][1], json!({ "values": ["150"], "consumption": ["44"], "status": "SUPERSEDED" }));
        assert_eq!(listed["readings"]["nodes"][4], json!({ "values": ["100"], "consumption": ["100"], "status": "ACCEPTED" }));
        assert_eq!(h["meterHistory"]["readings"].as_array().unwrap().len(), 4);

        // A meter-reading system feeding readings in names itself.
        let fed = app.ok(SUBMIT, json!({ "input": { "meterId": f.meter2, "values": ["109"], "source": "AUTOMATIC" } })).await;
        assert_eq!(fed["submitReading"]["reading"]["source"], "AUTOMATIC");
        // The readings of one account, newest first.
        let of_account = app.ok("query($org: ID!, $a: ID) { readings(organisationId: $org, filter: { accountId: $a }) { totalCount nodes { source } } }",
            json!({ "org": f.org, "a": f.account2 })).await;
        assert_eq!(of_account["readings"]["totalCount"], 6);
        assert_eq!(of_account["readings"]["nodes"][0]["source"], "AUTOMATIC");

        // Reviewed: it leaves the queue.
        app.ok("mutation($id: ID!) { reviewReading(id: $id) { reading { reviewedAt } } }", json!({ "id": flagged_id })).await;
        assert_eq!(app.ok(review, json!({ "org": f.org })).await["readings"]["totalCount"], 0);
    }
}

db_test! {
    async fn an_import_writes_every_reading_or_none_and_names_each_bad_row(app: &TestApp) {
        let f = fixture(app, "Import").await;
        let bad = "serial;date;value\nCW-Import-1;2026-11-20;10,5\nCW-Import-2;2026-11-21;abc\nNOPE-1;2026-11-21;3\nCW-Import-3;2026-11-22;7\n";
        let got = crate::import::upload_readings_as(app, &app.admin, &f.org, bad).await;
        let r = &got["data"]["importReadings"];
        assert_eq!(r["ok"], false, "{got}");
        assert_eq!(r["imported"], 0);
        let errors: Vec<(u64, String, String)> = r["errors"].as_array().unwrap().iter()
            .map(|e| (e["line"].as_u64().unwrap(), e["column"].as_str().unwrap().into(), e["reason"].as_str().unwrap().into()))
            .collect();
        assert_eq!(errors, vec![(3, "value1".into(), "not_a_number".into()), (4, "serial".into(), "unknown_meter".into())]);
        let count = "query($org: ID!) { readings(organisationId: $org) { totalCount } }";
        assert_eq!(app.ok(count, json!({ "org": f.org })).await["readings"]["totalCount"], 0);

        // A rule broken deep inside (a value below the previous row's) also writes nothing.
        let below = "serial;date;value\nCW-Import-1;2026-11-20;10\nCW-Import-1;2026-11-21;9\n";
        let got = crate::import::upload_readings_as(app, &app.admin, &f.org, below).await;
        assert_eq!(got["data"]["importReadings"]["errors"][0]["reason"], "below_previous", "{got}");
        assert_eq!(got["data"]["importReadings"]["errors"][0]["line"], 3);
        assert_eq!(app.ok(count, json!({ "org": f.org })).await["readings"]["totalCount"], 0);

        let good = "serial,date,value,reason\nCW-Import-1,2026-11-20,10.5,\nCW-Import-2,2026-11-21,4,\nCW-Import-3,2026-11-22,7,\nCW-Import-1,2026-11-23,9,register replaced\n";
        let got = crate::import::upload_readings_as(app, &app.admin, &f.org, good).await;
        assert_eq!(got["data"]["importReadings"]["ok"], true, "{got}");
        assert_eq!(got["data"]["importReadings"]["imported"], 4);
        let sources = app.ok("query($org: ID!) { readings(organisationId: $org) { nodes { source } } }", json!({ "org": f.org })).await;
        assert!(sources["readings"]["nodes"].as_array().unwrap().iter().all(|n| n["source"] == "IMPORT"));
        // A dispatcher may not import.
        let dispatcher = app.login_as("dispatcher-import@example.org", &f.org, &["DISPATCHER"], &[]).await;
        let got = crate::import::upload_readings_as(app, &dispatcher, &f.org, good).await;
        assert_eq!(got["errors"][0]["extensions"]["code"], "FORBIDDEN");
    }
}

db_test! {
    async fn readings_submitted_at_once_are_each_checked_on_their_own_and_chained_in_order(app: &TestApp) {
        let f = fixture(app, "Group").await;
        // Thirty submissions at once: staff readings of one meter in a random
        // order of values, residents on their own meters, and ones that must be
        // refused (another resident's meter, a value per zone too many).
        let mut calls = Vec::new();
        for v in [70, 10, 40, 100, 20, 90, 30, 60, 50, 80] {
            let (admin, meter) = (app.admin.clone(), f.meter3.clone());
            calls.push(tokio::spawn(async move { ("staff", v, submit(&admin, &meter, &[&v.to_string()]).await) }));
        }
        for v in 1..=10 {
            let (r1, m1, r2, m2) = (f.resident.clone(), f.meter.clone(), f.resident.clone(), f.meter2.clone());
            calls.push(tokio::spawn(async move { ("resident", v, submit(&r1, &m1, &[&format!("{v}.5")]).await) }));
            calls.push(tokio::spawn(async move { ("foreign", v, submit(&r2, &m2, &["1", "2"]).await) }));
        }
        let mut accepted = Vec::new();
        for call in calls {
            let (who, v, got) = call.await.unwrap();
            match who {
                "foreign" => assert_eq!(refusal(&got).0, "NOT_FOUND", "{got}"),
                _ if got.get("errors").is_some() => assert_eq!(refusal(&got).2, "below_previous", "{who} {v}: {got}"),
                _ => accepted.push((who, v)),
            }
        }
        assert!(accepted.iter().any(|(w, _)| *w == "staff") && accepted.iter().any(|(w, _)| *w == "resident"));
        // What was accepted stands in the order it was written: each value above the one before.
        for meter in [&f.meter3, &f.meter] {
            let history = app.ok(
                "query($id: ID!) { meterHistory(meterId: $id) { readings { values consumption } } }",
                json!({ "id": meter }),
            ).await;
            let readings = history["meterHistory"]["readings"].as_array().unwrap().clone();
            let values: Vec<f64> = readings.iter().map(|r| r["values"][0].as_str().unwrap().parse().unwrap()).collect();
            assert!(values.windows(2).all(|w| w[0] < w[1]), "{values:?}");
            for r in &readings {
                let c: f64 = r["consumption"][0].as_str().unwrap().parse().unwrap();
                assert!(c > 0.0, "{readings:?}");
            }
        }
        let written = app.ok(
            "query($org: ID!) { readings(organisationId: $org, first: 100) { totalCount } }",
            json!({ "org": f.org }),
        ).await["readings"]["totalCount"].as_i64().unwrap();
        assert_eq!(written, accepted.len() as i64);
        // One audit entry each, the chain unbroken; events numbered without gaps.
        let db = app.db();
        let org = uuid::Uuid::parse_str(&f.org).unwrap();
        let report = schema::tenancy::as_system(schema::audit::verify_chain(db, org, None, crate::helpers::now())).await.unwrap();
        assert!(report.ok(), "{report:?}");
        let seqs: Vec<i64> = schema::tenancy::as_system(async {
            use sea_orm::ConnectionTrait;
            db.query_all_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                format!("SELECT seq FROM events WHERE organisation_id = {} ORDER BY seq", match db.get_database_backend() {
                    sea_orm::DatabaseBackend::Postgres => format!("'{org}'"),
                    _ => format!("x'{}'", org.simple()),
                }),
            ))
            .await
        })
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<i64>("", "seq").unwrap())
        .collect();
        assert!(seqs.len() >= accepted.len(), "{seqs:?}");
        assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
    }
}
