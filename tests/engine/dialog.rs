//! Whole conversations through the real engine: WhatsApp messages in through the Wazzup webhook,
//! the real Conversation actors and dialog policy, a stand-in for the Tours actor (its SAMO
//! side is tested in `tours.rs`), replies out through the fake Wazzup, escalations in the store.

use crate::support::app::{self, Options, TestApp};
use crate::support::eventually;
use crate::support::stand_ins::{Answer, Chat, StandInTours};
use dialogs::search::SearchField;
use std::sync::Arc;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

async fn app_with(tours: Arc<StandInTours>) -> TestApp {
    app::spawn_with(Options {
        tours: Some(tours),
        ..Options::default()
    })
    .await
}

/// Text with no-break spaces (the price format) turned into plain ones.
fn plain(text: &str) -> String {
    text.replace('\u{a0}', " ")
}

#[tokio::test]
async fn a_full_request_in_one_message_is_answered_with_offers() {
    let tours = StandInTours::new(Answer::Offers(3));
    let app = app_with(tours.clone()).await;
    let mut chat = Chat::new(&app, "77010000001");
    let reply = plain(
        &chat
            .say("Хотим в Нячанг из Алматы в начале марта, 2 взрослых, 10 ночей")
            .await,
    );
    assert!(reply.contains("1. Nha Trang Hotel 1 4*"), "{reply}");
    assert!(reply.contains("625 000 ₸"), "{reply}");
    assert!(reply.contains("3. Nha Trang Hotel 3"), "{reply}");
    assert!(reply.contains("всё включено"), "{reply}");
    let queries = tours.queries();
    assert_eq!(queries.len(), 1);
    let (q, page) = &queries[0];
    assert_eq!(
        (
            q.departure_city.as_str(),
            q.resorts.first().map(String::as_str),
            q.adults,
            q.nights_from
        ),
        ("Almaty", Some("Nha Trang"), 2, 10)
    );
    assert_eq!(q.date_from.format("%m-%d").to_string(), "03-01");
    assert_eq!(q.date_to.format("%m-%d").to_string(), "03-10");
    assert_eq!((page.offset, page.limit), (0, 5));
}

#[tokio::test]
async fn missing_parameters_are_collected_over_three_messages() {
    let tours = StandInTours::new(Answer::Offers(2));
    let app = app_with(tours.clone()).await;
    let mut chat = Chat::new(&app, "77010000002");
    let first = chat.say("Здравствуйте, хотим во Вьетнам на Фукуок").await;
    assert!(first.contains("Фукуок"), "{first}");
    assert!(
        first.contains("из какого города") && first.contains("когда"),
        "{first}"
    );
    let second = chat.say("из Астаны, в конце января").await;
    assert!(
        second.contains("ночей") && second.contains("сколько вас"),
        "{second}"
    );
    assert!(
        tours.queries().is_empty(),
        "nothing searched before all is known"
    );
    let third = chat.say("на неделю, нас трое").await;
    assert!(third.contains("Phu Quoc Hotel 1"), "{third}");
    let (q, _) = &tours.queries()[0];
    assert_eq!(q.departure_city, "Astana");
    assert_eq!(q.resorts.first().map(String::as_str), Some("Phu Quoc"));
    assert_eq!((q.nights_from, q.adults), (7, 3));
    assert_eq!(q.date_from.format("%m-%d").to_string(), "01-21");
}

#[tokio::test]
async fn a_new_month_after_offers_searches_again_keeping_the_rest() {
    let tours = StandInTours::new(Answer::Offers(3));
    let app = app_with(tours.clone()).await;
    let mut chat = Chat::new(&app, "77010000003");
    chat.say("Нячанг из Алматы в марте на 10 ночей, двое взрослых")
        .await;
    let reply = chat.say("а если в апреле?").await;
    assert!(reply.contains("Nha Trang Hotel 1"), "{reply}");
    assert!(reply.contains(".04."), "the April offers: {reply}");
    let reply = chat.say("а с завтраками?").await;
    assert!(reply.contains("завтраки"), "{reply}");
    let queries = tours.queries();
    assert_eq!(queries.len(), 3);
    let (april, _) = &queries[1];
    assert_eq!(april.date_from.format("%m-%d").to_string(), "04-01");
    assert_eq!(
        (
            april.departure_city.as_str(),
            april.nights_from,
            april.adults
        ),
        ("Almaty", 10, 2)
    );
    assert_eq!(queries[2].0.meal.as_deref(), Some("BB"));
    assert_eq!(queries[2].0.date_from, april.date_from);
}

