//! The error answer of handlers outside the admin API (the channels' webhooks), in the one
//! shape of the whole server, `{"error": {"code", "message"}}`, with the admin API's code words.

/// An error answer in the one shape of the whole server, `{"error": {"code", "message"}}`, for
/// handlers outside the admin API (webhooks), with the admin API's code words.
pub fn error_response(
    status: axum::http::StatusCode,
    message: impl Into<String>,
) -> axum::response::Response {
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    let code = match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        _ => "error",
    };
    let body = serde_json::json!({"error": {"code": code, "message": message.into()}});
    (status, axum::Json(body)).into_response()
}
