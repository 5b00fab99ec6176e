//! The managers' Telegram chat: an escalation from a WhatsApp customer is announced there with
//! the customer's phone and the buttons; "Взять" claims the chat; a reply to the announcement
//! reaches the customer on WhatsApp; an unclaimed escalation is announced again. Announcements
//! fit Telegram's limits whatever the customer is called, and one Telegram refuses for good is
//! not sent again every few seconds. A customer on Instagram through Wazzup is announced as on
//! Instagram, not WhatsApp. What the customer adds after the handover is relayed:
//! an urgent follow-up at once, the rest once a manager took the chat.

use crate::support::app::{self, Options, TelegramMode, TestApp};
use crate::support::eventually;
use dialogs::{Channel, ChatKey, Owner};
use fakes::telegram::FakeTelegram;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);
const MANAGERS: i64 = -1001234567890;

async fn spawn(remind_secs: &str) -> (TestApp, Arc<FakeTelegram>) {
    let fake = fakes::telegram::start().await;
    let app = app::spawn_with(Options {
        telegram: Some((TelegramMode::Webhook, fake.clone())),
        env: vec![
            ("TELEGRAM_MANAGERS_CHAT_ID", MANAGERS.to_string()),
            ("ESCALATION_REMIND_SECS", remind_secs.into()),
        ],
        ..Options::default()
    })
    .await;
    (app, fake)
}

async fn announcements(fake: &FakeTelegram, n: usize) -> Vec<fakes::telegram::Sent> {
    assert!(
        eventually(WAIT, || async { fake.sent_to(MANAGERS).len() >= n }).await,
        "the managers' chat got {:?}",
        fake.sent_to(MANAGERS)
    );
    fake.sent_to(MANAGERS)
}

/// A manager's update in the managers' chat.
fn manager_update(content: serde_json::Value) -> serde_json::Value {
    let mut update = json!({});
    for (k, v) in content.as_object().unwrap() {
        update[k] = v.clone();
    }
    update
}

