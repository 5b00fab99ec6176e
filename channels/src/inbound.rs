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
    /// What was sent, with its data (callback data, shared phone, echo author, media type).
    pub kind: InboundKind,
    pub text: String,
    pub sender_name: Option<String>,
    /// How to answer on this channel (e.g. Wazzup `channelId`/`chatType`/`chatId`).
    pub route: serde_json::Value,
    /// What is stored beside the message: the kind's data under its keys
    /// ([`InboundKind::with_data`]) and channel-specific extras (a deep link's parameter, a
    /// callback query's id, an email's subject…). The engine reads the kind, never this.
    pub payload: serde_json::Value,
    /// When the customer sent it, by the channel's clock.
    pub sent_at: DateTime<Utc>,
}

/// What kind of message arrived, with its data, parsed once by the channel's parser. Stored as
/// its name ([`InboundKind::as_str`]) in the inbox's `kind` column and its data in the
/// payload ([`InboundKind::with_data`]); [`InboundKind::from_stored`] reads both back.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum InboundKind {
    /// Something the customer wrote.
    Text,
    /// A photo, voice, sticker, file…: `kind` is its type (`photo`, `voice`, `attachment`…);
    /// a caption is the text.
    Media { kind: String },
    /// Telegram's `/start` (a deep link's parameter is kept in the payload as `start_param`).
    Start,
    /// An inline button pressed, with the button's data.
    Callback { data: String },
    /// A shared contact, with its phone in E.164 when it could be read.
    Contact { phone: Option<String> },
    /// A message a manager wrote to the customer from the CRM or the phone (Wazzup's echo),
    /// with its author when the channel says.
    ManagerEcho { author: Option<String> },
}

impl InboundKind {
    /// The stored names, one per variant.
    pub const NAMES: [&'static str; 6] = ["text", "media", "start", "callback", "contact", "echo"];

    /// The stored name.
    pub fn as_str(&self) -> &'static str {
        match self {
            InboundKind::Text => "text",
            InboundKind::Media { .. } => "media",
            InboundKind::Start => "start",
            InboundKind::Callback { .. } => "callback",
            InboundKind::Contact { .. } => "contact",
            InboundKind::ManagerEcho { .. } => "echo",
        }
    }

    /// `payload` with this kind's data under its stored keys (`type`, `data`, `phone`,
    /// `author`): what the channel parsers store, so [`InboundKind::from_stored`] reads the
    /// same kind back.
    pub fn with_data(&self, payload: serde_json::Value) -> serde_json::Value {
        let mut payload = match payload {
            serde_json::Value::Object(map) => map,
            _ => serde_json::Map::new(),
        };
        let mut put = |key: &str, value: Option<&String>| {
            if let Some(value) = value {
                payload.insert(key.to_owned(), value.clone().into());
            }
        };
        match self {
            InboundKind::Text | InboundKind::Start => {}
            InboundKind::Media { kind } => put("type", Some(kind)),
            InboundKind::Callback { data } => put("data", Some(data)),
            InboundKind::Contact { phone } => put("phone", phone.as_ref()),
            InboundKind::ManagerEcho { author } => {
                payload.insert("author".to_owned(), author.clone().into());
            }
        }
        serde_json::Value::Object(payload)
    }

    /// The kind of a stored row: its name and the payload stored with it; `None` for a name
    /// this build does not know. The store's row mapping is the only caller.
    pub fn from_stored(name: &str, payload: &serde_json::Value) -> Option<InboundKind> {
        let text = |key: &str| payload.get(key).and_then(|v| v.as_str()).map(str::to_owned);
        Some(match name {
            "text" => InboundKind::Text,
            "media" => InboundKind::Media {
                kind: text("type").unwrap_or_else(|| "other".to_owned()),
            },
            "start" => InboundKind::Start,
            "callback" => InboundKind::Callback {
                data: text("data").unwrap_or_default(),
            },
            "contact" => InboundKind::Contact {
                phone: text("phone"),
            },
            "echo" => InboundKind::ManagerEcho {
                author: text("author"),
            },
            _ => return None,
        })
    }
}

impl NewInbound {
    /// A pressed button's data.
    pub fn callback_data(&self) -> Option<&str> {
        match &self.kind {
            InboundKind::Callback { data } => Some(data),
            _ => None,
        }
    }

    /// The phone of a shared contact.
    pub fn shared_phone(&self) -> Option<&str> {
        match &self.kind {
            InboundKind::Contact { phone } => phone.as_deref(),
            _ => None,
        }
    }

    /// Who wrote a manager's echo, when the channel says.
    pub fn echo_author(&self) -> Option<&str> {
        match &self.kind {
            InboundKind::ManagerEcho { author } => author.as_deref(),
            _ => None,
        }
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

    fn all_kinds() -> [InboundKind; 6] {
        [
            InboundKind::Text,
            InboundKind::Media {
                kind: "voice".into(),
            },
            InboundKind::Start,
            InboundKind::Callback {
                data: "book:2".into(),
            },
            InboundKind::Contact {
                phone: Some("+77010000000".into()),
            },
            InboundKind::ManagerEcho {
                author: Some("Айдана".into()),
            },
        ]
    }

    #[test]
    fn a_kind_is_stored_by_its_name_and_read_back() {
        for kind in all_kinds() {
            let stored = kind.with_data(json!({ "subject": "x" }));
            assert_eq!(InboundKind::from_stored(kind.as_str(), &stored), Some(kind));
        }
        assert_eq!(
            all_kinds().map(|k| k.as_str()),
            InboundKind::NAMES,
            "one name per variant"
        );
        assert_eq!(InboundKind::ManagerEcho { author: None }.as_str(), "echo");
        assert_eq!(InboundKind::from_stored("hologram", &json!({})), None);
    }

    #[test]
    fn the_data_of_a_kind_is_read_only_for_that_kind() {
        let m = |name, payload| NewInbound {
            key: ChatKey::new(Channel::Telegram, "1"),
            external_id: "1".into(),
            kind: InboundKind::from_stored(name, &payload).unwrap(),
            text: String::new(),
            sender_name: None,
            route: json!({}),
            payload,
            sent_at: chrono::Utc::now(),
        };
        let press = m("callback", json!({ "data": "book:2" }));
        assert_eq!(press.callback_data(), Some("book:2"));
        assert_eq!(press.shared_phone(), None);
        let contact = m("contact", json!({ "phone": "+77010000000" }));
        assert_eq!(contact.shared_phone(), Some("+77010000000"));
        let echo = m("echo", json!({ "author": "Айдана" }));
        assert_eq!(echo.echo_author(), Some("Айдана"));
        // A text that happens to carry such keys is still a text.
        let text = m("text", json!({ "data": "book:2", "phone": "+7" }));
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
