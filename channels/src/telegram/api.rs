//! The Bot API of one bot, through `teloxide-core` (its `Bot` and `Requester`, its types): the
//! handful of methods the engine calls, each failure turned into a [`TelegramError`] that says
//! what to do about it and never shows the token.
//!
//! **The token.** It is part of every request URL, and the transport errors of reqwest print
//! their URL. Every error text that leaves this module has the token masked out
//! ([`TelegramBot::mask`]), and this type has no `Debug` that could print it.
//!
//! **Time limits.** teloxide-core gives each request the HTTP client's own timeout (a request's
//! hint is not applied), so two clients: one for ordinary calls ([`CALL_TIMEOUT`]) and one for
//! `getUpdates`, whose long poll waits longer than that.
//!
//! **What teloxide-core does on its own.** It reads the `{"ok", "result"}` envelope into a
//! typed result or a [`RequestError`]; a refusal keeps Telegram's `description` (matched to a
//! known [`ApiError`] or kept as `Unknown`) and `retry_after`, but not `error_code`, so a
//! refusal is classified here by its description ([`Refusal`]). On a 5xx it waits 10 s before
//! reading the body. It never retries: retries and pacing are the engine's.

use std::time::Duration;
use teloxide_core::payloads::{
    DeleteWebhookSetters, GetUpdatesSetters, SendMessageSetters, SetWebhookSetters,
};
use teloxide_core::requests::Requester;
use teloxide_core::types::{
    AllowedUpdate, CallbackQueryId, ChatId, ChatMember, InlineKeyboardMarkup, Me, Update, UserId,
    WebhookInfo,
};
use teloxide_core::{ApiError, Bot, RequestError};

/// The update kinds the bot subscribes to (webhook and polling alike).
pub const ALLOWED_UPDATES: [AllowedUpdate; 2] =
    [AllowedUpdate::Message, AllowedUpdate::CallbackQuery];

/// How long a send or a setup call may take.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(20);
/// The longest long poll `getUpdates` is asked for.
pub const MAX_LONG_POLL: Duration = Duration::from_secs(50);
/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a call did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TelegramError {
    /// No answer: connection refused, reset or timed out.
    #[error("Telegram unreachable during {method}: {reason}")]
    Network {
        method: &'static str,
        reason: String,
    },
    /// Telegram said to wait (`429` with `parameters.retry_after`).
    #[error("Telegram asked to wait {}s before {method}", retry_after.as_secs())]
    RetryAfter {
        method: &'static str,
        retry_after: Duration,
    },
    /// Telegram answered `ok: false`.
    #[error("Telegram refused {method}: {description}")]
    Refused {
        method: &'static str,
        refusal: Refusal,
        /// Telegram's `description`, with advice added for a wrong token.
        description: String,
    },
    /// An answer that is not what the Bot API documents (a proxy's error page, a cut body).
    #[error("unexpected answer from Telegram to {method}: {reason}")]
    Unexpected {
        method: &'static str,
        reason: String,
    },
}

/// Why the client of a bot could not be built (a configuration problem: start-up stops).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetupError {
    #[error("TELEGRAM_API_URL: {0}")]
    ApiUrl(String),
    #[error("building the Telegram HTTP client: {0}")]
    Client(String),
}

/// What kind of refusal, read from its description (teloxide-core does not keep `error_code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `Forbidden: …`: the customer blocked the bot, deleted the account, or the bot was
    /// removed from the chat. Nothing sent to this chat will arrive.
    Forbidden,
    /// The token is wrong (`Unauthorized`, or `Not Found` for a URL Telegram does not serve).
    Token,
    /// `Bad Request: …`, `Conflict: …` and the like: this very call will never succeed.
    Invalid,
    /// A server error (`Internal Server Error`, `Bad Gateway`, …) or anything else: worth
    /// trying again later.
    Temporary,
}

