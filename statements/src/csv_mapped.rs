//! A bank's CSV export, read by a mapping the accountant sets once per bank:
//! the separator, the encoding (UTF-8 with or without a byte-order mark,
//! windows-1251, ISO-8859-1 or windows-1252), the decimal comma, header rows
//! to skip, and which column holds what (0-based). An amount is negative for
//! money out unless a column says credit or debit.

use chrono::NaiveDate;

use crate::{bounded, money, some, Entry, Limits, Statement, StatementError};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CsvMapping {
    pub separator: char,
    /// `utf-8`, `windows-1251`, `iso-8859-1`, `windows-1252`.
    pub encoding: String,
    pub decimal_comma: bool,
    pub header_rows: usize,
    /// chrono format of the date column, e.g. `%d.%m.%Y`.
    pub date_format: String,
    pub date: usize,
    pub amount: usize,
    /// A column whose value starts with C (credit) or D (debit); without it
    /// the amount's sign says.
    pub direction: Option<usize>,
    pub reference: Option<usize>,
    pub payer: Option<usize>,
    pub payer_account: Option<usize>,
    pub text: usize,
}

impl Default for CsvMapping {
    fn default() -> Self {
        CsvMapping {
            separator: ';',
            encoding: "utf-8".into(),
            decimal_comma: true,
            header_rows: 1,
            date_format: "%d.%m.%Y".into(),
            date: 0,
            amount: 1,
            direction: None,
            reference: None,
            payer: Some(2),
            payer_account: None,
            text: 3,
        }
    }
}

impl CsvMapping {
    /// Checks the mapping itself, naming the first wrong field.
    pub fn validate(&self) -> Result<(), StatementError> {
        let bad = |field: &str, why: &str| Err(StatementError::new("mapping", field, why));
        if !self.separator.is_ascii()
            || self.separator.is_ascii_alphanumeric()
            || self.separator == '"'
        {
            return bad(
                "separator",
                "one ASCII character that is not a letter, digit or quote",
            );
        }
        if encoding(&self.encoding).is_none() {
            return bad(
                "encoding",
                "utf-8, windows-1251, iso-8859-1 or windows-1252",
            );
        }
        if self.header_rows > 100 {
            return bad("headerRows", "at most 100");
        }
        if self.date_format.is_empty()
            || self.date_format.len() > 32
            || !self.date_format.contains('%')
        {
            return bad("dateFormat", "a date format such as %d.%m.%Y");
        }
        let columns = [
            Some(self.date),
            Some(self.amount),
            Some(self.text),
            self.direction,
            self.reference,
            self.payer,
            self.payer_account,
        ];
        if columns.into_iter().flatten().any(|c| c >= 256) {
            return bad("columns", "columns are numbered from 0 to 255");
        }
        Ok(())
    }
}

fn encoding(name: &str) -> Option<&'static encoding_rs::Encoding> {
    match name.to_ascii_lowercase().as_str() {
        "utf-8" | "utf8" => Some(encoding_rs::UTF_8),
        "windows-1251" | "cp1251" => Some(encoding_rs::WINDOWS_1251),
        // encoding_rs decodes ISO-8859-1 as windows-1252, as browsers do.
        "iso-8859-1" | "latin1" | "windows-1252" | "cp1252" => Some(encoding_rs::WINDOWS_1252),
        _ => None,
    }
}

pub fn parse(bytes: &[u8], m: &CsvMapping, limits: &Limits) -> Result<Statement, StatementError> {
    m.validate()?;
    let enc = encoding(&m.encoding).unwrap_or(encoding_rs::UTF_8);
    // A byte-order mark wins over the mapping, as it is unambiguous.
    let (text, _, _) = enc.decode(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(m.separator as u8)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let decimal = if m.decimal_comma { ',' } else { '.' };
    let mut s = Statement::default();
    let mut record = csv::StringRecord::new();
    let mut row = 0usize;
    loop {
        let more = reader
            .read_record(&mut record)
            .map_err(|e| StatementError::new(format!("line {}", row + 1), "csv", e.to_string()))?;
        if !more {
            break;
        }
        row += 1;
        // The record's number: its line, unless a quoted cell spans lines.
        let n = row;
        if row <= m.header_rows || record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let position = || format!("line {n}");
        let cell = |column: usize, name: &str| -> Result<String, StatementError> {
            let value = record.get(column).ok_or_else(|| {
                StatementError::new(position(), name, format!("no column {column}"))
            })?;
            bounded(value.trim().to_string(), &position, name, limits)
        };
        let optional =
            |column: Option<usize>, name: &str| -> Result<Option<String>, StatementError> {
                match column {
                    Some(c) if record.get(c).is_some() => Ok(some(&cell(c, name)?)),
                    _ => Ok(None),
                }
            };
        let date_text = cell(m.date, "date")?;
        let booked_on = NaiveDate::parse_from_str(&date_text, &m.date_format).map_err(|_| {
            StatementError::new(
                position(),
                "date",
                format!("{date_text:?} is not a date as {}", m.date_format),
            )
        })?;
        let amount = money::parse(&cell(m.amount, "amount")?, decimal, true)
            .map_err(|why| StatementError::new(position(), "amount", why))?;
        let credit = match optional(m.direction, "direction")? {
            Some(d) => match d.chars().next().map(|c| c.to_ascii_uppercase()) {
                Some('C' | 'К' | '+') => true,
                Some('D' | 'Д' | '-') => false,
                _ => {
                    return Err(StatementError::new(
                        position(),
                        "direction",
                        format!("{d:?}: C or D"),
                    ))
                }
            },
            None => amount > 0,
        };
        if amount == 0 {
            return Err(StatementError::new(position(), "amount", "zero"));
        }
        if s.entries.len() >= limits.max_entries {
            return Err(StatementError::file(
                "entries",
                format!("more than {} entries", limits.max_entries),
            ));
        }
        let text = cell(m.text, "text")?;
        let payer_name = optional(m.payer, "payer")?;
        let bank_ref = match optional(m.reference, "reference")? {
            Some(r) => r,
            // Derived from what the row says: the same file gives the same
            // references (two identical rows differ by their line).
            None => format!("csv:{}:{}:{n}", booked_on.format("%Y%m%d"), amount),
        };
        s.entries.push(Entry {
            position: n,
            amount_minor: amount.abs(),
            credit,
            booked_on,
            bank_ref,
            payer_name,
            payer_account: optional(m.payer_account, "payerAccount")?,
            payer_tax_id: None,
            text,
        });
    }
    Ok(s)
}
