//! 1CClientBankExchange: `key=value` lines in windows-1251 (or cp866 when
//! `Кодировка=DOS`, or UTF-8 with a byte-order mark), an account block with
//! its balances and totals, then one section per payment document.
//!
//! A document is a credit when our account (`РасчСчет`) receives it
//! (`ПолучательСчет`, or a `ДатаПоступило`), a debit when it pays
//! (`ПлательщикСчет`, or a `ДатаСписано`).

use chrono::NaiveDate;

use crate::{bounded, money, some, Entry, Limits, Statement, StatementError};

fn decode(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return String::from_utf8_lossy(rest).into_owned();
    }
    // The header names the encoding; it is ASCII in either.
    let head = &bytes[..bytes.len().min(512)];
    let (probe, _, _) = encoding_rs::WINDOWS_1251.decode(head);
    let encoding = if probe.contains("Кодировка=DOS") {
        encoding_rs::IBM866
    } else {
        encoding_rs::WINDOWS_1251
    };
    encoding.decode_without_bom_handling(bytes).0.into_owned()
}

fn date(value: &str, line: usize, field: &str) -> Result<NaiveDate, StatementError> {
    NaiveDate::parse_from_str(value.trim(), "%d.%m.%Y")
        .map_err(|_| StatementError::new(format!("line {line}"), field, "a date as DD.MM.YYYY"))
}

fn amount(value: &str, line: usize, field: &str) -> Result<i64, StatementError> {
    let decimal = if value.contains(',') { ',' } else { '.' };
    money::parse(value, decimal, false)
        .map_err(|why| StatementError::new(format!("line {line}"), field, why))
}

#[derive(Default)]
struct Document {
    start: usize,
    number: String,
    date: Option<NaiveDate>,
    amount: Option<i64>,
    payer_account: String,
    payer: String,
    payer_tax_id: String,
    payee_account: String,
    received: Option<NaiveDate>,
    written_off: Option<NaiveDate>,
    purpose: String,
}

