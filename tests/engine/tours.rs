//! Tour search against the fake SAMO: the operator's ids found by name, offers as the
//! operator priced them, paging, grouped offers and their expansion, every error shape, and
//! how few requests the operator sees (cache, coalescing), through a proxy and with pacing.

use crate::support::eventually;
use actors::tours::samo::SamoClient;
use actors::tours::{self, SamoError, TourSearch, Tours, ToursHandle, ToursSettings};
use chrono::NaiveDate;
use dialogs::search::{
    Availability, NamedHotel, Offer, OfferPage, PageRequest, SearchFailure, SearchField,
    SearchQuery, SortOrder, Widening,
};
use fakes::samo::{CheckinShape, FakeSamo, TOKEN};
use secrecy::SecretString;
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::time::Duration;

const PRICES: &str = "SearchTour_PRICES";

fn settings(fake: &FakeSamo) -> ToursSettings {
    let mut settings = ToursSettings::new(fake.url.clone(), SecretString::from(TOKEN));
    settings.timeout = Duration::from_secs(10);
    settings.requests_per_sec = None;
    settings
}

async fn handle(fake: &FakeSamo) -> ToursHandle {
    tours::start(settings(fake)).await.unwrap()
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// Almaty → Nha Trang, 10–12 January, 7 nights, two adults.
fn nha_trang() -> SearchQuery {
    SearchQuery {
        departure_city: "Almaty".into(),
        country: "Vietnam".into(),
        resorts: vec!["Nha Trang".into()],
        hotels: Vec::new(),
        date_from: date("2027-01-10"),
        date_to: date("2027-01-12"),
        nights_from: 7,
        nights_to: 7,
        adults: 2,
        child_ages: vec![],
        budget_max: None,
        budget_currency: None,
        stars: None,
        meal: None,
        sort: SortOrder::PriceAsc,
    }
}

fn first(n: usize) -> PageRequest {
    PageRequest {
        offset: 0,
        limit: n,
    }
}

/// The rows the fake answered to the last PRICES request.
fn answered_rows(fake: &FakeSamo) -> Vec<Value> {
    fake.last_answer(PRICES).unwrap()["prices"]
        .as_array()
        .unwrap()
        .clone()
}

fn hotels(page: &OfferPage) -> Vec<&str> {
    page.offers.iter().map(|o| o.hotel.as_str()).collect()
}

fn last_params(fake: &FakeSamo) -> std::collections::HashMap<String, String> {
    fake.params_of(PRICES).pop().expect("a PRICES request")
}

#[tokio::test]
async fn canonical_names_find_the_operators_ids_in_any_spelling_and_form() {
    for lenient in [false, true] {
        let fake = fakes::samo::start().await;
        fake.set(|s| s.lenient = lenient);
        let tours = Tours::new(&settings(&fake)).unwrap();
        let catalog = tours.catalog();
        let ids = |rows: Vec<actors::tours::samo::DictRow>| {
            rows.iter().map(|r| r.id).collect::<BTreeSet<_>>()
        };
        let almaty = catalog.departure_city("Almaty").await.unwrap();
        assert_eq!((almaty.id, almaty.name.as_str()), (417, "Алматы"));
        // The operator still calls Astana "Нур-Султан".
        assert_eq!(catalog.departure_city("Astana").await.unwrap().id, 418);
        assert_eq!(catalog.country(417, "Vietnam").await.unwrap().id, 93);
        assert_eq!(
            ids(catalog.resort(417, 93, "Nha Trang").await.unwrap()),
            [2201].into()
        );
        // Phan Thiet is two operator towns (Муйне and Фантьет) in one region.
        assert_eq!(
            ids(catalog.resort(417, 93, "Phan Thiet").await.unwrap()),
            [2204, 2205].into()
        );
        // "Куинён" is written with ё.
        assert_eq!(
            ids(catalog.resort(417, 93, "Quy Nhon").await.unwrap()),
            [2208].into()
        );
        assert_eq!(
            ids(catalog.resort(417, 93, "Ho Chi Minh City").await.unwrap()),
            [2207].into()
        );
        assert_eq!(
            ids(catalog.meal(417, 93, "AI").await.unwrap()),
            [505].into()
        );
        assert_eq!(
            ids(catalog.stars_at_least(417, 93, 4).await.unwrap()),
            [303, 304].into()
        );
        assert_eq!(catalog.currency(417, 93, "KZT").await.unwrap().id, 14);
        // Each dictionary was asked for once, however often it was used.
        assert_eq!(
            fake.requests_of("SearchTour_TOWNFROMS"),
            1,
            "lenient={lenient}"
        );
        assert_eq!(fake.requests_of("SearchTour_TOWNS"), 1, "lenient={lenient}");
    }
}

#[tokio::test]
async fn an_old_dictionary_is_served_while_a_fresh_copy_loads_in_the_background() {
    let fake = fakes::samo::start().await;
    let mut short = settings(&fake);
    short.dictionary_ttl = Duration::from_secs(8);
    let tours = Tours::new(&short).unwrap();
    let almaty = || async { tours.catalog().departure_city("Almaty").await.map(|r| r.id) };
    let towns_requests = || fake.requests_of("SearchTour_TOWNFROMS");
    assert_eq!(almaty().await, Ok(417));
    assert_eq!(towns_requests(), 1);

    // Past half its lifetime. The operator now refuses: the refresh fails, the copy stays.
    tours.catalog().clock().advance(Duration::from_millis(4200));
    fake.set(|s| s.blacklisted = true);
    assert_eq!(almaty().await, Ok(417));
    assert!(eventually(Duration::from_secs(10), || async { towns_requests() == 2 }).await);
    assert_eq!(
        almaty().await,
        Ok(417),
        "still served after a failed refresh"
    );

    // The operator answers again: the next use refreshes the copy.
    fake.set(|s| s.blacklisted = false);
    assert!(
        eventually(Duration::from_secs(10), || async {
            almaty().await == Ok(417) && towns_requests() >= 3
        })
        .await
    );
}

#[tokio::test]
async fn a_search_shows_the_cheapest_offer_of_each_hotel_with_seats_in_tenge() {
    let fake = fakes::samo::start().await;
    let tours = handle(&fake).await;
    let page = tours.search(&nha_trang(), first(10)).await.unwrap();

    let sent = last_params(&fake);
    for (key, value) in [
        ("TOWNFROMINC", "417"),
        ("STATEINC", "93"),
        ("TOWNS", "2201"),
        ("CHECKIN_BEG", "20270110"),
        ("CHECKIN_END", "20270112"),
        ("NIGHTS_FROM", "7"),
        ("NIGHTS_TILL", "7"),
        ("ADULT", "2"),
        ("CHILD", "0"),
        ("CURRENCY", "14"),
        ("PARTITION_PRICE", "32"),
        ("FREIGHT", "1"),
        ("FILTER", "1"),
        ("SORT", "ASC"),
        ("PRICEPAGE", "1"),
    ] {
        assert_eq!(sent.get(key).map(String::as_str), Some(value), "{key}");
    }
    assert!(!sent.contains_key("AGES"), "empty parameters are left out");
    assert!(!sent.contains_key("COSTMAX"));

    // Havana Nha Trang is the cheapest row but sold out ("NNNN"): not shown.
    let rows = answered_rows(&fake);
    assert_eq!(rows[0]["hotel"], "Havana Nha Trang");
    assert_eq!(
        hotels(&page),
        [
            "Nesta Hotel",
            "Galina Hotel & Spa",
            "Sunrise Nha Trang Beach Hotel & Spa"
        ]
    );
    for offer in &page.offers {
        let row = rows.iter().find(|r| r["id"] == offer.id.as_str()).unwrap();
        assert_eq!(
            offer.price,
            row["convertedPriceNumber"].as_f64().unwrap() as u64
        );
        assert_eq!(offer.currency, "KZT");
        assert_eq!(offer.resort, "Нячанг");
        assert_eq!(offer.nights, 7);
        assert!(offer.check_in >= date("2027-01-10") && offer.check_in <= date("2027-01-12"));
    }
    let nesta = &page.offers[0];
    assert_eq!(nesta.availability, Availability::OnRequest, "RRRR");
    assert_eq!(nesta.stars, Some(3));
    assert_eq!(nesta.meal, "BB");
    assert_eq!(nesta.room, "Standard (DBL)");
    let sunrise = &page.offers[2];
    assert_eq!(sunrise.availability, Availability::Available);
    assert_eq!((sunrise.stars, sunrise.meal.as_str()), (Some(5), "AI"));
    assert!(!page.more);
}

#[tokio::test]
async fn children_and_a_budget_in_tenge_reach_the_operator() {
    let fake = fakes::samo::start().await;
    let tours = handle(&fake).await;
    let mut query = nha_trang();
    query.child_ages = vec![5, 1];
    query.budget_max = Some(1_000_000);
    let page = tours.search(&query, first(10)).await.unwrap();
    let sent = last_params(&fake);
    assert_eq!(sent["CHILD"], "2");
    assert_eq!(sent["AGES"], "5,1");
    assert_eq!(sent["COSTMAX"], "1000000");
    assert!(!page.offers.is_empty());
    assert!(page.offers.iter().all(|o| o.price <= 1_000_000));
    assert!(
        !hotels(&page).contains(&"Sunrise Nha Trang Beach Hotel & Spa"),
        "over budget"
    );

    // A budget in another currency is no COSTMAX (the operator filters in the search's
    // currency); it is compared with the operator's own price of each row (USD here).
    query.budget_currency = Some("USD".into());
    query.budget_max = Some(3000);
    let page = tours.search(&query, first(10)).await.unwrap();
    assert!(!last_params(&fake).contains_key("COSTMAX"));
    assert_eq!(page.offers.len(), 3);
    query.budget_max = Some(2000);
    let page = tours.search(&query, first(10)).await.unwrap();
    assert!(!page.offers.is_empty() && page.widened.is_empty());
    assert!(
        !hotels(&page).contains(&"Sunrise Nha Trang Beach Hotel & Spa"),
        "over a budget in dollars"
    );
}

#[tokio::test]
async fn stars_and_meal_become_the_operators_category_and_meal_ids() {
    let fake = fakes::samo::start().await;
    let tours = handle(&fake).await;
    let mut query = nha_trang();
    query.resorts.clear();
    query.stars = Some(5);
    query.meal = Some("AI".into());
    let page = tours.search(&query, first(10)).await.unwrap();
    let sent = last_params(&fake);
    assert_eq!(sent["STARS"], "304");
    assert_eq!(sent["MEALS"], "505");
    assert!(!sent.contains_key("TOWNS"));
    assert_eq!(
        hotels(&page).into_iter().collect::<BTreeSet<_>>(),
        [
            "Fusion Resort Cam Ranh",
            "Novotel Phu Quoc Resort",
            "Sea Links Beach Hotel",
            "Sunrise Nha Trang Beach Hotel & Spa",
        ]
        .into()
    );
    assert!(
        page.offers
            .iter()
            .all(|o| o.stars == Some(5) && o.meal == "AI")
    );
    // Sea Links' flight out is on request.
    let sea_links = page
        .offers
        .iter()
        .find(|o| o.hotel == "Sea Links Beach Hotel")
        .unwrap();
    assert_eq!(sea_links.availability, Availability::OnRequest);
    // Free sale counts as available.
    let fusion = page
        .offers
        .iter()
        .find(|o| o.hotel == "Fusion Resort Cam Ranh")
        .unwrap();
    assert_eq!(fusion.availability, Availability::Available);
}

#[tokio::test]
async fn paging_fetches_a_further_operator_page_only_when_the_slice_reaches_it() {
    let fake = fakes::samo::start().await;
    fake.set(|s| s.page_size = 2);
    let tours = handle(&fake).await;
    let mut query = nha_trang();
    query.resorts.clear();
    query.meal = Some("BB".into()); // six hotels: three operator pages of two
    let page_of = |offset, limit| PageRequest { offset, limit };

    let one = tours.search(&query, page_of(0, 2)).await.unwrap();
    assert_eq!((one.offers.len(), one.offset, one.more), (2, 0, true));
    assert_eq!(fake.requests_of(PRICES), 1);

    let two = tours.search(&query, page_of(2, 2)).await.unwrap();
    assert_eq!((two.offers.len(), two.offset, two.more), (2, 2, true));
    assert_eq!(fake.requests_of(PRICES), 2);

    let again = tours.search(&query, page_of(0, 2)).await.unwrap();
    assert_eq!(again, one);
    assert_eq!(
        fake.requests_of(PRICES),
        2,
        "pages already fetched are cached"
    );

    let rest = tours.search(&query, page_of(4, 10)).await.unwrap();
    assert_eq!((rest.offers.len(), rest.more), (2, false));
    let pages: Vec<String> = fake
        .params_of(PRICES)
        .iter()
        .map(|p| p["PRICEPAGE"].clone())
        .collect();
    assert_eq!(pages, ["1", "2", "3"]);

    let all: Vec<&Offer> = one
        .offers
        .iter()
        .chain(&two.offers)
        .chain(&rest.offers)
        .collect();
    let names: BTreeSet<&str> = all.iter().map(|o| o.hotel.as_str()).collect();
    assert_eq!(names.len(), 6, "one offer per hotel: {names:?}");
    assert!(
        all.windows(2).all(|w| w[0].price <= w[1].price),
        "cheapest first"
    );

    query.sort = SortOrder::PriceDesc;
    let dear = tours.search(&query, page_of(0, 1)).await.unwrap();
    assert_eq!(last_params(&fake)["SORT"], "DESC");
    assert_eq!(dear.offers[0].hotel, all[5].hotel, "the dearest first");
}

#[tokio::test]
async fn a_grouped_offer_expands_into_the_hotels_concrete_offers() {
    let fake = fakes::samo::start().await;
    let tours = handle(&fake).await;
    // 7–12 January holds three of Almaty's flight days to Vietnam (Thu 7, Sat 9, Tue 12).
    let mut query = nha_trang();
    query.date_from = date("2027-01-07");
    let page = tours.search(&query, first(10)).await.unwrap();
    assert!(answered_rows(&fake).iter().all(|r| r["grouped"] == 1));
    let galina = page
        .offers
        .iter()
        .find(|o| o.hotel == "Galina Hotel & Spa")
        .unwrap();

    let offers = tours.expand(&galina.id).await.unwrap();
    let sent = last_params(&fake);
    assert_eq!(sent["CATCLAIM"], galina.id);
    assert_eq!(sent["HOTELS"], "7002");
    assert!(!sent.contains_key("PARTITION_PRICE"));
    assert!(answered_rows(&fake).iter().all(|r| r["grouped"] == 0));
    // Three departure days × two meals (BB, HB) × two rooms.
    assert_eq!(offers.len(), 12);
    assert!(offers.iter().all(|o| o.hotel == "Galina Hotel & Spa"));
    assert!(offers.iter().any(|o| o.id == galina.id));
    assert_eq!(
        offers
            .iter()
            .map(|o| o.meal.as_str())
            .collect::<BTreeSet<_>>(),
        ["BB", "HB"].into()
    );
    assert!(offers.iter().any(|o| o.room == "Deluxe Sea View (DBL)"));
    assert_eq!(
        offers[0].price, galina.price,
        "the group's minimum is its cheapest offer"
    );

    let unknown = tours.expand("no-such-offer").await.unwrap_err();
    assert!(
        matches!(unknown, SearchFailure::Unavailable { cause } if cause.contains("search again"))
    );
}

#[tokio::test]
async fn prices_are_shown_in_the_configured_currency_when_the_operator_converts_them() {
    let fake = fakes::samo::start().await;
    let mut usd = settings(&fake);
    usd.currency = "USD".into();
    let tours = tours::start(usd).await.unwrap();
    let page = tours.search(&nha_trang(), first(10)).await.unwrap();
    assert_eq!(last_params(&fake)["CURRENCY"], "11");
    let rows = answered_rows(&fake);
    for offer in &page.offers {
        let row = rows.iter().find(|r| r["id"] == offer.id.as_str()).unwrap();
        assert_eq!(offer.currency, "USD");
        assert_eq!(offer.price, row["price"].as_f64().unwrap() as u64);
    }

    // A currency the operator does not have: its own prices, never a made-up conversion.
    let fake = fakes::samo::start().await;
    let mut pounds = settings(&fake);
    pounds.currency = "GBP".into();
    let tours = tours::start(pounds).await.unwrap();
    let page = tours.search(&nha_trang(), first(10)).await.unwrap();
    assert!(!last_params(&fake).contains_key("CURRENCY"));
    assert_eq!(page.offers.len(), 3);
    assert!(page.offers.iter().all(|o| o.currency == "USD"));
}

#[tokio::test]
async fn every_documented_value_form_gives_the_same_offers() {
    let strict = fakes::samo::start().await;
    let lenient = fakes::samo::start().await;
    lenient.set(|s| s.lenient = true);
    let mut query = nha_trang();
    query.resorts = vec!["Phan Thiet".into()];
    let a = handle(&strict)
        .await
        .search(&query, first(10))
        .await
        .unwrap();
    let b = handle(&lenient)
        .await
        .search(&query, first(10))
        .await
        .unwrap();
    assert_eq!(
        hotels(&a),
        ["Seahorse Resort & Spa", "Sea Links Beach Hotel"]
    );
    assert_eq!(a, b);
    // The lenient fake gave the price as a string and the tenge only formatted with NBSPs.
    let row = &answered_rows(&lenient)[0];
    assert!(row["price"].is_string() && row.get("convertedPriceNumber").is_none());
    assert!(row["convertedPrice"].as_str().unwrap().contains('\u{a0}'));
}

#[tokio::test]
async fn the_checkin_calendar_is_read_in_all_three_shapes() {
    let fake = fakes::samo::start().await;
    let tours = Tours::new(&settings(&fake)).unwrap();
    let mut calendars = Vec::new();
    for shape in [CheckinShape::A, CheckinShape::B, CheckinShape::C] {
        fake.set(|s| s.checkin_shape = shape);
        calendars.push(tours.client().checkin_dates(417, 93).await.unwrap());
    }
    assert!(calendars[0].len() > 90, "{} dates", calendars[0].len());
    assert_eq!(calendars[0], calendars[1]);
    assert_eq!(calendars[0], calendars[2]);
    let nights = tours
        .client()
        .nights(417, 93, date("2027-01-10"), date("2027-01-12"))
        .await
        .unwrap();
    assert_eq!(nights, [7, 10, 14], "nights with seats preferred");
}

/// A client of `fake` with `token`.
fn client(fake: &FakeSamo, token: &str) -> SamoClient {
    let settings = settings(fake);
    SamoClient::new(&actors::tours::samo::ClientSettings {
        api_url: settings.api_url,
        oauth_token: SecretString::from(token),
        proxy: None,
        timeout: Duration::from_secs(1),
        requests_per_sec: None,
        max_concurrent: 4,
    })
    .unwrap()
}

fn no_token(texts: &[String]) {
    for t in texts {
        assert!(!t.contains(TOKEN), "the token leaked: {t}");
    }
}

#[tokio::test]
async fn each_error_shape_is_a_typed_error_without_the_token() {
    let fake = fakes::samo::start().await;
    let good = client(&fake, TOKEN);
    let mut texts = Vec::new();

    let wrong = "ffffffffffffffffffffffffffffffff";
    for capital in [false, true] {
        fake.set(|s| s.capital_error = capital);
        let err = client(&fake, wrong)
            .call("SearchTour_TOWNFROMS", &[])
            .await
            .unwrap_err();
        assert!(
            matches!(&err, SamoError::InvalidToken { message } if message == "apiKey provided, but invalid"),
            "{err:?}"
        );
        assert!(err.to_string().contains("SAMO_OAUTH_TOKEN"));
    }

    fake.set(|s| s.blacklisted = true);
    let err = good.call("SearchTour_TOWNFROMS", &[]).await.unwrap_err();
    assert!(
        matches!(&err, SamoError::Blacklisted { message } if message == "apiKey blacklisted"),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("allow-list this server's IPv4 address") && text.contains("SAMO_PROXY"),
        "{text}"
    );
    texts.push(text);
    fake.set(|s| {
        s.blacklisted = false;
        s.capital_error = false;
    });

    let err = good.call("SearchTour_Townfroms", &[]).await.unwrap_err();
    assert!(
        matches!(&err, SamoError::UnknownAction { message, .. } if message == "Method does not exists: SearchTour_Townfroms"),
        "{err:?}"
    );
    texts.push(err.to_string());

    let mut params = vec![
        ("TOWNFROMINC", "417".to_owned()),
        ("STATEINC", "93".to_owned()),
        ("CHECKIN_BEG", "20270110".to_owned()),
        ("CHECKIN_END", "20270112".to_owned()),
        ("NIGHTS_FROM", "7".to_owned()),
        ("NIGHTS_TILL", "7".to_owned()),
        ("ADULT", "2".to_owned()),
        ("CHILD", "1".to_owned()),
    ];
    let err = good.prices(&params).await.unwrap_err();
    assert!(
        matches!(&err, SamoError::Action { action, message } if action == PRICES && message.contains("AGES")),
        "{err:?}"
    );
    params[3].1 = "20270101".into();
    params.push(("AGES", "5".into()));
    let err = good.prices(&params).await.unwrap_err();
    assert!(
        matches!(&err, SamoError::Action { message, .. } if message.contains("CHECKIN_BEG")),
        "{err:?}"
    );
    texts.push(err.to_string());

    // An HTML page with 200 is retried, then surfaced.
    let before = fake.requests_of("SearchTour_TOWNFROMS");
    fake.set(|s| s.html = Some((200, 10)));
    let err = good.call("SearchTour_TOWNFROMS", &[]).await.unwrap_err();
    assert!(
        matches!(&err, SamoError::NotJson { status: 200, attempts: 3, excerpt, .. } if excerpt.contains("502 Bad Gateway")),
        "{err:?}"
    );
    assert_eq!(fake.requests_of("SearchTour_TOWNFROMS") - before, 3);
    texts.push(err.to_string());

    // The same with 502.
    fake.set(|s| s.html = Some((502, 10)));
    let err = good.call("SearchTour_TOWNFROMS", &[]).await.unwrap_err();
    assert!(
        matches!(err, SamoError::Http { status: 502, .. }),
        "{err:?}"
    );

    // One HTML page, then JSON again: the retry gets through.
    fake.set(|s| s.html = Some((200, 1)));
    let rows = good.dictionary("SearchTour_TOWNFROMS", &[]).await.unwrap();
    assert_eq!(rows.len(), 4);

    // Nobody listens.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let nowhere = SamoClient::new(&actors::tours::samo::ClientSettings {
        api_url: format!("http://{closed}/export/default.php"),
        oauth_token: SecretString::from(TOKEN),
        proxy: None,
        timeout: Duration::from_secs(2),
        requests_per_sec: None,
        max_concurrent: 1,
    })
    .unwrap();
    let err = nowhere.call("SearchTour_TOWNFROMS", &[]).await.unwrap_err();
    assert!(matches!(err, SamoError::Transport { .. }), "{err:?}");
    texts.push(err.to_string());
    texts.push(format!("{err:?}"));
    texts.push(nowhere.status().last_error.unwrap().1);
    no_token(&texts);
}

