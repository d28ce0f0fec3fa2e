//! `kvartal demo`: a realistic organisation so that a newcomer sees a living system.
//!
//! The registry is generated as a CSV in the import format and loaded through the
//! same import as a real file, so the demo also exercises onboarding.

use std::io::Write;
use std::sync::Arc;

use anyhow::Context as _;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use schema::clock::SystemClock;
use schema::registry::drafts::{HouseDraft, MeterDraft, OrganisationDraft};
use schema::registry::Registry;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::cli::DemoLocale;

/// A small deterministic generator (no dependency, same demo every time).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(
            seed.wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407),
        )
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    pub fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

pub struct Names {
    male: &'static [&'static str],
    female: &'static [&'static str],
    surnames: &'static [&'static str],
    patronymics: Option<(&'static [&'static str], &'static [&'static str])>,
    phone_prefix: &'static str,
    mail: &'static str,
}

pub const RU: Names = Names {
    male: &[
        "Александр",
        "Сергей",
        "Дмитрий",
        "Андрей",
        "Алексей",
        "Максим",
        "Иван",
        "Михаил",
        "Николай",
        "Павел",
    ],
    female: &[
        "Елена",
        "Ольга",
        "Наталья",
        "Анна",
        "Мария",
        "Татьяна",
        "Ирина",
        "Алёна",
        "Светлана",
        "Юлия",
    ],
    surnames: &[
        "Иванов",
        "Петров",
        "Смирнов",
        "Кузнецов",
        "Попов",
        "Васильев",
        "Соколов",
        "Михайлов",
        "Новиков",
        "Фёдоров",
        "Морозов",
        "Волков",
        "Алексеев",
        "Лебедев",
        "Семёнов",
        "Егоров",
        "Павлов",
        "Козлов",
        "Степанов",
        "Николаев",
    ],
    patronymics: Some((
        &[
            "Александрович",
            "Сергеевич",
            "Дмитриевич",
            "Петрович",
            "Иванович",
            "Николаевич",
        ],
        &[
            "Александровна",
            "Сергеевна",
            "Дмитриевна",
            "Петровна",
            "Ивановна",
            "Николаевна",
        ],
    )),
    phone_prefix: "+7916",
    mail: "mail.ru",
};

pub const PT_BR: Names = Names {
    male: &[
        "João", "José", "Antônio", "Carlos", "Paulo", "Lucas", "Marcos", "Rafael", "Luís",
        "Gabriel",
    ],
    female: &[
        "Maria",
        "Ana",
        "Francisca",
        "Conceição",
        "Márcia",
        "Fernanda",
        "Juliana",
        "Patrícia",
        "Letícia",
        "Beatriz",
    ],
    surnames: &[
        "Silva",
        "Santos",
        "Oliveira",
        "Souza",
        "Rodrigues",
        "Ferreira",
        "Alves",
        "Pereira",
        "Lima",
        "Gomes",
        "Ribeiro",
        "Araújo",
        "Carvalho",
        "Gonçalves",
        "Melo",
        "Barbosa",
    ],
    patronymics: None,
    phone_prefix: "+5511",
    mail: "gmail.com",
};

pub const EN: Names = Names {
    male: &[
        "Oliver", "Lukas", "Jan", "Marco", "Tomás", "Henrik", "Piotr", "Jonas", "Matteo", "Noah",
    ],
    female: &[
        "Emma", "Sofia", "Anna", "Léa", "Zoë", "Marta", "Ingrid", "Chiara", "Eva", "Hanna",
    ],
    surnames: &[
        "Müller",
        "Novák",
        "Rossi",
        "García",
        "Dubois",
        "Kowalski",
        "Jansen",
        "Nielsen",
        "Schmidt",
        "Horvat",
        "Andersson",
        "Brennan",
        "Ferreira",
        "Weber",
        "Šimek",
        "O'Connor",
    ],
    patronymics: None,
    phone_prefix: "+4915",
    mail: "example.eu",
};

pub fn person_name(names: &Names, rng: &mut Rng) -> String {
    let female = rng.below(2) == 0;
    let first = rng.pick(if female { names.female } else { names.male });
    let surname = rng.pick(names.surnames);
    match names.patronymics {
        Some((m, f)) => {
            let surname = if female {
                format!("{surname}а")
            } else {
                surname.to_string()
            };
            let middle = rng.pick(if female { f } else { m });
            format!("{surname} {first} {middle}")
        }
        None => {
            let second = rng.pick(names.surnames);
            if second == surname {
                format!("{first} {surname}")
            } else {
                format!("{first} {second} {surname}")
            }
        }
    }
}

/// One house worth of premises in the generated file.
pub struct HouseSpec<'a> {
    pub address: &'a str,
    pub city: &'a str,
    pub street: &'a str,
    pub building: &'a str,
    pub entrances: u32,
    pub floors: u32,
    pub flats_per_floor: u32,
    pub parking: u32,
    pub storage: u32,
    pub commercial: u32,
}

pub const HEADER: &str = "house,house_city,house_street,house_building,premises_number,premises_kind,entrance,floor,area,rooms,account_number,account_opened,account_share,registered_residents,privileged_categories,person_name,person_role,person_share,person_phone,person_email,person_channel,meter1_serial,meter1_resource,meter1_initial,meter1_verification_due,meter2_serial,meter2_resource,meter2_initial,meter2_verification_due,meter3_serial,meter3_resource,meter3_zones,meter3_initial,meter3_verification_due\n";

