//! Payment QR payloads: GOST R 56042-2014 (Russia), the static PIX BR Code
//! (Brazil) and EPC069-12 "GiroCode" (SEPA). Pure functions: a payment in,
//! the text to encode out, or the field that breaks the standard and why.
//!
//! Amounts are integer minor units (kopecks, centavos, cents): never floats.
//! [`symbol`] makes the QR code of a payload (error correction M).

use std::fmt::Write as _;

/// A field that breaks the standard, and how.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct QrError {
    pub field: &'static str,
    pub reason: String,
}

fn refuse<T>(field: &'static str, reason: impl Into<String>) -> Result<T, QrError> {
    Err(QrError {
        field,
        reason: reason.into(),
    })
}

fn digits(field: &'static str, value: &str, lengths: &[usize]) -> Result<(), QrError> {
    if !lengths.contains(&value.len()) || !value.bytes().all(|b| b.is_ascii_digit()) {
        let n = lengths
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(" or ");
        return refuse(field, format!("{n} digits"));
    }
    Ok(())
}

fn at_most(field: &'static str, value: &str, chars: usize) -> Result<(), QrError> {
    if value.chars().count() > chars {
        return refuse(field, format!("at most {chars} characters"));
    }
    Ok(())
}

fn required(field: &'static str, value: &str) -> Result<(), QrError> {
    if value.trim().is_empty() {
        return refuse(field, "required");
    }
    Ok(())
}

/// `12345` minor units as `123.45`.
fn decimal(minor: i64) -> String {
    format!("{}.{:02}", minor / 100, minor % 100)
}

// ---------------------------------------------------------------------------
// GOST R 56042-2014

/// A payment order as GOST R 56042-2014 encodes it (UTF-8, `ST00012`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GostPayment {
    /// The payee's name (≤ 160).
    pub name: String,
    /// The payee's settlement account, 20 digits.
    pub personal_acc: String,
    /// The payee's bank (≤ 45).
    pub bank_name: String,
    /// The bank's BIC, 9 digits.
    pub bic: String,
    /// The bank's correspondent account, 20 digits.
    pub corresp_acc: String,
    /// Kopecks.
    pub sum: Option<i64>,
    pub purpose: Option<String>,
    /// 10 (organisation) or 12 (person) digits.
    pub payee_inn: Option<String>,
    /// 9 digits.
    pub kpp: Option<String>,
    /// The payer's personal account with the company.
    pub pers_acc: Option<String>,
    /// Month and year, emitted as `MMYYYY`.
    pub paym_period: Option<(u32, i32)>,
    pub payer_address: Option<String>,
    pub last_name: Option<String>,
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    /// Penalty included in `sum`, kopecks.
    pub add_amount: Option<i64>,
    /// `02`: housing and utilities.
    pub tech_code: Option<String>,
}

/// Separators a payload may use, in order of preference: the first one that no
/// value contains.
const GOST_SEPARATORS: [char; 5] = ['|', '#', ';', '^', '~'];

