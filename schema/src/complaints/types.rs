//! GraphQL of complaints: filing (classified and assigned on the server),
//! reading with the history the caller may see, and moving along the
//! workflow.

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, Subscription, ID};
use chrono::{DateTime, Utc};
use entities::{complaint, complaint_history};
use futures_util::stream::BoxStream;
use futures_util::StreamExt;

use super::service::{Complaints, Move, NewComplaint};
use super::sla::Priority;
use super::workflow::Status;
use crate::auth::author;
use crate::registry::loaders::{self, RegistryLoader};

type Loader = async_graphql::dataloader::DataLoader<RegistryLoader>;
use crate::pagination::{opt_uuid, uuid};
use crate::registry::mutation::InInput;

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum ComplaintStatus {
    New,
    Assigned,
    InProgress,
    WaitingResident,
    WaitingParts,
    Done,
    Closed,
    Rejected,
}

impl ComplaintStatus {
    fn status(self) -> Status {
        match self {
            ComplaintStatus::New => Status::New,
            ComplaintStatus::Assigned => Status::Assigned,
            ComplaintStatus::InProgress => Status::InProgress,
            ComplaintStatus::WaitingResident => Status::WaitingResident,
            ComplaintStatus::WaitingParts => Status::WaitingParts,
            ComplaintStatus::Done => Status::Done,
            ComplaintStatus::Closed => Status::Closed,
            ComplaintStatus::Rejected => Status::Rejected,
        }
    }
    fn of(code: &str) -> Self {
        match Status::of(code) {
            Some(Status::Assigned) => ComplaintStatus::Assigned,
            Some(Status::InProgress) => ComplaintStatus::InProgress,
            Some(Status::WaitingResident) => ComplaintStatus::WaitingResident,
            Some(Status::WaitingParts) => ComplaintStatus::WaitingParts,
            Some(Status::Done) => ComplaintStatus::Done,
            Some(Status::Closed) => ComplaintStatus::Closed,
            Some(Status::Rejected) => ComplaintStatus::Rejected,
            _ => ComplaintStatus::New,
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum ComplaintSource {
    App,
    Phone,
    Email,
    Visit,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum ComplaintPriority {
    Low,
    Normal,
    High,
    Emergency,
}

impl ComplaintPriority {
    pub(crate) fn from_priority(p: Priority) -> Self {
        match p {
            Priority::Low => ComplaintPriority::Low,
            Priority::Normal => ComplaintPriority::Normal,
            Priority::High => ComplaintPriority::High,
            Priority::Emergency => ComplaintPriority::Emergency,
        }
    }
    pub(crate) fn priority(self) -> Priority {
        match self {
            ComplaintPriority::Low => Priority::Low,
            ComplaintPriority::Normal => Priority::Normal,
            ComplaintPriority::High => Priority::High,
            ComplaintPriority::Emergency => Priority::Emergency,
        }
    }
    fn of(code: &str) -> Self {
        match code {
            "low" => ComplaintPriority::Low,
            "high" => ComplaintPriority::High,
            "emergency" => ComplaintPriority::Emergency,
            _ => ComplaintPriority::Normal,
        }
    }
}

pub struct Complaint(pub complaint::Model);

#[Object]
impl Complaint {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Readable: 1, 2, 3, … per organisation.
    async fn number(&self) -> i64 {
        self.0.number
    }
    async fn house_id(&self) -> ID {
        ID(self.0.house_id.to_string())
    }
    async fn premises_id(&self) -> Option<ID> {
        self.0.premises_id.map(|p| ID(p.to_string()))
    }
    async fn account_id(&self) -> Option<ID> {
        self.0.account_id.map(|a| ID(a.to_string()))
    }
    async fn text(&self) -> &str {
        &self.0.text
    }
    /// The category code (`plumbing`, `electrical`, …); none when the rules found none.
    async fn category(&self) -> Option<&str> {
        self.0.category.as_deref()
    }
    /// `rules`, `resident` or `dispatcher`.
    async fn category_by(&self) -> &str {
        &self.0.category_by
    }
    async fn priority(&self) -> ComplaintPriority {
        ComplaintPriority::of(&self.0.priority)
    }
    async fn emergency(&self) -> bool {
        self.0.emergency
    }
    async fn status(&self) -> ComplaintStatus {
        ComplaintStatus::of(&self.0.status)
    }
    async fn assignee_id(&self) -> Option<ID> {
        self.0.assignee_id.map(|a| ID(a.to_string()))
    }
    /// The assignee's name as staff see it.
    async fn assignee_name(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let Some(a) = self.0.assignee_id else {
            return Ok(None);
        };
        ctx.data::<Loader>()?.load_one(loaders::UserName(a)).await
    }
    /// The house's one-line address.
    async fn address(&self, ctx: &Context<'_>) -> Result<String> {
        Ok(ctx
            .data::<Loader>()?
            .load_one(loaders::HouseId(self.0.house_id))
            .await?
            .map(|h| h.address)
            .unwrap_or_default())
    }
    async fn source(&self) -> &str {
        &self.0.source
    }
    /// Who to call back and how: personal data, shown to those the access
    /// matrix lets see it (`Complaint.contact`: not to contractors); null
    /// for the others.
    async fn contact(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        let p = crate::auth::principal(ctx)?;
        let c = &self.0;
        let target = match c.account_id {
            Some(id) => crate::auth::Target::Account {
                org: c.organisation_id,
                house: c.house_id,
                id,
            },
            None => crate::auth::Target::House {
                org: c.organisation_id,
                id: c.house_id,
            },
        };
        Ok(p.check_field("Complaint.contact", target)
            .is_ok()
            .then_some(c.contact.as_str()))
    }
    /// By when the work should start, and be done.
    async fn react_due(&self) -> DateTime<Utc> {
        self.0.react_due
    }
    async fn resolve_due(&self) -> DateTime<Utc> {
        self.0.resolve_due
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// The resident's rating, 1 to 5.
    async fn rating(&self) -> Option<i32> {
        self.0.rating
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    async fn done_at(&self) -> Option<DateTime<Utc>> {
        self.0.done_at
    }
    /// Past a deadline unfinished (marked by the server's check, once).
    async fn overdue(&self) -> bool {
        self.0.overdue_at.is_some()
    }
    async fn overdue_at(&self) -> Option<DateTime<Utc>> {
        self.0.overdue_at
    }
    /// The manager it was escalated to when it became overdue.
    async fn escalated_to_id(&self) -> Option<ID> {
        self.0.escalated_to.map(|a| ID(a.to_string()))
    }
    /// Photos and documents: the resident's and those of the work done.
    async fn attachments(&self, ctx: &Context<'_>) -> Result<Vec<crate::files::types::Attachment>> {
        // Whoever sees the complaint sees its files (the attachments row too).
        author(ctx, "Query.attachments")?.check(super::service::target(&self.0))?;
        let list = ctx
            .data::<Loader>()?
            .load_one(loaders::FilesOf("complaint", self.0.id))
            .await?
            .unwrap_or_default();
        Ok(list
            .into_iter()
            .map(crate::files::types::Attachment)
            .collect())
    }
    /// What happened to it, oldest first (residents: what is shown to them).
    async fn history(&self, ctx: &Context<'_>) -> Result<Vec<HistoryEntry>> {
        let by = author(ctx, "Query.complaint")?;
        let staff = super::service::staff_role(
            &by.principal,
            self.0.organisation_id,
            &crate::auth::Role::ALL,
        );
        let list = ctx
            .data::<Loader>()?
            .load_one(loaders::HistoryOf(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(list
            .into_iter()
            .filter(|h| staff || h.public)
            .map(HistoryEntry::from)
            .collect())
    }
}

#[derive(SimpleObject)]
pub struct HistoryEntry {
    /// `filed`, `classified`, `assigned`, `status`.
    pub kind: String,
    pub from_status: Option<ComplaintStatus>,
    pub to_status: Option<ComplaintStatus>,
    pub public: bool,
    pub text: Option<String>,
    /// JSON of what else it records.
    pub data: String,
    pub actor: String,
    pub at: DateTime<Utc>,
}

impl From<complaint_history::Model> for HistoryEntry {
    fn from(h: complaint_history::Model) -> Self {
        HistoryEntry {
            kind: h.kind,
            from_status: h.from_status.as_deref().map(ComplaintStatus::of),
            to_status: h.to_status.as_deref().map(ComplaintStatus::of),
            public: h.public,
            text: h.text,
            data: h.data,
            actor: h.actor,
            at: h.created_at,
        }
    }
}

#[derive(Default)]
pub struct ComplaintsQuery;

#[Object]
impl ComplaintsQuery {
    async fn complaint(&self, ctx: &Context<'_>, id: ID) -> Result<Complaint> {
        let by = author(ctx, "Query.complaint")?;
        let id = uuid("id", &id)?;
        Ok(Complaint(ctx.data::<Complaints>()?.get(&by, id).await?))
    }

    /// Newest first: staff the organisation's (their houses'), residents their own;
    /// `assigneeId`: only those assigned to that person.
    async fn complaints(
        &self,
        ctx: &Context<'_>,
        organisation_id: ID,
        status: Option<ComplaintStatus>,
        house_id: Option<ID>,
        assignee_id: Option<ID>,
        #[graphql(default = 100)] first: i32,
    ) -> Result<Vec<Complaint>> {
        let by = author(ctx, "Query.complaints")?;
        let org = uuid("organisationId", &organisation_id)?;
        let house = opt_uuid("houseId", house_id.as_ref())?;
        let assignee = opt_uuid("assigneeId", assignee_id.as_ref())?;
        let list = ctx
            .data::<Complaints>()?
            .list(
                &by,
                org,
                status.map(ComplaintStatus::status),
                house,
                assignee,
                first.clamp(1, 500) as u64,
            )
            .await?;
        Ok(list.into_iter().map(Complaint).collect())
    }

    /// The categories a complaint may be filed under (the organisation's rules').
    async fn complaint_categories(
        &self,
        ctx: &Context<'_>,
        organisation_id: ID,
    ) -> Result<Vec<String>> {
        let by = author(ctx, "Query.complaintCategories")?;
        let org = uuid("organisationId", &organisation_id)?;
        Ok(ctx.data::<Complaints>()?.categories(&by, org).await?)
    }

    /// Who may take a complaint of the house: staff serving it, with how
    /// many open complaints each has (least busy first).
    async fn complaint_assignees(
        &self,
        ctx: &Context<'_>,
        organisation_id: ID,
        house_id: Option<ID>,
    ) -> Result<Vec<Assignee>> {
        let by = author(ctx, "Query.complaintAssignees")?;
        let org = uuid("organisationId", &organisation_id)?;
        let house = opt_uuid("houseId", house_id.as_ref())?;
        let list = ctx.data::<Complaints>()?.assignees(&by, org, house).await?;
        Ok(list
            .into_iter()
            .map(|(id, name, roles, open)| Assignee {
                user_id: ID(id.to_string()),
                name,
                roles,
                open,
            })
            .collect())
    }
}

#[derive(SimpleObject)]
pub struct Assignee {
    pub user_id: ID,
    pub name: String,
    /// Role codes: ENGINEER, DISPATCHER, …
    pub roles: Vec<String>,
    /// Open complaints assigned to them now.
    pub open: i64,
}

#[derive(InputObject)]
pub struct FileComplaintInput {
    /// What it is about: an account, or premises, or a house (common areas).
    pub account_id: Option<ID>,
    pub premises_id: Option<ID>,
    pub house_id: Option<ID>,
    pub text: String,
    /// The category, when the filer knows it; else the rules find it.
    pub category: Option<String>,
    /// How it came (dispatchers); a resident's is APP.
    #[graphql(default_with = "ComplaintSource::App")]
    pub source: ComplaintSource,
    /// Who complains and how to reach them (dispatchers).
    pub contact: Option<String>,
    pub priority: Option<ComplaintPriority>,
}

#[derive(InputObject)]
pub struct MoveComplaintInput {
    pub id: ID,
    pub status: ComplaintStatus,
    /// Assigning or reassigning: the person.
    pub assignee_id: Option<ID>,
    pub comment: Option<String>,
    pub reason: Option<String>,
    /// Done: photos of the work (files uploaded to this complaint).
    #[graphql(default)]
    pub photo_ids: Vec<ID>,
}

#[derive(SimpleObject)]
pub struct ComplaintPayload {
    pub complaint: Complaint,
}

#[derive(InputObject)]
pub struct CommentComplaintInput {
    pub id: ID,
    pub text: String,
    /// Shown to the resident; staff only when false (a resident's comment is always public).
    #[graphql(default = true)]
    pub public: bool,
}

#[derive(SimpleObject)]
pub struct CommentComplaintPayload {
    pub entry: HistoryEntry,
}

#[derive(Default)]
pub struct ComplaintsMutation;

#[Object]
impl ComplaintsMutation {
    /// Files a complaint: numbered, classified and assigned on the server.
    async fn file_complaint(
        &self,
        ctx: &Context<'_>,
        input: FileComplaintInput,
    ) -> Result<ComplaintPayload> {
        let by = author(ctx, "Mutation.fileComplaint")?;
        let new = NewComplaint {
            account_id: opt_uuid("accountId", input.account_id.as_ref()).input()?,
            premises_id: opt_uuid("premisesId", input.premises_id.as_ref()).input()?,
            house_id: opt_uuid("houseId", input.house_id.as_ref()).input()?,
            text: input.text,
            category: input.category,
            source: match input.source {
                ComplaintSource::App => "app",
                ComplaintSource::Phone => "phone",
                ComplaintSource::Email => "email",
                ComplaintSource::Visit => "visit",
            }
            .into(),
            contact: input.contact,
            priority: input.priority.map(ComplaintPriority::priority),
        };
        let row = ctx.data::<Complaints>()?.file(&by, new).await.input()?;
        Ok(ComplaintPayload {
            complaint: Complaint(row),
        })
    }

    /// A comment on a complaint, public or internal.
    async fn comment_complaint(
        &self,
        ctx: &Context<'_>,
        input: CommentComplaintInput,
    ) -> Result<CommentComplaintPayload> {
        let by = author(ctx, "Mutation.commentComplaint")?;
        let id = uuid("id", &input.id).input()?;
        let entry = ctx
            .data::<Complaints>()?
            .comment(&by, id, &input.text, input.public)
            .await
            .input()?;
        Ok(CommentComplaintPayload {
            entry: entry.into(),
        })
    }

    /// A dispatcher's correction of the category (recorded beside the rules' answer).
    async fn reclassify_complaint(
        &self,
        ctx: &Context<'_>,
        id: ID,
        category: String,
    ) -> Result<ComplaintPayload> {
        let by = author(ctx, "Mutation.reclassifyComplaint")?;
        let id = uuid("id", &id).input()?;
        let row = ctx
            .data::<Complaints>()?
            .reclassify(&by, id, &category)
            .await
            .input()?;
        Ok(ComplaintPayload {
            complaint: Complaint(row),
        })
    }

    /// The resident's rating of the work done, 1 to 5.
    async fn rate_complaint(
        &self,
        ctx: &Context<'_>,
        id: ID,
        stars: i32,
    ) -> Result<ComplaintPayload> {
        let by = author(ctx, "Mutation.rateComplaint")?;
        let id = uuid("id", &id).input()?;
        let row = ctx
            .data::<Complaints>()?
            .rate(&by, id, stars)
            .await
            .input()?;
        Ok(ComplaintPayload {
            complaint: Complaint(row),
        })
    }

    /// Moves a complaint along its workflow (or reassigns it), as the rules allow.
    async fn move_complaint(
        &self,
        ctx: &Context<'_>,
        input: MoveComplaintInput,
    ) -> Result<ComplaintPayload> {
        let by = author(ctx, "Mutation.moveComplaint")?;
        let id = uuid("id", &input.id).input()?;
        let m = Move {
            to: Some(input.status.status()),
            assignee: opt_uuid("assigneeId", input.assignee_id.as_ref()).input()?,
            comment: input.comment,
            reason: input.reason,
            photos: input
                .photo_ids
                .iter()
                .map(|p| uuid("photoIds", p))
                .collect::<crate::error::AppResult<_>>()
                .input()?,
        };
        let row = ctx
            .data::<Complaints>()?
            .move_to(&by, id, m)
            .await
            .input()?;
        Ok(ComplaintPayload {
            complaint: Complaint(row),
        })
    }
}

/// A complaint as it changed.
#[derive(SimpleObject)]
pub struct ComplaintUpdate {
    /// The event's number in the organisation's feed (`after` resumes from it).
    pub seq: i64,
    pub id: ID,
    pub number: i64,
    pub status: ComplaintStatus,
    pub assignee_id: Option<ID>,
}

use super::visibility::Changed;

#[derive(SimpleObject)]
pub struct StatusCount {
    pub status: ComplaintStatus,
    pub count: i64,
}

/// How many complaints are in each column of the board.
#[derive(SimpleObject)]
pub struct ComplaintBoard {
    /// The event it reflects (0: counted when the subscription began).
    pub seq: i64,
    pub counts: Vec<StatusCount>,
    /// Open and past a deadline.
    pub overdue: i64,
}

impl ComplaintBoard {
    fn of(seq: i64, b: super::service::Board) -> Self {
        ComplaintBoard {
            seq,
            counts: Status::ALL
                .into_iter()
                .map(|s| StatusCount {
                    status: ComplaintStatus::of(s.code()),
                    count: b.counts.get(s.code()).copied().unwrap_or(0),
                })
                .collect(),
            overdue: b.overdue,
        }
    }
}

#[derive(Default)]
pub struct ComplaintsSubscription;

#[Subscription]
impl ComplaintsSubscription {
    /// The board's counts per status (and overdue), now and after every
    /// change: staff, their houses (one with `houseId`).
    async fn complaint_board(
        &self,
        ctx: &Context<'_>,
        organisation_id: ID,
        house_id: Option<ID>,
    ) -> Result<BoxStream<'static, ComplaintBoard>> {
        const OP: &str = "Subscription.complaintBoard";
        let p = crate::auth::principal(ctx)?;
        let org = uuid("organisationId", &organisation_id)?;
        let house = opt_uuid("houseId", house_id.as_ref())?;
        p.scope(OP, org)?;
        let complaints = ctx.data::<Complaints>()?.clone();
        let orgs = crate::tenancy::of(Some(&p));
        let by = crate::audit::Author::new(p.clone(), crate::auth::meta(ctx), OP);
        let first = complaints.board(&by, org, house).await?;
        let rest = crate::events::visible_events(
            ctx,
            crate::events::Feed {
                operation: OP,
                topic: super::service::TOPIC,
                organisation: org,
                after: None,
                visible: std::sync::Arc::new(move |_, e| house.is_none() || e.house_id == house),
            },
        )
        .await?;
        let meta = crate::auth::meta(ctx);
        // Each change: the counts again, as this subscriber may see them; when
        // their rights no longer allow the board, it ends.
        let rest = rest
            .then(move |(p, e)| {
                let (complaints, orgs, meta) = (complaints.clone(), orgs.clone(), meta.clone());
                async move {
                    let by = crate::audit::Author::new(p, meta, OP);
                    crate::tenancy::scoped(orgs, complaints.board(&by, org, house))
                        .await
                        .ok()
                        .map(|b| ComplaintBoard::of(e.seq, b))
                }
            })
            .take_while(|b| std::future::ready(b.is_some()))
            .filter_map(std::future::ready);
        Ok(
            futures_util::stream::once(async move { ComplaintBoard::of(0, first) })
                .chain(rest)
                .boxed(),
        )
    }

    /// Complaints as they are filed, moved, commented on: residents their own,
    /// staff their organisation's (their houses, when limited); one house with
    /// `houseId`, one assignee's (as assigned now) with `assigneeId`. `after`: resume after that event without a gap.
    async fn complaint_updated(
        &self,
        ctx: &Context<'_>,
        organisation_id: ID,
        house_id: Option<ID>,
        assignee_id: Option<ID>,
        after: Option<i64>,
    ) -> Result<BoxStream<'static, ComplaintUpdate>> {
        const OP: &str = "Subscription.complaintUpdated";
        let org = uuid("organisationId", &organisation_id)?;
        let house = opt_uuid("houseId", house_id.as_ref())?;
        let assignee = opt_uuid("assigneeId", assignee_id.as_ref())?;
        crate::events::subscribe(
            ctx,
            crate::events::Feed {
                operation: OP,
                topic: super::service::TOPIC,
                organisation: org,
                after,
                visible: std::sync::Arc::new(move |p, e| {
                    super::visibility::sees_change(p, OP, house, assignee, e)
                }),
            },
            |e| {
                let c = e.decode::<Changed>()?;
                Some(ComplaintUpdate {
                    seq: e.seq,
                    id: ID(c.id.to_string()),
                    number: c.number,
                    status: ComplaintStatus::of(&c.status),
                    assignee_id: c.assignee_id.map(|a| ID(a.to_string())),
                })
            },
        )
        .await
    }
}
