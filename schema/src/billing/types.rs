//! GraphQL types of the billing catalogue.

use async_graphql::{InputObject, Object, SimpleObject, ID};
use chrono::NaiveDate;
use entities::{norm, service, tariff};
use rust_decimal::Decimal;

use super::catalogue::{prices_of, StoredTier};
use crate::mirror_enum;
use crate::registry::enums::Resource;

mirror_enum!(
    /// How a service's charge is calculated.
    CalculationMethod => entities::CalculationMethod {
        Metered, Norm, Area, PerPerson, Fixed, Heating, CommonHouse, Sewage
    }
);

mirror_enum!(
    /// What a norm counts: people, the premises' area, or the common area.
    NormBasis => entities::NormBasis { Person, Area, CommonArea }
);

fn id(u: uuid::Uuid) -> ID {
    ID(u.to_string())
}

/// Whom the organisation bills on behalf of.
#[derive(SimpleObject, InputObject, Clone, Default)]
#[graphql(input_name = "ProviderInput")]
pub struct Provider {
    pub name: Option<String>,
    /// INN, CNPJ, VAT number …
    pub tax_id: Option<String>,
    /// The provider's settlement account or IBAN.
    pub account: Option<String>,
    /// BIC, bank code …
    pub bank_id: Option<String>,
}

/// Something the organisation bills: water, heating, maintenance …
pub struct Service(pub service::Model);

#[Object]
impl Service {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn organisation_id(&self) -> ID {
        id(self.0.organisation_id)
    }
    /// Short and stable: `cold_water`.
    async fn code(&self) -> &str {
        &self.0.code
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn unit(&self) -> &str {
        &self.0.unit
    }
    async fn method(&self) -> CalculationMethod {
        self.0.method.into()
    }
    /// The meters' resource of a metered service.
    async fn resource(&self) -> Option<Resource> {
        self.0.resource.map(Into::into)
    }
    /// Day, night, peak: how many values a reading and a tariff have.
    async fn zones(&self) -> i32 {
        self.0.zones
    }
    /// The norm's increasing coefficient where a meter could be installed.
    async fn norm_coefficient(&self) -> async_graphql::Result<Option<Decimal>> {
        Ok(self
            .0
            .norm_coefficient
            .as_deref()
            .map(|k| crate::error::stored_decimal("services", "norm_coefficient", self.0.id, k))
            .transpose()?)
    }
    /// None: the organisation bills for itself.
    async fn provider(&self) -> Option<Provider> {
        let m = &self.0;
        (m.provider_name.is_some()
            || m.provider_tax_id.is_some()
            || m.provider_account.is_some()
            || m.provider_bank_id.is_some())
        .then(|| Provider {
            name: m.provider_name.clone(),
            tax_id: m.provider_tax_id.clone(),
            account: m.provider_account.clone(),
            bank_id: m.provider_bank_id.clone(),
        })
    }
    async fn archived(&self) -> bool {
        self.0.archived
    }
}

/// One price band: up to `upTo` units in the month (none: the rest) at `price`.
#[derive(SimpleObject, InputObject, Clone)]
#[graphql(input_name = "TariffTierInput")]
pub struct TariffTier {
    pub up_to: Option<Decimal>,
    pub price: Decimal,
}

impl From<TariffTier> for StoredTier {
    fn from(t: TariffTier) -> Self {
        StoredTier {
            up_to: t.up_to,
            price: t.price,
        }
    }
}

/// The bands of one zone (day, night, peak; one for most services).
#[derive(SimpleObject, InputObject, Clone)]
#[graphql(input_name = "TariffZoneInput")]
pub struct TariffZone {
    pub tiers: Vec<TariffTier>,
}

/// A service's prices from `validFrom` to `validTo` (inclusive; none: until
/// changed), for the organisation or one house.
pub struct Tariff(pub tariff::Model);

#[Object]
impl Tariff {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn service_id(&self) -> ID {
        id(self.0.service_id)
    }
    /// None: the organisation's, for every house without its own.
    async fn house_id(&self) -> Option<ID> {
        self.0.house_id.map(id)
    }
    async fn valid_from(&self) -> NaiveDate {
        self.0.valid_from
    }
    async fn valid_to(&self) -> Option<NaiveDate> {
        self.0.valid_to
    }
    async fn zones(&self) -> async_graphql::Result<Vec<TariffZone>> {
        Ok(prices_of(&self.0)?
            .into_iter()
            .map(|tiers| TariffZone {
                tiers: tiers
                    .into_iter()
                    .map(|t| TariffTier {
                        up_to: t.up_to,
                        price: t.price,
                    })
                    .collect(),
            })
            .collect())
    }
}

/// A service's consumption norm per month and per unit of `basis`, from
/// `validFrom` to `validTo`, for the organisation or one house.
pub struct Norm(pub norm::Model);

#[Object]
impl Norm {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn service_id(&self) -> ID {
        id(self.0.service_id)
    }
    async fn house_id(&self) -> Option<ID> {
        self.0.house_id.map(id)
    }
    async fn basis(&self) -> NormBasis {
        self.0.basis.into()
    }
    async fn valid_from(&self) -> NaiveDate {
        self.0.valid_from
    }
    async fn valid_to(&self) -> Option<NaiveDate> {
        self.0.valid_to
    }
    /// Per month and per unit of the basis (m³ per person, Gcal per m² …).
    async fn value(&self) -> async_graphql::Result<Decimal> {
        Ok(crate::error::stored_decimal(
            "norms",
            "value",
            self.0.id,
            &self.0.value,
        )?)
    }
}
