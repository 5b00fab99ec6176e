//! The Bitrix24 REST client (`docs/protocols/bitrix24.md`): calls on the inbound webhook
//! (`https://<portal>/rest/<user>/<code>/<method>.json`, POST, JSON body), paced by a leaky
//! bucket, with the success envelope (`result`, `total`, `next`, `time`) and the error
//! envelope (`error`, `error_description`) turned into a typed [`BitrixError`].
//!
//! The webhook URL is the secret: it is kept in a `SecretString`, never logged, and never part
//! of an error (reqwest errors are stripped of their URL). Each call is a `tracing` span
//! (`bitrix24_*`) that carries the method, entity names, ids and counts only: never the
//! webhook, a phone number, an email or a text sent.
//!
//! Errors are classified by their code first (case-insensitively; legacy methods send `""`
//! with HTTP 400 and put the meaning in the description), then by HTTP status.
//!
//! Pacing by cause: a limit answer (503 `QUERY_LIMIT_EXCEEDED`, 429 `OPERATION_TIME_LIMIT`)
//! was not executed, so [`BitrixClient::call`] waits for the bucket (about a second, see
//! `pace::limit_wait`) and sends the same call again, up to [`LIMIT_PATIENCE`] times; it is
//! never an "attempt" of the command. Outages (5xx, timeouts, refused connections) and
//! refusals that will never succeed go back to the caller, which backs off or fails.
//!
//! Every request is counted ([`CallStats`]) and, when the client is observed, recorded in the
//! admin status (`bitrix24`) and the metrics.

use super::pace::{Pacer, jitter, limit_wait};
use crate::status::Integrations;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Limit answers in a row one call waits out before it hands the error back.
pub const LIMIT_PATIENCE: u32 = 30;

/// What the client did since start, shared with the admin status.
#[derive(Debug, Default)]
pub struct CallStats {
    requests: AtomicU64,
    limit_answers: AtomicU64,
    limit_wait_ms: AtomicU64,
}

/// A snapshot of [`CallStats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CallCounts {
    /// HTTP requests sent to the portal (a `batch` is one).
    pub requests: u64,
    /// Of them, answered with a limit (`QUERY_LIMIT_EXCEEDED`, `OPERATION_TIME_LIMIT`).
    pub limit_answers: u64,
    /// Time spent waiting for the portal's bucket after limit answers, in milliseconds.
    pub limit_wait_ms: u64,
}

impl CallStats {
    pub fn counts(&self) -> CallCounts {
        CallCounts {
            requests: self.requests.load(Ordering::Relaxed),
            limit_answers: self.limit_answers.load(Ordering::Relaxed),
            limit_wait_ms: self.limit_wait_ms.load(Ordering::Relaxed),
        }
    }
}

/// What can go wrong with a call to Bitrix24.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BitrixError {
    /// 503 `QUERY_LIMIT_EXCEEDED`: the portal's leaky bucket is full. The call was not
    /// executed, so it is safe to repeat.
    #[error("Bitrix24 query limit exceeded (QUERY_LIMIT_EXCEEDED)")]
    RateLimited,
    /// 429 `OPERATION_TIME_LIMIT`: this method's time budget is spent until `reset_in`.
    #[error("Bitrix24 operating time limit of the method (OPERATION_TIME_LIMIT)")]
    OperationTimeLimit { reset_in: Option<Duration> },
    /// 5xx: the portal failed. The call may or may not have been executed.
    #[error("Bitrix24 server error: HTTP {status} {code}: {description}")]
    Server {
        status: u16,
        code: String,
        description: String,
    },
    /// No answer in time. The call may or may not have been executed.
    #[error("Bitrix24 did not answer in time")]
    Timeout,
    /// The portal could not be reached: the request was not sent.
    #[error("Bitrix24 unreachable: {0}")]
    Unreachable(String),
    /// The connection broke after the request was sent: it may have been executed.
    #[error("connection to Bitrix24 failed: {0}")]
    Network(String),
    /// The webhook is wrong, expired or lacks rights (`NO_AUTH_FOUND`, `ACCESS_DENIED`, …).
    #[error("Bitrix24 refused the webhook: {code}: {description}")]
    Auth {
        status: u16,
        code: String,
        description: String,
    },
    /// REST is blocked on the portal (`OVERLOAD_LIMIT`): only support can lift it.
    #[error("Bitrix24 REST is blocked on this portal: {code}: {description}")]
    Blocked { code: String, description: String },
    /// The entity, its owner or the method does not exist.
    #[error("not found in Bitrix24: {code}: {description}")]
    NotFound { code: String, description: String },
    /// Bitrix24 rejected the request as it is (bad fields, bad parameters).
    #[error("Bitrix24 rejected the request: HTTP {status} {code}: {description}")]
    BadRequest {
        status: u16,
        code: String,
        description: String,
    },
    /// An answer that is not the protocol's envelope.
    #[error("unexpected answer from Bitrix24: {0}")]
    Protocol(String),
}

