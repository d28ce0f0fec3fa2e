//! Houses, premises, accounts, people and meters through the API.

use serde_json::json;

use crate::db_test;

db_test! {
    async fn exact_numbers_round_trip_without_losing_a_digit(app: &TestApp) {
        let org = app.create_org("УК Точность").await;
        let house = app.create_house(&org, "ул. Ленина", "5").await;
        let tenth = app.create_premises(&house, "1", "0.1").await;
        let usual = app.create_premises(&house, "2", "54.3").await;
        let huge = app.create_premises(&house, "3", "123456789.123456").await;
        let data = app
            .ok(
                "mutation($input: CreateMeterInput!) { createMeter(input: $input) { meter { id initialValues zones unit } } }",
                json!({ "input": { "premisesId": usual, "serial": "EL-1", "resource": "ELECTRICITY", "zones": 3,
                    "initialValues": ["0.1", "54.3", "123456789.123456"] } }),
            )
            .await;
        assert_eq!(data["createMeter"]["meter"]["initialValues"], json!(["0.1", "54.3", "123456789.123456"]));
        assert_eq!(data["createMeter"]["meter"]["unit"], "kWh");
        for (id, area) in [(&tenth, "0.1"), (&usual, "54.3"), (&huge, "123456789.123456")] {
            let data = app.ok("query($id: ID!) { premises(id: $id) { area } }", json!({ "id": id })).await;
            assert_eq!(data["premises"]["area"], area);
        }
        let person = app.create_person(&org, "Иванова Алёна", "+7 916 000-00-01").await;
        let data = app
            .ok(
                "mutation($input: LinkPersonInput!) { linkPersonToPremises(input: $input) { occupancy { share role } } }",
                json!({ "input": { "premisesId": usual, "personId": person, "role": "OWNER", "share": "1/3" } }),
            )
            .await;
        assert_eq!(data["linkPersonToPremises"]["occupancy"]["share"], "1/3");
        let data = app.ok("query($id: ID!) { house(id: $id) { totalArea commonArea } }", json!({ "id": house })).await;
        assert_eq!(data["house"]["totalArea"], "5400.5");
    }
}

db_test! {
    async fn a_duplicate_account_number_is_a_conflict_on_its_field(app: &TestApp) {
        let org = app.create_org("УК Дубль").await;
        let house = app.create_house(&org, "ул. Мира", "1").await;
        let p1 = app.create_premises(&house, "1", "40").await;
        let p2 = app.create_premises(&house, "2", "40").await;
        app.create_account(&p1, "100200").await;
        let error = app
            .error(
                "mutation($input: CreateAccountInput!) { createAccount(input: $input) { account { id } } }",
                json!({ "input": { "premisesId": p2, "number": "100200", "openedOn": "2026-01-01" } }),
            )
            .await;
        assert_eq!(error["extensions"]["code"], "CONFLICT");
        assert_eq!(error["extensions"]["field"], "input.number");
        // Another organisation may use the same number.
        let other = app.create_org("УК Другая").await;
        let other_house = app.create_house(&other, "ул. Мира", "1").await;
        let other_p = app.create_premises(&other_house, "1", "40").await;
        app.create_account(&other_p, "100200").await;
    }
}

