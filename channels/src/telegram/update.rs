//! Parsing a Telegram `Update` (Bot API) into what the engine stores.
//!
//! Only what a customer does in a private chat with the bot reaches the inbox: text, `/start`,
//! a shared contact, a button press, media. Everything else — groups and channels (the
//! managers' chat among them), edits, other bots, update kinds we do not subscribe to — is
//! recognised and ignored. A body that is not an update (not JSON, no `update_id`, a message
//! without its chat or date) is refused whole with a reason.
//!
//! The inbox key is the `update_id`: Telegram redelivers an update with the same id (webhook
//! retries, a poller that did not confirm its offset), so the inbox recognises the repeat.

use crate::inbound::NewInbound;
use chrono::{DateTime, Utc};
use dialogs::{Channel, ChatKey};
use serde::Deserialize;
use serde_json::{Value, json};

/// Why a body was refused (answered with a 400 and this reason).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpdateError {
    #[error("not a Telegram update: {0}")]
    Malformed(String),
}

/// One update, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    pub update_id: i64,
    pub message: Option<Message>,
    pub callback_query: Option<CallbackQuery>,
}

/// The parts of a Telegram `Message` the engine uses.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Message {
    pub message_id: i64,
    /// Unix time the customer sent it.
    pub date: i64,
    pub chat: Chat,
    #[serde(default)]
    pub from: Option<User>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub caption: Option<String>,
    #[serde(default)]
    pub contact: Option<Contact>,
    /// The message this one replies to (a manager answering a notification).
    #[serde(default)]
    pub reply_to_message: Option<Box<Message>>,
    /// Every other field (`photo`, `voice`, `sticker`, …): what kind of media this is.
    #[serde(flatten)]
    pub other: serde_json::Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Chat {
    pub id: i64,
    /// `private`, `group`, `supergroup` or `channel`.
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct User {
    pub id: i64,
    #[serde(default)]
    pub is_bot: bool,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Contact {
    pub phone_number: String,
}

/// A press on an inline keyboard button.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CallbackQuery {
    /// Answered with `answerCallbackQuery`, which stops the button's spinner.
    pub id: String,
    pub from: User,
    /// The bot's message the button was under (absent for inline-mode messages).
    #[serde(default)]
    pub message: Option<CallbackMessage>,
    /// The button's `callback_data` (absent for game buttons).
    #[serde(default)]
    pub data: Option<String>,
}

/// The message a pressed button was under: only its chat matters (Telegram may send it as
/// "inaccessible", with just the chat, the id and date 0).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CallbackMessage {
    pub chat: Chat,
}

#[derive(Deserialize)]
struct RawUpdate {
    update_id: i64,
    #[serde(default)]
    message: Option<Value>,
    #[serde(default)]
    callback_query: Option<Value>,
}

/// Fields of a message that make it media (the first one present names the kind).
const MEDIA_FIELDS: &[&str] = &[
    "photo",
    "voice",
    "audio",
    "video",
    "video_note",
    "animation",
    "document",
    "sticker",
    "location",
    "venue",
    "poll",
    "dice",
    "story",
];

/// Parses a webhook body.
pub fn parse(body: &[u8]) -> Result<Update, UpdateError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| UpdateError::Malformed(e.to_string()))?;
    parse_value(value)
}

/// Parses one update of a `getUpdates` answer (or a webhook body already read as JSON).
pub fn parse_value(value: Value) -> Result<Update, UpdateError> {
    // Serde would read a struct from an array too (`[1]` as `update_id` 1).
    if !value.is_object() {
        return Err(UpdateError::Malformed("expected a JSON object".into()));
    }
    let raw: RawUpdate =
        serde_json::from_value(value).map_err(|e| UpdateError::Malformed(e.to_string()))?;
    let message = raw
        .message
        .map(serde_json::from_value::<Message>)
        .transpose()
        .map_err(|e| UpdateError::Malformed(format!("message: {e}")))?;
    let callback_query = raw
        .callback_query
        .map(serde_json::from_value::<CallbackQuery>)
        .transpose()
        .map_err(|e| UpdateError::Malformed(format!("callback_query: {e}")))?;
    Ok(Update {
        update_id: raw.update_id,
        message,
        callback_query,
    })
}

/// What to do with an update.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// A customer's message or button press, for the inbox. A button press must also be
    /// answered (`answerCallbackQuery` with `callback_query_id`).
    Customer {
        inbound: Box<NewInbound>,
        callback_query_id: Option<String>,
    },
    /// A manager acting in the managers' chat on an escalation the bot announced there.
    Manager(ManagerUpdate),
    /// Not for the bot: acknowledged and dropped, for this reason.
    Ignored(&'static str),
}

