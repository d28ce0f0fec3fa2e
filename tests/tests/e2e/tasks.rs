//! Staff tasks end to end: set for a person or a department with a deadline
//! and a linked complaint, moved by those it concerns, reminded before the
//! deadline and escalated after it (once each), and the managers' overview.

use serde_json::json;

use crate::db_test;
use crate::helpers::{refusal, refused};

const CREATE: &str = "mutation($input: CreateTaskInput!) { createTask(input: $input) {
    id title status personId groupId linkType linkId overdue deadline } }";
const MOVE: &str = "mutation($input: UpdateTaskStatusInput!) { updateTaskStatus(input: $input) { status note doneAt } }";

db_test! {
    async fn tasks_are_set_moved_reminded_escalated_and_overseen(app: &TestApp) {
        let org = app.create_org("Задачи").await;
        let house = app.create_house(&org, "Кирова", "2").await;
        let manager = app.login_as("m5@example.org", &org, &["MANAGER"], &[]).await;
        let dispatcher = app.login_as("d5@example.org", &org, &["DISPATCHER"], &[]).await;
        let engineer = app.login_as("e5@example.org", &org, &["ENGINEER"], &[]).await;
        let other = app.login_as("o5@example.org", &org, &["ENGINEER"], &[]).await;
        let id_of = |c: &crate::helpers::Caller| {
            let c = c.clone();
            async move { c.ok("{ me { id } }", json!({})).await["me"]["id"].as_str().unwrap().to_string() }
        };
        let (engineer_id, other_id, manager_id) = (id_of(&engineer).await, id_of(&other).await, id_of(&manager).await);
        let crew = manager.ok("mutation($input: SaveStaffGroupInput!) { saveStaffGroup(input: $input) { id } }",
            json!({ "input": { "organisationId": org, "kind": "CONTRACTOR", "name": "ООО Кровля", "memberIds": [other_id] } })).await
            ["saveStaffGroup"]["id"].as_str().unwrap().to_string();
        let complaint = dispatcher.ok("mutation($input: FileComplaintInput!) { fileComplaint(input: $input) { complaint { id } } }",
            json!({ "input": { "houseId": house, "text": "Протекает кровля над 9 этажом", "source": "PHONE", "contact": "Старший по дому" } })).await
            ["fileComplaint"]["complaint"]["id"].as_str().unwrap().to_string();
        use schema::clock::Clock;
        let now = app.clock.now();
        let in_hours = |h: i64| (now + chrono::Duration::hours(h)).to_rfc3339();

        // Set by the dispatcher, checked by field.
        let past = dispatcher.graphql(CREATE, json!({ "input": { "organisationId": org, "title": "Осмотр", "personId": engineer_id, "deadline": in_hours(-1) } })).await;
        assert_eq!(refusal(&past), refused("VALIDATION", "input.deadline", "in_past"));
        let both = dispatcher.graphql(CREATE, json!({ "input": { "organisationId": org, "title": "Осмотр", "personId": engineer_id, "groupId": crew, "deadline": in_hours(4) } })).await;
        assert_eq!(refusal(&both), refused("VALIDATION", "input.personId", "one_assignee"));
        let stranger = dispatcher.graphql(CREATE, json!({ "input": { "organisationId": org, "title": "Осмотр", "personId": house, "deadline": in_hours(4) } })).await;
        assert_eq!(refusal(&stranger), refused("VALIDATION", "input.personId", "not_staff"));
        let nowhere = dispatcher.graphql(CREATE, json!({ "input": { "organisationId": org, "title": "Осмотр", "personId": engineer_id, "linkType": "COMPLAINT", "linkId": house, "deadline": in_hours(4) } })).await;
        assert_eq!(refusal(&nowhere), refused("VALIDATION", "input.linkId", "not_found"));
        assert_eq!(refusal(&engineer.graphql(CREATE, json!({ "input": { "organisationId": org, "title": "Осмотр", "personId": engineer_id, "deadline": in_hours(4) } })).await).0, "FORBIDDEN");
        let inspect = dispatcher.ok(CREATE, json!({ "input": { "organisationId": org, "title": "Осмотреть кровлю", "personId": engineer_id,
            "linkType": "COMPLAINT", "linkId": complaint, "deadline": in_hours(4), "remindMinutes": 120 } })).await["createTask"].clone();
        assert_eq!((inspect["status"].clone(), inspect["linkType"].clone(), inspect["linkId"].clone(), inspect["overdue"].clone()),
            (json!("OPEN"), json!("COMPLAINT"), json!(complaint), json!(false)));
        let roof = dispatcher.ok(CREATE, json!({ "input": { "organisationId": org, "title": "Заделать швы кровли", "groupId": crew,
            "linkType": "HOUSE", "linkId": house, "deadline": in_hours(48) } })).await["createTask"].clone();

        // Each sees theirs: the engineer the inspection, the contractor's member the roof.
        let titles = |c: crate::helpers::Caller| {
            let org = org.clone();
            async move {
                let l = c.ok("query($org: ID!) { staffTasks(organisationId: $org) { title } }", json!({ "org": org })).await;
                l["staffTasks"].as_array().unwrap().iter().map(|t| t["title"].as_str().unwrap().to_string()).collect::<Vec<_>>()
            }
        };
        assert_eq!(titles(engineer.clone()).await, vec!["Осмотреть кровлю"]);
        assert_eq!(titles(other.clone()).await, vec!["Заделать швы кровли"]);
        assert_eq!(titles(manager.clone()).await.len(), 2);
        // Moved by those it concerns only.
        let not_theirs = other.graphql(MOVE, json!({ "input": { "id": inspect["id"], "status": "IN_PROGRESS" } })).await;
        assert_eq!(refusal(&not_theirs), refused("VALIDATION", "input.id", "not_yours"));
        engineer.ok(MOVE, json!({ "input": { "id": inspect["id"], "status": "IN_PROGRESS" } })).await;
        let cancel = engineer.graphql(MOVE, json!({ "input": { "id": inspect["id"], "status": "CANCELLED", "note": "не нужно" } })).await;
        assert_eq!(refusal(&cancel), refused("VALIDATION", "input.status", "not_allowed"));
        other.ok(MOVE, json!({ "input": { "id": roof["id"], "status": "IN_PROGRESS" } })).await;

        // Three hours on: the inspection's reminder (two hours before); five
        // hours on: it is late and escalated to the manager, once.
        let checker = schema::staff::tasks::Tasks::new(app.db().clone(), app.clock.clone());
        assert_eq!(schema::tenancy::as_system(checker.sweep()).await.unwrap(), (0, 0));
        app.clock.advance(chrono::Duration::hours(3));
        assert_eq!(schema::tenancy::as_system(checker.sweep()).await.unwrap(), (1, 0));
        app.clock.advance(chrono::Duration::hours(2));
        assert_eq!(schema::tenancy::as_system(checker.sweep()).await.unwrap(), (0, 1));
        assert_eq!(schema::tenancy::as_system(checker.sweep()).await.unwrap(), (0, 0));
        let intents = schema::tenancy::as_system(schema::bulk::fetch_all::<(String, Option<uuid::Uuid>, String)>(
            app.db(),
            "SELECT kind, user_id, text FROM notification_intents WHERE organisation_id = ? AND object_type = 'staff_task' ORDER BY created_at, kind",
            vec![schema::bulk::Cell::Uuid(Some(org.parse().unwrap()))],
        )).await.unwrap();
        assert_eq!(intents.len(), 2, "{intents:?}");
        assert_eq!((intents[0].0.as_str(), intents[0].1.unwrap().to_string()), ("task_reminder", engineer_id.clone()));
        assert!(intents[0].2.starts_with("Срок задачи «Осмотреть кровлю»"));
        assert_eq!((intents[1].0.as_str(), intents[1].1.unwrap().to_string()), ("task_overdue", manager_id.clone()));
        let late = manager.ok("query($org: ID!) { staffTasks(organisationId: $org, overdueOnly: true) { title escalatedToId overdue } }", json!({ "org": org })).await;
        assert_eq!(late["staffTasks"], json!([{ "title": "Осмотреть кровлю", "escalatedToId": manager_id, "overdue": true }]));

        // Done; the managers' overview per person and per group.
        let done = engineer.ok(MOVE, json!({ "input": { "id": inspect["id"], "status": "DONE", "note": "Осмотрел, нужна замена 3 м²" } })).await;
        assert_eq!(done["updateTaskStatus"]["status"], "DONE");
        let overview = manager.ok("query($org: ID!) { taskOverview(organisationId: $org) { kind name open inProgress overdue done } }", json!({ "org": org })).await;
        let rows = overview["taskOverview"].as_array().unwrap();
        assert!(rows.contains(&json!({ "kind": "GROUP", "name": "ООО Кровля", "open": 0, "inProgress": 1, "overdue": 0, "done": 0 })), "{overview}");
        assert!(rows.contains(&json!({ "kind": "PERSON", "name": "e5@example.org", "open": 0, "inProgress": 0, "overdue": 0, "done": 1 })), "{overview}");
        assert_eq!(refusal(&dispatcher.graphql("query($org: ID!) { taskOverview(organisationId: $org) { name } }", json!({ "org": org })).await).0, "FORBIDDEN");
    }
}