db_test! {
    async fn bad_input_names_the_field_and_the_reason_and_writes_nothing(app: &TestApp) {
        let org = app.create_org("УК Проверка").await;
        let house = app.create_house(&org, "ул. Садовая", "7").await;
        let create = "mutation($input: CreatePremisesInput!) { createPremises(input: $input) { premises { id } } }";
        for (area, reason) in [("0", "must_be_positive"), ("-5", "must_be_positive"), ("1.0000001", "too_precise")] {
            let error = app.error(create, json!({ "input": { "houseId": house, "number": "9", "area": area } })).await;
            assert_eq!(error["extensions"]["code"], "VALIDATION", "{error}");
            assert_eq!(error["extensions"]["field"], "input.area");
            assert_eq!(error["extensions"]["reason"], reason);
        }
        let error = app.error(create, json!({ "input": { "houseId": house, "number": "9", "area": "30", "floor": 10 } })).await;
        assert_eq!(error["extensions"]["field"], "input.floor");
        let data = app
            .ok("query($org: ID!) { premisesList(organisationId: $org) { totalCount } }", json!({ "org": org }))
            .await;
        assert_eq!(data["premisesList"]["totalCount"], 0);

        let premises = app.create_premises(&house, "1", "30").await;
        let account = app.create_account(&premises, "555").await;
        let error = app
            .error(
                "mutation($input: CloseAccountInput!) { closeAccount(input: $input) { account { id } } }",
                json!({ "input": { "id": account, "closedOn": "2025-12-31" } }),
            )
            .await;
        assert_eq!(error["extensions"]["reason"], "dates_out_of_order");
        assert_eq!(error["extensions"]["field"], "input.closedOn");
        let error = app
            .error(
                "mutation($input: CreateMeterInput!) { createMeter(input: $input) { meter { id } } }",
                json!({ "input": { "premisesId": premises, "serial": "CW-1", "resource": "COLD_WATER",
                    "installedOn": "2026-05-01", "verificationDue": "2026-04-01" } }),
            )
            .await;
        assert_eq!(error["extensions"]["field"], "input.verificationDue");
        let error = app.error("query { house(id: \"not-an-id\") { id } }", json!({})).await;
        assert_eq!(error["extensions"]["code"], "VALIDATION");
        let error = app
            .error("query($id: ID!) { house(id: $id) { id } }", json!({ "id": uuid::Uuid::now_v7().to_string() }))
            .await;
        assert_eq!(error["extensions"]["code"], "NOT_FOUND");
    }
}

db_test! {
    async fn shares_of_a_premises_never_exceed_the_whole(app: &TestApp) {
        let org = app.create_org("УК Доли").await;
        let house = app.create_house(&org, "ул. Ленина", "1").await;
        let premises = app.create_premises(&house, "7", "60").await;
        let link = "mutation($input: LinkPersonInput!) { linkPersonToPremises(input: $input) { occupancy { id share } } }";
        for (name, share) in [("Петров П.", "1/3"), ("Петрова А.", "1/3"), ("Петров С.", "1/3")] {
            let person = app.create_person(&org, name, "+79160000000").await;
            app.ok(link, json!({ "input": { "premisesId": premises, "personId": person, "role": "OWNER", "share": share } }))
                .await;
        }
        let extra = app.create_person(&org, "Сидоров", "+79160000009").await;
        let error = app
            .error(link, json!({ "input": { "premisesId": premises, "personId": extra, "role": "OWNER", "share": "1%" } }))
            .await;
        assert_eq!(error["extensions"]["reason"], "shares_exceed_whole", "{error}");
        assert_eq!(error["extensions"]["field"], "input.share");
        // A tenant holds no share and is always possible.
        app.ok(link, json!({ "input": { "premisesId": premises, "personId": extra, "role": "TENANT" } })).await;

        let create = "mutation($input: CreateAccountInput!) { createAccount(input: $input) { account { share } } }";
        let data = app
            .ok(create, json!({ "input": { "premisesId": premises, "number": "A-1", "share": "0.5", "openedOn": "2026-01-01" } }))
            .await;
        assert_eq!(data["createAccount"]["account"]["share"], "0.5");
        let error = app
            .error(create, json!({ "input": { "premisesId": premises, "number": "A-2", "share": "60%", "openedOn": "2026-01-01" } }))
            .await;
        assert_eq!(error["extensions"]["reason"], "shares_exceed_whole");
    }
}

