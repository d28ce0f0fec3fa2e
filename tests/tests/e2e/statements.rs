//! Bank statements end to end, through the GraphQL upload: credits paid onto
//! the accounts their text names (by account number or receipt reference),
//! the rest waiting for an accountant, who matches them by hand once and the
//! payer is remembered; a file imported twice or overlapping an earlier one
//! counts each credit once; a file that disagrees with itself writes nothing.

use serde_json::{json, Value};

use crate::db_test;
use crate::helpers::{refusal, refused, Caller, TestApp};
use crate::ws::{connect, init, next, send};

pub const IMPORT: &str = "mutation($input: ImportStatementInput!) { importStatement(input: $input) {
    replayed import { id format fileName entries matched matchedAmount unmatched unmatchedAmount duplicates debits debitsAmount } } }";
const QUEUE: &str = "query($org: ID!) { statementQueue(organisationId: $org) { total lines { id amount payer text bankReference status } } }";
const LINES: &str = "query($id: ID!) { statementImport(id: $id) { matched unmatched lines { position amount status matchedBy bankReference accountId } } }";
const MATCH: &str = "mutation($input: MatchStatementLineInput!) { matchStatementLine(input: $input) { line { status matchedBy accountId } payment { amount source bankReference paidOn } } }";
const DISMISS: &str = "mutation($input: DismissStatementLineInput!) { dismissStatementLine(input: $input) { line { status note } } }";
const BALANCE: &str = "query($id: ID!) { accountBalance(accountId: $id) { balance } }";

/// The mapping of the bank's CSV in these tests.
pub fn mapping() -> Value {
    json!({ "separator": ";", "encoding": "utf-8", "decimalComma": true, "headerRows": 1,
            "dateFormat": "%d.%m.%Y", "date": 0, "amount": 1, "payer": 2, "payerAccount": 3, "text": 4, "reference": 5 })
}

/// A CSV statement with a byte-order mark, one row per `(date, amount, payer, payer account, text, reference)`.
pub fn csv(rows: &[(&str, &str, &str, &str, &str, &str)]) -> Vec<u8> {
    let mut text =
        String::from("\u{feff}Дата;Сумма;Плательщик;Счёт плательщика;Назначение;Референс\n");
    for (date, amount, payer, account, purpose, reference) in rows {
        text.push_str(&format!(
            "{date};{amount};{payer};{account};{purpose};{reference}\n"
        ));
    }
    text.into_bytes()
}

/// Imports `bytes` as `caller`, as a CSV with [`mapping`] unless `input` says otherwise.
pub async fn import(
    app: &TestApp,
    caller: &Caller,
    org: &str,
    name: &str,
    bytes: Vec<u8>,
    input: Value,
) -> Value {
    let mut full =
        json!({ "organisationId": org, "file": null, "format": "CSV", "csvMapping": mapping() });
    for (k, v) in input.as_object().unwrap() {
        full[k] = v.clone();
    }
    crate::import::upload_file(app, caller, IMPORT, full, name, bytes).await
}

