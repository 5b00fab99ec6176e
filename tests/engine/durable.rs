//! The durable message path through the whole engine: acknowledged means stored, a redelivery
//! is answered once, and a conversation that fails does not take the others with it.

use crate::support::stand_ins::Recorder;
use crate::support::{app, eventually, fake_wazzup};
use actors::store::{ConversationRecord, InboxMessage};
use actors::tours::NotConfigured;
use actors::turns::{DialogTurns, TurnHandler};
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
        .post_wazzup(&fake_wazzup::inbound("wz-1", "77011234567", "Здравствуйте"))
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
    let body = fake_wazzup::inbound("wz-dup", "77012223344", "Хотим в Нячанг");
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
    app.post_wazzup(&fake_wazzup::inbound("wz-next", "77012223344", "в марте"))
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
    let body = fake_wazzup::inbound("wz-x", "77015556677", "hi");
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

/// The real dialog, except that a message saying "💥" makes the handler panic.
struct Exploding(DialogTurns);

#[async_trait]
impl TurnHandler for Exploding {
    async fn handle_turn(
        &self,
        conversation: &mut ConversationRecord,
        messages: &[InboxMessage],
    ) -> anyhow::Result<dialogs::TurnOutcome> {
        if messages.iter().any(|m| m.inbound.text == "💥") {
            panic!("boom: forced failure for a test");
        }
        self.0.handle_turn(conversation, messages).await
    }
}

#[tokio::test]
async fn a_panicking_conversation_leaves_the_others_answering() {
    let turns = Arc::new(Exploding(DialogTurns::new(Arc::new(NotConfigured))));
    let app = app::spawn(Some(turns)).await;
    let (victim, bystander) = ("77019990001", "77019990002");
    app.post_wazzup(&fake_wazzup::inbound("p-1", victim, "Здравствуйте"))
        .await;
    assert!(
        eventually(WAIT, || async {
            app.wazzup.delivered_to(victim).len() == 1
        })
        .await
    );
    app.post_wazzup(&fake_wazzup::inbound("p-2", victim, "💥"))
        .await;
    app.post_wazzup(&fake_wazzup::inbound("p-3", victim, "а в марте?"))
        .await;
    app.post_wazzup(&fake_wazzup::inbound("b-1", bystander, "Здравствуйте"))
        .await;

    assert!(
        eventually(WAIT, || async {
            app.wazzup.delivered_to(bystander).len() == 1
        })
        .await
    );
    // The message after the panic is still answered, in order, by the restarted conversation.
    assert!(
        eventually(WAIT, || async {
            app.wazzup.delivered_to(victim).len() == 2
        })
        .await
    );
    assert!(app.wazzup.delivered_to(victim)[1].text.contains("марта"));
    // The poisonous message was retried once, then parked with its error.
    let store = &app.engine.store().store;
    let parked = store
        .inbox_entry(Channel::Wazzup, "p-2")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(parked.status, "failed");
    assert!(parked.error.unwrap().contains("boom"));
    assert!(store.pending_inbox().await.unwrap().is_empty());
}

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
        kind: "text".into(),
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
