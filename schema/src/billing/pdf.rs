//! Receipts as PDF: A4 pages drawn with krilla (fixed layout, embedded and
//! subset DejaVu Sans Condensed for Latin, accented and Cyrillic text), in the
//! organisation's locale (labels, numbers, dates) and with its template texts
//! (title, note, footer, accent colour; `{placeholders}` filled per receipt).
//! Pure: the caller assembles a [`ReceiptDoc`] from the database.
//!
//! Why krilla: exact, fast fixed-layout pages with real Unicode fonts
//! (subsetting, ToUnicode maps so the text can be searched and copied) at a
//! small build cost; typst would give richer templates at ~40 % of the
//! release build time, printpdf's built-in fonts have no Cyrillic.

use std::sync::{Arc, OnceLock};

use chrono::{Datelike, NaiveDate};
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use krilla::Document;
use rust_decimal::Decimal;

use super::calc::Period;

const REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSansCondensed.ttf");
const BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSansCondensed-Bold.ttf");

const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 40.0;

/// One line of a receipt as printed.
#[derive(Debug, Clone)]
pub struct DocLine {
    /// `charge`, `benefit` or `recalculation`.
    pub kind: String,
    pub label: String,
    pub source: String,
    pub quantity: Decimal,
    pub unit: String,
    pub tariff: Decimal,
    pub amount: Decimal,
}

/// Everything a receipt shows.
#[derive(Debug, Clone)]
pub struct ReceiptDoc {
    pub locale: String,
    pub currency: String,
    pub title: String,
    pub note: String,
    pub footer: String,
    pub accent: (u8, u8, u8),
    pub org_name: String,
    pub org_requisites: Vec<String>,
    pub period: Period,
    pub account_number: String,
    pub payer: String,
    pub address: String,
    pub area: Decimal,
    pub residents: i32,
    pub opening: Decimal,
    pub charged: Decimal,
    pub benefits: Decimal,
    pub recalculated: Decimal,
    pub penalties: Decimal,
    pub paid: Decimal,
    pub due: Decimal,
    pub due_date: NaiveDate,
    pub access_code: Option<String>,
    pub lines: Vec<DocLine>,
    /// The payment QR's text and the standard's name, or why there is none.
    pub qr: Result<(String, String), String>,
}

struct Fonts {
    regular: Font,
    bold: Font,
    regular_face: Vec<u16>,
    bold_face: Vec<u16>,
    units: f32,
}

/// Advance widths of the Basic Multilingual Plane's characters, by code point.
fn advances(data: &'static [u8]) -> (Vec<u16>, f32) {
    let Ok(face) = rustybuzz::ttf_parser::Face::parse(data, 0) else {
        return (Vec::new(), 1000.0);
    };
    let mut table = vec![0u16; 0x10000];
    for (cp, slot) in table.iter_mut().enumerate() {
        if let Some(c) = char::from_u32(cp as u32) {
            if let Some(g) = face.glyph_index(c) {
                *slot = face.glyph_hor_advance(g).unwrap_or(0);
            }
        }
    }
    (table, f32::from(face.units_per_em()))
}

fn fonts() -> Option<&'static Fonts> {
    static FONTS: OnceLock<Option<Fonts>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let data = |b: &'static [u8]| -> krilla::Data {
                (Arc::new(b) as Arc<dyn AsRef<[u8]> + Send + Sync>).into()
            };
            let (regular_face, units) = advances(REGULAR);
            let (bold_face, _) = advances(BOLD);
            Some(Fonts {
                regular: Font::new(data(REGULAR), 0)?,
                bold: Font::new(data(BOLD), 0)?,
                regular_face,
                bold_face,
                units,
            })
        })
        .as_ref()
}

