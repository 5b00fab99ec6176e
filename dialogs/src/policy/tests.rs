//! The policy's behaviour, turn by turn, with plain values.

use super::*;
use crate::analysis::analyze;
use crate::search::{Availability, Offer, SearchField};
use crate::state::Need;
use chrono::NaiveDate;

/// An escalation's details as they are stored: the JSON object the managers and the admin API
/// read.
fn stored(details: &crate::turn::EscalationDetails) -> serde_json::Value {
    serde_json::to_value(details).expect("details serialise")
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
}

struct Bot {
    state: DialogState,
    templates: Templates,
    faq: Faq,
    /// What searches return instead of `offer(1..=total)`.
    catalog: Option<Vec<Offer>>,
    /// How the search was widened (set with `catalog`).
    widened: Vec<crate::search::Widening>,
    /// Hotel descriptions by key.
    details: Vec<(i64, HotelDetails)>,
    /// Hints the analyser of the next message does not give yet: set on its analysis.
    hints: Option<crate::analysis::Hints>,
    /// Hotels the operator's list has for the next message.
    hotels_named: Vec<crate::search::NamedHotel>,
    sold: Vec<String>,
    departures: Vec<String>,
    /// Every query searched.
    queries: Vec<SearchQuery>,
}

fn offer(n: u64) -> Offer {
    Offer {
        id: format!("offer-{n}"),
        hotel: format!("Hotel {n}"),
        hotel_key: None,
        stars: Some(4),
        resort: "Nha Trang".into(),
        check_in: NaiveDate::from_ymd_opt(2027, 3, 2).unwrap(),
        nights: 10,
        meal: "BB".into(),
        room: "Standard".into(),
        price: 500_000 + n * 10_000,
        currency: "KZT".into(),
        availability: Availability::Available,
    }
}

impl Bot {
    fn new() -> Self {
        Self {
            state: DialogState::default(),
            templates: Templates::defaults(),
            faq: Faq::defaults(),
            catalog: None,
            widened: Vec::new(),
            details: Vec::new(),
            hints: None,
            hotels_named: Vec::new(),
            sold: vec!["Vietnam".into()],
            departures: Vec::new(),
            queries: Vec::new(),
        }
    }

    fn ctx(&self) -> Context<'_> {
        Context {
            sold_countries: &self.sold,
            departures: &self.departures,
            ..Context::new(&self.templates, &self.faq)
        }
    }

    fn step(&mut self, mut input: TurnInput) -> Step {
        let mut analysis = analyze(&input.text, input.today);
        if let Some(hints) = self.hints.take() {
            analysis.hints = hints;
        }
        input.hotels_named = std::mem::take(&mut self.hotels_named);
        let ctx = Context {
            sold_countries: &self.sold,
            departures: &self.departures,
            ..Context::new(&self.templates, &self.faq)
        };
        decide(&mut self.state, &analysis, &input, &ctx).unwrap()
    }

    fn say(&mut self, text: &str) -> Step {
        self.step(TurnInput::text(text, today()))
    }

    /// Runs a whole turn against a search that returns `total` offers.
    fn turn(&mut self, text: &str, total: u64) -> TurnOutcome {
        let step = self.say(text);
        self.finish(step, total)
    }

    /// A whole turn whose analysis carries `hints` (as the analyser will give them).
    fn hinted(&mut self, text: &str, hints: crate::analysis::Hints, total: u64) -> TurnOutcome {
        self.hints = Some(hints);
        self.turn(text, total)
    }

    /// The text of all replies of a turn, no-break spaces made plain.
    fn text(out: &TurnOutcome) -> String {
        out.replies
            .iter()
            .map(|r| r.text.replace('\u{a0}', " "))
            .collect::<Vec<_>>()
            .join("\n---\n")
    }

    fn finish(&mut self, step: Step, total: u64) -> TurnOutcome {
        match step {
            Step::Reply(o) => o,
            Step::FreeForm { fallback, .. } => {
                let ctx = self.ctx();
                let mut state = self.state.clone();
                let out = settle(&mut state, fallback, None, &ctx).unwrap();
                self.state = state;
                out
            }
            Step::Search { query, page } => {
                self.queries.push(query.clone());
                let all: Vec<Offer> = self
                    .catalog
                    .clone()
                    .unwrap_or_else(|| (1..=total).map(offer).collect());
                let offers: Vec<Offer> = all
                    .iter()
                    .skip(page.offset)
                    .take(page.limit)
                    .cloned()
                    .collect();
                let more = page.offset + offers.len() < all.len();
                let found = OfferPage {
                    offers,
                    offset: page.offset,
                    more,
                    widened: self.widened.clone(),
                };
                let ctx = self.ctx();
                let mut state = self.state.clone();
                let out = present(&mut state, query, page, Ok(found), None, &ctx).unwrap();
                self.state = state;
                out
            }
            Step::Details(request) => {
                let found: Vec<Option<HotelDetails>> = request
                    .hotels
                    .iter()
                    .map(|(_, key)| {
                        self.details
                            .iter()
                            .find(|(k, _)| k == key)
                            .map(|(_, d)| d.clone())
                    })
                    .collect();
                let ctx = self.ctx();
                let mut state = self.state.clone();
                let out = explain(&mut state, &request, &found, None, &ctx).unwrap();
                self.state = state;
                out
            }
        }
    }
}

#[test]
fn a_complete_request_searches_at_once() {
    let mut bot = Bot::new();
    let Step::Search { query, page } =
        bot.say("Хотим в Нячанг из Алматы в начале марта, 2 взрослых, 10 ночей")
    else {
        panic!("expected a search");
    };
    assert_eq!(query.departure_city, "Almaty");
    assert_eq!(query.resorts, ["Nha Trang"]);
    assert_eq!(query.date_from.to_string(), "2027-03-01");
    assert_eq!(query.date_to.to_string(), "2027-03-10");
    assert_eq!(
        (query.nights_from, query.nights_to, query.adults),
        (10, 10, 2)
    );
    assert_eq!(
        page,
        PageRequest {
            offset: 0,
            limit: 5
        }
    );
}

#[test]
fn missing_parameters_are_asked_two_at_a_time_and_bare_answers_fill_them() {
    let mut bot = Bot::new();
    let out = bot.turn("Хочу в Нячанг", 0);
    assert_eq!(bot.state.awaiting, vec![Need::DepartureCity, Need::Dates]);
    let text = &out.replies[0].text;
    assert!(text.contains("Нячанг"), "{text}");
    assert!(
        text.contains("из какого города") && text.contains("когда"),
        "{text}"
    );
    bot.turn("из Астаны в апреле", 0);
    assert_eq!(bot.state.awaiting, vec![Need::Nights, Need::Party]);
    bot.turn("10", 0);
    assert_eq!(bot.state.slots.nights_from, Some(10));
    assert_eq!(bot.state.awaiting, vec![Need::Party]);
    let step = bot.say("2");
    assert!(matches!(step, Step::Search { ref query, .. } if query.adults == 2));
}

