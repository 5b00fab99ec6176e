//! The SAMO transport: one `GET <endpoint>?samo_action=api&version=1.0&type=json&action=…`
//! per call, the token in the query, `Accept: application/json`, empty parameters left out.
//!
//! Every call goes through a concurrency cap (a semaphore) and then an outbound pace (a
//! governor rate limiter), in that order, so a queue of callers cannot burst past the pace
//! once permits free up. Bodies that are not JSON (HTML error pages) are retried a few times
//! with a short backoff, then surfaced. Each call is logged with its action, duration and
//! outcome — never its URL, which carries the token — and the last outcome is kept for
//! `status()`.

use super::error::SamoError;
use super::wire::{self, DictRow, PricesPage};
use chrono::{DateTime, NaiveDate, Utc};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::{StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Attempts for a call whose body is not JSON, and the pause before the second one (doubled
/// after each further attempt).
const ATTEMPTS: u32 = 3;
const RETRY_PAUSE: Duration = Duration::from_millis(250);

/// How to reach SAMO.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// The full endpoint, e.g. `https://…/export/default.php` (the path differs per operator).
    pub api_url: String,
    pub oauth_token: SecretString,
    /// An HTTP(S) proxy on an allow-listed host (SAMO tokens are bound to IPv4 addresses).
    pub proxy: Option<String>,
    /// Longest wait for a whole answer; connecting gets at most 10 s of it.
    pub timeout: Duration,
    /// Outbound pace (calls per second; fractions allowed). `None`: no pacing.
    pub requests_per_sec: Option<f64>,
    /// Calls in flight at most.
    pub max_concurrent: usize,
}

/// What the last calls did, for `crystalbay doctor` and the admin API.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SamoStatus {
    pub calls: u64,
    pub failures: u64,
    pub last_success: Option<DateTime<Utc>>,
    /// When and why the last failed call failed (token-free text).
    pub last_error: Option<(DateTime<Utc>, String)>,
}

/// A SAMO Online API client. Owned by the Tours actor (and `crystalbay doctor`).
pub struct SamoClient {
    http: reqwest::Client,
    endpoint: Url,
    token: SecretString,
    via_proxy: bool,
    timeout: Duration,
    permits: Semaphore,
    pace: Option<DefaultDirectRateLimiter>,
    status: Mutex<SamoStatus>,
}

