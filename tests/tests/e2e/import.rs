//! Onboarding a house from CSV through the GraphQL multipart upload.

use serde_json::{json, Value};

use crate::db_test;
use crate::helpers::TestApp;

const SAMPLE: &str = include_str!("../../../docs/samples/registry.csv");

const IMPORT: &str = "mutation($input: ImportRegistryInput!) { importRegistry(input: $input) {
    ok lines errorCount errors { line column reason message }
    houses { created updated unchanged } premises { created updated unchanged }
    accounts { created updated unchanged } people { created updated unchanged }
    occupancies { created updated unchanged } meters { created updated unchanged } } }";

/// Sends a file as a GraphQL multipart request (the upload spec), as the admin.
pub async fn upload(app: &TestApp, org: &str, name: &str, content: &str) -> Value {
    upload_as(app, &app.admin, org, name, content).await
}

const IMPORT_READINGS: &str = "mutation($input: ImportReadingsInput!) { importReadings(input: $input) { ok imported errors { line column reason message } } }";

/// Uploads a readings CSV as `caller`.
pub async fn upload_readings_as(
    app: &TestApp,
    caller: &crate::helpers::Caller,
    org: &str,
    content: &str,
) -> Value {
    upload_document(app, caller, IMPORT_READINGS, org, "readings.csv", content).await
}

/// The same, as any caller.
pub async fn upload_as(
    app: &TestApp,
    caller: &crate::helpers::Caller,
    org: &str,
    name: &str,
    content: &str,
) -> Value {
    upload_document(app, caller, IMPORT, org, name, content).await
}

async fn upload_document(
    app: &TestApp,
    caller: &crate::helpers::Caller,
    query: &str,
    org: &str,
    name: &str,
    content: &str,
) -> Value {
    let input = json!({ "organisationId": org, "file": null });
    upload_file(app, caller, query, input, name, content.as_bytes().to_vec()).await
}

/// Sends `input` (whose `file` is null) with a file as a GraphQL multipart
/// request (the upload spec), as `caller`.
pub async fn upload_file(
    app: &TestApp,
    caller: &crate::helpers::Caller,
    query: &str,
    input: Value,
    name: &str,
    bytes: Vec<u8>,
) -> Value {
    let operations = json!({ "query": query, "variables": { "input": input } });
    let form = reqwest::multipart::Form::new()
        .text("operations", operations.to_string())
        .text("map", json!({ "0": ["variables.input.file"] }).to_string())
        .part(
            "0",
            reqwest::multipart::Part::bytes(bytes)
                .file_name(name.to_string())
                .mime_str("application/octet-stream")
                .unwrap(),
        );
    let mut request = app
        .client
        .post(format!("{}/graphql", app.base))
        .header("Apollo-Require-Preflight", "true");
    if let Some(token) = &caller.token {
        request = request.bearer_auth(token);
    }
    request
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn snapshot(app: &TestApp, org: &str) -> Value {
    app.ok(
        "query($org: ID!) {
            accounts(organisationId: $org, first: 500) { totalCount edges { node { id number share registeredResidents openedOn privilegedCategories
                holder { id fullName phones emails } premises { id number area kind house { id address } }
                meters { id serial resource zones initialValues verificationDue } } } }
            people(organisationId: $org) { totalCount }
            meters(organisationId: $org) { totalCount } }",
        json!({ "org": org }),
    )
    .await
}