/// Labels of a receipt in one language.
struct Labels {
    title: &'static str,
    payee: &'static str,
    account: &'static str,
    payer: &'static str,
    address: &'static str,
    area: &'static str,
    residents: &'static str,
    period: &'static str,
    due_date: &'static str,
    service: &'static str,
    method: &'static str,
    quantity: &'static str,
    tariff: &'static str,
    amount: &'static str,
    benefits: &'static str,
    recalculations: &'static str,
    penalties: &'static str,
    opening: &'static str,
    charged: &'static str,
    paid: &'static str,
    due: &'static str,
    code: &'static str,
    code_hint: &'static str,
    scan: &'static str,
    no_qr: &'static str,
    months: [&'static str; 12],
}

const EN: Labels = Labels {
    title: "Payment receipt",
    payee: "Payee",
    account: "Account",
    payer: "Payer",
    address: "Address",
    area: "Area, m²",
    residents: "Registered residents",
    period: "Period",
    due_date: "Pay by",
    service: "Service",
    method: "Basis",
    quantity: "Quantity",
    tariff: "Rate",
    amount: "Amount",
    benefits: "Benefits",
    recalculations: "Recalculations",
    penalties: "Late-payment penalties",
    opening: "Balance at the start of the period",
    charged: "Charged for the period",
    paid: "Payments received",
    due: "Amount due",
    code: "Access code",
    code_hint: "Join the residents' app with your account number and this code.",
    scan: "Scan to pay",
    no_qr: "No payment code",
    months: [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
};

const RU: Labels = Labels {
    title: "Единый платёжный документ",
    payee: "Получатель",
    account: "Лицевой счёт",
    payer: "Плательщик",
    address: "Адрес",
    area: "Площадь, м²",
    residents: "Зарегистрировано",
    period: "Период",
    due_date: "Оплатить до",
    service: "Услуга",
    method: "Основание",
    quantity: "Объём",
    tariff: "Тариф",
    amount: "Сумма",
    benefits: "Льготы",
    recalculations: "Перерасчёты",
    penalties: "Пени",
    opening: "Задолженность (аванс) на начало периода",
    charged: "Начислено за период",
    paid: "Поступило оплат",
    due: "Итого к оплате",
    code: "Код доступа",
    code_hint: "Подключитесь к личному кабинету по номеру лицевого счёта и этому коду.",
    scan: "Оплатить по QR-коду",
    no_qr: "QR-код недоступен",
    months: [
        "январь",
        "февраль",
        "март",
        "апрель",
        "май",
        "июнь",
        "июль",
        "август",
        "сентябрь",
        "октябрь",
        "ноябрь",
        "декабрь",
    ],
};

const PT: Labels = Labels {
    title: "Boleto de condomínio",
    payee: "Beneficiário",
    account: "Unidade / conta",
    payer: "Pagador",
    address: "Endereço",
    area: "Área, m²",
    residents: "Moradores",
    period: "Competência",
    due_date: "Vencimento",
    service: "Serviço",
    method: "Base",
    quantity: "Quantidade",
    tariff: "Tarifa",
    amount: "Valor",
    benefits: "Descontos",
    recalculations: "Ajustes",
    penalties: "Multa e juros",
    opening: "Saldo anterior",
    charged: "Cobrado no período",
    paid: "Pagamentos recebidos",
    due: "Total a pagar",
    code: "Código de acesso",
    code_hint: "Cadastre-se na área do morador com o número da conta e este código.",
    scan: "Pague com PIX",
    no_qr: "Sem código de pagamento",
    months: [
        "janeiro",
        "fevereiro",
        "março",
        "abril",
        "maio",
        "junho",
        "julho",
        "agosto",
        "setembro",
        "outubro",
        "novembro",
        "dezembro",
    ],
};

fn labels(locale: &str) -> &'static Labels {
    match locale {
        "ru" => &RU,
        "pt-BR" => &PT,
        _ => &EN,
    }
}

/// How the quantity was found, as the receipt says it.
pub fn source_label(locale: &str, source: &str) -> String {
    let (kind, rest) = source.split_once(':').unwrap_or((source, ""));
    let text = match (locale, kind) {
        ("ru", "reading") => "показания",
        ("ru", "average") => "среднее",
        ("ru", "norm") => "норматив",
        ("ru", "norm_raised") => "норматив × K",
        ("ru", "area") => "площадь",
        ("ru", "people") => "чел.",
        ("ru", "fixed") => "фикс.",
        ("ru", "house_meter") => "ОДПУ",
        ("ru", "common_norm") => "норматив ОДН",
        ("ru", "common_meter") => "ОДПУ − ИПУ, по площади",
        ("ru", "water_sum") => "ХВС + ГВС",
        ("ru", "absence") => "временное отсутствие",
        ("ru", "quality") => "качество услуги",
        ("ru", "other") => "прочее",
        ("ru", "readings_resumed") => "показания после пропуска (п. 61)",
        ("pt-BR", "reading") => "leitura",
        ("pt-BR", "average") => "média",
        ("pt-BR", "norm") => "norma",
        ("pt-BR", "norm_raised") => "norma × K",
        ("pt-BR", "area") => "área",
        ("pt-BR", "people") => "pessoas",
        ("pt-BR", "fixed") => "fixo",
        ("pt-BR", "house_meter") => "medidor geral",
        ("pt-BR", "common_norm") => "área comum",
        ("pt-BR", "common_meter") => "medidor geral − unidades, por área",
        ("pt-BR", "water_sum") => "água fria + quente",
        ("pt-BR", "absence") => "ausência",
        ("pt-BR", "quality") => "qualidade",
        ("pt-BR", "other") => "outro",
        ("pt-BR", "readings_resumed") => "leitura retomada",
        (_, "reading") => "meter",
        (_, "average") => "average",
        (_, "norm") => "norm",
        (_, "norm_raised") => "norm × K",
        (_, "area") => "area",
        (_, "people") => "people",
        (_, "fixed") => "fixed",
        (_, "house_meter") => "house meter",
        (_, "common_norm") => "common areas",
        (_, "common_meter") => "house meter − premises, by area",
        (_, "water_sum") => "cold + hot water",
        (_, "absence") => "absence",
        (_, "quality") => "service quality",
        (_, "other") => "other",
        (_, "readings_resumed") => "readings resumed",
        _ => kind,
    };
    if rest.is_empty() {
        text.to_string()
    } else {
        format!("{text}, {rest}")
    }
}

/// A number in the locale's way: `1 234,56`, `1.234,56` or `1,234.56`.
pub fn number(locale: &str, value: Decimal, places: u32) -> String {
    let v = value.round_dp(places);
    let text = format!("{:.*}", places as usize, v.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let (group, point) = match locale {
        "ru" => ('\u{a0}', ','),
        "pt-BR" => ('.', ','),
        _ => (',', '.'),
    };
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(group);
        }
        grouped.push(c);
    }
    let sign = if v.is_sign_negative() && !v.is_zero() {
        "−"
    } else {
        ""
    };
    if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}{point}{frac}")
    }
}

