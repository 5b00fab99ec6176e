//! Telegram end to end: updates in through the webhook (secret header, dedupe on `update_id`)
//! or through long polling, the real engine and dialog, replies out through a fake Bot API —
//! inline buttons, rate limits, a blocked bot, and a crash between fetching and confirming.

use crate::support::app::{self, Options, TelegramMode, TestApp};
use crate::support::eventually;
use crate::support::stand_ins::StandInTours;
use dialogs::{Channel, ChatKey};
use fakes::telegram::FakeTelegram;
use reqwest::StatusCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

async fn spawn(mode: TelegramMode) -> (TestApp, Arc<FakeTelegram>) {
    spawn_with(mode, Options::default()).await
}

async fn spawn_with(mode: TelegramMode, options: Options) -> (TestApp, Arc<FakeTelegram>) {
    let fake = fakes::telegram::start().await;
    let app = app::spawn_with(Options {
        telegram: Some((mode, fake.clone())),
        ..options
    })
    .await;
    (app, fake)
}

/// Waits until `chat` has received `n` messages; returns them.
async fn replies(fake: &FakeTelegram, chat: i64, n: usize) -> Vec<fakes::telegram::Sent> {
    assert!(
        eventually(WAIT, || async { fake.sent_to(chat).len() >= n }).await,
        "chat {chat} did not get {n} message(s); got {:?}",
        fake.sent_to(chat)
    );
    fake.sent_to(chat)
}

#[tokio::test]
async fn a_customer_message_through_the_webhook_is_answered_on_telegram() {
    let (app, fake) = spawn(TelegramMode::Webhook).await;
    let update = fakes::telegram::with_id(fakes::telegram::text(1001, "Здравствуйте"), 1);
    let status = app.post_telegram(&update, Some(app::TELEGRAM_SECRET)).await;
    assert_eq!(status, StatusCode::OK);
    let sent = replies(&fake, 1001, 1).await;
    assert!(
        sent[0].text.contains("Crystal Bay"),
        "greeting expected, got {}",
        sent[0].text
    );
    let store = &app.engine.store().store;
    let conversation = store
        .conversation_by_chat(&ChatKey::new(Channel::Telegram, "1001"))
        .await
        .unwrap()
        .expect("conversation stored");
    assert_eq!(
        conversation.customer_name.as_deref(),
        Some("Айгуль Сейткали")
    );
}

#[tokio::test]
async fn the_webhook_is_registered_at_start_with_the_secret() {
    let (_app, fake) = spawn(TelegramMode::Webhook).await;
    assert!(
        eventually(WAIT, || async { fake.webhook.lock().unwrap().is_some() }).await,
        "setWebhook was not called"
    );
    let webhook = fake.webhook.lock().unwrap().clone().unwrap();
    assert_eq!(
        webhook["url"],
        format!("{}/webhooks/telegram", app::PUBLIC_URL)
    );
    assert_eq!(webhook["secret_token"], app::TELEGRAM_SECRET);
    assert_eq!(
        webhook["allowed_updates"],
        serde_json::json!(["message", "callback_query"])
    );
    assert_eq!(fake.called("getUpdates"), 0, "no polling in webhook mode");
}