/// What a manager did in the managers' chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManagerUpdate {
    /// Pressed "Взять" (`claim:<escalation id>`) or "Вернуть боту" (`release:<id>`) under an
    /// announcement.
    Button {
        action: ManagerButton,
        escalation_id: String,
        by: String,
        callback_query_id: String,
    },
    /// Replied to an announcement: `text` goes to that escalation's customer.
    Reply {
        escalation_id: String,
        text: String,
        by: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManagerButton {
    Claim,
    Release,
}

/// The line of an announcement that names its escalation (the reply relay reads it back from
/// the message a manager replies to).
pub const ESCALATION_TAG: &str = "ID: ";

/// The escalation an announcement's text names.
pub fn escalation_in(text: &str) -> Option<String> {
    text.lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix(ESCALATION_TAG))
        .map(|id| id.trim().to_owned())
        .filter(|id| !id.is_empty() && id.len() <= 64)
}

impl Update {
    /// Decides what the update is. `managers_chat_id` is the managers' group: its messages are
    /// never customer messages.
    pub fn classify(&self, managers_chat_id: Option<i64>) -> Incoming {
        let external_id = self.update_id.to_string();
        if let Some(m) = &self.message {
            if Some(m.chat.id) == managers_chat_id {
                // A reply to one of the bot's announcements is a message for that customer.
                let by = m.from.as_ref().and_then(User::name);
                return match (&m.reply_to_message, &m.text, by) {
                    (Some(original), Some(text), Some(by))
                        if !text.trim().is_empty()
                            && m.from.as_ref().is_some_and(|u| !u.is_bot) =>
                    {
                        match original.text.as_deref().and_then(escalation_in) {
                            Some(escalation_id) => Incoming::Manager(ManagerUpdate::Reply {
                                escalation_id,
                                text: text.trim().to_owned(),
                                by,
                            }),
                            None => Incoming::Ignored("managers' talk"),
                        }
                    }
                    _ => Incoming::Ignored("managers' talk"),
                };
            }
            if m.chat.kind != "private" {
                return Incoming::Ignored("not a private chat");
            }
            if m.from.as_ref().is_some_and(|u| u.is_bot) {
                return Incoming::Ignored("from a bot");
            }
            let (kind, text, payload) = message_content(m);
            return Incoming::Customer {
                inbound: Box::new(NewInbound {
                    key: ChatKey::new(Channel::Telegram, m.chat.id.to_string()),
                    external_id,
                    kind: kind.into(),
                    text,
                    sender_name: m.from.as_ref().and_then(User::name),
                    route: json!({ "chat_id": m.chat.id }),
                    payload,
                    sent_at: DateTime::from_timestamp(m.date, 0).unwrap_or_else(Utc::now),
                }),
                callback_query_id: None,
            };
        }
        if let Some(q) = &self.callback_query {
            let (Some(message), Some(data)) = (&q.message, &q.data) else {
                return Incoming::Ignored("a button press without chat or data");
            };
            if Some(message.chat.id) == managers_chat_id {
                let (action, id) = match data.split_once(':') {
                    Some(("claim", id)) => (ManagerButton::Claim, id),
                    Some(("release", id)) => (ManagerButton::Release, id),
                    _ => return Incoming::Ignored("an unknown button in the managers' chat"),
                };
                return Incoming::Manager(ManagerUpdate::Button {
                    action,
                    escalation_id: id.to_owned(),
                    by: q.from.name().unwrap_or_else(|| q.from.id.to_string()),
                    callback_query_id: q.id.clone(),
                });
            }
            if message.chat.kind != "private" {
                return Incoming::Ignored("not a private chat");
            }
            return Incoming::Customer {
                inbound: Box::new(NewInbound {
                    key: ChatKey::new(Channel::Telegram, message.chat.id.to_string()),
                    external_id,
                    kind: "callback".into(),
                    text: data.clone(),
                    sender_name: q.from.name(),
                    route: json!({ "chat_id": message.chat.id }),
                    payload: json!({ "data": data, "callback_query_id": q.id }),
                    // A press carries no date of its own; it arrives as it happens.
                    sent_at: Utc::now(),
                }),
                callback_query_id: Some(q.id.clone()),
            };
        }
        Incoming::Ignored("an update kind the bot does not handle")
    }
}

