//! Receipts as documents: what a printed receipt shows, assembled from the
//! database in a few batched reads (a house's receipts at once for the batch
//! PDF), and its payment QR in the organisation's standard.

use std::collections::HashMap;

use entities::{account, charge, house, organisation, person, premises, receipt};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::calc::Period;
use super::pdf::{self, DocLine, ReceiptDoc};
use super::qr;
use super::settings::{self, Settings};
use super::Billing;
use crate::audit::Author;
use crate::auth::Target;
use crate::error::{stored_decimal, AppError, AppResult};

/// Receipts of one house in a batch PDF at most.
pub const BATCH_LIMIT: u64 = 5_000;

fn accent(hex: &str) -> (u8, u8, u8) {
    let c = |i: usize| u8::from_str_radix(hex.get(i..i + 2).unwrap_or("00"), 16).unwrap_or(0);
    (c(1), c(3), c(5))
}

/// The payment QR's text for a receipt, and the standard's name.
pub fn payload(
    org: &organisation::Model,
    s: &Settings,
    number: &str,
    address: &str,
    r: &receipt::Model,
) -> Result<(String, String), String> {
    let period = Period::parse(&r.period).ok_or("period")?;
    let due = (r.due_minor > 0).then_some(r.due_minor);
    let reason = |e: qr::QrError| format!("{}: {}", e.field, e.reason);
    let payee = if org.legal_name.trim().is_empty() {
        &org.name
    } else {
        &org.legal_name
    };
    if let Err(e) = super::settings::standard_fits(&s.qr_standard, &org.currency) {
        return Err(e.to_string());
    }
    match s.qr_standard.as_str() {
        "pix" => {
            // The specification's alphabet (letters and digits), at most 25.
            let txid: String = qr::plain_ascii(&format!("{number}{}", r.period))
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .take(25)
                .collect();
            let text = qr::pix_static(&qr::Pix {
                key: s.pix_key.clone().unwrap_or_default(),
                message: None,
                amount: due,
                name: org.name.clone(),
                city: s.pix_city.clone().unwrap_or_default(),
                txid: Some(txid),
            })
            .map_err(reason)?;
            Ok((text, "PIX BR Code".into()))
        }
        "epc" => {
            let text = qr::epc069(&qr::Epc {
                bic: Some(org.bank_id.clone()).filter(|b| !b.trim().is_empty()),
                name: payee.clone(),
                iban: org.bank_account.clone(),
                amount: due,
                purpose: None,
                reference: None,
                text: Some(format!("{number} {}", r.period)),
                note: None,
            })
            .map_err(reason)?;
            Ok((text, "EPC069-12 (SEPA)".into()))
        }
        _ => {
            let text = qr::gost56042(&qr::GostPayment {
                name: payee.clone(),
                personal_acc: org.bank_account.clone(),
                bank_name: org.bank_name.clone(),
                bic: org.bank_id.clone(),
                corresp_acc: s.corresp_account.clone().unwrap_or_default(),
                sum: due,
                purpose: Some(format!(
                    "Оплата ЖКУ за {:02}.{}, л/с {number}",
                    period.month, period.year
                )),
                payee_inn: Some(org.tax_id.clone()).filter(|t| !t.trim().is_empty()),
                pers_acc: Some(number.to_string()),
                paym_period: Some((period.month, period.year)),
                payer_address: Some(address.to_string()).filter(|a| !a.is_empty()),
                tech_code: Some("02".into()),
                ..qr::GostPayment::default()
            })
            .map_err(reason)?;
            Ok((text, "ГОСТ Р 56042-2014".into()))
        }
    }
}

impl Billing {
    /// One receipt as a PDF, if `by` may see its account.
    pub async fn receipt_pdf(&self, by: &Author, id: Uuid) -> AppResult<(String, Vec<u8>)> {
        let r = self.receipt(by, id).await?;
        let docs = self.documents(r.organisation_id, vec![r]).await?;
        let name = docs
            .first()
            .map(|d| format!("receipt-{}-{}.pdf", d.account_number, d.period))
            .unwrap_or_else(|| "receipt.pdf".into());
        let bytes = pdf::render_apart(docs).await.map_err(AppError::Internal)?;
        Ok((name, bytes))
    }

