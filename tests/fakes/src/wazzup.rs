//! A local fake of the Wazzup24 v3 API (`docs/protocols/wazzup.md`), enough for the engine's
//! sending path: Bearer auth (401), `POST /v3/message` validation, `crmMessageId` remembered
//! (a repeat is a 400 `REPEATED_CRM_MESSAGE_ID`), 201 `{messageId, chatId}`, `GET /v3/channels`.
//! A switch makes sends hang, to kill the engine while one is in flight; others make every
//! send answer 500 (an outage) or 429 with `Retry-After` (a rate limit) while they are set.
//!
//! For the load tool (`benches/load.rs`): every delivery carries the instant it arrived,
//! [`FakeWazzup::subscribe`] streams deliveries as they happen, and `forget` stops keeping
//! them in memory (a long run would otherwise count the fake's memory as the engine's).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::mpsc;

/// Wazzup's chat types: the messengers it connects (`docs/protocols/wazzup.md`).
const CHAT_TYPES: &[&str] = &[
    "whatsapp",
    "whatsgroup",
    "viber",
    "instagram",
    "telegram",
    "telegroup",
    "vk",
    "avito",
    "max",
    "maxgroup",
];

pub const API_KEY: &str = "test-wazzup-key";
pub const CHANNEL_ID: &str = "e0629e11-0f67-4567-92a9-2237e91ec1b9";

/// A message the fake accepted (the customer would see it).
#[derive(Debug, Clone)]
pub struct Delivered {
    /// The messenger (`chatType`: `whatsapp`, `instagram`, …).
    #[allow(dead_code)] // read by the engine tests, not by the load tool
    pub chat_type: String,
    pub chat_id: String,
    pub text: String,
    pub crm_message_id: Option<String>,
    /// The id the fake answered with (Wazzup's `messageId`).
    pub message_id: String,
    /// When the fake accepted it.
    #[allow(dead_code)] // read by the load tool (benches/load.rs)
    pub at: Instant,
}

#[derive(Default)]
pub struct FakeWazzup {
    pub delivered: Mutex<Vec<Delivered>>,
    crm_ids: Mutex<HashSet<String>>,
    /// While set, sends are recorded as attempts and never answered.
    pub hold: AtomicBool,
    pub attempts: AtomicUsize,
    /// The next this-many sends answer 429 (`TOO_MANY_REQUESTS`).
    pub throttle: AtomicUsize,
    /// While set, every send answers 429 with `Retry-After` of this many seconds.
    pub rate_limited: Mutex<Option<u64>>,
    /// While set, every send answers 500 (an outage).
    pub server_error: AtomicBool,
    /// Sends answered 429 / 500.
    pub answered_429: AtomicUsize,
    pub answered_500: AtomicUsize,
    /// The body of the last `PATCH /v3/webhooks`.
    pub webhook: Mutex<Option<Value>>,
    /// While set, deliveries are not kept in `delivered` (subscribers still get them).
    pub forget: AtomicBool,
    subscribers: Mutex<Vec<mpsc::UnboundedSender<Delivered>>>,
}

impl FakeWazzup {
    /// Every delivery from now on, as it is accepted.
    #[allow(dead_code)] // used by the load tool (benches/load.rs)
    pub fn subscribe(&self) -> mpsc::UnboundedReceiver<Delivered> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.subscribers.lock().unwrap().push(tx);
        rx
    }

    pub fn delivered_to(&self, chat_id: &str) -> Vec<Delivered> {
        self.delivered
            .lock()
            .unwrap()
            .iter()
            .filter(|d| d.chat_id == chat_id)
            .cloned()
            .collect()
    }
}

/// Starts the fake on a free port; returns its base URL and state.
pub async fn start() -> (String, Arc<FakeWazzup>) {
    let state = Arc::new(FakeWazzup::default());
    let app = Router::new()
        .route("/v3/message", post(send))
        .route("/v3/channels", get(channels))
        .route("/v3/webhooks", get(webhooks_get).patch(webhooks_patch))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, state)
}

fn authorised(headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {API_KEY}"))
}

fn error(status: StatusCode, code: &str, description: &str, data: Value) -> Response {
    (
        status,
        Json(json!({"error": code, "description": description, "data": data})),
    )
        .into_response()
}

