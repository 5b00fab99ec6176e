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
use super::error::{
    AdminToken, ApiError, ApiResult, Body, BodyErrors, ErrorBody, Path, PathErrors,
};
use crate::documents::{self, Kind, Overrides};
use crate::http::AppState;
use actors::store::{PromptVersion, WriteOp, WriteOutcome};
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(Documented::openapi())
        .routes(routes!(list))
        // One wildcard route serves the operations of `Documented` (names contain `/`).
        .route("/admin/prompts/{*path}", get(read).put(save).post(act))
}

const NAME_NOTE: &str = "a document name such as `replies/ru/greeting`, `faq`, `llm/system` or `llm/extract`; its slashes may be written as they are or as `%2F`";

/// The operations under `/admin/prompts/{name}`, described here and served by the wildcard
/// route's [`read`], [`save`] and [`act`].
#[derive(OpenApi)]
#[openapi(paths(doc::show, doc::save, doc::versions, doc::rollback, doc::preview))]
struct Documented;

/// Descriptions only: see [`Documented`].
#[allow(dead_code)]
mod doc {
    use super::*;

    /// The text in force, its version (0: the shipped default) and author.
    #[utoipa::path(get, path = "/admin/prompts/{name}", tag = "prompts",
        summary = "Read a document",
        params(("name" = String, Path, description = NAME_NOTE)),
        responses(
            (status = 200, description = "the document", body = PromptDocument),
            (status = 404, description = "no such document", body = ErrorBody),
            (status = 405, description = "the name ends in `/rollback` or `/preview`: those take POST", body = ErrorBody),
            PathErrors,
            AdminToken,
        ))]
    fn show() {}

    /// Validated first: a template compiles, renders with every sample context, uses only the
    /// variables the engine passes it and keeps the other templates of its language
    /// rendering; the FAQ parses; an LLM prompt is not empty; size limits. The new version is
    /// in force on the next message of every conversation. The token's name is recorded as
    /// the author.
    #[utoipa::path(put, path = "/admin/prompts/{name}", tag = "prompts",
        summary = "Save a new version",
        params(("name" = String, Path, description = NAME_NOTE)),
        request_body = Draft,
        responses(
            (status = 200, description = "saved and in force", body = Saved),
            (status = 404, description = "no such document", body = ErrorBody),
            (status = 405, description = "the name ends in `/versions`, `/rollback` or `/preview`: PUT the document itself", body = ErrorBody),
            BodyErrors,
            AdminToken,
        ))]
    fn save() {}

    /// Newest first, with their text, author and time.
    #[utoipa::path(get, path = "/admin/prompts/{name}/versions", tag = "prompts",
        summary = "List a document's versions",
        params(("name" = String, Path, description = NAME_NOTE)),
        responses(
            (status = 200, description = "the versions", body = Versions),
            (status = 404, description = "no such document", body = ErrorBody),
            PathErrors,
            AdminToken,
        ))]
    fn versions() {}

    /// The text of `version` (0: the shipped default) becomes a new version, after the same
    /// checks as a save.
    #[utoipa::path(post, path = "/admin/prompts/{name}/rollback", tag = "prompts",
        summary = "Restore an earlier version",
        params(("name" = String, Path, description = NAME_NOTE)),
        request_body = Rollback,
        responses(
            (status = 200, description = "restored as a new version", body = Restored),
            (status = 404, description = "no such document or version", body = ErrorBody),
            BodyErrors,
            AdminToken,
        ))]
    fn rollback() {}

    /// Checks a draft and shows it without saving: a template rendered with each sample
    /// context; the FAQ's topics and its answers to `question`; an LLM prompt's length.
    #[utoipa::path(post, path = "/admin/prompts/{name}/preview", tag = "prompts",
        summary = "Preview a draft",
        params(("name" = String, Path, description = NAME_NOTE)),
        request_body = Preview,
        responses(
            (status = 200, description = "what the draft gives (its shape depends on the kind of document)", body = Object),
            (status = 404, description = "no such document", body = ErrorBody),
            BodyErrors,
            AdminToken,
        ))]
    fn preview() {}
}

#[derive(Serialize, ToSchema)]
struct PromptList {
    prompts: Vec<PromptSummary>,
}

/// A document and its version in force.
#[derive(Serialize, ToSchema)]
struct PromptSummary {
    name: String,
    /// `template`, `faq` or `llm`.
    kind: &'static str,
    /// 0: the shipped default.
    version: i32,
    /// Its text is the shipped one.
    default: bool,
    author: Option<String>,
    updated_at: Option<DateTime<Utc>>,
}

