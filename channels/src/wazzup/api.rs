//! The Wazzup API client: the account's key, base URL and rate limit; listing channels and
//! registering the webhook. Sending is in [`super::outbound`].
//!
//! Every call waits for the client-side limiter first: Wazzup allows 500 requests per 5 s per
//! account, and we stay under it (80/s sustained, bursts of 50: at most 450 in any 5 s).
//! [`WazzupClient::with_rate`] changes the sustained rate (`WAZZUP_SENDS_PER_SEC`; the load
//! tool lifts it to measure the engine rather than the limiter).

use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;

type Limiter = governor::DefaultDirectRateLimiter;

/// A Wazzup API key and base URL, with an HTTP client and the account's rate limiter.
pub struct WazzupClient {
    pub(super) http: reqwest::Client,
    base: String,
    pub(super) key: String,
    limiter: Limiter,
}

/// Why an account call (channels, webhook) did not succeed; its text is what the operator reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WazzupError {
    /// No answer: connection refused, reset or timed out.
    #[error("Wazzup unreachable: {0}")]
    Unreachable(String),
    /// Wazzup answered with an error status: the status, its code and description.
    #[error("{0}")]
    Refused(String),
    /// An answer that is not what the API documents.
    #[error("unexpected answer from Wazzup: {0}")]
    Unexpected(String),
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
pub(super) struct ErrorBody {
    #[serde(default)]
    pub(super) error: serde_json::Value,
    #[serde(default)]
    description: Option<String>,
}

/// Error codes are compared case-insensitively, ignoring underscores (the docs say
/// `repeatedCrmMessageId`, live answers `REPEATED_CRM_MESSAGE_ID`).
pub(super) fn code_is(code: &str, wanted: &str) -> bool {
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

    pub(super) fn url(&self, path: &str) -> String {
        format!("{}/v3/{path}", self.base)
    }

    /// Waits for room under the account's request limit.
    pub(super) async fn paced(&self) {
        self.limiter.until_ready().await;
    }

    /// Lists the account's channels and their state.
    #[tracing::instrument(name = "wazzup.channels", skip_all)]
    pub async fn channels(&self) -> Result<Vec<WazzupChannel>, WazzupError> {
        let resp = self.call(self.http.get(self.url("channels"))).await?;
        resp.json()
            .await
            .map_err(|e| WazzupError::Unexpected(e.to_string()))
    }

    /// Where the account's webhook points now (`GET /v3/webhooks`), and whether it delivers
    /// messages and statuses: `(uri, messages_and_statuses)`.
    #[tracing::instrument(name = "wazzup.webhook", skip_all)]
    pub async fn webhook(&self) -> Result<(Option<String>, bool), WazzupError> {
        let resp = self.call(self.http.get(self.url("webhooks"))).await?;
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
            .map_err(|e| WazzupError::Unexpected(e.to_string()))?;
        Ok((
            answer.webhooks_uri.filter(|u| !u.is_empty()),
            answer.subscriptions.messages_and_statuses,
        ))
    }

    /// Points the account's webhook at `uri` (which carries our secret).
    #[tracing::instrument(name = "wazzup.register_webhook", skip_all)]
    pub async fn register_webhook(&self, uri: &str) -> Result<(), WazzupError> {
        let request = self.http.patch(self.url("webhooks")).json(&json!({
            "webhooksUri": uri,
            "subscriptions": {"messagesAndStatuses": true, "contactsAndDealsCreation": false,
                              "channelsUpdates": false, "templateStatus": false}
        }));
        self.call(request).await.map(drop)
    }

    /// Sends one account call (paced, with the key): the response when Wazzup answered 2xx,
    /// else why not.
    async fn call(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, WazzupError> {
        self.paced().await;
        let resp = request
            .bearer_auth(&self.key)
            .send()
            .await
            .map_err(|e| WazzupError::Unreachable(e.to_string()))?;
        let status = resp.status();
        if status.is_success() {
            Ok(resp)
        } else {
            Err(WazzupError::Refused(describe_failure(
                status,
                &resp.text().await.unwrap_or_default(),
            )))
        }
    }
}

pub(super) fn describe_failure(status: StatusCode, body: &str) -> String {
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

#[cfg(test)]
mod tests {
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
