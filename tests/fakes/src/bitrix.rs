//! A local fake of a Bitrix24 portal's REST API, as `docs/protocols/bitrix24.md` describes it
//! ("Behaviour a faithful fake must have"):
//!
//! - `POST` (JSON, or a form with PHP brackets) and `GET` on `/rest/{uid}/{code}/{method}[.json][/]`;
//!   a wrong uid or code gets 401 `NO_AUTH_FOUND`, an unknown method 404 `ERROR_METHOD_NOT_FOUND`;
//! - envelopes with `result` and `time`; lists with `total` and `next` (50 per page); `*.add`
//!   answers an int, `*.update` `true`, `get`/`list` strings for every value;
//! - top-level parameter names in any case, except `crm.timeline.comment.add`, which takes only
//!   lowercase `fields`; legacy errors as 400 with `error:""`;
//! - a leaky bucket (50, draining 2/s; configurable) answering 503 `QUERY_LIMIT_EXCEEDED`
//!   without executing the call;
//! - contacts, deals and leads with multi-fields (an item without `ID` is appended, even as a
//!   duplicate; `DELETE:"Y"` removes one), `crm.duplicate.findbycomm` (phones by digits, at
//!   most 20 values, `[]` when nothing matches), pipelines and their stages (`crm.category.list`,
//!   the legacy `crm.dealcategory.list`, `crm.status.list`), timeline comments and to-dos with
//!   owner checks, `profile` and `scope`, and `batch` (`$result[…]` references, `halt`, at most
//!   50 commands, always 200).
//!
//! Pipelines as real portals have them ([`Seed`]): the default pipeline (0) holds Bitrix24's own
//! stages, the agency's nine stages live in a named category (by default 1, `Туры`), and other
//! categories may hold other stages. A test can remove a stage of the travel pipeline and add it
//! back while the engine runs.
//!
//! Switches for tests: refuse the next N calls with 503 (or 429 `OPERATION_TIME_LIMIT`), answer
//! 500 while "failing", lose the answers of the next N calls after executing them (the ambiguous
//! case), deny a method, withhold a scope, be slow, or go down (the port refuses connections) and
//! come back. Every call is recorded.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::{Json, Router};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const USER_ID: &str = "7";
pub const CODE: &str = "fakewebhookcode0123";
/// The pipeline the agency sells tours in.
pub const TOURS: &str = "Туры";

/// The agency's nine stages, first to last (the engine's defaults).
pub const AGENCY_STAGES: [&str; 9] = [
    "Новый запрос",
    "Консультация",
    "Подбор тура",
    "Коммерческое предложение",
    "Добавление интеграций",
    "Оплатили",
    "Принято заказчиком",
    "Подтверждено",
    "Завершено",
];

/// How the portal's pipelines are laid out at start.
#[derive(Debug, Clone)]
pub struct Seed {
    /// The category (pipeline) id of the travel pipeline; 0 puts the agency's stages in the
    /// default pipeline.
    pub tours_id: i64,
    /// Its name.
    pub tours_name: &'static str,
    /// More categories: id, name, stage names.
    pub others: Vec<(i64, &'static str, Vec<&'static str>)>,
}

impl Default for Seed {
    /// Pipelines 0 (Bitrix24's own stages) and 1 (`Туры`, the agency's stages).
    fn default() -> Self {
        Seed {
            tours_id: 1,
            tours_name: TOURS,
            others: Vec::new(),
        }
    }
}

/// A request the fake received.
#[derive(Debug, Clone)]
pub struct Call {
    /// Lowercase, without `.json`; `batch` commands are recorded as `batch:<method>`.
    pub method: String,
    pub params: Value,
    pub status: u16,
}

/// A stage of a pipeline (`crm.status.list` item).
#[derive(Debug, Clone)]
struct Stage {
    entity_id: String,
    status_id: String,
    name: String,
    sort: i64,
    semantics: &'static str,
}

#[derive(Default)]
struct Portal {
    next_id: i64,
    contacts: BTreeMap<i64, Map<String, Value>>,
    deals: BTreeMap<i64, Map<String, Value>>,
    leads: BTreeMap<i64, Map<String, Value>>,
    comments: BTreeMap<i64, Map<String, Value>>,
    activities: BTreeMap<i64, Map<String, Value>>,
    categories: Vec<(i64, String, i64)>,
    stages: Vec<Stage>,
    /// Stages a test removed, to be added back as they were.
    removed: Vec<Stage>,
    /// The travel pipeline's category id.
    tours_id: i64,
    /// Every stage a deal was in, in order.
    stage_history: BTreeMap<i64, Vec<String>>,
    calls: Vec<Call>,
}

/// The leaky bucket of the portal.
struct Bucket {
    capacity: f64,
    drain_per_sec: f64,
    level: f64,
    at: Instant,
}

pub struct FakeBitrix {
    portal: Mutex<Portal>,
    bucket: Mutex<Bucket>,
    /// Answer 503 `QUERY_LIMIT_EXCEEDED` (not executing) to this many more calls.
    refuse: AtomicUsize,
    /// Per method: execute this many more calls, then answer them with a bare 502 (the
    /// answer is lost).
    lose: Mutex<BTreeMap<String, usize>>,
    /// Methods the webhook has no rights for: 403 `insufficient_scope`.
    denied: Mutex<Vec<String>>,
    /// Answer 429 `OPERATION_TIME_LIMIT` (not executing) to this many more calls.
    time_limited: AtomicUsize,
    /// The scopes the webhook was given (`scope`).
    scopes: Mutex<Vec<String>>,
    /// While set, `crm.category.list` is unknown (an older portal): only the legacy
    /// `crm.dealcategory.list` lists pipelines.
    legacy_categories: AtomicBool,
    /// While set, answer 500 `INTERNAL_SERVER_ERROR` without executing.
    failing: AtomicBool,
    /// Wait this long before handling each call.
    delay_ms: AtomicU64,
    addr: SocketAddr,
    server: Mutex<
        Option<(
            tokio::sync::oneshot::Sender<()>,
            tokio::task::JoinHandle<()>,
        )>,
    >,
}

