//! The managers' Telegram chat (`TELEGRAM_MANAGERS_CHAT_ID`): where escalations are announced
//! and where managers act on them.
//!
//! - [`TelegramNotifier`] posts an announcement per escalation (the Escalations actor decides
//!   when): who the customer is, why, the search, the chosen offer, the last messages, the
//!   Bitrix24 deal, with buttons "Взять" and "Вернуть боту".
//! - [`act`] carries out what a manager does there: a button claims or releases the chat; a
//!   reply to an announcement is sent to that customer through their own channel. All of it
//!   goes through `Engine::manage`, so it is ordered with the customer's messages.
//!
//! - [`follow_up_notice`] is what the customer added after the handover, relayed there: an
//!   urgent one at once (with why it is urgent and the buttons, as the chat may not be taken
//!   yet), every one once a manager took the chat.
//!
//! These texts are for the agency's staff (in Russian), not for customers.
//!
//! **Telegram's limits.** A message holds at most 4096 characters and a button's data 64
//! bytes. The customer's name and other free texts in an announcement are cut to a few hundred
//! characters; an announcement still too long goes as several messages, each ending with the
//! escalation's `ID:` line (a reply to any of them reaches the customer), the buttons under the
//! last. If Telegram refuses an announcement as a bad request, a short one (reason, customer,
//! ID, buttons) is sent instead; if that is refused too, the failure is permanent and the
//! Escalations actor does not retry it every few seconds.

use crate::config::Config;
use actors::Engine;
use actors::conversation::ManagerAction;
use actors::escalations::{FollowUpNotice, ManagerNotifier, Notice, NoticeError};
use actors::store::{EscalationKind, EscalationStatus};
use anyhow::Context;
use async_trait::async_trait;
use channels::telegram::inbound::ESCALATION_TAG;
use channels::telegram::{ManagerButton, ManagerUpdate, Refusal, TelegramBot, TelegramError};
use dialogs::analysis::Slots;
use dialogs::handover::Desk;
use dialogs::turn::EscalationReason;
use secrecy::ExposeSecret;
use std::sync::Arc;
use teloxide_core::types::{InlineKeyboardButton, InlineKeyboardMarkup};

/// Who hears about escalations: the managers' Telegram chat (`TELEGRAM_MANAGERS_CHAT_ID`) and
/// `MANAGERS_EMAIL`, those configured.
pub fn notifiers(config: &Config) -> anyhow::Result<Vec<Arc<dyn ManagerNotifier>>> {
    let crm_base = config
        .bitrix
        .as_ref()
        .and_then(|b| portal(b.webhook_url.expose_secret()));
    let mut notifiers: Vec<Arc<dyn ManagerNotifier>> = Vec::new();
    if let Some(t) = &config.telegram
        && let Some(chat_id) = t.managers_chat_id
    {
        notifiers.push(Arc::new(TelegramNotifier {
            api: Arc::new(super::telegram::bot::api(t)?),
            chat_id,
            crm_base: crm_base.clone(),
        }));
    }
    if let Some(email) = &config.email
        && let (Some(to), Some(smtp_url), Some(from)) =
            (&email.managers_email, &email.smtp_url, &email.from)
    {
        notifiers.push(Arc::new(EmailNotifier {
            sender: Arc::new(
                channels::email::EmailSender::new(smtp_url.expose_secret(), from)
                    .context("building the managers' email sender")?,
            ),
            to: to.clone(),
            crm_base,
        }));
    }
    Ok(notifiers)
}

/// `https://<portal>` of a Bitrix24 webhook URL (`https://<portal>/rest/<user>/<code>/`).
fn portal(webhook_url: &str) -> Option<String> {
    let (base, _) = webhook_url.split_once("/rest/")?;
    Some(base.trim_end_matches('/').to_owned())
}

/// Announces escalations in the managers' Telegram chat.
pub struct TelegramNotifier {
    pub api: Arc<TelegramBot>,
    pub chat_id: i64,
    /// `https://<portal>` for links to deals, when Bitrix24 is configured.
    pub crm_base: Option<String>,
}

