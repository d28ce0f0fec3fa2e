//! Registry mutations: each takes one `input` and returns a payload. Validation
//! errors name the field as `input.<field>`.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, Upload, ID};
use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::drafts::{
    AccountDraft, HouseDraft, MeterDraft, OccupancyDraft, OrganisationDraft, PersonDraft,
    PremisesDraft,
};
use super::enums::{Channel, MeterStatus, OccupancyRole, PremisesKind, Resource};
use super::import::ImportReport;
use super::types::{Account, House, Meter, Occupancy, Organisation, Person, Premises};
use super::Registry;
use crate::auth::author;
use crate::error::{AppError, AppResult};
use crate::pagination::{opt_uuid, uuid};

/// An input error, named by its path under `input`.
pub(crate) trait InInput<T> {
    fn input(self) -> Result<T>;
}

impl<T> InInput<T> for AppResult<T> {
    fn input(self) -> Result<T> {
        self.map_err(|e| e.in_field("input").into())
    }
}

#[derive(InputObject)]
pub struct CreateOrganisationInput {
    pub name: String,
    /// ISO 4217: RUB, BRL, EUR, …
    pub currency: String,
    /// en, ru or pt-BR.
    pub locale: String,
    /// IANA zone, e.g. Europe/Moscow or America/Sao_Paulo.
    pub time_zone: String,
    #[graphql(default)]
    pub legal_name: String,
    #[graphql(default)]
    pub tax_id: String,
    #[graphql(default)]
    pub bank_account: String,
    #[graphql(default)]
    pub bank_id: String,
    #[graphql(default)]
    pub bank_name: String,
}

#[derive(InputObject)]
pub struct UpdateOrganisationInput {
    pub id: ID,
    pub name: Option<String>,
    pub currency: Option<String>,
    pub locale: Option<String>,
    pub time_zone: Option<String>,
    pub legal_name: Option<String>,
    pub tax_id: Option<String>,
    pub bank_account: Option<String>,
    pub bank_id: Option<String>,
    pub bank_name: Option<String>,
}

#[derive(SimpleObject)]
pub struct OrganisationPayload {
    pub organisation: Organisation,
}

#[derive(InputObject)]
pub struct CreateHouseInput {
    pub organisation_id: ID,
    #[graphql(default)]
    pub country: String,
    #[graphql(default)]
    pub region: String,
    pub city: String,
    pub street: String,
    /// House number with its block or letter, e.g. `5 bl. 2`.
    pub building: String,
    #[graphql(default)]
    pub postal_code: String,
    /// One-line address for receipts; built from the parts when left out.
    #[graphql(default)]
    pub address: String,
    pub year_built: Option<i32>,
    pub floors: Option<i32>,
    pub entrances: Option<i32>,
    pub total_area: Option<Decimal>,
    pub common_area: Option<Decimal>,
    pub management_start: Option<NaiveDate>,
}

#[derive(InputObject)]
pub struct UpdateHouseInput {
    pub id: ID,
    pub country: Option<String>,
    pub region: Option<String>,
    pub city: Option<String>,
    pub street: Option<String>,
    pub building: Option<String>,
    pub postal_code: Option<String>,
    pub address: Option<String>,
    pub year_built: Option<i32>,
    pub floors: Option<i32>,
    pub entrances: Option<i32>,
    pub total_area: Option<Decimal>,
    pub common_area: Option<Decimal>,
    pub management_start: Option<NaiveDate>,
}

#[derive(InputObject)]
pub struct IdInput {
    pub id: ID,
}

#[derive(SimpleObject)]
pub struct HousePayload {
    pub house: House,
}

#[derive(InputObject)]
pub struct CreatePremisesInput {
    pub house_id: ID,
    pub number: String,
    #[graphql(default_with = "PremisesKind::Residential")]
    pub kind: PremisesKind,
    pub entrance: Option<i32>,
    pub floor: Option<i32>,
    /// m², up to 6 decimal places.
    pub area: Decimal,
    pub rooms: Option<i32>,
}

#[derive(InputObject)]
pub struct UpdatePremisesInput {
    pub id: ID,
    pub number: Option<String>,
    pub kind: Option<PremisesKind>,
    pub entrance: Option<i32>,
    pub floor: Option<i32>,
    pub area: Option<Decimal>,
    pub rooms: Option<i32>,
}