    /// Every receipt of a house and period in one PDF, for printing and post.
    pub async fn house_pdf(
        &self,
        by: &Author,
        house_id: Uuid,
        period: Period,
    ) -> AppResult<(String, Vec<u8>)> {
        let h = house::Entity::find_by_id(house_id)
            .one(&self.db)
            .await?
            .ok_or_else(|| AppError::not_found("house"))?;
        by.check(Target::House {
            org: h.organisation_id,
            id: h.id,
        })?;
        let receipts = receipt::Entity::find()
            .filter(receipt::Column::OrganisationId.eq(h.organisation_id))
            .filter(receipt::Column::Period.eq(period.to_string()))
            .filter(receipt::Column::HouseId.eq(h.id))
            .all(&self.db)
            .await?;
        if receipts.is_empty() {
            return Err(AppError::validation(
                "period",
                "no_receipts",
                format!("the house has no receipts for {period}: calculate the period first"),
            ));
        }
        if receipts.len() as u64 > BATCH_LIMIT {
            return Err(AppError::validation(
                "houseId",
                "too_many",
                format!("at most {BATCH_LIMIT} receipts in one file"),
            ));
        }
        let docs = self.documents(h.organisation_id, receipts).await?;
        let bytes = pdf::render_apart(docs).await.map_err(AppError::Internal)?;
        Ok((format!("receipts-{}.pdf", period), bytes))
    }

    /// The printed form of receipts of one organisation, ordered by premises.
    pub async fn documents(
        &self,
        org: Uuid,
        receipts: Vec<receipt::Model>,
    ) -> AppResult<Vec<ReceiptDoc>> {
        let o = self.organisation(org).await?;
        let s = settings::load(&self.db, &o).await?;
        let ids: Vec<Uuid> = receipts.iter().map(|r| r.account_id).collect();
        let accounts: HashMap<Uuid, account::Model> = account::Entity::find()
            .filter(account::Column::Id.is_in(ids.clone()))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|a| (a.id, a))
            .collect();
        let premises: HashMap<Uuid, premises::Model> = premises::Entity::find()
            .filter(premises::Column::Id.is_in(accounts.values().map(|a| a.premises_id)))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        let houses: HashMap<Uuid, house::Model> = house::Entity::find()
            .filter(house::Column::Id.is_in(accounts.values().map(|a| a.house_id)))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|h| (h.id, h))
            .collect();
        let people: HashMap<Uuid, String> = person::Entity::find()
            .filter(person::Column::Id.is_in(accounts.values().filter_map(|a| a.holder_id)))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|p| (p.id, p.full_name))
            .collect();
        let mut lines: HashMap<(Uuid, String), Vec<charge::Model>> = HashMap::new();
        let mut periods: Vec<String> = receipts.iter().map(|r| r.period.clone()).collect();
        periods.sort();
        periods.dedup();
        for chunk in ids.chunks(500) {
            for c in charge::Entity::find()
                .filter(charge::Column::OrganisationId.eq(org))
                .filter(charge::Column::Period.is_in(periods.clone()))
                .filter(charge::Column::AccountId.is_in(chunk.to_vec()))
                .order_by_asc(charge::Column::Position)
                .all(&self.db)
                .await?
            {
                lines
                    .entry((c.account_id, c.period.clone()))
                    .or_default()
                    .push(c);
            }
        }
        let mut docs = Vec::with_capacity(receipts.len());
        let mut receipts = receipts;
        receipts.sort_by_key(|r| {
            let a = accounts.get(&r.account_id);
            let p = a.and_then(|a| premises.get(&a.premises_id));
            (
                r.house_id,
                p.map(|p| p.number.len()).unwrap_or(0),
                p.map(|p| p.number.clone()).unwrap_or_default(),
                a.map(|a| a.number.clone()).unwrap_or_default(),
            )
        });
        for r in receipts {
            let Some(a) = accounts.get(&r.account_id) else {
                continue;
            };
            let p = premises.get(&a.premises_id);
            let h = houses.get(&a.house_id);
            let address = match (h, p) {
                (Some(h), Some(p)) => {
                    let unit = match o.locale.as_str() {
                        "ru" => "кв.",
                        "pt-BR" => "apto",
                        _ => "apt",
                    };
                    format!("{}, {unit} {}", h.address, p.number)
                }
                (Some(h), None) => h.address.clone(),
                _ => String::new(),
            };
            let area = p.map_or(Decimal::ZERO, |p| {
                Decimal::new(p.area_micro, 6) * Decimal::from(a.share_num)
                    / Decimal::from(a.share_den.max(1))
            });
            let qr = payload(&o, &s, &a.number, &address, &r);
            let minor = |v: i64| Decimal::new(v, 2);
            docs.push(ReceiptDoc {
                locale: o.locale.clone(),
                currency: o.currency.clone(),
                title: s.receipt_title.clone(),
                note: s.receipt_note.clone(),
                footer: s.receipt_footer.clone(),
                accent: accent(&s.accent_color),
                org_name: o.name.clone(),
                org_requisites: requisites(&o, &s),
                period: Period::parse(&r.period).ok_or_else(|| {
                    AppError::Internal(format!(
                        "receipts.period of {} is not a month: {:?}",
                        r.id, r.period
                    ))
                })?,
                account_number: a.number.clone(),
                payer: a
                    .holder_id
                    .and_then(|id| people.get(&id).cloned())
                    .unwrap_or_default(),
                address,
                area: area.round_dp(2).normalize(),
                residents: a.registered_residents,
                opening: minor(r.opening_minor),
                charged: minor(r.charged_minor),
                benefits: minor(r.benefits_minor),
                recalculated: minor(r.recalculated_minor),
                penalties: minor(r.penalties_minor),
                paid: minor(r.paid_minor),
                due: minor(r.due_minor),
                due_date: r.due_date,
                access_code: r.access_code.clone(),
                lines: printed(
                    lines
                        .remove(&(r.account_id, r.period.clone()))
                        .unwrap_or_default(),
                )
                .into_iter()
                .map(|(c, source)| {
                    let row = format!("{} {} line {}", c.account_id, c.period, c.position);
                    Ok(DocLine {
                        quantity: stored_decimal("charge_lines", "quantity", &row, &c.quantity)?,
                        tariff: stored_decimal("charge_lines", "tariff", &row, &c.tariff)?,
                        kind: c.kind,
                        label: c.label,
                        source,
                        unit: c.unit,
                        amount: minor(c.amount_minor),
                    })
                })
                .collect::<AppResult<Vec<_>>>()?,
                qr,
            });
        }
        Ok(docs)
    }
}

