//! The `search` query: one box that finds accounts, people, premises, meters and houses.

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, Object, Result, SimpleObject, Union, ID};

use super::service::{search, SearchQuery, MAX_RESULTS};
use crate::error::AppError;
use crate::pagination::{opt_uuid, uuid};
use crate::registry::access;
use crate::registry::enums::SearchKind;
use crate::registry::loaders::{AccountId, HouseId, MeterId, PersonId, PremisesId, RegistryLoader};
use crate::registry::types::{Account, House, Meter, Person, Premises};
use crate::registry::Registry;

#[derive(Union)]
pub enum SearchNode {
    Account(Account),
    Person(Person),
    Premises(Premises),
    Meter(Meter),
    House(House),
}

#[derive(SimpleObject)]
pub struct SearchHit {
    pub kind: SearchKind,
    /// Higher is better: exact matches first, then accounts, people, premises, meters, houses.
    pub score: i32,
    pub node: SearchNode,
}

#[derive(Default)]
pub struct SearchQueryRoot;

#[Object]
impl SearchQueryRoot {
    /// Finds registry objects from a few characters of an account number, a name,
    /// a phone, an address with premises number, or a meter serial. Case- and
    /// accent-insensitive; every word must match the start of a word.
    async fn search(
        &self,
        ctx: &Context<'_>,
        organisation_id: ID,
        text: String,
        kinds: Option<Vec<SearchKind>>,
        house_id: Option<ID>,
        #[graphql(default = 20)] first: i32,
    ) -> Result<Vec<SearchHit>> {
        let registry = ctx.data::<Registry>()?;
        let loader = ctx.data::<DataLoader<RegistryLoader>>()?;
        let org = uuid("organisationId", &organisation_id)?;
        let principal = crate::auth::principal(ctx)?;
        principal.scope("Query.search", org)?;
        if text.chars().count() > 200 {
            return Err(AppError::validation("text", "too_long", "at most 200 characters").into());
        }
        if first < 1 || first as usize > MAX_RESULTS {
            return Err(AppError::validation(
                "first",
                "out_of_range",
                format!("between 1 and {MAX_RESULTS}"),
            )
            .into());
        }
        let query = SearchQuery {
            organisation_id: org,
            text,
            kinds: kinds
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
            house_id: opt_uuid("houseId", house_id.as_ref())?,
            first: first as usize,
        };
        let hits = search(&registry.db, query).await?;
        // One batch per kind, all at once: never one round trip per hit.
        let ids = |kind: entities::SearchKind| {
            hits.iter()
                .filter(move |h| h.kind == kind)
                .map(|h| h.object_id)
        };
        use entities::SearchKind as K;
        let (accounts, people, premises, meters, houses) = futures_util::try_join!(
            loader.load_many(ids(K::Account).map(AccountId)),
            loader.load_many(ids(K::Person).map(PersonId)),
            loader.load_many(ids(K::Premises).map(PremisesId)),
            loader.load_many(ids(K::Meter).map(MeterId)),
            loader.load_many(ids(K::House).map(HouseId)),
        )?;
        let mut out = Vec::with_capacity(hits.len());
        for hit in &hits {
            let id = hit.object_id;
            let node = match hit.kind {
                K::Account => accounts
                    .get(&AccountId(id))
                    .cloned()
                    .map(|m| SearchNode::Account(Account(m))),
                K::Person => people
                    .get(&PersonId(id))
                    .cloned()
                    .map(|m| SearchNode::Person(Person(m))),
                K::Premises => premises
                    .get(&PremisesId(id))
                    .cloned()
                    .map(|m| SearchNode::Premises(Premises(m))),
                K::Meter => meters
                    .get(&MeterId(id))
                    .cloned()
                    .map(|m| SearchNode::Meter(Meter(m))),
                K::House => houses
                    .get(&HouseId(id))
                    .cloned()
                    .map(|m| SearchNode::House(House(m))),
            };
            // Staff limited to some houses see only hits in them.
            let visible = match &node {
                Some(SearchNode::Account(a)) => principal
                    .check("Query.account", access::account(&a.0))
                    .is_ok(),
                Some(SearchNode::Premises(p)) => principal
                    .check("Query.premises", access::premises(&p.0))
                    .is_ok(),
                Some(SearchNode::Meter(m)) => {
                    principal.check("Query.meter", access::meter(&m.0)).is_ok()
                }
                Some(SearchNode::House(h)) => {
                    principal.check("Query.house", access::house(&h.0)).is_ok()
                }
                Some(SearchNode::Person(p)) => {
                    access::check_person(registry, &principal, "Query.person", &p.0)
                        .await
                        .is_ok()
                }
                None => false,
            };
            if let (true, Some(node)) = (visible, node) {
                out.push(SearchHit {
                    kind: hit.kind.into(),
                    score: hit.score,
                    node,
                });
            }
        }
        Ok(out)
    }
}
