//! `/admin/prompts`: the documents under `prompts/` (reply templates, FAQ, LLM prompts),
//! versioned in the store and put in force at once (see [`crate::documents`]). Admin only.
//!
//! Document names contain `/` (`replies/ru/greeting`, `llm/system`). They are written in the
//! path as they are — `GET /admin/prompts/replies/ru/greeting/versions` — or with `%2F`; one
//! wildcard route reads the name and the optional last segment (`versions`, `rollback`,
//! `preview`), which no document name ends with.
//!
//! Changes are made one at a time (a lock), so two admins saving at once cannot both build on
//! the same state: each validates against what is in force, stores a version, applies it.

use super::auth::AdminOnly;
use super::error::{ApiError, ApiResult, Body, Path};
use crate::documents::{self, Kind, Overrides};
use crate::http::AppState;
use actors::store::{PromptVersion, WriteOp, WriteOutcome};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/prompts", get(list))
        .route("/admin/prompts/{*path}", get(read).put(save).post(act))
}

/// What a path under `/admin/prompts/` asks for.
enum Target {
    Document(String),
    Versions(String),
    Rollback(String),
    Preview(String),
}

impl Target {
    fn parse(path: &str) -> Target {
        let path = path.trim_matches('/');
        for (suffix, make) in [
            ("/versions", Target::Versions as fn(String) -> Target),
            ("/rollback", Target::Rollback),
            ("/preview", Target::Preview),
        ] {
            if let Some(name) = path.strip_suffix(suffix) {
                return make(name.to_owned());
            }
        }
        Target::Document(path.to_owned())
    }
}

/// The document called `name`, or a 404 that says where the list is.
fn known(name: &str) -> ApiResult<Kind> {
    documents::kind(name).ok_or_else(|| {
        ApiError::NotFound(format!(
            "no document named `{name}`; GET /admin/prompts lists them"
        ))
    })
}

fn kind_word(kind: Kind) -> &'static str {
    match kind {
        Kind::Template { .. } => "template",
        Kind::Faq => "faq",
        Kind::LlmSystem | Kind::LlmExtract => "llm",
    }
}

/// `GET /admin/prompts`: every document, its version in force (0: the shipped default) and
/// whether its text is the shipped one.
async fn list(State(state): State<AppState>, AdminOnly(_): AdminOnly) -> ApiResult<Json<Value>> {
    let current = documents::current(state.store()).await?;
    let prompts: Vec<Value> = documents::names()
        .into_iter()
        .map(|name| {
            let kind = documents::kind(&name).expect("listed names are known");
            let stored = current.get(&name);
            json!({
                "name": name,
                "kind": kind_word(kind),
                "version": stored.map_or(0, |v| v.version),
                "default": stored.is_none_or(|v| Some(v.content.as_str()) == documents::shipped(&name)),
                "author": stored.map(|v| &v.author),
                "updated_at": stored.map(|v| v.created_at),
            })
        })
        .collect();
    Ok(Json(json!({ "prompts": prompts })))
}

async fn read(
    State(state): State<AppState>,
    AdminOnly(_): AdminOnly,
    Path(path): Path<String>,
) -> ApiResult<Json<Value>> {
    match Target::parse(&path) {
        Target::Document(name) => show(&state, &name).await,
        Target::Versions(name) => versions(&state, &name).await,
        Target::Rollback(_) | Target::Preview(_) => {
            Err(ApiError::MethodNotAllowed("GET; use POST".into()))
        }
    }
}

async fn save(
    State(state): State<AppState>,
    AdminOnly(caller): AdminOnly,
    Path(path): Path<String>,
    Body(body): Body<Draft>,
) -> ApiResult<Json<Value>> {
    match Target::parse(&path) {
        Target::Document(name) => {
            known(&name)?;
            let version = put(&state, &name, body.content, &caller.name).await?;
            Ok(Json(json!({ "name": name, "version": version })))
        }
        _ => Err(ApiError::MethodNotAllowed(
            "PUT; PUT /admin/prompts/{name}".into(),
        )),
    }
}

