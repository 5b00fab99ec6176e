//! Bitrix24 through the durable CRM outbox: whole conversations through the real engine
//! (WhatsApp in through the Wazzup webhook, a stand-in for the Tours actor), the real Crm actor
//! and client, and a fake portal that speaks the protocol — and misbehaves on demand. Every
//! lead lands once: one contact per person, one deal per conversation, whatever the portal does.
//! The pipeline is found by its stages; limit answers are waited out at the bucket's pace; a
//! set-up problem holds deals (not contacts), says so, and clears itself once the portal is
//! right.

use crate::support::app::{self, Options, TelegramMode, TestApp};
use crate::support::eventually;
use crate::support::stand_ins::{Chat, StandInTours};
use actors::store::{CrmOutboxRecord, CrmStatus, NewInbound, WriteOp, WriteOutcome};
use channels::InboundKind;
use dialogs::{Channel, ChatKey};
use fakes::bitrix::{FakeBitrix, Seed};
use fakes::telegram::FakeTelegram;
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(40);
const ADMIN: &str = "crm-admin-token-0123456789";
const MANAGERS: i64 = -1009876543210;

/// The engine with Bitrix24 configured on `bitrix` (pipeline "Туры", quick retries).
async fn spawn(bitrix: &FakeBitrix, extra: Vec<(&'static str, String)>) -> TestApp {
    let mut env = vec![("BITRIX_DEAL_CATEGORY", fakes::bitrix::TOURS.to_owned())];
    env.extend(extra);
    spawn_unnamed(bitrix, env).await
}

/// The engine with Bitrix24 on `bitrix`, no pipeline named (found by its stages), quick
/// retries, an admin token.
async fn spawn_unnamed(bitrix: &FakeBitrix, extra: Vec<(&'static str, String)>) -> TestApp {
    spawn_full(bitrix, extra, None).await
}

/// The same, with the managers' Telegram chat on `telegram` when given.
async fn spawn_full(
    bitrix: &FakeBitrix,
    extra: Vec<(&'static str, String)>,
    telegram: Option<Arc<FakeTelegram>>,
) -> TestApp {
    let mut env = vec![
        ("BITRIX_WEBHOOK_URL", bitrix.webhook_url()),
        ("BITRIX_RETRY_BASE_MS", "50".to_owned()),
        ("ADMIN_TOKEN", ADMIN.to_owned()),
    ];
    if telegram.is_some() {
        env.push(("TELEGRAM_MANAGERS_CHAT_ID", MANAGERS.to_string()));
    }
    env.extend(extra);
    app::spawn_with(Options {
        tours: Some(StandInTours::offers(4)),
        env,
        telegram: telegram.map(|t| (TelegramMode::Webhook, t)),
        ..Options::default()
    })
    .await
}

/// `GET /admin/status`'s `bitrix24` entry.
async fn bitrix_status(app: &TestApp) -> Value {
    let status: Value = app
        .http
        .get(format!("{}/admin/status", app.base))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    status["integrations"]["bitrix24"].clone()
}

/// Every CRM command of the app's database, by status.
async fn commands(app: &TestApp, status: &str) -> Vec<CrmOutboxRecord> {
    app.engine
        .store()
        .store
        .crm_commands(Some(CrmStatus::parse(status).expect("a CRM status")), 1000)
        .await
        .unwrap()
}

/// Waits until every CRM command is done; panics with what is left otherwise.
async fn all_synced(app: &TestApp) {
    let done = eventually(WAIT, || async {
        commands(app, "pending").await.is_empty() && commands(app, "failed").await.is_empty()
    })
    .await;
    if !done {
        let left: Vec<_> = [
            commands(app, "pending").await,
            commands(app, "failed").await,
        ]
        .concat()
        .into_iter()
        .map(|c| (c.command, c.status, c.attempts, c.last_error))
        .collect();
        panic!("CRM commands not synced: {left:#?}");
    }
    assert!(
        !commands(app, "done").await.is_empty(),
        "nothing was synced"
    );
}

fn id(entity: &Map<String, Value>) -> i64 {
    entity["ID"].as_i64().unwrap()
}

fn values(entity: &Map<String, Value>, field: &str) -> Vec<String> {
    entity
        .get(field)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|i| i["VALUE"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// One contact, one deal linked to it, one booking to-do and one note each: what a search
/// ending in a booking must leave in the portal, however many tries it took.
fn assert_booked_once(bitrix: &FakeBitrix, phone: &str) {
    let contacts = bitrix.contacts();
    assert_eq!(contacts.len(), 1, "one contact: {contacts:#?}");
    assert_eq!(values(&contacts[0], "PHONE"), [phone], "the phone once");
    let deals = bitrix.deals();
    assert_eq!(deals.len(), 1, "one deal: {deals:#?}");
    assert_eq!(deals[0]["CONTACT_IDS"], json!([id(&contacts[0])]));
    let activities = bitrix.activities();
    assert_eq!(activities.len(), 1, "one to-do: {activities:#?}");
    assert_eq!(activities[0]["OWNER_ID"], json!(id(&deals[0]).to_string()));
    let comments = bitrix.comments();
    assert_eq!(comments.len(), 1, "one note: {comments:#?}");
}

async fn search_and_book(chat: &mut Chat<'_>) {
    let offers = chat
        .say("Хотим в Нячанг из Алматы в начале марта, 2 взрослых, 10 ночей")
        .await;
    assert!(offers.contains("Nha Trang Hotel 2"), "{offers}");
    let booked = chat.say("бронируем второй").await;
    assert!(booked.contains("Nha Trang Hotel 2"), "{booked}");
}

#[tokio::test]
async fn a_search_conversation_makes_one_contact_and_one_deal_moving_forward() {
    let bitrix = fakes::bitrix::start().await;
    let app = spawn(&bitrix, vec![]).await;
    let mut chat = Chat::new(&app, "77010000101");
    chat.say("Здравствуйте").await;
    chat.say("Хотим в Нячанг из Алматы").await;
    let offers = chat.say("в начале марта, на 10 ночей, двое взрослых").await;
    assert!(offers.contains("Nha Trang Hotel 1"), "{offers}");
    all_synced(&app).await;

    let contacts = bitrix.contacts();
    assert_eq!(contacts.len(), 1, "{contacts:#?}");
    assert_eq!(values(&contacts[0], "PHONE"), ["+77010000101"]);
    assert_eq!(contacts[0]["PHONE"][0]["VALUE_TYPE"], "WORK");
    assert_eq!(contacts[0]["NAME"], "Айгуль");
    let deals = bitrix.deals();
    assert_eq!(deals.len(), 1, "{deals:#?}");
    let deal = &deals[0];
    assert_eq!(deal["CATEGORY_ID"], json!(1), "the tours pipeline, by name");
    assert_eq!(deal["CONTACT_IDS"], json!([id(&contacts[0])]));
    assert_eq!(deal["ORIGIN_ID"], json!(chat.conversation_id().await));
    assert_eq!(
        bitrix.stage_history(id(deal)),
        [
            bitrix.stage_id("Новый запрос"),
            bitrix.stage_id("Подбор тура"),
            bitrix.stage_id("Коммерческое предложение"),
        ],
        "the bot moves the deal forward, stage by stage"
    );
    let comments = deal["COMMENTS"].as_str().unwrap();
    for part in [
        "Вылет из: Almaty",
        "Nha Trang",
        "Ночей: 10",
        "Взрослых: 2",
        ".03.",
    ] {
        assert!(comments.contains(part), "{part} in {comments}");
    }
    // The ids are kept with the lead.
    let lead = app
        .engine
        .store()
        .store
        .lead(&chat.conversation_id().await)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(lead.crm_contact_id, Some(id(&contacts[0])));
    assert_eq!(lead.crm_deal_id, Some(id(deal)));
    assert_eq!(
        bitrix.answered("crm.category.list"),
        1,
        "the pipeline is read once"
    );
}

#[tokio::test]
async fn a_booking_makes_a_todo_and_an_escalation_note_on_the_deal() {
    let bitrix = fakes::bitrix::start().await;
    let app = spawn(&bitrix, vec![]).await;
    let mut chat = Chat::new(&app, "77010000102");
    search_and_book(&mut chat).await;
    all_synced(&app).await;

    assert_booked_once(&bitrix, "+77010000102");
    let deal = id(&bitrix.deals()[0]);
    let todo = &bitrix.activities()[0];
    assert_eq!(todo["OWNER_TYPE_ID"], "2");
    let subject = todo["SUBJECT"].as_str().unwrap();
    assert!(subject.contains("Nha Trang Hotel 2"), "{subject}");
    let description = todo["DESCRIPTION"].as_str().unwrap();
    assert!(
        description.contains("650000 KZT") && description.contains("Вылет из: Almaty"),
        "{description}"
    );
    let note = &bitrix.comments()[0];
    assert_eq!(note["ENTITY_TYPE"], "deal");
    assert_eq!(note["ENTITY_ID"], json!(deal.to_string()));
    let text = note["COMMENT"].as_str().unwrap();
    assert!(
        text.contains("забронировать") && text.contains("бронируем второй"),
        "{text}"
    );
}

#[tokio::test]
async fn the_same_phone_on_whatsapp_and_telegram_is_one_contact() {
    let bitrix = fakes::bitrix::start().await;
    let app = spawn(&bitrix, vec![]).await;
    let mut chat = Chat::new(&app, "77010000103");
    chat.say("Здравствуйте, хотим в Нячанг").await;
    all_synced(&app).await;

    // The same person on Telegram: a greeting first (no phone yet), then the shared contact.
    let telegram = |external_id: &str, kind: InboundKind, text: &str, payload: Value| NewInbound {
        key: ChatKey::new(Channel::Telegram, "5550103"),
        external_id: external_id.into(),
        kind,
        text: text.into(),
        sender_name: Some("Айгуль".into()),
        route: json!({}),
        payload,
        sent_at: chrono::Utc::now(),
    };
    app.engine
        .accept(telegram("tg-1", InboundKind::Text, "Привет!", json!({})))
        .await
        .unwrap();
    app.engine
        .accept(telegram(
            "tg-2",
            InboundKind::Contact {
                phone: Some("+77010000103".into()),
            },
            "",
            json!({"phone": "+77010000103"}),
        ))
        .await
        .unwrap();
    let store = &app.engine.store().store;
    assert!(
        eventually(WAIT, || async {
            store.pending_inbox().await.unwrap().is_empty()
        })
        .await
    );
    all_synced(&app).await;

    let contacts = bitrix.contacts();
    assert_eq!(contacts.len(), 1, "one person, one contact: {contacts:#?}");
    assert_eq!(values(&contacts[0], "PHONE"), ["+77010000103"]);
    let deals = bitrix.deals();
    assert_eq!(deals.len(), 2, "a deal per conversation");
    for deal in &deals {
        assert_eq!(deal["CONTACT_IDS"], json!([id(&contacts[0])]), "{deal:#?}");
    }
}

#[tokio::test]
async fn one_person_writing_on_two_channels_at_once_is_still_one_contact() {
    let bitrix = fakes::bitrix::start().await;
    let app = spawn(&bitrix, vec![]).await;
    let phone = "77010000113";
    let whatsapp = fakes::wazzup::inbound("wa-1", phone, "Здравствуйте");
    let (status, accepted) = tokio::join!(
        app.post_wazzup(&whatsapp),
        app.engine.accept(NewInbound {
            key: ChatKey::new(Channel::Telegram, "5550113"),
            external_id: "tg-1".into(),
            kind: channels::InboundKind::Contact {
                phone: Some(format!("+{phone}")),
            },
            text: String::new(),
            sender_name: Some("Айгуль".into()),
            route: json!({}),
            payload: json!({"phone": format!("+{phone}")}),
            sent_at: chrono::Utc::now(),
        })
    );
    assert_eq!(status, reqwest::StatusCode::OK);
    accepted.unwrap();
    let store = &app.engine.store().store;
    assert!(
        eventually(WAIT, || async {
            store.pending_inbox().await.unwrap().is_empty()
                && !commands(&app, "done").await.is_empty()
        })
        .await
    );
    all_synced(&app).await;
    let contacts = bitrix.contacts();
    assert_eq!(contacts.len(), 1, "{contacts:#?}");
    let deals = bitrix.deals();
    assert_eq!(deals.len(), 2);
    for deal in &deals {
        assert_eq!(deal["CONTACT_IDS"], json!([id(&contacts[0])]), "{deal:#?}");
    }
}

#[tokio::test]
async fn a_customer_already_in_bitrix_is_found_not_created_again() {
    let bitrix = fakes::bitrix::start().await;
    // A manager entered the customer by hand, phone written their way.
    let created: Value = reqwest::Client::new()
        .post(format!("{}crm.contact.add.json", bitrix.webhook_url()))
        .json(&json!({"fields": {"NAME": "Айгуль", "PHONE": [{"VALUE": "+7 701 000 01 04", "VALUE_TYPE": "MOBILE"}]}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let contact = created["result"].as_i64().unwrap();
    let app = spawn(&bitrix, vec![]).await;
    let mut chat = Chat::new(&app, "77010000104");
    chat.say("Хочу в Фукуок, напишите мне на aigul@mail.kz")
        .await;
    all_synced(&app).await;

    let contacts = bitrix.contacts();
    assert_eq!(contacts.len(), 1, "{contacts:#?}");
    assert_eq!(bitrix.deals()[0]["CONTACT_IDS"], json!([contact]));
    assert_eq!(
        values(&contacts[0], "PHONE"),
        ["+7 701 000 01 04"],
        "a phone it has is not added again"
    );
    assert_eq!(
        values(&contacts[0], "EMAIL"),
        ["aigul@mail.kz"],
        "the email is added"
    );
}

#[tokio::test]
async fn a_deal_a_manager_moved_on_is_not_moved_back() {
    let bitrix = fakes::bitrix::start().await;
    let app = spawn(&bitrix, vec![]).await;
    let mut chat = Chat::new(&app, "77010000105");
    chat.say("Здравствуйте").await;
    all_synced(&app).await;
    let deal = id(&bitrix.deals()[0]);
    bitrix.move_deal(deal, &bitrix.stage_id("Оплатили"));
    chat.say("Хотим в Нячанг из Алматы в начале марта, 2 взрослых, 10 ночей")
        .await;
    all_synced(&app).await;
    let history = bitrix.stage_history(deal);
    assert_eq!(
        history.last(),
        Some(&bitrix.stage_id("Оплатили")),
        "{history:?}"
    );
    assert!(
        bitrix.deals()[0]["COMMENTS"]
            .as_str()
            .unwrap()
            .contains("Nha Trang")
    );
}

#[tokio::test]
async fn bitrix_refusing_its_first_calls_for_the_query_limit_still_syncs_everything_once() {
    let bitrix = fakes::bitrix::start().await;
    bitrix.refuse_next(6);
    let app = spawn(&bitrix, vec![]).await;
    let mut chat = Chat::new(&app, "77010000106");
    search_and_book(&mut chat).await;
    all_synced(&app).await;
    assert_booked_once(&bitrix, "+77010000106");
    let refused = bitrix.calls().iter().filter(|c| c.status == 503).count();
    assert_eq!(refused, 6);
}

#[tokio::test]
async fn bitrix_down_for_a_while_then_back_syncs_everything_once() {
    let bitrix = fakes::bitrix::start().await;
    bitrix.go_down().await;
    let app = spawn(&bitrix, vec![]).await;
    let mut chat = Chat::new(&app, "77010000107");
    search_and_book(&mut chat).await;
    // Refused connections, retried.
    let tried = |needle: &'static str| {
        let app = &app;
        async move {
            eventually(WAIT, || async {
                commands(app, "pending").await.iter().any(|c| {
                    c.attempts >= 2 && c.last_error.as_deref().is_some_and(|e| e.contains(needle))
                })
            })
            .await
        }
    };
    assert!(tried("unreachable").await);
    for c in commands(&app, "pending").await {
        let error = c.last_error.unwrap_or_default();
        assert!(
            !error.contains(fakes::bitrix::CODE),
            "the webhook stays secret: {error}"
        );
    }
    // Back, but failing with 500 for a while.
    bitrix.set_failing(true);
    bitrix.come_up().await;
    assert!(tried("INTERNAL_SERVER_ERROR").await);
    bitrix.set_failing(false);
    all_synced(&app).await;
    assert_booked_once(&bitrix, "+77010000107");
}

#[tokio::test]
async fn answers_lost_after_bitrix_acted_create_nothing_twice() {
    let bitrix = fakes::bitrix::start().await;
    for method in [
        "batch",
        "crm.deal.update",
        "crm.timeline.comment.add",
        "crm.activity.todo.add",
    ] {
        bitrix.lose_answers(method, 1);
    }
    let app = spawn(&bitrix, vec![]).await;
    let mut chat = Chat::new(&app, "77010000108");
    search_and_book(&mut chat).await;
    all_synced(&app).await;
    assert_booked_once(&bitrix, "+77010000108");
    assert!(
        bitrix.answered("crm.deal.list") >= 1,
        "the deal was looked for before anything was created again"
    );
}

#[tokio::test]
async fn a_restart_in_the_middle_of_syncing_duplicates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let database = (
        "DATABASE_URL",
        format!("sqlite://{}", dir.path().join("crm.db").display()),
    );
    let bitrix = fakes::bitrix::start().await;
    bitrix.set_delay(Duration::from_millis(250));
    let first = spawn(&bitrix, vec![database.clone()]).await;
    let mut chat = Chat::new(&first, "77010000109");
    search_and_book(&mut chat).await;
    // Stopped once the portal has the deal, with the rest still to do.
    assert!(eventually(WAIT, || async { !bitrix.deals().is_empty() }).await);
    first.stop().await;

    bitrix.set_delay(Duration::ZERO);
    let second = spawn(&bitrix, vec![database]).await;
    all_synced(&second).await;
    assert_booked_once(&bitrix, "+77010000109");
}

#[tokio::test]
async fn a_permanent_error_fails_the_command_visibly_and_a_retry_completes_it() {
    let bitrix = fakes::bitrix::start().await;
    // The webhook lacks the right to create to-dos.
    bitrix.deny("crm.activity.todo.add");
    let app = spawn(&bitrix, vec![]).await;
    let mut chat = Chat::new(&app, "77010000110");
    search_and_book(&mut chat).await;
    assert!(
        eventually(WAIT, || async {
            !commands(&app, "failed").await.is_empty() && commands(&app, "pending").await.is_empty()
        })
        .await
    );
    let failed = commands(&app, "failed").await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].command, "booking_task");
    assert_eq!(failed[0].attempts, 1, "a permanent error is not retried");
    let error = failed[0].last_error.as_deref().unwrap();
    assert!(error.contains("insufficient_scope"), "{error}");
    assert!(bitrix.activities().is_empty());
    assert_eq!(bitrix.comments().len(), 1, "the rest went through");

    // Rights fixed; an admin retries it.
    bitrix.allow("crm.activity.todo.add");
    let retried = app
        .engine
        .store()
        .write(WriteOp::CrmRequeue {
            id: failed[0].id.clone(),
            at: actors::store::now(),
            pending_too: false,
        })
        .await
        .unwrap();
    assert_eq!(retried, WriteOutcome::Done);
    all_synced(&app).await;
    assert_booked_once(&bitrix, "+77010000110");
}

/// A wrong webhook or a pipeline the portal lacks is a set-up problem: the commands are held
/// (not failed: nobody has to retry them one by one), the status says what is wrong, and the
/// webhook stays secret. (Before, every command failed for good at its first attempt.)
#[tokio::test]
async fn a_wrong_webhook_or_pipeline_holds_the_commands_with_an_error_that_says_so() {
    let bitrix = fakes::bitrix::start().await;
    let wrong_code = bitrix
        .webhook_url()
        .replace(fakes::bitrix::CODE, "not-the-code");
    let app = spawn(&bitrix, vec![("BITRIX_WEBHOOK_URL", wrong_code)]).await;
    Chat::new(&app, "77010000111").say("Здравствуйте").await;
    let held = eventually(WAIT, || async {
        commands(&app, "pending")
            .await
            .iter()
            .any(|c| c.held_since.is_some())
    })
    .await;
    assert!(held, "{:#?}", commands(&app, "pending").await);
    assert!(commands(&app, "failed").await.is_empty());
    let error = commands(&app, "pending").await[0]
        .last_error
        .clone()
        .unwrap();
    assert!(error.contains("NO_AUTH_FOUND"), "{error}");
    assert!(
        !error.contains("not-the-code"),
        "the webhook stays secret: {error}"
    );
    let status = bitrix_status(&app).await;
    assert_eq!(status["ok"], false, "{status:#}");
    let problem = status["problem"]["message"].as_str().unwrap();
    assert!(
        problem.contains("NO_AUTH_FOUND") && !problem.contains("not-the-code"),
        "{problem}"
    );

    let app = spawn(&bitrix, vec![("BITRIX_DEAL_CATEGORY", "Круизы".to_owned())]).await;
    Chat::new(&app, "77010000112").say("Здравствуйте").await;
    assert!(
        eventually(WAIT, || async {
            commands(&app, "pending")
                .await
                .iter()
                .any(|c| c.held_since.is_some())
        })
        .await
    );
    let error = commands(&app, "pending").await[0]
        .last_error
        .clone()
        .unwrap();
    assert!(
        error.contains("Круизы") && error.contains("Туры"),
        "{error}"
    );
    assert!(bitrix.deals().is_empty());
    assert_eq!(
        bitrix.contacts().len(),
        1,
        "the contact does not wait for the pipeline"
    );
}

#[tokio::test]
async fn the_fake_portal_speaks_the_protocol() {
    let bitrix = fakes::bitrix::start().await;
    let http = reqwest::Client::new();
    let url = |method: &str| format!("{}{method}", bitrix.webhook_url());
    let post = |method: String, body: Value| {
        let http = http.clone();
        async move {
            let r = http.post(method).json(&body).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };

    // The webhook's code is checked; unknown methods are named.
    let wrong = url("crm.deal.list").replace(fakes::bitrix::CODE, "guess");
    let (status, body) = post(wrong, json!({})).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("NO_AUTH_FOUND"))
    );
    let (status, body) = post(url("crm.nothing.json"), json!({})).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (404, Some("ERROR_METHOD_NOT_FOUND"))
    );

    // A form with PHP brackets, an upper-case top-level name and a trailing slash; a value sent
    // twice without its id is stored twice.
    let form = "FIELDS[NAME]=%D0%90%D0%BD%D0%BD%D0%B0\
        &FIELDS[PHONE][0][VALUE]=%2B77011112233&FIELDS[PHONE][0][VALUE_TYPE]=WORK\
        &FIELDS[PHONE][1][VALUE]=%2B77011112233&FIELDS[PHONE][1][VALUE_TYPE]=MOBILE";
    let added: Value = http
        .post(url("crm.contact.add/"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let contact = added["result"].as_i64().expect("an int id");
    assert!(added["time"]["duration"].is_number());
    // GET works; every value comes back as a string, multi-fields with their ids.
    let got: Value = http
        .get(url(&format!("crm.contact.get.json?id={contact}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["result"]["ID"], json!(contact.to_string()));
    assert_eq!(got["result"]["NAME"], "Анна");
    let phones = got["result"]["PHONE"].as_array().unwrap().clone();
    assert_eq!(phones.len(), 2);
    assert_eq!(phones[0]["TYPE_ID"], "PHONE");
    let (_, updated) = post(
        url("crm.contact.update"),
        json!({"id": contact, "fields": {"PHONE": [{"ID": phones[1]["ID"], "DELETE": "Y"}]}}),
    )
    .await;
    assert_eq!(updated["result"], json!(true));
    assert_eq!(values(&bitrix.contacts()[0], "PHONE").len(), 1);
    let (status, body) = post(url("crm.contact.update"), json!({"fields": {}})).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("")));
    assert_eq!(body["error_description"], "ID is not defined or invalid.");

    // Duplicates: phones by digits, `[]` when nothing matches, at most 20 values.
    let find = |values: Value| {
        post(
            url("crm.duplicate.findbycomm"),
            json!({"type": "PHONE", "values": values}),
        )
    };
    assert_eq!(
        find(json!(["7 (701) 111-22-33"])).await.1["result"],
        json!({"CONTACT": [contact]})
    );
    assert_eq!(find(json!(["+70000000000"])).await.1["result"], json!([]));
    let many: Vec<String> = (0..21).map(|i| format!("+7701000{i:04}")).collect();
    assert_eq!(find(json!(many)).await.0, 400);

    // A deal in pipeline 1 without a stage starts at C1:NEW; a stage of another pipeline is refused.
    let (_, deal) = post(
        url("crm.deal.add"),
        json!({"fields": {"TITLE": "Тур", "CATEGORY_ID": 1}}),
    )
    .await;
    let deal = deal["result"].as_i64().unwrap();
    let (_, got) = post(url("crm.deal.get"), json!({"id": deal})).await;
    assert_eq!(
        (
            got["result"]["STAGE_ID"].as_str(),
            got["result"]["CATEGORY_ID"].as_str()
        ),
        (Some("C1:NEW"), Some("1"))
    );
    let (status, _) = post(
        url("crm.deal.add"),
        json!({"fields": {"CATEGORY_ID": 1, "STAGE_ID": "WON"}}),
    )
    .await;
    assert_eq!(status, 400);

    // Timeline comments take only lowercase `fields`, and check their owner.
    let comment = |key: &str, owner: i64| {
        let mut body = Map::new();
        body.insert(
            key.into(),
            json!({"ENTITY_ID": owner, "ENTITY_TYPE": "deal", "COMMENT": "x"}),
        );
        post(url("crm.timeline.comment.add"), Value::Object(body))
    };
    assert_eq!(comment("FIELDS", deal).await.0, 400);
    assert_eq!(
        comment("fields", 999_999).await.1["error"],
        "OWNER_NOT_FOUND"
    );
    assert!(comment("fields", deal).await.1["result"].is_i64());

    // batch: references, halt, result maps, HTTP 200 whatever the commands did.
    let (status, batch) = post(
        url("batch"),
        json!({"halt": 1, "cmd": {
            "a": "crm.contact.add?fields[NAME]=B",
            "b": "crm.deal.add?fields[TITLE]=x&fields[CATEGORY_ID]=1&fields[CONTACT_IDS][0]=$result[a]",
            "c": "crm.deal.get?id=0",
            "d": "crm.contact.add?fields[NAME]=never",
        }}),
    )
    .await;
    assert_eq!(status, 200);
    let results = &batch["result"]["result"];
    let linked = bitrix
        .deals()
        .into_iter()
        .find(|d| d["TITLE"] == "x")
        .unwrap();
    assert_eq!(linked["CONTACT_IDS"], json!([results["a"]]));
    assert!(batch["result"]["result_error"]["c"]["error_description"].is_string());
    assert!(results.get("d").is_none(), "halted at the first error");
    assert_eq!(batch["result"]["result_next"], json!([]));

    // The leaky bucket refuses without executing.
    bitrix.set_bucket(1.0, 0.001);
    let before = bitrix.contacts().len();
    let _ = post(url("crm.contact.add"), json!({"fields": {"NAME": "C"}})).await;
    let (status, body) = post(url("crm.contact.add"), json!({"fields": {"NAME": "C"}})).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (503, Some("QUERY_LIMIT_EXCEEDED"))
    );
    assert!(bitrix.contacts().len() <= before + 1);
    assert!(
        bitrix
            .calls()
            .iter()
            .any(|c| c.method == "crm.contact.add" && c.params["FIELDS"]["NAME"] == "Анна"),
        "every call is recorded with its parameters"
    );
}

/// A portal laid out as real ones are: Bitrix24's own stages in the default pipeline, another
/// pipeline sharing a few names, and the agency's nine stages in "Туры Вьетнам" (id 9).
fn real_portal() -> Seed {
    Seed {
        tours_id: 9,
        tours_name: "Туры Вьетнам",
        others: vec![(
            3,
            "Корпоративные",
            vec!["Новый запрос", "Консультация", "Договор", "Завершено"],
        )],
    }
}

#[tokio::test]
async fn without_a_pipeline_named_the_one_holding_the_stages_gets_the_deal() {
    let bitrix = fakes::bitrix::start_with(real_portal()).await;
    let app = spawn_unnamed(&bitrix, vec![]).await;
    let mut chat = Chat::new(&app, "77010000121");
    let offers = chat
        .say("Хотим в Нячанг из Алматы в начале марта, 2 взрослых, 10 ночей")
        .await;
    assert!(offers.contains("Nha Trang Hotel 1"), "{offers}");
    all_synced(&app).await;

    let contacts = bitrix.contacts();
    assert_eq!(contacts.len(), 1, "{contacts:#?}");
    let deals = bitrix.deals();
    assert_eq!(deals.len(), 1, "{deals:#?}");
    assert_eq!(
        deals[0]["CATEGORY_ID"],
        json!(bitrix.tours_id()),
        "the travel pipeline"
    );
    assert_eq!(
        deals[0]["STAGE_ID"],
        json!(bitrix.stage_id("Коммерческое предложение")),
        "offers shown: the right stage of that pipeline"
    );
    assert_eq!(deals[0]["CONTACT_IDS"], json!([id(&contacts[0])]));
    let status = bitrix_status(&app).await;
    assert_eq!(status["ok"], true, "{status:#}");
    assert_eq!(
        status["check"]["pipeline"],
        json!({"id": 9, "name": "Туры Вьетнам"})
    );
}

#[tokio::test]
async fn an_older_portal_lists_its_pipelines_with_the_legacy_method() {
    let bitrix = fakes::bitrix::start_with(real_portal()).await;
    bitrix.set_legacy_categories(true);
    let app = spawn_unnamed(&bitrix, vec![]).await;
    Chat::new(&app, "77010000122").say("Здравствуйте").await;
    all_synced(&app).await;
    assert_eq!(bitrix.deals()[0]["CATEGORY_ID"], json!(9));
    assert!(bitrix.answered("crm.dealcategory.list") >= 1);
}

/// Six `QUERY_LIMIT_EXCEEDED` in a row are waited out at the bucket's pace (about a second
/// each) inside the client: no command spends an attempt on them or backs off for minutes.
#[tokio::test]
async fn six_limit_answers_in_a_row_are_bucket_waits_not_attempts() {
    let bitrix = fakes::bitrix::start().await;
    let app = spawn(&bitrix, vec![]).await;
    // The start-up check done, the next six calls — the sync's first — are refused.
    assert!(
        eventually(WAIT, || async {
            !bitrix_status(&app).await["check"].is_null()
        })
        .await
    );
    bitrix.refuse_next(6);
    let started = std::time::Instant::now();
    let mut chat = Chat::new(&app, "77010000123");
    chat.say("Здравствуйте, хотим в Нячанг").await;
    all_synced(&app).await;
    let took = started.elapsed();

    assert_eq!(bitrix.contacts().len(), 1);
    assert_eq!(bitrix.deals().len(), 1);
    let refused = bitrix.calls().iter().filter(|c| c.status == 503).count();
    assert_eq!(refused, 6);
    for c in commands(&app, "done").await {
        assert_eq!(c.attempts, 1, "a limit answer is not an attempt: {c:#?}");
    }
    let calls = &bitrix_status(&app).await["calls"];
    assert_eq!(calls["limit_answers"], 6, "{calls}");
    // Each wait is a second ± 25 %: six of them, nothing like 1 + 2 + 4 + … + 32 s.
    let waited = calls["limit_wait_ms"].as_u64().unwrap();
    assert!((6 * 750..=6 * 1250).contains(&waited), "{waited} ms");
    eprintln!(
        "six limit answers in a row: the sync took {:.1} s, {:.1} s of it bucket waits",
        took.as_secs_f64(),
        waited as f64 / 1000.0
    );
}

#[tokio::test]
async fn the_status_counts_every_call_the_portal_received() {
    let bitrix = fakes::bitrix::start().await;
    let app = spawn(&bitrix, vec![]).await;
    let mut chat = Chat::new(&app, "77010000124");
    search_and_book(&mut chat).await;
    all_synced(&app).await;
    // `batch:` entries are the commands inside one request.
    let received = bitrix
        .calls()
        .iter()
        .filter(|c| !c.method.starts_with("batch:"))
        .count() as u64;
    assert!(received > 6, "{received}");
    let status = bitrix_status(&app).await;
    let counted = status["successes"].as_u64().unwrap() + status["failures"].as_u64().unwrap();
    assert_eq!(counted, received, "{status:#}");
    assert_eq!(status["calls"]["requests"], received);
}

/// The managers' chat lines about Bitrix24 (not escalations).
fn setup_alerts(telegram: &FakeTelegram) -> Vec<String> {
    telegram
        .sent_to(MANAGERS)
        .into_iter()
        .map(|s| s.text)
        .filter(|t| t.contains("Битрикс24"))
        .collect()
}

#[tokio::test]
async fn a_missing_stage_holds_deals_not_contacts_says_so_and_clears_itself() {
    let bitrix = fakes::bitrix::start_with(real_portal()).await;
    bitrix.remove_stage("Подбор тура");
    let telegram = fakes::telegram::start().await;
    let app = spawn_full(
        &bitrix,
        vec![("BITRIX_SETUP_RECHECK_SECS", "0.3".to_owned())],
        Some(telegram.clone()),
    )
    .await;
    let mut first = Chat::new(&app, "77010000125");
    first.say("Здравствуйте").await;
    first
        .say("Хотим в Нячанг из Алматы в начале марта, 2 взрослых, 10 ночей")
        .await;
    let mut second = Chat::new(&app, "77010000126");
    second.say("Добрый день, хотим на Фукуок").await;

    // Contacts sync; deals are held (each conversation's first command is; its later ones wait
    // behind it, in order).
    assert!(eventually(WAIT, || async { bitrix.contacts().len() == 2 }).await);
    assert!(
        eventually(WAIT, || async {
            let pending = commands(&app, "pending").await;
            pending.iter().filter(|c| c.held_since.is_some()).count() == 2
        })
        .await,
        "{:#?}",
        commands(&app, "pending").await
    );
    assert!(bitrix.deals().is_empty());
    assert!(commands(&app, "failed").await.is_empty());

    // The status and doctor say which stage is missing.
    let status = bitrix_status(&app).await;
    assert_eq!(status["ok"], false);
    let problem = status["problem"]["message"].as_str().unwrap();
    assert!(problem.contains("«Подбор тура»"), "{problem}");
    let stage = status["check"]["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "Подбор тура")
        .cloned()
        .unwrap();
    assert!(stage["status_id"].is_null(), "{stage}");
    let config = crystalbay::config::Config::from_values(
        Default::default(),
        [("BITRIX_WEBHOOK_URL".to_owned(), bitrix.webhook_url())],
    )
    .unwrap();
    let mut out = Vec::new();
    let healthy =
        crystalbay::commands::doctor::run(&config, chrono::Utc::now().date_naive(), &mut out).await;
    let out = String::from_utf8(out).unwrap();
    assert!(!healthy, "{out}");
    assert!(
        out.contains("FAIL  stage «Подбор тура» (bot) is missing"),
        "{out}"
    );

    // Announced once, however many commands were held and re-reads made.
    assert!(eventually(WAIT, || async { !setup_alerts(&telegram).is_empty() }).await);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let alerts = setup_alerts(&telegram);
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    assert!(alerts[0].contains("«Подбор тура»"), "{}", alerts[0]);

    // The stage is added in the portal: the held deals go out with no one doing anything.
    bitrix.add_stage("Подбор тура");
    all_synced(&app).await;
    let deals = bitrix.deals();
    assert_eq!(deals.len(), 2, "{deals:#?}");
    let contacts = bitrix.contacts();
    assert_eq!(contacts.len(), 2, "no contact created twice");
    for deal in &deals {
        assert_eq!(deal["CATEGORY_ID"], json!(9));
        let contact = deal["CONTACT_IDS"][0].as_i64().unwrap();
        assert!(contacts.iter().any(|c| id(c) == contact), "{deal:#?}");
    }
    let first_id = first.conversation_id().await;
    let shown = deals
        .iter()
        .find(|d| d["ORIGIN_ID"] == json!(first_id))
        .unwrap();
    assert_eq!(
        shown["STAGE_ID"],
        json!(bitrix.stage_id("Коммерческое предложение"))
    );
    assert!(eventually(WAIT, || async { bitrix_status(&app).await["ok"] == true }).await);
    assert!(eventually(WAIT, || async { setup_alerts(&telegram).len() == 2 }).await);
    assert!(setup_alerts(&telegram)[1].contains("исправлена"));
}

#[tokio::test]
async fn an_admin_call_rereads_the_portal_at_once() {
    let bitrix = fakes::bitrix::start().await;
    bitrix.remove_stage("Консультация");
    // Re-read on its own only once an hour: the admin call is what releases the deal.
    let app = spawn(
        &bitrix,
        vec![("BITRIX_SETUP_RECHECK_SECS", "3600".to_owned())],
    )
    .await;
    Chat::new(&app, "77010000127").say("Здравствуйте").await;
    assert!(
        eventually(WAIT, || async {
            commands(&app, "pending")
                .await
                .iter()
                .any(|c| c.held_since.is_some())
        })
        .await
    );
    bitrix.add_stage("Консультация");
    let answer = app
        .http
        .post(format!("{}/admin/crm/recheck", app.base))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), reqwest::StatusCode::OK);
    all_synced(&app).await;
    assert_eq!(bitrix.deals().len(), 1);
}

#[tokio::test]
async fn leads_mode_keeps_one_lead_with_the_same_contents() {
    let bitrix = fakes::bitrix::start().await;
    // An answer lost after the lead was made: it is looked for, not made again.
    bitrix.lose_answers("crm.lead.add", 1);
    let app = spawn(&bitrix, vec![("BITRIX_USE_LEADS", "true".to_owned())]).await;
    let mut chat = Chat::new(&app, "77010000128");
    search_and_book(&mut chat).await;
    all_synced(&app).await;

    assert!(bitrix.contacts().is_empty() && bitrix.deals().is_empty());
    let leads = bitrix.leads();
    assert_eq!(leads.len(), 1, "{leads:#?}");
    let lead = &leads[0];
    assert_eq!(values(lead, "PHONE"), ["+77010000128"], "the phone once");
    assert_eq!(lead["NAME"], "Айгуль");
    assert_eq!(lead["ORIGIN_ID"], json!(chat.conversation_id().await));
    let comments = lead["COMMENTS"].as_str().unwrap();
    assert!(
        comments.contains("Вылет из: Almaty") && comments.contains("Взрослых: 2"),
        "{comments}"
    );
    let todo = &bitrix.activities()[0];
    assert_eq!(todo["OWNER_TYPE_ID"], "1", "the to-do is on the lead");
    assert_eq!(todo["OWNER_ID"], json!(id(lead).to_string()));
    let note = &bitrix.comments()[0];
    assert_eq!(note["ENTITY_TYPE"], "lead");
    let stored = app
        .engine
        .store()
        .store
        .lead(&chat.conversation_id().await)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.crm_lead_id, Some(id(lead)));
    assert_eq!(
        bitrix.answered("crm.category.list"),
        0,
        "no pipeline needed"
    );
}

#[tokio::test]
async fn an_operating_time_limit_waits_until_the_method_is_open_again() {
    let bitrix = fakes::bitrix::start().await;
    let app = spawn(&bitrix, vec![]).await;
    assert!(
        eventually(WAIT, || async {
            !bitrix_status(&app).await["check"].is_null()
        })
        .await
    );
    bitrix.time_limit_next(1);
    Chat::new(&app, "77010000129").say("Здравствуйте").await;
    all_synced(&app).await;
    assert_eq!(bitrix.deals().len(), 1);
    assert_eq!(bitrix.calls().iter().filter(|c| c.status == 429).count(), 1);
    for c in commands(&app, "done").await {
        assert_eq!(c.attempts, 1, "a limit answer is not an attempt: {c:#?}");
    }
    let calls = &bitrix_status(&app).await["calls"];
    assert_eq!(calls["limit_answers"], 1, "{calls}");
}

#[tokio::test]
async fn doctor_checks_the_webhook_its_scope_the_pipeline_and_each_stage() {
    let bitrix = fakes::bitrix::start_with(real_portal()).await;
    let doctor = || async {
        let config = crystalbay::config::Config::from_values(
            Default::default(),
            [("BITRIX_WEBHOOK_URL".to_owned(), bitrix.webhook_url())],
        )
        .unwrap();
        let mut out = Vec::new();
        let healthy =
            crystalbay::commands::doctor::run(&config, chrono::Utc::now().date_naive(), &mut out)
                .await;
        (healthy, String::from_utf8(out).unwrap())
    };
    let (healthy, out) = doctor().await;
    assert!(healthy, "{out}");
    for line in [
        "ok    the webhook works (acts as Айдана Менеджер (id 7))",
        "ok    the webhook has the `crm` scope",
        "ok    deal pipeline «Туры Вьетнам» (id 9) holds the stages",
        "ok    stage «Новый запрос» (bot): C9:NEW",
        "ok    stage «Завершено» (managers): C9:WON",
    ] {
        assert!(out.contains(line), "{line} in\n{out}");
    }
    assert!(
        !out.contains(fakes::bitrix::CODE),
        "the webhook stays secret"
    );

    bitrix.set_scopes(&["user_brief", "task"]);
    let (healthy, out) = doctor().await;
    assert!(!healthy, "{out}");
    assert!(
        out.contains("FAIL  the webhook lacks the `crm` scope (it has: user_brief, task)"),
        "{out}"
    );
}

/// The real binary, so that a real SIGHUP reaches it.
struct Process(std::process::Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn a_sighup_rereads_the_portal_at_once() {
    let bitrix = fakes::bitrix::start().await;
    bitrix.remove_stage("Консультация");
    let (wazzup_url, _wazzup) = fakes::wazzup::start().await;
    let dir = tempfile::tempdir().unwrap();
    let port = crate::support::free_port();
    let secret = "sighup-secret-0123";
    let child =
        crate::support::engine_command(&dir.path().join("hup.db"), port, &wazzup_url, secret)
            .env("BITRIX_WEBHOOK_URL", bitrix.webhook_url())
            // Re-read on its own only once an hour: the signal is what releases the deal.
            .env("BITRIX_SETUP_RECHECK_SECS", "3600")
            .env("ADMIN_TOKEN", ADMIN)
            .env("RUST_LOG", "warn")
            .spawn()
            .expect("start the crystalbay binary");
    let process = Process(child);
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let up = eventually(WAIT, || async {
        http.get(format!("{base}/health"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
    })
    .await;
    assert!(up, "engine did not come up");
    let posted = http
        .post(format!("{base}/webhooks/wazzup/{secret}"))
        .json(&fakes::wazzup::inbound(
            "hup-1",
            "77010000130",
            "Здравствуйте",
        ))
        .send()
        .await
        .unwrap();
    assert!(posted.status().is_success());
    let bitrix_ok = || async {
        let status: Value = http
            .get(format!("{base}/admin/status"))
            .bearer_auth(ADMIN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        status["integrations"]["bitrix24"]["ok"].as_bool()
    };
    // The contact goes out; the deal is held.
    assert!(eventually(WAIT, || async { bitrix.contacts().len() == 1 }).await);
    assert!(eventually(WAIT, || async { bitrix_ok().await == Some(false) }).await);
    assert!(bitrix.deals().is_empty());

    bitrix.add_stage("Консультация");
    let hup = std::process::Command::new("kill")
        .arg("-HUP")
        .arg(process.0.id().to_string())
        .status()
        .unwrap();
    assert!(hup.success());
    assert!(
        eventually(WAIT, || async { bitrix.deals().len() == 1 }).await,
        "the deal went out after SIGHUP"
    );
    assert_eq!(bitrix_ok().await, Some(true));
}