#[tokio::test]
async fn managers_are_told_claim_with_a_button_and_answer_by_replying() {
    let (app, fake) = spawn("600").await;
    let phone = "77050000001";
    app.post_wazzup(&fakes::wazzup::inbound(
        "m-1",
        phone,
        "Позовите менеджера, пожалуйста",
    ))
    .await;
    let sent = announcements(&fake, 1).await;
    let note = &sent[0];
    assert!(
        note.text.contains("клиент просит менеджера"),
        "{}",
        note.text
    );
    assert!(
        note.text.contains("+77050000001"),
        "the phone: {}",
        note.text
    );
    assert!(note.text.contains("WhatsApp"), "{}", note.text);
    assert!(
        note.text.contains("Позовите менеджера"),
        "the last messages: {}",
        note.text
    );
    let actions = note.button_actions();
    assert_eq!(actions.len(), 2);
    assert!(actions[0].starts_with("claim:") && actions[1].starts_with("release:"));
    let escalation_id = actions[0].trim_start_matches("claim:").to_owned();

    // "Взять".
    let press = manager_update(json!({"callback_query": {
        "id": "cq-claim", "from": {"id": 501, "is_bot": false, "first_name": "Айдана"},
        "chat_instance": "-1",
        "message": {"message_id": 77, "date": 1, "chat": {"id": MANAGERS, "type": "supergroup"}},
        "data": format!("claim:{escalation_id}"),
    }}));
    assert_eq!(
        app.post_telegram(
            &fakes::telegram::with_id(press, 9001),
            Some(app::TELEGRAM_SECRET)
        )
        .await,
        reqwest::StatusCode::OK
    );
    let key = ChatKey::new(Channel::Wazzup, format!("whatsapp:{phone}"));
    let store = app.engine.store().store.clone();
    assert!(
        eventually(WAIT, || async {
            let c = store.conversation_by_chat(&key).await.unwrap().unwrap();
            c.owner == Owner::Manager
        })
        .await,
        "claimed"
    );
    let e = store.escalation(&escalation_id).await.unwrap().unwrap();
    assert_eq!(
        (e.status.as_str(), e.claimed_by.as_deref()),
        ("claimed", Some("Айдана"))
    );
    assert!(e.claimed_at.is_some());
    let sent = announcements(&fake, 2).await;
    assert!(
        sent[1].text.contains("Айдана взял(а) чат"),
        "{}",
        sent[1].text
    );

    // A reply to the announcement goes to the customer on WhatsApp.
    let reply = manager_update(json!({"message": {
        "message_id": 78, "date": 1, "chat": {"id": MANAGERS, "type": "supergroup"},
        "from": {"id": 501, "is_bot": false, "first_name": "Айдана"},
        "text": "Здравствуйте! Меня зовут Айдана, чем помочь?",
        "reply_to_message": {"message_id": 77, "date": 1,
            "chat": {"id": MANAGERS, "type": "supergroup"}, "text": note.text},
    }}));
    assert_eq!(
        app.post_telegram(
            &fakes::telegram::with_id(reply.clone(), 9002),
            Some(app::TELEGRAM_SECRET)
        )
        .await,
        reqwest::StatusCode::OK
    );
    assert!(
        eventually(WAIT, || async { app.wazzup.delivered_to(phone).len() >= 2 }).await,
        "relayed"
    );
    let delivered = app.wazzup.delivered_to(phone);
    assert_eq!(
        delivered[1].text,
        "Здравствуйте! Меня зовут Айдана, чем помочь?"
    );

    // Telegram delivering the same reply again (a lost answer, a retry) does not send it twice;
    // the manager's next reply still goes through.
    let again = fakes::telegram::with_id(reply.clone(), 9002);
    assert_eq!(
        app.post_telegram(&again, Some(app::TELEGRAM_SECRET)).await,
        reqwest::StatusCode::OK
    );
    let mut next = reply.clone();
    next["message"]["message_id"] = json!(79);
    next["message"]["text"] = json!("Подберу вам отель, минуту");
    assert_eq!(
        app.post_telegram(
            &fakes::telegram::with_id(next, 9003),
            Some(app::TELEGRAM_SECRET)
        )
        .await,
        reqwest::StatusCode::OK
    );
    assert!(
        eventually(WAIT, || async {
            app.wazzup
                .delivered_to(phone)
                .iter()
                .any(|m| m.text == "Подберу вам отель, минуту")
        })
        .await,
        "the next reply relayed"
    );
    let texts: Vec<String> = app
        .wazzup
        .delivered_to(phone)
        .into_iter()
        .map(|m| m.text)
        .collect();
    assert_eq!(
        texts[1..],
        [
            "Здравствуйте! Меня зовут Айдана, чем помочь?".to_owned(),
            "Подберу вам отель, минуту".to_owned()
        ],
        "each reply once"
    );
    let e = store.escalation(&escalation_id).await.unwrap().unwrap();
    assert!(e.first_answer_at.is_some(), "time to first answer recorded");
}

#[tokio::test]
async fn an_unclaimed_escalation_is_announced_again() {
    let (app, fake) = spawn("1").await;
    app.post_wazzup(&fakes::wazzup::inbound(
        "r-1",
        "77050000002",
        "Это безобразие, верните деньги",
    ))
    .await;
    let sent = announcements(&fake, 2).await;
    assert!(sent[0].text.starts_with("🔔"), "{}", sent[0].text);
    assert!(sent[0].text.contains("жалоба"), "{}", sent[0].text);
    assert!(
        sent[1].text.starts_with("⏰ Напоминание"),
        "{}",
        sent[1].text
    );
}

#[tokio::test]
async fn a_customer_with_a_very_long_name_is_announced_within_telegrams_limits() {
    let (app, fake) = spawn("600").await;
    let phone = "77050000003";
    let mut body = fakes::wazzup::inbound("l-1", phone, "Позовите менеджера, пожалуйста");
    body["messages"][0]["contact"]["name"] = json!("Айгуль Сейткали ".repeat(400));
    app.post_wazzup(&body).await;
    // The fake refuses a text over 4096 characters ("message is too long"), as Telegram does.
    let sent = announcements(&fake, 1).await;
    let note = &sent[0];
    assert!(note.text.chars().count() <= 4096, "{}", note.text.len());
    let client = note
        .text
        .lines()
        .find(|l| l.starts_with("Клиент: Айгуль Сейткали"))
        .unwrap_or_else(|| panic!("the name, cut: {}", note.text));
    assert!(
        client.contains("…") && client.contains("+77050000003"),
        "{client}"
    );
    assert!(note.text.contains("Позовите менеджера"), "{}", note.text);
    let actions = note.button_actions();
    assert!(actions[0].starts_with("claim:") && actions[1].starts_with("release:"));
    assert!(actions.iter().all(|a| a.len() <= 64));
}

