//! The Wazzup API client: sending messages, listing channels, registering the webhook.
//!
//! Sends always carry `crmMessageId` = our outbox id, so a resend after a crash or a timeout
//! is refused by Wazzup as `REPEATED_CRM_MESSAGE_ID` instead of reaching the customer twice —
//! and that refusal counts as sent.
//!
//! A `429` is [`SendError::RateLimited`] for as long as its `Retry-After` says (5 s when it
//! does not); a `5xx` or a connection failure is [`SendError::Retryable`] (after `Retry-After`
//! when given, else the outbox's backoff); so is a `401` (the API key: every reply waits
//! for it to be fixed, escalated only past the outbox deadline).
//!
//! Every call waits for the client-side limiter first: Wazzup allows 500 requests per 5 s per
//! account, and we stay under it (80/s sustained, bursts of 50: at most 450 in any 5 s).
//! [`WazzupClient::with_rate`] changes the sustained rate (`WAZZUP_SENDS_PER_SEC`; the load
//! tool lifts it to measure the engine rather than the limiter).

use crate::outbound::{OutgoingMessage, SendError, SendReceipt, Sender};
use async_trait::async_trait;
use dialogs::Channel;
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;

type Limiter = governor::DefaultDirectRateLimiter;

/// A Wazzup API key and base URL, with an HTTP client and the account's rate limiter.
pub struct WazzupClient {
    http: reqwest::Client,
    base: String,
    key: String,
    limiter: Limiter,
}

/// A channel as `GET /v3/channels` lists it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct WazzupChannel {
    pub channel_id: String,
    pub transport: String,
    #[serde(default)]
    pub plain_id: Option<String>,
    pub state: String,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    error: serde_json::Value,
    #[serde(default)]
    description: Option<String>,
}

/// Error codes are compared case-insensitively, ignoring underscores (the docs say
/// `repeatedCrmMessageId`, live answers `REPEATED_CRM_MESSAGE_ID`).
fn code_is(code: &str, wanted: &str) -> bool {
    let norm = |s: &str| s.replace('_', "").to_ascii_lowercase();
    norm(code) == norm(wanted)
}

/// `per_sec` calls a second sustained, in bursts of at most 50.
fn limiter(per_sec: u32) -> Limiter {
    let per_sec = std::num::NonZeroU32::new(per_sec).unwrap_or(std::num::NonZeroU32::MIN);
    let burst = per_sec.min(std::num::NonZeroU32::new(50).expect("non-zero"));
    governor::RateLimiter::direct(governor::Quota::per_second(per_sec).allow_burst(burst))
}

