//! Prefix search over folded terms.
//!
//! Each word of the query drives one range scan of `search_entries` on its primary
//! key `(organisation_id, term)`: `term >= word AND term < word + U+10FFFF`, which
//! both databases answer from the index (the column compares byte-wise). Candidates
//! must then contain every query word as a word prefix of their document. Ranking:
//! an exact term beats a prefix, then the kind (accounts first), then shorter terms.

use std::collections::HashMap;

use entities::{search_entry, SearchKind};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::error::AppResult;
use crate::fold::{fold, words};

/// How many index rows one query word may read.
const CANDIDATES_PER_WORD: u64 = 300;
pub const MAX_RESULTS: usize = 100;

#[derive(Debug, Clone)]
pub struct SearchQuery {
    pub organisation_id: Uuid,
    pub text: String,
    pub kinds: Vec<SearchKind>,
    pub house_id: Option<Uuid>,
    pub first: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub object_id: Uuid,
    pub kind: SearchKind,
    pub house_id: Option<Uuid>,
    pub score: i32,
}

fn kind_weight(kind: SearchKind) -> i32 {
    match kind {
        SearchKind::Account => 50,
        SearchKind::Person => 40,
        SearchKind::Premises => 30,
        SearchKind::Meter => 20,
        SearchKind::House => 10,
    }
}

/// Whether every query word starts some word of the document.
fn covers(doc: &str, query: &[&str]) -> bool {
    query
        .iter()
        .all(|q| words(doc).any(|w| w.starts_with(q)) || doc.replace(' ', "").contains(q))
}

pub async fn search(db: &DatabaseConnection, q: SearchQuery) -> AppResult<Vec<Hit>> {
    let folded = fold(&q.text);
    let mut query_words: Vec<&str> = words(&folded).collect();
    query_words.dedup();
    query_words.truncate(6);
    if query_words.is_empty() {
        return Ok(Vec::new());
    }
    let mut best: HashMap<Uuid, Hit> = HashMap::new();
    for word in &query_words {
        let upper = format!("{word}\u{10FFFF}");
        let mut select = search_entry::Entity::find()
            .filter(search_entry::Column::OrganisationId.eq(q.organisation_id))
            .filter(search_entry::Column::Term.gte(*word))
            .filter(search_entry::Column::Term.lt(upper));
        if !q.kinds.is_empty() {
            select = select.filter(search_entry::Column::Kind.is_in(q.kinds.clone()));
        }
        if let Some(h) = q.house_id {
            select = select.filter(search_entry::Column::HouseId.eq(h));
        }
        let rows = select
            .order_by_asc(search_entry::Column::Term)
            .limit(CANDIDATES_PER_WORD)
            .all(db)
            .await?;
        for row in rows {
            if !covers(&row.doc, &query_words) {
                continue;
            }
            let exact = if row.term == *word { 100 } else { 0 };
            let closeness =
                20 - (row.term.chars().count() as i32 - word.chars().count() as i32).clamp(0, 20);
            let score = exact + kind_weight(row.kind) + closeness;
            let entry = best.entry(row.object_id).or_insert(Hit {
                object_id: row.object_id,
                kind: row.kind,
                house_id: row.house_id,
                score,
            });
            entry.score = entry.score.max(score);
        }
    }
    let mut hits: Vec<Hit> = best.into_values().collect();
    hits.sort_by(|a, b| b.score.cmp(&a.score).then(a.object_id.cmp(&b.object_id)));
    hits.truncate(q.first.clamp(1, MAX_RESULTS));
    Ok(hits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_query_word_must_start_a_word_of_the_document() {
        assert!(covers("ул ленина 5 12", &["лен", "12"]));
        assert!(!covers("ул ленина 5 12", &["лен", "13"]));
        assert!(covers("иванов иван 79161234567", &["иван", "7916"]));
    }
}