impl SamoClient {
    pub fn new(settings: &ClientSettings) -> Result<SamoClient, SamoError> {
        let setup = |detail: String| SamoError::Setup { detail };
        let endpoint = Url::parse(&settings.api_url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| setup("SAMO_API_URL is not an http(s) URL".into()))?;
        let mut builder = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)));
        if let Some(proxy) = &settings.proxy {
            // The proxy URL may carry credentials: never echo it.
            let proxy = reqwest::Proxy::all(proxy)
                .map_err(|_| setup("SAMO_PROXY is not a usable proxy URL".into()))?;
            builder = builder.proxy(proxy);
        }
        let http = builder
            .build()
            .map_err(|e| setup(format!("HTTP client: {e}")))?;
        let pace = match settings.requests_per_sec {
            Some(rate) if rate.is_finite() && rate > 0.0 => {
                let burst =
                    NonZeroU32::new(rate.ceil().min(1000.0) as u32).unwrap_or(NonZeroU32::MIN);
                let quota = Quota::with_period(Duration::from_secs_f64(1.0 / rate))
                    .ok_or_else(|| setup("SAMO_REQUESTS_PER_SEC is too high".into()))?
                    .allow_burst(burst);
                Some(RateLimiter::direct(quota))
            }
            _ => None,
        };
        Ok(SamoClient {
            http,
            endpoint,
            token: settings.oauth_token.clone(),
            via_proxy: settings.proxy.is_some(),
            timeout: settings.timeout,
            permits: Semaphore::new(settings.max_concurrent.max(1)),
            pace,
            status: Mutex::new(SamoStatus::default()),
        })
    }

    /// Where calls go, without the query (safe to print).
    pub fn endpoint(&self) -> String {
        let mut url = self.endpoint.clone();
        url.set_query(None);
        let _ = url.set_password(None);
        let _ = url.set_username("");
        url.to_string()
    }

    /// The outcome of the calls so far.
    pub fn status(&self) -> SamoStatus {
        self.status
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Calls `action` with `params` (empty values are left out) and returns the action's
    /// payload, or the error the operator (or the network) gave. Traced with the action only:
    /// the parameters and the URL (which carries the token) stay out of the span.
    #[tracing::instrument(name = "samo", skip_all, fields(action = %action))]
    pub async fn call(&self, action: &str, params: &[(&str, String)]) -> Result<Value, SamoError> {
        let started = Instant::now();
        let result = self.call_unlogged(action, params).await;
        let ms = started.elapsed().as_millis() as u64;
        let mut status = self
            .status
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        status.calls += 1;
        match &result {
            Ok(_) => {
                status.last_success = Some(Utc::now());
                tracing::info!(target: "samo", action, ms, outcome = "ok", "SAMO call");
            }
            Err(e) => {
                status.failures += 1;
                status.last_error = Some((Utc::now(), e.to_string()));
                tracing::warn!(target: "samo", action, ms, outcome = "error", error = %e, "SAMO call");
            }
        }
        result
    }

    async fn call_unlogged(
        &self,
        action: &str,
        params: &[(&str, String)],
    ) -> Result<Value, SamoError> {
        // Never closed, so acquiring only waits.
        let _permit = self.permits.acquire().await.map_err(|_| SamoError::Setup {
            detail: "the client is shut down".into(),
        })?;
        let url = self.url(action, params);
        let mut pause = RETRY_PAUSE;
        for attempt in 1..=ATTEMPTS {
            if let Some(pace) = &self.pace {
                pace.until_ready().await;
            }
            let (status, body) = self.get(action, url.clone()).await?;
            if status == StatusCode::FORBIDDEN {
                let message = serde_json::from_slice::<Value>(&body)
                    .ok()
                    .and_then(|v| error_text(&v))
                    .unwrap_or_else(|| "HTTP 403 Forbidden".into());
                return Err(SamoError::Blacklisted {
                    message: self.redact(&message),
                });
            }
            match serde_json::from_slice::<Value>(&body) {
                Ok(json) => return self.payload(action, status, json),
                // An HTML error page is often a passing hiccup at the operator's proxy; a 4xx
                // page will not change.
                Err(_) if attempt < ATTEMPTS && !status.is_client_error() => {
                    tracing::debug!(target: "samo", action, attempt, http = status.as_u16(), "not JSON, retrying");
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                }
                Err(_) if status.is_success() => {
                    return Err(SamoError::NotJson {
                        action: action.to_owned(),
                        status: status.as_u16(),
                        attempts: ATTEMPTS,
                        excerpt: self.excerpt(&body),
                    });
                }
                Err(_) => {
                    return Err(SamoError::Http {
                        action: action.to_owned(),
                        status: status.as_u16(),
                    });
                }
            }
        }
        unreachable!("the last attempt returns")
    }

    fn url(&self, action: &str, params: &[(&str, String)]) -> Url {
        let mut url = self.endpoint.clone();
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("samo_action", "api")
                .append_pair("version", "1.0")
                .append_pair("type", "json")
                .append_pair("action", action)
                .append_pair("oauth_token", self.token.expose_secret());
            for (key, value) in params {
                if !value.trim().is_empty() {
                    query.append_pair(key, value.trim());
                }
            }
        }
        url
    }

    async fn get(&self, action: &str, url: Url) -> Result<(StatusCode, Vec<u8>), SamoError> {
        let transport = |e: reqwest::Error| {
            if e.is_timeout() {
                SamoError::Timeout {
                    action: action.to_owned(),
                    after: self.timeout,
                }
            } else {
                SamoError::Transport {
                    action: action.to_owned(),
                    detail: self.redact(&describe(e)),
                    via_proxy: self.via_proxy,
                }
            }
        };
        let response = self
            .http
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        let body = response.bytes().await.map_err(transport)?;
        Ok((status, body.to_vec()))
    }

    /// The action's payload out of the envelope `{"<action>": payload}`, or the error the
    /// body reports (top-level `error`/`Error`, or `error` inside the payload). Every JSON
    /// answer goes through here; public so that property tests can feed it any JSON.
    pub fn payload(
        &self,
        action: &str,
        status: StatusCode,
        json: Value,
    ) -> Result<Value, SamoError> {
        let fail = |message: String| Err(SamoError::classify(action, self.redact(&message)));
        let Value::Object(mut top) = json else {
            return Err(SamoError::Malformed {
                action: action.to_owned(),
                detail: "the body is not a JSON object".into(),
            });
        };
        if let Some(message) = error_text(&Value::Object(top.clone())) {
            return fail(message);
        }
        // Exact name first; one client reads a mixed-case action's answer, so tolerate that.
        let key = if top.contains_key(action) {
            Some(action.to_owned())
        } else {
            top.keys().find(|k| k.eq_ignore_ascii_case(action)).cloned()
        };
        let Some(payload) = key.and_then(|k| top.remove(&k)) else {
            if !status.is_success() {
                return Err(SamoError::Http {
                    action: action.to_owned(),
                    status: status.as_u16(),
                });
            }
            // The keys are the server's text: redacted like its messages.
            return Err(SamoError::Malformed {
                action: action.to_owned(),
                detail: self.redact(&format!(
                    "no `{action}` key (keys: {})",
                    top.keys().cloned().collect::<Vec<_>>().join(", ")
                )),
            });
        };
        if payload.is_object()
            && let Some(message) = error_text(&payload)
        {
            return fail(message);
        }
        Ok(payload)
    }

    fn redact(&self, text: &str) -> String {
        let token = self.token.expose_secret();
        if token.is_empty() {
            text.to_owned()
        } else {
            text.replace(token, "***")
        }
    }

    fn excerpt(&self, body: &[u8]) -> String {
        let text = String::from_utf8_lossy(body);
        let words: Vec<&str> = text.split_whitespace().collect();
        let mut excerpt: String = words.join(" ").chars().take(160).collect();
        if excerpt.is_empty() {
            excerpt = "(empty body)".into();
        }
        self.redact(&excerpt)
    }

    // --- Typed actions -----------------------------------------------------------------

    /// A dictionary action (`SearchTour_TOWNFROMS`, `…_STATES`, `…_TOWNS`, …) as rows.
    pub async fn dictionary(
        &self,
        action: &str,
        params: &[(&str, String)],
    ) -> Result<Vec<DictRow>, SamoError> {
        let payload = self.call(action, params).await?;
        let (rows, skipped) = DictRow::parse_all(&payload).ok_or_else(|| SamoError::Malformed {
            action: action.to_owned(),
            detail: "a dictionary must be a list (or {\"items\":[…]})".into(),
        })?;
        if skipped > 0 {
            tracing::warn!(target: "samo", action, skipped, "dictionary rows without id or name were skipped");
        }
        Ok(rows)
    }

    /// One page of `SearchTour_PRICES`.
    pub async fn prices(&self, params: &[(&str, String)]) -> Result<PricesPage, SamoError> {
        const ACTION: &str = "SearchTour_PRICES";
        let payload = self.call(ACTION, params).await?;
        let page = PricesPage::parse(&payload).ok_or_else(|| SamoError::Malformed {
            action: ACTION.into(),
            detail: "no `prices` list".into(),
        })?;
        if page.skipped > 0 {
            tracing::warn!(target: "samo", skipped = page.skipped, "price rows without id, hotel, date, nights or price were skipped");
        }
        Ok(page)
    }

    /// Bookable check-in dates from `departure` to `country` (`SearchTour_CHECKIN`).
    pub async fn checkin_dates(
        &self,
        departure: i64,
        country: i64,
    ) -> Result<Vec<NaiveDate>, SamoError> {
        const ACTION: &str = "SearchTour_CHECKIN";
        let payload = self
            .call(
                ACTION,
                &[
                    ("TOWNFROMINC", departure.to_string()),
                    ("STATEINC", country.to_string()),
                ],
            )
            .await?;
        wire::checkin_dates(&payload).ok_or_else(|| SamoError::Malformed {
            action: ACTION.into(),
            detail: "no check-in calendar in any known shape".into(),
        })
    }

    /// Night counts with seats for check-ins in `from..=till` (`SearchTour_NIGHTS`).
    pub async fn nights(
        &self,
        departure: i64,
        country: i64,
        from: NaiveDate,
        till: NaiveDate,
    ) -> Result<Vec<u32>, SamoError> {
        const ACTION: &str = "SearchTour_NIGHTS";
        let payload = self
            .call(
                ACTION,
                &[
                    ("TOWNFROMINC", departure.to_string()),
                    ("STATEINC", country.to_string()),
                    ("CHECKIN_BEG", from.format("%Y%m%d").to_string()),
                    ("CHECKIN_END", till.format("%Y%m%d").to_string()),
                ],
            )
            .await?;
        Ok(wire::nights(&payload).unwrap_or_default())
    }
}