impl TelegramError {
    /// Whether the same call, made again later, may succeed.
    pub fn is_temporary(&self) -> bool {
        match self {
            TelegramError::Network { .. }
            | TelegramError::RetryAfter { .. }
            | TelegramError::Unexpected { .. } => true,
            TelegramError::Refused { refusal, .. } => *refusal == Refusal::Temporary,
        }
    }
}

/// The Bot API of one bot.
pub struct TelegramBot {
    /// Ordinary calls.
    bot: Bot,
    /// `getUpdates`: the same bot with a client that waits out a long poll.
    poller: Bot,
    /// For masking error texts; never printed.
    token: String,
}

impl TelegramBot {
    /// `api_url` is the Bot API's base (`https://api.telegram.org`, or a local fake); a
    /// trailing slash does not matter.
    pub fn new(api_url: &str, token: &str) -> Result<Self, SetupError> {
        let token = token.trim().to_owned();
        let url = reqwest::Url::parse(api_url.trim_end_matches('/'))
            .map_err(|e| SetupError::ApiUrl(e.to_string()))?;
        let client = |timeout: Duration| {
            teloxide_core::net::default_reqwest_settings()
                .connect_timeout(CONNECT_TIMEOUT)
                .timeout(timeout)
                .build()
                .map_err(|e| SetupError::Client(e.to_string()))
        };
        let bot = Bot::with_client(&token, client(CALL_TIMEOUT)?).set_api_url(url.clone());
        let poller =
            Bot::with_client(&token, client(MAX_LONG_POLL + CALL_TIMEOUT)?).set_api_url(url);
        Ok(Self { bot, poller, token })
    }

    /// `text` with the token replaced by `<token>`.
    pub fn mask(&self, text: &str) -> String {
        mask(text, &self.token)
    }

    /// The failure of `method` as a [`TelegramError`], with the token masked out.
    fn error(&self, method: &'static str, error: RequestError) -> TelegramError {
        let error = match error {
            RequestError::RetryAfter(after) => TelegramError::RetryAfter {
                method,
                retry_after: after.duration(),
            },
            RequestError::Api(api) => {
                let refusal = refusal(&api);
                let mut description = description(&api);
                if refusal == Refusal::Token {
                    description.push_str(" (check TELEGRAM_BOT_TOKEN and TELEGRAM_API_URL)");
                }
                TelegramError::Refused {
                    method,
                    refusal,
                    description,
                }
            }
            RequestError::MigrateToChatId(to) => TelegramError::Refused {
                method,
                refusal: Refusal::Invalid,
                description: format!("the group is now the supergroup {to}"),
            },
            // reqwest's own text names the URL: its kind and root cause instead.
            RequestError::Network(e) => {
                let kind = if e.is_timeout() {
                    "timed out"
                } else if e.is_connect() {
                    "could not connect"
                } else {
                    "the request failed"
                };
                TelegramError::Network {
                    method,
                    reason: match root_cause(&*e) {
                        Some(root) => format!("{kind}: {root}"),
                        None => kind.to_owned(),
                    },
                }
            }
            // The body is not shown: it may be a long page, or quote the request.
            RequestError::InvalidJson { source, .. } => TelegramError::Unexpected {
                method,
                reason: format!("the body is not a Bot API answer ({source})"),
            },
            RequestError::Io(e) => TelegramError::Network {
                method,
                reason: e.to_string(),
            },
        };
        self.masked(error)
    }

    fn masked(&self, error: TelegramError) -> TelegramError {
        match error {
            TelegramError::Network { method, reason } => TelegramError::Network {
                method,
                reason: self.mask(&reason),
            },
            TelegramError::Refused {
                method,
                refusal,
                description,
            } => TelegramError::Refused {
                method,
                refusal,
                description: self.mask(&description),
            },
            TelegramError::Unexpected { method, reason } => TelegramError::Unexpected {
                method,
                reason: self.mask(&reason),
            },
            e @ TelegramError::RetryAfter { .. } => e,
        }
    }

