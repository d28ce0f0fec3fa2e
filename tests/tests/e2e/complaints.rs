//! Complaints end to end: a resident files one in words, the server
//! classifies it, numbers it and assigns it (the routing rule's group, its
//! least busy member; with no rule the house's dispatcher), and the workflow
//! refuses the moves it does not allow.

use serde_json::{json, Value};

use crate::db_test;
use crate::files::{attach, fixture};
use crate::helpers::{refusal, refused};
use crate::ws::{connect, init, next, send};

const FILE: &str =
    "mutation($input: FileComplaintInput!) { fileComplaint(input: $input) { complaint {
    id number category categoryBy priority emergency status assigneeId source contact } } }";
const MOVE: &str = "mutation($input: MoveComplaintInput!) { moveComplaint(input: $input) { complaint { status assigneeId } } }";
const ONE: &str = "query($id: ID!) { complaint(id: $id) { number status history { kind fromStatus toStatus public text actor } } }";

db_test! {
    async fn a_complaint_is_classified_numbered_and_assigned_on_the_server_and_moves_only_as_allowed(app: &TestApp) {
        let org = app.create_org("Заявки").await;
        let house = app.create_house(&org, "Ленина", "12").await;
        let acc = app.create_account(&app.create_premises(&house, "7", "50").await, "700123").await;
        let resident = app.resident_of("resident@example.org", &acc, "700123").await;
        let dispatcher = app.login_as("dispatcher@example.org", &org, &["DISPATCHER"], &[]).await;
        let engineer = app.login_as("engineer@example.org", &org, &["ENGINEER"], &[]).await;
        let me = |c: &crate::helpers::Caller| {
            let c = c.clone();
            async move { c.ok("{ me { id } }", json!({})).await["me"]["id"].as_str().unwrap().to_string() }
        };
        let (dispatcher_id, engineer_id) = (me(&dispatcher).await, me(&engineer).await);

        // The resident writes in words; the rules find plumbing, the house's dispatcher gets it.
        let filed = resident.ok(FILE, json!({ "input": { "accountId": acc, "text": "На кухне протекает кран, вода на полу" } })).await;
        let c = filed["fileComplaint"]["complaint"].clone();
        assert_eq!((c["number"].clone(), c["category"].clone(), c["categoryBy"].clone()), (json!(1), json!("plumbing"), json!("rules")));
        assert_eq!((c["status"].clone(), c["assigneeId"].clone(), c["source"].clone()), (json!("ASSIGNED"), json!(dispatcher_id), json!("app")));
        assert_eq!((c["priority"].clone(), c["emergency"].clone()), (json!("NORMAL"), json!(false)));
        assert!(c["contact"].as_str().unwrap().contains("resident@example.org"));
        let id = c["id"].as_str().unwrap().to_string();

        // The resident follows their complaints live.
        let mut ws = connect(app, None).await;
        assert_eq!(init(&mut ws, resident.token.as_deref()).await.unwrap()["type"], "connection_ack");
        send(&mut ws, json!({ "id": "c", "type": "subscribe", "payload": {
            "query": "subscription($org: ID!) { complaintUpdated(organisationId: $org) { number status } }",
            "variables": { "org": org } } })).await;

        // A smell of gas is an emergency whatever it is filed as; numbers go on.
        let gas = dispatcher.ok(FILE, json!({ "input": { "houseId": house, "text": "Сильный запах газа в подъезде", "source": "PHONE", "contact": "Сосед, +7 900 000-00-00" } })).await;
        let g = gas["fileComplaint"]["complaint"].clone();
        assert_eq!((g["number"].clone(), g["category"].clone(), g["priority"].clone(), g["emergency"].clone()), (json!(2), json!("emergency"), json!("EMERGENCY"), json!(true)));
        // A dispatcher says how it came and whom to call back.
        let bare = dispatcher.graphql(FILE, json!({ "input": { "houseId": house, "text": "Шумят соседи ночью", "source": "PHONE" } })).await;
        assert_eq!(refusal(&bare), refused("VALIDATION", "input.contact", "required"));
        let short = resident.graphql(FILE, json!({ "input": { "accountId": acc, "text": "кран" } })).await;
        assert_eq!(refusal(&short), refused("VALIDATION", "input.text", "length"));

        // The dispatcher hands it to the engineer; the engineer starts; the resident cannot.
        let no_one = dispatcher.graphql(MOVE, json!({ "input": { "id": id, "status": "ASSIGNED" } })).await;
        assert_eq!(refusal(&no_one), refused("VALIDATION", "input.assigneeId", "required"));
        dispatcher.ok(MOVE, json!({ "input": { "id": id, "status": "ASSIGNED", "assigneeId": engineer_id } })).await;
        // Pushed to the resident: their own complaint, not the neighbour's about the house.
        let m = next(&mut ws).await.unwrap();
        assert_eq!(m["payload"]["data"]["complaintUpdated"], json!({ "number": 1, "status": "ASSIGNED" }), "{m}");
        let gas_id = g["id"].as_str().unwrap();
        assert_eq!(refusal(&resident.graphql(ONE, json!({ "id": gas_id })).await).0, "NOT_FOUND");
        let early = resident.graphql(MOVE, json!({ "input": { "id": id, "status": "IN_PROGRESS" } })).await;
        assert_eq!(refusal(&early), refused("VALIDATION", "input.status", "not_allowed"));
        let skip = engineer.graphql(MOVE, json!({ "input": { "id": id, "status": "CLOSED" } })).await;
        assert_eq!(refusal(&skip), refused("VALIDATION", "input.status", "transition"));
        engineer.ok(MOVE, json!({ "input": { "id": id, "status": "IN_PROGRESS" } })).await;
        let waiting = engineer.graphql(MOVE, json!({ "input": { "id": id, "status": "WAITING_PARTS" } })).await;
        assert_eq!(refusal(&waiting), refused("VALIDATION", "input.comment", "required"));
        engineer.ok(MOVE, json!({ "input": { "id": id, "status": "WAITING_PARTS", "comment": "Нужен новый смеситель, привезём завтра" } })).await;
        // Done needs a photo of the work.
        engineer.ok(MOVE, json!({ "input": { "id": id, "status": "IN_PROGRESS" } })).await;
        let done = engineer.graphql(MOVE, json!({ "input": { "id": id, "status": "DONE", "comment": "Заменили смеситель" } })).await;
        assert_eq!(refusal(&done), refused("VALIDATION", "input.photoIds", "required"));

        // The resident sees the public history; staff see the classification too.
        let mine = resident.ok(ONE, json!({ "id": id })).await["complaint"].clone();
        assert_eq!(mine["status"], "IN_PROGRESS");
        let kinds = |v: &Value| v["history"].as_array().unwrap().iter().map(|h| h["kind"].as_str().unwrap().to_string()).collect::<Vec<_>>();
        // The hand-over between staff is internal.
        assert_eq!(kinds(&mine), vec!["filed", "assigned", "status", "status", "status"]);
        assert!(mine["history"].as_array().unwrap().iter().all(|h| h["public"] == true));
        let staff = dispatcher.ok(ONE, json!({ "id": id })).await["complaint"].clone();
        assert!(kinds(&staff).contains(&"classified".to_string()));
        let parts = staff["history"].as_array().unwrap().iter().find(|h| h["toStatus"] == "WAITING_PARTS").unwrap();
        assert_eq!(parts["text"], "Нужен новый смеситель, привезём завтра");
        assert_eq!(parts["actor"], "engineer@example.org");
        assert_eq!(kinds(&staff).len(), 7);
        // Comments: internal ones stay with staff; the resident's are public.
        const COMMENT: &str = "mutation($input: CommentComplaintInput!) { commentComplaint(input: $input) { entry { kind public text } } }";
        dispatcher.ok(COMMENT, json!({ "input": { "id": id, "text": "Поставщик подтвердил отгрузку", "public": false } })).await;
        let r = resident.ok(COMMENT, json!({ "input": { "id": id, "text": "Буду дома после 18:00", "public": false } })).await;
        assert_eq!(r["commentComplaint"]["entry"], json!({ "kind": "comment", "public": true, "text": "Буду дома после 18:00" }));
        let texts = |v: &Value| v["complaint"]["history"].as_array().unwrap().iter().filter_map(|h| h["text"].as_str().map(str::to_string)).collect::<Vec<_>>();
        let seen = texts(&resident.ok(ONE, json!({ "id": id })).await);
        assert!(seen.contains(&"Буду дома после 18:00".to_string()) && !seen.contains(&"Поставщик подтвердил отгрузку".to_string()), "{seen:?}");
        // A dispatcher corrects the category; the correction is recorded.
        const RECLASSIFY: &str = "mutation($id: ID!, $c: String!) { reclassifyComplaint(id: $id, category: $c) { complaint { category categoryBy } } }";
        let unknown = dispatcher.graphql(RECLASSIFY, json!({ "id": id, "c": "astrology" })).await;
        assert_eq!(refusal(&unknown), refused("VALIDATION", "input.category", "unknown"));
        let fixed = dispatcher.ok(RECLASSIFY, json!({ "id": id, "c": "heating" })).await;
        assert_eq!(fixed["reclassifyComplaint"]["complaint"], json!({ "category": "heating", "categoryBy": "dispatcher" }));
        // Rated only once done.
        let rated = resident.graphql("mutation($id: ID!) { rateComplaint(id: $id, stars: 5) { complaint { rating } } }", json!({ "id": id })).await;
        assert_eq!(refusal(&rated), refused("VALIDATION", "input.rating", "not_done"));
        // The resident's list has theirs only.
        let list = resident.ok("query($org: ID!) { complaints(organisationId: $org) { number } }", json!({ "org": org })).await;
        assert_eq!(list["complaints"], json!([{ "number": 1 }]));

        // The engineer photographs the work from the phone and marks it done.
        let shot = attach(app, &engineer, "COMPLAINT", &id, "готово.jpg", fixture("photo-gps.jpg")).await;
        let shot_id = shot["data"]["uploadAttachment"]["attachment"]["id"].as_str().unwrap().to_string();
        let theirs = engineer.graphql(MOVE, json!({ "input": { "id": id, "status": "DONE", "comment": "Заменили смеситель", "photoIds": [gas_id] } })).await;
        assert_eq!(refusal(&theirs), refused("VALIDATION", "input.photoIds", "not_found"));
        engineer.ok(MOVE, json!({ "input": { "id": id, "status": "DONE", "comment": "Заменили смеситель", "photoIds": [shot_id] } })).await;
        // The resident's open page learns it without asking.
        loop {
            let m = next(&mut ws).await.unwrap();
            if m["payload"]["data"]["complaintUpdated"]["status"] == "DONE" {
                break;
            }
        }
        let done = resident.ok("query($id: ID!) { complaint(id: $id) { status doneAt attachments { name } } }", json!({ "id": id })).await;
        assert_eq!(done["complaint"]["status"], "DONE");
        assert_eq!(done["complaint"]["attachments"], json!([{ "name": "готово.jpg" }]));
        let out_of_range = resident.graphql("mutation($id: ID!) { rateComplaint(id: $id, stars: 6) { complaint { rating } } }", json!({ "id": id })).await;
        assert_eq!(refusal(&out_of_range).0, "VALIDATION");
        let rated = resident.ok("mutation($id: ID!) { rateComplaint(id: $id, stars: 5) { complaint { rating } } }", json!({ "id": id })).await;
        assert_eq!(rated["rateComplaint"]["complaint"]["rating"], 5);
        // Reopening: within the organisation's window (7 days until it sets its own).
        const REOPEN_DAYS: &str = "mutation($input: UpdateComplaintSetupInput!) { updateComplaintSetup(input: $input) { reopenDays } }";
        app.ok(REOPEN_DAYS, json!({ "input": { "organisationId": org, "reopenDays": 0 } })).await;
        app.clock.advance(chrono::Duration::hours(1));
        let late = resident.graphql(MOVE, json!({ "input": { "id": id, "status": "ASSIGNED", "reason": "Снова капает" } })).await;
        assert_eq!(refusal(&late), refused("VALIDATION", "input.status", "reopen_window"));
        let bad = app.graphql(REOPEN_DAYS, json!({ "input": { "organisationId": org, "reopenDays": 400 } })).await;
        assert_eq!(refusal(&bad), refused("VALIDATION", "input.reopenDays", "out_of_range"));
        app.ok(REOPEN_DAYS, json!({ "input": { "organisationId": org, "reopenDays": 10 } })).await;
        let reopened = resident.ok(MOVE, json!({ "input": { "id": id, "status": "ASSIGNED", "reason": "Снова капает" } })).await;
        assert_eq!(reopened["moveComplaint"]["complaint"], json!({ "status": "ASSIGNED", "assigneeId": engineer_id }));
    }
}

