use sea_orm::entity::prelude::*;

/// An organisation's billing rules and receipt template (see the migration
/// billing_periods); absent: the built-in defaults.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "billing_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organisation_id: Uuid,
    /// `gost`, `pix` or `epc`.
    pub qr_standard: String,
    /// Day of the next month by which a receipt is due.
    pub due_day: i32,
    pub pix_key: Option<String>,
    pub pix_city: Option<String>,
    /// GOST: the bank's correspondent account (20 digits).
    pub corresp_account: Option<String>,
    pub average_months: i32,
    pub min_months: i32,
    pub max_average_periods: i32,
    /// Common-house needs by the house meter are capped at the norm.
    pub common_house_capped: bool,
    /// Template texts; `{placeholders}` are filled per receipt.
    pub receipt_title: String,
    pub receipt_note: String,
    pub receipt_footer: String,
    /// `#rrggbb`.
    pub accent_color: String,
    /// Where a payment goes: `oldest_first` or `proportional` (by service).
    pub allocation: String,
    /// Late-payment penalties: `none`, `graduated` or `fine_interest`.
    pub penalty_rule: String,
    /// Graduated: the annual rate in percent; fine and interest: the monthly
    /// interest in percent. Decimal text.
    pub penalty_rate: String,
    /// Fine and interest: the fine in percent, once. Decimal text.
    pub penalty_fine: String,
    /// Fine and interest: days after the due date without a penalty.
    pub penalty_grace_days: i32,
    /// Graduated: from which day late each divisor applies, `31:300,91:130`.
    pub penalty_steps: String,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