#[derive(SimpleObject)]
pub struct PremisesPayload {
    pub premises: Premises,
}

#[derive(InputObject)]
pub struct CreateAccountInput {
    pub premises_id: ID,
    pub number: String,
    pub holder_id: Option<ID>,
    /// Share of the premises billed on this account: `1`, `0.5`, `1/3`, `25%`.
    pub share: Option<String>,
    #[graphql(default)]
    pub registered_residents: i32,
    pub opened_on: NaiveDate,
    #[graphql(default)]
    pub privileged_categories: Vec<String>,
}

#[derive(InputObject)]
pub struct UpdateAccountInput {
    pub id: ID,
    pub number: Option<String>,
    pub holder_id: Option<ID>,
    pub share: Option<String>,
    pub registered_residents: Option<i32>,
    pub opened_on: Option<NaiveDate>,
    pub privileged_categories: Option<Vec<String>>,
}

#[derive(InputObject)]
pub struct CloseAccountInput {
    pub id: ID,
    pub closed_on: NaiveDate,
}

#[derive(SimpleObject)]
pub struct AccountPayload {
    pub account: Account,
}

#[derive(InputObject)]
pub struct CreatePersonInput {
    pub organisation_id: ID,
    pub full_name: String,
    #[graphql(default)]
    pub phones: Vec<String>,
    #[graphql(default)]
    pub emails: Vec<String>,
    #[graphql(default_with = "Channel::None")]
    pub preferred_channel: Channel,
    #[graphql(default)]
    pub consent_personal_data: bool,
    #[graphql(default)]
    pub consent_electronic_receipts: bool,
    #[graphql(default)]
    pub consent_marketing: bool,
}

#[derive(InputObject)]
pub struct UpdatePersonInput {
    pub id: ID,
    pub full_name: Option<String>,
    pub phones: Option<Vec<String>>,
    pub emails: Option<Vec<String>>,
    pub preferred_channel: Option<Channel>,
    pub consent_personal_data: Option<bool>,
    pub consent_electronic_receipts: Option<bool>,
    pub consent_marketing: Option<bool>,
}

#[derive(SimpleObject)]
pub struct PersonPayload {
    pub person: Person,
}

#[derive(InputObject)]
pub struct LinkPersonInput {
    pub premises_id: ID,
    pub person_id: ID,
    pub role: OccupancyRole,
    /// Owners only: `1`, `0.5`, `1/3`, `25%`; a whole by default.
    pub share: Option<String>,
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
}

#[derive(InputObject)]
pub struct EndOccupancyInput {
    pub id: ID,
    pub until: NaiveDate,
}

#[derive(SimpleObject)]
pub struct OccupancyPayload {
    pub occupancy: Occupancy,
}

#[derive(InputObject)]
pub struct CreateMeterInput {
    /// Premises the meter is in; leave out for a common (house-level) meter.
    pub premises_id: Option<ID>,
    /// Required for a common meter.
    pub house_id: Option<ID>,
    pub serial: String,
    pub resource: Resource,
    #[graphql(default = 1)]
    pub zones: i32,
    /// Defaults to m3, kWh or Gcal by resource.
    pub unit: Option<String>,
    pub installed_on: Option<NaiveDate>,
    pub verification_due: Option<NaiveDate>,
    /// One value per zone; zeros when left out.
    #[graphql(default)]
    pub initial_values: Vec<Decimal>,
    /// Whole digits of the register, 3 to 9: it rolls over to zero at 10^digits.
    pub digits: Option<i32>,
}

#[derive(InputObject)]
pub struct UpdateMeterInput {
    pub id: ID,
    pub serial: Option<String>,
    pub zones: Option<i32>,
    pub unit: Option<String>,
    pub installed_on: Option<NaiveDate>,
    pub verification_due: Option<NaiveDate>,
    pub initial_values: Option<Vec<Decimal>>,
    pub digits: Option<i32>,
}

#[derive(InputObject)]
pub struct SetMeterStatusInput {
    pub id: ID,
    pub status: MeterStatus,
}

#[derive(SimpleObject)]
pub struct MeterPayload {
    pub meter: Meter,
}

