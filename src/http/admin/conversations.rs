//! `/admin/conversations`: what the bot is doing, and a manager's hands on a chat. Managers
//! and admins.
//!
//! Taking over, writing and releasing all go through `Engine::manage`, so they run in the
//! chat's Conversation actor, in order with the customer's messages: a takeover silences the
//! bot from the next message on; a manager's message leaves through the customer's own
//! channel and outbox (and takes the chat, if it was not taken); a release gives the chat
//! back to the bot and resolves its escalations.

use super::auth::Caller;
use super::error::{
    AnyToken, ApiError, ApiResult, Body, BodyErrors, ErrorBody, Path, PathErrors, Query,
    QueryErrors,
};
use super::schemas::{Escalation, TranscriptLine};
use crate::http::AppState;
use actors::conversation::ManagerAction;
use actors::store::{ConversationQuery, ConversationRecord, EscalationRecord, TranscriptEntry};
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use dialogs::{Channel, Owner};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Conversations per page by default, and at most.
const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 200;
/// The most transcript lines returned (the latest).
const TRANSCRIPT_LINES: usize = 500;
/// The longest message a manager may send (WhatsApp allows more, Telegram 4096).
const MAX_MESSAGE_CHARS: usize = 4000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(detail))
        .routes(routes!(takeover))
        .routes(routes!(release))
        .routes(routes!(message))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// `telegram`, `wazzup`, `email` or `console`.
    channel: Option<String>,
    /// `bot`, `waiting` or `manager`.
    owner: Option<String>,
    /// RFC 3339, e.g. `2026-11-21T00:00:00Z`.
    updated_since: Option<DateTime<Utc>>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// A page of conversations.
#[derive(Serialize, ToSchema)]
struct ConversationPage {
    conversations: Vec<ConversationSummary>,
    /// Pass it as `cursor` for the next page; `null` on the last one.
    next_cursor: Option<String>,
}

/// Who a conversation is with, and who has it.
#[derive(Serialize, ToSchema)]
struct ConversationSummary {
    id: String,
    /// `telegram`, `wazzup`, `email` or `console`.
    #[schema(value_type = String)]
    channel: Channel,
    chat_id: String,
    customer_name: Option<String>,
    customer_phone: Option<String>,
    customer_email: Option<String>,
    /// `bot`, `waiting` or `manager`.
    #[schema(value_type = String)]
    owner: Owner,
    owned_by: Option<String>,
    owner_since: DateTime<Utc>,
    /// The channel refuses messages to this chat (the customer blocked the bot…).
    unreachable: bool,
    /// `ru`, `en` or `kk`, once known.
    #[schema(value_type = Option<String>)]
    language: Option<Value>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// A conversation in full.
#[derive(Serialize, ToSchema)]
struct ConversationDetail {
    #[serde(flatten)]
    summary: ConversationSummary,
    /// What the bot has understood of the request.
    #[schema(value_type = Object)]
    slots: Value,
    /// The whole dialog state.
    #[schema(value_type = Object)]
    state: Value,
    /// The latest 500 lines.
    #[schema(value_type = Vec<TranscriptLine>)]
    transcript: Vec<TranscriptEntry>,
    /// Older lines left out.
    transcript_omitted: usize,
    #[schema(value_type = Vec<Escalation>)]
    escalations: Vec<EscalationRecord>,
    ownership_changes: Vec<OwnershipChange>,
}

/// A change of hands.
#[derive(Serialize, ToSchema)]
struct OwnershipChange {
    #[schema(value_type = String)]
    from: Owner,
    #[schema(value_type = String)]
    to: Owner,
    by: String,
    reason: String,
    at: DateTime<Utc>,
}

/// Who has the chat after a manager's action.
#[derive(Serialize, ToSchema)]
struct Managed {
    id: String,
    /// `bot`, `waiting` or `manager`.
    #[schema(value_type = String)]
    owner: Owner,
}

/// Most recently updated first, a page at a time: pass the answer's `next_cursor` as `cursor`
/// for the next page.
#[utoipa::path(get, path = "/admin/conversations", tag = "conversations",
    summary = "List conversations",
    params(ListQuery),
    responses(
        (status = 200, description = "a page", body = ConversationPage),
        QueryErrors,
        AnyToken,
    ))]