#[async_trait]
impl ManagerNotifier for TelegramNotifier {
    fn name(&self) -> &'static str {
        "telegram"
    }

    async fn announce(&self, notice: &Notice) -> Result<(), NoticeError> {
        let id = &notice.escalation.id;
        let text = announcement(notice, self.crm_base.as_deref());
        match self.post(id, &text).await {
            Err(TelegramError::Refused {
                refusal: Refusal::Invalid,
                description,
                ..
            }) => {
                tracing::warn!(escalation = %id, error = %description,
                    "the managers' chat refused the announcement; sending a short one");
                self.post(id, &short_announcement(notice))
                    .await
                    .map_err(notice_error)
            }
            other => other.map_err(notice_error),
        }
    }

    async fn alert(&self, text: &str) -> Result<(), NoticeError> {
        for part in channels::telegram::outbound::split_text(text, MAX_TEXT) {
            self.api
                .send_message(self.chat_id, &part, None)
                .await
                .map_err(notice_error)?;
        }
        Ok(())
    }

    async fn relay(&self, note: &FollowUpNotice) -> Result<(), NoticeError> {
        let id = &note.escalation.id;
        let text = follow_up_notice(note);
        if note.escalation.status == EscalationStatus::Open {
            // Nobody took the chat yet: "Взять" right under the news.
            self.post(id, &text).await.map_err(notice_error)
        } else {
            for part in telegram_parts(&text) {
                self.api
                    .send_message(self.chat_id, &part, None)
                    .await
                    .map_err(notice_error)?;
            }
            Ok(())
        }
    }
}

impl TelegramNotifier {
    /// Posts an announcement of escalation `id` (in parts if need be), with its buttons.
    async fn post(&self, id: &str, text: &str) -> Result<(), TelegramError> {
        let parts = telegram_parts(text);
        let last = parts.len() - 1;
        for (i, part) in parts.iter().enumerate() {
            let keyboard = (i == last).then(|| buttons(id)).flatten();
            self.api.send_message(self.chat_id, part, keyboard).await?;
        }
        Ok(())
    }
}

/// "Взять" and "Вернуть боту" under an announcement; none if the escalation's id does not fit
/// Telegram's 64 bytes of button data (a reply to the announcement still works).
fn buttons(id: &str) -> Option<InlineKeyboardMarkup> {
    let claim = format!("claim:{id}");
    let release = format!("release:{id}");
    if release.len() > MAX_CALLBACK_DATA {
        tracing::warn!(escalation = %id, "escalation id too long for Telegram's buttons; sent without");
        return None;
    }
    Some(InlineKeyboardMarkup::new([[
        InlineKeyboardButton::callback("Взять", claim),
        InlineKeyboardButton::callback("Вернуть боту", release),
    ]]))
}

/// A failure to post in the managers' chat, as the Escalations actor sees it.
fn notice_error(e: TelegramError) -> NoticeError {
    if e.is_temporary() {
        NoticeError::Temporary(e.to_string())
    } else {
        NoticeError::Permanent(e.to_string())
    }
}

/// Longest text of one Telegram message, in characters.
const MAX_TEXT: usize = 4096;
/// Longest button data, in bytes.
const MAX_CALLBACK_DATA: usize = 64;
/// Longest customer name shown (Wazzup and email names can be anything).
const MAX_NAME: usize = 100;
/// Longest of any other free text line (a message, the search error, the offer).
const MAX_LINE: usize = 300;

/// The announcement in parts of at most [`MAX_TEXT`] characters, each ending with the
/// announcement's `ID:` line, so a manager's reply to any part names the escalation.
fn telegram_parts(text: &str) -> Vec<String> {
    let Some((body, tag)) = text
        .rsplit_once('\n')
        .filter(|(_, t)| t.starts_with(ESCALATION_TAG))
    else {
        return channels::telegram::outbound::split_text(text, MAX_TEXT);
    };
    let room = MAX_TEXT - tag.chars().count() - 1;
    channels::telegram::outbound::split_text(body, room)
        .into_iter()
        .map(|part| format!("{}\n{tag}", part.trim_end_matches('\n')))
        .collect()
}

/// `text` cut to `max` characters, with "…" when cut.
fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Announces escalations by email to `MANAGERS_EMAIL` (alone or beside the Telegram chat).
pub struct EmailNotifier {
    pub sender: Arc<channels::email::EmailSender>,
    pub to: String,
    pub crm_base: Option<String>,
}

