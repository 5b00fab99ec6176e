//! Email end to end: emails in through the webhook — SendGrid Inbound Parse forms and raw
//! RFC 822 messages — the real engine and dialog, replies out through a local SMTP server,
//! threaded under the customer's email. Also: dedupe on the sender's Message-ID, quoted history
//! and signatures kept out of the transcript, the lead's details read from an email (the
//! sender's address on the lead, the Bitrix24 contact and the managers' alert), refusals that
//! store nothing, and SMTP failures (a 451 retried, a 550 mailbox given up).

use crate::support::app::{self, Options, TelegramMode, TestApp};
use crate::support::eventually;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use dialogs::{Channel, ChatKey};
use fakes::smtp::{FakeSmtp, Received};
use mail_parser::HeaderValue;
use reqwest::StatusCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);
const SECRET: &str = "mail-secret-0123456789";
/// Our address (`EMAIL_FROM`).
const AGENCY: &str = "tours@crystalbay.test";

async fn spawn() -> (TestApp, Arc<FakeSmtp>) {
    let smtp = fakes::smtp::start().await;
    let app = app::spawn_with(Options {
        env: vec![
            ("SMTP_URL", smtp.url.clone()),
            ("EMAIL_FROM", AGENCY.to_owned()),
            ("EMAIL_WEBHOOK_SECRET", SECRET.to_owned()),
        ],
        ..Options::default()
    })
    .await;
    (app, smtp)
}

/// Posts a body to the email webhook under `secret`; the status and the answer's text.
async fn post(
    app: &TestApp,
    secret: &str,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> (StatusCode, String) {
    let response = app
        .http
        .post(format!("{}/webhooks/email/{secret}", app.base))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

async fn post_raw(app: &TestApp, email: &str) {
    let (status, answer) = post(app, SECRET, "message/rfc822", email.to_owned()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

/// `=?UTF-8?B?…?=`: how mail clients put non-ASCII text in a header.
fn encoded(text: &str) -> String {
    format!("=?UTF-8?B?{}?=", BASE64.encode(text))
}

/// A plain-text email as a mail client sends it.
fn raw_email(from: &str, message_id: Option<&str>, subject: &str, body: &str) -> String {
    let id = message_id
        .map(|id| format!("Message-ID: <{id}>\r\n"))
        .unwrap_or_default();
    format!(
        "Return-Path: <x@mail.test>\r\nFrom: {from}\r\nTo: Crystal Bay <{AGENCY}>\r\n\
         Subject: {}\r\nDate: Tue, 3 Mar 2026 10:15:00 +0500\r\n{id}MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}",
        encoded(subject),
        body.replace('\n', "\r\n")
    )
}

/// A `multipart/form-data` body as SendGrid Inbound Parse posts it: (content type, body).
fn inbound_parse_form(fields: &[(&str, &str)]) -> (String, Vec<u8>) {
    let boundary = "xYzZY";
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    (
        format!("multipart/form-data; boundary={boundary}"),
        body.into_bytes(),
    )
}

/// Waits until `address` has received `n` emails; returns them.
async fn replies(smtp: &FakeSmtp, address: &str, n: usize) -> Vec<Received> {
    assert!(
        eventually(WAIT, || async { smtp.received_for(address).len() >= n }).await,
        "{address} did not get {n} email(s); got {}",
        smtp.received_for(address).len()
    );
    smtp.received_for(address)
}

/// The message ids of an `In-Reply-To` or `References` header.
fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    match value {
        HeaderValue::Text(id) => vec![id.to_string()],
        HeaderValue::TextList(list) => list.iter().map(|id| id.to_string()).collect(),
        _ => Vec::new(),
    }
}

async fn conversation(app: &TestApp, address: &str) -> Option<actors::store::ConversationRecord> {
    app.engine
        .store()
        .store
        .conversation_by_chat(&ChatKey::new(Channel::Email, address))
        .await
        .unwrap()
}

/// The customer's lines of the transcript.
async fn inbound_lines(app: &TestApp, address: &str) -> Vec<String> {
    let c = conversation(app, address)
        .await
        .expect("conversation stored");
    app.engine
        .store()
        .store
        .transcript(&c.id)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.direction == "in")
        .map(|e| e.text)
        .collect()
}

/// Whether an inbox row carries this Message-ID, whoever sent it.
async fn stored(app: &TestApp, message_id: &str) -> bool {
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&app.db_path);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM inbox WHERE channel = 'email' AND external_id LIKE $1",
    )
    .bind(format!("%<{message_id}>"))
    .fetch_one(&pool)
    .await
    .unwrap();
    pool.close().await;
    n > 0
}