async fn list(
    State(state): State<AppState>,
    _: Caller,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<ConversationPage>> {
    let limit = super::error::limit(q.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
    let query = ConversationQuery {
        channel: q
            .channel
            .map(|c| c.parse::<Channel>())
            .transpose()
            .map_err(|e| ApiError::BadRequest(format!("channel: {e}")))?,
        owner: q
            .owner
            .map(|o| o.parse::<Owner>())
            .transpose()
            .map_err(|e| ApiError::BadRequest(format!("owner: {e}")))?,
        updated_since: q.updated_since,
        after: q.cursor.as_deref().map(parse_cursor).transpose()?,
        limit,
    };
    let page = state.store().list_conversations(&query).await?;
    let next_cursor = (page.len() as i64 == limit)
        .then(|| page.last().map(cursor))
        .flatten();
    Ok(Json(ConversationPage {
        conversations: page.iter().map(summary).collect(),
        next_cursor,
    }))
}

/// A page's cursor: the last conversation's `updated_at` (microseconds) and id.
fn cursor(c: &ConversationRecord) -> String {
    format!("{}_{}", c.updated_at.timestamp_micros(), c.id)
}

fn parse_cursor(cursor: &str) -> ApiResult<(DateTime<Utc>, String)> {
    cursor
        .split_once('_')
        .and_then(|(micros, id)| {
            let at = DateTime::from_timestamp_micros(micros.parse().ok()?)?;
            Some((at, id.to_owned()))
        })
        .ok_or_else(|| ApiError::BadRequest("cursor: not a cursor this API gave".into()))
}

fn summary(c: &ConversationRecord) -> ConversationSummary {
    ConversationSummary {
        id: c.id.clone(),
        channel: c.key.channel,
        chat_id: c.key.chat_id.clone(),
        customer_name: c.customer_name.clone(),
        customer_phone: c.customer_phone.clone(),
        customer_email: c.customer_email.clone(),
        owner: c.owner,
        owned_by: c.owned_by.clone(),
        owner_since: c.owner_since,
        unreachable: c.unreachable,
        language: c.state.get("language").cloned(),
        created_at: c.created_at,
        updated_at: c.updated_at,
    }
}

/// The conversation called `id`, or a 404.
async fn find(state: &AppState, id: &str) -> ApiResult<ConversationRecord> {
    state
        .store()
        .conversation(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no conversation {id}")))
}

/// Owner, dialog state and slots, the last 500 transcript lines, escalations and changes of
/// hands.
#[utoipa::path(get, path = "/admin/conversations/{id}", tag = "conversations",
    summary = "Read a conversation",
    params(("id" = String, Path, description = "the conversation's id")),
    responses(
        (status = 200, description = "the conversation", body = ConversationDetail),
        (status = 404, description = "no such conversation", body = ErrorBody),
        PathErrors,
        AnyToken,
    ))]
async fn detail(
    State(state): State<AppState>,
    _: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ConversationDetail>> {
    let c = find(&state, &id).await?;
    let store = state.store();
    let mut transcript = store.transcript(&c.id).await?;
    let omitted = transcript.len().saturating_sub(TRANSCRIPT_LINES);
    transcript.drain(..omitted);
    let ownership_changes = store
        .ownership_changes(&c.id)
        .await?
        .into_iter()
        .map(|o| OwnershipChange {
            from: o.from,
            to: o.to,
            by: o.by,
            reason: o.reason,
            at: o.at,
        })
        .collect();
    Ok(Json(ConversationDetail {
        summary: summary(&c),
        slots: c
            .state
            .get("slots")
            .cloned()
            .unwrap_or_else(|| Value::Object(Default::default())),
        state: c.state.clone(),
        transcript,
        transcript_omitted: omitted,
        escalations: store.escalations_of(&c.id).await?,
        ownership_changes,
    }))
}

/// Runs a manager's action in the chat's conversation; answers with the owner afterwards.
async fn manage(
    state: &AppState,
    id: &str,
    action: ManagerAction,
    caller: &Caller,
    what: &str,
) -> ApiResult<Json<Managed>> {
    let c = find(state, id).await?;
    let owner = state.engine.manage(c.key, action, &caller.name).await?;
    tracing::info!(conversation = %id, by = %caller.name, ?owner, "{what} through the admin API");
    Ok(Json(Managed {
        id: id.to_owned(),
        owner,
    }))
}

/// The bot falls silent in this chat; its open escalations are claimed by the token's name.
#[utoipa::path(post, path = "/admin/conversations/{id}/takeover", tag = "conversations",
    summary = "Take the chat",
    params(("id" = String, Path, description = "the conversation's id")),
    responses(
        (status = 200, description = "taken", body = Managed),
        (status = 404, description = "no such conversation", body = ErrorBody),
        PathErrors,
        AnyToken,
    ))]
async fn takeover(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Managed>> {
    manage(&state, &id, ManagerAction::Take, &caller, "chat taken over").await
}

/// Its escalations are resolved.
#[utoipa::path(post, path = "/admin/conversations/{id}/release", tag = "conversations",
    summary = "Give the chat back to the bot",
    params(("id" = String, Path, description = "the conversation's id")),
    responses(
        (status = 200, description = "released", body = Managed),
        (status = 404, description = "no such conversation", body = ErrorBody),
        PathErrors,
        AnyToken,
    ))]
async fn release(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Managed>> {
    manage(
        &state,
        &id,
        ManagerAction::Release,
        &caller,
        "chat released",
    )
    .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Message {
    /// At most 4000 characters.
    text: String,
}

/// Sent through the customer's own channel and outbox; the chat is taken if it was not.
#[utoipa::path(post, path = "/admin/conversations/{id}/messages", tag = "conversations",
    summary = "Write to the customer",
    params(("id" = String, Path, description = "the conversation's id")),
    request_body = Message,
    responses(
        (status = 200, description = "queued for the customer", body = Managed),
        (status = 404, description = "no such conversation", body = ErrorBody),
        BodyErrors,
        AnyToken,
    ))]
async fn message(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(Message { text }): Body<Message>,
) -> ApiResult<Json<Managed>> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ApiError::Unprocessable("text: the message is empty".into()));
    }
    let chars = text.chars().count();
    if chars > MAX_MESSAGE_CHARS {
        return Err(ApiError::Unprocessable(format!(
            "text: {chars} characters; at most {MAX_MESSAGE_CHARS}"
        )));
    }
    manage(
        &state,
        &id,
        ManagerAction::Say(text.to_owned()),
        &caller,
        "manager's message sent",
    )
    .await
}
