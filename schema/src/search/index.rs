//! What each registry object contributes to the search index.
//!
//! An object has a few terms (folded words, the rows a prefix scan finds) and one
//! folded document (to check the other words of a query). Term generation is pure;
//! [`replace`] rewrites an object's rows inside the caller's transaction.

use entities::{search_entry, SearchKind};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::fold::{digits, fold, words};

/// The index rows of one object, before they are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexDoc {
    pub object_id: Uuid,
    pub kind: SearchKind,
    pub house_id: Option<Uuid>,
    pub terms: Vec<String>,
    pub doc: String,
}

fn push_unique(terms: &mut Vec<String>, term: String) {
    if !term.is_empty() && !terms.contains(&term) {
        terms.push(term);
    }
}

/// Terms of a code such as an account number or a serial: its folded words and,
/// when it mixes digits and other characters, its digits alone.
fn code_terms(terms: &mut Vec<String>, code: &str) {
    let folded = fold(code);
    let joined: String = folded.split(' ').collect();
    push_unique(terms, joined);
    for w in words(&folded) {
        push_unique(terms, w.to_string());
    }
    let d = digits(code);
    if d.len() >= 3 {
        push_unique(terms, d);
    }
}

pub fn account(
    id: Uuid,
    house_id: Uuid,
    number: &str,
    address: &str,
    premises_number: &str,
    holder: Option<&str>,
) -> IndexDoc {
    let mut terms = Vec::new();
    code_terms(&mut terms, number);
    IndexDoc {
        object_id: id,
        kind: SearchKind::Account,
        house_id: Some(house_id),
        terms,
        doc: fold(&format!(
            "{number} {address} {premises_number} {}",
            holder.unwrap_or("")
        )),
    }
}

pub fn person(id: Uuid, full_name: &str, phones: &[String], emails: &[String]) -> IndexDoc {
    let mut terms = Vec::new();
    let name = fold(full_name);
    for w in words(&name) {
        push_unique(&mut terms, w.to_string());
    }
    for p in phones {
        let d = digits(p);
        // Also without the country code, as people dial it at home.
        if d.len() > 10 {
            push_unique(&mut terms, d[d.len() - 10..].to_string());
        }
        push_unique(&mut terms, d);
    }
    for e in emails {
        push_unique(
            &mut terms,
            fold(e.split('@').next().unwrap_or("")).replace(' ', ""),
        );
    }
    let phone_digits: Vec<String> = phones.iter().map(|p| digits(p)).collect();
    IndexDoc {
        object_id: id,
        kind: SearchKind::Person,
        house_id: None,
        terms,
        doc: format!(
            "{name} {} {}",
            phone_digits.join(" "),
            fold(&emails.join(" "))
        ),
    }
}

pub fn premises(id: Uuid, house_id: Uuid, number: &str, address: &str) -> IndexDoc {
    let mut terms = Vec::new();
    code_terms(&mut terms, number);
    IndexDoc {
        object_id: id,
        kind: SearchKind::Premises,
        house_id: Some(house_id),
        terms,
        doc: fold(&format!("{address} {number}")),
    }
}

pub fn meter(
    id: Uuid,
    house_id: Uuid,
    serial: &str,
    address: &str,
    premises_number: Option<&str>,
) -> IndexDoc {
    let mut terms = Vec::new();
    code_terms(&mut terms, serial);
    IndexDoc {
        object_id: id,
        kind: SearchKind::Meter,
        house_id: Some(house_id),
        terms,
        doc: fold(&format!(
            "{serial} {address} {}",
            premises_number.unwrap_or("")
        )),
    }
}

pub fn house(id: Uuid, address: &str) -> IndexDoc {
    let mut terms = Vec::new();
    let folded = fold(address);
    for w in words(&folded) {
        push_unique(&mut terms, w.to_string());
    }
    IndexDoc {
        object_id: id,
        kind: SearchKind::House,
        house_id: Some(id),
        terms,
        doc: folded,
    }
}

impl IndexDoc {
    pub fn rows(
        &self,
        organisation_id: Uuid,
    ) -> impl Iterator<Item = search_entry::ActiveModel> + '_ {
        self.terms
            .iter()
            .map(move |term| search_entry::ActiveModel {
                organisation_id: Set(organisation_id),
                term: Set(term.clone()),
                object_id: Set(self.object_id),
                kind: Set(self.kind),
                house_id: Set(self.house_id),
                doc: Set(self.doc.clone()),
            })
    }
}

/// Replaces the index rows of one object.
pub async fn replace<C: ConnectionTrait>(
    conn: &C,
    organisation_id: Uuid,
    doc: &IndexDoc,
) -> Result<(), sea_orm::DbErr> {
    search_entry::Entity::delete_many()
        .filter(search_entry::Column::ObjectId.eq(doc.object_id))
        .exec(conn)
        .await?;
    let rows: Vec<_> = doc.rows(organisation_id).collect();
    if !rows.is_empty() {
        search_entry::Entity::insert_many(rows).exec(conn).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_person_is_found_by_each_name_word_and_by_phone_with_or_without_country_code() {
        let doc = person(
            Uuid::nil(),
            "Иванова Алёна Петровна",
            &["+79161234567".into()],
            &["alena.iv@example.org".into()],
        );
        assert_eq!(
            doc.terms,
            vec![
                "иванова",
                "алена",
                "петровна",
                "9161234567",
                "79161234567",
                "alenaiv"
            ]
        );
    }

    #[test]
    fn an_account_number_is_found_whole_by_word_and_by_digits() {
        let doc = account(
            Uuid::nil(),
            Uuid::nil(),
            "ЛС-001234",
            "ул. Ленина, 5",
            "12",
            None,
        );
        assert_eq!(doc.terms, vec!["лс001234", "лс", "001234"]);
    }
}
