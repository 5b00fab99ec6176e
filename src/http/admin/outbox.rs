//! `/admin/outbox`: replies to customers that wait for delivery (`pending`) or were given up
//! (`failed`: past `OUTBOX_DEADLINE_SECS`, or refused by the channel for good — each was
//! escalated to the managers with its text). Admins only.
//!
//! - `GET /admin/outbox?status=failed|pending&limit=N`: oldest first.
//! - `POST /admin/outbox/{id}/retry`: a failed reply goes back to its channel (its deadline
//!   counted from now); a pending one waiting for a retry goes now.
//! - `POST /admin/outbox/retry`: every failed reply (up to 1000, oldest first) goes back, and
//!   every pending one is due now (an open circuit breaker probes at once).
//!
//! A retry never sends a reply twice that the channel accepted: `sent` replies are refused
//! with 409, and Wazzup drops a repeat of a reply it has (the outbox id is its
//! `crmMessageId`).

use super::auth::AdminOnly;
use super::error::{
    AdminToken, ApiError, ApiResult, ErrorBody, Path, PathErrors, Query, QueryErrors,
};
use crate::http::AppState;
use actors::store::{OutboxRecord, OutboxStatus};
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1000;

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
    /// `failed` (the default) or `pending`.
    #[param(pattern = "^(pending|failed)$")]
    status: Option<String>,
    /// How many, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
}

/// A reply to a customer, with its delivery state.
#[derive(Serialize, ToSchema)]
struct Reply {
    /// The outbox id (also the channel's idempotency key).
    id: String,
    conversation_id: String,
    /// `telegram`, `wazzup`, `email`, `console`.
    channel: String,
    chat_id: String,
    text: String,
    /// `pending`, `sent`, `delivered`, `read` or `failed`.
    status: String,
    attempts: i32,
    /// Why the last attempt failed.
    last_error: Option<String>,
    /// When it was written (or last sent again by an admin: its deadline counts from then).
    created_at: DateTime<Utc>,
}

impl From<&OutboxRecord> for Reply {
    fn from(r: &OutboxRecord) -> Self {
        let m = &r.message;
        Reply {
            id: m.id.clone(),
            conversation_id: m.conversation_id.clone(),
            channel: m.key.channel.as_str().to_string(),
            chat_id: m.key.chat_id.clone(),
            text: m.text.clone(),
            status: r.status.to_string(),
            attempts: m.attempts,
            last_error: r.last_error.clone(),
            created_at: m.created_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
struct ReplyList {
    replies: Vec<Reply>,
}

#[derive(Serialize, ToSchema)]
struct ReplyRetried {
    /// The reply as it is now (`null` if it vanished meanwhile).
    reply: Option<Reply>,
}

#[derive(Serialize, ToSchema)]
struct RepliesRetried {
    /// How many replies went back to their channel.
    retried: u64,
}

/// Replies to customers: `failed` (given up past `OUTBOX_DEADLINE_SECS` or refused for good,
/// each escalated with its text) or `pending`, oldest first.
#[utoipa::path(get, path = "/admin/outbox", tag = "outbox",
    summary = "List replies waiting or undelivered",
    params(ListQuery),
    responses(
        (status = 200, description = "the replies", body = ReplyList),
        QueryErrors,
        AdminToken,
    ))]
async fn list(
    State(state): State<AppState>,
    AdminOnly(_caller): AdminOnly,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<ReplyList>> {
    let status = match q.status.as_deref().unwrap_or("failed") {
        "failed" => OutboxStatus::Failed,
        "pending" => OutboxStatus::Pending,
        _ => {
            return Err(ApiError::BadRequest(
                "status must be pending or failed".into(),
            ));
        }
    };
    let limit = super::error::limit(q.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
    let replies = state.store().outbox_list(status, limit).await?;
    Ok(Json(ReplyList {
        replies: replies.iter().map(Reply::from).collect(),
    }))
}

/// A failed reply goes back to its channel with a new deadline; a pending one waiting for a
/// retry goes now.
#[utoipa::path(post, path = "/admin/outbox/{id}/retry", tag = "outbox",
    summary = "Send a reply again",
    params(("id" = String, Path, description = "the reply's outbox id")),
    responses(
        (status = 200, description = "sent again", body = ReplyRetried),
        (status = 404, description = "no such reply", body = ErrorBody),
        (status = 409, description = "the reply was sent, or its channel is not configured", body = ErrorBody),
        PathErrors,
        AdminToken,
    ))]
async fn retry(
    State(state): State<AppState>,
    AdminOnly(caller): AdminOnly,
    Path(id): Path<String>,
) -> ApiResult<Json<ReplyRetried>> {
    let Some(before) = state.store().outbox_entry(&id).await? else {
        return Err(ApiError::NotFound(format!("no reply {id}")));
    };
    if !state.engine.retry_reply(&id).await? {
        return Err(ApiError::Conflict(format!(
            "reply {id} is {} (only failed or pending replies can be retried, on a configured channel)",
            before.status
        )));
    }
    tracing::info!(outbox_id = %id, by = %caller.name, "reply sent again by an admin");
    let after = state.store().outbox_entry(&id).await?;
    Ok(Json(ReplyRetried {
        reply: after.as_ref().map(Reply::from),
    }))
}

/// Every failed reply (up to 1000, oldest first) goes back to its channel; every waiting one
/// is due now and an open circuit breaker probes at once.
#[utoipa::path(post, path = "/admin/outbox/retry", tag = "outbox",
    summary = "Send every undelivered reply again",
    responses(
        (status = 200, description = "how many went back", body = RepliesRetried),
        AdminToken,
    ))]
async fn retry_all(
    State(state): State<AppState>,
    AdminOnly(caller): AdminOnly,
) -> ApiResult<Json<RepliesRetried>> {
    let retried = state.engine.retry_all_replies(MAX_LIMIT).await?;
    tracing::info!(retried, by = %caller.name, "undelivered replies sent again by an admin");
    Ok(Json(RepliesRetried {
        retried: retried as u64,
    }))
}
