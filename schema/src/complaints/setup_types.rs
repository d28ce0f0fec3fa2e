//! GraphQL of an organisation's complaint setup: reopen window, rules,
//! routes, deadlines, groups.

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, ID};

use super::classify::Rule;
use super::routing::{RoutingRule, Target as RouteTarget};
use super::service::Complaints;
use super::setup::{Change, Group, Setup};
use super::sla::Sla;
use super::types::ComplaintPriority;
use crate::auth::author;
use crate::error::{AppError, AppResult};
use crate::pagination::{opt_uuid, uuid};
use crate::registry::mutation::InInput;

#[derive(SimpleObject)]
pub struct ClassificationRule {
    pub category: String,
    /// ru, pt-BR, en; none: any language.
    pub locale: Option<String>,
    /// A word or phrase; `prefix*` matches a word's start.
    pub phrase: String,
    pub weight: i32,
    /// Found in a text, it makes the complaint an emergency.
    pub emergency: bool,
}

#[derive(SimpleObject)]
pub struct RoutingRuleEntry {
    /// None: any category.
    pub category: Option<String>,
    /// None: any house.
    pub house_id: Option<ID>,
    pub person_id: Option<ID>,
    pub group_id: Option<ID>,
}

#[derive(SimpleObject)]
pub struct SlaEntry {
    pub category: Option<String>,
    pub priority: ComplaintPriority,
    pub react_hours: i64,
    pub resolve_hours: i64,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum StaffGroupKind {
    Department,
    Contractor,
}

#[derive(SimpleObject)]
pub struct StaffGroup {
    pub id: ID,
    pub kind: StaffGroupKind,
    pub name: String,
    pub member_ids: Vec<ID>,
}

impl From<Group> for StaffGroup {
    fn from(g: Group) -> Self {
        StaffGroup {
            id: ID(g.id.to_string()),
            kind: if g.kind == "contractor" {
                StaffGroupKind::Contractor
            } else {
                StaffGroupKind::Department
            },
            name: g.name,
            member_ids: g.members.into_iter().map(|m| ID(m.to_string())).collect(),
        }
    }
}

#[derive(SimpleObject)]
pub struct ComplaintSetup {
    /// Days a resident may reopen done work.
    pub reopen_days: i64,
    /// The categories the rules know.
    pub categories: Vec<String>,
    pub rules: Vec<ClassificationRule>,
    /// The rules are the built-in ones (the organisation has not set its own).
    pub built_in_rules: bool,
    pub routes: Vec<RoutingRuleEntry>,
    /// Deadlines; a priority without one keeps the built-in deadline.
    pub slas: Vec<SlaEntry>,
    pub groups: Vec<StaffGroup>,
}

impl From<Setup> for ComplaintSetup {
    fn from(s: Setup) -> Self {
        let mut categories: Vec<String> = Vec::new();
        for r in &s.rules {
            if !categories.contains(&r.category) {
                categories.push(r.category.clone());
            }
        }
        ComplaintSetup {
            reopen_days: s.settings.reopen_days,
            categories,
            built_in_rules: s.built_in,
            rules: s
                .rules
                .into_iter()
                .map(|r| ClassificationRule {
                    category: r.category,
                    locale: r.locale,
                    phrase: r.phrase,
                    weight: r.weight,
                    emergency: r.emergency,
                })
                .collect(),
            routes: s
                .routes
                .into_iter()
                .map(|r| {
                    let (person_id, group_id) = match r.target {
                        RouteTarget::Person(p) => (Some(ID(p.to_string())), None),
                        RouteTarget::Group(g) => (None, Some(ID(g.to_string()))),
                    };
                    RoutingRuleEntry {
                        category: r.category,
                        house_id: r.house.map(|h| ID(h.to_string())),
                        person_id,
                        group_id,
                    }
                })
                .collect(),
            slas: s
                .slas
                .into_iter()
                .map(|s| SlaEntry {
                    category: s.category,
                    priority: ComplaintPriority::from_priority(s.priority),
                    react_hours: s.react_hours,
                    resolve_hours: s.resolve_hours,
                })
                .collect(),
            groups: s.groups.into_iter().map(StaffGroup::from).collect(),
        }
    }
}

#[derive(InputObject)]
pub struct RuleInput {
    pub category: String,
    pub locale: Option<String>,
    pub phrase: String,
    #[graphql(default = 1)]
    pub weight: i32,
    #[graphql(default)]
    pub emergency: bool,
}

#[derive(InputObject)]
pub struct RouteInput {
    pub category: Option<String>,
    pub house_id: Option<ID>,
    /// One of a person or a group.
    pub person_id: Option<ID>,
    pub group_id: Option<ID>,
}

#[derive(InputObject)]
pub struct SlaInput {
    pub category: Option<String>,
    pub priority: ComplaintPriority,
    pub react_hours: i64,
    pub resolve_hours: i64,
}

#[derive(InputObject)]
pub struct UpdateComplaintSetupInput {
    pub organisation_id: ID,
    pub reopen_days: Option<i64>,
    /// Each list given replaces the stored one; an empty `rules` goes back to the built-in ones.
    pub rules: Option<Vec<RuleInput>>,
    pub routes: Option<Vec<RouteInput>>,
    pub slas: Option<Vec<SlaInput>>,
}

#[derive(InputObject)]
pub struct SaveStaffGroupInput {
    /// Leave out to create one.
    pub id: Option<ID>,
    pub organisation_id: ID,
    pub kind: StaffGroupKind,
    pub name: String,
    #[graphql(default)]
    pub member_ids: Vec<ID>,
}

fn route(i: usize, r: RouteInput) -> AppResult<RoutingRule> {
    let f = |n: &str| format!("routes.{i}.{n}");
    let person = opt_uuid(&f("personId"), r.person_id.as_ref())?;
    let group = opt_uuid(&f("groupId"), r.group_id.as_ref())?;
    let target = match (person, group) {
        (Some(p), None) => RouteTarget::Person(p),
        (None, Some(g)) => RouteTarget::Group(g),
        _ => {
            return Err(AppError::Validation {
                field: f("personId"),
                reason: "one_target",
                message: "a person or a group, one of them".into(),
            })
        }
    };
    Ok(RoutingRule {
        category: r
            .category
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty()),
        house: opt_uuid(&f("houseId"), r.house_id.as_ref())?,
        target,
    })
}

