//! Complaints end to end: a resident files one in words, the server
//! classifies it, numbers it and assigns it (the routing rule's group, its
//! least busy member; with no rule the house's dispatcher), and the workflow
//! refuses the moves it does not allow.

use serde_json::{json, Value};

use crate::db_test;
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
        // Done needs a photo of the work (attachments come with the files part).
        engineer.ok(MOVE, json!({ "input": { "id": id, "status": "IN_PROGRESS" } })).await;
        let done = engineer.graphql(MOVE, json!({ "input": { "id": id, "status": "DONE", "comment": "Заменили смеситель" } })).await;
        assert_eq!(refusal(&done), refused("VALIDATION", "input.photo", "required"));

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
    }
}
