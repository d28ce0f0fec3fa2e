//! What an organisation sets for its complaints: the reopen window, the
//! classification rules, the routing rules, the deadlines per category and
//! priority, and the groups (departments, contractors) routes name.
//!
//! Each list is replaced whole, checked item by item (`rules.3.phrase`), in
//! one transaction with its audit entry.

use std::collections::HashSet;

use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::classify::{self, Rule};
use super::routing::{RoutingRule, Target as RouteTarget};
use super::service::{Complaints, Settings};
use super::sla::{Priority, Sla};
use crate::audit::{record_with, Author};
use crate::auth::Target;
use crate::bulk::{fetch_all, Cell};
use crate::error::{AppError, AppResult};

pub const LOCALES: [&str; 3] = ["ru", "pt-BR", "en"];

/// A group of people routing can name.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Group {
    pub id: Uuid,
    /// `department` or `contractor`.
    pub kind: String,
    pub name: String,
    pub members: Vec<Uuid>,
}

/// Everything at once, as the settings screen shows it.
#[derive(Debug, Clone)]
pub struct Setup {
    pub settings: Settings,
    /// The organisation's own rules, or the built-in ones (`built_in`).
    pub rules: Vec<Rule>,
    pub built_in: bool,
    pub routes: Vec<RoutingRule>,
    pub slas: Vec<Sla>,
    pub groups: Vec<Group>,
}

/// A change: each list given replaces the stored one.
#[derive(Debug, Clone, Default)]
pub struct Change {
    pub reopen_days: Option<i64>,
    /// An empty list goes back to the built-in rules.
    pub rules: Option<Vec<Rule>>,
    pub routes: Option<Vec<RoutingRule>>,
    pub slas: Option<Vec<Sla>>,
}

fn bad(field: String, reason: &'static str, message: impl Into<String>) -> AppError {
    AppError::Validation {
        field,
        reason,
        message: message.into(),
    }
}

fn code_ok(c: &str) -> bool {
    (1..=40).contains(&c.len())
        && c.chars()
            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_')
}