/// A quantity: as many places as it has, up to six.
pub fn quantity(locale: &str, value: Decimal) -> String {
    let v = value.round_dp(6).normalize();
    number(locale, v, v.scale())
}

pub fn date(locale: &str, d: NaiveDate) -> String {
    match locale {
        "ru" => d.format("%d.%m.%Y").to_string(),
        "pt-BR" => d.format("%d/%m/%Y").to_string(),
        _ => format!(
            "{} {} {}",
            d.day(),
            &EN.months[d.month0() as usize][..3],
            d.year()
        ),
    }
}

pub fn period_name(locale: &str, p: Period) -> String {
    let month = labels(locale).months[(p.month.clamp(1, 12) - 1) as usize];
    match locale {
        "pt-BR" => format!("{month} de {}", p.year),
        _ => format!("{month} {}", p.year),
    }
}

fn money(doc: &ReceiptDoc, v: Decimal) -> String {
    let symbol = match doc.currency.as_str() {
        "RUB" => "₽",
        "BRL" => "R$",
        "EUR" => "€",
        other => other,
    };
    match doc.locale.as_str() {
        "pt-BR" => format!("{symbol}\u{a0}{}", number(&doc.locale, v, 2)),
        "en" if doc.currency == "EUR" => format!("€{}", number(&doc.locale, v, 2)),
        _ => format!("{}\u{a0}{symbol}", number(&doc.locale, v, 2)),
    }
}