#[tokio::test]
async fn a_failure_reaches_the_dialog_as_unavailable_with_the_operators_reason() {
    let fake = fakes::samo::start().await;
    fake.set(|s| s.blacklisted = true);
    let tours = handle(&fake).await;
    let err = tours.search(&nha_trang(), first(5)).await.unwrap_err();
    let SearchFailure::Unavailable { cause } = err else {
        panic!("expected Unavailable, got {err:?}");
    };
    assert!(
        cause.contains("allow-list") && cause.contains("SAMO_PROXY"),
        "{cause}"
    );
    no_token(&[cause]);
    let status = tours.status().await.unwrap();
    assert_eq!((status.calls, status.failures), (1, 1));
    assert!(status.last_error.unwrap().1.contains("blacklisted"));
    assert!(status.last_success.is_none());
}

#[tokio::test]
async fn a_failed_search_is_not_cached() {
    let fake = fakes::samo::start().await;
    let tours = handle(&fake).await;
    let mut warm_up = nha_trang();
    warm_up.nights_to = 8;
    tours.search(&warm_up, first(5)).await.unwrap();
    fake.set(|s| s.html = Some((502, 3)));
    let err = tours.search(&nha_trang(), first(5)).await.unwrap_err();
    assert!(
        matches!(&err, SearchFailure::Unavailable { cause } if cause.contains("HTTP 502")),
        "{err:?}"
    );
    let page = tours.search(&nha_trang(), first(5)).await.unwrap();
    assert_eq!(page.offers.len(), 3);
    assert_eq!(fake.requests_of(PRICES), 1 + 3 + 1);
}

