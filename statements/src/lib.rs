//! Bank statements, parsed: camt.053 (ISO 20022), CNAB 240 retorno
//! (FEBRABAN), 1CClientBankExchange and CSV with a column mapping.
//!
//! Pure and defensive: no database, no clock, no I/O. Every parser takes
//! bytes from an untrusted file and either returns a [`Statement`] or a
//! [`StatementError`] naming where and why; it never panics, never loops
//! without consuming input, and never allocates beyond a bound proportional
//! to [`Limits`] (the input's size, the number of entries, a field's length,
//! the depth of XML). A statement whose entries disagree with its own totals
//! is refused as a whole ([`Statement::check_totals`]). Amounts are exact
//! integer minor units.
//!
//! A crate of its own so that its fuzz targets (`statements/fuzz`) build
//! without the database stack.

mod camt053;
mod cnab240;
mod csv_mapped;
pub mod money;
mod onec;
mod xml;

use chrono::NaiveDate;

pub use csv_mapped::CsvMapping;

/// A statement's file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Camt053,
    Cnab240,
    OneC,
    Csv,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Camt053 => "camt053",
            Format::Cnab240 => "cnab240",
            Format::OneC => "1c",
            Format::Csv => "csv",
        }
    }
}

/// One movement on the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Where it is in the file: its line, or its ordinal among the entries.
    pub position: usize,
    /// Positive, in minor units.
    pub amount_minor: i64,
    /// Money in (a payment to us) or out.
    pub credit: bool,
    pub booked_on: NaiveDate,
    /// The bank's reference, unique per bank account; derived from the
    /// statement and the entry's place in it when the bank gives none, so the
    /// same file imported twice gives the same references.
    pub bank_ref: String,
    pub payer_name: Option<String>,
    pub payer_account: Option<String>,
    pub payer_tax_id: Option<String>,
    /// The remittance text (purpose of payment), where an account number or a
    /// receipt's reference is looked for.
    pub text: String,
}

/// A parsed statement.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Statement {
    pub id: Option<String>,
    /// The account the statement is of (IBAN, account number).
    pub account: Option<String>,
    pub currency: Option<String>,
    pub opening_minor: Option<i64>,
    pub closing_minor: Option<i64>,
    /// Totals the file states, to check the entries against.
    pub credits_minor: Option<i64>,
    pub debits_minor: Option<i64>,
    pub entries: Vec<Entry>,
    /// Records read but not movements of money (e.g. CNAB "registered").
    pub skipped: usize,
}

/// Why a file is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{position}: {field}: {reason}")]
pub struct StatementError {
    /// `line 12`, `entry 3`, `file`.
    pub position: String,
    /// The field or element at fault.
    pub field: String,
    pub reason: String,
}

impl StatementError {
    pub fn new(position: impl Into<String>, field: &str, reason: impl Into<String>) -> Self {
        StatementError {
            position: position.into(),
            field: field.to_string(),
            reason: reason.into(),
        }
    }

    fn file(field: &str, reason: impl Into<String>) -> Self {
        StatementError::new("file", field, reason)
    }
}

/// Bounds on what a file may make us hold.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_entries: usize,
    /// Characters in one field or text.
    pub max_field: usize,
    /// Nesting of XML elements.
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 256 << 20,
            max_entries: 2_000_000,
            max_field: 4_096,
            max_depth: 32,
        }
    }
}

/// Parses a statement of a known format.
pub fn parse(
    format: Format,
    bytes: &[u8],
    mapping: Option<&CsvMapping>,
    limits: &Limits,
) -> Result<Statement, StatementError> {
    if bytes.len() > limits.max_bytes {
        return Err(StatementError::file(
            "size",
            format!("larger than {} bytes", limits.max_bytes),
        ));
    }
    let statement = match format {
        Format::Camt053 => camt053::parse(bytes, limits)?,
        Format::Cnab240 => cnab240::parse(bytes, limits)?,
        Format::OneC => onec::parse(bytes, limits)?,
        Format::Csv => {
            let mapping = mapping
                .ok_or_else(|| StatementError::file("mapping", "a CSV needs its mapping"))?;
            csv_mapped::parse(bytes, mapping, limits)?
        }
    };
    statement.check_totals()?;
    Ok(statement)
}

/// The format of a file, from its first bytes; none when unknown (a CSV
/// is chosen, with its mapping, by the user).
pub fn sniff(bytes: &[u8]) -> Option<Format> {
    let head = &bytes[..bytes.len().min(4096)];
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    if head.starts_with(b"1CClientBankExchange") {
        return Some(Format::OneC);
    }
    let text = String::from_utf8_lossy(head);
    if text.trim_start().starts_with('<') && text.contains("camt.053") {
        return Some(Format::Camt053);
    }
    let first = head.split(|b| *b == b'\n').next().unwrap_or(&[]);
    let first = first.strip_suffix(b"\r").unwrap_or(first);
    if first.len() == 240
        && first.get(7) == Some(&b'0')
        && first[..3].iter().all(u8::is_ascii_digit)
    {
        return Some(Format::Cnab240);
    }
    None
}

impl Statement {
    /// Refuses a statement whose entries disagree with its own totals: the
    /// credits and debits it states, and opening + credits − debits = closing.
    pub fn check_totals(&self) -> Result<(), StatementError> {
        let mut credits: i64 = 0;
        let mut debits: i64 = 0;
        for e in &self.entries {
            let sum = if e.credit { &mut credits } else { &mut debits };
            *sum = sum
                .checked_add(e.amount_minor)
                .ok_or_else(|| StatementError::file("entries", "the amounts overflow"))?;
        }
        if let Some(stated) = self.credits_minor {
            if stated != credits {
                return Err(StatementError::file(
                    "credits",
                    format!(
                        "the file states {} of credits, its entries add up to {}",
                        money::format(stated),
                        money::format(credits)
                    ),
                ));
            }
        }
        if let Some(stated) = self.debits_minor {
            if stated != debits {
                return Err(StatementError::file(
                    "debits",
                    format!(
                        "the file states {} of debits, its entries add up to {}",
                        money::format(stated),
                        money::format(debits)
                    ),
                ));
            }
        }
        if let (Some(open), Some(close)) = (self.opening_minor, self.closing_minor) {
            let expected = open
                .checked_add(credits)
                .and_then(|v| v.checked_sub(debits))
                .ok_or_else(|| StatementError::file("balance", "the amounts overflow"))?;
            if expected != close {
                return Err(StatementError::file(
                    "closing",
                    format!(
                        "opening {} + credits {} − debits {} = {}, the file states {}",
                        money::format(open),
                        money::format(credits),
                        money::format(debits),
                        money::format(expected),
                        money::format(close)
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Checks a field's length against the limits.
fn bounded(
    value: String,
    position: &dyn Fn() -> String,
    field: &str,
    limits: &Limits,
) -> Result<String, StatementError> {
    if value.chars().count() > limits.max_field {
        return Err(StatementError::new(
            position(),
            field,
            format!("longer than {} characters", limits.max_field),
        ));
    }
    Ok(value)
}

fn some(value: &str) -> Option<String> {
    let v = value.trim();
    (!v.is_empty()).then(|| v.to_string())
}