impl WazzupClient {
    pub fn new(base_url: &str, api_key: &str) -> Result<Self, reqwest::Error> {
        Ok(Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .connect_timeout(Duration::from_secs(5))
                .build()?,
            base: base_url.trim_end_matches('/').to_owned(),
            key: api_key
                .trim()
                .trim_start_matches("Bearer ")
                .trim()
                .to_owned(),
            limiter: limiter(80),
        })
    }

    /// Paces calls to `per_sec` a second (bursts of at most 50).
    pub fn with_rate(mut self, per_sec: u32) -> Self {
        self.limiter = limiter(per_sec);
        self
    }

    fn url(&self, path: &str) -> String {
        format!("{}/v3/{path}", self.base)
    }

    /// Waits for room under the account's request limit.
    async fn paced(&self) {
        self.limiter.until_ready().await;
    }

    /// Lists the account's channels and their state.
    pub async fn channels(&self) -> Result<Vec<WazzupChannel>, String> {
        self.paced().await;
        let resp = self
            .http
            .get(self.url("channels"))
            .bearer_auth(&self.key)
            .send()
            .await
            .map_err(|e| format!("Wazzup unreachable: {e}"))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(describe_failure(
                status,
                &resp.text().await.unwrap_or_default(),
            ));
        }
        resp.json()
            .await
            .map_err(|e| format!("unexpected answer from Wazzup: {e}"))
    }

    /// Where the account's webhook points now (`GET /v3/webhooks`), and whether it delivers
    /// messages and statuses: `(uri, messages_and_statuses)`.
    pub async fn webhook(&self) -> Result<(Option<String>, bool), String> {
        self.paced().await;
        let resp = self
            .http
            .get(self.url("webhooks"))
            .bearer_auth(&self.key)
            .send()
            .await
            .map_err(|e| format!("Wazzup unreachable: {e}"))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(describe_failure(
                status,
                &resp.text().await.unwrap_or_default(),
            ));
        }
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Webhooks {
            webhooks_uri: Option<String>,
            #[serde(default)]
            subscriptions: Subscriptions,
        }
        #[derive(serde::Deserialize, Default)]
        #[serde(rename_all = "camelCase")]
        struct Subscriptions {
            #[serde(default)]
            messages_and_statuses: bool,
        }
        let answer: Webhooks = resp
            .json()
            .await
            .map_err(|e| format!("unexpected answer from Wazzup: {e}"))?;
        Ok((
            answer.webhooks_uri.filter(|u| !u.is_empty()),
            answer.subscriptions.messages_and_statuses,
        ))
    }

    /// Points the account's webhook at `uri` (which carries our secret).
    pub async fn register_webhook(&self, uri: &str) -> Result<(), String> {
        self.paced().await;
        let resp = self
            .http
            .patch(self.url("webhooks"))
            .bearer_auth(&self.key)
            .json(&json!({
                "webhooksUri": uri,
                "subscriptions": {"messagesAndStatuses": true, "contactsAndDealsCreation": false,
                                  "channelsUpdates": false, "templateStatus": false}
            }))
            .send()
            .await
            .map_err(|e| format!("Wazzup unreachable: {e}"))?;
        let status = resp.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(describe_failure(
                status,
                &resp.text().await.unwrap_or_default(),
            ))
        }
    }
}

fn describe_failure(status: StatusCode, body: &str) -> String {
    let parsed: Option<ErrorBody> = serde_json::from_str(body).ok();
    match parsed {
        Some(e) => format!(
            "HTTP {status}: {} {}",
            e.error
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| e.error.to_string()),
            e.description.unwrap_or_default()
        ),
        None if status == StatusCode::UNAUTHORIZED => {
            "HTTP 401: Wazzup refused the API key (check WAZZUP_API_KEY)".into()
        }
        None => format!("HTTP {status}"),
    }
}

/// How long to wait after a 429 that does not say (`Retry-After` missing or unreadable).
const DEFAULT_RATE_LIMIT_WAIT: Duration = Duration::from_secs(5);
/// The longest `Retry-After` believed: a day (the outbox's default deadline).
const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// `Retry-After` in seconds (`Retry-After: 120`), as a duration of at most a day. The HTTP
/// date form is not used by Wazzup and is ignored (the default wait applies).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    let secs: f64 = value.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs).min(MAX_RETRY_AFTER))
}

#[async_trait]
impl Sender for WazzupClient {
    fn channel(&self) -> Channel {
        Channel::Wazzup
    }

    async fn send(&self, message: &OutgoingMessage) -> Result<SendReceipt, SendError> {
        let route = &message.route;
        let field = |name: &str| route.get(name).and_then(|v| v.as_str()).map(str::to_owned);
        let (Some(channel_id), Some(chat_type), Some(chat_id)) =
            (field("channelId"), field("chatType"), field("chatId"))
        else {
            return Err(SendError::Rejected {
                reason: "no Wazzup route (channelId/chatType/chatId) for this chat".into(),
            });
        };
        // WhatsApp through Wazzup has no inline buttons: the reply's text already says what to
        // type ("2", "ещё", "менеджер"), so the buttons are left out rather than listed as
        // numbered lines that would read like offers.
        let text = message.text.clone();
        self.paced().await;
        let resp = self
            .http
            .post(self.url("message"))
            .bearer_auth(&self.key)
            .json(&json!({
                "channelId": channel_id,
                "chatType": chat_type,
                "chatId": chat_id,
                "text": text,
                "crmMessageId": message.id,
            }))
            .send()
            .await
            .map_err(|e| SendError::Retryable {
                reason: format!("Wazzup unreachable: {e}"),
                retry_after: None,
            })?;
        let status = resp.status();
        let wait = retry_after(resp.headers());
        let body = resp.text().await.unwrap_or_default();
        if status.is_success() {
            let external_id = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| {
                    v.get("messageId")
                        .and_then(|m| m.as_str())
                        .map(str::to_owned)
                });
            return Ok(SendReceipt { external_id });
        }
        let code = serde_json::from_str::<ErrorBody>(&body)
            .ok()
            .and_then(|e| e.error.as_str().map(str::to_owned))
            .unwrap_or_default();
        if status == StatusCode::BAD_REQUEST && code_is(&code, "REPEATED_CRM_MESSAGE_ID") {
            // Sent before (we crashed or timed out after Wazzup accepted it).
            return Ok(SendReceipt::default());
        }
        Err(failure(
            status,
            &code,
            describe_failure(status, &body),
            wait,
        ))
    }
}