#[tokio::test]
async fn more_shows_the_next_offers_and_then_says_there_are_no_more() {
    let tours = StandInTours::new(Answer::Offers(7));
    let app = app_with(tours.clone()).await;
    let mut chat = Chat::new(&app, "77010000004");
    let first = chat
        .say("Нячанг из Алматы в марте на 10 ночей вдвоём")
        .await;
    assert!(first.contains("5. Nha Trang Hotel 5") && !first.contains("Hotel 6"));
    let next = chat.say("ещё").await;
    assert!(
        next.contains("6. Nha Trang Hotel 6") && next.contains("7. Nha Trang Hotel 7"),
        "{next}"
    );
    assert!(!next.contains("Hotel 5"), "{next}");
    let last = chat.say("есть ещё варианты?").await;
    assert!(last.contains("Других вариантов"), "{last}");
    let pages: Vec<usize> = tours.queries().iter().map(|(_, p)| p.offset).collect();
    assert_eq!(pages, [0, 5]);
}

#[tokio::test]
async fn choosing_an_offer_hands_the_booking_to_a_manager_with_everything() {
    let tours = StandInTours::new(Answer::Offers(4));
    let app = app_with(tours).await;
    let mut chat = Chat::new(&app, "77010000005");
    chat.say("Нячанг из Алматы в марте на 10 ночей вдвоём")
        .await;
    let reply = plain(&chat.say("бронируем второй").await);
    assert!(reply.contains("Nha Trang Hotel 2"), "{reply}");
    assert!(reply.contains("650 000 ₸"), "{reply}");
    // WhatsApp gives the phone: the bot does not ask for it.
    assert!(!reply.contains("номер телефона"), "{reply}");
    let escalations = chat.escalations().await;
    assert_eq!(escalations.len(), 1);
    let e = &escalations[0];
    assert_eq!(e.reason.as_str(), "booking_request");
    assert_eq!(
        crate::support::stored(&e.details)["offer"]["hotel"],
        "Nha Trang Hotel 2"
    );
    assert_eq!(
        crate::support::stored(&e.details)["offer"]["price"],
        650_000
    );
    assert_eq!(
        crate::support::stored(&e.details)["query"]["departure_city"],
        "Almaty"
    );
    assert_eq!(
        crate::support::stored(&e.details)["query"]["nights_from"],
        10
    );
    assert_eq!(
        crate::support::stored(&e.details)["slots"]["phone"],
        "+77010000005"
    );
}

#[tokio::test]
async fn a_complaint_gets_an_apology_and_a_manager() {
    let app = app_with(StandInTours::new(Answer::Offers(1))).await;
    let mut chat = Chat::new(&app, "77010000006");
    let reply = chat
        .say("Мы вернулись из Нячанга, отель был ужасный, грязно, никто не помог. Верните деньги!")
        .await;
    assert!(reply.contains("жаль"), "{reply}");
    let escalations = chat.escalations().await;
    assert_eq!(escalations.len(), 1);
    assert_eq!(escalations[0].reason.as_str(), "complaint");
    assert!(
        crate::support::stored(&escalations[0].details)["text"]
            .as_str()
            .unwrap()
            .contains("ужасный")
    );
}

#[tokio::test]
async fn a_request_for_a_person_brings_a_manager_in_kazakh() {
    let app = app_with(StandInTours::new(Answer::Offers(1))).await;
    let mut chat = Chat::new(&app, "77010000007");
    let reply = chat.say("Менеджермен сөйлескім келеді").await;
    assert!(reply.contains("менеджер"), "{reply}");
    let escalations = chat.escalations().await;
    assert_eq!(escalations.len(), 1);
    assert_eq!(escalations[0].reason.as_str(), "human_request");
    assert_eq!(
        crate::support::stored(&escalations[0].details)["language"],
        "kk"
    );
}

#[tokio::test]
async fn an_faq_question_is_answered_from_the_faq() {
    let app = app_with(StandInTours::new(Answer::Offers(1))).await;
    let mut chat = Chat::new(&app, "77010000008");
    let reply = chat
        .say("Нужна ли виза во Вьетнам для граждан Казахстана?")
        .await;
    assert!(reply.contains("виз"), "{reply}");
    assert!(reply.contains("30"), "the visa-free stay: {reply}");
    assert!(chat.escalations().await.is_empty());
}