fn csv_cell(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// Writes the lines of one house. `next_account` numbers accounts across houses;
/// `meters` adds cold and hot water and a two-zone electricity meter per flat.
#[allow(clippy::too_many_arguments)]
pub fn write_house<W: Write>(
    out: &mut W,
    spec: &HouseSpec<'_>,
    names: &Names,
    rng: &mut Rng,
    next_account: &mut u64,
    house_no: u32,
    meters: bool,
    communal_every: u32,
) -> std::io::Result<u64> {
    let mut lines = 0;
    let house = format!(
        "{},{},{},{}",
        csv_cell(spec.address),
        csv_cell(spec.city),
        csv_cell(spec.street),
        csv_cell(spec.building)
    );
    let mut number = 0;
    for entrance in 1..=spec.entrances {
        for floor in 1..=spec.floors {
            for _ in 0..spec.flats_per_floor {
                number += 1;
                let rooms = 1 + rng.below(4);
                let area = Decimal::new((24 + rooms * 14) as i64 * 10 + rng.below(90) as i64, 1);
                let communal = communal_every > 0 && number % communal_every == 0;
                let accounts = if communal { 2 } else { 1 };
                for a in 0..accounts {
                    let account = *next_account;
                    *next_account += 1;
                    let name = person_name(names, rng);
                    let phone = format!(
                        "{}{:07}",
                        names.phone_prefix,
                        (account * 7919 + house_no as u64) % 10_000_000
                    );
                    let email = if rng.below(3) > 0 {
                        format!("client{account}@{}", names.mail)
                    } else {
                        String::new()
                    };
                    let channel = if email.is_empty() { "sms" } else { "email" };
                    let share = if communal { "1/2" } else { "1" };
                    let residents = 1 + rng.below(4);
                    let privileged = if rng.below(12) == 0 { "veteran" } else { "" };
                    let opened = format!("{:04}-{:02}-01", 2015 + rng.below(11), 1 + rng.below(12));
                    let due = format!("{:04}-{:02}-15", 2026 + rng.below(5), 1 + rng.below(12));
                    let meter_cells = if meters && a == 0 {
                        format!(
                            "CW-{h}{n:05},cold_water,{cw}.{f:03},{due},HW-{h}{n:05},hot_water,{hw}.{f:03},{due},EL-{h}{n:05},electricity,2,{e1};{e2},{due}",
                            h = house_no,
                            n = number,
                            cw = rng.below(900),
                            hw = rng.below(500),
                            f = rng.below(1000),
                            e1 = rng.below(20000),
                            e2 = rng.below(9000),
                        )
                    } else {
                        ",,,,,,,,,,,,".to_string()
                    };
                    writeln!(
                        out,
                        "{house},{number},residential,{entrance},{floor},{area},{rooms},{acc},{opened},{share},{residents},{privileged},{name},owner,{pshare},{phone},{email},{channel},{meter_cells}",
                        pshare = if communal { "1/2" } else { "" },
                        acc = format_account(account),
                        name = csv_cell(&name),
                    )?;
                    lines += 1;
                }
            }
        }
    }
    for (count, kind, prefix, area) in [
        (spec.parking, "parking", "P", 135), // tenths of m²
        (spec.storage, "storage", "S", 42),
        (spec.commercial, "non_residential", "N", 860),
    ] {
        for i in 1..=count {
            let account = *next_account;
            *next_account += 1;
            let name = person_name(names, rng);
            let phone = format!(
                "{}{:07}",
                names.phone_prefix,
                (account * 7919 + 17) % 10_000_000
            );
            let meter = if kind == "non_residential" {
                format!(
                    ",,,,,,,,EL-{house_no}{prefix}{i:03},electricity,1,{},",
                    rng.below(50000)
                )
            } else {
                ",,,,,,,,,,,,".to_string()
            };
            writeln!(
                out,
                "{house},{prefix}{i},{kind},,{floor},{area},,{acc},2020-01-01,1,0,,{name},owner,,{phone},,sms,{meter}",
                floor = if kind == "non_residential" { 1 } else { -1 },
                area = Decimal::new(area as i64, 1),
                acc = format_account(account),
                name = csv_cell(&name),
            )?;
            lines += 1;
        }
    }
    Ok(lines)
}

pub fn format_account(n: u64) -> String {
    format!("{n:08}")
}

struct DemoOrg {
    org: OrganisationDraft,
    names: &'static Names,
    houses: [(HouseDraft, HouseSpec<'static>); 3],
}

fn house_draft(
    spec: &HouseSpec<'static>,
    year: i32,
    region: &str,
    postal: &str,
    country: &str,
    area: i64,
) -> HouseDraft {
    HouseDraft {
        country: country.into(),
        region: region.into(),
        city: spec.city.into(),
        street: spec.street.into(),
        building: spec.building.into(),
        postal_code: postal.into(),
        address: spec.address.into(),
        year_built: Some(year),
        floors: Some(spec.floors as i32),
        entrances: Some(spec.entrances as i32),
        total_area: Some(Decimal::new(area, 1)),
        common_area: Some(Decimal::new(area / 5, 1)),
        management_start: NaiveDate::from_ymd_opt(2019, 1, 1),
    }
}

fn demo_org(locale: DemoLocale) -> DemoOrg {
    match locale {
        DemoLocale::Ru => {
            let specs = [
                HouseSpec {
                    address: "г. Москва, ул. Ленина, д. 12",
                    city: "Москва",
                    street: "ул. Ленина",
                    building: "12",
                    entrances: 4,
                    floors: 9,
                    flats_per_floor: 4,
                    parking: 0,
                    storage: 0,
                    commercial: 2,
                },
                HouseSpec {
                    address: "г. Москва, пр-т Мира, д. 45, корп. 2",
                    city: "Москва",
                    street: "пр-т Мира",
                    building: "45 корп. 2",
                    entrances: 2,
                    floors: 16,
                    flats_per_floor: 4,
                    parking: 20,
                    storage: 0,
                    commercial: 0,
                },
                HouseSpec {
                    address: "г. Москва, ул. Садовая, д. 7",
                    city: "Москва",
                    street: "ул. Садовая",
                    building: "7",
                    entrances: 3,
                    floors: 5,
                    flats_per_floor: 3,
                    parking: 0,
                    storage: 10,
                    commercial: 1,
                },
            ];
            let [a, b, c] = specs;
            DemoOrg {
                org: OrganisationDraft {
                    name: "УК «Квартал-Сервис»".into(),
                    currency: "RUB".into(),
                    locale: "ru".into(),
                    time_zone: "Europe/Moscow".into(),
                    legal_name: "ООО «Управляющая компания „Квартал-Сервис“»".into(),
                    tax_id: "7701234567".into(),
                    bank_account: "40702810938000012345".into(),
                    bank_id: "044525225".into(),
                    bank_name: "ПАО Сбербанк".into(),
                },
                names: &RU,
                houses: [
                    (
                        house_draft(&a, 1978, "Москва", "101000", "Россия", 98_450),
                        a,
                    ),
                    (
                        house_draft(&b, 2012, "Москва", "129085", "Россия", 86_120),
                        b,
                    ),
                    (
                        house_draft(&c, 1961, "Москва", "107078", "Россия", 31_870),
                        c,
                    ),
                ],
            }
        }
        DemoLocale::PtBr => {
            let specs = [
                HouseSpec {
                    address: "Rua Augusta, 1500, São Paulo - SP",
                    city: "São Paulo",
                    street: "Rua Augusta",
                    building: "1500",
                    entrances: 2,
                    floors: 18,
                    flats_per_floor: 4,
                    parking: 40,
                    storage: 0,
                    commercial: 2,
                },
                HouseSpec {
                    address: "Avenida Paulista, 900, São Paulo - SP",
                    city: "São Paulo",
                    street: "Avenida Paulista",
                    building: "900",
                    entrances: 1,
                    floors: 22,
                    flats_per_floor: 4,
                    parking: 30,
                    storage: 10,
                    commercial: 3,
                },
                HouseSpec {
                    address: "Rua da Consolação, 250, São Paulo - SP",
                    city: "São Paulo",
                    street: "Rua da Consolação",
                    building: "250",
                    entrances: 1,
                    floors: 10,
                    flats_per_floor: 6,
                    parking: 20,
                    storage: 0,
                    commercial: 0,
                },
            ];
            let [a, b, c] = specs;
            DemoOrg {
                org: OrganisationDraft {
                    name: "Condomínio Gestão Kvartal".into(),
                    currency: "BRL".into(),
                    locale: "pt-BR".into(),
                    time_zone: "America/Sao_Paulo".into(),
                    legal_name: "Kvartal Administração de Condomínios Ltda.".into(),
                    tax_id: "12.345.678/0001-95".into(),
                    bank_account: "12345-6".into(),
                    bank_id: "341".into(),
                    bank_name: "Itaú Unibanco".into(),
                },
                names: &PT_BR,
                houses: [
                    (
                        house_draft(&a, 1995, "SP", "01305-100", "Brasil", 120_400),
                        a,
                    ),
                    (
                        house_draft(&b, 2004, "SP", "01310-100", "Brasil", 140_900),
                        b,
                    ),
                    (
                        house_draft(&c, 1988, "SP", "01302-000", "Brasil", 62_300),
                        c,
                    ),
                ],
            }
        }
        DemoLocale::En => {
            let specs = [
                HouseSpec {
                    address: "Lindenstraße 14, 10969 Berlin",
                    city: "Berlin",
                    street: "Lindenstraße",
                    building: "14",
                    entrances: 3,
                    floors: 6,
                    flats_per_floor: 4,
                    parking: 12,
                    storage: 20,
                    commercial: 2,
                },
                HouseSpec {
                    address: "Oranienstraße 88, 10999 Berlin",
                    city: "Berlin",
                    street: "Oranienstraße",
                    building: "88",
                    entrances: 2,
                    floors: 5,
                    flats_per_floor: 4,
                    parking: 0,
                    storage: 20,
                    commercial: 1,
                },
                HouseSpec {
                    address: "Karl-Marx-Allee 41, 10178 Berlin",
                    city: "Berlin",
                    street: "Karl-Marx-Allee",
                    building: "41",
                    entrances: 4,
                    floors: 8,
                    flats_per_floor: 3,
                    parking: 30,
                    storage: 0,
                    commercial: 3,
                },
            ];
            let [a, b, c] = specs;
            DemoOrg {
                org: OrganisationDraft {
                    name: "Kvartal Hausverwaltung".into(),
                    currency: "EUR".into(),
                    locale: "en".into(),
                    time_zone: "Europe/Berlin".into(),
                    legal_name: "Kvartal Hausverwaltung GmbH".into(),
                    tax_id: "DE123456789".into(),
                    bank_account: "DE89370400440532013000".into(),
                    bank_id: "COBADEFFXXX".into(),
                    bank_name: "Commerzbank".into(),
                },
                names: &EN,
                houses: [
                    (
                        house_draft(&a, 1910, "Berlin", "10969", "Deutschland", 58_200),
                        a,
                    ),
                    (
                        house_draft(&b, 1905, "Berlin", "10999", "Deutschland", 34_900),
                        b,
                    ),
                    (
                        house_draft(&c, 1958, "Berlin", "10178", "Deutschland", 72_400),
                        c,
                    ),
                ],
            }
        }
    }
}

/// Loads the demo organisation; does nothing if one of that name exists.
pub async fn load(db: &DatabaseConnection, locale: DemoLocale) -> anyhow::Result<String> {
    let demo = demo_org(locale);
    let existing = entities::organisation::Entity::find()
        .filter(entities::organisation::Column::Name.eq(demo.org.name.as_str()))
        .one(db)
        .await?;
    if let Some(org) = existing {
        return Ok(format!(
            "the demo organisation '{}' is already loaded (id {})",
            org.name, org.id
        ));
    }
    let registry = Registry::new(db.clone(), Arc::new(SystemClock));
    let org = registry
        .create_organisation(
            &schema::audit::Author::system("kvartal demo", "Mutation.createOrganisation"),
            demo.org.clone(),
        )
        .await
        .map_err(|e| anyhow::anyhow!("creating the organisation: {e}"))?;
    let mut csv = Vec::new();
    csv.extend_from_slice(HEADER.as_bytes());
    let mut rng = Rng::new(2026);
    let mut next_account = 1_000_001 + (locale as u64) * 1_000_000;
    for (i, (draft, spec)) in demo.houses.iter().enumerate() {
        let house = registry
            .create_house(
                &schema::audit::Author::system("kvartal demo", "Mutation.createHouse"),
                org.id,
                draft.clone(),
            )
            .await
            .map_err(|e| anyhow::anyhow!("creating a house: {e}"))?;
        write_house(
            &mut csv,
            spec,
            demo.names,
            &mut rng,
            &mut next_account,
            i as u32 + 1,
            true,
            17,
        )?;
        for (resource, serial) in [
            (entities::Resource::Heat, format!("HEAT-{}{:03}", i + 1, 1)),
            (
                entities::Resource::ColdWater,
                format!("ODPU-CW-{}{:03}", i + 1, 1),
            ),
            (
                entities::Resource::Electricity,
                format!("ODPU-EL-{}{:03}", i + 1, 1),
            ),
        ] {
            let draft = MeterDraft {
                serial,
                resource,
                zones: 1,
                unit: None,
                installed_on: NaiveDate::from_ymd_opt(2019, 3, 1),
                verification_due: NaiveDate::from_ymd_opt(2027, 3, 1),
                initial_values: vec![Decimal::new(1_000 * (i as i64 + 1), 0)],
                status: entities::MeterStatus::Active,
                digits: Some(6),
            };
            registry
                .create_meter(
                    &schema::audit::Author::system("kvartal demo", "Mutation.createMeter"),
                    Some(house.id),
                    None,
                    draft,
                )
                .await
                .map_err(|e| anyhow::anyhow!("creating a common meter: {e}"))?;
        }
    }
    let report = registry
        .import_registry(
            &schema::audit::Author::system("kvartal demo", "Mutation.importRegistry"),
            org.id,
            std::io::Cursor::new(csv),
            &|_| {},
        )
        .await
        .map_err(|e| anyhow::anyhow!("importing the demo registry: {e}"))?;
    if !report.ok() {
        let first = report
            .errors
            .first()
            .map(|e| format!("line {} {}: {}", e.line, e.column, e.message));
        return Err(anyhow::anyhow!(
            "the demo registry did not import: {}",
            first.unwrap_or_default()
        ))
        .context("demo");
    }
    let users = demo_users(db, org.id).await?;
    let readings = demo_readings(db, org.id).await?;
    let services = demo_catalogue(db, org.id, locale).await?;
    let billing = demo_billing(db, &org, locale).await?;
    let complaints = demo_complaints(db, org.id, locale).await?;
    Ok(format!(
        "demo organisation '{}' loaded (id {}): 3 houses, {} premises, {} accounts, {} people, {} meters, {readings} readings, {services} services with their tariffs; {billing}; {complaints} complaints\n{users}",
        org.name,
        org.id,
        report.premises.created,
        report.accounts.created,
        report.people.created,
        report.meters.created + 9,
    ))
}

/// Billing of the demo organisation: its settings (payment QR of its
/// country), a privileged category on a tenth of the accounts, last month
/// calculated and closed, this month calculated.
async fn demo_billing(
    db: &DatabaseConnection,
    org: &entities::organisation::Model,
    locale: DemoLocale,
) -> anyhow::Result<String> {
    use rust_decimal::Decimal;
    use schema::billing::settings::{CategoryDraft, Settings};
    let clock: std::sync::Arc<dyn schema::clock::Clock> =
        std::sync::Arc::new(schema::clock::SystemClock);
    let billing = schema::billing::Billing::new(
        db.clone(),
        clock.clone(),
        Some(crate::local_events(db, clock.clone())),
    );
    let by = |op| schema::audit::Author::system("kvartal demo", op);
    let fail = |e: schema::error::AppError| anyhow::anyhow!("demo billing: {e}");
    let mut settings = Settings::defaults(org);
    let (category, upkeep) = match locale {
        DemoLocale::Ru => {
            settings.corresp_account = Some("30101810400000000225".into());
            settings.receipt_note = "Показания счётчиков передавайте с 15 по 25 число в личном кабинете. Аварийная служба: 8-800-000-00-00.".into();
            settings.receipt_footer =
                "{org} · лицевой счёт {account} · оплатите до {due_date}".into();
            ("Ветеран труда", "upkeep")
        }
        DemoLocale::PtBr => {
            settings.pix_key = Some("financeiro@kvartal.com.br".into());
            settings.pix_city = Some("Sao Paulo".into());
            settings.receipt_note =
                "Dúvidas sobre a cobrança: fale com a administração pelo app.".into();
            ("Idoso (Estatuto do Idoso)", "condominio")
        }
        DemoLocale::En => {
            settings.receipt_note =
                "Questions about your bill? Write to the management office in the app.".into();
            ("Senior citizen", "upkeep")
        }
    };
    billing
        .set_settings(&by("Mutation.setBillingSettings"), org.id, settings)
        .await
        .map_err(fail)?;
    let services: Vec<String> = entities::service::Entity::find()
        .filter(entities::service::Column::OrganisationId.eq(org.id))
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.code)
        .filter(|c| c == upkeep || c == "upkeep")
        .collect();
    if !services.is_empty() {
        billing
            .set_category(
                &by("Mutation.setBenefitCategory"),
                org.id,
                CategoryDraft {
                    code: "veteran".into(),
                    name: category.into(),
                    percent: Decimal::from(50),
                    services,
                    per_person: true,
                    social_norm: Some(Decimal::from(18)),
                },
            )
            .await
            .map_err(fail)?;
        db.execute_raw(sea_orm::Statement::from_sql_and_values(
            db.get_database_backend(),
            if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
                "UPDATE accounts SET privileged_categories = '[\"veteran\"]' WHERE organisation_id = $1 AND number LIKE '%7'"
            } else {
                "UPDATE accounts SET privileged_categories = '[\"veteran\"]' WHERE organisation_id = ? AND number LIKE '%7'"
            },
            [org.id.into()],
        ))
        .await?;
    }
    let today = clock.now().date_naive();
    let this = schema::billing::calc::Period::new(
        chrono::Datelike::year(&today),
        chrono::Datelike::month(&today),
    )
    .context("this month")?;
    let last = this.prev();
    billing
        .calculate(&by("Mutation.calculatePeriod"), org.id, last, &|_| {})
        .await
        .map_err(fail)?;
    billing
        .close(&by("Mutation.closePeriod"), org.id, last)
        .await
        .map_err(fail)?;
    let paid = demo_payments(db, org.id, last, this, clock.clone()).await?;
    let statement = demo_statement(db, org.id, this, clock.clone()).await?;
    let row = billing
        .calculate(&by("Mutation.calculatePeriod"), org.id, this, &|_| {})
        .await
        .map_err(fail)?;
    Ok(format!(
        "billing: {last} closed, {paid} of its receipts paid, a bank statement imported ({statement}), {this} calculated ({} receipts)",
        row.accounts_done
    ))
}

/// Payments on last month's receipts, early this month: most in full (by
/// transfer with a bank reference, by card or in cash), one in ten half,
/// one in ten nothing, so the ledger has debtors and the new receipts show
/// what was paid. Returns how many were paid.
async fn demo_payments(
    db: &DatabaseConnection,
    org: uuid::Uuid,
    last: schema::billing::calc::Period,
    this: schema::billing::calc::Period,
    clock: std::sync::Arc<dyn schema::clock::Clock>,
) -> anyhow::Result<usize> {
    use schema::payments::service::NewPayment;
    let payments = schema::payments::Payments::new(
        db.clone(),
        clock.clone(),
        Some(crate::local_events(db, clock.clone())),
    );
    let by = schema::audit::Author::system("kvartal demo", "Mutation.recordPayment");
    let today = clock.now().date_naive();
    let paid_on = chrono::NaiveDate::from_ymd_opt(this.year, this.month, 8)
        .context("a payment day")?
        .min(today);
    let receipts = entities::receipt::Entity::find()
        .filter(entities::receipt::Column::OrganisationId.eq(org))
        .filter(entities::receipt::Column::Period.eq(last.to_string()))
        .order_by_asc(entities::receipt::Column::AccountId)
        .all(db)
        .await?;
    let mut paid = 0;
    for (i, r) in receipts.iter().enumerate() {
        let amount = match i % 10 {
            3 => continue,
            5 => r.due_minor / 2,
            _ => r.due_minor,
        };
        if amount <= 0 {
            continue;
        }
        let method = ["transfer", "card", "cash"][i % 3];
        let new = NewPayment {
            account_id: r.account_id,
            amount_minor: amount,
            method: method.into(),
            paid_on,
            bank_reference: (method == "transfer").then(|| format!("DEMO-{last}-{i:05}")),
            payer: None,
            purpose: Some(format!("{last}")),
        };
        payments
            .record(&by, new, None, "staff")
            .await
            .map_err(|e| anyhow::anyhow!("demo payments: {e}"))?;
        paid += 1;
    }
    Ok(paid)
}

/// A bank statement of this month: credits naming an account number (or a
/// receipt's reference), and two that name none and wait in the queue.
async fn demo_statement(
    db: &DatabaseConnection,
    org: uuid::Uuid,
    this: schema::billing::calc::Period,
    clock: std::sync::Arc<dyn schema::clock::Clock>,
) -> anyhow::Result<String> {
    let accounts = entities::account::Entity::find()
        .filter(entities::account::Column::OrganisationId.eq(org))
        .order_by_asc(entities::account::Column::Number)
        .limit(40)
        .all(db)
        .await?;
    let day = chrono::NaiveDate::from_ymd_opt(this.year, this.month, 10)
        .context("a statement day")?
        .min(clock.now().date_naive());
    let date = day.format("%d.%m.%Y");
    let mut csv = String::from("Data;Valor;Pagador;Conta do pagador;Histórico;Referência\n");
    for (i, a) in accounts.iter().enumerate().skip(20).take(12) {
        let text = if i % 4 == 0 {
            format!("PIX {}{}", a.number, this.to_string().replace('-', ""))
        } else {
            format!("Оплата ЖКУ л/с {} / pagamento conta {}", a.number, a.number)
        };
        csv.push_str(&format!(
            "{date};{},{:02};Payer {i};40817810{i:012};{text};DEMO-ST-{this}-{i}\n",
            1000 + 37 * i,
            (i * 13) % 100
        ));
    }
    csv.push_str(&format!(
        "{date};2500,00;Сидоров С. С.;40817810999900000001;квартплата / condomínio;DEMO-ST-{this}-Q1\n"
    ));
    csv.push_str(&format!(
        "{date};3,17;Bank;;juros / проценты на остаток;DEMO-ST-{this}-Q2\n"
    ));
    let payments = schema::payments::Payments::new(
        db.clone(),
        clock.clone(),
        Some(crate::local_events(db, clock.clone())),
    );
    let by = schema::audit::Author::system("kvartal demo", "Mutation.importStatement");
    let request = schema::payments::statement::Request {
        file_name: format!("statement-{this}.csv"),
        format: Some(statements::Format::Csv),
        mapping: Some(statements::CsvMapping {
            payer_account: Some(3),
            text: 4,
            reference: Some(5),
            ..statements::CsvMapping::default()
        }),
    };
    let done = payments
        .import_statement(&by, org, csv.into_bytes(), request, &|_| {})
        .await
        .map_err(|e| anyhow::anyhow!("demo statement: {e}"))?;
    Ok(format!(
        "{} credits paid, {} waiting in the queue",
        done.import.matched, done.import.unmatched
    ))
}

/// The services the demo organisation bills and their prices this year, in
/// its country's terms: a metered water service whose tariff rose on 1 July,
/// day-and-night electricity, and upkeep by area. Returns how many services.
async fn demo_catalogue(
    db: &DatabaseConnection,
    org: uuid::Uuid,
    locale: DemoLocale,
) -> anyhow::Result<usize> {
    use entities::{CalculationMethod as M, Resource as R};
    use rust_decimal::Decimal;
    use schema::billing::catalogue::{Catalogue, NormDraft, ServiceDraft, StoredTier, TariffDraft};
    let catalogue = Catalogue::new(db.clone(), std::sync::Arc::new(schema::clock::SystemClock));
    let by = schema::audit::Author::system("kvartal demo", "Mutation.createService");
    let tariff_by = schema::audit::Author::system("kvartal demo", "Mutation.setTariff");
    let d = |s: &str| s.parse::<Decimal>().unwrap_or_default();
    // Prices per zone, each "price" or "limit:price;…;price" in bands.
    let prices = |zones: &[&str]| -> Vec<Vec<StoredTier>> {
        zones
            .iter()
            .map(|zone| {
                zone.split(';')
                    .map(|band| match band.split_once(':') {
                        Some((limit, price)) => StoredTier {
                            up_to: Some(d(limit)),
                            price: d(price),
                        },
                        None => StoredTier {
                            up_to: None,
                            price: d(band),
                        },
                    })
                    .collect()
            })
            .collect()
    };
    type Demo<'a> = (
        &'a str,
        &'a str,
        &'a str,
        M,
        Option<R>,
        &'a [&'a str],
        &'a [&'a str],
    );
    // (code, name, unit, method, resource, January's and July's prices per zone)
    let services: Vec<Demo> = match locale {
        DemoLocale::Ru => vec![
            (
                "cold_water",
                "Холодное водоснабжение",
                "м³",
                M::Metered,
                Some(R::ColdWater),
                &["49.13"],
                &["53.80"],
            ),
            (
                "electricity",
                "Электроэнергия",
                "кВт·ч",
                M::Metered,
                Some(R::Electricity),
                &["6.43", "2.58"],
                &["7.02", "2.81"],
            ),
            (
                "cold_water_common",
                "ХВС на содержание общего имущества",
                "м³",
                M::CommonHouse,
                Some(R::ColdWater),
                &["49.13"],
                &["53.80"],
            ),
            (
                "upkeep",
                "Содержание жилого помещения",
                "м²",
                M::Area,
                None,
                &["38.50"],
                &["41.20"],
            ),
        ],
        DemoLocale::PtBr => vec![
            (
                "agua",
                "Água e esgoto",
                "m³",
                M::Metered,
                Some(R::ColdWater),
                &["10:5.83;9.12"],
                &["10:6.21;9.71"],
            ),
            (
                "gas",
                "Gás",
                "m³",
                M::Metered,
                Some(R::Gas),
                &["11.40"],
                &["12.05"],
            ),
            (
                "condominio",
                "Taxa condominial",
                "m²",
                M::Area,
                None,
                &["9.80"],
                &["10.30"],
            ),
        ],
        DemoLocale::En => vec![
            (
                "water",
                "Water",
                "m³",
                M::Metered,
                Some(R::ColdWater),
                &["3.95"],
                &["4.15"],
            ),
            (
                "heating",
                "Heating",
                "kWh",
                M::Metered,
                Some(R::Heat),
                &["0.118"],
                &["0.124"],
            ),
            (
                "service_charge",
                "Service charge",
                "m²",
                M::Area,
                None,
                &["2.40"],
                &["2.55"],
            ),
        ],
    };
    let n = services.len();
    // The monthly cold-water norm per person where there is no meter.
    let water_norm = match locale {
        DemoLocale::Ru => "6.935",
        DemoLocale::PtBr => "4.5",
        DemoLocale::En => "4.0",
    };
    let norm_by = schema::audit::Author::system("kvartal demo", "Mutation.setNorm");
    for (code, name, unit, method, resource, january, july) in services {
        let service = catalogue
            .create_service(
                &by,
                org,
                ServiceDraft {
                    code: code.into(),
                    name: name.into(),
                    unit: unit.into(),
                    method: Some(method),
                    resource,
                    zones: Some(january.len() as i32),
                    ..ServiceDraft::default()
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("demo service {code}: {e}"))?;
        for (from, zones) in [
            ("2026-01-01", prices(january)),
            ("2026-07-01", prices(july)),
        ] {
            catalogue
                .set_tariff(
                    &tariff_by,
                    TariffDraft {
                        service_id: service.id,
                        house_id: None,
                        valid_from: from.parse()?,
                        valid_to: None,
                        zones,
                    },
                )
                .await
                .map_err(|e| anyhow::anyhow!("demo tariff {code}: {e}"))?;
        }
        // Cold water: a norm per person where there is no meter, and for the
        // common areas 0.0365 m³ per m² a month.
        let norm = match (method, resource) {
            (M::CommonHouse, _) => Some((entities::NormBasis::CommonArea, d("0.0365"))),
            (_, Some(R::ColdWater)) => Some((entities::NormBasis::Person, d(water_norm))),
            _ => None,
        };
        if let Some((basis, value)) = norm {
            catalogue
                .set_norm(
                    &norm_by,
                    NormDraft {
                        service_id: service.id,
                        house_id: None,
                        basis,
                        valid_from: "2026-01-01".parse()?,
                        valid_to: None,
                        value,
                    },
                )
                .await
                .map_err(|e| anyhow::anyhow!("demo norm {code}: {e}"))?;
        }
    }
    Ok(n)
}

