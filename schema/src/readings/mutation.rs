//! Reading mutations: submit, correct, review, import, rules.

use std::sync::Arc;

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, Upload, ID};
use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::service::{SettingsPatch, Submission};
use super::types::{Reading, ReadingSettings, ReadingSource};
use super::Readings;
use crate::auth::author;
use crate::error::AppError;
use crate::pagination::{opt_uuid, uuid};
use crate::registry::mutation::{ImportRowError, InInput};

#[derive(InputObject)]
pub struct SubmitReadingInput {
    pub meter_id: ID,
    /// One value per zone (day, night, peak), as the register shows it.
    pub values: Vec<Decimal>,
    /// Staff only: the day the reading was taken (residents read today).
    pub taken_on: Option<NaiveDate>,
    /// Staff only: why a value is lower than the previous one.
    pub reason: Option<String>,
    /// Staff only: AUTOMATIC for a meter-reading system feeding readings in;
    /// STAFF otherwise (the default).
    pub source: Option<ReadingSource>,
}

#[derive(InputObject)]
pub struct CorrectReadingInput {
    /// The reading to correct.
    pub id: ID,
    pub values: Vec<Decimal>,
    pub reason: String,
}

#[derive(InputObject)]
pub struct SetReadingSettingsInput {
    pub organisation_id: ID,
    /// The house's own rules; the organisation's when left out.
    pub house_id: Option<ID>,
    /// First and last day of the month residents may submit; both or neither.
    pub window_from: Option<i32>,
    pub window_to: Option<i32>,
    /// Residents may submit on any day (clears the window).
    #[graphql(default)]
    pub any_day: bool,
    /// Flag a reading above this many times the meter's average, e.g. 3.
    pub flag_factor: Option<Decimal>,
    pub average_readings: Option<i32>,
}

#[derive(InputObject)]
pub struct ImportReadingsInput {
    pub organisation_id: ID,
    /// CSV: serial, date, value (or value1…value3), optional resource and reason.
    pub file: Upload,
}

#[derive(SimpleObject)]
pub struct ReadingPayload {
    pub reading: Reading,
}

#[derive(SimpleObject)]
pub struct ImportReadingsPayload {
    /// True when the file was imported; false when it had errors and nothing was written.
    pub ok: bool,
    pub lines: u64,
    pub imported: u64,
    /// Readings imported with a flag for review.
    pub flagged: u64,
    pub error_count: u64,
    /// Up to 1000 errors, by line.
    pub errors: Vec<ImportRowError>,
}

#[derive(Default)]
pub struct ReadingsMutation;

#[Object]
impl ReadingsMutation {
    /// A reading of one meter: residents for their own meters inside the
    /// submission window, staff for any meter they see.
    async fn submit_reading(
        &self,
        ctx: &Context<'_>,
        input: SubmitReadingInput,
    ) -> Result<ReadingPayload> {
        let by = author(ctx, "Mutation.submitReading")?;
        let meter_id = uuid("meterId", &input.meter_id).input()?;
        let view = (ctx
            .data::<Readings>()?
            .submit(
                &by,
                Submission {
                    meter_id,
                    taken_on: input.taken_on,
                    values: input.values,
                    reason: input.reason,
                    source: input.source.map(Into::into),
                },
            )
            .await)
            .input()?;
        Ok(ReadingPayload {
            reading: Reading(Arc::new(view)),
        })
    }

    /// Replaces a reading with corrected values; the old one stays, superseded.
    async fn correct_reading(
        &self,
        ctx: &Context<'_>,
        input: CorrectReadingInput,
    ) -> Result<ReadingPayload> {
        let by = author(ctx, "Mutation.correctReading")?;
        let id = uuid("id", &input.id).input()?;
        let view = (ctx
            .data::<Readings>()?
            .correct(&by, id, input.values, Some(input.reason))
            .await)
            .input()?;
        Ok(ReadingPayload {
            reading: Reading(Arc::new(view)),
        })
    }

    /// A staff member looked at a flagged reading: it leaves the review list.
    async fn review_reading(&self, ctx: &Context<'_>, id: ID) -> Result<ReadingPayload> {
        let by = author(ctx, "Mutation.reviewReading")?;
        let id = uuid("id", &id)?;
        let view = ctx.data::<Readings>()?.review(&by, id).await?;
        Ok(ReadingPayload {
            reading: Reading(Arc::new(view)),
        })
    }

    async fn set_reading_settings(
        &self,
        ctx: &Context<'_>,
        input: SetReadingSettingsInput,
    ) -> Result<ReadingSettings> {
        let by = author(ctx, "Mutation.setReadingSettings")?;
        let org = uuid("organisationId", &input.organisation_id).input()?;
        let house = opt_uuid("houseId", input.house_id.as_ref()).input()?;
        let window = match (input.any_day, input.window_from, input.window_to) {
            (true, _, _) => Some(None),
            (false, Some(f), Some(t)) => Some(Some((f, t))),
            (false, None, None) => None,
            (false, _, _) => {
                return Err(AppError::validation(
                    "input.windowTo",
                    "both_days",
                    "give the first and the last day",
                )
                .into())
            }
        };
        let flag_factor_pct = match input.flag_factor {
            Some(f) => {
                let pct = (f * Decimal::ONE_HUNDRED).round();
                Some(Some(i32::try_from(pct).map_err(|_| {
                    AppError::validation(
                        "input.flagFactor",
                        "out_of_range",
                        "between 1.1 and 100 times the average",
                    )
                })?))
            }
            None => None,
        };
        let patch = SettingsPatch {
            window,
            flag_factor_pct,
            average_readings: input.average_readings.map(Some),
        };
        let settings = (ctx
            .data::<Readings>()?
            .set_settings(&by, org, house, patch)
            .await)
            .input()?;
        Ok(settings.into())
    }

    /// Readings from a CSV file: all of them, or none and every reason why.
    async fn import_readings(
        &self,
        ctx: &Context<'_>,
        input: ImportReadingsInput,
    ) -> Result<ImportReadingsPayload> {
        let by = author(ctx, "Mutation.importReadings")?;
        let org = uuid("organisationId", &input.organisation_id).input()?;
        let upload = input
            .file
            .value(ctx)
            .map_err(|e| AppError::validation("input.file", "unreadable_upload", e.to_string()))?;
        let report = (ctx
            .data::<Readings>()?
            .import(&by, org, upload.content, &|_, _| {})
            .await)
            .input()?;
        Ok(ImportReadingsPayload {
            ok: report.errors.is_empty(),
            lines: report.lines,
            imported: report.imported,
            flagged: report.flagged,
            error_count: report.errors.len() as u64,
            errors: report
                .errors
                .into_iter()
                .take(1000)
                .map(|e| ImportRowError {
                    line: e.line,
                    column: e.column,
                    reason: e.reason.to_string(),
                    message: e.message,
                })
                .collect(),
        })
    }
}