#[tokio::test]
async fn a_missing_or_wrong_secret_or_a_malformed_body_stores_nothing() {
    let (app, fake) = spawn(TelegramMode::Webhook).await;
    let update = fakes::telegram::with_id(fakes::telegram::text(1002, "Здравствуйте"), 2);
    assert_eq!(
        app.post_telegram(&update, None).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.post_telegram(&update, Some("tg-secret_0123456788"))
            .await,
        StatusCode::UNAUTHORIZED
    );
    let malformed = app
        .http
        .post(format!("{}/webhooks/telegram", app.base))
        .header("X-Telegram-Bot-Api-Secret-Token", app::TELEGRAM_SECRET)
        .header("content-type", "application/json")
        .body(r#"{"message": {"text": "hi"}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    let reason: serde_json::Value = malformed.json().await.unwrap();
    assert!(
        reason["error"]["message"]
            .as_str()
            .unwrap()
            .contains("update_id"),
        "{reason}"
    );
    let store = &app.engine.store().store;
    assert!(
        store
            .inbox_entry(Channel::Telegram, "2")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.count_conversations().await.unwrap(), 0);
    // Another customer, let in, is answered: by then a stored refused update would have been too.
    let other = fakes::telegram::with_id(fakes::telegram::text(1003, "Здравствуйте"), 3);
    assert_eq!(
        app.post_telegram(&other, Some(app::TELEGRAM_SECRET)).await,
        StatusCode::OK
    );
    replies(&fake, 1003, 1).await;
    assert!(
        fake.sent_to(1002).is_empty(),
        "no reply to a refused update"
    );
}

#[tokio::test]
async fn the_same_update_twice_and_concurrently_is_answered_once() {
    let (app, fake) = spawn(TelegramMode::Webhook).await;
    let update = fakes::telegram::with_id(fakes::telegram::text(1004, "Хотим в Нячанг"), 40);
    let secret = Some(app::TELEGRAM_SECRET);
    assert_eq!(app.post_telegram(&update, secret).await, StatusCode::OK);
    assert_eq!(
        app.post_telegram(&update, secret).await,
        StatusCode::OK,
        "a redelivery is acknowledged too"
    );
    let posts: Vec<_> = (0..5).map(|_| app.post_telegram(&update, secret)).collect();
    for status in futures::future::join_all(posts).await {
        assert_eq!(status, StatusCode::OK);
    }
    // A different update afterwards proves the first one's turn is over.
    let next = fakes::telegram::with_id(fakes::telegram::text(1004, "в марте"), 41);
    assert_eq!(app.post_telegram(&next, secret).await, StatusCode::OK);
    replies(&fake, 1004, 2).await;
    assert_eq!(fake.sent_to(1004).len(), 2, "one reply per update");
}

#[tokio::test]
async fn a_button_press_does_what_the_button_says_and_is_answered() {
    let (app, fake) = spawn_with(
        TelegramMode::Webhook,
        Options {
            tours: Some(StandInTours::offers(7)),
            ..Options::default()
        },
    )
    .await;
    let secret = Some(app::TELEGRAM_SECRET);
    let ask = fakes::telegram::with_id(
        fakes::telegram::text(1005, "Нячанг из Алматы в марте на 10 ночей вдвоём"),
        50,
    );
    assert_eq!(app.post_telegram(&ask, secret).await, StatusCode::OK);
    let offers = replies(&fake, 1005, 1).await.remove(0);
    assert!(offers.text.contains("Nha Trang Hotel 5"), "{}", offers.text);
    let actions = offers.button_actions();
    assert!(
        actions.iter().any(|a| a == "book:1") && actions.iter().any(|a| a == "more"),
        "inline buttons expected: {actions:?}"
    );

    let press =
        fakes::telegram::with_id(fakes::telegram::button_press(1005, "cq-more", "more"), 51);
    assert_eq!(app.post_telegram(&press, secret).await, StatusCode::OK);
    let next = replies(&fake, 1005, 2).await.remove(1);
    assert!(
        next.text.contains("Nha Trang Hotel 6") && !next.text.contains("Hotel 5"),
        "the next offers expected: {}",
        next.text
    );
    assert!(
        eventually(WAIT, || async {
            fake.answered_callbacks
                .lock()
                .unwrap()
                .contains(&"cq-more".to_owned())
        })
        .await,
        "answerCallbackQuery was not called"
    );
}

#[tokio::test]
async fn a_photo_gets_a_polite_reply() {
    let (app, fake) = spawn(TelegramMode::Webhook).await;
    let photo = fakes::telegram::with_id(fakes::telegram::photo(1006, None), 60);
    assert_eq!(
        app.post_telegram(&photo, Some(app::TELEGRAM_SECRET)).await,
        StatusCode::OK
    );
    let reply = replies(&fake, 1006, 1).await.remove(0);
    assert!(reply.text.contains("текстовые"), "{}", reply.text);
}

#[tokio::test]
async fn group_messages_and_the_managers_chat_are_not_customer_messages() {
    let (app, fake) = spawn_with(
        TelegramMode::Webhook,
        Options {
            env: vec![("TELEGRAM_MANAGERS_CHAT_ID", "-1009000".into())],
            ..Options::default()
        },
    )
    .await;
    let secret = Some(app::TELEGRAM_SECRET);
    for (id, group) in [(70, -1009000), (71, -1009001)] {
        let update = fakes::telegram::with_id(fakes::telegram::group_text(group, 1007, "беру"), id);
        assert_eq!(app.post_telegram(&update, secret).await, StatusCode::OK);
    }
    let customer = fakes::telegram::with_id(fakes::telegram::text(1008, "Здравствуйте"), 72);
    assert_eq!(app.post_telegram(&customer, secret).await, StatusCode::OK);
    replies(&fake, 1008, 1).await;
    let store = &app.engine.store().store;
    for id in ["70", "71"] {
        assert!(
            store
                .inbox_entry(Channel::Telegram, id)
                .await
                .unwrap()
                .is_none()
        );
    }
    assert_eq!(store.count_conversations().await.unwrap(), 1);
    assert_eq!(fake.sent.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn in_polling_mode_pushed_updates_are_answered() {
    let (_app, fake) = spawn(TelegramMode::Polling).await;
    let first = fake.push(fakes::telegram::text(1009, "Здравствуйте"));
    let sent = replies(&fake, 1009, 1).await;
    assert!(sent[0].text.contains("Crystal Bay"), "{}", sent[0].text);
    fake.push(fakes::telegram::button_press(1009, "cq-poll", "manager"));
    replies(&fake, 1009, 2).await;
    assert!(
        eventually(WAIT, || async {
            fake.answered_callbacks
                .lock()
                .unwrap()
                .contains(&"cq-poll".to_owned())
        })
        .await
    );
    assert!(
        fake.called("deleteWebhook") >= 1,
        "polling starts with deleteWebhook"
    );
    assert!(fake.webhook.lock().unwrap().is_none());
    assert_eq!(fake.times_served(first), 1, "confirmed once stored");
}

#[tokio::test]
async fn a_rate_limited_send_waits_as_told_and_arrives_once() {
    let (_app, fake) = spawn(TelegramMode::Polling).await;
    fake.too_many_requests.store(1, Ordering::SeqCst);
    fake.push(fakes::telegram::text(1010, "Здравствуйте"));
    replies(&fake, 1010, 1).await;
    assert_eq!(
        fake.attempts_to(1010),
        2,
        "refused once with 429, then sent"
    );
    // The next message's reply shows the first was not sent twice.
    fake.push(fakes::telegram::text(1010, "Хотим в Нячанг"));
    replies(&fake, 1010, 2).await;
    let sent = fake.sent_to(1010);
    assert_eq!(sent.len(), 2);
    assert!(sent[0].text.contains("Crystal Bay"), "{}", sent[0].text);
}

#[tokio::test]
async fn a_chat_that_blocked_the_bot_is_marked_unreachable_not_retried_and_escalated() {
    let (app, fake) = spawn(TelegramMode::Polling).await;
    fake.blocked.lock().unwrap().insert(1011);
    fake.push(fakes::telegram::text(1011, "Здравствуйте"));
    let store = &app.engine.store().store;
    let key = ChatKey::new(Channel::Telegram, "1011");
    let given_up = eventually(WAIT, || async {
        let Some(conversation) = store.conversation_by_chat(&key).await.unwrap() else {
            return false;
        };
        let outbox = store.outbox_of(&conversation.id).await.unwrap();
        conversation.unreachable && outbox.iter().all(|r| r.status.as_str() == "failed")
    })
    .await;
    assert!(given_up, "the chat is not marked unreachable");
    assert_eq!(fake.attempts_to(1011), 1, "a blocked chat is not retried");
    assert!(fake.sent_to(1011).is_empty());
    // Not dropped: the managers get the conversation with the reply that could not go.
    let conversation = store.conversation_by_chat(&key).await.unwrap().unwrap();
    let reply = store.outbox_of(&conversation.id).await.unwrap().remove(0);
    let escalated = eventually(WAIT, || async {
        store
            .escalations_of(&conversation.id)
            .await
            .unwrap()
            .iter()
            .any(|e| {
                e.reason.as_str() == "undelivered"
                    && crate::support::stored(&e.details)["text"] == reply.message.text.as_str()
            })
    })
    .await;
    assert!(escalated, "the undelivered reply was not escalated");
}

mod crash {
    //! The real binary in polling mode, killed with SIGKILL after it stored an update but
    //! before its next `getUpdates` confirmed it, then restarted on the same database.

    use super::*;
    use std::process::{Child, Command, Stdio};

    struct Engine(Child);

    impl Drop for Engine {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    fn start(db: &std::path::Path, telegram_url: &str) -> Engine {
        let port = crate::support::free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_crystalbay"))
            .arg("run")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("DATABASE_URL", format!("sqlite://{}", db.display()))
            .env("HTTP_ADDR", format!("127.0.0.1:{port}"))
            .env("TELEGRAM_BOT_TOKEN", fakes::telegram::TOKEN)
            .env("TELEGRAM_API_URL", telegram_url)
            .env("RUST_LOG", "warn")
            .env("BURST_WINDOW_MS", "0")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the crystalbay binary");
        Engine(child)
    }

    #[tokio::test]
    async fn an_update_fetched_just_before_a_crash_is_answered_once_after_restart() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("tg-crash.db");
        let fake = fakes::telegram::start().await;

        // 1. The engine fetches the update, stores it and starts replying; the reply never
        //    gets an answer and the next poll (which would confirm the update) never arrives.
        fake.hold_sends.store(true, Ordering::SeqCst);
        *fake.poll_budget.lock().unwrap() = Some(1);
        let update = fake.push(fakes::telegram::text(1012, "Здравствуйте"));
        let engine = start(&db, &fake.url);
        assert!(
            eventually(WAIT, || async { fake.attempts_to(1012) >= 1 }).await,
            "the engine did not get as far as replying"
        );
        drop(engine); // SIGKILL
        assert!(
            fake.sent_to(1012).is_empty(),
            "nothing delivered before the crash"
        );

        // 2. Restarted on the same database: the update is served again and recognised; the
        //    customer gets one reply.
        fake.hold_sends.store(false, Ordering::SeqCst);
        *fake.poll_budget.lock().unwrap() = None;
        let _engine = start(&db, &fake.url);
        fake.push(fakes::telegram::text(1012, "а в марте?"));
        let sent = replies(&fake, 1012, 2).await;
        assert!(sent[0].text.contains("Crystal Bay"), "{}", sent[0].text);
        assert!(
            fake.times_served(update) >= 2,
            "the unconfirmed update was fetched again"
        );
        assert_eq!(fake.sent_to(1012).len(), 2, "one reply per update");
    }
}