/// Four months of readings for the flats' meters and the house meters
/// (enough for an average when this month's reading is still missing; a house
/// meter counts more than its flats, the common areas' share), from the
/// import, as a management office loads a meter-reading contractor's file, a
/// few of them flagged for review. Returns how many.
async fn demo_readings(db: &DatabaseConnection, org: uuid::Uuid) -> anyhow::Result<u64> {
    use chrono::{Datelike, Months};
    use entities::meter;
    let clock: Arc<dyn schema::clock::Clock> = Arc::new(SystemClock);
    let today = schema::readings::today_in("UTC", clock.now());
    let meters = meter::Entity::find()
        .filter(meter::Column::OrganisationId.eq(org))
        .filter(meter::Column::Status.eq(entities::MeterStatus::Active))
        .order_by_asc(meter::Column::Serial)
        .all(db)
        .await?;
    // A house meter counts its premises' consumption (metered or by norm)
    // and the common areas'.
    let mut flats: std::collections::HashMap<uuid::Uuid, i64> = std::collections::HashMap::new();
    for p in entities::premises::Entity::find()
        .filter(entities::premises::Column::OrganisationId.eq(org))
        .all(db)
        .await?
    {
        *flats.entry(p.house_id).or_default() += 1;
    }
    let mut rng = Rng::new(2026);
    let mut csv = String::from("serial;resource;date;value1;value2\n");
    for (i, m) in meters.iter().enumerate() {
        let resource = match m.resource {
            entities::Resource::ColdWater => "cold_water",
            entities::Resource::HotWater => "hot_water",
            entities::Resource::Electricity => "electricity",
            entities::Resource::Heat => "heat",
            entities::Resource::Gas => "gas",
        };
        let per_month = match m.resource {
            _ if m.premises_id.is_none() => flats.get(&m.house_id).copied().unwrap_or(0) * 25 + 40,
            entities::Resource::Electricity => 150 + rng.below(200) as i64,
            entities::Resource::Gas => 10 + rng.below(30) as i64,
            _ => 3 + rng.below(6) as i64,
        };
        let mut values = [
            m.initial1_micro / 1_000_000,
            m.initial2_micro.unwrap_or(0) / 1_000_000,
        ];
        for back in (1..=4).rev() {
            let Some(month) = today.checked_sub_months(Months::new(back)) else {
                continue;
            };
            let Some(on) = month.with_day(20) else {
                continue;
            };
            values[0] += per_month;
            values[1] += per_month / 2;
            // Every fortieth meter had a month far above its usual: flagged for a check.
            if back == 1 && i % 40 == 7 && m.premises_id.is_some() {
                values[0] += per_month * 12;
            }
            let second = if m.zones > 1 {
                values[1].to_string()
            } else {
                String::new()
            };
            csv.push_str(&format!(
                "{};{resource};{on};{};{second}\n",
                m.serial, values[0]
            ));
        }
    }
    let readings =
        schema::readings::Readings::new(db.clone(), clock.clone(), crate::local_events(db, clock));
    let report = readings
        .import(
            &schema::audit::Author::system("kvartal demo", "Mutation.importReadings"),
            org,
            std::io::Cursor::new(csv.into_bytes()),
            &|_, _| {},
        )
        .await
        .map_err(|e| anyhow::anyhow!("importing the demo readings: {e}"))?;
    if let Some(e) = report.errors.first() {
        anyhow::bail!(
            "the demo readings did not import: line {} {}: {}",
            e.line,
            e.column,
            e.message
        );
    }
    Ok(report.imported)
}

