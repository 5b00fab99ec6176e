//! A local fake of the Telegram Bot API, enough for the engine's Telegram channel:
//! `/bot<token>/<method>` with the method matched in any case, parameters as JSON, form,
//! multipart form (teloxide-core sends `setWebhook` so) or query, answers in the `{"ok": true, "result": …}` / `{"ok": false, "error_code": …}`
//! envelope. A wrong token is a 401.
//!
//! Methods: `getMe`, `setWebhook`, `deleteWebhook`, `getWebhookInfo`, `getUpdates` (a queue
//! the test pushes to; `offset` confirms and drops what is below it; `timeout` waits briefly
//! for a push; refused with 409 while a webhook is set), `sendMessage` (recorded),
//! `answerCallbackQuery` (recorded), `getChatMember` (the bot is a member of every chat but
//! the refused ones, which answer 400 with their description).
//!
//! Switches: Telegram's last webhook delivery error (`getWebhookInfo`); the next N sends answer
//! 429 with `retry_after` 1 (or every send until a given instant); chats that answer 403 (the bot
//! is blocked); chats whose sends answer 400 with a given description; sends that never answer (to kill the engine mid-send); a budget of `getUpdates`
//! calls after which they never answer (an engine killed before its next poll confirmed
//! anything).
//!
//! For the load tool (`benches/load.rs`): every sent message carries the instant it arrived,
//! [`FakeTelegram::subscribe`] streams them as they happen, and `forget` stops keeping sends
//! and calls in memory.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::{Json, Router};
use serde_json::{Map, Value, json};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

pub const TOKEN: &str = "123456789:TEST-fake-token_abcdefghij";

/// A message the fake accepted (the customer would see it).
#[derive(Debug, Clone)]
pub struct Sent {
    pub chat_id: i64,
    pub text: String,
    pub reply_markup: Option<Value>,
    /// When the fake accepted it.
    #[allow(dead_code)] // read by the load tool (benches/load.rs)
    pub at: Instant,
}

impl Sent {
    /// The `callback_data` of the inline keyboard's buttons, in order.
    pub fn button_actions(&self) -> Vec<String> {
        self.reply_markup
            .as_ref()
            .and_then(|m| m["inline_keyboard"].as_array())
            .into_iter()
            .flatten()
            .flat_map(|row| row.as_array().into_iter().flatten())
            .filter_map(|b| b["callback_data"].as_str().map(str::to_owned))
            .collect()
    }
}

pub struct FakeTelegram {
    /// Base URL to give the engine as `TELEGRAM_API_URL`.
    pub url: String,
    queue: Mutex<VecDeque<Value>>,
    next_update_id: AtomicI64,
    /// `message_id` of the next message sent.
    next_message_id: AtomicI64,
    pushed: tokio::sync::Notify,
    /// Every method called, lower case, in order.
    pub calls: Mutex<Vec<String>>,
    /// Parameters of the last `setWebhook` (cleared by `deleteWebhook`).
    pub webhook: Mutex<Option<Map<String, Value>>>,
    pub sent: Mutex<Vec<Sent>>,
    /// The chat of every `sendMessage` attempt, answered or not.
    pub send_attempts: Mutex<Vec<i64>>,
    pub answered_callbacks: Mutex<Vec<String>>,
    /// Update ids handed out by `getUpdates`, with repetitions.
    pub served: Mutex<Vec<i64>>,
    /// The next this many sends answer 429 with `retry_after` 1.
    pub too_many_requests: AtomicUsize,
    /// Until then, every send answers 429 with `retry_after` 1 (a flood limit for a while).
    pub limited_until: Mutex<Option<Instant>>,
    /// Sends answered 429.
    pub answered_429: AtomicUsize,
    /// Chats that blocked the bot: sends to them answer 403.
    pub blocked: Mutex<HashSet<i64>>,
    /// Chats whose sends answer 400 with this description (`Bad Request: chat not found`).
    pub refused: Mutex<HashMap<i64, String>>,
    /// While set, sends are recorded as attempts and never answered.
    pub hold_sends: AtomicBool,
    /// `getUpdates` calls still answered; the ones after never answer. `None`: no limit.
    pub poll_budget: Mutex<Option<usize>>,
    /// While set, sends, send attempts and calls are not kept (subscribers still get sends).
    pub forget: AtomicBool,
    /// Telegram's last error delivering to the webhook, shown by `getWebhookInfo` (just now).
    pub webhook_error: Mutex<Option<String>>,
    subscribers: Mutex<Vec<mpsc::UnboundedSender<Sent>>>,
}