/// The error text of a body or payload: `message` (or `Message`) when present, else the
/// `error`/`Error` value itself; `None` when there is no error key.
fn error_text(v: &Value) -> Option<String> {
    let error = v.get("error").or_else(|| v.get("Error"))?;
    if error.is_null() || error == &Value::Bool(false) || error.as_str() == Some("") {
        return None;
    }
    let message = v
        .get("message")
        .or_else(|| v.get("Message"))
        .and_then(wire::text);
    Some(message.unwrap_or_else(|| match error {
        Value::String(s) => s.clone(),
        other => format!("error {other}"),
    }))
}

/// A transport error with its causes, without the URL (it carries the token).
fn describe(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> SamoClient {
        SamoClient::new(&ClientSettings {
            api_url: "https://samo.example/export/default.php".into(),
            oauth_token: SecretString::from("0123456789abcdef0123456789abcdef"),
            proxy: None,
            timeout: Duration::from_secs(5),
            requests_per_sec: Some(2.0),
            max_concurrent: 4,
        })
        .unwrap()
    }

    #[test]
    fn the_request_carries_the_protocol_params_and_omits_empty_ones() {
        let url = client().url(
            "SearchTour_PRICES",
            &[("TOWNFROMINC", "417".into()), ("AGES", String::new())],
        );
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("samo_action"), Some("api"));
        assert_eq!(get("version"), Some("1.0"));
        assert_eq!(get("type"), Some("json"));
        assert_eq!(get("action"), Some("SearchTour_PRICES"));
        assert_eq!(get("TOWNFROMINC"), Some("417"));
        assert_eq!(get("AGES"), None);
    }

    #[test]
    fn envelopes_and_error_shapes() {
        let c = client();
        let ok = c.payload(
            "SearchTour_STARS",
            StatusCode::OK,
            serde_json::json!({"SearchTour_STARS": [{"id": 4, "name": "4*"}]}),
        );
        assert!(ok.unwrap().is_array());
        let mixed = c.payload(
            "SearchTour_Tours",
            StatusCode::OK,
            serde_json::json!({"SearchTour_TOURS": []}),
        );
        assert!(mixed.is_ok());
        let nested = c.payload(
            "SearchTour_PRICES",
            StatusCode::OK,
            serde_json::json!({"SearchTour_PRICES": {"error": 101}}),
        );
        assert_eq!(
            nested.unwrap_err(),
            SamoError::Action {
                action: "SearchTour_PRICES".into(),
                message: "error 101".into()
            }
        );
        let top = c.payload(
            "SearchTour_PRICES",
            StatusCode::OK,
            serde_json::json!({"Error": "apiKey 0123456789abcdef0123456789abcdef blacklisted"}),
        );
        let err = top.unwrap_err();
        assert!(matches!(err, SamoError::Blacklisted { .. }));
        assert!(!err.to_string().contains("0123456789abcdef"), "{err}");
        // A body without the action's key is described by its keys, redacted too.
        let keyed = c.payload(
            "SearchTour_PRICES",
            StatusCode::OK,
            serde_json::json!({"oauth_token=0123456789abcdef0123456789abcdef": 1}),
        );
        let err = keyed.unwrap_err();
        assert!(matches!(err, SamoError::Malformed { .. }));
        assert!(!err.to_string().contains("0123456789abcdef"), "{err}");
    }

    #[test]
    fn the_printable_endpoint_has_no_credentials() {
        assert_eq!(
            client().endpoint(),
            "https://samo.example/export/default.php"
        );
    }
}
