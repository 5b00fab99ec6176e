//! WhatsApp, Instagram and the other messengers of Wazzup24 in the binary: the webhook route
//! ([`router`]) and the sender from the configuration ([`sender`]).
//!
//! `POST /webhooks/wazzup/{secret}` receives messages and statuses.
//! The secret in the path is compared in constant time; a wrong one is a 404 and nothing is
//! stored. Every customer message of the body is stored in the inbox before the 200 goes back,
//! so an acknowledged message is never lost; a redelivered one is recognised by its id. A
//! message from a chat type Wazzup does not have is acknowledged and dropped.

use crate::config::Config;
use actors::store::WriteOp;
use actors::{Accepted, Engine};
use anyhow::Context;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use channels::Sender;
use channels::wazzup::WazzupClient;
use channels::wazzup::inbound::{self as webhook, MessageClass};
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;

/// Largest webhook body accepted.
const MAX_BODY: usize = 1024 * 1024;

/// The sender of replies, paced at `WAZZUP_SENDS_PER_SEC`, when Wazzup is configured.
pub fn sender(config: &Config) -> anyhow::Result<Option<Arc<dyn Sender>>> {
    let Some(w) = &config.wazzup else {
        return Ok(None);
    };
    Ok(Some(Arc::new(
        WazzupClient::new(&w.api_url, w.api_key.expose_secret())
            .context("building the Wazzup client")?
            .with_rate(w.sends_per_sec),
    )))
}

/// What the route needs.
#[derive(Clone)]
struct Hook {
    engine: Engine,
    /// `WAZZUP_WEBHOOK_SECRET`; without it the route answers 404.
    secret: Option<Arc<SecretString>>,
}

/// `POST /webhooks/wazzup/{secret}` into `engine`.
pub fn router<S: Clone + Send + Sync + 'static>(engine: &Engine, config: &Config) -> Router<S> {
    let hook = Hook {
        engine: engine.clone(),
        secret: config
            .wazzup
            .as_ref()
            .and_then(|w| w.webhook_secret.clone())
            .map(Arc::new),
    };
    Router::new()
        .route("/webhooks/wazzup/{secret}", post(receive))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(hook)
}

fn reject(status: StatusCode, reason: impl Into<String>) -> Response {
    crate::http::error::error_response(status, reason)
}

async fn receive(State(state): State<Hook>, Path(secret): Path<String>, body: Bytes) -> Response {
    let Some(expected) = &state.secret else {
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
        match state.engine.accept(inbound).await {
            Ok(Accepted::New(_)) if message.class == MessageClass::Incoming => {
                metrics::counter!(
                    crate::http::metrics::WAZZUP_MESSAGES,
                    "messenger" => webhook::messenger(&message.chat_key().chat_id).unwrap_or("other")
                )
                .increment(1);
            }
            Ok(_) => {}
            Err(e) => return unavailable(e),
        }
    }
    for status in &hook.statuses {
        let Some(delivery) = status.delivery() else {
            continue;
        };
        let op = WriteOp::DeliveryStatus {
            channel: dialogs::Channel::Wazzup,
            external_id: status.message_id.clone(),
            delivery,
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
    state: &Hook,
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
