//! Email in the binary: the webhook route ([`router`]) and the sender from the configuration
//! ([`sender`]).
//!
//! `POST /webhooks/email/{secret}` receives emails from customers. Two shapes are accepted: a SendGrid Inbound Parse post (`multipart/form-data`, or
//! `application/x-www-form-urlencoded`; parsed fields or the raw `email` field) and a raw
//! RFC 822 message (`Content-Type: message/rfc822`), e.g. from a mail server's pipe.
//!
//! The secret in the path is compared in constant time before the body is read; a wrong one
//! is a 404 and nothing is stored. A body over 25 MiB is a 413, an unknown content type a 415,
//! a body that is not an email a 400 with the reason — nothing stored in each case. An email is
//! stored in the inbox before the 200 goes back, so an acknowledged email is never lost; a
//! repost (same Message-ID) is recognised and answered once. Emails written by machines
//! (auto-replies, bounces, bulk) and from our own addresses are acknowledged and dropped, so an
//! auto-responder and the bot never write to each other for ever. Addresses are masked in logs.

use crate::config::{Config, EmailConfig};
use actors::Engine;
use anyhow::Context;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use channels::Sender;
use channels::email::{EmailError, EmailSender, MAX_EMAIL_BYTES, inbound};
use dialogs::privacy::mask_email;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use std::sync::Arc;

/// What the route needs when inbound email is on (`EMAIL_WEBHOOK_SECRET` set).
struct EmailWebhook {
    /// The secret path segment.
    secret: SecretString,
    /// Our own addresses (EMAIL_FROM, MANAGERS_EMAIL), lower case: mail from them is never a
    /// customer's.
    own_addresses: Vec<String>,
}

/// Replies over `SMTP_URL` from `EMAIL_FROM` (the configuration requires both together). Inbound
/// mail arrives at the route when `EMAIL_WEBHOOK_SECRET` is set; without SMTP its replies wait.
pub fn sender(config: &Config) -> anyhow::Result<Option<Arc<dyn Sender>>> {
    let Some(email) = &config.email else {
        return Ok(None);
    };
    match (&email.smtp_url, &email.from) {
        (Some(smtp_url), Some(from)) => Ok(Some(Arc::new(
            EmailSender::new(smtp_url.expose_secret(), from)
                .context("building the email sender")?,
        ))),
        _ => {
            if email.webhook_secret.is_some() {
                tracing::warn!(
                    "EMAIL_WEBHOOK_SECRET is set but SMTP_URL is not: emails are received and \
                     stored, and the replies wait in the outbox until SMTP is configured"
                );
            }
            Ok(None)
        }
    }
}

/// What the route needs.
#[derive(Clone)]
struct Hook {
    engine: Engine,
    /// Set when inbound email is on (`EMAIL_WEBHOOK_SECRET`); without it the route answers 404.
    webhook: Option<Arc<EmailWebhook>>,
}

/// The inbound email route's settings, when its secret is set.
fn email_webhook(config: &EmailConfig) -> Option<EmailWebhook> {
    let own_addresses = [&config.from, &config.managers_email]
        .into_iter()
        .flatten()
        .map(|a| a.to_lowercase())
        .collect();
    Some(EmailWebhook {
        secret: config.webhook_secret.clone()?,
        own_addresses,
    })
}

/// `POST /webhooks/email/{secret}` into `engine`.
pub fn router<S: Clone + Send + Sync + 'static>(engine: &Engine, config: &Config) -> Router<S> {
    let hook = Hook {
        engine: engine.clone(),
        webhook: config.email.as_ref().and_then(email_webhook).map(Arc::new),
    };
    Router::new()
        .route("/webhooks/email/{secret}", post(receive))
        .layer(DefaultBodyLimit::max(MAX_EMAIL_BYTES))
        .with_state(hook)
}

fn reject(status: StatusCode, reason: impl Into<String>) -> Response {
    (
        status,
        axum::Json(json!({"error": {"code": status.as_u16(), "message": reason.into()}})),
    )
        .into_response()
}

async fn receive(
    State(state): State<Hook>,
    Path(secret): Path<String>,
    request: Request,
) -> Response {
    let Some(hook) = &state.webhook else {
        return reject(StatusCode::NOT_FOUND, "not found");
    };
    if !channels::inbound::secret_matches(&secret, hook.secret.expose_secret()) {
        return reject(StatusCode::NOT_FOUND, "not found");
    }
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // Read only now, under the body limit: 413 past 25 MiB.
    let body = match Bytes::from_request(request, &state).await {
        Ok(body) => body,
        Err(rejection) => {
            let status = rejection.status();
            let reason = if status == StatusCode::PAYLOAD_TOO_LARGE {
                format!(
                    "the email is larger than {} MiB",
                    MAX_EMAIL_BYTES / (1024 * 1024)
                )
            } else {
                rejection.body_text()
            };
            tracing::warn!(%status, "refused an email body that could not be read");
            return reject(status, reason);
        }
    };
    let email = match inbound::parse_request(content_type.as_deref(), body).await {
        Ok(email) => email,
        Err(e) => {
            tracing::warn!(error = %e, "refused a malformed email webhook");
            let status = match e {
                EmailError::UnsupportedType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                _ => StatusCode::BAD_REQUEST,
            };
            return reject(status, e.to_string());
        }
    };
    let from = mask_email(&email.address);
    if email.auto_generated {
        tracing::info!(%from, "email written by a machine (auto-reply, bounce, bulk) ignored");
        return StatusCode::OK.into_response();
    }
    if hook.own_addresses.contains(&email.address) {
        tracing::info!(%from, "email from one of our own addresses ignored");
        return StatusCode::OK.into_response();
    }
    match state.engine.accept(email.to_inbound()).await {
        Ok(accepted) => {
            tracing::info!(%from, ?accepted, "email received");
            StatusCode::OK.into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "could not store an email");
            // Not acknowledged: the sender (SendGrid, the mail server) delivers it again.
            reject(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily unable to store the email",
            )
        }
    }
}