impl BitrixError {
    /// A limit answer: the call was not executed; wait for the bucket and send it again.
    pub fn is_limit(&self) -> bool {
        matches!(
            self,
            BitrixError::RateLimited | BitrixError::OperationTimeLimit { .. }
        )
    }

    /// The webhook itself is refused, so no call can succeed until the portal or the
    /// configuration changes: a wrong, expired or deleted webhook (`NO_AUTH_FOUND`, 401, …),
    /// or REST blocked on the portal. A refusal of one method (`ACCESS_DENIED`,
    /// `insufficient_scope`) is not: other methods work.
    pub fn webhook_refused(&self) -> bool {
        match self {
            BitrixError::Blocked { .. } => true,
            BitrixError::Auth { status, code, .. } => {
                let code = code.trim().to_ascii_uppercase();
                matches!(
                    code.as_str(),
                    "NO_AUTH_FOUND"
                        | "EXPIRED_TOKEN"
                        | "INVALID_TOKEN"
                        | "INVALID_GRANT"
                        | "INVALID_CREDENTIALS"
                        | "WRONG_AUTH_TYPE"
                        | "PAYMENT_REQUIRED"
                        | "AUTHORIZATION_ERROR"
                ) || (code.is_empty() && *status == 401)
            }
            _ => false,
        }
    }

    /// Worth trying again later: limits, server failures, timeouts and the network. Whether
    /// a repeated `*.add` could duplicate is the caller's business (it looks before it adds).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            BitrixError::RateLimited
                | BitrixError::OperationTimeLimit { .. }
                | BitrixError::Server { .. }
                | BitrixError::Timeout
                | BitrixError::Unreachable(_)
                | BitrixError::Network(_)
                | BitrixError::Protocol(_)
        )
    }

    /// The call certainly did not run (so nothing it would have created exists).
    pub fn not_executed(&self) -> bool {
        matches!(
            self,
            BitrixError::RateLimited
                | BitrixError::OperationTimeLimit { .. }
                | BitrixError::Unreachable(_)
        )
    }

    /// How long Bitrix24 asks us to wait, when it says.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            BitrixError::OperationTimeLimit { reset_in } => *reset_in,
            _ => None,
        }
    }
}

/// The success envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub result: Value,
    /// Lists: how many items match.
    pub total: Option<u64>,
    /// Lists: the `start` of the next page, while pages remain.
    pub next: Option<u64>,
}

/// One command of a `batch`: a key (for `$result[key]` references), a method, its
/// parameters, and raw `name=value` pairs appended unencoded (references such as
/// `fields[CONTACT_IDS][0]=$result[contact]`).
#[derive(Debug, Clone, PartialEq)]
pub struct BatchCommand {
    pub key: String,
    pub method: String,
    pub params: Value,
    pub references: Vec<(String, String)>,
}

/// What a `batch` gave back, per command key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BatchResults {
    pub results: Map<String, Value>,
    pub errors: Vec<(String, BitrixError)>,
}

impl BatchResults {
    /// The result of one command, or its error, or a protocol error when it has neither (a
    /// command not run because an earlier one failed with `halt`).
    pub fn take(&mut self, key: &str) -> Result<Value, BitrixError> {
        if let Some(v) = self.results.remove(key) {
            return Ok(v);
        }
        match self.errors.iter().position(|(k, _)| k == key) {
            Some(i) => Err(self.errors.remove(i).1),
            None => Err(BitrixError::Protocol(format!(
                "batch command `{key}` has no result"
            ))),
        }
    }
}