/// `(kind, text, payload)` of a customer's message.
fn message_content(m: &Message) -> (&'static str, String, Value) {
    if let Some(text) = &m.text {
        if let Some(param) = start_command(text) {
            let payload = match param {
                Some(p) => json!({ "start_param": p }),
                None => json!({}),
            };
            return ("start", "/start".into(), payload);
        }
        return ("text", text.clone(), json!({}));
    }
    if let Some(contact) = &m.contact {
        let payload = match normalize_phone(&contact.phone_number) {
            Some(phone) => json!({ "phone": phone }),
            None => json!({}),
        };
        return ("contact", String::new(), payload);
    }
    let media = MEDIA_FIELDS
        .iter()
        .find(|f| m.other.contains_key(**f))
        .copied()
        .unwrap_or("other");
    (
        "media",
        m.caption.clone().unwrap_or_default(),
        json!({ "type": media }),
    )
}

/// `/start`, `/start@SomeBot` or `/start <deep-link parameter>`: `Some(parameter)`.
fn start_command(text: &str) -> Option<Option<String>> {
    let text = text.trim();
    let (command, rest) = text.split_once(' ').unwrap_or((text, ""));
    let name = command.split_once('@').map_or(command, |(name, _)| name);
    if name != "/start" {
        return None;
    }
    let rest = rest.trim();
    Some((!rest.is_empty()).then(|| rest.to_owned()))
}

/// A phone number as Telegram shares it (`77011234567`, `+7 701 123 45 67`) in E.164
/// (`+77011234567`). A contact from the phone book may be in the domestic `8 7xx`/`8 9xx`
/// form of Kazakhstan and Russia: that becomes `+7…` (Vietnam's `84…` is left alone).
pub fn normalize_phone(raw: &str) -> Option<String> {
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    let domestic = digits.len() == 11
        && (digits.starts_with("87") || digits.starts_with("89"))
        && !raw.trim_start().starts_with('+');
    let digits = if domestic {
        format!("7{}", &digits[1..])
    } else {
        digits
    };
    (8..=15)
        .contains(&digits.len())
        .then(|| format!("+{digits}"))
}