const SETUP: &str = "mutation($input: UpdateComplaintSetupInput!) { updateComplaintSetup(input: $input) {
    reopenDays categories builtInRules routes { category groupId } slas { category priority reactHours resolveHours } } }";
const FILED: &str =
    "mutation($input: FileComplaintInput!) { fileComplaint(input: $input) { complaint {
    id category priority emergency assigneeId reactDue resolveDue createdAt } } }";

db_test! {
    async fn the_organisation_sets_rules_routes_and_deadlines_and_late_complaints_are_escalated(app: &TestApp) {
        let org = app.create_org("Настройки заявок").await;
        let house = app.create_house(&org, "Садовая", "5").await;
        let acc = app.create_account(&app.create_premises(&house, "9", "45").await, "900009").await;
        let resident = app.resident_of("r9@example.org", &acc, "900009").await;
        let me = |c: &crate::helpers::Caller| {
            let c = c.clone();
            async move { c.ok("{ me { id } }", json!({})).await["me"]["id"].as_str().unwrap().to_string() }
        };
        let dispatcher = app.login_as("d9@example.org", &org, &["DISPATCHER"], &[]).await;
        let manager = app.login_as("m9@example.org", &org, &["MANAGER"], &[]).await;
        let p1 = me(&app.login_as("p1@example.org", &org, &["ENGINEER"], &[]).await).await;
        let p2 = me(&app.login_as("p2@example.org", &org, &["ENGINEER"], &[]).await).await;
        let (dispatcher_id, manager_id) = (me(&dispatcher).await, me(&manager).await);

        // A plumber's own feed: only what is assigned to them.
        let mut mine = connect(app, None).await;
        init(&mut mine, dispatcher.token.as_deref()).await.unwrap();
        send(&mut mine, json!({ "id": "m", "type": "subscribe", "payload": {
            "query": "subscription($org: ID!, $a: ID) { complaintUpdated(organisationId: $org, assigneeId: $a) { number assigneeId } }",
            "variables": { "org": org, "a": p1 } } })).await;
        // The dispatcher's board counts live.
        let mut ws = connect(app, None).await;
        assert_eq!(init(&mut ws, dispatcher.token.as_deref()).await.unwrap()["type"], "connection_ack");
        send(&mut ws, json!({ "id": "b", "type": "subscribe", "payload": {
            "query": "subscription($org: ID!) { complaintBoard(organisationId: $org) { seq overdue counts { status count } } }",
            "variables": { "org": org } } })).await;
        let board = next(&mut ws).await.unwrap();
        assert_eq!(board["payload"]["data"]["complaintBoard"]["counts"][0], json!({ "status": "NEW", "count": 0 }), "{board}");
        // Residents have no board.
        let mut rws = connect(app, None).await;
        init(&mut rws, resident.token.as_deref()).await.unwrap();
        send(&mut rws, json!({ "id": "r", "type": "subscribe", "payload": {
            "query": "subscription($org: ID!) { complaintBoard(organisationId: $org) { overdue } }", "variables": { "org": org } } })).await;
        let refused_board = next(&mut rws).await.unwrap();
        assert_eq!(refused_board["type"], "error", "{refused_board}");

        // A department of two plumbers; the manager sets rules, routes, deadlines.
        let group = manager.ok("mutation($input: SaveStaffGroupInput!) { saveStaffGroup(input: $input) { id name memberIds } }",
            json!({ "input": { "organisationId": org, "kind": "DEPARTMENT", "name": "Сантехники", "memberIds": [p1, p2] } })).await;
        let group_id = group["saveStaffGroup"]["id"].as_str().unwrap().to_string();
        let rules = json!([
            { "category": "plumbing", "locale": "ru", "phrase": "теч*", "weight": 2 },
            { "category": "plumbing", "locale": "ru", "phrase": "кран" },
            { "category": "lift", "locale": "ru", "phrase": "лифт" },
            { "category": "emergency", "phrase": "газ", "emergency": true },
        ]);
        let no_target = manager.graphql(SETUP, json!({ "input": { "organisationId": org, "routes": [{ "category": "plumbing" }] } })).await;
        assert_eq!(refusal(&no_target), refused("VALIDATION", "input.routes.0.personId", "one_target"));
        let bad_sla = manager.graphql(SETUP, json!({ "input": { "organisationId": org, "rules": rules,
            "slas": [{ "category": "lift", "priority": "NORMAL", "reactHours": 4, "resolveHours": 2 }] } })).await;
        assert_eq!(refusal(&bad_sla), refused("VALIDATION", "input.slas.0.resolveHours", "out_of_range"));
        let bad_rule = manager.graphql(SETUP, json!({ "input": { "organisationId": org, "rules": [{ "category": "Лифт!", "phrase": "лифт" }] } })).await;
        assert_eq!(refusal(&bad_rule), refused("VALIDATION", "input.rules.0.category", "invalid"));
        assert_eq!(refusal(&dispatcher.graphql(SETUP, json!({ "input": { "organisationId": org, "reopenDays": 3 } })).await).0, "FORBIDDEN");
        let set = manager.ok(SETUP, json!({ "input": { "organisationId": org, "reopenDays": 3, "rules": rules,
            "routes": [{ "category": "plumbing", "groupId": group_id }],
            "slas": [{ "category": "lift", "priority": "NORMAL", "reactHours": 1, "resolveHours": 2 }] } })).await;
        assert_eq!(set["updateComplaintSetup"], json!({ "reopenDays": 3, "categories": ["plumbing", "lift", "emergency"], "builtInRules": false,
            "routes": [{ "category": "plumbing", "groupId": group_id }],
            "slas": [{ "category": "lift", "priority": "NORMAL", "reactHours": 1, "resolveHours": 2 }] }));

        // Two leaks go to the department, one plumber each (the least busy).
        let file = |text: &'static str| {
            let resident = resident.clone();
            let acc = acc.clone();
            async move { resident.ok(FILED, json!({ "input": { "accountId": acc, "text": text } })).await["fileComplaint"]["complaint"].clone() }
        };
        let a = file("Течёт труба под раковиной").await;
        let b = file("Сломался кран на кухне").await;
        assert_eq!((a["category"].clone(), b["category"].clone()), (json!("plumbing"), json!("plumbing")));
        let mut got = vec![a["assigneeId"].as_str().unwrap().to_string(), b["assigneeId"].as_str().unwrap().to_string()];
        got.sort();
        let mut want = vec![p1.clone(), p2.clone()];
        want.sort();
        assert_eq!(got, want);
        // The plumber's own feed got theirs, not the other plumber's.
        let m = next(&mut mine).await.unwrap();
        assert_eq!(m["payload"]["data"]["complaintUpdated"]["assigneeId"], p1.as_str(), "{m}");
        // The lift has no route: the house's dispatcher; its own deadlines.
        let lift = file("Не работает лифт в первом подъезде").await;
        assert_eq!((lift["category"].clone(), lift["assigneeId"].clone()), (json!("lift"), json!(dispatcher_id)));
        let at = |v: &Value, k: &str| chrono::DateTime::parse_from_rfc3339(v[k].as_str().unwrap()).unwrap();
        assert_eq!(at(&lift, "resolveDue") - at(&lift, "createdAt"), chrono::Duration::hours(2));
        assert_eq!(at(&lift, "reactDue") - at(&lift, "createdAt"), chrono::Duration::hours(1));
        // Gas: an emergency, and the people to tell are recorded at once.
        let gas = file("Чувствуется газ на лестнице").await;
        assert_eq!((gas["priority"].clone(), gas["emergency"].clone()), (json!("EMERGENCY"), json!(true)));
        let intents = |kind: &'static str| {
            let (db, org) = (app.db().clone(), org.clone());
            async move {
                schema::tenancy::as_system(schema::bulk::fetch_all::<(String, Option<uuid::Uuid>, String)>(
                    &db,
                    "SELECT kind, user_id, text FROM notification_intents WHERE organisation_id = ? AND kind = ? ORDER BY user_id",
                    vec![schema::bulk::Cell::Uuid(Some(org.parse().unwrap())), schema::bulk::Cell::Text(kind.into())],
                ))
                .await
                .unwrap()
            }
        };
        let told: Vec<String> = intents("complaint_emergency").await.iter().map(|(_, u, _)| u.unwrap().to_string()).collect();
        let mut expected = vec![dispatcher_id.clone(), manager_id.clone()];
        expected.sort();
        assert_eq!(told, expected);
        assert!(intents("complaint_emergency").await[0].2.starts_with("Аварийная заявка №"));

        // Three hours on: the lift is past its deadline, the gas not started in
        // its hour; both are marked once and escalated to the manager.
        app.clock.advance(chrono::Duration::hours(3));
        let checker = schema::complaints::service::Complaints::new(app.db().clone(), app.clock.clone(), None);
        assert_eq!(schema::tenancy::as_system(checker.sweep_overdue()).await.unwrap(), 2);
        assert_eq!(schema::tenancy::as_system(checker.sweep_overdue()).await.unwrap(), 0);
        let l = manager.ok("query($id: ID!) { complaint(id: $id) { overdue escalatedToId history { kind public } } }", json!({ "id": lift["id"] })).await;
        assert_eq!((l["complaint"]["overdue"].clone(), l["complaint"]["escalatedToId"].clone()), (json!(true), json!(manager_id)));
        assert!(l["complaint"]["history"].as_array().unwrap().iter().any(|h| h["kind"] == "overdue" && h["public"] == false));
        let overdue = intents("complaint_overdue").await;
        assert_eq!(overdue.len(), 2);
        assert!(overdue.iter().all(|(_, u, t)| u.unwrap().to_string() == manager_id && t.contains("просрочена")));
        // The board shows four assigned and two late.
        loop {
            let m = next(&mut ws).await.unwrap();
            let b = &m["payload"]["data"]["complaintBoard"];
            if b["overdue"] == 2 {
                let assigned = b["counts"].as_array().unwrap().iter().find(|c| c["status"] == "ASSIGNED").unwrap();
                assert_eq!(assigned["count"], 4);
                break;
            }
        }
    }
}