#[test]
fn offers_are_shown_paged_and_booked_with_a_manager() {
    let mut bot = Bot::new();
    let out = bot.turn("Нячанг из Алматы в марте на 10 ночей вдвоём", 12);
    let text = &out.replies[0].text;
    assert!(text.contains("1. Hotel 1 4*"), "{text}");
    assert!(text.contains("5. Hotel 5"), "{text}");
    assert!(!text.contains("Hotel 6"), "{text}");
    assert!(text.contains("510\u{a0}000\u{a0}₸"), "{text}");
    assert!(text.contains("завтраки"), "{text}");
    let actions: Vec<&str> = out.replies[0]
        .buttons
        .iter()
        .map(|b| b.action.as_str())
        .collect();
    assert_eq!(
        actions,
        [
            "book:1", "book:2", "book:3", "book:4", "book:5", "more", "manager"
        ]
    );

    let out = bot.turn("ещё", 12);
    let text = &out.replies[0].text;
    assert!(
        text.contains("6. Hotel 6") && text.contains("10. Hotel 10"),
        "{text}"
    );
    let out = bot.turn("покажите ещё варианты", 12);
    assert!(out.replies[0].text.contains("12. Hotel 12"));
    let out = bot.turn("ещё", 12);
    assert!(
        out.replies[0].text.contains("Других вариантов"),
        "{:?}",
        out.replies
    );

    let out = bot.turn("бронируем второй", 12);
    let DialogEvent::Escalate { reason, details } = &out.events[0] else {
        panic!("expected an escalation")
    };
    let bare = bot.turn("7", 12);
    let DialogEvent::Escalate {
        details: seventh, ..
    } = &bare.events[0]
    else {
        panic!("expected an escalation")
    };
    let (seventh, details) = (stored(seventh), stored(details));
    assert_eq!(seventh["offer"]["id"], "offer-7");
    assert_eq!(*reason, EscalationReason::BookingRequest);
    assert_eq!(details["offer"]["id"], "offer-2");
    assert_eq!(details["query"]["departure_city"], "Almaty");
    assert!(out.replies[0].text.contains("Hotel 2"));
    assert!(out.replies[0].text.contains("номер телефона"));
    // The same choice again is not a second request.
    let out = bot.turn("бронируем второй", 12);
    assert!(out.events.is_empty());
}

#[test]
fn a_change_after_offers_searches_again_with_the_rest_kept() {
    let mut bot = Bot::new();
    bot.turn("Нячанг из Алматы в марте на 10 ночей вдвоём", 3);
    let Step::Search { query, page } = bot.say("а если в апреле?") else {
        panic!("expected a new search");
    };
    assert_eq!(query.date_from.to_string(), "2027-04-01");
    assert_eq!(query.resorts, ["Nha Trang"]);
    assert_eq!(page.offset, 0);
    let Step::Search { query, .. } = bot.say("а с завтраками?") else {
        panic!("expected a new search");
    };
    assert_eq!(query.meal.as_deref(), Some("BB"));
}

#[test]
fn cheaper_relaxes_filters_under_the_cheapest_shown() {
    let mut bot = Bot::new();
    bot.turn("Нячанг из Алматы в марте на 10 ночей вдвоём 5 звезд", 3);
    let Step::Search { query, .. } = bot.say("давайте подешевле") else {
        panic!("expected a search");
    };
    // The filters relaxed, cheapest first; no budget the customer did not give.
    assert_eq!(query.budget_max, None);
    assert_eq!(query.stars, None);
    assert_eq!(query.sort, SortOrder::PriceAsc);
}

#[test]
fn people_complaints_and_failures_reach_a_manager() {
    for (text, reason) in [
        ("позовите менеджера", EscalationReason::HumanRequest),
        ("Ужасный отель, верните деньги", EscalationReason::Complaint),
    ] {
        let mut bot = Bot::new();
        let out = bot.turn(text, 0);
        assert!(
            matches!(&out.events[..], [DialogEvent::Escalate { reason: r, .. }] if *r == reason)
        );
        assert!(!out.replies[0].text.is_empty());
    }
    let mut bot = Bot::new();
    let Step::Search { query, page } = bot.say("Нячанг из Алматы в марте на 10 ночей вдвоём")
    else {
        panic!()
    };
    let ctx = Context::new(&bot.templates, &bot.faq);
    let out = present(
        &mut bot.state,
        query,
        page,
        Err(SearchFailure::Unavailable {
            cause: "HTTP 403 blacklisted".into(),
        }),
        None,
        &ctx,
    )
    .unwrap();
    assert!(out.replies[0].text.contains("временно недоступен"));
    let DialogEvent::Escalate { reason, details } = &out.events[0] else {
        panic!("expected an escalation")
    };
    assert_eq!(*reason, EscalationReason::SearchUnavailable);
    let details = stored(details);
    assert_eq!(details["error"], "HTTP 403 blacklisted");
    assert!(!out.replies[0].text.contains("403"));
}

#[test]
fn an_unknown_departure_city_is_reported_with_the_alternatives() {
    let mut bot = Bot::new();
    let Step::Search { query, page } = bot.say("Нячанг из Павлодара в марте на 10 ночей вдвоём")
    else {
        panic!()
    };
    let ctx = Context::new(&bot.templates, &bot.faq);
    let out = present(
        &mut bot.state,
        query,
        page,
        Err(SearchFailure::NotOffered {
            field: SearchField::DepartureCity,
            value: "Pavlodar".into(),
            alternatives: vec!["Алматы".into(), "Астана".into()],
        }),
        None,
        &ctx,
    )
    .unwrap();
    let text = &out.replies[0].text;
    assert!(
        text.contains("Павлодар") && text.contains("Алматы, Астана"),
        "{text}"
    );
    assert_eq!(bot.state.slots.departure_city, None);
    let step = bot.say("тогда из Астаны");
    assert!(matches!(step, Step::Search { ref query, .. } if query.departure_city == "Astana"));
}

#[test]
fn every_reply_renders_in_kazakh_and_english() {
    for (lang, hello, search, more, book) in [
        (
            "kk",
            "Сәлеметсіз бе",
            "Алматыдан Нячангқа наурызда 10 түнге 2 ересек",
            "тағы",
            "екінші нұсқаны брондаймыз",
        ),
        (
            "en",
            "Hello",
            "Nha Trang from Almaty in March for 10 nights, 2 adults",
            "more options",
            "book the second option",
        ),
    ] {
        let mut bot = Bot::new();
        let out = bot.turn(hello, 0);
        assert!(out.replies[0].text.contains("Crystal Bay"));
        assert_eq!(bot.state.language.map(Language::code), Some(lang));
        let out = bot.turn(search, 7);
        assert!(
            out.replies[0].text.contains("Hotel 1"),
            "{lang}: {:?}",
            out.replies
        );
        assert_eq!(bot.state.language.map(Language::code), Some(lang));
        let out = bot.turn(more, 7);
        assert!(
            out.replies[0].text.contains("6. Hotel 6"),
            "{lang}: {:?}",
            out.replies
        );
        let out = bot.turn(book, 7);
        assert_eq!(out.events.len(), 1, "{lang}: {:?}", out.replies);
        // A bare number keeps the conversation's language.
        bot.turn("2", 7);
        assert_eq!(bot.state.language.map(Language::code), Some(lang));
    }
}

#[test]
fn buttons_act_like_words() {
    let mut bot = Bot::new();
    bot.turn("Нячанг из Алматы в марте на 10 ночей вдвоём", 7);
    let press = |action: &str| TurnInput {
        action: Some(action.into()),
        ..TurnInput::text(action, today())
    };
    let step = bot.step(press("more"));
    assert!(matches!(step, Step::Search { page, .. } if page.offset == 5));
    let shared = TurnInput {
        action: Some("contact".into()),
        customer_phone: Some("+77011234567".into()),
        ..TurnInput::text("", today())
    };
    let step = bot.step(shared);
    let out = bot.finish(step, 7);
    assert!(out.replies[0].text.contains("Спасибо"), "{:?}", out.replies);
    assert_eq!(bot.state.slots.phone.as_deref(), Some("+77011234567"));
    let step = bot.step(press("book:3"));
    let out = bot.finish(step, 7);
    let DialogEvent::Escalate { details, .. } = &out.events[0] else {
        panic!("expected an escalation")
    };
    let details = stored(details);
    assert_eq!(details["offer"]["id"], "offer-3");
}