async fn send(
    State(fake): State<Arc<FakeWazzup>>,
    headers: HeaderMap,
    body: Json<Value>,
) -> Response {
    if !authorised(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    fake.attempts.fetch_add(1, Ordering::SeqCst);
    if fake.hold.load(Ordering::SeqCst) {
        std::future::pending::<()>().await;
    }
    if fake.server_error.load(Ordering::SeqCst) {
        fake.answered_500.fetch_add(1, Ordering::SeqCst);
        return (StatusCode::INTERNAL_SERVER_ERROR, "upstream unavailable").into_response();
    }
    let limited = *fake.rate_limited.lock().unwrap();
    if let Some(secs) = limited {
        fake.answered_429.fetch_add(1, Ordering::SeqCst);
        let mut response = error(
            StatusCode::TOO_MANY_REQUESTS,
            "TOO_MANY_REQUESTS",
            "Too many requests",
            json!({}),
        );
        response
            .headers_mut()
            .insert("retry-after", secs.to_string().parse().unwrap());
        return response;
    }
    if fake
        .throttle
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        fake.answered_429.fetch_add(1, Ordering::SeqCst);
        return error(
            StatusCode::TOO_MANY_REQUESTS,
            "TOO_MANY_REQUESTS",
            "Too many requests",
            json!({}),
        );
    }
    let b = body.0;
    let s = |k: &str| b.get(k).and_then(Value::as_str).map(str::to_owned);
    let mut bad = Vec::new();
    if s("channelId").as_deref() != Some(CHANNEL_ID) {
        bad.push("channelId");
    }
    // Wazzup sends on every messenger it connects (`chatType`), WhatsApp first. The fake keeps
    // its own list, from Wazzup's documentation, not the engine's.
    if !s("chatType").is_some_and(|t| CHAT_TYPES.contains(&t.as_str())) {
        bad.push("chatType");
    }
    if s("chatId").is_none_or(|c| c.is_empty() || !c.chars().all(|ch| ch.is_ascii_digit())) {
        bad.push("chatId");
    }
    if s("text").is_none_or(|t| t.is_empty() || t.chars().count() > 10_000) {
        bad.push("text");
    }
    if !bad.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "INVALID_MESSAGE_DATA",
            "Invalid message data",
            json!({"fields": bad}),
        );
    }
    let crm = s("crmMessageId");
    if let Some(id) = &crm
        && !fake.crm_ids.lock().unwrap().insert(id.clone())
    {
        return error(
            StatusCode::BAD_REQUEST,
            "REPEATED_CRM_MESSAGE_ID",
            "You have already sent message with the same crmMessageId",
            json!({}),
        );
    }
    let chat_id = s("chatId").unwrap();
    let message_id = uuid::Uuid::new_v4().to_string();
    let delivered = Delivered {
        chat_type: s("chatType").unwrap(),
        chat_id: chat_id.clone(),
        text: s("text").unwrap(),
        crm_message_id: crm,
        message_id: message_id.clone(),
        at: Instant::now(),
    };
    fake.subscribers
        .lock()
        .unwrap()
        .retain(|tx| tx.send(delivered.clone()).is_ok());
    if !fake.forget.load(Ordering::Relaxed) {
        fake.delivered.lock().unwrap().push(delivered);
    }
    (
        StatusCode::CREATED,
        Json(json!({"messageId": message_id, "chatId": chat_id})),
    )
        .into_response()
}

async fn webhooks_patch(
    State(fake): State<Arc<FakeWazzup>>,
    headers: HeaderMap,
    body: Json<Value>,
) -> Response {
    if !authorised(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let uri = body
        .get("webhooksUri")
        .and_then(Value::as_str)
        .unwrap_or("");
    if !(uri.starts_with("https://") || uri.starts_with("http://")) || uri.len() > 200 {
        return error(
            StatusCode::BAD_REQUEST,
            "URINOTVALID",
            "Webhooks URI is not valid",
            json!({}),
        );
    }
    *fake.webhook.lock().unwrap() = Some(body.0);
    Json(json!({"ok": true})).into_response()
}

async fn webhooks_get(State(fake): State<Arc<FakeWazzup>>, headers: HeaderMap) -> Response {
    if !authorised(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let current = fake.webhook.lock().unwrap().clone();
    Json(json!({
        "webhooksUri": current.as_ref().and_then(|b| b.get("webhooksUri").cloned()),
        "subscriptions": {"messagesAndStatuses": current.is_some(), "contactsAndDealsCreation": false},
    }))
    .into_response()
}

async fn channels(headers: HeaderMap) -> Response {
    if !authorised(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    Json(json!([
        {"channelId": CHANNEL_ID, "transport": "whatsapp", "plainId": "77010000000", "state": "active", "name": "Офис"},
        {"channelId": "0b7c2d1e-0000-4000-8000-000000000001", "transport": "whatsapp", "plainId": "77010000001", "state": "phoneUnavailable"}
    ]))
    .into_response()
}

/// A Wazzup webhook body with one inbound customer text message.
pub fn inbound(message_id: &str, chat_id: &str, text: &str) -> Value {
    json!({"messages": [{
        "messageId": message_id, "channelId": CHANNEL_ID, "chatType": "whatsapp", "chatId": chat_id,
        "dateTime": "2026-11-21T10:15:30.123", "type": "text", "status": "inbound", "isEcho": false,
        "text": text, "contact": {"name": "Айгуль"}
    }]})
}

/// A Wazzup webhook body with one outgoing message (`isEcho`), as Wazzup reports both our own
/// sends and what a manager writes from the CRM or the phone (then with `authorName`).
pub fn echo(message_id: &str, chat_id: &str, text: &str, author: Option<&str>) -> Value {
    let mut m = json!({
        "messageId": message_id, "channelId": CHANNEL_ID, "chatType": "whatsapp", "chatId": chat_id,
        "dateTime": "2026-11-21T10:16:30.123", "type": "text", "status": "sent", "isEcho": true,
        "text": text
    });
    if let Some(author) = author {
        m["authorName"] = json!(author);
        m["authorId"] = json!("crm-user-7");
    }
    json!({ "messages": [m] })
}

/// A Wazzup webhook body with one delivery status.
pub fn status(message_id: &str, status: &str) -> Value {
    json!({"statuses": [{"messageId": message_id, "timestamp": "2026-11-21T10:17:00.000Z", "status": status}]})
}
