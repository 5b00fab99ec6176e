//! `/admin/escalations`: requests for a manager. Managers and admins.
//!
//! Claiming an escalation takes its chat (`Engine::manage(Take)`, which claims the chat's open
//! escalations in the same commit). Resolving one releases its chat when someone holds it
//! (`Engine::manage(Release)`, which resolves all of the chat's escalations); an escalation
//! of a chat the bot already has back is resolved alone.

use super::auth::Caller;
use super::error::{ApiError, ApiResult, Path, Query};
use crate::http::AppState;
use actors::conversation::ManagerAction;
use actors::store::{EscalationRecord, WriteOp, WriteOutcome};
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use dialogs::Owner;
use serde::Deserialize;
use serde_json::{Value, json};

const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 500;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/escalations", get(list))
        .route("/admin/escalations/{id}/claim", post(claim))
        .route("/admin/escalations/{id}/resolve", post(resolve))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    status: Option<String>,
    limit: Option<i64>,
}

/// `GET /admin/escalations?status=open|claimed|resolved`: open and claimed ones oldest first,
/// the others newest first.
async fn list(
    State(state): State<AppState>,
    _: Caller,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    if let Some(status) = &q.status
        && !["open", "claimed", "resolved"].contains(&status.as_str())
    {
        return Err(ApiError::BadRequest(
            "status must be open, claimed or resolved".into(),
        ));
    }
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit must be from 1 to {MAX_LIMIT}"
        )));
    }
    let escalations = state
        .store()
        .list_escalations(q.status.as_deref(), limit)
        .await?;
    Ok(Json(json!({ "escalations": escalations })))
}

async fn find(state: &AppState, id: &str) -> ApiResult<EscalationRecord> {
    state
        .store()
        .escalation(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no escalation {id}")))
}

/// `POST /admin/escalations/{id}/claim`: the caller takes the chat.
async fn claim(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let escalation = find(&state, &id).await?;
    match escalation.status.as_str() {
        "resolved" => return Err(ApiError::Conflict(format!("escalation {id} is resolved"))),
        "claimed" if escalation.claimed_by.as_deref() != Some(&*caller.name) => {
            return Err(ApiError::Conflict(format!(
                "escalation {id} is claimed by {}",
                escalation.claimed_by.as_deref().unwrap_or("someone")
            )));
        }
        _ => {}
    }
    let conversation = state
        .store()
        .conversation(&escalation.conversation_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("escalation {id} has no conversation"))?;
    let owner = state
        .engine
        .manage(conversation.key, ManagerAction::Take, &caller.name)
        .await?;
    let escalation = find(&state, &id).await?;
    if escalation.status == "open" {
        // The chat was already a manager's: taking it again claims nothing.
        return Err(ApiError::Conflict(format!(
            "the chat of escalation {id} is held by {}",
            conversation
                .owned_by
                .as_deref()
                .unwrap_or("another manager")
        )));
    }
    tracing::info!(escalation = %id, by = %caller.name, "escalation claimed through the admin API");
    Ok(Json(json!({ "escalation": escalation, "owner": owner })))
}

/// `POST /admin/escalations/{id}/resolve`: done; the chat goes back to the bot.
async fn resolve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let escalation = find(&state, &id).await?;
    if escalation.status == "resolved" {
        return Err(ApiError::Conflict(format!(
            "escalation {id} is already resolved"
        )));
    }
    let conversation = state
        .store()
        .conversation(&escalation.conversation_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("escalation {id} has no conversation"))?;
    let owner = if conversation.owner == Owner::Bot {
        let outcome = state
            .engine
            .store()
            .write(WriteOp::ResolveEscalation {
                id: id.clone(),
                at: actors::store::now(),
            })
            .await?;
        if outcome == WriteOutcome::NotFound {
            return Err(ApiError::Conflict(format!(
                "escalation {id} is already resolved"
            )));
        }
        Owner::Bot
    } else {
        state
            .engine
            .manage(conversation.key, ManagerAction::Release, &caller.name)
            .await?
    };
    tracing::info!(escalation = %id, by = %caller.name, "escalation resolved through the admin API");
    Ok(Json(
        json!({ "escalation": find(&state, &id).await?, "owner": owner }),
    ))
}
