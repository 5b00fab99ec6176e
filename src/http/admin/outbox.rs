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
use super::error::{ApiError, ApiResult, Path, Query};
use crate::http::AppState;
use actors::store::OutboxRecord;
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/outbox", get(list))
        .route("/admin/outbox/retry", post(retry_all))
        .route("/admin/outbox/{id}/retry", post(retry))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    status: Option<String>,
    limit: Option<i64>,
}

fn entry(r: &OutboxRecord) -> Value {
    let m = &r.message;
    json!({
        "id": m.id,
        "conversation_id": m.conversation_id,
        "channel": m.key.channel.as_str(),
        "chat_id": m.key.chat_id,
        "text": m.text,
        "status": r.status,
        "attempts": m.attempts,
        "last_error": r.last_error,
        "created_at": m.created_at,
    })
}

/// `GET /admin/outbox?status=failed|pending` (default `failed`).
async fn list(
    State(state): State<AppState>,
    AdminOnly(_): AdminOnly,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    let status = q.status.as_deref().unwrap_or("failed");
    if !["pending", "failed"].contains(&status) {
        return Err(ApiError::BadRequest(
            "status must be pending or failed".into(),
        ));
    }
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit must be from 1 to {MAX_LIMIT}"
        )));
    }
    let replies = state.store().outbox_list(status, limit).await?;
    Ok(Json(
        json!({ "replies": replies.iter().map(entry).collect::<Vec<_>>() }),
    ))
}

/// `POST /admin/outbox/{id}/retry`.
async fn retry(
    State(state): State<AppState>,
    AdminOnly(caller): AdminOnly,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
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
    Ok(Json(json!({ "reply": after.as_ref().map(entry) })))
}

/// `POST /admin/outbox/retry`: every failed reply, and every pending one now.
async fn retry_all(
    State(state): State<AppState>,
    AdminOnly(caller): AdminOnly,
) -> ApiResult<Json<Value>> {
    let retried = state.engine.retry_all_replies(MAX_LIMIT).await?;
    tracing::info!(retried, by = %caller.name, "undelivered replies sent again by an admin");
    Ok(Json(json!({ "retried": retried })))
}
