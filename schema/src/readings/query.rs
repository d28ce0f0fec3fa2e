//! Reading queries: the feed, a meter's history, the rules.

use std::sync::Arc;

use async_graphql::{Context, InputObject, Object, Result, ID};
use chrono::NaiveDate;

use super::service::ReadingFilter;
use super::types::{MeterHistory, Reading, ReadingSettings};
use super::Readings;
use crate::auth::{principal, Target};
use crate::pagination::{connection, opt_uuid, page, uuid, Conn};
use crate::registry::access::{self, restrict, Rows};

#[derive(InputObject, Default)]
pub struct ReadingFilterInput {
    pub house_id: Option<ID>,
    pub premises_id: Option<ID>,
    pub meter_id: Option<ID>,
    /// The readings of the meters of an account's premises.
    pub account_id: Option<ID>,
    /// Only flagged readings nobody has reviewed yet.
    #[graphql(default)]
    pub to_review: bool,
}

#[derive(Default)]
pub struct ReadingsQuery;

#[Object]
impl ReadingsQuery {
    /// Readings of an organisation, newest first.
    async fn readings(
        &self,
        ctx: &Context<'_>,
        organisation_id: ID,
        filter: Option<ReadingFilterInput>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<Reading>> {
        let org = uuid("organisationId", &organisation_id)?;
        let restrict = restrict(principal(ctx)?.scope("Query.readings", org)?, Rows::Meters);
        let f = filter.unwrap_or_default();
        let filter = ReadingFilter {
            house_id: opt_uuid("filter.houseId", f.house_id.as_ref())?,
            premises_id: opt_uuid("filter.premisesId", f.premises_id.as_ref())?,
            meter_id: opt_uuid("filter.meterId", f.meter_id.as_ref())?,
            account_id: opt_uuid("filter.accountId", f.account_id.as_ref())?,
            to_review: f.to_review,
            restrict,
        };
        let page = page(first, after)?;
        let (rows, total) = ctx.data::<Readings>()?.list(org, filter, page).await?;
        Ok(connection(rows, total, page, |r| Reading(Arc::new(r))))
    }

    /// A meter's readings with consumption per reading and per month.
    async fn meter_history(
        &self,
        ctx: &Context<'_>,
        meter_id: ID,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<MeterHistory> {
        let p = principal(ctx)?;
        let readings = ctx.data::<Readings>()?;
        let meter = readings.meter(uuid("meterId", &meter_id)?).await?;
        p.check("Query.meterHistory", access::meter(&meter))?;
        Ok(MeterHistory(readings.history(meter, from, to).await?))
    }

    /// The reading rules in force for a house, or the organisation's own.
    async fn reading_settings(
        &self,
        ctx: &Context<'_>,
        organisation_id: ID,
        house_id: Option<ID>,
    ) -> Result<ReadingSettings> {
        let p = principal(ctx)?;
        let org = uuid("organisationId", &organisation_id)?;
        let house = opt_uuid("houseId", house_id.as_ref())?;
        let readings = ctx.data::<Readings>()?;
        match house {
            Some(h) => {
                let registry = ctx.data::<crate::registry::Registry>()?;
                let model = registry.house(h).await?;
                if model.organisation_id != org {
                    return Err(crate::error::AppError::not_found("house").into());
                }
                p.check("Query.readingSettings", access::house(&model))?;
            }
            None => p.check("Query.readingSettings", Target::Organisation(org))?,
        }
        Ok(readings.settings_for(org, house).await?.into())
    }
}