/// A stage of a deal pipeline as `crm.status.list` gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct StageItem {
    /// `NEW`, `C9:NEW`, `C9:PREPARATION`…
    pub status_id: String,
    pub name: String,
    pub sort: i64,
}

/// Which communication `crm.duplicate.findbycomm` searches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comm {
    Phone,
    Email,
}

impl Comm {
    pub fn as_str(self) -> &'static str {
        match self {
            Comm::Phone => "PHONE",
            Comm::Email => "EMAIL",
        }
    }
}

/// Owner types of activities (`ownerTypeId`).
pub const OWNER_LEAD: i64 = 1;
pub const OWNER_DEAL: i64 = 2;

/// A Bitrix24 portal reached through one inbound webhook.
pub struct BitrixClient {
    http: reqwest::Client,
    /// `https://<portal>/rest/<user>/<code>`, without the trailing slash. The secret.
    base: SecretString,
    pacer: Pacer,
    stats: Arc<CallStats>,
    /// Where each request's outcome is recorded for the admin status, when observed.
    integrations: Option<Integrations>,
}

impl std::fmt::Debug for BitrixClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BitrixClient").finish_non_exhaustive()
    }
}

impl BitrixClient {
    /// A client for the webhook at `webhook_url`, paced at `rate` requests per second with
    /// bursts of `burst`, each call bounded by `timeout`.
    pub fn new(
        webhook_url: &SecretString,
        timeout: Duration,
        rate: f64,
        burst: u32,
    ) -> Result<Self, BitrixError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(10).min(timeout))
            .user_agent(concat!("crystalbay/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| BitrixError::Protocol(e.without_url().to_string()))?;
        let base = webhook_url.expose_secret().trim().trim_end_matches('/');
        Ok(Self {
            http,
            base: SecretString::from(base.to_owned()),
            pacer: Pacer::new(rate, burst),
            stats: Arc::new(CallStats::default()),
            integrations: None,
        })
    }

    /// Counts requests into `stats` and records each outcome in `integrations` (as
    /// `bitrix24`) and the metrics.
    pub fn observed(mut self, stats: Arc<CallStats>, integrations: Integrations) -> Self {
        self.stats = stats;
        self.integrations = Some(integrations);
        self
    }

    /// What this client did so far.
    pub fn counts(&self) -> CallCounts {
        self.stats.counts()
    }

    /// Calls `method` with `params` (a JSON object, lowercase top-level names). A limit answer
    /// is waited out and the call sent again (it was not executed), up to [`LIMIT_PATIENCE`]
    /// times in a row; any other failure is the caller's.
    #[tracing::instrument(
        name = "bitrix24_call",
        level = "debug",
        skip_all,
        fields(method = method)
    )]
    pub async fn call(&self, method: &str, params: &Value) -> Result<Answer, BitrixError> {
        let mut limits = 0;
        loop {
            let result = self.call_once(method, params).await;
            match &result {
                Err(e) if e.is_limit() && limits < LIMIT_PATIENCE => {
                    limits += 1;
                    let wait = limit_wait(e.retry_after(), jitter());
                    self.stats
                        .limit_wait_ms
                        .fetch_add(wait.as_millis() as u64, Ordering::Relaxed);
                    tracing::debug!(method, error = %e, ?wait, "Bitrix24 limit answer; waiting for the bucket");
                    tokio::time::sleep(wait).await;
                }
                _ => return result,
            }
        }
    }

    /// One request, paced.
    async fn call_once(&self, method: &str, params: &Value) -> Result<Answer, BitrixError> {
        self.pacer.acquire().await;
        let started = std::time::Instant::now();
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        let result = self.send(method, params).await;
        match &result {
            Err(e) if e.is_limit() => {
                self.stats.limit_answers.fetch_add(1, Ordering::Relaxed);
                self.pacer.saturate();
            }
            _ => {}
        }
        if let Err(e) = &result {
            tracing::debug!(method, error = %e, "Bitrix24 call failed");
        }
        if let Some(integrations) = &self.integrations {
            let error = result.as_ref().err().map(ToString::to_string);
            crate::meters::external_call(
                integrations,
                "bitrix24",
                operation(method),
                started.elapsed(),
                error.as_deref(),
            );
        }
        result
    }

    async fn send(&self, method: &str, params: &Value) -> Result<Answer, BitrixError> {
        let url = format!("{}/{method}.json", self.base.expose_secret());
        let sent = self
            .http
            .post(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .json(params)
            .send()
            .await;
        let response = match sent {
            Ok(r) => r,
            Err(e) => return Err(transport_error(e)),
        };
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(transport_error)?;
        answer(status, &body)
    }

    /// `profile`: who the webhook acts as ("Айдана Менеджер (id 7)").
    #[tracing::instrument(name = "bitrix24_profile", skip_all)]
    pub async fn profile(&self) -> Result<String, BitrixError> {
        let answer = self.call("profile", &json!({})).await?;
        let r = &answer.result;
        let text = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("").trim();
        let name = format!("{} {}", text("NAME"), text("LAST_NAME"));
        let id = r.get("ID").and_then(id_of).unwrap_or(0);
        Ok(format!("{} (id {id})", name.trim()))
    }

    /// `scope`: the scopes the webhook was given.
    #[tracing::instrument(name = "bitrix24_scopes", skip_all)]
    pub async fn scopes(&self) -> Result<Vec<String>, BitrixError> {
        let answer = self.call("scope", &json!({})).await?;
        Ok(answer
            .result
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Runs up to 50 commands in one request (one place in the leaky bucket). With `halt`,
    /// execution stops at the first failing command.
    #[tracing::instrument(
        name = "bitrix24_batch",
        skip_all,
        fields(commands = commands.len(), halt = halt)
    )]
    pub async fn batch(
        &self,
        commands: &[BatchCommand],
        halt: bool,
    ) -> Result<BatchResults, BitrixError> {
        let mut cmd = Map::new();
        for c in commands {
            let mut query = php_query(&c.params);
            for (name, value) in &c.references {
                if !query.is_empty() {
                    query.push('&');
                }
                query.push_str(name);
                query.push('=');
                query.push_str(value);
            }
            cmd.insert(
                c.key.clone(),
                Value::String(format!("{}?{query}", c.method)),
            );
        }
        let answer = self
            .call("batch", &json!({"halt": u8::from(halt), "cmd": cmd}))
            .await?;
        let mut out = BatchResults::default();
        if let Some(results) = answer.result.get("result").and_then(Value::as_object) {
            out.results = results.clone();
        }
        if let Some(errors) = answer.result.get("result_error").and_then(Value::as_object) {
            for (key, e) in errors {
                let code = e.get("error").and_then(Value::as_str).unwrap_or_default();
                let description = e
                    .get("error_description")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                out.errors
                    .push((key.clone(), classify(400, code, description, None)));
            }
        }
        Ok(out)
    }

    /// `crm.duplicate.findbycomm`: ids of `entity_type` (`CONTACT`, `LEAD`) with one of
    /// `values`, lowest first.
    #[tracing::instrument(
        name = "bitrix24_find_duplicates",
        skip_all,
        fields(comm = comm.as_str(), entity_type = entity_type, values = values.len())
    )]
    pub async fn find_duplicates(
        &self,
        comm: Comm,
        values: &[String],
        entity_type: &str,
    ) -> Result<Vec<i64>, BitrixError> {
        let answer = self
            .call(
                "crm.duplicate.findbycomm",
                &json!({"type": comm.as_str(), "values": values, "entity_type": entity_type}),
            )
            .await?;
        Ok(duplicate_ids(&answer.result, entity_type))
    }

    /// `crm.<entity>.add`: the new id.
    #[tracing::instrument(name = "bitrix24_add", skip_all, fields(entity = entity))]
    pub async fn add(&self, entity: &str, fields: Value) -> Result<i64, BitrixError> {
        let answer = self
            .call(
                &format!("crm.{entity}.add"),
                &json!({"fields": fields, "params": {"REGISTER_SONET_EVENT": "Y"}}),
            )
            .await?;
        id_of(&answer.result).ok_or_else(|| not_an_id(&answer.result))
    }

    /// `crm.<entity>.update` with the changed fields only.
    #[tracing::instrument(name = "bitrix24_update", skip_all, fields(entity = entity, id = id))]
    pub async fn update(&self, entity: &str, id: i64, fields: Value) -> Result<(), BitrixError> {
        let answer = self
            .call(
                &format!("crm.{entity}.update"),
                &json!({"id": id, "fields": fields}),
            )
            .await?;
        match answer.result {
            Value::Bool(true) => Ok(()),
            other if id_of(&other) == Some(1) => Ok(()),
            other => Err(BitrixError::Protocol(format!(
                "crm.{entity}.update answered {other} instead of true"
            ))),
        }
    }

    /// `crm.<entity>.get`: the entity's fields (every value a string, multi-fields arrays).
    #[tracing::instrument(name = "bitrix24_get", skip_all, fields(entity = entity, id = id))]
    pub async fn get(&self, entity: &str, id: i64) -> Result<Value, BitrixError> {
        Ok(self
            .call(&format!("crm.{entity}.get"), &json!({"id": id}))
            .await?
            .result)
    }

    /// The first page (50 items) of a list method, newest first.
    #[tracing::instrument(name = "bitrix24_list_recent", skip_all, fields(method = method))]
    pub async fn list_recent(
        &self,
        method: &str,
        filter: Value,
        select: &[&str],
    ) -> Result<Vec<Value>, BitrixError> {
        let answer = self
            .call(
                method,
                &json!({"filter": filter, "select": select, "order": {"ID": "DESC"}}),
            )
            .await?;
        match answer.result {
            Value::Array(items) => Ok(items),
            Value::Object(m) if m.is_empty() => Ok(Vec::new()),
            other => Err(BitrixError::Protocol(format!(
                "{method} answered {} instead of a list",
                kind_of(&other)
            ))),
        }
    }

    /// The deal pipelines, (id, name): `crm.category.list` (`entityTypeId` 2), or on older
    /// portals that lack it the legacy `crm.dealcategory.list` (which leaves out the default
    /// pipeline).
    #[tracing::instrument(name = "bitrix24_deal_categories", skip_all)]
    pub async fn deal_categories(&self) -> Result<Vec<(i64, String)>, BitrixError> {
        let items = match self
            .call("crm.category.list", &json!({"entityTypeId": 2}))
            .await
        {
            Ok(answer) => answer
                .result
                .get("categories")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
            Err(BitrixError::NotFound { .. } | BitrixError::BadRequest { .. }) => {
                let answer = self
                    .call(
                        "crm.dealcategory.list",
                        &json!({"order": {"SORT": "ASC"}, "select": ["ID", "NAME", "SORT"]}),
                    )
                    .await?;
                answer.result.as_array().cloned().unwrap_or_default()
            }
            Err(e) => return Err(e),
        };
        Ok(items
            .iter()
            .filter_map(|c| {
                let id = id_of(c.get("id").or_else(|| c.get("ID"))?)?;
                let name = c.get("name").or_else(|| c.get("NAME"))?.as_str()?;
                Some((id, name.to_owned()))
            })
            .collect())
    }

    /// `crm.status.list` for a pipeline's stages (`DEAL_STAGE` for pipeline 0,
    /// `DEAL_STAGE_<n>` otherwise; `STATUS` for lead stages), in SORT order.
    #[tracing::instrument(name = "bitrix24_stages", skip_all, fields(entity_id = entity_id))]
    pub async fn stages(&self, entity_id: &str) -> Result<Vec<StageItem>, BitrixError> {
        let answer = self
            .call(
                "crm.status.list",
                &json!({"order": {"SORT": "ASC"}, "filter": {"ENTITY_ID": entity_id}}),
            )
            .await?;
        let items = answer.result.as_array().cloned().unwrap_or_default();
        let mut stages: Vec<StageItem> = items
            .iter()
            .filter_map(|s| {
                Some(StageItem {
                    status_id: s.get("STATUS_ID")?.as_str()?.to_owned(),
                    name: s.get("NAME")?.as_str()?.to_owned(),
                    sort: s.get("SORT").and_then(id_of).unwrap_or(0),
                })
            })
            .collect();
        stages.sort_by_key(|s| s.sort);
        Ok(stages)
    }

    /// `crm.timeline.comment.add` (lowercase `fields`, the only form it accepts).
    #[tracing::instrument(
        name = "bitrix24_comment_add",
        skip_all,
        fields(entity_type = entity_type, entity_id = entity_id)
    )]
    pub async fn comment_add(
        &self,
        entity_type: &str,
        entity_id: i64,
        comment: &str,
    ) -> Result<i64, BitrixError> {
        let answer = self
            .call(
                "crm.timeline.comment.add",
                &json!({"fields": {"ENTITY_ID": entity_id, "ENTITY_TYPE": entity_type, "COMMENT": comment}}),
            )
            .await?;
        id_of(&answer.result).ok_or_else(|| not_an_id(&answer.result))
    }

    /// `crm.activity.todo.add`: a to-do for the owner's responsible manager.
    #[tracing::instrument(
        name = "bitrix24_todo_add",
        skip_all,
        fields(owner_type_id = owner_type_id, owner_id = owner_id)
    )]
    pub async fn todo_add(
        &self,
        owner_type_id: i64,
        owner_id: i64,
        deadline: &str,
        title: &str,
        description: &str,
    ) -> Result<i64, BitrixError> {
        let answer = self
            .call(
                "crm.activity.todo.add",
                &json!({
                    "ownerTypeId": owner_type_id,
                    "ownerId": owner_id,
                    "deadline": deadline,
                    "title": title,
                    "description": description,
                }),
            )
            .await?;
        answer
            .result
            .get("id")
            .and_then(id_of)
            .or_else(|| id_of(&answer.result))
            .ok_or_else(|| not_an_id(&answer.result))
    }
}

