//! Parsing a Wazzup webhook body. One body may hold `messages` and `statuses` together; the
//! registration probe is `{"test": true}`. Unknown keys are ignored, missing optional ones
//! tolerated; a body that is not a JSON object, or a message without its ids, is refused whole.

use crate::inbound::{InboundKind, NewInbound};
use chrono::{DateTime, NaiveDateTime, Utc};
use dialogs::{Channel, ChatKey};
use serde::Deserialize;
use serde_json::json;

/// Why a webhook body was refused (answered with a 400 and this reason).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("body is not valid JSON: {0}")]
    Json(String),
    #[error("messages[{index}]: {problem}")]
    Message { index: usize, problem: String },
}

/// A parsed delivery.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WazzupWebhook {
    /// The `{"test": true}` probe sent when the webhook is registered.
    pub test: bool,
    pub messages: Vec<WazzupMessage>,
    pub statuses: Vec<WazzupStatus>,
}

/// What a `messages[]` item is, per the spec's classification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageClass {
    /// From the customer: this reaches the bot.
    Incoming,
    /// Sent from our side (by the API, or by a person from the CRM/phone/app).
    Outgoing,
    Edited,
    Deleted,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WazzupMessage {
    pub class: MessageClass,
    pub message_id: String,
    pub channel_id: String,
    pub chat_type: String,
    pub chat_id: String,
    /// `text`, `image`, `audio`, … (`text` when absent).
    pub kind: String,
    pub text: Option<String>,
    pub contact_name: Option<String>,
    /// The employee who wrote an outgoing message, if Wazzup says.
    pub author_name: Option<String>,
    /// Our idempotency key on the echo of our own send, if Wazzup repeats it.
    pub crm_message_id: Option<String>,
    pub sent_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WazzupStatus {
    pub message_id: String,
    /// `sent`, `delivered`, `read`, `error`, `edited`.
    pub status: String,
    pub error: Option<String>,
}

impl WazzupStatus {
    /// What the status tells of our message's delivery; `None` when it tells nothing to record
    /// (`sent`, which we knew, `edited`, or a status Wazzup may add later).
    pub fn delivery(&self) -> Option<crate::outbound::Delivery> {
        use crate::outbound::Delivery;
        match self.status.as_str() {
            "delivered" => Some(Delivery::Delivered),
            "read" => Some(Delivery::Read),
            "error" => Some(Delivery::Failed),
            _ => None,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBody {
    #[serde(default)]
    test: Option<serde_json::Value>,
    #[serde(default)]
    messages: Vec<serde_json::Value>,
    #[serde(default)]
    statuses: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMessage {
    message_id: Option<String>,
    channel_id: Option<String>,
    chat_type: Option<String>,
    chat_id: Option<serde_json::Value>,
    date_time: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    text: Option<String>,
    #[serde(default)]
    is_echo: Option<serde_json::Value>,
    #[serde(default)]
    is_edited: Option<serde_json::Value>,
    #[serde(default)]
    is_deleted: Option<serde_json::Value>,
    contact: Option<RawContact>,
    author_name: Option<String>,
    crm_message_id: Option<String>,
}

#[derive(Deserialize)]
struct RawContact {
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawStatus {
    message_id: Option<String>,
    status: Option<String>,
    error: Option<serde_json::Value>,
}

/// `true`, `"true"`, `1`, `"1"` → true.
fn truthy(v: &Option<serde_json::Value>) -> bool {
    match v {
        Some(serde_json::Value::Bool(b)) => *b,
        Some(serde_json::Value::Number(n)) => n.as_i64() == Some(1),
        Some(serde_json::Value::String(s)) => s == "true" || s == "1",
        _ => false,
    }
}

/// Parses `yyyy-mm-ddThh:mm:ss[.ms][Z|±hh:mm]`; no zone means UTC.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|n| n.and_utc())
}

/// Parses one webhook body.
pub fn parse(body: &[u8]) -> Result<WazzupWebhook, WebhookError> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| WebhookError::Json(e.to_string()))?;
    // Serde would read a struct from an array too (`[]` as an empty body, `[false, [m]]` as
    // messages): only an object is a body.
    if !value.is_object() {
        return Err(WebhookError::Json("expected a JSON object".into()));
    }
    let raw: RawBody =
        serde_json::from_value(value).map_err(|e| WebhookError::Json(e.to_string()))?;
    let mut hook = WazzupWebhook {
        test: truthy(&raw.test),
        ..Default::default()
    };
    for (index, value) in raw.messages.into_iter().enumerate() {
        let problem = |p: &str| WebhookError::Message {
            index,
            problem: p.to_owned(),
        };
        if !value.is_object() {
            return Err(problem("not an object"));
        }
        let m: RawMessage = serde_json::from_value(value).map_err(|e| problem(&e.to_string()))?;
        let chat_id = match m.chat_id {
            Some(serde_json::Value::String(s)) if !s.is_empty() => s,
            Some(serde_json::Value::Number(n)) => n.to_string(),
            _ => return Err(problem("chatId is missing")),
        };
        let class = if truthy(&m.is_deleted) {
            MessageClass::Deleted
        } else if truthy(&m.is_edited) {
            MessageClass::Edited
        } else if truthy(&m.is_echo) {
            MessageClass::Outgoing
        } else {
            MessageClass::Incoming
        };
        hook.messages.push(WazzupMessage {
            class,
            message_id: m
                .message_id
                .filter(|s| !s.is_empty())
                .ok_or_else(|| problem("messageId is missing"))?,
            channel_id: m
                .channel_id
                .filter(|s| !s.is_empty())
                .ok_or_else(|| problem("channelId is missing"))?,
            chat_type: m
                .chat_type
                .filter(|s| !s.is_empty())
                .ok_or_else(|| problem("chatType is missing"))?,
            chat_id,
            kind: m.kind.unwrap_or_else(|| "text".into()),
            text: m.text,
            contact_name: m.contact.and_then(|c| c.name),
            author_name: m.author_name,
            crm_message_id: m.crm_message_id.filter(|s| !s.is_empty()),
            sent_at: m
                .date_time
                .as_deref()
                .and_then(parse_time)
                .unwrap_or_else(Utc::now),
        });
    }
    for value in raw.statuses {
        // A status we cannot read is not worth refusing the messages beside it.
        if !value.is_object() {
            continue;
        }
        let Ok(s) = serde_json::from_value::<RawStatus>(value) else {
            continue;
        };
        if let (Some(message_id), Some(status)) = (s.message_id, s.status) {
            hook.statuses.push(WazzupStatus {
                message_id,
                status,
                error: s.error.map(|e| e.to_string()),
            });
        }
    }
    Ok(hook)
}

/// The chat types Wazzup has (`chatType`): one per messenger it connects.
pub const CHAT_TYPES: &[&str] = &[
    "whatsapp",
    "whatsgroup",
    "viber",
    "instagram",
    "telegram",
    "telegroup",
    "vk",
    "avito",
    "max",
    "maxgroup",
];

/// The messenger of a Wazzup chat by its chat key's id (`instagram:…`, as [`WazzupMessage::chat_key`]
/// makes it): one of [`CHAT_TYPES`], or `None` for an id of another shape.
pub fn messenger(chat_id: &str) -> Option<&'static str> {
    let (chat_type, _) = chat_id.split_once(':')?;
    CHAT_TYPES.iter().copied().find(|t| *t == chat_type)
}

impl WazzupMessage {
    /// Whether the chat type is one Wazzup has: a reply to any other could never be sent.
    pub fn known_chat_type(&self) -> bool {
        CHAT_TYPES.contains(&self.chat_type.as_str())
    }

    /// The chat this message belongs to: one per messenger chat.
    pub fn chat_key(&self) -> ChatKey {
        ChatKey::new(
            Channel::Wazzup,
            format!("{}:{}", self.chat_type, self.chat_id),
        )
    }

    /// The inbound message for the engine for a manager's echo (a message written from the
    /// CRM or the phone): kind `echo`, the author in the payload.
    pub fn to_echo(&self) -> NewInbound {
        let mut inbound = self.to_inbound();
        inbound.kind = InboundKind::ManagerEcho {
            author: self.author_name.clone(),
        };
        inbound.sender_name = self.author_name.clone();
        inbound.payload = inbound.kind.with_data(json!({}));
        inbound
    }

    /// The inbound message for the engine, for an incoming customer message.
    pub fn to_inbound(&self) -> NewInbound {
        let kind = if self.kind == "text" {
            InboundKind::Text
        } else {
            InboundKind::Media {
                kind: self.kind.clone(),
            }
        };
        NewInbound {
            key: self.chat_key(),
            external_id: self.message_id.clone(),
            payload: kind.with_data(json!({})),
            kind,
            text: self.text.clone().unwrap_or_default(),
            sender_name: self.contact_name.clone(),
            route: json!({
                "channelId": self.channel_id,
                "chatType": self.chat_type,
                "chatId": self.chat_id,
            }),
            sent_at: self.sent_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_combined_body_is_parsed() {
        let body = br#"{"messages":[{"messageId":"m1","channelId":"c1","chatType":"whatsapp","chatId":"79011112233",
            "dateTime":"2025-03-01T10:15:30.123","type":"text","status":"inbound","isEcho":false,"text":"Hi",
            "contact":{"name":"Anna"}}],
            "statuses":[{"messageId":"o1","timestamp":"2025-03-01T10:16:01.000Z","status":"delivered"}]}"#;
        let hook = parse(body).unwrap();
        assert!(!hook.test);
        let m = &hook.messages[0];
        assert!(m.known_chat_type());
        assert_eq!(m.class, MessageClass::Incoming);
        assert_eq!(m.chat_key().chat_id, "whatsapp:79011112233");
        assert_eq!(m.sent_at.to_rfc3339(), "2025-03-01T10:15:30.123+00:00");
        assert_eq!(m.to_inbound().sender_name.as_deref(), Some("Anna"));
        assert_eq!(hook.statuses[0].status, "delivered");
    }

    #[test]
    fn the_messenger_is_read_from_the_chat_key() {
        let body = br#"{"messages":[{"messageId":"m1","channelId":"c1","chatType":"instagram","chatId":"aigul.travels"}]}"#;
        let m = &parse(body).unwrap().messages[0];
        assert_eq!(messenger(&m.chat_key().chat_id), Some("instagram"));
        assert_eq!(messenger("whatsapp:77010000001"), Some("whatsapp"));
        assert_eq!(messenger("fax:1"), None);
        assert_eq!(messenger("77010000001"), None);
    }

    #[test]
    fn the_probe_and_classes_are_recognised() {
        assert!(parse(br#"{"test":true}"#).unwrap().test);
        let echo = br#"{"messages":[{"messageId":"m","channelId":"c","chatType":"whatsapp","chatId":"7","isEcho":true,"authorName":"Olga"}]}"#;
        assert_eq!(
            parse(echo).unwrap().messages[0].class,
            MessageClass::Outgoing
        );
        let deleted = br#"{"messages":[{"messageId":"m","channelId":"c","chatType":"whatsapp","chatId":"7","isEcho":false,"isDeleted":"true"}]}"#;
        assert_eq!(
            parse(deleted).unwrap().messages[0].class,
            MessageClass::Deleted
        );
    }

    #[test]
    fn malformed_bodies_are_refused_with_a_reason() {
        assert!(matches!(parse(b"{not json"), Err(WebhookError::Json(_))));
        assert!(matches!(parse(b"[1,2]"), Err(WebhookError::Json(_))));
        // Arrays are not read as structs: not the body, not a message.
        assert!(matches!(parse(b"[]"), Err(WebhookError::Json(_))));
        let positional = br#"[null, [["m", "c", "whatsapp", "7"]]]"#;
        assert!(matches!(parse(positional), Err(WebhookError::Json(_))));
        let message_as_list = br#"{"messages": [["m", "c", "whatsapp", "7"]]}"#;
        assert_eq!(
            parse(message_as_list).unwrap_err().to_string(),
            "messages[0]: not an object"
        );
        let missing = br#"{"messages":[{"channelId":"c","chatType":"whatsapp","chatId":"7"}]}"#;
        assert_eq!(
            parse(missing).unwrap_err().to_string(),
            "messages[0]: messageId is missing"
        );
        let wrong_type =
            br#"{"messages":[{"messageId":5,"channelId":"c","chatType":"whatsapp","chatId":"7"}]}"#;
        assert!(parse(wrong_type).is_err());
    }
}