db_test! {
    async fn a_house_is_onboarded_from_csv_and_a_second_import_changes_nothing(app: &TestApp) {
        let org = app.create_org("УК Казань").await;
        let response = upload(app, &org, "registry.csv", SAMPLE).await;
        let report = &response["data"]["importRegistry"];
        assert_eq!(report["ok"], true, "{response:#}");
        assert_eq!(report["lines"], 7);
        assert_eq!(report["houses"]["created"], 1);
        assert_eq!(report["premises"]["created"], 6);
        assert_eq!(report["accounts"]["created"], 7);
        assert_eq!(report["people"]["created"], 6);
        assert_eq!(report["meters"]["created"], 8);

        let before = snapshot(app, &org).await;
        // Nested lists of many premises are loaded in batches; each premises gets
        // exactly its own accounts and meters.
        let premises = app
            .ok(
                "query($org: ID!) { premisesList(organisationId: $org, first: 100) { edges { node { id
                    accounts { number premises { id } } meters { serial premises { id } } occupancies { role premises { id } } } } } }",
                json!({ "org": org }),
            )
            .await;
        let nodes = premises["premisesList"]["edges"].as_array().unwrap();
        assert_eq!(nodes.len(), 6);
        let (mut accounts, mut meters, mut occupancies) = (0, 0, 0);
        for edge in nodes {
            let node = &edge["node"];
            for list in ["accounts", "meters", "occupancies"] {
                for item in node[list].as_array().unwrap() {
                    assert_eq!(item["premises"]["id"], node["id"], "{list} of {node:#}");
                }
            }
            accounts += node["accounts"].as_array().unwrap().len();
            meters += node["meters"].as_array().unwrap().len();
            occupancies += node["occupancies"].as_array().unwrap().len();
        }
        assert_eq!((accounts, meters), (7, 8));
        assert!(occupancies >= 6, "{premises:#}");
        assert_eq!(before["accounts"]["totalCount"], 7);
        let first = &before["accounts"]["edges"][0]["node"];
        assert_eq!(first["number"], "1600001");
        assert_eq!(first["premises"]["area"], "54.3");
        assert_eq!(first["holder"]["phones"], json!(["+79172000001"]));
        let meters: Vec<&Value> = before["accounts"]["edges"][2]["node"]["meters"].as_array().unwrap().iter().collect();
        assert_eq!(meters[0]["initialValues"], json!(["123456789.123456"]));
        assert_eq!(before["accounts"]["edges"][2]["node"]["share"], "0.5");

        let again = upload(app, &org, "registry.csv", SAMPLE).await;
        let report = &again["data"]["importRegistry"];
        assert_eq!(report["ok"], true);
        for kind in ["houses", "premises", "accounts", "people", "occupancies", "meters"] {
            assert_eq!(report[kind]["created"], 0, "{kind}: {report:#}");
            assert_eq!(report[kind]["updated"], 0, "{kind}: {report:#}");
        }
        assert_eq!(snapshot(app, &org).await, before);

        // A changed line updates just that object.
        let changed = SAMPLE.replace(",54.3,2,1600001,", ",55.1,2,1600001,");
        let response = upload(app, &org, "registry.csv", &changed).await;
        assert_eq!(response["data"]["importRegistry"]["premises"]["updated"], 1, "{response:#}");
    }
}