#[tokio::test]
async fn an_announcement_refused_for_good_is_not_sent_again_every_few_seconds() {
    let (app, fake) = spawn("600").await;
    fake.refused
        .lock()
        .unwrap()
        .insert(MANAGERS, "Bad Request: chat not found".into());
    app.post_wazzup(&fakes::wazzup::inbound(
        "g-1",
        "77050000004",
        "Позовите менеджера, пожалуйста",
    ))
    .await;
    let store = app.engine.store().store.clone();
    // Refused, then refused in its short form: recorded, so the Escalations actor (which looks
    // every 2 s) leaves it until the reminder, ten minutes on.
    assert!(
        eventually(WAIT, || async {
            let open = store
                .list_escalations(Some(actors::store::EscalationStatus::Open), 10)
                .await
                .unwrap();
            open.len() == 1 && open[0].notified_at.is_some()
        })
        .await,
        "the refused announcement was given up on"
    );
    assert_eq!(
        fake.attempts_to(MANAGERS),
        2,
        "the announcement and its short form, nothing more"
    );
}

/// Waits until a message of the managers' chat contains `text`; returns it.
async fn told(fake: &FakeTelegram, text: &str) -> fakes::telegram::Sent {
    assert!(
        eventually(WAIT, || async {
            fake.sent_to(MANAGERS).iter().any(|s| s.text.contains(text))
        })
        .await,
        "the managers' chat never got {text:?}: {:?}",
        fake.sent_to(MANAGERS)
    );
    fake.sent_to(MANAGERS)
        .into_iter()
        .find(|s| s.text.contains(text))
        .unwrap()
}

#[tokio::test]
async fn what_the_customer_adds_reaches_the_managers_urgent_at_once_the_rest_once_taken() {
    let (app, fake) = spawn("600").await;
    let phone = "77050000009";
    for (id, text) in [
        ("f-1", "Позовите менеджера, пожалуйста"),
        ("f-2", "ещё хотела спросить про визу для мамы"),
        ("f-3", "мне срочно, вылет завтра!"),
    ] {
        app.post_wazzup(&fakes::wazzup::inbound(id, phone, text))
            .await;
        assert!(
            eventually(WAIT, || async {
                app.engine
                    .store()
                    .store
                    .pending_inbox()
                    .await
                    .unwrap()
                    .is_empty()
            })
            .await
        );
    }
    // Urgent while nobody took the chat: at once, saying why, with "Взять" under it.
    let urgent = told(&fake, "⚡ Срочно").await;
    assert!(
        urgent.text.contains("мне срочно, вылет завтра"),
        "{}",
        urgent.text
    );
    assert!(urgent.text.contains("+77050000009"), "{}", urgent.text);
    let actions = urgent.button_actions();
    assert!(actions[0].starts_with("claim:"), "{actions:?}");
    assert!(
        !fake
            .sent_to(MANAGERS)
            .iter()
            .any(|s| s.text.contains("💬") && s.text.contains("визу")),
        "a follow-up that can wait is not relayed before the chat is taken"
    );

    // Taken: what waited reaches the managers' chat too.
    let press = manager_update(json!({"callback_query": {
        "id": "cq-claim-f", "from": {"id": 501, "is_bot": false, "first_name": "Айдана"},
        "chat_instance": "-1",
        "message": {"message_id": 90, "date": 1, "chat": {"id": MANAGERS, "type": "supergroup"}},
        "data": actions[0],
    }}));
    assert_eq!(
        app.post_telegram(
            &fakes::telegram::with_id(press, 9101),
            Some(app::TELEGRAM_SECRET)
        )
        .await,
        reqwest::StatusCode::OK
    );
    let note = told(&fake, "💬 Клиент дописал").await;
    assert!(note.text.contains("про визу для мамы"), "{}", note.text);
    let e = actions[0].trim_start_matches("claim:");
    assert!(note.text.contains(e), "names the escalation: {}", note.text);
}

#[tokio::test]
async fn an_instagram_customer_through_wazzup_is_announced_as_on_instagram() {
    let (app, fake) = spawn("600").await;
    let mut body = fakes::wazzup::inbound(
        "ig-1",
        "17841400000000002",
        "Позовите менеджера, пожалуйста",
    );
    body["messages"][0]["chatType"] = json!("instagram");
    app.post_wazzup(&body).await;
    let sent = announcements(&fake, 1).await;
    let note = &sent[0];
    assert!(note.text.contains("Канал: Instagram"), "{}", note.text);
    assert!(!note.text.contains("WhatsApp"), "{}", note.text);
}
