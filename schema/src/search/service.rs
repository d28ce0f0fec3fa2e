//! Prefix search over the registry, on indexes both databases serve byte-wise.
//!
//! - accounts by `number_key` and meters by `serial_key`: one range scan
//!   `key >= q AND key < q + U+10FFFF` on `(organisation_id, key)`;
//! - people by `person_terms`: one range scan per query word, then every word of
//!   the query must start one of the person's terms;
//! - houses by the words of their address, and premises by a house's words plus
//!   the premises number (`lenina 12`).
//!
//! Every scan is bounded, so a common prefix costs no more than a rare one. Ranking:
//! an exact match beats a prefix, then the kind (accounts first), then shorter keys.

use std::collections::HashMap;

use entities::{account, house, meter, person, person_term, premises, SearchKind};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::error::AppResult;
use crate::fold::{fold, words};
use crate::registry::service::people::terms_of;

/// How many rows one scan may read.
const CANDIDATES: u64 = 300;
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

fn score(kind: SearchKind, key: &str, query: &str) -> i32 {
    let exact = if key == query { 100 } else { 0 };
    let extra = key
        .chars()
        .count()
        .saturating_sub(query.chars().count())
        .min(20) as i32;
    exact + kind_weight(kind) + 20 - extra
}

/// The upper bound of a prefix range.
fn upper(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

/// Whether every query word starts one of the terms.
fn covers<'a>(terms: impl Iterator<Item = &'a str> + Clone, query: &[&str]) -> bool {
    query
        .iter()
        .all(|q| terms.clone().any(|t| t.starts_with(q)))
}

/// Objects found by a folded code (account number, meter serial) that starts with
/// the query; `columns` are the table's organisation, house, id and key columns.
async fn code_hits<E: EntityTrait>(
    db: &DatabaseConnection,
    kind: SearchKind,
    (org, house, id, key): (E::Column, E::Column, E::Column, E::Column),
    q: &SearchQuery,
    compact: &str,
) -> AppResult<Vec<Hit>> {
    let mut select = E::find()
        .filter(org.eq(q.organisation_id))
        .filter(key.gte(compact))
        .filter(key.lt(upper(compact)));
    if let Some(h) = q.house_id {
        select = select.filter(house.eq(h));
    }
    // Keys sort an exact match before its longer neighbours: `first` rows suffice.
    let rows: Vec<(Uuid, String)> = select
        .select_only()
        .column(id)
        .column(key)
        .order_by_asc(key)
        .limit(q.first as u64)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .iter()
        .map(|(id, key)| Hit {
            object_id: *id,
            kind,
            score: score(kind, key, compact),
        })
        .collect())
}