async fn balance(app: &TestApp, acc: &str) -> Value {
    app.ok(BALANCE, json!({ "id": acc })).await["accountBalance"]["balance"].clone()
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
    async fn a_statement_pays_the_accounts_it_names_once_and_the_rest_wait_for_an_accountant(app: &TestApp) {
        let org = app.create_org("Выписки").await;
        let house = app.create_house(&org, "Ленина", "12").await;
        let first = app.create_account(&app.create_premises(&house, "7", "50").await, "700123").await;
        let second = app.create_account(&app.create_premises(&house, "8", "50").await, "700124").await;
        crate::payments::upkeep(app, &org).await;
        crate::payments::period(app, &org, "calculatePeriod", "2026-10").await;
        crate::payments::period(app, &org, "closePeriod", "2026-10").await;
        assert_eq!(balance(app, &first).await, "1553.50");
        let accountant = app.login_as("accountant@example.org", &org, &["ACCOUNTANT"], &[]).await;

        // The resident of the first account watches their payments.
        let resident = app.resident_of("payer@example.org", &first, "700123").await;
        let mut ws = connect(app, None).await;
        assert_eq!(init(&mut ws, resident.token.as_deref()).await.unwrap()["type"], "connection_ack");
        send(&mut ws, json!({ "id": "pay", "type": "subscribe", "payload": {
            "query": "subscription($org: ID!) { paymentConfirmed(organisationId: $org, after: 0) { accountId kind amount balance } }",
            "variables": { "org": org } } })).await;

        let november = csv(&[
            ("20.11.2026", "1553,50", "Иванов Иван", "40817810000000000001", "Оплата ЖКУ л/с 700123 за октябрь", "BR-1"),
            ("21.11.2026", "500,00", "Петров Пётр", "40817810000000000002", "PIX 700124202610", "BR-2"),
            ("22.11.2026", "100,00", "Сидоров Сидор", "40817810000000000003", "оплата за квартиру", "BR-3"),
            ("22.11.2026", "-50,00", "Банк", "", "Комиссия банка", "BR-4"),
        ]);
        let done = import(app, &accountant, &org, "november.csv", november.clone(), json!({})).await;
        let imported = done["data"]["importStatement"].clone();
        assert_eq!(imported["replayed"], false, "{done}");
        let id = imported["import"]["id"].as_str().unwrap().to_string();
        assert_eq!(imported["import"], json!({ "id": id, "format": "CSV", "fileName": "november.csv", "entries": 4,
            "matched": 2, "matchedAmount": "2053.50", "unmatched": 1, "unmatchedAmount": "100.00",
            "duplicates": 0, "debits": 1, "debitsAmount": "50.00" }));
        let lines = app.ok(LINES, json!({ "id": id })).await["statementImport"]["lines"].clone();
        assert_eq!(lines, json!([
            { "position": 2, "amount": "1553.50", "status": "MATCHED", "matchedBy": "ACCOUNT_NUMBER", "bankReference": "BR-1", "accountId": first },
            { "position": 3, "amount": "500.00", "status": "MATCHED", "matchedBy": "RECEIPT", "bankReference": "BR-2", "accountId": second },
            { "position": 4, "amount": "100.00", "status": "UNMATCHED", "matchedBy": null, "bankReference": "BR-3", "accountId": null },
            { "position": 5, "amount": "50.00", "status": "DEBIT", "matchedBy": null, "bankReference": "BR-4", "accountId": null },
        ]));
        assert_eq!(balance(app, &first).await, "0.00");
        assert_eq!(balance(app, &second).await, "1053.50");
        // The resident sees their payment the moment the import commits, and only theirs.
        let m = next(&mut ws).await.unwrap();
        assert_eq!(m["payload"]["data"]["paymentConfirmed"], json!({ "accountId": first, "kind": "payment", "amount": "1553.50", "balance": "0.00" }), "{m}");

        // The same file again changes nothing.
        let again = import(app, &accountant, &org, "november-copy.csv", november, json!({})).await;
        assert_eq!(again["data"]["importStatement"]["replayed"], true, "{again}");
        assert_eq!(again["data"]["importStatement"]["import"]["id"], id.as_str());
        assert_eq!(count(app, "SELECT COUNT(*) FROM payments").await, 2);
        // A statement overlapping it counts only what is new.
        let overlap = csv(&[
            ("20.11.2026", "1553,50", "Иванов Иван", "40817810000000000001", "Оплата ЖКУ л/с 700123 за октябрь", "BR-1"),
            ("23.11.2026", "53,50", "Петров Пётр", "40817810000000000002", "л/с: 700124", "BR-5"),
        ]);
        let o = import(app, &accountant, &org, "overlap.csv", overlap, json!({})).await;
        assert_eq!(o["data"]["importStatement"]["import"]["duplicates"], 1, "{o}");
        assert_eq!(o["data"]["importStatement"]["import"]["matched"], 1);
        assert_eq!(balance(app, &second).await, "1000.00");
        assert_eq!(count(app, "SELECT COUNT(*) FROM payments").await, 3);

        // The accountant matches the waiting credit by hand; the payer is remembered.
        let queue = accountant.ok(QUEUE, json!({ "org": org })).await["statementQueue"].clone();
        assert_eq!(queue["total"], 1);
        assert_eq!(queue["lines"][0]["payer"], "Сидоров Сидор");
        let line = queue["lines"][0]["id"].as_str().unwrap().to_string();
        let matched = accountant.ok(MATCH, json!({ "input": { "lineId": line, "accountId": first } })).await;
        assert_eq!(matched["matchStatementLine"], json!({
            "line": { "status": "MATCHED", "matchedBy": "MANUAL", "accountId": first },
            "payment": { "amount": "100.00", "source": "statement", "bankReference": "BR-3", "paidOn": "2026-11-22" } }));
        let twice = accountant.graphql(MATCH, json!({ "input": { "lineId": line, "accountId": second } })).await;
        assert_eq!(refusal(&twice), refused("CONFLICT", "input.lineId", "not_waiting"));
        assert_eq!(accountant.ok(QUEUE, json!({ "org": org })).await["statementQueue"]["total"], 0);
        let counts = app.ok(LINES, json!({ "id": id })).await["statementImport"].clone();
        assert_eq!((counts["matched"].clone(), counts["unmatched"].clone()), (json!(3), json!(0)));
        assert_eq!(balance(app, &first).await, "-100.00");
        let m = next(&mut ws).await.unwrap();
        assert_eq!(m["payload"]["data"]["paymentConfirmed"]["balance"], "-100.00", "{m}");

        // December: the remembered payer is matched without a number; the bank's interest waits and is set aside.
        let december = csv(&[
            ("01.12.2026", "200,00", "Сидоров С.", "40817810000000000003", "оплата", "BR-6"),
            ("01.12.2026", "10,00", "Банк", "30101810400000000225", "проценты на остаток", "BR-7"),
        ]);
        let d = import(app, &accountant, &org, "december.csv", december, json!({})).await;
        let d_id = d["data"]["importStatement"]["import"]["id"].as_str().unwrap_or_else(|| panic!("{d}")).to_string();
        let lines = app.ok(LINES, json!({ "id": d_id })).await["statementImport"]["lines"].clone();
        assert_eq!(lines[0]["matchedBy"], "PAYER");
        assert_eq!(lines[0]["accountId"], first.as_str());
        assert_eq!(lines[1]["status"], "UNMATCHED");
        let interest = accountant.ok(QUEUE, json!({ "org": org })).await["statementQueue"]["lines"][0]["id"].clone();
        let blank = accountant.graphql(DISMISS, json!({ "input": { "lineId": interest, "reason": " " } })).await;
        assert_eq!(refusal(&blank), refused("VALIDATION", "input.reason", "required"));
        let set_aside = accountant.ok(DISMISS, json!({ "input": { "lineId": interest, "reason": "Проценты банка, не платёж жильца" } })).await;
        assert_eq!(set_aside["dismissStatementLine"]["line"], json!({ "status": "DISMISSED", "note": "Проценты банка, не платёж жильца" }));
        assert_eq!(accountant.ok(QUEUE, json!({ "org": org })).await["statementQueue"]["total"], 0);
        assert_eq!(balance(app, &first).await, "-300.00");
        // A credit without any payer is matched too; there is just nothing to remember.
        let anonymous = csv(&[("02.12.2026", "15,00", "", "", "без назначения", "BR-8")]);
        import(app, &accountant, &org, "anonymous.csv", anonymous, json!({})).await;
        let line = accountant.ok(QUEUE, json!({ "org": org })).await["statementQueue"]["lines"][0]["id"].clone();
        let paid = accountant.ok(MATCH, json!({ "input": { "lineId": line, "accountId": second } })).await;
        assert_eq!(paid["matchStatementLine"]["line"]["status"], "MATCHED");
        assert_eq!(balance(app, &second).await, "985.00");
        assert_eq!(count(app, "SELECT COUNT(*) FROM payments WHERE source = 'statement'").await, 6);
        // Each payment's ledger entries add up to minus its amount.
        assert_eq!(
            count(app, "SELECT CAST(SUM(amount_minor) AS BIGINT) FROM ledger_entries WHERE kind = 'payment'").await,
            -(155_350 + 50_000 + 5_350 + 10_000 + 20_000 + 1_500)
        );
        // The import and the hand match are in the audit log.
        assert_eq!(count(app, "SELECT COUNT(*) FROM audit_log WHERE object_type = 'statement_import'").await, 4);
        assert_eq!(count(app, "SELECT COUNT(*) FROM audit_log WHERE object_type = 'statement_line'").await, 3);
    }
}