/// Starts the fake on a free port.
pub async fn start() -> Arc<FakeTelegram> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let fake = Arc::new(FakeTelegram {
        url: format!("http://{}", listener.local_addr().unwrap()),
        queue: Mutex::default(),
        next_update_id: AtomicI64::new(500_000_001),
        next_message_id: AtomicI64::new(1),
        pushed: tokio::sync::Notify::new(),
        calls: Mutex::default(),
        webhook: Mutex::default(),
        sent: Mutex::default(),
        send_attempts: Mutex::default(),
        answered_callbacks: Mutex::default(),
        served: Mutex::default(),
        too_many_requests: AtomicUsize::new(0),
        limited_until: Mutex::default(),
        answered_429: AtomicUsize::new(0),
        blocked: Mutex::default(),
        refused: Mutex::default(),
        hold_sends: AtomicBool::new(false),
        poll_budget: Mutex::default(),
        forget: AtomicBool::new(false),
        webhook_error: Mutex::default(),
        subscribers: Mutex::default(),
    });
    let app = Router::new()
        .route("/{bot}/{method}", any(dispatch))
        .with_state(fake.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    fake
}

impl FakeTelegram {
    /// Every message sent from now on, as it is accepted.
    #[allow(dead_code)] // used by the load tool (benches/load.rs)
    pub fn subscribe(&self) -> mpsc::UnboundedReceiver<Sent> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.subscribers.lock().unwrap().push(tx);
        rx
    }

    fn keeps(&self) -> bool {
        !self.forget.load(Ordering::Relaxed)
    }

    /// Queues an update for `getUpdates`, giving it the next update id; returns the id.
    pub fn push(&self, mut update: Value) -> i64 {
        let id = self.next_update_id.fetch_add(1, Ordering::SeqCst);
        update["update_id"] = json!(id);
        self.queue.lock().unwrap().push_back(update);
        self.pushed.notify_waiters();
        id
    }

    pub fn sent_to(&self, chat_id: i64) -> Vec<Sent> {
        self.sent
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.chat_id == chat_id)
            .cloned()
            .collect()
    }

    pub fn attempts_to(&self, chat_id: i64) -> usize {
        self.send_attempts
            .lock()
            .unwrap()
            .iter()
            .filter(|c| **c == chat_id)
            .count()
    }

    pub fn called(&self, method: &str) -> usize {
        let method = method.to_ascii_lowercase();
        self.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|m| **m == method)
            .count()
    }

    pub fn times_served(&self, update_id: i64) -> usize {
        self.served
            .lock()
            .unwrap()
            .iter()
            .filter(|id| **id == update_id)
            .count()
    }
}

fn ok(result: Value) -> Response {
    Json(json!({"ok": true, "result": result})).into_response()
}

fn error(code: u16, description: &str, parameters: Option<Value>) -> Response {
    let mut body = json!({"ok": false, "error_code": code, "description": description});
    if let Some(p) = parameters {
        body["parameters"] = p;
    }
    (StatusCode::from_u16(code).unwrap(), Json(body)).into_response()
}

/// The call's parameters: query string, then a JSON, form or multipart body on top. Form and
/// query values that are JSON (numbers, `reply_markup`) are read as JSON.
async fn parameters(
    query: HashMap<String, String>,
    headers: &HeaderMap,
    body: &[u8],
) -> Map<String, Value> {
    let loose = |v: String| serde_json::from_str(&v).unwrap_or(Value::String(v));
    let mut params: Map<String, Value> = query.into_iter().map(|(k, v)| (k, loose(v))).collect();
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.starts_with("application/json") {
        if let Ok(Value::Object(map)) = serde_json::from_slice(body) {
            params.extend(map);
        }
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        let form: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
        params.extend(form.into_iter().map(|(k, v)| (k, loose(v))));
    } else if let Ok(boundary) = multer::parse_boundary(content_type) {
        let body = Bytes::copy_from_slice(body);
        let stream = futures::stream::once(async move { Ok::<_, std::io::Error>(body) });
        let mut form = multer::Multipart::new(stream, boundary);
        while let Ok(Some(field)) = form.next_field().await {
            let name = field.name().unwrap_or_default().to_owned();
            if let Ok(text) = field.text().await {
                params.insert(name, loose(text));
            }
        }
    }
    params
}