/// Checks that `reply` answers the customer's email `their_id` in its thread.
fn assert_threaded(reply: &Received, address: &str, their_id: &str, thread: &[&str]) {
    assert_eq!(reply.rcpt_to, [address]);
    assert_eq!(reply.mail_from, AGENCY);
    assert_eq!(
        reply.auth_user.as_deref(),
        Some(fakes::smtp::USER),
        "SMTP_URL's credentials are used"
    );
    let email = reply.parsed();
    let to = email.to().and_then(|a| a.first()).and_then(|a| a.address());
    assert_eq!(to, Some(address));
    assert_eq!(ids(email.in_reply_to()), [their_id]);
    let mut references: Vec<&str> = thread.to_vec();
    references.push(their_id);
    assert_eq!(ids(email.references()), references);
    let own_id = email.message_id().expect("our Message-ID");
    assert!(own_id.ends_with("@crystalbay.test"), "{own_id}");
    // A text part and an HTML part, both with the bot's words.
    assert_eq!((email.text_body_count(), email.html_body_count()), (1, 1));
    assert!(email.html_part(0).unwrap().is_text_html());
    assert!(!email.text_part(0).unwrap().is_text_html());
}

#[tokio::test]
async fn an_inbound_parse_post_is_answered_in_its_thread() {
    let (app, smtp) = spawn().await;
    let address = "aigul.parse@mail.test";
    let headers = "Received: by mx0.sendgrid.net with SMTP id abc\r\n\
        Message-ID: <parse-1@mail.test>\r\n\
        References: <older-1@mail.test>\r\n\
        Date: Tue, 3 Mar 2026 10:15:00 +0500\r\n\
        From: Aigul <Aigul.Parse@Mail.test>\r\n\
        To: tours@crystalbay.test\r\n\
        Subject: Hello\r\n";
    let text = "Здравствуйте!\n\nС уважением,\nАйгуль\n\n\
        On Mon, 2 Mar 2026 at 09:00, Crystal Bay <tours@crystalbay.test> wrote:\n> Добрый день";
    let (content_type, body) = inbound_parse_form(&[
        ("headers", headers),
        ("dkim", "{@mail.test : pass}"),
        ("to", "tours@crystalbay.test"),
        ("from", "Айгуль Сейткали <Aigul.Parse@Mail.test>"),
        ("subject", "Здравствуйте"),
        ("text", text),
        ("html", "<div>Здравствуйте!</div>"),
        ("sender_ip", "203.0.113.5"),
        (
            "envelope",
            r#"{"to":["tours@crystalbay.test"],"from":"aigul.parse@mail.test"}"#,
        ),
        ("attachments", "0"),
        (
            "charsets",
            r#"{"to":"UTF-8","html":"UTF-8","subject":"UTF-8","from":"UTF-8","text":"UTF-8"}"#,
        ),
        ("SPF", "pass"),
    ]);
    let (status, answer) = post(&app, SECRET, &content_type, body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");

    let sent = replies(&smtp, address, 1).await;
    assert_threaded(
        &sent[0],
        address,
        "parse-1@mail.test",
        &["older-1@mail.test"],
    );
    let email = sent[0].parsed();
    assert_eq!(email.subject(), Some("Re: Здравствуйте"));
    let text = email.body_text(0).unwrap();
    assert!(text.contains("Crystal Bay"), "greeting expected: {text}");
    let html = email.body_html(0).unwrap();
    assert!(html.contains("Crystal Bay"), "{html}");
    let c = conversation(&app, address).await.unwrap();
    assert_eq!(c.customer_name.as_deref(), Some("Айгуль Сейткали"));
    assert_eq!(inbound_lines(&app, address).await, ["Здравствуйте!"]);
}

#[tokio::test]
async fn a_raw_email_is_answered_in_its_thread() {
    let (app, smtp) = spawn().await;
    let address = "dauren.raw@mail.test";
    let email = raw_email(
        &format!("{} <Dauren.Raw@MAIL.test>", encoded("Даурен")),
        Some("raw-1@mail.test"),
        "Привет",
        "Добрый день!\n\nSent from my iPhone",
    );
    post_raw(&app, &email).await;
    let sent = replies(&smtp, address, 1).await;
    assert_threaded(&sent[0], address, "raw-1@mail.test", &[]);
    let reply = sent[0].parsed();
    assert_eq!(reply.subject(), Some("Re: Привет"));
    let text = reply.body_text(0).unwrap();
    assert!(text.contains("Crystal Bay"), "greeting expected: {text}");
    assert_eq!(
        conversation(&app, address)
            .await
            .unwrap()
            .customer_name
            .as_deref(),
        Some("Даурен")
    );

    // The customer answers our reply; this time the Inbound Parse form carries the raw message
    // ("send raw" on). Our answer continues the same thread.
    let ours = reply.message_id().unwrap().to_owned();
    let answer = raw_email(
        &format!("{} <Dauren.Raw@MAIL.test>", encoded("Даурен")),
        Some("raw-2@mail.test"),
        "Re: Привет",
        &format!(
            "Спасибо!\n\nOn Tue, 3 Mar 2026 at 10:16, Crystal Bay <{AGENCY}> wrote:\n> {}",
            text.lines().next().unwrap_or("")
        ),
    )
    .replace(
        "MIME-Version",
        &format!("In-Reply-To: <{ours}>\r\nReferences: <raw-1@mail.test> <{ours}>\r\nMIME-Version"),
    );
    let (content_type, body) = inbound_parse_form(&[
        ("to", AGENCY),
        ("email", answer.as_str()),
        (
            "envelope",
            r#"{"to":["tours@crystalbay.test"],"from":"dauren.raw@mail.test"}"#,
        ),
    ]);
    let (status, response) = post(&app, SECRET, &content_type, body).await;
    assert_eq!(status, StatusCode::OK, "{response}");
    let sent = replies(&smtp, address, 2).await;
    assert_threaded(
        &sent[1],
        address,
        "raw-2@mail.test",
        &["raw-1@mail.test", &ours],
    );
    assert_eq!(sent[1].parsed().subject(), Some("Re: Привет"));
    assert_eq!(
        inbound_lines(&app, address).await,
        ["Привет\nДобрый день!", "Спасибо!"]
    );
}

#[tokio::test]
async fn an_urlencoded_post_is_read_too() {
    let (app, smtp) = spawn().await;
    let address = "form@mail.test";
    let body = serde_urlencoded::to_string([
        ("from", "Form <form@mail.test>"),
        ("subject", "Здравствуйте"),
        ("text", "Здравствуйте!"),
        ("headers", "Message-ID: <form-1@mail.test>\r\n"),
    ])
    .unwrap();
    let (status, answer) = post(&app, SECRET, "application/x-www-form-urlencoded", body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let sent = replies(&smtp, address, 1).await;
    assert_threaded(&sent[0], address, "form-1@mail.test", &[]);
}

#[tokio::test]
async fn the_same_email_posted_twice_is_answered_once() {
    let (app, smtp) = spawn().await;
    let address = "twice@mail.test";
    let email = raw_email(address, Some("twice-1@mail.test"), "Привет", "Здравствуйте");
    post_raw(&app, &email).await;
    post_raw(&app, &email).await;
    replies(&smtp, address, 1).await;
    assert!(stored(&app, "twice-1@mail.test").await);
    // A later email of the same chat is answered after anything the repeat could have caused.
    let next = raw_email(address, Some("twice-2@mail.test"), "Re: Привет", "Спасибо");
    post_raw(&app, &next).await;
    let sent = replies(&smtp, address, 2).await;
    assert_eq!(sent.len(), 2, "one reply per email");
    assert_eq!(ids(sent[1].parsed().in_reply_to()), ["twice-2@mail.test"]);
    assert_eq!(
        inbound_lines(&app, address).await,
        ["Привет\nЗдравствуйте", "Спасибо"],
        "the first email's subject is read with it"
    );
}

#[tokio::test]
async fn an_email_without_message_id_is_still_recognised_when_repeated() {
    let (app, smtp) = spawn().await;
    let address = "no-id@mail.test";
    let email = raw_email(address, None, "Привет", "Здравствуйте");
    post_raw(&app, &email).await;
    post_raw(&app, &email).await;
    replies(&smtp, address, 1).await;
    let next = raw_email(address, None, "Re: Привет", "Спасибо");
    post_raw(&app, &next).await;
    assert_eq!(replies(&smtp, address, 2).await.len(), 2);
    // Nothing to thread under: no In-Reply-To.
    assert!(ids(smtp.received_for(address)[0].parsed().in_reply_to()).is_empty());
}

#[tokio::test]
async fn quoted_history_and_signatures_stay_out_of_the_transcript() {
    let (app, smtp) = spawn().await;
    let address = "quotes@mail.test";
    let outlook = raw_email(
        address,
        Some("quotes-1@mail.test"),
        "Re: Вопрос",
        "Подскажите, есть ли туры в Нячанг?\n\n-- \nАйгуль\n+7 701 000 00 00\n\n\
         -----Original Message-----\nFrom: Crystal Bay <tours@crystalbay.test>\n\
         Sent: Monday, March 2, 2026 9:00\nSubject: Вопрос\n\nЗдравствуйте! Чем помочь?",
    );
    post_raw(&app, &outlook).await;
    replies(&smtp, address, 1).await;
    // Webmail quoting in HTML only (no text part), through the Inbound Parse form.
    let (content_type, body) = inbound_parse_form(&[
        ("from", address),
        ("subject", "Re: Вопрос"),
        (
            "headers",
            "Message-ID: <quotes-2@mail.test>\r\nIn-Reply-To: <x@crystalbay.test>\r\n",
        ),
        (
            "html",
            "<div dir=\"ltr\">В марте, двое взрослых</div><div><br></div>\
             <div>Отправлено с iPhone</div><div class=\"gmail_quote\"><div class=\"gmail_attr\">\
             пн, 2 мар. 2026 г. в 09:00, Crystal Bay &lt;tours@crystalbay.test&gt;:</div>\
             <blockquote class=\"gmail_quote\">Когда хотите поехать?</blockquote></div>",
        ),
    ]);
    let (status, answer) = post(&app, SECRET, &content_type, body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    replies(&smtp, address, 2).await;
    assert_eq!(
        inbound_lines(&app, address).await,
        [
            "Подскажите, есть ли туры в Нячанг?",
            "В марте, двое взрослых"
        ]
    );
}

#[tokio::test]
async fn a_lead_written_by_email_is_stored_with_its_details() {
    let (app, smtp) = spawn().await;
    let address = "lead@mail.test";
    let email = raw_email(
        &format!("{} <{address}>", encoded("Айгуль")),
        Some("lead-1@mail.test"),
        "Заявка",
        "Меня зовут Айгуль, +7 701 123 45 67, хотим в Нячанг в марте\n\nС уважением,\nАйгуль Сейткали",
    );
    post_raw(&app, &email).await;
    replies(&smtp, address, 1).await;
    let slots = &conversation(&app, address).await.unwrap().state["slots"];
    assert_eq!(slots["phone"], "+77011234567", "{slots}");
    assert_eq!(slots["name"], "Айгуль", "{slots}");
    assert_eq!(slots["resort"], "Nha Trang", "{slots}");
}

#[tokio::test]
async fn a_subject_with_content_is_read_and_a_reply_subject_is_not_read_again() {
    let (app, smtp) = spawn().await;
    let address = "subject@mail.test";
    let first = raw_email(
        address,
        Some("subject-1@mail.test"),
        "Тур в Нячанг",
        "Здравствуйте, хотим в марте, двое взрослых",
    );
    post_raw(&app, &first).await;
    replies(&smtp, address, 1).await;
    let slots = conversation(&app, address).await.unwrap().state["slots"].clone();
    assert_eq!(slots["resort"], "Nha Trang", "{slots}");
    // A change of mind in a reply: the thread's "Re: Тур в Нячанг" does not undo it.
    let second = raw_email(
        address,
        Some("subject-2@mail.test"),
        "Re: Тур в Нячанг",
        "А лучше на Фукуок",
    );
    post_raw(&app, &second).await;
    replies(&smtp, address, 2).await;
    let slots = conversation(&app, address).await.unwrap().state["slots"].clone();
    assert_eq!(slots["resort"], "Phu Quoc", "{slots}");
    assert_eq!(
        inbound_lines(&app, address).await,
        [
            "Тур в Нячанг\nЗдравствуйте, хотим в марте, двое взрослых",
            "А лучше на Фукуок"
        ]
    );
}

#[tokio::test]
async fn a_wrong_secret_is_a_404_and_stores_nothing() {
    let (app, smtp) = spawn().await;
    let address = "secret@mail.test";
    let email = raw_email(
        address,
        Some("secret-1@mail.test"),
        "Привет",
        "Здравствуйте",
    );
    let (status, _) = post(&app, "wrong-secret", "message/rfc822", email.clone()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!stored(&app, "secret-1@mail.test").await);
    assert!(conversation(&app, address).await.is_none());
    // The same email with the right secret is new to the engine, and answered.
    post_raw(&app, &email).await;
    replies(&smtp, address, 1).await;
}

#[tokio::test]
async fn malformed_bodies_are_refused_with_a_reason_and_store_nothing() {
    let (app, _smtp) = spawn().await;
    let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        (
            "message/rfc822",
            b"Subject: no sender\r\nMessage-ID: <bad-1@mail.test>\r\n\r\nhello".to_vec(),
            StatusCode::BAD_REQUEST,
            "sender",
        ),
        (
            "message/rfc822",
            Vec::new(),
            StatusCode::BAD_REQUEST,
            "not an email",
        ),
        (
            "multipart/form-data; boundary=xYzZY",
            b"--xYzZY\r\nContent-Disposition: form-data; name=\"headers\"\r\n\r\nMessage-ID: <bad-2@mail.test>\r\n--xYzZY--\r\n".to_vec(),
            StatusCode::BAD_REQUEST,
            "`from`",
        ),
        (
            "multipart/form-data; boundary=xYzZY",
            b"this is not multipart at all".to_vec(),
            StatusCode::BAD_REQUEST,
            "form",
        ),
        (
            "multipart/form-data",
            b"--x\r\n".to_vec(),
            StatusCode::BAD_REQUEST,
            "form",
        ),
        (
            "application/json",
            br#"{"from":"a@b.c"}"#.to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content type",
        ),
    ];
    for (content_type, body, expected, reason) in cases {
        let (status, answer) = post(&app, SECRET, content_type, body).await;
        assert_eq!(status, expected, "{content_type}: {answer}");
        assert!(answer.contains(reason), "{content_type}: {answer}");
    }
    assert!(!stored(&app, "bad-1@mail.test").await);
    assert!(!stored(&app, "bad-2@mail.test").await);
    assert_eq!(
        app.engine
            .store()
            .store
            .count_conversations()
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn an_email_over_25_mib_is_a_413_and_stores_nothing() {
    let (app, _smtp) = spawn().await;
    let line = format!("{}\n", "a".repeat(76));
    let body = line.repeat(25 * 1024 * 1024 / line.len() + 100);
    let email = raw_email("big@mail.test", Some("big-1@mail.test"), "Привет", &body);
    assert!(email.len() > 25 * 1024 * 1024);
    let (status, answer) = post(&app, SECRET, "message/rfc822", email).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");
    assert!(answer.contains("25 MiB"), "{answer}");
    assert!(!stored(&app, "big-1@mail.test").await);
}

#[tokio::test]
async fn mail_from_machines_and_from_ourselves_is_not_answered() {
    let (app, smtp) = spawn().await;
    let auto = raw_email(
        "away@mail.test",
        Some("auto-1@mail.test"),
        "Out of office",
        "I am away until Monday.",
    )
    .replace(
        "MIME-Version",
        "Auto-Submitted: auto-replied\r\nMIME-Version",
    );
    post_raw(&app, &auto).await;
    let own = raw_email(AGENCY, Some("own-1@crystalbay.test"), "Test", "Hello");
    post_raw(&app, &own).await;
    assert!(!stored(&app, "auto-1@mail.test").await);
    assert!(!stored(&app, "own-1@crystalbay.test").await);
    assert!(smtp.received_for("away@mail.test").is_empty());
}

#[tokio::test]
async fn a_temporary_smtp_failure_is_retried_and_delivered_once() {
    let (app, smtp) = spawn().await;
    let address = "retry@mail.test";
    smtp.fail_next.store(1, Ordering::SeqCst);
    post_raw(
        &app,
        &raw_email(address, Some("retry-1@mail.test"), "Привет", "Здравствуйте"),
    )
    .await;
    let sent = replies(&smtp, address, 1).await;
    assert_eq!(smtp.refused.load(Ordering::SeqCst), 1, "one 451, then sent");
    let first_id = sent[0].parsed().message_id().unwrap().to_owned();
    // The chat's next reply goes out after the first is settled: still one copy of it.
    post_raw(
        &app,
        &raw_email(address, Some("retry-2@mail.test"), "Re: Привет", "Спасибо"),
    )
    .await;
    let sent = replies(&smtp, address, 2).await;
    assert_eq!(sent.len(), 2);
    assert_eq!(
        sent.iter()
            .filter(|m| m.parsed().message_id() == Some(first_id.as_str()))
            .count(),
        1
    );
    let c = conversation(&app, address).await.unwrap();
    let outbox = app.engine.store().store.outbox_of(&c.id).await.unwrap();
    assert_eq!(outbox[0].external_id.as_deref(), Some(first_id.as_str()));
}

#[tokio::test]
async fn a_mailbox_that_does_not_exist_makes_the_chat_unreachable() {
    let (app, smtp) = spawn().await;
    let address = "gone@mail.test";
    smtp.unknown_mailboxes
        .lock()
        .unwrap()
        .insert(address.to_owned());
    post_raw(
        &app,
        &raw_email(address, Some("gone-1@mail.test"), "Привет", "Здравствуйте"),
    )
    .await;
    let given_up = eventually(WAIT, || async {
        let Some(c) = conversation(&app, address).await else {
            return false;
        };
        let outbox = app.engine.store().store.outbox_of(&c.id).await.unwrap();
        c.unreachable && !outbox.is_empty() && outbox.iter().all(|r| r.status.as_str() == "failed")
    })
    .await;
    assert!(given_up, "the chat is not marked unreachable");
    let c = conversation(&app, address).await.unwrap();
    let outbox = app.engine.store().store.outbox_of(&c.id).await.unwrap();
    let error = outbox[0].last_error.clone().unwrap_or_default();
    assert!(error.contains("550"), "{error}");
    assert!(!error.contains(address), "the address is masked: {error}");
}

#[tokio::test]
async fn the_same_message_id_from_two_senders_is_two_answered_messages() {
    let (app, smtp) = spawn().await;
    // Two customers whose mail clients made the same id.
    for address in ["first@mail.test", "second@mail.test"] {
        let email = raw_email(address, Some("1@localhost"), "Тур", "Здравствуйте");
        post_raw(&app, &email).await;
    }
    for address in ["first@mail.test", "second@mail.test"] {
        let sent = replies(&smtp, address, 1).await;
        assert_eq!(ids(sent[0].parsed().in_reply_to()), ["1@localhost"]);
        assert_eq!(inbound_lines(&app, address).await, ["Тур\nЗдравствуйте"]);
    }
    // Each is still recognised when posted again.
    post_raw(
        &app,
        &raw_email(
            "second@mail.test",
            Some("1@localhost"),
            "Тур",
            "Здравствуйте",
        ),
    )
    .await;
    let later = raw_email(
        "second@mail.test",
        Some("2@localhost"),
        "Re: Тур",
        "Спасибо",
    );
    post_raw(&app, &later).await;
    assert_eq!(replies(&smtp, "second@mail.test", 2).await.len(), 2);
}

#[tokio::test]
async fn an_email_customer_is_on_the_lead_the_bitrix_contact_and_the_managers_alert() {
    const MANAGERS: i64 = -1005550001111;
    let smtp = fakes::smtp::start().await;
    let bitrix = fakes::bitrix::start().await;
    let telegram = fakes::telegram::start().await;
    let app = app::spawn_with(Options {
        env: vec![
            ("SMTP_URL", smtp.url.clone()),
            ("EMAIL_FROM", AGENCY.to_owned()),
            ("EMAIL_WEBHOOK_SECRET", SECRET.to_owned()),
            ("BITRIX_WEBHOOK_URL", bitrix.webhook_url()),
            ("TELEGRAM_MANAGERS_CHAT_ID", MANAGERS.to_string()),
        ],
        telegram: Some((TelegramMode::Webhook, telegram.clone())),
        ..Options::default()
    })
    .await;
    let address = "anna.k@mail.test";
    let email = raw_email(
        &format!("{} <Anna.K@Mail.test>", encoded("Анна")),
        Some("anna-1@mail.test"),
        "Тур во Вьетнам",
        "Здравствуйте! Позовите менеджера, пожалуйста.",
    );
    post_raw(&app, &email).await;
    replies(&smtp, address, 1).await;

    // The lead.
    let c = conversation(&app, address).await.unwrap();
    assert_eq!(c.customer_email.as_deref(), Some(address));
    let lead = app.engine.store().store.lead(&c.id).await.unwrap().unwrap();
    assert_eq!(lead.email.as_deref(), Some(address));
    // The Bitrix24 contact: made because the address tells the person apart.
    assert!(eventually(WAIT, || async { !bitrix.contacts().is_empty() }).await);
    let contacts = bitrix.contacts();
    assert_eq!(contacts.len(), 1, "{contacts:#?}");
    let emails: Vec<&str> = contacts[0]["EMAIL"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["VALUE"].as_str().unwrap())
        .collect();
    assert_eq!(emails, [address]);
    // The managers' alert: the address to answer, not "телефон неизвестен".
    assert!(
        eventually(WAIT, || async {
            telegram
                .sent_to(MANAGERS)
                .iter()
                .any(|s| s.text.contains("Нужен менеджер"))
        })
        .await
    );
    let alert = telegram
        .sent_to(MANAGERS)
        .into_iter()
        .find(|s| s.text.contains("Нужен менеджер"))
        .unwrap()
        .text;
    assert!(
        alert.contains(&format!("Клиент: Анна, {address}")),
        "{alert}"
    );
    assert!(!alert.contains("телефон неизвестен"), "{alert}");
}
