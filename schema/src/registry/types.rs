//! GraphQL objects of the registry: thin views over the entity models.

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, Object, Result, ID};
use chrono::{DateTime, NaiveDate, Utc};
use entities::{account, house, meter, occupancy, organisation, person, premises};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::access;
use super::enums::{
    Channel, HouseStatus, MeterStatus, OccupancyRole, PremisesKind, RecordStatus, Resource,
};
use super::loaders::{
    AccountsOfPremises, HouseId, MetersOfPremises, OccupanciesOfPremises, PersonId, PremisesId,
    RegistryLoader,
};
use super::service::{
    AccountFilter, AccountOrder, Direction, MeterFilter, MeterOrder, Page, PremisesFilter,
    PremisesOrder,
};
use super::Registry;
use crate::audit::query::AuditEntry;
use crate::auth::{principal, Target};
use crate::error::AppError;
use crate::exact::{from_micro, Share};
use crate::pagination::{connection, page, Conn};

fn id(u: uuid::Uuid) -> ID {
    ID(u.to_string())
}

/// A nested house, checked like `house(id)`.
async fn load_house(ctx: &Context<'_>, id: uuid::Uuid) -> Result<House> {
    let loader = ctx.data::<DataLoader<RegistryLoader>>()?;
    let house = loader
        .load_one(HouseId(id))
        .await?
        .ok_or(AppError::not_found("house"))?;
    principal(ctx)?.check("Query.house", access::house(&house))?;
    Ok(House(house))
}

/// Nested premises, checked like `premises(id)`.
async fn load_premises(ctx: &Context<'_>, id: uuid::Uuid) -> Result<Premises> {
    let loader = ctx.data::<DataLoader<RegistryLoader>>()?;
    let premises = loader
        .load_one(PremisesId(id))
        .await?
        .ok_or(AppError::not_found("premises"))?;
    principal(ctx)?.check("Query.premises", access::premises(&premises))?;
    Ok(Premises(premises))
}

/// Who changed an object, newest first.
async fn history(
    ctx: &Context<'_>,
    target: Target<'_>,
    object_id: Uuid,
    first: i32,
) -> Result<Vec<AuditEntry>> {
    principal(ctx)?.check_field("history", target)?;
    let registry = ctx.data::<Registry>()?;
    let limit = first.clamp(1, 200) as u64;
    Ok(crate::audit::read::history(&registry.db, object_id, limit)
        .await?
        .into_iter()
        .map(AuditEntry)
        .collect())
}

fn person_target(p: &person::Model) -> Target<'static> {
    Target::Person {
        org: p.organisation_id,
        id: p.id,
        houses: None,
    }
}

const ALL: Page = Page {
    offset: 0,
    limit: 1000,
};

pub struct Organisation(pub organisation::Model);

