//! Readings from a CSV file, all or nothing.
//!
//! A header names the columns: `serial` (the meter's), `date` (YYYY-MM-DD or
//! DD.MM.YYYY), `value` or `value1`…`value3` (one per zone), and optionally
//! `resource` (when two meters share a serial) and `reason` (a value below the
//! previous one). The separator is `;` or `,`; with `;` a decimal comma is
//! accepted. Every row is checked with the staff rules; one bad row and nothing
//! is written, and the report lists every bad row.

use std::collections::HashMap;
use std::str::FromStr;

use chrono::NaiveDate;
use entities::{meter, Resource};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::service::{Readings, Submission};
use crate::audit::Author;
use crate::auth::Target;
use crate::error::{AppError, AppResult, RowError};

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub lines: u64,
    pub imported: u64,
    pub flagged: u64,
    /// Every bad row; when not empty, nothing was written.
    pub errors: Vec<RowError>,
}

/// The file's column for an error in a reading's field.
pub fn column_of(field: &str) -> String {
    match field {
        "meterId" => "serial".into(),
        "takenOn" => "date".into(),
        f if f.starts_with("values[") => {
            let i: usize = f[7..f.len() - 1].parse().unwrap_or(0);
            format!("value{}", i + 1)
        }
        "values" => "value1".into(),
        other => other.to_string(),
    }
}

struct Row {
    line: u64,
    serial: String,
    resource: Option<Resource>,
    date: NaiveDate,
    values: Vec<Decimal>,
    reason: Option<String>,
}

fn parse_resource(text: &str) -> Option<Resource> {
    Some(
        match text.trim().to_lowercase().replace([' ', '-'], "_").as_str() {
            "cold_water" | "cw" | "хвс" => Resource::ColdWater,
            "hot_water" | "hw" | "гвс" => Resource::HotWater,
            "electricity" | "el" | "электроэнергия" => Resource::Electricity,
            "heat" | "тепло" => Resource::Heat,
            "gas" | "газ" => Resource::Gas,
            _ => return None,
        },
    )
}

fn parse_date(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(t, "%d.%m.%Y"))
        .or_else(|_| NaiveDate::parse_from_str(t, "%d/%m/%Y"))
        .ok()
}

fn parse_rows(content: &[u8], errors: &mut Vec<RowError>) -> Vec<Row> {
    let content = content.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(content);
    let first_line = content.split(|b| *b == b'\n').next().unwrap_or_default();
    let separator = if first_line.contains(&b';') {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(separator)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(content);
    let bad = |line: u64, column: &str, reason: &'static str, message: String| RowError {
        line,
        column: column.to_string(),
        reason,
        message,
    };
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.trim().to_lowercase()).collect(),
        Err(e) => {
            errors.push(bad(
                1,
                "",
                "unreadable_file",
                format!("the file cannot be read as CSV: {e}"),
            ));
            return vec![];
        }
    };
    let index = |name: &str| headers.iter().position(|h| h == name);
    let serial_col = index("serial");
    let date_col = index("date");
    let value_cols: Vec<usize> = if let Some(v) = index("value") {
        vec![v]
    } else {
        ["value1", "value2", "value3"]
            .iter()
            .filter_map(|n| index(n))
            .collect()
    };
    for (name, found) in [
        ("serial", serial_col.is_some()),
        ("date", date_col.is_some()),
        ("value1", !value_cols.is_empty()),
    ] {
        if !found {
            errors.push(bad(
                1,
                name,
                "missing_column",
                format!("the header has no `{name}` column"),
            ));
        }
    }
    if !errors.is_empty() {
        return vec![];
    }
    let (resource_col, reason_col) = (index("resource"), index("reason"));
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i as u64 + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(bad(line, "", "unreadable_row", e.to_string()));
                continue;
            }
        };
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let cell = |c: Option<usize>| {
            c.and_then(|c| record.get(c))
                .unwrap_or("")
                .trim()
                .to_string()
        };
        let serial = cell(serial_col);
        if serial.is_empty() {
            errors.push(bad(
                line,
                "serial",
                "required",
                "the meter's serial number is missing".into(),
            ));
        }
        let resource = match cell(resource_col) {
            r if r.is_empty() => None,
            r => match parse_resource(&r) {
                Some(r) => Some(r),
                None => {
                    errors.push(bad(line, "resource", "unknown_resource", format!("'{r}' is not a resource (cold_water, hot_water, electricity, heat, gas)")));
                    None
                }
            },
        };
        let date = parse_date(&cell(date_col));
        if date.is_none() {
            errors.push(bad(
                line,
                "date",
                "invalid_date",
                format!("'{}' is not a date (YYYY-MM-DD)", cell(date_col)),
            ));
        }
        let mut values = Vec::new();
        for (z, c) in value_cols.iter().enumerate() {
            let text = cell(Some(*c));
            if text.is_empty() {
                if z == 0 {
                    errors.push(bad(
                        line,
                        "value1",
                        "required",
                        "the value is missing".into(),
                    ));
                }
                continue;
            }
            let normal = if separator == b';' {
                text.replace(',', ".")
            } else {
                text.clone()
            };
            match Decimal::from_str(&normal) {
                Ok(v) => values.push(v),
                Err(_) => errors.push(bad(
                    line,
                    &format!("value{}", z + 1),
                    "not_a_number",
                    format!("'{text}' is not a number"),
                )),
            }
        }
        let reason = Some(cell(reason_col)).filter(|r| !r.is_empty());
        if let Some(date) = date {
            rows.push(Row {
                line,
                serial,
                resource,
                date,
                values,
                reason,
            });
        }
    }
    rows
}

