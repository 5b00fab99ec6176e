//! Sending replies on Telegram: `sendMessage` with the reply's buttons as an inline keyboard,
//! paced to Telegram's limits, and each failure mapped to what the channel actor should do.
//!
//! **Pacing.** At most one message per second per chat and thirty per second overall (the
//! Bot API's limits; [`TelegramSender::with_overall_rate`] changes the second,
//! `TELEGRAM_SENDS_PER_SEC`, for paid broadcasts or a load test). A send first waits for its chat's slot, then for a global one. Each send
//! runs in its own task (the channel actor spawns one per message), so a chat that waits never
//! holds up another chat.
//!
//! **Failures.** `429` → [`SendError::RateLimited`] for `parameters.retry_after` (the channel
//! actor pauses the whole channel that long, and the attempt does not count); `403` (the customer blocked the
//! bot, or deleted the account) → unreachable; `5xx`, timeouts, connection errors, and a `401`
//! (the bot token: every reply waits for it to be fixed) → retry; `400` and other refusals →
//! rejected for good.
//!
//! **At least once.** Telegram has no idempotency key. If the engine dies — or a request times
//! out — after Telegram accepted a message but before the delivery was recorded, the message
//! is sent again at the next start (or retry), and the customer sees it twice. The window is
//! one HTTP round trip plus the store writer's next commit; we accept it rather than risk
//! losing a reply. A reply longer than Telegram's 4096 characters goes as several messages,
//! and a retry after a failure in the middle resends the parts already delivered.

use super::api::{Refusal, TelegramBot, TelegramError};
use crate::outbound::{OutgoingMessage, SendError, SendReceipt, Sender};
use async_trait::async_trait;
use dialogs::Channel;
use dialogs::turn::Button;
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde_json::Value;
use std::num::NonZeroU32;
use std::sync::Arc;
use teloxide_core::types::{InlineKeyboardButton, InlineKeyboardMarkup};

/// Longest text of one message, in characters (Telegram's limit is 4096).
const MAX_TEXT: usize = 4096;
/// Longest `callback_data`, in bytes.
const MAX_CALLBACK_DATA: usize = 64;
/// Chats remembered by the per-chat limiter before the idle ones are forgotten.
const KEEP_CHATS: usize = 4096;

/// The Telegram side of the outbound channel actor.
pub struct TelegramSender {
    api: Arc<TelegramBot>,
    /// One message per second per chat.
    per_chat: DefaultKeyedRateLimiter<i64>,
    /// Thirty messages per second overall (by default).
    overall: DefaultDirectRateLimiter,
}

impl TelegramSender {
    pub fn new(api: Arc<TelegramBot>) -> Self {
        let per_second = |n: u32| Quota::per_second(NonZeroU32::new(n).expect("non-zero"));
        Self {
            api,
            per_chat: RateLimiter::keyed(per_second(1)),
            overall: RateLimiter::direct(per_second(30)),
        }
    }

    /// At most `per_sec` messages a second overall (instead of 30).
    pub fn with_overall_rate(mut self, per_sec: u32) -> Self {
        let per_sec = NonZeroU32::new(per_sec).unwrap_or(NonZeroU32::MIN);
        self.overall = RateLimiter::direct(Quota::per_second(per_sec));
        self
    }

    /// Waits until `chat` may receive a message.
    async fn pace(&self, chat: i64) {
        self.per_chat.until_key_ready(&chat).await;
        self.overall.until_ready().await;
        if self.per_chat.len() > KEEP_CHATS {
            self.per_chat.retain_recent();
        }
    }
}

#[async_trait]
impl Sender for TelegramSender {
    fn channel(&self) -> Channel {
        Channel::Telegram
    }

    #[tracing::instrument(name = "telegram.send", skip_all, fields(outbox = %message.id))]
    async fn send(&self, message: &OutgoingMessage) -> Result<SendReceipt, SendError> {
        let chat = chat_id(message).ok_or_else(|| SendError::Rejected {
            reason: "no Telegram chat id for this chat".into(),
        })?;
        let parts = split_text(&message.text, MAX_TEXT);
        let last = parts.len() - 1;
        let mut external_id = None;
        for (i, part) in parts.iter().enumerate() {
            let markup = (i == last).then(|| keyboard(&message.buttons)).flatten();
            self.pace(chat).await;
            let id = self
                .api
                .send_message(chat, part, markup)
                .await
                .map_err(send_error)?;
            external_id = Some(id.to_string());
        }
        Ok(SendReceipt { external_id })
    }
}

/// The chat id from the stored route (`{"chat_id": …}`), or else from the chat key.
fn chat_id(message: &OutgoingMessage) -> Option<i64> {
    match message.route.get("chat_id") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => message.chat_id.parse().ok(),
    }
}

/// How long a reply waits after the bot token was refused.
const SETUP_RETRY: std::time::Duration = std::time::Duration::from_secs(60);

