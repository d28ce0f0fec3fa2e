//! Registry queries. Until access control lands, lists name their organisation.

use async_graphql::{Context, InputObject, Object, Result, ID};
use chrono::NaiveDate;

use super::enums::{HouseStatus, MeterStatus, PremisesKind, RecordStatus, Resource, SortDirection};
use super::service::{
    AccountFilter, AccountOrder, HouseFilter, HouseOrder, MeterFilter, MeterOrder, PersonFilter,
    PersonOrder, PremisesFilter, PremisesOrder,
};
use super::types::{Account, House, Meter, Organisation, Person, Premises};
use super::Registry;
use crate::pagination::{connection, opt_uuid, page, uuid, Conn};

#[derive(async_graphql::Enum, Copy, Clone, PartialEq, Eq, Default)]
pub enum HouseOrderField {
    #[default]
    Address,
    CreatedAt,
}

#[derive(InputObject, Default)]
pub struct HouseFilterInput {
    pub status: Option<HouseStatus>,
    /// Part of the address.
    pub address: Option<String>,
}

#[derive(InputObject, Default)]
pub struct HouseOrderBy {
    #[graphql(default)]
    pub field: HouseOrderField,
    #[graphql(default)]
    pub direction: SortDirection,
}

#[derive(async_graphql::Enum, Copy, Clone, PartialEq, Eq, Default)]
pub enum PremisesOrderField {
    #[default]
    Number,
    Area,
    Floor,
}

#[derive(InputObject, Default)]
pub struct PremisesFilterInput {
    pub house_id: Option<ID>,
    pub kind: Option<PremisesKind>,
    pub status: Option<RecordStatus>,
    /// Exact premises number.
    pub number: Option<String>,
}

#[derive(InputObject, Default)]
pub struct PremisesOrderBy {
    #[graphql(default)]
    pub field: PremisesOrderField,
    #[graphql(default)]
    pub direction: SortDirection,
}

#[derive(async_graphql::Enum, Copy, Clone, PartialEq, Eq, Default)]
pub enum AccountOrderField {
    #[default]
    Number,
    OpenedOn,
}

#[derive(InputObject, Default)]
pub struct AccountFilterInput {
    pub house_id: Option<ID>,
    pub premises_id: Option<ID>,
    pub holder_id: Option<ID>,
    /// true: open accounts only; false: closed only.
    pub open: Option<bool>,
    pub number_prefix: Option<String>,
}

#[derive(InputObject, Default)]
pub struct AccountOrderBy {
    #[graphql(default)]
    pub field: AccountOrderField,
    #[graphql(default)]
    pub direction: SortDirection,
}

#[derive(async_graphql::Enum, Copy, Clone, PartialEq, Eq, Default)]
pub enum PersonOrderField {
    #[default]
    Name,
    CreatedAt,
}

#[derive(InputObject, Default)]
pub struct PersonFilterInput {
    /// Part of the name.
    pub name: Option<String>,
}

#[derive(InputObject, Default)]
pub struct PersonOrderBy {
    #[graphql(default)]
    pub field: PersonOrderField,
    #[graphql(default)]
    pub direction: SortDirection,
}

#[derive(async_graphql::Enum, Copy, Clone, PartialEq, Eq, Default)]
pub enum MeterOrderField {
    #[default]
    Serial,
    VerificationDue,
}

#[derive(InputObject, Default)]
pub struct MeterFilterInput {
    pub house_id: Option<ID>,
    pub premises_id: Option<ID>,
    /// true: house-level meters only; false: meters in premises only.
    pub common: Option<bool>,
    pub resource: Option<Resource>,
    pub status: Option<MeterStatus>,
    /// Verification due on or before this date.
    pub verification_due_before: Option<NaiveDate>,
}

#[derive(InputObject, Default)]
pub struct MeterOrderBy {
    #[graphql(default)]
    pub field: MeterOrderField,
    #[graphql(default)]
    pub direction: SortDirection,
}

#[derive(Default)]
pub struct RegistryQuery;

#[Object]
impl RegistryQuery {
    async fn organisation(&self, ctx: &Context<'_>, id: ID) -> Result<Organisation> {
        let registry = ctx.data::<Registry>()?;
        Ok(Organisation(registry.organisation(uuid("id", &id)?).await?))
    }

    async fn organisations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<Organisation>> {
        let registry = ctx.data::<Registry>()?;
        let page = page(first, after)?;
        let (rows, total) = registry.organisations(page).await?;
        Ok(connection(rows, total, page, Organisation))
    }

    async fn house(&self, ctx: &Context<'_>, id: ID) -> Result<House> {
        let registry = ctx.data::<Registry>()?;
        Ok(House(registry.house(uuid("id", &id)?).await?))
    }