#[test]
fn not_understood_twice_brings_a_manager() {
    let mut bot = Bot::new();
    for i in 1..=2 {
        let Step::FreeForm { fallback, .. } = bot.say("ыыы ааа") else {
            panic!("expected a free-form answer");
        };
        assert_eq!(fallback.events.len(), usize::from(i == 2), "attempt {i}");
    }
}

mod office_tests {
    use super::*;
    use crate::analysis::analyze;

    #[test]
    fn out_of_hours_the_customer_is_told_when_a_manager_answers() {
        let templates = Templates::defaults();
        let faq = Faq::default();
        let keywords = vec!["юрист".to_owned()];
        let ctx = Context {
            keywords: &keywords,
            ..Context::new(&templates, &faq)
        };
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
        let closed = crate::hours::WorkingHours::parse("Mon-Fri 10:00-19:00")
            .unwrap()
            .at(today.and_hms_opt(12, 0, 0).unwrap());
        for (lang_text, expect) in [
            ("позовите менеджера", "в понедельник с 10:00"),
            ("I want to talk to a manager", "on Monday from 10:00"),
            ("менеджермен сөйлескім келеді", "дүйсенбі күні сағат 10:00"),
        ] {
            let mut state = DialogState::default();
            let input = TurnInput {
                office: Some(closed.clone()),
                ..TurnInput::text(lang_text, today)
            };
            let Step::Reply(out) =
                decide(&mut state, &analyze(lang_text, today), &input, &ctx).unwrap()
            else {
                panic!()
            };
            assert!(
                out.replies[0].text.contains(expect),
                "{}",
                out.replies[0].text
            );
        }
        let mut state = DialogState::default();
        let text = "Нужен ЮРИСТ по моему туру";
        let Step::Reply(out) = decide(
            &mut state,
            &analyze(text, today),
            &TurnInput::text(text, today),
            &ctx,
        )
        .unwrap() else {
            panic!()
        };
        assert!(matches!(
            &out.events[..],
            [DialogEvent::Escalate {
                reason: EscalationReason::Keyword,
                ..
            }]
        ));
        assert!(
            out.replies[0].text.contains("в ближайшее время"),
            "{}",
            out.replies[0].text
        );
    }
}

// ---- Issue 13, class by class. Hints the analyser will give are set on the analysis. ----

use crate::analysis::{Hints, OutOfScope, QuestionTopic};
use crate::search::{DetailSection, NamedHotel, Widening};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// An offer as an operator writes it.
fn priced(n: u64, hotel: &str, resort: &str, price: u64) -> Offer {
    Offer {
        id: format!("o{n}"),
        hotel: hotel.into(),
        hotel_key: Some(100 + n as i64),
        resort: resort.into(),
        price,
        ..offer(n)
    }
}

fn question(topic: QuestionTopic, offer: Option<u32>) -> Hints {
    Hints {
        question: Some(Question { topic, offer }),
        ..Hints::default()
    }
}

fn escalations(out: &TurnOutcome) -> Vec<EscalationReason> {
    out.events
        .iter()
        .filter_map(|e| match e {
            DialogEvent::Escalate { reason, .. } => Some(*reason),
            DialogEvent::FollowUp { .. } => None,
        })
        .collect()
}

const FULL_RU: &str = "Нячанг из Алматы в марте на 10 ночей вдвоём";
const FULL_KK: &str = "Алматыдан Нячангқа наурызда 10 түнге 2 ересек";
const FULL_EN: &str = "Nha Trang from Almaty in March for 10 nights, 2 adults";

// 1. Rendering

#[test]
fn a_category_in_the_hotel_name_is_printed_once() {
    for (full, lang) in [(FULL_RU, "ru"), (FULL_KK, "kk"), (FULL_EN, "en")] {
        let mut bot = Bot::new();
        bot.catalog = Some(vec![
            Offer {
                stars: Some(3),
                ..priced(1, "Jade Heron Seaside Inn 3*", "Nha Trang", 450_000)
            },
            Offer {
                stars: None,
                ..priced(2, "Red Dune Resort 4 *", "Nha Trang", 520_000)
            },
        ]);
        let text = Bot::text(&bot.turn(full, 0));
        assert!(
            text.contains("Jade Heron Seaside Inn 3*,"),
            "{lang}: {text}"
        );
        assert!(text.contains("Red Dune Resort 4*,"), "{lang}: {text}");
        assert!(
            !text.contains("3* 3*") && !text.contains("4 * 4*"),
            "{lang}: {text}"
        );
        let text = Bot::text(&bot.turn("2", 0));
        assert!(text.contains("Red Dune Resort 4*,"), "{lang}: {text}");
    }
}

#[test]
fn nothing_known_is_never_summarised_as_empty() {
    for text in [
        "здравствуйте хочу тур",
        "хочу забронировать тур",
        "hi, I want a tour",
        "тур керек",
    ] {
        let mut bot = Bot::new();
        let step = bot.step(TurnInput {
            customer_phone: Some("+77011234567".into()),
            ..TurnInput::text(text, today())
        });
        let out = bot.finish(step, 0);
        let all = Bot::text(&out);
        assert!(
            !all.contains("Записал: .") && !all.contains("Noted: .") && !all.contains(": ."),
            "{text}: {all}"
        );
        assert!(
            !all.contains("Записал") && !all.contains("Noted"),
            "{text}: {all}"
        );
    }
}

#[test]
fn place_names_from_the_operator_follow_the_customer_s_language() {
    let mut bot = Bot::new();
    bot.catalog = Some(vec![priced(1, "Sol Beach House", "Фукуок", 700_000)]);
    let text = Bot::text(&bot.turn("Phu Quoc from Almaty in March for 10 nights, 2 adults", 0));
    assert!(
        text.contains("Phu Quoc") && !text.contains("Фукуок"),
        "{text}"
    );
    let mut bot = Bot::new();
    bot.catalog = Some(vec![priced(1, "Sol Beach House", "о. Фукуок", 700_000)]);
    let text = Bot::text(&bot.turn("Алматыдан Фукуокқа наурызда 10 түнге 2 ересек", 0));
    assert!(
        text.contains("Фукуок") && !text.contains("о. Фукуок"),
        "{text}"
    );
}

#[test]
fn no_reply_repeats_the_previous_one_word_for_word() {
    for lines in [
        &["хочу тур", "хочу тур", "хочу тур", "хочу тур"][..],
        &["ыыы", "ыыы", "ыыы"],
        &["Нужна ли виза во Вьетнам?", "Нужна ли виза во Вьетнам?"],
        &["Здравствуйте", "Здравствуйте", "Здравствуйте"],
        &["I want a tour", "I want a tour", "I want a tour"],
        &["Сәлеметсіз бе", "тур керек", "тур керек", "тур керек"],
    ] {
        let mut bot = Bot::new();
        let mut previous: Vec<String> = Vec::new();
        for line in lines {
            let out = bot.turn(line, 3);
            let now: Vec<String> = out.replies.iter().map(|r| r.text.clone()).collect();
            for reply in &now {
                assert!(!previous.contains(reply), "{line:?} repeated: {reply}");
            }
            previous = now;
        }
    }
}

