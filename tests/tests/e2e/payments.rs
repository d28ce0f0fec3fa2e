//! Payments end to end: recorded exactly once per idempotency key (fifty
//! concurrent calls make one payment), allocated to the oldest debt, reversed
//! and refunded with a reason, confirmed live to the resident, and a ledger
//! whose sums always agree with the receipts.

use serde_json::{json, Value};

use crate::db_test;
use crate::helpers::{refusal, refused, Caller, TestApp};
use crate::ws::{connect, init, next, send};

const RECORD: &str = "mutation($input: RecordPaymentInput!) { recordPayment(input: $input) { replayed payment { id amount method period source bankReference } } }";
const BALANCE: &str = "query($id: ID!) { accountBalance(accountId: $id) { balance advance debts { period amount } } }";
const REVERSE: &str = "mutation($input: ReversePaymentInput!) { reversePayment(input: $input) { paymentReturn { kind amount reason period } } }";
const REFUND: &str = "mutation($input: RefundPaymentInput!) { refundPayment(input: $input) { paymentReturn { kind amount reason } } }";
const LEDGER: &str =
    "query($id: ID!) { ledger(accountId: $id) { period debtPeriod kind amount document } }";
const RECEIPTS: &str = "query($id: ID!) { accountReceipts(accountId: $id) { period openingBalance paid charged amountDue } }";

fn pay(account: &str, amount: &str) -> Value {
    json!({ "input": { "accountId": account, "amount": amount, "method": "TRANSFER", "paidOn": "2026-11-20" } })
}