db_test! {
    async fn a_serial_is_unique_per_resource(app: &TestApp) {
        let org = app.create_org("УК Счётчики").await;
        let house = app.create_house(&org, "ул. Ленина", "2").await;
        let premises = app.create_premises(&house, "1", "45").await;
        let create = "mutation($input: CreateMeterInput!) { createMeter(input: $input) { meter { id isCommon } } }";
        app.ok(create, json!({ "input": { "premisesId": premises, "serial": "123", "resource": "COLD_WATER" } })).await;
        let error = app.error(create, json!({ "input": { "premisesId": premises, "serial": "123", "resource": "COLD_WATER" } })).await;
        assert_eq!(error["extensions"]["code"], "CONFLICT");
        assert_eq!(error["extensions"]["field"], "input.serial");
        app.ok(create, json!({ "input": { "premisesId": premises, "serial": "123", "resource": "HOT_WATER" } })).await;
        let error = app.error(create, json!({ "input": { "premisesId": premises, "serial": "124", "resource": "GAS", "zones": 2 } })).await;
        assert_eq!(error["extensions"]["reason"], "zones_for_resource");
        let data = app.ok(create, json!({ "input": { "houseId": house, "serial": "ODPU-1", "resource": "HEAT" } })).await;
        assert_eq!(data["createMeter"]["meter"]["isCommon"], true);
        let data = app
            .ok("query($id: ID!) { house(id: $id) { commonMeters { serial unit } } }", json!({ "id": house }))
            .await;
        assert_eq!(data["house"]["commonMeters"], json!([{ "serial": "ODPU-1", "unit": "Gcal" }]));
    }
}

db_test! {
    async fn nothing_referenced_is_deleted_only_archived_or_closed(app: &TestApp) {
        let org = app.create_org("УК Архив").await;
        let house = app.create_house(&org, "ул. Ленина", "3").await;
        let premises = app.create_premises(&house, "1", "45").await;
        let account = app.create_account(&premises, "777").await;
        let archive = "mutation($input: IdInput!) { archiveHouse(input: $input) { house { status } } }";
        let error = app.error(archive, json!({ "input": { "id": house } })).await;
        assert_eq!(error["extensions"]["reason"], "has_open_accounts");
        app.ok(
            "mutation($input: CloseAccountInput!) { closeAccount(input: $input) { account { isOpen closedOn } } }",
            json!({ "input": { "id": account, "closedOn": "2026-11-30" } }),
        )
        .await;
        let data = app.ok(archive, json!({ "input": { "id": house } })).await;
        assert_eq!(data["archiveHouse"]["house"]["status"], "ARCHIVED");
        let data = app
            .ok("query($id: ID!) { account(id: $id) { number isOpen closedOn premises { number house { status } } } }", json!({ "id": account }))
            .await;
        assert_eq!(data["account"]["isOpen"], false);
        assert_eq!(data["account"]["premises"]["house"]["status"], "ARCHIVED");
        let error = app
            .error(
                "mutation($input: CreatePremisesInput!) { createPremises(input: $input) { premises { id } } }",
                json!({ "input": { "houseId": house, "number": "2", "area": "10" } }),
            )
            .await;
        assert_eq!(error["extensions"]["reason"], "archived");
    }
}

db_test! {
    async fn lists_are_paged_filtered_and_sorted_as_people_read_numbers(app: &TestApp) {
        let org = app.create_org("УК Списки").await;
        let house = app.create_house(&org, "ул. Ленина", "4").await;
        let other = app.create_house(&org, "ул. Гагарина", "9").await;
        for n in ["10", "2", "1", "20", "3"] {
            app.create_premises(&house, n, "50").await;
        }
        app.create_premises(&other, "1", "50").await;
        let query = "query($org: ID!, $house: ID!, $after: String) {
            premisesList(organisationId: $org, filter: { houseId: $house }, first: 2, after: $after) {
                totalCount pageInfo { hasNextPage endCursor } edges { node { number } } } }";
        let mut numbers = Vec::new();
        let mut after = serde_json::Value::Null;
        loop {
            let data = app.ok(query, json!({ "org": org, "house": house, "after": after })).await;
            let list = &data["premisesList"];
            assert_eq!(list["totalCount"], 5);
            for edge in list["edges"].as_array().unwrap() {
                numbers.push(edge["node"]["number"].as_str().unwrap().to_string());
            }
            if list["pageInfo"]["hasNextPage"] == false {
                break;
            }
            after = list["pageInfo"]["endCursor"].clone();
        }
        assert_eq!(numbers, vec!["1", "2", "3", "10", "20"]);
        let data = app
            .ok(
                "query($org: ID!) { houses(organisationId: $org, orderBy: { field: ADDRESS, direction: DESC }) { edges { node { address } } } }",
                json!({ "org": org }),
            )
            .await;
        let addresses: Vec<&str> = data["houses"]["edges"].as_array().unwrap().iter().map(|e| e["node"]["address"].as_str().unwrap()).collect();
        assert_eq!(addresses, vec!["ул. Ленина, 4, Москва", "ул. Гагарина, 9, Москва"]);
        let error = app.error("query($org: ID!) { houses(organisationId: $org, first: 100000) { totalCount } }", json!({ "org": org })).await;
        assert_eq!(error["extensions"]["reason"], "page_too_large");
    }
}

