//! The registry: organisations, houses, premises, accounts, people, occupancies,
//! meters, and the terms people are found by.
//!
//! No foreign keys: every tenant row carries `organisation_id`, the services check
//! what a row points at inside their transaction, and a foreign key on `id` alone
//! could not follow the tables when they are distributed by organisation (Citus).
//! It would also cost a lookup per row in bulk imports.

use sea_orm_migration::prelude::*;

use crate::run_ddl;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261126_000001_registry"
    }
}

const UP: &str = r#"
CREATE TABLE organisations (
    id {uuid} PRIMARY KEY,
    name TEXT NOT NULL,
    currency TEXT NOT NULL,
    locale TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    legal_name TEXT NOT NULL,
    tax_id TEXT NOT NULL,
    bank_account TEXT NOT NULL,
    bank_id TEXT NOT NULL,
    bank_name TEXT NOT NULL,
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL
) {without_rowid};
CREATE TABLE houses (
    id {uuid} PRIMARY KEY,
    organisation_id {uuid} NOT NULL,
    country TEXT NOT NULL,
    region TEXT NOT NULL,
    city TEXT NOT NULL,
    street TEXT NOT NULL,
    building TEXT NOT NULL,
    postal_code TEXT NOT NULL,
    address TEXT NOT NULL,
    year_built INTEGER,
    floors INTEGER,
    entrances INTEGER,
    total_area_micro BIGINT,
    common_area_micro BIGINT,
    management_start {date},
    status TEXT NOT NULL,
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL
) {without_rowid};
CREATE UNIQUE INDEX houses_org_address ON houses (organisation_id, address);
CREATE TABLE premises (
    id {uuid} PRIMARY KEY,
    organisation_id {uuid} NOT NULL,
    house_id {uuid} NOT NULL,
    number TEXT {bytewise} NOT NULL,
    kind TEXT NOT NULL,
    entrance INTEGER,
    floor INTEGER,
    area_micro BIGINT NOT NULL,
    rooms INTEGER,
    status TEXT NOT NULL,
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL
) {without_rowid};
CREATE UNIQUE INDEX premises_house_number ON premises (house_id, number);
CREATE INDEX premises_org ON premises (organisation_id, house_id);
CREATE TABLE people (
    id {uuid} PRIMARY KEY,
    organisation_id {uuid} NOT NULL,
    full_name TEXT NOT NULL,
    phones TEXT NOT NULL,
    emails TEXT NOT NULL,
    preferred_channel TEXT NOT NULL,
    consent_personal_data {bool} NOT NULL,
    consent_electronic_receipts {bool} NOT NULL,
    consent_marketing {bool} NOT NULL,
    natural_key TEXT {bytewise} NOT NULL,
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL
) {without_rowid};
CREATE INDEX people_org_key ON people (organisation_id, natural_key);
CREATE TABLE accounts (
    id {uuid} PRIMARY KEY,
    organisation_id {uuid} NOT NULL,
    house_id {uuid} NOT NULL,
    premises_id {uuid} NOT NULL,
    number TEXT {bytewise} NOT NULL,
    number_key TEXT {bytewise} NOT NULL,
    holder_id {uuid},
    share_num BIGINT NOT NULL,
    share_den BIGINT NOT NULL,
    registered_residents INTEGER NOT NULL,
    opened_on {date} NOT NULL,
    closed_on {date},
    privileged_categories TEXT NOT NULL,
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL
) {without_rowid};
CREATE UNIQUE INDEX accounts_org_number_key ON accounts (organisation_id, number_key);
CREATE INDEX accounts_premises ON accounts (premises_id);
CREATE INDEX accounts_house ON accounts (organisation_id, house_id);
CREATE TABLE occupancies (
    id {uuid} PRIMARY KEY,
    organisation_id {uuid} NOT NULL,
    premises_id {uuid} NOT NULL,
    person_id {uuid} NOT NULL,
    role TEXT NOT NULL,
    share_num BIGINT NOT NULL,
    share_den BIGINT NOT NULL,
    since {date},
    until {date},
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL
) {without_rowid};
CREATE INDEX occupancies_premises ON occupancies (premises_id);
CREATE INDEX occupancies_person ON occupancies (person_id);
CREATE TABLE meters (
    id {uuid} PRIMARY KEY,
    organisation_id {uuid} NOT NULL,
    house_id {uuid} NOT NULL,
    premises_id {uuid},
    serial TEXT {bytewise} NOT NULL,
    serial_key TEXT {bytewise} NOT NULL,
    resource TEXT NOT NULL,
    zones INTEGER NOT NULL,
    unit TEXT NOT NULL,
    installed_on {date},
    verification_due {date},
    initial1_micro BIGINT NOT NULL,
    initial2_micro BIGINT,
    initial3_micro BIGINT,
    status TEXT NOT NULL,
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL
) {without_rowid};
CREATE UNIQUE INDEX meters_org_serial_key ON meters (organisation_id, serial_key, resource);
CREATE INDEX meters_premises ON meters (premises_id);
CREATE INDEX meters_house ON meters (organisation_id, house_id);
CREATE TABLE person_terms (
    organisation_id {uuid} NOT NULL,
    term TEXT {bytewise} NOT NULL,
    person_id {uuid} NOT NULL,
    PRIMARY KEY (organisation_id, term, person_id)
) {without_rowid};
"#;

const DOWN: &str = r#"
DROP TABLE person_terms;
DROP TABLE meters;
DROP TABLE occupancies;
DROP TABLE accounts;
DROP TABLE people;
DROP TABLE premises;
DROP TABLE houses;
DROP TABLE organisations
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_ddl(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_ddl(manager, DOWN).await
    }
}
