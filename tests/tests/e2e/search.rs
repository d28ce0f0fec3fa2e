//! The one search box: accounts, people, premises, meters, by a few characters.

use serde_json::{json, Value};

use crate::db_test;
use crate::import::upload;

const SEARCH: &str = "query($org: ID!, $text: String!, $kinds: [SearchKind!], $house: ID) {
    search(organisationId: $org, text: $text, kinds: $kinds, houseId: $house, first: 10) {
        kind score node {
            ... on Account { number }
            ... on Person { fullName }
            ... on Premises { number }
            ... on Meter { serial }
            ... on House { address } } } }";

fn labels(data: &Value) -> Vec<String> {
    data["search"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| {
            let node = &hit["node"];
            let label = ["number", "fullName", "serial", "address"]
                .iter()
                .find_map(|k| node[*k].as_str())
                .unwrap_or("");
            format!("{}:{}", hit["kind"].as_str().unwrap(), label)
        })
        .collect()
}

db_test! {
    async fn a_few_characters_find_accounts_people_premises_and_meters(app: &TestApp) {
        let org = app.create_org("УК Поиск").await;
        let response = upload(app, &org, "registry.csv", include_str!("../../../docs/samples/registry.csv")).await;
        assert_eq!(response["data"]["importRegistry"]["ok"], true, "{response:#}");
        let find = |text: &'static str| {
            let org = org.clone();
            async move { labels(&app.ok(SEARCH, json!({ "org": org, "text": text })).await) }
        };
        // Account number prefix, ranked first when exact.
        assert_eq!(find("1600003").await.first().map(String::as_str), Some("ACCOUNT:1600003"));
        assert!(find("160").await.iter().filter(|l| l.starts_with("ACCOUNT:")).count() >= 7);
        // Names, case- and accent-insensitive, in Cyrillic and Latin.
        assert!(find("гари").await.contains(&"PERSON:Гарипов Ринат Ильдарович".to_string()));
        assert!(find("ЕЛКИН").await.contains(&"PERSON:Ёлкин Пётр Семёнович".to_string()));
        assert!(find("conceicao").await.contains(&"PERSON:Conceição Maria da Silva".to_string()));
        assert!(find("MARIA silva").await.contains(&"PERSON:Conceição Maria da Silva".to_string()));
        // Phones with or without the country code.
        assert!(find("9172000002").await.contains(&"PERSON:Сафина Алия Маратовна".to_string()));
        assert!(find("79172000002").await.contains(&"PERSON:Сафина Алия Маратовна".to_string()));
        // Premises by address and number.
        assert_eq!(find("баумана 3").await.first().map(String::as_str), Some("PREMISES:3"));
        // Meters by serial.
        assert_eq!(find("cw-1900").await.len(), 4);
        assert_eq!(find("EL-19N").await, vec!["METER:EL-19N001".to_string()]);
        // Filters by kind and by house.
        let data = app.ok(SEARCH, json!({ "org": org, "text": "1600", "kinds": ["PERSON"] })).await;
        assert!(labels(&data).is_empty());
        let other = app.create_house(&org, "ул. Другая", "1").await;
        let data = app.ok(SEARCH, json!({ "org": org, "text": "1600", "house": other })).await;
        assert!(labels(&data).is_empty());
        // Nothing from another organisation.
        let stranger = app.create_org("УК Чужая").await;
        let data = app.ok(SEARCH, json!({ "org": stranger, "text": "гари" })).await;
        assert!(labels(&data).is_empty());
        // New and changed objects are found at once.
        let person = app.create_person(&org, "Zoë Novák", "+420 777 123 456").await;
        assert!(find("zoe").await.contains(&"PERSON:Zoë Novák".to_string()));
        app.ok(
            "mutation($input: UpdatePersonInput!) { updatePerson(input: $input) { person { id } } }",
            json!({ "input": { "id": person, "fullName": "Zoë Dvořák" } }),
        )
        .await;
        assert!(find("novak").await.is_empty());
        assert!(find("dvorak").await.contains(&"PERSON:Zoë Dvořák".to_string()));
    }
}
