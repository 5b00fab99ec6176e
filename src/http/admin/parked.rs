//! `/admin/inbox/parked`: customer messages whose handling failed for good (a panic, a
//! template error — never an outage, which is waited out). Each was answered with an apology
//! and raised an escalation when it was parked. Admins only.
//!
//! A parked message can be handled again, one (`/{id}/retry`) or all (`/retry`): it becomes
//! pending and goes to its conversation, in order with whatever that chat has in hand.

use super::auth::AdminOnly;
use super::error::{
    AdminToken, ApiError, ApiResult, ErrorBody, Path, PathErrors, Query, QueryErrors,
};
use crate::http::AppState;
use actors::store::InboxRecord;
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 500;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(retry_all))
        .routes(routes!(retry))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// How many, 1 to 500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
}

fn limit(q: &ListQuery) -> ApiResult<i64> {
    super::error::limit(q.limit, DEFAULT_LIMIT, MAX_LIMIT)
}

/// A customer message parked after failing for good.
#[derive(Serialize, ToSchema)]
struct ParkedMessage {
    /// The inbox id.
    id: i64,
    /// `telegram`, `wazzup`, `email`, `console`.
    channel: String,
    chat_id: String,
    /// What the customer sent (`text`, `media`, `start`, `callback`, `contact`).
    kind: String,
    text: String,
    received_at: DateTime<Utc>,
    /// Why it failed.
    error: Option<String>,
}

impl From<&InboxRecord> for ParkedMessage {
    fn from(r: &InboxRecord) -> Self {
        let m = &r.message;
        ParkedMessage {
            id: m.id,
            channel: m.inbound.key.channel.as_str().to_string(),
            chat_id: m.inbound.key.chat_id.clone(),
            kind: m.inbound.kind.as_str().to_owned(),
            text: m.inbound.text.clone(),
            received_at: m.received_at,
            error: r.error.clone(),
        }
    }
}

#[derive(Serialize, ToSchema)]
struct ParkedList {
    messages: Vec<ParkedMessage>,
}

#[derive(Serialize, ToSchema)]
struct Retried {
    /// The inbox ids handed to their conversations again.
    retried: Vec<i64>,
}

/// Customer messages whose handling failed for good (never an outage: those wait), oldest
/// first, with the error. Each was answered with an apology and raised an escalation.
#[utoipa::path(get, path = "/admin/inbox/parked", tag = "inbox",
    summary = "List parked messages",
    params(ListQuery),
    responses(
        (status = 200, description = "the parked messages", body = ParkedList),
        QueryErrors,
        AdminToken,
    ))]
async fn list(
    State(state): State<AppState>,
    AdminOnly(_caller): AdminOnly,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<ParkedList>> {
    let parked = state.store().parked_inbox(limit(&q)?).await?;
    Ok(Json(ParkedList {
        messages: parked.iter().map(ParkedMessage::from).collect(),
    }))
}

/// Pending again and handed to its conversation, in order with what that chat has in hand.
#[utoipa::path(post, path = "/admin/inbox/parked/{id}/retry", tag = "inbox",
    summary = "Retry a parked message",
    params(("id" = i64, Path, description = "the message's inbox id")),
    responses(
        (status = 200, description = "handed to its conversation again", body = Retried),
        (status = 404, description = "no such parked message", body = ErrorBody),
        PathErrors,
        AdminToken,
    ))]
async fn retry(
    State(state): State<AppState>,
    AdminOnly(caller): AdminOnly,
    Path(id): Path<i64>,
) -> ApiResult<Json<Retried>> {
    if !state.engine.retry_parked(id).await? {
        return Err(ApiError::NotFound(format!("no parked message {id}")));
    }
    tracing::info!(inbox_id = id, by = %caller.name, "parked message retried");
    Ok(Json(Retried { retried: vec![id] }))
}

/// The oldest parked messages, up to `limit`, pending again and handed to their
/// conversations.
#[utoipa::path(post, path = "/admin/inbox/parked/retry", tag = "inbox",
    summary = "Retry parked messages",
    params(ListQuery),
    responses(
        (status = 200, description = "the messages handed back", body = Retried),
        QueryErrors,
        AdminToken,
    ))]
async fn retry_all(
    State(state): State<AppState>,
    AdminOnly(caller): AdminOnly,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Retried>> {
    let parked = state.store().parked_inbox(limit(&q)?).await?;
    let mut retried = Vec::with_capacity(parked.len());
    for record in parked {
        if state.engine.retry_parked(record.message.id).await? {
            retried.push(record.message.id);
        }
    }
    tracing::info!(count = retried.len(), by = %caller.name, "parked messages retried");
    Ok(Json(Retried { retried }))
}