impl FakeBitrix {
    /// The webhook URL to configure (`BITRIX_WEBHOOK_URL`).
    pub fn webhook_url(&self) -> String {
        format!("http://{}/rest/{USER_ID}/{CODE}/", self.addr)
    }

    /// Refuse the next `n` calls with 503 `QUERY_LIMIT_EXCEEDED`.
    pub fn refuse_next(&self, n: usize) {
        self.refuse.store(n, Ordering::SeqCst);
    }

    /// Refuse the next `n` calls with 429 `OPERATION_TIME_LIMIT`.
    pub fn time_limit_next(&self, n: usize) {
        self.time_limited.store(n, Ordering::SeqCst);
    }

    /// The scopes `scope` reports (the webhook's rights).
    pub fn set_scopes(&self, scopes: &[&str]) {
        *self.scopes.lock().unwrap() = scopes.iter().map(|s| s.to_string()).collect();
    }

    /// An older portal: `crm.category.list` is unknown, `crm.dealcategory.list` lists pipelines.
    pub fn set_legacy_categories(&self, legacy: bool) {
        self.legacy_categories.store(legacy, Ordering::SeqCst);
    }

    /// Removes a stage of the travel pipeline, by name (a deal in it keeps its stage id).
    pub fn remove_stage(&self, name: &str) {
        let mut p = self.portal.lock().unwrap();
        let entity = tours_entity(p.tours_id);
        let i = p
            .stages
            .iter()
            .position(|s| s.entity_id == entity && s.name == name)
            .unwrap_or_else(|| panic!("no stage {name}"));
        let stage = p.stages.remove(i);
        p.removed.push(stage);
    }

    /// Adds a stage to the travel pipeline: one removed before comes back as it was, a new one
    /// goes last before the final stages.
    pub fn add_stage(&self, name: &str) {
        let mut p = self.portal.lock().unwrap();
        if let Some(i) = p.removed.iter().position(|s| s.name == name) {
            let stage = p.removed.remove(i);
            p.stages.push(stage);
            return;
        }
        let entity = tours_entity(p.tours_id);
        let prefix = stage_prefix(p.tours_id);
        let n = p.stages.iter().filter(|s| s.entity_id == entity).count();
        p.stages.push(Stage {
            entity_id: entity,
            status_id: format!("{prefix}UC_{n}"),
            name: name.into(),
            sort: 85,
            semantics: "process",
        });
    }

    /// Execute the next `n` calls of `method` but answer each with a bare 502, as if the
    /// answer was lost on the way back.
    pub fn lose_answers(&self, method: &str, n: usize) {
        self.lose.lock().unwrap().insert(method.into(), n);
    }

    /// Refuse `method` with 403 `insufficient_scope` (the webhook lacks the right) until
    /// [`FakeBitrix::allow`].
    pub fn deny(&self, method: &str) {
        self.denied.lock().unwrap().push(method.into());
    }

    pub fn allow(&self, method: &str) {
        self.denied.lock().unwrap().retain(|m| m != method);
    }

    fn lose_this(&self, method: &str) -> bool {
        let mut lose = self.lose.lock().unwrap();
        match lose.get_mut(method) {
            Some(n) if *n > 0 => {
                *n -= 1;
                true
            }
            _ => false,
        }
    }

