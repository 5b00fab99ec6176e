//! What the engine does with a Telegram update (teloxide-core's [`Update`]): parse a webhook
//! body or a `getUpdates` item, then classify it.
//!
//! Only what a customer does in a private chat with the bot reaches the inbox: text, `/start`,
//! a shared contact, a button press, media (a caption is read as text). What a customer does
//! that the bot deliberately does not answer (an edit, blocking the bot, a service message) is
//! [`Incoming::Dropped`], logged. Everything else — groups and channels (the managers' chat
//! among them, where managers act instead), other bots, update kinds the bot does not handle —
//! is [`Incoming::Ignored`].
//!
//! **Refused.** A body that is not an update is refused whole with a reason: not JSON, not an
//! object, no `update_id`, or a message or button press the Bot API could not have sent (no
//! chat, no date, a chat without its type, a text that is not a string). teloxide-core reads an
//! update it cannot understand as `UpdateKind::Error` (so that one odd update does not stop a
//! poller); [`parse`] refuses it, with serde's reason, when it is a message or button press in
//! a private chat, and lets it through to be ignored otherwise: update kinds and chat types
//! Telegram added later, groups and channels.
//!
//! The inbox key is the `update_id`: Telegram redelivers an update with the same id (webhook
//! retries, a poller that did not confirm its offset), so the inbox recognises the repeat.

use crate::inbound::{InboundKind, NewInbound};
use dialogs::{Channel, ChatKey};
use serde_json::{Value, json};
use teloxide_core::types::{
    CallbackQuery, ChatMemberStatus, MaybeInaccessibleMessage, MediaKind, Message, MessageKind,
    Update, UpdateKind, User,
};

/// Why a body was refused (answered with a 400 and this reason).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpdateError {
    #[error("not a Telegram update: {0}")]
    Malformed(String),
}

/// The update kinds whose shape is checked: the bot acts on them, so one it cannot read is a
/// fault of the sender, not something new.
const CHECKED_KINDS: [&str; 2] = ["message", "callback_query"];

/// Parses a webhook body.
pub fn parse(body: &[u8]) -> Result<Update, UpdateError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| UpdateError::Malformed(e.to_string()))?;
    check(body, &value)
}

/// Parses an update already read as JSON.
pub fn parse_value(value: Value) -> Result<Update, UpdateError> {
    // teloxide-core reads an update's kind from text only (from a `Value` every update would
    // come out as `UpdateKind::Error`).
    let body = serde_json::to_vec(&value).expect("JSON values serialise");
    check(&body, &value)
}

/// An update from `getUpdates`: one teloxide-core could not read comes with its JSON, and gets
/// the same verdict as a webhook body.
pub fn reparse(update: Update) -> Result<Update, UpdateError> {
    match &update.kind {
        UpdateKind::Error(value) if value.is_object() => parse_value(value.clone()),
        _ => Ok(update),
    }
}

fn check(body: &[u8], value: &Value) -> Result<Update, UpdateError> {
    let malformed = |reason: String| Err(UpdateError::Malformed(reason));
    let Some(object) = value.as_object() else {
        return malformed("expected a JSON object".into());
    };
    match object.get("update_id") {
        None => return malformed("missing field `update_id`".into()),
        Some(id) if id.as_u64().is_none_or(|id| id > u64::from(u32::MAX)) => {
            return malformed(format!("update_id: expected a whole number, got {id}"));
        }
        Some(_) => {}
    }
    let update: Update =
        serde_json::from_slice(body).map_err(|e| UpdateError::Malformed(e.to_string()))?;
    match &update.kind {
        UpdateKind::Error(_) => {
            let Some(kind) = CHECKED_KINDS.into_iter().find(|k| object.contains_key(*k)) else {
                // A kind the bot does not handle (or one teloxide-core does not know yet).
                return Ok(with_json(update, value));
            };
            let part = &object[kind];
            let chat = if kind == "callback_query" {
                part.pointer("/message/chat")
            } else {
                part.get("chat")
            };
            match chat.map(|c| c.get("type")) {
                Some(None) => malformed(format!("{kind}: chat: missing field `type`")),
                // A group, a channel, or a chat type that is not the Bot API's today: not a
                // customer's chat, whatever else is wrong with it.
                Some(Some(Value::String(t))) if t != "private" => Ok(with_json(update, value)),
                _ => malformed(format!("{kind}: {}", fault(kind, part))),
            }
        }
        // teloxide-core reads a message whose content it cannot read as an empty one.
        UpdateKind::Message(m) if matches!(m.kind, MessageKind::Empty {}) => {
            for field in ["text", "caption"] {
                let value = object.get("message").and_then(|m| m.get(field));
                if value.is_some_and(|v| !v.is_string()) {
                    return malformed(format!("message: {field}: expected a string"));
                }
            }
            Ok(update)
        }
        _ => Ok(update),
    }
}

