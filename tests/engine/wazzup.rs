//! WhatsApp through Wazzup24 beyond the basics of `durable.rs`: a manager's echo takes the
//! chat, our own echoes do not, delivery statuses reach the outbox, a 429 is retried, the
//! operator commands talk to the account, and a messenger other than WhatsApp (Instagram) is
//! answered and counted as what it is.

use crate::support::app::{self, TestApp};
use crate::support::eventually;
use dialogs::{Channel, ChatKey, Owner};
use std::sync::atomic::Ordering;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

async fn post(app: &TestApp, body: serde_json::Value) {
    assert_eq!(app.post_wazzup(&body).await, reqwest::StatusCode::OK);
}

async fn replies(app: &TestApp, phone: &str, n: usize) -> Vec<fakes::wazzup::Delivered> {
    assert!(
        eventually(WAIT, || async { app.wazzup.delivered_to(phone).len() >= n }).await,
        "expected {n} replies"
    );
    app.wazzup.delivered_to(phone)
}

async fn conversation(app: &TestApp, phone: &str) -> actors::store::ConversationRecord {
    let key = ChatKey::new(Channel::Wazzup, format!("whatsapp:{phone}"));
    app.engine
        .store()
        .store
        .conversation_by_chat(&key)
        .await
        .unwrap()
        .unwrap()
}

async fn transcript(app: &TestApp, phone: &str) -> Vec<(String, String)> {
    let c = conversation(app, phone).await;
    app.engine
        .store()
        .store
        .transcript(&c.id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.direction, e.text))
        .collect()
}

#[tokio::test]
async fn a_manager_writing_from_the_crm_silences_the_bot_for_that_chat() {
    let app = app::spawn(None).await;
    let phone = "77040000001";
    post(&app, fakes::wazzup::inbound("w-1", phone, "Здравствуйте")).await;
    replies(&app, phone, 1).await;
    post(
        &app,
        fakes::wazzup::echo(
            "crm-77",
            phone,
            "Добрый день! Я Мария, помогу вам.",
            Some("Мария"),
        ),
    )
    .await;
    post(
        &app,
        fakes::wazzup::inbound("w-2", phone, "Хотим в Нячанг в марте"),
    )
    .await;
    assert!(
        eventually(WAIT, || async { transcript(&app, phone).await.len() >= 4 }).await,
        "echo and message stored"
    );
    let lines = transcript(&app, phone).await;
    assert_eq!(
        lines[2],
        ("manager".into(), "Добрый день! Я Мария, помогу вам.".into())
    );
    assert_eq!(lines[3], ("in".into(), "Хотим в Нячанг в марте".into()));
    assert_eq!(
        app.wazzup.delivered_to(phone).len(),
        1,
        "the bot stays silent"
    );
    let c = conversation(&app, phone).await;
    assert_eq!(
        (c.owner, c.owned_by.as_deref()),
        (Owner::Manager, Some("Мария"))
    );
}

#[tokio::test]
async fn the_echo_of_our_own_reply_is_not_a_takeover() {
    let app = app::spawn(None).await;
    let phone = "77040000002";
    post(&app, fakes::wazzup::inbound("o-1", phone, "Здравствуйте")).await;
    let sent = replies(&app, phone, 1).await;
    // The echo by the id Wazzup gave our send, once the send is recorded…
    let c = conversation(&app, phone).await;
    assert!(
        eventually(WAIT, || async {
            let outbox = app.engine.store().store.outbox_of(&c.id).await.unwrap();
            outbox[0].external_id.as_deref() == Some(sent[0].message_id.as_str())
        })
        .await
    );
    post(
        &app,
        fakes::wazzup::echo(&sent[0].message_id, phone, &sent[0].text, None),
    )
    .await;
    // …and an echo that outran the answer to our send: unknown id, our text.
    post(
        &app,
        fakes::wazzup::echo("early-echo", phone, &sent[0].text, None),
    )
    .await;
    post(&app, fakes::wazzup::inbound("o-2", phone, "Спасибо")).await;
    let sent = replies(&app, phone, 2).await;
    assert!(sent[1].text.contains("Спасибо"), "{}", sent[1].text);
    assert_eq!(conversation(&app, phone).await.owner, Owner::Bot);
}