    /// Answer every call with 500 `INTERNAL_SERVER_ERROR` (not executing it) while set.
    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    pub fn set_delay(&self, delay: Duration) {
        self.delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    /// The portal's bucket: `capacity` requests, draining `per_sec`.
    pub fn set_bucket(&self, capacity: f64, per_sec: f64) {
        let mut b = self.bucket.lock().unwrap();
        b.capacity = capacity;
        b.drain_per_sec = per_sec;
    }

    /// Stops listening: connections are refused until [`FakeBitrix::come_up`].
    pub async fn go_down(&self) {
        let server = self.server.lock().unwrap().take();
        if let Some((stop, task)) = server {
            let _ = stop.send(());
            let _ = task.await;
        }
    }

    /// Listens again on the same address.
    pub async fn come_up(self: &Arc<Self>) {
        let listener = loop {
            match tokio::net::TcpListener::bind(self.addr).await {
                Ok(l) => break l,
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        };
        serve(self, listener);
    }

    pub fn calls(&self) -> Vec<Call> {
        self.portal.lock().unwrap().calls.clone()
    }

    /// Calls of `method` that were answered 200.
    pub fn answered(&self, method: &str) -> usize {
        self.calls()
            .iter()
            .filter(|c| c.method == method && c.status == 200)
            .count()
    }

    /// Every contact as stored (multi-fields as `{ID, VALUE_TYPE, VALUE, TYPE_ID}` items).
    pub fn contacts(&self) -> Vec<Map<String, Value>> {
        self.portal
            .lock()
            .unwrap()
            .contacts
            .values()
            .cloned()
            .collect()
    }

    pub fn deals(&self) -> Vec<Map<String, Value>> {
        self.portal
            .lock()
            .unwrap()
            .deals
            .values()
            .cloned()
            .collect()
    }

    pub fn comments(&self) -> Vec<Map<String, Value>> {
        self.portal
            .lock()
            .unwrap()
            .comments
            .values()
            .cloned()
            .collect()
    }

    pub fn activities(&self) -> Vec<Map<String, Value>> {
        self.portal
            .lock()
            .unwrap()
            .activities
            .values()
            .cloned()
            .collect()
    }

    /// The stages a deal went through, first to last.
    pub fn stage_history(&self, deal: i64) -> Vec<String> {
        self.portal
            .lock()
            .unwrap()
            .stage_history
            .get(&deal)
            .cloned()
            .unwrap_or_default()
    }

    /// The status id of a stage of the tours pipeline, by name.
    pub fn stage_id(&self, name: &str) -> String {
        let p = self.portal.lock().unwrap();
        let entity = tours_entity(p.tours_id);
        p.stages
            .iter()
            .find(|s| s.entity_id == entity && s.name == name)
            .map(|s| s.status_id.clone())
            .unwrap_or_else(|| panic!("no stage {name}"))
    }

    /// The travel pipeline's category id.
    pub fn tours_id(&self) -> i64 {
        self.portal.lock().unwrap().tours_id
    }

    /// Every lead as stored.
    pub fn leads(&self) -> Vec<Map<String, Value>> {
        self.portal
            .lock()
            .unwrap()
            .leads
            .values()
            .cloned()
            .collect()
    }

    /// Sets a deal's stage as a manager would in the portal.
    pub fn move_deal(&self, deal: i64, stage: &str) {
        let mut p = self.portal.lock().unwrap();
        p.deals
            .get_mut(&deal)
            .expect("deal")
            .insert("STAGE_ID".into(), json!(stage));
        p.stage_history.entry(deal).or_default().push(stage.into());
    }

    /// Takes a place in the bucket, or says the portal is over its limit.
    fn admit(&self) -> bool {
        let mut b = self.bucket.lock().unwrap();
        let now = Instant::now();
        let drained = now.duration_since(b.at).as_secs_f64() * b.drain_per_sec;
        b.level = (b.level - drained).max(0.0);
        b.at = now;
        if b.level + 1.0 > b.capacity {
            return false;
        }
        b.level += 1.0;
        true
    }
}

/// Starts a portal on a free port, seeded with pipelines 0 and 1 and their stages.
pub async fn start() -> Arc<FakeBitrix> {
    start_with(Seed::default()).await
}

/// Starts a portal on a free port with the pipelines of `seed`.
pub async fn start_with(seed: Seed) -> Arc<FakeBitrix> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let fake = Arc::new(FakeBitrix {
        portal: Mutex::new(seeded(&seed)),
        bucket: Mutex::new(Bucket {
            capacity: 50.0,
            drain_per_sec: 2.0,
            level: 0.0,
            at: Instant::now(),
        }),
        refuse: AtomicUsize::new(0),
        lose: Mutex::new(BTreeMap::new()),
        denied: Mutex::new(Vec::new()),
        time_limited: AtomicUsize::new(0),
        scopes: Mutex::new(vec!["crm".into(), "user_brief".into()]),
        legacy_categories: AtomicBool::new(false),
        failing: AtomicBool::new(false),
        delay_ms: AtomicU64::new(0),
        addr: listener.local_addr().unwrap(),
        server: Mutex::new(None),
    });
    serve(&fake, listener);
    fake
}

fn serve(fake: &Arc<FakeBitrix>, listener: tokio::net::TcpListener) {
    let app = Router::new()
        .route("/rest/{uid}/{code}/{method}", any(handle))
        .route("/rest/{uid}/{code}/{method}/", any(handle))
        .with_state(fake.clone());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
    });
    *fake.server.lock().unwrap() = Some((stop, task));
}

/// `DEAL_STAGE` for the default pipeline, `DEAL_STAGE_<n>` for category n.
fn tours_entity(category: i64) -> String {
    if category == 0 {
        "DEAL_STAGE".to_owned()
    } else {
        format!("DEAL_STAGE_{category}")
    }
}

/// Status ids of category n carry `C<n>:`.
fn stage_prefix(category: i64) -> String {
    if category == 0 {
        String::new()
    } else {
        format!("C{category}:")
    }
}

fn seeded(seed: &Seed) -> Portal {
    let mut p = Portal {
        next_id: 100,
        categories: vec![(0, "Общая".into(), 300)],
        tours_id: seed.tours_id,
        ..Portal::default()
    };
    if seed.tours_id != 0 {
        p.categories
            .push((seed.tours_id, seed.tours_name.into(), 200));
        let general = [
            ("NEW", "New", "process"),
            ("PREPARATION", "Preparing documents", "process"),
            ("PREPAYMENT_INVOICE", "Invoice", "process"),
            ("EXECUTING", "In progress", "process"),
            ("FINAL_INVOICE", "Final invoice", "process"),
            ("WON", "Deal won", "success"),
            ("LOSE", "Deal lost", "failure"),
        ];
        for (i, (id, name, semantics)) in general.into_iter().enumerate() {
            p.stages.push(Stage {
                entity_id: "DEAL_STAGE".into(),
                status_id: id.into(),
                name: name.into(),
                sort: (i as i64 + 1) * 10,
                semantics,
            });
        }
    }
    let ids = [
        "NEW",
        "PREPARATION",
        "PREPAYMENT_INVOICE",
        "EXECUTING",
        "1",
        "2",
        "3",
        "FINAL_INVOICE",
        "WON",
    ];
    let entity = tours_entity(seed.tours_id);
    let prefix = stage_prefix(seed.tours_id);
    let mut tours: Vec<(String, &str, &str)> = AGENCY_STAGES
        .iter()
        .zip(ids)
        .map(|(name, id)| {
            let semantics = if *name == "Завершено" {
                "success"
            } else {
                "process"
            };
            (format!("{prefix}{id}"), *name, semantics)
        })
        .collect();
    tours.push((format!("{prefix}LOSE"), "Отказ", "failure"));
    for (i, (id, name, semantics)) in tours.into_iter().enumerate() {
        p.stages.push(Stage {
            entity_id: entity.clone(),
            status_id: id,
            name: name.into(),
            sort: (i as i64 + 1) * 10,
            semantics,
        });
    }
    for (id, name, stages) in &seed.others {
        p.categories.push((*id, (*name).into(), 250));
        let entity = tours_entity(*id);
        let prefix = stage_prefix(*id);
        for (i, stage) in stages.iter().enumerate() {
            p.stages.push(Stage {
                entity_id: entity.clone(),
                status_id: format!("{prefix}S{i}"),
                name: (*stage).into(),
                sort: (i as i64 + 1) * 10,
                semantics: "process",
            });
        }
    }
    p
}

