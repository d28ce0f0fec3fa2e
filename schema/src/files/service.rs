//! Attachments: uploaded, checked and cleaned, stored, listed and served
//! only to those who may see the object they belong to.
//!
//! Invariants:
//! - What a file is comes from its bytes ([`content::sniff`]); only the
//!   allowed kinds are kept, images without their metadata.
//! - Seeing an attachment is seeing its owner: the complaint (as
//!   `complaint(id)` shows it), the reading's meter, the account, the person,
//!   by the same rows of the access matrix.
//! - The bytes are written before the row; a row that cannot be written
//!   takes its bytes away again, so no row points at nothing.

use std::sync::Arc;

use chrono::Datelike;
use entities::{account, attachment, complaint, person, reading};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};
use sha2::Digest;
use uuid::Uuid;

use super::content::{self, Kind};
use super::store::Store;
use crate::audit::{record_with, Author};
use crate::auth::{Role, Target};
use crate::clock::Clock;
use crate::complaints::service as complaints;
use crate::error::{AppError, AppResult};
use crate::events::Events;

/// At most this many files per object.
pub const PER_OWNER: u64 = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Complaint,
    Reading,
    Account,
    Person,
}

impl Owner {
    pub fn code(self) -> &'static str {
        match self {
            Owner::Complaint => "complaint",
            Owner::Reading => "reading",
            Owner::Account => "account",
            Owner::Person => "person",
        }
    }

    pub fn of(code: &str) -> Option<Owner> {
        [
            Owner::Complaint,
            Owner::Reading,
            Owner::Account,
            Owner::Person,
        ]
        .into_iter()
        .find(|o| o.code() == code)
    }

    /// The matrix row that decides who sees the owner.
    fn read_operation(self) -> &'static str {
        match self {
            Owner::Complaint => "Query.complaint",
            Owner::Reading => "Query.readings",
            Owner::Account => "Query.account",
            Owner::Person => "Query.person",
        }
    }
}

/// Who may do what with an owner's files.
struct Place {
    org: Uuid,
    /// Residents attach to complaints and readings; account and person
    /// documents are filed by staff.
    may_attach: bool,
    complaint: Option<complaint::Model>,
}

#[derive(Clone)]
pub struct Files {
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
    store: Store,
    max_bytes: usize,
    events: Option<Events>,
}

fn staff(p: &crate::auth::Principal, org: Uuid) -> bool {
    p.system || p.membership(org).is_some_and(|m| !m.roles.is_empty())
}

/// The name shown and offered on download: no folders, no control
/// characters, the extension of what the file really is.
pub fn display_name(sent: &str, kind: Kind) -> String {
    let base = sent.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = base
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(150)
        .collect();
    let stem = match clean.rsplit_once('.') {
        Some((stem, _)) if !stem.trim().is_empty() => stem.trim().to_string(),
        _ if !clean.trim().is_empty() && !clean.contains('.') => clean.trim().to_string(),
        _ => "file".to_string(),
    };
    format!("{stem}.{}", kind.extension())
}