#[tokio::test]
async fn thanks_are_answered_kindly_after_a_booking() {
    let app = app_with(StandInTours::new(Answer::Offers(2))).await;
    let mut chat = Chat::new(&app, "77010000009");
    chat.say("Нячанг из Алматы в марте на 10 ночей вдвоём")
        .await;
    chat.say("берём первый").await;
    let reply = chat.say("Спасибо большое!").await;
    assert!(reply.contains("Спасибо"), "{reply}");
    assert!(reply.contains("Менеджер свяжется"), "{reply}");
    assert_eq!(chat.escalations().await.len(), 1, "thanks escalate nothing");
}

#[tokio::test]
async fn a_kazakh_conversation_is_answered_in_kazakh_to_the_booking() {
    let tours = StandInTours::new(Answer::Offers(6));
    let app = app_with(tours.clone()).await;
    let mut chat = Chat::new(&app, "77010000010");
    let hello = chat.say("Сәлеметсіз бе").await;
    assert!(hello.contains("Сәлеметсіз бе"), "{hello}");
    let ask = chat.say("Алматыдан Дананге наурызда барғымыз келеді").await;
    assert!(ask.contains("неше түнге"), "{ask}");
    let offers = chat.say("10 түн, 2 ересек").await;
    assert!(offers.contains("Da Nang Hotel 1"), "{offers}");
    assert!(offers.contains("тамақ"), "{offers}");
    let more = chat.say("тағы көрсетіңіз").await;
    assert!(more.contains("6. Da Nang Hotel 6"), "{more}");
    let booked = chat.say("алтыншы нұсқаны брондаймыз").await;
    assert!(booked.contains("Da Nang Hotel 6"), "{booked}");
    assert!(booked.contains("менеджер"), "{booked}");
    let e = chat.escalations().await;
    assert_eq!(e.len(), 1);
    assert_eq!(
        crate::support::stored(&e[0].details)["offer"]["hotel"],
        "Da Nang Hotel 6"
    );
}

#[tokio::test]
async fn an_english_conversation_fills_slots_and_pages() {
    let tours = StandInTours::new(Answer::Offers(8));
    let app = app_with(tours.clone()).await;
    let mut chat = Chat::new(&app, "77010000011");
    let ask = chat
        .say("Hi! We'd like a beach holiday in Phu Quoc in February")
        .await;
    assert!(ask.contains("which city you fly from"), "{ask}");
    assert!(ask.contains("how many nights"), "{ask}");
    let ask = chat.say("from Almaty, 7 nights").await;
    assert!(ask.contains("how many people"), "{ask}");
    let offers = chat.say("2 adults and a child of 5").await;
    assert!(offers.contains("Phu Quoc Hotel 1"), "{offers}");
    assert!(offers.contains("in total"), "{offers}");
    let more = chat.say("more options please").await;
    assert!(more.contains("6. Phu Quoc Hotel 6"), "{more}");
    let (q, _) = &tours.queries()[0];
    assert_eq!((q.adults, q.child_ages.clone()), (2, vec![5]));
}

#[tokio::test]
async fn when_search_is_down_the_customer_is_told_and_a_manager_gets_the_request() {
    let app = app_with(StandInTours::new(Answer::Unavailable)).await;
    let mut chat = Chat::new(&app, "77010000012");
    let reply = chat
        .say("Хотим в Нячанг из Алматы в начале марта, 2 взрослых, 10 ночей")
        .await;
    assert!(reply.contains("временно недоступен"), "{reply}");
    assert!(!reply.contains('₸') && !reply.contains("Hotel"), "{reply}");
    assert!(
        !reply.contains("403"),
        "the cause is for operators: {reply}"
    );
    let e = chat.escalations().await;
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].reason.as_str(), "search_unavailable");
    assert_eq!(
        crate::support::stored(&e[0].details)["error"],
        "SAMO answered HTTP 403 apiKey blacklisted"
    );
    assert_eq!(
        crate::support::stored(&e[0].details)["query"]["resorts"][0],
        "Nha Trang"
    );
}

#[tokio::test]
async fn a_city_without_departures_is_reported_with_the_alternatives() {
    let tours = StandInTours::new(Answer::NotOffered(
        SearchField::DepartureCity,
        "Pavlodar",
        vec!["Алматы", "Астана"],
    ));
    let app = app_with(tours.clone()).await;
    let mut chat = Chat::new(&app, "77010000013");
    let reply = chat
        .say("Нячанг из Павлодара в марте на 10 ночей вдвоём")
        .await;
    assert!(reply.contains("Из города Павлодар вылетов"), "{reply}");
    assert!(reply.contains("Алматы, Астана"), "{reply}");
    tours.set_answer(Answer::Offers(1));
    let reply = chat.say("тогда из Алматы").await;
    assert!(reply.contains("Nha Trang Hotel 1"), "{reply}");
    assert_eq!(tours.queries()[1].0.departure_city, "Almaty");
}

