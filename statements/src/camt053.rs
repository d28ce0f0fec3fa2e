//! camt.053 (ISO 20022 bank-to-customer statement), versions .001.02 to
//! .001.13: one `Stmt` per file, its account and currency, its opening
//! (`OPBD`, or `PRCD`) and closing (`CLBD`) balances, the totals of
//! `TxsSummry` when present, and its booked entries (`Sts` `BOOK`, written
//! as text or as `<Cd>` from .08 on). Pending entries are skipped. An
//! entry's reference is the bank's own (`AcctSvcrRef`), else its `NtryRef`,
//! else the transaction's end-to-end id, else the statement's id and the
//! entry's ordinal.

use chrono::NaiveDate;

use crate::xml::{Reader, Token};
use crate::{money, some, Entry, Limits, Statement, StatementError};

#[derive(Default)]
struct Ntry {
    ordinal: usize,
    amount: Option<i64>,
    currency: Option<String>,
    credit: Option<bool>,
    status: String,
    booked: Option<NaiveDate>,
    value: Option<NaiveDate>,
    servicer_ref: String,
    entry_ref: String,
    end_to_end: String,
    payer: String,
    payer_account: String,
    text: Vec<String>,
}

#[derive(Default)]
struct Bal {
    code: String,
    amount: Option<i64>,
    debit: bool,
}

fn ends(path: &[&str], tail: &[&str]) -> bool {
    path.len() >= tail.len() && path[path.len() - tail.len()..] == *tail
}

fn date(text: &str, position: &str, field: &str) -> Result<NaiveDate, StatementError> {
    let t = text.trim();
    NaiveDate::parse_from_str(t.get(..10).unwrap_or(t), "%Y-%m-%d")
        .map_err(|_| StatementError::new(position, field, "a date as YYYY-MM-DD"))
}

fn amount(text: &str, position: &str, field: &str) -> Result<i64, StatementError> {
    let v =
        money::parse(text, '.', false).map_err(|why| StatementError::new(position, field, why))?;
    if v < 0 {
        return Err(StatementError::new(
            position,
            field,
            "negative (the sign is CdtDbtInd)",
        ));
    }
    Ok(v)
}

