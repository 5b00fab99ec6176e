//! A message as a channel received it, before it is stored: the one shape every channel's
//! parser produces.

use chrono::{DateTime, Utc};
use dialogs::ChatKey;

#[derive(Debug, Clone, PartialEq)]
pub struct NewInbound {
    pub key: ChatKey,
    /// The channel's id of this message; (channel, external_id) is unique in the inbox, which is
    /// what makes a redelivered message recognisable.
    pub external_id: String,
    /// `text`, `contact`, `callback`, `media`, `start`.
    pub kind: String,
    pub text: String,
    pub sender_name: Option<String>,
    /// How to answer on this channel (e.g. Wazzup `channelId`/`chatType`/`chatId`).
    pub route: serde_json::Value,
    /// Channel-specific extras the dialog may use (shared phone, callback data, subject…).
    pub payload: serde_json::Value,
    /// When the customer sent it, by the channel's clock.
    pub sent_at: DateTime<Utc>,
}

/// Compares a presented secret with the configured one in constant time.
pub fn secret_matches(presented: &str, expected: &str) -> bool {
    use subtle::ConstantTimeEq;
    presented.len() == expected.len() && bool::from(presented.as_bytes().ct_eq(expected.as_bytes()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_compare_exactly() {
        assert!(super::secret_matches("abc", "abc"));
        assert!(!super::secret_matches("abd", "abc"));
        assert!(!super::secret_matches("ab", "abc"));
    }
}
