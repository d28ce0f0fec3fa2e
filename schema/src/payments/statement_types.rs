//! GraphQL of bank statements: importing a file (upload), the imports, their
//! lines, and the queue of credits waiting for an accountant.

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, Upload, ID};
use chrono::{DateTime, NaiveDate, Utc};
use entities::{statement_import, statement_line};
use rust_decimal::Decimal;

use super::service::Payments;
use super::statement::Request;
use super::types::Payment;
use crate::auth::author;
use crate::error::AppError;
use crate::exact::from_minor as money;
use crate::pagination::uuid;
use crate::registry::mutation::InInput;

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum StatementFormat {
    /// ISO 20022 bank-to-customer statement.
    Camt053,
    /// FEBRABAN CNAB 240, retorno.
    Cnab240,
    /// 1CClientBankExchange.
    OneC,
    /// A CSV with a column mapping.
    Csv,
}

impl StatementFormat {
    fn format(self) -> statements::Format {
        match self {
            StatementFormat::Camt053 => statements::Format::Camt053,
            StatementFormat::Cnab240 => statements::Format::Cnab240,
            StatementFormat::OneC => statements::Format::OneC,
            StatementFormat::Csv => statements::Format::Csv,
        }
    }
    fn of(code: &str) -> Self {
        match code {
            "camt053" => StatementFormat::Camt053,
            "cnab240" => StatementFormat::Cnab240,
            "1c" => StatementFormat::OneC,
            _ => StatementFormat::Csv,
        }
    }
}

/// How a bank's CSV export is read. Columns are counted from 0.
#[derive(InputObject)]
pub struct CsvMappingInput {
    #[graphql(default = ";")]
    pub separator: String,
    /// `utf-8`, `windows-1251`, `iso-8859-1` or `windows-1252`; a byte-order
    /// mark is skipped.
    #[graphql(default = "utf-8")]
    pub encoding: String,
    #[graphql(default = true)]
    pub decimal_comma: bool,
    #[graphql(default = 1)]
    pub header_rows: i32,
    /// chrono format of the date column, e.g. `%d.%m.%Y`.
    #[graphql(default = "%d.%m.%Y")]
    pub date_format: String,
    pub date: i32,
    pub amount: i32,
    /// A column starting with C (credit) or D (debit); without it the
    /// amount's sign says.
    pub direction: Option<i32>,
    pub reference: Option<i32>,
    pub payer: Option<i32>,
    pub payer_account: Option<i32>,
    pub text: i32,
}

impl CsvMappingInput {
    fn mapping(self) -> Result<statements::CsvMapping, AppError> {
        let col = |field: &str, v: i32| {
            usize::try_from(v).map_err(|_| {
                AppError::validation(format!("csvMapping.{field}"), "negative", "from 0 up")
            })
        };
        let opt = |field: &str, v: Option<i32>| v.map(|v| col(field, v)).transpose();
        let mut chars = self.separator.chars();
        let separator = match (chars.next(), chars.next()) {
            (Some(c), None) => c,
            _ => {
                return Err(AppError::validation(
                    "csvMapping.separator",
                    "invalid",
                    "one character",
                ))
            }
        };
        Ok(statements::CsvMapping {
            separator,
            encoding: self.encoding,
            decimal_comma: self.decimal_comma,
            header_rows: col("headerRows", self.header_rows)?,
            date_format: self.date_format,
            date: col("date", self.date)?,
            amount: col("amount", self.amount)?,
            direction: opt("direction", self.direction)?,
            reference: opt("reference", self.reference)?,
            payer: opt("payer", self.payer)?,
            payer_account: opt("payerAccount", self.payer_account)?,
            text: col("text", self.text)?,
        })
    }
}

#[derive(InputObject)]
pub struct ImportStatementInput {
    pub organisation_id: ID,
    pub file: Upload,
    /// Recognised from the file when left out; a CSV must be named, with its mapping.
    pub format: Option<StatementFormat>,
    pub csv_mapping: Option<CsvMappingInput>,
}

#[derive(SimpleObject)]
pub struct ImportStatementPayload {
    pub import: StatementImport,
    /// The same file was imported before: nothing was written.
    pub replayed: bool,
}

pub struct StatementImport(pub statement_import::Model);

