//! The admin API's errors, in one JSON shape: `{"error": {"code": "...", "message": "..."}}`.
//! Each variant is one HTTP status and one `code`. Internal errors are logged (with the
//! request's id, from the request span) and answered with a generic message: database errors
//! and the like are not shown to the caller.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No token, or one that is not configured.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// A manager's token on an admin route.
    #[error("this route needs an admin token")]
    Forbidden,
    /// No such route under `/admin`.
    #[error("no such route; GET /admin/openapi.json lists them")]
    NoRoute,
    #[error("this route does not take {0}")]
    MethodNotAllowed(String),
    /// No such conversation, escalation, document, version…
    #[error("{0}")]
    NotFound(String),
    /// A query or body the API cannot read.
    #[error("{0}")]
    BadRequest(String),
    /// Well-formed, but not acceptable (an invalid template, an empty message…).
    #[error("{0}")]
    Unprocessable(String),
    /// The thing is not in a state that allows this (an escalation already resolved…).
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("too many requests for this token; retry in {retry_after} s")]
    RateLimited { retry_after: u64 },
    /// A part of the engine did not answer (a conversation busy past the limit…).
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NoRoute | ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable word clients match on.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden => "forbidden",
            ApiError::NoRoute => "no_route",
            ApiError::MethodNotAllowed(_) => "method_not_allowed",
            ApiError::NotFound(_) => "not_found",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Unprocessable(_) => "unprocessable",
            ApiError::Conflict(_) => "conflict",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let message = match &self {
            ApiError::Internal(e) => {
                tracing::error!(error = %format!("{e:#}"), "admin API request failed");
                "internal error; the server log has the details".to_owned()
            }
            other => other.to_string(),
        };
        let status = self.status();
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code().to_owned(),
                message,
            },
        };
        let mut response = (status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        match self {
            ApiError::Unauthorized(_) => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            ApiError::RateLimited { retry_after } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            }
            _ => {}
        }
        response
    }
}

impl From<actors::store::StoreError> for ApiError {
    fn from(e: actors::store::StoreError) -> Self {
        if e.is_transient() {
            // An outage: try again shortly (the cause is in the log, not in the answer).
            tracing::warn!(error = %e, "admin request refused: the database is unavailable");
            ApiError::Unavailable("the database is unavailable; try again shortly".into())
        } else {
            ApiError::Internal(e.into())
        }
    }
}

impl From<actors::EngineError> for ApiError {
    fn from(e: actors::EngineError) -> Self {
        match e {
            actors::EngineError::Store(e) => e.into(),
            other => ApiError::Unavailable(other.to_string()),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let message = rejection.body_text();
        match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge(message),
            StatusCode::UNPROCESSABLE_ENTITY => ApiError::Unprocessable(message),
            _ => ApiError::BadRequest(message),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::BadRequest(rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::BadRequest(rejection.body_text())
    }
}

/// A JSON body, refused in the API's own error shape.
#[derive(axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Body<T>(pub T);

/// A query string, refused in the API's own error shape.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

/// Path parameters, refused in the API's own error shape.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

pub type ApiResult<T> = Result<T, ApiError>;

/// A list's `limit` query parameter: `default` when left out, else 1 to `max` (a 400 naming
/// the range otherwise).
pub fn limit(given: Option<i64>, default: i64, max: i64) -> ApiResult<i64> {
    let limit = given.unwrap_or(default);
    if !(1..=max).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit must be from 1 to {max}"
        )));
    }
    Ok(limit)
}

/// Every error answer of the API.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// The stable word clients match on: `bad_request`, `not_found`, `unprocessable`…
    pub code: String,
    /// What went wrong, for a person.
    pub message: String,
}

/// The answers every route may give besides its own: for routes any valid token may call.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // a description for the OpenAPI document, never built
pub enum AnyToken {
    /// No bearer token, or one that is not configured.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// Too many requests for this token (see `Retry-After`).
    #[response(status = 429)]
    RateLimited(ErrorBody),
    /// Something failed inside; the server log has the details.
    #[response(status = 500)]
    Internal(ErrorBody),
    /// A part of the engine (the store, the chat's conversation) did not answer in time; try
    /// again shortly.
    #[response(status = 503)]
    Unavailable(ErrorBody),
}

/// The answers every admin-only route may give besides its own.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // a description for the OpenAPI document, never built
pub enum AdminToken {
    /// No bearer token, or one that is not configured.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// A manager's token on an admin route.
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// Too many requests for this token (see `Retry-After`).
    #[response(status = 429)]
    RateLimited(ErrorBody),
    /// Something failed inside; the server log has the details.
    #[response(status = 500)]
    Internal(ErrorBody),
    /// A part of the engine (the store, the chat's conversation) did not answer in time; try
    /// again shortly.
    #[response(status = 503)]
    Unavailable(ErrorBody),
}

/// The answers of a route that reads a query string: besides its own.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // a description for the OpenAPI document, never built
pub enum QueryErrors {
    /// A query parameter that is unknown, or whose value cannot be read or is out of range.
    #[response(status = 400)]
    BadRequest(ErrorBody),
}

/// The answers of a route with path parameters (and no body): besides its own.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // a description for the OpenAPI document, never built
pub enum PathErrors {
    /// The path cannot be decoded (bad percent-encoding).
    #[response(status = 400)]
    BadRequest(ErrorBody),
}

/// The answers of a route that reads a JSON body: besides its own.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // a description for the OpenAPI document, never built
pub enum BodyErrors {
    /// The body is not JSON, or not sent as `application/json`; or the path cannot be
    /// decoded.
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// The body is larger than 1 MiB.
    #[response(status = 413)]
    PayloadTooLarge(ErrorBody),
    /// JSON of the wrong shape (a missing or unknown field, a wrong type), or a value refused;
    /// the message says why.
    #[response(status = 422)]
    Unprocessable(ErrorBody),
}
