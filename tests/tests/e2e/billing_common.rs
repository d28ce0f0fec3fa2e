//! Common-house needs billed by the house meter (Rules 354, F12): what the
//! house meter measured less what the premises consumed, shared by area and
//! capped at the norm for common areas where the organisation says so; by the
//! norm (F15) when the house meter has no reading.

use serde_json::{json, Value};

use crate::billing_run::{calculated, service};
use crate::db_test;
use crate::helpers::TestApp;

async fn id(app: &TestApp, query: &str, input: Value, path: [&str; 3]) -> String {
    let data = app.ok(query, json!({ "input": input })).await;
    data[path[0]][path[1]][path[2]]
        .as_str()
        .unwrap()
        .to_string()
}

async fn meter(app: &TestApp, place: Value, serial: &str, initial: &str) -> String {
    let mut input = place;
    input["serial"] = json!(serial);
    input["resource"] = json!("COLD_WATER");
    input["initialValues"] = json!([initial]);
    id(
        app,
        "mutation($input: CreateMeterInput!) { createMeter(input: $input) { meter { id } } }",
        input,
        ["createMeter", "meter", "id"],
    )
    .await
}

async fn reading(app: &TestApp, meter: &str, value: &str) {
    app.ok(
        "mutation($input: SubmitReadingInput!) { submitReading(input: $input) { reading { id } } }",
        json!({ "input": { "meterId": meter, "values": [value] } }),
    )
    .await;
}

/// The common-house line of each account, as (source, quantity, amount).
async fn common_lines(
    app: &TestApp,
    org: &str,
    accounts: &[&str],
) -> Vec<(String, String, String)> {
    let receipts = calculated(app, org, "2026-11").await;
    let mut out = Vec::new();
    for account in accounts {
        let receipt = receipts
            .iter()
            .find(|r| r["accountId"] == *account)
            .unwrap();
        let data = app
            .ok(
                "query($id: ID!) { receipt(id: $id) { lines { label source quantity amount } } }",
                json!({ "id": receipt["id"] }),
            )
            .await;
        let line = data["receipt"]["lines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["label"] == "ХВС на СОИ")
            .unwrap()
            .clone();
        out.push((
            line["source"].as_str().unwrap().to_string(),
            line["quantity"].as_str().unwrap().to_string(),
            line["amount"].as_str().unwrap().to_string(),
        ));
    }
    out
}

fn lines(rows: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    rows.iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect()
}

db_test! {
    async fn common_house_water_is_the_house_meter_less_the_premises_shared_by_area_and_capped_at_the_norm(app: &TestApp) {
        let org = app.create_org("УК Общедомовые").await;
        let house = app.create_house(&org, "Садовая", "12").await;
        app.ok(
            "mutation($input: UpdateHouseInput!) { updateHouse(input: $input) { house { id } } }",
            json!({ "input": { "id": house, "totalArea": "200", "commonArea": "40" } }),
        )
        .await;
        let p1 = app.create_premises(&house, "1", "50").await;
        let p2 = app.create_premises(&house, "2", "60").await;
        let a1 = app.create_account(&p1, "120001").await;
        let a2 = app.create_account(&p2, "120002").await;
        let water = service(app, &org, json!({ "code": "cold_water", "name": "Холодная вода", "unit": "м³", "method": "METERED", "resource": "COLD_WATER" }), json!([{ "tiers": [{ "price": "50" }] }])).await;
        let common = service(app, &org, json!({ "code": "cold_water_common", "name": "ХВС на СОИ", "unit": "м³", "method": "COMMON_HOUSE", "resource": "COLD_WATER" }), json!([{ "tiers": [{ "price": "50" }] }])).await;
        for (service, basis, value) in [(&water, "PERSON", "4.5"), (&common, "COMMON_AREA", "0.1")] {
            app.ok(
                "mutation($input: SetNormInput!) { setNorm(input: $input) { norm { id } } }",
                json!({ "input": { "serviceId": service, "basis": basis, "validFrom": "2026-01-01", "value": value } }),
            )
            .await;
        }
        // Flat 1 measured 10 m³; flat 2 has no meter: the norm, 2 × 4.5 = 9 m³.
        let m1 = meter(app, json!({ "premisesId": p1 }), "CW-1", "100").await;
        reading(app, &m1, "110").await;
        let house_meter = meter(app, json!({ "houseId": house }), "ODPU-1", "1000").await;

        // No house reading yet: by the norm, 0.1 × 40 m² × area share (F15).
        assert_eq!(
            common_lines(app, &org, &[&a1, &a2]).await,
            lines(&[("common_norm", "1", "50.00"), ("common_norm", "1.2", "60.00")])
        );

        // The house meter measured 40 m³: 40 − 19 = 21 m³ shared by area,
        // 21 × 50/200 = 5.25 and 21 × 60/200 = 6.3, capped at the norm.
        reading(app, &house_meter, "1040").await;
        assert_eq!(
            common_lines(app, &org, &[&a1, &a2]).await,
            lines(&[("common_meter", "1", "50.00"), ("common_meter", "1.2", "60.00")])
        );

        // Uncapped, where the organisation says so.
        app.ok(
            "mutation($input: BillingSettingsInput!) { setBillingSettings(input: $input) { commonHouseCapped } }",
            json!({ "input": { "organisationId": org, "qrStandard": "GOST", "dueDay": 15, "commonHouseCapped": false } }),
        )
        .await;
        assert_eq!(
            common_lines(app, &org, &[&a1, &a2]).await,
            lines(&[("common_meter", "5.25", "262.50"), ("common_meter", "6.3", "315.00")])
        );

    }
}