#[test]
fn the_same_offers_asked_again_are_not_listed_again_verbatim() {
    let mut bot = Bot::new();
    let first = bot.turn(FULL_RU, 3);
    let again = bot.turn(FULL_RU, 3);
    assert_ne!(first.replies[0].text, again.replies[0].text);
    assert!(
        again.replies[0].text.contains("выше"),
        "{}",
        again.replies[0].text
    );
    // The offers are still on screen: a choice books.
    let out = bot.turn("2", 3);
    assert_eq!(escalations(&out), [EscalationReason::BookingRequest]);
}

// 2. Dates

#[test]
fn a_single_date_searches_a_flexible_window_and_says_so() {
    for (text, expect) in [
        (
            "Нячанг из Алматы 28 декабря на 10 ночей вдвоём",
            "26–30 декабря (рядом с 28-м",
        ),
        (
            "Nha Trang from Almaty on 28 December, 10 nights, 2 adults",
            "around 28 December",
        ),
        (
            "Алматыдан Нячангқа 28 желтоқсанда 10 түнге 2 ересек",
            "28 желтоқсан маңында",
        ),
    ] {
        let mut bot = Bot::new();
        let step = bot.say(text);
        let Step::Search { query, .. } = &step else {
            panic!("{text}: {step:?}")
        };
        assert_eq!(
            (query.date_from, query.date_to),
            (d(2026, 12, 26), d(2026, 12, 30)),
            "{text}"
        );
        let out = bot.finish(step, 2);
        assert!(
            Bot::text(&out).contains(expect),
            "{text}: {}",
            Bot::text(&out)
        );
    }
}

#[test]
fn an_approximate_date_searches_a_wider_window() {
    let mut bot = Bot::new();
    bot.hints = Some(Hints {
        date_approximate: true,
        ..Hints::default()
    });
    let Step::Search { query, .. } =
        bot.say("Нячанг из Алматы примерно 20 января на 10 ночей вдвоём")
    else {
        panic!()
    };
    assert_eq!(
        (query.date_from, query.date_to),
        (d(2027, 1, 17), d(2027, 1, 23))
    );
}

#[test]
fn a_range_with_nights_known_is_a_window_of_departures() {
    let mut bot = Bot::new();
    bot.turn("Нячанг из Алматы на 7 ночей вдвоём", 0);
    bot.hints = Some(Hints {
        date_range: Some((d(2027, 1, 20), d(2027, 1, 30))),
        ..Hints::default()
    });
    let Step::Search { query, .. } = bot.say("20-30 января") else {
        panic!()
    };
    assert_eq!(
        (query.date_from, query.date_to),
        (d(2027, 1, 20), d(2027, 1, 23))
    );
    assert_eq!((query.nights_from, query.nights_to), (7, 7));
}

// 3. Questions during a search

fn with_offers(bot: &mut Bot, full: &str) {
    bot.catalog = Some(vec![
        priced(1, "Sunrise Hotel 4*", "Nha Trang", 640_000),
        Offer {
            stars: Some(5),
            ..priced(2, "Red Dune Resort 5*", "Nha Trang", 910_000)
        },
        priced(3, "Galina Hotel 4*", "Nha Trang", 580_000),
    ]);
    bot.details = vec![
        (
            101,
            HotelDetails {
                hotel: "Sunrise Hotel 4*".into(),
                sections: vec![DetailSection {
                    title: "Пляж".into(),
                    text: "Городской песчаный пляж в 300 м от отеля.".into(),
                }],
            },
        ),
        (
            102,
            HotelDetails {
                hotel: "Red Dune Resort 5*".into(),
                sections: vec![
                    DetailSection {
                        title: "Расположение".into(),
                        text: "Отель расположен на первой линии. Рядом рынок.".into(),
                    },
                    DetailSection {
                        title: "Номера".into(),
                        text: "120 номеров с балконом.".into(),
                    },
                ],
            },
        ),
    ];
    let out = bot.turn(full, 0);
    assert!(Bot::text(&out).contains("Galina"), "{}", Bot::text(&out));
}

#[test]
fn which_is_closer_to_the_sea_compares_the_descriptions() {
    for (full, text, expect) in [
        (
            FULL_RU,
            "какой из них ближе к морю?",
            "Ближе всего к морю — вариант 2",
        ),
        (
            FULL_EN,
            "which one is closer to the sea?",
            "Option 2 is the closest to the sea",
        ),
        (
            FULL_KK,
            "қайсысы теңізге жақын?",
            "Теңізге ең жақыны — 2-нұсқа",
        ),
    ] {
        let mut bot = Bot::new();
        with_offers(&mut bot, full);
        let out = bot.hinted(text, question(QuestionTopic::Beach, None), 0);
        let all = Bot::text(&out);
        assert!(all.contains(expect), "{text}: {all}");
        assert!(all.contains("300"), "{text}: {all}");
        assert!(
            out.events.is_empty(),
            "a question books nothing: {:?}",
            out.events
        );
        assert!(bot.state.booked.is_empty());
    }
}

#[test]
fn a_question_about_offer_one_is_answered_or_asked_never_booked() {
    for (text, topic) in [
        ("а вот первый отель какой там пляж?", QuestionTopic::Beach),
        ("первый отель далеко от моря?", QuestionTopic::Beach),
        ("расскажите про третий отель", QuestionTopic::Hotel),
    ] {
        let mut bot = Bot::new();
        with_offers(&mut bot, FULL_RU);
        let n = if topic == QuestionTopic::Hotel { 3 } else { 1 };
        let out = bot.hinted(text, question(topic, Some(n)), 0);
        let all = Bot::text(&out);
        assert!(bot.state.booked.is_empty(), "{text}: booked");
        assert!(
            !escalations(&out).contains(&EscalationReason::BookingRequest),
            "{text}"
        );
        if n == 1 {
            // Its description says: the answer comes from it.
            assert!(all.contains("300 м"), "{text}: {all}");
            assert!(out.events.is_empty(), "{text}");
        } else {
            // Galina has no description: a manager gets the question, the customer is told.
            assert_eq!(escalations(&out), [EscalationReason::Question], "{text}");
            assert!(
                all.contains("вопрос") && all.contains("менеджер"),
                "{text}: {all}"
            );
            assert!(all.contains("не бронирование"), "{text}: {all}");
        }
    }
}

#[test]
fn prices_and_facts_come_from_the_offers_on_screen() {
    let mut bot = Bot::new();
    with_offers(&mut bot, FULL_EN);
    let out = bot.hinted(
        "how much is the cheapest?",
        question(QuestionTopic::Price, None),
        0,
    );
    let all = Bot::text(&out);
    assert!(
        all.contains("option 3") && all.contains("580 000 ₸") && all.contains("2 adults"),
        "{all}"
    );
    let out = bot.hinted(
        "what meals in the second?",
        question(QuestionTopic::Meal, Some(2)),
        0,
    );
    assert!(Bot::text(&out).contains("breakfast"), "{}", Bot::text(&out));
    let out = bot.hinted(
        "when do we fly back on 1?",
        question(QuestionTopic::Flight, Some(1)),
        0,
    );
    assert!(
        Bot::text(&out).contains("back 12.03.2027"),
        "{}",
        Bot::text(&out)
    );
    assert!(bot.state.booked.is_empty());

    let mut bot = Bot::new();
    with_offers(&mut bot, FULL_RU);
    let out = bot.hinted(
        "сколько стоит самый дешевый?",
        question(QuestionTopic::Price, None),
        0,
    );
    assert!(Bot::text(&out).contains("вариант 3"), "{}", Bot::text(&out));
    let out = bot.hinted(
        "а номер какой во втором?",
        question(QuestionTopic::Room, Some(2)),
        0,
    );
    assert!(
        Bot::text(&out).contains("номер: Standard"),
        "{}",
        Bot::text(&out)
    );
    let out = bot.hinted(
        "места точно есть?",
        question(QuestionTopic::Availability, None),
        0,
    );
    assert!(
        Bot::text(&out).contains("места есть"),
        "{}",
        Bot::text(&out)
    );
    let out = bot.hinted(
        "какой из них лучше?",
        question(QuestionTopic::Compare, None),
        0,
    );
    let all = Bot::text(&out);
    assert!(
        all.contains("вариант 3") && all.contains("вариант 2"),
        "{all}"
    );
}