#[tokio::test]
async fn a_place_the_operator_does_not_serve_comes_with_its_alternatives() {
    let fake = fakes::samo::start().await;
    let tours = handle(&fake).await;
    let mut query = nha_trang();
    // Only the cities that fly to Vietnam are offered instead (Shymkent and Karaganda fly
    // to Turkey only).
    query.departure_city = "Pavlodar".into();
    assert_eq!(
        tours.search(&query, first(5)).await.unwrap_err(),
        SearchFailure::NotOffered {
            field: SearchField::DepartureCity,
            value: "Pavlodar".into(),
            alternatives: vec!["Алматы".into(), "Нур-Султан".into()],
        }
    );
    // A city with no flight to Vietnam is the city's problem, not Vietnam's: Turkey is
    // never offered instead.
    query.departure_city = "Shymkent".into();
    assert_eq!(
        tours.search(&query, first(5)).await.unwrap_err(),
        SearchFailure::NotOffered {
            field: SearchField::DepartureCity,
            value: "Shymkent".into(),
            alternatives: vec!["Алматы".into(), "Нур-Султан".into()],
        }
    );
    let mut query = nha_trang();
    query.resorts = vec!["Hanoi".into()];
    let err = tours.search(&query, first(5)).await.unwrap_err();
    assert!(
        matches!(&err, SearchFailure::NotOffered { field: SearchField::Resort, alternatives, .. }
            if alternatives.contains(&"Нячанг".to_owned()) && alternatives.len() == 8),
        "{err:?}"
    );
    assert_eq!(fake.requests_of(PRICES), 0, "nothing to search for");
}

