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
//! These texts are for the agency's staff (in Russian), not for customers.

use actors::Engine;
use actors::conversation::ManagerAction;
use actors::escalations::{ManagerNotifier, Notice};
use async_trait::async_trait;
use channels::telegram::update::ESCALATION_TAG;
use channels::telegram::{ManagerButton, ManagerUpdate, TelegramApi};
use dialogs::analysis::Slots;
use dialogs::handover::Desk;
use dialogs::search::Offer;
use serde_json::json;
use std::sync::Arc;

/// Announces escalations in the managers' Telegram chat.
pub struct TelegramNotifier {
    pub api: Arc<TelegramApi>,
    pub chat_id: i64,
    /// `https://<portal>` for links to deals, when Bitrix24 is configured.
    pub crm_base: Option<String>,
}

#[async_trait]
impl ManagerNotifier for TelegramNotifier {
    fn name(&self) -> &'static str {
        "telegram"
    }

    async fn announce(&self, notice: &Notice) -> Result<(), String> {
        let text = announcement(notice, self.crm_base.as_deref());
        let id = &notice.escalation.id;
        let buttons = json!({"inline_keyboard": [[
            {"text": "Взять", "callback_data": format!("claim:{id}")},
            {"text": "Вернуть боту", "callback_data": format!("release:{id}")},
        ]]});
        self.api
            .send_message(self.chat_id, &text, Some(buttons))
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    }
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

    async fn announce(&self, notice: &Notice) -> Result<(), String> {
        let text = announcement(notice, self.crm_base.as_deref())
            // Replies by email are not relayed: say how to answer instead.
            .replace(
                "Ответьте на это сообщение (reply) — ответ уйдёт клиенту.",
                "Ответить клиенту: в чате менеджеров Telegram или через админ-API.",
            );
        let who = notice
            .conversation
            .customer_name
            .clone()
            .unwrap_or_else(|| "клиент".into());
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
            .map_err(|e| e.to_string())
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
    let slots: Slots = serde_json::from_value(d["slots"].clone()).unwrap_or_default();
    let name = slots
        .name
        .clone()
        .or_else(|| c.customer_name.clone())
        .unwrap_or_else(|| "без имени".into());
    let phone = slots
        .phone
        .clone()
        .or_else(|| c.customer_phone.clone())
        .unwrap_or_else(|| "телефон неизвестен".into());
    lines.push(format!("Клиент: {name}, {phone}"));
    lines.push(format!("Канал: {}", channel(c.key.channel)));
    if let Some(search) = search_line(&slots) {
        lines.push(format!("Поиск: {search}"));
    }
    if let Ok(offer) = serde_json::from_value::<Offer>(d["offer"].clone()) {
        lines.push(format!(
            "Выбран вариант: {}{}, {}, заезд {}, {} ноч., {}, {} (SAMO id {})",
            offer.hotel,
            offer.stars.map(|s| format!(" {s}*")).unwrap_or_default(),
            offer.resort,
            offer.check_in.format("%d.%m.%Y"),
            offer.nights,
            offer.meal,
            dialogs::names::money(offer.price, &offer.currency),
            offer.id
        ));
    }
    if let Some(error) = d["error"].as_str() {
        lines.push(format!("Ошибка поиска: {error}"));
    }
    if !notice.recent.is_empty() {
        lines.push("Последние сообщения:".into());
        for line in &notice.recent {
            let who = match line.direction.as_str() {
                "in" => "клиент",
                "manager" => "менеджер",
                _ => "бот",
            };
            let text: String = line.text.chars().take(300).collect();
            lines.push(format!("  {who}: {text}"));
        }
    }
    if let (Some(base), Some(deal)) = (crm_base, notice.deal_id) {
        lines.push(format!("Сделка: {base}/crm/deal/details/{deal}/"));
    }
    lines.push("Ответьте на это сообщение (reply) — ответ уйдёт клиенту.".into());
    lines.push(format!("{ESCALATION_TAG}{}", e.id));
    lines.join("\n")
}

fn reason(r: &str) -> &str {
    match r {
        "human_request" => "клиент просит менеджера",
        "complaint" => "жалоба",
        "booking_request" => "заявка на бронирование",
        "not_understood" => "бот не понял клиента",
        "search_unavailable" => "поиск туров недоступен",
        "keyword" => "ключевое слово",
        "question" => "вопрос клиента (не бронирование)",
        "nothing_found" => "поиск ничего не нашёл: подберите варианты",
        "existing_booking" => "вопрос по уже купленному туру",
        other => other,
    }
}

fn channel(c: dialogs::Channel) -> &'static str {
    match c {
        dialogs::Channel::Telegram => "Telegram",
        dialogs::Channel::Wazzup => "WhatsApp",
        dialogs::Channel::Email => "email",
        dialogs::Channel::Console => "консоль",
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
pub async fn act(engine: Engine, api: Arc<TelegramApi>, chat_id: i64, update: ManagerUpdate) {
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
            Some(format!("⚠️ Не получилось: {e}"))
        }
    };
    if let Some(text) = done
        && let Err(e) = api.send_message(chat_id, &text, None).await
    {
        tracing::warn!(error = %e, "could not post to the managers' chat");
    }
}

/// The action on the escalation's chat; returns the customer's name for the confirmation.
async fn carry_out(
    engine: &Engine,
    escalation_id: &str,
    action: ManagerAction,
    by: &str,
) -> Result<String, String> {
    let store = &engine.store().store;
    let escalation = store
        .escalation_by_id(escalation_id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("такой заявки нет")?;
    let conversation = store
        .conversation(&escalation.conversation_id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("разговор не найден")?;
    engine
        .manage_from(conversation.key.clone(), action, by, Desk::ManagersChat)
        .await
        .map_err(|e| e.to_string())?;
    Ok(conversation
        .customer_name
        .unwrap_or_else(|| "без имени".into()))
}
