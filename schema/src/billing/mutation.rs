//! Catalogue mutations: services and tariff versions.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::catalogue::{NormDraft, ServiceDraft, ServicePatch, TariffDraft};
use super::types::{CalculationMethod, Norm, NormBasis, Provider, Service, Tariff, TariffZone};
use super::Catalogue;
use crate::auth::author;
use crate::pagination::{opt_uuid, uuid};
use crate::registry::enums::Resource;
use crate::registry::mutation::InInput;

#[derive(InputObject)]
pub struct CreateServiceInput {
    pub organisation_id: ID,
    /// Letters a–z, digits and _, unique in the organisation: `cold_water`.
    pub code: String,
    pub name: String,
    /// `m³`, `kWh`, `Gcal`, `m²`, `person`, `premises` …
    pub unit: String,
    pub method: CalculationMethod,
    /// Metered services and common-house needs: the meters' resource.
    pub resource: Option<Resource>,
    /// Metered services: 1 to 3 (day, night, peak).
    pub zones: Option<i32>,
    /// The norm's increasing coefficient where a meter could be installed (e.g. 1.5).
    pub norm_coefficient: Option<Decimal>,
    /// Billing on behalf of a supplier: its requisites.
    pub provider: Option<Provider>,
}

#[derive(InputObject)]
pub struct UpdateServiceInput {
    pub id: ID,
    pub name: Option<String>,
    pub unit: Option<String>,
    pub norm_coefficient: Option<Decimal>,
    /// Removes the coefficient.
    #[graphql(default)]
    pub clear_norm_coefficient: bool,
    pub provider: Option<Provider>,
    /// No longer billed (kept for the receipts that name it).
    pub archived: Option<bool>,
}

#[derive(InputObject)]
pub struct SetTariffInput {
    pub service_id: ID,
    /// One house's own prices; the organisation's when left out.
    pub house_id: Option<ID>,
    pub valid_from: NaiveDate,
    /// The last day (inclusive); none: until the next version.
    pub valid_to: Option<NaiveDate>,
    /// One entry per zone of the service, each its bands in increasing order,
    /// the last without `upTo`.
    pub zones: Vec<TariffZone>,
}

#[derive(InputObject)]
pub struct SetNormInput {
    pub service_id: ID,
    /// One house's own norm; the organisation's when left out.
    pub house_id: Option<ID>,
    pub basis: NormBasis,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    /// Per month and per unit of the basis.
    pub value: Decimal,
}

#[derive(SimpleObject)]
pub struct NormPayload {
    pub norm: Norm,
}

#[derive(SimpleObject)]
pub struct ServicePayload {
    pub service: Service,
}

#[derive(SimpleObject)]
pub struct TariffPayload {
    pub tariff: Tariff,
}

fn provider(p: Option<Provider>) -> super::catalogue::Provider {
    let p = p.unwrap_or_default();
    super::catalogue::Provider {
        name: p.name,
        tax_id: p.tax_id,
        account: p.account,
        bank_id: p.bank_id,
    }
}

#[derive(Default)]
pub struct BillingMutation;

#[Object]
impl BillingMutation {
    async fn create_service(
        &self,
        ctx: &Context<'_>,
        input: CreateServiceInput,
    ) -> Result<ServicePayload> {
        let by = author(ctx, "Mutation.createService")?;
        let org = uuid("organisationId", &input.organisation_id).input()?;
        let draft = ServiceDraft {
            code: input.code,
            name: input.name,
            unit: input.unit,
            method: Some(input.method.into()),
            resource: input.resource.map(Into::into),
            zones: input.zones,
            norm_coefficient: input.norm_coefficient,
            provider: provider(input.provider),
        };
        let model = (ctx
            .data::<Catalogue>()?
            .create_service(&by, org, draft)
            .await)
            .input()?;
        Ok(ServicePayload {
            service: Service(model),
        })
    }

    async fn update_service(
        &self,
        ctx: &Context<'_>,
        input: UpdateServiceInput,
    ) -> Result<ServicePayload> {
        let by = author(ctx, "Mutation.updateService")?;
        let id = uuid("id", &input.id).input()?;
        let patch = ServicePatch {
            name: input.name,
            unit: input.unit,
            norm_coefficient: if input.clear_norm_coefficient {
                Some(None)
            } else {
                input.norm_coefficient.map(Some)
            },
            provider: input.provider.map(|p| provider(Some(p))),
            archived: input.archived,
        };
        let model = (ctx
            .data::<Catalogue>()?
            .update_service(&by, id, patch)
            .await)
            .input()?;
        Ok(ServicePayload {
            service: Service(model),
        })
    }

    /// A new version of a service's prices; an earlier version still running
    /// on `validFrom` ends the day before.
    async fn set_tariff(&self, ctx: &Context<'_>, input: SetTariffInput) -> Result<TariffPayload> {
        let by = author(ctx, "Mutation.setTariff")?;
        let draft = TariffDraft {
            service_id: uuid("serviceId", &input.service_id).input()?,
            house_id: opt_uuid("houseId", input.house_id.as_ref()).input()?,
            valid_from: input.valid_from,
            valid_to: input.valid_to,
            zones: input
                .zones
                .into_iter()
                .map(|z| z.tiers.into_iter().map(Into::into).collect())
                .collect(),
        };
        let model = (ctx.data::<Catalogue>()?.set_tariff(&by, draft).await).input()?;
        Ok(TariffPayload {
            tariff: Tariff(model),
        })
    }

    /// A new version of a service's norm for one basis; an earlier version
    /// still running on `validFrom` ends the day before.
    async fn set_norm(&self, ctx: &Context<'_>, input: SetNormInput) -> Result<NormPayload> {
        let by = author(ctx, "Mutation.setNorm")?;
        let draft = NormDraft {
            service_id: uuid("serviceId", &input.service_id).input()?,
            house_id: opt_uuid("houseId", input.house_id.as_ref()).input()?,
            basis: input.basis.into(),
            valid_from: input.valid_from,
            valid_to: input.valid_to,
            value: input.value,
        };
        let model = (ctx.data::<Catalogue>()?.set_norm(&by, draft).await).input()?;
        Ok(NormPayload { norm: Norm(model) })
    }
}
