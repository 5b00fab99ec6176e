//! Sample contexts of the reply templates, built from the very structs the dialog policy
//! renders them with (`dialogs::replies`): an edited template must render with each sample,
//! and may use no variable the structs lack (the policy passes nothing else). Several samples
//! per template cover its branches (`Some` and `None`, each code a template translates).
//!
//! A new field in a struct is a new variable here at once; a new template needs its samples
//! here (a test checks that every shipped template has some).

use dialogs::hours::Office;
use dialogs::replies::{self as r, Template};
use dialogs::state::Need;
use serde::Serialize;
use serde_json::Value;

/// The sample contexts of template `name` (`greeting`, `offers`…); empty for an unknown name.
/// Every template also sees `office` (are managers at work, and if not, when): each sample
/// comes with managers at work, and those that say when a manager answers also out of hours.
pub fn contexts(name: &str) -> Vec<Value> {
    match name {
        r::Greeting::NAME => {
            with_office(&[r::Greeting { again: false }, r::Greeting { again: true }])
        }
        r::Ask::NAME => with_office(&[
            r::Ask {
                missing: vec![Need::Destination, Need::DepartureCity],
                known: r::SearchView::default(),
                has_known: false,
                again: false,
            },
            r::Ask {
                missing: vec![Need::Dates, Need::Nights],
                known: search(),
                has_known: true,
                again: false,
            },
            r::Ask {
                missing: vec![Need::Party, Need::ChildAges],
                known: search(),
                has_known: true,
                again: true,
            },
        ]),
        r::Summary::NAME => with_office(&[
            r::Summary { search: search() },
            r::Summary {
                search: r::SearchView::default(),
            },
        ]),
        r::Offers::NAME => with_office(&[
            r::Offers {
                search: search(),
                offers: vec![offer(1, "available"), offer(2, "seats_left")],
                more: true,
                continued: false,
                nearest: false,
            },
            r::Offers {
                search: search(),
                offers: vec![offer(6, "on_request")],
                more: false,
                continued: true,
                nearest: false,
            },
            r::Offers {
                search: search(),
                offers: vec![nearest(1), offer(2, "available")],
                more: false,
                continued: false,
                nearest: true,
            },
        ]),
        r::NoOffers::NAME => when(&[
            r::NoOffers {
                search: search(),
                cheaper: false,
                manager: true,
            },
            r::NoOffers {
                search: search(),
                cheaper: true,
                manager: false,
            },
        ]),
        r::NoMoreOffers::NAME => with_office(&[r::NoMoreOffers {}]),
        r::NoCheaper::NAME => with_office(&[
            r::NoCheaper {
                cheapest: Some(offer(1, "available")),
                party: party(),
            },
            r::NoCheaper {
                cheapest: Some(offer(2, "available")),
                party: r::PartyView {
                    adults: 1,
                    children: 0,
                    child_ages: Vec::new(),
                },
            },
            r::NoCheaper {
                cheapest: None,
                party: party(),
            },
        ]),
        r::AfterEmpty::NAME => when(
            &["more", "cheaper", "choice", "question", "booking"]
                .into_iter()
                .flat_map(|asked| {
                    [None, Some(3)]
                        .into_iter()
                        .map(move |n| r::AfterEmpty { asked, n })
                })
                .collect::<Vec<_>>(),
        ),
        r::NoList::NAME => with_office(
            &[
                "choice", "more", "cheaper", "booking", "question", "earlier",
            ]
            .into_iter()
            .flat_map(|asked| {
                [(Some(3), true), (None, false)]
                    .into_iter()
                    .map(move |(n, asking)| r::NoList { asked, n, asking })
            })
            .collect::<Vec<_>>(),
        ),
        r::NotOffered::NAME => with_office(
            &[
                "departure_city",
                "country",
                "resort",
                "dates",
                "meal",
                "stars",
            ]
            .into_iter()
            .map(|field| r::NotOffered {
                field,
                value: "Шымкент".into(),
                alternatives: vec!["Алматы".into(), "Астана".into()],
            })
            .chain([r::NotOffered {
                field: "currency",
                value: "GBP".into(),
                alternatives: Vec::new(),
            }])
            .collect::<Vec<_>>(),
        ),
        r::NotSold::NAME => with_office(&[
            r::NotSold {
                country: "Таиланд".into(),
                sold: vec!["Вьетнам".into()],
                resorts: vec!["Нячанг".into(), "Фукуок".into()],
                again: false,
            },
            r::NotSold {
                country: "Таиланд".into(),
                sold: vec!["Турция".into()],
                resorts: Vec::new(),
                again: false,
            },
            r::NotSold {
                country: "Таиланд".into(),
                sold: vec!["Вьетнам".into()],
                resorts: vec!["Нячанг".into(), "Фукуок".into()],
                again: true,
            },
        ]),
        r::NotPackage::NAME => with_office(&[
            r::NotPackage {
                scope: "flights_only",
            },
            r::NotPackage {
                scope: "hotel_only",
            },
        ]),
        r::ExistingBooking::NAME => when(&[
            r::ExistingBooking { need_phone: true },
            r::ExistingBooking { need_phone: false },
        ]),
        r::SearchUnavailable::NAME => when(&[r::SearchUnavailable {}]),
        r::Booking::NAME => when(&[
            r::Booking {
                offer: offer(2, "available"),
                party: party(),
                need_phone: true,
                again: false,
            },
            r::Booking {
                offer: offer(1, "available"),
                party: r::PartyView {
                    adults: 1,
                    children: 0,
                    child_ages: Vec::new(),
                },
                need_phone: false,
                again: true,
            },
        ]),
        r::WhichOffer::NAME => with_office(&[
            r::WhichOffer {
                count: 5,
                n: None,
                question: false,
            },
            r::WhichOffer {
                count: 5,
                n: Some(7),
                question: false,
            },
            r::WhichOffer {
                count: 5,
                n: Some(7),
                question: true,
            },
            r::WhichOffer {
                count: 0,
                n: None,
                question: false,
            },
        ]),
        r::OfferFacts::NAME => with_office(
            &["price", "meal", "room", "flight", "availability", "compare"]
                .into_iter()
                .flat_map(|topic| {
                    [
                        r::OfferFacts {
                            topic,
                            offers: vec![offer(1, "available"), offer(2, "on_request")],
                            all: true,
                            cheapest: Some(offer(1, "available")),
                            best: Some(offer(3, "seats_left")),
                            party: party(),
                        },
                        r::OfferFacts {
                            topic,
                            offers: vec![offer(2, "seats_left")],
                            all: false,
                            cheapest: Some(offer(2, "seats_left")),
                            best: None,
                            party: r::PartyView {
                                adults: 1,
                                children: 0,
                                child_ages: Vec::new(),
                            },
                        },
                    ]
                })
                .collect::<Vec<_>>(),
        ),
        r::HotelInfo::NAME => with_office(&[
            r::HotelInfo {
                topic: "beach",
                hotels: vec![
                    r::HotelView {
                        n: 1,
                        hotel: "Sunrise Nha Trang Beach Hotel".into(),
                        parts: vec!["Пляж: песчаный, 50 м".into()],
                        metres: Some(50),
                    },
                    r::HotelView {
                        n: 2,
                        hotel: "Red Dune Resort".into(),
                        parts: vec!["Первая линия, собственный пляж.".into()],
                        metres: Some(0),
                    },
                ],
                closest: Some(2),
                foreign: false,
                missing: Vec::new(),
            },
            r::HotelInfo {
                topic: "hotel",
                hotels: vec![r::HotelView {
                    n: 3,
                    hotel: "Galina Hotel".into(),
                    parts: vec!["Номера: 120 номеров.".into()],
                    metres: None,
                }],
                closest: None,
                foreign: true,
                missing: vec!["анимация".into()],
            },
        ]),
        r::QuestionToManager::NAME => when(
            &["beach", "hotel", "compare", "other", "foreign", "missing"]
                .into_iter()
                .flat_map(|topic| {
                    [
                        r::QuestionToManager {
                            topic,
                            hotel: Some("Red Dune Resort".into()),
                            manager: true,
                            missing: vec!["анимация".into()],
                        },
                        r::QuestionToManager {
                            topic,
                            hotel: None,
                            manager: false,
                            missing: Vec::new(),
                        },
                    ]
                })
                .collect::<Vec<_>>(),
        ),
        r::PriceLater::NAME => with_office(&[r::PriceLater {}]),
        r::Repeated::NAME => when(&[
            r::Repeated {
                missing: vec![Need::Nights, Need::Party],
                offers: 0,
                empty: false,
            },
            r::Repeated {
                missing: Vec::new(),
                offers: 5,
                empty: false,
            },
            r::Repeated {
                missing: Vec::new(),
                offers: 0,
                empty: true,
            },
            r::Repeated {
                missing: Vec::new(),
                offers: 0,
                empty: false,
            },
        ]),
        r::Human::NAME => when(&[
            r::Human { need_phone: true },
            r::Human { need_phone: false },
        ]),
        r::Complaint::NAME => when(&[
            r::Complaint { need_phone: true },
            r::Complaint { need_phone: false },
        ]),
        r::Thanks::NAME => with_office(&[r::Thanks { booked: false }, r::Thanks { booked: true }]),
        r::Waiting::NAME => {
            use dialogs::handover::Ack;
            let acks = [
                Ack::Told,
                Ack::Urgent,
                Ack::Reminded,
                Ack::CallBack,
                Ack::AskPhone,
                Ack::Thanks,
                Ack::Noted,
                Ack::NotedAgain,
            ];
            let samples: Vec<r::Waiting> = acks
                .into_iter()
                .map(|ack| r::Waiting {
                    ack,
                    phone: Some("+77011234567".into()),
                })
                .chain([r::Waiting {
                    ack: Ack::CallBack,
                    phone: None,
                }])
                .collect();
            when(&samples)
        }
        r::ContactThanks::NAME => with_office(&[
            r::ContactThanks { booked: false },
            r::ContactThanks { booked: true },
        ]),
        r::NotUnderstood::NAME => with_office(&[
            r::NotUnderstood {
                attempt: 1,
                first: true,
            },
            r::NotUnderstood {
                attempt: 2,
                first: false,
            },
        ]),
        r::Meal::NAME => {
            with_office(&[r::Meal { code: "AI".into() }, r::Meal { code: "XX".into() }])
        }
        r::ButtonBook::NAME => with_office(&[r::ButtonBook { n: 3 }]),
        r::FaqUnknown::NAME => with_office(&[r::FaqUnknown {}]),
        r::Sorry::NAME => with_office(&[r::Sorry {}]),
        r::Media::NAME => with_office(&[r::Media {}]),
        r::ButtonMore::NAME => with_office(&[r::ButtonMore {}]),
        r::ButtonManager::NAME => with_office(&[r::ButtonManager {}]),
        r::WhenManager::NAME => when(&[r::WhenManager {}]),
        _ => Vec::new(),
    }
}

