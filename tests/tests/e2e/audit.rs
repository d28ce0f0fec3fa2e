//! The audit log: who changed what, when, from where; append-only and
//! hash-chained so that an edit behind its back is found.

use sea_orm::{ConnectionTrait, DatabaseBackend};
use serde_json::{json, Value};

use crate::db_test;
use crate::helpers::TestApp;

const LOG: &str = "query($org: ID!, $object: ID) { auditLog(organisationId: $org, filter: { objectId: $object }) {
    totalCount edges { node { seq operation objectType userEmail roles before after requestId clientAddress } } } }";

async fn log(app: &TestApp, org: &str, object: Option<&str>) -> Value {
    app.ok(LOG, json!({ "org": org, "object": object })).await["auditLog"].clone()
}

db_test! {
    async fn every_change_names_who_what_before_after_and_where_it_came_from(app: &TestApp) {
        let org = app.create_org("УК Журнал").await;
        let house = app.create_house(&org, "Садовая", "3").await;
        let response: Value = app
            .client
            .post(format!("{}/graphql", app.base))
            .bearer_auth(app.admin.token.as_deref().unwrap())
            .header("x-request-id", "req-42")
            .json(&json!({ "query": "mutation($input: UpdateHouseInput!) { updateHouse(input: $input) { house { floors } } }",
                "variables": { "input": { "id": house, "floors": 12 } } }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(response["data"]["updateHouse"]["house"]["floors"], 12);
        let entries = log(app, &org, Some(&house)).await;
        assert_eq!(entries["totalCount"], 2);
        let update = &entries["edges"][0]["node"];
        assert_eq!(update["operation"], "updateHouse");
        assert_eq!(update["objectType"], "house");
        assert_eq!(update["userEmail"], "admin@example.org");
        assert_eq!(update["roles"], "admin");
        assert_eq!(update["before"], json!({ "floors": 9 }), "only the changed field");
        assert_eq!(update["after"], json!({ "floors": 12 }));
        assert_eq!(update["requestId"], "req-42");
        assert_eq!(update["clientAddress"], "127.0.0.1");
        let create = &entries["edges"][1]["node"];
        assert_eq!(create["operation"], "createHouse");
        assert_eq!(create["before"], Value::Null);
        assert_eq!(create["after"]["street"], "Садовая");

        let history = app
            .ok("query($id: ID!) { house(id: $id) { history { operation userEmail } } }", json!({ "id": house }))
            .await;
        assert_eq!(history["house"]["history"][0]["operation"], "updateHouse");
        assert_eq!(history["house"]["history"][1]["operation"], "createHouse");

        // A refused change leaves no trace.
        let before = log(app, &org, None).await["totalCount"].clone();
        let error = app
            .error("mutation($input: UpdateHouseInput!) { updateHouse(input: $input) { house { id } } }",
                json!({ "input": { "id": house, "floors": -3 } }))
            .await;
        assert_eq!(error["extensions"]["code"], "VALIDATION");
        assert_eq!(log(app, &org, None).await["totalCount"], before);

        // A dispatcher may not read the log.
        let d = app.login_as("d@example.org", &org, &["DISPATCHER"], &[]).await;
        let denied = d.error(LOG, json!({ "org": org })).await;
        assert_eq!(denied["extensions"]["code"], "FORBIDDEN");
        // The command checks every organisation's chain (as the server itself).
        schema::tenancy::as_system(kvartal::admin::verify_audit(app.db(), None, None)).await.unwrap();
    }
}

db_test! {
    async fn the_log_is_append_only_and_an_edit_behind_its_back_is_found(app: &TestApp) {
        let org = app.create_org("УК Подлог").await;
        let house = app.create_house(&org, "Тихая", "1").await;
        app.ok("mutation($input: UpdateHouseInput!) { updateHouse(input: $input) { house { id } } }",
            json!({ "input": { "id": house, "floors": 5 } })).await;
        let db = app.db();
        let pg = db.get_database_backend() == DatabaseBackend::Postgres;
        // Behind the API's back, as someone with the database's keys.
        schema::tenancy::as_system(async {
        assert!(db.execute_unprepared("UPDATE audit_log SET user_email = 'someone@else'").await.is_err());
        assert!(db.execute_unprepared("DELETE FROM audit_log").await.is_err());
        let report = schema::audit::verify_chain(db, uuid::Uuid::parse_str(&org).unwrap(), None, crate::helpers::now()).await.unwrap();
        assert!(report.ok(), "{report:?}");
        assert_eq!(report.entries, 3, "organisation, house, update");

        // Someone with the database's keys turns the trigger off and edits a row.
        if pg {
            db.execute_unprepared("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only").await.unwrap();
        } else {
            db.execute_unprepared("DROP TRIGGER audit_log_no_update").await.unwrap();
        }
        db.execute_unprepared("UPDATE audit_log SET changes = '{}' WHERE seq = 2 AND object_type = 'house'").await.unwrap();
        let report = schema::audit::verify_chain(db, uuid::Uuid::parse_str(&org).unwrap(), None, crate::helpers::now()).await.unwrap();
        assert_eq!(report.broken.as_ref().map(|b| b.0), Some(2), "{report:?}");
        assert!(kvartal::admin::verify_audit(db, None, None).await.is_err());
        })
        .await;
    }
}

db_test! {
    async fn checkpoints_catch_a_cut_tail_and_verify_finds_every_organisation(app: &TestApp) {
        use schema::audit::{anchors, verify_all, verify_chain, AuditKey};
        let key = AuditKey::new("a key kept outside the database, 32+").unwrap();
        let org = app.create_org("УК Якорь").await;
        let house = app.create_house(&org, "Якорная", "1").await;
        for floors in [5, 6, 7] {
            app.ok("mutation($input: UpdateHouseInput!) { updateHouse(input: $input) { house { id } } }",
                json!({ "input": { "id": house, "floors": floors } })).await;
        }
        let headless = app.create_org("УК Без головы").await;
        let chainless = app.create_org("УК Без журнала").await;
        let db = app.db();
        let pg = db.get_database_backend() == DatabaseBackend::Postgres;
        let id = |o: &str| uuid::Uuid::parse_str(o).unwrap();
        let now = crate::helpers::now();
        schema::tenancy::as_system(async {
            let anchored = anchors::checkpoint(db, &key, id(&org), "test", now).await.unwrap().unwrap();
            assert_eq!(anchored, 5, "organisation, house, three updates");
            assert_eq!(anchors::checkpoint(db, &key, id(&org), "again", now).await.unwrap(), None, "nothing new to anchor");
            // The daily run: the others now, this one again only a day later.
            let daily = anchors::checkpoint_due(db, &key, now).await.unwrap();
            assert_eq!(daily, 3, "the three others (the test's home organisation too)");
            assert_eq!(anchors::checkpoint_due(db, &key, now).await.unwrap(), 0);
            app.ok("mutation($input: UpdateHouseInput!) { updateHouse(input: $input) { house { id } } }",
                json!({ "input": { "id": house, "floors": 8 } })).await;
            let report = verify_chain(db, id(&org), Some(&key), now).await.unwrap();
            assert!(report.ok(), "{report:?}");
            assert_eq!((report.entries, report.checkpoints), (6, 1));

            // Someone with the database's keys cuts the tail and moves the head
            // back: the chain alone still looks whole.
            if pg {
                db.execute_unprepared("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only").await.unwrap();
            } else {
                db.execute_unprepared("DROP TRIGGER audit_log_no_update").await.unwrap();
                db.execute_unprepared("DROP TRIGGER audit_log_no_delete").await.unwrap();
            }
            use entities::{audit_entry, audit_head};
            use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
            let anchored_org = id(&org);
            let hash_of = |seq: i64| async move {
                audit_entry::Entity::find()
                    .filter(audit_entry::Column::OrganisationId.eq(anchored_org))
                    .filter(audit_entry::Column::Seq.eq(seq))
                    .one(db).await.unwrap().unwrap().hash
            };
            audit_entry::Entity::delete_many()
                .filter(audit_entry::Column::OrganisationId.eq(id(&org)))
                .filter(audit_entry::Column::Seq.gte(4))
                .exec(db).await.unwrap();
            let third = hash_of(3).await;
            audit_head::Entity::update_many()
                .col_expr(audit_head::Column::Seq, Expr::value(3i64))
                .col_expr(audit_head::Column::Hash, Expr::value(third.clone()))
                .filter(audit_head::Column::OrganisationId.eq(id(&org)))
                .exec(db).await.unwrap();
            let unanchored = verify_chain(db, id(&org), None, now).await.unwrap();
            assert!(unanchored.broken.as_ref().is_some_and(|b| b.1.contains("checkpoint")), "{unanchored:?}");
            let report = verify_chain(db, id(&org), Some(&key), now).await.unwrap();
            assert_eq!(report.broken.as_ref().map(|b| b.0), Some(4), "{report:?}");
            assert!(report.broken.as_ref().unwrap().1.contains("saw entry 5"), "{report:?}");
            // … and a checkpoint rewritten to match is not genuine.
            let forged = if pg {
                "UPDATE audit_checkpoints SET seq = 3, hash = $1 WHERE organisation_id = $2"
            } else {
                "UPDATE audit_checkpoints SET seq = 3, hash = ? WHERE organisation_id = ?"
            };
            db.execute_raw(sea_orm::Statement::from_sql_and_values(
                db.get_database_backend(),
                forged,
                [third.clone().into(), id(&org).into()],
            ))
            .await
            .unwrap();
            let report = verify_chain(db, id(&org), Some(&key), now).await.unwrap();
            assert!(report.broken.as_ref().is_some_and(|b| b.1.contains("not genuine")), "{report:?}");

            // A removed head and a removed chain are found from the
            // organisations table and the log itself.
            audit_head::Entity::delete_by_id(id(&headless)).exec(db).await.unwrap();
            audit_entry::Entity::delete_many().filter(audit_entry::Column::OrganisationId.eq(id(&chainless))).exec(db).await.unwrap();
            audit_head::Entity::delete_by_id(id(&chainless)).exec(db).await.unwrap();
            let all = verify_all(db, Some(&key), now).await.unwrap();
            let of = |o: &str| all.iter().find(|r| r.organisation_id == id(o)).unwrap_or_else(|| panic!("{o} not checked: {all:?}"));
            assert!(of(&headless).broken.as_ref().is_some_and(|b| b.1.contains("head is missing")), "{all:?}");
            // One removed before any checkpoint: no log at all.
            let bare = app.create_org("УК Голая").await;
            audit_entry::Entity::delete_many().filter(audit_entry::Column::OrganisationId.eq(id(&bare))).exec(db).await.unwrap();
            audit_head::Entity::delete_by_id(id(&bare)).exec(db).await.unwrap();
            let report = verify_chain(db, id(&bare), Some(&key), now).await.unwrap();
            assert!(report.broken.as_ref().is_some_and(|b| b.1.contains("no audit log")), "{report:?}");
            // (Its daily checkpoint saw entry 1: the removal is named as such.)
            assert!(of(&chainless).broken.as_ref().is_some_and(|b| b.1.contains("entries after 0 were removed")), "{all:?}");
            // An unreadable row is named, not a crash of the check.
            if !pg {
                audit_entry::Entity::update_many()
                    .col_expr(audit_entry::Column::At, Expr::value("not a time"))
                    .filter(audit_entry::Column::OrganisationId.eq(id(&headless)))
                    .filter(audit_entry::Column::Seq.eq(1))
                    .exec(db).await.unwrap();
                let report = verify_chain(db, id(&headless), Some(&key), now).await.unwrap();
                assert!(report.broken.as_ref().is_some_and(|b| b.1.contains("cannot be read")), "{report:?}");
            }
            assert!(kvartal::admin::verify_audit(db, None, Some(&key)).await.is_err());
        })
        .await;
    }
}