#[async_trait]
impl ManagerNotifier for EmailNotifier {
    fn name(&self) -> &'static str {
        "email"
    }

    async fn announce(&self, notice: &Notice) -> Result<(), NoticeError> {
        let text = announcement(notice, self.crm_base.as_deref())
            // Replies by email are not relayed: say how to answer instead.
            .replace(
                "Ответьте на это сообщение (reply) — ответ уйдёт клиенту.",
                "Ответить клиенту: в чате менеджеров Telegram или через админ-API.",
            );
        let who = notice
            .conversation
            .customer_name
            .as_deref()
            .map_or_else(|| "клиент".into(), |n| short(n, MAX_NAME));
        let subject = if notice.reminder {
            format!(
                "Напоминание: {who} ждёт менеджера ({})",
                reason(&notice.escalation.reason)
            )
        } else {
            format!(
                "Нужен менеджер: {who} ({})",
                reason(&notice.escalation.reason)
            )
        };
        self.sender
            .send_notice(&self.to, &subject, &text)
            .await
            .map_err(|e| match e {
                channels::SendError::Retryable { .. } | channels::SendError::RateLimited { .. } => {
                    NoticeError::Temporary(e.to_string())
                }
                _ => NoticeError::Permanent(e.to_string()),
            })
    }

    /// Only what cannot wait goes by email; the rest is in the managers' chat and the
    /// escalation.
    async fn relay(&self, note: &FollowUpNotice) -> Result<(), NoticeError> {
        if note.follow_up.urgency.is_none() {
            return Ok(());
        }
        let who = note
            .conversation
            .customer_name
            .as_deref()
            .map_or_else(|| "клиент".into(), |n| short(n, MAX_NAME));
        let subject = format!("Срочно: {who} ждёт менеджера");
        let text = follow_up_notice(note).replace(
            "Ответьте на это сообщение (reply) — ответ уйдёт клиенту.",
            "Ответить клиенту: в чате менеджеров Telegram или через админ-API.",
        );
        self.sender
            .send_notice(&self.to, &subject, &text)
            .await
            .map_err(|e| match e {
                channels::SendError::Retryable { .. } => NoticeError::Temporary(e.to_string()),
                _ => NoticeError::Permanent(e.to_string()),
            })
    }

    async fn alert(&self, text: &str) -> Result<(), NoticeError> {
        let subject: String = text
            .lines()
            .next()
            .unwrap_or("Crystal Bay")
            .chars()
            .take(120)
            .collect();
        self.sender
            .send_notice(&self.to, &subject, text)
            .await
            .map_err(|e| match e {
                channels::SendError::Retryable { .. } | channels::SendError::RateLimited { .. } => {
                    NoticeError::Temporary(e.to_string())
                }
                _ => NoticeError::Permanent(e.to_string()),
            })
    }
}

/// The text of an announcement.
pub fn announcement(notice: &Notice, crm_base: Option<&str>) -> String {
    let e = &notice.escalation;
    let c = &notice.conversation;
    let d = &e.details;
    let mut lines = Vec::new();
    lines.push(if notice.reminder {
        format!(
            "⏰ Напоминание: чат ещё никто не взял — {}",
            reason(&e.reason)
        )
    } else {
        format!("🔔 Нужен менеджер — {}", reason(&e.reason))
    });
    let slots: Slots = d.slots.clone().unwrap_or_default();
    let name = slots
        .name
        .clone()
        .or_else(|| c.customer_name.clone())
        .map_or_else(|| "без имени".into(), |n| short(&n, MAX_NAME));
    let phone = slots.phone.clone().or_else(|| c.customer_phone.clone());
    let email = slots.email.clone().or_else(|| c.customer_email.clone());
    let reach = match (phone, email) {
        (Some(phone), Some(email)) => format!("{phone}, {}", short(&email, MAX_LINE)),
        (Some(phone), None) => phone,
        (None, Some(email)) => short(&email, MAX_LINE),
        (None, None) => "телефон неизвестен".into(),
    };
    lines.push(format!("Клиент: {name}, {reach}"));
    lines.push(format!("Канал: {}", channel(&c.key)));
    if let Some(search) = search_line(&slots) {
        lines.push(format!("Поиск: {search}"));
    }
    if let Some(offer) = &d.offer {
        lines.push(short(
            &format!(
                "Выбран вариант: {}{}, {}, заезд {}, {} ноч., {}, {} (SAMO id {})",
                offer.hotel,
                offer.stars.map(|s| format!(" {s}*")).unwrap_or_default(),
                offer.resort,
                offer.check_in.format("%d.%m.%Y"),
                offer.nights,
                offer.meal,
                dialogs::names::money(offer.price, &offer.currency),
                offer.id
            ),
            MAX_LINE,
        ));
    }
    if e.reason == EscalationKind::Undelivered {
        // The outbox gave a reply up: the managers get its text to pass on another way.
        if let Some(text) = &d.text {
            lines.push(format!("Не доставлено клиенту: {}", short(text, MAX_LINE)));
        }
        if let Some(error) = &d.error {
            lines.push(format!("Причина: {}", short(error, MAX_LINE)));
        }
    } else if let Some(error) = &d.error {
        lines.push(format!("Ошибка поиска: {}", short(error, MAX_LINE)));
    }
    if !notice.recent.is_empty() {
        lines.push("Последние сообщения:".into());
        for line in &notice.recent {
            let who = match line.direction.as_str() {
                "in" => "клиент",
                "manager" => "менеджер",
                _ => "бот",
            };
            lines.push(format!("  {who}: {}", short(&line.text, MAX_LINE)));
        }
    }
    if let (Some(base), Some(deal)) = (crm_base, notice.deal_id) {
        lines.push(format!("Сделка: {base}/crm/deal/details/{deal}/"));
    }
    lines.push("Ответьте на это сообщение (reply) — ответ уйдёт клиенту.".into());
    lines.push(format!("{ESCALATION_TAG}{}", e.id));
    lines.join("\n")
}

