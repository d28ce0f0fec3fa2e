//! The schema: merged roots of every context, with depth, complexity and page limits.

use std::sync::Arc;

use async_graphql::dataloader::DataLoader;
use async_graphql::{EmptySubscription, MergedObject, Schema};
use sea_orm::DatabaseConnection;

use crate::audit::query::AuditQuery;
use crate::auth::mutation::AuthMutation;
use crate::auth::query::AuthQuery;
use crate::auth::Auth;
use crate::clock::Clock;
use crate::registry::loaders::RegistryLoader;
use crate::registry::mutation::RegistryMutation;
use crate::registry::query::RegistryQuery;
use crate::registry::Registry;
use crate::search::query::SearchQueryRoot;

#[derive(MergedObject, Default)]
pub struct Query(AuthQuery, RegistryQuery, SearchQueryRoot, AuditQuery);

#[derive(MergedObject, Default)]
pub struct Mutation(AuthMutation, RegistryMutation);

pub type AppSchema = Schema<Query, Mutation, EmptySubscription>;

pub const MAX_DEPTH: usize = 12;
pub const MAX_COMPLEXITY: usize = 5_000;

/// What the schema needs from the outside world.
#[derive(Clone)]
pub struct Deps {
    pub db: DatabaseConnection,
    pub clock: Arc<dyn Clock>,
    pub auth: Auth,
    /// Whether clients may introspect the schema (off in production if wished).
    pub introspection: bool,
    /// "Did you mean …" hints in validation errors.
    pub field_suggestions: bool,
}

pub fn build_schema(deps: Deps) -> AppSchema {
    let registry = Registry::new(deps.db.clone(), deps.clock.clone());
    let mut builder = Schema::build(Query::default(), Mutation::default(), EmptySubscription)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        // Batches form while the resolvers of one level run; a timer only adds latency.
        .data(
            DataLoader::new(RegistryLoader(registry.clone()), tokio::spawn)
                .delay(std::time::Duration::ZERO),
        )
        .data(registry)
        .data(deps.auth);
    if !deps.introspection {
        builder = builder.disable_introspection();
    }
    if !deps.field_suggestions {
        builder = builder.disable_suggestions();
    }
    builder.finish()
}

/// The SDL as committed in `schema.graphql`.
pub fn sdl() -> String {
    build_schema_for_sdl().sdl()
}

fn build_schema_for_sdl() -> Schema<Query, Mutation, EmptySubscription> {
    Schema::build(Query::default(), Mutation::default(), EmptySubscription).finish()
}
