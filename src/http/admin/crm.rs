//! `/admin/crm/outbox`: the durable queue of what the engine tells Bitrix24. Admins only.
//! A failed command can be sent again (`retry`: pending, attempts back to 0, due now); the
//! Crm actor picks it up on its next pass.
//!
//! `POST /admin/crm/recheck`: re-read the portal's set-up now (as SIGHUP does) instead of at
//! the next periodic re-read; commands held for a set-up problem are released when it is
//! right.

use super::auth::AdminOnly;
use super::error::{
    AdminToken, ApiError, ApiResult, ErrorBody, Path, PathErrors, Query, QueryErrors,
};
use super::schemas::CrmCommand;
use crate::http::AppState;
use actors::store::{CrmOutboxRecord, CrmStatus, WriteOp, WriteOutcome};
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 500;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(retry))
        .routes(routes!(recheck))
}

/// A re-read of the portal asked for.
#[derive(Serialize, ToSchema)]
struct Recheck {
    /// Always `true`: the re-read runs in the background.
    rechecking: bool,
    /// The set-up problem known so far (`null`: none).
    problem: Option<String>,
}

/// The portal's pipeline and stages are read again in the background (as on SIGHUP);
/// commands held for a set-up problem are released once it is right.
#[utoipa::path(post, path = "/admin/crm/recheck", tag = "crm",
    summary = "Re-read the Bitrix24 set-up now",
    responses(
        (status = 200, description = "the re-read is under way", body = Recheck),
        (status = 404, description = "Bitrix24 is not configured", body = ErrorBody),
        AdminToken,
    ))]
async fn recheck(
    State(state): State<AppState>,
    AdminOnly(caller): AdminOnly,
) -> ApiResult<Json<Recheck>> {
    let Some(crm) = state.engine.crm() else {
        return Err(ApiError::NotFound("Bitrix24 is not configured".into()));
    };
    crm.recheck();
    tracing::info!(by = %caller.name, "Bitrix24 set-up re-read asked");
    let problem = crm.health().problem.map(|p| p.to_string());
    Ok(Json(Recheck {
        rechecking: true,
        problem,
    }))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// `pending`, `failed` or `done` (all when left out).
    #[param(pattern = "^(pending|failed|done)$")]
    status: Option<String>,
    /// How many, 1 to 500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
struct CommandList {
    #[schema(value_type = Vec<CrmCommand>)]
    commands: Vec<CrmOutboxRecord>,
}

#[derive(Serialize, ToSchema)]
struct CommandRetried {
    #[schema(value_type = Option<CrmCommand>)]
    command: Option<CrmOutboxRecord>,
}

/// Oldest first.
#[utoipa::path(get, path = "/admin/crm/outbox", tag = "crm",
    summary = "List CRM commands",
    params(ListQuery),
    responses(
        (status = 200, description = "the commands", body = CommandList),
        QueryErrors,
        AdminToken,
    ))]
async fn list(
    State(state): State<AppState>,
    AdminOnly(_caller): AdminOnly,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<CommandList>> {
    let status = match q.status.as_deref() {
        None => None,
        Some(status) => Some(CrmStatus::parse(status).ok_or_else(|| {
            ApiError::BadRequest("status must be pending, failed or done".into())
        })?),
    };
    let limit = super::error::limit(q.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
    let commands = state.store().crm_commands(status, limit).await?;
    Ok(Json(CommandList { commands }))
}

/// Pending again, attempts back to 0, due now.
#[utoipa::path(post, path = "/admin/crm/outbox/{id}/retry", tag = "crm",
    summary = "Retry a CRM command",
    params(("id" = String, Path, description = "the command's id")),
    responses(
        (status = 200, description = "queued again", body = CommandRetried),
        (status = 404, description = "no such command", body = ErrorBody),
        (status = 409, description = "the command is done", body = ErrorBody),
        PathErrors,
        AdminToken,
    ))]
async fn retry(
    State(state): State<AppState>,
    AdminOnly(caller): AdminOnly,
    Path(id): Path<String>,
) -> ApiResult<Json<CommandRetried>> {
    let Some(command) = state.store().crm_command(&id).await? else {
        return Err(ApiError::NotFound(format!("no CRM command {id}")));
    };
    if command.status == CrmStatus::Done {
        return Err(ApiError::Conflict(format!("CRM command {id} is done")));
    }
    let outcome = state
        .engine
        .store()
        .write(WriteOp::CrmRequeue {
            id: id.clone(),
            at: actors::store::now(),
            pending_too: true,
        })
        .await?;
    if outcome == WriteOutcome::NotFound {
        return Err(ApiError::Conflict(format!("CRM command {id} is done")));
    }
    tracing::info!(crm_command = %id, by = %caller.name, "CRM command queued again");
    let command = state.store().crm_command(&id).await?;
    Ok(Json(CommandRetried { command }))
}
