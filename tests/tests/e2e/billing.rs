//! The billing catalogue through the API: services, and tariffs versioned in
//! time for the organisation or one house.

use serde_json::{json, Value};

use crate::db_test;
use crate::helpers::{refusal, refused};

const CREATE: &str = "mutation($input: CreateServiceInput!) { createService(input: $input) { service { id code method resource zones normCoefficient provider { name taxId } archived } } }";
const SET: &str = "mutation($input: SetTariffInput!) { setTariff(input: $input) { tariff { id validFrom validTo zones { tiers { upTo price } } } } }";
const TARIFFS: &str = "query($id: ID!, $house: ID) { tariffs(serviceId: $id, houseId: $house) { validFrom validTo houseId zones { tiers { upTo price } } } }";

fn flat(price: &str) -> Value {
    json!([{ "tiers": [{ "price": price }] }])
}

db_test! {
    async fn services_are_checked_and_tariffs_follow_each_other_in_time(app: &TestApp) {
        let org = app.create_org("Billing").await;
        let house = app.create_house(&org, "Ленина", "5").await;
        let water = app.ok(CREATE, json!({ "input": {
            "organisationId": org, "code": "cold_water", "name": "Холодная вода", "unit": "м³",
            "method": "METERED", "resource": "COLD_WATER", "normCoefficient": "1.5",
            "provider": { "name": "МУП «Водоканал»", "taxId": "7701234567" } } })).await["createService"]["service"].clone();
        assert_eq!(water["method"], "METERED");
        assert_eq!(water["zones"], 1);
        assert_eq!(water["normCoefficient"], "1.5");
        assert_eq!(water["provider"]["name"], "МУП «Водоканал»");
        let water = water["id"].as_str().unwrap().to_string();
        let power = app.ok(CREATE, json!({ "input": {
            "organisationId": org, "code": "electricity", "name": "Электроэнергия", "unit": "кВт·ч",
            "method": "METERED", "resource": "ELECTRICITY", "zones": 2 } })).await["createService"]["service"]["id"].as_str().unwrap().to_string();

        // What the catalogue refuses, by field.
        let again = app.graphql(CREATE, json!({ "input": { "organisationId": org, "code": "cold_water", "name": "x", "unit": "м³", "method": "METERED", "resource": "COLD_WATER" } })).await;
        assert_eq!(refusal(&again), refused("CONFLICT", "input.code", "code_taken"));
        let no_resource = app.graphql(CREATE, json!({ "input": { "organisationId": org, "code": "hot_water", "name": "ГВС", "unit": "м³", "method": "METERED" } })).await;
        assert_eq!(refusal(&no_resource), refused("VALIDATION", "input.resource", "required"));
        let zones = app.graphql(CREATE, json!({ "input": { "organisationId": org, "code": "upkeep", "name": "Содержание", "unit": "м²", "method": "AREA", "zones": 2 } })).await;
        assert_eq!(refusal(&zones), refused("VALIDATION", "input.zones", "out_of_range"));
        let code = app.graphql(CREATE, json!({ "input": { "organisationId": org, "code": "Вода", "name": "x", "unit": "м³", "method": "FIXED" } })).await;
        assert_eq!(refusal(&code), refused("VALIDATION", "input.code", "code_format"));

        // The organisation's prices: January, then tiered from July (January's ends the day before).
        app.ok(SET, json!({ "input": { "serviceId": water, "validFrom": "2026-01-01", "zones": flat("49.13") } })).await;
        let july = app.ok(SET, json!({ "input": { "serviceId": water, "validFrom": "2026-07-01",
            "zones": [{ "tiers": [{ "upTo": "10", "price": "51.20" }, { "price": "61.44" }] }] } })).await;
        assert_eq!(july["setTariff"]["tariff"]["zones"][0]["tiers"][1], json!({ "upTo": null, "price": "61.44" }));
        let versions = app.ok(TARIFFS, json!({ "id": water })).await["tariffs"].clone();
        assert_eq!(versions[0]["validTo"], "2026-06-30");
        assert_eq!(versions[1]["validFrom"], "2026-07-01");
        assert_eq!(versions[1]["validTo"], Value::Null);

        // A price for August only: July's stops the day before and resumes the day after.
        app.ok(SET, json!({ "input": { "serviceId": water, "validFrom": "2026-08-01", "validTo": "2026-08-31", "zones": flat("45") } })).await;
        let versions = app.ok(TARIFFS, json!({ "id": water })).await["tariffs"].clone();
        let spans: Vec<(Value, Value)> = versions.as_array().unwrap().iter().map(|v| (v["validFrom"].clone(), v["validTo"].clone())).collect();
        assert_eq!(spans, vec![
            (json!("2026-01-01"), json!("2026-06-30")),
            (json!("2026-07-01"), json!("2026-07-31")),
            (json!("2026-08-01"), json!("2026-08-31")),
            (json!("2026-09-01"), Value::Null),
        ]);
        assert_eq!(versions[3]["zones"], versions[1]["zones"], "the resumed prices are July's");

        // One house's own price for ten days; starting inside it is refused.
        app.ok(SET, json!({ "input": { "serviceId": water, "houseId": house, "validFrom": "2026-11-11", "validTo": "2026-11-20", "zones": flat("30") } })).await;
        let inside = app.graphql(SET, json!({ "input": { "serviceId": water, "houseId": house, "validFrom": "2026-11-01", "validTo": "2026-11-15", "zones": flat("31") } })).await;
        assert_eq!(refusal(&inside), refused("CONFLICT", "input.validFrom", "overlaps"));
        let own = app.ok(TARIFFS, json!({ "id": water, "house": house })).await["tariffs"].clone();
        assert_eq!(own.as_array().unwrap().len(), 1);
        assert_eq!(own[0]["houseId"], house.as_str());

        // Prices that break the rules, by field.
        let order = app.graphql(SET, json!({ "input": { "serviceId": water, "validFrom": "2027-01-01",
            "zones": [{ "tiers": [{ "upTo": "10", "price": "1" }, { "upTo": "5", "price": "2" }, { "price": "3" }] }] } })).await;
        assert_eq!(refusal(&order), refused("VALIDATION", "input.zones[0][1].upTo", "band_order"));
        let negative = app.graphql(SET, json!({ "input": { "serviceId": water, "validFrom": "2027-01-01", "zones": flat("-1") } })).await;
        assert_eq!(refusal(&negative), refused("VALIDATION", "input.zones[0][0].price", "must_not_be_negative"));
        let one_zone = app.graphql(SET, json!({ "input": { "serviceId": power, "validFrom": "2027-01-01", "zones": flat("5") } })).await;
        assert_eq!(refusal(&one_zone), refused("VALIDATION", "input.zones", "zones_mismatch"));
        let backwards = app.graphql(SET, json!({ "input": { "serviceId": water, "validFrom": "2027-01-01", "validTo": "2026-12-31", "zones": flat("5") } })).await;
        assert_eq!(refusal(&backwards), refused("VALIDATION", "input.validTo", "before_start"));
        // Day and night.
        app.ok(SET, json!({ "input": { "serviceId": power, "validFrom": "2026-01-01", "zones": [{ "tiers": [{ "price": "6.43" }] }, { "tiers": [{ "price": "2.58" }] }] } })).await;

        // Archived: gone from the list, kept on request, no new prices.
        app.ok("mutation($input: UpdateServiceInput!) { updateService(input: $input) { service { archived } } }",
            json!({ "input": { "id": power, "archived": true } })).await;
        let listed = app.ok("query($org: ID!) { services(organisationId: $org) { code } }", json!({ "org": org })).await;
        assert_eq!(listed["services"], json!([{ "code": "cold_water" }]));
        let all = app.ok("query($org: ID!) { services(organisationId: $org, archived: true) { code } }", json!({ "org": org })).await;
        assert_eq!(all["services"].as_array().unwrap().len(), 2);
        let archived = app.graphql(SET, json!({ "input": { "serviceId": power, "validFrom": "2027-01-01", "zones": [{ "tiers": [{ "price": "7" }] }, { "tiers": [{ "price": "3" }] }] } })).await;
        assert_eq!(refusal(&archived), refused("VALIDATION", "input.serviceId", "archived"));

        // Norms per person, versioned the same way; per basis.
        const NORM: &str = "mutation($input: SetNormInput!) { setNorm(input: $input) { norm { basis validFrom validTo value } } }";
        app.ok(NORM, json!({ "input": { "serviceId": water, "basis": "PERSON", "validFrom": "2026-01-01", "value": "6.935" } })).await;
        app.ok(NORM, json!({ "input": { "serviceId": water, "basis": "COMMON_AREA", "validFrom": "2026-01-01", "value": "0.03" } })).await;
        let raised = app.ok(NORM, json!({ "input": { "serviceId": water, "basis": "PERSON", "validFrom": "2026-09-01", "value": "7.1" } })).await;
        assert_eq!(raised["setNorm"]["norm"]["value"], "7.1");
        let norms = app.ok("query($id: ID!) { norms(serviceId: $id) { basis validFrom validTo value } }", json!({ "id": water })).await["norms"].clone();
        assert_eq!(norms, json!([
            { "basis": "COMMON_AREA", "validFrom": "2026-01-01", "validTo": null, "value": "0.03" },
            { "basis": "PERSON", "validFrom": "2026-01-01", "validTo": "2026-08-31", "value": "6.935" },
            { "basis": "PERSON", "validFrom": "2026-09-01", "validTo": null, "value": "7.1" },
        ]));
        let negative = app.graphql(NORM, json!({ "input": { "serviceId": water, "basis": "AREA", "validFrom": "2026-01-01", "value": "-0.1" } })).await;
        assert_eq!(refusal(&negative), refused("VALIDATION", "input.value", "must_not_be_negative"));

        // Every change has its audit entry.
        let audit = app.ok("query($org: ID!) { auditLog(organisationId: $org, filter: { objectType: \"tariff\" }) { totalCount } }", json!({ "org": org })).await;
        assert_eq!(audit["auditLog"]["totalCount"], 8, "five versions, January and July cut short, July resumed");
    }
}

