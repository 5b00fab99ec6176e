//! Telegram in the binary: its webhook route ([`router`]), its sender from the configuration
//! ([`sender`]), and its receiving loop ([`receive`]: webhook registration or long polling);
//! [`bot`] builds the configured bot's client.
//!
//! **The route.** `POST /webhooks/telegram` receives updates in webhook mode. The
//! `X-Telegram-Bot-Api-Secret-Token` header is compared in constant time; a missing or wrong one
//! is a 401 and nothing is stored. A body that is not an update is a 400 with the reason. A
//! customer's update is stored in the inbox before the 200 goes back, so an acknowledged update
//! is never lost; Telegram's redelivery of it (same `update_id`) is recognised and answered once.
//! Updates not for the bot are acknowledged and dropped. In polling mode the route answers 404.

pub mod bot;
pub mod receive;

use crate::config::Config;
use actors::Engine;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use channels::Sender;
use channels::telegram::{TelegramSender, inbound};
use receive::Webhook;
use secrecy::ExposeSecret;
use std::sync::Arc;

/// Largest webhook body accepted.
const MAX_BODY: usize = 1024 * 1024;

const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// The sender of replies, paced at `TELEGRAM_SENDS_PER_SEC`, when Telegram is configured.
pub fn sender(config: &Config) -> anyhow::Result<Option<Arc<dyn Sender>>> {
    let Some(t) = &config.telegram else {
        return Ok(None);
    };
    let api = Arc::new(bot::api(t)?);
    Ok(Some(Arc::new(
        TelegramSender::new(api).with_overall_rate(t.sends_per_sec),
    )))
}

/// Starts receiving updates when Telegram is configured: webhook mode when `PUBLIC_URL` is set
/// (the route receives), long polling otherwise.
pub fn start(config: &Config, engine: Engine) -> anyhow::Result<Option<receive::Telegram>> {
    config
        .telegram
        .as_ref()
        .map(|t| receive::Telegram::start(t, config.public_url.as_deref(), engine))
        .transpose()
}

/// `POST /webhooks/telegram`, receiving for `telegram` when it runs in webhook mode.
pub fn router<S: Clone + Send + Sync + 'static>(telegram: Option<&receive::Telegram>) -> Router<S> {
    Router::new()
        .route("/webhooks/telegram", post(receive_update))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(telegram.and_then(receive::Telegram::webhook))
}

fn reject(status: StatusCode, reason: impl Into<String>) -> Response {
    crate::http::error::error_response(status, reason)
}

async fn receive_update(
    State(hook): State<Option<Arc<Webhook>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(hook) = &hook else {
        return reject(StatusCode::NOT_FOUND, "not found");
    };
    let presented = headers
        .get(SECRET_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !channels::inbound::secret_matches(presented, hook.secret.expose_secret()) {
        return reject(StatusCode::UNAUTHORIZED, "missing or wrong secret token");
    }
    let update = match inbound::parse(&body) {
        Ok(u) => u,
        Err(e) => {
            tracing::warn!(error = %e, "refused a malformed Telegram update");
            return reject(StatusCode::BAD_REQUEST, e.to_string());
        }
    };
    if let Err(e) = hook.inbound.accept(update).await {
        tracing::error!(error = %e, "could not store a Telegram update");
        // Not acknowledged: Telegram delivers it again.
        return reject(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily unable to store the update",
        );
    }
    StatusCode::OK.into_response()
}