#[derive(InputObject)]
pub struct ImportRegistryInput {
    pub organisation_id: ID,
    /// A CSV file in the registry import format.
    pub file: Upload,
}

#[derive(SimpleObject)]
pub struct ImportCounts {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
}

#[derive(SimpleObject)]
pub struct ImportRowError {
    /// 1-based line of the file; 0 for the file as a whole.
    pub line: u64,
    /// The column name as in the header.
    pub column: String,
    /// A stable key the UI translates, e.g. `required`, `duplicate`.
    pub reason: String,
    pub message: String,
}

/// What an import did, or every reason it did nothing.
#[derive(SimpleObject)]
pub struct ImportRegistryPayload {
    /// True when the file was imported; false when it had errors and nothing was written.
    pub ok: bool,
    pub lines: u64,
    pub houses: ImportCounts,
    pub premises: ImportCounts,
    pub accounts: ImportCounts,
    pub people: ImportCounts,
    pub occupancies: ImportCounts,
    pub meters: ImportCounts,
    /// All errors, even beyond the ones listed.
    pub error_count: u64,
    /// Up to 1000 errors, by line.
    pub errors: Vec<ImportRowError>,
}

impl From<super::import::Counts> for ImportCounts {
    fn from(c: super::import::Counts) -> Self {
        Self {
            created: c.created,
            updated: c.updated,
            unchanged: c.unchanged,
        }
    }
}

impl From<ImportReport> for ImportRegistryPayload {
    fn from(r: ImportReport) -> Self {
        Self {
            ok: r.ok(),
            lines: r.lines,
            houses: r.houses.into(),
            premises: r.premises.into(),
            accounts: r.accounts.into(),
            people: r.people.into(),
            occupancies: r.occupancies.into(),
            meters: r.meters.into(),
            error_count: r.error_count,
            errors: r
                .errors
                .into_iter()
                .map(|e| ImportRowError {
                    line: e.line,
                    column: e.column,
                    reason: e.reason.to_string(),
                    message: e.message,
                })
                .collect(),
        }
    }
}

#[derive(Default)]
pub struct RegistryMutation;

#[Object]
impl RegistryMutation {
    async fn create_organisation(
        &self,
        ctx: &Context<'_>,
        input: CreateOrganisationInput,
    ) -> Result<OrganisationPayload> {
        let registry = ctx.data::<Registry>()?;
        let by = author(ctx, "Mutation.createOrganisation")?;
        let draft = OrganisationDraft {
            name: input.name,
            currency: input.currency,
            locale: input.locale,
            time_zone: input.time_zone,
            legal_name: input.legal_name,
            tax_id: input.tax_id,
            bank_account: input.bank_account,
            bank_id: input.bank_id,
            bank_name: input.bank_name,
        };
        let organisation = Organisation(registry.create_organisation(&by, draft).await.input()?);
        // Its creator is now its admin.
        ctx.data::<crate::auth::Auth>()?
            .access_changed(by.principal.user_id);
        Ok(OrganisationPayload { organisation })
    }

    async fn update_organisation(
        &self,
        ctx: &Context<'_>,
        input: UpdateOrganisationInput,
    ) -> Result<OrganisationPayload> {
        let registry = ctx.data::<Registry>()?;
        let by = author(ctx, "Mutation.updateOrganisation")?;
        let id = uuid("id", &input.id).input()?;
        let organisation = Organisation(
            registry
                .update_organisation(&by, id, move |d| {
                    set(&mut d.name, input.name);
                    set(&mut d.currency, input.currency);
                    set(&mut d.locale, input.locale);
                    set(&mut d.time_zone, input.time_zone);
                    set(&mut d.legal_name, input.legal_name);
                    set(&mut d.tax_id, input.tax_id);
                    set(&mut d.bank_account, input.bank_account);
                    set(&mut d.bank_id, input.bank_id);
                    set(&mut d.bank_name, input.bank_name);
                })
                .await
                .input()?,
        );
        Ok(OrganisationPayload { organisation })
    }

