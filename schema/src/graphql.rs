//! The schema: merged roots of every context, with depth, complexity and page limits.

use std::sync::Arc;

mod dates;
pub use dates::{FIRST_YEAR, LAST_YEAR};

use async_graphql::dataloader::DataLoader;
use async_graphql::{MergedObject, MergedSubscription, Schema};
use sea_orm::DatabaseConnection;

use crate::audit::query::AuditQuery;
use crate::auth::mutation::AuthMutation;
use crate::auth::query::AuthQuery;
use crate::auth::Auth;
use crate::billing::mutation::BillingMutation;
use crate::billing::query::BillingQuery;
use crate::billing::receipts::{BillingSubscription, PeriodsMutation, PeriodsQuery};
use crate::billing::{Billing, Catalogue};
use crate::clock::Clock;
use crate::complaints::service::Complaints;
use crate::complaints::setup_types::{ComplaintSetupMutation, ComplaintSetupQuery};
use crate::complaints::types::{ComplaintsMutation, ComplaintsQuery, ComplaintsSubscription};
use crate::events::Events;
use crate::files::service::Files;
use crate::files::types::{FilesMutation, FilesQuery};
use crate::payments::debtors_types::DebtorsQuery;
use crate::payments::statement_types::{StatementsMutation, StatementsQuery};
use crate::payments::types::{PaymentsMutation, PaymentsQuery, PaymentsSubscription};
use crate::payments::Payments;
use crate::readings::mutation::ReadingsMutation;
use crate::readings::query::ReadingsQuery;
use crate::readings::subscription::ReadingsSubscription;
use crate::readings::Readings;
use crate::registry::loaders::RegistryLoader;
use crate::registry::mutation::RegistryMutation;
use crate::registry::query::RegistryQuery;
use crate::registry::Registry;
use crate::search::query::SearchQueryRoot;
use crate::services_catalog::service::PaidServices;
use crate::services_catalog::types::{PaidServicesMutation, PaidServicesQuery};
use crate::staff::tasks::Tasks;
use crate::staff::types::{TasksMutation, TasksQuery};

#[derive(MergedObject, Default)]
pub struct Query(
    AuthQuery,
    RegistryQuery,
    SearchQueryRoot,
    AuditQuery,
    ReadingsQuery,
    BillingQuery,
    PeriodsQuery,
    PaymentsQuery,
    StatementsQuery,
    DebtorsQuery,
    ComplaintsQuery,
    ComplaintSetupQuery,
    FilesQuery,
    PaidServicesQuery,
    TasksQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    AuthMutation,
    RegistryMutation,
    ReadingsMutation,
    BillingMutation,
    PeriodsMutation,
    PaymentsMutation,
    StatementsMutation,
    ComplaintsMutation,
    ComplaintSetupMutation,
    FilesMutation,
    PaidServicesMutation,
    TasksMutation,
);

#[derive(MergedSubscription, Default)]
pub struct Subscription(
    ReadingsSubscription,
    BillingSubscription,
    PaymentsSubscription,
    ComplaintsSubscription,
);

pub type AppSchema = Schema<Query, Mutation, Subscription>;

pub const MAX_DEPTH: usize = 12;
pub const MAX_COMPLEXITY: usize = 5_000;

/// What the schema needs from the outside world.
#[derive(Clone)]
pub struct Deps {
    /// Attachments and their store.
    pub files: Files,
    pub db: DatabaseConnection,
    pub clock: Arc<dyn Clock>,
    pub auth: Auth,
    pub events: Events,
    /// Whether clients may introspect the schema (off in production if wished).
    pub introspection: bool,
    /// "Did you mean …" hints in validation errors.
    pub field_suggestions: bool,
    /// How long a billing run's lease on its period lasts without renewal.
    pub billing_lease: std::time::Duration,
    /// The key audit checkpoints are signed with (period closes), when set.
    pub audit_key: Option<crate::audit::AuditKey>,
}

/// A DataLoader for one request: its batches run in the request's tenancy scope
/// and never mix keys of different callers.
pub fn request_loader(registry: Registry) -> DataLoader<RegistryLoader> {
    DataLoader::new(RegistryLoader(registry), crate::tenancy::spawn_in_scope)
        .delay(std::time::Duration::ZERO)
}

/// Runs a request as its caller: the caller's organisations in the database
/// scope and a DataLoader of its own. Every execution goes through here.
pub async fn execute(
    schema: &AppSchema,
    registry: &Registry,
    request: async_graphql::Request,
    ctx: crate::auth::RequestCtx,
) -> async_graphql::Response {
    let orgs = crate::tenancy::of(ctx.principal.as_deref());
    let request = request.data(request_loader(registry.clone())).data(ctx);
    crate::tenancy::scoped(orgs, schema.execute(request)).await
}

/// Like [`execute`] for an operation that may be a subscription: a stream of
/// responses, each polled in the caller's scope.
pub fn execute_stream(
    schema: &AppSchema,
    registry: &Registry,
    request: async_graphql::Request,
    ctx: crate::auth::RequestCtx,
) -> impl futures_util::Stream<Item = async_graphql::Response> + Send + Unpin + 'static {
    let orgs = crate::tenancy::of(ctx.principal.as_deref());
    let request = request.data(request_loader(registry.clone())).data(ctx);
    crate::tenancy::ScopedStream::new(orgs, schema.execute_stream(request))
}

pub fn build_schema(deps: Deps) -> AppSchema {
    let registry = Registry::new(deps.db.clone(), deps.clock.clone());
    let readings = Readings::new(deps.db.clone(), deps.clock.clone(), deps.events.clone());
    let complaints = Complaints::new(
        deps.db.clone(),
        deps.clock.clone(),
        Some(deps.events.clone()),
    );
    let mut builder = Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
    .limit_depth(MAX_DEPTH)
    .limit_complexity(MAX_COMPLEXITY)
    .extension(dates::DateCheck)
    // Batches form while the resolvers of one level run; a timer only adds latency.
    // Requests bring their own (see `execute`); this one serves in-process callers.
    .data(request_loader(registry.clone()))
    .data(registry)
    .data(readings)
    .data(Catalogue::new(deps.db.clone(), deps.clock.clone()))
    .data(
        Billing::new(
            deps.db.clone(),
            deps.clock.clone(),
            Some(deps.events.clone()),
        )
        .with_lease(deps.billing_lease)
        .with_audit_key(deps.audit_key.clone()),
    )
    .data(Payments::new(
        deps.db.clone(),
        deps.clock.clone(),
        Some(deps.events.clone()),
    ))
    .data(complaints.clone())
    .data(PaidServices::new(
        deps.db.clone(),
        deps.clock.clone(),
        complaints,
        Payments::new(
            deps.db.clone(),
            deps.clock.clone(),
            Some(deps.events.clone()),
        ),
    ))
    .data(deps.files)
    .data(Tasks::new(deps.db.clone(), deps.clock.clone()))
    .data(deps.events)
    // Subscriptions keep a handle each: an Arc, not a copy.
    .data(std::sync::Arc::new(deps.auth.clone()))
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

fn build_schema_for_sdl() -> AppSchema {
    Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
    .finish()
}
