//! Typed settings: defaults, then an optional TOML file, then `KVARTAL_*`
//! environment variables (and `DATABASE_URL`). Unknown keys are refused by name.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// PostgreSQL URL; when unset, a SQLite file under `data_dir`.
    pub database_url: Option<String>,
    /// Where the embedded SQLite database and local files live.
    pub data_dir: PathBuf,
    /// Address to listen on.
    pub bind: SocketAddr,
    /// Redis URL (`REDIS_URL`): sessions and rate limits live there when set, so
    /// that every instance shares them; otherwise in the database and in memory.
    pub redis_url: Option<String>,
    /// Prefix of every Redis key, to share one Redis between deployments.
    pub redis_prefix: String,
    /// The address users open, e.g. `https://kvartal.example.org`. With https,
    /// cookies are `Secure`; its origin may always call the API.
    pub public_url: String,
    /// Other origins allowed to call the API from a browser (CORS) and to open
    /// websockets, e.g. a resident app served elsewhere.
    pub allowed_origins: Vec<String>,
    /// Behind a reverse proxy: take the client address from `X-Forwarded-For`.
    pub trust_proxy: bool,
    /// Our reverse proxies (addresses or CIDR ranges): `X-Forwarded-For` is
    /// read from the right, past these, to the client; empty: the peer is
    /// the one proxy.
    pub trusted_proxies: Vec<String>,
    /// A session unused this many minutes ends.
    pub session_idle_minutes: u32,
    /// A session ends this many days after login.
    pub session_days: u32,
    /// Attempts per account in 15 minutes at an access code or a password
    /// change; wrong passwords from every address together begin to slow the
    /// account's password sign-in after five times this.
    pub login_attempts_per_account: u32,
    /// Sign-in attempts allowed per client address in 15 minutes (an office
    /// behind one address counts together).
    pub login_attempts_per_address: u32,
    /// Longest a GraphQL request may run.
    pub request_timeout_secs: u64,
    /// Time a websocket has to send `connection_init`.
    pub ws_init_timeout_secs: u64,
    /// How often an open websocket checks that its session still holds.
    pub ws_session_check_secs: u64,
    /// How long a billing run's lease on its period lasts without renewal (a
    /// run killed half-way blocks a new one this long).
    pub billing_lease_secs: u64,
    /// "Did you mean …" hints in validation errors (off in production if wished).
    pub field_suggestions: bool,
    /// `development` or `production`. In development without SMTP, sign-in codes
    /// are written to the log; in production they never are.
    pub environment: Environment,
    /// SMTP relay for sign-in codes and invitations; unset: no mail.
    pub smtp_host: Option<String>,
    pub smtp_port: u16,
    /// `starttls` (587), `tls` (465) or `none` (a relay on a trusted network).
    pub smtp_security: String,
    pub smtp_username: Option<String>,
    pub smtp_password: Option<Secret>,
    /// The sender, e.g. `Kvartal <no-reply@kvartal.example.org>`.
    pub smtp_from: String,
    /// Log filter, e.g. `info` or `kvartal=debug,info`.
    pub log: String,
    /// Whether clients may introspect the schema.
    pub introspection: bool,
    /// Serve GraphiQL to browsers at `/graphql`.
    pub graphiql: bool,
    /// Most database connections in the pool. More than about twice the cores
    /// only makes transactions queue inside PostgreSQL.
    pub db_max_connections: u32,
    /// How often each instance reads the event outbox for what the bus did not
    /// bring (a stopped relay, a Redis outage), and the relay looks for events
    /// to publish.
    pub events_poll_ms: u64,
    /// Published events are kept this long for subscribers that reconnect.
    pub event_retention_hours: u32,
    /// Largest attachment accepted, in MB.
    pub files_max_mb: u32,
    /// Attachments go to this S3-compatible bucket when set; otherwise to
    /// `data_dir/files`.
    pub s3_bucket: Option<String>,
    /// The store's address (MinIO, Ceph, Yandex Object Storage, …); unset: AWS.
    pub s3_endpoint: Option<String>,
    pub s3_region: String,
    pub s3_access_key_id: Option<String>,
    pub s3_secret_access_key: Option<Secret>,
    /// The key audit checkpoints are signed with (at least 32 characters).
    /// Keep it out of the database and its backups: in the environment or a
    /// secrets manager. Unset: no checkpoints are written.
    pub audit_key: Option<Secret>,
    /// How often overdue complaints are looked for (and escalated).
    pub overdue_check_secs: u64,
}