/// A document's text in force.
#[derive(Serialize, ToSchema)]
struct PromptDocument {
    name: String,
    /// 0: the shipped default.
    version: i32,
    default: bool,
    content: String,
    author: Option<String>,
    updated_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
struct Saved {
    name: String,
    version: i32,
}

#[derive(Serialize, ToSchema)]
struct Versions {
    name: String,
    /// The version in force (0: the shipped default).
    current: i32,
    /// Newest first.
    #[schema(value_type = Vec<super::schemas::PromptVersion>)]
    versions: Vec<PromptVersion>,
}

#[derive(Serialize, ToSchema)]
struct Restored {
    name: String,
    /// The new version, in force.
    version: i32,
    /// The version whose text it has.
    restored: i32,
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

/// Every document under prompts/ (reply templates, FAQ, LLM prompts) with the version in
/// force (0: the shipped default) and whether its text is the shipped one.
#[utoipa::path(get, path = "/admin/prompts", tag = "prompts",
    summary = "List the documents",
    responses(
        (status = 200, description = "the documents", body = PromptList),
        AdminToken,
    ))]
async fn list(
    State(state): State<AppState>,
    AdminOnly(_caller): AdminOnly,
) -> ApiResult<Json<PromptList>> {
    let current = documents::current(state.store()).await?;
    let prompts = documents::names()
        .into_iter()
        .map(|name| {
            let kind = documents::kind(&name).expect("listed names are known");
            let stored = current.get(&name);
            PromptSummary {
                kind: kind_word(kind),
                version: stored.map_or(0, |v| v.version),
                default: stored
                    .is_none_or(|v| Some(v.content.as_str()) == documents::shipped(&name)),
                author: stored.map(|v| v.author.clone()),
                updated_at: stored.map(|v| v.created_at),
                name,
            }
        })
        .collect();
    Ok(Json(PromptList { prompts }))
}

async fn read(
    State(state): State<AppState>,
    AdminOnly(_caller): AdminOnly,
    Path(path): Path<String>,
) -> ApiResult<Response> {
    match Target::parse(&path) {
        Target::Document(name) => Ok(show(&state, &name).await?.into_response()),
        Target::Versions(name) => Ok(versions(&state, &name).await?.into_response()),
        Target::Rollback(_) | Target::Preview(_) => {
            Err(ApiError::MethodNotAllowed("GET; use POST".into()))
        }
    }
}

async fn save(
    State(state): State<AppState>,
    AdminOnly(caller): AdminOnly,
    Path(path): Path<String>,
    Body(body): Body<Value>,
) -> ApiResult<Json<Saved>> {
    // The target first: a PUT on `…/versions` is a wrong method whatever its body.
    match Target::parse(&path) {
        Target::Document(name) => {
            let Draft { content } = parse(body)?;
            known(&name)?;
            let version = put(&state, &name, content, &caller.name).await?;
            Ok(Json(Saved { name, version }))
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
) -> ApiResult<Response> {
    match Target::parse(&path) {
        Target::Rollback(name) => {
            let Rollback { version } = parse(body)?;
            Ok(rollback(&state, &name, version, &caller.name)
                .await?
                .into_response())
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
            .map(|preview| Json(preview).into_response())
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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Draft {
    /// The document's new text.
    content: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Rollback {
    /// The version to restore; 0 is the shipped default.
    #[schema(minimum = 0)]
    version: i32,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Preview {
    /// The draft.
    content: String,
    /// For the FAQ: a customer's question to answer with the draft.
    question: Option<String>,
}

/// `GET /admin/prompts/{name}`: the text in force.
async fn show(state: &AppState, name: &str) -> ApiResult<Json<PromptDocument>> {
    known(name)?;
    let latest = state
        .store()
        .prompt_versions(name)
        .await?
        .into_iter()
        .next();
    let shipped = documents::shipped(name).unwrap_or_default();
    Ok(Json(match latest {
        Some(v) => PromptDocument {
            name: name.to_owned(),
            version: v.version,
            default: v.content == shipped,
            content: v.content,
            author: Some(v.author),
            updated_at: Some(v.created_at),
        },
        None => PromptDocument {
            name: name.to_owned(),
            version: 0,
            default: true,
            content: shipped.to_owned(),
            author: None,
            updated_at: None,
        },
    }))
}

/// `GET /admin/prompts/{name}/versions`: every stored version, newest first.
async fn versions(state: &AppState, name: &str) -> ApiResult<Json<Versions>> {
    known(name)?;
    let versions = state.store().prompt_versions(name).await?;
    Ok(Json(Versions {
        name: name.to_owned(),
        current: versions.first().map_or(0, |v| v.version),
        versions,
    }))
}

/// `POST /admin/prompts/{name}/rollback`: the text of an earlier version (0: the shipped
/// default) becomes a new version, after the same checks as an edit.
async fn rollback(
    state: &AppState,
    name: &str,
    version: i32,
    author: &str,
) -> ApiResult<Json<Restored>> {
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
    Ok(Json(Restored {
        name: name.to_owned(),
        version: new,
        restored: version,
    }))
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