    async fn create_house(
        &self,
        ctx: &Context<'_>,
        input: CreateHouseInput,
    ) -> Result<HousePayload> {
        let registry = ctx.data::<Registry>()?;
        let by = author(ctx, "Mutation.createHouse")?;
        let org = uuid("organisationId", &input.organisation_id).input()?;
        let draft = HouseDraft {
            country: input.country,
            region: input.region,
            city: input.city,
            street: input.street,
            building: input.building,
            postal_code: input.postal_code,
            address: input.address,
            year_built: input.year_built,
            floors: input.floors,
            entrances: input.entrances,
            total_area: input.total_area,
            common_area: input.common_area,
            management_start: input.management_start,
        };
        let house = House(registry.create_house(&by, org, draft).await.input()?);
        Ok(HousePayload { house })
    }

    async fn update_house(
        &self,
        ctx: &Context<'_>,
        input: UpdateHouseInput,
    ) -> Result<HousePayload> {
        let registry = ctx.data::<Registry>()?;
        let by = author(ctx, "Mutation.updateHouse")?;
        let id = uuid("id", &input.id).input()?;
        let house = House(
            registry
                .update_house(&by, id, move |d| {
                    set(&mut d.country, input.country);
                    set(&mut d.region, input.region);
                    set(&mut d.city, input.city);
                    set(&mut d.street, input.street);
                    set(&mut d.building, input.building);
                    set(&mut d.postal_code, input.postal_code);
                    set(&mut d.address, input.address);
                    some(&mut d.year_built, input.year_built);
                    some(&mut d.floors, input.floors);
                    some(&mut d.entrances, input.entrances);
                    some(&mut d.total_area, input.total_area);
                    some(&mut d.common_area, input.common_area);
                    some(&mut d.management_start, input.management_start);
                })
                .await
                .input()?,
        );
        Ok(HousePayload { house })
    }

    /// Archives a house with no open accounts; it stays in history.
    async fn archive_house(&self, ctx: &Context<'_>, input: IdInput) -> Result<HousePayload> {
        let registry = ctx.data::<Registry>()?;
        let by = author(ctx, "Mutation.archiveHouse")?;
        let house = House(
            registry
                .archive_house(&by, uuid("id", &input.id).input()?)
                .await
                .input()?,
        );
        Ok(HousePayload { house })
    }

    async fn create_premises(
        &self,
        ctx: &Context<'_>,
        input: CreatePremisesInput,
    ) -> Result<PremisesPayload> {
        let registry = ctx.data::<Registry>()?;
        let by = author(ctx, "Mutation.createPremises")?;
        let house_id = uuid("houseId", &input.house_id).input()?;
        let draft = PremisesDraft {
            number: input.number,
            kind: input.kind.into(),
            entrance: input.entrance,
            floor: input.floor,
            area: input.area,
            rooms: input.rooms,
        };
        let premises = Premises(
            registry
                .create_premises(&by, house_id, draft)
                .await
                .input()?,
        );
        Ok(PremisesPayload { premises })
    }

    async fn update_premises(
        &self,
        ctx: &Context<'_>,
        input: UpdatePremisesInput,
    ) -> Result<PremisesPayload> {
        let registry = ctx.data::<Registry>()?;
        let by = author(ctx, "Mutation.updatePremises")?;
        let id = uuid("id", &input.id).input()?;
        let premises = Premises(
            registry
                .update_premises(&by, id, move |d| {
                    set(&mut d.number, input.number);
                    set(&mut d.kind, input.kind.map(Into::into));
                    some(&mut d.entrance, input.entrance);
                    some(&mut d.floor, input.floor);
                    set(&mut d.area, input.area);
                    some(&mut d.rooms, input.rooms);
                })
                .await
                .input()?,
        );
        Ok(PremisesPayload { premises })
    }

    /// Archives premises with no open accounts.
    async fn archive_premises(&self, ctx: &Context<'_>, input: IdInput) -> Result<PremisesPayload> {
        let registry = ctx.data::<Registry>()?;
        let by = author(ctx, "Mutation.archivePremises")?;
        let premises = Premises(
            registry
                .archive_premises(&by, uuid("id", &input.id).input()?)
                .await
                .input()?,
        );
        Ok(PremisesPayload { premises })
    }