/// Twice the cores, at least 4 and at most 32.
fn default_pool() -> u32 {
    std::thread::available_parallelism()
        .map_or(4, |n| n.get() as u32 * 2)
        .clamp(4, 32)
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            database_url: None,
            data_dir: PathBuf::from("./data"),
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            redis_url: None,
            redis_prefix: "kvartal:".into(),
            public_url: "http://localhost:8080".into(),
            allowed_origins: Vec::new(),
            trust_proxy: false,
            trusted_proxies: Vec::new(),
            session_idle_minutes: 12 * 60,
            session_days: 30,
            login_attempts_per_account: 10,
            login_attempts_per_address: 100,
            request_timeout_secs: 30,
            ws_init_timeout_secs: 10,
            ws_session_check_secs: 15,
            billing_lease_secs: 60,
            field_suggestions: true,
            environment: Environment::Development,
            smtp_host: None,
            smtp_port: 587,
            smtp_security: "starttls".into(),
            smtp_username: None,
            smtp_password: None,
            smtp_from: "Kvartal <no-reply@localhost>".into(),
            log: "info".into(),
            introspection: true,
            graphiql: true,
            db_max_connections: default_pool(),
            events_poll_ms: 1000,
            event_retention_hours: 7 * 24,
            files_max_mb: 20,
            s3_bucket: None,
            s3_endpoint: None,
            s3_region: "us-east-1".into(),
            s3_access_key_id: None,
            s3_secret_access_key: None,
            audit_key: None,
            overdue_check_secs: 60,
        }
    }
}

const ENV_KEYS: [&str; 39] = [
    "TRUSTED_PROXIES",
    "AUDIT_KEY",
    "FILES_MAX_MB",
    "S3_BUCKET",
    "S3_ENDPOINT",
    "S3_REGION",
    "S3_ACCESS_KEY_ID",
    "S3_SECRET_ACCESS_KEY",
    "OVERDUE_CHECK_SECS",
    "EVENTS_POLL_MS",
    "EVENT_RETENTION_HOURS",
    "WS_INIT_TIMEOUT_SECS",
    "WS_SESSION_CHECK_SECS",
    "BILLING_LEASE_SECS",
    "LOGIN_ATTEMPTS_PER_ACCOUNT",
    "LOGIN_ATTEMPTS_PER_ADDRESS",
    "ENVIRONMENT",
    "SMTP_HOST",
    "SMTP_PORT",
    "SMTP_SECURITY",
    "SMTP_USERNAME",
    "SMTP_PASSWORD",
    "SMTP_FROM",
    "DATABASE_URL",
    "DATA_DIR",
    "BIND",
    "REDIS_URL",
    "REDIS_PREFIX",
    "PUBLIC_URL",
    "ALLOWED_ORIGINS",
    "TRUST_PROXY",
    "SESSION_IDLE_MINUTES",
    "SESSION_DAYS",
    "REQUEST_TIMEOUT_SECS",
    "FIELD_SUGGESTIONS",
    "LOG",
    "INTROSPECTION",
    "GRAPHIQL",
    "DB_MAX_CONNECTIONS",
];

/// Variables that are ours but are not settings: the config file path (read by the
/// CLI), and the test suite's PostgreSQL and binary.
const ENV_OTHER: [&str; 5] = [
    "CONFIG",
    "TEST_POSTGRES",
    "TEST_REDIS",
    "BIN",
    "ADMIN_PASSWORD",
];