/// `update` as teloxide-core's unreadable update, carrying its JSON.
fn with_json(update: Update, value: &Value) -> Update {
    Update {
        id: update.id,
        kind: UpdateKind::Error(value.clone()),
    }
}

/// Why `part` is not the `kind` the Bot API sends, in teloxide-core's (serde's) words.
fn fault(kind: &str, part: &Value) -> String {
    let error = if kind == "callback_query" {
        serde_json::from_value::<CallbackQuery>(part.clone()).err()
    } else {
        serde_json::from_value::<Message>(part.clone()).err()
    };
    error.map_or_else(
        || "not what the Bot API sends".to_owned(),
        |e| e.to_string(),
    )
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
    /// Something a customer did in their private chat that the bot deliberately does not
    /// answer: acknowledged, dropped and logged (`what` says what it was).
    Dropped { chat_id: i64, what: &'static str },
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

/// Decides what `update` is. `managers_chat_id` is the managers' group: its messages are never
/// customer messages.
pub fn classify(update: &Update, managers_chat_id: Option<i64>) -> Incoming {
    let external_id = update.id.0.to_string();
    match &update.kind {
        UpdateKind::Message(m) => {
            let chat_id = m.chat.id.0;
            if Some(chat_id) == managers_chat_id {
                return managers_message(m);
            }
            if !m.chat.is_private() {
                return Incoming::Ignored("not a private chat");
            }
            if m.from.as_ref().is_some_and(|u| u.is_bot) {
                return Incoming::Ignored("from a bot");
            }
            let Some((kind, text, payload)) = message_content(m) else {
                return Incoming::Dropped {
                    chat_id,
                    what: "a service message",
                };
            };
            Incoming::Customer {
                inbound: Box::new(NewInbound {
                    key: ChatKey::new(Channel::Telegram, chat_id.to_string()),
                    external_id,
                    kind,
                    text,
                    sender_name: m.from.as_ref().and_then(name),
                    route: json!({ "chat_id": chat_id }),
                    payload,
                    sent_at: m.date,
                }),
                callback_query_id: None,
            }
        }
        UpdateKind::CallbackQuery(q) => button_press(q, external_id, managers_chat_id),
        UpdateKind::EditedMessage(m)
            if m.chat.is_private() && Some(m.chat.id.0) != managers_chat_id =>
        {
            Incoming::Dropped {
                chat_id: m.chat.id.0,
                what: "an edited message (the bot answers new messages)",
            }
        }
        UpdateKind::MyChatMember(member) if member.chat.is_private() => Incoming::Dropped {
            chat_id: member.chat.id.0,
            what: match member.new_chat_member.status() {
                ChatMemberStatus::Banned | ChatMemberStatus::Left => {
                    "the customer blocked the bot (replies will not arrive)"
                }
                _ => "the customer unblocked the bot",
            },
        },
        UpdateKind::Error(_) => Incoming::Ignored("an update kind or chat the bot does not know"),
        _ => Incoming::Ignored("an update kind the bot does not handle"),
    }
}

/// A message in the managers' chat: a reply to one of the bot's announcements is a message for
/// that customer; anything else is their own talk.
fn managers_message(m: &Message) -> Incoming {
    let talk = Incoming::Ignored("managers' talk");
    let (Some(from), Some(text), Some(original)) = (&m.from, m.text(), m.reply_to_message()) else {
        return talk;
    };
    let (Some(by), Some(escalation_id)) = (name(from), original.text().and_then(escalation_in))
    else {
        return talk;
    };
    if from.is_bot || text.trim().is_empty() {
        return talk;
    }
    Incoming::Manager(ManagerUpdate::Reply {
        escalation_id,
        text: text.trim().to_owned(),
        by,
    })
}

/// A press on an inline keyboard button: a customer's choice, or a manager's claim or release.
fn button_press(q: &CallbackQuery, external_id: String, managers_chat_id: Option<i64>) -> Incoming {
    let (Some(message), Some(data)) = (&q.message, &q.data) else {
        return Incoming::Ignored("a button press without chat or data");
    };
    let chat = match message {
        MaybeInaccessibleMessage::Regular(m) => &m.chat,
        MaybeInaccessibleMessage::Inaccessible(m) => &m.chat,
    };
    let chat_id = chat.id.0;
    if Some(chat_id) == managers_chat_id {
        let (action, id) = match data.split_once(':') {
            Some(("claim", id)) => (ManagerButton::Claim, id),
            Some(("release", id)) => (ManagerButton::Release, id),
            _ => return Incoming::Ignored("an unknown button in the managers' chat"),
        };
        return Incoming::Manager(ManagerUpdate::Button {
            action,
            escalation_id: id.to_owned(),
            by: name(&q.from).unwrap_or_else(|| q.from.id.to_string()),
            callback_query_id: q.id.0.clone(),
        });
    }
    if !chat.is_private() {
        return Incoming::Ignored("not a private chat");
    }
    let kind = InboundKind::Callback { data: data.clone() };
    Incoming::Customer {
        inbound: Box::new(NewInbound {
            key: ChatKey::new(Channel::Telegram, chat_id.to_string()),
            external_id,
            kind: kind.clone(),
            text: data.clone(),
            sender_name: name(&q.from),
            route: json!({ "chat_id": chat_id }),
            payload: kind.with_data(json!({ "callback_query_id": q.id.0 })),
            // A press carries no date of its own; it arrives as it happens.
            sent_at: chrono::Utc::now(),
        }),
        callback_query_id: Some(q.id.0.clone()),
    }
}

/// `(kind, text, payload)` of a customer's message; `None` for a service message (a pinned
/// message, a shared chat, a payment: nothing the customer wrote).
fn message_content(m: &Message) -> Option<(InboundKind, String, Value)> {
    let (kind, text, extras) = message_kind(m)?;
    let payload = kind.with_data(extras);
    Some((kind, text, payload))
}

/// `(kind, text, extras)` of a customer's message: the payload's extras beside the kind's data.
fn message_kind(m: &Message) -> Option<(InboundKind, String, Value)> {
    let media_kind = |kind: &str| InboundKind::Media {
        kind: kind.to_owned(),
    };
    let media = match &m.kind {
        MessageKind::Common(common) => &common.media_kind,
        MessageKind::Dice(_) => return Some((media_kind("dice"), String::new(), json!({}))),
        // Content teloxide-core does not know (a newer Bot API's): answered like media.
        MessageKind::Empty {} => return Some((media_kind("other"), String::new(), json!({}))),
        _ => return None,
    };
    let content = match media {
        MediaKind::Text(t) => match start_command(&t.text) {
            Some(param) => {
                let payload = match param {
                    Some(p) => json!({ "start_param": p }),
                    None => json!({}),
                };
                (InboundKind::Start, "/start".into(), payload)
            }
            None => (InboundKind::Text, t.text.clone(), json!({})),
        },
        MediaKind::Contact(c) => (
            InboundKind::Contact {
                phone: normalize_phone(&c.contact.phone_number),
            },
            String::new(),
            json!({}),
        ),
        other => (
            media_kind(media_type(other)),
            m.caption().unwrap_or_default().to_owned(),
            json!({}),
        ),
    };
    Some(content)
}

/// The Bot API's name of a kind of media.
fn media_type(media: &MediaKind) -> &'static str {
    match media {
        MediaKind::Animation(_) => "animation",
        MediaKind::Audio(_) => "audio",
        MediaKind::Contact(_) => "contact",
        MediaKind::Document(_) => "document",
        MediaKind::PaidMedia(_) => "paid_media",
        MediaKind::Game(_) => "game",
        MediaKind::Venue(_) => "venue",
        MediaKind::Location(_) => "location",
        MediaKind::Photo(_) => "photo",
        MediaKind::Poll(_) => "poll",
        MediaKind::Checklist(_) => "checklist",
        MediaKind::Sticker(_) => "sticker",
        MediaKind::Story(_) => "story",
        MediaKind::Text(_) => "text",
        MediaKind::Video(_) => "video",
        MediaKind::VideoNote(_) => "video_note",
        MediaKind::Voice(_) => "voice",
        MediaKind::Migration(_) => "other",
    }
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

/// First and last name, as the user set them.
fn name(user: &User) -> Option<String> {
    let name = user.full_name();
    let name = name.trim();
    (!name.is_empty()).then(|| name.to_owned())
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
        match classify(update, Some(-100)) {
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
        assert_eq!(m.kind, InboundKind::Text);
        let (m, _) = customer(&private(
            4,
            json!({"contact": {"phone_number": "77011234567", "first_name": "Aigul", "user_id": 4242}}),
        ));
        assert_eq!((m.kind.as_str(), m.text.as_str()), ("contact", ""));
        assert_eq!(m.payload, json!({"phone": "+77011234567"}));
        let (m, _) = customer(&private(
            5,
            json!({"photo": [{"file_id": "x", "file_unique_id": "ux", "width": 1, "height": 1}],
                   "caption": "вот этот отель"}),
        ));
        assert_eq!(
            (m.kind.as_str(), m.text.as_str()),
            ("media", "вот этот отель")
        );
        let (m, _) = customer(&private(
            6,
            json!({"voice": {"file_id": "v", "file_unique_id": "uv", "duration": 3,
                              "mime_type": "audio/ogg", "file_size": 4711}}),
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
        assert!(matches!(classify(&group, None), Incoming::Ignored(_)));
        let managers = parse_value(json!({"update_id": 2, "message": {
            "message_id": 1, "date": 1, "chat": {"id": -100, "type": "supergroup"}, "text": "беру"}}))
        .unwrap();
        assert_eq!(
            classify(&managers, Some(-100)),
            Incoming::Ignored("managers' talk")
        );
        let edit = parse_value(json!({"update_id": 3, "edited_message": {}})).unwrap();
        assert!(matches!(classify(&edit, None), Incoming::Ignored(_)));
        let poll = parse_value(json!({"update_id": 4, "poll": {}})).unwrap();
        assert!(matches!(classify(&poll, None), Incoming::Ignored(_)));
    }

    #[test]
    fn managers_claim_with_a_button_and_answer_by_replying() {
        let press = parse_value(json!({"update_id": 7, "callback_query": {
            "id": "cq-1", "from": {"id": 5, "is_bot": false, "first_name": "Айдана"},
            "chat_instance": "-1",
            "message": {"message_id": 9, "date": 1, "chat": {"id": -100, "type": "supergroup"}},
            "data": "claim:0193-abc"}}))
        .unwrap();
        assert_eq!(
            classify(&press, Some(-100)),
            Incoming::Manager(ManagerUpdate::Button {
                action: ManagerButton::Claim,
                escalation_id: "0193-abc".into(),
                by: "Айдана".into(),
                callback_query_id: "cq-1".into(),
            })
        );
        let reply = parse_value(json!({"update_id": 8, "message": {
            "message_id": 10, "date": 1, "chat": {"id": -100, "type": "supergroup"},
            "from": {"id": 5, "is_bot": false, "first_name": "Айдана"}, "text": " Добрый день! ",
            "reply_to_message": {"message_id": 9, "date": 1,
                "chat": {"id": -100, "type": "supergroup"},
                "text": "Нужен менеджер\nID: 0193-abc"}}}))
        .unwrap();
        assert_eq!(
            classify(&reply, Some(-100)),
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
        let no_type = parse(
            br#"{"update_id": 1, "message": {"message_id": 1, "date": 1, "chat": {"id": 1}}}"#,
        )
        .unwrap_err();
        assert!(no_type.to_string().contains("type"), "{no_type}");
        let text_a_number = parse(
            br#"{"update_id": 1, "message": {"message_id": 1, "date": 1,
                "chat": {"id": 1, "type": "private"}, "text": 42}}"#,
        )
        .unwrap_err();
        assert!(
            text_a_number.to_string().contains("text"),
            "{text_a_number}"
        );
    }

    #[test]
    fn unknown_chat_types_and_update_kinds_are_read_and_ignored() {
        let secret = parse(
            br#"{"update_id": 1, "message": {"message_id": 1, "date": 1,
                "chat": {"id": 1, "type": "secret"}, "text": "hi"}}"#,
        )
        .unwrap();
        assert!(matches!(classify(&secret, None), Incoming::Ignored(_)));
        let new_kind = parse(br#"{"update_id": 2, "something_new": {"x": 1}}"#).unwrap();
        assert!(matches!(classify(&new_kind, None), Incoming::Ignored(_)));
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
