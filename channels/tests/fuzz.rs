//! Fuzzing the inbound parsers, as property tests: the Wazzup webhook, the Telegram update and
//! the email webhook (SendGrid forms, multipart and urlencoded, and raw RFC 822) are fed
//! arbitrary bytes, arbitrary JSON, valid bodies with fields removed or replaced by values of
//! the wrong type, and valid bodies carrying hostile text (right-to-left, emoji with joiners,
//! combining marks, control characters, NUL). Whatever comes in, a parser returns a parsed
//! value or its typed error, never panics, and what it returns keeps the promises the engine
//! relies on (non-empty ids, the chat key built from them, the customer's text kept verbatim).
//!
//! Why proptest and not cargo-fuzz: cargo-fuzz needs a nightly toolchain, which this project's
//! machines and CI do not have. Proptest runs on stable inside `cargo test`, with shrinking.
//!
//! Each property runs a bounded number of cases so that the whole file takes seconds; for a
//! longer local run set `PROPTEST_CASES` (e.g. `PROPTEST_CASES=20000 cargo test -p channels
//! --test fuzz`).

use bytes::Bytes;
use channels::InboundKind;
use channels::email::{EmailError, InboundEmail, html, inbound, quote};
use channels::telegram::Update;
use channels::telegram::inbound::{self as update, Incoming, classify};
use channels::wazzup::inbound::{self as webhook, WebhookError};
use dialogs::Channel;
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Value, json};
use teloxide_core::types::{MaybeInaccessibleMessage, UpdateKind};

/// Cases per property: `PROPTEST_CASES` when set, else `default`.
fn config(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

// --- Strategies ------------------------------------------------------------------------------

/// Pieces of text that break naive handling: right-to-left scripts and overrides, emoji with
/// joiners and flags, combining marks, control characters and NUL, a BOM, the highest code
/// point, quotes, SQL, markup, encoded words, quote and signature markers.
const PIECES: &[&str] = &[
    "مرحبا بكم",
    "שלום עולם",
    "\u{202E}",
    "\u{200F}",
    "\u{200D}",
    "👨‍👩‍👧‍👦",
    "🇰🇿",
    "🙂",
    "e\u{301}",
    "\u{0}",
    "\u{1b}[31m",
    "\r\n",
    "\n",
    "\t",
    "\u{feff}",
    "\u{10FFFF}",
    "'; DROP TABLE inbox; --",
    "\"",
    "\\",
    "<script>",
    "&amp;",
    "=?UTF-8?B?0J/RgNC40LLQtdGC?=",
    "--",
    "> ",
    "С уважением,",
    "wrote:",
    "Нячанг",
    "@",
    "+7 701 123 45 67",
    "/start",
    ":",
    ";",
    " ",
];

/// Text made of arbitrary characters and the pieces above.
fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            3 => any::<char>().prop_map(String::from),
            2 => prop::sample::select(PIECES).prop_map(str::to_owned),
        ],
        0..24,
    )
    .prop_map(|parts| parts.concat())
}

