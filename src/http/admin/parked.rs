//! `/admin/inbox/parked`: customer messages whose handling failed for good (a panic, a
//! template error — never an outage, which is waited out). Each was answered with an apology
//! and raised an escalation when it was parked. Admins only.
//!
//! A parked message can be handled again, one (`/{id}/retry`) or all (`/retry`): it becomes
//! pending and goes to its conversation, in order with whatever that chat has in hand.

use super::auth::AdminOnly;
use super::error::{ApiError, ApiResult, Path, Query};
use crate::http::AppState;
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 500;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/inbox/parked", get(list))
        .route("/admin/inbox/parked/retry", post(retry_all))
        .route("/admin/inbox/parked/{id}/retry", post(retry))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    limit: Option<i64>,
}

fn limit(q: &ListQuery) -> ApiResult<i64> {
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit must be from 1 to {MAX_LIMIT}"
        )));
    }
    Ok(limit)
}

fn entry(r: &actors::store::InboxRecord) -> Value {
    let m = &r.message;
    json!({
        "id": m.id,
        "channel": m.inbound.key.channel.as_str(),
        "chat_id": m.inbound.key.chat_id,
        "kind": m.inbound.kind,
        "text": m.inbound.text,
        "received_at": m.received_at,
        "error": r.error,
    })
}

/// `GET /admin/inbox/parked?limit=`: oldest first.
async fn list(
    State(state): State<AppState>,
    AdminOnly(_): AdminOnly,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    let parked = state.store().parked_inbox(limit(&q)?).await?;
    let messages: Vec<Value> = parked.iter().map(entry).collect();
    Ok(Json(json!({ "messages": messages })))
}

/// `POST /admin/inbox/parked/{id}/retry`.
async fn retry(
    State(state): State<AppState>,
    AdminOnly(caller): AdminOnly,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    if !state.engine.retry_parked(id).await? {
        return Err(ApiError::NotFound(format!("no parked message {id}")));
    }
    tracing::info!(inbox_id = id, by = %caller.name, "parked message retried");
    Ok(Json(json!({ "retried": [id] })))
}

/// `POST /admin/inbox/parked/retry?limit=`: the oldest parked messages, up to `limit`.
async fn retry_all(
    State(state): State<AppState>,
    AdminOnly(caller): AdminOnly,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    let parked = state.store().parked_inbox(limit(&q)?).await?;
    let mut retried = Vec::with_capacity(parked.len());
    for record in parked {
        if state.engine.retry_parked(record.message.id).await? {
            retried.push(record.message.id);
        }
    }
    tracing::info!(count = retried.len(), by = %caller.name, "parked messages retried");
    Ok(Json(json!({ "retried": retried })))
}