/// The GOST R 56042-2014 text of `p`.
pub fn gost56042(p: &GostPayment) -> Result<String, QrError> {
    required("Name", &p.name)?;
    at_most("Name", &p.name, 160)?;
    digits("PersonalAcc", &p.personal_acc, &[20])?;
    required("BankName", &p.bank_name)?;
    at_most("BankName", &p.bank_name, 45)?;
    digits("BIC", &p.bic, &[9])?;
    digits("CorrespAcc", &p.corresp_acc, &[20])?;
    let mut fields: Vec<(&'static str, String)> = vec![
        ("Name", p.name.clone()),
        ("PersonalAcc", p.personal_acc.clone()),
        ("BankName", p.bank_name.clone()),
        ("BIC", p.bic.clone()),
        ("CorrespAcc", p.corresp_acc.clone()),
    ];
    if let Some(sum) = p.sum {
        if !(0..=999_999_999_999_999_999).contains(&sum) {
            return refuse("Sum", "from 0 to 18 digits of kopecks");
        }
        fields.push(("Sum", sum.to_string()));
    }
    if let Some(v) = &p.purpose {
        at_most("Purpose", v, 210)?;
        fields.push(("Purpose", v.clone()));
    }
    if let Some(v) = &p.payee_inn {
        digits("PayeeINN", v, &[10, 12])?;
        fields.push(("PayeeINN", v.clone()));
    }
    if let Some(v) = &p.kpp {
        digits("KPP", v, &[9])?;
        fields.push(("KPP", v.clone()));
    }
    if let Some(v) = &p.pers_acc {
        at_most("PersAcc", v, 35)?;
        fields.push(("PersAcc", v.clone()));
    }
    if let Some((month, year)) = p.paym_period {
        if !(1..=12).contains(&month) || !(2000..=9999).contains(&year) {
            return refuse("PaymPeriod", "a month 1–12 and a four-digit year");
        }
        fields.push(("PaymPeriod", format!("{month:02}{year:04}")));
    }
    for (key, value) in [
        ("LastName", &p.last_name),
        ("FirstName", &p.first_name),
        ("MiddleName", &p.middle_name),
        ("PayerAddress", &p.payer_address),
    ] {
        if let Some(v) = value {
            fields.push((key, v.clone()));
        }
    }
    if let Some(v) = p.add_amount {
        if v < 0 || p.sum.is_some_and(|s| v > s) {
            return refuse("AddAmount", "from 0 to the sum");
        }
        fields.push(("AddAmount", v.to_string()));
    }
    if let Some(v) = &p.tech_code {
        digits("TechCode", v, &[2])?;
        fields.push(("TechCode", v.clone()));
    }
    let Some(separator) = GOST_SEPARATORS
        .into_iter()
        .find(|s| fields.iter().all(|(_, v)| !v.contains(*s)))
    else {
        return refuse("Name", "every separator (| # ; ^ ~) occurs in the values");
    };
    if let Some((key, _)) = fields.iter().find(|(_, v)| v.contains(['\r', '\n'])) {
        return refuse(key, "no line breaks");
    }
    let mut out = String::from("ST00012");
    for (k, (key, value)) in fields.iter().enumerate() {
        out.push(separator);
        let _ = write!(out, "{key}={value}");
        if k == 4 && out.len() > 300 {
            return refuse(
                "Name",
                "the required block (name, accounts, bank) is over 300 bytes",
            );
        }
    }
    Ok(out)
}

/// The fields of a GOST R 56042-2014 text, in order (a trailing separator, as
/// some generators write, is accepted). `PaymPeriod` comes back as `MMYYYY`
/// whether it was written `MMYY` or `MMYYYY`.
pub fn parse_gost56042(text: &str) -> Result<Vec<(String, String)>, QrError> {
    let rest = text.strip_prefix("ST0001").ok_or(QrError {
        field: "header",
        reason: "does not start with ST0001".into(),
    })?;
    let mut chars = rest.chars();
    if chars.next() != Some('2') {
        return refuse("header", "only UTF-8 (encoding 2) is read");
    }
    let separator = chars.next().ok_or(QrError {
        field: "header",
        reason: "no separator".into(),
    })?;
    let mut out = Vec::new();
    for part in chars.as_str().split(separator) {
        if part.is_empty() {
            continue;
        }
        let (key, value) = part.split_once('=').ok_or(QrError {
            field: "fields",
            reason: format!("`{part}` has no `=`"),
        })?;
        let value = if key == "PaymPeriod" && value.len() == 4 {
            format!("{}20{}", &value[..2], &value[2..])
        } else {
            value.to_string()
        };
        out.push((key.to_string(), value));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// PIX BR Code (static)

/// A static PIX charge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pix {
    /// The receiver's PIX key (CPF/CNPJ, e-mail, phone, random key; ≤ 77).
    pub key: String,
    /// Shown to the payer (optional).
    pub message: Option<String>,
    /// Centavos; none lets the payer type the amount.
    pub amount: Option<i64>,
    /// The receiver's name (in Latin letters, cut at 25).
    pub name: String,
    /// The receiver's city (in Latin letters, cut at 15).
    pub city: String,
    /// The transaction id the receiver reconciles by (≤ 25 letters and
    /// digits); none is `***`.
    pub txid: Option<String>,
}

fn tlv(out: &mut String, id: &str, value: &str) {
    let _ = write!(out, "{id}{:02}{value}", value.len());
}

/// Cyrillic letters in Latin as ICAO Doc 9303 writes them (Russian
/// passports since 2014): `Щ` is `SHCH`, `Ю` is `IU`, `Ь` is dropped.
fn cyrillic(c: char) -> Option<&'static str> {
    let lower = c.to_lowercase().next().unwrap_or(c);
    Some(match lower {
        'а' => "a",
        'б' => "b",
        'в' => "v",
        'г' => "g",
        'д' => "d",
        'е' | 'ё' | 'э' | 'є' => "e",
        'ж' => "zh",
        'з' => "z",
        'и' | 'й' | 'і' | 'ї' => "i",
        'к' => "k",
        'л' => "l",
        'м' => "m",
        'н' => "n",
        'о' => "o",
        'п' => "p",
        'р' => "r",
        'с' => "s",
        'т' => "t",
        'у' | 'ў' => "u",
        'ф' => "f",
        'х' => "kh",
        'ц' => "ts",
        'ч' => "ch",
        'ш' => "sh",
        'щ' => "shch",
        'ъ' => "ie",
        'ы' => "y",
        'ь' => "",
        'ю' => "iu",
        'я' => "ia",
        'ґ' => "g",
        _ => return None,
    })
}