    async fn create_account(
        &self,
        ctx: &Context<'_>,
        input: CreateAccountInput,
    ) -> Result<AccountPayload> {
        let registry = ctx.data::<Registry>()?;
        let by = author(ctx, "Mutation.createAccount")?;
        let premises_id = uuid("premisesId", &input.premises_id).input()?;
        let draft = AccountDraft {
            number: input.number,
            holder_id: opt_uuid("holderId", input.holder_id.as_ref()).input()?,
            share: input.share,
            registered_residents: input.registered_residents,
            opened_on: input.opened_on,
            closed_on: None,
            privileged_categories: input.privileged_categories,
        };
        let account = Account(
            registry
                .create_account(&by, premises_id, draft)
                .await
                .input()?,
        );
        Ok(AccountPayload { account })
    }

    async fn update_account(
        &self,
        ctx: &Context<'_>,
        input: UpdateAccountInput,
    ) -> Result<AccountPayload> {
        let registry = ctx.data::<Registry>()?;
        let by = author(ctx, "Mutation.updateAccount")?;
        let id = uuid("id", &input.id).input()?;
        let holder_id = opt_uuid("holderId", input.holder_id.as_ref()).input()?;
        let account = Account(
            registry
                .update_account(&by, id, move |d| {
                    set(&mut d.number, input.number);
                    if holder_id.is_some() {
                        d.holder_id = holder_id;
                    }
                    some(&mut d.share, input.share);
                    set(&mut d.registered_residents, input.registered_residents);
                    set(&mut d.opened_on, input.opened_on);
                    set(&mut d.privileged_categories, input.privileged_categories);
                })
                .await
                .input()?,
        );
        Ok(AccountPayload { account })
    }

    async fn close_account(
        &self,
        ctx: &Context<'_>,
        input: CloseAccountInput,
    ) -> Result<AccountPayload> {
        let registry = ctx.data::<Registry>()?;
        let by = author(ctx, "Mutation.closeAccount")?;
        let id = uuid("id", &input.id).input()?;
        let account = Account(
            registry
                .close_account(&by, id, input.closed_on)
                .await
                .input()?,
        );
        Ok(AccountPayload { account })
    }

    async fn create_person(
        &self,
        ctx: &Context<'_>,
        input: CreatePersonInput,
    ) -> Result<PersonPayload> {
        let registry = ctx.data::<Registry>()?;
        let by = author(ctx, "Mutation.createPerson")?;
        let org = uuid("organisationId", &input.organisation_id).input()?;
        let draft = PersonDraft {
            full_name: input.full_name,
            phones: input.phones,
            emails: input.emails,
            preferred_channel: input.preferred_channel.into(),
            consent_personal_data: input.consent_personal_data,
            consent_electronic_receipts: input.consent_electronic_receipts,
            consent_marketing: input.consent_marketing,
        };
        let person = Person(registry.create_person(&by, org, draft).await.input()?);
        Ok(PersonPayload { person })
    }

    async fn update_person(
        &self,
        ctx: &Context<'_>,
        input: UpdatePersonInput,
    ) -> Result<PersonPayload> {
        let registry = ctx.data::<Registry>()?;
        let by = author(ctx, "Mutation.updatePerson")?;
        let id = uuid("id", &input.id).input()?;
        let person = Person(
            registry
                .update_person(&by, id, move |d| {
                    set(&mut d.full_name, input.full_name);
                    set(&mut d.phones, input.phones);
                    set(&mut d.emails, input.emails);
                    set(
                        &mut d.preferred_channel,
                        input.preferred_channel.map(Into::into),
                    );
                    set(&mut d.consent_personal_data, input.consent_personal_data);
                    set(
                        &mut d.consent_electronic_receipts,
                        input.consent_electronic_receipts,
                    );
                    set(&mut d.consent_marketing, input.consent_marketing);
                })
                .await
                .input()?,
        );
        Ok(PersonPayload { person })
    }

