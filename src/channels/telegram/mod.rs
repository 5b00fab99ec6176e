//! `POST /webhooks/telegram`: updates from the Telegram Bot API, in webhook mode.
//!
//! The `X-Telegram-Bot-Api-Secret-Token` header is compared in constant time; a missing or
//! wrong one is a 401 and nothing is stored. A body that is not an update is a 400 with the
//! reason. A customer's update is stored in the inbox before the 200 goes back, so an
//! acknowledged update is never lost; Telegram's redelivery of it (same `update_id`) is
//! recognised and answered once. Updates not for the bot are acknowledged and dropped.

pub mod receive;

use crate::http::AppState;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use channels::telegram::inbound;
use secrecy::ExposeSecret;

/// Largest webhook body accepted.
const MAX_BODY: usize = 1024 * 1024;

const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/webhooks/telegram", post(receive))
        .layer(DefaultBodyLimit::max(MAX_BODY))
}

fn reject(status: StatusCode, reason: impl Into<String>) -> Response {
    crate::http::error_response(status, reason)
}

async fn receive(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(hook) = &state.telegram else {
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
