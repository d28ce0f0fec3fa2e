//! Late complaints and the people told about them.
//!
//! The server looks for open complaints past a deadline every minute (not
//! started by the time to react, or not done by the time to resolve), marks
//! each once, escalates it to a manager who serves its house (an
//! administrator when there is none) and records the notification that is
//! due. An emergency records its notifications when it is filed. The
//! notifications issue sends what `notification_intents` holds.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::service::{self as svc, Complaints};
use super::workflow::Status;
use crate::audit::{record_with, Author};
use crate::auth::Role;
use crate::bulk::{fetch_all, Cell};
use crate::error::AppResult;

/// Records that `users` are to be told `text` about an object.
pub(crate) async fn intend(
    txn: &DatabaseTransaction,
    org: Uuid,
    kind: &str,
    (object_type, object_id): (&str, Uuid),
    users: &[Uuid],
    text: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    for u in users {
        txn.execute_raw(crate::bulk::statement(txn.get_database_backend(),
            "INSERT INTO notification_intents (id, organisation_id, kind, object_type, object_id, user_id, text, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                Uuid::now_v7().into(),
                org.into(),
                kind.into(),
                object_type.into(),
                object_id.into(),
                (*u).into(),
                text.into(),
                now.into(),
            ],
        ))
        .await?;
    }
    Ok(())
}

/// Staff of `org` with one of `roles` who serve `house`, by id.
pub(crate) async fn serving<C: ConnectionTrait>(
    conn: &C,
    org: Uuid,
    house: Uuid,
    roles: &[Role],
) -> AppResult<Vec<Uuid>> {
    let mut out: Vec<Uuid> = entities::membership::Entity::find()
        .filter(entities::membership::Column::OrganisationId.eq(org))
        .all(conn)
        .await?
        .into_iter()
        .filter(|m| {
            m.roles
                .split(',')
                .any(|r| roles.iter().any(|x| x.as_str() == r.trim()))
        })
        .filter(|m| {
            m.house_ids.trim().is_empty()
                || m.house_ids
                    .split(',')
                    .any(|h| h.trim() == house.to_string())
        })
        .map(|m| m.user_id)
        .collect();
    out.sort();
    Ok(out)
}

/// What the people told read, in the organisation's language.
pub(crate) fn message(locale: &str, kind: &str, number: i64, extra: &str) -> String {
    let lang = if locale.starts_with("ru") {
        "ru"
    } else if locale.starts_with("pt") {
        "pt"
    } else {
        "en"
    };
    match (kind, lang) {
        ("complaint_emergency", "ru") => format!("Аварийная заявка №{number}: {extra}"),
        ("complaint_emergency", "pt") => format!("Chamado de emergência nº {number}: {extra}"),
        ("complaint_emergency", _) => format!("Emergency complaint no. {number}: {extra}"),
        ("complaint_overdue", "ru") => format!("Заявка №{number} просрочена ({extra})"),
        ("complaint_overdue", "pt") => format!("Chamado nº {number} está atrasado ({extra})"),
        (_, _) => format!("Complaint no. {number} is overdue ({extra})"),
    }
}

impl Complaints {
    /// Marks and escalates what became late by now; how many.
    pub async fn sweep_overdue(&self) -> AppResult<usize> {
        let now = self.clock.now();
        let open: Vec<&str> = Status::ALL
            .into_iter()
            .filter(|s| s.open())
            .map(Status::code)
            .collect();
        let not_started = [Status::New.code(), Status::Assigned.code()];
        let late: Vec<(Uuid,)> = fetch_all(
            &self.db,
            &format!(
                "SELECT id FROM complaints WHERE overdue_at IS NULL AND status IN ({}) \
                 AND (resolve_due < ? OR (react_due < ? AND status IN ('{}', '{}'))) \
                 ORDER BY resolve_due LIMIT 500",
                open.iter()
                    .map(|s| format!("'{s}'"))
                    .collect::<Vec<_>>()
                    .join(", "),
                not_started[0],
                not_started[1],
            ),
            vec![Cell::Timestamp(now), Cell::Timestamp(now)],
        )
        .await?;
        let mut n = 0;
        for (id,) in late {
            if self.escalate(id, now).await? {
                n += 1;
            }
        }
        Ok(n)
    }

    async fn escalate(&self, id: Uuid, now: DateTime<Utc>) -> AppResult<bool> {
        let by = Author::system("overdue check", "System.overdueCheck");
        let txn = crate::tx::begin_write(&self.db).await?;
        let Some(c) = entities::complaint::Entity::find_by_id(id)
            .one(&txn)
            .await?
        else {
            return Ok(false);
        };
        let mut to = serving(&txn, c.organisation_id, c.house_id, &[Role::Manager]).await?;
        if to.is_empty() {
            to = serving(&txn, c.organisation_id, c.house_id, &[Role::Admin]).await?;
        }
        let manager = to.first().copied();
        // Another instance may have marked it meanwhile: only one does.
        let marked = txn
            .execute_raw(crate::bulk::statement(
                txn.get_database_backend(),
                "UPDATE complaints SET overdue_at = ?, escalated_to = ?, updated_at = ? \
                 WHERE id = ? AND overdue_at IS NULL",
                vec![now.into(), manager.into(), now.into(), id.into()],
            ))
            .await?
            .rows_affected();
        if marked == 0 {
            return Ok(false);
        }
        let which = if c.resolve_due < now {
            "resolve"
        } else {
            "react"
        };
        let due = if which == "resolve" {
            c.resolve_due
        } else {
            c.react_due
        };
        svc::history(
            &txn,
            &c,
            "overdue",
            None,
            None,
            false,
            None,
            serde_json::json!({ "deadline": which, "due": due, "escalatedTo": manager }),
            &by,
            "system",
            now,
        )
        .await?;
        let locale = entities::organisation::Entity::find_by_id(c.organisation_id)
            .one(&txn)
            .await?
            .map(|o| o.locale)
            .unwrap_or_default();
        let text = message(
            &locale,
            "complaint_overdue",
            c.number,
            &due.format("%Y-%m-%d %H:%M UTC").to_string(),
        );
        intend(
            &txn,
            c.organisation_id,
            "complaint_overdue",
            ("complaint", c.id),
            &manager.into_iter().collect::<Vec<_>>(),
            &text,
            now,
        )
        .await?;
        let mut after = c.clone();
        after.overdue_at = Some(now);
        after.escalated_to = manager;
        after.updated_at = now;
        let changes = crate::audit::diff(Some(&c), Some(&after));
        let events = record_with(
            &txn,
            &by,
            c.organisation_id,
            "complaint",
            Some(c.id),
            changes,
            now,
            None,
            vec![svc::event(&after)],
        )
        .await?;
        txn.commit().await?;
        if let Some(e) = &self.events {
            e.committed(events);
        }
        Ok(true)
    }
}