/// An error as the portal sends it.
#[derive(Debug)]
struct Failure {
    status: StatusCode,
    code: String,
    description: String,
}

fn fail(status: u16, code: &str, description: &str) -> Failure {
    Failure {
        status: StatusCode::from_u16(status).unwrap(),
        code: code.into(),
        description: description.into(),
    }
}

/// A legacy CRM error: 400 with an empty code.
fn legacy(description: &str) -> Failure {
    fail(400, "", description)
}

/// A successful result, with `total`/`next` for lists.
struct Success {
    result: Value,
    total: Option<usize>,
    next: Option<usize>,
}

fn ok(result: Value) -> Result<Success, Failure> {
    Ok(Success {
        result,
        total: None,
        next: None,
    })
}

fn time() -> Value {
    let now = chrono::Utc::now();
    let ts = now.timestamp_micros() as f64 / 1e6;
    json!({
        "start": ts, "finish": ts + 0.001, "duration": 0.001, "processing": 0.0005,
        "date_start": now.to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
        "date_finish": now.to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
        "operating_reset_at": now.timestamp() + 600, "operating": 0,
    })
}

fn error_response(f: &Failure) -> Response {
    (
        f.status,
        Json(json!({"error": f.code, "error_description": f.description})),
    )
        .into_response()
}