    /// `getMe`: checks the token; who the bot is.
    pub async fn get_me(&self) -> Result<Me, TelegramError> {
        self.bot.get_me().await.map_err(|e| self.error("getMe", e))
    }

    /// `getWebhookInfo`: where Telegram delivers updates, how many wait, its last error.
    pub async fn get_webhook_info(&self) -> Result<WebhookInfo, TelegramError> {
        self.bot
            .get_webhook_info()
            .await
            .map_err(|e| self.error("getWebhookInfo", e))
    }

    /// `getChatMember`: what `user` is in `chat` (the bot in the managers' chat).
    pub async fn get_chat_member(
        &self,
        chat: i64,
        user: UserId,
    ) -> Result<ChatMember, TelegramError> {
        self.bot
            .get_chat_member(ChatId(chat), user)
            .await
            .map_err(|e| self.error("getChatMember", e))
    }

    /// `setWebhook`: Telegram will POST updates to `url` with `secret` in
    /// `X-Telegram-Bot-Api-Secret-Token`.
    #[tracing::instrument(name = "telegram.set_webhook", skip_all)]
    pub async fn set_webhook(&self, url: &str, secret: &str) -> Result<(), TelegramError> {
        let url = reqwest::Url::parse(url).map_err(|e| TelegramError::Refused {
            method: "setWebhook",
            refusal: Refusal::Invalid,
            description: format!("not a URL: {e}"),
        })?;
        self.bot
            .set_webhook(url)
            .secret_token(secret)
            .allowed_updates(ALLOWED_UPDATES)
            .await
            .map(drop)
            .map_err(|e| self.error("setWebhook", e))
    }

    /// `deleteWebhook`, keeping pending updates (polling will fetch them).
    pub async fn delete_webhook(&self) -> Result<(), TelegramError> {
        self.bot
            .delete_webhook()
            .drop_pending_updates(false)
            .await
            .map(drop)
            .map_err(|e| self.error("deleteWebhook", e))
    }

    /// `getUpdates`: the updates from `offset` on (confirming everything below it), waiting up
    /// to `long_poll` (at most [`MAX_LONG_POLL`]) for one to arrive. An update teloxide-core
    /// cannot read comes as `UpdateKind::Error` with its JSON, so it does not hide the others.
    #[tracing::instrument(name = "telegram.get_updates", skip_all, fields(offset = ?offset))]
    pub async fn get_updates(
        &self,
        offset: Option<i32>,
        long_poll: Duration,
    ) -> Result<Vec<Update>, TelegramError> {
        let mut request = self
            .poller
            .get_updates()
            .timeout(long_poll.min(MAX_LONG_POLL).as_secs() as u32)
            .allowed_updates(ALLOWED_UPDATES);
        if let Some(offset) = offset {
            request = request.offset(offset);
        }
        request.await.map_err(|e| self.error("getUpdates", e))
    }

    /// `sendMessage` as plain text (no parse mode: nothing in the text needs escaping), with an
    /// optional inline keyboard. Returns the message id.
    #[tracing::instrument(name = "telegram.send_message", skip_all, fields(chat = %masked(chat)))]
    pub async fn send_message(
        &self,
        chat: i64,
        text: &str,
        keyboard: Option<InlineKeyboardMarkup>,
    ) -> Result<i32, TelegramError> {
        let mut request = self.bot.send_message(ChatId(chat), text);
        if let Some(keyboard) = keyboard {
            request = request.reply_markup(keyboard);
        }
        request
            .await
            .map(|sent| sent.id.0)
            .map_err(|e| self.error("sendMessage", e))
    }

    /// `answerCallbackQuery`: stops the pressed button's spinner.
    #[tracing::instrument(name = "telegram.answer_callback_query", skip_all)]
    pub async fn answer_callback_query(&self, id: &str) -> Result<(), TelegramError> {
        self.bot
            .answer_callback_query(CallbackQueryId(id.to_owned()))
            .await
            .map(drop)
            .map_err(|e| self.error("answerCallbackQuery", e))
    }
}