db_test! {
    async fn a_bank_file_is_read_in_its_own_format_and_a_file_that_disagrees_with_itself_writes_nothing(app: &TestApp) {
        let org = app.create_org("Банк-клиент").await;
        let house = app.create_house(&org, "Мира", "3").await;
        let acc = app.create_account(&app.create_premises(&house, "1", "40").await, "100200300").await;
        let sample = include_bytes!("../../../statements/tests/data/onec_sample.txt").to_vec();
        // A 1CClientBankExchange file in windows-1251, recognised by its first line.
        let done = import(app, &app.admin, &org, "kl_to_1c.txt", sample.clone(), json!({ "format": null, "csvMapping": null })).await;
        assert_eq!(done["data"]["importStatement"]["import"]["format"], "ONE_C", "{done}");
        assert_eq!(done["data"]["importStatement"]["import"]["matched"], 1);
        assert_eq!(balance(app, &acc).await, "-3381.49");

        // Totals that disagree with the entries: refused as a whole, nothing written.
        let mut wrong = sample.clone();
        let at = wrong.windows(8).position(|w| w == b"=3381.49").unwrap();
        wrong[at + 7] = b'8';
        let before = count(app, "SELECT COUNT(*) FROM statement_imports").await;
        let r = import(app, &app.admin, &org, "wrong.txt", wrong, json!({ "format": null, "csvMapping": null })).await;
        assert_eq!(refusal(&r), refused("VALIDATION", "input.file", "invalid_statement"));
        assert!(r["errors"][0]["message"].as_str().unwrap().contains("credits"), "{r}");
        assert_eq!(count(app, "SELECT COUNT(*) FROM statement_imports").await, before);
        assert_eq!(count(app, "SELECT COUNT(*) FROM statement_lines").await, 1);

        // A CSV needs its format and mapping; a wrong mapping or row names its field.
        let rows = csv(&[("01.12.2026", "10,00", "X", "", "л/с 100200300", "R-1")]);
        let unknown = import(app, &app.admin, &org, "a.csv", rows.clone(), json!({ "format": null, "csvMapping": null })).await;
        assert_eq!(refusal(&unknown), refused("VALIDATION", "input.format", "unknown"));
        let unmapped = import(app, &app.admin, &org, "a.csv", rows.clone(), json!({ "csvMapping": null })).await;
        assert_eq!(refusal(&unmapped), refused("VALIDATION", "input.csvMapping", "required"));
        let mut bad = mapping();
        bad["separator"] = json!(";;");
        let bad = import(app, &app.admin, &org, "a.csv", rows.clone(), json!({ "csvMapping": bad })).await;
        assert_eq!(refusal(&bad), refused("VALIDATION", "input.csvMapping.separator", "invalid"));
        let bad_date = csv(&[("2026-12-01", "10,00", "X", "", "л/с 100200300", "R-1")]);
        let r = import(app, &app.admin, &org, "a.csv", bad_date, json!({})).await;
        assert_eq!(refusal(&r), refused("VALIDATION", "input.file", "invalid_statement"));
        assert!(r["errors"][0]["message"].as_str().unwrap().contains("line 2: date"), "{r}");
        // A statement in another currency than the books.
        let camt = include_bytes!("../../../statements/tests/data/camt053_sample.xml").to_vec();
        let eur = import(app, &app.admin, &org, "camt.xml", camt, json!({ "format": null, "csvMapping": null })).await;
        assert_eq!(refusal(&eur), refused("VALIDATION", "input.file", "currency"));
        assert_eq!(count(app, "SELECT COUNT(*) FROM statement_imports").await, before);
    }
}

