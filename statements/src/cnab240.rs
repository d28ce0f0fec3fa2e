//! CNAB 240 retorno de cobrança (FEBRABAN): lines of 240 characters. The
//! record type is at position 8 (0 file header, 1 batch header, 3 detail,
//! 5 batch trailer, 9 file trailer), a detail's segment at 14. A segment T
//! (movement code 16–17, nosso número 38–57, seu número 59–73, face value
//! 82–96, payer's document 134–148 and name 149–188) is followed by its
//! segment U (amount paid 78–92, event date 138–145, credit date 146–153).
//! Movement 06 (liquidação) and 17 (liquidação após baixa) are payments;
//! other movements (registered, written off, …) are skipped. The trailers'
//! record counts are checked: a file cut short or spliced is refused.
//! Positions are 1-based and inclusive, as the layout writes them.

use chrono::NaiveDate;

use crate::{money, some, Entry, Limits, Statement, StatementError};

fn field(line: &[u8], from: usize, to: usize) -> String {
    // Latin-1: one byte, one character, whatever the bank wrote.
    line[from - 1..to].iter().map(|b| char::from(*b)).collect()
}

fn date(
    line: &[u8],
    from: usize,
    n: usize,
    name: &str,
) -> Result<Option<NaiveDate>, StatementError> {
    let text = field(line, from, from + 7);
    if text.trim().is_empty() || text == "00000000" {
        return Ok(None);
    }
    NaiveDate::parse_from_str(&text, "%d%m%Y")
        .map(Some)
        .map_err(|_| StatementError::new(format!("line {n}"), name, "a date as DDMMAAAA"))
}

fn cents(line: &[u8], from: usize, to: usize, n: usize, name: &str) -> Result<i64, StatementError> {
    money::parse_cents(&field(line, from, to))
        .map_err(|why| StatementError::new(format!("line {n}"), name, why))
}

fn count(
    line: &[u8],
    from: usize,
    to: usize,
    n: usize,
    name: &str,
) -> Result<usize, StatementError> {
    let text = field(line, from, to);
    text.trim()
        .parse()
        .map_err(|_| StatementError::new(format!("line {n}"), name, "a count"))
}

struct Segment {
    line: usize,
    movement: String,
    our_number: String,
    their_number: String,
    payer_document: String,
    payer: String,
}