/// Settings of `fake` for an agency that sells `countries`.
fn selling(fake: &FakeSamo, countries: &[&str]) -> ToursSettings {
    let mut settings = settings(fake);
    settings.sold_countries = countries.iter().map(|c| (*c).to_owned()).collect();
    settings
}

#[tokio::test]
async fn only_the_countries_sold_are_searched_and_shown() {
    let fake = fakes::samo::start().await;
    let tours = handle(&fake).await;
    // Thailand is in the operator's catalogue, but the agency sells Vietnam: declined
    // before anything is asked.
    let mut thailand = nha_trang();
    thailand.country = "Thailand".into();
    thailand.resorts.clear();
    assert_eq!(
        tours.search(&thailand, first(5)).await.unwrap_err(),
        SearchFailure::NotOffered {
            field: SearchField::Country,
            value: "Thailand".into(),
            alternatives: vec!["Vietnam".into()],
        }
    );
    assert_eq!(
        tours.check_route(None, Some("Thailand")).await.unwrap_err(),
        SearchFailure::NotOffered {
            field: SearchField::Country,
            value: "Thailand".into(),
            alternatives: vec!["Vietnam".into()],
        }
    );
    assert_eq!(
        fake.requests_of("SearchTour_TOWNFROMS"),
        0,
        "no call at all"
    );

    // "из Караганды есть вылеты?": not to Vietnam; these cities have them.
    let from_elsewhere = SearchFailure::NotOffered {
        field: SearchField::DepartureCity,
        value: "Karaganda".into(),
        alternatives: vec!["Алматы".into(), "Нур-Султан".into()],
    };
    assert_eq!(
        tours
            .check_route(Some("Karaganda"), None)
            .await
            .unwrap_err(),
        from_elsewhere
    );
    assert_eq!(
        tours
            .check_route(Some("Karaganda"), Some("Vietnam"))
            .await
            .unwrap_err(),
        from_elsewhere
    );
    assert_eq!(
        tours.check_route(Some("Astana"), Some("Vietnam")).await,
        Ok(())
    );
    assert_eq!(tours.check_route(Some("Almaty"), None).await, Ok(()));
    assert_eq!(tours.check_route(None, None).await, Ok(()));
    let mut karaganda = nha_trang();
    karaganda.departure_city = "Karaganda".into();
    assert_eq!(
        tours.search(&karaganda, first(5)).await.unwrap_err(),
        from_elsewhere
    );
    assert_eq!(fake.requests_of(PRICES), 0, "no price was asked");

    // An operator that mixes Turkish rows into a Vietnam search: never shown.
    fake.set(|s| s.mixed_countries = true);
    let page = tours.search(&nha_trang(), first(10)).await.unwrap();
    assert!(
        answered_rows(&fake)
            .iter()
            .any(|r| r["hotel"] == "Kemer Pine Garden 3*"),
        "the operator answered a Turkish offer"
    );
    assert_eq!(
        hotels(&page),
        [
            "Nesta Hotel",
            "Galina Hotel & Spa",
            "Sunrise Nha Trang Beach Hotel & Spa"
        ]
    );

    // An agency that sells Thailand too: searched from where it flies.
    let fake = fakes::samo::start().await;
    let both = tours::start(selling(&fake, &["Vietnam", "Thailand"]))
        .await
        .unwrap();
    thailand.date_from = date("2027-01-11"); // Monday
    thailand.date_to = date("2027-01-11");
    let page = both.search(&thailand, first(5)).await.unwrap();
    assert!(
        hotels(&page).contains(&"Patong Orchid Resort 4*"),
        "{page:?}"
    );
    thailand.departure_city = "Astana".into();
    assert_eq!(
        both.search(&thailand, first(5)).await.unwrap_err(),
        SearchFailure::NotOffered {
            field: SearchField::DepartureCity,
            value: "Astana".into(),
            alternatives: vec!["Алматы".into()],
        }
    );
}

#[tokio::test]
async fn several_resorts_are_searched_together() {
    let fake = fakes::samo::start().await;
    let tours = handle(&fake).await;
    let mut query = nha_trang();
    query.resorts = vec!["Nha Trang".into(), "Cam Ranh".into()];
    let page = tours.search(&query, first(10)).await.unwrap();
    assert_eq!(last_params(&fake)["TOWNS"], "2201,2202");
    assert_eq!(fake.requests_of(PRICES), 1, "one search for both");
    let resorts: BTreeSet<&str> = page.offers.iter().map(|o| o.resort.as_str()).collect();
    assert_eq!(resorts, ["Камрань", "Нячанг"].into());
    assert!(hotels(&page).contains(&"Red Dune Beach Resort 4*"));
    assert!(hotels(&page).contains(&"Galina Hotel & Spa"));
    assert!(page.widened.is_empty());
    // Phan Thiet is two towns: three towns in all, each once.
    query.resorts = vec!["Phan Thiet".into(), "Phu Quoc".into(), "Phan Thiet".into()];
    tours.search(&query, first(10)).await.unwrap();
    assert_eq!(last_params(&fake)["TOWNS"], "2204,2205,2203");
}

#[tokio::test]
async fn offers_carry_the_operators_hotel_key() {
    let fake = fakes::samo::start().await;
    let tours = handle(&fake).await;
    let page = tours.search(&nha_trang(), first(10)).await.unwrap();
    let keys: Vec<Option<i64>> = page.offers.iter().map(|o| o.hotel_key).collect();
    assert_eq!(keys, [Some(7003), Some(7002), Some(7001)]);
}

/// Almaty → Nha Trang on one day, 7 nights, two adults.
fn one_day(day: &str) -> SearchQuery {
    SearchQuery {
        date_from: date(day),
        date_to: date(day),
        ..nha_trang()
    }
}

/// SAMO requests the recovery made: (CHECKIN, PRICES beyond the exact search's one).
fn extra_calls(fake: &FakeSamo) -> (usize, usize) {
    (
        fake.requests_of("SearchTour_CHECKIN"),
        fake.requests_of(PRICES).saturating_sub(1),
    )
}