/// The password of every demo user (README lists them).
/// Complaints on the board: a plumbing department (the demo engineer) that
/// leaks are routed to, and complaints in several states — one filed ten
/// days ago and still open, which the server marks overdue when it starts.
async fn demo_complaints(
    db: &DatabaseConnection,
    org: uuid::Uuid,
    locale: DemoLocale,
) -> anyhow::Result<usize> {
    use schema::complaints::routing::{RoutingRule, Target};
    use schema::complaints::service::{Complaints, Move, NewComplaint};
    use schema::complaints::workflow::Status;
    let e = |e: schema::error::AppError| anyhow::anyhow!("demo complaints: {e}");
    let user = |email: &'static str| async move {
        entities::user::Entity::find()
            .filter(entities::user::Column::Email.eq(email))
            .one(db)
            .await
            .map(|u| u.map(|u| u.id))
    };
    let Some(engineer) = user("engineer@kvartal.demo").await? else {
        return Ok(0);
    };
    let by = |op| schema::audit::Author::system("kvartal demo", op);
    let clock: Arc<dyn schema::clock::Clock> = Arc::new(SystemClock);
    let complaints = Complaints::new(db.clone(), clock.clone(), None);
    let (crew, texts): (&str, [&str; 6]) = match locale {
        DemoLocale::Ru => (
            "Сантехники",
            [
                "На кухне течёт кран, под раковиной лужа",
                "В подъезде не горит свет на 3 этаже",
                "Не работает лифт во втором подъезде",
                "Протекает стояк в ванной, капает с потолка",
                "Шумят соседи сверху после 23:00",
                "Батареи в комнате холодные уже неделю",
            ],
        ),
        DemoLocale::PtBr => (
            "Equipe hidráulica",
            [
                "Vazamento na torneira da cozinha, água no chão",
                "Sem luz no corredor do 3º andar",
                "O elevador do bloco 2 não funciona",
                "Infiltração no banheiro, goteira no teto",
                "Barulho do vizinho de cima depois das 23h",
                "O aquecimento do quarto está frio há uma semana",
            ],
        ),
        DemoLocale::En => (
            "Plumbing crew",
            [
                "The kitchen tap is leaking, water on the floor",
                "No light in the stairwell on the 3rd floor",
                "The lift in entrance 2 is not working",
                "Leak from the bathroom riser, dripping from the ceiling",
                "Noise from the neighbours upstairs after 11 pm",
                "The radiators in the bedroom have been cold for a week",
            ],
        ),
    };
    let group = complaints
        .save_group(
            &by("Mutation.saveStaffGroup"),
            org,
            None,
            "department",
            crew,
            &[engineer],
        )
        .await
        .map_err(e)?;
    complaints
        .update_setup(
            &by("Mutation.updateComplaintSetup"),
            org,
            schema::complaints::setup::Change {
                routes: Some(vec![RoutingRule {
                    category: Some("plumbing".into()),
                    house: None,
                    target: Target::Group(group.id),
                }]),
                ..Default::default()
            },
        )
        .await
        .map_err(e)?;
    // Paid services: the catalogue, one house with its own price.
    let first_house = entities::house::Entity::find()
        .filter(entities::house::Column::OrganisationId.eq(org))
        .order_by_asc(entities::house::Column::Address)
        .one(db)
        .await?
        .map(|h| h.id);
    let catalogue: [(&str, &str, &str, i64); 3] = match locale {
        DemoLocale::Ru => [
            ("meter-swap", "Замена счётчика воды", "шт.", 150000),
            ("tap-repair", "Ремонт смесителя", "шт.", 90000),
            ("socket", "Установка розетки", "шт.", 70000),
        ],
        DemoLocale::PtBr => [
            ("meter-swap", "Troca de hidrômetro", "un.", 25000),
            ("tap-repair", "Conserto de torneira", "un.", 12000),
            ("socket", "Instalação de tomada", "un.", 9000),
        ],
        DemoLocale::En => [
            ("meter-swap", "Water meter replacement", "pc", 12000),
            ("tap-repair", "Tap repair", "pc", 6000),
            ("socket", "Socket installation", "pc", 4500),
        ],
    };
    let paid = schema::services_catalog::service::PaidServices::new(
        db.clone(),
        clock.clone(),
        complaints.clone(),
        schema::payments::Payments::new(db.clone(), clock.clone(), None),
    );
    for (i, (code, name, unit, price)) in catalogue.into_iter().enumerate() {
        paid.save(
            &by("Mutation.savePaidService"),
            org,
            schema::services_catalog::service::ServiceDraft {
                id: None,
                code: code.into(),
                name: name.into(),
                category: Some(if i == 2 { "electrical" } else { "plumbing" }.into()),
                unit: unit.into(),
                price_minor: price,
                active: true,
                house_prices: match (i, first_house) {
                    (0, Some(h)) => vec![(h, price + price / 5)],
                    _ => vec![],
                },
            },
        )
        .await
        .map_err(e)?;
    }
    let accounts = entities::account::Entity::find()
        .filter(entities::account::Column::OrganisationId.eq(org))
        .order_by_asc(entities::account::Column::Number)
        .limit(6)
        .all(db)
        .await?;
    let mut filed = 0;
    for (i, (text, a)) in texts.iter().zip(&accounts).enumerate() {
        // The last one was filed ten days ago and is still not done.
        let service = if i == 5 {
            Complaints::new(
                db.clone(),
                Arc::new(schema::clock::FixedClock(
                    chrono::Utc::now() - chrono::Duration::days(10),
                )),
                None,
            )
        } else {
            complaints.clone()
        };
        let c = service
            .file(
                &by("Mutation.fileComplaint"),
                NewComplaint {
                    account_id: Some(a.id),
                    text: (*text).into(),
                    source: if i % 2 == 0 { "app" } else { "phone" }.into(),
                    contact: Some(format!("+7 900 555-0{i}-0{i}")),
                    ..Default::default()
                },
            )
            .await
            .map_err(e)?;
        filed += 1;
        let mv = |to, comment: Option<&str>| Move {
            to: Some(to),
            comment: comment.map(str::to_string),
            ..Default::default()
        };
        let op = by("Mutation.moveComplaint");
        match i {
            3 => {
                complaints
                    .move_to(&op, c.id, mv(Status::InProgress, None))
                    .await
                    .map_err(e)?;
            }
            5 => {
                complaints
                    .move_to(
                        &op,
                        c.id,
                        Move {
                            to: Some(Status::Assigned),
                            assignee: Some(engineer),
                            ..Default::default()
                        },
                    )
                    .await
                    .map_err(e)?;
            }
            _ => {}
        }
    }
    // Tasks: one for the engineer this week, one for the crew already late.
    let (a, b) = match locale {
        DemoLocale::Ru => (
            "Проверить водостоки на кровле",
            "Промыть стояки канализации",
        ),
        DemoLocale::PtBr => (
            "Verificar as calhas do telhado",
            "Limpar as colunas de esgoto",
        ),
        DemoLocale::En => ("Check the roof drains", "Flush the sewer risers"),
    };
    let now = chrono::Utc::now();
    let tasks = schema::staff::tasks::Tasks::new(db.clone(), clock.clone());
    tasks
        .create(
            &by("Mutation.createTask"),
            schema::staff::tasks::TaskDraft {
                organisation_id: org,
                title: a.into(),
                person: Some(engineer),
                link: first_house.map(|h| ("house".to_string(), h)),
                deadline: now + chrono::Duration::days(2),
                remind_minutes: 240,
                ..Default::default()
            },
        )
        .await
        .map_err(e)?;
    schema::staff::tasks::Tasks::new(
        db.clone(),
        Arc::new(schema::clock::FixedClock(now - chrono::Duration::days(3))),
    )
    .create(
        &by("Mutation.createTask"),
        schema::staff::tasks::TaskDraft {
            organisation_id: org,
            title: b.into(),
            group: Some(group.id),
            link: first_house.map(|h| ("house".to_string(), h)),
            deadline: now - chrono::Duration::days(1),
            remind_minutes: 60,
            ..Default::default()
        },
    )
    .await
    .map_err(e)?;
    Ok(filed)
}