pub fn parse(bytes: &[u8], limits: &Limits) -> Result<Statement, StatementError> {
    let mut s = Statement::default();
    let mut lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
    while lines
        .last()
        .is_some_and(|l| l.iter().all(|b| b.is_ascii_whitespace() || *b == 0x1a))
    {
        lines.pop();
    }
    if lines.is_empty() {
        return Err(StatementError::file("header", "an empty file"));
    }
    let mut pending: Option<Segment> = None;
    let mut batch_records = 0usize;
    let mut in_batch = false;
    let mut trailer_seen = false;
    for (i, raw) in lines.iter().enumerate() {
        let n = i + 1;
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        if trailer_seen {
            return Err(StatementError::new(
                format!("line {n}"),
                "trailer",
                "lines after the file trailer",
            ));
        }
        if line.len() != 240 {
            return Err(StatementError::new(
                format!("line {n}"),
                "length",
                format!("{} characters, not 240", line.len()),
            ));
        }
        let kind = line[7];
        if n == 1 && kind != b'0' {
            return Err(StatementError::new(
                "line 1",
                "header",
                "the first line is not a file header (type 0)",
            ));
        }
        if in_batch {
            batch_records += 1;
        }
        match kind {
            b'0' => {
                if n != 1 {
                    return Err(StatementError::new(
                        format!("line {n}"),
                        "header",
                        "a second file header",
                    ));
                }
                s.id = some(&format!("{}-{}", field(line, 1, 3), field(line, 144, 151)));
                s.account = some(field(line, 59, 70).trim_start_matches('0'));
                s.currency = Some("BRL".into());
            }
            b'1' => {
                if in_batch {
                    return Err(StatementError::new(
                        format!("line {n}"),
                        "batch",
                        "a batch opens inside another",
                    ));
                }
                in_batch = true;
                batch_records = 1;
            }
            b'3' => {
                if !in_batch {
                    return Err(StatementError::new(
                        format!("line {n}"),
                        "batch",
                        "a detail outside a batch",
                    ));
                }
                match line[13] {
                    b'T' => {
                        if let Some(t) = pending.take() {
                            return Err(StatementError::new(
                                format!("line {}", t.line),
                                "segment U",
                                "a segment T without its segment U",
                            ));
                        }
                        pending = Some(Segment {
                            line: n,
                            movement: field(line, 16, 17),
                            our_number: field(line, 38, 57).trim().to_string(),
                            their_number: field(line, 59, 73).trim().to_string(),
                            payer_document: field(line, 134, 148)
                                .trim_start_matches('0')
                                .trim()
                                .to_string(),
                            payer: field(line, 149, 188).trim().to_string(),
                        });
                    }
                    b'U' => {
                        let t = pending.take().ok_or_else(|| {
                            StatementError::new(
                                format!("line {n}"),
                                "segment T",
                                "a segment U without its segment T",
                            )
                        })?;
                        if t.movement != "06" && t.movement != "17" {
                            s.skipped += 1;
                            continue;
                        }
                        let paid = cents(line, 78, 92, n, "valor pago")?;
                        let booked_on = match date(line, 146, n, "data do crédito")? {
                            Some(d) => d,
                            None => date(line, 138, n, "data da ocorrência")?.ok_or_else(|| {
                                StatementError::new(
                                    format!("line {n}"),
                                    "data da ocorrência",
                                    "missing",
                                )
                            })?,
                        };
                        if paid <= 0 {
                            return Err(StatementError::new(
                                format!("line {n}"),
                                "valor pago",
                                "must be positive",
                            ));
                        }
                        if s.entries.len() >= limits.max_entries {
                            return Err(StatementError::file(
                                "entries",
                                format!("more than {} entries", limits.max_entries),
                            ));
                        }
                        if t.our_number.is_empty() {
                            return Err(StatementError::new(
                                format!("line {}", t.line),
                                "nosso número",
                                "missing",
                            ));
                        }
                        s.entries.push(Entry {
                            position: t.line,
                            amount_minor: paid,
                            credit: true,
                            booked_on,
                            bank_ref: format!(
                                "cnab:{}:{}",
                                t.our_number,
                                booked_on.format("%Y%m%d")
                            ),
                            payer_name: some(&t.payer),
                            payer_account: None,
                            payer_tax_id: some(&t.payer_document),
                            text: format!("{} {}", t.their_number, t.our_number)
                                .trim()
                                .to_string(),
                        });
                    }
                    // Other segments (Y, …) carry nothing we use.
                    _ => {}
                }
            }
            b'5' => {
                if !in_batch {
                    return Err(StatementError::new(
                        format!("line {n}"),
                        "batch",
                        "a batch trailer outside a batch",
                    ));
                }
                if let Some(t) = pending.take() {
                    return Err(StatementError::new(
                        format!("line {}", t.line),
                        "segment U",
                        "a segment T without its segment U",
                    ));
                }
                let stated = count(line, 18, 23, n, "quantidade de registros do lote")?;
                if stated != batch_records {
                    return Err(StatementError::new(
                        format!("line {n}"),
                        "quantidade de registros do lote",
                        format!(
                            "the trailer counts {stated} records, the batch has {batch_records}"
                        ),
                    ));
                }
                in_batch = false;
            }
            b'9' => {
                if in_batch {
                    return Err(StatementError::new(
                        format!("line {n}"),
                        "batch",
                        "the file ends inside a batch",
                    ));
                }
                let stated = count(line, 24, 29, n, "quantidade de registros do arquivo")?;
                if stated != n {
                    return Err(StatementError::new(
                        format!("line {n}"),
                        "quantidade de registros do arquivo",
                        format!("the trailer counts {stated} records, the file has {n}"),
                    ));
                }
                trailer_seen = true;
            }
            other => {
                return Err(StatementError::new(
                    format!("line {n}"),
                    "tipo de registro",
                    format!("{:?} at position 8", char::from(other)),
                ))
            }
        }
    }
    if !trailer_seen {
        return Err(StatementError::file(
            "trailer",
            "no file trailer (type 9): the file may be cut short",
        ));
    }
    Ok(s)
}
