//! The debtors report: accounts that owe, by the size and the age of their
//! debt, from the ledger; and its exports (CSV, XLSX) in the organisation's
//! language.
//!
//! A debt's age is counted from its receipt's due date: the days from the day
//! after it to the report's day. Debts not yet due count in 0–30 days, so the
//! three columns add up to what the account owes.

use std::collections::HashMap;

use chrono::NaiveDate;
use entities::{account, house, organisation, payment, person, premises};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::service::Payments;
use crate::audit::Author;
use crate::auth::ListScope;
use crate::bulk::{fetch_all, Cell};
use crate::error::{AppError, AppResult};

/// One account that owes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Debtor {
    pub account_id: Uuid,
    pub number: String,
    pub house_id: Uuid,
    pub address: String,
    pub premises: String,
    pub holder: Option<String>,
    pub total_minor: i64,
    /// Owed 0–30, 31–90 and over 90 days after the due date.
    pub aged_minor: [i64; 3],
    /// The oldest period still owed.
    pub oldest_period: String,
    /// Days since the oldest debt fell due (0 when not yet).
    pub days_overdue: i64,
    pub last_paid_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub as_of: NaiveDate,
    /// Every debtor, by debt, largest first.
    pub debtors: Vec<Debtor>,
    pub total_minor: i64,
    pub aged_minor: [i64; 3],
}

/// The column a debt of `days` overdue goes in.
pub fn bucket(days: i64) -> usize {
    match days {
        d if d <= 30 => 0,
        d if d <= 90 => 1,
        _ => 2,
    }
}

type Row = (Uuid, String, i64, Option<NaiveDate>);

impl Payments {
    /// The debtors of `org` (of one house when given) on `as_of` (today in
    /// the organisation's time zone when absent), owing at least `min_minor`.
    pub async fn debtors(
        &self,
        by: &Author,
        org: Uuid,
        house_id: Option<Uuid>,
        as_of: Option<NaiveDate>,
        min_minor: i64,
    ) -> AppResult<(organisation::Model, Report)> {
        let houses = match by.principal.scope(by.operation, org)? {
            ListScope::All => None,
            ListScope::Houses(h) => {
                if house_id.is_some_and(|x| !h.contains(&x)) {
                    return Err(AppError::not_found("house"));
                }
                Some(h)
            }
            ListScope::Own(_) => {
                return Err(AppError::Forbidden {
                    operation: by.operation.into(),
                })
            }
        };
        let o = organisation::Entity::find_by_id(org)
            .one(&self.db)
            .await?
            .ok_or_else(|| AppError::not_found("organisation"))?;
        let as_of =
            as_of.unwrap_or_else(|| crate::readings::today_in(&o.time_zone, self.clock.now()));
        let mut sql = String::from(
            "SELECT d.account_id, d.debt_period, CAST(SUM(d.amount) AS BIGINT), MIN(r.due_date) FROM \
             (SELECT account_id, debt_period, service_id, SUM(amount_minor) AS amount FROM ledger_entries \
              WHERE organisation_id = ? AND debt_period IS NOT NULL",
        );
        let mut cells = vec![Cell::Uuid(Some(org))];
        if let Some(h) = house_id {
            sql.push_str(" AND house_id = ?");
            cells.push(Cell::Uuid(Some(h)));
        }
        sql.push_str(
            " GROUP BY account_id, debt_period, service_id HAVING SUM(amount_minor) > 0) d \
             LEFT JOIN receipts r ON r.organisation_id = ? AND r.period = d.debt_period AND r.account_id = d.account_id \
             GROUP BY d.account_id, d.debt_period",
        );
        cells.push(Cell::Uuid(Some(org)));
        let rows: Vec<Row> = fetch_all(&self.db, &sql, cells).await?;
        let mut owed: HashMap<Uuid, (i64, [i64; 3], String, i64)> = HashMap::new();
        for (account, period, amount, due) in rows {
            let due = due.or_else(|| period_end(&period)).unwrap_or(as_of);
            let days = (as_of - due).num_days().max(0);
            let e = owed
                .entry(account)
                .or_insert((0, [0; 3], period.clone(), days));
            e.0 += amount;
            e.1[bucket(days)] += amount;
            if period < e.2 {
                e.2 = period;
            }
            e.3 = e.3.max(days);
        }
        owed.retain(|_, (total, ..)| *total >= min_minor.max(1));
        let ids: Vec<Uuid> = owed.keys().copied().collect();
        let mut accounts: Vec<account::Model> = Vec::with_capacity(ids.len());
        let mut last_paid: HashMap<Uuid, NaiveDate> = HashMap::new();
        for chunk in ids.chunks(1000) {
            accounts.extend(
                account::Entity::find()
                    .filter(account::Column::OrganisationId.eq(org))
                    .filter(account::Column::Id.is_in(chunk.to_vec()))
                    .all(&self.db)
                    .await?,
            );
            let paid: Vec<(Uuid, Option<NaiveDate>)> = payment::Entity::find()
                .select_only()
                .column(payment::Column::AccountId)
                .column_as(payment::Column::PaidOn.max(), "last")
                .filter(payment::Column::OrganisationId.eq(org))
                .filter(payment::Column::AccountId.is_in(chunk.to_vec()))
                .group_by(payment::Column::AccountId)
                .into_tuple()
                .all(&self.db)
                .await?;
            last_paid.extend(paid.into_iter().filter_map(|(a, d)| d.map(|d| (a, d))));
        }
        if let Some(h) = &houses {
            accounts.retain(|a| h.contains(&a.house_id));
        }
        let names = self.places(org, &accounts).await?;
        let mut report = Report {
            as_of,
            ..Report::default()
        };
        for a in accounts {
            let Some((total, aged, oldest, days)) = owed.remove(&a.id) else {
                continue;
            };
            let (address, premises, holder) = names(&a);
            report.total_minor += total;
            for (sum, part) in report.aged_minor.iter_mut().zip(aged) {
                *sum += part;
            }
            report.debtors.push(Debtor {
                account_id: a.id,
                number: a.number.clone(),
                house_id: a.house_id,
                address,
                premises,
                holder,
                total_minor: total,
                aged_minor: aged,
                oldest_period: oldest,
                days_overdue: days,
                last_paid_on: last_paid.get(&a.id).copied(),
            });
        }
        report.debtors.sort_by(|x, y| {
            y.total_minor
                .cmp(&x.total_minor)
                .then_with(|| x.number.cmp(&y.number))
        });
        Ok((o, report))
    }

