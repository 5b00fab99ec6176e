//! `GET /admin/leads`: the lead list, as JSON, or as CSV for Excel with `Accept: text/csv`
//! (or `?format=csv`): UTF-8 with a byte-order mark (so Excel reads Cyrillic right),
//! `;`-separated (Excel's separator where the decimal mark is a comma, as in Kazakhstan and
//! Russia), CRLF line ends, fields quoted when they need it. A cell a spreadsheet would take
//! for a formula (`=…`, `@…`, `+…` that is not a phone number) is prefixed with `'`.
//! Managers and admins.

use super::auth::Caller;
use super::error::{AnyToken, ApiError, ApiResult, Query, QueryErrors};
use super::schemas::Lead;
use crate::http::AppState;
use actors::store::LeadRecord;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

const DEFAULT_LIMIT: i64 = 1000;
const MAX_LIMIT: i64 = 10_000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// How many, 1 to 10000 (default 1000).
    #[param(minimum = 1, maximum = 10000)]
    limit: Option<i64>,
    /// How many to skip (default 0).
    #[param(minimum = 0)]
    offset: Option<i64>,
    /// `json` or `csv` (instead of the `Accept` header).
    #[param(pattern = "^(json|csv)$")]
    format: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct LeadList {
    #[schema(value_type = Vec<Lead>)]
    leads: Vec<LeadRecord>,
}

/// JSON, or CSV for Excel with `Accept: text/csv` or `format=csv`: UTF-8 with a byte-order
/// mark, `;`-separated, CRLF line ends, one lead a line after a header line.
#[utoipa::path(get, path = "/admin/leads", tag = "leads",
    summary = "List leads",
    params(ListQuery),
    responses(
        (status = 200, description = "the leads, most recently updated first",
            content(
                (LeadList = "application/json"),
                (String = "text/csv"),
            ),
            headers(("content-disposition" = String, description = "CSV only: `attachment; filename=\"leads.csv\"`"))),
        QueryErrors,
        AnyToken,
    ))]
async fn list(
    State(state): State<AppState>,
    _: Caller,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> ApiResult<Response> {
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    let offset = q.offset.unwrap_or(0);
    if !(1..=MAX_LIMIT).contains(&limit) || offset < 0 {
        return Err(ApiError::BadRequest(format!(
            "limit must be from 1 to {MAX_LIMIT}, offset 0 or more"
        )));
    }
    let csv = match q.format.as_deref() {
        Some("csv") => true,
        Some("json") => false,
        Some(_) => return Err(ApiError::BadRequest("format must be json or csv".into())),
        None => headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/csv")),
    };
    let leads = state.store().list_leads(limit, offset).await?;
    if !csv {
        return Ok(Json(LeadList { leads }).into_response());
    }
    let mut response = to_csv(&leads).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"leads.csv\""),
    );
    Ok(response)
}

/// The columns, in order.
const COLUMNS: [&str; 20] = [
    "created_at",
    "updated_at",
    "name",
    "phone",
    "email",
    "channel",
    "stage",
    "departure_city",
    "country",
    "resort",
    "date_from",
    "date_to",
    "nights",
    "adults",
    "children",
    "child_ages",
    "budget",
    "crm_contact_id",
    "crm_deal_id",
    "conversation_id",
];

fn to_csv(leads: &[LeadRecord]) -> String {
    let mut out = String::from("\u{feff}");
    line(&mut out, COLUMNS.iter().map(|c| (*c).to_owned()));
    for lead in leads {
        let slot = |key: &str| text(&lead.slots[key]);
        let range = |from: &str, to: &str| match (slot(from), slot(to)) {
            (a, b) if b.is_empty() || a == b => a,
            (a, b) => format!("{a}–{b}"),
        };
        let budget = match (slot("budget_max"), slot("currency")) {
            (b, _) if b.is_empty() => String::new(),
            (b, c) => format!("{b} {c}").trim().to_owned(),
        };
        line(
            &mut out,
            [
                lead.created_at.to_rfc3339(),
                lead.updated_at.to_rfc3339(),
                lead.name.clone().unwrap_or_default(),
                lead.phone.clone().unwrap_or_default(),
                lead.email.clone().unwrap_or_default(),
                lead.channel.map(|c| c.to_string()).unwrap_or_default(),
                lead.stage.clone().unwrap_or_default(),
                slot("departure_city"),
                slot("country"),
                slot("resort"),
                slot("date_from"),
                slot("date_to"),
                range("nights_from", "nights_to"),
                slot("adults"),
                slot("children"),
                slot("child_ages"),
                budget,
                lead.crm_contact_id
                    .map(|i| i.to_string())
                    .unwrap_or_default(),
                lead.crm_deal_id.map(|i| i.to_string()).unwrap_or_default(),
                lead.conversation_id.clone(),
            ],
        );
    }
    out
}

/// A JSON value as a cell: strings as they are, lists joined with `, `, null empty.
fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

fn line(out: &mut String, cells: impl IntoIterator<Item = String>) {
    let cells: Vec<String> = cells.into_iter().map(|c| cell(&c)).collect();
    out.push_str(&cells.join(";"));
    out.push_str("\r\n");
}

/// One cell: defused if a spreadsheet would run it, quoted if it holds `;`, `"` or a line end.
fn cell(value: &str) -> String {
    let phone_like = |s: &str| s[1..].chars().all(|c| c.is_ascii_digit() || c == ' ');
    let risky = match value.chars().next() {
        Some('=' | '@' | '\t' | '\r') => true,
        Some('+' | '-') => !phone_like(value),
        _ => false,
    };
    let value = if risky {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn cells_are_quoted_and_defused() {
        assert_eq!(cell("Айгуль"), "Айгуль");
        assert_eq!(cell("a;b"), "\"a;b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(cell("+77011234567"), "+77011234567");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("+cmd|' /C calc'!A0"), "'+cmd|' /C calc'!A0");
        assert_eq!(cell(""), "");
    }
}