/// The announcement cut to the essentials, for when Telegram refuses the full one: why, who,
/// how to answer, and the escalation's id.
pub fn short_announcement(notice: &Notice) -> String {
    let e = &notice.escalation;
    let c = &notice.conversation;
    let name = c
        .customer_name
        .as_deref()
        .map_or_else(|| "без имени".into(), |n| short(n, MAX_NAME));
    [
        format!("🔔 Нужен менеджер — {}", short(reason(&e.reason), MAX_LINE)),
        format!("Клиент: {name} ({})", channel(&c.key)),
        "Подробности — в админ-API (/admin/escalations).".into(),
        "Ответьте на это сообщение (reply) — ответ уйдёт клиенту.".into(),
        format!("{ESCALATION_TAG}{}", e.id),
    ]
    .join("\n")
}

/// The text of a relayed follow-up: urgent or not (and why), who, what they wrote, the offer
/// or search the escalation is about, how to answer.
pub fn follow_up_notice(note: &FollowUpNotice) -> String {
    use dialogs::handover::Urgency;
    let f = &note.follow_up;
    let c = &note.conversation;
    // Who, as the escalation knows them (the channel's phone included), as announced.
    let slots: Slots = note.escalation.details.slots.clone().unwrap_or_default();
    let name = slots
        .name
        .or_else(|| c.customer_name.clone())
        .map_or_else(|| "без имени".into(), |n| short(&n, MAX_NAME));
    let phone = slots
        .phone
        .or_else(|| c.customer_phone.clone())
        .unwrap_or_else(|| "телефон неизвестен".into());
    let mut lines = Vec::new();
    lines.push(match f.urgency {
        Some(u) => format!(
            "⚡ Срочно — {}",
            match u {
                Urgency::Said => "клиент пишет, что срочно",
                Urgency::TripSoon => "вылет в ближайшие дни",
                Urgency::CallBack => "клиент просит перезвонить",
                Urgency::Impatient => "клиент ждёт ответа и торопит",
                Urgency::Pings => "клиент снова пишет, ответа ещё нет",
            }
        ),
        None => "💬 Клиент дописал".to_owned(),
    });
    lines.push(format!("Клиент: {name}, {phone} ({})", channel(&c.key)));
    lines.push(format!(
        "По заявке: {}{}",
        reason(&note.escalation.reason),
        if note.escalation.status == EscalationStatus::Open {
            " — ещё никто не взял"
        } else {
            ""
        }
    ));
    lines.push(format!("Пишет: {}", short(&f.text, MAX_LINE * 3)));
    lines.push("Ответьте на это сообщение (reply) — ответ уйдёт клиенту.".into());
    lines.push(format!("{ESCALATION_TAG}{}", note.escalation.id));
    lines.join("\n")
}

/// An escalation's stored reason, for the managers: the dialog's reasons, then the engine's
/// own (a reply given up, a message that failed), then the name itself.
fn reason(kind: &EscalationKind) -> &str {
    match kind {
        EscalationKind::Dialog(reason) => dialog_reason(*reason),
        EscalationKind::Undelivered => "ответ бота не доставлен клиенту",
        EscalationKind::MessageFailed => {
            "сообщение клиента не удалось обработать (сбой бота), клиенту отправлено извинение"
        }
        EscalationKind::Other(name) => name,
    }
}