#[tokio::test]
async fn delivery_statuses_are_recorded_and_never_go_back() {
    let app = app::spawn(None).await;
    let phone = "77040000003";
    post(&app, fakes::wazzup::inbound("s-1", phone, "Здравствуйте")).await;
    let sent = replies(&app, phone, 1).await;
    let c = conversation(&app, phone).await;
    let status = || async {
        let outbox = app.engine.store().store.outbox_of(&c.id).await.unwrap();
        outbox[0].status.as_str()
    };
    assert!(eventually(WAIT, || async { status().await == "sent" }).await);
    let id = sent[0].message_id.clone();
    post(&app, fakes::wazzup::status(&id, "delivered")).await;
    assert_eq!(status().await, "delivered");
    post(&app, fakes::wazzup::status(&id, "read")).await;
    assert_eq!(status().await, "read");
    post(&app, fakes::wazzup::status(&id, "delivered")).await;
    assert_eq!(
        status().await,
        "read",
        "a late 'delivered' does not undo 'read'"
    );
}

#[tokio::test]
async fn a_rate_limited_send_is_retried_and_arrives_once() {
    let app = app::spawn(None).await;
    let phone = "77040000004";
    app.wazzup.throttle.store(2, Ordering::SeqCst);
    post(&app, fakes::wazzup::inbound("r-1", phone, "Здравствуйте")).await;
    let sent = replies(&app, phone, 1).await;
    assert!(sent[0].text.contains("Crystal Bay"));
    assert_eq!(
        app.wazzup.attempts.load(Ordering::SeqCst),
        3,
        "two 429s, then sent"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.wazzup.delivered_to(phone).len(), 1);
}

#[tokio::test]
async fn the_operator_registers_the_webhook_and_lists_channels() {
    let (url, fake) = fakes::wazzup::start().await;
    let env = [
        ("WAZZUP_API_KEY", fakes::wazzup::API_KEY),
        ("WAZZUP_API_URL", url.as_str()),
        ("WAZZUP_WEBHOOK_SECRET", "hook-secret-42"),
        ("PUBLIC_URL", "https://bot.crystalbay.kz"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()));
    let config = crystalbay::config::Config::from_values(Default::default(), env).unwrap();
    crystalbay::commands::wazzup::register_webhook(&config)
        .await
        .unwrap();
    let registered = fake.webhook.lock().unwrap().clone().unwrap();
    assert_eq!(
        registered["webhooksUri"],
        "https://bot.crystalbay.kz/webhooks/wazzup/hook-secret-42"
    );
    assert_eq!(registered["subscriptions"]["messagesAndStatuses"], true);
    crystalbay::commands::wazzup::list_channels(&config)
        .await
        .unwrap();

    let missing = crystalbay::config::Config::from_values(
        Default::default(),
        [("WAZZUP_API_KEY".to_owned(), "k".to_owned())],
    )
    .unwrap();
    let err = crystalbay::commands::wazzup::register_webhook(&missing)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("PUBLIC_URL"), "{err}");
}

/// `body` as if it came from another of Wazzup's messengers (`chatType`).
fn on_messenger(mut body: serde_json::Value, chat_type: &str) -> serde_json::Value {
    for m in body["messages"].as_array_mut().unwrap() {
        m["chatType"] = chat_type.into();
    }
    body
}

#[tokio::test]
async fn an_instagram_customer_through_wazzup_is_answered_and_counted_as_instagram() {
    let app = app::spawn(None).await;
    let chat = "17841400000000001";
    post(
        &app,
        on_messenger(
            fakes::wazzup::inbound("ig-1", chat, "Здравствуйте"),
            "instagram",
        ),
    )
    .await;
    let sent = replies(&app, chat, 1).await;
    assert_eq!(
        sent[0].chat_type, "instagram",
        "the reply goes back on Instagram"
    );
    let key = ChatKey::new(Channel::Wazzup, format!("instagram:{chat}"));
    let stored = app
        .engine
        .store()
        .store
        .conversation_by_chat(&key)
        .await
        .unwrap();
    assert!(stored.is_some(), "the chat is keyed by its messenger");
    let metrics = app
        .http
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("crystalbay_wazzup_messages_total{messenger=\"instagram\"}"),
        "{metrics}"
    );
}
