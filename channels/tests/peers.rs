//! Payloads in the shapes the peers really send, through the parsers: Telegram updates of every
//! kind a private chat produces (`tests/fixtures/telegram/*.json`, Bot API 7–9 shapes), and
//! e-mails as Gmail, Outlook, Apple Mail, Mail.ru and Yandex write them, quoting in Russian and
//! English (`tests/fixtures/email/*.eml`). Each is either a customer's message (a turn, with
//! what the customer wrote) or a deliberate drop; none is refused.

use channels::email::inbound::parse_raw;
use channels::telegram::inbound::{Incoming, classify, parse};
use serde_json::json;
use std::path::PathBuf;

fn fixtures(kind: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(kind)
}

fn read(kind: &str, name: &str) -> Vec<u8> {
    let path = fixtures(kind).join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// What a Telegram update should come to.
enum Expect {
    /// A customer's message of this kind, whose text contains this, with this payload.
    Turn(&'static str, &'static str, serde_json::Value),
    /// Dropped (logged), for a reason containing this.
    Dropped(&'static str),
    /// Not for the bot.
    Ignored,
}

/// Every Telegram fixture and what it should come to.
const MANAGERS: i64 = -1001234567890;

fn telegram_expectations() -> Vec<(&'static str, Expect)> {
    use Expect::*;
    vec![
        ("text", Turn("text", "Хотим в Нячанг в марте", json!({}))),
        (
            "start_deep_link",
            Turn("start", "/start", json!({"start_param": "ig_promo_march"})),
        ),
        (
            "text_with_entities_and_link_preview",
            Turn("text", "https://crystalbay.kz/vietnam/phu-quoc", json!({})),
        ),
        ("edited_message", Dropped("edited")),
        (
            "reply_with_quote",
            Turn("text", "завтраки включены", json!({})),
        ),
        (
            "external_reply_with_quote",
            Turn("text", "Вот этот тур ещё актуален?", json!({})),
        ),
        (
            "forwarded_from_user",
            Turn("text", "Фукуок на 10 ночей", json!({})),
        ),
        (
            "forwarded_from_hidden_user",
            Turn("text", "Вьетнам на майские", json!({})),
        ),
        (
            "forwarded_from_channel",
            Turn("media", "Нячанг: 7 ночей", json!({"type": "photo"})),
        ),
        (
            "contact_own",
            Turn("contact", "", json!({"phone": "+77011234567"})),
        ),
        (
            "contact_other_with_vcard",
            Turn("contact", "", json!({"phone": "+77017654321"})),
        ),
        ("location", Turn("media", "", json!({"type": "location"}))),
        (
            "live_location",
            Turn("media", "", json!({"type": "location"})),
        ),
        ("venue", Turn("media", "", json!({"type": "venue"}))),
        ("sticker", Turn("media", "", json!({"type": "sticker"}))),
        ("voice", Turn("media", "", json!({"type": "voice"}))),
        (
            "photo_with_caption",
            Turn("media", "есть похожие на март?", json!({"type": "photo"})),
        ),
        (
            "photo_in_album",
            Turn("media", "", json!({"type": "photo"})),
        ),
        (
            "video_note",
            Turn("media", "", json!({"type": "video_note"})),
        ),
        (
            "document_pdf",
            Turn("media", "Паспорт для брони", json!({"type": "document"})),
        ),
        (
            "animation_gif",
            Turn("media", "", json!({"type": "animation"})),
        ),
        ("audio", Turn("media", "", json!({"type": "audio"}))),
        (
            "video_with_caption",
            Turn("media", "Хотим такой пляж", json!({"type": "video"})),
        ),
        ("dice", Turn("media", "", json!({"type": "dice"}))),
        (
            "message_with_effect",
            Turn("text", "Спасибо большое!", json!({})),
        ),
        ("pinned_message", Dropped("service message")),
        ("auto_delete_timer_changed", Dropped("service message")),
        ("my_chat_member_blocked", Dropped("blocked the bot")),
        ("my_chat_member_unblocked", Dropped("unblocked")),
        (
            "callback_query",
            Turn(
                "callback",
                "more",
                json!({"data": "more", "callback_query_id": "4382094398572040123"}),
            ),
        ),
        ("message_reaction", Ignored),
    ]
}

#[test]
fn every_telegram_fixture_has_an_expectation() {
    let mut on_disk: Vec<String> = std::fs::read_dir(fixtures("telegram"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut expected: Vec<String> = telegram_expectations()
        .iter()
        .map(|(name, _)| format!("{name}.json"))
        .collect();
    expected.sort();
    assert_eq!(on_disk, expected);
}

#[test]
fn telegram_updates_of_every_kind_are_a_turn_or_a_deliberate_drop() {
    let mut failures = Vec::new();
    for (name, expect) in telegram_expectations() {
        let body = read("telegram", &format!("{name}.json"));
        let update = match parse(&body) {
            Ok(update) => update,
            Err(e) => {
                failures.push(format!("{name}: refused: {e}"));
                continue;
            }
        };
        let got = classify(&update, Some(MANAGERS));
        let ok = match (&expect, &got) {
            (Expect::Turn(kind, text, payload), Incoming::Customer { inbound, .. }) => {
                inbound.kind.as_str() == *kind
                    && inbound.text.contains(text)
                    && inbound.payload == *payload
            }
            (Expect::Dropped(what), Incoming::Dropped { what: w, .. }) => w.contains(what),
            (Expect::Ignored, Incoming::Ignored(_)) => true,
            _ => false,
        };
        if !ok {
            failures.push(format!("{name}: got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// What an e-mail fixture should come to: who wrote, and the customer's own words — which must
/// contain `kept` and none of `gone` (the quoted history, the signature).
struct Mail {
    file: &'static str,
    from: &'static str,
    kept: &'static [&'static str],
    gone: &'static [&'static str],
}

fn email_expectations() -> Vec<Mail> {
    vec![
        Mail {
            file: "gmail_ru_reply.eml",
            from: "aigul.seitkali@gmail.com",
            kept: &["Да, вылет из Алматы", "двое взрослых и ребёнок 7 лет"],
            gone: &[
                "Crystal Bay <bot@crystalbay.kz>:",
                "Подобрали для вас",
                "Vinpearl",
            ],
        },
        Mail {
            file: "gmail_en_reply.eml",
            from: "d.wilson@gmail.com",
            kept: &["Sounds good", "March 10"],
            gone: &["wrote:", "We found", "Sent from my iPhone"],
        },
        Mail {
            file: "outlook_ru_reply.eml",
            from: "erlan.b@outlook.com",
            kept: &["Добрый день", "бюджет до 1,5 млн"],
            gone: &[
                "От:",
                "Отправлено:",
                "Тема:",
                "Подобрали для вас",
                "С уважением",
            ],
        },
        Mail {
            file: "outlook_en_reply.eml",
            from: "sarah.k@hotmail.com",
            kept: &["Could you check Phu Quoc"],
            gone: &["From:", "Sent:", "We found", "Get Outlook for"],
        },
        Mail {
            file: "apple_mail_ru_reply.eml",
            from: "madina.a@icloud.com",
            kept: &["Хотим в Фукуок", "на 10 ночей"],
            gone: &["написал(а):", "Подобрали для вас", "Отправлено с iPhone"],
        },
        Mail {
            file: "apple_mail_en_new.eml",
            from: "tom.baker@me.com",
            // format=flowed: the soft line break is no break.
            kept: &[
                "Hello",
                "for two adults, about 10 nights, departing from Almaty",
            ],
            gone: &["Sent from my iPad"],
        },
        Mail {
            file: "mailru_reply.eml",
            from: "a.nurlanovna@mail.ru",
            kept: &["А есть варианты подешевле"],
            gone: &[
                "от Crystal Bay",
                "Подобрали для вас",
                "Отправлено из Почты Mail",
                "Айгерим",
            ],
        },
        Mail {
            file: "yandex_reply.eml",
            from: "serik.t@yandex.kz",
            kept: &["Спасибо, второй вариант подходит", "Как оплатить"],
            gone: &[
                "Crystal Bay",
                "Подобрали для вас",
                "Отправлено из мобильной Яндекс Почты",
            ],
        },
        Mail {
            file: "yandex_new_html_only.eml",
            from: "olga.p@yandex.ru",
            kept: &["Здравствуйте", "Нячанг", "на двоих"],
            gone: &["<div>", "&nbsp;"],
        },
    ]
}

#[test]
fn every_email_fixture_has_an_expectation() {
    let mut on_disk: Vec<String> = std::fs::read_dir(fixtures("email"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut expected: Vec<String> = email_expectations()
        .iter()
        .map(|m| m.file.to_owned())
        .collect();
    expected.sort();
    assert_eq!(on_disk, expected);
}

#[test]
fn emails_from_every_client_keep_the_customers_words_and_lose_the_history() {
    let mut failures = Vec::new();
    for mail in email_expectations() {
        let email = match parse_raw(&read("email", mail.file)) {
            Ok(email) => email,
            Err(e) => {
                failures.push(format!("{}: refused: {e}", mail.file));
                continue;
            }
        };
        if email.address != mail.from {
            failures.push(format!("{}: from {}", mail.file, email.address));
        }
        if email.auto_generated {
            failures.push(format!("{}: taken for a machine's", mail.file));
        }
        let inbound = email.to_inbound();
        let text = &inbound.text;
        for kept in mail.kept {
            if !text.contains(kept) {
                failures.push(format!("{}: «{kept}» lost from:\n{text}\n", mail.file));
            }
        }
        for gone in mail.gone {
            if text.contains(gone) {
                failures.push(format!("{}: «{gone}» kept in:\n{text}\n", mail.file));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