/// The metrics' `operation` label of a method: a fixed word, never a formatted string.
fn operation(method: &str) -> &'static str {
    const KNOWN: &[&str] = &[
        "batch",
        "profile",
        "scope",
        "crm.contact.add",
        "crm.contact.update",
        "crm.contact.get",
        "crm.deal.add",
        "crm.deal.update",
        "crm.deal.get",
        "crm.deal.list",
        "crm.lead.add",
        "crm.lead.update",
        "crm.lead.get",
        "crm.lead.list",
        "crm.duplicate.findbycomm",
        "crm.category.list",
        "crm.dealcategory.list",
        "crm.status.list",
        "crm.timeline.comment.add",
        "crm.timeline.comment.list",
        "crm.activity.todo.add",
        "crm.activity.list",
    ];
    KNOWN
        .iter()
        .find(|m| **m == method)
        .copied()
        .unwrap_or("other")
}

/// A reqwest failure as a `BitrixError`, without the URL (it holds the webhook code).
fn transport_error(e: reqwest::Error) -> BitrixError {
    let timeout = e.is_timeout();
    let connect = e.is_connect();
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    if timeout {
        BitrixError::Timeout
    } else if connect {
        BitrixError::Unreachable(text)
    } else {
        BitrixError::Network(text)
    }
}