#[tokio::test]
async fn messages_sent_in_a_burst_are_answered_once() {
    let tours = StandInTours::new(Answer::Offers(2));
    let app = app::spawn_with(Options {
        tours: Some(tours.clone()),
        // Long enough that three local posts always land inside it.
        env: vec![("BURST_WINDOW_MS", "1500".into())],
        ..Options::default()
    })
    .await;
    let mut chat = Chat::new(&app, "77010000014");
    chat.send("Хотим в Нячанг").await;
    chat.send("из Алматы в марте").await;
    chat.send("10 ночей, двое").await;
    assert!(
        eventually(WAIT, || async {
            !app.wazzup.delivered_to("77010000014").is_empty()
        })
        .await
    );
    // The turn that answered all three has committed; a fourth message gets the next reply.
    let reply = chat.say("спасибо").await;
    assert!(reply.contains("Спасибо"), "{reply}");
    let delivered = app.wazzup.delivered_to("77010000014");
    assert_eq!(
        delivered.len(),
        2,
        "one answer for the burst, one for the thanks"
    );
    assert!(
        delivered[0].text.contains("Nha Trang Hotel 1"),
        "{}",
        delivered[0].text
    );
    assert_eq!(tours.queries().len(), 1);
}

#[tokio::test]
async fn a_burst_longer_than_the_window_is_answered_once() {
    let tours = StandInTours::new(Answer::Offers(2));
    // A shortened window. The four lines come half a second apart, so the burst lasts longer
    // than one window from its first line: only a window that each line extends holds them all.
    let app = app::spawn_with(Options {
        tours: Some(tours.clone()),
        env: vec![("BURST_WINDOW_MS", "1200".into())],
        ..Options::default()
    })
    .await;
    let phone = "77010000015";
    let mut chat = Chat::new(&app, phone);
    for line in [
        "хотим в нячанг",
        "из алматы",
        "в марте на 10 ночей",
        "вдвоем",
    ] {
        chat.send(line).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(
        eventually(WAIT, || async {
            !app.wazzup.delivered_to(phone).is_empty()
        })
        .await
    );
    // The turn that answered the burst has committed; the next message gets the next reply.
    let reply = chat.say("спасибо").await;
    assert!(reply.contains("Спасибо"), "{reply}");
    let delivered = app.wazzup.delivered_to(phone);
    assert_eq!(
        delivered.len(),
        2,
        "one answer for the burst: {delivered:?}"
    );
    assert!(
        delivered[0].text.contains("Nha Trang Hotel 1"),
        "{}",
        delivered[0].text
    );
    let queries = tours.queries();
    assert_eq!(queries.len(), 1, "one search, with every line in it");
    let (q, _) = &queries[0];
    assert_eq!(
        (q.departure_city.as_str(), q.adults, q.nights_from),
        ("Almaty", 2, 10)
    );
}

// ---- Issue 13: whole conversations against an operator whose data looks like SAMO's ----

use actors::tours::TourSearch;
use async_trait::async_trait;
use dialogs::search::{
    Availability, DetailSection, HotelDetails, NamedHotel, Offer, OfferPage, PageRequest,
    SearchFailure, SearchQuery, Widening,
};
use std::sync::Mutex;

/// An operator with fixed offers: hotel names that end in their category, resorts in
/// Russian, descriptions for some hotels. `widened` non-empty: every first page is the
/// nearest offers (nothing matched exactly); no offers: nothing found at all.
struct Operator {
    offers: Vec<Offer>,
    widened: Vec<Widening>,
    details: Vec<(i64, HotelDetails)>,
    hotels: Vec<NamedHotel>,
    queries: Mutex<Vec<SearchQuery>>,
}

impl Operator {
    fn new(offers: Vec<Offer>) -> Arc<Self> {
        Arc::new(Self {
            offers,
            widened: Vec::new(),
            details: Vec::new(),
            hotels: Vec::new(),
            queries: Mutex::new(Vec::new()),
        })
    }

    fn queries(&self) -> Vec<SearchQuery> {
        self.queries.lock().unwrap().clone()
    }
}

#[async_trait]
impl TourSearch for Operator {
    async fn search(
        &self,
        query: &SearchQuery,
        page: PageRequest,
    ) -> Result<OfferPage, SearchFailure> {
        self.queries.lock().unwrap().push(query.clone());
        let offers: Vec<Offer> = self
            .offers
            .iter()
            .skip(page.offset)
            .take(page.limit)
            .cloned()
            .collect();
        Ok(OfferPage {
            more: page.offset + offers.len() < self.offers.len(),
            offers,
            offset: page.offset,
            widened: self.widened.clone(),
        })
    }

    async fn hotel_details(&self, key: i64) -> Result<Option<HotelDetails>, SearchFailure> {
        Ok(self
            .details
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, d)| d.clone()))
    }

    async fn hotels_named(&self, text: &str) -> Vec<NamedHotel> {
        let text = text.to_lowercase();
        self.hotels
            .iter()
            .filter(|h| {
                let first = h.name.split_whitespace().next().unwrap_or_default();
                text.contains(&first.to_lowercase())
            })
            .cloned()
            .collect()
    }
}

