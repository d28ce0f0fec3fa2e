//! What the search finds things by.
//!
//! Accounts and meters carry a folded key of their number or serial in their own
//! row (`number_key`, `serial_key`), indexed with the organisation; houses and
//! premises are matched by their address and number as stored. Only people need
//! rows of their own: one per word of the name, per phone and per e-mail, in
//! `person_terms`. Term generation is pure; the writes run in the caller's
//! transaction.

use entities::person_term;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::fold::{digits, fold, words};

/// The search key of a code such as an account number or a serial:
/// `ЛС-001 234` → `лс001234`.
pub fn code_key(code: &str) -> String {
    fold(code).replace(' ', "")
}

/// The terms a person is found by: each word of the name, each phone's digits
/// and its last ten (as dialled at home), each e-mail's local part.
pub fn person_terms(full_name: &str, phones: &[String], emails: &[String]) -> Vec<String> {
    let mut terms: Vec<String> = Vec::new();
    let mut push = |t: String| {
        if !t.is_empty() && !terms.contains(&t) {
            terms.push(t);
        }
    };
    for w in words(&fold(full_name)) {
        push(w.to_string());
    }
    for p in phones {
        let d = digits(p);
        if d.len() > 10 {
            push(d[d.len() - 10..].to_string());
        }
        push(d);
    }
    for e in emails {
        push(code_key(e.split('@').next().unwrap_or("")));
    }
    terms
}

/// Replaces a person's terms: `old` are removed by primary key, `new` inserted.
pub async fn replace_person_terms<C: ConnectionTrait>(
    conn: &C,
    organisation_id: Uuid,
    person_id: Uuid,
    old: &[String],
    new: &[String],
) -> Result<(), sea_orm::DbErr> {
    if !old.is_empty() {
        person_term::Entity::delete_many()
            .filter(person_term::Column::OrganisationId.eq(organisation_id))
            .filter(person_term::Column::PersonId.eq(person_id))
            .filter(person_term::Column::Term.is_in(old.to_vec()))
            .exec(conn)
            .await?;
    }
    if !new.is_empty() {
        let rows = new.iter().map(|term| person_term::ActiveModel {
            organisation_id: Set(organisation_id),
            term: Set(term.clone()),
            person_id: Set(person_id),
        });
        person_term::Entity::insert_many(rows).exec(conn).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_person_is_found_by_each_name_word_and_by_phone_with_or_without_country_code() {
        let terms = person_terms(
            "Иванова Алёна Петровна",
            &["+79161234567".into()],
            &["alena.iv@example.org".into()],
        );
        assert_eq!(
            terms,
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
    fn a_code_key_ignores_case_and_punctuation() {
        assert_eq!(code_key("ЛС-001 234"), "лс001234");
        assert_eq!(code_key("CW-190001"), "cw190001");
    }
}
