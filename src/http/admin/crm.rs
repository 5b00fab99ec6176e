//! `/admin/crm/outbox`: the durable queue of what the engine tells Bitrix24. Admins only.
//! A failed command can be sent again (`retry`: pending, attempts back to 0, due now); the
//! Crm actor picks it up on its next pass.
//!
//! `POST /admin/crm/recheck`: re-read the portal's set-up now (as SIGHUP does) instead of at
//! the next periodic re-read; commands held for a set-up problem are released when it is
//! right.

use super::auth::AdminOnly;
use super::error::{ApiError, ApiResult, Path, Query};
use crate::http::AppState;
use actors::store::{WriteOp, WriteOutcome};
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 500;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/crm/outbox", get(list))
        .route("/admin/crm/outbox/{id}/retry", post(retry))
        .route("/admin/crm/recheck", post(recheck))
}

/// `POST /admin/crm/recheck`: the Crm actor re-reads the portal in the background; the
/// answer says the problem known so far.
async fn recheck(
    State(state): State<AppState>,
    AdminOnly(caller): AdminOnly,
) -> ApiResult<Json<Value>> {
    let Some(crm) = state.engine.crm() else {
        return Err(ApiError::NotFound("Bitrix24 is not configured".into()));
    };
    crm.recheck();
    tracing::info!(by = %caller.name, "Bitrix24 set-up re-read asked");
    let problem = crm.health().problem.map(|p| p.to_string());
    Ok(Json(json!({"rechecking": true, "problem": problem})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    status: Option<String>,
    limit: Option<i64>,
}

/// `GET /admin/crm/outbox?status=pending|failed|done`: oldest first.
async fn list(
    State(state): State<AppState>,
    AdminOnly(_): AdminOnly,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    if let Some(status) = &q.status
        && !["pending", "failed", "done"].contains(&status.as_str())
    {
        return Err(ApiError::BadRequest(
            "status must be pending, failed or done".into(),
        ));
    }
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit must be from 1 to {MAX_LIMIT}"
        )));
    }
    let commands = state
        .store()
        .crm_outbox_list(q.status.as_deref(), limit)
        .await?;
    Ok(Json(json!({ "commands": commands })))
}

/// `POST /admin/crm/outbox/{id}/retry`.
async fn retry(
    State(state): State<AppState>,
    AdminOnly(caller): AdminOnly,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let Some(command) = state.store().crm_outbox_entry(&id).await? else {
        return Err(ApiError::NotFound(format!("no CRM command {id}")));
    };
    if command.status == "done" {
        return Err(ApiError::Conflict(format!("CRM command {id} is done")));
    }
    let outcome = state
        .engine
        .store()
        .write(WriteOp::CrmOutboxRetry {
            id: id.clone(),
            at: actors::store::now(),
        })
        .await?;
    if outcome == WriteOutcome::NotFound {
        return Err(ApiError::Conflict(format!("CRM command {id} is done")));
    }
    tracing::info!(crm_command = %id, by = %caller.name, "CRM command queued again");
    let command = state.store().crm_outbox_entry(&id).await?;
    Ok(Json(json!({ "command": command })))
}
