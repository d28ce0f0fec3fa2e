//! Catalogue queries: services and their tariffs.

use async_graphql::{Context, Object, Result, ID};

use super::types::{Norm, Service, Tariff};
use super::Catalogue;
use crate::auth::{principal, Target};
use crate::error::AppError;
use crate::pagination::{opt_uuid, uuid};
use crate::registry::access;

#[derive(Default)]
pub struct BillingQuery;

#[Object]
impl BillingQuery {
    /// The organisation's services by code; archived ones with `archived: true`.
    async fn services(
        &self,
        ctx: &Context<'_>,
        organisation_id: ID,
        #[graphql(default)] archived: bool,
    ) -> Result<Vec<Service>> {
        let p = principal(ctx)?;
        let org = uuid("organisationId", &organisation_id)?;
        p.check("Query.services", Target::Organisation(org))?;
        let list = ctx.data::<Catalogue>()?.services(org, archived).await?;
        Ok(list.into_iter().map(Service).collect())
    }

    /// A service's tariff versions, oldest first: the organisation's, or one
    /// house's own with `houseId`.
    async fn tariffs(
        &self,
        ctx: &Context<'_>,
        service_id: ID,
        house_id: Option<ID>,
    ) -> Result<Vec<Tariff>> {
        let (service, house) = scope(ctx, "Query.tariffs", &service_id, house_id.as_ref()).await?;
        let list = ctx.data::<Catalogue>()?.tariffs(service, house).await?;
        Ok(list.into_iter().map(Tariff).collect())
    }

    /// A service's norms, by basis and oldest first: the organisation's, or
    /// one house's own with `houseId`.
    async fn norms(
        &self,
        ctx: &Context<'_>,
        service_id: ID,
        house_id: Option<ID>,
    ) -> Result<Vec<Norm>> {
        let (service, house) = scope(ctx, "Query.norms", &service_id, house_id.as_ref()).await?;
        let list = ctx.data::<Catalogue>()?.norms(service, house).await?;
        Ok(list.into_iter().map(Norm).collect())
    }
}

/// The service and house a price query reads, once `op` allows it.
async fn scope(
    ctx: &Context<'_>,
    op: &str,
    service_id: &ID,
    house_id: Option<&ID>,
) -> Result<(uuid::Uuid, Option<uuid::Uuid>)> {
    let p = principal(ctx)?;
    let service = ctx
        .data::<Catalogue>()?
        .service(uuid("serviceId", service_id)?)
        .await?;
    let house = opt_uuid("houseId", house_id)?;
    match house {
        Some(h) => {
            let model = ctx.data::<crate::registry::Registry>()?.house(h).await?;
            if model.organisation_id != service.organisation_id {
                return Err(AppError::not_found("house").into());
            }
            p.check(op, access::house(&model))?;
        }
        None => p.check(op, Target::Organisation(service.organisation_id))?,
    }
    Ok((service.id, house))
}