#[tokio::test]
async fn a_day_with_no_flight_brings_the_nearest_flight_days() {
    let fake = fakes::samo::start().await;
    let tours = handle(&fake).await;
    // Sunday 10 January: Almaty flies to Vietnam on Tuesdays, Thursdays and Saturdays.
    let sunday = one_day("2027-01-10");
    let page = tours.search(&sunday, first(2)).await.unwrap();
    assert_eq!(page.widened, [Widening::Dates]);
    assert_eq!(page.offers.len(), 2);
    assert!(page.more);
    let days: BTreeSet<NaiveDate> = page.offers.iter().map(|o| o.check_in).collect();
    assert!(
        days.iter()
            .all(|d| [date("2027-01-09"), date("2027-01-12")].contains(d)),
        "{days:?}"
    );
    assert!(
        page.offers
            .iter()
            .all(|o| o.nights == 7 && o.resort == "Нячанг")
    );
    // The exact search, then one calendar and one widened search.
    assert_eq!(extra_calls(&fake), (1, 1));
    let widened = last_params(&fake);
    assert_eq!(
        (
            widened["CHECKIN_BEG"].as_str(),
            widened["CHECKIN_END"].as_str()
        ),
        ("20270109", "20270112")
    );
    // Every offer is from the operator's answer.
    let rows = answered_rows(&fake);
    assert!(
        page.offers
            .iter()
            .all(|o| rows.iter().any(|r| r["id"] == o.id.as_str()))
    );

    // The same search again, its next page, and five at once: all from the caches.
    assert_eq!(tours.search(&sunday, first(2)).await.unwrap(), page);
    let next = tours
        .search(
            &sunday,
            PageRequest {
                offset: 2,
                limit: 2,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (next.offset, next.offers.len(), next.widened.as_slice()),
        (2, 1, &[Widening::Dates][..])
    );
    let at_once = futures::future::join_all((0..5).map(|_| tours.search(&sunday, first(2)))).await;
    assert!(at_once.iter().all(|a| a.as_ref() == Ok(&page)));
    assert_eq!(extra_calls(&fake), (1, 1));
}

#[tokio::test]
async fn each_widening_in_its_order_within_the_bound() {
    // (what is asked, what is relaxed, what the offers must show, extra PRICES requests)
    struct Case {
        name: &'static str,
        query: SearchQuery,
        widened: Widening,
        check: fn(&Offer) -> bool,
        searches: usize,
    }
    let saturday = one_day("2027-01-09");
    let tuesday = one_day("2027-01-12");
    let cases = [
        Case {
            // Back from Saturday after 8 nights is a Sunday: no flight. 7 or 10 fly.
            name: "nights",
            query: SearchQuery {
                nights_from: 8,
                nights_to: 8,
                ..saturday.clone()
            },
            widened: Widening::Nights,
            check: |o| [7, 10].contains(&o.nights) && o.check_in == date("2027-01-09"),
            searches: 2,
        },
        Case {
            // No 5* in Ho Chi Minh City: its 4*.
            name: "stars",
            query: SearchQuery {
                resorts: vec!["Ho Chi Minh City".into()],
                stars: Some(5),
                ..tuesday.clone()
            },
            widened: Widening::Stars,
            check: |o| o.stars == Some(4) && o.resort == "Хошимин",
            searches: 3,
        },
        Case {
            // Breakfast only is not sold on Phu Quoc: half board there.
            name: "meal",
            query: SearchQuery {
                resorts: vec!["Phu Quoc".into()],
                meal: Some("BB".into()),
                ..tuesday.clone()
            },
            widened: Widening::Meal,
            check: |o| o.resort == "Фукуок" && o.meal != "BB",
            searches: 3,
        },
        Case {
            // The hotel named has no seats: the other hotels of its resort.
            name: "hotel",
            query: SearchQuery {
                resorts: Vec::new(),
                hotels: vec!["Havana Nha Trang".into()],
                ..tuesday.clone()
            },
            widened: Widening::Hotel,
            check: |o| o.hotel != "Havana Nha Trang" && o.resort == "Нячанг",
            searches: 3,
        },
        Case {
            // Nothing in Cam Ranh within 600 000 ₸: Nha Trang, the same region, has.
            name: "resort",
            query: SearchQuery {
                resorts: vec!["Cam Ranh".into()],
                budget_max: Some(600_000),
                ..tuesday.clone()
            },
            widened: Widening::Resort,
            check: |o| o.resort == "Нячанг" && o.price <= 600_000,
            searches: 3,
        },
        Case {
            // Nothing in Nha Trang within 400 000 ₸: the cheapest there is.
            name: "budget",
            query: SearchQuery {
                budget_max: Some(400_000),
                ..tuesday.clone()
            },
            widened: Widening::Budget,
            check: |o| o.price > 400_000 && o.resort == "Нячанг" && o.nights == 7,
            searches: 4,
        },
    ];
    for case in cases {
        let fake = fakes::samo::start().await;
        let tours = handle(&fake).await;
        let page = tours.search(&case.query, first(5)).await.unwrap();
        assert_eq!(page.widened, [case.widened], "{}: {page:?}", case.name);
        assert!(!page.offers.is_empty(), "{}", case.name);
        for offer in &page.offers {
            assert!((case.check)(offer), "{}: {offer:?}", case.name);
        }
        let (calendars, searches) = extra_calls(&fake);
        assert_eq!(
            (calendars, searches),
            (1, case.searches),
            "{}: extra SAMO calls",
            case.name
        );
        assert!(searches <= tours::widen::MAX_SEARCHES);
        if case.name == "budget" {
            assert_eq!(page.offers[0].hotel, "Nesta Hotel", "cheapest first");
            assert!(!last_params(&fake).contains_key("COSTMAX"));
        }
    }
}

#[tokio::test]
async fn nothing_near_at_all_is_an_empty_page_after_at_most_the_bound() {
    let fake = fakes::samo::start().await;
    let tours = handle(&fake).await;
    // Beyond the operator's season, and every filter set: nothing near, whatever is relaxed.
    let query = SearchQuery {
        stars: Some(5),
        meal: Some("AI".into()),
        budget_max: Some(300_000),
        ..one_day("2099-01-10")
    };
    let page = tours.search(&query, first(5)).await.unwrap();
    assert!(page.offers.is_empty() && page.widened.is_empty() && !page.more);
    assert_eq!(extra_calls(&fake), (1, tours::widen::MAX_SEARCHES));
    // The widest search relaxed everything at once, cheapest first.
    let widest = last_params(&fake);
    assert!(!widest.contains_key("TOWNS") && !widest.contains_key("MEALS"));
    assert!(!widest.contains_key("COSTMAX"));
    assert_eq!(widest["STARS"], "303,304");
    assert_eq!(widest["SORT"], "ASC");
    // Asked again: the same empty answer, from the caches.
    assert_eq!(tours.search(&query, first(5)).await.unwrap(), page);
    assert_eq!(extra_calls(&fake), (1, tours::widen::MAX_SEARCHES));
}

#[tokio::test]
async fn a_search_still_running_or_failing_is_not_widened() {
    let fake = fakes::samo::start().await;
    let tours = handle(&fake).await;
    fake.set(|s| s.search_key = true);
    let page = tours
        .search(&one_day("2027-01-10"), first(5))
        .await
        .unwrap();
    assert!(page.offers.is_empty() && page.widened.is_empty());
    assert_eq!(extra_calls(&fake), (0, 0));
    // The operator fails while widening: the empty page (a manager follows), never an
    // invented offer.
    let fake = fakes::samo::start().await;
    let tours = handle(&fake).await;
    fake.set(|s| s.prices_fail_after = Some(1));
    let page = tours
        .search(&one_day("2027-01-10"), first(5))
        .await
        .unwrap();
    assert!(page.offers.is_empty() && page.widened.is_empty());
    assert_eq!(
        fake.requests_of(PRICES),
        1 + 3,
        "one widened search, tried three times"
    );
    // While the exact search itself fails, the search is unavailable.
    let err = tours.search(&one_day("2027-01-17"), first(5)).await;
    assert!(
        matches!(err, Err(SearchFailure::Unavailable { .. })),
        "{err:?}"
    );
}

#[tokio::test]
async fn hotels_named_by_customers_are_found_and_searched() {
    let fake = fakes::samo::start().await;
    let tours = handle(&fake).await;
    let galina = NamedHotel {
        name: "Galina Hotel & Spa".into(),
        resort: Some("Nha Trang".into()),
        country: "Vietnam".into(),
        stars: Some(4),
    };
    assert_eq!(
        tours.hotels_named("хотим в galina").await,
        std::slice::from_ref(&galina)
    );
    assert_eq!(
        tours.hotels_named("а в Галине какой пляж").await,
        std::slice::from_ref(&galina)
    );
    let names =
        |found: Vec<NamedHotel>| -> Vec<String> { found.into_iter().map(|h| h.name).collect() };
    assert_eq!(
        names(tours.hotels_named("берем Red Dune").await),
        ["Red Dune Beach Resort 4*"]
    );
    assert_eq!(
        tours.hotels_named("берем Red Dune").await[0]
            .resort
            .as_deref(),
        Some("Cam Ranh")
    );
    assert_eq!(
        names(tours.hotels_named("сансрайз").await),
        ["Sunrise Nha Trang Beach Hotel & Spa"]
    );
    assert_eq!(
        names(tours.hotels_named("Jade Heron Seaside Inn 3*").await),
        ["Jade Heron Seaside Inn 3*"]
    );
    // Everyday words are no hotel's name, nor is a hotel of a country not sold.
    for text in [
        "хотим у моря",
        "номер sea view",
        "Нячанг, 4 звезды, всё включено",
        "Kemer Pine Garden",
        "Patong Orchid",
    ] {
        assert!(tours.hotels_named(text).await.is_empty(), "{text}");
    }
    // The hotel list was read once.
    assert_eq!(fake.requests_of("SearchTour_HOTELS"), 1);

    // A search for the hotel named asks the operator for it alone.
    let query = SearchQuery {
        resorts: Vec::new(),
        hotels: vec![galina.name.clone()],
        ..nha_trang()
    };
    let page = tours.search(&query, first(5)).await.unwrap();
    assert_eq!(last_params(&fake)["HOTELS"], "7002");
    assert_eq!(hotels(&page), ["Galina Hotel & Spa"]);
    assert!(page.widened.is_empty());

    // An agency that sells Turkey too knows its hotels.
    let fake = fakes::samo::start().await;
    let both = tours::start(selling(&fake, &["Vietnam", "Turkey"]))
        .await
        .unwrap();
    let kemer = both.hotels_named("Kemer Pine Garden").await;
    assert_eq!(
        kemer,
        [NamedHotel {
            name: "Kemer Pine Garden 3*".into(),
            resort: None,
            country: "Turkey".into(),
            stars: Some(3),
        }]
    );

    // The operator refusing: no hotel named, and not asked again at every message.
    let fake = fakes::samo::start().await;
    fake.set(|s| s.blacklisted = true);
    let refused = handle(&fake).await;
    assert!(refused.hotels_named("galina").await.is_empty());
    assert!(refused.hotels_named("сансрайз").await.is_empty());
    assert_eq!(fake.requests_of("SearchTour_TOWNFROMS"), 1);
}

#[tokio::test]
async fn hotel_details_are_plain_text_sections_or_none() {
    let fake = fakes::samo::start().await;
    let tours = handle(&fake).await;
    let galina = tours.hotel_details(7002).await.unwrap().unwrap();
    assert_eq!(galina.hotel, "Galina Hotel & Spa");
    let titles: Vec<&str> = galina.sections.iter().map(|s| s.title.as_str()).collect();
    assert_eq!(titles, ["", "Пляж", "Номера", "Питание"]);
    let beach = &galina.sections[1].text;
    assert!(beach.contains("пляж через дорогу, 50 м"), "{beach}");
    assert!(
        galina
            .sections
            .iter()
            .all(|s| !s.text.contains('<') && !s.text.contains("&nbsp;"))
    );
    let novotel = tours.hotel_details(7006).await.unwrap().unwrap();
    let titles: Vec<&str> = novotel.sections.iter().map(|s| s.title.as_str()).collect();
    assert_eq!(
        titles,
        ["Расположение", "Пляж"],
        "the empty part is left out"
    );
    // null, false, "", [] and a name alone: no details.
    for hotel in [7003, 7007, 7008, 7009, 7010, 999_999] {
        assert_eq!(tours.hotel_details(hotel).await, Ok(None), "{hotel}");
    }
    // Cached: asked once each.
    tours.hotel_details(7002).await.unwrap();
    assert_eq!(fake.requests_of("Hotels_DETAILS"), 8);
    // A failure is the search's, not "no details".
    fake.set(|s| s.blacklisted = true);
    assert!(matches!(
        tours.hotel_details(7001).await,
        Err(SearchFailure::Unavailable { .. })
    ));
}

#[tokio::test]
async fn a_slow_operator_is_a_timeout() {
    let fake = fakes::samo::start().await;
    fake.set(|s| s.delay = Some(Duration::from_secs(5)));
    let err = client(&fake, TOKEN)
        .call("SearchTour_TOWNFROMS", &[])
        .await
        .unwrap_err();
    assert!(matches!(err, SamoError::Timeout { .. }), "{err:?}");
    assert!(err.to_string().contains("SAMO_TIMEOUT_SECS"));

    let mut quick = settings(&fake);
    quick.timeout = Duration::from_secs(1);
    let tours = tours::start(quick).await.unwrap();
    let err = tours.search(&nha_trang(), first(5)).await.unwrap_err();
    assert!(
        matches!(&err, SearchFailure::Unavailable { cause } if cause.contains("no answer within")),
        "{err:?}"
    );
}

#[tokio::test]
async fn the_same_search_twice_asks_the_operator_once() {
    let fake = fakes::samo::start().await;
    let tours = handle(&fake).await;
    let first_answer = tours.search(&nha_trang(), first(10)).await.unwrap();
    let second_answer = tours.search(&nha_trang(), first(10)).await.unwrap();
    assert_eq!(first_answer, second_answer);
    assert_eq!(fake.requests_of(PRICES), 1);
    assert_eq!(fake.requests_of("SearchTour_TOWNFROMS"), 1);
    assert_eq!(fake.requests_of("SearchTour_CURRENCIES"), 1);
}

#[tokio::test]
async fn ten_identical_searches_at_once_ask_the_operator_once() {
    let fake = fakes::samo::start().await;
    fake.set(|s| s.delay = Some(Duration::from_millis(200)));
    let tours = handle(&fake).await;
    let query = nha_trang();
    let searches = (0..10).map(|_| tours.search(&query, first(10)));
    let answers = futures::future::join_all(searches).await;
    for answer in &answers {
        assert_eq!(
            hotels(answer.as_ref().unwrap()),
            [
                "Nesta Hotel",
                "Galina Hotel & Spa",
                "Sunrise Nha Trang Beach Hotel & Spa"
            ]
        );
    }
    assert_eq!(fake.requests_of(PRICES), 1);
    assert_eq!(fake.requests_of("SearchTour_TOWNFROMS"), 1);
    assert_eq!(fake.requests_of("SearchTour_STATES"), 1);
}

#[tokio::test]
async fn calls_can_go_through_a_proxy() {
    let fake = fakes::samo::start().await;
    let (proxy, connections) = fakes::samo::start_proxy().await;
    let mut via_proxy = settings(&fake);
    via_proxy.proxy = Some(proxy);
    let tours = tours::start(via_proxy).await.unwrap();
    let page = tours.search(&nha_trang(), first(10)).await.unwrap();
    assert_eq!(page.offers.len(), 3);
    assert!(connections.load(Ordering::SeqCst) >= 1);
    assert_eq!(fake.requests_of(PRICES), 1);

    // A proxy that is down is reported as such: the calls really go through it.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let mut broken = settings(&fake);
    broken.proxy = Some(format!("http://{closed}"));
    let err = tours::start(broken)
        .await
        .unwrap()
        .search(&nha_trang(), first(10))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SearchFailure::Unavailable { cause } if cause.contains("through SAMO_PROXY")),
        "{err:?}"
    );
}