async fn dispatch(
    State(fake): State<Arc<FakeTelegram>>,
    Path((bot, method)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if bot != format!("bot{TOKEN}") {
        return error(401, "Unauthorized", None);
    }
    let method = method.to_ascii_lowercase();
    if fake.keeps() {
        fake.calls.lock().unwrap().push(method.clone());
    }
    let p = parameters(query, &headers, &body).await;
    match method.as_str() {
        // As the Bot API answers for a bot (`User` with the bot-only fields).
        "getme" => ok(
            json!({"id": 123456789, "is_bot": true, "first_name": "Crystal Bay",
            "username": "crystalbay_test_bot", "can_join_groups": true,
            "can_read_all_group_messages": false, "supports_inline_queries": false,
            "can_connect_to_business": false, "has_main_web_app": false}),
        ),
        "setwebhook" => {
            if p.get("url")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                return error(
                    400,
                    "Bad Request: bad webhook: An HTTPS URL must be provided for webhook",
                    None,
                );
            }
            *fake.webhook.lock().unwrap() = Some(p);
            ok(json!(true))
        }
        "deletewebhook" => {
            *fake.webhook.lock().unwrap() = None;
            ok(json!(true))
        }
        "getwebhookinfo" => {
            let url = fake
                .webhook
                .lock()
                .unwrap()
                .as_ref()
                .and_then(|w| w.get("url").cloned())
                .unwrap_or(json!(""));
            let pending = fake.queue.lock().unwrap().len();
            let mut info = json!({"url": url, "has_custom_certificate": false, "pending_update_count": pending});
            if let Some(error) = fake.webhook_error.lock().unwrap().clone() {
                info["last_error_message"] = json!(error);
                info["last_error_date"] = json!(chrono::Utc::now().timestamp());
            }
            ok(info)
        }
        "getchatmember" => {
            let chat = p.get("chat_id").and_then(Value::as_i64).unwrap_or_default();
            if let Some(description) = fake.refused.lock().unwrap().get(&chat) {
                return error(400, description, None);
            }
            ok(json!({"status": "member",
                      "user": {"id": 123456789, "is_bot": true, "first_name": "Crystal Bay",
                               "username": "crystalbay_test_bot"}}))
        }
        "getupdates" => get_updates(&fake, &p).await,
        "sendmessage" => send_message(&fake, &p).await,
        "answercallbackquery" => match p.get("callback_query_id").and_then(Value::as_str) {
            Some(id) => {
                fake.answered_callbacks.lock().unwrap().push(id.to_owned());
                ok(json!(true))
            }
            None => error(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
                None,
            ),
        },
        _ => error(404, "Not Found", None),
    }
}

async fn get_updates(fake: &FakeTelegram, p: &Map<String, Value>) -> Response {
    let exhausted = match fake.poll_budget.lock().unwrap().as_mut() {
        Some(0) => true,
        Some(n) => {
            *n -= 1;
            false
        }
        None => false,
    };
    if exhausted {
        // Never answered, and the offset never applied: as if the call never came.
        std::future::pending::<()>().await;
    }
    if fake.webhook.lock().unwrap().is_some() {
        return error(
            409,
            "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
            None,
        );
    }
    if let Some(offset) = p.get("offset").and_then(Value::as_i64) {
        fake.queue
            .lock()
            .unwrap()
            .retain(|u| u["update_id"].as_i64().unwrap_or(0) >= offset);
    }
    // Long polling, briefly: enough for a test's push to be served at once.
    let wait = Duration::from_secs(p.get("timeout").and_then(Value::as_u64).unwrap_or(0))
        .min(Duration::from_millis(500));
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let notified = fake.pushed.notified();
        let updates: Vec<Value> = fake
            .queue
            .lock()
            .unwrap()
            .iter()
            .take(100)
            .cloned()
            .collect();
        if !updates.is_empty() || tokio::time::Instant::now() >= deadline {
            fake.served
                .lock()
                .unwrap()
                .extend(updates.iter().filter_map(|u| u["update_id"].as_i64()));
            return ok(Value::Array(updates));
        }
        let _ = tokio::time::timeout_at(deadline, notified).await;
    }
}