/// A chat id for logs: enough to tell two chats apart, not the whole id.
pub fn masked(chat: i64) -> String {
    dialogs::privacy::mask_phone(&chat.to_string())
}

/// `text` with every occurrence of `token` (and of its secret half, after the colon) replaced.
fn mask(text: &str, token: &str) -> String {
    let mut text = text.to_owned();
    if !token.is_empty() {
        text = text.replace(token, "<token>");
    }
    if let Some((_, secret)) = token.split_once(':')
        && secret.len() >= 8
    {
        text = text.replace(secret, "<token>");
    }
    text
}

/// The text of the deepest cause of `e` (a transport error's own text carries the URL).
fn root_cause(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut root = e.source()?;
    while let Some(next) = root.source() {
        root = next;
    }
    Some(root.to_string())
}

/// Telegram's description of a refusal (teloxide-core's text for the ones it knows is
/// Telegram's own).
fn description(api: &ApiError) -> String {
    match api {
        ApiError::Unknown(text) => text.clone(),
        ApiError::InvalidToken => "Unauthorized".into(),
        other => other.to_string(),
    }
}

/// How to treat a refusal, by its description.
fn refusal(api: &ApiError) -> Refusal {
    match api {
        ApiError::BotBlocked
        | ApiError::BotKicked
        | ApiError::BotKickedFromSupergroup
        | ApiError::BotKickedFromChannel
        | ApiError::UserDeactivated
        | ApiError::CantInitiateConversation
        | ApiError::CantTalkWithBots => Refusal::Forbidden,
        ApiError::InvalidToken => Refusal::Token,
        ApiError::Unknown(text) => {
            let text = text.trim_start();
            if text.starts_with("Forbidden") {
                Refusal::Forbidden
            } else if text.starts_with("Unauthorized") || text.starts_with("Not Found") {
                Refusal::Token
            } else if ["Bad Request", "Conflict", "Request Entity Too Large"]
                .iter()
                .any(|p| text.starts_with(p))
            {
                Refusal::Invalid
            } else {
                Refusal::Temporary
            }
        }
        // Every other known error is a `Bad Request`, a `Conflict` or too large a request.
        _ => Refusal::Invalid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn errors_never_show_the_token() {
        // Nothing listens on port 1: a connection error, whose reqwest text names the URL.
        let bot = TelegramBot::new("http://127.0.0.1:1", "123456:SECRET-token").unwrap();
        let error = bot.get_me().await.unwrap_err();
        assert!(matches!(error, TelegramError::Network { .. }), "{error:?}");
        assert!(error.is_temporary());
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
    }

    #[test]
    fn the_token_is_masked_wherever_it_appears() {
        let token = "123456:SECRET-token_abcdef";
        assert_eq!(
            mask(&format!("for url (http://x/bot{token}/GetMe)"), token),
            "for url (http://x/bot<token>/GetMe)"
        );
        assert_eq!(
            mask("…SECRET-token_abcdef…", token),
            "…<token>…",
            "the secret half alone"
        );
    }

    #[test]
    fn refusals_are_classified_by_their_description() {
        let of = |text: &str| refusal(&ApiError::Unknown(text.into()));
        assert_eq!(refusal(&ApiError::BotBlocked), Refusal::Forbidden);
        assert_eq!(of("Forbidden: bot was kicked"), Refusal::Forbidden);
        assert_eq!(refusal(&ApiError::InvalidToken), Refusal::Token);
        assert_eq!(refusal(&ApiError::MessageIsTooLong), Refusal::Invalid);
        assert_eq!(refusal(&ApiError::ButtonDataInvalid), Refusal::Invalid);
        assert_eq!(of("Bad Request: something new"), Refusal::Invalid);
        assert_eq!(
            of("Conflict: can't use getUpdates method"),
            Refusal::Invalid
        );
        assert_eq!(of("Internal Server Error"), Refusal::Temporary);
        assert_eq!(of("Bad Gateway"), Refusal::Temporary);
    }
}
