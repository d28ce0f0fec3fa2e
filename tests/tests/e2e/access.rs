//! Who may do what: the authorization matrix, driven over every query and
//! mutation of `schema.graphql`, two organisations, residents and house limits.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use crate::db_test;
use crate::helpers::{Caller, TestApp, PASSWORD};

const ROLES: [&str; 7] = [
    "admin",
    "accountant",
    "dispatcher",
    "engineer",
    "manager",
    "contractor",
    "resident",
];

/// The matrix file as the policy reads it: operation → rule per role.
fn matrix() -> BTreeMap<String, Vec<String>> {
    let text = include_str!("../../../schema/src/auth/matrix.txt");
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut cells = l.split_whitespace().map(str::to_string);
            let op = cells.next().unwrap();
            (op, cells.collect())
        })
        .collect()
}

/// Every field of `type Query` and `type Mutation` in the committed SDL.
fn operations() -> Vec<String> {
    let sdl = include_str!("../../../schema.graphql");
    let mut out = Vec::new();
    for root in ["Query", "Mutation"] {
        let start = sdl.find(&format!("type {root} {{")).unwrap();
        let body = &sdl[start..];
        let body = &body[..body.find("\n}").unwrap()];
        let mut in_doc = false;
        for line in body.lines().skip(1) {
            let line = line.trim();
            if line.starts_with("\"\"\"") {
                in_doc = !(in_doc || line.len() > 3 && line.ends_with("\"\"\""));
                continue;
            }
            if in_doc || line.is_empty() {
                continue;
            }
            let name: String = line
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            out.push(format!("{root}.{name}"));
        }
    }
    out
}

/// The objects of one organisation the calls point at.
#[derive(Clone, Default)]
pub struct Side {
    pub org: String,
    pub house: String,
    pub house2: String,
    pub premises: String,
    pub premises2: String,
    pub account: String,
    pub account_number: String,
    pub account2: String,
    pub person: String,
    pub person2: String,
    pub meter: String,
    pub meter2: String,
    pub occupancy: String,
    pub victim: String,
    pub reading: String,
    pub service: String,
    pub receipt: String,
    pub receipt2: String,
    pub payment: String,
    pub payment2: String,
    pub statement_import: String,
    pub complaint: String,
    pub complaint2: String,
    pub paid_service: String,
    pub task: String,
    pub admin: String,
}

