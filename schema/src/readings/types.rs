//! GraphQL types of readings.

use std::sync::Arc;

use async_graphql::{Object, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use super::service::{History, PeriodConsumption, ReadingView, Settings};
use crate::exact::from_micro;
use crate::mirror_enum;
use crate::registry::enums::Resource;
use crate::registry::types::Meter;

mirror_enum!(
    /// Where a reading came from.
    ReadingSource => entities::ReadingSource { Resident, Staff, Import, Automatic }
);
mirror_enum!(
    /// In force, or replaced by a staff correction.
    ReadingStatus => entities::ReadingStatus { Accepted, Superseded }
);

fn id(u: uuid::Uuid) -> ID {
    ID(u.to_string())
}

fn decimals(v: &[i64]) -> Vec<Decimal> {
    v.iter().map(|m| from_micro(*m)).collect()
}

/// One meter reading, with where it was taken and who gave it.
pub struct Reading(pub Arc<ReadingView>);

#[Object]
impl Reading {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// Photos of the meter sent with it.
    async fn photos(
        &self,
        ctx: &async_graphql::Context<'_>,
    ) -> async_graphql::Result<Vec<crate::files::types::Attachment>> {
        // Whoever sees the reading sees its photos (the attachments row too).
        crate::auth::author(ctx, "Query.attachments")?.check(crate::auth::Target::Meter {
            org: self.0.organisation_id,
            house: self.0.house_id,
            premises: self.0.premises_id,
        })?;
        let list = ctx
            .data::<async_graphql::dataloader::DataLoader<crate::registry::loaders::RegistryLoader>>()?
            .load_one(crate::registry::loaders::FilesOf("reading", self.0.id))
            .await?
            .unwrap_or_default();
        Ok(list
            .into_iter()
            .map(crate::files::types::Attachment)
            .collect())
    }
    async fn meter_id(&self) -> ID {
        id(self.0.meter_id)
    }
    async fn meter_serial(&self) -> &str {
        &self.0.meter_serial
    }
    async fn resource(&self) -> Resource {
        self.0.resource.into()
    }
    async fn unit(&self) -> &str {
        &self.0.unit
    }
    async fn house_id(&self) -> ID {
        id(self.0.house_id)
    }
    /// The house's address as printed on receipts.
    async fn address(&self) -> &str {
        &self.0.address
    }
    async fn premises_id(&self) -> Option<ID> {
        self.0.premises_id.map(id)
    }
    /// The flat or room number; none for a house-level meter.
    async fn premises_number(&self) -> Option<&str> {
        self.0.premises_number.as_deref()
    }
    async fn taken_on(&self) -> NaiveDate {
        self.0.taken_on
    }
    /// One value per zone, exact.
    async fn values(&self) -> Vec<Decimal> {
        decimals(&self.0.values)
    }
    /// Consumption per zone since the reading before (a rollover counted
    /// through the register's capacity).
    async fn consumption(&self) -> Option<Vec<Decimal>> {
        self.0.consumption.as_deref().map(decimals)
    }
    async fn source(&self) -> ReadingSource {
        self.0.source.into()
    }
    async fn author_name(&self) -> &str {
        &self.0.author_name
    }
    async fn status(&self) -> ReadingStatus {
        self.0.status.into()
    }
    /// Consumption far above the meter's own average: a staff member should look.
    async fn flagged(&self) -> bool {
        self.0.flagged
    }
    async fn flag_reason(&self) -> Option<&str> {
        self.0.flag_reason.as_deref()
    }
    /// Someone on the staff looked at the flagged reading.
    async fn reviewed_at(&self) -> Option<DateTime<Utc>> {
        self.0.reviewed_at
    }
    /// The register passed its capacity and started again from zero.
    async fn rollover(&self) -> bool {
        self.0.rollover
    }
    /// The reading this one corrects.
    async fn corrects(&self) -> Option<ID> {
        self.0.corrects.map(id)
    }
    /// A staff member's reason for a correction or a lower value.
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A reading as a live event: its number in the organisation's stream, to
/// resume from after a reconnect (`after`).
pub struct ReadingEvent {
    pub event_id: i64,
    pub committed_at: DateTime<Utc>,
    pub reading: Arc<ReadingView>,
}

#[Object]
impl ReadingEvent {
    /// Pass the last one you saw as `after` to get what you missed.
    async fn event_id(&self) -> i64 {
        self.event_id
    }
    async fn committed_at(&self) -> DateTime<Utc> {
        self.committed_at
    }
    async fn reading(&self) -> Reading {
        Reading(self.reading.clone())
    }
}

#[derive(SimpleObject)]
pub struct Consumption {
    /// A calendar month, YYYY-MM.
    pub period: String,
    /// Per zone, exact.
    pub consumption: Vec<Decimal>,
}

impl From<PeriodConsumption> for Consumption {
    fn from(p: PeriodConsumption) -> Self {
        Self {
            period: p.period,
            consumption: decimals(&p.consumption),
        }
    }
}

/// A meter's readings (oldest first) and its consumption per month.
pub struct MeterHistory(pub History);

#[Object]
impl MeterHistory {
    async fn meter(&self) -> Meter {
        Meter(self.0.meter.clone())
    }
    async fn readings(&self) -> Vec<Reading> {
        self.0
            .readings
            .iter()
            .cloned()
            .map(|r| Reading(Arc::new(r)))
            .collect()
    }
    async fn periods(&self) -> Vec<Consumption> {
        self.0.periods.iter().cloned().map(Into::into).collect()
    }
}

/// When residents may submit, and when a reading is flagged for review.
#[derive(SimpleObject)]
pub struct ReadingSettings {
    /// First day of the month residents may submit; none: any day.
    pub window_from: Option<i32>,
    pub window_to: Option<i32>,
    /// A reading is flagged when its daily consumption exceeds the meter's
    /// average by this factor (3 = three times).
    pub flag_factor: Decimal,
    /// How many earlier readings the average spans.
    pub average_readings: i32,
    /// The house has rules of its own (else the organisation's apply).
    pub house_overrides: bool,
}

impl From<Settings> for ReadingSettings {
    fn from(s: Settings) -> Self {
        Self {
            window_from: s.window_from,
            window_to: s.window_to,
            flag_factor: Decimal::new(i64::from(s.flag_factor_pct), 2).normalize(),
            average_readings: s.average_readings,
            house_overrides: s.house_overrides,
        }
    }
}