/// An HTTP answer as the envelope's result, or the error it carries.
fn answer(status: u16, body: &[u8]) -> Result<Answer, BitrixError> {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let Some(Value::Object(envelope)) = parsed else {
        let snippet: String = String::from_utf8_lossy(body).chars().take(120).collect();
        return Err(match status {
            500..=599 => BitrixError::Server {
                status,
                code: String::new(),
                description: snippet,
            },
            401 => BitrixError::Auth {
                status,
                code: String::new(),
                description: snippet,
            },
            429 => BitrixError::OperationTimeLimit { reset_in: None },
            _ => BitrixError::Protocol(format!("HTTP {status}, not JSON: {snippet}")),
        });
    };
    if let Some(code) = envelope.get("error") {
        let code = match code {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        let description = envelope
            .get("error_description")
            .and_then(Value::as_str)
            .unwrap_or_default();
        return Err(classify(status, &code, description, envelope.get("time")));
    }
    match envelope.get("result") {
        Some(result) if (200..300).contains(&status) => Ok(Answer {
            result: result.clone(),
            total: envelope.get("total").and_then(Value::as_u64),
            next: envelope.get("next").and_then(Value::as_u64),
        }),
        _ if status >= 500 => Err(BitrixError::Server {
            status,
            code: String::new(),
            description: String::new(),
        }),
        _ => Err(BitrixError::Protocol(format!(
            "HTTP {status} without `result` or `error`"
        ))),
    }
}

/// An error code (and the HTTP status, and `time` when given) as a `BitrixError`. Codes
/// come in either case; legacy methods send `""` and say it in the description.
pub fn classify(status: u16, code: &str, description: &str, time: Option<&Value>) -> BitrixError {
    let upper = code.trim().to_ascii_uppercase();
    let lower_description = description.to_lowercase();
    let (code, description) = (code.to_owned(), description.to_owned());
    match upper.as_str() {
        "QUERY_LIMIT_EXCEEDED" => BitrixError::RateLimited,
        "OPERATION_TIME_LIMIT" => BitrixError::OperationTimeLimit {
            reset_in: time
                .and_then(|t| t.get("operating_reset_at"))
                .and_then(Value::as_f64)
                .and_then(|at| {
                    let now = chrono::Utc::now().timestamp() as f64;
                    (at > now).then(|| Duration::from_secs_f64((at - now).min(600.0)))
                }),
        },
        "OVERLOAD_LIMIT" | "PORTAL_DELETED" => BitrixError::Blocked { code, description },
        "NO_AUTH_FOUND"
        | "EXPIRED_TOKEN"
        | "INVALID_TOKEN"
        | "INVALID_GRANT"
        | "INVALID_CREDENTIALS"
        | "INSUFFICIENT_SCOPE"
        | "USER_ACCESS_ERROR"
        | "ACCESS_DENIED"
        | "PAYMENT_REQUIRED"
        | "WRONG_AUTH_TYPE"
        | "AUTHORIZATION_ERROR" => BitrixError::Auth {
            status,
            code,
            description,
        },
        "NOT_FOUND" | "ERROR_NOT_FOUND" | "OWNER_NOT_FOUND" | "ERROR_METHOD_NOT_FOUND" => {
            BitrixError::NotFound { code, description }
        }
        "INTERNAL_SERVER_ERROR" | "ERROR_UNEXPECTED_ANSWER" => BitrixError::Server {
            status,
            code,
            description,
        },
        _ if status >= 500 => BitrixError::Server {
            status,
            code,
            description,
        },
        // A 429 whatever its code: the method's time budget.
        _ if status == 429 => BitrixError::OperationTimeLimit { reset_in: None },
        _ if status == 401 || lower_description.starts_with("access denied") => BitrixError::Auth {
            status,
            code,
            description,
        },
        _ if lower_description.contains("not found") => BitrixError::NotFound { code, description },
        _ => BitrixError::BadRequest {
            status,
            code,
            description,
        },
    }
}

/// An id as Bitrix24 writes it: a number or a string of digits.
pub fn id_of(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn not_an_id(v: &Value) -> BitrixError {
    BitrixError::Protocol(format!("expected an id, got {}", kind_of(v)))
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The ids of `entity_type` in a `crm.duplicate.findbycomm` result: `{"CONTACT":[275,2297]}`,
/// or `[]` / `{}` when nothing matched.
fn duplicate_ids(result: &Value, entity_type: &str) -> Vec<i64> {
    let mut ids: Vec<i64> = result
        .get(entity_type)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(id_of).collect())
        .unwrap_or_default();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Parameters as a query string with PHP brackets (`fields[PHONE][0][VALUE]=%2B7701…`), the
/// form `batch` commands take.
pub fn php_query(params: &Value) -> String {
    fn walk(prefix: &str, v: &Value, out: &mut form_urlencoded::Serializer<'_, String>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    let name = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}[{k}]")
                    };
                    walk(&name, v, out);
                }
            }
            Value::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    walk(&format!("{prefix}[{i}]"), v, out);
                }
            }
            Value::Null => {
                out.append_pair(prefix, "");
            }
            Value::String(s) => {
                out.append_pair(prefix, s);
            }
            other => {
                out.append_pair(prefix, &other.to_string());
            }
        }
    }
    let mut out = form_urlencoded::Serializer::new(String::new());
    walk("", params, &mut out);
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_classified_by_code_before_status() {
        assert_eq!(
            answer(
                503,
                br#"{"error":"QUERY_LIMIT_EXCEEDED","error_description":"Too many requests"}"#
            ),
            Err(BitrixError::RateLimited)
        );
        assert!(matches!(
            answer(
                429,
                br#"{"error":"operation_time_limit","error_description":""}"#
            ),
            Err(BitrixError::OperationTimeLimit { .. })
        ));
        assert!(matches!(
            answer(
                401,
                br#"{"error":"NO_AUTH_FOUND","error_description":"Wrong authorization data"}"#
            ),
            Err(BitrixError::Auth { .. })
        ));
        assert!(matches!(
            answer(400, br#"{"error":"","error_description":"Not found"}"#),
            Err(BitrixError::NotFound { .. })
        ));
        assert!(matches!(
            answer(400, br#"{"error":"","error_description":"Access denied."}"#),
            Err(BitrixError::Auth { .. })
        ));
        assert!(matches!(
            answer(
                400,
                br#"{"error":"","error_description":"Parameter 'fields' must be array."}"#
            ),
            Err(BitrixError::BadRequest { status: 400, .. })
        ));
        assert!(matches!(
            answer(503, br#"{"error":"OVERLOAD_LIMIT","error_description":""}"#),
            Err(BitrixError::Blocked { .. })
        ));
        assert!(matches!(
            answer(502, b"<html>Bad gateway</html>"),
            Err(BitrixError::Server { status: 502, .. })
        ));
        assert!(matches!(
            answer(429, b"Too Many Requests"),
            Err(BitrixError::OperationTimeLimit { reset_in: None })
        ));
        let refused = |status, body: &[u8]| answer(status, body).unwrap_err().webhook_refused();
        assert!(refused(
            401,
            br#"{"error":"NO_AUTH_FOUND","error_description":"Wrong authorization data"}"#
        ));
        assert!(refused(401, b"Unauthorized"));
        assert!(refused(
            503,
            br#"{"error":"OVERLOAD_LIMIT","error_description":""}"#
        ));
        assert!(
            !refused(
                403,
                br#"{"error":"insufficient_scope","error_description":""}"#
            ),
            "one method refused, not the webhook"
        );
        assert!(!refused(
            400,
            br#"{"error":"","error_description":"Access denied."}"#
        ));
        assert!(BitrixError::RateLimited.is_limit());
        assert!(BitrixError::RateLimited.not_executed());
        assert!(!BitrixError::Timeout.not_executed() && BitrixError::Timeout.is_retryable());
        assert!(
            !BitrixError::BadRequest {
                status: 400,
                code: String::new(),
                description: String::new()
            }
            .is_retryable()
        );
    }

    #[test]
    fn success_envelopes_give_their_result() {
        let a = answer(
            200,
            br#"{"result":[{"ID":"1"}],"total":51,"next":50,"time":{}}"#,
        )
        .unwrap();
        assert_eq!((a.total, a.next), (Some(51), Some(50)));
        assert_eq!(id_of(&a.result[0]["ID"]), Some(1));
        assert_eq!(answer(200, br#"{"result":46}"#).unwrap().result, json!(46));
    }

    #[test]
    fn duplicates_tolerate_every_empty_form() {
        assert_eq!(
            duplicate_ids(&json!({"CONTACT": [2297, "275"], "LEAD": [12]}), "CONTACT"),
            [275, 2297]
        );
        assert!(duplicate_ids(&json!([]), "CONTACT").is_empty());
        assert!(duplicate_ids(&json!({}), "CONTACT").is_empty());
    }

    #[test]
    fn batch_commands_use_php_brackets() {
        let q = php_query(
            &json!({"fields": {"NAME": "Анна", "PHONE": [{"VALUE": "+7701", "VALUE_TYPE": "WORK"}]}}),
        );
        assert_eq!(
            q,
            "fields%5BNAME%5D=%D0%90%D0%BD%D0%BD%D0%B0&fields%5BPHONE%5D%5B0%5D%5BVALUE%5D=%2B7701&fields%5BPHONE%5D%5B0%5D%5BVALUE_TYPE%5D=WORK"
        );
    }
}