#[test]
fn general_questions_mid_search_are_answered_from_the_faq_and_the_search_goes_on() {
    for (text, topic, expect) in [
        (
            "что входит в цену?",
            QuestionTopic::Included,
            "перелёт туда и обратно",
        ),
        ("а предоплата сколько?", QuestionTopic::Payment, "30%"),
        (
            "what's included in the price?",
            QuestionTopic::Included,
            "includes",
        ),
        ("алдын ала төлем қанша?", QuestionTopic::Payment, "30%"),
        (
            "куда лучше — Нячанг или Фукуок?",
            QuestionTopic::Compare,
            "Фукуок — остров",
        ),
    ] {
        let mut bot = Bot::new();
        bot.turn("Хочу в Нячанг из Алматы", 0);
        let out = bot.hinted(text, question(topic, None), 0);
        let all = Bot::text(&out);
        assert!(all.contains(expect), "{text}: {all}");
        assert!(out.events.is_empty(), "{text}");
        // Still waiting for the dates: asked again after the answer.
        assert_eq!(out.replies.len(), 2, "{text}: {all}");
        assert!(bot.state.awaiting.contains(&Need::Dates), "{text}");
    }
}

// 4. Choosing

#[test]
fn a_number_meant_as_a_choice_is_never_a_party_size() {
    for text in [
        "ok book option 1",
        "берем 1",
        "давайте первый вариант",
        "1-ші нұсқаны брондаймыз",
    ] {
        let mut bot = Bot::new();
        bot.turn("Нячанг из Алматы в марте на 10 ночей", 0);
        assert_eq!(bot.state.awaiting, [Need::Party]);
        let hints = Hints {
            choice: Some(1),
            ..Hints::default()
        };
        let out = bot.hinted(text, hints, 5);
        assert_eq!(bot.state.slots.adults, None, "{text}");
        assert!(bot.queries.is_empty(), "{text}: searched {:?}", bot.queries);
        assert!(out.events.is_empty(), "{text}");
        // Told there is no list yet, and asked for the party again, in one message.
        assert_eq!(out.replies.len(), 1, "{text}: {}", Bot::text(&out));
        assert!(
            Bot::text(&out).contains("сколько вас едет"),
            "{text}: {}",
            Bot::text(&out)
        );
        assert_eq!(bot.state.awaiting, [Need::Party], "{text}");
    }
    // A bare number that fits is the answer.
    let mut bot = Bot::new();
    bot.turn("Нячанг из Алматы в марте на 10 ночей", 0);
    let step = bot.say("2");
    assert!(matches!(step, Step::Search { ref query, .. } if query.adults == 2));
}

#[test]
fn a_choice_with_no_list_on_screen_says_what_to_do_each_time_differently() {
    let mut bot = Bot::new();
    bot.turn("Хочу в Нячанг", 0);
    let first = bot.hinted(
        "берем 3",
        Hints {
            choice: Some(3),
            ..Hints::default()
        },
        0,
    );
    let second = bot.hinted(
        "второй",
        Hints {
            choice: Some(2),
            ..Hints::default()
        },
        0,
    );
    for out in [&first, &second] {
        assert!(out.events.is_empty());
        assert!(
            Bot::text(out).contains("не показывал"),
            "{}",
            Bot::text(out)
        );
    }
    assert_ne!(first.replies, second.replies);
}

#[test]
fn a_hotel_named_on_screen_is_chosen_and_the_language_stays() {
    for (full, text) in [
        (FULL_RU, "берем Red Dune"),
        (FULL_RU, "Red Dune бронируем"),
        (FULL_EN, "book red dune please"),
    ] {
        let mut bot = Bot::new();
        with_offers(&mut bot, full);
        let lang = bot.state.language;
        let out = bot.turn(text, 0);
        assert_eq!(
            escalations(&out),
            [EscalationReason::BookingRequest],
            "{text}: {}",
            Bot::text(&out)
        );
        let DialogEvent::Escalate { details, .. } = &out.events[0] else {
            panic!("expected an escalation")
        };
        let details = stored(details);
        assert_eq!(details["offer"]["hotel"], "Red Dune Resort 5*", "{text}");
        assert_eq!(details["party"]["adults"], 2, "{text}");
        assert_eq!(details["query"]["nights_from"], 10, "{text}");
        assert_eq!(bot.state.language, lang, "{text}");
    }
}

#[test]
fn a_hotel_named_on_screen_without_taking_it_is_a_question() {
    let mut bot = Bot::new();
    with_offers(&mut bot, FULL_RU);
    let out = bot.turn("а Red Dune что за отель?", 0);
    assert!(bot.state.booked.is_empty());
    assert!(
        Bot::text(&out).contains("первой линии"),
        "{}",
        Bot::text(&out)
    );
}

#[test]
fn a_changed_party_searches_again_rather_than_booking_the_old_list() {
    let mut bot = Bot::new();
    bot.turn(FULL_RU, 3);
    let step = bot.say("берем второй, только нас будет трое");
    let Step::Search { query, .. } = step else {
        panic!("expected a new search for three: {step:?}")
    };
    assert_eq!(query.adults, 3);
    assert!(bot.state.booked.is_empty());
}

// 5. Empty results

#[test]
fn the_nearest_offers_say_what_differs_from_the_query() {
    let mut bot = Bot::new();
    bot.catalog = Some(vec![
        Offer {
            check_in: d(2027, 3, 12),
            nights: 9,
            stars: Some(4),
            meal: "BB".into(),
            ..priced(1, "Sunrise Hotel", "Cam Ranh", 1_052_000)
        },
        Offer {
            check_in: d(2027, 3, 8),
            stars: Some(5),
            meal: "AI".into(),
            ..priced(2, "Red Dune Resort", "Nha Trang", 990_000)
        },
    ]);
    bot.widened = vec![
        Widening::Dates,
        Widening::Nights,
        Widening::Stars,
        Widening::Budget,
    ];
    let out = bot.turn(
        "Нячанг из Алматы 8 марта на 10 ночей вдвоём, 5 звезд всё включено до 1 000 000 тенге",
        0,
    );
    let all = Bot::text(&out);
    assert!(all.contains("Точно по вашему запросу"), "{all}");
    for part in [
        "вылет 12 марта (вы просили 6–10 марта)",
        "9 ноч. вместо 10",
        "4* вместо 5*",
        "питание «завтраки» вместо «всё включено»",
        "курорт Камрань вместо Нячанг",
        "на 52 000 ₸ дороже бюджета",
    ] {
        assert!(all.contains(part), "{part}: {all}");
    }
    // The second matches everything: nothing listed against it.
    let second = all.split("2. Red Dune").nth(1).unwrap();
    assert!(!second.contains("отличается"), "{all}");
    assert!(out.events.is_empty());
    // They can be chosen.
    let out = bot.turn("1", 0);
    assert_eq!(escalations(&out), [EscalationReason::BookingRequest]);
}

