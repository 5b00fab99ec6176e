//! The outbox waits channel outages out and never drops a reply, and the HTTP server survives
//! clients that hold connections: issue 16, items 3, 6, 7 and 8.
//!
//! Each outage test sends customer messages before, during and after the fault, and ends by
//! counting at the fake channel: every reply of every conversation arrived exactly once.
//! Settings are shortened (backoffs of tens of milliseconds, outages of a few seconds); the
//! behaviour is the one of hours-long outages with the defaults.

use crate::support::app::{self, Options, TelegramMode, TestApp};
use crate::support::eventually;
use dialogs::{Channel, ChatKey};
use fakes::telegram::FakeTelegram;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(60);
const ADMIN: &str = "outbox-admin-token-0123456789";

/// Short backoffs: a retry after 50 ms, at most 400 ms apart; the breaker opens after 3.
fn fast_retries() -> Vec<(&'static str, String)> {
    vec![
        ("OUTBOX_RETRY_BASE_MS", "50".into()),
        ("OUTBOX_RETRY_MAX_SECS", "0.4".into()),
        ("OUTBOX_BREAKER_FAILURES", "3".into()),
        ("ADMIN_TOKEN", ADMIN.into()),
    ]
}

async fn spawn(env: Vec<(&'static str, String)>) -> TestApp {
    app::spawn_with(Options {
        env,
        ..Options::default()
    })
    .await
}

fn phone(i: usize) -> String {
    format!("7706{i:07}")
}

async fn post(app: &TestApp, i: usize, text: &str) {
    let body = fakes::wazzup::inbound(&format!("ob-{i}"), &phone(i), text);
    assert_eq!(app.post_wazzup(&body).await, reqwest::StatusCode::OK);
}

/// Every reply of every conversation of `chats`, as the outbox holds them.
async fn outbox_rows(app: &TestApp, chats: &[ChatKey]) -> Vec<actors::store::OutboxRecord> {
    let store = &app.engine.store().store;
    let mut rows = Vec::new();
    for key in chats {
        if let Some(c) = store.conversation_by_chat(key).await.unwrap() {
            rows.extend(store.outbox_of(&c.id).await.unwrap());
        }
    }
    rows
}

fn wazzup_keys(range: std::ops::Range<usize>) -> Vec<ChatKey> {
    range
        .map(|i| ChatKey::new(Channel::Wazzup, format!("whatsapp:{}", phone(i))))
        .collect()
}

/// Waits until each of the `n` WhatsApp customers has a reply and every reply is sent; then
/// checks that the fake got each reply exactly once.
async fn every_wazzup_reply_arrives_once(app: &TestApp, n: usize) {
    let keys = wazzup_keys(0..n);
    let done = eventually(WAIT, || async {
        let rows = outbox_rows(app, &keys).await;
        let answered: std::collections::HashSet<_> =
            rows.iter().map(|r| r.message.key.clone()).collect();
        answered.len() == n && rows.iter().all(|r| r.status.as_str() == "sent")
    })
    .await;
    let rows = outbox_rows(app, &keys).await;
    let unsent: Vec<_> = rows
        .iter()
        .filter(|r| r.status.as_str() != "sent")
        .map(|r| (&r.message.key.chat_id, &r.status, &r.last_error))
        .collect();
    assert!(done, "not every reply was sent: {unsent:?}");
    let delivered = app.wazzup.delivered.lock().unwrap().clone();
    let mut times: HashMap<String, usize> = HashMap::new();
    for d in &delivered {
        *times.entry(d.crm_message_id.clone().unwrap()).or_default() += 1;
    }
    for row in &rows {
        assert_eq!(
            times.get(&row.message.id).copied().unwrap_or(0),
            1,
            "reply {} to {} arrived once",
            row.message.id,
            row.message.key.chat_id
        );
    }
    assert_eq!(delivered.len(), rows.len(), "nothing else was delivered");
}

fn board(app: &TestApp, channel: &str) -> actors::outbound::ChannelOutbox {
    app.engine
        .outbox_board()
        .snapshot()
        .get(channel)
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn a_wazzup_outage_is_waited_out_without_losing_or_repeating_a_reply() {
    let app = spawn(fast_retries()).await;
    let (before, during, after) = (8, 24, 8);
    for i in 0..before {
        post(&app, i, "Здравствуйте").await;
    }
    app.wazzup.server_error.store(true, Ordering::SeqCst);
    for i in before..before + during {
        post(&app, i, "Здравствуйте").await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        eventually(WAIT, || async { board(&app, "wazzup").breaker != "closed" }).await,
        "the breaker opens while Wazzup fails"
    );
    // The outage goes on well past what the old outbox allowed (7 attempts in a row).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let waiting = board(&app, "wazzup");
    assert!(waiting.waiting > 0, "{waiting:?}");
    app.wazzup.server_error.store(false, Ordering::SeqCst);
    for i in before + during..before + during + after {
        post(&app, i, "Здравствуйте").await;
    }
    every_wazzup_reply_arrives_once(&app, before + during + after).await;
    let failed = app.wazzup.answered_500.load(Ordering::SeqCst);
    eprintln!(
        "wazzup 500 outage: {} replies, {failed} sends answered 500, board during: {waiting:?}",
        before + during + after
    );
    // While the breaker is open only a probe goes: far fewer 500s than one per reply and
    // retry (each reply would otherwise be tried every 400 ms for seconds).
    assert!(
        failed < during + 20,
        "{failed} sends met the outage: the waiting replies were not held back"
    );
    assert!(
        eventually(WAIT, || async { board(&app, "wazzup").breaker == "closed" }).await,
        "the breaker closes once Wazzup answers: {:?}",
        board(&app, "wazzup")
    );
    app.stop().await;
}

#[tokio::test]
async fn a_wazzup_rate_limit_pauses_the_channel_and_spends_no_attempt() {
    let app = spawn(fast_retries()).await;
    let (before, during, after) = (5, 20, 5);
    for i in 0..before {
        post(&app, i, "Здравствуйте").await;
    }
    *app.wazzup.rate_limited.lock().unwrap() = Some(1);
    for i in before..before + during {
        post(&app, i, "Здравствуйте").await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    *app.wazzup.rate_limited.lock().unwrap() = None;
    for i in before + during..before + during + after {
        post(&app, i, "Здравствуйте").await;
    }
    every_wazzup_reply_arrives_once(&app, before + during + after).await;
    let keys = wazzup_keys(0..before + during + after);
    for row in outbox_rows(&app, &keys).await {
        assert_eq!(
            row.message.attempts, 1,
            "a 429 is not an attempt: only the send that went through counts ({})",
            row.message.key.chat_id
        );
    }
    let limited = app.wazzup.answered_429.load(Ordering::SeqCst);
    eprintln!(
        "wazzup 429: {} replies, {limited} sends answered 429",
        before + during + after
    );
    // The pause is the channel's, not each reply's: after each Retry-After one send tests the
    // water, instead of every waiting reply meeting the limit again.
    assert!(
        limited < during / 2,
        "{limited} sends met the rate limit: no shared back-off"
    );
    app.stop().await;
}

async fn spawn_telegram(env: Vec<(&'static str, String)>) -> (TestApp, Arc<FakeTelegram>) {
    let fake = fakes::telegram::start().await;
    let app = app::spawn_with(Options {
        env,
        telegram: Some((TelegramMode::Polling, fake.clone())),
        ..Options::default()
    })
    .await;
    (app, fake)
}

#[tokio::test]
async fn a_telegram_flood_limit_loses_no_reply() {
    let (app, fake) = spawn_telegram(fast_retries()).await;
    let chats: Vec<i64> = (0..30).map(|i| 5_000 + i).collect();
    *fake.limited_until.lock().unwrap() = Some(Instant::now() + Duration::from_secs(3));
    for chat in &chats {
        fake.push(fakes::telegram::text(*chat, "Здравствуйте"));
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    let keys: Vec<ChatKey> = chats
        .iter()
        .map(|c| ChatKey::new(Channel::Telegram, c.to_string()))
        .collect();
    let done = eventually(WAIT, || async {
        let rows = outbox_rows(&app, &keys).await;
        let answered: std::collections::HashSet<_> =
            rows.iter().map(|r| r.message.key.clone()).collect();
        answered.len() == chats.len() && rows.iter().all(|r| r.status.as_str() == "sent")
    })
    .await;
    assert!(done, "not every Telegram reply was sent");
    let rows = outbox_rows(&app, &keys).await;
    for chat in &chats {
        let replies = rows
            .iter()
            .filter(|r| r.message.key.chat_id == chat.to_string())
            .count();
        assert_eq!(
            fake.sent_to(*chat).len(),
            replies,
            "chat {chat}: each reply once"
        );
        assert!(replies >= 1);
    }
    let limited = fake.answered_429.load(Ordering::SeqCst);
    eprintln!(
        "telegram 429: {} chats, {limited} sends answered 429",
        chats.len()
    );
    assert!(
        limited < chats.len(),
        "{limited} sends met the flood limit: no shared back-off"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_reply_past_its_deadline_goes_to_the_managers_and_an_admin_can_send_it_again() {
    let managers = -100_777;
    let fake = fakes::telegram::start().await;
    let mut env = fast_retries();
    env.push(("OUTBOX_DEADLINE_SECS", "1".into()));
    env.push(("TELEGRAM_MANAGERS_CHAT_ID", managers.to_string()));
    let app = app::spawn_with(Options {
        env,
        telegram: Some((TelegramMode::Polling, fake.clone())),
        ..Options::default()
    })
    .await;
    app.wazzup.server_error.store(true, Ordering::SeqCst);
    post(&app, 0, "Здравствуйте").await;
    let store = &app.engine.store().store;
    let key = &wazzup_keys(0..1)[0];
    let escalated = eventually(WAIT, || async {
        let Some(c) = store.conversation_by_chat(key).await.unwrap() else {
            return false;
        };
        let escalations = store.escalations_of(&c.id).await.unwrap();
        escalations
            .iter()
            .any(|e| e.reason.as_str() == "undelivered")
    })
    .await;
    assert!(escalated, "the undelivered reply was not escalated");
    let conversation = store.conversation_by_chat(key).await.unwrap().unwrap();
    let reply = store.outbox_of(&conversation.id).await.unwrap().remove(0);
    assert_eq!(reply.status.as_str(), "failed");
    let escalation = store
        .escalations_of(&conversation.id)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.reason.as_str() == "undelivered")
        .unwrap();
    assert_eq!(
        crate::support::stored(&escalation.details)["text"],
        reply.message.text.as_str()
    );
    assert!(
        crate::support::stored(&escalation.details)["error"]
            .as_str()
            .unwrap()
            .contains("HTTP 500"),
        "{}",
        crate::support::stored(&escalation.details)
    );
    // The managers' chat hears of it, with the text to pass on.
    let start: String = reply.message.text.chars().take(40).collect();
    assert!(
        eventually(WAIT, || async {
            fake.sent_to(managers)
                .iter()
                .any(|m| m.text.contains("не доставлен") && m.text.contains(&start))
        })
        .await,
        "the managers were not told: {:?}",
        fake.sent_to(managers)
    );

    // The admin API lists it, and sends it again once Wazzup is back.
    let http = &app.http;
    let listed: serde_json::Value = http
        .get(format!("{}/admin/outbox?status=failed", app.base))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["replies"][0]["id"], reply.message.id.as_str());
    let status: serde_json::Value = http
        .get(format!("{}/admin/status", app.base))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        status["outbox"]["wazzup"]["breaker"].is_string(),
        "{status}"
    );
    assert!(status["queues"]["outbox_failed"].as_i64().unwrap() >= 1);
    app.wazzup.server_error.store(false, Ordering::SeqCst);
    let retried = http
        .post(format!(
            "{}/admin/outbox/{}/retry",
            app.base, reply.message.id
        ))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(retried.status(), reqwest::StatusCode::OK);
    assert!(
        eventually(WAIT, || async {
            app.wazzup.delivered_to(&phone(0)).len() == 1
        })
        .await,
        "the retried reply did not arrive"
    );
    assert!(
        eventually(WAIT, || async {
            store
                .outbox_entry(&reply.message.id)
                .await
                .unwrap()
                .unwrap()
                .status
                .as_str()
                == "sent"
        })
        .await
    );
    // Sent now: a second retry is refused, nothing goes twice.
    let again = http
        .post(format!(
            "{}/admin/outbox/{}/retry",
            app.base, reply.message.id
        ))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), reqwest::StatusCode::CONFLICT);
    let metrics = http
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("crystalbay_outbox_breaker{channel=\"wazzup\""),
        "the breaker is in the metrics"
    );
    assert!(metrics.contains("crystalbay_outbox_oldest_waiting_seconds"));
    app.stop().await;
}

#[tokio::test]
async fn thousands_of_idle_and_half_sent_connections_do_not_stop_the_server() {
    // The fd limit is shared with the test's own sockets: stay far under it.
    let max = 200;
    let clients = 1500;
    let app = spawn(vec![
        ("HTTP_MAX_CONNECTIONS", max.to_string()),
        // Long: what makes room here is the bound, not the timeout.
        ("HTTP_HEADER_TIMEOUT_SECS", "60".into()),
    ])
    .await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut held = Vec::new();
    for i in 0..clients {
        let Ok(mut socket) = tokio::net::TcpStream::connect(&addr).await else {
            continue;
        };
        if i % 2 == 1 {
            use tokio::io::AsyncWriteExt;
            // Half a request: never finished.
            let _ = socket
                .write_all(b"POST /webhooks/wazzup/x HTTP/1.1\r\nHost: x\r\nContent-Length: 10")
                .await;
        }
        held.push(socket);
    }
    assert!(held.len() > clients / 2, "{} connected", held.len());
    let health = reqwest::Client::new()
        .get(format!("{}/health", app.base))
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), reqwest::StatusCode::OK);
    post(&app, 0, "Здравствуйте").await;
    assert!(
        eventually(WAIT, || async {
            app.wazzup.delivered_to(&phone(0)).len() == 1
        })
        .await,
        "the customer was not answered"
    );
    // The server holds at most `max` of them: the others were closed.
    let closed = |held: &Vec<tokio::net::TcpStream>| {
        let mut buf = [0u8; 64];
        held.iter()
            .filter(|s| match s.try_read(&mut buf) {
                Ok(0) => true,
                Ok(_) => false,
                Err(e) => e.kind() != std::io::ErrorKind::WouldBlock,
            })
            .count()
    };
    assert!(
        eventually(WAIT, || async { closed(&held) >= held.len() - max }).await,
        "only {} of {} idle connections were closed",
        closed(&held),
        held.len()
    );
    drop(held);
    app.stop().await;
}