fn samo_offer(n: i64, hotel: &str, stars: u8, resort: &str, price: u64) -> Offer {
    Offer {
        id: format!("samo-{n}"),
        hotel: hotel.into(),
        hotel_key: Some(n),
        stars: Some(stars),
        resort: resort.into(),
        check_in: chrono::NaiveDate::from_ymd_opt(2027, 3, 4).unwrap(),
        nights: 10,
        meal: "BB".into(),
        room: "Superior".into(),
        price,
        currency: "KZT".into(),
        availability: Availability::Available,
    }
}

fn three_hotels() -> Vec<Offer> {
    vec![
        samo_offer(11, "Jade Heron Seaside Inn 3*", 3, "Фукуок", 540_000),
        samo_offer(12, "Red Dune Resort 4*", 4, "Фукуок", 690_000),
        samo_offer(13, "Sol Garden Hotel 4*", 4, "Фукуок", 720_000),
    ]
}

async fn operator_app(operator: Arc<Operator>) -> TestApp {
    app::spawn_with(Options {
        tours: Some(operator),
        ..Options::default()
    })
    .await
}

#[tokio::test]
async fn an_english_chat_reads_the_category_once_and_places_in_english() {
    let operator = Operator::new(three_hotels());
    let app = operator_app(operator.clone()).await;
    let mut chat = Chat::new(&app, "77010000101");
    let reply = plain(
        &chat
            .say("hi! phu quoc from almaty early march, 10 nights, 2 adults")
            .await,
    );
    assert!(
        reply.contains("1. Jade Heron Seaside Inn 3*, Phu Quoc"),
        "{reply}"
    );
    assert!(
        !reply.contains("3* 3*") && !reply.contains("4* 4*"),
        "{reply}"
    );
    assert!(!reply.contains("Фукуок"), "{reply}");
    // "ok book option 1": the first offer, for the two adults searched.
    let booked = plain(&chat.say("ok book option 1").await);
    assert!(
        booked.contains("Jade Heron Seaside Inn 3*") && booked.contains("2 adults"),
        "{booked}"
    );
    let e = chat.escalations().await;
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].reason.as_str(), "booking_request");
    assert_eq!(crate::support::stored(&e[0].details)["party"]["adults"], 2);
    assert_eq!(operator.queries()[0].adults, 2);
}

#[tokio::test]
async fn a_choice_before_the_party_is_known_is_not_a_party_size() {
    let operator = Operator::new(three_hotels());
    let app = operator_app(operator.clone()).await;
    let mut chat = Chat::new(&app, "77010000102");
    let ask = chat
        .say("phu quoc from almaty early march for 10 nights")
        .await;
    assert!(ask.contains("how many people"), "{ask}");
    let reply = chat.say("ok book option 1").await;
    assert!(reply.contains("haven't shown you any options"), "{reply}");
    assert!(reply.contains("how many people"), "{reply}");
    assert!(
        operator.queries().is_empty(),
        "no search for a party nobody gave"
    );
    assert!(chat.escalations().await.is_empty());
    let offers = chat.say("2 adults").await;
    assert!(offers.contains("Jade Heron"), "{offers}");
    assert_eq!(operator.queries()[0].adults, 2);
}

