//! The debtors report: what each account owes by the age of the debt (from
//! its receipt's due date), a house at a time, and the same as CSV and XLSX
//! files with the caller's session.

use serde_json::json;

use crate::db_test;
use crate::helpers::refusal;
use crate::payments::{period, upkeep};

const DEBTORS: &str = "query($org: ID!, $house: ID, $min: Decimal) { debtors(organisationId: $org, houseId: $house, asOf: \"2027-01-14\", minDebt: $min) {
    asOf count debt aged0To30 aged31To90 aged91Plus
    debtors { number premises holder debt aged0To30 aged31To90 aged91Plus oldestPeriod daysOverdue lastPaidOn } } }";
const RECORD: &str =
    "mutation($input: RecordPaymentInput!) { recordPayment(input: $input) { payment { id } } }";

db_test! {
    async fn debtors_are_listed_by_debt_and_age_and_exported_as_csv_and_xlsx(app: &TestApp) {
        let org = app.create_org("Должники").await;
        let a = app.create_house(&org, "Ленина", "12").await;
        let b = app.create_house(&org, "Мира", "3").await;
        let first = app.create_account(&app.create_premises(&a, "7", "50").await, "700123").await;
        let second = app.create_account(&app.create_premises(&b, "1", "60").await, "700200").await;
        upkeep(app, &org).await;
        // Three months at 31.07 a m²: 1553.50 and 1864.20 a month, due the 15th of the next.
        for p in ["2026-09", "2026-10", "2026-11"] {
            period(app, &org, "calculatePeriod", p).await;
            period(app, &org, "closePeriod", p).await;
        }
        for (acc, amount) in [(&first, "500.00"), (&second, "2796.30")] {
            app.ok(RECORD, json!({ "input": { "accountId": acc, "amount": amount, "method": "CASH", "paidOn": "2026-11-20" } })).await;
        }
        // On 14 January: September is 91 days late, October 60, November 30.
        let r = app.ok(DEBTORS, json!({ "org": org })).await["debtors"].clone();
        assert_eq!(r["count"], 2);
        assert_eq!((r["debt"].clone(), r["aged0To30"].clone(), r["aged31To90"].clone(), r["aged91Plus"].clone()),
            (json!("6956.80"), json!("3417.70"), json!("2485.60"), json!("1053.50")));
        assert_eq!(r["debtors"][0], json!({ "number": "700123", "premises": "7", "holder": null, "debt": "4160.50",
            "aged0To30": "1553.50", "aged31To90": "1553.50", "aged91Plus": "1053.50",
            "oldestPeriod": "2026-09", "daysOverdue": 91, "lastPaidOn": "2026-11-20" }));
        assert_eq!(r["debtors"][1]["number"], "700200");
        assert_eq!(r["debtors"][1]["oldestPeriod"], "2026-10");
        assert_eq!(r["debtors"][1]["debt"], "2796.30");
        // One house; at least some debt.
        let house = app.ok(DEBTORS, json!({ "org": org, "house": b })).await["debtors"].clone();
        assert_eq!((house["count"].clone(), house["debt"].clone()), (json!(1), json!("2796.30")));
        let large = app.ok(DEBTORS, json!({ "org": org, "min": "3000" })).await["debtors"].clone();
        assert_eq!(large["count"], 1);
        // A dispatcher does not see it; an accountant limited to house B sees B only and not A.
        let dispatcher = app.login_as("dispatcher@example.org", &org, &["DISPATCHER"], &[]).await;
        assert_eq!(refusal(&dispatcher.graphql(DEBTORS, json!({ "org": org })).await).0, "FORBIDDEN");
        let limited = app.login_as("accountant-b@example.org", &org, &["ACCOUNTANT"], &[&b]).await;
        assert_eq!(limited.ok(DEBTORS, json!({ "org": org })).await["debtors"]["count"], 1);
        assert_eq!(refusal(&limited.graphql(DEBTORS, json!({ "org": org, "house": a })).await).0, "NOT_FOUND");

        // The files, with the session; the organisation's language (ru): `;` and a decimal comma.
        let token = app.admin.token.clone().unwrap();
        let url = |ext: &str| format!("{}/reports/debtors.{ext}?organisationId={org}&asOf=2027-01-14", app.base);
        let csv = app.client.get(url("csv")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(csv.status(), 200);
        assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
        assert!(csv.headers()["content-disposition"].to_str().unwrap().contains("dolzhniki-2027-01-14.csv"));
        let text = csv.text().await.unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("\u{feff}Лицевой счёт;Адрес;Помещение;"), "{text}");
        assert_eq!(lines[1], "700123;Москва, Ленина, 12;7;;4160,50;1553,50;1553,50;1053,50;2026-09;91;2026-11-20");
        assert_eq!(lines[3], "Итого;;;;6956,80;3417,70;2485,60;1053,50;;;");
        let xlsx = app.client.get(url("xlsx")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(xlsx.status(), 200);
        assert_eq!(xlsx.headers()["content-type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
        assert_eq!(&xlsx.bytes().await.unwrap()[..2], b"PK");
        assert_eq!(app.client.get(url("csv")).send().await.unwrap().status(), 401);
        let other = app.client.get(url("csv")).bearer_auth(dispatcher.token.as_deref().unwrap()).send().await.unwrap();
        assert_eq!(other.status(), 403);
    }
}
