//! GraphQL of attachments: upload (multipart), list by owner, remove. The
//! bytes are served over plain HTTP at `Attachment.url` (`/files/{id}/{name}`),
//! by the same rights.

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, Upload, ID};
use chrono::{DateTime, Utc};
use entities::attachment;

use super::service::{Files, Owner};
use crate::auth::author;
use crate::error::AppError;
use crate::pagination::uuid;
use crate::registry::mutation::InInput;

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum AttachmentOwner {
    Complaint,
    Reading,
    Account,
    Person,
}

impl AttachmentOwner {
    fn owner(self) -> Owner {
        match self {
            AttachmentOwner::Complaint => Owner::Complaint,
            AttachmentOwner::Reading => Owner::Reading,
            AttachmentOwner::Account => Owner::Account,
            AttachmentOwner::Person => Owner::Person,
        }
    }
    fn of(code: &str) -> Self {
        match Owner::of(code) {
            Some(Owner::Reading) => AttachmentOwner::Reading,
            Some(Owner::Account) => AttachmentOwner::Account,
            Some(Owner::Person) => AttachmentOwner::Person,
            _ => AttachmentOwner::Complaint,
        }
    }
}

pub struct Attachment(pub attachment::Model);

/// `/files/{id}/{name}`, the name percent-encoded.
pub fn url(a: &attachment::Model) -> String {
    let name: String = a
        .name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("/files/{}/{name}", a.id)
}

#[Object]
impl Attachment {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn owner_type(&self) -> AttachmentOwner {
        AttachmentOwner::of(&self.0.owner_type)
    }
    async fn owner_id(&self) -> ID {
        ID(self.0.owner_id.to_string())
    }
    /// As uploaded, with the extension of what the file is.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Read from the bytes: image/jpeg, image/png, image/webp, application/pdf.
    async fn content_type(&self) -> &str {
        &self.0.content_type
    }
    async fn image(&self) -> bool {
        self.0.content_type.starts_with("image/")
    }
    /// Bytes as stored (a photo without its metadata).
    async fn size(&self) -> i64 {
        self.0.size
    }
    async fn uploaded_by(&self) -> &str {
        &self.0.uploaded_by_name
    }
    async fn uploaded_by_id(&self) -> Option<ID> {
        self.0.uploaded_by.map(|u| ID(u.to_string()))
    }
    async fn uploaded_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Where the file is served (the caller's session decides).
    async fn url(&self) -> String {
        url(&self.0)
    }
}

#[derive(Default)]
pub struct FilesQuery;

#[Object]
impl FilesQuery {
    /// The files of a complaint, reading, account or person, oldest first.
    async fn attachments(
        &self,
        ctx: &Context<'_>,
        owner_type: AttachmentOwner,
        owner_id: ID,
    ) -> Result<Vec<Attachment>> {
        let by = author(ctx, "Query.attachments")?;
        let id = uuid("ownerId", &owner_id)?;
        let list = ctx
            .data::<Files>()?
            .list(&by, owner_type.owner(), id)
            .await?;
        Ok(list.into_iter().map(Attachment).collect())
    }
}

#[derive(InputObject)]
pub struct UploadAttachmentInput {
    pub owner_type: AttachmentOwner,
    pub owner_id: ID,
    /// A JPEG, PNG or WebP photo or a PDF scan.
    pub file: Upload,
}

#[derive(SimpleObject)]
pub struct UploadAttachmentPayload {
    pub attachment: Attachment,
}

#[derive(SimpleObject)]
pub struct DeleteAttachmentPayload {
    pub id: ID,
}

#[derive(Default)]
pub struct FilesMutation;

#[Object]
impl FilesMutation {
    /// Attaches a file; its type is read from its content, photos lose their metadata.
    async fn upload_attachment(
        &self,
        ctx: &Context<'_>,
        input: UploadAttachmentInput,
    ) -> Result<UploadAttachmentPayload> {
        let by = author(ctx, "Mutation.uploadAttachment")?;
        let id = uuid("ownerId", &input.owner_id).input()?;
        let files = ctx.data::<Files>()?;
        let mut upload = input
            .file
            .value(ctx)
            .map_err(|e| AppError::validation("input.file", "unreadable_upload", e.to_string()))?;
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(
            &mut std::io::Read::take(&mut upload.content, files.max_bytes() as u64 + 1),
            &mut bytes,
        )
        .map_err(|e| AppError::validation("input.file", "unreadable_upload", e.to_string()))?;
        let a = files
            .upload(&by, input.owner_type.owner(), id, &upload.filename, bytes)
            .await
            .input()?;
        Ok(UploadAttachmentPayload {
            attachment: Attachment(a),
        })
    }

    /// Removes a file (its uploader, or a dispatcher, manager or administrator).
    async fn delete_attachment(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<DeleteAttachmentPayload> {
        let by = author(ctx, "Mutation.deleteAttachment")?;
        let uuid = uuid("id", &id).input()?;
        ctx.data::<Files>()?.delete(&by, uuid).await.input()?;
        Ok(DeleteAttachmentPayload { id })
    }
}