db_test! {
    async fn an_upload_from_a_browser_with_a_mixed_case_boundary_is_read(app: &TestApp) {
        let org = app.create_org("Граница").await;
        let boundary = "----WebKitFormBoundaryQx7Ab3ZkLm9PqRsT";
        let operations = json!({ "query": IMPORT, "variables": { "input": {
            "organisationId": org, "file": null, "format": "CSV", "csvMapping": mapping() } } });
        let file = String::from_utf8(csv(&[("01.12.2026", "10,00", "X", "", "без номера", "B-1")])).unwrap();
        let body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{operations}\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{{\"0\":[\"variables.input.file\"]}}\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"0\"; filename=\"s.csv\"\r\nContent-Type: text/csv\r\n\r\n{file}\r\n\
             --{boundary}--\r\n"
        );
        let response: Value = app
            .client
            .post(format!("{}/graphql", app.base))
            .header("content-type", format!("multipart/form-data; boundary={boundary}"))
            .header("x-requested-with", "kvartal")
            .bearer_auth(app.admin.token.as_deref().unwrap())
            .body(body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(response["data"]["importStatement"]["import"]["unmatched"], 1, "{response}");
    }
}

db_test! {
    async fn the_command_line_imports_a_statement_once_and_refuses_a_bad_one_whole(app: &TestApp) {
        let org = app.create_org("Командная строка").await;
        let house = app.create_house(&org, "Ленина", "1").await;
        let acc = app.create_account(&app.create_premises(&house, "1", "50").await, "700500").await;
        let dir = app.data_dir().join("cli-statement");
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("выписка.csv");
        std::fs::write(&file, csv(&[
            ("01.11.2026", "1000,00", "Иванов", "", "л/с 700500", "CLI-1"),
            ("02.11.2026", "50,00", "Банк", "", "проценты", "CLI-2"),
        ])).unwrap();
        let mapping = dir.join("mapping.toml");
        std::fs::write(&mapping, "separator = \";\"\nencoding = \"utf-8\"\ndecimalComma = true\nheaderRows = 1\n\
            dateFormat = \"%d.%m.%Y\"\ndate = 0\namount = 1\npayer = 2\npayerAccount = 3\ntext = 4\nreference = 5\n").unwrap();
        let run = |path: &std::path::Path| {
            let mut cmd = std::process::Command::new(crate::billing_run::binary());
            cmd.args(["import", "statement"]).arg(path).args(["--org", &org, "--format", "csv", "--mapping"]).arg(&mapping)
                .env_clear()
                .env("PATH", std::env::var("PATH").unwrap_or_default())
                .env("KVARTAL_DATA_DIR", app.data_dir())
                .env("KVARTAL_LOG", "warn");
            if let Some(url) = &app.database_url {
                cmd.env("KVARTAL_DATABASE_URL", url);
            }
            cmd.output().unwrap()
        };
        let first = run(&file);
        let out = String::from_utf8_lossy(&first.stdout);
        assert!(first.status.success(), "{out}{}", String::from_utf8_lossy(&first.stderr));
        assert!(out.contains("2 entries") && out.contains("1 paid onto accounts (1000.00), 1 waiting for an accountant (50.00)"), "{out}");
        assert_eq!(balance(app, &acc).await, "-1000.00");
        let again = run(&file);
        assert!(String::from_utf8_lossy(&again.stdout).contains("was imported before"), "{again:?}");
        assert_eq!(balance(app, &acc).await, "-1000.00");
        // A bad row anywhere: nothing of the file is written, and the command fails.
        let bad = dir.join("bad.csv");
        std::fs::write(&bad, csv(&[
            ("03.11.2026", "10,00", "Иванов", "", "л/с 700500", "CLI-3"),
            ("31.02.2026", "10,00", "Иванов", "", "л/с 700500", "CLI-4"),
        ])).unwrap();
        let refused = run(&bad);
        assert!(!refused.status.success());
        assert!(String::from_utf8_lossy(&refused.stderr).contains("nothing was imported"), "{refused:?}");
        assert_eq!(balance(app, &acc).await, "-1000.00");
        assert_eq!(count(app, "SELECT COUNT(*) FROM statement_imports").await, 1);
    }
}