/// Arbitrary JSON whose object keys are often the ones the parser looks for.
fn json(keys: &'static [&'static str]) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        // NaN and infinities become null: JSON has no such numbers.
        any::<f64>().prop_map(Value::from),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 32, 6, move |inner| {
        let key = prop_oneof![
            3 => prop::sample::select(keys).prop_map(str::to_owned),
            1 => text(),
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key, inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

/// Edits to a valid body: at a chosen place, remove the value (`None`) or put another there.
fn edits(keys: &'static [&'static str]) -> impl Strategy<Value = Vec<(Index, Option<Value>)>> {
    prop::collection::vec((any::<Index>(), prop::option::of(json(keys))), 1..4)
}

/// Every JSON pointer into `v` except the root.
fn pointers(v: &Value) -> Vec<String> {
    fn walk(v: &Value, at: String, out: &mut Vec<String>) {
        let children: Vec<(String, &Value)> = match v {
            Value::Object(o) => o
                .iter()
                .map(|(k, c)| (k.replace('~', "~0").replace('/', "~1"), c))
                .collect(),
            Value::Array(a) => a
                .iter()
                .enumerate()
                .map(|(i, c)| (i.to_string(), c))
                .collect(),
            _ => return,
        };
        for (step, child) in children {
            let here = format!("{at}/{step}");
            out.push(here.clone());
            walk(child, here, out);
        }
    }
    let mut out = Vec::new();
    walk(v, String::new(), &mut out);
    out
}

/// `v` with the edits applied in order.
fn mutate(mut v: Value, edits: &[(Index, Option<Value>)]) -> Value {
    for (at, replacement) in edits {
        let all = pointers(&v);
        if all.is_empty() {
            break;
        }
        let pointer = &all[at.index(all.len())];
        match replacement {
            Some(new) => *v.pointer_mut(pointer).expect("a pointer just listed") = new.clone(),
            None => {
                let (parent, last) = pointer.rsplit_once('/').expect("not the root");
                let last = last.replace("~1", "/").replace("~0", "~");
                match v.pointer_mut(parent) {
                    Some(Value::Object(o)) => {
                        o.remove(&last);
                    }
                    Some(Value::Array(a)) => {
                        a.remove(last.parse::<usize>().expect("an index"));
                    }
                    _ => {}
                }
            }
        }
    }
    v
}

/// A valid body with one byte changed and possibly cut short.
fn corrupted(valid: Value) -> impl Strategy<Value = Vec<u8>> {
    let bytes = serde_json::to_vec(&valid).unwrap();
    let len = bytes.len();
    (0..len, any::<u8>(), 1..=len).prop_map(move |(at, byte, keep)| {
        let mut b = bytes.clone();
        b[at] = byte;
        b.truncate(keep);
        b
    })
}

// --- Wazzup -------------------------------------------------------------------------------

const WAZZUP_KEYS: &[&str] = &[
    "test",
    "messages",
    "statuses",
    "messageId",
    "channelId",
    "chatType",
    "chatId",
    "dateTime",
    "type",
    "text",
    "isEcho",
    "isEdited",
    "isDeleted",
    "contact",
    "name",
    "authorName",
    "crmMessageId",
    "status",
    "error",
];

fn wazzup_body(text: &str, name: &str) -> Value {
    json!({"messages": [{
        "messageId": "m-1", "channelId": "c-1", "chatType": "whatsapp", "chatId": "77010000001",
        "dateTime": "2026-11-21T10:15:30.123", "type": "text", "status": "inbound", "isEcho": false,
        "text": text, "contact": {"name": name}
    }], "statuses": [{"messageId": "o-1", "status": "delivered"}]})
}

/// What the engine relies on in a parsed Wazzup body.
fn check_wazzup(body: &[u8]) {
    match webhook::parse(body) {
        Ok(hook) => {
            for m in &hook.messages {
                assert!(!m.message_id.is_empty() && !m.channel_id.is_empty());
                assert!(!m.chat_type.is_empty() && !m.chat_id.is_empty());
                let inbound = m.to_inbound();
                assert_eq!(inbound.key.channel, Channel::Wazzup);
                assert_eq!(
                    inbound.key.chat_id,
                    format!("{}:{}", m.chat_type, m.chat_id)
                );
                assert_eq!(inbound.external_id, m.message_id);
                assert!(matches!(inbound.kind.as_str(), "text" | "media"));
                assert_eq!(m.to_echo().kind.as_str(), "echo");
            }
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn wazzup_any_bytes_are_parsed_or_refused(body in prop::collection::vec(any::<u8>(), 0..256)) {
        check_wazzup(&body);
    }

    #[test]
    fn wazzup_corrupted_bodies_are_parsed_or_refused(body in corrupted(wazzup_body("Хотим в Нячанг", "Айгуль"))) {
        check_wazzup(&body);
    }

    #[test]
    fn wazzup_any_json_is_parsed_or_refused(v in json(WAZZUP_KEYS)) {
        let body = serde_json::to_vec(&v).unwrap();
        check_wazzup(&body);
        if !v.is_object() {
            prop_assert!(matches!(webhook::parse(&body), Err(WebhookError::Json(_))));
        }
    }

    #[test]
    fn wazzup_wrong_types_and_missing_fields_are_parsed_or_refused(edits in edits(WAZZUP_KEYS)) {
        let v = mutate(wazzup_body("Здравствуйте", "Айгуль"), &edits);
        check_wazzup(&serde_json::to_vec(&v).unwrap());
    }

    #[test]
    fn wazzup_any_text_and_name_are_kept_verbatim(t in text(), name in text()) {
        let hook = webhook::parse(&serde_json::to_vec(&wazzup_body(&t, &name)).unwrap()).unwrap();
        let inbound = hook.messages[0].to_inbound();
        prop_assert_eq!(inbound.text, t);
        prop_assert_eq!(inbound.sender_name, Some(name));
    }
}

// --- Telegram -----------------------------------------------------------------------------

const TELEGRAM_KEYS: &[&str] = &[
    "update_id",
    "message",
    "callback_query",
    "message_id",
    "date",
    "chat",
    "id",
    "type",
    "from",
    "is_bot",
    "first_name",
    "last_name",
    "text",
    "caption",
    "contact",
    "phone_number",
    "reply_to_message",
    "photo",
    "data",
];

/// A text message (a Bot API message has one kind of content: a text, or a contact, …).
fn telegram_text(chat_type: &str, text: &str) -> Value {
    json!({"update_id": 7, "message": {
        "message_id": 1, "date": 1_790_000_000,
        "chat": {"id": 4242, "type": chat_type, "first_name": "Aigul"},
        "from": {"id": 4242, "is_bot": false, "first_name": "Aigul", "last_name": "S"},
        "text": text,
        "reply_to_message": {"message_id": 0, "date": 0, "chat": {"id": -100, "type": "group"},
                             "text": "ID: 0193-abc"}
    }})
}

fn telegram_contact() -> Value {
    json!({"update_id": 9, "message": {
        "message_id": 2, "date": 1_790_000_000,
        "chat": {"id": 4242, "type": "private", "first_name": "Aigul"},
        "from": {"id": 4242, "is_bot": false, "first_name": "Aigul"},
        "contact": {"phone_number": "+7 701 123 45 67", "first_name": "Aigul", "user_id": 4242}
    }})
}

fn telegram_press() -> Value {
    json!({"update_id": 8, "callback_query": {
        "id": "cq-1", "from": {"id": 4242, "is_bot": false, "first_name": "Aigul"},
        "chat_instance": "-7001", "data": "book:2",
        "message": {"message_id": 3, "date": 0, "chat": {"id": 4242, "type": "private"}}
    }})
}

/// What the engine relies on in a parsed Telegram update.
fn check_telegram(body: &[u8]) {
    let Ok(u) = update::parse(body) else {
        return;
    };
    for managers in [None, Some(-100), Some(4242)] {
        match classify(&u, managers) {
            Incoming::Customer { inbound, .. } => {
                assert_eq!(inbound.key.channel, Channel::Telegram);
                assert_eq!(inbound.external_id, u.id.0.to_string());
                let chat = chat_of(&u).expect("a customer's update has a chat");
                assert!(chat.is_private(), "only private chats reach the inbox");
                assert_eq!(inbound.key.chat_id, chat.id.0.to_string());
                assert_ne!(
                    Some(chat.id.0),
                    managers,
                    "the managers' chat is no customer"
                );
            }
            Incoming::Dropped { chat_id, .. } => {
                let chat = chat_of(&u).expect("a dropped update has a chat");
                assert!(chat.is_private(), "only private chats are customers'");
                assert_eq!(chat_id, chat.id.0);
            }
            Incoming::Manager(_) | Incoming::Ignored(_) => {}
        }
    }
}

/// The chat an update happened in.
fn chat_of(u: &Update) -> Option<&teloxide_core::types::Chat> {
    match &u.kind {
        UpdateKind::Message(m) | UpdateKind::EditedMessage(m) => Some(&m.chat),
        UpdateKind::CallbackQuery(q) => match q.message.as_ref()? {
            MaybeInaccessibleMessage::Regular(m) => Some(&m.chat),
            MaybeInaccessibleMessage::Inaccessible(m) => Some(&m.chat),
        },
        UpdateKind::MyChatMember(m) => Some(&m.chat),
        _ => None,
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn telegram_any_bytes_are_parsed_or_refused(body in prop::collection::vec(any::<u8>(), 0..256)) {
        check_telegram(&body);
    }

    #[test]
    fn telegram_corrupted_bodies_are_parsed_or_refused(body in corrupted(telegram_text("private", "Здравствуйте"))) {
        check_telegram(&body);
    }

    #[test]
    fn telegram_any_json_is_parsed_or_refused(v in json(TELEGRAM_KEYS)) {
        check_telegram(&serde_json::to_vec(&v).unwrap());
        if !v.is_object() {
            prop_assert!(update::parse_value(v).is_err());
        }
    }

    #[test]
    fn telegram_wrong_types_and_missing_fields_are_parsed_or_refused(
        edits in edits(TELEGRAM_KEYS),
        kind in 0..3u8,
    ) {
        let template = match kind {
            0 => telegram_text("private", "Привет"),
            1 => telegram_contact(),
            _ => telegram_press(),
        };
        check_telegram(&serde_json::to_vec(&mutate(template, &edits)).unwrap());
    }

    #[test]
    fn telegram_unknown_chat_types_are_ignored(kind in text().prop_filter("not private", |k| k != "private")) {
        let u = update::parse_value(telegram_text(&kind, "Здравствуйте")).unwrap();
        prop_assert!(matches!(classify(&u, None), Incoming::Ignored(_)));
    }

    #[test]
    fn telegram_any_text_is_kept_verbatim(t in text()) {
        let u = update::parse_value(telegram_text("private", &t)).unwrap();
        let Incoming::Customer { inbound, .. } = classify(&u, None) else {
            panic!("a private text message is a customer's");
        };
        if inbound.kind == InboundKind::Text {
            prop_assert_eq!(inbound.text, t);
        } else {
            prop_assert_eq!(inbound.kind, InboundKind::Start, "only /start is read as something else");
        }
    }

    #[test]
    fn telegram_phones_are_e164_or_nothing(raw in text()) {
        if let Some(phone) = update::normalize_phone(&raw) {
            let digits = phone.strip_prefix('+').expect("a leading +");
            prop_assert!((8..=15).contains(&digits.len()), "{phone}");
            prop_assert!(digits.chars().all(|c| c.is_ascii_digit()), "{phone}");
        }
    }

    #[test]
    fn telegram_escalation_tags_are_short_or_absent(t in text()) {
        if let Some(id) = update::escalation_in(&t) {
            prop_assert!(!id.is_empty() && id.len() <= 64);
        }
    }
}

// --- Email --------------------------------------------------------------------------------

/// Reads a webhook body as the route does.
fn email_request(content_type: &str, body: Vec<u8>) -> Result<InboundEmail, EmailError> {
    futures::executor::block_on(inbound::parse_request(
        Some(content_type),
        Bytes::from(body),
    ))
}

/// What the engine relies on in a parsed email.
fn check_email(result: &Result<InboundEmail, EmailError>) {
    let email = match result {
        Ok(email) => email,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    let address = &email.address;
    assert_eq!(address, &address.to_lowercase());
    assert_eq!(address.matches('@').count(), 1, "{address}");
    assert!(!address.contains(char::is_whitespace), "{address}");
    assert!(email.reply_to.contains('@'));
    for id in email.message_id.iter().chain(&email.references) {
        assert!(
            !id.is_empty() && id.chars().all(|c| c.is_ascii_graphic()),
            "{id}"
        );
        assert!(!id.contains(['<', '>']), "{id}");
    }
    let inbound = email.to_inbound();
    assert_eq!(inbound.key.channel, Channel::Email);
    assert_eq!(&inbound.key.chat_id, address);
    assert!(!inbound.external_id.is_empty());
}

const FORM_FIELDS: &[&str] = &[
    "from",
    "subject",
    "text",
    "html",
    "headers",
    "charsets",
    "email",
    "attachments",
    "to",
    "envelope",
];

/// A `multipart/form-data` body (boundary `xYzZY`) with these fields.
fn multipart(fields: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--xYzZY\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(value);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"--xYzZY--\r\n");
    body
}

fn form_field() -> impl Strategy<Value = (String, Vec<u8>)> {
    let name = prop_oneof![
        3 => prop::sample::select(FORM_FIELDS).prop_map(str::to_owned),
        1 => text(),
    ];
    let value = prop_oneof![
        text().prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 0..64),
        Just(b"Aigul <Aigul@Mail.test>".to_vec()),
        Just(b"{\"text\": \"windows-1251\"}".to_vec()),
    ];
    (name, value)
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn email_any_raw_bytes_are_read_or_refused(body in prop::collection::vec(any::<u8>(), 0..512)) {
        check_email(&inbound::parse_raw(&body));
    }

    #[test]
    fn email_raw_messages_with_any_headers_and_body(
        from in prop_oneof![text(), Just("Aigul <Aigul@Mail.test>".to_owned())],
        subject in text(),
        id in text(),
        references in text(),
        content_type in prop_oneof![text(), Just("text/html; charset=utf-8".to_owned())],
        extra in text(),
        body in text(),
    ) {
        let raw = format!(
            "From: {from}\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\nReferences: {references}\r\n\
             Content-Type: {content_type}\r\n{extra}: x\r\n\r\n{body}"
        );
        check_email(&inbound::parse_raw(raw.as_bytes()));
    }

    #[test]
    fn email_a_good_sender_with_any_body_is_read(body in text(), subject in text()) {
        let raw = format!("From: Aigul <Aigul@Mail.test>\r\nSubject: {subject}\r\n\r\n{body}");
        let read = inbound::parse_raw(raw.as_bytes());
        check_email(&read);
        prop_assert_eq!(read.unwrap().address, "aigul@mail.test");
    }

    #[test]
    fn email_any_content_type_and_body_are_read_or_refused(
        content_type in prop_oneof![
            text(),
            Just("message/rfc822".to_owned()),
            Just("multipart/form-data; boundary=xYzZY".to_owned()),
            Just("multipart/form-data".to_owned()),
            Just("application/x-www-form-urlencoded".to_owned()),
        ],
        body in prop::collection::vec(any::<u8>(), 0..256),
    ) {
        let read = email_request(&content_type, body);
        check_email(&read);
        let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        let known = ["message/rfc822", "multipart/form-data", "application/x-www-form-urlencoded"];
        if !known.contains(&essence.as_str()) {
            prop_assert!(matches!(read, Err(EmailError::UnsupportedType(_))));
        }
    }

    #[test]
    fn email_multipart_forms_with_any_fields_are_read_or_refused(
        fields in prop::collection::vec(form_field(), 0..6),
        cut in any::<Index>(),
        whole in any::<bool>(),
    ) {
        let mut body = multipart(&fields);
        if !whole {
            body.truncate(cut.index(body.len() + 1));
        }
        check_email(&email_request("multipart/form-data; boundary=xYzZY", body));
    }

    #[test]
    fn email_urlencoded_forms_with_any_fields_are_read_or_refused(
        fields in prop::collection::vec(form_field(), 0..6),
        noise in prop::collection::vec(any::<u8>(), 0..32),
    ) {
        let mut body = form_urlencoded::Serializer::new(String::new());
        for (name, value) in &fields {
            body.append_pair(name, &String::from_utf8_lossy(value));
        }
        let mut body = body.finish().into_bytes();
        body.extend_from_slice(&noise);
        check_email(&email_request("application/x-www-form-urlencoded", body));
    }

    #[test]
    fn email_text_helpers_take_any_text(t in text()) {
        let _ = quote::strip(&t);
        let _ = html::to_text(&t);
        let _ = html::from_text(&t);
        let (bare, _) = inbound::bare_subject(&t);
        prop_assert!(t.contains(bare));
    }
}