#[tokio::test]
async fn a_hotel_is_asked_about_then_chosen_by_name_in_russian() {
    let mut operator = Operator::new(three_hotels());
    Arc::get_mut(&mut operator).unwrap().details = vec![(
        12,
        HotelDetails {
            hotel: "Red Dune Resort 4*".into(),
            sections: vec![DetailSection {
                title: "Пляж".into(),
                text: "Собственный песчаный пляж, первая линия.".into(),
            }],
        },
    )];
    let app = operator_app(operator.clone()).await;
    let mut chat = Chat::new(&app, "77010000103");
    let offers = chat
        .say("Фукуок из Алматы в начале марта на 10 ночей, нас двое")
        .await;
    assert!(offers.contains("Red Dune Resort 4*, Фукуок"), "{offers}");
    let answer = chat.say("а Red Dune что за отель?").await;
    assert!(answer.contains("первая линия"), "{answer}");
    assert!(
        chat.escalations().await.is_empty(),
        "a question books nothing"
    );
    let booked = chat.say("берем Red Dune").await;
    assert!(
        booked.contains("Вариант 2") && booked.contains("Red Dune"),
        "{booked}"
    );
    assert!(booked.contains("менеджер"), "still Russian: {booked}");
    let e = chat.escalations().await;
    assert_eq!(e.len(), 1);
    assert_eq!(
        crate::support::stored(&e[0].details)["offer"]["hotel"],
        "Red Dune Resort 4*"
    );
}

#[tokio::test]
async fn an_empty_search_shows_the_nearest_offers_with_what_differs() {
    let mut operator = Operator::new(vec![Offer {
        check_in: chrono::NaiveDate::from_ymd_opt(2027, 3, 12).unwrap(),
        ..samo_offer(21, "Jade Heron Seaside Inn 3*", 3, "Nha Trang", 852_000)
    }]);
    Arc::get_mut(&mut operator).unwrap().widened = vec![Widening::Dates, Widening::Budget];
    let app = operator_app(operator.clone()).await;
    let mut chat = Chat::new(&app, "77010000104");
    let reply = plain(
        &chat
            .say("нячанг из алматы 8 марта на 10 ночей вдвоем до 800 тыс")
            .await,
    );
    assert!(reply.contains("Точно по вашему запросу"), "{reply}");
    assert!(
        reply.contains("вылет 12 марта (вы просили 6–10 марта)"),
        "{reply}"
    );
    assert!(reply.contains("на 52 000 ₸ дороже бюджета"), "{reply}");
    let q = &operator.queries()[0];
    assert_eq!(q.date_from.format("%m-%d").to_string(), "03-06");
    assert_eq!(q.date_to.format("%m-%d").to_string(), "03-10");
    assert!(chat.escalations().await.is_empty());
}

#[tokio::test]
async fn nothing_found_brings_a_manager_and_no_paragraph_is_said_twice() {
    let operator = Operator::new(Vec::new());
    let app = operator_app(operator.clone()).await;
    let mut chat = Chat::new(&app, "77010000105");
    let mut said = vec![
        chat.say("нячанг из алматы в марте на 10 ночей вдвоем 5 звезд")
            .await,
    ];
    assert!(said[0].contains("передал запрос менеджеру"), "{}", said[0]);
    for text in ["ещё?", "подешевле", "берем 3", "берем 3"] {
        let reply = chat.say(text).await;
        assert_ne!(Some(&reply), said.last(), "{text}: said again");
        said.push(reply);
    }
    let e = chat.escalations().await;
    assert_eq!(e.len(), 1, "one manager, with the query");
    assert_eq!(e[0].reason.as_str(), "nothing_found");
    assert_eq!(crate::support::stored(&e[0].details)["query"]["stars"], 5);
}

#[tokio::test]
async fn a_country_not_sold_is_answered_honestly_and_never_searched() {
    let operator = Operator::new(three_hotels());
    let app = operator_app(operator.clone()).await;
    let mut chat = Chat::new(&app, "77010000106");
    let reply = chat.say("в Таиланд туры есть?").await;
    assert!(
        reply.contains("Таиланд") && reply.contains("Вьетнам"),
        "{reply}"
    );
    assert!(!reply.contains("Записал"), "{reply}");
    let reply = chat
        .say("а в Турцию в мае вдвоем из Алматы на 7 ночей")
        .await;
    assert!(reply.contains("Турция"), "{reply}");
    assert!(operator.queries().is_empty());
    // "Then Vietnam": the rest of what was said is kept.
    let offers = chat.say("ну давайте Фукуок").await;
    assert!(offers.contains("Jade Heron"), "{offers}");
    let q = &operator.queries()[0];
    assert_eq!(
        (q.country.as_str(), q.adults, q.nights_from),
        ("Vietnam", 2, 7)
    );
}