    async fn houses(
        &self,
        ctx: &Context<'_>,
        organisation_id: ID,
        filter: Option<HouseFilterInput>,
        order_by: Option<HouseOrderBy>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<House>> {
        let registry = ctx.data::<Registry>()?;
        let page = page(first, after)?;
        let f = filter.unwrap_or_default();
        let o = order_by.unwrap_or_default();
        let filter = HouseFilter {
            status: f.status.map(Into::into),
            address: f.address,
        };
        let order = match o.field {
            HouseOrderField::Address => HouseOrder::Address,
            HouseOrderField::CreatedAt => HouseOrder::CreatedAt,
        };
        let (rows, total) = registry
            .houses(
                uuid("organisationId", &organisation_id)?,
                filter,
                order,
                o.direction.into(),
                page,
            )
            .await?;
        Ok(connection(rows, total, page, House))
    }

    async fn premises(&self, ctx: &Context<'_>, id: ID) -> Result<Premises> {
        let registry = ctx.data::<Registry>()?;
        Ok(Premises(registry.premises(uuid("id", &id)?).await?))
    }

    async fn premises_list(
        &self,
        ctx: &Context<'_>,
        organisation_id: ID,
        filter: Option<PremisesFilterInput>,
        order_by: Option<PremisesOrderBy>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<Premises>> {
        let registry = ctx.data::<Registry>()?;
        let page = page(first, after)?;
        let f = filter.unwrap_or_default();
        let o = order_by.unwrap_or_default();
        let filter = PremisesFilter {
            house_id: opt_uuid("filter.houseId", f.house_id.as_ref())?,
            kind: f.kind.map(Into::into),
            status: f.status.map(Into::into),
            number: f.number,
        };
        let order = match o.field {
            PremisesOrderField::Number => PremisesOrder::Number,
            PremisesOrderField::Area => PremisesOrder::Area,
            PremisesOrderField::Floor => PremisesOrder::Floor,
        };
        let (rows, total) = registry
            .premises_list(
                uuid("organisationId", &organisation_id)?,
                filter,
                order,
                o.direction.into(),
                page,
            )
            .await?;
        Ok(connection(rows, total, page, Premises))
    }

    async fn account(&self, ctx: &Context<'_>, id: ID) -> Result<Account> {
        let registry = ctx.data::<Registry>()?;
        Ok(Account(registry.account(uuid("id", &id)?).await?))
    }

    async fn accounts(
        &self,
        ctx: &Context<'_>,
        organisation_id: ID,
        filter: Option<AccountFilterInput>,
        order_by: Option<AccountOrderBy>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<Account>> {
        let registry = ctx.data::<Registry>()?;
        let page = page(first, after)?;
        let f = filter.unwrap_or_default();
        let o = order_by.unwrap_or_default();
        let filter = AccountFilter {
            house_id: opt_uuid("filter.houseId", f.house_id.as_ref())?,
            premises_id: opt_uuid("filter.premisesId", f.premises_id.as_ref())?,
            holder_id: opt_uuid("filter.holderId", f.holder_id.as_ref())?,
            open: f.open,
            number_prefix: f.number_prefix,
        };
        let order = match o.field {
            AccountOrderField::Number => AccountOrder::Number,
            AccountOrderField::OpenedOn => AccountOrder::OpenedOn,
        };
        let (rows, total) = registry
            .accounts(
                uuid("organisationId", &organisation_id)?,
                filter,
                order,
                o.direction.into(),
                page,
            )
            .await?;
        Ok(connection(rows, total, page, Account))
    }

    async fn person(&self, ctx: &Context<'_>, id: ID) -> Result<Person> {
        let registry = ctx.data::<Registry>()?;
        Ok(Person(registry.person(uuid("id", &id)?).await?))
    }

    async fn people(
        &self,
        ctx: &Context<'_>,
        organisation_id: ID,
        filter: Option<PersonFilterInput>,
        order_by: Option<PersonOrderBy>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<Person>> {
        let registry = ctx.data::<Registry>()?;
        let page = page(first, after)?;
        let f = filter.unwrap_or_default();
        let o = order_by.unwrap_or_default();
        let order = match o.field {
            PersonOrderField::Name => PersonOrder::Name,
            PersonOrderField::CreatedAt => PersonOrder::CreatedAt,
        };
        let (rows, total) = registry
            .people(
                uuid("organisationId", &organisation_id)?,
                PersonFilter { name: f.name },
                order,
                o.direction.into(),
                page,
            )
            .await?;
        Ok(connection(rows, total, page, Person))
    }

    async fn meter(&self, ctx: &Context<'_>, id: ID) -> Result<Meter> {
        let registry = ctx.data::<Registry>()?;
        Ok(Meter(registry.meter(uuid("id", &id)?).await?))
    }

    async fn meters(
        &self,
        ctx: &Context<'_>,
        organisation_id: ID,
        filter: Option<MeterFilterInput>,
        order_by: Option<MeterOrderBy>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<Meter>> {
        let registry = ctx.data::<Registry>()?;
        let page = page(first, after)?;
        let f = filter.unwrap_or_default();
        let o = order_by.unwrap_or_default();
        let filter = MeterFilter {
            house_id: opt_uuid("filter.houseId", f.house_id.as_ref())?,
            premises_id: opt_uuid("filter.premisesId", f.premises_id.as_ref())?,
            common: f.common,
            resource: f.resource.map(Into::into),
            status: f.status.map(Into::into),
            verification_due_before: f.verification_due_before,
        };
        let order = match o.field {
            MeterOrderField::Serial => MeterOrder::Serial,
            MeterOrderField::VerificationDue => MeterOrder::VerificationDue,
        };
        let (rows, total) = registry
            .meters(
                uuid("organisationId", &organisation_id)?,
                filter,
                order,
                o.direction.into(),
                page,
            )
            .await?;
        Ok(connection(rows, total, page, Meter))
    }
}
