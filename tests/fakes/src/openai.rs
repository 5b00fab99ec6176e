//! A local fake of an OpenAI-compatible chat-completions API: `GET {base}/models` (two
//! models) and `POST {base}/chat/completions`
//! with Bearer auth (401 in OpenAI's error format otherwise). It records every authorised
//! request body, so tests can check what was sent (the prompts, the tool schema, where the
//! customer's text went), and answers as its [`Mode`] says: a realistic tool call, a text
//! answer, a 500, a slow answer, or a broken body. A `hold` switch leaves requests unanswered.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const API_KEY: &str = "sk-test-crystalbay-0123456789";

/// How the fake answers the next requests.
#[derive(Debug, Clone)]
pub enum Mode {
    /// A `record_analysis` tool call with these arguments (sent as a JSON string, as OpenAI does).
    ToolCall(Value),
    /// A plain assistant message with this text.
    Text(String),
    /// HTTP 500 with a plain-text body.
    ServerError,
    /// A text answer after this delay.
    Slow(Duration),
    /// A 200 whose body is not JSON.
    InvalidJson,
    /// A 200 with JSON that has no `choices`.
    MissingFields,
}

impl Mode {
    /// A tool call filling slots for "Хотим в Нячанг из Алматы в марте, двое взрослых, до 1,5 млн".
    pub fn slots_tool_call() -> Mode {
        Mode::ToolCall(json!({
            "intent": "tour_search",
            "language": "ru",
            "slots": {
                "departure_city": "Almaty",
                "country": "Vietnam",
                "resort": "Nha Trang",
                "date_from": "2027-03-01",
                "date_to": "2027-03-31",
                "adults": 2,
                "budget_max": 1500000,
                "currency": "KZT"
            }
        }))
    }

    /// A tool call with values outside the SCHEMA's lists and ranges, next to one valid value.
    pub fn invalid_tool_call() -> Mode {
        Mode::ToolCall(json!({
            "intent": "tour_search",
            "language": "ru",
            "slots": {
                "departure_city": "Moscow",
                "resort": "Phu Quoc",
                "adults": -2,
                "children": "many",
                "stars": 7,
                "meal": "everything",
                "currency": "BTC",
                "date_from": "yesterday",
                "email": "admin@@example"
            }
        }))
    }
}

pub struct FakeOpenAi {
    mode: Mutex<Mode>,
    /// Bodies of the authorised requests, in order of arrival.
    requests: Mutex<Vec<Value>>,
    /// Requests refused for a missing or wrong key.
    pub unauthorised: AtomicUsize,
    /// While set, requests are recorded and never answered.
    pub hold: AtomicBool,
}

impl FakeOpenAi {
    pub fn set_mode(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    pub fn requests(&self) -> Vec<Value> {
        self.requests.lock().unwrap().clone()
    }

    /// The last request's messages with `role`, as their text contents.
    pub fn messages(&self, role: &str) -> Vec<String> {
        let requests = self.requests();
        let Some(last) = requests.last() else {
            return Vec::new();
        };
        last["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| m["role"] == role)
            .filter_map(|m| m["content"].as_str().map(str::to_owned))
            .collect()
    }
}

/// Starts the fake on a free port; returns its base URL (ending in `/v1`) and state.
pub async fn start(mode: Mode) -> (String, Arc<FakeOpenAi>) {
    let state = Arc::new(FakeOpenAi {
        mode: Mutex::new(mode),
        requests: Mutex::new(Vec::new()),
        unauthorised: AtomicUsize::new(0),
        hold: AtomicBool::new(false),
    });
    let app = Router::new()
        .route("/v1/chat/completions", post(completions))
        .route("/v1/models", axum::routing::get(models))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, state)
}

/// `GET /v1/models`: the models this key may use.
async fn models(headers: HeaderMap) -> Response {
    let authorised = headers.get("authorization").and_then(|v| v.to_str().ok())
        == Some(&format!("Bearer {API_KEY}"));
    if !authorised {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": {"message": "Incorrect API key provided.",
                "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}})),
        )
            .into_response();
    }
    Json(json!({"object": "list", "data": [
        {"id": "gpt-4o", "object": "model", "created": 1715367049, "owned_by": "system"},
        {"id": "gpt-4o-mini", "object": "model", "created": 1721172741, "owned_by": "system"}
    ]}))
    .into_response()
}

async fn completions(
    State(fake): State<Arc<FakeOpenAi>>,
    headers: HeaderMap,
    body: Json<Value>,
) -> Response {
    let authorised = headers.get("authorization").and_then(|v| v.to_str().ok())
        == Some(&format!("Bearer {API_KEY}"));
    if !authorised {
        fake.unauthorised.fetch_add(1, Ordering::SeqCst);
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": {
                "message": "Incorrect API key provided.",
                "type": "invalid_request_error", "param": null, "code": "invalid_api_key"
            }})),
        )
            .into_response();
    }
    let request = body.0;
    let model = request["model"].as_str().unwrap_or("gpt-4o").to_owned();
    fake.requests.lock().unwrap().push(request);
    if fake.hold.load(Ordering::SeqCst) {
        std::future::pending::<()>().await;
    }
    let mode = fake.mode.lock().unwrap().clone();
    match mode {
        Mode::ToolCall(arguments) => {
            let message = json!({
                "role": "assistant",
                "content": null,
                "tool_calls": [{
                    "id": "call_Qm3vX9b2LkT1",
                    "type": "function",
                    "function": {"name": "record_analysis", "arguments": arguments.to_string()}
                }],
                "refusal": null,
                "annotations": []
            });
            Json(completion(&model, message, "stop")).into_response()
        }
        Mode::Text(text) => Json(text_completion(&model, &text)).into_response(),
        Mode::Slow(delay) => {
            tokio::time::sleep(delay).await;
            Json(text_completion(&model, "Поздний ответ.")).into_response()
        }
        Mode::ServerError => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "The server had an error while processing your request.",
        )
            .into_response(),
        Mode::InvalidJson => (
            StatusCode::OK,
            [("content-type", "application/json")],
            "{\"id\": \"chatcmpl-1\", \"choices\": [",
        )
            .into_response(),
        Mode::MissingFields => {
            Json(json!({"id": "chatcmpl-1", "object": "chat.completion"})).into_response()
        }
    }
}

fn text_completion(model: &str, text: &str) -> Value {
    let message = json!({"role": "assistant", "content": text, "refusal": null, "annotations": []});
    completion(model, message, "stop")
}

/// A chat.completion object as OpenAI returns it.
fn completion(model: &str, message: Value, finish_reason: &str) -> Value {
    json!({
        "id": "chatcmpl-BxF3kq8PZ0aTq1",
        "object": "chat.completion",
        "created": 1_795_000_000,
        "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": finish_reason}],
        "usage": {
            "prompt_tokens": 812, "completion_tokens": 64, "total_tokens": 876,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
        },
        "service_tier": "default",
        "system_fingerprint": "fp_07871e2ad8"
    })
}