/// Fills `{org}`, `{period}`, `{account}`, `{payer}`, `{due_date}` and
/// `{amount_due}` in a template text.
pub fn fill(doc: &ReceiptDoc, text: &str) -> String {
    text.replace("{org}", &doc.org_name)
        .replace("{period}", &period_name(&doc.locale, doc.period))
        .replace("{account}", &doc.account_number)
        .replace("{payer}", &doc.payer)
        .replace("{due_date}", &date(&doc.locale, doc.due_date))
        .replace("{amount_due}", &money(doc, doc.due))
}

struct Pen<'a, 'b> {
    s: &'a mut Surface<'b>,
    f: &'static Fonts,
}

impl Pen<'_, '_> {
    fn width(&self, text: &str, size: f32, bold: bool) -> f32 {
        let table = if bold {
            &self.f.bold_face
        } else {
            &self.f.regular_face
        };
        let units: u32 = text
            .chars()
            .map(|c| u32::from(table.get(c as usize).copied().unwrap_or(0)))
            .sum();
        units as f32 * size / self.f.units
    }

    fn color(&mut self, (r, g, b): (u8, u8, u8)) {
        self.s.set_fill(Some(Fill {
            paint: rgb::Color::new(r, g, b).into(),
            opacity: NormalizedF32::ONE,
            rule: Default::default(),
        }));
    }

    fn text(&mut self, x: f32, y: f32, size: f32, bold: bool, text: &str) {
        if text.is_empty() {
            return;
        }
        let font = if bold {
            self.f.bold.clone()
        } else {
            self.f.regular.clone()
        };
        self.s.draw_text(
            Point::from_xy(x, y),
            font,
            size,
            text,
            false,
            TextDirection::Auto,
        );
    }

    fn right(&mut self, x: f32, y: f32, size: f32, bold: bool, text: &str) {
        let w = self.width(text, size, bold);
        self.text(x - w, y, size, bold, text);
    }

    /// Cuts `text` to `max` points wide, with an ellipsis.
    fn fit(&self, text: &str, size: f32, bold: bool, max: f32) -> String {
        if self.width(text, size, bold) <= max {
            return text.to_string();
        }
        let mut out = String::new();
        for c in text.chars() {
            if self.width(&format!("{out}{c}…"), size, bold) > max {
                break;
            }
            out.push(c);
        }
        format!("{out}…")
    }

    /// Breaks `text` into lines at most `max` points wide.
    fn wrap(&self, text: &str, size: f32, max: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for para in text.lines() {
            let mut line = String::new();
            for word in para.split_whitespace() {
                let candidate = if line.is_empty() {
                    word.to_string()
                } else {
                    format!("{line} {word}")
                };
                if self.width(&candidate, size, false) > max && !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                    line = word.to_string();
                } else {
                    line = candidate;
                }
            }
            lines.push(line);
        }
        lines
    }

    fn rect(&mut self, x: f32, y: f32, w: f32, h: f32) {
        let mut pb = PathBuilder::new();
        if let Some(r) = Rect::from_xywh(x, y, w, h) {
            pb.push_rect(r);
        }
        if let Some(path) = pb.finish() {
            self.s.draw_path(&path);
        }
    }

    fn rule(&mut self, y: f32, color: (u8, u8, u8), width: f32) {
        self.s.set_fill(None);
        self.s.set_stroke(Some(Stroke {
            paint: rgb::Color::new(color.0, color.1, color.2).into(),
            width,
            ..Default::default()
        }));
        let mut pb = PathBuilder::new();
        pb.move_to(MARGIN, y);
        pb.line_to(PAGE_W - MARGIN, y);
        if let Some(path) = pb.finish() {
            self.s.draw_path(&path);
        }
        self.s.set_stroke(None);
        self.color((0, 0, 0));
    }

    /// The QR symbol, its modules as filled squares (runs of a row merged).
    fn qr(&mut self, code: &qrcodegen::QrCode, x: f32, y: f32, side: f32) {
        let n = code.size();
        let m = side / (n + 8) as f32;
        self.color((255, 255, 255));
        self.rect(x, y, side, side);
        self.color((0, 0, 0));
        let mut pb = PathBuilder::new();
        for row in 0..n {
            let mut col = 0;
            while col < n {
                if code.get_module(col, row) {
                    let start = col;
                    while col < n && code.get_module(col, row) {
                        col += 1;
                    }
                    if let Some(r) = Rect::from_xywh(
                        x + (start + 4) as f32 * m,
                        y + (row + 4) as f32 * m,
                        (col - start) as f32 * m,
                        m,
                    ) {
                        pb.push_rect(r);
                    }
                } else {
                    col += 1;
                }
            }
        }
        if let Some(path) = pb.finish() {
            self.s.draw_path(&path);
        }
    }
}