/// Why the dialog called a manager, in the managers' words.
fn dialog_reason(reason: EscalationReason) -> &'static str {
    match reason {
        EscalationReason::HumanRequest => "клиент просит менеджера",
        EscalationReason::Complaint => "жалоба",
        EscalationReason::BookingRequest => "заявка на бронирование",
        EscalationReason::NotUnderstood => "бот не понял клиента",
        EscalationReason::SearchUnavailable => "поиск туров недоступен",
        EscalationReason::Keyword => "ключевое слово",
        EscalationReason::Question => "вопрос клиента (не бронирование)",
        EscalationReason::NothingFound => "поиск ничего не нашёл: подберите варианты",
        EscalationReason::ExistingBooking => "вопрос по уже купленному туру",
    }
}

/// Where the customer writes from, as the managers name it: through Wazzup, the messenger
/// itself (WhatsApp, Instagram, Telegram…), read from the chat's key.
fn channel(key: &dialogs::ChatKey) -> &'static str {
    match key.channel {
        dialogs::Channel::Telegram => "Telegram",
        dialogs::Channel::Wazzup => messenger(channels::wazzup::inbound::messenger(&key.chat_id)),
        dialogs::Channel::Email => "email",
        dialogs::Channel::Console => "консоль",
    }
}

/// A Wazzup chat type (`chatType`) in the managers' words; WhatsApp, Wazzup's first, when the
/// chat's key does not say.
fn messenger(chat_type: Option<&str>) -> &'static str {
    match chat_type {
        Some("whatsgroup") => "WhatsApp (группа)",
        Some("instagram") => "Instagram",
        Some("telegram") => "Telegram (через Wazzup)",
        Some("telegroup") => "Telegram (группа, через Wazzup)",
        Some("viber") => "Viber",
        Some("vk") => "ВКонтакте",
        Some("avito") => "Авито",
        Some("max") => "MAX",
        Some("maxgroup") => "MAX (группа)",
        Some(_) | None => "WhatsApp",
    }
}

