//! `POST /webhooks/wazzup/{secret}`: messages and statuses from Wazzup24.
//!
//! The secret in the path is compared in constant time; a wrong one is a 404 and nothing is
//! stored. Every customer message of the body is stored in the inbox before the 200 goes back,
//! so an acknowledged message is never lost; a redelivered one is recognised by its id. A
//! message from a chat type Wazzup does not have is acknowledged and dropped.

use crate::http::AppState;
use actors::store::WriteOp;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use channels::wazzup::inbound::{self as webhook, MessageClass};
use secrecy::ExposeSecret;

/// Largest webhook body accepted.
const MAX_BODY: usize = 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/webhooks/wazzup/{secret}", post(receive))
        .layer(DefaultBodyLimit::max(MAX_BODY))
}

fn reject(status: StatusCode, reason: impl Into<String>) -> Response {
    crate::http::error_response(status, reason)
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
    if !state.engine.is_started() || state.engine.store().availability.outage().is_some() {
        // The database is away: refused at once, not after waiting for it (Wazzup delivers
        // again).
        return unavailable("the database is unavailable");
    }
    let hook = match webhook::parse(&body) {
        Ok(h) => h,
        Err(e) => {
            tracing::warn!(error = %e, "refused a malformed Wazzup webhook");
            return reject(StatusCode::BAD_REQUEST, e.to_string());
        }
    };
    for message in &hook.messages {
        if !message.known_chat_type() {
            // No reply could reach such a chat: acknowledged (a redelivery would change
            // nothing) and dropped, like updates from chats the bot does not serve.
            let chat_type: String = message.chat_type.chars().take(40).collect();
            tracing::warn!(
                ?chat_type,
                "Wazzup message from an unknown chat type ignored"
            );
            continue;
        }
        let inbound = match message.class {
            MessageClass::Incoming => message.to_inbound(),
            MessageClass::Outgoing => match is_manager_echo(&state, message).await {
                Ok(true) => message.to_echo(),
                Ok(false) => continue,
                Err(e) => return unavailable(e),
            },
            // Edits and deletions change nothing the bot has to answer.
            MessageClass::Edited | MessageClass::Deleted => continue,
        };
        if let Err(e) = state.engine.accept(inbound).await {
            return unavailable(e);
        }
    }
    for status in &hook.statuses {
        let op = WriteOp::DeliveryStatus {
            channel: dialogs::Channel::Wazzup,
            external_id: status.message_id.clone(),
            status: status.status.clone(),
            error: status.error.clone(),
            at: actors::store::now(),
        };
        if let Err(e) = state.engine.store().write(op).await {
            return unavailable(e);
        }
    }
    StatusCode::OK.into_response()
}

/// An outgoing message the engine did not send was written by a manager (from the CRM, the
/// phone or the app): the chat passes to them. Our own sends come back as echoes too, known by
/// their message id, our `crmMessageId`, or — when the echo outruns the answer to our send —
/// their text.
async fn is_manager_echo(
    state: &AppState,
    message: &webhook::WazzupMessage,
) -> Result<bool, actors::store::StoreError> {
    if let Some(ours) = &message.crm_message_id {
        let store = &state.engine.store().store;
        if store
            .is_own_outgoing(&message.chat_key(), ours, None)
            .await?
        {
            return Ok(false);
        }
    }
    let own = state
        .engine
        .store()
        .store
        .is_own_outgoing(
            &message.chat_key(),
            &message.message_id,
            message.text.as_deref(),
        )
        .await?;
    Ok(!own)
}

/// Not acknowledged: Wazzup will deliver the body again.
fn unavailable(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "could not store a Wazzup webhook");
    reject(
        StatusCode::SERVICE_UNAVAILABLE,
        "temporarily unable to store the message",
    )
}
