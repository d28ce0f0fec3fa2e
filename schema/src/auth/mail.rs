//! Sending mail: SMTP through lettre when configured; in development without
//! SMTP, the message goes to the server log instead (never in production).

use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::error::{AppError, AppResult};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain SMTP (a relay on the same host or network).
    None,
    /// STARTTLS after connecting (port 587).
    StartTls,
    /// TLS from the start (port 465).
    Tls,
}

#[derive(Clone, Debug)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<String>,
    pub from: String,
}

#[derive(Clone)]
pub enum Mailer {
    Smtp {
        transport: Box<AsyncSmtpTransport<Tokio1Executor>>,
        from: Box<lettre::message::Mailbox>,
    },
    /// Development without SMTP: messages are logged.
    Log,
    /// Production without SMTP: sending fails with a clear error.
    Off,
}

impl Mailer {
    pub fn smtp(config: &SmtpConfig) -> Result<Mailer, String> {
        let mut builder = match config.security {
            SmtpSecurity::None => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
            }
            SmtpSecurity::StartTls | SmtpSecurity::Tls => {
                let params = TlsParameters::new(config.host.clone())
                    .map_err(|e| format!("TLS for {}: {e}", config.host))?;
                let tls = if config.security == SmtpSecurity::Tls {
                    Tls::Wrapper(params)
                } else {
                    Tls::Required(params)
                };
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host).tls(tls)
            }
        }
        .port(config.port)
        .timeout(Some(std::time::Duration::from_secs(15)));
        if let (Some(user), Some(password)) = (&config.username, &config.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        let from = config
            .from
            .parse()
            .map_err(|e| format!("KVARTAL_SMTP_FROM `{}`: {e}", config.from))?;
        Ok(Mailer::Smtp {
            transport: Box::new(builder.build()),
            from: Box::new(from),
        })
    }

    /// Sends a plain-text message.
    pub async fn send(&self, to: &str, subject: &str, body: &str) -> AppResult<()> {
        match self {
            Mailer::Smtp { transport, from } => {
                let to = to.parse().map_err(|_| {
                    AppError::validation("email", "invalid_email", "not an email address")
                })?;
                let message = Message::builder()
                    .from(from.as_ref().clone())
                    .to(to)
                    .subject(subject)
                    .header(ContentType::TEXT_PLAIN)
                    .body(body.to_string())
                    .map_err(|e| AppError::Internal(format!("mail: {e}")))?;
                transport
                    .send(message)
                    .await
                    .map_err(|e| AppError::Internal(format!("smtp: {e}")))?;
                Ok(())
            }
            Mailer::Log => {
                tracing::warn!(%to, %subject, %body, "no SMTP configured (development): the message is logged instead of sent");
                Ok(())
            }
            Mailer::Off => Err(AppError::Unavailable {
                what: "email",
                message:
                    "email is not configured on this server; sign in with a passkey or a password"
                        .into(),
            }),
        }
    }
}
