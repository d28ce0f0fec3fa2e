//! The `search` query: one box that finds accounts, people, premises, meters and houses.

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, Object, Result, SimpleObject, Union, ID};

use super::service::{search, SearchQuery, MAX_RESULTS};
use crate::error::AppError;
use crate::pagination::{opt_uuid, uuid};
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
        #[graphql(default)] kinds: Vec<SearchKind>,
        house_id: Option<ID>,
        #[graphql(default = 20)] first: i32,
    ) -> Result<Vec<SearchHit>> {
        let registry = ctx.data::<Registry>()?;
        let loader = ctx.data::<DataLoader<RegistryLoader>>()?;
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
            organisation_id: uuid("organisationId", &organisation_id)?,
            text,
            kinds: kinds.into_iter().map(Into::into).collect(),
            house_id: opt_uuid("houseId", house_id.as_ref())?,
            first: first as usize,
        };
        let hits = search(&registry.db, query).await?;
        let mut out = Vec::with_capacity(hits.len());
        for hit in hits {
            use entities::SearchKind as K;
            let node = match hit.kind {
                K::Account => loader
                    .load_one(AccountId(hit.object_id))
                    .await?
                    .map(|m| SearchNode::Account(Account(m))),
                K::Person => loader
                    .load_one(PersonId(hit.object_id))
                    .await?
                    .map(|m| SearchNode::Person(Person(m))),
                K::Premises => loader
                    .load_one(PremisesId(hit.object_id))
                    .await?
                    .map(|m| SearchNode::Premises(Premises(m))),
                K::Meter => loader
                    .load_one(MeterId(hit.object_id))
                    .await?
                    .map(|m| SearchNode::Meter(Meter(m))),
                K::House => loader
                    .load_one(HouseId(hit.object_id))
                    .await?
                    .map(|m| SearchNode::House(House(m))),
            };
            if let Some(node) = node {
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