#[tokio::test]
async fn an_overlong_request_id_is_replaced() {
    let app = spawn(vec![]).await;
    let ask = |id: String| {
        let url = format!("{}/health", app.base);
        let http = app.http.clone();
        async move {
            let r = http
                .get(url)
                .header("x-request-id", id)
                .send()
                .await
                .unwrap();
            r.headers()["x-request-id"].to_str().unwrap().to_owned()
        }
    };
    assert_eq!(ask("abc-123".into()).await, "abc-123");
    let long = "a".repeat(5000);
    let answered = ask(long.clone()).await;
    assert_ne!(answered, long);
    assert!(answered.len() <= 128, "{answered}");
    let odd = ask("forged id \"with\" quotes".into()).await;
    assert!(!odd.contains(' '), "{odd}");
    app.stop().await;
}

#[tokio::test]
async fn a_given_up_reply_escalates_once_per_conversation_and_can_be_requeued() {
    use crate::store::{inbound, insert, turn};
    use actors::store::{ConversationRecord, WriteOp, WriteOutcome};
    for t in crate::support::backends::all().await {
        let s = t.store.as_ref();
        let m = insert(s, inbound("7720", "u-1", "привет")).await;
        let conv = ConversationRecord::new(m.inbound.key.clone(), chrono::Utc::now());
        let commit = turn(&m, &conv, &["первый ответ", "второй ответ"]);
        let ids: Vec<String> = commit.replies.iter().map(|r| r.id.clone()).collect();
        s.write_batch(vec![WriteOp::CommitTurn(Box::new(commit))])
            .await
            .remove(0)
            .unwrap();
        let give_up = |id: &str, text: &str| WriteOp::OutboxUndelivered {
            id: id.into(),
            conversation_id: conv.id.clone(),
            text: text.into(),
            error: "not delivered within 24 h; last error: HTTP 500".into(),
            escalation_id: actors::store::new_id(),
            at: chrono::Utc::now(),
        };
        let r = s.write_batch(vec![give_up(&ids[0], "первый ответ")]).await;
        assert_eq!(r[0].as_ref().unwrap(), &WriteOutcome::Done, "{}", t.name);
        let r = s.write_batch(vec![give_up(&ids[1], "второй ответ")]).await;
        assert_eq!(r[0].as_ref().unwrap(), &WriteOutcome::Done, "{}", t.name);
        // Given up twice: nothing more.
        let r = s.write_batch(vec![give_up(&ids[1], "второй ответ")]).await;
        assert_eq!(
            r[0].as_ref().unwrap(),
            &WriteOutcome::AlreadyHandled,
            "{}",
            t.name
        );
        let escalations = s.escalations_of(&conv.id).await.unwrap();
        assert_eq!(
            escalations.len(),
            1,
            "one escalation per conversation ({})",
            t.name
        );
        assert_eq!(escalations[0].reason.as_str(), "undelivered");
        assert_eq!(
            crate::support::stored(&escalations[0].details)["text"],
            "первый ответ"
        );
        let notes = s.follow_ups_of(&escalations[0].id).await.unwrap();
        assert_eq!(notes.len(), 1, "{}", t.name);
        assert!(notes[0].text.contains("второй ответ"), "{}", t.name);
        let failed = s
            .outbox_list(actors::store::OutboxStatus::Failed, 10)
            .await
            .unwrap();
        assert_eq!(failed.len(), 2, "{}", t.name);
        // An admin's retry: pending again, once.
        let requeue = |id: &str| WriteOp::OutboxRequeue {
            id: id.into(),
            at: chrono::Utc::now(),
        };
        let r = s.write_batch(vec![requeue(&ids[0])]).await;
        assert_eq!(r[0].as_ref().unwrap(), &WriteOutcome::Done, "{}", t.name);
        let r = s.write_batch(vec![requeue(&ids[0])]).await;
        assert_eq!(
            r[0].as_ref().unwrap(),
            &WriteOutcome::NotFound,
            "{}",
            t.name
        );
        let entry = s.outbox_entry(&ids[0]).await.unwrap().unwrap();
        assert_eq!(entry.status.as_str(), "pending", "{}", t.name);
        assert!(
            entry.message.created_at > failed[0].message.created_at,
            "written anew: its deadline counts from the retry ({})",
            t.name
        );
        assert_eq!(s.unsent_outbox().await.unwrap().len(), 1, "{}", t.name);
    }
}