/// Renders receipts, each from a new page, into one PDF.
/// [`render`] on a blocking thread, so that the async workers keep serving
/// while a house's receipts are laid out; at most one render per core but
/// one runs at once, which leaves a core for everyone else.
pub async fn render_apart(docs: Vec<ReceiptDoc>) -> Result<Vec<u8>, String> {
    static RENDERS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    let renders = RENDERS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        tokio::sync::Semaphore::new(cores.saturating_sub(1).max(1))
    });
    let _turn = renders
        .acquire()
        .await
        .map_err(|_| "the renderer is shutting down".to_string())?;
    tokio::task::spawn_blocking(move || render(&docs))
        .await
        .map_err(|e| format!("rendering failed: {e}"))?
}

pub fn render(docs: &[ReceiptDoc]) -> Result<Vec<u8>, String> {
    let f = fonts().ok_or("the receipt font cannot be read")?;
    let mut document = Document::new();
    if let Some(first) = docs.first() {
        let title = if docs.len() == 1 {
            format!(
                "{} {} {}",
                first.org_name, first.account_number, first.period
            )
        } else {
            format!("{} {}", first.org_name, first.period)
        };
        document.set_metadata(
            Metadata::new()
                .title(title)
                .language(first.locale.clone())
                .creator("Kvartal".into()),
        );
    }
    let settings = PageSettings::from_wh(PAGE_W, PAGE_H).ok_or("page size")?;
    for doc in docs {
        let l = labels(&doc.locale);
        let rows = table_rows(doc, l);
        let mut start = 0;
        let mut first_page = true;
        loop {
            let mut page = document.start_page_with(settings.clone());
            let mut surface = page.surface();
            let mut pen = Pen { s: &mut surface, f };
            let mut y = if first_page {
                header(&mut pen, doc, l)
            } else {
                MARGIN + 10.0
            };
            let room_after = if first_page || start > 0 { 300.0 } else { 0.0 };
            // Rows that fit before the totals block (or the page end).
            let capacity = (((PAGE_H - MARGIN - room_after) - y) / 14.0).max(5.0) as usize;
            let end = (start + capacity).min(rows.len());
            y = table(&mut pen, doc, l, &rows[start..end], y);
            if end >= rows.len() {
                totals(&mut pen, doc, l, y + 8.0);
                surface.finish();
                page.finish();
                break;
            }
            start = end;
            first_page = false;
            surface.finish();
            page.finish();
        }
    }
    document.finish().map_err(|e| format!("{e:?}"))
}

enum Row {
    Heading(String),
    Line(DocLine),
}

fn table_rows(doc: &ReceiptDoc, l: &Labels) -> Vec<Row> {
    let mut rows = Vec::new();
    for (kind, heading) in [
        ("charge", None),
        ("benefit", Some(l.benefits)),
        ("recalculation", Some(l.recalculations)),
        ("penalty", Some(l.penalties)),
    ] {
        let lines: Vec<&DocLine> = doc.lines.iter().filter(|x| x.kind == kind).collect();
        if lines.is_empty() {
            continue;
        }
        if let Some(h) = heading {
            rows.push(Row::Heading(h.to_string()));
        }
        rows.extend(lines.into_iter().cloned().map(Row::Line));
    }
    rows
}