#[test]
fn nothing_found_brings_a_manager_and_later_messages_get_their_own_answers() {
    let mut bot = Bot::new();
    let out = bot.turn(FULL_RU, 0);
    assert_eq!(escalations(&out), [EscalationReason::NothingFound]);
    let all = Bot::text(&out);
    assert!(
        all.contains("менеджер") && all.contains("в ближайшее время"),
        "{all}"
    );
    let mut seen = vec![out.replies[0].text.clone()];
    for (text, hints) in [
        (
            "ещё?",
            Hints {
                more: true,
                ..Hints::default()
            },
        ),
        (
            "подешевле",
            Hints {
                cheaper: true,
                ..Hints::default()
            },
        ),
        (
            "берем 3",
            Hints {
                choice: Some(3),
                ..Hints::default()
            },
        ),
    ] {
        let out = bot.hinted(text, hints, 0);
        assert!(out.events.is_empty(), "{text}: the manager has it already");
        let reply = out.replies[0].text.clone();
        assert!(!seen.contains(&reply), "{text}: {reply}");
        assert!(reply.to_lowercase().contains("менеджер"), "{text}: {reply}");
        seen.push(reply);
    }
    // The same search again does not bring a second manager.
    let out = bot.turn(
        "давайте ещё раз поищем: Нячанг из Алматы в марте на 10 ночей вдвоём",
        0,
    );
    assert!(out.events.is_empty(), "{:?}", out.events);
}

// 6. Scope

#[test]
fn a_country_not_sold_gets_an_honest_answer_and_is_not_recorded() {
    for (text, country) in [
        ("в Таиланд туры есть?", "Таиланд"),
        ("а на Бали?", "Бали"),
        ("хотим в Турцию в мае вдвоём", "Турция"),
        ("do you have tours to Thailand?", "Thailand"),
    ] {
        let mut bot = Bot::new();
        let out = bot.turn(text, 3);
        let all = Bot::text(&out);
        assert!(all.contains(country), "{text}: {all}");
        assert!(
            !all.contains("Записал") && !all.contains("Noted"),
            "{text}: {all}"
        );
        assert_eq!(bot.state.slots.country, None, "{text}");
        assert!(bot.queries.is_empty(), "{text}");
        // "Да" then means the country we sell.
        let step = bot.say("да");
        if let Step::Reply(out) = step {
            assert!(
                Bot::text(&out).contains("Вьетнам")
                    || Bot::text(&out).contains("Vietnam")
                    || bot.state.slots.country.is_some(),
                "{text}"
            );
        }
        assert_eq!(
            bot.state.slots.country.as_deref(),
            Some("Vietnam"),
            "{text}"
        );
    }
    // A configured list sells Turkey.
    let mut bot = Bot::new();
    bot.sold = vec!["Turkey".into(), "Vietnam".into()];
    bot.turn("хотим в Турцию в мае вдвоём", 0);
    assert_eq!(bot.state.slots.country.as_deref(), Some("Turkey"));
}

#[test]
fn flights_hotels_alone_and_past_bookings_are_not_searched() {
    for (text, scope, escalates) in [
        (
            "только авиабилеты Алматы Нячанг 5 марта",
            OutOfScope::FlightsOnly,
            false,
        ),
        (
            "flight only to Nha Trang please",
            OutOfScope::FlightsOnly,
            false,
        ),
        (
            "нужен только отель без перелета",
            OutOfScope::HotelOnly,
            false,
        ),
        (
            "я у вас в ноябре покупала тур, когда документы?",
            OutOfScope::ExistingBooking,
            true,
        ),
    ] {
        let mut bot = Bot::new();
        let out = bot.hinted(
            text,
            Hints {
                scope: Some(scope),
                ..Hints::default()
            },
            3,
        );
        assert!(bot.queries.is_empty(), "{text}");
        assert_eq!(bot.state.slots.date_from, None, "{text}: recorded a date");
        assert_eq!(bot.state.slots.resort, None, "{text}: recorded a resort");
        assert_eq!(
            escalations(&out),
            if escalates {
                vec![EscalationReason::ExistingBooking]
            } else {
                vec![]
            },
            "{text}"
        );
        assert!(!Bot::text(&out).contains("Записал"), "{text}");
    }
}

#[test]
fn a_route_the_caller_found_not_offered_is_said_and_not_recorded() {
    let mut bot = Bot::new();
    let out = bot.step(TurnInput {
        route: Some(SearchFailure::NotOffered {
            field: SearchField::DepartureCity,
            value: "Karaganda".into(),
            alternatives: vec!["Алматы".into(), "Астана".into()],
        }),
        ..TurnInput::text("do you have departures from karaganda to vietnam?", today())
    });
    let out = bot.finish(out, 0);
    let all = Bot::text(&out);
    assert!(
        all.contains("Karaganda") && all.contains("Almaty, Astana"),
        "{all}"
    );
    assert!(!all.contains("Noted"), "{all}");
    assert_eq!(bot.state.slots.departure_city, None);
    assert_eq!(bot.state.awaiting, [Need::DepartureCity]);
}

#[test]
fn a_departure_city_without_flights_is_said_before_searching() {
    let mut bot = Bot::new();
    bot.departures = vec!["Almaty".into(), "Astana".into()];
    let out = bot.turn("из Караганды есть вылеты?", 0);
    let all = Bot::text(&out);
    assert!(
        all.contains("Караганда") && all.contains("Алматы, Астана"),
        "{all}"
    );
    assert_eq!(bot.state.slots.departure_city, None);
    bot.turn("тогда из Астаны", 0);
    assert_eq!(bot.state.slots.departure_city.as_deref(), Some("Astana"));
}

// 7. "X или Y"

#[test]
fn two_resorts_are_searched_together() {
    for (text, expect) in [
        (
            "Нячанг или Камрань из Алматы в марте на 10 ночей вдвоём",
            "Нячанг или Камрань",
        ),
        (
            "Nha Trang or Cam Ranh from Almaty in March, 10 nights, 2 adults",
            "Nha Trang or Cam Ranh",
        ),
    ] {
        let mut bot = Bot::new();
        bot.hints = Some(Hints {
            resort_alternatives: vec!["Cam Ranh".into()],
            ..Hints::default()
        });
        let step = bot.say(text);
        let Step::Search { query, .. } = &step else {
            panic!("{step:?}")
        };
        assert_eq!(query.resorts, ["Nha Trang", "Cam Ranh"], "{text}");
        let out = bot.finish(step, 2);
        assert!(Bot::text(&out).contains(expect), "{}", Bot::text(&out));
        // A resort said alone later replaces both.
        let Step::Search { query, .. } = bot.say("давайте только Нячанг") else {
            panic!()
        };
        assert_eq!(query.resorts, ["Nha Trang"]);
    }
}

// 8. Named hotels

#[test]
fn a_hotel_named_before_any_list_narrows_the_search_to_it() {
    let mut bot = Bot::new();
    bot.hotels_named = vec![NamedHotel {
        name: "Vinpearl Resort & Spa Phu Quoc".into(),
        resort: Some("Phu Quoc".into()),
        country: "Vietnam".into(),
        stars: Some(5),
    }];
    let out = bot.turn("хотим в Vinpearl Resort Phu Quoc из Астаны", 0);
    assert!(Bot::text(&out).contains("Vinpearl"), "{}", Bot::text(&out));
    assert_eq!(bot.state.slots.resort.as_deref(), Some("Phu Quoc"));
    let Step::Search { query, .. } = bot.say("в апреле на 7 ночей вдвоём")
    else {
        panic!()
    };
    assert_eq!(query.hotels, ["Vinpearl Resort & Spa Phu Quoc"]);
    assert_eq!(query.resorts, ["Phu Quoc"]);
}

