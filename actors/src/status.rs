//! How each external system is doing, for `GET /admin/status`: whether it answered lately and
//! what its last error was. The part of the engine that talks to a system records each call's
//! outcome here ([`Integrations::success`], [`Integrations::failure`]); nothing is stored, so
//! the picture starts empty at every start.
//!
//! Names in use: `wazzup`, `telegram` (sends, and Telegram's polling or webhook registration),
//! `llm`. The SAMO and Bitrix24 actors record as `samo` and `bitrix24`, email as `email`.
//! [`crate::meters::external_call`] records a call here and in the metrics at once.

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

/// The longest error message kept, in characters.
const MAX_ERROR_CHARS: usize = 300;

/// What is known of one integration since start.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IntegrationStatus {
    pub last_success: Option<DateTime<Utc>>,
    pub last_error: Option<DateTime<Utc>>,
    /// The last error's message (URLs cut to their host, at most 300 characters).
    pub last_error_message: Option<String>,
    pub successes: u64,
    pub failures: u64,
}

/// The registry: cheap to clone, shared by every part of one engine.
#[derive(Debug, Clone, Default)]
pub struct Integrations(Arc<RwLock<BTreeMap<String, IntegrationStatus>>>);

impl Integrations {
    pub fn new() -> Self {
        Self::default()
    }

    /// `name` answered as it should.
    pub fn success(&self, name: &str) {
        let mut all = self.0.write().unwrap_or_else(|e| e.into_inner());
        let entry = all.entry(name.to_owned()).or_default();
        entry.last_success = Some(Utc::now());
        entry.successes += 1;
    }

    /// `name` failed with `error`. The message must not carry secrets; URLs in it are cut to
    /// their scheme and host in any case (webhook URLs and API paths carry tokens).
    pub fn failure(&self, name: &str, error: &str) {
        let message = redact(error);
        let mut all = self.0.write().unwrap_or_else(|e| e.into_inner());
        let entry = all.entry(name.to_owned()).or_default();
        entry.last_error = Some(Utc::now());
        entry.last_error_message = Some(message);
        entry.failures += 1;
    }

    /// What is known of `name` (empty when nothing was recorded).
    pub fn get(&self, name: &str) -> IntegrationStatus {
        self.0
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned()
            .unwrap_or_default()
    }

    /// Every integration that recorded something.
    pub fn snapshot(&self) -> BTreeMap<String, IntegrationStatus> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Cuts every URL to `scheme://host/…`, masks phone numbers and email addresses, and cuts the
/// whole to [`MAX_ERROR_CHARS`].
fn redact(error: &str) -> String {
    let words: Vec<String> = error.split(' ').map(cut_url).collect();
    let masked = dialogs::privacy::mask_text(&words.join(" "));
    match masked.char_indices().nth(MAX_ERROR_CHARS) {
        Some((cut, _)) => format!("{}…", &masked[..cut]),
        None => masked,
    }
}

/// `(https://user:pw@host/path?q)` → `(https://host/…`.
fn cut_url(word: &str) -> String {
    let Some(at) = word.find("://") else {
        return word.to_owned();
    };
    let scheme_start = word[..at]
        .rfind(|c: char| !c.is_ascii_alphanumeric())
        .map_or(0, |i| i + 1);
    let rest = &word[at + 3..];
    let authority = &rest[..rest.find(['/', '?', '#', ')', '"']).unwrap_or(rest.len())];
    let host = authority.rsplit('@').next().unwrap_or("");
    format!(
        "{}{}{host}/…",
        &word[..scheme_start],
        &word[scheme_start..at + 3]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_are_counted_and_urls_cut_to_their_host() {
        let i = Integrations::new();
        i.success("wazzup");
        i.failure(
            "bitrix24",
            "error sending request for url (https://p.bitrix24.kz/rest/1/secretcode/crm.deal.add)",
        );
        assert_eq!(i.get("wazzup").successes, 1);
        let b = i.get("bitrix24");
        assert_eq!(b.failures, 1);
        let message = b.last_error_message.unwrap();
        assert!(!message.contains("secretcode"), "{message}");
        assert!(message.contains("(https://p.bitrix24.kz/…"), "{message}");
        assert_eq!(i.get("samo"), IntegrationStatus::default());
        i.failure("x", "https://user:pw@host.kz/a");
        assert_eq!(
            i.get("x").last_error_message.as_deref(),
            Some("https://host.kz/…")
        );
    }
}