fn header(pen: &mut Pen, doc: &ReceiptDoc, l: &Labels) -> f32 {
    let accent = doc.accent;
    pen.color(accent);
    pen.rect(0.0, 0.0, PAGE_W, 6.0);
    let title = if doc.title.trim().is_empty() {
        format!("{} — {}", l.title, period_name(&doc.locale, doc.period))
    } else {
        fill(doc, &doc.title)
    };
    pen.text(
        MARGIN,
        40.0,
        15.0,
        true,
        &pen.fit(&title, 15.0, true, PAGE_W - 2.0 * MARGIN),
    );
    pen.color((0, 0, 0));
    let mut y = 62.0;
    pen.text(MARGIN, y, 8.0, true, &format!("{}:", l.payee));
    pen.text(MARGIN + 70.0, y, 9.0, true, &doc.org_name);
    for line in &doc.org_requisites {
        y += 11.0;
        let t = pen.fit(line, 8.0, false, PAGE_W - 2.0 * MARGIN - 70.0);
        pen.text(MARGIN + 70.0, y, 8.0, false, &t);
    }
    y += 10.0;
    pen.rule(y, accent, 0.8);
    y += 16.0;
    let right = PAGE_W / 2.0 + 30.0;
    let facts: [(&str, String); 4] = [
        (l.account, doc.account_number.clone()),
        (l.payer, doc.payer.clone()),
        (l.address, doc.address.clone()),
        (l.area, quantity(&doc.locale, doc.area)),
    ];
    let facts2: [(&str, String); 4] = [
        (l.period, period_name(&doc.locale, doc.period)),
        (l.due_date, date(&doc.locale, doc.due_date)),
        (l.residents, doc.residents.to_string()),
        (l.due, money(doc, doc.due)),
    ];
    for (i, ((a, av), (b, bv))) in facts.iter().zip(facts2.iter()).enumerate() {
        let yy = y + i as f32 * 13.0;
        pen.text(MARGIN, yy, 8.0, false, &format!("{a}:"));
        let t = pen.fit(av, 9.0, i == 0, right - MARGIN - 110.0);
        pen.text(MARGIN + 95.0, yy, 9.0, i == 0, &t);
        pen.text(right, yy, 8.0, false, &format!("{b}:"));
        pen.text(right + 105.0, yy, 9.0, i == 3, bv);
    }
    y += 4.0 * 13.0 + 6.0;
    pen.rule(y, (200, 200, 200), 0.5);
    y + 16.0
}

/// Column positions: service, basis, quantity (right), unit, rate (right), amount (right).
const COLS: [f32; 6] = [MARGIN, 235.0, 370.0, 376.0, 465.0, PAGE_W - MARGIN];

fn table(pen: &mut Pen, doc: &ReceiptDoc, l: &Labels, rows: &[Row], mut y: f32) -> f32 {
    let loc = doc.locale.as_str();
    pen.color((90, 90, 90));
    pen.text(COLS[0], y, 7.5, true, l.service);
    pen.text(COLS[1], y, 7.5, true, l.method);
    pen.right(COLS[2], y, 7.5, true, l.quantity);
    pen.right(COLS[4], y, 7.5, true, l.tariff);
    pen.right(COLS[5], y, 7.5, true, l.amount);
    pen.color((0, 0, 0));
    y += 4.0;
    pen.rule(y, (200, 200, 200), 0.5);
    y += 12.0;
    for row in rows {
        match row {
            Row::Heading(h) => {
                y += 3.0;
                pen.text(COLS[0], y, 8.5, true, h);
            }
            Row::Line(x) => {
                let label = pen.fit(&x.label, 8.5, false, COLS[1] - COLS[0] - 6.0);
                pen.text(COLS[0], y, 8.5, false, &label);
                // A penalty's calculation takes the empty quantity and rate columns.
                let room = if x.kind == "penalty" {
                    COLS[4] - COLS[1] - 10.0
                } else {
                    COLS[2] - COLS[1] - 50.0
                };
                let basis = pen.fit(&source_label(loc, &x.source), 7.5, false, room);
                pen.text(COLS[1], y, 7.5, false, &basis);
                if !x.quantity.is_zero() {
                    pen.right(COLS[2], y, 8.5, false, &quantity(loc, x.quantity));
                    pen.text(COLS[3], y, 7.5, false, &x.unit);
                }
                let rate = match x.kind.as_str() {
                    "benefit" => {
                        format!("{} %", number(loc, x.tariff, x.tariff.normalize().scale()))
                    }
                    "recalculation" | "penalty" => String::new(),
                    _ => number(loc, x.tariff, x.tariff.normalize().scale().clamp(2, 4)),
                };
                pen.right(COLS[4], y, 8.5, false, &rate);
                pen.right(COLS[5], y, 8.5, false, &number(loc, x.amount, 2));
            }
        }
        y += 14.0;
    }
    y
}