pub fn parse(bytes: &[u8], limits: &Limits) -> Result<Statement, StatementError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        StatementError::file("encoding", format!("not UTF-8 at byte {}", e.valid_up_to()))
    })?;
    let mut reader = Reader::new(text, limits.max_depth, limits.max_field * 4);
    let mut path: Vec<&str> = Vec::new();
    let mut s = Statement::default();
    let mut statements = 0;
    let mut seen_document = false;
    let mut ntry: Option<Ntry> = None;
    let mut bal: Option<Bal> = None;
    let mut ordinal = 0;
    let mut credits_sum: Option<i64> = None;
    let mut debits_sum: Option<i64> = None;
    while let Some(token) = reader.next()? {
        match token {
            Token::Start { name, attributes } => {
                if path.is_empty() {
                    if name != "Document" {
                        return Err(StatementError::file(
                            "Document",
                            format!("the root is <{name}>"),
                        ));
                    }
                    seen_document = true;
                }
                path.push(name);
                match name {
                    "Stmt" if ends(&path, &["BkToCstmrStmt", "Stmt"]) => {
                        statements += 1;
                        if statements > 1 {
                            return Err(StatementError::file(
                                "Stmt",
                                "more than one statement in the file: import each account's statement alone",
                            ));
                        }
                    }
                    "Ntry" if ends(&path, &["Stmt", "Ntry"]) => {
                        ordinal += 1;
                        if ordinal > limits.max_entries {
                            return Err(StatementError::file(
                                "entries",
                                format!("more than {} entries", limits.max_entries),
                            ));
                        }
                        ntry = Some(Ntry {
                            ordinal,
                            ..Ntry::default()
                        });
                    }
                    "Bal" if ends(&path, &["Stmt", "Bal"]) => bal = Some(Bal::default()),
                    "Amt" => {
                        if let Some(n) = ntry.as_mut().filter(|_| ends(&path, &["Ntry", "Amt"])) {
                            n.currency = attributes
                                .into_iter()
                                .find(|(k, _)| *k == "Ccy")
                                .map(|(_, v)| v);
                        }
                    }
                    _ => {}
                }
            }
            Token::End { name } => {
                match name {
                    "Ntry" if ends(&path, &["Stmt", "Ntry"]) => {
                        if let Some(n) = ntry.take() {
                            match finish(n, &s)? {
                                Some(e) => s.entries.push(e),
                                None => s.skipped += 1,
                            }
                        }
                    }
                    "Bal" if ends(&path, &["Stmt", "Bal"]) => {
                        if let Some(b) = bal.take() {
                            let v = b.amount.ok_or_else(|| {
                                StatementError::new(
                                    "Bal",
                                    "Amt",
                                    format!("the balance {} has no amount", b.code),
                                )
                            })?;
                            let v = if b.debit { -v } else { v };
                            match b.code.as_str() {
                                "OPBD" | "PRCD" if s.opening_minor.is_none() => {
                                    s.opening_minor = Some(v)
                                }
                                "CLBD" => s.closing_minor = Some(v),
                                _ => {}
                            }
                        }
                    }
                    _ => {}
                }
                path.pop();
            }
            Token::Text(t) => {
                if t.trim().is_empty() {
                    continue;
                }
                let pos = match &ntry {
                    Some(n) => format!("entry {}", n.ordinal),
                    None => "statement".to_string(),
                };
                if let Some(n) = ntry.as_mut() {
                    let p = &path[..];
                    if ends(p, &["Ntry", "Amt"]) {
                        n.amount = Some(amount(&t, &pos, "Amt")?);
                    } else if ends(p, &["Ntry", "CdtDbtInd"]) {
                        n.credit = match t.trim() {
                            "CRDT" => Some(true),
                            "DBIT" => Some(false),
                            other => {
                                return Err(StatementError::new(
                                    pos,
                                    "CdtDbtInd",
                                    format!("{other:?}, not CRDT or DBIT"),
                                ))
                            }
                        };
                    } else if ends(p, &["Ntry", "Sts"]) || ends(p, &["Ntry", "Sts", "Cd"]) {
                        n.status = t.trim().to_string();
                    } else if ends(p, &["Ntry", "BookgDt", "Dt"])
                        || ends(p, &["Ntry", "BookgDt", "DtTm"])
                    {
                        n.booked = Some(date(&t, &pos, "BookgDt")?);
                    } else if ends(p, &["Ntry", "ValDt", "Dt"])
                        || ends(p, &["Ntry", "ValDt", "DtTm"])
                    {
                        n.value = Some(date(&t, &pos, "ValDt")?);
                    } else if ends(p, &["Ntry", "AcctSvcrRef"]) {
                        n.servicer_ref = t.trim().to_string();
                    } else if ends(p, &["Ntry", "NtryRef"]) {
                        n.entry_ref = t.trim().to_string();
                    } else if ends(p, &["TxDtls", "Refs", "AcctSvcrRef"])
                        && n.servicer_ref.is_empty()
                    {
                        n.servicer_ref = t.trim().to_string();
                    } else if ends(p, &["TxDtls", "Refs", "EndToEndId"])
                        && t.trim() != "NOTPROVIDED"
                    {
                        n.end_to_end = t.trim().to_string();
                    } else if (ends(p, &["RltdPties", "Dbtr", "Nm"])
                        || ends(p, &["RltdPties", "Dbtr", "Pty", "Nm"]))
                        && n.payer.is_empty()
                    {
                        n.payer = t.trim().to_string();
                    } else if (ends(p, &["DbtrAcct", "Id", "IBAN"])
                        || ends(p, &["DbtrAcct", "Id", "Othr", "Id"]))
                        && n.payer_account.is_empty()
                    {
                        n.payer_account = t.trim().to_string();
                    } else if ends(p, &["RmtInf", "Ustrd"]) || ends(p, &["CdtrRefInf", "Ref"]) {
                        if n.text.len() >= 32 {
                            return Err(StatementError::new(
                                pos,
                                "RmtInf",
                                "too many remittance lines",
                            ));
                        }
                        n.text.push(t.trim().to_string());
                    }
                } else if let Some(b) = bal.as_mut() {
                    let p = &path[..];
                    if ends(p, &["Bal", "Tp", "CdOrPrtry", "Cd"]) {
                        b.code = t.trim().to_string();
                    } else if ends(p, &["Bal", "Amt"]) {
                        b.amount = Some(amount(&t, "statement", "Bal/Amt")?);
                    } else if ends(p, &["Bal", "CdtDbtInd"]) {
                        b.debit = t.trim() == "DBIT";
                    }
                } else {
                    let p = &path[..];
                    if ends(p, &["Stmt", "Id"]) {
                        s.id = some(&t);
                    } else if ends(p, &["Stmt", "Acct", "Id", "IBAN"])
                        || ends(p, &["Stmt", "Acct", "Id", "Othr", "Id"])
                    {
                        s.account = some(&t);
                    } else if ends(p, &["Stmt", "Acct", "Ccy"]) {
                        s.currency = some(&t);
                    } else if ends(p, &["TxsSummry", "TtlCdtNtries", "Sum"]) {
                        credits_sum = Some(amount(&t, "statement", "TtlCdtNtries/Sum")?);
                    } else if ends(p, &["TxsSummry", "TtlDbtNtries", "Sum"]) {
                        debits_sum = Some(amount(&t, "statement", "TtlDbtNtries/Sum")?);
                    }
                }
            }
        }
    }
    if !seen_document || statements == 0 {
        return Err(StatementError::file(
            "Stmt",
            "no statement (BkToCstmrStmt/Stmt)",
        ));
    }
    s.credits_minor = credits_sum;
    s.debits_minor = debits_sum;
    Ok(s)
}

/// A booked entry, checked; none for one still pending.
fn finish(n: Ntry, s: &Statement) -> Result<Option<Entry>, StatementError> {
    let pos = format!("entry {}", n.ordinal);
    if !n.status.is_empty() && n.status != "BOOK" {
        return Ok(None);
    }
    let amount = n
        .amount
        .ok_or_else(|| StatementError::new(&pos, "Amt", "missing"))?;
    let credit = n
        .credit
        .ok_or_else(|| StatementError::new(&pos, "CdtDbtInd", "missing"))?;
    if let (Some(c), Some(ours)) = (&n.currency, &s.currency) {
        if c != ours {
            return Err(StatementError::new(
                &pos,
                "Ccy",
                format!("{c} in a statement in {ours}"),
            ));
        }
    }
    let booked_on = n
        .booked
        .or(n.value)
        .ok_or_else(|| StatementError::new(&pos, "BookgDt", "missing"))?;
    let bank_ref = [&n.servicer_ref, &n.entry_ref, &n.end_to_end]
        .into_iter()
        .find(|r| !r.is_empty())
        .cloned()
        .unwrap_or_else(|| format!("{}#{}", s.id.as_deref().unwrap_or("camt"), n.ordinal));
    Ok(Some(Entry {
        position: n.ordinal,
        amount_minor: amount,
        credit,
        booked_on,
        bank_ref,
        payer_name: some(&n.payer),
        payer_account: some(&n.payer_account),
        payer_tax_id: None,
        text: n.text.join(" "),
    }))
}
