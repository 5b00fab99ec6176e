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
    /// What was sent; its data (callback data, shared phone, echo author) is in `payload`,
    /// read through the accessors below.
    pub kind: InboundKind,
    pub text: String,
    pub sender_name: Option<String>,
    /// How to answer on this channel (e.g. Wazzup `channelId`/`chatType`/`chatId`).
    pub route: serde_json::Value,
    /// Channel-specific extras the dialog may use (shared phone, callback data, subject…).
    pub payload: serde_json::Value,
    /// When the customer sent it, by the channel's clock.
    pub sent_at: DateTime<Utc>,
}

/// What kind of message arrived, parsed once by the channel's parser. Stored as its name
/// (`as_str`) in the inbox's `kind` column, and only there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InboundKind {
    /// Something the customer wrote.
    Text,
    /// A photo, voice, sticker, file…: its type in `payload["type"]`, a caption as the text.
    Media,
    /// Telegram's `/start` (a deep link's parameter in `payload["start_param"]`).
    Start,
    /// An inline button pressed: its data in `payload["data"]`.
    Callback,
    /// A shared contact: the phone in `payload["phone"]`.
    Contact,
    /// A message a manager wrote to the customer from the CRM or the phone (Wazzup's echo):
    /// the author in `payload["author"]`.
    ManagerEcho,
}

impl InboundKind {
    pub const ALL: [InboundKind; 6] = [
        InboundKind::Text,
        InboundKind::Media,
        InboundKind::Start,
        InboundKind::Callback,
        InboundKind::Contact,
        InboundKind::ManagerEcho,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            InboundKind::Text => "text",
            InboundKind::Media => "media",
            InboundKind::Start => "start",
            InboundKind::Callback => "callback",
            InboundKind::Contact => "contact",
            InboundKind::ManagerEcho => "echo",
        }
    }

    /// The kind of a stored name; `None` for a name this build does not know.
    pub fn parse(name: &str) -> Option<InboundKind> {
        InboundKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl PartialEq<&str> for InboundKind {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl NewInbound {
    /// A pressed button's data.
    pub fn callback_data(&self) -> Option<&str> {
        (self.kind == InboundKind::Callback)
            .then(|| self.payload["data"].as_str())
            .flatten()
    }

    /// The phone of a shared contact.
    pub fn shared_phone(&self) -> Option<&str> {
        (self.kind == InboundKind::Contact)
            .then(|| self.payload["phone"].as_str())
            .flatten()
    }

    /// Who wrote a manager's echo, when the channel says.
    pub fn echo_author(&self) -> Option<&str> {
        (self.kind == InboundKind::ManagerEcho)
            .then(|| self.payload["author"].as_str())
            .flatten()
    }

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
    fn a_kind_is_stored_by_its_name_and_read_back() {
        for kind in InboundKind::ALL {
            assert_eq!(InboundKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(InboundKind::ManagerEcho.as_str(), "echo");
        assert_eq!(InboundKind::parse("hologram"), None);
    }

    #[test]
    fn the_data_of_a_kind_is_read_only_for_that_kind() {
        let m = |kind, payload| NewInbound {
            key: ChatKey::new(Channel::Telegram, "1"),
            external_id: "1".into(),
            kind,
            text: String::new(),
            sender_name: None,
            route: json!({}),
            payload,
            sent_at: chrono::Utc::now(),
        };
        let press = m(InboundKind::Callback, json!({ "data": "book:2" }));
        assert_eq!(press.callback_data(), Some("book:2"));
        assert_eq!(press.shared_phone(), None);
        let contact = m(InboundKind::Contact, json!({ "phone": "+77010000000" }));
        assert_eq!(contact.shared_phone(), Some("+77010000000"));
        let echo = m(InboundKind::ManagerEcho, json!({ "author": "Айдана" }));
        assert_eq!(echo.echo_author(), Some("Айдана"));
        // A text that happens to carry such keys is still a text.
        let text = m(
            InboundKind::Text,
            json!({ "data": "book:2", "phone": "+7" }),
        );
        assert_eq!((text.callback_data(), text.shared_phone()), (None, None));
    }

    #[test]
    fn nul_characters_are_dropped_everywhere() {
        let m = NewInbound {
            key: ChatKey::new(Channel::Email, "a\0@b"),
            external_id: "\0id".into(),
            kind: InboundKind::Text,
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
