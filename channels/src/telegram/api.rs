//! A small Telegram Bot API client: the handful of methods the engine calls, as JSON
//! `POST {api_url}/bot<token>/<method>`, answers read from the `{"ok", "result"}` envelope.
//!
//! The token is part of every URL, so no URL ever reaches an error message or a log:
//! transport errors are stripped of theirs (`reqwest::Error::without_url`), and this type has
//! no `Debug` that could print it.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::time::Duration;

/// The update kinds the bot subscribes to (webhook and polling alike).
pub const ALLOWED_UPDATES: &[&str] = &["message", "callback_query"];

/// How long a send or a setup call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(20);

/// Why a call did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// No answer: connection refused, reset or timed out.
    #[error("Telegram unreachable during {method}: {reason}")]
    Network {
        method: &'static str,
        reason: String,
    },
    /// Telegram answered `ok: false` (or an HTTP error without its envelope).
    #[error("Telegram refused {method}: {code} {description}")]
    Refused {
        method: &'static str,
        /// `error_code`, or the HTTP status when the body had none.
        code: u16,
        description: String,
        /// `parameters.retry_after` of a 429.
        retry_after: Option<Duration>,
    },
    /// An answer that is not what the Bot API documents.
    #[error("unexpected answer from Telegram to {method}: {reason}")]
    Unexpected {
        method: &'static str,
        reason: String,
    },
}

impl ApiError {
    /// The `error_code` of a refusal.
    pub fn code(&self) -> Option<u16> {
        match self {
            ApiError::Refused { code, .. } => Some(*code),
            _ => None,
        }
    }
}

#[derive(Deserialize)]
struct Envelope {
    ok: bool,
    #[serde(default)]
    result: Option<Value>,
    #[serde(default)]
    error_code: Option<u16>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    parameters: Option<ResponseParameters>,
}

#[derive(Deserialize)]
struct ResponseParameters {
    #[serde(default)]
    retry_after: Option<u64>,
}

/// What `getMe` says about the bot.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BotInfo {
    pub id: i64,
    #[serde(default)]
    pub username: Option<String>,
}

/// The Bot API of one bot.
pub struct TelegramApi {
    http: reqwest::Client,
    /// `{api_url}/bot<token>`: secret, never logged.
    base: String,
}

impl TelegramApi {
    /// `api_url` without a trailing slash (`https://api.telegram.org`, or a local fake).
    pub fn new(api_url: &str, token: &str) -> Result<Self, reqwest::Error> {
        Ok(Self {
            http: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(5))
                .build()?,
            base: format!("{}/bot{}", api_url.trim_end_matches('/'), token.trim()),
        })
    }

    /// Calls `method` with a JSON body and reads its `result`.
    async fn call<T: DeserializeOwned>(
        &self,
        method: &'static str,
        body: &Value,
        timeout: Duration,
    ) -> Result<T, ApiError> {
        let network = |e: reqwest::Error| ApiError::Network {
            method,
            reason: e.without_url().to_string(),
        };
        let resp = self
            .http
            .post(format!("{}/{method}", self.base))
            .timeout(timeout)
            .json(body)
            .send()
            .await
            .map_err(network)?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(network)?;
        let Ok(envelope) = serde_json::from_slice::<Envelope>(&bytes) else {
            // A proxy's error page, or a body cut short.
            return Err(if status.is_success() {
                ApiError::Unexpected {
                    method,
                    reason: "the body is not a Bot API answer".into(),
                }
            } else {
                ApiError::Refused {
                    method,
                    code: status.as_u16(),
                    description: status.canonical_reason().unwrap_or("").to_owned(),
                    retry_after: None,
                }
            });
        };
        if !envelope.ok {
            let code = envelope.error_code.unwrap_or(status.as_u16());
            let mut description = envelope.description.unwrap_or_default();
            if code == 401 || code == 404 {
                description.push_str(" (check TELEGRAM_BOT_TOKEN and TELEGRAM_API_URL)");
            }
            return Err(ApiError::Refused {
                method,
                code,
                description,
                retry_after: envelope
                    .parameters
                    .and_then(|p| p.retry_after)
                    .map(Duration::from_secs),
            });
        }
        serde_json::from_value(envelope.result.unwrap_or(Value::Null)).map_err(|e| {
            ApiError::Unexpected {
                method,
                reason: e.to_string(),
            }
        })
    }

    /// `getMe`: checks the token.
    pub async fn get_me(&self) -> Result<BotInfo, ApiError> {
        self.call("getMe", &json!({}), CALL_TIMEOUT).await
    }

    /// `setWebhook`: Telegram will POST updates to `url` with `secret` in
    /// `X-Telegram-Bot-Api-Secret-Token`.
    pub async fn set_webhook(&self, url: &str, secret: &str) -> Result<(), ApiError> {
        let body = json!({
            "url": url,
            "secret_token": secret,
            "allowed_updates": ALLOWED_UPDATES,
        });
        self.call::<bool>("setWebhook", &body, CALL_TIMEOUT)
            .await
            .map(drop)
    }

    /// `deleteWebhook`, keeping pending updates (polling will fetch them).
    pub async fn delete_webhook(&self) -> Result<(), ApiError> {
        let body = json!({ "drop_pending_updates": false });
        self.call::<bool>("deleteWebhook", &body, CALL_TIMEOUT)
            .await
            .map(drop)
    }

    /// `getUpdates`: the updates from `offset` on (confirming everything below it), waiting up
    /// to `long_poll` for one to arrive. Each update is returned unparsed, so one we cannot
    /// read does not hide the others.
    pub async fn get_updates(
        &self,
        offset: Option<i64>,
        long_poll: Duration,
    ) -> Result<Vec<Value>, ApiError> {
        let mut body = json!({
            "timeout": long_poll.as_secs(),
            "allowed_updates": ALLOWED_UPDATES,
        });
        if let Some(offset) = offset {
            body["offset"] = json!(offset);
        }
        self.call("getUpdates", &body, long_poll + CALL_TIMEOUT)
            .await
    }

    /// `sendMessage` as plain text (no parse mode: nothing in the text needs escaping), with an
    /// optional `reply_markup`. Returns the message id (`None` if Telegram accepted the message
    /// but its answer did not say it: the message is sent all the same).
    pub async fn send_message(
        &self,
        chat_id: i64,
        text: &str,
        reply_markup: Option<Value>,
    ) -> Result<Option<i64>, ApiError> {
        let mut body = json!({ "chat_id": chat_id, "text": text });
        if let Some(markup) = reply_markup {
            body["reply_markup"] = markup;
        }
        let sent: Value = self.call("sendMessage", &body, CALL_TIMEOUT).await?;
        Ok(sent.get("message_id").and_then(Value::as_i64))
    }

    /// `answerCallbackQuery`: stops the pressed button's spinner.
    pub async fn answer_callback_query(&self, callback_query_id: &str) -> Result<(), ApiError> {
        let body = json!({ "callback_query_id": callback_query_id });
        self.call::<bool>("answerCallbackQuery", &body, CALL_TIMEOUT)
            .await
            .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn errors_never_show_the_token() {
        // Nothing listens on port 1: a connection error, whose reqwest text names the URL.
        let api = TelegramApi::new("http://127.0.0.1:1", "123456:SECRET-token").unwrap();
        let error = api.get_me().await.unwrap_err();
        assert!(matches!(error, ApiError::Network { .. }), "{error:?}");
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
    }
}