/// The offices a template is rendered with: at work, and out of hours until today, tomorrow
/// or a later day.
fn offices() -> [Office; 4] {
    let closed = |when: &'static str, weekday: &'static str, time: &str| Office {
        open: false,
        when,
        weekday,
        time: time.into(),
    };
    [
        Office::always_open(),
        closed("today", "mon", "10:00"),
        closed("tomorrow", "sat", "11:00"),
        closed("later", "mon", "10:00"),
    ]
}

/// The context as the policy renders it: the struct's fields and `office`.
fn rendered<T: Serialize>(context: &T, office: &Office) -> Value {
    #[derive(Serialize)]
    struct WithOffice<'a, T> {
        #[serde(flatten)]
        context: &'a T,
        office: &'a Office,
    }
    serde_json::to_value(WithOffice { context, office }).expect("sample contexts serialise")
}

/// Samples with managers at work.
fn with_office<T: Template>(samples: &[T]) -> Vec<Value> {
    let open = Office::always_open();
    samples.iter().map(|s| rendered(s, &open)).collect()
}

/// Samples of a template that says when a manager answers: at work and out of hours.
fn when<T: Template>(samples: &[T]) -> Vec<Value> {
    let offices = offices();
    samples
        .iter()
        .flat_map(|s| offices.iter().map(move |o| rendered(s, o)))
        .collect()
}