    /// The address, premises number and holder's name of accounts.
    async fn places(
        &self,
        org: Uuid,
        accounts: &[account::Model],
    ) -> AppResult<impl Fn(&account::Model) -> (String, String, Option<String>)> {
        let houses: HashMap<Uuid, house::Model> = house::Entity::find()
            .filter(house::Column::OrganisationId.eq(org))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|h| (h.id, h))
            .collect();
        let mut rooms: HashMap<Uuid, String> = HashMap::new();
        let mut holders: HashMap<Uuid, String> = HashMap::new();
        let premises_ids: Vec<Uuid> = accounts.iter().map(|a| a.premises_id).collect();
        let holder_ids: Vec<Uuid> = accounts.iter().filter_map(|a| a.holder_id).collect();
        for chunk in premises_ids.chunks(1000) {
            for p in premises::Entity::find()
                .filter(premises::Column::OrganisationId.eq(org))
                .filter(premises::Column::Id.is_in(chunk.to_vec()))
                .all(&self.db)
                .await?
            {
                rooms.insert(p.id, p.number);
            }
        }
        for chunk in holder_ids.chunks(1000) {
            for p in person::Entity::find()
                .filter(person::Column::OrganisationId.eq(org))
                .filter(person::Column::Id.is_in(chunk.to_vec()))
                .all(&self.db)
                .await?
            {
                holders.insert(p.id, p.full_name);
            }
        }
        Ok(move |a: &account::Model| {
            let address = houses
                .get(&a.house_id)
                .map(|h| format!("{}, {}, {}", h.city, h.street, h.building))
                .unwrap_or_default();
            (
                address,
                rooms.get(&a.premises_id).cloned().unwrap_or_default(),
                a.holder_id.and_then(|h| holders.get(&h).cloned()),
            )
        })
    }
}

/// The last day of a period `YYYY-MM`, for a debt without a receipt.
fn period_end(period: &str) -> Option<NaiveDate> {
    let p = crate::billing::calc::Period::parse(period)?;
    let next = p.next();
    NaiveDate::from_ymd_opt(next.year, next.month, 1)?.pred_opt()
}

