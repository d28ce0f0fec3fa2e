//! Each format read from a real sample (from `../shared/domain/samples`,
//! copied under `tests/data`) or built field by field from its layout, with
//! the expected entries written out; files that disagree with their own
//! totals, are cut short, or try to make the parser work without bound are
//! refused with the place and the reason.

#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;
use statements::{parse, sniff, CsvMapping, Entry, Format, Limits, StatementError};

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn data(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn refused(format: Format, bytes: &[u8]) -> StatementError {
    parse(format, bytes, None, &Limits::default()).unwrap_err()
}

#[test]
fn camt053_sample_gives_its_one_credit_and_balances() {
    let bytes = data("camt053_sample.xml");
    assert_eq!(sniff(&bytes), Some(Format::Camt053));
    let s = parse(Format::Camt053, &bytes, None, &Limits::default()).unwrap();
    assert_eq!(s.account.as_deref(), Some("DE89370400440532013000"));
    assert_eq!(s.currency.as_deref(), Some("EUR"));
    assert_eq!(
        (s.opening_minor, s.closing_minor),
        (Some(100_000), Some(133_815))
    );
    assert_eq!(
        s.entries,
        vec![Entry {
            position: 1,
            amount_minor: 33_815,
            credit: true,
            booked_on: day("2026-04-15"),
            // No bank reference and NOTPROVIDED end to end: the statement's id and the ordinal.
            bank_ref: "20260415-1#1".into(),
            payer_name: Some("Max Mustermann".into()),
            payer_account: None,
            payer_tax_id: None,
            text: "WE 12 Hausgeld 2026-03".into(),
        }]
    );
}

#[test]
fn camt053_whose_entries_disagree_with_its_balances_is_refused_whole() {
    let bytes = String::from_utf8(data("camt053_sample.xml")).unwrap();
    let wrong = bytes.replace("1338.15", "1338.16");
    let e = refused(Format::Camt053, wrong.as_bytes());
    assert_eq!(e.field, "closing");
    assert!(
        e.reason.contains("1338.15") && e.reason.contains("1338.16"),
        "{e}"
    );
    // A pending entry is not money on the account: the balances no longer add up either.
    let pending = bytes.replace("<Sts>BOOK</Sts>", "<Sts><Cd>PDNG</Cd></Sts>");
    assert_eq!(
        refused(Format::Camt053, pending.as_bytes()).field,
        "closing"
    );
}

#[test]
fn camt053_with_an_entity_definition_or_deep_nesting_is_refused() {
    let bomb = "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;\">]>\
                <Document><BkToCstmrStmt><Stmt><Id>&lol2;</Id></Stmt></BkToCstmrStmt></Document>";
    assert!(refused(Format::Camt053, bomb.as_bytes())
        .reason
        .contains("document type"));
    let deep = format!(
        "<Document>{}{}</Document>",
        "<a>".repeat(100_000),
        "</a>".repeat(100_000)
    );
    assert!(refused(Format::Camt053, deep.as_bytes())
        .reason
        .contains("deeper"));
    let huge = format!(
        "<Document><BkToCstmrStmt><Stmt><Id>{}</Id></Stmt></BkToCstmrStmt></Document>",
        "x".repeat(1 << 20)
    );
    assert!(refused(Format::Camt053, huge.as_bytes())
        .reason
        .contains("longer"));
    assert_eq!(refused(Format::Camt053, b"\xff\xfe<x/>").field, "encoding");
    assert_eq!(refused(Format::Camt053, b"<Document/>").field, "Stmt");
}

#[test]
fn onec_sample_in_windows_1251_gives_its_payment_with_the_payer() {
    let bytes = data("onec_sample.txt");
    assert_eq!(sniff(&bytes), Some(Format::OneC));
    let s = parse(Format::OneC, &bytes, None, &Limits::default()).unwrap();
    assert_eq!(s.account.as_deref(), Some("40702810200000012345"));
    assert_eq!(
        (s.opening_minor, s.closing_minor),
        (Some(100_000), Some(438_149))
    );
    assert_eq!((s.credits_minor, s.debits_minor), (Some(338_149), Some(0)));
    assert_eq!(s.entries.len(), 1);
    let e = &s.entries[0];
    assert_eq!(
        (e.amount_minor, e.credit, e.booked_on),
        (338_149, true, day("2026-04-15"))
    );
    assert_eq!(e.payer_name.as_deref(), Some("Иванов Иван Иванович"));
    assert_eq!(e.payer_account.as_deref(), Some("40817810000000000001"));
    assert_eq!(e.text, "ЖКУ 03.2026 ЛС 100200300");
    assert_eq!(e.bank_ref, "1c:2026-04-15:512:40817810000000000001");
}

fn cp1251(text: &str) -> Vec<u8> {
    encoding_rs::WINDOWS_1251.encode(text).0.into_owned()
}

#[test]
fn onec_cut_short_or_with_totals_that_disagree_is_refused() {
    let text = encoding_rs::WINDOWS_1251
        .decode(&data("onec_sample.txt"))
        .0
        .into_owned();
    let cut = text.replace("КонецФайла", "");
    assert_eq!(refused(Format::OneC, &cp1251(&cut)).field, "КонецФайла");
    let wrong = text.replace("ВсегоПоступило=3381.49", "ВсегоПоступило=3381.50");
    let e = refused(Format::OneC, &cp1251(&wrong));
    assert_eq!(e.field, "credits", "{e}");
    let bad_amount = text.replace("Сумма=3381.49", "Сумма=3381,4.9");
    let e = refused(Format::OneC, &cp1251(&bad_amount));
    assert_eq!(
        (e.field.as_str(), e.reason.as_str()),
        ("Сумма", "not a number")
    );
    assert!(e.position.starts_with("line "), "{e}");
}

/// A CNAB 240 line: spaces, with `fields` placed at their 1-based positions.
fn cnab(fields: &[(usize, &str)]) -> String {
    let mut line = vec![b' '; 240];
    for (at, text) in fields {
        line[at - 1..at - 1 + text.len()].copy_from_slice(text.as_bytes());
    }
    String::from_utf8(line).unwrap()
}

fn cnab_file(movement: &str, paid: &str, file_count: &str) -> String {
    let lines = [
        cnab(&[
            (1, "341"),
            (4, "0000"),
            (8, "0"),
            (59, "000000012345"),
            (73, "CONDOMINIO EDIFICIO SOL"),
            (144, "16042026"),
        ]),
        cnab(&[(1, "341"), (4, "0001"), (8, "1"), (9, "T")]),
        cnab(&[
            (1, "341"),
            (4, "0001"),
            (8, "3"),
            (9, "00001"),
            (14, "T"),
            (16, movement),
            (38, "00000000000000012345"),
            (59, "AP12-2026-03   "),
            (74, "10042026"),
            (82, "000000000045000"),
            (133, "1"),
            (134, "000012345678909"),
            (149, "MARIA DA SILVA"),
        ]),
        cnab(&[
            (1, "341"),
            (4, "0001"),
            (8, "3"),
            (9, "00002"),
            (14, "U"),
            (16, movement),
            (18, "000000000000900"),
            (78, paid),
            (93, paid),
            (138, "15042026"),
            (146, "16042026"),
        ]),
        cnab(&[(1, "341"), (4, "0001"), (8, "5"), (18, "000004")]),
        cnab(&[
            (1, "341"),
            (4, "9999"),
            (8, "9"),
            (18, "000001"),
            (24, file_count),
        ]),
    ];
    lines.join("\r\n") + "\r\n"
}

#[test]
fn cnab240_liquidation_is_a_payment_with_its_nosso_numero() {
    let file = cnab_file("06", "000000000045900", "000006");
    assert_eq!(sniff(file.as_bytes()), Some(Format::Cnab240));
    let s = parse(Format::Cnab240, file.as_bytes(), None, &Limits::default()).unwrap();
    assert_eq!(s.account.as_deref(), Some("12345"));
    assert_eq!(s.entries.len(), 1);
    let e = &s.entries[0];
    assert_eq!(
        (e.amount_minor, e.credit, e.booked_on),
        (45_900, true, day("2026-04-16"))
    );
    assert_eq!(e.payer_name.as_deref(), Some("MARIA DA SILVA"));
    assert_eq!(e.payer_tax_id.as_deref(), Some("12345678909"));
    assert_eq!(e.text, "AP12-2026-03 00000000000000012345");
    assert_eq!(e.bank_ref, "cnab:00000000000000012345:20260416");
    // A title only registered is no payment.
    let registered = cnab_file("02", "000000000000000", "000006");
    let s = parse(
        Format::Cnab240,
        registered.as_bytes(),
        None,
        &Limits::default(),
    )
    .unwrap();
    assert_eq!((s.entries.len(), s.skipped), (0, 1));
}

#[test]
fn cnab240_with_a_wrong_count_or_line_length_is_refused() {
    let e = refused(
        Format::Cnab240,
        cnab_file("06", "000000000045900", "000007").as_bytes(),
    );
    assert_eq!(e.field, "quantidade de registros do arquivo");
    assert_eq!(e.position, "line 6");
    let short = cnab_file("06", "000000000045900", "000006").replacen(
        "MARIA DA SILVA ",
        "MARIA DA SILVA",
        1,
    );
    let e = refused(Format::Cnab240, short.as_bytes());
    assert_eq!(
        (e.position.as_str(), e.field.as_str()),
        ("line 3", "length")
    );
    let letters = cnab_file("06", "0000000000459X0", "000006");
    assert_eq!(
        refused(Format::Cnab240, letters.as_bytes()).field,
        "valor pago"
    );
    let cut: String = cnab_file("06", "000000000045900", "000006")
        .lines()
        .take(4)
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(refused(Format::Cnab240, cut.as_bytes()).field, "trailer");
}

#[test]
fn csv_by_its_mapping_in_windows_1251_with_decimal_comma() {
    let text = "Дата;Сумма;Плательщик;Назначение\r\n\
                15.04.2026;1 234,56;Петров П.П.;Оплата ЛС 100200300 за 03.2026\r\n\
                16.04.2026;-500,00;ООО Вода;Комиссия\r\n";
    let bytes = cp1251(text);
    let mapping = CsvMapping {
        encoding: "windows-1251".into(),
        ..CsvMapping::default()
    };
    let s = parse(Format::Csv, &bytes, Some(&mapping), &Limits::default()).unwrap();
    let got: Vec<(i64, bool, &str, Option<&str>)> = s
        .entries
        .iter()
        .map(|e| {
            (
                e.amount_minor,
                e.credit,
                e.text.as_str(),
                e.payer_name.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                123_456,
                true,
                "Оплата ЛС 100200300 за 03.2026",
                Some("Петров П.П.")
            ),
            (50_000, false, "Комиссия", Some("ООО Вода")),
        ]
    );
    assert_eq!(s.entries[0].bank_ref, "csv:20260415:123456:2");
    // UTF-8 with a byte-order mark, a point for decimals and a reference column.
    let text = "\u{feff}date,amount,ref,who,what\n2026-04-15,338.15,TX-1,Ana,Unidade 12\n";
    let mapping = CsvMapping {
        separator: ',',
        decimal_comma: false,
        date_format: "%Y-%m-%d".into(),
        amount: 1,
        reference: Some(2),
        payer: Some(3),
        text: 4,
        ..CsvMapping::default()
    };
    let s = parse(
        Format::Csv,
        text.as_bytes(),
        Some(&mapping),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(
        (s.entries[0].amount_minor, s.entries[0].bank_ref.as_str()),
        (33_815, "TX-1")
    );
    // A bad cell names its line and column.
    let e = parse(
        Format::Csv,
        "h\n2026-13-40,1.00,,x,y\n".as_bytes(),
        Some(&mapping),
        &Limits::default(),
    )
    .unwrap_err();
    assert_eq!((e.position.as_str(), e.field.as_str()), ("line 2", "date"));
    let e = parse(Format::Csv, b"x", None, &Limits::default()).unwrap_err();
    assert_eq!(e.field, "mapping");
    let bad = CsvMapping {
        encoding: "koi8-r".into(),
        ..CsvMapping::default()
    };
    assert_eq!(
        parse(Format::Csv, b"x", Some(&bad), &Limits::default())
            .unwrap_err()
            .field,
        "encoding"
    );
}

#[test]
fn limits_bound_what_a_file_can_make_us_hold() {
    let limits = Limits {
        max_bytes: 100,
        ..Limits::default()
    };
    let e = parse(Format::OneC, &[b'x'; 101], None, &limits).unwrap_err();
    assert_eq!(e.field, "size");
    let many = format!("1CClientBankExchange\r\n{}КонецФайла\r\n",
        "СекцияДокумент=Платежное поручение\r\nНомер=1\r\nДата=15.04.2026\r\nСумма=1.00\r\nДатаПоступило=15.04.2026\r\nКонецДокумента\r\n".repeat(11));
    let limits = Limits {
        max_entries: 10,
        ..Limits::default()
    };
    let e = parse(Format::OneC, &cp1251(&many), None, &limits).unwrap_err();
    assert_eq!(e.field, "entries");
}