async fn handle(
    State(fake): State<Arc<FakeBitrix>>,
    Path((uid, code, method)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let delay = fake.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let method = method.trim_end_matches(".json").to_ascii_lowercase();
    let mut params = query.as_deref().map(php_parse).unwrap_or_else(|| json!({}));
    if !body.is_empty() {
        let is_json = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.contains("json"));
        let parsed = if is_json {
            serde_json::from_slice::<Value>(&body).ok()
        } else {
            std::str::from_utf8(&body).ok().map(php_parse)
        };
        match parsed {
            Some(Value::Object(m)) => {
                for (k, v) in m {
                    params[k] = v;
                }
            }
            _ => {
                let f = fail(400, "INVALID_REQUEST", "Request body is not valid");
                return record(&fake, &method, params, error_response(&f));
            }
        }
    }
    let response = if uid != USER_ID || code != CODE {
        error_response(&fail(401, "NO_AUTH_FOUND", "Wrong authorization data"))
    } else if fake.failing.load(Ordering::SeqCst) {
        error_response(&fail(500, "INTERNAL_SERVER_ERROR", "Internal server error"))
    } else if take_one(&fake.refuse) || !fake.admit() {
        error_response(&fail(503, "QUERY_LIMIT_EXCEEDED", "Too many requests"))
    } else if take_one(&fake.time_limited) {
        // The method's budget comes back two seconds from now.
        let mut time = time();
        time["operating_reset_at"] = json!(chrono::Utc::now().timestamp() + 2);
        let body = json!({"error": "OPERATION_TIME_LIMIT",
            "error_description": "Method is blocked due to operation time limit.", "time": time});
        (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response()
    } else if method == "crm.category.list" && fake.legacy_categories.load(Ordering::SeqCst) {
        error_response(&fail(404, "ERROR_METHOD_NOT_FOUND", "Method not found!"))
    } else if method == "scope" {
        let scopes = fake.scopes.lock().unwrap().clone();
        (
            StatusCode::OK,
            Json(json!({"result": scopes, "time": time()})),
        )
            .into_response()
    } else if fake.denied.lock().unwrap().contains(&method) {
        error_response(&fail(
            403,
            "insufficient_scope",
            "The request requires higher privileges than provided by the webhook token",
        ))
    } else {
        let outcome = if method == "batch" {
            batch(&fake, &params)
        } else {
            execute(&mut fake.portal.lock().unwrap(), &method, &params)
        };
        match outcome {
            _ if fake.lose_this(&method) => {
                (StatusCode::BAD_GATEWAY, "<html>502 Bad Gateway</html>").into_response()
            }
            Ok(s) => {
                let mut envelope = json!({"result": s.result, "time": time()});
                if let Some(total) = s.total {
                    envelope["total"] = json!(total);
                }
                if let Some(next) = s.next {
                    envelope["next"] = json!(next);
                }
                (StatusCode::OK, Json(envelope)).into_response()
            }
            Err(f) => error_response(&f),
        }
    };
    record(&fake, &method, params, response)
}

fn take_one(counter: &AtomicUsize) -> bool {
    counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

fn record(fake: &FakeBitrix, method: &str, params: Value, response: Response) -> Response {
    fake.portal.lock().unwrap().calls.push(Call {
        method: method.to_owned(),
        params,
        status: response.status().as_u16(),
    });
    response
}

/// `batch`: commands in order, `$result[key]` references resolved, `halt` honoured; always
/// 200 with the `result_*` maps (empty ones as `[]`).
fn batch(fake: &FakeBitrix, params: &Value) -> Result<Success, Failure> {
    let params = lowercase_keys(params);
    let Some(cmd) = params.get("cmd").and_then(Value::as_object) else {
        return Err(legacy("Parameter 'cmd' must be array."));
    };
    if cmd.len() > 50 {
        return Err(fail(
            400,
            "ERROR_BATCH_LENGTH_EXCEEDED",
            "Max batch length exceeded",
        ));
    }
    let halt = params.get("halt").and_then(int).unwrap_or(0) != 0;
    let mut results = Map::new();
    let mut errors = Map::new();
    let mut portal = fake.portal.lock().unwrap();
    // Bitrix24 runs the commands in the order they were sent. serde_json (without
    // `preserve_order`) keeps object keys sorted, so here they run in key order; the engine's
    // batches name their keys so that the two orders agree ("contact" before "deal").
    for (key, command) in cmd {
        let command = command.as_str().unwrap_or_default();
        let command = resolve_references(command, &results);
        let (method, query) = command.split_once('?').unwrap_or((&command, ""));
        let method = method.trim_end_matches(".json").to_ascii_lowercase();
        let outcome = if method == "batch" {
            Err(fail(
                405,
                "ERROR_BATCH_METHOD_NOT_ALLOWED",
                "Method is not allowed for batch usage",
            ))
        } else {
            let p = php_parse(query);
            let outcome = execute(&mut portal, &method, &p);
            portal.calls.push(Call {
                method: format!("batch:{method}"),
                params: p,
                status: if outcome.is_ok() { 200 } else { 400 },
            });
            outcome
        };
        match outcome {
            Ok(s) => {
                results.insert(key.clone(), s.result);
            }
            Err(f) => {
                errors.insert(
                    key.clone(),
                    json!({"error": f.code, "error_description": f.description}),
                );
                if halt {
                    break;
                }
            }
        }
    }
    let map_or_list = |m: Map<String, Value>| {
        if m.is_empty() {
            json!([])
        } else {
            Value::Object(m)
        }
    };
    ok(json!({
        "result": map_or_list(results),
        "result_error": map_or_list(errors),
        "result_total": [],
        "result_next": [],
        "result_time": [],
    }))
}

/// Replaces `$result[key]` (and `$result[key][0]`, `$result[key][ID]`…) with that command's
/// result.
fn resolve_references(command: &str, results: &Map<String, Value>) -> String {
    let mut out = String::new();
    let mut rest = command;
    while let Some(at) = rest.find("$result[") {
        out.push_str(&rest[..at]);
        rest = &rest[at + "$result".len()..];
        let mut value: Option<&Value> = None;
        let mut first = true;
        while let Some(inner) = rest.strip_prefix('[') {
            let Some(end) = inner.find(']') else { break };
            let segment = &inner[..end];
            value = if first {
                results.get(segment)
            } else {
                value.and_then(|v| match v {
                    Value::Array(a) => segment.parse::<usize>().ok().and_then(|i| a.get(i)),
                    Value::Object(m) => m.get(segment),
                    _ => None,
                })
            };
            first = false;
            rest = &inner[end + 1..];
        }
        match value {
            Some(Value::String(s)) => out.push_str(s),
            Some(v) => out.push_str(&v.to_string()),
            None => {}
        }
    }
    out.push_str(rest);
    out
}

fn execute(p: &mut Portal, method: &str, params: &Value) -> Result<Success, Failure> {
    let raw = params;
    let params = lowercase_keys(params);
    match method {
        "crm.contact.add" => add(p, Kind::Contact, &params),
        "crm.deal.add" => add(p, Kind::Deal, &params),
        "crm.lead.add" => add(p, Kind::Lead, &params),
        "crm.contact.update" => update(p, Kind::Contact, &params),
        "crm.deal.update" => update(p, Kind::Deal, &params),
        "crm.lead.update" => update(p, Kind::Lead, &params),
        "crm.contact.get" => get(p, Kind::Contact, &params),
        "crm.deal.get" => get(p, Kind::Deal, &params),
        "crm.lead.get" => get(p, Kind::Lead, &params),
        "crm.contact.list" => list(p, Kind::Contact, &params),
        "crm.deal.list" => list(p, Kind::Deal, &params),
        "crm.lead.list" => list(p, Kind::Lead, &params),
        "crm.duplicate.findbycomm" => find_by_comm(p, &params),
        "profile" => ok(json!({"ID": USER_ID, "ADMIN": false, "NAME": "Айдана",
            "LAST_NAME": "Менеджер", "PERSONAL_GENDER": "F", "TIME_ZONE": "Asia/Almaty"})),
        "crm.dealcategory.list" => {
            // Legacy: UPPER_SNAKE items, the default pipeline left out.
            let items: Vec<Value> = p
                .categories
                .iter()
                .filter(|(id, ..)| *id != 0)
                .map(|(id, name, sort)| {
                    json!({"ID": id.to_string(), "NAME": name, "SORT": sort.to_string(),
                           "IS_LOCKED": "N", "CREATED_DATE": "2024-01-20T18:35:32+01:00"})
                })
                .collect();
            let total = items.len();
            Ok(Success {
                result: Value::Array(items),
                total: Some(total),
                next: None,
            })
        }
        "crm.category.list" => {
            if params.get("entitytypeid").and_then(int) != Some(2) {
                return Err(fail(400, "NOT_FOUND", "Smart process not found"));
            }
            let categories: Vec<Value> = p
                .categories
                .iter()
                .map(|(id, name, sort)| {
                    json!({"id": id, "name": name, "sort": sort, "entityTypeId": 2,
                           "isDefault": if *id == 0 { "Y" } else { "N" }, "originId": "", "originatorId": ""})
                })
                .collect();
            let total = categories.len();
            Ok(Success {
                result: json!({"categories": categories}),
                total: Some(total),
                next: None,
            })
        }
        "crm.status.list" => {
            let entity = params
                .get("filter")
                .map(lowercase_keys)
                .and_then(|f| f.get("entity_id").and_then(text));
            let mut stages: Vec<&Stage> = p
                .stages
                .iter()
                .filter(|s| entity.as_ref().is_none_or(|e| *e == s.entity_id))
                .collect();
            stages.sort_by_key(|s| s.sort);
            let items: Vec<Value> = stages
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let category = s.entity_id.strip_prefix("DEAL_STAGE_").map(str::to_owned);
                    json!({"ID": (i + 1).to_string(), "ENTITY_ID": s.entity_id, "STATUS_ID": s.status_id,
                           "NAME": s.name, "NAME_INIT": s.name, "SORT": s.sort.to_string(), "SYSTEM": "N",
                           "CATEGORY_ID": category, "COLOR": "#39A8EF", "SEMANTICS": null,
                           "EXTRA": {"SEMANTICS": s.semantics, "COLOR": "#39A8EF"}})
                })
                .collect();
            let total = items.len();
            Ok(Success {
                result: Value::Array(items),
                total: Some(total),
                next: None,
            })
        }
        "crm.timeline.comment.add" => {
            // Only lowercase `fields` is accepted.
            let Some(fields) = raw.get("fields").and_then(Value::as_object) else {
                return Err(legacy("Parameter 'fields' must be array."));
            };
            let entity_type = fields.get("ENTITY_TYPE").and_then(text).unwrap_or_default();
            let entity_id = fields.get("ENTITY_ID").and_then(int).unwrap_or(0);
            let Some(comment) = fields.get("COMMENT").and_then(text) else {
                return Err(legacy("Field COMMENT is required"));
            };
            if !owner_exists(p, &entity_type, entity_id) {
                return Err(fail(400, "OWNER_NOT_FOUND", "Owner not found"));
            }
            let id = next_id(p);
            p.comments.insert(
                id,
                obj(
                    json!({"ID": id.to_string(), "ENTITY_ID": entity_id.to_string(),
                           "ENTITY_TYPE": entity_type, "COMMENT": comment,
                           "CREATED": chrono::Utc::now().to_rfc3339(), "AUTHOR_ID": USER_ID}),
                ),
            );
            ok(json!(id))
        }
        "crm.timeline.comment.list" => {
            let items: Vec<Map<String, Value>> = p.comments.values().cloned().collect();
            list_items(items, &params)
        }
        "crm.activity.todo.add" => {
            let get = |k: &str| params.get(k.to_ascii_lowercase());
            let (Some(owner_type), Some(owner_id), Some(deadline)) = (
                get("ownerTypeId").and_then(int),
                get("ownerId").and_then(int),
                get("deadline").and_then(text),
            ) else {
                return Err(fail(
                    400,
                    "100",
                    "Required fields: ownerTypeId, ownerId, deadline",
                ));
            };
            if chrono::DateTime::parse_from_rfc3339(&deadline).is_err() {
                return Err(fail(400, "WRONG_DATETIME_FORMAT", "Wrong datetime format"));
            }
            let owner_type_name = match owner_type {
                1 => "lead",
                2 => "deal",
                3 => "contact",
                _ => "",
            };
            if !owner_exists(p, owner_type_name, owner_id) {
                return Err(fail(400, "OWNER_NOT_FOUND", "Owner not found"));
            }
            let id = next_id(p);
            p.activities.insert(
                id,
                obj(
                    json!({"ID": id.to_string(), "OWNER_TYPE_ID": owner_type.to_string(),
                           "OWNER_ID": owner_id.to_string(), "PROVIDER_ID": "CRM_TODO",
                           "SUBJECT": get("title").and_then(text).unwrap_or_default(),
                           "DESCRIPTION": get("description").and_then(text).unwrap_or_default(),
                           "DEADLINE": deadline, "COMPLETED": "N"}),
                ),
            );
            ok(json!({"id": id}))
        }
        "crm.activity.list" => {
            let items: Vec<Map<String, Value>> = p.activities.values().cloned().collect();
            list_items(items, &params)
        }
        _ => Err(fail(404, "ERROR_METHOD_NOT_FOUND", "Method not found!")),
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Contact,
    Deal,
    Lead,
}

fn entities(p: &mut Portal, kind: Kind) -> &mut BTreeMap<i64, Map<String, Value>> {
    match kind {
        Kind::Contact => &mut p.contacts,
        Kind::Deal => &mut p.deals,
        Kind::Lead => &mut p.leads,
    }
}

const MULTI_FIELDS: [&str; 5] = ["PHONE", "EMAIL", "WEB", "IM", "LINK"];

fn next_id(p: &mut Portal) -> i64 {
    p.next_id += 1;
    p.next_id
}

fn owner_exists(p: &Portal, entity_type: &str, id: i64) -> bool {
    match entity_type.to_ascii_lowercase().as_str() {
        "deal" => p.deals.contains_key(&id),
        "lead" => p.leads.contains_key(&id),
        "contact" => p.contacts.contains_key(&id),
        _ => false,
    }
}

fn fields_of(params: &Value) -> Result<Map<String, Value>, Failure> {
    match params.get("fields") {
        Some(Value::Object(m)) => Ok(m.clone()),
        _ => Err(legacy("Parameter 'fields' must be array.")),
    }
}

/// Applies multi-field items to an entity: without `ID` appended, with `ID` changed or
/// (`DELETE: "Y"`, or an empty value) removed.
fn apply_multi(
    p: &mut Portal,
    entity: &mut Map<String, Value>,
    field: &str,
    items: &Value,
) -> Result<(), Failure> {
    let items: Vec<Value> = match items {
        Value::Array(a) => a.clone(),
        Value::Object(m) => m.values().cloned().collect(),
        _ => return Err(legacy(&format!("Field {field} must be array"))),
    };
    let mut current: Vec<Value> = entity
        .get(field)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for item in items {
        let value = item.get("VALUE").and_then(text).unwrap_or_default();
        if field == "EMAIL" && !value.is_empty() && !value.contains('@') {
            return Err(fail(
                400,
                "ERROR_CORE",
                "The field Work e-mail contains an invalid address",
            ));
        }
        let value_type = item
            .get("VALUE_TYPE")
            .and_then(text)
            .unwrap_or_else(|| "WORK".into());
        match item.get("ID").and_then(int) {
            None if value.is_empty() => {}
            None => {
                let id = next_id(p);
                current.push(json!({"ID": id.to_string(), "VALUE_TYPE": value_type, "VALUE": value, "TYPE_ID": field}));
            }
            Some(id) => {
                let delete =
                    item.get("DELETE").and_then(text).as_deref() == Some("Y") || value.is_empty();
                let position = current
                    .iter()
                    .position(|c| c.get("ID").and_then(int) == Some(id));
                match (position, delete) {
                    (Some(i), true) => {
                        current.remove(i);
                    }
                    (Some(i), false) => {
                        current[i] = json!({"ID": id.to_string(), "VALUE_TYPE": value_type, "VALUE": value, "TYPE_ID": field});
                    }
                    (None, _) => {}
                }
            }
        }
    }
    entity.insert(field.into(), Value::Array(current));
    Ok(())
}

/// Sets plain fields and multi-fields; for deals, checks the pipeline and its stage.
fn apply_fields(
    p: &mut Portal,
    kind: Kind,
    entity: &mut Map<String, Value>,
    fields: Map<String, Value>,
) -> Result<(), Failure> {
    for (k, v) in fields {
        let k = k.to_ascii_uppercase();
        if MULTI_FIELDS.contains(&k.as_str()) {
            apply_multi(p, entity, &k, &v)?;
        } else if k == "CONTACT_IDS" {
            let ids: Vec<Value> = match &v {
                Value::Array(a) => a.iter().filter_map(int).map(|i| json!(i)).collect(),
                Value::Object(m) => m.values().filter_map(int).map(|i| json!(i)).collect(),
                other => int(other).map(|i| vec![json!(i)]).unwrap_or_default(),
            };
            entity.insert(
                "CONTACT_ID".into(),
                ids.first().cloned().unwrap_or(Value::Null),
            );
            entity.insert("CONTACT_IDS".into(), Value::Array(ids));
        } else if k == "CONTACT_ID" {
            let id = int(&v);
            entity.insert(
                "CONTACT_ID".into(),
                id.map(|i| json!(i)).unwrap_or(Value::Null),
            );
            entity.insert(
                "CONTACT_IDS".into(),
                json!(id.into_iter().collect::<Vec<_>>()),
            );
        } else {
            entity.insert(k, v);
        }
    }
    if kind == Kind::Deal {
        let category = entity.get("CATEGORY_ID").and_then(int).unwrap_or(0);
        if !p.categories.iter().any(|(id, ..)| *id == category) {
            return Err(legacy("Category not found"));
        }
        let stages_entity = if category == 0 {
            "DEAL_STAGE".to_owned()
        } else {
            format!("DEAL_STAGE_{category}")
        };
        let first = p
            .stages
            .iter()
            .filter(|s| s.entity_id == stages_entity)
            .min_by_key(|s| s.sort)
            .map(|s| s.status_id.clone())
            .unwrap_or_default();
        match entity.get("STAGE_ID").and_then(text) {
            None => {
                entity.insert("STAGE_ID".into(), json!(first));
            }
            Some(stage) => {
                if !p
                    .stages
                    .iter()
                    .any(|s| s.entity_id == stages_entity && s.status_id == stage)
                {
                    return Err(legacy(&format!(
                        "Stage {stage} does not belong to category {category}"
                    )));
                }
            }
        }
        entity.insert("CATEGORY_ID".into(), json!(category));
    }
    Ok(())
}

fn add(p: &mut Portal, kind: Kind, params: &Value) -> Result<Success, Failure> {
    let fields = fields_of(params)?;
    let mut entity = Map::new();
    apply_fields(p, kind, &mut entity, fields)?;
    let id = next_id(p);
    entity.insert("ID".into(), json!(id));
    entity.insert("DATE_CREATE".into(), json!(chrono::Utc::now().to_rfc3339()));
    if kind == Kind::Deal
        && let Some(stage) = entity.get("STAGE_ID").and_then(text)
    {
        p.stage_history.entry(id).or_default().push(stage);
    }
    entities(p, kind).insert(id, entity);
    ok(json!(id))
}

fn update(p: &mut Portal, kind: Kind, params: &Value) -> Result<Success, Failure> {
    let Some(id) = params.get("id").and_then(int).filter(|i| *i > 0) else {
        return Err(legacy("ID is not defined or invalid."));
    };
    let fields = fields_of(params)?;
    let Some(mut entity) = entities(p, kind).get(&id).cloned() else {
        return Err(legacy("Not found"));
    };
    let before = entity.get("STAGE_ID").cloned();
    apply_fields(p, kind, &mut entity, fields)?;
    if kind == Kind::Deal
        && entity.get("STAGE_ID") != before.as_ref()
        && let Some(stage) = entity.get("STAGE_ID").and_then(text)
    {
        p.stage_history.entry(id).or_default().push(stage);
    }
    entity.insert("DATE_MODIFY".into(), json!(chrono::Utc::now().to_rfc3339()));
    entities(p, kind).insert(id, entity);
    ok(json!(true))
}

/// An entity as `get` and `list` show it: every number a string, flags `Y`/`N`.
fn shown(entity: &Map<String, Value>) -> Map<String, Value> {
    entity
        .iter()
        .filter(|(k, _)| k.as_str() != "CONTACT_IDS")
        .map(|(k, v)| (k.clone(), stringly(v)))
        .collect()
}

fn stringly(v: &Value) -> Value {
    match v {
        Value::Number(n) => Value::String(n.to_string()),
        Value::Bool(b) => json!(if *b { "Y" } else { "N" }),
        Value::Array(a) => Value::Array(a.iter().map(stringly).collect()),
        Value::Object(m) => {
            Value::Object(m.iter().map(|(k, v)| (k.clone(), stringly(v))).collect())
        }
        other => other.clone(),
    }
}

fn get(p: &mut Portal, kind: Kind, params: &Value) -> Result<Success, Failure> {
    let Some(id) = params.get("id").and_then(int).filter(|i| *i > 0) else {
        return Err(legacy("ID is not defined or invalid."));
    };
    match entities(p, kind).get(&id) {
        Some(e) => ok(Value::Object(shown(e))),
        None => Err(legacy("Not found")),
    }
}

fn list(p: &mut Portal, kind: Kind, params: &Value) -> Result<Success, Failure> {
    let items: Vec<Map<String, Value>> = entities(p, kind).values().cloned().collect();
    list_items(items, params)
}

/// Filters (equality on top-level fields, values compared as text), orders by ID, selects,
/// and pages (50 per page, from `start`).
fn list_items(items: Vec<Map<String, Value>>, params: &Value) -> Result<Success, Failure> {
    let filter = params.get("filter").cloned().unwrap_or_else(|| json!({}));
    let Some(filter) = filter.as_object().cloned().or_else(|| {
        filter
            .as_array()
            .filter(|a| a.is_empty())
            .map(|_| Map::new())
    }) else {
        return Err(legacy("Parameter 'filter' must be array."));
    };
    let mut items: Vec<Map<String, Value>> = items
        .into_iter()
        .filter(|item| {
            filter.iter().all(|(k, want)| {
                let key = k.trim_start_matches('=').to_ascii_uppercase();
                item.get(&key).and_then(text) == text(want)
            })
        })
        .collect();
    let descending = params
        .get("order")
        .and_then(|o| o.as_object())
        .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case("ID")))
        .and_then(|(_, v)| text(v))
        .is_some_and(|d| d.eq_ignore_ascii_case("DESC"));
    items.sort_by_key(|i| i.get("ID").and_then(int).unwrap_or(0));
    if descending {
        items.reverse();
    }
    let select: Vec<String> = match params.get("select") {
        Some(Value::Array(a)) => a.iter().filter_map(text).collect(),
        Some(Value::Object(m)) => m.values().filter_map(text).collect(),
        _ => Vec::new(),
    };
    let start = params.get("start").and_then(int).unwrap_or(0).max(0) as usize;
    let total = items.len();
    let page: Vec<Value> = items
        .iter()
        .skip(start)
        .take(50)
        .map(|i| {
            let mut shown = shown(i);
            if !select.is_empty() && !select.iter().any(|s| s == "*") {
                shown.retain(|k, _| k == "ID" || select.iter().any(|s| s.eq_ignore_ascii_case(k)));
            }
            Value::Object(shown)
        })
        .collect();
    Ok(Success {
        next: (start + page.len() < total).then_some(start + page.len()),
        result: Value::Array(page),
        total: Some(total),
    })
}