#[tokio::test]
async fn paced_and_capped_calls_still_give_every_search_its_own_offers() {
    let fake = fakes::samo::start().await;
    let mut paced = settings(&fake);
    paced.requests_per_sec = Some(20.0);
    paced.max_concurrent = 1;
    let tours = tours::start(paced).await.unwrap();
    let resorts = ["Nha Trang", "Phu Quoc", "Phan Thiet"];
    let queries: Vec<SearchQuery> = resorts
        .iter()
        .map(|r| SearchQuery {
            resorts: vec![(*r).into()],
            hotels: Vec::new(),
            ..nha_trang()
        })
        .collect();
    let answers =
        futures::future::join_all(queries.iter().map(|q| tours.search(q, first(10)))).await;
    let names: Vec<Vec<&str>> = answers
        .iter()
        .map(|a| hotels(a.as_ref().unwrap()))
        .collect();
    assert_eq!(
        names[0],
        [
            "Nesta Hotel",
            "Galina Hotel & Spa",
            "Sunrise Nha Trang Beach Hotel & Spa"
        ]
    );
    assert_eq!(names[1], ["Novotel Phu Quoc Resort"]);
    assert_eq!(names[2], ["Seahorse Resort & Spa", "Sea Links Beach Hotel"]);
    assert_eq!(fake.requests_of(PRICES), 3);
}