pub fn parse(bytes: &[u8], limits: &Limits) -> Result<Statement, StatementError> {
    let text = decode(bytes);
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    if lines.next().map(str::trim) != Some("1CClientBankExchange") {
        return Err(StatementError::new(
            "line 1",
            "1CClientBankExchange",
            "not a 1C client-bank exchange file",
        ));
    }
    let mut s = Statement::default();
    let mut ours = String::new();
    let mut in_account = false;
    let mut document: Option<Document> = None;
    let mut ended = false;
    let mut credits_stated = 0i64;
    let mut debits_stated = 0i64;
    let mut totals_seen = false;
    for (i, line) in lines.enumerate() {
        let n = i + 2;
        if ended {
            if line.trim().is_empty() {
                continue;
            }
            return Err(StatementError::new(
                format!("line {n}"),
                "КонецФайла",
                "text after the end of the file",
            ));
        }
        let (key, value) = match line.split_once('=') {
            Some((k, v)) => (k.trim(), v),
            None => (line.trim(), ""),
        };
        let position = || format!("line {n}");
        let value = bounded(value.to_string(), &position, key, limits)?;
        match key {
            "" => {}
            "КонецФайла" => ended = true,
            "СекцияРасчСчет" => in_account = true,
            "КонецРасчСчет" => in_account = false,
            "СекцияДокумент" => {
                if document.is_some() {
                    return Err(StatementError::new(
                        position(),
                        "СекцияДокумент",
                        "a document starts before the previous one ends",
                    ));
                }
                document = Some(Document {
                    start: n,
                    ..Document::default()
                });
            }
            "КонецДокумента" => {
                let d = document.take().ok_or_else(|| {
                    StatementError::new(position(), "КонецДокумента", "no document to end")
                })?;
                if s.entries.len() >= limits.max_entries {
                    return Err(StatementError::file(
                        "entries",
                        format!("more than {} entries", limits.max_entries),
                    ));
                }
                s.entries.push(entry(d, &ours)?);
            }
            _ if document.is_some() => {
                if let Some(d) = document.as_mut() {
                    match key {
                        "Номер" => d.number = value.trim().to_string(),
                        "Дата" => d.date = Some(date(&value, n, key)?),
                        "Сумма" => d.amount = Some(amount(&value, n, key)?),
                        "ПлательщикСчет" | "ПлательщикРасчСчет" if d.payer_account.is_empty() => {
                            d.payer_account = value.trim().to_string()
                        }
                        "Плательщик" | "Плательщик1" if d.payer.is_empty() => {
                            d.payer = value.trim().to_string()
                        }
                        "ПлательщикИНН" => d.payer_tax_id = value.trim().to_string(),
                        "ПолучательСчет" | "ПолучательРасчСчет" if d.payee_account.is_empty() => {
                            d.payee_account = value.trim().to_string()
                        }
                        "ДатаПоступило" if !value.trim().is_empty() => {
                            d.received = Some(date(&value, n, key)?)
                        }
                        "ДатаСписано" if !value.trim().is_empty() => {
                            d.written_off = Some(date(&value, n, key)?)
                        }
                        "НазначениеПлатежа" => {
                            d.purpose = value.trim().to_string()
                        }
                        // Continuation lines of the purpose (НазначениеПлатежа1…).
                        k if k.starts_with("НазначениеПлатежа") && !value.trim().is_empty() =>
                        {
                            if !d.purpose.is_empty() {
                                d.purpose.push(' ');
                            }
                            d.purpose.push_str(value.trim());
                            d.purpose = bounded(
                                std::mem::take(&mut d.purpose),
                                &position,
                                "НазначениеПлатежа",
                                limits,
                            )?;
                        }
                        _ => {}
                    }
                }
            }
            "РасчСчет" if !in_account || ours.is_empty() => ours = value.trim().to_string(),
            "НачальныйОстаток" if in_account => {
                s.opening_minor = Some(amount(&value, n, key)?);
            }
            "ВсегоПоступило" | "ВсегоСписано" if in_account => {
                let sum = if key == "ВсегоПоступило" {
                    &mut credits_stated
                } else {
                    &mut debits_stated
                };
                *sum = sum
                    .checked_add(amount(&value, n, key)?)
                    .ok_or_else(|| StatementError::new(position(), key, "the totals overflow"))?;
                totals_seen = true;
            }
            "КонечныйОстаток" if in_account => {
                s.closing_minor = Some(amount(&value, n, key)?);
            }
            _ => {}
        }
    }
    if document.is_some() {
        return Err(StatementError::file(
            "КонецДокумента",
            "the last document has no end",
        ));
    }
    if !ended {
        return Err(StatementError::file(
            "КонецФайла",
            "the file ends without КонецФайла: it may be cut short",
        ));
    }
    if totals_seen {
        s.credits_minor = Some(credits_stated);
        s.debits_minor = Some(debits_stated);
    }
    s.account = some(&ours);
    Ok(s)
}

fn entry(d: Document, ours: &str) -> Result<Entry, StatementError> {
    let position = format!("line {}", d.start);
    let amount = d
        .amount
        .ok_or_else(|| StatementError::new(&position, "Сумма", "missing"))?;
    if amount <= 0 {
        return Err(StatementError::new(&position, "Сумма", "must be positive"));
    }
    let credit = if !ours.is_empty() && d.payee_account == ours {
        true
    } else if !ours.is_empty() && d.payer_account == ours {
        false
    } else {
        d.received.is_some()
    };
    let booked_on = if credit { d.received } else { d.written_off }
        .or(d.date)
        .ok_or_else(|| StatementError::new(&position, "Дата", "missing"))?;
    let day = d.date.unwrap_or(booked_on).format("%Y-%m-%d");
    Ok(Entry {
        position: d.start,
        amount_minor: amount,
        credit,
        booked_on,
        bank_ref: format!("1c:{day}:{}:{}", d.number, d.payer_account),
        payer_name: some(&d.payer),
        payer_account: some(&d.payer_account),
        payer_tax_id: some(&d.payer_tax_id),
        text: d.purpose,
    })
}
