//! Sending replies through Wazzup (`POST /v3/message`), each failure mapped to what the
//! channel actor should do.
//!
//! Sends always carry `crmMessageId` = our outbox id, so a resend after a crash or a timeout
//! is refused by Wazzup as `REPEATED_CRM_MESSAGE_ID` instead of reaching the customer twice —
//! and that refusal counts as sent.
//!
//! A `429` is [`SendError::RateLimited`] for as long as its `Retry-After` says (5 s when it
//! does not); a `5xx` or a connection failure is [`SendError::Retryable`] (after `Retry-After`
//! when given, else the outbox's backoff); so is a `401` (the API key: every reply waits
//! for it to be fixed, escalated only past the outbox deadline).

use super::api::{ErrorBody, WazzupClient, code_is, describe_failure};
use crate::outbound::{OutgoingMessage, SendError, SendReceipt, Sender};
use async_trait::async_trait;
use dialogs::Channel;
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;

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

    #[tracing::instrument(
        name = "wazzup.send",
        skip_all,
        fields(outbox = %message.id, messenger = super::inbound::messenger(&message.chat_id).unwrap_or("-"))
    )]
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
}