impl Settings {
    /// Loads settings from an optional file and the given environment.
    pub fn load(file: Option<&Path>, env: &BTreeMap<String, String>) -> anyhow::Result<Settings> {
        // The keys the file names, to tell a setting made from a default.
        let mut named: Vec<String> = Vec::new();
        let mut settings = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read the config file {}", path.display()))?;
                if let Ok(table) = toml::from_str::<toml::Table>(&text) {
                    named.extend(table.keys().cloned());
                }
                toml::from_str(&text).with_context(|| format!("config file {}", path.display()))?
            }
            None => Settings::default(),
        };
        named.extend(
            env.keys()
                .filter_map(|k| k.strip_prefix("KVARTAL_"))
                .map(str::to_ascii_lowercase),
        );
        let mut unknown = Vec::new();
        for (key, value) in env {
            let Some(name) = key.strip_prefix("KVARTAL_") else {
                continue;
            };
            if ENV_OTHER.contains(&name) {
                continue;
            }
            if !ENV_KEYS.contains(&name) {
                unknown.push(key.clone());
                continue;
            }
            settings
                .apply(name, value)
                .with_context(|| format!("{key}={value}"))?;
        }
        if !unknown.is_empty() {
            bail!(
                "unknown settings in the environment: {} (known: {})",
                unknown.join(", "),
                ENV_KEYS
                    .iter()
                    .map(|k| format!("KVARTAL_{k}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        // In production the API does not describe itself to strangers unless
        // asked to: introspection, "did you mean" hints and GraphiQL are off.
        if settings.environment == Environment::Production {
            let off = |key: &str| !named.iter().any(|n| n == key);
            if off("introspection") {
                settings.introspection = false;
            }
            if off("field_suggestions") {
                settings.field_suggestions = false;
            }
            if off("graphiql") {
                settings.graphiql = false;
            }
        }
        if let Some(url) = env.get("DATABASE_URL") {
            if !env.contains_key("KVARTAL_DATABASE_URL") {
                settings.database_url = Some(url.clone());
            }
        }
        if settings.database_url.as_deref().is_some_and(str::is_empty) {
            settings.database_url = None;
        }
        if let Some(url) = env.get("REDIS_URL") {
            if !env.contains_key("KVARTAL_REDIS_URL") {
                settings.redis_url = Some(url.clone());
            }
        }
        if settings.redis_url.as_deref().is_some_and(str::is_empty) {
            settings.redis_url = None;
        }
        Ok(settings)
    }

    fn apply(&mut self, name: &str, value: &str) -> anyhow::Result<()> {
        match name {
            "DATABASE_URL" => self.database_url = Some(value.to_string()),
            "DATA_DIR" => self.data_dir = PathBuf::from(value),
            "BIND" => self.bind = value.parse().context("an address such as 127.0.0.1:8080")?,
            "LOG" => self.log = value.to_string(),
            "INTROSPECTION" => self.introspection = parse_bool(value)?,
            "GRAPHIQL" => self.graphiql = parse_bool(value)?,
            "DB_MAX_CONNECTIONS" => {
                self.db_max_connections = value.parse().context("a whole number")?
            }
            "REDIS_URL" => self.redis_url = Some(value.to_string()),
            "REDIS_PREFIX" => self.redis_prefix = value.to_string(),
            "PUBLIC_URL" => self.public_url = value.trim_end_matches('/').to_string(),
            "ALLOWED_ORIGINS" => {
                self.allowed_origins = value
                    .split(',')
                    .map(|o| o.trim().trim_end_matches('/').to_string())
                    .filter(|o| !o.is_empty())
                    .collect()
            }
            "TRUST_PROXY" => self.trust_proxy = parse_bool(value)?,
            "TRUSTED_PROXIES" => {
                self.trusted_proxies = value
                    .split(',')
                    .map(|p| p.trim().to_string())
                    .filter(|p| !p.is_empty())
                    .collect()
            }
            "SESSION_IDLE_MINUTES" => {
                self.session_idle_minutes = value.parse().context("a whole number")?
            }
            "SESSION_DAYS" => self.session_days = value.parse().context("a whole number")?,
            "LOGIN_ATTEMPTS_PER_ACCOUNT" => {
                self.login_attempts_per_account = value.parse().context("a whole number")?
            }
            "LOGIN_ATTEMPTS_PER_ADDRESS" => {
                self.login_attempts_per_address = value.parse().context("a whole number")?
            }
            "REQUEST_TIMEOUT_SECS" => {
                self.request_timeout_secs = value.parse().context("a whole number")?
            }
            "FIELD_SUGGESTIONS" => self.field_suggestions = parse_bool(value)?,
            "WS_INIT_TIMEOUT_SECS" => {
                self.ws_init_timeout_secs = value.parse().context("a whole number")?
            }
            "EVENTS_POLL_MS" => {
                self.events_poll_ms = value.parse().context("a whole number")?;
                if self.events_poll_ms == 0 {
                    bail!("at least 1");
                }
            }
            "EVENT_RETENTION_HOURS" => {
                self.event_retention_hours = value.parse().context("a whole number")?
            }
            "BILLING_LEASE_SECS" => {
                self.billing_lease_secs = value.parse().context("a whole number")?;
                if self.billing_lease_secs == 0 {
                    bail!("at least 1");
                }
            }
            "WS_SESSION_CHECK_SECS" => {
                self.ws_session_check_secs = value.parse().context("a whole number")?
            }
            "ENVIRONMENT" => {
                self.environment = match value {
                    "development" => Environment::Development,
                    "production" => Environment::Production,
                    _ => bail!("development or production"),
                }
            }
            "FILES_MAX_MB" => {
                self.files_max_mb = value.parse().context("a whole number")?;
                if self.files_max_mb == 0 || self.files_max_mb > 60 {
                    bail!("from 1 to 60");
                }
            }
            "S3_BUCKET" => self.s3_bucket = Some(value.to_string()).filter(|v| !v.is_empty()),
            "S3_ENDPOINT" => self.s3_endpoint = Some(value.to_string()).filter(|v| !v.is_empty()),
            "S3_REGION" => self.s3_region = value.to_string(),
            "S3_ACCESS_KEY_ID" => self.s3_access_key_id = Some(value.to_string()),
            "S3_SECRET_ACCESS_KEY" => self.s3_secret_access_key = Some(Secret(value.to_string())),
            "AUDIT_KEY" => self.audit_key = Some(Secret(value.to_string())),
            "OVERDUE_CHECK_SECS" => {
                self.overdue_check_secs = value.parse().context("a whole number")?;
                if self.overdue_check_secs == 0 {
                    bail!("at least 1");
                }
            }
            "SMTP_HOST" => self.smtp_host = Some(value.to_string()).filter(|v| !v.is_empty()),
            "SMTP_PORT" => self.smtp_port = value.parse().context("a port number")?,
            "SMTP_SECURITY" => {
                if !["starttls", "tls", "none"].contains(&value) {
                    bail!("starttls, tls or none");
                }
                self.smtp_security = value.to_string();
            }
            "SMTP_USERNAME" => self.smtp_username = Some(value.to_string()),
            "SMTP_PASSWORD" => self.smtp_password = Some(Secret(value.to_string())),
            "SMTP_FROM" => self.smtp_from = value.to_string(),
            _ => bail!("unknown setting"),
        }
        Ok(())
    }

    /// How sign-in codes leave the server.
    pub fn mailer(&self) -> anyhow::Result<schema::auth::mail::Mailer> {
        use schema::auth::mail::{Mailer, SmtpConfig, SmtpSecurity};
        Ok(match &self.smtp_host {
            Some(host) => Mailer::smtp(&SmtpConfig {
                host: host.clone(),
                port: self.smtp_port,
                security: match self.smtp_security.as_str() {
                    "tls" => SmtpSecurity::Tls,
                    "none" => SmtpSecurity::None,
                    _ => SmtpSecurity::StartTls,
                },
                username: self.smtp_username.clone(),
                password: self.smtp_password.as_ref().map(|s| s.0.clone()),
                from: self.smtp_from.clone(),
            })
            .map_err(|e| anyhow::anyhow!(e))?,
            None if self.environment == Environment::Development => Mailer::Log,
            None => Mailer::Off,
        })
    }

    /// Served over https: cookies get `Secure`.
    /// The attachments' store: the S3 bucket when set, else `data_dir/files`.
    pub fn file_store(&self) -> anyhow::Result<schema::files::store::Store> {
        let store = match &self.s3_bucket {
            Some(bucket) => schema::files::store::Store::s3(&schema::files::store::S3 {
                endpoint: self.s3_endpoint.clone(),
                bucket: bucket.clone(),
                region: self.s3_region.clone(),
                access_key_id: self.s3_access_key_id.clone().unwrap_or_default(),
                secret_access_key: self
                    .s3_secret_access_key
                    .as_ref()
                    .map(|s| s.0.clone())
                    .unwrap_or_default(),
            }),
            None => schema::files::store::Store::local(&self.data_dir.join("files")),
        };
        store.map_err(|e| anyhow::anyhow!("{e:?}"))
    }

    /// The origins allowed to call the API: [`Settings::origins`], and, for a
    /// server on loopback still at the default `public_url`, its own loopback
    /// origins at the port it listens on (a developer's or a test's server).
    /// Never the `Host` a request names: that is the client's to choose.
    pub fn origins_at(&self, addr: std::net::SocketAddr) -> Vec<String> {
        let mut out = self.origins();
        if addr.ip().is_loopback() && self.public_url == Settings::default().public_url {
            for host in ["localhost", "127.0.0.1"] {
                out.push(format!("http://{host}:{}", addr.port()));
            }
        }
        out
    }

    /// The audit checkpoints' key, checked.
    pub fn audit_key(&self) -> anyhow::Result<Option<schema::audit::AuditKey>> {
        self.audit_key
            .as_ref()
            .map(|k| {
                schema::audit::AuditKey::new(&k.0).map_err(|e| anyhow::anyhow!("audit_key: {e}"))
            })
            .transpose()
    }

    pub fn https(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// Origins a browser may call the API from: the public one and the allowed.
    pub fn origins(&self) -> Vec<String> {
        let mut out = vec![origin_of(&self.public_url)];
        out.extend(self.allowed_origins.iter().map(|o| origin_of(o)));
        out
    }

    /// The database URL to connect to: the configured one, or the SQLite file.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("kvartal.db").display()
            ),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Development,
    Production,
}

/// A value never printed (passwords in settings).
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"***\"")
    }
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
    let host = rest.split('/').next().unwrap_or(rest);
    format!(
        "{}://{}",
        scheme.to_ascii_lowercase(),
        host.to_ascii_lowercase()
    )
}