pub const DEMO_PASSWORD: &str = "kvartal-demo-2026";

/// One user per staff role (the contractor limited to the first house) and a
/// resident of the first account, all with `DEMO_PASSWORD`.
async fn demo_users(db: &DatabaseConnection, org: uuid::Uuid) -> anyhow::Result<String> {
    use schema::auth::staff::StaffDraft;
    use schema::auth::Role;
    let auth = crate::local_auth(db, Arc::new(SystemClock));
    let by = schema::audit::Author::system("kvartal demo", "Mutation.addStaffMember");
    let first_house = entities::house::Entity::find()
        .filter(entities::house::Column::OrganisationId.eq(org))
        .order_by_asc(entities::house::Column::Address)
        .one(db)
        .await?
        .map(|h| h.id);
    let mut lines = vec![format!("demo users (password {DEMO_PASSWORD}):")];
    for role in Role::STAFF {
        let email = format!("{}@kvartal.demo", role.as_str());
        let houses = match role {
            Role::Contractor => first_house.into_iter().collect(),
            _ => Vec::new(),
        };
        auth.add_staff_member(
            &by,
            org,
            StaffDraft {
                email: email.clone(),
                display_name: format!("Demo {}", role.as_str()),
                roles: vec![role],
                houses: houses.clone(),
                password: Some(DEMO_PASSWORD.into()),
                locale: "en".into(),
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("demo user {email}: {e}"))?;
        let limit = if houses.is_empty() {
            ""
        } else {
            " (first house only)"
        };
        lines.push(format!("  {email:<28} {}{limit}", role.as_str()));
    }
    let account = entities::account::Entity::find()
        .filter(entities::account::Column::OrganisationId.eq(org))
        .order_by_asc(entities::account::Column::Number)
        .one(db)
        .await?;
    if let Some(account) = account {
        let by = schema::audit::Author::system("kvartal demo", "Mutation.issueAccessCode");
        let (_, code) = auth
            .issue_access_code(&by, account.id)
            .await
            .map_err(|e| anyhow::anyhow!("demo access code: {e}"))?;
        let meta = schema::audit::RequestMeta {
            request_id: uuid::Uuid::now_v7().to_string(),
            address: "local".into(),
            user_agent: "kvartal demo".into(),
        };
        auth.register_resident(
            &meta,
            "resident@kvartal.demo",
            "Demo resident",
            DEMO_PASSWORD.into(),
            &account.number,
            &code,
            "en",
        )
        .await
        .map_err(|e| anyhow::anyhow!("demo resident: {e}"))?;
        lines.push(format!(
            "  {:<28} resident of account {}",
            "resident@kvartal.demo", account.number
        ));
    }
    Ok(lines.join("\n"))
}