/// What the channel actor should do about a refused or failed call.
fn send_error(error: TelegramError) -> SendError {
    let reason = error.to_string();
    match error {
        TelegramError::RetryAfter { retry_after, .. } => SendError::RateLimited {
            reason,
            retry_after,
        },
        TelegramError::Refused {
            refusal: Refusal::Forbidden,
            ..
        } => SendError::Unreachable { reason },
        TelegramError::Refused {
            refusal: Refusal::Invalid,
            ..
        } => SendError::Rejected { reason },
        // A refused token is the whole channel's set-up, not this reply's fault: the replies
        // wait (the breaker probes) until the token is fixed and the engine restarted, and are
        // escalated only past the outbox deadline.
        TelegramError::Refused {
            refusal: Refusal::Token,
            ..
        } => SendError::Retryable {
            reason,
            retry_after: Some(SETUP_RETRY),
        },
        TelegramError::Network { .. }
        | TelegramError::Unexpected { .. }
        | TelegramError::Refused {
            refusal: Refusal::Temporary,
            ..
        } => SendError::Retryable {
            reason,
            retry_after: None,
        },
    }
}

/// The reply's buttons as an inline keyboard, one button per row (labels such as
/// "Забронировать 2" do not fit side by side on a phone). A button whose action is too long
/// for `callback_data` is left out, with a warning: the text still says what to type.
fn keyboard(buttons: &[Button]) -> Option<InlineKeyboardMarkup> {
    let rows: Vec<Vec<InlineKeyboardButton>> = buttons
        .iter()
        .filter(|b| {
            let fits = !b.label.trim().is_empty() && b.action.len() <= MAX_CALLBACK_DATA;
            if !fits {
                tracing::warn!(action = %b.action, "button left out: empty label or callback data over 64 bytes");
            }
            fits
        })
        .map(|b| vec![InlineKeyboardButton::callback(&b.label, &b.action)])
        .collect();
    (!rows.is_empty()).then(|| InlineKeyboardMarkup::new(rows))
}

/// The text in parts of at most `max` characters (Telegram accepts 4096), cut at line breaks
/// where possible.
pub fn split_text(text: &str, max: usize) -> Vec<String> {
    let max = max.max(1);
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut current_len = 0;
    for line in text.split_inclusive('\n') {
        let mut line = line;
        loop {
            let len = line.chars().count();
            if current_len + len <= max {
                current.push_str(line);
                current_len += len;
                break;
            }
            if current_len > 0 {
                parts.push(std::mem::take(&mut current));
                current_len = 0;
                continue;
            }
            // One line longer than a message: cut it.
            let cut = line.char_indices().nth(max).map_or(line.len(), |(i, _)| i);
            parts.push(line[..cut].to_owned());
            line = &line[cut..];
        }
    }
    if !current.is_empty() || parts.is_empty() {
        parts.push(current);
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;

    #[test]
    fn failures_map_to_what_the_channel_actor_does() {
        let refused = |refusal| TelegramError::Refused {
            method: "sendMessage",
            refusal,
            description: "x".into(),
        };
        assert_eq!(
            send_error(TelegramError::RetryAfter {
                method: "sendMessage",
                retry_after: Duration::from_secs(3)
            }),
            SendError::RateLimited {
                reason: "Telegram asked to wait 3s before sendMessage".into(),
                retry_after: Duration::from_secs(3)
            }
        );
        assert!(matches!(
            send_error(refused(Refusal::Forbidden)),
            SendError::Unreachable { .. }
        ));
        assert!(matches!(
            send_error(refused(Refusal::Temporary)),
            SendError::Retryable { .. }
        ));
        assert!(matches!(
            send_error(refused(Refusal::Invalid)),
            SendError::Rejected { .. }
        ));
        // A refused token holds every reply until it is fixed; none is given up at once.
        assert!(matches!(
            send_error(refused(Refusal::Token)),
            SendError::Retryable { .. }
        ));
        let timeout = TelegramError::Network {
            method: "sendMessage",
            reason: "timed out".into(),
        };
        assert!(matches!(send_error(timeout), SendError::Retryable { .. }));
    }

    #[test]
    fn buttons_become_an_inline_keyboard() {
        let button = |label: &str, action: &str| Button {
            label: label.into(),
            action: action.into(),
        };
        let markup = keyboard(&[
            button("Забронировать 1", "book:1"),
            button("Ещё варианты", "more"),
            button("too long", &"x".repeat(65)),
        ])
        .unwrap();
        assert_eq!(
            serde_json::to_value(markup).unwrap(),
            json!({"inline_keyboard": [
                [{"text": "Забронировать 1", "callback_data": "book:1"}],
                [{"text": "Ещё варианты", "callback_data": "more"}],
            ]})
        );
        assert_eq!(keyboard(&[]), None);
    }

    #[test]
    fn long_texts_are_split_at_line_breaks() {
        let split_text = |text: &str| split_text(text, MAX_TEXT);
        assert_eq!(split_text("short"), ["short"]);
        let line = format!("{}\n", "я".repeat(3000));
        let parts = split_text(&line.repeat(2));
        assert_eq!(parts, [line.clone(), line]);
        let huge = "a".repeat(MAX_TEXT * 2 + 10);
        let parts = split_text(&huge);
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [MAX_TEXT, MAX_TEXT, 10]
        );
    }

    #[test]
    fn the_chat_comes_from_the_route() {
        let message = |route: Value, chat_id: &str| OutgoingMessage {
            id: "o1".into(),
            chat_id: chat_id.into(),
            route,
            text: "hi".into(),
            buttons: Vec::new(),
        };
        assert_eq!(chat_id(&message(json!({"chat_id": 42}), "7")), Some(42));
        assert_eq!(chat_id(&message(json!({}), "7")), Some(7));
        assert_eq!(chat_id(&message(json!({}), "whatsapp:7")), None);
    }
}
