//! The policy's behaviour, turn by turn, with plain values.

use super::*;
use crate::analysis::analyze;
use crate::search::{Availability, Offer, SearchField};
use crate::state::Need;
use chrono::NaiveDate;

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
    let DialogEvent::Escalate { reason, details } = &out.events[0];
    let bare = bot.turn("7", 12);
    let DialogEvent::Escalate {
        details: seventh, ..
    } = &bare.events[0];
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
    assert_eq!(query.budget_max, Some(509_999));
    assert_eq!(query.stars, None);
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
    let DialogEvent::Escalate { reason, details } = &out.events[0];
    assert_eq!(*reason, EscalationReason::SearchUnavailable);
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
    let DialogEvent::Escalate { details, .. } = &out.events[0];
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