#[derive(Default)]
pub struct ComplaintSetupQuery;

#[Object]
impl ComplaintSetupQuery {
    /// The organisation's complaint setup.
    async fn complaint_setup(
        &self,
        ctx: &Context<'_>,
        organisation_id: ID,
    ) -> Result<ComplaintSetup> {
        let by = author(ctx, "Query.complaintSetup")?;
        let org = uuid("organisationId", &organisation_id)?;
        Ok(ctx.data::<Complaints>()?.setup(&by, org).await?.into())
    }
}

#[derive(Default)]
pub struct ComplaintSetupMutation;

#[Object]
impl ComplaintSetupMutation {
    /// Changes the reopen window and replaces the lists given.
    async fn update_complaint_setup(
        &self,
        ctx: &Context<'_>,
        input: UpdateComplaintSetupInput,
    ) -> Result<ComplaintSetup> {
        let by = author(ctx, "Mutation.updateComplaintSetup")?;
        let org = uuid("organisationId", &input.organisation_id).input()?;
        let change = Change {
            reopen_days: input.reopen_days,
            rules: input.rules.map(|rules| {
                rules
                    .into_iter()
                    .map(|r| Rule {
                        category: r.category.trim().to_string(),
                        locale: r
                            .locale
                            .map(|l| l.trim().to_string())
                            .filter(|l| !l.is_empty()),
                        phrase: r.phrase.trim().to_string(),
                        weight: r.weight,
                        emergency: r.emergency,
                    })
                    .collect()
            }),
            routes: input
                .routes
                .map(|routes| {
                    routes
                        .into_iter()
                        .enumerate()
                        .map(|(i, r)| route(i, r))
                        .collect::<AppResult<Vec<_>>>()
                })
                .transpose()
                .input()?,
            slas: input.slas.map(|slas| {
                slas.into_iter()
                    .map(|s| Sla {
                        category: s
                            .category
                            .map(|c| c.trim().to_string())
                            .filter(|c| !c.is_empty()),
                        priority: s.priority.priority(),
                        react_hours: s.react_hours,
                        resolve_hours: s.resolve_hours,
                    })
                    .collect()
            }),
        };
        Ok(ctx
            .data::<Complaints>()?
            .update_setup(&by, org, change)
            .await
            .input()?
            .into())
    }

    /// Creates or changes a department or contractor and its people.
    async fn save_staff_group(
        &self,
        ctx: &Context<'_>,
        input: SaveStaffGroupInput,
    ) -> Result<StaffGroup> {
        let by = author(ctx, "Mutation.saveStaffGroup")?;
        let org = uuid("organisationId", &input.organisation_id).input()?;
        let id = opt_uuid("id", input.id.as_ref()).input()?;
        let members = input
            .member_ids
            .iter()
            .enumerate()
            .map(|(i, m)| uuid(&format!("memberIds.{i}"), m))
            .collect::<AppResult<Vec<_>>>()
            .input()?;
        let kind = match input.kind {
            StaffGroupKind::Department => "department",
            StaffGroupKind::Contractor => "contractor",
        };
        Ok(ctx
            .data::<Complaints>()?
            .save_group(&by, org, id, kind, &input.name, &members)
            .await
            .input()?
            .into())
    }
}
