//! The admin API against its own OpenAPI document, as Schemathesis would check it: every
//! documented operation is called with valid inputs and with bad ones (no token, a manager's
//! token, unknown and ill-typed query parameters, bodies that are not JSON, of the wrong
//! shape or too large, ids that do not exist, a path that cannot be decoded, `Accept:
//! text/csv`), and every answer must be documented: its status code, its content type, and
//! its body valid against the documented schema (objects closed: a property the schema does
//! not name is a finding). The engine runs with a fake Bitrix24, so that the CRM routes have
//! commands to list and retry. Methods a documented path does not take answer 405 in the error
//! shape.

use crate::support::app::{self, Options, TestApp};
use crate::support::eventually;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

const ADMIN: &str = "admin-token-0123456789abcdef";
const MANAGER: &str = "manager-token-0123456789abcdef";
const WAIT: Duration = Duration::from_secs(20);

/// One request of the run.
struct Case {
    what: String,
    path: String,
    token: Option<&'static str>,
    query: Option<String>,
    accept: Option<&'static str>,
    body: Body,
}

#[derive(Clone)]
enum Body {
    None,
    Json(Value),
    Raw(&'static str, Vec<u8>),
}

/// What came back.
struct Answer {
    status: StatusCode,
    content_type: Option<String>,
    bytes: Vec<u8>,
}

async fn send(app: &TestApp, method: &Method, case: &Case) -> Answer {
    let mut url = format!("{}{}", app.base, case.path);
    if let Some(q) = &case.query {
        url.push('?');
        url.push_str(q);
    }
    let mut request = app.http.request(method.clone(), url);
    if let Some(token) = case.token {
        request = request.bearer_auth(token);
    }
    if let Some(accept) = case.accept {
        request = request.header("accept", accept);
    }
    request = match &case.body {
        Body::None => request,
        Body::Json(v) => request.json(v),
        Body::Raw(content_type, bytes) => request
            .header("content-type", *content_type)
            .body(bytes.clone()),
    };
    let response = request.send().await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap().trim().to_owned());
    let bytes = response.bytes().await.unwrap().to_vec();
    Answer {
        status,
        content_type,
        bytes,
    }
}

/// The schema `#/components/schemas/…` names.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let name = reference
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("a reference outside the document: {reference}"));
            let found = &doc["components"]["schemas"][name];
            assert!(found.is_object(), "{reference} is not defined");
            resolve(doc, found)
        }
        None => schema,
    }
}

