//! Catalogue queries: services and their tariffs.

use async_graphql::{Context, Object, Result, ID};

use super::types::{Service, Tariff};
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
        let p = principal(ctx)?;
        let catalogue = ctx.data::<Catalogue>()?;
        let service = catalogue.service(uuid("serviceId", &service_id)?).await?;
        let house = opt_uuid("houseId", house_id.as_ref())?;
        match house {
            Some(h) => {
                let model = ctx.data::<crate::registry::Registry>()?.house(h).await?;
                if model.organisation_id != service.organisation_id {
                    return Err(AppError::not_found("house").into());
                }
                p.check("Query.tariffs", access::house(&model))?;
            }
            None => p.check(
                "Query.tariffs",
                Target::Organisation(service.organisation_id),
            )?,
        }
        let list = catalogue.tariffs(service.id, house).await?;
        Ok(list.into_iter().map(Tariff).collect())
    }
}
