//! Registry queries. Each asks the policy: an object the caller may not see is
//! NOT_FOUND; a list returns only the rows the caller may see.

use async_graphql::{Context, InputObject, Object, Result, ID};
use chrono::NaiveDate;

use super::access::{self, restrict, Rows};
use super::enums::{HouseStatus, MeterStatus, PremisesKind, RecordStatus, Resource, SortDirection};
use super::service::{
    AccountFilter, AccountOrder, HouseFilter, HouseOrder, MeterFilter, MeterOrder, PersonFilter,
    PersonOrder, PremisesFilter, PremisesOrder,
};
use super::types::{Account, House, Meter, Organisation, Person, Premises};
use super::Registry;
use crate::auth::{principal, Target};
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
        let p = principal(ctx)?;
        let registry = ctx.data::<Registry>()?;
        let id = uuid("id", &id)?;
        p.check("Query.organisation", Target::Organisation(id))?;
        Ok(Organisation(registry.organisation(id).await?))
    }

    async fn organisations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<Organisation>> {
        let p = principal(ctx)?;
        let registry = ctx.data::<Registry>()?;
        let page = page(first, after)?;
        let mine: Vec<uuid::Uuid> = p
            .organisations()
            .into_iter()
            .filter(|org| p.scope("Query.organisations", *org).is_ok())
            .collect();
        let (rows, total) = registry.organisations(Some(mine), page).await?;
        Ok(connection(rows, total, page, Organisation))
    }

    async fn house(&self, ctx: &Context<'_>, id: ID) -> Result<House> {
        let p = principal(ctx)?;
        let registry = ctx.data::<Registry>()?;
        let house = registry.house(uuid("id", &id)?).await?;
        p.check("Query.house", access::house(&house))?;
        Ok(House(house))
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
        let org = uuid("organisationId", &organisation_id)?;
        let restrict = restrict(principal(ctx)?.scope("Query.houses", org)?, Rows::Houses);
        let registry = ctx.data::<Registry>()?;
        let page = page(first, after)?;
        let f = filter.unwrap_or_default();
        let o = order_by.unwrap_or_default();
        let filter = HouseFilter {
            status: f.status.map(Into::into),
            address: f.address,
            restrict,
        };
        let order = match o.field {
            HouseOrderField::Address => HouseOrder::Address,
            HouseOrderField::CreatedAt => HouseOrder::CreatedAt,
        };
        let (rows, total) = registry
            .houses(org, filter, order, o.direction.into(), page)
            .await?;
        Ok(connection(rows, total, page, House))
    }

    async fn premises(&self, ctx: &Context<'_>, id: ID) -> Result<Premises> {
        let p = principal(ctx)?;
        let registry = ctx.data::<Registry>()?;
        let premises = registry.premises(uuid("id", &id)?).await?;
        p.check("Query.premises", access::premises(&premises))?;
        Ok(Premises(premises))
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
        let org = uuid("organisationId", &organisation_id)?;
        let restrict = restrict(
            principal(ctx)?.scope("Query.premisesList", org)?,
            Rows::Premises,
        );
        let registry = ctx.data::<Registry>()?;
        let page = page(first, after)?;
        let f = filter.unwrap_or_default();
        let o = order_by.unwrap_or_default();
        let filter = PremisesFilter {
            house_id: opt_uuid("filter.houseId", f.house_id.as_ref())?,
            kind: f.kind.map(Into::into),
            status: f.status.map(Into::into),
            number: f.number,
            restrict,
        };
        let order = match o.field {
            PremisesOrderField::Number => PremisesOrder::Number,
            PremisesOrderField::Area => PremisesOrder::Area,
            PremisesOrderField::Floor => PremisesOrder::Floor,
        };
        let (rows, total) = registry
            .premises_list(org, filter, order, o.direction.into(), page)
            .await?;
        Ok(connection(rows, total, page, Premises))
    }

    async fn account(&self, ctx: &Context<'_>, id: ID) -> Result<Account> {
        let p = principal(ctx)?;
        let registry = ctx.data::<Registry>()?;
        let account = registry.account(uuid("id", &id)?).await?;
        p.check("Query.account", access::account(&account))?;
        Ok(Account(account))
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
        let org = uuid("organisationId", &organisation_id)?;
        let restrict = restrict(
            principal(ctx)?.scope("Query.accounts", org)?,
            Rows::Accounts,
        );
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
            restrict,
        };
        let order = match o.field {
            AccountOrderField::Number => AccountOrder::Number,
            AccountOrderField::OpenedOn => AccountOrder::OpenedOn,
        };
        let (rows, total) = registry
            .accounts(org, filter, order, o.direction.into(), page)
            .await?;
        Ok(connection(rows, total, page, Account))
    }

    async fn person(&self, ctx: &Context<'_>, id: ID) -> Result<Person> {
        let p = principal(ctx)?;
        let registry = ctx.data::<Registry>()?;
        let person = registry.person(uuid("id", &id)?).await?;
        access::check_person(registry, &p, "Query.person", &person).await?;
        Ok(Person(person))
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
        let org = uuid("organisationId", &organisation_id)?;
        let restrict = restrict(principal(ctx)?.scope("Query.people", org)?, Rows::People);
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
                org,
                PersonFilter {
                    name: f.name,
                    restrict,
                },
                order,
                o.direction.into(),
                page,
            )
            .await?;
        Ok(connection(rows, total, page, Person))
    }

    async fn meter(&self, ctx: &Context<'_>, id: ID) -> Result<Meter> {
        let p = principal(ctx)?;
        let registry = ctx.data::<Registry>()?;
        let meter = registry.meter(uuid("id", &id)?).await?;
        p.check("Query.meter", access::meter(&meter))?;
        Ok(Meter(meter))
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
        let org = uuid("organisationId", &organisation_id)?;
        let restrict = restrict(principal(ctx)?.scope("Query.meters", org)?, Rows::Meters);
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
            restrict,
        };
        let order = match o.field {
            MeterOrderField::Serial => MeterOrder::Serial,
            MeterOrderField::VerificationDue => MeterOrder::VerificationDue,
        };
        let (rows, total) = registry
            .meters(org, filter, order, o.direction.into(), page)
            .await?;
        Ok(connection(rows, total, page, Meter))
    }
}