db_test! {
    async fn a_complaint_s_contact_is_personal_data_each_role_sees_as_the_matrix_says(app: &TestApp) {
        let org = app.create_org("Контакты").await;
        let house = app.create_house(&org, "Ленина", "14").await;
        let acc = app.create_account(&app.create_premises(&house, "9", "50").await, "700990").await;
        let resident = app.resident_of("contact-resident@example.org", &acc, "700990").await;
        let dispatcher = app.login_as("contact-d@example.org", &org, &["DISPATCHER"], &[]).await;
        let filed = dispatcher.ok(FILE, json!({ "input": { "accountId": acc, "text": "Течёт кран на кухне", "source": "PHONE",
            "contact": "Иванова А. С., +7 900 123-45-67" } })).await;
        let id = filed["fileComplaint"]["complaint"]["id"].as_str().unwrap().to_string();
        const CONTACT: &str = "query($id: ID!) { complaint(id: $id) { number contact } }";
        const LIST: &str = "query($org: ID!) { complaints(organisationId: $org) { number contact } }";
        let roles = [("ENGINEER", true), ("MANAGER", true), ("CONTRACTOR", false)];
        for (role, sees) in roles {
            let who = app.login_as(&format!("contact-{role}@example.org"), &org, &[role], &[&house]).await;
            let one = who.ok(CONTACT, json!({ "id": id })).await;
            assert_eq!(one["complaint"]["contact"].is_string(), sees, "{role}: {one}");
            let list = who.ok(LIST, json!({ "org": org })).await;
            assert_eq!(list["complaints"][0]["contact"].is_string(), sees, "{role}: {list}");
            assert!(list["complaints"][0]["number"].is_i64(), "the complaint itself is still shown");
        }
        let own = resident.ok(CONTACT, json!({ "id": id })).await;
        assert_eq!(own["complaint"]["contact"], "Иванова А. С., +7 900 123-45-67");
        let theirs = dispatcher.ok(CONTACT, json!({ "id": id })).await;
        assert!(theirs["complaint"]["contact"].is_string());
    }
}
