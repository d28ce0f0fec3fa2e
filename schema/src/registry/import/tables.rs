//! The tables the registry import fills in bulk, and how one object becomes a row.

use crate::bulk::{Cell, Col, Table};

pub static HOUSES: Table = Table {
    name: "houses",
    columns: &[
        ("id", Col::Uuid),
        ("organisation_id", Col::Uuid),
        ("country", Col::Text),
        ("region", Col::Text),
        ("city", Col::Text),
        ("street", Col::Text),
        ("building", Col::Text),
        ("postal_code", Col::Text),
        ("address", Col::Text),
        ("status", Col::Text),
        ("created_at", Col::Timestamp),
        ("updated_at", Col::Timestamp),
    ],
};

pub static PREMISES: Table = Table {
    name: "premises",
    columns: &[
        ("id", Col::Uuid),
        ("organisation_id", Col::Uuid),
        ("house_id", Col::Uuid),
        ("number", Col::Text),
        ("kind", Col::Text),
        ("entrance", Col::Int),
        ("floor", Col::Int),
        ("area_micro", Col::BigInt),
        ("rooms", Col::Int),
        ("status", Col::Text),
        ("created_at", Col::Timestamp),
        ("updated_at", Col::Timestamp),
    ],
};

pub static PEOPLE: Table = Table {
    name: "people",
    columns: &[
        ("id", Col::Uuid),
        ("organisation_id", Col::Uuid),
        ("full_name", Col::Text),
        ("phones", Col::Text),
        ("emails", Col::Text),
        ("preferred_channel", Col::Text),
        ("consent_personal_data", Col::Bool),
        ("consent_electronic_receipts", Col::Bool),
        ("consent_marketing", Col::Bool),
        ("natural_key", Col::Text),
        ("created_at", Col::Timestamp),
        ("updated_at", Col::Timestamp),
    ],
};

pub static ACCOUNTS: Table = Table {
    name: "accounts",
    columns: &[
        ("id", Col::Uuid),
        ("organisation_id", Col::Uuid),
        ("house_id", Col::Uuid),
        ("premises_id", Col::Uuid),
        ("number", Col::Text),
        ("number_key", Col::Text),
        ("holder_id", Col::Uuid),
        ("share_num", Col::BigInt),
        ("share_den", Col::BigInt),
        ("registered_residents", Col::Int),
        ("opened_on", Col::Date),
        ("closed_on", Col::Date),
        ("privileged_categories", Col::Text),
        ("created_at", Col::Timestamp),
        ("updated_at", Col::Timestamp),
    ],
};

pub static OCCUPANCIES: Table = Table {
    name: "occupancies",
    columns: &[
        ("id", Col::Uuid),
        ("organisation_id", Col::Uuid),
        ("premises_id", Col::Uuid),
        ("person_id", Col::Uuid),
        ("role", Col::Text),
        ("share_num", Col::BigInt),
        ("share_den", Col::BigInt),
        ("since", Col::Date),
        ("until", Col::Date),
        ("created_at", Col::Timestamp),
        ("updated_at", Col::Timestamp),
    ],
};

pub static METERS: Table = Table {
    name: "meters",
    columns: &[
        ("id", Col::Uuid),
        ("organisation_id", Col::Uuid),
        ("house_id", Col::Uuid),
        ("premises_id", Col::Uuid),
        ("serial", Col::Text),
        ("serial_key", Col::Text),
        ("resource", Col::Text),
        ("zones", Col::Int),
        ("unit", Col::Text),
        ("installed_on", Col::Date),
        ("verification_due", Col::Date),
        ("initial1_micro", Col::BigInt),
        ("initial2_micro", Col::BigInt),
        ("initial3_micro", Col::BigInt),
        ("status", Col::Text),
        ("created_at", Col::Timestamp),
        ("updated_at", Col::Timestamp),
    ],
};

pub static PERSON_TERMS: Table = Table {
    name: "person_terms",
    columns: &[
        ("organisation_id", Col::Uuid),
        ("term", Col::Text),
        ("person_id", Col::Uuid),
    ],
};

pub fn text(v: impl Into<String>) -> Cell {
    Cell::Text(v.into())
}

/// The stored string of an entity enum.
pub fn enum_text<E: sea_orm::ActiveEnum<Value = String>>(v: E) -> Cell {
    Cell::Text(v.to_value())
}
