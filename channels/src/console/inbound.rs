//! A line typed in `crystalbay chat`, as the engine's inbound message.

use crate::inbound::{InboundKind, NewInbound};
use dialogs::{Channel, ChatKey};

/// The message for the line `text` typed in the console chat `chat_id`, under the inbox id
/// `external_id` (each line is new: the console never redelivers).
pub fn line(chat_id: &str, external_id: String, text: &str) -> NewInbound {
    NewInbound {
        key: ChatKey::new(Channel::Console, chat_id),
        external_id,
        kind: InboundKind::Text,
        text: text.to_owned(),
        sender_name: None,
        route: serde_json::json!({}),
        payload: serde_json::json!({}),
        sent_at: chrono::Utc::now(),
    }
}