/// The report's column titles in a language.
fn titles(locale: &str) -> [&'static str; 11] {
    match locale {
        l if l.starts_with("ru") => [
            "Лицевой счёт",
            "Адрес",
            "Помещение",
            "Владелец",
            "Долг",
            "0–30 дней",
            "31–90 дней",
            "более 90 дней",
            "Старейший период",
            "Дней просрочки",
            "Последняя оплата",
        ],
        l if l.starts_with("pt") => [
            "Conta",
            "Endereço",
            "Unidade",
            "Titular",
            "Dívida",
            "0–30 dias",
            "31–90 dias",
            "mais de 90 dias",
            "Período mais antigo",
            "Dias em atraso",
            "Último pagamento",
        ],
        _ => [
            "Account",
            "Address",
            "Premises",
            "Holder",
            "Debt",
            "0–30 days",
            "31–90 days",
            "over 90 days",
            "Oldest period",
            "Days overdue",
            "Last payment",
        ],
    }
}

fn total_title(locale: &str) -> &'static str {
    match locale {
        l if l.starts_with("ru") => "Итого",
        l if l.starts_with("pt") => "Total",
        _ => "Total",
    }
}

/// Money as the locale writes it in a spreadsheet cell: `1553,50` or `1553.50`.
fn amount(minor: i64, comma: bool) -> String {
    let text = crate::exact::from_minor(minor).to_string();
    if comma {
        text.replace('.', ",")
    } else {
        text
    }
}

/// The report as CSV: UTF-8 with a byte-order mark (spreadsheets then read
/// Cyrillic and accents right), `;` and a decimal comma where the locale
/// writes one.
pub fn to_csv(report: &Report, locale: &str) -> Vec<u8> {
    let comma = !locale.starts_with("en");
    let separator = if comma { b';' } else { b',' };
    let mut out = b"\xEF\xBB\xBF".to_vec();
    let mut w = csv::WriterBuilder::new()
        .delimiter(separator)
        .from_writer(&mut out);
    let _ = w.write_record(titles(locale));
    for d in &report.debtors {
        use crate::export::cell;
        let _ = w.write_record([
            cell(&d.number).into_owned(),
            cell(&d.address).into_owned(),
            cell(&d.premises).into_owned(),
            cell(d.holder.as_deref().unwrap_or_default()).into_owned(),
            amount(d.total_minor, comma),
            amount(d.aged_minor[0], comma),
            amount(d.aged_minor[1], comma),
            amount(d.aged_minor[2], comma),
            d.oldest_period.clone(),
            d.days_overdue.to_string(),
            d.last_paid_on.map(|p| p.to_string()).unwrap_or_default(),
        ]);
    }
    let _ = w.write_record([
        total_title(locale).to_string(),
        String::new(),
        String::new(),
        String::new(),
        amount(report.total_minor, comma),
        amount(report.aged_minor[0], comma),
        amount(report.aged_minor[1], comma),
        amount(report.aged_minor[2], comma),
        String::new(),
        String::new(),
        String::new(),
    ]);
    drop(w);
    out
}