db_test! {
    async fn a_file_with_errors_writes_nothing_and_lists_every_bad_line(app: &TestApp) {
        let org = app.create_org("УК Ошибки").await;
        let mut bad = SAMPLE.to_string();
        bad = bad.replace(",38.1,1,1600002,", ",-38.1,1,1600002,");
        bad = bad.replace(",1600005,2025-03-15,", ",1600005,2025-13-15,");
        bad.push_str("\"г. Казань, ул. Баумана, д. 19\",Казань,ул. Баумана,19,420111,5,residential,2,2,30,1,1600001,2024-01-01,1,1,,Иванов,owner,,+7 917 200-00-09,,sms,CW-190001,cold_water,1,,,,,,\n");
        bad.push_str("\"г. Казань, ул. Баумана, д. 19\",Казань,ул. Баумана,19,420111,6,residential,2,2,30,1,1600010,2024-01-01,1,1,,Петров,owner,,+7 917 200-00-10,not-an-email,email,,,,,,,,,\n");
        let response = upload(app, &org, "bad.csv", &bad).await;
        let report = &response["data"]["importRegistry"];
        assert_eq!(report["ok"], false, "{response:#}");
        let errors: Vec<(u64, String, String)> = report["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["line"].as_u64().unwrap(), e["column"].as_str().unwrap().to_string(), e["reason"].as_str().unwrap().to_string()))
            .collect();
        assert!(errors.contains(&(3, "area".into(), "must_be_positive".into())), "{errors:?}");
        assert!(errors.contains(&(6, "account_opened".into(), "not_a_date".into())), "{errors:?}");
        assert!(errors.contains(&(9, "account_number".into(), "duplicate".into())), "{errors:?}");
        assert!(errors.contains(&(9, "meter1_serial".into(), "duplicate".into())), "{errors:?}");
        assert!(errors.contains(&(10, "person_email".into(), "invalid_email".into())), "{errors:?}");
        assert_eq!(report["errorCount"].as_u64().unwrap() as usize, errors.len());
        let data = app
            .ok("query($org: ID!) { houses(organisationId: $org) { totalCount } people(organisationId: $org) { totalCount } }", json!({ "org": org }))
            .await;
        assert_eq!(data["houses"]["totalCount"], 0);
        assert_eq!(data["people"]["totalCount"], 0);

        let response = upload(app, &org, "header.csv", "house,premises_number,colour\n").await;
        let reasons: Vec<&str> = response["data"]["importRegistry"]["errors"].as_array().unwrap().iter().map(|e| e["reason"].as_str().unwrap()).collect();
        assert_eq!(reasons, vec!["unknown_column", "missing_column", "missing_column"]);
    }
}

db_test! {
    async fn an_error_found_only_at_the_end_of_the_file_rolls_back_every_written_line(app: &TestApp) {
        // Every line is good on its own and is written as it is read (12 000 lines
        // are more than one batch of writes); only at the end do the shares of
        // flat 1 add up to more than the whole.
        let org = app.create_org("УК Доли").await;
        let mut file = String::from("house,house_city,house_street,house_building,premises_number,area,account_number,account_share\n");
        for flat in 1..=12_000 {
            file.push_str(&format!("\"Rua Augusta, 1500\",São Paulo,Rua Augusta,1500,{flat},54.3,BR-{flat},1/2\n"));
        }
        file.push_str("\"Rua Augusta, 1500\",São Paulo,Rua Augusta,1500,1,54.3,BR-X1,2/3\n");
        let response = upload(app, &org, "shares.csv", &file).await;
        let report = &response["data"]["importRegistry"];
        assert_eq!(report["ok"], false, "{response:#}");
        assert_eq!(report["errors"][0]["line"], 2, "{response:#}");
        assert_eq!(report["errors"][0]["reason"], "shares_exceed_whole", "{response:#}");
        assert_eq!(report["errorCount"], 1, "{response:#}");
        let data = app
            .ok("query($org: ID!) { houses(organisationId: $org) { totalCount } premisesList(organisationId: $org) { totalCount } accounts(organisationId: $org) { totalCount } }", json!({ "org": org }))
            .await;
        assert_eq!(data["houses"]["totalCount"], 0);
        assert_eq!(data["premisesList"]["totalCount"], 0);
        assert_eq!(data["accounts"]["totalCount"], 0);

        // The same file without the last line goes in whole.
        let good: String = file.lines().take(12_001).map(|l| format!("{l}\n")).collect();
        let response = upload(app, &org, "shares.csv", &good).await;
        assert_eq!(response["data"]["importRegistry"]["ok"], true, "{response:#}");
        assert_eq!(response["data"]["importRegistry"]["accounts"]["created"], 12_000, "{response:#}");
    }
}

db_test! {
    async fn semicolon_files_with_decimal_commas_import_as_spreadsheets_save_them(app: &TestApp) {
        let org = app.create_org("УК Excel").await;
        let file = "\u{feff}house;house_city;house_street;house_building;premises_number;area;account_number\n\
                    Rua Augusta, 1500;São Paulo;Rua Augusta;1500;101;54,3;BR-101\n";
        let response = upload(app, &org, "excel.csv", file).await;
        assert_eq!(response["data"]["importRegistry"]["ok"], true, "{response:#}");
        let data = app
            .ok("query($org: ID!) { premisesList(organisationId: $org) { edges { node { area house { address } } } } }", json!({ "org": org }))
            .await;
        assert_eq!(data["premisesList"]["edges"][0]["node"]["area"], "54.3");
        assert_eq!(data["premisesList"]["edges"][0]["node"]["house"]["address"], "Rua Augusta, 1500");
    }
}
