//! `/admin/conversations`: what the bot is doing, and a manager's hands on a chat. Managers
//! and admins.
//!
//! Taking over, writing and releasing all go through `Engine::manage`, so they run in the
//! chat's Conversation actor, in order with the customer's messages: a takeover silences the
//! bot from the next message on; a manager's message leaves through the customer's own
//! channel and outbox (and takes the chat, if it was not taken); a release gives the chat
//! back to the bot and resolves its escalations.

use super::auth::Caller;
use super::error::{ApiError, ApiResult, Body, Path, Query};
use crate::http::AppState;
use actors::conversation::ManagerAction;
use actors::store::{ConversationQuery, ConversationRecord};
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use dialogs::{Channel, Owner};
use serde::Deserialize;
use serde_json::{Value, json};

/// Conversations per page by default, and at most.
const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 200;
/// The most transcript lines returned (the latest).
const TRANSCRIPT_LINES: usize = 500;
/// The longest message a manager may send (WhatsApp allows more, Telegram 4096).
const MAX_MESSAGE_CHARS: usize = 4000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/conversations", get(list))
        .route("/admin/conversations/{id}", get(detail))
        .route("/admin/conversations/{id}/takeover", post(takeover))
        .route("/admin/conversations/{id}/release", post(release))
        .route("/admin/conversations/{id}/messages", post(message))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    channel: Option<String>,
    owner: Option<String>,
    /// RFC 3339, e.g. `2026-11-21T00:00:00Z`.
    updated_since: Option<DateTime<Utc>>,
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// `GET /admin/conversations`: most recently updated first, a page at a time.
async fn list(
    State(state): State<AppState>,
    _: Caller,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit must be from 1 to {MAX_LIMIT}"
        )));
    }
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
    Ok(Json(json!({
        "conversations": page.iter().map(summary).collect::<Vec<_>>(),
        "next_cursor": next_cursor,
    })))
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

fn summary(c: &ConversationRecord) -> Value {
    json!({
        "id": c.id,
        "channel": c.key.channel,
        "chat_id": c.key.chat_id,
        "customer_name": c.customer_name,
        "customer_phone": c.customer_phone,
        "customer_email": c.customer_email,
        "owner": c.owner,
        "owned_by": c.owned_by,
        "owner_since": c.owner_since,
        "unreachable": c.unreachable,
        "language": c.state.get("language"),
        "created_at": c.created_at,
        "updated_at": c.updated_at,
    })
}

/// The conversation called `id`, or a 404.
async fn find(state: &AppState, id: &str) -> ApiResult<ConversationRecord> {
    state
        .store()
        .conversation(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no conversation {id}")))
}

/// `GET /admin/conversations/{id}`: who owns it, what the bot knows, what was said.
async fn detail(
    State(state): State<AppState>,
    _: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let c = find(&state, &id).await?;
    let store = state.store();
    let mut transcript = store.transcript(&c.id).await?;
    let omitted = transcript.len().saturating_sub(TRANSCRIPT_LINES);
    transcript.drain(..omitted);
    let ownership: Vec<Value> = store
        .ownership_changes(&c.id)
        .await?
        .into_iter()
        .map(|o| json!({"from": o.from, "to": o.to, "by": o.by, "reason": o.reason, "at": o.at}))
        .collect();
    let mut body = summary(&c);
    body["slots"] = c.state.get("slots").cloned().unwrap_or_else(|| json!({}));
    body["state"] = c.state.clone();
    body["transcript"] = json!(transcript);
    body["transcript_omitted"] = json!(omitted);
    body["escalations"] = json!(store.escalations_of(&c.id).await?);
    body["ownership_changes"] = json!(ownership);
    Ok(Json(body))
}

/// Runs a manager's action in the chat's conversation; answers with the owner afterwards.
async fn manage(
    state: &AppState,
    id: &str,
    action: ManagerAction,
    caller: &Caller,
    what: &str,
) -> ApiResult<Json<Value>> {
    let c = find(state, id).await?;
    let owner = state.engine.manage(c.key, action, &caller.name).await?;
    tracing::info!(conversation = %id, by = %caller.name, ?owner, "{what} through the admin API");
    Ok(Json(json!({ "id": id, "owner": owner })))
}

async fn takeover(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    manage(&state, &id, ManagerAction::Take, &caller, "chat taken over").await
}

async fn release(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    manage(
        &state,
        &id,
        ManagerAction::Release,
        &caller,
        "chat released",
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Message {
    text: String,
}

/// `POST /admin/conversations/{id}/messages`: a manager's words to the customer.
async fn message(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(Message { text }): Body<Message>,
) -> ApiResult<Json<Value>> {
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