/// A search's parameters as the templates see them, every field set.
fn search() -> r::SearchView {
    r::SearchView {
        destination: Some("Нячанг или Камрань".into()),
        departure_city: Some("Алматы".into()),
        dates: Some("26–30 декабря".into()),
        near: Some("28 декабря".into()),
        near_day: Some(28),
        nights: Some("10".into()),
        adults: Some(2),
        children: Some(1),
        child_ages: vec![5],
        budget: Some("1 500 000 ₸".into()),
        stars: Some(4),
        meal: Some("всё включено".into()),
        hotels: vec!["Red Dune Resort".into()],
    }
}

fn party() -> r::PartyView {
    r::PartyView {
        adults: 2,
        children: 1,
        child_ages: vec![5],
    }
}

/// An offer as the templates see it. Odd offers have a category, even ones none: both sides
/// of `{% if o.stars %}`.
fn offer(n: usize, availability: &'static str) -> r::OfferView {
    r::OfferView {
        n,
        hotel: "Sunrise Nha Trang Beach Hotel".into(),
        stars: (n % 2 == 1).then_some(5),
        resort: "Нячанг".into(),
        check_in: "02.03.2027".into(),
        back: "12.03.2027".into(),
        nights: 10,
        meal: "всё включено".into(),
        room: "Deluxe Sea View".into(),
        price: "1 234 567 ₸".into(),
        availability,
        seats: (availability == "seats_left").then_some(3),
        differs: Vec::new(),
    }
}

/// A nearest offer, differing in every way a template words.
fn nearest(n: usize) -> r::OfferView {
    let differs = [
        ("date", "26–30 декабря", "2 января"),
        ("nights", "10", "9"),
        ("stars", "5", "4"),
        ("meal", "всё включено", "завтраки"),
        ("resort", "Нячанг", "Камрань"),
        ("hotel", "Red Dune Resort", "Sunrise"),
        ("budget", "1 000 000 ₸", "52 000 ₸"),
        ("budget", "1 000 $", ""),
    ]
    .into_iter()
    .map(|(kind, asked, offered)| r::Difference {
        kind,
        asked: asked.into(),
        offered: offered.into(),
    })
    .collect();
    r::OfferView {
        differs,
        ..offer(n, "available")
    }
}