impl Complaints {
    pub(crate) async fn slas(&self, org: Uuid) -> AppResult<Vec<Sla>> {
        let rows: Vec<(Option<String>, String, i32, i32)> = fetch_all(
            &self.db,
            "SELECT category, priority, react_hours, resolve_hours FROM complaint_slas \
             WHERE organisation_id = ? ORDER BY category, priority",
            vec![Cell::Uuid(Some(org))],
        )
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(category, p, react, resolve)| {
                Some(Sla {
                    category,
                    priority: priority_of(&p)?,
                    react_hours: i64::from(react),
                    resolve_hours: i64::from(resolve),
                })
            })
            .collect())
    }

    async fn groups(&self, org: Uuid) -> AppResult<Vec<Group>> {
        let rows: Vec<(Uuid, String, String)> = fetch_all(
            &self.db,
            "SELECT id, kind, name FROM staff_groups WHERE organisation_id = ? ORDER BY name, id",
            vec![Cell::Uuid(Some(org))],
        )
        .await?;
        let members: Vec<(Uuid, Uuid)> = fetch_all(
            &self.db,
            "SELECT group_id, user_id FROM staff_group_members WHERE organisation_id = ?",
            vec![Cell::Uuid(Some(org))],
        )
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, kind, name)| Group {
                id,
                kind,
                name,
                members: members
                    .iter()
                    .filter(|(g, _)| *g == id)
                    .map(|(_, u)| *u)
                    .collect(),
            })
            .collect())
    }

    async fn routes(&self, org: Uuid) -> AppResult<Vec<RoutingRule>> {
        let rows: Vec<(Option<String>, Option<Uuid>, String, Uuid)> = fetch_all(
            &self.db,
            "SELECT category, house_id, target_kind, target_id FROM complaint_routes \
             WHERE organisation_id = ? ORDER BY position",
            vec![Cell::Uuid(Some(org))],
        )
        .await?;
        Ok(rows
            .into_iter()
            .map(|(category, house, kind, id)| RoutingRule {
                category,
                house,
                target: if kind == "person" {
                    RouteTarget::Person(id)
                } else {
                    RouteTarget::Group(id)
                },
            })
            .collect())
    }

    /// The organisation's setup (dispatchers, managers, administrators).
    pub async fn setup(&self, by: &Author, org: Uuid) -> AppResult<Setup> {
        by.check(Target::Organisation(org))?;
        let own: Vec<(i64,)> = fetch_all(
            &self.db,
            "SELECT COUNT(*) FROM complaint_rules WHERE organisation_id = ?",
            vec![Cell::Uuid(Some(org))],
        )
        .await?;
        Ok(Setup {
            settings: self.settings(org).await?,
            rules: self.rules(org).await?,
            built_in: own.first().is_none_or(|r| r.0 == 0),
            routes: self.routes(org).await?,
            slas: self.slas(org).await?,
            groups: self.groups(org).await?,
        })
    }

    /// Replaces what `change` gives (managers and administrators).
    pub async fn update_setup(&self, by: &Author, org: Uuid, change: Change) -> AppResult<Setup> {
        by.check(Target::WholeOrganisation(org))?;
        if let Some(d) = change.reopen_days {
            if !(0..=90).contains(&d) {
                return Err(bad(
                    "reopenDays".into(),
                    "out_of_range",
                    "from 0 to 90 days",
                ));
            }
        }
        let rules = match &change.rules {
            Some(r) => check_rules(r)?,
            None => self.rules(org).await?,
        };
        let categories: HashSet<&str> = rules.iter().map(|r| r.category.as_str()).collect();
        let groups = self.groups(org).await?;
        let staff: HashSet<Uuid> = staff_ids(&self.db, org).await?;
        let houses: HashSet<Uuid> = fetch_all::<(Uuid,)>(
            &self.db,
            "SELECT id FROM houses WHERE organisation_id = ?",
            vec![Cell::Uuid(Some(org))],
        )
        .await?
        .into_iter()
        .map(|h| h.0)
        .collect();
        if let Some(routes) = &change.routes {
            for (i, r) in routes.iter().enumerate() {
                let f = |name: &str| format!("routes.{i}.{name}");
                if let Some(c) = &r.category {
                    if !categories.contains(c.as_str()) {
                        return Err(bad(f("category"), "unknown", "a category of the rules"));
                    }
                }
                if let Some(h) = r.house {
                    if !houses.contains(&h) {
                        return Err(bad(f("houseId"), "unknown", "a house of the organisation"));
                    }
                }
                match r.target {
                    RouteTarget::Person(p) if !staff.contains(&p) => {
                        return Err(bad(
                            f("personId"),
                            "not_staff",
                            "a staff member of the organisation",
                        ))
                    }
                    RouteTarget::Group(g) if !groups.iter().any(|x| x.id == g) => {
                        return Err(bad(f("groupId"), "unknown", "a group of the organisation"))
                    }
                    _ => {}
                }
            }
        }
        if let Some(slas) = &change.slas {
            let mut seen = HashSet::new();
            for (i, s) in slas.iter().enumerate() {
                let f = |name: &str| format!("slas.{i}.{name}");
                if let Some(c) = &s.category {
                    if !categories.contains(c.as_str()) {
                        return Err(bad(f("category"), "unknown", "a category of the rules"));
                    }
                }
                if !(1..=8760).contains(&s.react_hours) {
                    return Err(bad(f("reactHours"), "out_of_range", "from 1 to 8760 hours"));
                }
                if s.resolve_hours < s.react_hours || s.resolve_hours > 8760 {
                    return Err(bad(
                        f("resolveHours"),
                        "out_of_range",
                        "at least the hours to react, at most 8760",
                    ));
                }
                if !seen.insert((s.category.clone(), s.priority)) {
                    return Err(bad(
                        f("priority"),
                        "duplicate",
                        "one deadline per category and priority",
                    ));
                }
            }
        }
        let before = self.setup(by, org).await?;
        let now = self.clock.now();
        let txn = crate::tx::begin_write(&self.db).await?;
        let o = sea_orm::Value::from(org);
        if let Some(d) = change.reopen_days {
            txn.execute_raw(crate::bulk::statement(txn.get_database_backend(),
                "INSERT INTO complaint_settings (organisation_id, reopen_days, updated_at) VALUES (?, ?, ?) \
                 ON CONFLICT (organisation_id) DO UPDATE SET reopen_days = excluded.reopen_days, updated_at = excluded.updated_at",
                vec![o.clone(), (d as i32).into(), now.into()],
            ))
            .await?;
        }
        if let Some(rules) = &change.rules {
            txn.execute_raw(crate::bulk::statement(
                txn.get_database_backend(),
                "DELETE FROM complaint_rules WHERE organisation_id = ?",
                vec![o.clone()],
            ))
            .await?;
            for (i, r) in rules.iter().enumerate() {
                txn.execute_raw(crate::bulk::statement(txn.get_database_backend(),
                    "INSERT INTO complaint_rules (id, organisation_id, category, locale, phrase, weight, emergency, position) \
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    vec![
                        Uuid::now_v7().into(),
                        o.clone(),
                        r.category.clone().into(),
                        r.locale.clone().into(),
                        r.phrase.clone().into(),
                        r.weight.into(),
                        r.emergency.into(),
                        (i as i32).into(),
                    ],
                ))
                .await?;
            }
        }
        if let Some(routes) = &change.routes {
            txn.execute_raw(crate::bulk::statement(
                txn.get_database_backend(),
                "DELETE FROM complaint_routes WHERE organisation_id = ?",
                vec![o.clone()],
            ))
            .await?;
            for (i, r) in routes.iter().enumerate() {
                let (kind, id) = match r.target {
                    RouteTarget::Person(p) => ("person", p),
                    RouteTarget::Group(g) => ("group", g),
                };
                txn.execute_raw(crate::bulk::statement(txn.get_database_backend(),
                    "INSERT INTO complaint_routes (id, organisation_id, category, house_id, target_kind, target_id, position) \
                     VALUES (?, ?, ?, ?, ?, ?, ?)",
                    vec![
                        Uuid::now_v7().into(),
                        o.clone(),
                        r.category.clone().into(),
                        r.house.into(),
                        kind.into(),
                        id.into(),
                        (i as i32).into(),
                    ],
                ))
                .await?;
            }
        }
        if let Some(slas) = &change.slas {
            txn.execute_raw(crate::bulk::statement(
                txn.get_database_backend(),
                "DELETE FROM complaint_slas WHERE organisation_id = ?",
                vec![o.clone()],
            ))
            .await?;
            for s in slas {
                txn.execute_raw(crate::bulk::statement(txn.get_database_backend(),
                    "INSERT INTO complaint_slas (id, organisation_id, category, priority, react_hours, resolve_hours) \
                     VALUES (?, ?, ?, ?, ?, ?)",
                    vec![
                        Uuid::now_v7().into(),
                        o.clone(),
                        s.category.clone().into(),
                        s.priority.code().into(),
                        (s.react_hours as i32).into(),
                        (s.resolve_hours as i32).into(),
                    ],
                ))
                .await?;
            }
        }
        let changes = serde_json::json!({
            "before": { "reopenDays": before.settings.reopen_days, "rules": before.rules.len(), "routes": before.routes.len(), "slas": before.slas.len() },
            "after": {
                "reopenDays": change.reopen_days,
                "rules": change.rules.as_ref().map(|r| r.iter().map(|r| format!("{}:{}:{}", r.category, r.locale.as_deref().unwrap_or("*"), r.phrase)).collect::<Vec<_>>()),
                "routes": change.routes.as_ref().map(Vec::len),
                "slas": change.slas.as_ref().map(|s| s.iter().map(|s| format!("{}:{}:{}/{}", s.category.as_deref().unwrap_or("*"), s.priority.code(), s.react_hours, s.resolve_hours)).collect::<Vec<_>>()),
            }
        });
        record_with(
            &txn,
            by,
            org,
            "complaint_setup",
            Some(org),
            changes,
            now,
            None,
            vec![],
        )
        .await?;
        txn.commit().await?;
        self.setup(by, org).await
    }

    /// Creates or changes a department or contractor and its people.
    pub async fn save_group(
        &self,
        by: &Author,
        org: Uuid,
        id: Option<Uuid>,
        kind: &str,
        name: &str,
        members: &[Uuid],
    ) -> AppResult<Group> {
        by.check(Target::WholeOrganisation(org))?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 120 {
            return Err(bad("name".into(), "length", "from 1 to 120 characters"));
        }
        if !["department", "contractor"].contains(&kind) {
            return Err(bad("kind".into(), "invalid", "DEPARTMENT or CONTRACTOR"));
        }
        let staff: HashSet<Uuid> = staff_ids(&self.db, org).await?;
        if let Some((i, _)) = members.iter().enumerate().find(|(_, m)| !staff.contains(m)) {
            return Err(bad(
                format!("memberIds.{i}"),
                "not_staff",
                "a staff member of the organisation",
            ));
        }
        let existing = self.groups(org).await?;
        if let Some(id) = id {
            if !existing.iter().any(|g| g.id == id) {
                return Err(AppError::not_found("group"));
            }
        }
        if existing
            .iter()
            .any(|g| Some(g.id) != id && g.name.to_lowercase() == name.to_lowercase())
        {
            return Err(AppError::Conflict {
                field: "name".into(),
                reason: "duplicate",
                message: "another group has this name".into(),
            });
        }
        let id = id.unwrap_or_else(Uuid::now_v7);
        let now = self.clock.now();
        let o = sea_orm::Value::from(org);
        let txn = crate::tx::begin_write(&self.db).await?;
        txn.execute_raw(crate::bulk::statement(txn.get_database_backend(),
            "INSERT INTO staff_groups (id, organisation_id, kind, name, created_at) VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, name = excluded.name",
            vec![id.into(), o.clone(), kind.into(), name.into(), now.into()],
        ))
        .await?;
        txn.execute_raw(crate::bulk::statement(
            txn.get_database_backend(),
            "DELETE FROM staff_group_members WHERE organisation_id = ? AND group_id = ?",
            vec![o.clone(), id.into()],
        ))
        .await?;
        let mut unique: Vec<Uuid> = members.to_vec();
        unique.sort();
        unique.dedup();
        for m in &unique {
            txn.execute_raw(crate::bulk::statement(txn.get_database_backend(),
                "INSERT INTO staff_group_members (organisation_id, group_id, user_id) VALUES (?, ?, ?)",
                vec![o.clone(), id.into(), (*m).into()],
            ))
            .await?;
        }
        let group = Group {
            id,
            kind: kind.into(),
            name: name.into(),
            members: unique,
        };
        record_with(
            &txn,
            by,
            org,
            "staff_group",
            Some(id),
            serde_json::json!({ "after": &group }),
            now,
            None,
            vec![],
        )
        .await?;
        txn.commit().await?;
        Ok(group)
    }
}

