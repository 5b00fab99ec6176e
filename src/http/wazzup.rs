//! `POST /webhooks/wazzup/{secret}`: messages and statuses from Wazzup24.
//!
//! The secret in the path is compared in constant time; a wrong one is a 404 and nothing is
//! stored. Every customer message of the body is stored in the inbox before the 200 goes back,
//! so an acknowledged message is never lost; a redelivered one is recognised by its id.

use super::AppState;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use channels::wazzup::webhook::{self, MessageClass};
use secrecy::ExposeSecret;
use serde_json::json;

/// Largest webhook body accepted.
const MAX_BODY: usize = 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/webhooks/wazzup/{secret}", post(receive))
        .layer(DefaultBodyLimit::max(MAX_BODY))
}

fn reject(status: StatusCode, reason: impl Into<String>) -> Response {
    (
        status,
        axum::Json(json!({"error": {"code": status.as_u16(), "message": reason.into()}})),
    )
        .into_response()
}

async fn receive(
    State(state): State<AppState>,
    Path(secret): Path<String>,
    body: Bytes,
) -> Response {
    let Some(expected) = &state.wazzup_secret else {
        return reject(StatusCode::NOT_FOUND, "not found");
    };
    if !channels::inbound::secret_matches(&secret, expected.expose_secret()) {
        return reject(StatusCode::NOT_FOUND, "not found");
    }
    let hook = match webhook::parse(&body) {
        Ok(h) => h,
        Err(e) => {
            tracing::warn!(error = %e, "refused a malformed Wazzup webhook");
            return reject(StatusCode::BAD_REQUEST, e.to_string());
        }
    };
    for message in hook
        .messages
        .iter()
        .filter(|m| m.class == MessageClass::Incoming)
    {
        if let Err(e) = state.engine.accept(message.to_inbound()).await {
            tracing::error!(error = %e, "could not store a Wazzup message");
            // Not acknowledged: the message is not ours yet.
            return reject(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily unable to store the message",
            );
        }
    }
    StatusCode::OK.into_response()
}