/// A housing management company, with the requisites printed on its receipts.
#[Object]
impl Organisation {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// ISO 4217 code.
    async fn currency(&self) -> &str {
        &self.0.currency
    }
    /// en, ru or pt-BR.
    async fn locale(&self) -> &str {
        &self.0.locale
    }
    async fn time_zone(&self) -> &str {
        &self.0.time_zone
    }
    async fn legal_name(&self) -> &str {
        &self.0.legal_name
    }
    async fn tax_id(&self) -> &str {
        &self.0.tax_id
    }
    async fn bank_account(&self) -> &str {
        &self.0.bank_account
    }
    async fn bank_id(&self) -> &str {
        &self.0.bank_id
    }
    async fn bank_name(&self) -> &str {
        &self.0.bank_name
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Who changed the organisation's settings, newest first.
    async fn history(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
    ) -> Result<Vec<AuditEntry>> {
        history(ctx, Target::Organisation(self.0.id), self.0.id, first).await
    }
}

pub struct House(pub house::Model);

/// A building the organisation manages.
#[Object]
impl House {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn organisation_id(&self) -> ID {
        id(self.0.organisation_id)
    }
    async fn country(&self) -> &str {
        &self.0.country
    }
    async fn region(&self) -> &str {
        &self.0.region
    }
    async fn city(&self) -> &str {
        &self.0.city
    }
    async fn street(&self) -> &str {
        &self.0.street
    }
    async fn building(&self) -> &str {
        &self.0.building
    }
    async fn postal_code(&self) -> &str {
        &self.0.postal_code
    }
    /// The one-line address printed on receipts.
    async fn address(&self) -> &str {
        &self.0.address
    }
    async fn year_built(&self) -> Option<i32> {
        self.0.year_built
    }
    async fn floors(&self) -> Option<i32> {
        self.0.floors
    }
    async fn entrances(&self) -> Option<i32> {
        self.0.entrances
    }
    /// m², exact.
    async fn total_area(&self) -> Option<Decimal> {
        self.0.total_area_micro.map(from_micro)
    }
    /// m², exact.
    async fn common_area(&self) -> Option<Decimal> {
        self.0.common_area_micro.map(from_micro)
    }
    async fn management_start(&self) -> Option<NaiveDate> {
        self.0.management_start
    }
    async fn status(&self) -> HouseStatus {
        self.0.status.into()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// The premises of the house, in the order people read their numbers.
    async fn premises(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<Premises>> {
        let registry = ctx.data::<Registry>()?;
        let page = page(first, after)?;
        let scope = principal(ctx)?.scope("House.premises", self.0.organisation_id)?;
        let filter = PremisesFilter {
            house_id: Some(self.0.id),
            restrict: access::restrict(scope, access::Rows::Premises),
            ..Default::default()
        };
        let (rows, total) = registry
            .premises_list(
                self.0.organisation_id,
                filter,
                PremisesOrder::Number,
                Direction::Asc,
                page,
            )
            .await?;
        Ok(connection(rows, total, page, Premises))
    }
    /// House-level (common) meters.
    async fn common_meters(&self, ctx: &Context<'_>) -> Result<Vec<Meter>> {
        let registry = ctx.data::<Registry>()?;
        principal(ctx)?.scope("House.commonMeters", self.0.organisation_id)?;
        let filter = MeterFilter {
            house_id: Some(self.0.id),
            common: Some(true),
            ..Default::default()
        };
        let (rows, _) = registry
            .meters(
                self.0.organisation_id,
                filter,
                MeterOrder::Serial,
                Direction::Asc,
                ALL,
            )
            .await?;
        Ok(rows.into_iter().map(Meter).collect())
    }
    /// Who changed the house, newest first.
    async fn history(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
    ) -> Result<Vec<AuditEntry>> {
        history(ctx, access::house(&self.0), self.0.id, first).await
    }
}

pub struct Premises(pub premises::Model);

/// A flat, office, parking place or storage room.
#[Object]
impl Premises {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn house(&self, ctx: &Context<'_>) -> Result<House> {
        load_house(ctx, self.0.house_id).await
    }
    async fn number(&self) -> &str {
        &self.0.number
    }
    async fn kind(&self) -> PremisesKind {
        self.0.kind.into()
    }
    async fn entrance(&self) -> Option<i32> {
        self.0.entrance
    }
    async fn floor(&self) -> Option<i32> {
        self.0.floor
    }
    /// m², exact.
    async fn area(&self) -> Decimal {
        from_micro(self.0.area_micro)
    }
    async fn rooms(&self) -> Option<i32> {
        self.0.rooms
    }
    async fn status(&self) -> RecordStatus {
        self.0.status.into()
    }
    async fn accounts(&self, ctx: &Context<'_>) -> Result<Vec<Account>> {
        let loader = ctx.data::<DataLoader<RegistryLoader>>()?;
        let rows = loader.load_one(AccountsOfPremises(self.0.id)).await?;
        let rows = principal(ctx)?.visible(
            "Premises.accounts",
            self.0.organisation_id,
            rows.unwrap_or_default(),
            access::account,
        )?;
        Ok(rows.into_iter().map(Account).collect())
    }
    /// Owners and tenants, current and past.
    async fn occupancies(&self, ctx: &Context<'_>) -> Result<Vec<Occupancy>> {
        let loader = ctx.data::<DataLoader<RegistryLoader>>()?;
        let rows = loader.load_one(OccupanciesOfPremises(self.0.id)).await?;
        let house = [self.0.house_id];
        let rows = principal(ctx)?.visible(
            "Premises.occupancies",
            self.0.organisation_id,
            rows.unwrap_or_default(),
            |o| Target::Person {
                org: o.organisation_id,
                id: o.person_id,
                houses: Some(&house),
            },
        )?;
        Ok(rows.into_iter().map(Occupancy).collect())
    }
    async fn meters(&self, ctx: &Context<'_>) -> Result<Vec<Meter>> {
        meters_of_premises(ctx, "Premises.meters", self.0.organisation_id, self.0.id).await
    }
    /// Who changed the premises, newest first.
    async fn history(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
    ) -> Result<Vec<AuditEntry>> {
        history(ctx, access::premises(&self.0), self.0.id, first).await
    }
}

async fn meters_of_premises(
    ctx: &Context<'_>,
    op: &str,
    org: Uuid,
    premises_id: Uuid,
) -> Result<Vec<Meter>> {
    let loader = ctx.data::<DataLoader<RegistryLoader>>()?;
    let rows = loader.load_one(MetersOfPremises(premises_id)).await?;
    let rows = principal(ctx)?.visible(op, org, rows.unwrap_or_default(), access::meter)?;
    Ok(rows.into_iter().map(Meter).collect())
}

pub struct Account(pub account::Model);

/// A personal account: what is billed for (a share of) one premises.
#[Object]
impl Account {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn number(&self) -> &str {
        &self.0.number
    }
    async fn house(&self, ctx: &Context<'_>) -> Result<House> {
        load_house(ctx, self.0.house_id).await
    }
    async fn premises(&self, ctx: &Context<'_>) -> Result<Premises> {
        load_premises(ctx, self.0.premises_id).await
    }
    async fn holder(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        let Some(holder) = self.0.holder_id else {
            return Ok(None);
        };
        let house = [self.0.house_id];
        principal(ctx)?.check(
            "Account.holder",
            Target::Person {
                org: self.0.organisation_id,
                id: holder,
                houses: Some(&house),
            },
        )?;
        let loader = ctx.data::<DataLoader<RegistryLoader>>()?;
        Ok(loader.load_one(PersonId(holder)).await?.map(Person))
    }
    /// Share of the premises, as `0.5` or `1/3`.
    async fn share(&self) -> String {
        Share::stored(self.0.share_num, self.0.share_den).render()
    }
    async fn registered_residents(&self) -> i32 {
        self.0.registered_residents
    }
    async fn opened_on(&self) -> NaiveDate {
        self.0.opened_on
    }
    async fn closed_on(&self) -> Option<NaiveDate> {
        self.0.closed_on
    }
    async fn is_open(&self) -> bool {
        self.0.closed_on.is_none()
    }
    /// Codes of the privileged categories (benefits) of the account.
    async fn privileged_categories(&self) -> Vec<String> {
        serde_json::from_str(&self.0.privileged_categories).unwrap_or_default()
    }
    /// The meters of the account's premises.
    async fn meters(&self, ctx: &Context<'_>) -> Result<Vec<Meter>> {
        meters_of_premises(
            ctx,
            "Account.meters",
            self.0.organisation_id,
            self.0.premises_id,
        )
        .await
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Who changed the account, newest first.
    async fn history(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
    ) -> Result<Vec<AuditEntry>> {
        history(ctx, access::account(&self.0), self.0.id, first).await
    }
}

pub struct Person(pub person::Model);

/// An owner, tenant or resident.
#[Object]
impl Person {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn full_name(&self) -> &str {
        &self.0.full_name
    }
    /// Personal data: staff roles that work with residents, and the person themself.
    async fn phones(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        principal(ctx)?.check_field("Person.phones", person_target(&self.0))?;
        Ok(serde_json::from_str(&self.0.phones).unwrap_or_default())
    }
    /// Personal data, as `phones`.
    async fn emails(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        principal(ctx)?.check_field("Person.emails", person_target(&self.0))?;
        Ok(serde_json::from_str(&self.0.emails).unwrap_or_default())
    }
    async fn preferred_channel(&self) -> Channel {
        self.0.preferred_channel.into()
    }
    async fn consent_personal_data(&self) -> bool {
        self.0.consent_personal_data
    }
    async fn consent_electronic_receipts(&self) -> bool {
        self.0.consent_electronic_receipts
    }
    async fn consent_marketing(&self) -> bool {
        self.0.consent_marketing
    }
    async fn occupancies(&self, ctx: &Context<'_>) -> Result<Vec<Occupancy>> {
        let p = principal(ctx)?;
        p.scope("Person.occupancies", self.0.organisation_id)?;
        let registry = ctx.data::<Registry>()?;
        let loader = ctx.data::<DataLoader<RegistryLoader>>()?;
        let rows = registry.occupancies_of_person(self.0.id).await?;
        let places = loader
            .load_many(rows.iter().map(|o| PremisesId(o.premises_id)))
            .await?;
        Ok(rows
            .into_iter()
            .filter(|o| {
                places
                    .get(&PremisesId(o.premises_id))
                    .is_some_and(|pr| p.check("Person.occupancies", access::premises(pr)).is_ok())
            })
            .map(Occupancy)
            .collect())
    }
    /// Accounts this person holds.
    async fn accounts(&self, ctx: &Context<'_>) -> Result<Vec<Account>> {
        let registry = ctx.data::<Registry>()?;
        let scope = principal(ctx)?.scope("Person.accounts", self.0.organisation_id)?;
        let filter = AccountFilter {
            holder_id: Some(self.0.id),
            restrict: access::restrict(scope, access::Rows::Accounts),
            ..Default::default()
        };
        let (rows, _) = registry
            .accounts(
                self.0.organisation_id,
                filter,
                AccountOrder::Number,
                Direction::Asc,
                ALL,
            )
            .await?;
        Ok(rows.into_iter().map(Account).collect())
    }
    /// Who changed the person's record, newest first.
    async fn history(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
    ) -> Result<Vec<AuditEntry>> {
        history(ctx, person_target(&self.0), self.0.id, first).await
    }
}

pub struct Occupancy(pub occupancy::Model);

/// A person's link to premises.
#[Object]
impl Occupancy {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn role(&self) -> OccupancyRole {
        self.0.role.into()
    }
    /// Ownership share (owners only), as `0.5` or `1/3`.
    async fn share(&self) -> Option<String> {
        (self.0.share_num > 0).then(|| Share::stored(self.0.share_num, self.0.share_den).render())
    }
    async fn since(&self) -> Option<NaiveDate> {
        self.0.since
    }
    async fn until(&self) -> Option<NaiveDate> {
        self.0.until
    }
    async fn person(&self, ctx: &Context<'_>) -> Result<Person> {
        principal(ctx)?.check_field(
            "Occupancy.person",
            Target::Person {
                org: self.0.organisation_id,
                id: self.0.person_id,
                houses: None,
            },
        )?;
        let loader = ctx.data::<DataLoader<RegistryLoader>>()?;
        loader
            .load_one(PersonId(self.0.person_id))
            .await?
            .map(Person)
            .ok_or_else(|| AppError::not_found("person").into())
    }
    async fn premises(&self, ctx: &Context<'_>) -> Result<Premises> {
        load_premises(ctx, self.0.premises_id).await
    }
}

pub struct Meter(pub meter::Model);

/// A meter in premises or, as a common meter, on a house.
#[Object]
impl Meter {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn serial(&self) -> &str {
        &self.0.serial
    }
    async fn resource(&self) -> Resource {
        self.0.resource.into()
    }
    async fn zones(&self) -> i32 {
        self.0.zones
    }
    async fn unit(&self) -> &str {
        &self.0.unit
    }
    async fn installed_on(&self) -> Option<NaiveDate> {
        self.0.installed_on
    }
    async fn verification_due(&self) -> Option<NaiveDate> {
        self.0.verification_due
    }
    /// The value of each zone when the meter was installed, exact.
    async fn initial_values(&self) -> Vec<Decimal> {
        [
            Some(self.0.initial1_micro),
            self.0.initial2_micro,
            self.0.initial3_micro,
        ]
        .into_iter()
        .take(self.0.zones as usize)
        .map(|v| from_micro(v.unwrap_or(0)))
        .collect()
    }
    async fn status(&self) -> MeterStatus {
        self.0.status.into()
    }
    /// Whole digits of the register: after 10^digits − 1 it shows zero again.
    async fn digits(&self) -> Option<i32> {
        self.0.digits
    }
    /// A house-level meter rather than one in premises.
    async fn is_common(&self) -> bool {
        self.0.premises_id.is_none()
    }
    async fn house(&self, ctx: &Context<'_>) -> Result<House> {
        load_house(ctx, self.0.house_id).await
    }
    async fn premises(&self, ctx: &Context<'_>) -> Result<Option<Premises>> {
        match self.0.premises_id {
            Some(p) => load_premises(ctx, p).await.map(Some),
            None => Ok(None),
        }
    }
    /// Who changed the meter, newest first.
    async fn history(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
    ) -> Result<Vec<AuditEntry>> {
        history(ctx, access::meter(&self.0), self.0.id, first).await
    }
}