/// What the channel actor should do about a refused send (`code`: Wazzup's error code).
fn failure(status: StatusCode, code: &str, reason: String, wait: Option<Duration>) -> SendError {
    match status {
        StatusCode::TOO_MANY_REQUESTS => SendError::RateLimited {
            reason,
            retry_after: wait.unwrap_or(DEFAULT_RATE_LIMIT_WAIT),
        },
        s if s.is_server_error() => SendError::Retryable {
            reason,
            retry_after: wait,
        },
        // The API key refused: the whole channel's set-up, not this reply's fault. The
        // replies wait (the breaker probes) until the key is fixed, and are escalated only
        // past the outbox deadline.
        StatusCode::UNAUTHORIZED => SendError::Retryable {
            reason,
            retry_after: Some(Duration::from_secs(60)),
        },
        _ if ["BAD_CONTACT", "CHAT_NO_ACCESS", "CHANNEL_BLOCKED"]
            .iter()
            .any(|c| code_is(code, c)) =>
        {
            SendError::Unreachable { reason }
        }
        _ if ["MESSAGE_CHANNEL_UNAVAILABLE", "CHANNEL_LIMIT_EXCEEDED"]
            .iter()
            .any(|c| code_is(code, c)) =>
        {
            SendError::Retryable {
                reason,
                retry_after: Some(Duration::from_secs(30)),
            }
        }
        _ => SendError::Rejected { reason },
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn retry_after_is_read_in_seconds() {
        use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
        use std::time::Duration;
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(RETRY_AFTER, HeaderValue::from_str(v).unwrap());
            super::retry_after(&h)
        };
        assert_eq!(with("7"), Some(Duration::from_secs(7)));
        assert_eq!(with(" 1.5 "), Some(Duration::from_millis(1500)));
        assert_eq!(with("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(with("-3"), None);
        assert_eq!(with("999999999"), Some(Duration::from_secs(24 * 3600)));
        assert_eq!(super::retry_after(&HeaderMap::new()), None);
    }

    #[test]
    fn refusals_map_to_what_the_channel_actor_does() {
        use super::{SendError, StatusCode, failure};
        let f = |status: u16, code: &str| {
            failure(
                StatusCode::from_u16(status).unwrap(),
                code,
                "x".into(),
                None,
            )
        };
        assert!(matches!(f(429, ""), SendError::RateLimited { .. }));
        assert!(matches!(f(502, ""), SendError::Retryable { .. }));
        // A refused API key holds every reply until it is fixed; none is given up at once.
        assert!(matches!(f(401, ""), SendError::Retryable { .. }));
        assert!(matches!(
            f(400, "BAD_CONTACT"),
            SendError::Unreachable { .. }
        ));
        assert!(matches!(
            f(400, "INVALID_MESSAGE_DATA"),
            SendError::Rejected { .. }
        ));
    }

    #[test]
    fn error_codes_match_in_any_spelling() {
        assert!(super::code_is(
            "repeatedCrmMessageId",
            "REPEATED_CRM_MESSAGE_ID"
        ));
        assert!(super::code_is(
            "REPEATED_CRM_MESSAGE_ID",
            "REPEATED_CRM_MESSAGE_ID"
        ));
        assert!(!super::code_is("BAD_CONTACT", "REPEATED_CRM_MESSAGE_ID"));
    }
}