fn find_by_comm(p: &mut Portal, params: &Value) -> Result<Success, Failure> {
    let Some(kind) = params.get("type").and_then(text) else {
        return Err(fail(
            400,
            "Communication type is not defined",
            "Parameter 'type' is required.",
        ));
    };
    let kind = kind.to_ascii_uppercase();
    if kind != "PHONE" && kind != "EMAIL" {
        return Err(legacy(&format!(
            "Communication type '{kind}' is not supported in current context"
        )));
    }
    let values: Vec<String> = match params.get("values") {
        Some(Value::Array(a)) => a.iter().filter_map(text).collect(),
        Some(Value::Object(m)) => m.values().filter_map(text).collect(),
        _ => Vec::new(),
    };
    if values.is_empty() {
        return Err(legacy("Communication values is not defined"));
    }
    if values.len() > 20 {
        return Err(legacy("Too many communication values (at most 20)"));
    }
    let norm = |v: &str| -> String {
        if kind == "PHONE" {
            v.chars().filter(char::is_ascii_digit).collect()
        } else {
            v.trim().to_lowercase()
        }
    };
    let wanted: Vec<String> = values.iter().map(|v| norm(v)).collect();
    let entity_type = params
        .get("entity_type")
        .and_then(text)
        .map(|t| t.to_ascii_uppercase());
    let mut result = Map::new();
    for (name, kind_of) in [("CONTACT", Kind::Contact), ("LEAD", Kind::Lead)] {
        if entity_type.as_ref().is_some_and(|t| t != name) {
            continue;
        }
        let ids: Vec<Value> = entities(p, kind_of)
            .iter()
            .filter(|(_, e)| {
                e.get(&kind).and_then(Value::as_array).is_some_and(|items| {
                    items.iter().any(|i| {
                        i.get("VALUE")
                            .and_then(text)
                            .is_some_and(|v| wanted.contains(&norm(&v)))
                    })
                })
            })
            .map(|(id, _)| json!(id))
            .collect();
        if !ids.is_empty() {
            result.insert(name.into(), Value::Array(ids));
        }
    }
    ok(if result.is_empty() {
        json!([])
    } else {
        Value::Object(result)
    })
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn lowercase_keys(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A query string with PHP brackets (`fields[PHONE][0][VALUE]=…`, `values[]=…`) as JSON;
/// objects whose keys are all indexes become arrays.
pub fn php_parse(query: &str) -> Value {
    let mut root = Value::Object(Map::new());
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        let (base, mut rest) = match name.find('[') {
            Some(i) => (&name[..i], &name[i..]),
            None => (&name[..], ""),
        };
        let mut path = vec![base.to_owned()];
        while let Some(inner) = rest.strip_prefix('[') {
            let Some(end) = inner.find(']') else { break };
            path.push(inner[..end].to_owned());
            rest = &inner[end + 1..];
        }
        let mut node = &mut root;
        for (i, segment) in path.iter().enumerate() {
            let map = match node {
                Value::Object(m) => m,
                _ => break,
            };
            let key = if segment.is_empty() {
                map.len().to_string()
            } else {
                segment.clone()
            };
            if i == path.len() - 1 {
                map.insert(key, Value::String(value.to_string()));
                break;
            }
            node = map.entry(key).or_insert_with(|| Value::Object(Map::new()));
        }
    }
    arrays(root)
}

fn arrays(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let is_list = !m.is_empty() && m.keys().all(|k| k.parse::<usize>().is_ok());
            if is_list {
                let mut items: Vec<(usize, Value)> = m
                    .into_iter()
                    .map(|(k, v)| (k.parse().unwrap(), arrays(v)))
                    .collect();
                items.sort_by_key(|(i, _)| *i);
                Value::Array(items.into_iter().map(|(_, v)| v).collect())
            } else {
                Value::Object(m.into_iter().map(|(k, v)| (k, arrays(v))).collect())
            }
        }
        other => other,
    }
}