impl User {
    /// First and last name, as the customer set them.
    pub fn name(&self) -> Option<String> {
        let name = match &self.last_name {
            Some(last) => format!("{} {last}", self.first_name),
            None => self.first_name.clone(),
        };
        let name = name.trim();
        (!name.is_empty()).then(|| name.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn private(update_id: i64, message: Value) -> Update {
        let mut m = json!({
            "message_id": 7, "date": 1_790_000_000,
            "chat": {"id": 4242, "type": "private", "first_name": "Aigul"},
            "from": {"id": 4242, "is_bot": false, "first_name": "Aigul", "last_name": "S"},
        });
        m.as_object_mut()
            .unwrap()
            .extend(message.as_object().unwrap().clone());
        parse_value(json!({"update_id": update_id, "message": m})).unwrap()
    }

    fn customer(update: &Update) -> (NewInbound, Option<String>) {
        match update.classify(Some(-100)) {
            Incoming::Customer {
                inbound,
                callback_query_id,
            } => (*inbound, callback_query_id),
            other => panic!("not a customer's: {other:?}"),
        }
    }

    #[test]
    fn a_text_message_becomes_a_text_inbound() {
        let (m, _) = customer(&private(10, json!({"text": "Хотим в Нячанг"})));
        assert_eq!(m.key, ChatKey::new(Channel::Telegram, "4242"));
        assert_eq!(m.external_id, "10");
        assert_eq!(
            (m.kind.as_str(), m.text.as_str()),
            ("text", "Хотим в Нячанг")
        );
        assert_eq!(m.sender_name.as_deref(), Some("Aigul S"));
        assert_eq!(m.route, json!({"chat_id": 4242}));
        assert_eq!(m.sent_at.timestamp(), 1_790_000_000);
    }

    #[test]
    fn start_contact_and_media_are_recognised() {
        let (m, _) = customer(&private(1, json!({"text": "/start"})));
        assert_eq!((m.kind.as_str(), m.text.as_str()), ("start", "/start"));
        let (m, _) = customer(&private(2, json!({"text": "/start promo42"})));
        assert_eq!(m.payload, json!({"start_param": "promo42"}));
        let (m, _) = customer(&private(3, json!({"text": "/started"})));
        assert_eq!(m.kind, "text");
        let (m, _) = customer(&private(
            4,
            json!({"contact": {"phone_number": "77011234567", "first_name": "Aigul", "user_id": 4242}}),
        ));
        assert_eq!((m.kind.as_str(), m.text.as_str()), ("contact", ""));
        assert_eq!(m.payload, json!({"phone": "+77011234567"}));
        let (m, _) = customer(&private(
            5,
            json!({"photo": [{"file_id": "x", "width": 1, "height": 1}], "caption": "вот этот отель"}),
        ));
        assert_eq!(
            (m.kind.as_str(), m.text.as_str()),
            ("media", "вот этот отель")
        );
        let (m, _) = customer(&private(
            6,
            json!({"voice": {"file_id": "v", "duration": 3}}),
        ));
        assert_eq!((m.kind.as_str(), m.text.as_str()), ("media", ""));
        assert_eq!(m.payload, json!({"type": "voice"}));
    }

    #[test]
    fn a_button_press_becomes_a_callback() {
        let update = parse_value(json!({"update_id": 9, "callback_query": {
            "id": "cq-1", "from": {"id": 4242, "is_bot": false, "first_name": "Aigul"},
            "chat_instance": "ci", "data": "book:2",
            "message": {"message_id": 3, "date": 0, "chat": {"id": 4242, "type": "private"}}
        }}))
        .unwrap();
        let (m, id) = customer(&update);
        assert_eq!(id.as_deref(), Some("cq-1"));
        assert_eq!((m.kind.as_str(), m.text.as_str()), ("callback", "book:2"));
        assert_eq!(
            m.payload,
            json!({"data": "book:2", "callback_query_id": "cq-1"})
        );
    }

    #[test]
    fn groups_the_managers_chat_and_other_updates_are_ignored() {
        let group = parse_value(json!({"update_id": 1, "message": {
            "message_id": 1, "date": 1, "chat": {"id": -5, "type": "group"}, "text": "hi"}}))
        .unwrap();
        assert!(matches!(group.classify(None), Incoming::Ignored(_)));
        let managers = parse_value(json!({"update_id": 2, "message": {
            "message_id": 1, "date": 1, "chat": {"id": -100, "type": "supergroup"}, "text": "беру"}}))
        .unwrap();
        assert_eq!(
            managers.classify(Some(-100)),
            Incoming::Ignored("managers' talk")
        );
        let edit = parse_value(json!({"update_id": 3, "edited_message": {}})).unwrap();
        assert!(matches!(edit.classify(None), Incoming::Ignored(_)));
    }

    #[test]
    fn managers_claim_with_a_button_and_answer_by_replying() {
        let press = parse_value(json!({"update_id": 7, "callback_query": {
            "id": "cq-1", "from": {"id": 5, "first_name": "Айдана"},
            "message": {"message_id": 9, "date": 1, "chat": {"id": -100, "type": "supergroup"}},
            "data": "claim:0193-abc"}}))
        .unwrap();
        assert_eq!(
            press.classify(Some(-100)),
            Incoming::Manager(ManagerUpdate::Button {
                action: ManagerButton::Claim,
                escalation_id: "0193-abc".into(),
                by: "Айдана".into(),
                callback_query_id: "cq-1".into(),
            })
        );
        let reply = parse_value(json!({"update_id": 8, "message": {
            "message_id": 10, "date": 1, "chat": {"id": -100, "type": "supergroup"},
            "from": {"id": 5, "first_name": "Айдана"}, "text": " Добрый день! ",
            "reply_to_message": {"message_id": 9, "date": 1,
                "chat": {"id": -100, "type": "supergroup"},
                "text": "Нужен менеджер\nID: 0193-abc"}}}))
        .unwrap();
        assert_eq!(
            reply.classify(Some(-100)),
            Incoming::Manager(ManagerUpdate::Reply {
                escalation_id: "0193-abc".into(),
                text: "Добрый день!".into(),
                by: "Айдана".into(),
            })
        );
    }

    #[test]
    fn malformed_bodies_are_refused_with_a_reason() {
        assert!(parse(b"{not json").is_err());
        assert!(parse(b"[1]").is_err());
        let no_id = parse(br#"{"message": {}}"#).unwrap_err();
        assert!(no_id.to_string().contains("update_id"), "{no_id}");
        let no_chat =
            parse(br#"{"update_id": 1, "message": {"message_id": 1, "date": 1}}"#).unwrap_err();
        assert!(no_chat.to_string().contains("chat"), "{no_chat}");
    }

    #[test]
    fn phones_are_normalised_to_e164() {
        assert_eq!(
            normalize_phone("77011234567").as_deref(),
            Some("+77011234567")
        );
        assert_eq!(
            normalize_phone("+7 (701) 123-45-67").as_deref(),
            Some("+77011234567")
        );
        assert_eq!(
            normalize_phone("87011234567").as_deref(),
            Some("+77011234567")
        );
        assert_eq!(
            normalize_phone("84901234567").as_deref(),
            Some("+84901234567"),
            "a Vietnamese number without its plus"
        );
        assert_eq!(
            normalize_phone("+84901234567").as_deref(),
            Some("+84901234567")
        );
        assert_eq!(normalize_phone("123"), None);
    }
}