/// Latin letters a payment scheme's plain-ASCII fields take (PIX name and
/// city, transaction ids): accents dropped, Cyrillic transliterated (ICAO),
/// ß, æ, ø, œ spelled out; what has no Latin spelling is left out, and runs
/// of spaces become one. A Cyrillic or accented name never turns into blanks.
pub fn plain_ascii(text: &str) -> String {
    use unicode_normalization::{char::is_combining_mark, UnicodeNormalization};
    let chars: Vec<char> = text.chars().collect();
    // Whether the letter at `i` is in a word of capitals (ЖКХ → ZHKKH).
    let shouted = |i: usize| {
        let start = chars[..i]
            .iter()
            .rposition(|c| !c.is_alphabetic())
            .map_or(0, |p| p + 1);
        let end = chars[i..]
            .iter()
            .position(|c| !c.is_alphabetic())
            .map_or(chars.len(), |p| i + p);
        end - start > 1 && chars[start..end].iter().all(|c| c.is_uppercase())
    };
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        if let Some(latin) = cyrillic(c) {
            let upper = c.is_uppercase();
            let mut letters = latin.chars();
            if let Some(first) = letters.next() {
                if upper {
                    out.extend(first.to_uppercase());
                } else {
                    out.push(first);
                }
                let shout = upper && shouted(i);
                for l in letters {
                    if shout {
                        out.extend(l.to_uppercase());
                    } else {
                        out.push(l);
                    }
                }
            }
            continue;
        }
        let spelled = match c {
            'ß' => "ss",
            'æ' => "ae",
            'Æ' => "AE",
            'ø' => "o",
            'Ø' => "O",
            'œ' => "oe",
            'Œ' => "OE",
            'đ' => "d",
            'Đ' => "D",
            'ł' => "l",
            'Ł' => "L",
            'þ' => "th",
            'Þ' => "TH",
            _ => "",
        };
        if !spelled.is_empty() {
            out.push_str(spelled);
            continue;
        }
        for d in c.to_string().nfd().filter(|d| !is_combining_mark(*d)) {
            if d.is_ascii() && !d.is_ascii_control() {
                out.push(d);
            } else if d.is_whitespace() {
                out.push(' ');
            }
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// At most `max` characters of a plain-ASCII text, cut at a space when one
/// is near the end.
fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let head = &text[..max];
    match head.rfind(' ') {
        Some(i) if i >= max / 2 => head[..i].to_string(),
        _ => head.to_string(),
    }
}

/// CRC16-CCITT-FALSE (polynomial 0x1021, initial 0xFFFF), as PIX field 63 uses.
pub fn crc16_ccitt_false(data: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    for byte in data {
        crc ^= u16::from(*byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// The BR Code text of a static PIX charge, CRC included.
pub fn pix_static(p: &Pix) -> Result<String, QrError> {
    let key = p.key.trim();
    required("key", key)?;
    if key.len() > 77 || !key.is_ascii() {
        return refuse("key", "at most 77 plain characters");
    }
    // Display fields: a longer name or city is cut, never refused.
    let name = cut(&plain_ascii(p.name.trim()), 25);
    required("name", &name)?;
    let city = cut(&plain_ascii(p.city.trim()), 15);
    required("city", &city)?;
    let mut account = String::new();
    tlv(&mut account, "00", "br.gov.bcb.pix");
    tlv(&mut account, "01", key);
    if let Some(m) = p
        .message
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty())
    {
        let m = plain_ascii(m);
        tlv(&mut account, "02", &m);
    }
    if account.len() > 99 {
        return refuse(
            "message",
            "key and message together take at most 99 characters",
        );
    }
    let txid = match p.txid.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => {
            if t.len() > 25 || !t.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return refuse("txid", "at most 25 letters and digits");
            }
            t.to_string()
        }
        None => "***".to_string(),
    };
    let mut out = String::new();
    tlv(&mut out, "00", "01");
    tlv(&mut out, "26", &account);
    tlv(&mut out, "52", "0000");
    tlv(&mut out, "53", "986");
    if let Some(amount) = p.amount {
        if !(1..=999_999_999_999).contains(&amount) {
            return refuse("amount", "from 0.01 to 9 999 999 999.99");
        }
        tlv(&mut out, "54", &decimal(amount));
    }
    tlv(&mut out, "58", "BR");
    tlv(&mut out, "59", &name);
    tlv(&mut out, "60", &city);
    let mut additional = String::new();
    tlv(&mut additional, "05", &txid);
    tlv(&mut out, "62", &additional);
    out.push_str("6304");
    let crc = crc16_ccitt_false(out.as_bytes());
    let _ = write!(out, "{crc:04X}");
    Ok(out)
}

/// The top-level fields of a BR Code, checking lengths and the CRC.
pub fn parse_pix(text: &str) -> Result<Vec<(String, String)>, QrError> {
    let cut = text.len().saturating_sub(4);
    if !text.is_char_boundary(cut) {
        return refuse("63", "no CRC field at the end");
    }
    let (body, crc) = text.split_at(cut);
    if !body.ends_with("6304") {
        return refuse("63", "no CRC field at the end");
    }
    let expected = crc16_ccitt_false(body.as_bytes());
    if format!("{expected:04X}") != crc {
        return refuse("63", format!("CRC {crc}, computed {expected:04X}"));
    }
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        if rest.len() < 4 || !rest.is_char_boundary(2) || !rest.is_char_boundary(4) {
            return refuse("tlv", "truncated field");
        }
        let id = &rest[..2];
        let len: usize = rest[2..4].parse().map_err(|_| QrError {
            field: "tlv",
            reason: format!("field {id} has no length"),
        })?;
        if rest.len() < 4 + len || !rest.is_char_boundary(4 + len) {
            return refuse("tlv", format!("field {id} is longer than the text"));
        }
        out.push((id.to_string(), rest[4..4 + len].to_string()));
        rest = &rest[4 + len..];
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// EPC069-12 (SEPA credit transfer, "GiroCode")

/// A SEPA credit transfer as EPC069-12 version 002 encodes it (UTF-8).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Epc {
    /// Optional in version 002 within the EEA.
    pub bic: Option<String>,
    /// The beneficiary (≤ 70).
    pub name: String,
    pub iban: String,
    /// Cents; none lets the payer type the amount.
    pub amount: Option<i64>,
    /// A four-letter purpose code (optional).
    pub purpose: Option<String>,
    /// A structured creditor reference (≤ 35), or else
    pub reference: Option<String>,
    /// unstructured remittance text (≤ 140).
    pub text: Option<String>,
    /// Shown to the payer (≤ 70).
    pub note: Option<String>,
}

/// Whether `iban` (spaces allowed) has a valid ISO 13616 check (mod 97 = 1).
pub fn iban_valid(iban: &str) -> bool {
    let s: String = iban.chars().filter(|c| !c.is_whitespace()).collect();
    if !(15..=34).contains(&s.len())
        || !s.bytes().all(|b| b.is_ascii_alphanumeric())
        || !s[..2].bytes().all(|b| b.is_ascii_uppercase())
        || !s[2..4].bytes().all(|b| b.is_ascii_digit())
    {
        return false;
    }
    let rearranged = format!("{}{}", &s[4..], &s[..4]);
    let mut remainder: u32 = 0;
    for c in rearranged.chars() {
        let value = match c.to_digit(36) {
            Some(v) => v,
            None => return false,
        };
        remainder = if value >= 10 {
            (remainder * 100 + value) % 97
        } else {
            (remainder * 10 + value) % 97
        };
    }
    remainder == 1
}

/// The EPC069-12 text of `p`.
pub fn epc069(p: &Epc) -> Result<String, QrError> {
    let iban: String = p
        .iban
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase();
    if !iban_valid(&iban) {
        return refuse("iban", "not a valid IBAN");
    }
    let bic = p
        .bic
        .as_deref()
        .map(str::trim)
        .unwrap_or_default()
        .to_uppercase();
    if !bic.is_empty()
        && (!(bic.len() == 8 || bic.len() == 11) || !bic.bytes().all(|b| b.is_ascii_alphanumeric()))
    {
        return refuse("bic", "8 or 11 letters and digits");
    }
    let name = p.name.trim();
    required("name", name)?;
    at_most("name", name, 70)?;
    let amount = match p.amount {
        Some(a) if !(1..=99_999_999_999).contains(&a) => {
            return refuse("amount", "from 0.01 to 999 999 999.99")
        }
        Some(a) => format!("EUR{}", decimal(a)),
        None => String::new(),
    };
    let purpose = p.purpose.as_deref().map(str::trim).unwrap_or_default();
    if !purpose.is_empty()
        && (purpose.len() != 4 || !purpose.bytes().all(|b| b.is_ascii_alphanumeric()))
    {
        return refuse("purpose", "four letters or digits");
    }
    let reference = p.reference.as_deref().map(str::trim).unwrap_or_default();
    let text = p.text.as_deref().map(str::trim).unwrap_or_default();
    if !reference.is_empty() && !text.is_empty() {
        return refuse("reference", "a structured reference or a text, not both");
    }
    at_most("reference", reference, 35)?;
    at_most("text", text, 140)?;
    let note = p.note.as_deref().map(str::trim).unwrap_or_default();
    at_most("note", note, 70)?;
    let lines = [
        "BCD", "002", "1", "SCT", &bic, name, &iban, &amount, purpose, reference, text, note,
    ];
    if let Some(k) = lines.iter().position(|l| l.contains(['\r', '\n'])) {
        let field = [
            "",
            "",
            "",
            "",
            "bic",
            "name",
            "iban",
            "amount",
            "purpose",
            "reference",
            "text",
            "note",
        ][k];
        return refuse(
            if field.is_empty() { "name" } else { field },
            "no line breaks",
        );
    }
    // Nothing after the last line that has something.
    let last = lines.iter().rposition(|l| !l.is_empty()).unwrap_or(0);
    let out = lines[..=last].join("\n");
    if out.len() > 331 {
        return refuse("text", "the payload is over 331 bytes");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn gost() -> GostPayment {
        GostPayment {
            name: "ООО «УК Квартал»".into(),
            personal_acc: "40702810138000012345".into(),
            bank_name: "ПАО Сбербанк".into(),
            bic: "044525225".into(),
            corresp_acc: "30101810400000000225".into(),
            sum: Some(345_678),
            purpose: Some("Оплата ЖКУ за ноябрь 2026".into()),
            payee_inn: Some("7701234567".into()),
            kpp: Some("770101001".into()),
            pers_acc: Some("1002003".into()),
            paym_period: Some((11, 2026)),
            add_amount: Some(1_234),
            tech_code: Some("02".into()),
            ..GostPayment::default()
        }
    }

    #[test]
    fn gost_writes_the_header_the_required_block_in_order_and_kopecks() {
        let text = gost56042(&gost()).unwrap();
        assert_eq!(
            text,
            "ST00012|Name=ООО «УК Квартал»|PersonalAcc=40702810138000012345|BankName=ПАО Сбербанк|BIC=044525225|CorrespAcc=30101810400000000225|Sum=345678|Purpose=Оплата ЖКУ за ноябрь 2026|PayeeINN=7701234567|KPP=770101001|PersAcc=1002003|PaymPeriod=112026|AddAmount=1234|TechCode=02"
        );
        let fields = parse_gost56042(&text).unwrap();
        assert_eq!(fields[0], ("Name".into(), "ООО «УК Квартал»".into()));
        assert_eq!(fields.iter().find(|(k, _)| k == "Sum").unwrap().1, "345678");
    }

    #[test]
    fn gost_refuses_what_the_standard_does_not_allow() {
        let bad = |f: fn(&mut GostPayment)| {
            let mut p = gost();
            f(&mut p);
            gost56042(&p).unwrap_err().field
        };
        assert_eq!(
            bad(|p| p.personal_acc = "4070281013800001234".into()),
            "PersonalAcc"
        );
        assert_eq!(bad(|p| p.bic = "04452522A".into()), "BIC");
        assert_eq!(bad(|p| p.corresp_acc.clear()), "CorrespAcc");
        assert_eq!(bad(|p| p.name = " ".into()), "Name");
        assert_eq!(bad(|p| p.bank_name = "Б".repeat(46)), "BankName");
        assert_eq!(bad(|p| p.payee_inn = Some("12345".into())), "PayeeINN");
        assert_eq!(bad(|p| p.paym_period = Some((13, 2026))), "PaymPeriod");
        assert_eq!(bad(|p| p.add_amount = Some(400_000)), "AddAmount");
        assert_eq!(bad(|p| p.sum = Some(-1)), "Sum");
        // 160 Cyrillic letters are 320 bytes: the required block is too long.
        let long = bad(|p| p.name = "Я".repeat(160));
        assert_eq!(long, "Name");
    }

    #[test]
    fn gost_picks_a_separator_no_value_contains() {
        let mut p = gost();
        p.purpose = Some("кв. 5 | ноябрь".into());
        let text = gost56042(&p).unwrap();
        assert!(text.starts_with("ST00012#Name="), "{text}");
        let fields = parse_gost56042(&text).unwrap();
        assert_eq!(
            fields.iter().find(|(k, _)| k == "Purpose").unwrap().1,
            "кв. 5 | ноябрь"
        );
    }

    #[test]
    fn gost_reads_a_trailing_separator_and_a_two_digit_year() {
        let fields = parse_gost56042("ST00012|Name=A|PersonalAcc=1|PaymPeriod=0521|").unwrap();
        assert_eq!(
            fields.last().unwrap(),
            &("PaymPeriod".to_string(), "052021".to_string())
        );
        assert_eq!(fields.len(), 3);
        assert!(
            parse_gost56042("ST00011|Name=A").is_err(),
            "windows-1251 is not read"
        );
    }

    #[test]
    fn crc16_matches_the_check_value_and_python() {
        assert_eq!(crc16_ccitt_false(b"123456789"), 0x29B1);
        assert_eq!(crc16_ccitt_false(b""), 0xFFFF);
    }

    #[test]
    fn pix_reproduces_the_central_bank_sample() {
        // The BCB manual's static example: key, name, city, no amount, txid ***.
        let text = pix_static(&Pix {
            key: "123e4567-e12b-12d1-a456-426655440000".into(),
            name: "Fulano de Tal".into(),
            city: "BRASILIA".into(),
            ..Pix::default()
        })
        .unwrap();
        assert_eq!(
            text,
            "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D"
        );
    }

    #[test]
    fn pix_with_amount_message_and_txid_round_trips() {
        let text = pix_static(&Pix {
            key: "12345678000195".into(),
            message: Some("Condomínio novembro".into()),
            amount: Some(123_456),
            name: "Cond. Edifício São João".into(),
            city: "São Paulo".into(),
            txid: Some("REC2026110001".into()),
        })
        .unwrap();
        let fields = parse_pix(&text).unwrap();
        let get = |id: &str| fields.iter().find(|(k, _)| k == id).unwrap().1.clone();
        assert_eq!(get("54"), "1234.56");
        assert_eq!(get("53"), "986");
        assert_eq!(get("60"), "Sao Paulo");
        assert_eq!(get("62"), "0513REC2026110001");
        assert!(get("26").contains("0219Condominio novembro"));
        // One changed character and the CRC no longer matches.
        let tampered = text.replacen("1234.56", "1234.57", 1);
        assert_eq!(parse_pix(&tampered).unwrap_err().field, "63");
    }

    #[test]
    fn pix_refuses_long_names_bad_txids_and_no_key() {
        let base = Pix {
            key: "a@b.br".into(),
            name: "X".into(),
            city: "Y".into(),
            ..Pix::default()
        };
        let mut p = base.clone();
        p.name = "N".repeat(26);
        assert!(pix_static(&p)
            .unwrap()
            .contains(&format!("5925{}", "N".repeat(25))));
        p.name = "Ь".into();
        assert_eq!(
            pix_static(&p).unwrap_err().field,
            "name",
            "nothing left to write"
        );
        let mut p = base.clone();
        p.txid = Some("REC-1".into());
        assert_eq!(pix_static(&p).unwrap_err().field, "txid");
        let mut p = base.clone();
        p.key.clear();
        assert_eq!(pix_static(&p).unwrap_err().field, "key");
        let mut p = base;
        p.amount = Some(0);
        assert_eq!(pix_static(&p).unwrap_err().field, "amount");
        // Field 54 holds at most 13 characters: 9999999999.99.
        p.amount = Some(999_999_999_999);
        assert!(pix_static(&p).unwrap().contains("54139999999999.99"));
        p.amount = Some(1_000_000_000_000);
        assert_eq!(pix_static(&p).unwrap_err().field, "amount");
    }

    #[test]
    fn names_in_other_scripts_are_written_in_latin_letters_not_blanks() {
        assert_eq!(
            plain_ascii("ТСЖ «Щёлковское шоссе, 5»"),
            "TSZH Shchelkovskoe shosse, 5"
        );
        assert_eq!(
            plain_ascii("Управляющая компания Юг"),
            "Upravliaiushchaia kompaniia Iug"
        );
        assert_eq!(plain_ascii("ЖКХ"), "ZHKKH");
        assert_eq!(plain_ascii("Condomínio São João"), "Condominio Sao Joao");
        assert_eq!(plain_ascii("Straße  Œuvre"), "Strasse OEuvre");
        assert_eq!(plain_ascii("北京 Ltd"), "Ltd");
        let text = pix_static(&Pix {
            key: "a@b.br".into(),
            name: "УК Квартал-Сервис Плюс".into(),
            city: "Санкт-Петербург".into(),
            ..Pix::default()
        })
        .unwrap();
        let fields = parse_pix(&text).unwrap();
        let get = |id: &str| fields.iter().find(|(k, _)| k == id).unwrap().1.clone();
        assert_eq!(get("59"), "UK Kvartal-Servis Plius");
        assert_eq!(get("60"), "Sankt-Peterburg");
        // Cut at a space when one is near: 25 characters at most.
        assert_eq!(
            cut("Upravliaiushchaia kompaniia Kvartal", 25),
            "Upravliaiushchaia"
        );
    }

    #[test]
    fn the_readers_never_panic_on_odd_text() {
        for text in [
            "",
            "6304",
            "ЯЯЯЯ",
            "00ЯЯ6304ABCD",
            "0002016304",
            "€€€€€€€€",
            "ST0001",
            "ST00012",
            "ST00012|x",
            "99996304FFFF",
            "00020126ЯЯ6304",
        ] {
            let _ = parse_pix(text);
            let _ = parse_gost56042(text);
            let _ = iban_valid(text);
        }
        for n in 0..2000_u32 {
            let text: String = (0..(n % 40))
                .map(|k| char::from_u32(((n * 7919 + k * 104_729) % 0x2FFF) + 0x20).unwrap_or('?'))
                .collect();
            let _ = parse_pix(&text);
            let _ = parse_gost56042(&text);
            let _ = iban_valid(&text);
        }
    }

    #[test]
    fn iban_check_digits() {
        assert!(iban_valid("DE89 3704 0044 0532 0130 00"));
        assert!(iban_valid("GB82WEST12345698765432"));
        assert!(!iban_valid("DE89 3704 0044 0532 0130 01"));
        assert!(!iban_valid("DE89"));
    }

    #[test]
    fn epc_writes_twelve_lines_or_stops_at_the_last_filled_one() {
        let p = Epc {
            bic: Some("COBADEFFXXX".into()),
            name: "Hausverwaltung Quartier GmbH".into(),
            iban: "DE89 3704 0044 0532 0130 00".into(),
            amount: Some(12_345),
            purpose: None,
            reference: None,
            text: Some("Nebenkosten 11/2026 Konto 1002003".into()),
            note: None,
        };
        assert_eq!(
            epc069(&p).unwrap(),
            "BCD\n002\n1\nSCT\nCOBADEFFXXX\nHausverwaltung Quartier GmbH\nDE89370400440532013000\nEUR123.45\n\n\nNebenkosten 11/2026 Konto 1002003"
        );
        let mut q = p.clone();
        q.note = Some("Danke".into());
        assert_eq!(epc069(&q).unwrap().lines().count(), 12);
        assert!(!epc069(&q).unwrap().ends_with('\n'));
    }

    #[test]
    fn epc_refuses_what_the_guideline_does_not_allow() {
        let base = Epc {
            name: "A".into(),
            iban: "GB82WEST12345698765432".into(),
            ..Epc::default()
        };
        let bad = |f: fn(&mut Epc)| {
            let mut p = base.clone();
            f(&mut p);
            epc069(&p).unwrap_err().field
        };
        assert_eq!(bad(|p| p.iban = "GB82WEST12345698765433".into()), "iban");
        assert_eq!(bad(|p| p.amount = Some(100_000_000_000)), "amount");
        assert_eq!(bad(|p| p.name = "N".repeat(71)), "name");
        assert_eq!(bad(|p| p.bic = Some("ABC".into())), "bic");
        assert_eq!(
            bad(|p| {
                p.reference = Some("RF18539007547034".into());
                p.text = Some("x".into());
            }),
            "reference"
        );
        assert_eq!(bad(|p| p.purpose = Some("GDDSX".into())), "purpose");
    }
}

// ---------------------------------------------------------------------------
// The symbol

/// Error correction a receipt's QR uses: M, as EPC069-12 requires and the
/// others allow (a receipt may be creased or printed light).
pub fn symbol(text: &str) -> Result<qrcodegen::QrCode, QrError> {
    qrcodegen::QrCode::encode_text(text, qrcodegen::QrCodeEcc::Medium).map_err(|_| QrError {
        field: "payload",
        reason: "too long for a QR code".into(),
    })
}

/// The symbol as a greyscale PGM image (`scale` pixels a module, the four
/// modules of quiet zone the standard asks for): what a decoder reads in tests.
pub fn pgm(code: &qrcodegen::QrCode, scale: usize) -> Vec<u8> {
    let quiet = 4;
    let modules = code.size() as usize + 2 * quiet;
    let side = modules * scale;
    let mut out = format!("P5\n{side} {side}\n255\n").into_bytes();
    out.reserve(side * side);
    for py in 0..side {
        let y = (py / scale) as i32 - quiet as i32;
        for px in 0..side {
            let x = (px / scale) as i32 - quiet as i32;
            out.push(if code.get_module(x, y) { 0 } else { 255 });
        }
    }
    out
}

/// The symbol as SVG path data in module units (one `M x yh1v1h-1z` a dark
/// module), for receipts drawn as vectors.
pub fn svg_path(code: &qrcodegen::QrCode) -> String {
    let mut d = String::new();
    for y in 0..code.size() {
        for x in 0..code.size() {
            if code.get_module(x, y) {
                let _ = write!(d, "M{x} {y}h1v1h-1z");
            }
        }
    }
    d
}

#[cfg(test)]
mod decoded {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// What `zbarimg` (Debian's zbar-tools, a decoder of its own) reads from
    /// the image of `text`'s symbol.
    fn decode(text: &str) -> String {
        let path = std::env::temp_dir().join(format!("kvartal-qr-{}.pgm", uuid::Uuid::now_v7()));
        std::fs::write(&path, pgm(&symbol(text).unwrap(), 4)).unwrap();
        let out = std::process::Command::new("zbarimg")
            .args(["--quiet", "--raw", "-Sbinary"])
            .arg(&path)
            .output()
            .expect("zbarimg is needed (apt-get install zbar-tools; scripts/test.sh installs it)");
        let _ = std::fs::remove_file(&path);
        assert!(
            out.status.success(),
            "zbarimg: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut bytes = out.stdout;
        if bytes.last() == Some(&b'\n') {
            bytes.pop();
        }
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn a_decoder_reads_back_each_payload_byte_for_byte() {
        let gost = gost56042(&GostPayment {
            name: "ООО «УК Квартал»".into(),
            personal_acc: "40702810138000012345".into(),
            bank_name: "ПАО Сбербанк".into(),
            bic: "044525225".into(),
            corresp_acc: "30101810400000000225".into(),
            sum: Some(345_678),
            purpose: Some("Оплата ЖКУ за ноябрь 2026, л/с 1002003".into()),
            pers_acc: Some("1002003".into()),
            paym_period: Some((11, 2026)),
            tech_code: Some("02".into()),
            ..GostPayment::default()
        })
        .unwrap();
        let pix = pix_static(&Pix {
            key: "12345678000195".into(),
            message: Some("Condomínio novembro".into()),
            amount: Some(123_456),
            name: "Cond. Edifício São João".into(),
            city: "São Paulo".into(),
            txid: Some("REC2026110001".into()),
        })
        .unwrap();
        let epc = epc069(&Epc {
            bic: Some("COBADEFFXXX".into()),
            name: "Hausverwaltung Quartier GmbH".into(),
            iban: "DE89 3704 0044 0532 0130 00".into(),
            amount: Some(12_345),
            text: Some("Nebenkosten 11/2026 Konto 1002003".into()),
            note: Some("Danke".into()),
            ..Epc::default()
        })
        .unwrap();
        for payload in [gost, pix, epc] {
            assert_eq!(decode(&payload), payload);
        }
    }
}