async fn staff_ids(db: &sea_orm::DatabaseConnection, org: Uuid) -> AppResult<HashSet<Uuid>> {
    Ok(fetch_all::<(Uuid,)>(
        db,
        "SELECT user_id FROM memberships WHERE organisation_id = ?",
        vec![Cell::Uuid(Some(org))],
    )
    .await?
    .into_iter()
    .map(|m| m.0)
    .collect())
}

pub fn priority_of(code: &str) -> Option<Priority> {
    [
        Priority::Low,
        Priority::Normal,
        Priority::High,
        Priority::Emergency,
    ]
    .into_iter()
    .find(|p| p.code() == code)
}

fn check_rules(rules: &[Rule]) -> AppResult<Vec<Rule>> {
    if rules.len() > 2000 {
        return Err(bad("rules".into(), "too_many", "at most 2000 phrases"));
    }
    for (i, r) in rules.iter().enumerate() {
        let f = |name: &str| format!("rules.{i}.{name}");
        if !code_ok(&r.category) {
            return Err(bad(
                f("category"),
                "invalid",
                "a code of lower-case letters, digits and _ (plumbing, elevator, …)",
            ));
        }
        if let Some(l) = &r.locale {
            if !LOCALES.contains(&l.as_str()) {
                return Err(bad(
                    f("locale"),
                    "invalid",
                    "ru, pt-BR or en (or none: any)",
                ));
            }
        }
        let words = crate::fold::fold(&r.phrase);
        if words.trim().trim_end_matches('*').trim().is_empty() || r.phrase.chars().count() > 100 {
            return Err(bad(
                f("phrase"),
                "invalid",
                "a word or phrase of up to 100 characters (`prefix*` for a word's start)",
            ));
        }
        if !(1..=100).contains(&r.weight) {
            return Err(bad(f("weight"), "out_of_range", "from 1 to 100"));
        }
    }
    if rules.is_empty() {
        return Ok(classify::default_rules());
    }
    Ok(rules.to_vec())
}
