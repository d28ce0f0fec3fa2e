//! Where attachments' bytes live: a folder on the local disk by default, an
//! S3-compatible store (AWS, MinIO, Ceph, Yandex Object Storage, …) when one
//! is configured. Keys are `{organisation}/{yyyy}/{mm}/{attachment id}`;
//! nothing about a file's name or owner is in its key.

use std::path::Path;
use std::sync::Arc;

use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use crate::error::{AppError, AppResult};

/// An S3-compatible store.
#[derive(Debug, Clone, Default)]
pub struct S3 {
    /// e.g. `https://storage.yandexcloud.net` or `http://127.0.0.1:9000`;
    /// unset: AWS itself.
    pub endpoint: Option<String>,
    pub bucket: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

#[derive(Clone)]
pub struct Store {
    inner: Arc<dyn ObjectStore>,
    /// `local` or `s3`, for the log and the health page.
    pub kind: &'static str,
}

fn failed(what: &str, e: impl std::fmt::Display) -> AppError {
    AppError::Internal(format!("file store: {what}: {e}"))
}

impl Store {
    /// A folder (created when missing).
    pub fn local(dir: &Path) -> AppResult<Self> {
        std::fs::create_dir_all(dir).map_err(|e| failed("create folder", e))?;
        let fs = object_store::local::LocalFileSystem::new_with_prefix(dir)
            .map_err(|e| failed("open folder", e))?;
        Ok(Self {
            inner: Arc::new(fs),
            kind: "local",
        })
    }

    /// In memory: tests, and the schema as text.
    pub fn memory() -> Self {
        Self {
            inner: Arc::new(object_store::memory::InMemory::new()),
            kind: "memory",
        }
    }

    pub fn s3(c: &S3) -> AppResult<Self> {
        install_tls_provider();
        let mut b = object_store::aws::AmazonS3Builder::new()
            .with_bucket_name(&c.bucket)
            .with_region(&c.region)
            .with_access_key_id(&c.access_key_id)
            .with_secret_access_key(&c.secret_access_key);
        if let Some(e) = &c.endpoint {
            b = b
                .with_endpoint(e)
                .with_allow_http(e.starts_with("http://"))
                .with_virtual_hosted_style_request(false);
        }
        let s3 = b.build().map_err(|e| failed("configure S3", e))?;
        Ok(Self {
            inner: Arc::new(s3),
            kind: "s3",
        })
    }

    fn path(key: &str) -> AppResult<object_store::path::Path> {
        object_store::path::Path::parse(key).map_err(|e| failed("key", e))
    }

    pub async fn put(&self, key: &str, bytes: Vec<u8>) -> AppResult<()> {
        self.inner
            .put(&Self::path(key)?, PutPayload::from(bytes))
            .await
            .map_err(|e| failed("write", e))?;
        Ok(())
    }

    pub async fn get(&self, key: &str) -> AppResult<bytes::Bytes> {
        match self.inner.get(&Self::path(key)?).await {
            Ok(r) => r.bytes().await.map_err(|e| failed("read", e)),
            Err(object_store::Error::NotFound { .. }) => Err(AppError::not_found("attachment")),
            Err(e) => Err(failed("read", e)),
        }
    }

    pub async fn delete(&self, key: &str) -> AppResult<()> {
        match self.inner.delete(&Self::path(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(failed("delete", e)),
        }
    }
}

/// reqwest's TLS gets ring's provider (the one sqlx and lettre use) once.
fn install_tls_provider() {
    // Err: a provider is installed already, which is as good.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
