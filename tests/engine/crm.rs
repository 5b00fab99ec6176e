//! Bitrix24 through the durable CRM outbox: whole conversations through the real engine
//! (WhatsApp in through the Wazzup webhook, a stand-in for the Tours actor), the real Crm actor
//! and client, and a fake portal that speaks the protocol — and misbehaves on demand. Every
//! lead lands once: one contact per person, one deal per conversation, whatever the portal does.

use crate::support::app::{self, Options, TestApp};
use crate::support::fake_bitrix::{self, FakeBitrix};
use crate::support::stand_ins::{Chat, StandInTours};
use crate::support::{eventually, fake_wazzup};
use actors::store::{CrmOutboxRecord, NewInbound, WriteOp, WriteOutcome};
use dialogs::{Channel, ChatKey};
use serde_json::{Map, Value, json};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(40);

/// The engine with Bitrix24 configured on `bitrix` (pipeline "Туры", quick retries).
async fn spawn(bitrix: &FakeBitrix, extra: Vec<(&'static str, String)>) -> TestApp {
    let mut env = vec![
        ("BITRIX_WEBHOOK_URL", bitrix.webhook_url()),
        ("BITRIX_DEAL_CATEGORY", fake_bitrix::TOURS.to_owned()),
        ("BITRIX_RETRY_BASE_MS", "50".to_owned()),
    ];
    env.extend(extra);
    app::spawn_with(Options {
        tours: Some(StandInTours::offers(4)),
        env,
        ..Options::default()
    })
    .await
}

/// Every CRM command of the app's database, by status.
async fn commands(app: &TestApp, status: &str) -> Vec<CrmOutboxRecord> {
    app.engine
        .store()
        .store
        .crm_commands(status, 1000)
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
    let bitrix = fake_bitrix::start().await;
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
    let bitrix = fake_bitrix::start().await;
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
    let bitrix = fake_bitrix::start().await;
    let app = spawn(&bitrix, vec![]).await;
    let mut chat = Chat::new(&app, "77010000103");
    chat.say("Здравствуйте, хотим в Нячанг").await;
    all_synced(&app).await;

    // The same person on Telegram: a greeting first (no phone yet), then the shared contact.
    let telegram = |external_id: &str, kind: &str, text: &str, payload: Value| NewInbound {
        key: ChatKey::new(Channel::Telegram, "5550103"),
        external_id: external_id.into(),
        kind: kind.into(),
        text: text.into(),
        sender_name: Some("Айгуль".into()),
        route: json!({}),
        payload,
        sent_at: chrono::Utc::now(),
    };
    app.engine
        .accept(telegram("tg-1", "text", "Привет!", json!({})))
        .await
        .unwrap();
    app.engine
        .accept(telegram(
            "tg-2",
            "contact",
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
    let bitrix = fake_bitrix::start().await;
    let app = spawn(&bitrix, vec![]).await;
    let phone = "77010000113";
    let whatsapp = fake_wazzup::inbound("wa-1", phone, "Здравствуйте");
    let (status, accepted) = tokio::join!(
        app.post_wazzup(&whatsapp),
        app.engine.accept(NewInbound {
            key: ChatKey::new(Channel::Telegram, "5550113"),
            external_id: "tg-1".into(),
            kind: "contact".into(),
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
    let bitrix = fake_bitrix::start().await;
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
    let bitrix = fake_bitrix::start().await;
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
    let bitrix = fake_bitrix::start().await;
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
    let bitrix = fake_bitrix::start().await;
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
            !error.contains(fake_bitrix::CODE),
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
    let bitrix = fake_bitrix::start().await;
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
    let bitrix = fake_bitrix::start().await;
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
    let bitrix = fake_bitrix::start().await;
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
        })
        .await
        .unwrap();
    assert_eq!(retried, WriteOutcome::Done);
    all_synced(&app).await;
    assert_booked_once(&bitrix, "+77010000110");
}

#[tokio::test]
async fn a_wrong_webhook_or_pipeline_fails_with_an_error_that_says_so() {
    let bitrix = fake_bitrix::start().await;
    let wrong_code = bitrix
        .webhook_url()
        .replace(fake_bitrix::CODE, "not-the-code");
    let app = spawn(&bitrix, vec![("BITRIX_WEBHOOK_URL", wrong_code)]).await;
    Chat::new(&app, "77010000111").say("Здравствуйте").await;
    assert!(
        eventually(WAIT, || async {
            !commands(&app, "failed").await.is_empty()
        })
        .await
    );
    let error = commands(&app, "failed").await[0]
        .last_error
        .clone()
        .unwrap();
    assert!(error.contains("NO_AUTH_FOUND"), "{error}");
    assert!(
        !error.contains("not-the-code"),
        "the webhook stays secret: {error}"
    );

    let app = spawn(&bitrix, vec![("BITRIX_DEAL_CATEGORY", "Круизы".to_owned())]).await;
    Chat::new(&app, "77010000112").say("Здравствуйте").await;
    assert!(
        eventually(WAIT, || async {
            !commands(&app, "failed").await.is_empty()
        })
        .await
    );
    let error = commands(&app, "failed").await[0]
        .last_error
        .clone()
        .unwrap();
    assert!(
        error.contains("Круизы") && error.contains("Туры"),
        "{error}"
    );
    assert!(bitrix.deals().is_empty());
}

#[tokio::test]
async fn the_fake_portal_speaks_the_protocol() {
    let bitrix = fake_bitrix::start().await;
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
    let wrong = url("crm.deal.list").replace(fake_bitrix::CODE, "guess");
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