fn search_line(s: &Slots) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(d) = s.resort.as_deref().or(s.country.as_deref()) {
        parts.push(dialogs::names::place(d, dialogs::analysis::Language::Ru));
    }
    if let Some(c) = &s.departure_city {
        parts.push(format!(
            "из {}",
            dialogs::names::place(c, dialogs::analysis::Language::Ru)
        ));
    }
    if let Some(f) = s.date_from {
        let to = s.date_to.unwrap_or(f);
        parts.push(format!("{}–{}", f.format("%d.%m"), to.format("%d.%m.%Y")));
    }
    if let Some(n) = s.nights_from {
        parts.push(format!("{n} ноч."));
    }
    if let Some(a) = s.adults {
        parts.push(format!("{a} взр."));
    }
    if !s.child_ages.is_empty() {
        let ages: Vec<String> = s.child_ages.iter().map(u32::to_string).collect();
        parts.push(format!("дети {} лет", ages.join(", ")));
    }
    if let Some(b) = s.budget_max {
        parts.push(format!(
            "до {}",
            dialogs::names::money(b, s.currency.as_deref().unwrap_or("KZT"))
        ));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// Carries out a manager's action from the managers' chat, and says how it went there.
pub async fn act(engine: Engine, api: Arc<TelegramBot>, chat_id: i64, update: ManagerUpdate) {
    let (escalation_id, action, by, callback) = match update {
        ManagerUpdate::Button {
            action,
            escalation_id,
            by,
            callback_query_id,
        } => {
            let action = match action {
                ManagerButton::Claim => ManagerAction::Take,
                ManagerButton::Release => ManagerAction::Release,
            };
            (escalation_id, action, by, Some(callback_query_id))
        }
        ManagerUpdate::Reply {
            escalation_id,
            text,
            by,
        } => (escalation_id, ManagerAction::Say(text), by, None),
    };
    if let Some(id) = &callback
        && let Err(e) = api.answer_callback_query(id).await
    {
        tracing::warn!(error = %e, "could not answer a managers' button");
    }
    let done = match carry_out(&engine, &escalation_id, action.clone(), &by).await {
        Ok(customer) => match action {
            ManagerAction::Take => Some(format!("✅ {by} взял(а) чат с клиентом {customer}.")),
            ManagerAction::Release => Some(format!("↩️ Чат с клиентом {customer} возвращён боту.")),
            // A relayed reply needs no confirmation: it is in the customer's chat.
            _ => None,
        },
        Err(e) => {
            tracing::warn!(escalation = %escalation_id, error = %e, "a manager's action failed");
            Some(short(&format!("⚠️ Не получилось: {e}"), MAX_LINE))
        }
    };
    if let Some(text) = done
        && let Err(e) = api.send_message(chat_id, &text, None).await
    {
        tracing::warn!(error = %e, "could not post to the managers' chat");
    }
}

/// Why a manager's action from their chat did not happen (told there, in their words).
#[derive(Debug, thiserror::Error)]
enum ActError {
    #[error("такой заявки нет")]
    NoEscalation,
    #[error("разговор не найден")]
    NoConversation,
    #[error("{0}")]
    Store(#[from] actors::store::StoreError),
    #[error("{0}")]
    Engine(#[from] actors::EngineError),
}

/// The action on the escalation's chat; returns the customer's name for the confirmation.
async fn carry_out(
    engine: &Engine,
    escalation_id: &str,
    action: ManagerAction,
    by: &str,
) -> Result<String, ActError> {
    let store = &engine.store().store;
    let escalation = store
        .escalation(escalation_id)
        .await?
        .ok_or(ActError::NoEscalation)?;
    let conversation = store
        .conversation(&escalation.conversation_id)
        .await?
        .ok_or(ActError::NoConversation)?;
    engine
        .manage_from(conversation.key.clone(), action, by, Desk::ManagersChat)
        .await?;
    Ok(conversation
        .customer_name
        .map_or_else(|| "без имени".into(), |n| short(&n, MAX_NAME)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use channels::telegram::inbound::escalation_in;

    #[test]
    fn every_stored_reason_reads_back_and_has_the_managers_words() {
        for r in EscalationReason::ALL {
            let stored = serde_json::to_value(r).unwrap();
            assert_eq!(
                stored.as_str(),
                Some(r.as_str()),
                "as_str is the stored name"
            );
            assert_eq!(EscalationReason::parse(r.as_str()), Some(r));
            let kind = EscalationKind::parse(r.as_str());
            assert_eq!(kind.as_str(), r.as_str());
            assert_ne!(reason(&kind), r.as_str(), "{r:?} is told in words");
        }
        assert_eq!(EscalationReason::parse("undelivered"), None);
        assert_eq!(
            reason(&EscalationKind::parse("undelivered")),
            "ответ бота не доставлен клиенту"
        );
        assert_eq!(
            reason(&EscalationKind::parse("something_new")),
            "something_new"
        );
    }

    #[test]
    fn a_long_announcement_goes_in_parts_each_naming_the_escalation() {
        let body: Vec<String> = (0..40)
            .map(|i| format!("{i}: {}", "я".repeat(290)))
            .collect();
        let text = format!("{}\n{ESCALATION_TAG}0193-abc", body.join("\n"));
        let parts = telegram_parts(&text);
        assert!(parts.len() > 1);
        for part in &parts {
            assert!(part.chars().count() <= MAX_TEXT, "{}", part.chars().count());
            assert_eq!(escalation_in(part).as_deref(), Some("0193-abc"));
        }
        let again: Vec<&str> = parts
            .iter()
            .flat_map(|p| p.lines().filter(|l| !l.starts_with(ESCALATION_TAG)))
            .collect();
        assert_eq!(again, body, "every line once, in order");
    }

    #[test]
    fn a_wazzup_chat_is_named_by_its_messenger() {
        use dialogs::{Channel, ChatKey};
        let named = |chat_id: &str| channel(&ChatKey::new(Channel::Wazzup, chat_id));
        assert_eq!(named("whatsapp:77010000001"), "WhatsApp");
        assert_eq!(named("instagram:aigul.travels"), "Instagram");
        assert_eq!(named("telegram:5550101"), "Telegram (через Wazzup)");
        assert_eq!(named("vk:42"), "ВКонтакте");
        for chat_type in channels::wazzup::inbound::CHAT_TYPES {
            let name = named(&format!("{chat_type}:1"));
            assert!(
                *chat_type == "whatsapp" || name != "WhatsApp",
                "{chat_type} has a name of its own"
            );
        }
        assert_eq!(channel(&ChatKey::new(Channel::Telegram, "1")), "Telegram");
    }

    #[test]
    fn names_are_cut_with_an_ellipsis() {
        assert_eq!(short("Айгуль", 10), "Айгуль");
        assert_eq!(short(&"я".repeat(500), MAX_NAME).chars().count(), MAX_NAME);
        assert!(short(&"я".repeat(500), MAX_NAME).ends_with('…'));
    }
}
