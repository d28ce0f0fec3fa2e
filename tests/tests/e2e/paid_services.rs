//! Paid extra services end to end: a catalogue with a house's own price, a
//! resident's order that becomes a work order routed like a complaint, done
//! with a photo, then charged on the next receipt as its own line; an order
//! paid at the desk, recorded as a payment in the same step.

use serde_json::{json, Value};

use crate::billing_run::calculated;
use crate::db_test;
use crate::files::{attach, fixture};
use crate::helpers::{refusal, refused};

pub const SAVE: &str = "mutation($input: SavePaidServiceInput!) { savePaidService(input: $input) { id price defaultPrice housePrices { houseId price } } }";
const ORDER: &str = "mutation($input: OrderPaidServiceInput!) { orderPaidService(input: $input) {
    order { id number status price paymentId billPeriod } workOrder { id status category assigneeId text } } }";

db_test! {
    async fn a_paid_service_is_ordered_worked_like_a_complaint_and_charged_on_the_next_receipt(app: &TestApp) {
        let org = app.create_org("Платные услуги").await;
        let house = app.create_house(&org, "Гагарина", "8").await;
        let other_house = app.create_house(&org, "Гагарина", "10").await;
        let acc = app.create_account(&app.create_premises(&house, "4", "52").await, "800004").await;
        let resident = app.resident_of("r8@example.org", &acc, "800004").await;
        let engineer = app.login_as("e8@example.org", &org, &["ENGINEER"], &[]).await;
        let dispatcher = app.login_as("d8@example.org", &org, &["DISPATCHER"], &[]).await;
        let engineer_id = engineer.ok("{ me { id } }", json!({})).await["me"]["id"].as_str().unwrap().to_string();
        app.ok("mutation($input: UpdateComplaintSetupInput!) { updateComplaintSetup(input: $input) { reopenDays } }",
            json!({ "input": { "organisationId": org, "routes": [{ "category": "plumbing", "personId": engineer_id }] } })).await;

        // The catalogue: 1 500 in general, 1 800 in this house.
        let input = |price: &str, category: &str, house_id: &str| json!({ "input": { "organisationId": org, "code": "meter-swap",
            "name": "Замена счётчика воды", "category": category, "unit": "шт.", "price": price,
            "housePrices": [{ "houseId": house_id, "price": "1800.00" }] } });
        assert_eq!(refusal(&app.graphql(SAVE, input("0", "plumbing", &house)).await), refused("VALIDATION", "input.price", "out_of_range"));
        assert_eq!(refusal(&app.graphql(SAVE, input("1500", "astrology", &house)).await), refused("VALIDATION", "input.category", "unknown"));
        assert_eq!(refusal(&app.graphql(SAVE, input("1500", "plumbing", &org)).await), refused("VALIDATION", "input.housePrices.0.houseId", "unknown"));
        let saved = app.ok(SAVE, input("1500.00", "plumbing", &house)).await["savePaidService"].clone();
        assert_eq!((saved["defaultPrice"].clone(), saved["housePrices"][0]["price"].clone()), (json!("1500.00"), json!("1800.00")));
        let service = saved["id"].as_str().unwrap().to_string();
        let list = |h: &str| {
            let (resident, org, h) = (resident.clone(), org.clone(), h.to_string());
            async move { resident.ok("query($org: ID!, $h: ID) { paidServices(organisationId: $org, houseId: $h) { name price housePrices { price } } }",
                json!({ "org": org, "h": h })).await["paidServices"][0].clone() }
        };
        assert_eq!(list(&house).await, json!({ "name": "Замена счётчика воды", "price": "1800.00", "housePrices": [] }));
        assert_eq!(list(&other_house).await["price"], "1500.00");

        // The resident orders it: a work order, routed by its category.
        let desk = resident.graphql(ORDER, json!({ "input": { "serviceId": service, "accountId": acc, "paidAtOnce": "CASH" } })).await;
        assert_eq!(refusal(&desk), refused("VALIDATION", "input.paidAtOnce", "desk_only"));
        let ordered = resident.ok(ORDER, json!({ "input": { "serviceId": service, "accountId": acc, "note": "Удобно в субботу" } })).await["orderPaidService"].clone();
        assert_eq!((ordered["order"]["status"].clone(), ordered["order"]["price"].clone()), (json!("ORDERED"), json!("1800.00")));
        let work = ordered["workOrder"].clone();
        assert_eq!((work["status"].clone(), work["category"].clone(), work["assigneeId"].clone()), (json!("ASSIGNED"), json!("plumbing"), json!(engineer_id)));
        assert_eq!(work["text"], "Заказ: Замена счётчика воды. Удобно в субботу");

        // Done like any work order, with a photo; then on the open period's receipt.
        const MOVE: &str = "mutation($input: MoveComplaintInput!) { moveComplaint(input: $input) { complaint { status } } }";
        let wid = work["id"].as_str().unwrap().to_string();
        engineer.ok(MOVE, json!({ "input": { "id": wid, "status": "IN_PROGRESS" } })).await;
        let shot = attach(app, &engineer, "COMPLAINT", &wid, "счётчик.jpg", fixture("photo-gps.jpg")).await;
        let photo = shot["data"]["uploadAttachment"]["attachment"]["id"].clone();
        engineer.ok(MOVE, json!({ "input": { "id": wid, "status": "DONE", "comment": "Установлен новый счётчик", "photoIds": [photo] } })).await;
        let orders = |who: crate::helpers::Caller| {
            let org = org.clone();
            async move { who.ok("query($org: ID!) { serviceOrders(organisationId: $org) { number status billPeriod paymentId } }", json!({ "org": org })).await["serviceOrders"].clone() }
        };
        let mine = orders(resident.clone()).await;
        assert_eq!(mine[0]["status"], "DONE");
        let period = mine[0]["billPeriod"].as_str().unwrap().to_string();
        let receipts = calculated(app, &org, &period).await;
        let receipt = receipts.iter().find(|r| r["accountId"] == acc.as_str()).unwrap();
        let lines = app.ok("query($id: ID!) { receipt(id: $id) { charged amountDue lines { kind label quantity tariff amount } } }", json!({ "id": receipt["id"] })).await;
        let line = lines["receipt"]["lines"].as_array().unwrap().iter().find(|l| l["label"].as_str().unwrap().starts_with("Замена счётчика воды")).cloned();
        assert_eq!(line, Some(json!({ "kind": "CHARGE", "label": "Замена счётчика воды (заказ №1)", "quantity": "1", "tariff": "1800", "amount": "1800.00" })), "{lines}");

        // At the desk: ordered and paid in one step.
        let paid = dispatcher.ok(ORDER, json!({ "input": { "serviceId": service, "accountId": acc, "paidAtOnce": "CARD" } })).await["orderPaidService"].clone();
        let payment = paid["order"]["paymentId"].as_str().unwrap().to_string();
        let payments = app.ok("query($id: ID!) { accountPayments(accountId: $id) { id amount method } }", json!({ "id": acc })).await;
        let p: &Value = payments["accountPayments"].as_array().unwrap().iter().find(|p| p["id"] == payment.as_str()).unwrap();
        assert_eq!((p["amount"].clone(), p["method"].clone()), (json!("1800.00"), json!("CARD")));
        // Staff see every order; the resident's list has both, newest first.
        assert_eq!(orders(resident.clone()).await.as_array().unwrap().len(), 2);
    }
}