impl Files {
    pub fn new(
        db: DatabaseConnection,
        clock: Arc<dyn Clock>,
        store: Store,
        max_bytes: usize,
        events: Option<Events>,
    ) -> Self {
        Self {
            db,
            clock,
            store,
            max_bytes,
            events,
        }
    }

    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// The owner, checked: `op` (the operation asked) and the owner's own
    /// read row must both allow the caller.
    async fn place(&self, by: &Author, owner: Owner, id: Uuid) -> AppResult<Place> {
        let p = &by.principal;
        let both = |t: Target<'_>| -> AppResult<()> {
            p.check(owner.read_operation(), t)?;
            p.check(by.operation, t)
        };
        let gone = || AppError::not_found(owner.code());
        match owner {
            Owner::Complaint => {
                let c = complaint::Entity::find_by_id(id)
                    .one(&self.db)
                    .await?
                    .ok_or_else(gone)?;
                both(complaints::target(&c))?;
                if !complaints::visible_to_resident(p, &c) {
                    return Err(gone());
                }
                Ok(Place {
                    org: c.organisation_id,
                    may_attach: true,
                    complaint: Some(c),
                })
            }
            Owner::Reading => {
                let r = reading::Entity::find_by_id(id)
                    .one(&self.db)
                    .await?
                    .ok_or_else(gone)?;
                both(Target::Meter {
                    org: r.organisation_id,
                    house: r.house_id,
                    premises: r.premises_id,
                })?;
                Ok(Place {
                    org: r.organisation_id,
                    may_attach: true,
                    complaint: None,
                })
            }
            Owner::Account => {
                let a = account::Entity::find_by_id(id)
                    .one(&self.db)
                    .await?
                    .ok_or_else(gone)?;
                both(Target::Account {
                    org: a.organisation_id,
                    house: a.house_id,
                    id: a.id,
                })?;
                Ok(Place {
                    org: a.organisation_id,
                    may_attach: staff(p, a.organisation_id),
                    complaint: None,
                })
            }
            Owner::Person => {
                let m = person::Entity::find_by_id(id)
                    .one(&self.db)
                    .await?
                    .ok_or_else(gone)?;
                let houses = if p.house_limited(m.organisation_id) {
                    Some(crate::registry::service::people::houses_of_person(&self.db, id).await?)
                } else {
                    None
                };
                both(Target::Person {
                    org: m.organisation_id,
                    id,
                    houses: houses.as_deref(),
                })?;
                Ok(Place {
                    org: m.organisation_id,
                    may_attach: staff(p, m.organisation_id),
                    complaint: None,
                })
            }
        }
    }

    /// Checks, cleans and stores a file for `owner`.
    pub async fn upload(
        &self,
        by: &Author,
        owner: Owner,
        owner_id: Uuid,
        name: &str,
        bytes: Vec<u8>,
    ) -> AppResult<attachment::Model> {
        if bytes.is_empty() {
            return Err(AppError::validation("file", "empty", "the file is empty"));
        }
        if bytes.len() > self.max_bytes {
            return Err(AppError::validation(
                "file",
                "too_large",
                format!("at most {} MB", self.max_bytes / (1024 * 1024)),
            ));
        }
        let place = self.place(by, owner, owner_id).await?;
        if !place.may_attach {
            return Err(AppError::Forbidden {
                operation: by.operation_name().into(),
            });
        }
        let kind = content::sniff(&bytes).ok_or_else(|| {
            AppError::validation(
                "file",
                "type_not_allowed",
                "JPEG, PNG or WebP photos and PDF scans only",
            )
        })?;
        // Re-encoding a photo is seconds of CPU: off the async workers.
        let clean = tokio::task::spawn_blocking(move || content::clean(kind, &bytes))
            .await
            .map_err(|e| AppError::Internal(format!("cleaning a file failed: {e}")))?
            .map_err(|d| AppError::validation("file", "damaged", d.0))?;
        let count = attachment::Entity::find()
            .filter(attachment::Column::OrganisationId.eq(place.org))
            .filter(attachment::Column::OwnerType.eq(owner.code()))
            .filter(attachment::Column::OwnerId.eq(owner_id))
            .count(&self.db)
            .await?;
        if count >= PER_OWNER {
            return Err(AppError::validation(
                "file",
                "too_many",
                format!("at most {PER_OWNER} files each"),
            ));
        }
        let now = self.clock.now();
        let id = Uuid::now_v7();
        let key = format!("{}/{:04}/{:02}/{id}", place.org, now.year(), now.month());
        let row = attachment::ActiveModel {
            id: Set(id),
            organisation_id: Set(place.org),
            owner_type: Set(owner.code().into()),
            owner_id: Set(owner_id),
            name: Set(display_name(name, kind)),
            content_type: Set(kind.mime().into()),
            size: Set(clean.len() as i64),
            sha256: Set(hex(&sha2::Sha256::digest(&clean))),
            storage_key: Set(key.clone()),
            uploaded_by: Set((!by.principal.system).then_some(by.principal.user_id)),
            uploaded_by_name: Set(if by.principal.system {
                "system".into()
            } else {
                by.principal.display_name.clone()
            }),
            created_at: Set(now),
        };
        self.store.put(&key, clean).await?;
        match self.record(by, &place, row).await {
            Ok(a) => Ok(a),
            Err(e) => {
                if let Err(d) = self.store.delete(&key).await {
                    tracing::warn!(error = %d, key, "an upload's bytes could not be taken back");
                }
                Err(e)
            }
        }
    }

    async fn record(
        &self,
        by: &Author,
        place: &Place,
        row: attachment::ActiveModel,
    ) -> AppResult<attachment::Model> {
        let now = self.clock.now();
        let txn = crate::tx::begin_write(&self.db).await?;
        let a = row.insert(&txn).await?;
        let mut news = Vec::new();
        if let Some(c) = &place.complaint {
            complaints::history(
                &txn,
                c,
                "attachment",
                None,
                None,
                true,
                Some(a.name.clone()),
                serde_json::json!({ "attachmentId": a.id, "contentType": a.content_type }),
                by,
                &complaints::actor_name(by),
                now,
            )
            .await?;
            news.push(complaints::event(c));
        }
        let changes = serde_json::json!({ "after": &a });
        let events = record_with(
            &txn,
            by,
            a.organisation_id,
            "attachment",
            Some(a.id),
            changes,
            now,
            None,
            news,
        )
        .await?;
        txn.commit().await?;
        if let Some(e) = &self.events {
            e.committed(events);
        }
        Ok(a)
    }

    /// An owner's files, oldest first.
    pub async fn list(
        &self,
        by: &Author,
        owner: Owner,
        owner_id: Uuid,
    ) -> AppResult<Vec<attachment::Model>> {
        let place = self.place(by, owner, owner_id).await?;
        Ok(attachment::Entity::find()
            .filter(attachment::Column::OrganisationId.eq(place.org))
            .filter(attachment::Column::OwnerType.eq(owner.code()))
            .filter(attachment::Column::OwnerId.eq(owner_id))
            .order_by_asc(attachment::Column::CreatedAt)
            .order_by_asc(attachment::Column::Id)
            .all(&self.db)
            .await?)
    }

    /// One file's row, if the caller may see its owner.
    pub async fn get(&self, by: &Author, id: Uuid) -> AppResult<attachment::Model> {
        let a = attachment::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or_else(|| AppError::not_found("attachment"))?;
        let owner = Owner::of(&a.owner_type)
            .ok_or_else(|| AppError::Internal(format!("owner {}", a.owner_type)))?;
        match self.place(by, owner, a.owner_id).await {
            Ok(_) => Ok(a),
            // Nothing tells a stranger the file exists.
            Err(AppError::Forbidden { .. }) | Err(AppError::NotFound { .. }) => {
                Err(AppError::not_found("attachment"))
            }
            Err(e) => Err(e),
        }
    }

    /// The bytes of a file the caller may see.
    pub async fn read(
        &self,
        by: &Author,
        id: Uuid,
    ) -> AppResult<(attachment::Model, bytes::Bytes)> {
        let a = self.get(by, id).await?;
        let bytes = self.store.get(&a.storage_key).await?;
        Ok((a, bytes))
    }

    /// Removes a file: the one who uploaded it, or a dispatcher, manager or
    /// administrator who sees its owner. A complaint's file stays once the
    /// complaint is done (it is the record of the work).
    pub async fn delete(&self, by: &Author, id: Uuid) -> AppResult<attachment::Model> {
        let a = attachment::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or_else(|| AppError::not_found("attachment"))?;
        let owner = Owner::of(&a.owner_type)
            .ok_or_else(|| AppError::Internal(format!("owner {}", a.owner_type)))?;
        let place = self.place(by, owner, a.owner_id).await?;
        let p = &by.principal;
        let manages = p.system
            || p.membership(a.organisation_id).is_some_and(|m| {
                m.roles
                    .iter()
                    .any(|r| matches!(r, Role::Dispatcher | Role::Manager | Role::Admin))
            });
        if !(manages || a.uploaded_by == Some(p.user_id)) {
            return Err(AppError::Forbidden {
                operation: by.operation_name().into(),
            });
        }
        if let Some(c) = &place.complaint {
            if matches!(c.status.as_str(), "done" | "closed") {
                return Err(AppError::validation(
                    "id",
                    "complaint_done",
                    "the files of a finished complaint are kept",
                ));
            }
        }
        let now = self.clock.now();
        let txn = crate::tx::begin_write(&self.db).await?;
        attachment::Entity::delete_by_id(a.id).exec(&txn).await?;
        let mut news = Vec::new();
        if let Some(c) = &place.complaint {
            complaints::history(
                &txn,
                c,
                "attachment_removed",
                None,
                None,
                true,
                Some(a.name.clone()),
                serde_json::json!({ "attachmentId": a.id }),
                by,
                &complaints::actor_name(by),
                now,
            )
            .await?;
            news.push(complaints::event(c));
        }
        let events = record_with(
            &txn,
            by,
            a.organisation_id,
            "attachment",
            Some(a.id),
            serde_json::json!({ "before": &a }),
            now,
            None,
            news,
        )
        .await?;
        txn.commit().await?;
        if let Some(e) = &self.events {
            e.committed(events);
        }
        if let Err(e) = self.store.delete(&a.storage_key).await {
            tracing::warn!(error = %e, key = a.storage_key, "a removed file's bytes stay in the store");
        }
        Ok(a)
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_are_tamed() {
        assert_eq!(display_name("IMG_0001.HEIC", Kind::Jpeg), "IMG_0001.jpg");
        assert_eq!(display_name("../../etc/passwd", Kind::Png), "passwd.png");
        assert_eq!(display_name("C:\\fotos\\cano.jpeg", Kind::Jpeg), "cano.jpg");
        assert_eq!(display_name("", Kind::Pdf), "file.pdf");
        assert_eq!(display_name(".hidden", Kind::Pdf), "file.pdf");
        assert_eq!(
            display_name("акт \"приёмки\"\n.pdf", Kind::Pdf),
            "акт приёмки.pdf"
        );
    }
}