fn parse_bool(v: &str) -> anyhow::Result<bool> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => bail!("true or false"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_listen_on_loopback_with_sqlite() {
        let s = Settings::load(None, &env(&[])).unwrap();
        assert!(s.bind.ip().is_loopback());
        assert!(s.database_url().starts_with("sqlite://"));
    }

    #[test]
    fn environment_overrides_and_database_url_is_honoured() {
        let s = Settings::load(
            None,
            &env(&[
                ("KVARTAL_BIND", "127.0.0.1:9999"),
                ("DATABASE_URL", "postgres://x/y"),
            ]),
        )
        .unwrap();
        assert_eq!(s.bind.port(), 9999);
        assert_eq!(s.database_url(), "postgres://x/y");
    }

    #[test]
    fn production_hides_the_schema_unless_asked_to_show_it() {
        let env = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let dev = Settings::load(None, &env(&[])).unwrap();
        assert!(dev.introspection && dev.field_suggestions && dev.graphiql);
        let prod = Settings::load(None, &env(&[("KVARTAL_ENVIRONMENT", "production")])).unwrap();
        assert!(!prod.introspection && !prod.field_suggestions && !prod.graphiql);
        let asked = Settings::load(
            None,
            &env(&[
                ("KVARTAL_ENVIRONMENT", "production"),
                ("KVARTAL_INTROSPECTION", "true"),
            ]),
        )
        .unwrap();
        assert!(asked.introspection && !asked.graphiql);
        let dir = std::env::temp_dir().join(format!("kvartal-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("kvartal.toml");
        std::fs::write(&file, "environment = \"production\"\ngraphiql = true\n").unwrap();
        let from_file = Settings::load(Some(&file), &env(&[])).unwrap();
        assert!(from_file.graphiql && !from_file.introspection);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_unknown_environment_key_is_refused_by_name() {
        let err = Settings::load(None, &env(&[("KVARTAL_BINDD", "x")])).unwrap_err();
        assert!(err.to_string().contains("KVARTAL_BINDD"), "{err}");
    }

    #[test]
    fn an_unknown_file_key_is_refused_by_name() {
        let dir = std::env::temp_dir().join(format!("kvartal-config-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("kvartal.toml");
        std::fs::write(&path, "bind = \"127.0.0.1:1\"\ncolour = \"red\"\n").unwrap();
        let err = Settings::load(Some(&path), &env(&[])).unwrap_err();
        assert!(format!("{err:#}").contains("colour"), "{err:#}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