    /// Links a person to premises as owner (with a share) or tenant.
    async fn link_person_to_premises(
        &self,
        ctx: &Context<'_>,
        input: LinkPersonInput,
    ) -> Result<OccupancyPayload> {
        let registry = ctx.data::<Registry>()?;
        let by = author(ctx, "Mutation.linkPersonToPremises")?;
        let premises_id = uuid("premisesId", &input.premises_id).input()?;
        let person_id = uuid("personId", &input.person_id).input()?;
        let draft = OccupancyDraft {
            role: input.role.into(),
            share: input.share,
            since: input.since,
            until: input.until,
        };
        let occupancy = Occupancy(
            registry
                .link_person(&by, premises_id, person_id, draft)
                .await
                .input()?,
        );
        Ok(OccupancyPayload { occupancy })
    }

    /// Ends an ownership or tenancy on a date; the history stays.
    async fn end_occupancy(
        &self,
        ctx: &Context<'_>,
        input: EndOccupancyInput,
    ) -> Result<OccupancyPayload> {
        let registry = ctx.data::<Registry>()?;
        let by = author(ctx, "Mutation.endOccupancy")?;
        let id = uuid("id", &input.id).input()?;
        let occupancy = Occupancy(registry.end_occupancy(&by, id, input.until).await.input()?);
        Ok(OccupancyPayload { occupancy })
    }

    async fn create_meter(
        &self,
        ctx: &Context<'_>,
        input: CreateMeterInput,
    ) -> Result<MeterPayload> {
        let registry = ctx.data::<Registry>()?;
        let by = author(ctx, "Mutation.createMeter")?;
        let house_id = opt_uuid("houseId", input.house_id.as_ref()).input()?;
        let premises_id = opt_uuid("premisesId", input.premises_id.as_ref()).input()?;
        let draft = MeterDraft {
            serial: input.serial,
            resource: input.resource.into(),
            zones: input.zones,
            unit: input.unit,
            installed_on: input.installed_on,
            verification_due: input.verification_due,
            initial_values: input.initial_values,
            status: entities::MeterStatus::Active,
            digits: input.digits,
        };
        let meter = Meter(
            registry
                .create_meter(&by, house_id, premises_id, draft)
                .await
                .input()?,
        );
        Ok(MeterPayload { meter })
    }

    async fn update_meter(
        &self,
        ctx: &Context<'_>,
        input: UpdateMeterInput,
    ) -> Result<MeterPayload> {
        let registry = ctx.data::<Registry>()?;
        let by = author(ctx, "Mutation.updateMeter")?;
        let id = uuid("id", &input.id).input()?;
        let meter = Meter(
            registry
                .update_meter(&by, id, move |d| {
                    set(&mut d.serial, input.serial);
                    set(&mut d.zones, input.zones);
                    some(&mut d.unit, input.unit);
                    some(&mut d.installed_on, input.installed_on);
                    some(&mut d.verification_due, input.verification_due);
                    set(&mut d.initial_values, input.initial_values);
                    some(&mut d.digits, input.digits);
                })
                .await
                .input()?,
        );
        Ok(MeterPayload { meter })
    }

    /// Marks a meter failed, back in service, or archived (final).
    async fn set_meter_status(
        &self,
        ctx: &Context<'_>,
        input: SetMeterStatusInput,
    ) -> Result<MeterPayload> {
        let registry = ctx.data::<Registry>()?;
        let by = author(ctx, "Mutation.setMeterStatus")?;
        let id = uuid("id", &input.id).input()?;
        let meter = Meter(
            registry
                .set_meter_status(&by, id, input.status.into())
                .await
                .input()?,
        );
        Ok(MeterPayload { meter })
    }

    /// Imports premises, accounts, people and meters from a CSV file (multipart
    /// upload). All or nothing: with any error nothing is written.
    async fn import_registry(
        &self,
        ctx: &Context<'_>,
        input: ImportRegistryInput,
    ) -> Result<ImportRegistryPayload> {
        let registry = ctx.data::<Registry>()?;
        let by = author(ctx, "Mutation.importRegistry")?;
        let org = uuid("organisationId", &input.organisation_id).input()?;
        let upload = input
            .file
            .value(ctx)
            .map_err(|e| AppError::validation("input.file", "unreadable_upload", e.to_string()))?;
        let report = registry
            .import_registry(&by, org, upload.content, &|_| {})
            .await
            .input()?;
        Ok(report.into())
    }
}

fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *slot = v;
    }
}

fn some<T>(slot: &mut Option<T>, value: Option<T>) {
    if value.is_some() {
        *slot = value;
    }
}