#[tokio::test]
async fn a_client_that_is_slow_with_its_headers_or_body_is_disconnected() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn(vec![
        ("HTTP_HEADER_TIMEOUT_SECS", "0.5".into()),
        ("HTTP_BODY_TIMEOUT_SECS", "0.5".into()),
    ])
    .await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    // Read until the server closes; what it said before, if anything.
    async fn until_closed(mut socket: tokio::net::TcpStream) -> Option<String> {
        let mut answer = Vec::new();
        let read = tokio::time::timeout(WAIT, socket.read_to_end(&mut answer)).await;
        read.ok()?.ok()?;
        Some(String::from_utf8_lossy(&answer).into_owned())
    }
    // Connected, never a byte: closed.
    let idle = tokio::net::TcpStream::connect(&addr).await.unwrap();
    assert!(
        until_closed(idle).await.is_some(),
        "an idle connection stays open"
    );
    // Half the headers: closed.
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    assert!(
        until_closed(slow).await.is_some(),
        "half-sent headers keep the connection"
    );
    // The headers, half the body: the request fails and nothing is stored.
    let mut body = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /webhooks/wazzup/{} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n{{\"messages\": [",
        app::WEBHOOK_SECRET
    );
    body.write_all(head.as_bytes()).await.unwrap();
    let answer = until_closed(body)
        .await
        .expect("a dribbled body is cut off");
    assert!(!answer.starts_with("HTTP/1.1 200"), "{answer}");
    // A kept-alive connection that goes quiet after a request: closed too.
    let mut kept = tokio::net::TcpStream::connect(&addr).await.unwrap();
    kept.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let answer = until_closed(kept)
        .await
        .expect("an idle kept-alive connection stays open");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // And the server still answers.
    let health = app
        .http
        .get(format!("{}/health", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), reqwest::StatusCode::OK);
    app.stop().await;
}