async fn seed(app: &TestApp, name: &str) -> Side {
    let org = app.create_org(name).await;
    let house = app.create_house(&org, "Ленина", "1").await;
    let house2 = app.create_house(&org, "Мира", "2").await;
    let premises = app.create_premises(&house, "1", "50").await;
    let premises2 = app.create_premises(&house, "2", "60").await;
    let person = app
        .create_person(&org, "Иванов Иван", "+7 900 111-11-11")
        .await;
    let person2 = app
        .create_person(&org, "Петров Пётр", "+7 900 222-22-22")
        .await;
    let account_number = format!("{}01", name.len());
    let account = app
        .ok(
            "mutation($input: CreateAccountInput!) { createAccount(input: $input) { account { id } } }",
            json!({ "input": { "premisesId": premises, "number": account_number, "holderId": person, "openedOn": "2026-01-01" } }),
        )
        .await["createAccount"]["account"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let account2 = app
        .ok(
            "mutation($input: CreateAccountInput!) { createAccount(input: $input) { account { id } } }",
            json!({ "input": { "premisesId": premises2, "number": format!("{}02", name.len()), "holderId": person2, "openedOn": "2026-01-01" } }),
        )
        .await["createAccount"]["account"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let meter = |premises: String, serial: &'static str| async move {
        app.ok(
            "mutation($input: CreateMeterInput!) { createMeter(input: $input) { meter { id } } }",
            json!({ "input": { "premisesId": premises, "serial": serial, "resource": "COLD_WATER" } }),
        )
        .await["createMeter"]["meter"]["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let meter1 = meter(premises.clone(), "CW-1").await;
    let meter2 = meter(premises2.clone(), "CW-2").await;
    let occupancy = app
        .ok(
            "mutation($input: LinkPersonInput!) { linkPersonToPremises(input: $input) { occupancy { id } } }",
            json!({ "input": { "premisesId": premises, "personId": person, "role": "OWNER", "since": "2020-01-01" } }),
        )
        .await["linkPersonToPremises"]["occupancy"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let victim = app
        .ok(
            "mutation($input: AddStaffMemberInput!) { addStaffMember(input: $input) { member { userId } } }",
            json!({ "input": { "organisationId": org, "email": format!("victim-{}@example.org", name.len()), "displayName": "Victim", "roles": ["DISPATCHER"] } }),
        )
        .await["addStaffMember"]["member"]["userId"]
        .as_str()
        .unwrap()
        .to_string();
    let reading = app
        .ok(
            "mutation($input: SubmitReadingInput!) { submitReading(input: $input) { reading { id } } }",
            json!({ "input": { "meterId": meter1, "values": ["1"] } }),
        )
        .await["submitReading"]["reading"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let service = app
        .ok(
            "mutation($input: CreateServiceInput!) { createService(input: $input) { service { id } } }",
            json!({ "input": { "organisationId": org, "code": "cold_water", "name": "Холодная вода", "unit": "м³", "method": "METERED", "resource": "COLD_WATER" } }),
        )
        .await["createService"]["service"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.ok(
        "mutation($input: SetTariffInput!) { setTariff(input: $input) { tariff { id } } }",
        json!({ "input": { "serviceId": service, "validFrom": "2026-01-01", "zones": [{ "tiers": [{ "price": "50" }] }] } }),
    )
    .await;
    let receipts = crate::billing_run::calculated(app, &org, "2026-01").await;
    // Closed: residents see a receipt once its period is.
    app.ok(
        "mutation($org: ID!) { closePeriod(organisationId: $org, period: \"2026-01\") { status } }",
        json!({ "org": org }),
    )
    .await;
    let receipt_of = |account: &str| {
        receipts.iter().find(|r| r["accountId"] == account).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (receipt, receipt2) = (receipt_of(&account), receipt_of(&account2));
    let pay = |account: String| async move {
        app.ok(
            "mutation($input: RecordPaymentInput!) { recordPayment(input: $input) { payment { id } } }",
            json!({ "input": { "accountId": account, "amount": "100000.00", "method": "CASH", "paidOn": "2026-01-20" } }),
        )
        .await["recordPayment"]["payment"]["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (payment, payment2) = (pay(account.clone()).await, pay(account2.clone()).await);
    let statement_import = waiting_credit(app, &org, &format!("SEED-{}", name.len()))
        .await
        .0;
    let file = |account: String| async move {
        app.ok(
            "mutation($input: FileComplaintInput!) { fileComplaint(input: $input) { complaint { id } } }",
            json!({ "input": { "accountId": account, "text": "Течёт кран на кухне", "source": "PHONE", "contact": "Иванов, +7 900 111-11-11" } }),
        )
        .await["fileComplaint"]["complaint"]["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (complaint, complaint2) = (file(account.clone()).await, file(account2.clone()).await);
    let paid_service = app
        .ok(
            crate::paid_services::SAVE,
            json!({ "input": { "organisationId": org, "code": "repair", "name": "Ремонт", "category": "plumbing", "unit": "час", "price": "900.00" } }),
        )
        .await["savePaidService"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let admin = app.ok("{ me { id } }", json!({})).await["me"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let task = app
        .ok(
            "mutation($input: CreateTaskInput!) { createTask(input: $input) { id } }",
            json!({ "input": { "organisationId": org, "title": "Осмотр кровли", "personId": admin, "deadline": "2030-01-01T09:00:00Z" } }),
        )
        .await["createTask"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    Side {
        task,
        admin,
        paid_service,
        statement_import,
        complaint,
        complaint2,
        receipt,
        receipt2,
        payment,
        payment2,
        org,
        house,
        house2,
        premises,
        premises2,
        account,
        account_number,
        account2,
        person,
        person2,
        meter: meter1,
        meter2,
        occupancy,
        victim,
        reading,
        service,
    }
}

/// One call per operation: its document and its variables against a side.
/// `other`: the variables pointing at an object of the same organisation that
/// a resident does not own, for `own` rules.
struct Call {
    query: &'static str,
    vars: fn(&Side, &str) -> Value,
    other: Option<fn(&Side, &str) -> Value>,
    /// Points at an organisation's object, so that another organisation's staff
    /// must get NOT_FOUND.
    targeted: bool,
    /// The variables for a role, where the object must suit the role (an
    /// attachment is seen through its owner's own row).
    for_role: Option<fn(&Side, &str, &str) -> Value>,
}

/// Accountants see account documents, not complaints: their attachment calls
/// go to the account.
fn attachment_owner(s: &Side, _: &str, role: &str) -> Value {
    if role == "accountant" {
        json!({ "t": "ACCOUNT", "id": s.account })
    } else {
        json!({ "t": "COMPLAINT", "id": s.complaint })
    }
}

fn calls() -> BTreeMap<&'static str, Call> {
    let mut m = BTreeMap::new();
    let mut add = |op,
                   query,
                   vars: fn(&Side, &str) -> Value,
                   other: Option<fn(&Side, &str) -> Value>,
                   targeted| {
        m.insert(
            op,
            Call {
                query,
                vars,
                other,
                targeted,
                for_role: None,
            },
        );
    };
    add("Query.me", "{ me { id } }", |_, _| json!({}), None, false);
    add(
        "Query.organisation",
        "query($id: ID!) { organisation(id: $id) { id } }",
        |s, _| json!({ "id": s.org }),
        None,
        true,
    );
    add(
        "Query.organisations",
        "{ organisations { totalCount } }",
        |_, _| json!({}),
        None,
        false,
    );
    add(
        "Query.house",
        "query($id: ID!) { house(id: $id) { id } }",
        |s, _| json!({ "id": s.house }),
        Some(|s, _| json!({ "id": s.house2 })),
        true,
    );
    add(
        "Query.houses",
        "query($org: ID!) { houses(organisationId: $org) { totalCount } }",
        |s, _| json!({ "org": s.org }),
        None,
        true,
    );
    add(
        "Query.premises",
        "query($id: ID!) { premises(id: $id) { id } }",
        |s, _| json!({ "id": s.premises }),
        Some(|s, _| json!({ "id": s.premises2 })),
        true,
    );
    add(
        "Query.premisesList",
        "query($org: ID!) { premisesList(organisationId: $org) { totalCount } }",
        |s, _| json!({ "org": s.org }),
        None,
        true,
    );
    add(
        "Query.account",
        "query($id: ID!) { account(id: $id) { id } }",
        |s, _| json!({ "id": s.account }),
        Some(|s, _| json!({ "id": s.account2 })),
        true,
    );
    add(
        "Query.accounts",
        "query($org: ID!) { accounts(organisationId: $org) { totalCount } }",
        |s, _| json!({ "org": s.org }),
        None,
        true,
    );
    add(
        "Query.person",
        "query($id: ID!) { person(id: $id) { id } }",
        |s, _| json!({ "id": s.person }),
        Some(|s, _| json!({ "id": s.person2 })),
        true,
    );
    add(
        "Query.people",
        "query($org: ID!) { people(organisationId: $org) { totalCount } }",
        |s, _| json!({ "org": s.org }),
        None,
        true,
    );
    add(
        "Query.meter",
        "query($id: ID!) { meter(id: $id) { id } }",
        |s, _| json!({ "id": s.meter }),
        Some(|s, _| json!({ "id": s.meter2 })),
        true,
    );
    add(
        "Query.meters",
        "query($org: ID!) { meters(organisationId: $org) { totalCount } }",
        |s, _| json!({ "org": s.org }),
        None,
        true,
    );
    add(
        "Query.search",
        "query($org: ID!) { search(organisationId: $org, text: \"Ив\") { kind } }",
        |s, _| json!({ "org": s.org }),
        None,
        true,
    );
    add(
        "Query.members",
        "query($org: ID!) { members(organisationId: $org) { email } }",
        |s, _| json!({ "org": s.org }),
        None,
        true,
    );
    add(
        "Query.auditLog",
        "query($org: ID!) { auditLog(organisationId: $org) { totalCount } }",
        |s, _| json!({ "org": s.org }),
        None,
        true,
    );
    add(
        "Query.mySessions",
        "{ mySessions { method } }",
        |_, _| json!({}),
        None,
        false,
    );
    add(
        "Query.myPasskeys",
        "{ myPasskeys { id name } }",
        |_, _| json!({}),
        None,
        false,
    );
    add(
        "Mutation.requestEmailCode",
        "mutation { requestEmailCode(input: {email: \"nobody@example.org\"}) { ok } }",
        |_, _| json!({}),
        None,
        false,
    );
    add("Mutation.loginWithEmailCode", "mutation { loginWithEmailCode(input: {email: \"nobody@example.org\", code: \"000000\"}) { userId } }", |_, _| json!({}), None, false);
    add(
        "Mutation.startPasskeyLogin",
        "mutation { startPasskeyLogin { ceremonyId options } }",
        |_, _| json!({}),
        None,
        false,
    );
    add("Mutation.finishPasskeyLogin", "mutation($input: FinishPasskeyLoginInput!) { finishPasskeyLogin(input: $input) { userId } }",
        |_, _| json!({ "input": { "ceremonyId": uuid::Uuid::now_v7().to_string(), "credential": {} } }), None, false);
    add(
        "Mutation.startPasskeyRegistration",
        "mutation { startPasskeyRegistration { ceremonyId options } }",
        |_, _| json!({}),
        None,
        false,
    );
    add("Mutation.finishPasskeyRegistration", "mutation($input: FinishPasskeyRegistrationInput!) { finishPasskeyRegistration(input: $input) { passkey { id } } }",
        |_, _| json!({ "input": { "ceremonyId": uuid::Uuid::now_v7().to_string(), "credential": {}, "name": "Key" } }), None, false);
    add(
        "Mutation.renamePasskey",
        "mutation($input: RenamePasskeyInput!) { renamePasskey(input: $input) { passkey { id } } }",
        |_, _| json!({ "input": { "id": uuid::Uuid::now_v7().to_string(), "name": "Key" } }),
        None,
        false,
    );
    add(
        "Mutation.removePasskey",
        "mutation($input: RemovePasskeyInput!) { removePasskey(input: $input) { ok } }",
        |_, _| json!({ "input": { "id": uuid::Uuid::now_v7().to_string() } }),
        None,
        false,
    );
    add("Mutation.inviteResident", "mutation($input: InviteResidentInput!) { inviteResident(input: $input) { account { id } } }",
        |s, u| json!({ "input": { "accountId": s.account2, "email": format!("invitee-{u}@example.org") } }), None, true);
    add("Mutation.login", "mutation { login(input: {email: \"nobody@example.org\", password: \"not the password\"}) { userId } }", |_, _| json!({}), None, false);
    add(
        "Mutation.registerResident",
        "mutation($input: RegisterResidentInput!) { registerResident(input: $input) { userId } }",
        |_, u| json!({ "input": { "email": format!("join-{u}@example.org"), "displayName": "J", "password": PASSWORD, "accountNumber": "nope", "code": "WRONG-CODE" } }),
        None,
        false,
    );
    add(
        "Mutation.logout",
        "mutation { logout { ok } }",
        |_, _| json!({}),
        None,
        false,
    );
    add(
        "Mutation.logoutEverywhere",
        "mutation { logoutEverywhere { ended } }",
        |_, _| json!({}),
        None,
        false,
    );
    add(
        "Mutation.changePassword",
        "mutation($input: ChangePasswordInput!) { changePassword(input: $input) { ok } }",
        |_, _| json!({ "input": { "currentPassword": PASSWORD, "newPassword": PASSWORD } }),
        None,
        false,
    );
    add(
        "Mutation.answerAddressClaim",
        "mutation($input: AnswerAddressClaimInput!) { answerAddressClaim(input: $input) { kept } }",
        |_, _| json!({ "input": { "registeredByMe": true } }),
        None,
        false,
    );
    add(
        "Mutation.claimAccount",
        "mutation($input: ClaimAccountInput!) { claimAccount(input: $input) { account { id } } }",
        |s, _| json!({ "input": { "accountNumber": s.account_number, "code": "WRONG-CODE" } }),
        None,
        false,
    );
    add("Mutation.createOrganisation", "mutation($input: CreateOrganisationInput!) { createOrganisation(input: $input) { organisation { id } } }",
        |_, u| json!({ "input": { "name": format!("Org {u}"), "currency": "EUR", "locale": "en", "timeZone": "UTC" } }), None, false);
    add("Mutation.updateOrganisation", "mutation($input: UpdateOrganisationInput!) { updateOrganisation(input: $input) { organisation { id } } }",
        |s, _| json!({ "input": { "id": s.org, "bankName": "Bank" } }), None, true);
    add(
        "Mutation.createHouse",
        "mutation($input: CreateHouseInput!) { createHouse(input: $input) { house { id } } }",
        |s, u| json!({ "input": { "organisationId": s.org, "city": "Город", "street": format!("Улица {u}"), "building": "1" } }),
        None,
        true,
    );
    add(
        "Mutation.updateHouse",
        "mutation($input: UpdateHouseInput!) { updateHouse(input: $input) { house { id } } }",
        |s, _| json!({ "input": { "id": s.house, "floors": 9 } }),
        Some(|s, _| json!({ "input": { "id": s.house2, "floors": 9 } })),
        true,
    );
    add(
        "Mutation.archiveHouse",
        "mutation($input: IdInput!) { archiveHouse(input: $input) { house { id } } }",
        |s, _| json!({ "input": { "id": s.house } }),
        None,
        true,
    );
    add("Mutation.createPremises", "mutation($input: CreatePremisesInput!) { createPremises(input: $input) { premises { id } } }",
        |s, u| json!({ "input": { "houseId": s.house, "number": format!("P{u}"), "area": "40" } }), None, true);
    add("Mutation.updatePremises", "mutation($input: UpdatePremisesInput!) { updatePremises(input: $input) { premises { id } } }",
        |s, _| json!({ "input": { "id": s.premises, "rooms": 2 } }), None, true);
    add(
        "Mutation.archivePremises",
        "mutation($input: IdInput!) { archivePremises(input: $input) { premises { id } } }",
        |s, _| json!({ "input": { "id": s.premises } }),
        None,
        true,
    );
    add(
        "Mutation.createAccount",
        "mutation($input: CreateAccountInput!) { createAccount(input: $input) { account { id } } }",
        |s, u| json!({ "input": { "premisesId": s.premises2, "number": format!("A{u}"), "share": "1%", "openedOn": "2026-01-01" } }),
        None,
        true,
    );
    add(
        "Mutation.updateAccount",
        "mutation($input: UpdateAccountInput!) { updateAccount(input: $input) { account { id } } }",
        |s, _| json!({ "input": { "id": s.account, "registeredResidents": 3 } }),
        None,
        true,
    );
    add(
        "Mutation.closeAccount",
        "mutation($input: CloseAccountInput!) { closeAccount(input: $input) { account { id } } }",
        |s, _| json!({ "input": { "id": s.account2, "closedOn": "2000-01-01" } }),
        None,
        true,
    );
    add(
        "Mutation.createPerson",
        "mutation($input: CreatePersonInput!) { createPerson(input: $input) { person { id } } }",
        |s, u| json!({ "input": { "organisationId": s.org, "fullName": format!("Person {u}") } }),
        None,
        true,
    );
    add(
        "Mutation.updatePerson",
        "mutation($input: UpdatePersonInput!) { updatePerson(input: $input) { person { id } } }",
        |s, _| json!({ "input": { "id": s.person, "phones": ["+7 900 111-11-12"] } }),
        Some(|s, _| json!({ "input": { "id": s.person2, "phones": ["+7 900 111-11-13"] } })),
        true,
    );
    add("Mutation.linkPersonToPremises", "mutation($input: LinkPersonInput!) { linkPersonToPremises(input: $input) { occupancy { id } } }",
        |s, _| json!({ "input": { "premisesId": s.premises2, "personId": s.person2, "role": "TENANT" } }), None, true);
    add(
        "Mutation.endOccupancy",
        "mutation($input: EndOccupancyInput!) { endOccupancy(input: $input) { occupancy { id } } }",
        |s, _| json!({ "input": { "id": s.occupancy, "until": "2000-01-01" } }),
        None,
        true,
    );
    add(
        "Mutation.createMeter",
        "mutation($input: CreateMeterInput!) { createMeter(input: $input) { meter { id } } }",
        |s, u| json!({ "input": { "premisesId": s.premises, "serial": format!("S{u}"), "resource": "HOT_WATER" } }),
        None,
        true,
    );
    add(
        "Mutation.updateMeter",
        "mutation($input: UpdateMeterInput!) { updateMeter(input: $input) { meter { id } } }",
        |s, _| json!({ "input": { "id": s.meter, "unit": "m3" } }),
        None,
        true,
    );
    add(
        "Mutation.setMeterStatus",
        "mutation($input: SetMeterStatusInput!) { setMeterStatus(input: $input) { meter { id } } }",
        |s, _| json!({ "input": { "id": s.meter2, "status": "ACTIVE" } }),
        None,
        true,
    );
    add(
        "Query.readings",
        "query($org: ID!) { readings(organisationId: $org) { totalCount } }",
        |s, _| json!({ "org": s.org }),
        None,
        true,
    );
    add(
        "Query.meterHistory",
        "query($id: ID!) { meterHistory(meterId: $id) { periods { period } } }",
        |s, _| json!({ "id": s.meter }),
        Some(|s, _| json!({ "id": s.meter2 })),
        true,
    );
    add(
        "Query.readingSettings",
        "query($org: ID!, $house: ID) { readingSettings(organisationId: $org, houseId: $house) { flagFactor } }",
        |s, _| json!({ "org": s.org, "house": s.house }),
        Some(|s, _| json!({ "org": s.org, "house": s.house2 })),
        true,
    );
    add(
        "Mutation.submitReading",
        "mutation($input: SubmitReadingInput!) { submitReading(input: $input) { reading { id } } }",
        |s, u| json!({ "input": { "meterId": s.meter, "values": [reading_value(u)] } }),
        Some(|s, u| json!({ "input": { "meterId": s.meter2, "values": [reading_value(u)] } })),
        true,
    );
    add(
        "Mutation.correctReading",
        "mutation($input: CorrectReadingInput!) { correctReading(input: $input) { reading { id } } }",
        |s, u| json!({ "meter": s.meter, "value": reading_value(u) }),
        None,
        true,
    );
    add(
        "Mutation.reviewReading",
        "mutation($id: ID!) { reviewReading(id: $id) { reading { id } } }",
        |s, _| json!({ "id": s.reading }),
        None,
        true,
    );
    add(
        "Mutation.importReadings",
        "",
        |s, u| json!({ "org": s.org, "value": reading_value(u) }),
        None,
        true,
    );
    add(
        "Mutation.setReadingSettings",
        "mutation($input: SetReadingSettingsInput!) { setReadingSettings(input: $input) { flagFactor } }",
        |s, _| json!({ "input": { "organisationId": s.org, "flagFactor": "4" } }),
        None,
        true,
    );
    add(
        "Query.services",
        "query($org: ID!) { services(organisationId: $org) { id code } }",
        |s, _| json!({ "org": s.org }),
        None,
        true,
    );
    add(
        "Query.tariffs",
        "query($id: ID!, $house: ID) { tariffs(serviceId: $id, houseId: $house) { validFrom } }",
        |s, _| json!({ "id": s.service, "house": s.house }),
        None,
        true,
    );
    add(
        "Query.norms",
        "query($id: ID!) { norms(serviceId: $id) { value } }",
        |s, _| json!({ "id": s.service }),
        None,
        true,
    );
    add(
        "Mutation.setNorm",
        "mutation($input: SetNormInput!) { setNorm(input: $input) { norm { id } } }",
        |s, u| {
            let n: u32 = u
                .trim_start_matches(|c: char| !c.is_ascii_digit())
                .parse()
                .unwrap_or(0);
            json!({ "input": { "serviceId": s.service, "houseId": s.house, "basis": "PERSON", "validFrom": format!("{}-{:02}-01", 2030 + n / 12, 1 + n % 12), "value": "6.935" } })
        },
        None,
        true,
    );
    add(
        "Mutation.createService",
        "mutation($input: CreateServiceInput!) { createService(input: $input) { service { id } } }",
        |s, u| json!({ "input": { "organisationId": s.org, "code": format!("fee_{}", u.to_lowercase().replace(|c: char| !c.is_ascii_alphanumeric(), "_")), "name": "Fee", "unit": "premises", "method": "FIXED" } }),
        None,
        true,
    );
    add(
        "Mutation.updateService",
        "mutation($input: UpdateServiceInput!) { updateService(input: $input) { service { id } } }",
        |s, _| json!({ "input": { "id": s.service, "name": "Холодная вода" } }),
        None,
        true,
    );
    add(
        "Mutation.setTariff",
        "mutation($input: SetTariffInput!) { setTariff(input: $input) { tariff { id } } }",
        |s, u| {
            let n: u32 = u
                .trim_start_matches(|c: char| !c.is_ascii_digit())
                .parse()
                .unwrap_or(0);
            json!({ "input": { "serviceId": s.service, "houseId": s.house, "validFrom": format!("{}-{:02}-01", 2030 + n / 12, 1 + n % 12), "zones": [{ "tiers": [{ "price": "49.13" }] }] } })
        },
        None,
        true,
    );
    add(
        "Query.billingSettings",
        "query($org: ID!) { billingSettings(organisationId: $org) { dueDay } }",
        |s, _| json!({ "org": s.org }),
        None,
        true,
    );
    add(
        "Query.benefitCategories",
        "query($org: ID!) { benefitCategories(organisationId: $org) { code } }",
        |s, _| json!({ "org": s.org }),
        None,
        true,
    );
    add(
        "Query.billingPeriods",
        "query($org: ID!) { billingPeriods(organisationId: $org) { period status } }",
        |s, _| json!({ "org": s.org }),
        None,
        true,
    );
    add(
        "Query.receipts",
        "query($org: ID!) { receipts(organisationId: $org, period: \"2026-01\") { total } }",
        |s, _| json!({ "org": s.org }),
        None,
        true,
    );
    add(
        "Query.receipt",
        "query($id: ID!) { receipt(id: $id) { id amountDue lines { amount } } }",
        |s, _| json!({ "id": s.receipt }),
        Some(|s, _| json!({ "id": s.receipt2 })),
        true,
    );
    add(
        "Query.accountReceipts",
        "query($id: ID!) { accountReceipts(accountId: $id) { id } }",
        |s, _| json!({ "id": s.account }),
        Some(|s, _| json!({ "id": s.account2 })),
        true,
    );
    add(
        "Query.recalculations",
        "query($id: ID!) { recalculations(accountId: $id) { id } }",
        |s, _| json!({ "id": s.account }),
        Some(|s, _| json!({ "id": s.account2 })),
        true,
    );
    add(
        "Query.payments",
        "query($org: ID!) { payments(organisationId: $org) { id } }",
        |s, _| json!({ "org": s.org }),
        None,
        true,
    );
    add(
        "Query.accountPayments",
        "query($id: ID!) { accountPayments(accountId: $id) { id } }",
        |s, _| json!({ "id": s.account }),
        Some(|s, _| json!({ "id": s.account2 })),
        true,
    );
    add(
        "Query.payment",
        "query($id: ID!) { payment(id: $id) { id amount returns { kind } } }",
        |s, _| json!({ "id": s.payment }),
        Some(|s, _| json!({ "id": s.payment2 })),
        true,
    );
    add(
        "Query.accountBalance",
        "query($id: ID!) { accountBalance(accountId: $id) { balance } }",
        |s, _| json!({ "id": s.account }),
        Some(|s, _| json!({ "id": s.account2 })),
        true,
    );
    add(
        "Query.ledger",
        "query($id: ID!) { ledger(accountId: $id) { amount } }",
        |s, _| json!({ "id": s.account }),
        Some(|s, _| json!({ "id": s.account2 })),
        true,
    );
    add(
        "Mutation.recordPayment",
        "mutation($input: RecordPaymentInput!) { recordPayment(input: $input) { replayed } }",
        |s, _| json!({ "input": { "accountId": s.account, "amount": "1.00", "method": "CARD", "paidOn": "2026-01-21" } }),
        Some(
            |s, _| json!({ "input": { "accountId": s.account2, "amount": "1.00", "method": "CARD", "paidOn": "2026-01-21" } }),
        ),
        true,
    );
    add(
        "Mutation.refundPayment",
        "mutation($input: RefundPaymentInput!) { refundPayment(input: $input) { paymentReturn { kind } } }",
        |s, _| json!({ "input": { "paymentId": s.payment, "amount": "0.01", "reason": "переплата" } }),
        Some(|s, _| json!({ "input": { "paymentId": s.payment2, "amount": "0.01", "reason": "переплата" } })),
        true,
    );
    add(
        "Mutation.reversePayment",
        "mutation($input: ReversePaymentInput!) { reversePayment(input: $input) { paymentReturn { kind } } }",
        |s, _| json!({ "input": { "paymentId": s.payment, "reason": "ошибка" } }),
        Some(|s, _| json!({ "input": { "paymentId": s.payment2, "reason": "ошибка" } })),
        true,
    );
    add(
        "Query.complaint",
        "query($id: ID!) { complaint(id: $id) { id number status history { kind } } }",
        |s, _| json!({ "id": s.complaint }),
        Some(|s, _| json!({ "id": s.complaint2 })),
        true,
    );
    add(
        "Query.complaints",
        "query($org: ID!) { complaints(organisationId: $org) { id } }",
        |s, _| json!({ "org": s.org }),
        None,
        true,
    );
    add(
        "Mutation.fileComplaint",
        "mutation($input: FileComplaintInput!) { fileComplaint(input: $input) { complaint { id } } }",
        |s, _| json!({ "input": { "accountId": s.account, "text": "Не работает свет в подъезде", "source": "PHONE", "contact": "Петров" } }),
        Some(|s, _| json!({ "input": { "accountId": s.account2, "text": "Не работает свет в подъезде", "source": "PHONE", "contact": "Петров" } })),
        true,
    );
    add(
        "Mutation.moveComplaint",
        "mutation($input: MoveComplaintInput!) { moveComplaint(input: $input) { complaint { status } } }",
        |s, _| json!({ "input": { "id": s.complaint, "status": "IN_PROGRESS" } }),
        Some(|s, _| json!({ "input": { "id": s.complaint2, "status": "IN_PROGRESS" } })),
        true,
    );
    add(
        "Mutation.commentComplaint",
        "mutation($input: CommentComplaintInput!) { commentComplaint(input: $input) { entry { kind } } }",
        |s, _| json!({ "input": { "id": s.complaint, "text": "Придём завтра с 10 до 12" } }),
        Some(|s, _| json!({ "input": { "id": s.complaint2, "text": "Придём завтра с 10 до 12" } })),
        true,
    );
    add(
        "Mutation.reclassifyComplaint",
        "mutation($id: ID!) { reclassifyComplaint(id: $id, category: \"plumbing\") { complaint { category } } }",
        |s, _| json!({ "id": s.complaint }),
        None,
        true,
    );
    add(
        "Mutation.rateComplaint",
        "mutation($id: ID!) { rateComplaint(id: $id, stars: 5) { complaint { rating } } }",
        |s, _| json!({ "id": s.complaint }),
        Some(|s, _| json!({ "id": s.complaint2 })),
        true,
    );
    add(
        "Query.complaintSetup",
        "query($org: ID!) { complaintSetup(organisationId: $org) { reopenDays categories } }",
        |s, _| json!({ "org": s.org }),
        None,
        true,
    );
    add(
        "Query.complaintCategories",
        "query($org: ID!) { complaintCategories(organisationId: $org) }",
        |s, _| json!({ "org": s.org }),
        None,
        true,
    );
    add(
        "Query.complaintAssignees",
        "query($org: ID!, $h: ID) { complaintAssignees(organisationId: $org, houseId: $h) { userId name open } }",
        |s, _| json!({ "org": s.org, "h": s.house }),
        None,
        true,
    );
    add(
        "Mutation.updateComplaintSetup",
        "mutation($input: UpdateComplaintSetupInput!) { updateComplaintSetup(input: $input) { reopenDays } }",
        |s, _| json!({ "input": { "organisationId": s.org, "reopenDays": 7 } }),
        None,
        true,
    );
    add(
        "Mutation.saveStaffGroup",
        "mutation($input: SaveStaffGroupInput!) { saveStaffGroup(input: $input) { id } }",
        |s, u| json!({ "input": { "organisationId": s.org, "kind": "CONTRACTOR", "name": format!("Подрядчик {u}") } }),
        None,
        true,
    );
    add(
        "Query.staffTasks",
        "query($org: ID!) { staffTasks(organisationId: $org) { id status } }",
        |s, _| json!({ "org": s.org }),
        None,
        true,
    );
    add(
        "Query.taskOverview",
        "query($org: ID!) { taskOverview(organisationId: $org) { name open } }",
        |s, _| json!({ "org": s.org }),
        None,
        true,
    );
    add(
        "Mutation.createTask",
        "mutation($input: CreateTaskInput!) { createTask(input: $input) { id } }",
        |s, u| json!({ "input": { "organisationId": s.org, "title": format!("Задача {u}"), "personId": s.admin, "deadline": "2030-01-01T09:00:00Z" } }),
        None,
        true,
    );
    add(
        "Mutation.updateTaskStatus",
        "mutation($input: UpdateTaskStatusInput!) { updateTaskStatus(input: $input) { status } }",
        |s, _| json!({ "input": { "id": s.task, "status": "IN_PROGRESS" } }),
        None,
        true,
    );
    add(
        "Query.paidServices",
        "query($org: ID!) { paidServices(organisationId: $org) { id price } }",
        |s, _| json!({ "org": s.org }),
        None,
        true,
    );
    add(
        "Query.serviceOrders",
        "query($org: ID!) { serviceOrders(organisationId: $org) { id } }",
        |s, _| json!({ "org": s.org }),
        None,
        true,
    );
    add(
        "Mutation.savePaidService",
        crate::paid_services::SAVE,
        |s, u| json!({ "input": { "organisationId": s.org, "code": format!("svc-{u}"), "name": "Чистка вентиляции", "unit": "шт.", "price": "500.00" } }),
        None,
        true,
    );
    add(
        "Mutation.orderPaidService",
        "mutation($input: OrderPaidServiceInput!) { orderPaidService(input: $input) { order { id } } }",
        |s, _| json!({ "input": { "serviceId": s.paid_service, "accountId": s.account } }),
        Some(|s, _| json!({ "input": { "serviceId": s.paid_service, "accountId": s.account2 } })),
        true,
    );
    add(
        "Query.attachments",
        "query($t: AttachmentOwner!, $id: ID!) { attachments(ownerType: $t, ownerId: $id) { id } }",
        |s, _| json!({ "t": "COMPLAINT", "id": s.complaint }),
        Some(|s, _| json!({ "t": "COMPLAINT", "id": s.complaint2 })),
        true,
    );
    add(
        "Mutation.uploadAttachment",
        crate::files::UPLOAD,
        |s, _| json!({ "t": "COMPLAINT", "id": s.complaint }),
        Some(|s, _| json!({ "t": "COMPLAINT", "id": s.complaint2 })),
        true,
    );
    add(
        "Mutation.deleteAttachment",
        "mutation($id: ID!) { deleteAttachment(id: $id) { id } }",
        |s, _| json!({ "t": "COMPLAINT", "id": s.complaint }),
        Some(|s, _| json!({ "t": "COMPLAINT", "id": s.complaint2 })),
        true,
    );
    add(
        "Query.statementImports",
        "query($org: ID!) { statementImports(organisationId: $org) { id } }",
        |s, _| json!({ "org": s.org }),
        None,
        true,
    );
    add(
        "Query.statementImport",
        "query($id: ID!) { statementImport(id: $id) { id lines { id } } }",
        |s, _| json!({ "id": s.statement_import }),
        None,
        true,
    );
    add(
        "Query.debtors",
        "query($org: ID!) { debtors(organisationId: $org) { count debtors { number } } }",
        |s, _| json!({ "org": s.org }),
        None,
        true,
    );
    add(
        "Query.statementQueue",
        "query($org: ID!) { statementQueue(organisationId: $org) { total } }",
        |s, _| json!({ "org": s.org }),
        None,
        true,
    );
    add(
        "Mutation.importStatement",
        crate::statements::IMPORT,
        |s, u| json!({ "org": s.org, "unique": u }),
        None,
        true,
    );
    add(
        "Mutation.matchStatementLine",
        "mutation($input: MatchStatementLineInput!) { matchStatementLine(input: $input) { line { status } } }",
        |s, u| json!({ "org": s.org, "account": s.account, "unique": u }),
        None,
        true,
    );
    add(
        "Mutation.dismissStatementLine",
        "mutation($input: DismissStatementLineInput!) { dismissStatementLine(input: $input) { line { status } } }",
        |s, u| json!({ "org": s.org, "unique": u }),
        None,
        true,
    );
    add(
        "Mutation.setBillingSettings",
        "mutation($input: BillingSettingsInput!) { setBillingSettings(input: $input) { dueDay } }",
        |s, _| json!({ "input": { "organisationId": s.org, "qrStandard": "GOST", "dueDay": 15 } }),
        None,
        true,
    );
    add(
        "Mutation.setBenefitCategory",
        "mutation($input: BenefitCategoryInput!) { setBenefitCategory(input: $input) { code } }",
        |s, _| json!({ "input": { "organisationId": s.org, "code": "veteran", "name": "Ветеран труда", "percent": "50", "services": ["cold_water"] } }),
        None,
        true,
    );
    add(
        "Mutation.calculatePeriod",
        "mutation($org: ID!) { calculatePeriod(organisationId: $org, period: \"2026-02\") { status } }",
        |s, _| json!({ "org": s.org }),
        None,
        true,
    );
    add(
        "Mutation.closePeriod",
        "mutation($org: ID!) { closePeriod(organisationId: $org, period: \"2026-01\") { status } }",
        |s, _| json!({ "org": s.org }),
        None,
        true,
    );
    add(
        "Mutation.addRecalculation",
        "mutation($input: RecalculationInput!) { addRecalculation(input: $input) { id } }",
        |s, _| json!({ "input": { "accountId": s.account, "serviceId": s.service, "periodOf": "2026-01", "reason": "OTHER", "comment": "перерасчёт", "amount": "-10" } }),
        Some(
            |s, _| json!({ "input": { "accountId": s.account2, "serviceId": s.service, "periodOf": "2026-01", "reason": "OTHER", "comment": "перерасчёт", "amount": "-10" } }),
        ),
        true,
    );
    add(
        "Mutation.importRegistry",
        "",
        |s, _| json!({ "org": s.org }),
        None,
        true,
    );
    add(
        "Mutation.issueAccessCode",
        "mutation($input: IssueAccessCodeInput!) { issueAccessCode(input: $input) { code } }",
        |s, _| json!({ "input": { "accountId": s.account2 } }),
        None,
        true,
    );
    add(
        "Mutation.acceptStaffInvitation",
        "mutation($input: AcceptStaffInvitationInput!) { acceptStaffInvitation(input: $input) { member { userId } } }",
        |_, u| json!({ "input": { "token": format!("no-such-invitation-{u}") } }),
        None,
        false,
    );
    add("Mutation.addStaffMember", "mutation($input: AddStaffMemberInput!) { addStaffMember(input: $input) { member { userId } } }",
        |s, u| json!({ "input": { "organisationId": s.org, "email": format!("new-{u}@example.org"), "displayName": "New", "roles": ["ENGINEER"] } }), None, true);
    add("Mutation.updateMembership", "mutation($input: UpdateMembershipInput!) { updateMembership(input: $input) { member { userId } } }",
        |s, _| json!({ "input": { "organisationId": s.org, "userId": s.victim, "roles": ["ENGINEER"] } }), None, true);
    add(
        "Mutation.removeMembership",
        "mutation($input: RemoveMembershipInput!) { removeMembership(input: $input) { ok } }",
        |s, _| json!({ "input": { "organisationId": s.org, "userId": s.victim } }),
        None,
        true,
    );
    for op in [
        "Query.attachments",
        "Mutation.uploadAttachment",
        "Mutation.deleteAttachment",
    ] {
        if let Some(c) = m.get_mut(op) {
            c.for_role = Some(attachment_owner);
        }
    }
    m
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Allowed,
    Forbidden,
    NotFound,
    Unauthenticated,
}

fn outcome(response: &Value) -> Outcome {
    match response["errors"][0]["extensions"]["code"].as_str() {
        Some("FORBIDDEN") => Outcome::Forbidden,
        Some("NOT_FOUND") => Outcome::NotFound,
        Some("UNAUTHENTICATED") => Outcome::Unauthenticated,
        _ => Outcome::Allowed,
    }
}

/// A meter value that grows with each call, so every submission is accepted.
fn reading_value(unique: &str) -> String {
    let n: u64 = unique
        .trim_start_matches(|c: char| !c.is_ascii_digit())
        .parse()
        .unwrap_or(0);
    format!("{}", 10 + n * 10)
}

/// Imports a statement (as the admin) with one credit that names no account:
/// the import's id and the waiting line's.
async fn waiting_credit(app: &TestApp, org: &str, reference: &str) -> (String, String) {
    let rows = crate::statements::csv(&[(
        "20.01.2026",
        "10,00",
        "Плательщик",
        "",
        "без номера",
        reference,
    )]);
    let done = crate::statements::import(app, &app.admin, org, "seed.csv", rows, json!({})).await;
    let id = done["data"]["importStatement"]["import"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{done}"))
        .to_string();
    let lines = app
        .ok(
            "query($id: ID!) { statementImport(id: $id) { lines { id } } }",
            json!({ "id": id }),
        )
        .await;
    let line = lines["statementImport"]["lines"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    (id, line)
}

async fn run(app: &TestApp, caller: &Caller, op: &str, call: &Call, vars: Value) -> Value {
    if op == "Query.attachments" {
        return caller.graphql(call.query, vars).await;
    }
    if op == "Mutation.uploadAttachment" || op == "Mutation.deleteAttachment" {
        let (t, id) = (vars["t"].as_str().unwrap(), vars["id"].as_str().unwrap());
        let photo = crate::files::fixture("photo.png");
        let up = crate::files::attach(app, caller, t, id, "a.png", photo.clone()).await;
        if op == "Mutation.uploadAttachment" {
            return up;
        }
        // Removing what the caller uploaded, or (when they could not) the administrator.
        let up = match up["data"]["uploadAttachment"]["attachment"]["id"].as_str() {
            Some(_) => up,
            None => crate::files::attach(app, &app.admin, t, id, "a.png", photo).await,
        };
        let file = up["data"]["uploadAttachment"]["attachment"]["id"].clone();
        return caller.graphql(call.query, json!({ "id": file })).await;
    }
    if op == "Mutation.importStatement" {
        let reference = format!(
            "IMP-{}-{}",
            vars["org"].as_str().unwrap(),
            vars["unique"].as_str().unwrap()
        );
        let rows = crate::statements::csv(&[(
            "20.01.2026",
            "10,00",
            "Плательщик",
            "",
            "без номера",
            &reference,
        )]);
        return crate::statements::import(
            app,
            caller,
            vars["org"].as_str().unwrap(),
            "s.csv",
            rows,
            json!({}),
        )
        .await;
    }
    if op == "Mutation.matchStatementLine" || op == "Mutation.dismissStatementLine" {
        let reference = format!(
            "Q-{}-{}",
            vars["org"].as_str().unwrap(),
            vars["unique"].as_str().unwrap()
        );
        let (_, line) = waiting_credit(app, vars["org"].as_str().unwrap(), &reference).await;
        let input = if op == "Mutation.matchStatementLine" {
            json!({ "input": { "lineId": line, "accountId": vars["account"] } })
        } else {
            json!({ "input": { "lineId": line, "reason": "не платёж жильца" } })
        };
        return caller.graphql(call.query, input).await;
    }
    if op == "Mutation.correctReading" {
        // A reading of its own for each call: a corrected one is superseded.
        let fresh = app
            .ok(
                "mutation($input: SubmitReadingInput!) { submitReading(input: $input) { reading { id } } }",
                json!({ "input": { "meterId": vars["meter"], "values": [vars["value"]] } }),
            )
            .await["submitReading"]["reading"]["id"]
            .clone();
        let input = json!({ "input": { "id": fresh, "values": [vars["value"]], "reason": "checked on site" } });
        return caller.graphql(call.query, input).await;
    }
    if op == "Mutation.importReadings" {
        use schema::clock::Clock;
        let today = schema::readings::today_in("Europe/Moscow", app.clock.now());
        let csv = format!(
            "serial;date;value\nCW-1;{today};{}\n",
            vars["value"].as_str().unwrap()
        );
        return crate::import::upload_readings_as(app, caller, vars["org"].as_str().unwrap(), &csv)
            .await;
    }
    if op == "Mutation.importRegistry" {
        let csv = "house_address;premises_number;area\nГород, ул. Новая, 1;1;40\n";
        return crate::import::upload_as(app, caller, vars["org"].as_str().unwrap(), "r.csv", csv)
            .await;
    }
    caller.graphql(call.query, vars).await
}

db_test! {
    async fn every_operation_is_in_the_matrix_and_each_role_gets_exactly_what_it_says(app: &TestApp) {
        let matrix = matrix();
        let ops = operations();
        let missing: Vec<&String> = ops.iter().filter(|op| !matrix.contains_key(*op)).collect();
        assert!(missing.is_empty(), "operations missing from the access matrix: {missing:?}");
        let calls = calls();
        let untested: Vec<&String> = ops.iter().filter(|op| !calls.contains_key(op.as_str())).collect();
        assert!(untested.is_empty(), "operations without a call in this test: {untested:?}");

        let a = seed(app, "УК Альфа").await;
        let b = seed(app, "УК Бета-Плюс").await;
        let mut callers: BTreeMap<&str, Caller> = BTreeMap::new();
        for role in ROLES {
            let caller = if role == "resident" {
                app.resident_of("resident@example.org", &a.account, &a.account_number).await
            } else {
                app.login_as(&format!("{role}-a@example.org"), &a.org, &[&role.to_uppercase()], &[]).await
            };
            callers.insert(role, caller);
        }
        let anonymous = app.anonymous();
        let mut failures = Vec::new();
        let mut n = 0;
        for op in &ops {
            let call = &calls[op.as_str()];
            let rules = &matrix[op];
            for (i, role) in ROLES.iter().enumerate() {
                n += 1;
                let rule = rules[i].as_str();
                let unique = format!("{n}");
                let email = if *role == "resident" { "resident@example.org".to_string() } else { format!("{role}-a@example.org") };
                // Operations that end sessions run on a fresh one.
                let ends_sessions = matches!(op.as_str(), "Mutation.logout" | "Mutation.logoutEverywhere" | "Mutation.changePassword");
                let caller = if ends_sessions {
                    app.anonymous().login(&email, PASSWORD).await
                } else {
                    callers[role].clone()
                };
                let vars = match call.for_role {
                    Some(f) => f(&a, &unique, role),
                    None => (call.vars)(&a, &unique),
                };
                let got = run(app, &caller, op, call, vars).await;
                let want_allowed = matches!(rule, "yes" | "own" | "user" | "public");
                let ok = if rule == "user" {
                    // The caller's own things: an unknown id of theirs is simply not found.
                    matches!(outcome(&got), Outcome::Allowed | Outcome::NotFound)
                } else if want_allowed {
                    outcome(&got) == Outcome::Allowed
                } else {
                    matches!(outcome(&got), Outcome::Forbidden | Outcome::NotFound)
                };
                if !ok {
                    failures.push(format!("{op} as {role} ({rule}): {got}"));
                }
                if rule == "own" {
                    if let Some(other) = call.other {
                        let got = run(app, &caller, op, call, other(&a, &unique)).await;
                        if outcome(&got) != Outcome::NotFound {
                            failures.push(format!("{op} as {role} on what is not theirs: {got}"));
                        }
                    }
                }
                // Logging out everywhere or a new password ends the other sessions too.
                if ends_sessions {
                    callers.insert(role, app.anonymous().login(&email, PASSWORD).await);
                }
                // Another organisation's objects do not exist for this caller.
                if call.targeted && rule != "no" {
                    let caller = &callers[role];
                    let got = run(app, caller, op, call, (call.vars)(&b, &format!("b{n}"))).await;
                    if outcome(&got) != Outcome::NotFound {
                        failures.push(format!("{op} as {role} on organisation B: {got}"));
                    }
                }
            }
            let got = run(app, &anonymous, op, call, (call.vars)(&a, &format!("anon{n}"))).await;
            let public = rules.iter().all(|r| r == "public");
            let expected = if public { outcome(&got) == Outcome::Allowed } else { outcome(&got) == Outcome::Unauthenticated };
            if !expected {
                failures.push(format!("{op} without a session: {got}"));
            }
        }
        assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
        let tested: BTreeSet<&String> = ops.iter().collect();
        assert!(tested.len() > 40);
    }
}

db_test! {
    async fn a_resident_sees_only_their_account_premises_meters_and_people(app: &TestApp) {
        let a = seed(app, "УК Жильцы").await;
        let me = app.resident_of("me@example.org", &a.account, &a.account_number).await;
        let counts = me
            .ok(
                "query($org: ID!) { houses(organisationId: $org) { totalCount } premisesList(organisationId: $org) { totalCount }
                   accounts(organisationId: $org) { totalCount edges { node { id } } } meters(organisationId: $org) { totalCount } }",
                json!({ "org": a.org }),
            )
            .await;
        assert_eq!(counts["houses"]["totalCount"], 1);
        assert_eq!(counts["premisesList"]["totalCount"], 1);
        assert_eq!(counts["accounts"]["totalCount"], 1);
        assert_eq!(counts["accounts"]["edges"][0]["node"]["id"], a.account.as_str());
        assert_eq!(counts["meters"]["totalCount"], 1);
        // Through nested fields too: the house lists only their premises.
        let house = me
            .ok("query($id: ID!) { house(id: $id) { premises { totalCount edges { node { id accounts { id } } } } } }", json!({ "id": a.house }))
            .await;
        assert_eq!(house["house"]["premises"]["totalCount"], 1);
        assert_eq!(house["house"]["premises"]["edges"][0]["node"]["id"], a.premises.as_str());
        let mine = me
            .ok("query($id: ID!) { account(id: $id) { holder { fullName phones } meters { serial } premises { occupancies { person { fullName } } } } }", json!({ "id": a.account }))
            .await;
        assert_eq!(mine["account"]["holder"]["phones"][0], "+79001111111");
        assert_eq!(mine["account"]["meters"][0]["serial"], "CW-1");
        for (query, id) in [
            ("query($id: ID!) { account(id: $id) { id } }", &a.account2),
            ("query($id: ID!) { premises(id: $id) { id } }", &a.premises2),
            ("query($id: ID!) { person(id: $id) { id } }", &a.person2),
            ("query($id: ID!) { meter(id: $id) { id } }", &a.meter2),
        ] {
            let error = me.error(query, json!({ "id": id })).await;
            assert_eq!(error["extensions"]["code"], "NOT_FOUND", "{query}: {error}");
        }
        let denied = me.error("query($org: ID!) { people(organisationId: $org) { totalCount } }", json!({ "org": a.org })).await;
        assert_eq!(denied["extensions"]["code"], "FORBIDDEN");
        // The access code was used once: a second join with it fails.
        let again = app
            .anonymous()
            .error(
                "mutation($input: RegisterResidentInput!) { registerResident(input: $input) { userId } }",
                json!({ "input": { "email": "thief@example.org", "displayName": "T", "password": PASSWORD, "accountNumber": a.account_number, "code": "ANY-CODE" } }),
            )
            .await;
        assert_eq!(again["extensions"]["code"], "INVALID_CREDENTIALS");
    }
}

db_test! {
    async fn a_house_limited_dispatcher_sees_only_their_houses(app: &TestApp) {
        let a = seed(app, "УК Участки").await;
        let flat = app.create_premises(&a.house2, "5", "45").await;
        let tenant = app.create_person(&a.org, "Сидоров Сидор", "+7 900 333-33-33").await;
        app.ok(
            "mutation($input: LinkPersonInput!) { linkPersonToPremises(input: $input) { occupancy { id } } }",
            json!({ "input": { "premisesId": flat, "personId": tenant, "role": "TENANT" } }),
        )
        .await;
        let d = app.login_as("district@example.org", &a.org, &["DISPATCHER"], &[&a.house2]).await;
        let lists = d
            .ok(
                "query($org: ID!) { houses(organisationId: $org) { totalCount } premisesList(organisationId: $org) { edges { node { id } } }
                   accounts(organisationId: $org) { totalCount } people(organisationId: $org) { edges { node { fullName phones } } } }",
                json!({ "org": a.org }),
            )
            .await;
        assert_eq!(lists["houses"]["totalCount"], 1);
        assert_eq!(lists["premisesList"]["edges"].as_array().unwrap().len(), 1);
        assert_eq!(lists["premisesList"]["edges"][0]["node"]["id"], flat.as_str());
        assert_eq!(lists["accounts"]["totalCount"], 0);
        assert_eq!(lists["people"]["edges"].as_array().unwrap().len(), 1);
        assert_eq!(lists["people"]["edges"][0]["node"]["fullName"], "Сидоров Сидор");
        for (query, id) in [
            ("query($id: ID!) { house(id: $id) { id } }", &a.house),
            ("query($id: ID!) { premises(id: $id) { id } }", &a.premises),
            ("query($id: ID!) { account(id: $id) { id } }", &a.account),
            ("query($id: ID!) { person(id: $id) { id } }", &a.person),
            ("query($id: ID!) { meter(id: $id) { id } }", &a.meter),
        ] {
            let error = d.error(query, json!({ "id": id })).await;
            assert_eq!(error["extensions"]["code"], "NOT_FOUND", "{query}: {error}");
        }
        let hits = d.ok("query($org: ID!) { search(organisationId: $org, text: \"Ив\") { kind } }", json!({ "org": a.org })).await;
        assert_eq!(hits["search"], json!([]), "Иванов lives in another house");
        let person = d.ok("query($id: ID!) { person(id: $id) { phones } }", json!({ "id": tenant })).await;
        assert_eq!(person["person"]["phones"][0], "+79003333333");
    }
}

db_test! {
    async fn an_admin_limited_to_some_houses_cannot_act_on_the_whole_organisation(app: &TestApp) {
        let a = seed(app, "УК Филиал").await;
        let local = app.login_as("local-admin@example.org", &a.org, &["ADMIN"], &[&a.house]).await;
        // Within the house: yes.
        local
            .ok("mutation($input: UpdatePremisesInput!) { updatePremises(input: $input) { premises { id } } }",
                json!({ "input": { "id": a.premises, "rooms": 3 } }))
            .await;
        // Over the whole organisation: no — not even to make someone a full admin.
        for (query, vars) in [
            ("mutation($input: AddStaffMemberInput!) { addStaffMember(input: $input) { member { userId } } }",
                json!({ "input": { "organisationId": a.org, "email": "friend@example.org", "displayName": "F", "roles": ["ADMIN"] } })),
            ("mutation($input: UpdateMembershipInput!) { updateMembership(input: $input) { member { userId } } }",
                json!({ "input": { "organisationId": a.org, "userId": a.victim, "roles": ["ADMIN"] } })),
            ("mutation($input: CreateHouseInput!) { createHouse(input: $input) { house { id } } }",
                json!({ "input": { "organisationId": a.org, "city": "Город", "street": "Чужая", "building": "1" } })),
            ("mutation($input: UpdateOrganisationInput!) { updateOrganisation(input: $input) { organisation { id } } }",
                json!({ "input": { "id": a.org, "name": "Захват" } })),
            ("mutation($input: CreateOrganisationInput!) { createOrganisation(input: $input) { organisation { id } } }",
                json!({ "input": { "name": "Своя", "currency": "RUB", "locale": "ru", "timeZone": "Europe/Moscow" } })),
            ("query($org: ID!) { auditLog(organisationId: $org) { totalCount } }", json!({ "org": a.org })),
            ("query($org: ID!) { members(organisationId: $org) { email } }", json!({ "org": a.org })),
        ] {
            let error = local.error(query, vars).await;
            assert_eq!(error["extensions"]["code"], "FORBIDDEN", "{query}: {error}");
        }
        let csv = "house_address;premises_number;area\nГород, ул. Новая, 1;1;40\n";
        let imported = crate::import::upload_as(app, &local, &a.org, "r.csv", csv).await;
        assert_eq!(imported["errors"][0]["extensions"]["code"], "FORBIDDEN", "{imported}");
    }
}

/// PostgreSQL's row-level security: the database itself shows a request only
/// its caller's organisations, even to a query that forgot to filter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgresql_the_database_itself_hides_other_organisations() {
    use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait};
    let app = crate::helpers::spawn_app(crate::helpers::Db::Postgres).await;
    let a = app.create_org("УК Стена А").await;
    let b = app.create_org("УК Стена Б").await;
    app.create_house(&a, "Первая", "1").await;
    app.create_house(&b, "Вторая", "2").await;
    let db = app.db();
    let role = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user",
        ))
        .await
        .unwrap()
        .unwrap();
    assert!(
        !role.try_get::<bool>("", "rolsuper").unwrap(),
        "the server is no superuser"
    );
    assert!(!role.try_get::<bool>("", "rolbypassrls").unwrap());
    let houses = || entities::house::Entity::find().count(db);
    assert_eq!(houses().await.unwrap(), 0, "outside any scope: nothing");
    assert_eq!(
        schema::tenancy::scoped(a.clone().into(), houses())
            .await
            .unwrap(),
        1,
        "organisation A: its house only"
    );
    let both: std::sync::Arc<str> = format!("{a},{b}").into();
    assert_eq!(schema::tenancy::scoped(both, houses()).await.unwrap(), 2);
    assert_eq!(schema::tenancy::as_system(houses()).await.unwrap(), 2);
    // Nor can a request write into another organisation.
    let write = schema::tenancy::scoped(a.clone().into(), async {
        db.execute_unprepared(&format!(
            "UPDATE houses SET floors = 99 WHERE organisation_id = '{b}'"
        ))
        .await
    })
    .await
    .unwrap();
    assert_eq!(write.rows_affected(), 0);
    app.cleanup().await;
}

/// The matrix's rows for fields that carry personal data, each reached from an
/// object of the first organisation (the resident's own where the path goes
/// through their account): `(row, query, where the value is)`.
const PERSONAL_FIELDS: [(&str, &str, &[&str]); 5] = [
    (
        "Account.holder",
        "query($id: ID!) { account(id: $id) { holder { id } } }",
        &["account", "holder"],
    ),
    (
        "Person.phones",
        "query($id: ID!) { account(id: $id) { holder { phones } } }",
        &["account", "holder", "phones"],
    ),
    (
        "Person.emails",
        "query($id: ID!) { account(id: $id) { holder { emails } } }",
        &["account", "holder", "emails"],
    ),
    (
        "Occupancy.person",
        "query($id: ID!) { account(id: $id) { premises { occupancies { person { fullName } } } } }",
        &["account", "premises", "occupancies"],
    ),
    (
        "Complaint.contact",
        "query($id: ID!) { complaint(id: $id) { contact } }",
        &["complaint", "contact"],
    ),
];

db_test! {
    async fn every_role_sees_the_personal_data_fields_exactly_as_the_matrix_says(app: &TestApp) {
        let matrix = matrix();
        let a = seed(app, "УК Личное").await;
        let mut failures = Vec::new();
        for role in ROLES {
            let caller = if role == "resident" {
                app.resident_of("personal-resident@example.org", &a.account, &a.account_number).await
            } else {
                app.login_as(&format!("personal-{role}@example.org"), &a.org, &[&role.to_uppercase()], &[]).await
            };
            let i = ROLES.iter().position(|r| *r == role).unwrap();
            for (row, query, path) in PERSONAL_FIELDS {
                let rule = matrix.get(row).unwrap_or_else(|| panic!("{row} is not in the matrix"))[i].as_str();
                let id = if row == "Complaint.contact" { &a.complaint } else { &a.account };
                let got = caller.graphql(query, json!({ "id": id })).await;
                let value = path.iter().fold(&got["data"], |v, k| &v[*k]);
                // Seen: no refusal and a value. Not seen: a refusal, or the
                // field (or the object it hangs on) left empty.
                let seen = matches!(outcome(&got), Outcome::Allowed) && !value.is_null();
                let want = matches!(rule, "yes" | "own");
                if seen != want {
                    failures.push(format!("{row} as {role} ({rule}): {got}"));
                }
            }
        }
        assert!(failures.is_empty(), "{} of {} checks differ from the matrix:\n{}", failures.len(), ROLES.len() * PERSONAL_FIELDS.len(), failures.join("\n"));
    }
}
