//! Bearer tokens and roles. Every admin route needs `Authorization: Bearer <token>`; the
//! token is compared with each configured one in constant time (all of them, whatever
//! matches). A missing or unknown token is a 401; a manager's token on an admin route a 403
//! ([`AdminOnly`]). Each token's requests are limited per minute (429 with `Retry-After`),
//! and so are failed attempts, together.
//!
//! The token's *name* is who did it: it is recorded as the author of prompt versions and as
//! the manager who took, wrote to or released a chat, and it is put on the request's log span.

use super::error::ApiError;
use crate::config::{AdminToken, Role};
use crate::http::AppState;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use secrecy::ExposeSecret;
use std::num::NonZeroU32;
use std::sync::Arc;

/// Who is calling: the token's name and role.
#[derive(Debug, Clone)]
pub struct Caller {
    pub name: Arc<str>,
    pub role: Role,
}

/// The configured tokens and the per-token limiter.
pub struct Tokens {
    tokens: Vec<AdminToken>,
    limiter: DefaultKeyedRateLimiter<String>,
}

/// The limiter's key of failed attempts (token names cannot contain a space).
const FAILED: &str = "failed attempts";

impl Tokens {
    pub fn new(tokens: Vec<AdminToken>, per_minute: u32) -> Self {
        let quota = Quota::per_minute(NonZeroU32::new(per_minute.max(1)).expect("at least 1"));
        Self {
            tokens,
            limiter: RateLimiter::keyed(quota),
        }
    }

    /// The caller whose token this is. Compares with every token, so the time taken does not
    /// say which one came close.
    fn identify(&self, presented: &str) -> Option<Caller> {
        let mut found = None;
        for t in &self.tokens {
            if channels::inbound::secret_matches(presented, t.token.expose_secret())
                && found.is_none()
            {
                found = Some(Caller {
                    name: t.name.as_str().into(),
                    role: t.role,
                });
            }
        }
        found
    }

    /// Counts a request against `key`'s allowance.
    fn admit(&self, key: &str) -> Result<(), ApiError> {
        self.limiter
            .check_key(&key.to_owned())
            .map_err(|not_until| {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                ApiError::RateLimited {
                    retry_after: wait.as_secs().max(1),
                }
            })
    }
}

/// Middleware on every admin route: identifies the caller, or answers 401 / 429.
pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let tokens = &state.admin.tokens;
    let presented = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let caller = match presented {
        None => Err(ApiError::Unauthorized(
            "a bearer token is required: Authorization: Bearer <token>",
        )),
        Some(token) => tokens
            .identify(token)
            .ok_or(ApiError::Unauthorized("this token is not valid")),
    };
    let caller = match caller {
        Ok(caller) => caller,
        Err(e) => {
            return match tokens.admit(FAILED) {
                Ok(()) => e.into_response(),
                Err(limited) => limited.into_response(),
            };
        }
    };
    if let Err(limited) = tokens.admit(&caller.name) {
        tracing::warn!(caller = %caller.name, "admin API rate limit reached");
        return limited.into_response();
    }
    tracing::Span::current().record("caller", &*caller.name);
    request.extensions_mut().insert(caller);
    next.run(request).await
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or(ApiError::Unauthorized("a bearer token is required"))
    }
}

/// A caller with the admin role; a manager gets a 403.
pub struct AdminOnly(pub Caller);

impl<S: Send + Sync> FromRequestParts<S> for AdminOnly {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?;
        match caller.role {
            Role::Admin => Ok(AdminOnly(caller)),
            Role::Manager => Err(ApiError::Forbidden),
        }
    }
}
