//! Every way a SAMO call can fail, as one typed error. The texts are for the engineer on call
//! (logs, `crystalbay doctor`, the admin API): they say what happened and what to do, and they
//! never contain the token — server texts are redacted before they are stored here.

use std::time::Duration;

/// A failed SAMO call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SamoError {
    /// The client could not be built from its settings (endpoint or proxy URL).
    #[error("SAMO client not set up: {detail}")]
    Setup { detail: String },
    /// `apiKey provided, but invalid`: the token is wrong.
    #[error("SAMO refused the token ({message}): check SAMO_OAUTH_TOKEN")]
    InvalidToken { message: String },
    /// HTTP 403 or `apiKey blacklisted`: the token is bound to allow-listed IPv4 addresses and
    /// this caller's address is not one of them.
    #[error(
        "SAMO refused this server's address ({message}): the token works only from allow-listed \
         IPv4 addresses. Ask the tour operator to allow-list this server's IPv4 address, or set \
         SAMO_PROXY to an HTTP(S) proxy on an allow-listed host"
    )]
    Blacklisted { message: String },
    /// `Method does not exists: …`: the action name is not known (names are case-sensitive).
    #[error("SAMO does not know the action {action} ({message})")]
    UnknownAction { action: String, message: String },
    /// Any other `error`/`Error` the operator reported, top-level or inside the action's
    /// payload (a missing or invalid parameter, for instance); `message` is theirs, verbatim.
    #[error("SAMO {action} failed: {message}")]
    Action { action: String, message: String },
    /// The body was not JSON (an HTML error page), even after retries.
    #[error(
        "SAMO {action} answered HTTP {status} with a body that is not JSON ({attempts} attempts): {excerpt}"
    )]
    NotJson {
        action: String,
        status: u16,
        attempts: u32,
        excerpt: String,
    },
    /// No complete answer within the configured timeout (`SAMO_TIMEOUT_SECS`).
    #[error("SAMO {action} gave no answer within {} s (SAMO_TIMEOUT_SECS)", after.as_secs_f32())]
    Timeout { action: String, after: Duration },
    /// An HTTP error status without a usable error body (5xx: trouble at the operator).
    #[error("SAMO {action} answered HTTP {status}{}", http_hint(*status))]
    Http { action: String, status: u16 },
    /// The endpoint (or the proxy) could not be reached.
    #[error("SAMO {action}: cannot reach the endpoint{}: {detail}", if *via_proxy { " through SAMO_PROXY" } else { "" })]
    Transport {
        action: String,
        detail: String,
        via_proxy: bool,
    },
    /// JSON, but not in any shape the protocol allows.
    #[error("SAMO {action} answered in an unexpected shape: {detail}")]
    Malformed { action: String, detail: String },
}

fn http_hint(status: u16) -> &'static str {
    match status {
        404 => {
            " (not found: check SAMO_API_URL, the full endpoint such as https://…/export/default.php)"
        }
        500..=599 => " (an error at the operator's server)",
        _ => "",
    }
}

/// To the dialog, any SAMO failure means "search is unavailable right now"; the cause (token
/// free) is for the engineer.
impl From<SamoError> for dialogs::search::SearchFailure {
    fn from(e: SamoError) -> Self {
        dialogs::search::SearchFailure::Unavailable {
            cause: e.to_string(),
        }
    }
}

impl SamoError {
    /// An operator's error text, sorted into the kinds the engine treats differently.
    pub(crate) fn classify(action: &str, message: String) -> SamoError {
        let lower = message.to_lowercase();
        if lower.contains("blacklist") {
            SamoError::Blacklisted { message }
        } else if lower.contains("apikey") || lower.contains("api key") || lower.contains("token") {
            SamoError::InvalidToken { message }
        } else if lower.contains("method does not exist")
            || lower.contains("unknown method")
            || lower.contains("unavailable action")
            || (lower.contains("неизвестн") && lower.contains("метод"))
        {
            SamoError::UnknownAction {
                action: action.to_owned(),
                message,
            }
        } else {
            SamoError::Action {
                action: action.to_owned(),
                message,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SamoError;

    #[test]
    fn operator_texts_are_sorted_into_kinds() {
        let kind = |m: &str| SamoError::classify("SearchTour_PRICES", m.to_owned());
        assert!(matches!(
            kind("apiKey provided, but invalid"),
            SamoError::InvalidToken { .. }
        ));
        assert!(matches!(
            kind("apiKey blacklisted"),
            SamoError::Blacklisted { .. }
        ));
        assert!(matches!(
            kind("Method does not exists: SearchTour_Townfroms"),
            SamoError::UnknownAction { .. }
        ));
        assert!(matches!(
            kind("Не задан параметр CHECKIN_BEG"),
            SamoError::Action { .. }
        ));
    }

    #[test]
    fn the_blacklist_text_tells_what_to_do() {
        let text = SamoError::Blacklisted {
            message: "apiKey blacklisted".into(),
        }
        .to_string();
        assert!(text.contains("allow-list this server's IPv4 address"));
        assert!(text.contains("SAMO_PROXY"));
    }
}