/// The properties and required names of an object schema, `allOf` parts included.
fn object_parts(
    doc: &Value,
    schema: &Value,
    properties: &mut Vec<(String, Value)>,
    required: &mut Vec<String>,
) {
    let schema = resolve(doc, schema);
    if let Some(p) = schema["properties"].as_object() {
        properties.extend(p.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    if let Some(r) = schema["required"].as_array() {
        required.extend(r.iter().filter_map(|n| n.as_str().map(str::to_owned)));
    }
    for part in schema["allOf"].as_array().into_iter().flatten() {
        object_parts(doc, part, properties, required);
    }
}

/// Where `value` does not fit `schema`, one line each.
fn validate(doc: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    let schema = resolve(doc, schema);
    if let Some(options) = schema
        .get("oneOf")
        .or_else(|| schema.get("anyOf"))
        .and_then(Value::as_array)
    {
        let fits = options.iter().any(|o| {
            let mut e = Vec::new();
            validate(doc, o, value, at, &mut e);
            e.is_empty()
        });
        if !fits {
            errors.push(format!(
                "{at}: {value} fits none of {}",
                Value::Array(options.clone())
            ));
        }
        return;
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ if schema.get("properties").is_some() || schema.get("allOf").is_some() => vec!["object"],
        _ => return, // any value
    };
    let fits = |t: &str| match t {
        "null" => value.is_null(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        other => panic!("{at}: a schema type the check does not know: {other}"),
    };
    if !types.iter().any(|t| fits(t)) {
        errors.push(format!("{at}: {value} is not {types:?}"));
        return;
    }
    match value {
        Value::String(s)
            if schema["format"] == "date-time"
                && chrono::DateTime::parse_from_rfc3339(s).is_err() =>
        {
            errors.push(format!("{at}: «{s}» is not a date-time"));
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    validate(doc, item_schema, item, &format!("{at}[{i}]"), errors);
                }
            }
        }
        Value::Object(map) => {
            let mut properties = Vec::new();
            let mut required = Vec::new();
            object_parts(doc, schema, &mut properties, &mut required);
            if properties.is_empty() {
                return; // a free-form object
            }
            for name in &required {
                if !map.contains_key(name) {
                    errors.push(format!("{at}: the required `{name}` is missing"));
                }
            }
            for (name, v) in map {
                match properties.iter().find(|(n, _)| n == name) {
                    Some((_, s)) => validate(doc, s, v, &format!("{at}.{name}"), errors),
                    None => errors.push(format!("{at}: `{name}` is not in the schema")),
                }
            }
        }
        _ => {}
    }
}

/// A value that fits `schema` (the first choice of each).
fn example(doc: &Value, schema: &Value) -> Value {
    let schema = resolve(doc, schema);
    let kind = match &schema["type"] {
        Value::String(t) => t.clone(),
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null")
            .to_owned(),
        _ => "object".into(),
    };
    match kind.as_str() {
        "string" => json!("Здравствуйте! Это проверка."),
        "integer" => json!(schema["minimum"].as_i64().unwrap_or(1)),
        "number" => json!(1.0),
        "boolean" => json!(true),
        "array" => json!([]),
        "null" => Value::Null,
        _ => {
            let mut properties = Vec::new();
            let mut required = Vec::new();
            object_parts(doc, schema, &mut properties, &mut required);
            let mut object = serde_json::Map::new();
            for (name, s) in properties {
                if required.contains(&name) {
                    object.insert(name, example(doc, &s));
                }
            }
            Value::Object(object)
        }
    }
}

/// A value of the wrong type for `schema`.
fn wrong(doc: &Value, schema: &Value) -> Value {
    match resolve(doc, schema)["type"].as_str() {
        Some("string") => json!(42),
        _ => json!("not what it should be"),
    }
}

/// Checks one answer against the operation's documented responses.
fn check(doc: &Value, operation: &Value, label: &str, answer: &Answer, findings: &mut Vec<String>) {
    let responses = &operation["responses"];
    let code = answer.status.as_u16().to_string();
    let Some(response) = responses.get(&code).or_else(|| responses.get("default")) else {
        let body = String::from_utf8_lossy(&answer.bytes);
        findings.push(format!("{label}: status {code} is not documented ({body})"));
        return;
    };
    let response = resolve(doc, response);
    let Some(content) = response["content"].as_object() else {
        if !answer.bytes.is_empty() {
            findings.push(format!("{label}: {code} documents no body, one came"));
        }
        return;
    };
    let Some(content_type) = &answer.content_type else {
        findings.push(format!("{label}: {code} came without a content type"));
        return;
    };
    let Some(media) = content.get(content_type) else {
        findings.push(format!(
            "{label}: {code} came as {content_type}; documented: {:?}",
            content.keys().collect::<Vec<_>>()
        ));
        return;
    };
    let Some(schema) = media.get("schema") else {
        return;
    };
    let value = if content_type == "application/json" {
        match serde_json::from_slice(&answer.bytes) {
            Ok(v) => v,
            Err(e) => {
                findings.push(format!("{label}: {code} is not JSON: {e}"));
                return;
            }
        }
    } else {
        Value::String(String::from_utf8_lossy(&answer.bytes).into_owned())
    };
    let mut errors = Vec::new();
    validate(doc, schema, &value, "body", &mut errors);
    for e in errors {
        findings.push(format!("{label}: {code}: {e}"));
    }
}

#[tokio::test]
async fn every_answer_of_every_documented_operation_is_documented() {
    let bitrix = fakes::bitrix::start().await;
    let app = app::spawn_with(Options {
        env: vec![
            ("BITRIX_WEBHOOK_URL", bitrix.webhook_url()),
            ("ADMIN_TOKEN", ADMIN.into()),
            ("ADMIN_TOKENS", format!("Айдана:manager:{MANAGER}")),
            ("ADMIN_RATE_LIMIT", "100000".into()),
        ],
        ..Options::default()
    })
    .await;
    // A conversation, and an escalation in it, for the ids.
    let phone = "77050000777";
    for (id, text) in [
        ("c-1", "Здравствуйте"),
        ("c-2", "Позовите менеджера, пожалуйста"),
    ] {
        let status = app
            .post_wazzup(&fakes::wazzup::inbound(id, phone, text))
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    let store = app.engine.store().store.clone();
    assert!(
        eventually(WAIT, || async {
            store
                .list_escalations(None, 10)
                .await
                .is_ok_and(|e| !e.is_empty())
        })
        .await,
        "the customer's call for a manager made an escalation"
    );
    let escalation = store.list_escalations(None, 10).await.unwrap().remove(0);
    let conversation = escalation.conversation_id.clone();
    // The escalation's note for Bitrix24: a CRM command to retry.
    assert!(
        eventually(WAIT, || async {
            store
                .crm_commands(None, 10)
                .await
                .is_ok_and(|c| !c.is_empty())
        })
        .await,
        "a CRM command was queued"
    );
    let command = store.crm_commands(None, 10).await.unwrap().remove(0).id;

    let doc: Value = app
        .http
        .get(format!("{}/admin/openapi.json", app.base))
        .bearer_auth(MANAGER)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut findings = Vec::new();
    let mut calls = 0;
    let paths = doc["paths"].as_object().unwrap().clone();
    for (template, item) in &paths {
        let item = item.as_object().unwrap();
        let real = |name: &str| {
            template.replace("{name}", name).replace(
                "{id}",
                if template.contains("escalations") {
                    &escalation.id
                } else if template.contains("crm") {
                    &command
                } else {
                    &conversation
                },
            )
        };
        for (m, operation) in item {
            let method: Method = m.to_uppercase().parse().unwrap();
            let path = real("replies/ru/greeting");
            let mut cases = Vec::new();
            let valid_body = operation
                .pointer("/requestBody/content/application~1json/schema")
                .map(|s| example(&doc, s));
            let body = valid_body.clone().map_or(Body::None, Body::Json);
            let case =
                |what: &str, path: &str, token, query: Option<String>, accept, body: Body| Case {
                    what: what.to_owned(),
                    path: path.to_owned(),
                    token,
                    query,
                    accept,
                    body,
                };
            cases.push(case(
                "valid, admin",
                &path,
                Some(ADMIN),
                None,
                None,
                body.clone(),
            ));
            cases.push(case(
                "valid, manager",
                &path,
                Some(MANAGER),
                None,
                None,
                body.clone(),
            ));
            cases.push(case("no token", &path, None, None, None, body.clone()));
            cases.push(case(
                "Accept: text/csv",
                &path,
                Some(ADMIN),
                None,
                Some("text/csv"),
                body.clone(),
            ));
            cases.push(case(
                "unknown query parameter",
                &path,
                Some(ADMIN),
                Some("no_such_parameter=1".into()),
                None,
                body.clone(),
            ));
            let unknown = template
                .replace("{name}", "no/such/document")
                .replace("{id}", "00000000-0000-0000-0000-000000000000");
            if unknown != *template {
                cases.push(case(
                    "unknown id",
                    &unknown,
                    Some(ADMIN),
                    None,
                    None,
                    body.clone(),
                ));
                let undecodable = template.replace("{name}", "%ZZ").replace("{id}", "%ZZ");
                cases.push(case(
                    "undecodable path",
                    &undecodable,
                    Some(ADMIN),
                    None,
                    None,
                    body.clone(),
                ));
            }
            for p in operation["parameters"].as_array().into_iter().flatten() {
                if p["in"] != "query" {
                    continue;
                }
                let name = p["name"].as_str().unwrap();
                let schema = resolve(&doc, &p["schema"]);
                let value = example(&doc, schema);
                let text = value.as_str().map_or(value.to_string(), str::to_owned);
                let good = if schema["pattern"].is_string() {
                    // `^(a|b|c)$`: the first choice.
                    schema["pattern"].as_str().unwrap()[2..]
                        .split(['|', ')'])
                        .next()
                        .unwrap()
                        .to_owned()
                } else if schema["format"] == "date-time" {
                    "2026-11-21T00:00:00Z".into()
                } else {
                    text
                };
                for (what, v) in [
                    ("valid", good),
                    ("ill-typed", "not-a-valid-value".into()),
                    ("out of range", "-5".into()),
                    ("empty", String::new()),
                ] {
                    cases.push(case(
                        &format!("query {name} {what}"),
                        &path,
                        Some(ADMIN),
                        Some(format!(
                            "{name}={}",
                            form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
                        )),
                        None,
                        Body::None,
                    ));
                }
            }
            if let Some(valid) = &valid_body {
                let json = |v: &Value| Body::Json(v.clone());
                cases.push(case(
                    "body not JSON",
                    &path,
                    Some(ADMIN),
                    None,
                    None,
                    Body::Raw("application/json", b"{not json".to_vec()),
                ));
                cases.push(case(
                    "body as text/plain",
                    &path,
                    Some(ADMIN),
                    None,
                    None,
                    Body::Raw("text/plain", b"hello".to_vec()),
                ));
                cases.push(case("no body", &path, Some(ADMIN), None, None, Body::None));
                cases.push(case(
                    "empty object",
                    &path,
                    Some(ADMIN),
                    None,
                    None,
                    json(&json!({})),
                ));
                cases.push(case(
                    "a JSON array",
                    &path,
                    Some(ADMIN),
                    None,
                    None,
                    json(&json!([1, 2])),
                ));
                let mut extra = valid.clone();
                extra["no_such_field"] = json!(1);
                cases.push(case(
                    "an unknown field",
                    &path,
                    Some(ADMIN),
                    None,
                    None,
                    json(&extra),
                ));
                let schema = resolve(
                    &doc,
                    operation
                        .pointer("/requestBody/content/application~1json/schema")
                        .unwrap(),
                );
                for (name, s) in schema["properties"].as_object().into_iter().flatten() {
                    let mut bad = valid.clone();
                    bad[name] = wrong(&doc, s);
                    cases.push(case(
                        &format!("{name} of the wrong type"),
                        &path,
                        Some(ADMIN),
                        None,
                        None,
                        json(&bad),
                    ));
                }
                let big = format!("{{\"content\": \"{}\"}}", "я".repeat(1024 * 1024));
                cases.push(case(
                    "a 2 MB body",
                    &path,
                    Some(ADMIN),
                    None,
                    None,
                    Body::Raw("application/json", big.into_bytes()),
                ));
            }
            for c in &cases {
                let answer = send(&app, &method, c).await;
                calls += 1;
                let label = format!("{m} {template} [{}]", c.what);
                check(&doc, operation, &label, &answer, &mut findings);
            }
        }
        // Methods the path does not take.
        for m in ["get", "put", "post", "delete", "patch"] {
            if item.contains_key(m) {
                continue;
            }
            let method: Method = m.to_uppercase().parse().unwrap();
            let c = Case {
                what: "undocumented method".into(),
                path: real("replies/ru/greeting"),
                token: Some(ADMIN),
                query: None,
                accept: None,
                body: Body::Json(json!({})),
            };
            let answer = send(&app, &method, &c).await;
            calls += 1;
            let body: Value = serde_json::from_slice(&answer.bytes).unwrap_or(Value::Null);
            if answer.status != StatusCode::METHOD_NOT_ALLOWED
                || body["error"]["code"] != "method_not_allowed"
            {
                findings.push(format!(
                    "{m} {template}: expected 405 method_not_allowed, got {} {body}",
                    answer.status
                ));
            }
        }
    }
    assert!(calls > 200, "{calls} calls");
    assert!(
        findings.is_empty(),
        "{} findings in {calls} calls:\n{}",
        findings.len(),
        findings.join("\n")
    );
}
