//! The durable message path through the whole engine: acknowledged means stored, a redelivery
//! is answered once, and a conversation that fails does not take the others with it.

use crate::support::stand_ins::Recorder;
use crate::support::{app, eventually};
use actors::store::{ConversationRecord, InboxMessage};
use actors::tours::NotConfigured;
use actors::turns::{DialogTurns, TurnError, TurnHandler};
use async_trait::async_trait;
use dialogs::Channel;
use reqwest::StatusCode;
use std::sync::Arc;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

#[tokio::test]
async fn a_customer_message_is_answered_through_wazzup() {
    let app = app::spawn(None).await;
    let status = app
        .post_wazzup(&fakes::wazzup::inbound(
            "wz-1",
            "77011234567",
            "Здравствуйте",
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        eventually(WAIT, || async {
            app.wazzup.delivered_to("77011234567").len() == 1
        })
        .await
    );
    let reply = &app.wazzup.delivered_to("77011234567")[0];
    assert!(
        reply.text.contains("Crystal Bay"),
        "greeting expected, got {}",
        reply.text
    );
    assert!(
        reply.crm_message_id.is_some(),
        "every send carries crmMessageId"
    );
}

#[tokio::test]
async fn the_same_message_delivered_twice_and_concurrently_is_answered_once() {
    let app = app::spawn(None).await;
    let body = fakes::wazzup::inbound("wz-dup", "77012223344", "Хотим в Нячанг");
    assert_eq!(app.post_wazzup(&body).await, StatusCode::OK);
    assert_eq!(
        app.post_wazzup(&body).await,
        StatusCode::OK,
        "a redelivery is acknowledged too"
    );
    // Five more at once.
    let posts: Vec<_> = (0..5).map(|_| app.post_wazzup(&body)).collect();
    for status in futures::future::join_all(posts).await {
        assert_eq!(status, StatusCode::OK);
    }
    // A different message afterwards proves the first one's turn is over.
    app.post_wazzup(&fakes::wazzup::inbound("wz-next", "77012223344", "в марте"))
        .await;
    assert!(
        eventually(WAIT, || async {
            app.wazzup.delivered_to("77012223344").len() >= 2
        })
        .await
    );
    let store = &app.engine.store().store;
    let conversation = store
        .conversation_by_chat(&dialogs::ChatKey::new(
            Channel::Wazzup,
            "whatsapp:77012223344",
        ))
        .await
        .unwrap()
        .expect("conversation stored");
    let transcript = store.transcript(&conversation.id).await.unwrap();
    let inbound: Vec<_> = transcript
        .iter()
        .filter(|e| e.direction == "in")
        .map(|e| e.text.as_str())
        .collect();
    assert_eq!(
        inbound,
        ["Хотим в Нячанг", "в марте"],
        "one transcript entry per message"
    );
    assert_eq!(
        app.wazzup.delivered_to("77012223344").len(),
        2,
        "one reply per message"
    );
}

#[tokio::test]
async fn a_bad_secret_or_a_malformed_body_stores_nothing() {
    let app = app::spawn(None).await;
    let body = fakes::wazzup::inbound("wz-x", "77015556677", "hi");
    let wrong = app
        .http
        .post(format!("{}/webhooks/wazzup/not-the-secret", app.base))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::NOT_FOUND);
    let malformed = app
        .http
        .post(format!(
            "{}/webhooks/wazzup/{}",
            app.base,
            app::WEBHOOK_SECRET
        ))
        .header("content-type", "application/json")
        .body("{\"messages\": [{\"chatId\": 1")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    let reason: serde_json::Value = malformed.json().await.unwrap();
    assert!(
        reason["error"]["message"]
            .as_str()
            .unwrap()
            .contains("JSON")
    );
    let probe = app.post_wazzup(&serde_json::json!({"test": true})).await;
    assert_eq!(probe, StatusCode::OK);
    let store = &app.engine.store().store;
    assert!(
        store
            .inbox_entry(Channel::Wazzup, "wz-x")
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.pending_inbox().await.unwrap().is_empty());
    assert_eq!(store.count_conversations().await.unwrap(), 0);
}

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = app::spawn(None).await;
    let health = app
        .http
        .get(format!("{}/health", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let ready = app
        .http
        .get(format!("{}/ready", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
}

/// The real dialog, except that a message saying "💥" makes the handler panic (while armed).
struct Exploding(DialogTurns, std::sync::atomic::AtomicBool);

#[async_trait]
impl TurnHandler for Exploding {
    async fn handle_turn(
        &self,
        conversation: &ConversationRecord,
        state: &mut dialogs::DialogState,
        messages: &[InboxMessage],
    ) -> Result<dialogs::TurnOutcome, TurnError> {
        if self.1.load(std::sync::atomic::Ordering::Relaxed)
            && messages.iter().any(|m| m.inbound.text == "💥")
        {
            panic!("boom: forced failure for a test");
        }
        self.0.handle_turn(conversation, state, messages).await
    }
}

#[tokio::test]
async fn a_panicking_conversation_leaves_the_others_answering() {
    let turns = Arc::new(Exploding(
        DialogTurns::new(Arc::new(NotConfigured)),
        std::sync::atomic::AtomicBool::new(true),
    ));
    // The managers' Telegram chat, where escalations are announced.
    let telegram = fakes::telegram::start().await;
    const MANAGERS: i64 = -1009876543210;
    let app = app::spawn_with(app::Options {
        turns: Some(turns.clone()),
        telegram: Some((app::TelegramMode::Webhook, telegram.clone())),
        env: vec![
            ("ADMIN_TOKEN", ADMIN_TOKEN.to_owned()),
            ("TELEGRAM_MANAGERS_CHAT_ID", MANAGERS.to_string()),
        ],
        ..Default::default()
    })
    .await;
    let (victim, bystander) = ("77019990001", "77019990002");
    app.post_wazzup(&fakes::wazzup::inbound("p-1", victim, "Здравствуйте"))
        .await;
    assert!(
        eventually(WAIT, || async {
            app.wazzup.delivered_to(victim).len() == 1
        })
        .await
    );
    app.post_wazzup(&fakes::wazzup::inbound("p-2", victim, "💥"))
        .await;
    app.post_wazzup(&fakes::wazzup::inbound("p-3", victim, "а в марте?"))
        .await;
    app.post_wazzup(&fakes::wazzup::inbound("b-1", bystander, "Здравствуйте"))
        .await;

    assert!(
        eventually(WAIT, || async {
            app.wazzup.delivered_to(bystander).len() == 1
        })
        .await
    );
    // The poisonous message was retried once, then parked: the customer is told sorry in
    // their language, and the message after it is still answered, in order, by the restarted
    // conversation.
    assert!(
        eventually(WAIT, || async {
            app.wazzup.delivered_to(victim).len() == 3
        })
        .await
    );
    let replies = app.wazzup.delivered_to(victim);
    assert!(
        replies[1]
            .text
            .starts_with("Извините, у нас техническая заминка"),
        "{}",
        replies[1].text
    );
    assert!(replies[2].text.contains("марта"));
    let store = &app.engine.store().store;
    let parked = store
        .inbox_entry(Channel::Wazzup, "p-2")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(parked.status.as_str(), "failed");
    assert!(parked.error.as_deref().unwrap().contains("boom"));
    assert!(store.pending_inbox().await.unwrap().is_empty());
    // The managers are called, once, with the reason.
    let conversation = store
        .conversation_by_chat(&dialogs::ChatKey::new(
            Channel::Wazzup,
            format!("whatsapp:{victim}"),
        ))
        .await
        .unwrap()
        .unwrap();
    let escalations: Vec<_> = store
        .escalations_of(&conversation.id)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.reason == actors::store::EscalationKind::MessageFailed)
        .collect();
    assert_eq!(escalations.len(), 1, "{escalations:?}");
    assert!(
        crate::support::stored(&escalations[0].details)["error"]
            .as_str()
            .unwrap()
            .contains("boom")
    );
    assert_eq!(
        crate::support::stored(&escalations[0].details)["text"],
        "💥"
    );
    assert!(
        eventually(WAIT, || async {
            telegram
                .sent_to(MANAGERS)
                .iter()
                .any(|m| m.text.contains("не удалось обработать"))
        })
        .await,
        "the managers are told: {:?}",
        telegram.sent_to(MANAGERS)
    );
    let told = telegram
        .sent_to(MANAGERS)
        .into_iter()
        .filter(|m| m.text.contains("не удалось обработать"))
        .count();
    assert_eq!(told, 1, "told once");
    // Listed in the admin API with its error; once the bug is fixed, an admin retries it and
    // it is answered for real.
    let admin = |request: reqwest::RequestBuilder| request.bearer_auth(ADMIN_TOKEN).send();
    let listed: serde_json::Value = admin(app.http.get(format!("{}/admin/inbox/parked", app.base)))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let listed = listed["messages"].as_array().unwrap().clone();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["text"], "💥");
    assert!(listed[0]["error"].as_str().unwrap().contains("boom"));
    turns.1.store(false, std::sync::atomic::Ordering::Relaxed);
    let id = listed[0]["id"].as_i64().unwrap();
    let retried = admin(
        app.http
            .post(format!("{}/admin/inbox/parked/{id}/retry", app.base)),
    )
    .await
    .unwrap();
    assert_eq!(retried.status(), StatusCode::OK);
    assert!(
        eventually(WAIT, || async {
            app.wazzup.delivered_to(victim).len() == 4
        })
        .await
    );
    let handled = store.inbox_entry(Channel::Wazzup, "p-2").await.unwrap();
    assert_eq!(handled.unwrap().status.as_str(), "handled");
    // Nothing is parked any more: a second retry finds nothing.
    let again = admin(
        app.http
            .post(format!("{}/admin/inbox/parked/{id}/retry", app.base)),
    )
    .await
    .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
}

const ADMIN_TOKEN: &str = "durable-admin-token-0123456789";

#[tokio::test]
async fn an_idle_conversation_is_stopped_and_resumes_from_the_store() {
    let t = crate::support::backends::sqlite().await;
    let sent = Arc::new(Recorder::default());
    let engine = actors::Engine::start(
        t.store.clone(),
        vec![sent.clone()],
        Arc::new(DialogTurns::new(Arc::new(NotConfigured))),
        actors::EngineSettings {
            idle_after: Duration::from_millis(200),
            recover_channels: None,
            burst_window: Duration::ZERO,
            ..actors::EngineSettings::default()
        },
    )
    .await
    .unwrap();
    let say = |id: &str, text: &str| actors::store::NewInbound {
        key: dialogs::ChatKey::new(Channel::Console, "idle"),
        external_id: id.into(),
        kind: channels::InboundKind::Text,
        text: text.into(),
        sender_name: None,
        route: serde_json::json!({}),
        payload: serde_json::json!({}),
        sent_at: chrono::Utc::now(),
    };
    engine.accept(say("i-1", "Здравствуйте")).await.unwrap();
    assert!(eventually(WAIT, || async { sent.0.lock().unwrap().len() == 1 }).await);
    assert!(
        eventually(WAIT, || async { engine.stats().await.live == 0 }).await,
        "idle actor stopped"
    );
    engine.accept(say("i-2", "в марте")).await.unwrap();
    assert!(eventually(WAIT, || async { sent.0.lock().unwrap().len() == 2 }).await);
    // The new actor continued the stored dialog: not greeted a second time, and it asks for
    // the rest of the trip with the month it was told.
    let second = sent.0.lock().unwrap()[1].clone();
    assert!(!second.contains("Crystal Bay"), "{second}");
    assert!(second.contains("марта"), "{second}");
    let conversation = t
        .store
        .conversation_by_chat(&dialogs::ChatKey::new(Channel::Console, "idle"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(conversation.state["turns"], 2);
    engine.shutdown().await;
}

// --- Outages: nothing acknowledged is lost ---------------------------------------------------

/// Answers each message with its own text, so each reply names the message it answers.
struct Echo;

#[async_trait]
impl TurnHandler for Echo {
    async fn handle_turn(
        &self,
        _conversation: &ConversationRecord,
        _state: &mut dialogs::DialogState,
        messages: &[InboxMessage],
    ) -> Result<dialogs::TurnOutcome, TurnError> {
        Ok(dialogs::TurnOutcome {
            replies: messages
                .iter()
                .map(|m| dialogs::Reply::text(format!("re: {}", m.inbound.text)))
                .collect(),
            events: Vec::new(),
        })
    }
}

/// Customers writing steadily through the Wazzup webhook, each message posted the way Wazzup
/// delivers: again, with the same id, until it is acknowledged.
#[derive(Default)]
struct Traffic {
    /// Message tags acknowledged (200), per customer's phone.
    acknowledged: std::sync::Mutex<Vec<(String, String)>>,
    /// 503 answers seen (not acknowledged: delivered again).
    refused: std::sync::atomic::AtomicUsize,
}

impl Traffic {
    fn acknowledged(&self) -> usize {
        self.acknowledged.lock().unwrap().len()
    }

    async fn customer(&self, app: &app::TestApp, customer: usize, messages: usize) {
        let phone = format!("7702{customer:07}");
        for step in 0..messages {
            let tag = format!("m-{customer}-{step}");
            loop {
                let status = app
                    .post_wazzup(&fakes::wazzup::inbound(&tag, &phone, &tag))
                    .await;
                match status {
                    StatusCode::OK => break,
                    StatusCode::SERVICE_UNAVAILABLE => {
                        self.refused
                            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                    other => panic!("message {tag}: unexpected answer {other}"),
                }
            }
            self.acknowledged
                .lock()
                .unwrap()
                .push((phone.clone(), tag.clone()));
            tokio::time::sleep(Duration::from_millis(60)).await;
        }
    }

    /// Waits until every acknowledged message has a reply, then counts: every acknowledged
    /// message answered exactly once, nothing else sent. Returns (acknowledged, answered).
    async fn settle(&self, app: &app::TestApp) -> (usize, usize) {
        let acknowledged = self.acknowledged.lock().unwrap().clone();
        let answered = |app: &app::TestApp| {
            acknowledged
                .iter()
                .filter(|(phone, tag)| {
                    let reply = format!("re: {tag}");
                    app.wazzup
                        .delivered_to(phone)
                        .iter()
                        .any(|d| d.text == reply)
                })
                .count()
        };
        eventually(OUTAGE_WAIT, || async {
            answered(app) == acknowledged.len()
        })
        .await;
        let phones: std::collections::BTreeSet<&String> =
            acknowledged.iter().map(|(p, _)| p).collect();
        for phone in phones {
            let mut seen: Vec<String> = app
                .wazzup
                .delivered_to(phone)
                .into_iter()
                .map(|d| d.text)
                .collect();
            seen.sort();
            let mut expected: Vec<String> = acknowledged
                .iter()
                .filter(|(p, _)| p == phone)
                .map(|(_, tag)| format!("re: {tag}"))
                .collect();
            expected.sort();
            assert_eq!(
                seen, expected,
                "customer {phone}: exactly one reply per acknowledged message"
            );
        }
        (acknowledged.len(), answered(app))
    }
}

/// Bounds a broken run of an outage test; never a timing assertion.
const OUTAGE_WAIT: Duration = Duration::from_secs(90);

/// The simulated outages, shortened for the test (production ones last seconds to minutes;
/// nothing in the engine depends on their length).
const OUTAGE: Duration = Duration::from_secs(6);

/// A PostgreSQL store in a fresh schema, reached through a proxy the test can cut; `None`
/// (skipped) when PostgreSQL is not there.
async fn postgres_behind_proxy(
    open: bool,
) -> Option<(Arc<dyn actors::store::Store>, fakes::proxy::Proxy)> {
    use sqlx::postgres::PgConnectOptions;
    use std::str::FromStr;
    // Checks that PostgreSQL answers (or prints why the test is skipped).
    crate::support::backends::postgres().await?;
    let url = crate::support::backends::pg_url();
    let options = PgConnectOptions::from_str(&url).ok()?;
    let target = format!("{}:{}", options.get_host(), options.get_port());
    let resolved = tokio::net::lookup_host(&target).await.ok()?.next()?;
    let proxy = fakes::proxy::Proxy::start(resolved, open).await;
    let via_proxy = url.replacen(&target, &proxy.addr.to_string(), 1);
    assert_ne!(via_proxy, url, "TEST_DATABASE_URL names {target}");
    let schema = format!("cbtest_{}", uuid::Uuid::now_v7().simple());
    let store = actors::store::postgres::PgStore::connect_lazy(&via_proxy, Some(&schema)).unwrap();
    Some((Arc::new(store), proxy))
}

#[tokio::test]
async fn postgres_unreachable_mid_load_loses_nothing() {
    let Some((store, proxy)) = postgres_behind_proxy(true).await else {
        return;
    };
    let app = app::spawn_with(app::Options {
        turns: Some(Arc::new(Echo)),
        store: Some(store),
        ..Default::default()
    })
    .await;
    let traffic = Traffic::default();
    const CUSTOMERS: usize = 8;
    const MESSAGES: usize = 25;
    let load =
        futures::future::join_all((0..CUSTOMERS).map(|c| traffic.customer(&app, c, MESSAGES)));
    let fault = async {
        assert!(
            eventually(OUTAGE_WAIT, || async {
                traffic.acknowledged() >= CUSTOMERS * MESSAGES / 4
            })
            .await
        );
        proxy.cut();
        tokio::time::sleep(OUTAGE).await;
        proxy.restore();
    };
    tokio::join!(load, fault);
    let (acknowledged, answered) = traffic.settle(&app).await;
    let refused = traffic.refused.load(std::sync::atomic::Ordering::Relaxed);
    println!(
        "postgres outage of {OUTAGE:?}: acknowledged {acknowledged}, answered once {answered}, \
         lost {}, refused with 503 (delivered again) {refused}",
        acknowledged - answered
    );
    assert_eq!(acknowledged, CUSTOMERS * MESSAGES);
    assert!(refused > 0, "during the outage webhooks answer 503");
    let stored = app.engine.store().store.parked_inbox(10).await.unwrap();
    assert!(
        stored.is_empty(),
        "nothing parked for an outage: {stored:?}"
    );
    assert_eq!(app.engine.waiting_on_outage().messages, 0);
}

#[tokio::test]
async fn a_full_disk_refuses_what_it_cannot_store_and_serves_again_when_space_returns() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("full.db").display());
    let sqlite = Arc::new(
        actors::store::sqlite::SqliteStore::open(&url)
            .await
            .unwrap(),
    );
    let app = app::spawn_with(app::Options {
        turns: Some(Arc::new(Echo)),
        store: Some(sqlite.clone()),
        ..Default::default()
    })
    .await;
    let traffic = Traffic::default();
    const CUSTOMERS: usize = 6;
    const MESSAGES: usize = 25;
    let load =
        futures::future::join_all((0..CUSTOMERS).map(|c| traffic.customer(&app, c, MESSAGES)));
    let fault = async {
        assert!(
            eventually(OUTAGE_WAIT, || async {
                traffic.acknowledged() >= CUSTOMERS * MESSAGES / 4
            })
            .await
        );
        sqlite.simulate_full_disk(true);
        // Full until a write was refused for it, and a little longer.
        assert!(
            eventually(OUTAGE_WAIT, || async {
                traffic.refused.load(std::sync::atomic::Ordering::Relaxed) > 0
            })
            .await,
            "a full disk is answered 503"
        );
        tokio::time::sleep(OUTAGE / 2).await;
        sqlite.simulate_full_disk(false);
    };
    tokio::join!(load, fault);
    let (acknowledged, answered) = traffic.settle(&app).await;
    let refused = traffic.refused.load(std::sync::atomic::Ordering::Relaxed);
    println!(
        "sqlite full disk: acknowledged {acknowledged}, answered once {answered}, lost {}, \
         refused with 503 (delivered again) {refused}",
        acknowledged - answered
    );
    assert_eq!(acknowledged, CUSTOMERS * MESSAGES);
    // Everything acknowledged is in the database, handled: read through a connection of its
    // own, so a write left uncommitted on one of the engine's connections would not count.
    let reader = actors::store::sqlite::SqliteStore::open(&url)
        .await
        .unwrap();
    let store: &dyn actors::store::Store = &reader;
    let acknowledged = traffic.acknowledged.lock().unwrap().clone();
    for (_, tag) in acknowledged {
        let row = store.inbox_entry(Channel::Wazzup, &tag).await.unwrap();
        assert_eq!(
            row.map(|r| r.status.as_str()),
            Some("handled"),
            "acknowledged message {tag} is stored and handled"
        );
    }
    // Serving again, with no restart: a new message is acknowledged and answered.
    assert_eq!(
        app.post_wazzup(&fakes::wazzup::inbound("after", "77029999999", "after"))
            .await,
        StatusCode::OK
    );
    assert!(
        eventually(OUTAGE_WAIT, || async {
            app.wazzup.delivered_to("77029999999").len() == 1
        })
        .await
    );
}

#[tokio::test]
async fn an_engine_started_without_its_database_becomes_ready_when_it_answers() {
    let Some((store, proxy)) = postgres_behind_proxy(false).await else {
        return;
    };
    let app = app::spawn_with(app::Options {
        turns: Some(Arc::new(Echo)),
        store: Some(store),
        ..Default::default()
    })
    .await;
    let get = |path: &'static str| {
        let request = app.http.get(format!("{}{path}", app.base)).send();
        async move { request.await.unwrap().status() }
    };
    assert_eq!(get("/health").await, StatusCode::OK);
    assert_eq!(get("/ready").await, StatusCode::SERVICE_UNAVAILABLE);
    let hello = fakes::wazzup::inbound("early", "77028888888", "early");
    assert_eq!(
        app.post_wazzup(&hello).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "not acknowledged while the database is away"
    );
    proxy.restore();
    assert!(
        eventually(OUTAGE_WAIT, || async {
            get("/ready").await == StatusCode::OK
        })
        .await,
        "ready once the database answers"
    );
    // Wazzup delivers it again: now acknowledged and answered, once.
    assert_eq!(app.post_wazzup(&hello).await, StatusCode::OK);
    assert!(
        eventually(OUTAGE_WAIT, || async {
            app.wazzup.delivered_to("77028888888").len() == 1
        })
        .await
    );
    // And a later outage is answered 503 too, then served again.
    proxy.cut();
    let later = fakes::wazzup::inbound("later", "77028888888", "later");
    assert!(
        eventually(OUTAGE_WAIT, || async {
            app.post_wazzup(&later).await == StatusCode::SERVICE_UNAVAILABLE
        })
        .await
    );
    assert_eq!(get("/ready").await, StatusCode::SERVICE_UNAVAILABLE);
    proxy.restore();
    assert!(
        eventually(OUTAGE_WAIT, || async {
            app.post_wazzup(&later).await == StatusCode::OK
        })
        .await
    );
    assert!(
        eventually(OUTAGE_WAIT, || async {
            app.wazzup.delivered_to("77028888888").len() == 2
        })
        .await
    );
}

/// [`Echo`], except that the first turn waits, once it has begun, until the test opens the
/// gate: a message in hand when the database goes away.
#[derive(Default)]
struct Gate {
    entered: tokio::sync::Notify,
    open: tokio::sync::Notify,
    passed: std::sync::atomic::AtomicBool,
}

#[async_trait]
impl TurnHandler for Gate {
    async fn handle_turn(
        &self,
        conversation: &ConversationRecord,
        state: &mut dialogs::DialogState,
        messages: &[InboxMessage],
    ) -> Result<dialogs::TurnOutcome, TurnError> {
        if !self.passed.swap(true, std::sync::atomic::Ordering::SeqCst) {
            self.entered.notify_one();
            self.open.notified().await;
        }
        Echo.handle_turn(conversation, state, messages).await
    }
}

#[tokio::test]
async fn a_turn_waiting_on_an_outage_is_shown_and_answered_when_the_database_returns() {
    let Some((store, proxy)) = postgres_behind_proxy(true).await else {
        return;
    };
    let gate = Arc::new(Gate::default());
    let app = app::spawn_with(app::Options {
        turns: Some(gate.clone()),
        store: Some(store),
        env: vec![("ADMIN_TOKEN", ADMIN_TOKEN.to_owned())],
        ..Default::default()
    })
    .await;
    let phone = "77027777777";
    assert_eq!(
        app.post_wazzup(&fakes::wazzup::inbound("w-1", phone, "w-1"))
            .await,
        StatusCode::OK
    );
    gate.entered.notified().await;
    // The database goes away while the turn is in hand; then the turn tries to commit.
    proxy.cut();
    gate.open.notify_one();
    assert!(
        eventually(OUTAGE_WAIT, || async {
            app.engine.waiting_on_outage().messages == 1
        })
        .await,
        "the turn waits on the outage"
    );
    let admin = |path: &str| {
        app.http
            .get(format!("{}{path}", app.base))
            .bearer_auth(ADMIN_TOKEN)
            .send()
    };
    let status: serde_json::Value = admin("/admin/status").await.unwrap().json().await.unwrap();
    assert_eq!(status["outage"]["messages_waiting"], 1, "{status}");
    assert_eq!(status["outage"]["database_available"], false, "{status}");
    assert!(status["outage"]["oldest_waiting_secs"].is_u64(), "{status}");
    let metrics = admin("/metrics").await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains("crystalbay_messages_waiting_on_outage 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("crystalbay_database_available 0"),
        "{metrics}"
    );
    let ready = app.http.get(format!("{}/ready", app.base)).send().await;
    assert_eq!(ready.unwrap().status(), StatusCode::SERVICE_UNAVAILABLE);

    proxy.restore();
    assert!(
        eventually(OUTAGE_WAIT, || async {
            app.wazzup.delivered_to(phone).len() == 1
        })
        .await,
        "answered once the database is back"
    );
    assert_eq!(app.wazzup.delivered_to(phone)[0].text, "re: w-1");
    assert_eq!(app.engine.waiting_on_outage().messages, 0);
    let row = app
        .engine
        .store()
        .store
        .inbox_entry(Channel::Wazzup, "w-1")
        .await;
    assert_eq!(row.unwrap().unwrap().status.as_str(), "handled");
}

#[tokio::test]
async fn a_turn_in_hand_when_the_database_turns_read_only_waits_and_is_answered() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("ro.db").display());
    let sqlite = Arc::new(
        actors::store::sqlite::SqliteStore::open(&url)
            .await
            .unwrap(),
    );
    let gate = Arc::new(Gate::default());
    let app = app::spawn_with(app::Options {
        turns: Some(gate.clone()),
        store: Some(sqlite.clone()),
        ..Default::default()
    })
    .await;
    let phone = "77026666666";
    assert_eq!(
        app.post_wazzup(&fakes::wazzup::inbound("ro-1", phone, "ro-1"))
            .await,
        StatusCode::OK
    );
    gate.entered.notified().await;
    // The database refuses writes while the turn is in hand.
    sqlite.simulate_read_only(true);
    gate.open.notify_one();
    assert!(
        eventually(OUTAGE_WAIT, || async {
            app.engine.waiting_on_outage().messages == 1
        })
        .await,
        "the turn waits, it is not parked"
    );
    let refused = fakes::wazzup::inbound("ro-2", phone, "ro-2");
    assert_eq!(
        app.post_wazzup(&refused).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "nothing acknowledged while nothing can be stored"
    );
    sqlite.simulate_read_only(false);
    // Wazzup delivers the refused message again; both are answered, once, in order.
    assert!(
        eventually(OUTAGE_WAIT, || async {
            app.post_wazzup(&refused).await == StatusCode::OK
        })
        .await
    );
    assert!(
        eventually(OUTAGE_WAIT, || async {
            app.wazzup.delivered_to(phone).len() == 2
        })
        .await
    );
    let replies: Vec<String> = app
        .wazzup
        .delivered_to(phone)
        .into_iter()
        .map(|d| d.text)
        .collect();
    assert_eq!(replies, ["re: ro-1", "re: ro-2"]);
    assert!(
        app.engine
            .store()
            .store
            .parked_inbox(10)
            .await
            .unwrap()
            .is_empty()
    );
}
