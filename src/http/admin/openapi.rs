//! `GET /admin/openapi.json`: the admin API described in OpenAPI 3.1, built from
//! [`operations`], one entry per route and method. Any valid token may read it.
//!
//! The table is written by hand next to the routers; a test (`tests/engine/admin.rs`) calls
//! every operation it lists without a token and expects a 401 (so each is mounted), and checks
//! that its own list of every route the API serves is in the document.

use super::auth::Caller;
use crate::http::AppState;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Map, Value, json};

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/openapi.json", get(document_route))
}

async fn document_route(_: Caller) -> Json<Value> {
    Json(document())
}

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Admin tokens only; a manager's gets 403.
    Admin,
    /// Admin and manager tokens.
    Manager,
}

/// One route and method.
pub struct Operation {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
    pub tag: &'static str,
    pub summary: &'static str,
    pub description: &'static str,
    /// Query parameters: name, description, JSON schema.
    pub query: Vec<(&'static str, &'static str, Value)>,
    /// The JSON request body's schema.
    pub body: Option<Value>,
    /// Extra error statuses besides 401/403/429 (e.g. `404`, `409`, `422`), with what they mean.
    pub errors: Vec<(&'static str, &'static str)>,
}

fn op(
    method: &'static str,
    path: &'static str,
    access: Access,
    tag: &'static str,
    summary: &'static str,
    description: &'static str,
) -> Operation {
    Operation {
        method,
        path,
        access,
        tag,
        summary,
        description,
        query: Vec::new(),
        body: None,
        errors: Vec::new(),
    }
}

impl Operation {
    fn query(mut self, name: &'static str, description: &'static str, schema: Value) -> Self {
        self.query.push((name, description, schema));
        self
    }

    fn body(mut self, schema: Value) -> Self {
        self.body = Some(schema);
        self
    }

    fn error(mut self, status: &'static str, meaning: &'static str) -> Self {
        self.errors.push((status, meaning));
        self
    }
}

const NAME_NOTE: &str = "`{name}` is a document name such as `replies/ru/greeting`, `faq`, `llm/system` or `llm/extract`; its slashes may be written as they are or as `%2F`.";

/// Every operation of the admin API.
pub fn operations() -> Vec<Operation> {
    use Access::{Admin, Manager};
    let text = |description: &str| json!({"type": "string", "description": description});
    let limit = |max: i64, default: i64| json!({"type": "integer", "minimum": 1, "maximum": max, "default": default});
    vec![
        op("get", "/admin/openapi.json", Manager, "meta", "This document", "Any valid token."),
        op("get", "/admin/prompts", Admin, "prompts", "List the documents",
            "Every document under prompts/ (reply templates, FAQ, LLM prompts) with the version in force (0: the shipped default) and whether its text is the shipped one."),
        op("get", "/admin/prompts/{name}", Admin, "prompts", "Read a document", NAME_NOTE)
            .error("404", "no such document"),
        op("put", "/admin/prompts/{name}", Admin, "prompts", "Save a new version",
            "Validated first: a template compiles, renders with every sample context, uses only the variables the engine passes it and keeps the other templates of its language rendering; the FAQ parses; an LLM prompt is not empty; size limits. The new version is in force on the next message of every conversation. The token's name is recorded as the author.")
            .body(json!({"type": "object", "required": ["content"], "properties": {"content": text("the document's new text")}}))
            .error("404", "no such document")
            .error("422", "the text is refused; the message says why; nothing changed"),
        op("get", "/admin/prompts/{name}/versions", Admin, "prompts", "List a document's versions", "Newest first, with their text, author and time.")
            .error("404", "no such document"),
        op("post", "/admin/prompts/{name}/rollback", Admin, "prompts", "Restore an earlier version",
            "The text of `version` (0: the shipped default) becomes a new version, after the same checks as a save.")
            .body(json!({"type": "object", "required": ["version"], "properties": {"version": {"type": "integer", "minimum": 0}}}))
            .error("404", "no such document or version")
            .error("422", "that text no longer passes the checks"),
        op("post", "/admin/prompts/{name}/preview", Admin, "prompts", "Preview a draft",
            "Checks a draft and shows it without saving: a template rendered with each sample context; the FAQ's topics and its answers to `question`; an LLM prompt's length.")
            .body(json!({"type": "object", "required": ["content"], "properties": {"content": text("the draft"), "question": text("FAQ only: a customer's question to answer")}}))
            .error("404", "no such document")
            .error("422", "the draft is refused; the message says why"),
        op("get", "/admin/conversations", Manager, "conversations", "List conversations",
            "Most recently updated first, a page at a time: pass the answer's `next_cursor` as `cursor` for the next page.")
            .query("channel", "telegram, wazzup, email or console", text("channel"))
            .query("owner", "bot, waiting or manager", text("owner"))
            .query("updated_since", "RFC 3339 time, e.g. 2026-11-21T00:00:00Z", json!({"type": "string", "format": "date-time"}))
            .query("limit", "page size", limit(200, 50))
            .query("cursor", "next_cursor of the previous page", text("cursor"))
            .error("400", "a filter could not be read"),
        op("get", "/admin/conversations/{id}", Manager, "conversations", "Read a conversation",
            "Owner, dialog state and slots, the last 500 transcript lines, escalations and changes of hands.")
            .error("404", "no such conversation"),
        op("post", "/admin/conversations/{id}/takeover", Manager, "conversations", "Take the chat",
            "The bot falls silent in this chat; its open escalations are claimed by the token's name.")
            .error("404", "no such conversation"),
        op("post", "/admin/conversations/{id}/release", Manager, "conversations", "Give the chat back to the bot",
            "Its escalations are resolved.")
            .error("404", "no such conversation"),
        op("post", "/admin/conversations/{id}/messages", Manager, "conversations", "Write to the customer",
            "Sent through the customer's own channel and outbox; the chat is taken if it was not.")
            .body(json!({"type": "object", "required": ["text"], "properties": {"text": text("at most 4000 characters")}}))
            .error("404", "no such conversation")
            .error("422", "empty or too long"),
        op("get", "/admin/escalations", Manager, "escalations", "List escalations",
            "Open and claimed ones oldest first, the others newest first.")
            .query("status", "open, claimed or resolved", json!({"type": "string", "enum": ["open", "claimed", "resolved"]}))
            .query("limit", "how many", limit(500, 100))
            .error("400", "unknown status"),
        op("post", "/admin/escalations/{id}/claim", Manager, "escalations", "Claim an escalation",
            "Takes its chat for the token's name (the bot falls silent).")
            .error("404", "no such escalation")
            .error("409", "resolved, or claimed by someone else"),
        op("post", "/admin/escalations/{id}/resolve", Manager, "escalations", "Resolve an escalation",
            "Gives its chat back to the bot when someone holds it (which resolves all of the chat's escalations).")
            .error("404", "no such escalation")
            .error("409", "already resolved"),
        op("get", "/admin/leads", Manager, "leads", "List leads",
            "JSON, or CSV for Excel with `Accept: text/csv` or `format=csv`: UTF-8 with BOM, `;`-separated.")
            .query("limit", "how many", limit(10000, 1000))
            .query("offset", "how many to skip", json!({"type": "integer", "minimum": 0, "default": 0}))
            .query("format", "json or csv", json!({"type": "string", "enum": ["json", "csv"]})),
        op("get", "/admin/crm/outbox", Admin, "crm", "List CRM commands", "Oldest first.")
            .query("status", "pending, failed or done", json!({"type": "string", "enum": ["pending", "failed", "done"]}))
            .query("limit", "how many", limit(500, 100))
            .error("400", "unknown status"),
        op("post", "/admin/crm/outbox/{id}/retry", Admin, "crm", "Retry a CRM command",
            "Pending again, attempts back to 0, due now.")
            .error("404", "no such command")
            .error("409", "the command is done"),
        op("post", "/admin/crm/recheck", Admin, "crm", "Re-read the Bitrix24 set-up now",
            "The portal's pipeline and stages are read again in the background (as on SIGHUP); commands held for a set-up problem are released once it is right.")
            .error("404", "Bitrix24 is not configured"),
        op("get", "/admin/inbox/parked", Admin, "inbox", "List parked messages",
            "Customer messages whose handling failed for good (never an outage: those wait), oldest first, with the error. Each was answered with an apology and raised an escalation.")
            .query("limit", "how many", limit(500, 100)),
        op("post", "/admin/inbox/parked/{id}/retry", Admin, "inbox", "Retry a parked message",
            "Pending again and handed to its conversation, in order with what that chat has in hand.")
            .error("404", "no such parked message"),
        op("post", "/admin/inbox/parked/retry", Admin, "inbox", "Retry parked messages",
            "The oldest parked messages, up to `limit`, pending again and handed to their conversations.")
            .query("limit", "how many", limit(500, 100)),
        op("get", "/admin/status", Admin, "status", "Integrations, database, queues",
            "Each integration configured or not, with its last success and last error since start; the database; queue depths; live conversations."),
    ]
}

