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

impl NewInbound {
    /// The message without NUL characters, wherever they are: ids, text, name, and the keys
    /// and values of `route` and `payload`. A NUL is nothing a customer writes (an email or a
    /// JSON body can still carry one), and PostgreSQL refuses it in text and JSON columns:
    /// kept, it would fail the message's storage on every redelivery.
    pub fn without_nul(mut self) -> NewInbound {
        fn clean(s: &mut String) {
            if s.contains('\0') {
                s.retain(|c| c != '\0');
            }
        }
        fn clean_json(v: &mut serde_json::Value) {
            match v {
                serde_json::Value::String(s) => clean(s),
                serde_json::Value::Array(items) => items.iter_mut().for_each(clean_json),
                serde_json::Value::Object(map) => {
                    if map.keys().any(|k| k.contains('\0')) {
                        *map = std::mem::take(map)
                            .into_iter()
                            .map(|(mut k, v)| {
                                clean(&mut k);
                                (k, v)
                            })
                            .collect();
                    }
                    map.values_mut().for_each(clean_json);
                }
                _ => {}
            }
        }
        clean(&mut self.key.chat_id);
        clean(&mut self.external_id);
        clean(&mut self.kind);
        clean(&mut self.text);
        if let Some(name) = &mut self.sender_name {
            clean(name);
        }
        clean_json(&mut self.route);
        clean_json(&mut self.payload);
        self
    }
}

/// Compares a presented secret with the configured one in constant time.
pub fn secret_matches(presented: &str, expected: &str) -> bool {
    use subtle::ConstantTimeEq;
    presented.len() == expected.len() && bool::from(presented.as_bytes().ct_eq(expected.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use dialogs::Channel;
    use serde_json::json;

    #[test]
    fn nul_characters_are_dropped_everywhere() {
        let m = NewInbound {
            key: ChatKey::new(Channel::Email, "a\0@b"),
            external_id: "\0id".into(),
            kind: "text".into(),
            text: "Нячанг\0 в марте".into(),
            sender_name: Some("Ай\0гуль".into()),
            route: json!({"to\0": ["x\0", 1]}),
            payload: json!({"subject": "\0"}),
            sent_at: Utc::now(),
        }
        .without_nul();
        assert_eq!(m.key.chat_id, "a@b");
        assert_eq!(m.external_id, "id");
        assert_eq!(m.text, "Нячанг в марте");
        assert_eq!(m.sender_name.as_deref(), Some("Айгуль"));
        assert_eq!(m.route, json!({"to": ["x", 1]}));
        assert_eq!(m.payload, json!({"subject": ""}));
    }

    #[test]
    fn secrets_compare_exactly() {
        assert!(super::secret_matches("abc", "abc"));
        assert!(!super::secret_matches("abd", "abc"));
        assert!(!super::secret_matches("ab", "abc"));
    }
}