impl Readings {
    /// Imports `content` into organisation `org`; `progress` hears the rows done.
    pub async fn import(
        &self,
        by: &Author,
        org: Uuid,
        content: impl std::io::Read,
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> AppResult<ImportReport> {
        by.check(Target::WholeOrganisation(org))?;
        let mut bytes = Vec::new();
        let mut content = content;
        content
            .read_to_end(&mut bytes)
            .map_err(|e| AppError::validation("file", "unreadable_upload", e.to_string()))?;
        let mut errors = Vec::new();
        let mut rows = parse_rows(&bytes, &mut errors);
        let lines = rows.len() as u64 + errors.iter().filter(|e| e.line > 1).count() as u64;
        // Meters by serial (and resource).
        let mut keys: Vec<String> = rows
            .iter()
            .map(|r| crate::search::index::code_key(&r.serial))
            .collect();
        keys.sort();
        keys.dedup();
        let mut meters: HashMap<String, Vec<meter::Model>> = HashMap::new();
        for chunk in keys.chunks(500) {
            for m in meter::Entity::find()
                .filter(meter::Column::OrganisationId.eq(org))
                .filter(meter::Column::SerialKey.is_in(chunk.to_vec()))
                .all(self.db())
                .await?
            {
                meters.entry(m.serial_key.clone()).or_default().push(m);
            }
        }
        rows.sort_by_key(|r| (r.date, r.line));
        let mut submissions = Vec::with_capacity(rows.len());
        for r in rows {
            let found: Vec<&meter::Model> = meters
                .get(&crate::search::index::code_key(&r.serial))
                .map(|ms| {
                    ms.iter()
                        .filter(|m| r.resource.is_none_or(|res| m.resource == res))
                        .collect()
                })
                .unwrap_or_default();
            match found.as_slice() {
                [m] => submissions.push((
                    r.line,
                    Submission {
                        source: None,
                        meter_id: m.id,
                        taken_on: Some(r.date),
                        values: r.values,
                        reason: r.reason,
                    },
                )),
                [] => errors.push(RowError {
                    line: r.line,
                    column: "serial".into(),
                    reason: "unknown_meter",
                    message: format!("no meter {} in this organisation", r.serial),
                }),
                _ => errors.push(RowError {
                    line: r.line,
                    column: "resource".into(),
                    reason: "ambiguous_meter",
                    message: format!(
                        "several meters have the serial {}; add the resource column",
                        r.serial
                    ),
                }),
            }
        }
        if !errors.is_empty() {
            errors.sort_by_key(|e| e.line);
            return Ok(ImportReport {
                lines,
                errors,
                ..ImportReport::default()
            });
        }
        let total = submissions.len() as u64;
        let txn = crate::tx::begin_write(self.db()).await?;
        let (views, events, mut errors) = self
            .write_many(&txn, by, submissions, &|n| progress(n, total))
            .await?;
        if !errors.is_empty() {
            txn.rollback().await?;
            errors.sort_by_key(|e| e.line);
            return Ok(ImportReport {
                lines,
                errors,
                ..ImportReport::default()
            });
        }
        txn.commit().await?;
        self.events().committed(events);
        Ok(ImportReport {
            lines,
            imported: views.len() as u64,
            flagged: views.iter().filter(|v| v.flagged).count() as u64,
            errors: vec![],
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_semicolon_file_with_decimal_commas_and_a_bom_parses() {
        let mut errors = vec![];
        let rows = parse_rows(
            "\u{feff}serial;date;value1;value2\nEL-1;15.11.2026;1234,5;567,25\n".as_bytes(),
            &mut errors,
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(rows.len(), 1);
        assert_eq!(
            rows[0].values,
            vec![
                Decimal::from_str("1234.5").unwrap(),
                Decimal::from_str("567.25").unwrap()
            ]
        );
        assert_eq!(rows[0].date, NaiveDate::from_ymd_opt(2026, 11, 15).unwrap());
    }

    #[test]
    fn every_bad_cell_is_reported_with_its_line_and_column() {
        let mut errors = vec![];
        parse_rows(
            b"serial,date,value\nCW-1,yesterday,12\n,2026-11-15,abc\n",
            &mut errors,
        );
        let found: Vec<(u64, &str, &str)> = errors
            .iter()
            .map(|e| (e.line, e.column.as_str(), e.reason))
            .collect();
        assert_eq!(
            found,
            vec![
                (2, "date", "invalid_date"),
                (3, "serial", "required"),
                (3, "value1", "not_a_number")
            ]
        );
        let mut errors = vec![];
        parse_rows(b"meter,when\n", &mut errors);
        assert_eq!(errors.len(), 3);
    }
}