async fn account(app: &TestApp, name: &str) -> (String, String, String) {
    let org = app.create_org(name).await;
    let house = app.create_house(&org, "Ленина", "12").await;
    let premises = app.create_premises(&house, "7", "50").await;
    let account = app.create_account(&premises, "700123").await;
    (org, house, account)
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    use sea_orm::ConnectionTrait;
    let db = app.db();
    let statement = sea_orm::Statement::from_string(db.get_database_backend(), sql.to_string());
    let row = schema::tenancy::as_system(db.query_one_raw(statement))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

db_test! {
    async fn fifty_identical_calls_with_one_key_make_one_payment(app: &TestApp) {
        let (org, _, acc) = account(app, "Idempotent").await;
        let accountant = app.login_as("accountant@example.org", &org, &["ACCOUNTANT"], &[]).await;
        let mut body = pay(&acc, "1250.40");
        body["input"]["idempotencyKey"] = json!("bank-2026-11-20-0001");
        body["input"]["bankReference"] = json!("BR-0001");
        let calls = (0..50).map(|_| {
            let (caller, body) = (accountant.clone(), body.clone());
            tokio::spawn(async move { caller.graphql(RECORD, body).await })
        });
        let answers: Vec<Value> = futures_util::future::join_all(calls)
            .await
            .into_iter()
            .map(|r| r.unwrap())
            .collect();
        let ids: std::collections::BTreeSet<String> = answers
            .iter()
            .map(|a| a["data"]["recordPayment"]["payment"]["id"].as_str().unwrap_or_else(|| panic!("{a}")).to_string())
            .collect();
        assert_eq!(ids.len(), 1, "{ids:?}");
        let fresh = answers.iter().filter(|a| a["data"]["recordPayment"]["replayed"] == false).count();
        assert_eq!(fresh, 1);
        assert_eq!(count(app, "SELECT COUNT(*) FROM payments").await, 1);
        assert_eq!(answers[0]["data"]["recordPayment"]["payment"]["amount"], "1250.40");
        assert_eq!(answers[0]["data"]["recordPayment"]["payment"]["source"], "integration");
        let balance = accountant.ok(BALANCE, json!({ "id": acc })).await;
        assert_eq!(balance["accountBalance"]["balance"], "-1250.40");
        assert_eq!(balance["accountBalance"]["advance"], "1250.40");

        // The same key with another body is refused; another caller's key is its own.
        let mut changed = body.clone();
        changed["input"]["amount"] = json!("1250.41");
        let conflict = accountant.graphql(RECORD, changed.clone()).await;
        assert_eq!(refusal(&conflict), refused("CONFLICT", "input.idempotencyKey", "key_reused"));
        changed["input"]["bankReference"] = json!("BR-0002");
        let other = app.graphql(RECORD, changed).await;
        assert_eq!(other["data"]["recordPayment"]["replayed"], false, "{other}");
        // A bank reference counts once, whatever the key.
        let mut twice = pay(&acc, "10.00");
        twice["input"]["bankReference"] = json!("BR-0001");
        assert_eq!(refusal(&app.graphql(RECORD, twice).await), refused("CONFLICT", "input.bankReference", "duplicate"));
        assert_eq!(count(app, "SELECT COUNT(*) FROM payments").await, 2);

        // Bad input names its field; nothing is written.
        assert_eq!(refusal(&app.graphql(RECORD, pay(&acc, "0")).await), refused("VALIDATION", "input.amount", "not_positive"));
        assert_eq!(refusal(&app.graphql(RECORD, pay(&acc, "1.005")).await), refused("VALIDATION", "input.amount", "too_precise"));
        let mut future = pay(&acc, "5.00");
        future["input"]["paidOn"] = json!("2030-01-01");
        assert_eq!(refusal(&app.graphql(RECORD, future).await), refused("VALIDATION", "input.paidOn", "in_future"));
        assert_eq!(count(app, "SELECT COUNT(*) FROM payments").await, 2);
        assert_eq!(count(app, "SELECT COUNT(*) FROM ledger_entries").await, 2);
    }
}

pub(crate) async fn upkeep(app: &TestApp, org: &str) {
    let id = app
        .ok(
            "mutation($input: CreateServiceInput!) { createService(input: $input) { service { id } } }",
            json!({ "input": { "organisationId": org, "code": "maintenance", "name": "Содержание", "unit": "м²", "method": "AREA" } }),
        )
        .await["createService"]["service"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.ok(
        "mutation($input: SetTariffInput!) { setTariff(input: $input) { tariff { id } } }",
        json!({ "input": { "serviceId": id, "validFrom": "2026-01-01", "zones": [{ "tiers": [{ "price": "31.07" }] }] } }),
    )
    .await;
}

pub(crate) async fn period(app: &TestApp, org: &str, op: &str, period: &str) {
    app.ok(
        &format!("mutation($org: ID!, $p: String!) {{ {op}(organisationId: $org, period: $p) {{ status }} }}"),
        json!({ "org": org, "p": period }),
    )
    .await;
    if op == "calculatePeriod" {
        crate::billing_run::wait_calculated(app, org, period).await;
    }
}

async fn balance(caller: &Caller, acc: &str) -> Value {
    caller.ok(BALANCE, json!({ "id": acc })).await["accountBalance"].clone()
}

db_test! {
    async fn payments_settle_the_oldest_debt_and_the_ledger_agrees_with_every_receipt(app: &TestApp) {
        let (org, _, acc) = account(app, "Ledger").await;
        upkeep(app, &org).await;
        // October: 50 m² × 31.07 = 1553.50, posted when the period closes.
        period(app, &org, "calculatePeriod", "2026-10").await;
        period(app, &org, "closePeriod", "2026-10").await;
        let b = balance(&app.admin, &acc).await;
        assert_eq!(b["balance"], "1553.50");
        assert_eq!(b["debts"], json!([{ "period": "2026-10", "amount": "1553.50" }]));

        // The resident watches; the accountant records two payments.
        let resident = app.resident_of("payer@example.org", &acc, "700123").await;
        let mut ws = connect(app, None).await;
        assert_eq!(init(&mut ws, resident.token.as_deref()).await.unwrap()["type"], "connection_ack");
        send(&mut ws, json!({ "id": "pay", "type": "subscribe", "payload": {
            "query": "subscription($org: ID!, $acc: ID) { paymentConfirmed(organisationId: $org, accountId: $acc, after: 0) { accountId kind amount balance } }",
            "variables": { "org": org, "acc": acc } } })).await;
        let first = app.ok(RECORD, pay(&acc, "1000.00")).await;
        assert_eq!(first["recordPayment"]["payment"]["period"], "2026-11");
        let m = next(&mut ws).await.unwrap();
        assert_eq!(m["payload"]["data"]["paymentConfirmed"], json!({ "accountId": acc, "kind": "payment", "amount": "1000.00", "balance": "553.50" }), "{m}");
        let second = app.ok(RECORD, pay(&acc, "700.00")).await;
        let second = second["recordPayment"]["payment"]["id"].as_str().unwrap().to_string();
        let m = next(&mut ws).await.unwrap();
        assert_eq!(m["payload"]["data"]["paymentConfirmed"]["balance"], "-146.50", "{m}");
        let b = balance(&resident, &acc).await;
        assert_eq!(b["debts"], json!([]));
        assert_eq!(b["advance"], "146.50");

        // November's receipt: opening from the ledger, the payments received, what is due.
        period(app, &org, "calculatePeriod", "2026-11").await;
        let receipts = app.ok(RECEIPTS, json!({ "id": acc })).await["accountReceipts"].clone();
        let nov = receipts.as_array().unwrap().iter().find(|r| r["period"] == "2026-11").unwrap().clone();
        assert_eq!(nov, json!({ "period": "2026-11", "openingBalance": "1553.50", "paid": "1700.00", "charged": "1553.50", "amountDue": "1407.00" }));
        // Closing posts it; the advance meets November's debt; the balance is the receipt's due.
        period(app, &org, "closePeriod", "2026-11").await;
        let b = balance(&app.admin, &acc).await;
        assert_eq!(b["balance"], "1407.00");
        assert_eq!(b["advance"], "0.00");
        assert_eq!(b["debts"], json!([{ "period": "2026-11", "amount": "1407.00" }]));

        // A reversal undoes everything the payment did, once, with a reason.
        let empty = app.graphql(REVERSE, json!({ "input": { "paymentId": second, "reason": " " } })).await;
        assert_eq!(refusal(&empty), refused("VALIDATION", "input.reason", "required"));
        let reversed = app.ok(REVERSE, json!({ "input": { "paymentId": second, "reason": "Ошибочный лицевой счёт" } })).await;
        assert_eq!(reversed["reversePayment"]["paymentReturn"], json!({ "kind": "REVERSAL", "amount": "700.00", "reason": "Ошибочный лицевой счёт", "period": "2026-12" }));
        let m = next(&mut ws).await.unwrap();
        assert_eq!(m["payload"]["data"]["paymentConfirmed"]["kind"], "reversal", "{m}");
        let again = app.graphql(REVERSE, json!({ "input": { "paymentId": second, "reason": "again" } })).await;
        assert_eq!(refusal(&again), refused("CONFLICT", "input.paymentId", "already_reversed"));
        let b = balance(&app.admin, &acc).await;
        assert_eq!(b["balance"], "2107.00");
        assert_eq!(b["debts"], json!([{ "period": "2026-10", "amount": "553.50" }, { "period": "2026-11", "amount": "1553.50" }]));

        // An overpayment's advance can be refunded, no more than is left of it.
        let big = app.ok(RECORD, pay(&acc, "3000.00")).await;
        let big = big["recordPayment"]["payment"]["id"].as_str().unwrap().to_string();
        let too_much = app.graphql(REFUND, json!({ "input": { "paymentId": big, "amount": "893.01", "reason": "Переплата" } })).await;
        assert_eq!(refusal(&too_much), refused("VALIDATION", "input.amount", "exceeds_advance"));
        app.ok(REFUND, json!({ "input": { "paymentId": big, "amount": "893.00", "reason": "Переплата, заявление №12" } })).await;
        assert_eq!(balance(&app.admin, &acc).await["balance"], "0.00");

        // Nothing was changed in place: the ledger's entries add up to the
        // balance, and each closed receipt's opening and due are the ledger's
        // sums before and through its period.
        let ledger = app.ok(LEDGER, json!({ "id": acc })).await["ledger"].clone();
        let cents = |v: &Value| -> i64 {
            let s = v.as_str().unwrap();
            let d: rust_decimal::Decimal = s.parse().unwrap();
            (d * rust_decimal::Decimal::ONE_HUNDRED).try_into().unwrap()
        };
        let entries = ledger.as_array().unwrap();
        assert_eq!(entries.iter().map(|e| cents(&e["amount"])).sum::<i64>(), 0);
        for r in app.ok(RECEIPTS, json!({ "id": acc })).await["accountReceipts"].as_array().unwrap() {
            let p = r["period"].as_str().unwrap();
            let before: i64 = entries.iter().filter(|e| e["period"].as_str().unwrap() < p).map(|e| cents(&e["amount"])).sum();
            let through: i64 = entries.iter().filter(|e| e["period"].as_str().unwrap() <= p).map(|e| cents(&e["amount"])).sum();
            assert_eq!(cents(&r["openingBalance"]), before, "{r}");
            assert_eq!(cents(&r["amountDue"]), through, "{r}");
        }
        assert_eq!(count(app, "SELECT COUNT(*) FROM payment_returns").await, 2);
        assert!(count(app, "SELECT COUNT(*) FROM audit_log WHERE object_type IN ('payment', 'payment_return')").await >= 5);
    }
}

db_test! {
    async fn a_late_debt_brings_a_penalty_line_on_the_next_receipt_with_its_calculation(app: &TestApp) {
        let (org, _, acc) = account(app, "Пени").await;
        upkeep(app, &org).await;
        const SETTINGS: &str = "mutation($input: BillingSettingsInput!) { setBillingSettings(input: $input) { penaltyRule penaltyRate penaltySteps } }";
        let wrong = app.graphql(SETTINGS, json!({ "input": { "organisationId": org, "qrStandard": "GOST", "dueDay": 15,
            "penaltyRule": "GRADUATED", "penaltyRate": "9.5", "penaltySteps": "91:130,31:300" } })).await;
        assert_eq!(refusal(&wrong), refused("VALIDATION", "input.penaltySteps", "invalid"));
        let set = app.ok(SETTINGS, json!({ "input": { "organisationId": org, "qrStandard": "GOST", "dueDay": 15,
            "penaltyRule": "GRADUATED", "penaltyRate": "9.5" } })).await;
        assert_eq!(set["setBillingSettings"], json!({ "penaltyRule": "GRADUATED", "penaltyRate": "9.5", "penaltySteps": "31:300,91:130" }));
        // June, July, August: 1553.50 each, due the 15th of the next month.
        for p in ["2026-06", "2026-07", "2026-08"] {
            period(app, &org, "calculatePeriod", p).await;
            period(app, &org, "closePeriod", p).await;
        }
        // 553.50 paid on 20 August settles June down to 1000.00 from the 21st.
        app.ok(RECORD, json!({ "input": { "accountId": acc, "amount": "553.50", "method": "CASH", "paidOn": "2026-08-20" } })).await;
        period(app, &org, "calculatePeriod", "2026-09").await;
        // September's receipt charges August's days late: June's debt from day 31
        // (15 August): 1553.50 for 6 days, then 1000.00 for 11, at 9.5 % ÷ 300.
        let receipts = app.ok("query($id: ID!) { accountReceipts(accountId: $id) { period penalties amountDue lines { kind label source amount } } }", json!({ "id": acc })).await;
        let sep = receipts["accountReceipts"].as_array().unwrap().iter().find(|r| r["period"] == "2026-09").unwrap().clone();
        let penalty: Vec<&Value> = sep["lines"].as_array().unwrap().iter().filter(|l| l["kind"] == "PENALTY").collect();
        assert_eq!(penalty.len(), 1, "{sep}");
        assert_eq!(penalty[0]["label"], "Пени за 06.2026");
        assert_eq!(penalty[0]["source"], "1553,50 × 6 дн. × 9,5 % / 300; 1000,00 × 11 дн. × 9,5 % / 300");
        // 2.95165 + 3.48333… = 6.43498… → 6.43
        assert_eq!(penalty[0]["amount"], "6.43");
        assert_eq!(sep["penalties"], "6.43");
        // Owed before: 3 × 1553.50 − 553.50 = 4107.00; plus September and the penalty.
        assert_eq!(sep["amountDue"], "5666.93");
        // Closed, the penalty is a debt of its own in the ledger.
        period(app, &org, "closePeriod", "2026-09").await;
        assert_eq!(balance(&app.admin, &acc).await["balance"], "5666.93");
        assert_eq!(count(app, "SELECT COUNT(*) FROM ledger_entries WHERE kind = 'penalty'").await, 1);
        // Nothing is charged on the penalty itself: October's penalty counts the months' debts only.
        period(app, &org, "calculatePeriod", "2026-10").await;
        let receipts = app.ok("query($id: ID!) { accountReceipts(accountId: $id) { period penalties lines { kind label amount } } }", json!({ "id": acc })).await;
        let oct = receipts["accountReceipts"].as_array().unwrap().iter().find(|r| r["period"] == "2026-10").unwrap().clone();
        let labels: Vec<&str> = oct["lines"].as_array().unwrap().iter().filter(|l| l["kind"] == "PENALTY").map(|l| l["label"].as_str().unwrap()).collect();
        assert_eq!(labels, vec!["Пени за 06.2026", "Пени за 07.2026"], "{oct}");
    }
}