#[test]
fn the_party_is_never_assumed() {
    for text in [
        "Нячанг из Алматы в марте на 10 ночей",
        "Nha Trang from Almaty in March for 10 nights",
        "хотим в Нячанг из Астаны 10 марта на неделю с ребенком",
    ] {
        let mut bot = Bot::new();
        let step = bot.say(text);
        assert!(matches!(step, Step::Reply(_)), "{text}: {step:?}");
        assert!(
            bot.state.awaiting.contains(&Need::Party)
                || bot.state.awaiting.contains(&Need::ChildAges),
            "{text}: {:?}",
            bot.state.awaiting
        );
    }
}

#[test]
fn the_language_follows_the_customer_not_a_short_line_or_a_hotel_name() {
    let lang = |bot: &Bot| bot.state.language.map(Language::code);
    // A short English line in a Russian chat.
    let mut bot = Bot::new();
    bot.turn("Нячанг из Алматы в марте на 10 ночей", 0);
    bot.hinted(
        "ok book option 1",
        Hints {
            choice: Some(1),
            ..Hints::default()
        },
        0,
    );
    assert_eq!(lang(&bot), Some("ru"));
    // Russian words in a Kazakh chat.
    let mut bot = Bot::new();
    bot.turn("Алматыдан Нячангқа наурызда барғымыз келеді", 0);
    bot.turn("10 ночей", 0);
    assert_eq!(lang(&bot), Some("kk"));
    // A one-word greeting does not hold the chat in its language.
    let mut bot = Bot::new();
    bot.turn("Hi", 0);
    let out = bot.turn("хочу в Нячанг", 0);
    assert_eq!(lang(&bot), Some("ru"), "{}", Bot::text(&out));
    // A customer who really writes in another language is answered in it.
    let mut bot = Bot::new();
    bot.turn("Здравствуйте, хотим в Нячанг", 0);
    bot.turn(
        "sorry, can you answer in English please? We fly from Almaty",
        0,
    );
    assert_eq!(lang(&bot), Some("en"));
}

#[test]
fn nothing_cheaper_keeps_the_list_and_brings_no_manager() {
    for (full, cheaper, expect) in [
        (FULL_EN, "anything cheaper?", "nothing cheaper"),
        (
            FULL_RU,
            "а подешевле есть?",
            "Дешевле по этим параметрам туров нет",
        ),
    ] {
        let mut bot = Bot::new();
        with_offers(&mut bot, full);
        // The operator has nothing below the cheapest shown, even with the filters relaxed.
        let out = bot.hinted(
            cheaper,
            Hints {
                cheaper: true,
                ..Hints::default()
            },
            0,
        );
        let all = Bot::text(&out);
        assert!(all.contains(expect) && all.contains("580 000 ₸"), "{all}");
        assert!(out.events.is_empty(), "{cheaper}: {:?}", out.events);
        assert_eq!(bot.state.shown.as_ref().map(|s| s.offers.len()), Some(3));
        let out = bot.hinted(
            "ok the first one then",
            Hints {
                choice: Some(1),
                ..Hints::default()
            },
            0,
        );
        assert_eq!(escalations(&out), [EscalationReason::BookingRequest]);
    }
    // Something cheaper without the filters: shown.
    let mut bot = Bot::new();
    with_offers(
        &mut bot,
        "Нячанг из Алматы в марте на 10 ночей вдвоём, 4 звезды",
    );
    bot.catalog = Some(vec![Offer {
        stars: Some(3),
        ..priced(9, "Nesta Hotel 3*", "Nha Trang", 490_000)
    }]);
    let out = bot.hinted(
        "подешевле",
        Hints {
            cheaper: true,
            ..Hints::default()
        },
        0,
    );
    assert!(
        Bot::text(&out).contains("1. Nesta Hotel 3*"),
        "{}",
        Bot::text(&out)
    );
    assert_eq!(
        bot.state.slots.stars, None,
        "the customer accepted fewer stars"
    );
}

#[test]
fn a_number_the_analyser_read_is_not_a_party_size() {
    let mut bot = Bot::new();
    bot.turn("da nang from almaty in march", 0);
    assert_eq!(bot.state.awaiting, [Need::Nights, Need::Party]);
    bot.turn("9 nights", 0);
    assert_eq!(
        (bot.state.slots.nights_from, bot.state.slots.adults),
        (Some(9), None)
    );
    assert_eq!(bot.state.awaiting, [Need::Party]);
}

#[test]
fn an_offer_asked_about_with_a_question_mark_is_not_booked() {
    for text in [
        "is the first one good for kids?",
        "а первый для детей подходит?",
        "второй?",
    ] {
        let mut bot = Bot::new();
        with_offers(&mut bot, FULL_EN);
        let n = if text == "второй?" { 2 } else { 1 };
        let out = bot.hinted(
            text,
            Hints {
                choice: Some(n),
                ..Hints::default()
            },
            0,
        );
        assert!(bot.state.booked.is_empty(), "{text}: booked");
        assert!(
            !escalations(&out).contains(&EscalationReason::BookingRequest),
            "{text}"
        );
        assert!(!out.replies.is_empty(), "{text}");
    }
    // With a word of taking it is a choice.
    let mut bot = Bot::new();
    with_offers(&mut bot, FULL_RU);
    let out = bot.hinted(
        "берем первый?",
        Hints {
            choice: Some(1),
            ..Hints::default()
        },
        0,
    );
    assert_eq!(escalations(&out), [EscalationReason::BookingRequest]);
}

#[test]
fn a_sold_country_not_flown_to_from_a_city_asks_for_another_city() {
    let mut bot = Bot::new();
    bot.departures = vec!["Almaty".into(), "Astana".into(), "Shymkent".into()];
    let Step::Search { query, page } = bot.say("салам из шымкента нячанг в марте вдвоем 7 ночей")
    else {
        panic!()
    };
    let ctx = bot.ctx();
    let mut state = bot.state.clone();
    let out = present(
        &mut state,
        query,
        page,
        Err(SearchFailure::NotOffered {
            field: SearchField::Country,
            value: "Vietnam".into(),
            alternatives: vec!["Турция".into()],
        }),
        None,
        &ctx,
    )
    .unwrap();
    bot.state = state;
    let all = Bot::text(&out);
    assert!(all.contains("Шымкент") && all.contains("Алматы"), "{all}");
    assert!(!all.contains("Турция"), "{all}");
    assert_eq!(bot.state.slots.resort.as_deref(), Some("Nha Trang"));
    let Step::Search { query, .. } = bot.say("а из алматы сколько будет?")
    else {
        panic!("expected a search from Almaty")
    };
    assert_eq!(
        (query.departure_city.as_str(), query.resorts.clone()),
        ("Almaty", vec!["Nha Trang".to_owned()])
    );
}