pub async fn search(db: &DatabaseConnection, q: SearchQuery) -> AppResult<Vec<Hit>> {
    let folded = fold(&q.text);
    let mut query_words: Vec<&str> = words(&folded).collect();
    query_words.dedup();
    query_words.truncate(6);
    if query_words.is_empty() {
        return Ok(Vec::new());
    }
    let compact: String = query_words.concat();
    let want = |k: SearchKind| q.kinds.is_empty() || q.kinds.contains(&k);
    let org = q.organisation_id;
    let accounts = async {
        if !want(SearchKind::Account) {
            return AppResult::Ok(Vec::new());
        }
        let columns = (
            account::Column::OrganisationId,
            account::Column::HouseId,
            account::Column::Id,
            account::Column::NumberKey,
        );
        code_hits::<account::Entity>(db, SearchKind::Account, columns, &q, &compact).await
    };
    let meters = async {
        if !want(SearchKind::Meter) {
            return AppResult::Ok(Vec::new());
        }
        let columns = (
            meter::Column::OrganisationId,
            meter::Column::HouseId,
            meter::Column::Id,
            meter::Column::SerialKey,
        );
        code_hits::<meter::Entity>(db, SearchKind::Meter, columns, &q, &compact).await
    };

    // People belong to no house: a house filter leaves them out.
    let people = async {
        let mut hits: Vec<Hit> = Vec::new();
        if want(SearchKind::Person) && q.house_id.is_none() {
            let mut best: HashMap<Uuid, i32> = HashMap::new();
            for word in query_words.iter().take(3) {
                let rows = person_term::Entity::find()
                    .filter(person_term::Column::OrganisationId.eq(org))
                    .filter(person_term::Column::Term.gte(*word))
                    .filter(person_term::Column::Term.lt(upper(word)))
                    .order_by_asc(person_term::Column::Term)
                    .limit(CANDIDATES)
                    .all(db)
                    .await?;
                for row in rows {
                    let s = score(SearchKind::Person, &row.term, word);
                    let entry = best.entry(row.person_id).or_insert(s);
                    *entry = (*entry).max(s);
                }
            }
            if query_words.len() == 1 {
                // One word: the term that matched it is the whole check.
                hits.extend(best.into_iter().map(|(id, score)| Hit {
                    object_id: id,
                    kind: SearchKind::Person,
                    score,
                }));
            } else if !best.is_empty() {
                let people = person::Entity::find()
                    .filter(person::Column::Id.is_in(best.keys().copied().collect::<Vec<_>>()))
                    .all(db)
                    .await?;
                for p in people {
                    let terms = terms_of(&p);
                    if covers(terms.iter().map(String::as_str), &query_words) {
                        hits.push(Hit {
                            object_id: p.id,
                            kind: SearchKind::Person,
                            score: best.get(&p.id).copied().unwrap_or(0),
                        });
                    }
                }
            }
        }
        AppResult::Ok(hits)
    };

    let places = async {
        let mut hits: Vec<Hit> = Vec::new();
        if want(SearchKind::House) || want(SearchKind::Premises) {
            let mut select = house::Entity::find().filter(house::Column::OrganisationId.eq(org));
            if let Some(h) = q.house_id {
                select = select.filter(house::Column::Id.eq(h));
            }
            let houses: Vec<(Uuid, String)> = select
                .select_only()
                .column(house::Column::Id)
                .column(house::Column::Address)
                .into_tuple()
                .all(db)
                .await?;
            for (house_id, address) in houses {
                let address = fold(&address);
                let address_words: Vec<&str> = words(&address).collect();
                let (matched, rest): (Vec<&str>, Vec<&str>) = query_words
                    .iter()
                    .partition(|w| address_words.iter().any(|a| a.starts_with(**w)));
                if matched.is_empty() {
                    continue;
                }
                if rest.is_empty() && want(SearchKind::House) {
                    hits.push(Hit {
                        object_id: house_id,
                        kind: SearchKind::House,
                        score: kind_weight(SearchKind::House) + 10 * matched.len() as i32,
                    });
                }
                if let [number] = rest.as_slice() {
                    if want(SearchKind::Premises) {
                        let mut found = Vec::new();
                        for variant in [number.to_string(), number.to_uppercase()] {
                            let rows = premises::Entity::find()
                                .filter(premises::Column::HouseId.eq(house_id))
                                .filter(premises::Column::Number.gte(variant.as_str()))
                                .filter(premises::Column::Number.lt(upper(&variant)))
                                .limit(CANDIDATES)
                                .all(db)
                                .await?;
                            found.extend(rows);
                            if variant == number.to_uppercase() {
                                break;
                            }
                        }
                        for p in found {
                            hits.push(Hit {
                                object_id: p.id,
                                kind: SearchKind::Premises,
                                score: score(
                                    SearchKind::Premises,
                                    &p.number.to_lowercase(),
                                    number,
                                ) + 10 * matched.len() as i32,
                            });
                        }
                    }
                }
            }
        }
        AppResult::Ok(hits)
    };

    // The kinds are looked up at once, each on its own pooled connection.
    let (accounts, meters, people, places) =
        futures_util::try_join!(accounts, meters, people, places)?;
    let mut hits: Vec<Hit> = [accounts, meters, people, places].concat();
    hits.sort_by(|a, b| b.score.cmp(&a.score).then(a.object_id.cmp(&b.object_id)));
    hits.dedup_by_key(|h| h.object_id);
    hits.truncate(q.first.clamp(1, MAX_RESULTS));
    Ok(hits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_query_word_must_start_a_term() {
        let terms = ["иванов", "иван", "79161234567"];
        assert!(covers(terms.iter().copied(), &["иван", "7916"]));
        assert!(!covers(terms.iter().copied(), &["петр"]));
    }

    #[test]
    fn an_exact_key_outranks_a_longer_one_and_accounts_outrank_meters() {
        assert!(
            score(SearchKind::Account, "1001", "1001")
                > score(SearchKind::Account, "10010", "1001")
        );
        assert!(
            score(SearchKind::Account, "10010", "1001") > score(SearchKind::Meter, "10010", "1001")
        );
    }
}