/// Lines with their basis as printed: a benefit names the charge it discounts.
fn printed(lines: Vec<charge::Model>) -> Vec<(charge::Model, String)> {
    let names: HashMap<Uuid, String> = lines
        .iter()
        .filter(|c| c.kind == "charge")
        .filter_map(|c| c.service_id.map(|s| (s, c.label.clone())))
        .collect();
    lines
        .into_iter()
        .map(|c| {
            let source = match (c.kind.as_str(), c.service_id) {
                ("benefit", Some(s)) => names.get(&s).cloned().unwrap_or_else(|| c.source.clone()),
                _ => c.source.clone(),
            };
            (c, source)
        })
        .collect()
}

/// The payee's requisites as printed under its name.
fn requisites(o: &organisation::Model, s: &Settings) -> Vec<String> {
    let mut out = vec![o.legal_name.clone()];
    match o.locale.as_str() {
        "ru" => {
            out.push(format!("ИНН {}", o.tax_id));
            let mut bank = format!(
                "р/с {} в {}, БИК {}",
                o.bank_account, o.bank_name, o.bank_id
            );
            if let Some(c) = &s.corresp_account {
                bank.push_str(&format!(", к/с {c}"));
            }
            out.push(bank);
        }
        "pt-BR" => {
            out.push(format!("CNPJ {}", o.tax_id));
            out.push(format!(
                "{} — banco {}, conta {}",
                o.bank_name, o.bank_id, o.bank_account
            ));
        }
        _ => {
            out.push(format!("VAT {}", o.tax_id));
            out.push(format!(
                "{} · IBAN {} · BIC {}",
                o.bank_name, o.bank_account, o.bank_id
            ));
        }
    }
    out.retain(|l| !l.trim().is_empty());
    out
}