/// The OpenAPI document.
pub fn document() -> Value {
    let mut paths: Map<String, Value> = Map::new();
    for o in operations() {
        let mut parameters: Vec<Value> = o
            .path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .map(|name| {
                json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"},
                    "description": if name == "name" { NAME_NOTE } else { "the id" }})
            })
            .collect();
        parameters.extend(o.query.iter().map(|(name, description, schema)| {
            json!({"name": name, "in": "query", "required": false, "description": description, "schema": schema})
        }));
        let mut responses = Map::new();
        responses.insert(
            "200".into(),
            json!({"description": "done", "content": {"application/json": {}}}),
        );
        responses.insert("401".into(), error("missing or invalid bearer token"));
        if o.access == Access::Admin {
            responses.insert("403".into(), error("a manager's token on an admin route"));
        }
        responses.insert(
            "429".into(),
            error("too many requests for this token (see Retry-After)"),
        );
        for (status, meaning) in &o.errors {
            responses.insert((*status).into(), error(meaning));
        }
        let roles = match o.access {
            Access::Admin => json!(["admin"]),
            Access::Manager => json!(["admin", "manager"]),
        };
        let mut operation = json!({
            "tags": [o.tag],
            "summary": o.summary,
            "description": o.description,
            "operationId": format!("{}{}", o.method, o.path.replace(['/', '{', '}', '.'], "_")),
            "x-roles": roles,
            "parameters": parameters,
            "responses": responses,
        });
        if let Some(schema) = o.body {
            operation["requestBody"] =
                json!({"required": true, "content": {"application/json": {"schema": schema}}});
        }
        paths
            .entry(o.path)
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("paths are objects")
            .insert(o.method.into(), operation);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Crystal Bay admin API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Bearer tokens: ADMIN_TOKEN (admin) and ADMIN_TOKENS (named, admin or manager). Errors are {\"error\": {\"code\", \"message\"}}.",
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": {
                "type": "object",
                "required": ["error"],
                "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
                    "code": {"type": "string"}, "message": {"type": "string"}}}},
            }},
        },
        "security": [{"bearer": []}],
        "paths": paths,
    })
}

fn error(description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}
