//! `/admin/escalations`: requests for a manager. Managers and admins.
//!
//! Claiming an escalation takes its chat (`Engine::manage(Take)`, which claims the chat's open
//! escalations in the same commit). Resolving one releases its chat when someone holds it
//! (`Engine::manage(Release)`, which resolves all of the chat's escalations); an escalation
//! of a chat the bot already has back is resolved alone.

use super::auth::Caller;
use super::error::{
    AnyToken, ApiError, ApiResult, ErrorBody, Path, PathErrors, Query, QueryErrors,
};
use super::schemas::Escalation;
use crate::http::AppState;
use actors::conversation::ManagerAction;
use actors::store::{EscalationRecord, EscalationStatus, WriteOp, WriteOutcome};
use axum::Json;
use axum::extract::State;
use dialogs::Owner;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 500;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(claim))
        .routes(routes!(resolve))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// `open`, `claimed` or `resolved` (all when left out).
    #[param(pattern = "^(open|claimed|resolved)$")]
    status: Option<String>,
    /// How many, 1 to 500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
struct EscalationList {
    #[schema(value_type = Vec<Escalation>)]
    escalations: Vec<EscalationRecord>,
}

/// An escalation after a manager's action, and who has its chat.
#[derive(Serialize, ToSchema)]
struct EscalationHandled {
    #[schema(value_type = Escalation)]
    escalation: EscalationRecord,
    /// `bot`, `waiting` or `manager`.
    #[schema(value_type = String)]
    owner: Owner,
}

/// Open and claimed ones oldest first, the others newest first.
#[utoipa::path(get, path = "/admin/escalations", tag = "escalations",
    summary = "List escalations",
    params(ListQuery),
    responses(
        (status = 200, description = "the escalations", body = EscalationList),
        QueryErrors,
        AnyToken,
    ))]
async fn list(
    State(state): State<AppState>,
    _: Caller,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<EscalationList>> {
    let status = match q.status.as_deref() {
        None => None,
        Some(status) => Some(EscalationStatus::parse(status).ok_or_else(|| {
            ApiError::BadRequest("status must be open, claimed or resolved".into())
        })?),
    };
    let limit = super::error::limit(q.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
    let escalations = state.store().list_escalations(status, limit).await?;
    Ok(Json(EscalationList { escalations }))
}

async fn find(state: &AppState, id: &str) -> ApiResult<EscalationRecord> {
    state
        .store()
        .escalation(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no escalation {id}")))
}

/// Takes its chat for the token's name (the bot falls silent).
#[utoipa::path(post, path = "/admin/escalations/{id}/claim", tag = "escalations",
    summary = "Claim an escalation",
    params(("id" = String, Path, description = "the escalation's id")),
    responses(
        (status = 200, description = "claimed", body = EscalationHandled),
        (status = 404, description = "no such escalation", body = ErrorBody),
        (status = 409, description = "resolved, or claimed by someone else", body = ErrorBody),
        PathErrors,
        AnyToken,
    ))]
async fn claim(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<EscalationHandled>> {
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
    if escalation.status == EscalationStatus::Open {
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
    Ok(Json(EscalationHandled { escalation, owner }))
}

/// Gives its chat back to the bot when someone holds it (which resolves all of the chat's
/// escalations).
#[utoipa::path(post, path = "/admin/escalations/{id}/resolve", tag = "escalations",
    summary = "Resolve an escalation",
    params(("id" = String, Path, description = "the escalation's id")),
    responses(
        (status = 200, description = "resolved", body = EscalationHandled),
        (status = 404, description = "no such escalation", body = ErrorBody),
        (status = 409, description = "already resolved", body = ErrorBody),
        PathErrors,
        AnyToken,
    ))]
async fn resolve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<EscalationHandled>> {
    let escalation = find(&state, &id).await?;
    if escalation.status == EscalationStatus::Resolved {
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
    Ok(Json(EscalationHandled {
        escalation: find(&state, &id).await?,
        owner,
    }))
}