fn totals(pen: &mut Pen, doc: &ReceiptDoc, l: &Labels, mut y: f32) {
    pen.rule(y - 8.0, (200, 200, 200), 0.5);
    let rows = [
        (l.opening, doc.opening, false),
        (l.charged, doc.charged, false),
        (l.benefits, doc.benefits, false),
        (l.recalculations, doc.recalculated, false),
        (l.penalties, doc.penalties, false),
        (l.paid, -doc.paid, false),
        (l.due, doc.due, true),
    ];
    let left = 300.0;
    for (label, value, bold) in rows {
        if value.is_zero() && !bold {
            continue;
        }
        let size = if bold { 11.0 } else { 8.5 };
        if bold {
            y += 4.0;
            pen.color(doc.accent);
        }
        pen.text(left, y, size, bold, label);
        pen.right(COLS[5], y, size, bold, &money(doc, value));
        pen.color((0, 0, 0));
        y += 14.0;
    }
    y += 10.0;
    let top = y;
    // Payment QR at the left, access code and texts beside it.
    let side = 130.0;
    match &doc.qr {
        Ok((payload, standard)) => match super::qr::symbol(payload) {
            Ok(code) => {
                pen.qr(&code, MARGIN - 8.0, top, side);
                pen.text(MARGIN, top + side + 8.0, 8.0, true, l.scan);
                pen.text(MARGIN, top + side + 18.0, 7.0, false, standard);
            }
            Err(e) => pen.text(
                MARGIN,
                top + 12.0,
                8.0,
                false,
                &format!("{}: {}", l.no_qr, e.reason),
            ),
        },
        Err(why) => {
            let t = pen.fit(&format!("{}: {why}", l.no_qr), 8.0, false, 150.0);
            pen.text(MARGIN, top + 12.0, 8.0, false, &t);
        }
    }
    let x = MARGIN + side + 20.0;
    let width = PAGE_W - MARGIN - x;
    let mut yy = top + 14.0;
    if let Some(code) = &doc.access_code {
        pen.text(x, yy, 8.0, false, &format!("{}:", l.code));
        pen.text(x + 90.0, yy, 11.0, true, code);
        yy += 12.0;
        for line in pen.wrap(l.code_hint, 7.5, width) {
            pen.text(x, yy, 7.5, false, &line);
            yy += 10.0;
        }
        yy += 8.0;
    }
    for line in pen.wrap(&fill(doc, &doc.note), 8.0, width) {
        pen.text(x, yy, 8.0, false, &line);
        yy += 11.0;
    }
    let footer = fill(doc, &doc.footer);
    if !footer.trim().is_empty() {
        pen.color((110, 110, 110));
        let lines = pen.wrap(&footer, 7.0, PAGE_W - 2.0 * MARGIN);
        let mut fy = PAGE_H - MARGIN + 10.0 - lines.len() as f32 * 9.0;
        for line in lines {
            pen.text(MARGIN, fy, 7.0, false, &line);
            fy += 9.0;
        }
        pen.color((0, 0, 0));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn numbers_and_dates_follow_the_locale() {
        assert_eq!(number("ru", d("1234567.5"), 2), "1\u{a0}234\u{a0}567,50");
        assert_eq!(number("pt-BR", d("-1234.567"), 2), "−1.234,57");
        assert_eq!(number("en", d("999.999"), 2), "1,000.00");
        assert_eq!(number("en", d("12"), 0), "12");
        let day = NaiveDate::from_ymd_opt(2026, 12, 15).unwrap();
        assert_eq!(date("ru", day), "15.12.2026");
        assert_eq!(date("pt-BR", day), "15/12/2026");
        assert_eq!(date("en", day), "15 Dec 2026");
        let p = Period::new(2026, 11).unwrap();
        assert_eq!(period_name("pt-BR", p), "novembro de 2026");
        assert_eq!(period_name("ru", p), "ноябрь 2026");
    }
}