db_test! {
    async fn the_payment_qr_standard_must_pay_in_the_organisation_s_currency(app: &TestApp) {
        const SET: &str = "mutation($input: BillingSettingsInput!) { setBillingSettings(input: $input) { qrStandard } }";
        let org = app.create_org("УК Валюта").await;
        // Roubles: EPC (euros) and PIX (reais) are refused by the setting's name.
        for (standard, pays) in [("EPC", "EUR"), ("PIX", "BRL")] {
            let r = app.graphql(SET, json!({ "input": { "organisationId": org, "qrStandard": standard, "dueDay": 15,
                "pixKey": "a@b.br", "pixCity": "Recife" } })).await;
            assert_eq!(crate::helpers::refusal(&r), crate::helpers::refused("VALIDATION", "input.qrStandard", "currency_mismatch"), "{r}");
            let message = r["errors"][0]["message"].as_str().unwrap();
            assert!(message.contains(pays) && message.contains("RUB"), "{message}");
        }
        app.ok(SET, json!({ "input": { "organisationId": org, "qrStandard": "GOST", "dueDay": 15 } })).await;
        // The currency cannot leave the standard behind either.
        const UPDATE: &str = "mutation($input: UpdateOrganisationInput!) { updateOrganisation(input: $input) { organisation { currency } } }";
        let r = app.graphql(UPDATE, json!({ "input": { "id": org, "currency": "EUR" } })).await;
        assert_eq!(crate::helpers::refusal(&r), crate::helpers::refused("VALIDATION", "input.currency", "qr_standard_mismatch"), "{r}");
        let now = app.ok("query($id: ID!) { organisation(id: $id) { currency } }", json!({ "id": org })).await;
        assert_eq!(now["organisation"]["currency"], "RUB", "nothing changed");
        // Without settings of its own the standard follows the currency.
        let other = app.create_org("УК Евро").await;
        app.ok(UPDATE, json!({ "input": { "id": other, "currency": "EUR" } })).await;
        let s = app.ok("query($org: ID!) { billingSettings(organisationId: $org) { qrStandard } }", json!({ "org": other })).await;
        assert_eq!(s["billingSettings"]["qrStandard"], "EPC");
    }
}