/// The report as an Excel workbook: numbers as numbers, dates as dates.
pub fn to_xlsx(report: &Report, locale: &str) -> Result<Vec<u8>, String> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let e = |e: rust_xlsxwriter::XlsxError| e.to_string();
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("#,##0.00");
    let money_bold = Format::new().set_num_format("#,##0.00").set_bold();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let sheet = book.add_worksheet();
    let name = match locale {
        l if l.starts_with("ru") => "Должники",
        l if l.starts_with("pt") => "Devedores",
        _ => "Debtors",
    };
    sheet.set_name(name).map_err(e)?;
    for (c, t) in titles(locale).iter().enumerate() {
        sheet
            .write_string_with_format(0, c as u16, *t, &bold)
            .map_err(e)?;
    }
    for (c, width) in [14, 36, 10, 28, 14, 14, 14, 14, 16, 14, 16]
        .iter()
        .enumerate()
    {
        sheet.set_column_width(c as u16, *width).map_err(e)?;
    }
    let cents = |m: i64| m as f64 / 100.0;
    let mut r: u32 = 1;
    for d in &report.debtors {
        use crate::export::cell;
        sheet.write_string(r, 0, cell(&d.number)).map_err(e)?;
        sheet.write_string(r, 1, cell(&d.address)).map_err(e)?;
        sheet.write_string(r, 2, cell(&d.premises)).map_err(e)?;
        sheet
            .write_string(r, 3, cell(d.holder.as_deref().unwrap_or("")))
            .map_err(e)?;
        sheet
            .write_number_with_format(r, 4, cents(d.total_minor), &money)
            .map_err(e)?;
        for (k, part) in d.aged_minor.iter().enumerate() {
            sheet
                .write_number_with_format(r, 5 + k as u16, cents(*part), &money)
                .map_err(e)?;
        }
        sheet.write_string(r, 8, &d.oldest_period).map_err(e)?;
        sheet.write_number(r, 9, d.days_overdue as f64).map_err(e)?;
        if let Some(p) = d.last_paid_on {
            use chrono::Datelike;
            let day = ExcelDateTime::from_ymd(p.year() as u16, p.month() as u8, p.day() as u8)
                .map_err(e)?;
            sheet
                .write_datetime_with_format(r, 10, &day, &date)
                .map_err(e)?;
        }
        r += 1;
    }
    sheet
        .write_string_with_format(r, 0, total_title(locale), &bold)
        .map_err(e)?;
    sheet
        .write_number_with_format(r, 4, cents(report.total_minor), &money_bold)
        .map_err(e)?;
    for (k, part) in report.aged_minor.iter().enumerate() {
        sheet
            .write_number_with_format(r, 5 + k as u16, cents(*part), &money_bold)
            .map_err(e)?;
    }
    sheet.set_freeze_panes(1, 0).map_err(e)?;
    book.save_to_buffer().map_err(e)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn report() -> Report {
        Report {
            as_of: NaiveDate::from_ymd_opt(2026, 12, 20).unwrap(),
            debtors: vec![Debtor {
                account_id: Uuid::nil(),
                number: "700123".into(),
                house_id: Uuid::nil(),
                address: "Москва, Ленина, 12".into(),
                premises: "7".into(),
                holder: Some("Иванов; Иван".into()),
                total_minor: 310_700,
                aged_minor: [155_350, 155_350, 0],
                oldest_period: "2026-10".into(),
                days_overdue: 65,
                last_paid_on: NaiveDate::from_ymd_opt(2026, 9, 14),
            }],
            total_minor: 310_700,
            aged_minor: [155_350, 155_350, 0],
        }
    }

    #[test]
    fn ages_fall_in_their_columns() {
        assert_eq!([0, 30, 31, 90, 91, 400].map(bucket), [0, 0, 1, 1, 2, 2]);
    }

    #[test]
    fn the_csv_speaks_the_locale_and_quotes_what_needs_it() {
        let text = String::from_utf8(to_csv(&report(), "ru")).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("\u{feff}Лицевой счёт;Адрес;"));
        assert_eq!(
            lines[1],
            "700123;Москва, Ленина, 12;7;\"Иванов; Иван\";3107,00;1553,50;1553,50;0,00;2026-10;65;2026-09-14"
        );
        assert_eq!(lines[2], "Итого;;;;3107,00;1553,50;1553,50;0,00;;;");
        let en = String::from_utf8(to_csv(&report(), "en")).unwrap();
        assert!(en.lines().nth(1).unwrap().contains(",3107.00,1553.50,"));
    }

    #[test]
    fn a_holder_named_like_a_formula_is_exported_as_text() {
        let mut r = report();
        r.debtors[0].holder = Some("=HYPERLINK(\"http://x\",\"pay\")".into());
        r.debtors[0].address = "@SUM(1)".into();
        let text = String::from_utf8(to_csv(&r, "en")).unwrap();
        let row = text.lines().nth(1).unwrap();
        assert!(row.starts_with("700123,'@SUM(1),7,\"'=HYPERLINK("), "{row}");
    }

    #[test]
    fn the_workbook_is_a_zip_with_a_sheet() {
        let bytes = to_xlsx(&report(), "pt-BR").unwrap();
        assert_eq!(&bytes[..2], b"PK");
        assert!(bytes.len() > 2000);
    }
}