#[test]
fn a_question_with_new_parameters_is_answered_and_the_search_goes_on() {
    // Not enough to search yet: the answer, then what is still needed.
    let mut bot = Bot::new();
    let out = bot.turn("фукуок или нячанг, қайсысы жақсы қаңтарда?", 0);
    let all = Bot::text(&out);
    assert!(all.contains("Фукуок — "), "the resorts compared: {all}");
    assert!(all.contains("қай қаладан"), "then asked on: {all}");
    assert_eq!(bot.state.resorts_also, ["Nha Trang"]);
    // Enough to search: the answer comes first, then the offers.
    let mut bot = Bot::new();
    let out = bot.turn(
        "куда лучше — Нячанг или Фукуок? из Алматы в марте на 10 ночей вдвоём",
        2,
    );
    let all = Bot::text(&out);
    assert_eq!(out.replies.len(), 2, "{all}");
    assert!(out.replies[0].text.contains("Курорты Вьетнама"), "{all}");
    assert!(out.replies[1].text.contains("Hotel 1"), "{all}");
    assert_eq!(bot.queries[0].resorts, ["Nha Trang", "Phu Quoc"]);
}

#[test]
fn the_same_request_again_points_at_the_offers_without_searching() {
    let mut bot = Bot::new();
    bot.turn(
        "Фукуок из Алматы в конце февраля на 12 ночей, 5 звезд, нас двое",
        1,
    );
    let out = bot.turn("да, нас двое конечно", 1);
    assert_eq!(bot.queries.len(), 1, "no second search");
    assert!(Bot::text(&out).contains("выше"), "{}", Bot::text(&out));
    assert!(
        !out.replies[0].buttons.is_empty(),
        "the offers' buttons stay"
    );
}

#[test]
fn a_question_about_an_option_not_on_screen_is_not_taken_for_a_booking() {
    // Three on screen, the customer asks about a fifth: which one is meant, not "which shall
    // we book".
    let mut bot = Bot::new();
    with_offers(&mut bot, FULL_RU);
    let out = bot.hinted(
        "а пятый вариант завтраки включены?",
        question(QuestionTopic::Meal, Some(5)),
        0,
    );
    let all = Bot::text(&out);
    assert!(all.contains("О каком варианте"), "{all}");
    assert!(!all.contains("бронируем"), "{all}");
    assert!(bot.state.booked.is_empty());
    assert!(out.events.is_empty(), "{:?}", out.events);

    // One on screen: the answer is about it.
    let mut bot = Bot::new();
    bot.catalog = Some(vec![priced(1, "Sunrise Hotel 4*", "Nha Trang", 640_000)]);
    bot.turn(FULL_RU, 0);
    let out = bot.hinted(
        "а второй вариант завтраки включены?",
        question(QuestionTopic::Meal, Some(2)),
        0,
    );
    let all = Bot::text(&out);
    assert!(all.contains("Sunrise"), "{all}");
    assert!(!all.contains("бронируем"), "{all}");
    assert!(bot.state.booked.is_empty());
}

#[test]
fn what_no_description_mentions_goes_to_a_manager_as_a_question() {
    let mut bot = Bot::new();
    with_offers(&mut bot, FULL_RU);
    let out = bot.turn("а во втором есть анимация для детей?", 0);
    let text = Bot::text(&out);
    assert!(text.contains("анимация"), "{text}");
    assert_eq!(escalations(&out), [EscalationReason::Question], "{text}");
    assert!(bot.state.booked.is_empty());
}

#[test]
fn an_english_reader_never_gets_the_operators_russian() {
    let mut bot = Bot::new();
    with_offers(&mut bot, FULL_EN);
    for text in [
        "which one is closest to the beach?",
        "does the 2nd one have a pool?",
    ] {
        let out = bot.turn(text, 0);
        let reply = Bot::text(&out);
        assert!(
            !reply
                .chars()
                .any(|c| ('\u{0400}'..='\u{04FF}').contains(&c)),
            "{text}: {reply}"
        );
    }
}

#[test]
fn another_place_of_a_country_not_sold_is_still_answered_about_it() {
    let mut bot = Bot::new();
    let first = Bot::text(&bot.turn("в таиланд туры есть?", 0));
    let again = Bot::text(&bot.turn("а на пхукет?", 0));
    assert_ne!(first, again);
    assert!(
        again.contains("Таиланд") && again.contains("Вьетнам"),
        "{again}"
    );
}

#[test]
fn offers_sent_before_with_no_list_get_a_helpful_answer() {
    let mut bot = Bot::new();
    bot.turn("привет", 0);
    let out = bot.turn("ну который вчера скидывали", 0);
    let text = Bot::text(&out);
    assert!(text.contains("не отправлял"), "{text}");
    assert!(out.events.is_empty());
}

#[test]
fn an_emoji_alone_is_a_hello_or_a_nudge_never_not_understood() {
    let mut bot = Bot::new();
    let hello = Bot::text(&bot.turn("👋", 0));
    assert!(hello.contains("Здравствуйте"), "{hello}");
    bot.turn("хотим в нячанг", 0);
    let nudge = Bot::text(&bot.turn("🙏", 0));
    assert!(!nudge.contains("не совсем понял"), "{nudge}");
}

#[test]
fn a_childs_age_said_with_a_pronoun_answers_the_question() {
    let mut bot = Bot::new();
    bot.turn("hi we r 2 adults + 1 kid", 0);
    bot.turn("from almaty to phu quoc, march, 10 nights", 0);
    assert_eq!(bot.state.awaiting, [Need::ChildAges]);
    bot.turn("shes 5", 0);
    assert_eq!(bot.state.slots.child_ages, [5]);
}

#[test]
fn a_question_the_rules_cannot_place_goes_to_a_manager_and_the_search_goes_on() {
    let mut bot = Bot::new();
    bot.turn("нячанг вдвоем из алматы в январе", 0);
    let out = bot.turn("в каком из отелей номера с видом на море?", 0);
    let text = Bot::text(&out);
    assert!(!text.contains("не совсем понял"), "{text}");
    assert_eq!(escalations(&out), [EscalationReason::Question], "{text}");
    assert!(text.contains("ноч"), "the nights are still asked: {text}");
    assert!(bot.state.booked.is_empty());
}

#[test]
fn a_question_about_the_list_the_rules_cannot_place_is_answered_from_the_descriptions() {
    let mut bot = Bot::new();
    with_offers(&mut bot, FULL_RU);
    let out = bot.turn("в каком отеле номера с балконом?", 0);
    let text = Bot::text(&out);
    assert!(text.contains("балкон"), "{text}");
    assert!(!text.contains("в сообщении выше"), "{text}");
    assert!(bot.state.booked.is_empty());
}

#[test]
fn someone_joining_the_party_said_before_searches_again_for_all() {
    for (full, joining) in [
        (FULL_RU, "ой с нами еще мама поедет"),
        (FULL_EN, "my sister is coming too"),
    ] {
        let mut bot = Bot::new();
        bot.turn(full, 3);
        let step = bot.say(joining);
        let Step::Search { query, .. } = step else {
            panic!("{joining}: expected a new search for three: {step:?}")
        };
        assert_eq!(query.adults, 3, "{joining}");
    }
    // A new count said with it wins.
    let mut bot = Bot::new();
    bot.turn(FULL_RU, 3);
    let Step::Search { query, .. } = bot.say("мама тоже поедет, получается трое взрослых")
    else {
        panic!("expected a search")
    };
    assert_eq!(query.adults, 3);
}

#[test]
fn which_is_best_for_something_is_asked_of_the_descriptions_not_the_prices() {
    let mut bot = Bot::new();
    with_offers(&mut bot, FULL_EN);
    let out = bot.hinted(
        "which hotel is best for kids?",
        question(QuestionTopic::Compare, None),
        0,
    );
    let text = Bot::text(&out);
    assert!(!text.contains("best price"), "{text}");
    // No description speaks of children: a manager gets the question, the customer is told.
    assert_eq!(escalations(&out), [EscalationReason::Question], "{text}");
    assert!(bot.state.booked.is_empty());
}