db_test! {
    async fn updates_change_only_the_fields_given(app: &TestApp) {
        let org = app.create_org("УК Правки").await;
        let house = app.create_house(&org, "ул. Ленина", "6").await;
        let premises = app.create_premises(&house, "1", "45.5").await;
        let data = app
            .ok(
                "mutation($input: UpdatePremisesInput!) { updatePremises(input: $input) { premises { number area rooms kind } } }",
                json!({ "input": { "id": premises, "area": "46.25", "kind": "NON_RESIDENTIAL" } }),
            )
            .await;
        assert_eq!(data["updatePremises"]["premises"], json!({ "number": "1", "area": "46.25", "rooms": 2, "kind": "NON_RESIDENTIAL" }));
        let person = app.create_person(&org, "Smith John", "+441234567890").await;
        let data = app
            .ok(
                "mutation($input: UpdatePersonInput!) { updatePerson(input: $input) { person { fullName phones emails preferredChannel } } }",
                json!({ "input": { "id": person, "emails": ["John@Example.org"], "preferredChannel": "EMAIL" } }),
            )
            .await;
        assert_eq!(
            data["updatePerson"]["person"],
            json!({ "fullName": "Smith John", "phones": ["+441234567890"], "emails": ["john@example.org"], "preferredChannel": "EMAIL" })
        );
    }
}

db_test! {
    async fn concurrent_updates_of_different_fields_keep_every_change(app: &TestApp) {
        // Each request changes one field; each update reads the row, applies its
        // change and writes the row back, so without a lock some would write back
        // a stale copy and undo another's change.
        let org = app.create_org("УК Параллель").await;
        let changes = [
            json!({ "country": "Россия" }),
            json!({ "region": "Татарстан" }),
            json!({ "postalCode": "420008" }),
            json!({ "yearBuilt": 1968 }),
            json!({ "floors": 9 }),
            json!({ "entrances": 4 }),
            json!({ "totalArea": "5120.5" }),
            json!({ "commonArea": "610.25" }),
            json!({ "managementStart": "2020-01-01" }),
        ];
        for round in 1..=3 {
            let house = app.create_house(&org, "ул. Кремлёвская", &round.to_string()).await;
            let requests = changes.iter().map(|change| {
                let mut input = change.clone();
                input["id"] = json!(house);
                app.ok(
                    "mutation($input: UpdateHouseInput!) { updateHouse(input: $input) { house { id } } }",
                    json!({ "input": input }),
                )
            });
            futures_util::future::join_all(requests).await;
            let data = app
                .ok(
                    "query($id: ID!) { house(id: $id) { country region postalCode yearBuilt floors entrances totalArea commonArea managementStart } }",
                    json!({ "id": house }),
                )
                .await;
            assert_eq!(
                data["house"],
                json!({ "country": "Россия", "region": "Татарстан", "postalCode": "420008", "yearBuilt": 1968, "floors": 9, "entrances": 4, "totalArea": "5120.5", "commonArea": "610.25", "managementStart": "2020-01-01" })
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite_a_change_waits_for_another_writer_instead_of_failing() {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let app = crate::helpers::spawn_app(crate::helpers::Db::Sqlite).await;
    let org = app.create_org("УК Очередь").await;
    // Another writer holds SQLite's write lock for a moment.
    let blocker = app.db().begin().await.unwrap();
    blocker
        .execute_unprepared("UPDATE organisations SET name = name")
        .await
        .unwrap();
    let release = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        blocker.commit().await.unwrap();
    });
    let house = app.create_house(&org, "Терпеливая", "1").await;
    assert!(!house.is_empty());
    release.await.unwrap();
    app.cleanup().await;
}
