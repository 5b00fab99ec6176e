//! The peers' own payloads (`channels/tests/fixtures`: Telegram updates of every kind a
//! private chat produces, e-mails as Gmail, Outlook, Apple Mail, Mail.ru and Yandex write them)
//! through the running engine. Every one gets a 2xx. A customer's message gets an answer in its
//! chat (an e-mail's threaded under it); a deliberate drop (an edit, a service message, blocking
//! the bot, a reaction) gets none and starts no conversation.

use crate::support::app::{self, Options, TelegramMode};
use crate::support::eventually;
use dialogs::{Channel, ChatKey};
use reqwest::StatusCode;
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

fn fixtures(kind: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("channels/tests/fixtures")
        .join(kind);
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    files.sort();
    files
}

/// The Telegram fixtures that are not a customer's message.
const DROPPED: [&str; 6] = [
    "edited_message",
    "pinned_message",
    "auto_delete_timer_changed",
    "my_chat_member_blocked",
    "my_chat_member_unblocked",
    "message_reaction",
];

/// The private chat an update comes from.
fn chat_of(update: &Value) -> i64 {
    let object = update.as_object().unwrap();
    let part = object
        .iter()
        .find(|(k, _)| *k != "update_id")
        .map(|(_, v)| v)
        .unwrap();
    part.pointer("/chat/id")
        .or_else(|| part.pointer("/message/chat/id"))
        .and_then(Value::as_i64)
        .unwrap()
}

#[tokio::test]
async fn every_kind_of_telegram_update_is_answered_or_deliberately_dropped() {
    let fake = fakes::telegram::start().await;
    let app = app::spawn_with(Options {
        telegram: Some((TelegramMode::Webhook, fake.clone())),
        ..Options::default()
    })
    .await;
    let updates = fixtures("telegram");
    assert!(updates.len() >= 30, "{} fixtures", updates.len());
    for (name, body) in &updates {
        let update: Value = serde_json::from_slice(body).unwrap();
        let status = app.post_telegram(&update, Some(app::TELEGRAM_SECRET)).await;
        assert!(status.is_success(), "{name}: {status}");
    }
    let store = &app.engine.store().store;
    for (name, body) in &updates {
        let chat = chat_of(&serde_json::from_slice(body).unwrap());
        if DROPPED.contains(&name.as_str()) {
            continue;
        }
        assert!(
            eventually(WAIT, || async { !fake.sent_to(chat).is_empty() }).await,
            "{name}: no answer in chat {chat}"
        );
    }
    // Every answer above came after every update was in: a drop would have been answered by now.
    for name in DROPPED {
        let (_, body) = updates.iter().find(|(n, _)| n == name).unwrap();
        let chat = chat_of(&serde_json::from_slice(body).unwrap());
        assert!(fake.sent_to(chat).is_empty(), "{name} was answered");
        let conversation = store
            .conversation_by_chat(&ChatKey::new(Channel::Telegram, chat.to_string()))
            .await
            .unwrap();
        assert!(conversation.is_none(), "{name} started a conversation");
    }
}

#[tokio::test]
async fn emails_from_every_client_are_answered_in_their_thread() {
    let smtp = fakes::smtp::start().await;
    let secret = "mail-secret-0123456789";
    let app = app::spawn_with(Options {
        env: vec![
            ("SMTP_URL", smtp.url.clone()),
            ("EMAIL_FROM", "tours@crystalbay.test".to_owned()),
            ("EMAIL_WEBHOOK_SECRET", secret.to_owned()),
        ],
        ..Options::default()
    })
    .await;
    let emails = fixtures("email");
    assert!(emails.len() >= 9);
    let mut expected = Vec::new();
    for (name, raw) in &emails {
        let parsed = mail_parser::MessageParser::default().parse(raw).unwrap();
        let from = parsed
            .from()
            .unwrap()
            .first()
            .unwrap()
            .address()
            .unwrap()
            .to_lowercase();
        let id = parsed.message_id().unwrap().to_owned();
        let response = app
            .http
            .post(format!("{}/webhooks/email/{secret}", app.base))
            .header("content-type", "message/rfc822")
            .body(raw.clone())
            .send()
            .await
            .unwrap();
        let status = response.status();
        assert_eq!(
            status,
            StatusCode::OK,
            "{name}: {}",
            response.text().await.unwrap()
        );
        expected.push((name.clone(), from, id));
    }
    for (name, from, id) in expected {
        assert!(
            eventually(WAIT, || async { !smtp.received_for(&from).is_empty() }).await,
            "{name}: no answer to {from}"
        );
        let reply = smtp.received_for(&from).remove(0);
        let headers = String::from_utf8_lossy(&reply.data).into_owned();
        let in_reply_to = headers
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("in-reply-to:"))
            .unwrap_or_default()
            .to_owned();
        assert!(
            in_reply_to.contains(&format!("<{id}>")),
            "{name}: the answer is not threaded under {id}: {in_reply_to}"
        );
    }
}