#[Object]
impl StatementImport {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn format(&self) -> StatementFormat {
        StatementFormat::of(&self.0.format)
    }
    async fn file_name(&self) -> &str {
        &self.0.file_name
    }
    /// The statement's own identifier.
    async fn statement_ref(&self) -> Option<&str> {
        self.0.statement_ref.as_deref()
    }
    async fn bank_account(&self) -> Option<&str> {
        self.0.bank_account.as_deref()
    }
    async fn entries(&self) -> i32 {
        self.0.entries
    }
    /// Credits paid onto accounts (by the import or since, by hand).
    async fn matched(&self) -> i32 {
        self.0.matched
    }
    async fn matched_amount(&self) -> Decimal {
        money(self.0.matched_minor)
    }
    /// Credits still waiting for an accountant.
    async fn unmatched(&self) -> i32 {
        self.0.unmatched
    }
    async fn unmatched_amount(&self) -> Decimal {
        money(self.0.unmatched_minor)
    }
    /// Credits counted before (the same bank reference).
    async fn duplicates(&self) -> i32 {
        self.0.duplicates
    }
    /// Money out of the account.
    async fn debits(&self) -> i32 {
        self.0.debits
    }
    async fn debits_amount(&self) -> Decimal {
        money(self.0.debits_minor)
    }
    async fn imported_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Its lines in file order, after position `after`.
    async fn lines(
        &self,
        ctx: &Context<'_>,
        status: Option<StatementLineStatus>,
        after: Option<i32>,
        #[graphql(default = 100)] first: i32,
    ) -> Result<Vec<StatementLine>> {
        let list = ctx
            .data::<Payments>()?
            .import_lines(
                &self.0,
                status.map(StatementLineStatus::code),
                after,
                first.clamp(1, 1000) as u64,
            )
            .await?;
        Ok(list.into_iter().map(StatementLine).collect())
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum StatementLineStatus {
    /// Paid onto an account.
    Matched,
    /// Waiting for an accountant.
    Unmatched,
    /// Counted before.
    Duplicate,
    /// Money out.
    Debit,
    /// Set aside with a reason.
    Dismissed,
}

impl StatementLineStatus {
    fn code(self) -> &'static str {
        match self {
            StatementLineStatus::Matched => "matched",
            StatementLineStatus::Unmatched => "unmatched",
            StatementLineStatus::Duplicate => "duplicate",
            StatementLineStatus::Debit => "debit",
            StatementLineStatus::Dismissed => "dismissed",
        }
    }
    fn of(code: &str) -> Self {
        match code {
            "matched" => StatementLineStatus::Matched,
            "unmatched" => StatementLineStatus::Unmatched,
            "duplicate" => StatementLineStatus::Duplicate,
            "debit" => StatementLineStatus::Debit,
            _ => StatementLineStatus::Dismissed,
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum MatchedBy {
    /// A receipt's reference in the text.
    Receipt,
    /// An account number in the text.
    AccountNumber,
    /// The account this payer was matched to before.
    Payer,
    /// An accountant.
    Manual,
}

pub struct StatementLine(pub statement_line::Model);

#[Object]
impl StatementLine {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn import_id(&self) -> ID {
        ID(self.0.import_id.to_string())
    }
    /// Its line or ordinal in the file.
    async fn position(&self) -> i32 {
        self.0.position
    }
    async fn amount(&self) -> Decimal {
        money(self.0.amount_minor)
    }
    async fn booked_on(&self) -> NaiveDate {
        self.0.booked_on
    }
    async fn bank_reference(&self) -> &str {
        &self.0.bank_reference
    }
    async fn payer(&self) -> Option<&str> {
        self.0.payer.as_deref()
    }
    async fn payer_account(&self) -> Option<&str> {
        self.0.payer_account.as_deref()
    }
    async fn payer_tax_id(&self) -> Option<&str> {
        self.0.payer_tax_id.as_deref()
    }
    /// The remittance text.
    async fn text(&self) -> &str {
        &self.0.text
    }
    async fn status(&self) -> StatementLineStatus {
        StatementLineStatus::of(&self.0.status)
    }
    async fn matched_by(&self) -> Option<MatchedBy> {
        self.0.matched_by.as_deref().map(|m| match m {
            "receipt" => MatchedBy::Receipt,
            "account_number" => MatchedBy::AccountNumber,
            "payer" => MatchedBy::Payer,
            _ => MatchedBy::Manual,
        })
    }
    async fn account_id(&self) -> Option<ID> {
        self.0.account_id.map(|a| ID(a.to_string()))
    }
    async fn payment_id(&self) -> Option<ID> {
        self.0.payment_id.map(|p| ID(p.to_string()))
    }
    /// Why it was set aside.
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    async fn resolved_at(&self) -> Option<DateTime<Utc>> {
        self.0.resolved_at
    }
}

/// Credits waiting for an accountant.
#[derive(SimpleObject)]
pub struct StatementQueue {
    pub total: u64,
    /// The oldest first.
    pub lines: Vec<StatementLine>,
}

#[derive(Default)]
pub struct StatementsQuery;

#[Object]
impl StatementsQuery {
    /// The organisation's imported statements, newest first.
    async fn statement_imports(
        &self,
        ctx: &Context<'_>,
        organisation_id: ID,
        #[graphql(default = 50)] first: i32,
    ) -> Result<Vec<StatementImport>> {
        let by = author(ctx, "Query.statementImports")?;
        let org = uuid("organisationId", &organisation_id)?;
        let list = ctx
            .data::<Payments>()?
            .imports(&by, org, first.clamp(1, 500) as u64)
            .await?;
        Ok(list.into_iter().map(StatementImport).collect())
    }

    async fn statement_import(&self, ctx: &Context<'_>, id: ID) -> Result<StatementImport> {
        let by = author(ctx, "Query.statementImport")?;
        let id = uuid("id", &id)?;
        Ok(StatementImport(
            ctx.data::<Payments>()?.import(&by, id).await?,
        ))
    }

    /// Credits no account was found for, oldest first.
    async fn statement_queue(
        &self,
        ctx: &Context<'_>,
        organisation_id: ID,
        #[graphql(default = 100)] first: i32,
    ) -> Result<StatementQueue> {
        let by = author(ctx, "Query.statementQueue")?;
        let org = uuid("organisationId", &organisation_id)?;
        let (lines, total) = ctx
            .data::<Payments>()?
            .queue(&by, org, first.clamp(1, 500) as u64)
            .await?;
        Ok(StatementQueue {
            total,
            lines: lines.into_iter().map(StatementLine).collect(),
        })
    }
}

#[derive(InputObject)]
pub struct MatchStatementLineInput {
    pub line_id: ID,
    pub account_id: ID,
    /// Send this payer's next credits to the same account.
    #[graphql(default = true)]
    pub remember: bool,
}

#[derive(SimpleObject)]
pub struct MatchStatementLinePayload {
    pub line: StatementLine,
    pub payment: Payment,
}

#[derive(InputObject)]
pub struct DismissStatementLineInput {
    pub line_id: ID,
    pub reason: String,
}

#[derive(SimpleObject)]
pub struct StatementLinePayload {
    pub line: StatementLine,
}

#[derive(Default)]
pub struct StatementsMutation;

#[Object]
impl StatementsMutation {
    /// Imports a bank statement (camt.053, CNAB 240, 1CClientBankExchange or
    /// CSV): all of it or, when the file is refused, nothing. The same file
    /// again changes nothing.
    async fn import_statement(
        &self,
        ctx: &Context<'_>,
        input: ImportStatementInput,
    ) -> Result<ImportStatementPayload> {
        let by = author(ctx, "Mutation.importStatement")?;
        let org = uuid("organisationId", &input.organisation_id).input()?;
        let mut upload = input
            .file
            .value(ctx)
            .map_err(|e| AppError::validation("input.file", "unreadable_upload", e.to_string()))
            .input()?;
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut upload.content, &mut bytes)
            .map_err(|e| AppError::validation("input.file", "unreadable_upload", e.to_string()))
            .input()?;
        let mapping = input
            .csv_mapping
            .map(CsvMappingInput::mapping)
            .transpose()
            .input()?;
        let request = Request {
            file_name: upload.filename.clone(),
            format: input.format.map(StatementFormat::format),
            mapping,
        };
        let done = ctx
            .data::<Payments>()?
            .import_statement(&by, org, bytes, request, &|_| {})
            .await
            .input()?;
        Ok(ImportStatementPayload {
            import: StatementImport(done.import),
            replayed: done.replayed,
        })
    }

    /// Pays a waiting credit onto an account by hand.
    async fn match_statement_line(
        &self,
        ctx: &Context<'_>,
        input: MatchStatementLineInput,
    ) -> Result<MatchStatementLinePayload> {
        let by = author(ctx, "Mutation.matchStatementLine")?;
        let line = uuid("lineId", &input.line_id).input()?;
        let account = uuid("accountId", &input.account_id).input()?;
        let (line, payment) = ctx
            .data::<Payments>()?
            .match_line(&by, line, account, input.remember)
            .await
            .input()?;
        Ok(MatchStatementLinePayload {
            line: StatementLine(line),
            payment: Payment(payment),
        })
    }

    /// Sets a waiting credit aside, with the reason.
    async fn dismiss_statement_line(
        &self,
        ctx: &Context<'_>,
        input: DismissStatementLineInput,
    ) -> Result<StatementLinePayload> {
        let by = author(ctx, "Mutation.dismissStatementLine")?;
        let line = uuid("lineId", &input.line_id).input()?;
        let line = ctx
            .data::<Payments>()?
            .dismiss_line(&by, line, &input.reason)
            .await
            .input()?;
        Ok(StatementLinePayload {
            line: StatementLine(line),
        })
    }
}