#[tokio::test]
async fn a_search_still_running_at_the_operator_shows_what_came_and_asks_again_next_time() {
    let fake = fakes::samo::start().await;
    fake.set(|s| s.search_key = true);
    let tours = handle(&fake).await;
    let page = tours.search(&nha_trang(), first(10)).await.unwrap();
    assert!(page.offers.is_empty() && !page.more);
    assert_eq!(fake.requests_of(PRICES), 1, "no polling");
    fake.set(|s| s.search_key = false);
    let page = tours.search(&nha_trang(), first(10)).await.unwrap();
    assert_eq!(page.offers.len(), 3);
    assert_eq!(
        fake.requests_of(PRICES),
        2,
        "the partial answer was not cached"
    );
}

#[tokio::test]
async fn the_fake_speaks_the_protocol_strictly() {
    let fake = fakes::samo::start().await;
    let http = reqwest::Client::new();
    let get = |query: String| {
        let http = http.clone();
        let url = format!("{}?{query}", fake.url);
        async move { http.get(url).send().await.unwrap() }
    };
    let base = format!("samo_action=api&version=1.0&type=json&oauth_token={TOKEN}");
    let posted = http
        .post(&fake.url)
        .body(base.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 500);
    let old: Value = get(format!(
        "samo_action=api&version=2.0&type=json&oauth_token={TOKEN}&action=SearchTour_TOWNFROMS"
    ))
    .await
    .json()
    .await
    .unwrap();
    assert!(old["error"].is_string());
    let cities: Value = get(format!("{base}&action=SearchTour_TOWNFROMS"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cities["SearchTour_TOWNFROMS"][0]["id"], 417);
    let nights: Value = get(format!(
        "{base}&action=SearchTour_NIGHTS&TOWNFROMINC=417&STATEINC=93"
    ))
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        nights["SearchTour_NIGHTS"]["places"],
        serde_json::json!([7, 10, 14])
    );
    for booking in [
        "Claim",
        "CreateClaim",
        "SearchTour_BRON",
        "SearchTour_prices",
    ] {
        let answer: Value = get(format!("{base}&action={booking}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            answer["message"],
            format!("Method does not exists: {booking}")
        );
    }
    fake.set(|s| s.blacklisted = true);
    let refused = get(format!("{base}&action=SearchTour_TOWNFROMS")).await;
    assert_eq!(refused.status(), 403);
}

#[tokio::test]
async fn the_fake_catalogue_is_like_an_operators() {
    use chrono::{Datelike, Weekday};
    let fake = fakes::samo::start().await;
    let samo = client(&fake, TOKEN);
    let params = |pairs: &[(&'static str, &str)]| -> Vec<(&'static str, String)> {
        pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect()
    };
    let names = |rows: Vec<actors::tours::samo::DictRow>| -> Vec<String> {
        rows.into_iter().map(|r| r.name).collect()
    };

    // Other countries are sold too, and not from everywhere; Karaganda has no Vietnam.
    let states = |from: &str| {
        let samo = &samo;
        let p = params(&[("TOWNFROMINC", from)]);
        async move { names(samo.dictionary("SearchTour_STATES", &p).await.unwrap()) }
    };
    assert_eq!(states("417").await, ["Вьетнам", "Турция", "Таиланд"]);
    assert_eq!(states("420").await, ["Турция"]);

    // Some hotel names already end in their category, as operators write them.
    let hotels = samo
        .dictionary(
            "SearchTour_HOTELS",
            &params(&[("TOWNFROMINC", "417"), ("STATEINC", "93")]),
        )
        .await
        .unwrap();
    assert!(hotels.iter().any(|h| h.name == "Jade Heron Seaside Inn 3*"));
    assert!(hotels.iter().any(|h| h.name == "Galina Hotel & Spa"));
    assert!(hotels.iter().all(|h| h.name != "Kemer Pine Garden 3*"));

    // Flights leave Almaty for Vietnam on Tuesdays, Thursdays and Saturdays only: the
    // calendar says so, and a Sunday has no offers.
    let calendar = samo.checkin_dates(417, 93).await.unwrap();
    let weekdays: BTreeSet<String> = calendar.iter().map(|d| d.weekday().to_string()).collect();
    assert_eq!(weekdays, ["Sat", "Thu", "Tue"].map(String::from).into());
    assert!(calendar.iter().all(|d| d.weekday() != Weekday::Sun));
    assert!(samo.checkin_dates(420, 93).await.unwrap().is_empty());
    let one_day = |day: &str| {
        params(&[
            ("TOWNFROMINC", "417"),
            ("STATEINC", "93"),
            ("CHECKIN_BEG", day),
            ("CHECKIN_END", day),
            ("NIGHTS_FROM", "7"),
            ("NIGHTS_TILL", "7"),
            ("ADULT", "2"),
        ])
    };
    assert!(
        samo.prices(&one_day("20270110"))
            .await
            .unwrap()
            .rows
            .is_empty()
    );
    let tuesday = samo.prices(&one_day("20270112")).await.unwrap();
    assert!(!tuesday.rows.is_empty());
    assert!(
        tuesday
            .rows
            .iter()
            .all(|r| r.check_in == date("2027-01-12"))
    );

    // Turkey has its own hotels and days.
    let mut turkey = one_day("20270111");
    turkey[1].1 = "94".into();
    let rows = samo.prices(&turkey).await.unwrap().rows;
    assert!(
        rows.iter().any(|r| r.hotel == "Kemer Pine Garden 3*"),
        "{rows:?}"
    );

    // Hotels_DETAILS: a description for some hotels, each empty form for others.
    let details = |id: &str| {
        let samo = &samo;
        let p = params(&[("HOTELINC", id)]);
        async move { samo.call("Hotels_DETAILS", &p).await.unwrap() }
    };
    assert!(
        details("7002").await["description"]
            .as_str()
            .unwrap()
            .contains("<h3>Пляж</h3>")
    );
    assert_eq!(details("7003").await, Value::Null);
    assert_eq!(details("7007").await, Value::Bool(false));
    assert_eq!(details("7008").await, serde_json::json!(""));
    assert_eq!(details("7009").await, serde_json::json!([]));
}

/// Log lines written while a test runs.
#[derive(Clone, Default)]
struct Logs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn samo_calls_are_logged_with_action_and_outcome_and_never_the_token() {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    // Tests on other threads register the same call sites at start-up; one that began before
    // this subscriber existed may cache "nobody listens" after it. Let those finish, then
    // recompute every call site's interest.
    tokio::time::sleep(Duration::from_millis(300)).await;
    tracing::callsite::rebuild_interest_cache();

    let fake = fakes::samo::start().await;
    let tours = handle(&fake).await;
    tours.search(&nha_trang(), first(5)).await.unwrap();
    fake.set(|s| s.blacklisted = true);
    let mut other = nha_trang();
    other.adults = 3;
    tours.search(&other, first(5)).await.unwrap_err();

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let line = |action: &str, outcome: &str| {
        text.lines().any(|l| {
            l.contains(action)
                && l.contains(&format!("outcome=\"{outcome}\""))
                && l.contains(" ms=")
        })
    };
    assert!(line("SearchTour_TOWNFROMS", "ok"), "{text}");
    assert!(line("SearchTour_PRICES", "ok"), "{text}");
    assert!(line("SearchTour_PRICES", "error"), "{text}");
    assert!(text.contains("blacklisted"));
    assert!(!text.contains(TOKEN), "the token reached the logs");
}

#[tokio::test]
async fn doctor_says_what_works_and_what_does_not() {
    let fake = fakes::samo::start().await;
    let (wazzup_url, _wazzup) = fakes::wazzup::start().await;
    let config = crystalbay::config::Config::from_values(
        std::collections::BTreeMap::new(),
        [
            ("SAMO_API_URL", fake.url.clone()),
            ("SAMO_OAUTH_TOKEN", TOKEN.to_owned()),
            ("SAMO_REQUESTS_PER_SEC", "100".to_owned()),
            ("WAZZUP_API_KEY", fakes::wazzup::API_KEY.to_owned()),
            ("WAZZUP_API_URL", wazzup_url),
            ("WAZZUP_WEBHOOK_SECRET", "s".to_owned()),
        ]
        .map(|(k, v)| (k.to_owned(), v)),
    )
    .unwrap();
    let doctor = |config| async move {
        let mut out = Vec::new();
        let healthy =
            crystalbay::commands::doctor::run(&config, date("2026-11-21"), &mut out).await;
        (healthy, String::from_utf8(out).unwrap())
    };

    let (healthy, text) = doctor(config.clone()).await;
    assert!(healthy, "{text}");
    for expected in [
        "token present (SAMO_OAUTH_TOKEN, not shown)",
        "answers: 4 departure cities (Алматы, Нур-Султан, Шымкент, Караганда)",
        "Vietnam is sold from «Алматы»: «Вьетнам» (id 93)",
        "8 resorts in «Вьетнам»",
        "not sold by the operator (customers asking are offered the others): Hoi An, Hanoi, Ha Long, Da Lat, Vung Tau",
        "16 hotels",
        "prices in KZT (SAMO_CURRENCY): currency id 14",
        "sample search Алматы → Vietnam, check-in 2026-12-01…2026-12-31, 7 nights, 2 adults: 15 offers; cheapest: Nesta Hotel, 540800 KZT",
        "2 channels",
        "not configured (TELEGRAM_BOT_TOKEN)",
        "Everything configured works.",
    ] {
        assert!(text.contains(expected), "missing «{expected}» in:\n{text}");
    }
    assert!(!text.contains(TOKEN));
    assert_eq!(fake.requests_of(PRICES), 1);

    fake.set(|s| s.blacklisted = true);
    let (healthy, text) = doctor(config).await;
    assert!(!healthy, "{text}");
    assert!(
        text.contains("FAIL")
            && text.contains("allow-list this server's IPv4 address")
            && text.contains("SAMO_PROXY"),
        "{text}"
    );
}

#[tokio::test]
async fn the_endpoint_path_is_whatever_the_operator_installed() {
    let fake = fakes::samo::start_at("/incoming/export/default.php").await;
    let tours = handle(&fake).await;
    assert_eq!(
        tours
            .search(&nha_trang(), first(10))
            .await
            .unwrap()
            .offers
            .len(),
        3
    );

    let mut wrong = settings(&fake);
    wrong.api_url = fake.url.replace("/incoming", "");
    let err = Tours::new(&wrong)
        .unwrap()
        .client()
        .call("SearchTour_TOWNFROMS", &[])
        .await
        .unwrap_err();
    assert!(
        matches!(err, SamoError::Http { status: 404, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("check SAMO_API_URL"), "{err}");
}

/// The whole engine with SAMO configured: a customer's message in through WhatsApp, real
/// offers out — every hotel and price shown is in the fake operator's answer.
mod in_conversation {
    use crate::support::app::{self, Options, TestApp};
    use crate::support::eventually;
    use fakes::samo::FakeSamo;
    use std::sync::Arc;
    use std::time::Duration;

    const WAIT: Duration = Duration::from_secs(30);
    const REQUEST: &str = "Хотим в Нячанг из Алматы в начале марта, 2 взрослых, 10 ночей";

    async fn app_with_samo() -> (TestApp, Arc<FakeSamo>) {
        let samo = fakes::samo::start().await;
        let app = app::spawn_with(Options {
            env: vec![
                ("SAMO_API_URL", samo.url.clone()),
                ("SAMO_OAUTH_TOKEN", fakes::samo::TOKEN.into()),
                ("SAMO_REQUESTS_PER_SEC", "100".into()),
            ],
            ..Options::default()
        })
        .await;
        (app, samo)
    }

    async fn reply(app: &TestApp, phone: &str) -> String {
        let status = app
            .post_wazzup(&fakes::wazzup::inbound(
                &format!("{phone}-1"),
                phone,
                REQUEST,
            ))
            .await;
        assert_eq!(status, reqwest::StatusCode::OK);
        assert!(
            eventually(WAIT, || async {
                !app.wazzup.delivered_to(phone).is_empty()
            })
            .await,
            "no reply"
        );
        app.wazzup.delivered_to(phone)[0]
            .text
            .replace('\u{a0}', " ")
    }

    /// "1 234 567" the way offers show amounts.
    fn grouped(n: u64) -> String {
        let digits = n.to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(' ');
            }
            out.push(c);
        }
        out
    }

    #[tokio::test]
    async fn offers_shown_are_the_operator_s_hotels_and_prices() {
        let (app, samo) = app_with_samo().await;
        let text = reply(&app, "77060000001").await;
        let answer = samo
            .last_answer("SearchTour_PRICES")
            .expect("SAMO was searched");
        let rows = answer["prices"].as_array().unwrap();
        assert!(!rows.is_empty(), "the fake had offers");
        let mut shown = 0;
        for row in rows {
            let hotel = row["hotel"].as_str().unwrap();
            if text.contains(hotel) {
                shown += 1;
                let price = row["convertedPriceNumber"].as_f64().unwrap().round() as u64;
                assert!(
                    text.contains(&format!("{} ₸", grouped(price))),
                    "the price of {hotel} ({price}) is not the operator's: {text}"
                );
            }
        }
        assert!(shown >= 1, "no hotel of the operator's answer in: {text}");
        // Nothing else looks like an offer: every numbered line names one of those hotels.
        for line in text.lines().filter(|l| {
            l.trim_start().starts_with(|c: char| c.is_ascii_digit()) && l.contains(". ")
        }) {
            assert!(
                rows.iter()
                    .any(|r| line.contains(r["hotel"].as_str().unwrap())),
                "an offer line not from SAMO: {line}"
            );
        }
        let params = &samo.params_of("SearchTour_PRICES")[0];
        assert_eq!(params["ADULT"], "2");
        assert_eq!(
            (
                params["NIGHTS_FROM"].as_str(),
                params["NIGHTS_TILL"].as_str()
            ),
            ("10", "10")
        );
        assert!(params["CHECKIN_BEG"].ends_with("0301") && params["CHECKIN_END"].ends_with("0310"));
    }

    #[tokio::test]
    async fn a_blacklisted_server_shows_nothing_invented_and_brings_a_manager() {
        let (app, samo) = app_with_samo().await;
        samo.set(|s| s.blacklisted = true);
        let phone = "77060000002";
        let text = reply(&app, phone).await;
        assert!(text.contains("временно недоступен"), "{text}");
        assert!(!text.contains('₸') && !text.contains('*'), "{text}");
        for hotel in fakes::samo::HOTELS {
            assert!(!text.contains(hotel.name), "{text}");
        }
        let store = &app.engine.store().store;
        let key = dialogs::ChatKey::new(dialogs::Channel::Wazzup, format!("whatsapp:{phone}"));
        let c = store.conversation_by_chat(&key).await.unwrap().unwrap();
        let e = store.escalations_of(&c.id).await.unwrap();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].reason.as_str(), "search_unavailable");
        let details = crate::support::stored(&e[0].details);
        let cause = details["error"].as_str().unwrap();
        assert!(
            cause.contains("blacklisted") || cause.contains("403"),
            "{cause}"
        );
        assert!(
            !cause.contains(fakes::samo::TOKEN),
            "the token never leaks: {cause}"
        );
    }
}
