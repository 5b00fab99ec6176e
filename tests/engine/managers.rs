//! The managers' Telegram chat: an escalation from a WhatsApp customer is announced there with
//! the customer's phone and the buttons; "Взять" claims the chat; a reply to the announcement
//! reaches the customer on WhatsApp; an unclaimed escalation is announced again.

use crate::support::app::{self, Options, TelegramMode, TestApp};
use crate::support::fake_telegram::{self, FakeTelegram};
use crate::support::{eventually, fake_wazzup};
use dialogs::{Channel, ChatKey, Owner};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);
const MANAGERS: i64 = -1001234567890;

async fn spawn(remind_secs: &str) -> (TestApp, Arc<FakeTelegram>) {
    let fake = fake_telegram::start().await;
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

async fn announcements(fake: &FakeTelegram, n: usize) -> Vec<fake_telegram::Sent> {
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
    app.post_wazzup(&fake_wazzup::inbound(
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
            &fake_telegram::with_id(press, 9001),
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
    let e = store
        .escalation_by_id(&escalation_id)
        .await
        .unwrap()
        .unwrap();
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
            &fake_telegram::with_id(reply.clone(), 9002),
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
    let again = fake_telegram::with_id(reply.clone(), 9002);
    assert_eq!(
        app.post_telegram(&again, Some(app::TELEGRAM_SECRET)).await,
        reqwest::StatusCode::OK
    );
    let mut next = reply.clone();
    next["message"]["message_id"] = json!(79);
    next["message"]["text"] = json!("Подберу вам отель, минуту");
    assert_eq!(
        app.post_telegram(
            &fake_telegram::with_id(next, 9003),
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
    let e = store
        .escalation_by_id(&escalation_id)
        .await
        .unwrap()
        .unwrap();
    assert!(e.first_answer_at.is_some(), "time to first answer recorded");
}

#[tokio::test]
async fn an_unclaimed_escalation_is_announced_again() {
    let (app, fake) = spawn("1").await;
    app.post_wazzup(&fake_wazzup::inbound(
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