async fn act(
    State(state): State<AppState>,
    AdminOnly(caller): AdminOnly,
    Path(path): Path<String>,
    Body(body): Body<Value>,
) -> ApiResult<Json<Value>> {
    match Target::parse(&path) {
        Target::Rollback(name) => {
            let Rollback { version } = parse(body)?;
            rollback(&state, &name, version, &caller.name).await
        }
        Target::Preview(name) => {
            let preview: Preview = parse(body)?;
            known(&name)?;
            let overrides = overrides(&state).await?;
            documents::preview(
                &name,
                &preview.content,
                &overrides,
                preview.question.as_deref(),
            )
            .map(Json)
            .map_err(|e| ApiError::Unprocessable(e.to_string()))
        }
        Target::Document(_) | Target::Versions(_) => Err(ApiError::MethodNotAllowed(
            "POST; POST …/rollback or …/preview".into(),
        )),
    }
}

/// A body of the shape `T`, or a 422 that says what is wrong with it.
fn parse<T: serde::de::DeserializeOwned>(body: Value) -> ApiResult<T> {
    serde_json::from_value(body).map_err(|e| ApiError::Unprocessable(e.to_string()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Draft {
    content: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Rollback {
    /// The version to restore; 0 is the shipped default.
    version: i32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Preview {
    content: String,
    /// For the FAQ: a customer's question to answer with the draft.
    question: Option<String>,
}

/// `GET /admin/prompts/{name}`: the text in force.
async fn show(state: &AppState, name: &str) -> ApiResult<Json<Value>> {
    known(name)?;
    let latest = state
        .store()
        .prompt_versions(name)
        .await?
        .into_iter()
        .next();
    let shipped = documents::shipped(name).unwrap_or_default();
    Ok(Json(match latest {
        Some(v) => json!({
            "name": name,
            "version": v.version,
            "default": v.content == shipped,
            "content": v.content,
            "author": v.author,
            "updated_at": v.created_at,
        }),
        None => json!({
            "name": name,
            "version": 0,
            "default": true,
            "content": shipped,
            "author": null,
            "updated_at": null,
        }),
    }))
}

/// `GET /admin/prompts/{name}/versions`: every stored version, newest first.
async fn versions(state: &AppState, name: &str) -> ApiResult<Json<Value>> {
    known(name)?;
    let versions = state.store().prompt_versions(name).await?;
    Ok(Json(json!({
        "name": name,
        "current": versions.first().map_or(0, |v| v.version),
        "versions": versions,
    })))
}

/// `POST /admin/prompts/{name}/rollback`: the text of an earlier version (0: the shipped
/// default) becomes a new version, after the same checks as an edit.
async fn rollback(
    state: &AppState,
    name: &str,
    version: i32,
    author: &str,
) -> ApiResult<Json<Value>> {
    known(name)?;
    let content = if version == 0 {
        documents::shipped(name).unwrap_or_default().to_owned()
    } else {
        state
            .store()
            .prompt_version(name, version)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("{name} has no version {version}")))?
            .content
    };
    let new = put(state, name, content, author).await?;
    Ok(Json(
        json!({ "name": name, "version": new, "restored": version }),
    ))
}

/// Validates `content` against what is in force, stores it as the next version by `author`,
/// and puts it in force. Nothing changes when it is refused.
async fn put(state: &AppState, name: &str, content: String, author: &str) -> ApiResult<i32> {
    let _one_at_a_time = state.admin.changes.lock().await;
    let mut overrides = overrides(state).await?;
    documents::validate(name, &content, &overrides)
        .map_err(|e| ApiError::Unprocessable(e.to_string()))?;
    let outcome = state
        .engine
        .store()
        .write(WriteOp::InsertPromptVersion {
            name: name.to_owned(),
            content: content.clone(),
            author: author.to_owned(),
            at: actors::store::now(),
        })
        .await?;
    let WriteOutcome::PromptVersionAdded(version) = outcome else {
        return Err(
            anyhow::anyhow!("unexpected outcome of a prompt version insert: {outcome:?}").into(),
        );
    };
    overrides.insert(name.to_owned(), content);
    documents::apply(state.live.as_ref(), name, &overrides)
        .await
        .map_err(|e| {
            anyhow::anyhow!("version {version} of {name} is stored but not in force: {e:#}")
        })?;
    tracing::info!(document = %name, version, author, "new version in force");
    Ok(version)
}

/// The latest stored text of every edited document.
async fn overrides(state: &AppState) -> ApiResult<Overrides> {
    let current: BTreeMap<String, PromptVersion> = documents::current(state.store()).await?;
    Ok(current.into_iter().map(|(n, v)| (n, v.content)).collect())
}