async fn send_message(fake: &FakeTelegram, p: &Map<String, Value>) -> Response {
    let chat_id = match p.get("chat_id") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    };
    let Some(chat_id) = chat_id else {
        return error(400, "Bad Request: chat_id is empty", None);
    };
    if fake.keeps() {
        fake.send_attempts.lock().unwrap().push(chat_id);
    }
    if fake.hold_sends.load(Ordering::SeqCst) {
        std::future::pending::<()>().await;
    }
    if fake.blocked.lock().unwrap().contains(&chat_id) {
        return error(403, "Forbidden: bot was blocked by the user", None);
    }
    let refused = fake.refused.lock().unwrap().get(&chat_id).cloned();
    if let Some(description) = refused {
        return error(400, &description, None);
    }
    let limited = fake
        .too_many_requests
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
        || fake
            .limited_until
            .lock()
            .unwrap()
            .is_some_and(|until| Instant::now() < until);
    if limited {
        fake.answered_429.fetch_add(1, Ordering::SeqCst);
        return error(
            429,
            "Too Many Requests: retry after 1",
            Some(json!({"retry_after": 1})),
        );
    }
    let text = match p.get("text") {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    if text.trim().is_empty() {
        return error(400, "Bad Request: message text is empty", None);
    }
    if text.chars().count() > 4096 {
        return error(400, "Bad Request: message is too long", None);
    }
    let reply_markup = p.get("reply_markup").cloned();
    if let Some(markup) = &reply_markup {
        let sent = Sent {
            chat_id,
            text: String::new(),
            reply_markup: Some(markup.clone()),
            at: Instant::now(),
        };
        if sent
            .button_actions()
            .iter()
            .any(|data| data.is_empty() || data.len() > 64)
        {
            return error(400, "Bad Request: BUTTON_DATA_INVALID", None);
        }
    }
    let message_id = {
        let record = Sent {
            chat_id,
            text: text.clone(),
            reply_markup,
            at: Instant::now(),
        };
        fake.subscribers
            .lock()
            .unwrap()
            .retain(|tx| tx.send(record.clone()).is_ok());
        if fake.keeps() {
            fake.sent.lock().unwrap().push(record);
        }
        fake.next_message_id.fetch_add(1, Ordering::Relaxed)
    };
    ok(json!({
        "message_id": message_id,
        "date": chrono::Utc::now().timestamp(),
        "chat": {"id": chat_id, "type": "private"},
        "from": {"id": 123456789, "is_bot": true, "first_name": "Crystal Bay"},
        "text": text,
    }))
}

/// A private chat's user, as Telegram describes them.
fn user(chat_id: i64) -> Value {
    json!({"id": chat_id, "is_bot": false, "first_name": "Айгуль", "last_name": "Сейткали",
           "language_code": "ru"})
}

fn message(chat_id: i64, content: Value) -> Value {
    let mut m = json!({
        "message_id": 1000 + chat_id % 1000,
        "date": chrono::Utc::now().timestamp(),
        "chat": {"id": chat_id, "type": "private", "first_name": "Айгуль"},
        "from": user(chat_id),
    });
    m.as_object_mut()
        .unwrap()
        .extend(content.as_object().unwrap().clone());
    json!({ "message": m })
}

/// An update with a customer's text message (`update_id` set by `push` or the caller).
pub fn text(chat_id: i64, text: &str) -> Value {
    message(chat_id, json!({ "text": text }))
}

/// An update with a photo (and an optional caption).
pub fn photo(chat_id: i64, caption: Option<&str>) -> Value {
    let mut content = json!({"photo": [{"file_id": "AgAC-photo", "file_unique_id": "u1",
                                         "width": 90, "height": 60}]});
    if let Some(c) = caption {
        content["caption"] = json!(c);
    }
    message(chat_id, content)
}

/// An update with a press on an inline button under the bot's message.
pub fn button_press(chat_id: i64, callback_query_id: &str, data: &str) -> Value {
    json!({"callback_query": {
        "id": callback_query_id,
        "from": user(chat_id),
        "chat_instance": "-7001",
        "data": data,
        "message": {"message_id": 1, "date": chrono::Utc::now().timestamp(),
                    "chat": {"id": chat_id, "type": "private"}, "text": "…"},
    }})
}

/// An update with a message in a group chat.
pub fn group_text(group_id: i64, from: i64, text: &str) -> Value {
    json!({"message": {
        "message_id": 5, "date": chrono::Utc::now().timestamp(),
        "chat": {"id": group_id, "type": "supergroup", "title": "Crystal Bay managers"},
        "from": user(from), "text": text,
    }})
}

/// `update` with `update_id` set, for posting to the webhook.
pub fn with_id(mut update: Value, update_id: i64) -> Value {
    update["update_id"] = json!(update_id);
    update
}
