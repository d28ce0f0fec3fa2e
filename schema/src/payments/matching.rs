//! Which account a statement's credit pays for, from its remittance text and
//! its payer. Pure: the accounts and the remembered payers are handed in.
//!
//! In order:
//! 1. a receipt's reference in the text: the account number followed by the
//!    period's six digits (`1002003202611`, as the PIX txid carries it);
//! 2. an account number in the text, as a word of its own (`л/с 1002003`,
//!    `conta 12-B`); punctuation inside the word is ignored as the registry's
//!    search ignores it;
//! 3. the account an accountant matched this payer to before, by the payer's
//!    bank account, then tax id, then name.
//!
//! A step that names two different accounts is ambiguous: the credit waits for
//! an accountant rather than guess.

use std::collections::HashMap;

use uuid::Uuid;

use crate::search::index::code_key;

/// How a credit was matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    Receipt,
    AccountNumber,
    Payer,
    Manual,
}

impl How {
    pub fn as_str(self) -> &'static str {
        match self {
            How::Receipt => "receipt",
            How::AccountNumber => "account_number",
            How::Payer => "payer",
            How::Manual => "manual",
        }
    }
}

/// Why a credit was not matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Miss {
    Nothing,
    /// The text names several accounts.
    Ambiguous(usize),
}

/// The payer's keys, most specific first: `account:…`, `tax:…`, `name:…`.
pub fn payer_keys(name: Option<&str>, account: Option<&str>, tax_id: Option<&str>) -> Vec<String> {
    let mut keys = Vec::new();
    if let Some(a) = account.map(code_key).filter(|k| !k.is_empty()) {
        keys.push(format!("account:{a}"));
    }
    if let Some(t) = tax_id.map(code_key).filter(|k| !k.is_empty()) {
        keys.push(format!("tax:{t}"));
    }
    if let Some(n) = name.map(crate::fold::fold).filter(|k| !k.is_empty()) {
        keys.push(format!("name:{n}"));
    }
    keys
}

/// The words of a remittance text an account number may be: each
/// whitespace-separated word without punctuation, and the letter-or-digit
/// runs inside it (`л/с:1002003` gives `лс1002003`, `лс`, `1002003`).
fn candidates(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in text.split(|c: char| c.is_whitespace() || ",;:()[]{}<>\"'«»".contains(c)) {
        if word.is_empty() {
            continue;
        }
        let whole = code_key(word);
        let folded = crate::fold::fold(word);
        for c in std::iter::once(whole).chain(crate::fold::words(&folded).map(str::to_string)) {
            if !c.is_empty() && !out.contains(&c) {
                out.push(c);
            }
        }
    }
    out
}

/// A receipt's reference: an account number and a month `YYYYMM` after it.
fn receipt_prefix(c: &str) -> Option<&str> {
    if c.len() <= 6 || !c.is_char_boundary(c.len() - 6) {
        return None;
    }
    let (number, month) = c.split_at(c.len() - 6);
    if !month.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let m: u32 = month[4..].parse().ok()?;
    let y: u32 = month[..4].parse().ok()?;
    ((1..=12).contains(&m) && (2000..=2100).contains(&y)).then_some(number)
}

/// The account a credit pays for, or why none.
pub fn find(
    text: &str,
    payer: &[String],
    accounts: &HashMap<String, Uuid>,
    payers: &HashMap<String, Uuid>,
) -> Result<(Uuid, How), Miss> {
    let words = candidates(text);
    let pick = |found: Vec<Uuid>, how: How| -> Option<Result<(Uuid, How), Miss>> {
        let mut found = found;
        found.sort();
        found.dedup();
        match found.as_slice() {
            [] => None,
            [one] => Some(Ok((*one, how))),
            many => Some(Err(Miss::Ambiguous(many.len()))),
        }
    };
    let receipts: Vec<Uuid> = words
        .iter()
        .filter_map(|w| receipt_prefix(w))
        .filter_map(|n| accounts.get(n).copied())
        .collect();
    if let Some(r) = pick(receipts, How::Receipt) {
        return r;
    }
    let numbers: Vec<Uuid> = words
        .iter()
        .filter_map(|w| accounts.get(w.as_str()).copied())
        .collect();
    if let Some(r) = pick(numbers, How::AccountNumber) {
        return r;
    }
    payer
        .iter()
        .find_map(|k| payers.get(k).copied())
        .map(|a| (a, How::Payer))
        .ok_or(Miss::Nothing)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn accounts() -> HashMap<String, Uuid> {
        [
            ("100200300", 1u128),
            ("12b", 2),
            ("1002003", 3),
            ("ls7001", 4),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), Uuid::from_u128(v)))
        .collect()
    }

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    #[test]
    fn an_account_number_is_found_as_a_word_with_or_without_punctuation() {
        let none = HashMap::new();
        let a = accounts();
        assert_eq!(
            find("Оплата ЖКУ за 03.2026 по л/с 100200300", &[], &a, &none),
            Ok((id(1), How::AccountNumber))
        );
        assert_eq!(
            find("condomínio conta 12-B março", &[], &a, &none),
            Ok((id(2), How::AccountNumber))
        );
        assert_eq!(
            find("л/с:1002003;", &[], &a, &none),
            Ok((id(3), How::AccountNumber))
        );
        assert_eq!(
            find("LS-7001", &[], &a, &none),
            Ok((id(4), How::AccountNumber))
        );
        // Part of a longer number is not the account.
        assert_eq!(find("ref 91002003", &[], &a, &none), Err(Miss::Nothing));
    }

    #[test]
    fn a_receipt_reference_names_the_account_and_wins() {
        let none = HashMap::new();
        let a = accounts();
        assert_eq!(
            find("PIX 1002003202611", &[], &a, &none),
            Ok((id(3), How::Receipt))
        );
        // Not a month: not a receipt's reference.
        assert_eq!(find("1002003202613", &[], &a, &none), Err(Miss::Nothing));
        // The receipt is more specific than a number elsewhere in the text.
        assert_eq!(
            find("100200300 1002003202611", &[], &a, &none),
            Ok((id(3), How::Receipt))
        );
    }

    #[test]
    fn two_accounts_in_one_text_wait_for_an_accountant() {
        let none = HashMap::new();
        assert_eq!(
            find("л/с 100200300 и 1002003", &[], &accounts(), &none),
            Err(Miss::Ambiguous(2))
        );
        // The same account twice is one.
        assert_eq!(
            find("100200300, л/с 100200300", &[], &accounts(), &none),
            Ok((id(1), How::AccountNumber))
        );
    }

    #[test]
    fn a_remembered_payer_matches_when_the_text_names_nothing() {
        let keys = payer_keys(
            Some("Иванов И. И."),
            Some("4081 7810 0000"),
            Some("7700-123"),
        );
        assert_eq!(
            keys,
            vec!["account:408178100000", "tax:7700123", "name:иванов и и"]
        );
        let payers: HashMap<String, Uuid> = [("tax:7700123".to_string(), id(9))].into();
        assert_eq!(
            find("оплата за ноябрь", &keys, &accounts(), &payers),
            Ok((id(9), How::Payer))
        );
        // The text names an account: it wins over the payer's habit.
        assert_eq!(
            find("л/с 100200300", &keys, &accounts(), &payers),
            Ok((id(1), How::AccountNumber))
        );
        assert_eq!(
            find(
                "оплата",
                &payer_keys(None, None, None),
                &accounts(),
                &payers
            ),
            Err(Miss::Nothing)
        );
    }
}
