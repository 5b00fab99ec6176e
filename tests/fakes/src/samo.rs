//! A local fake of the SAMO-tour Online API (`docs/protocols/samo.md`) that behaves as the
//! spec's "Behaviour a faithful fake must have" asks:
//!
//! - `GET` on a configurable path (default `/export/default.php`); `POST` gets HTTP 500;
//! - `samo_action=api`, `version=1.0`, `type=json` required (else a JSON error body);
//! - an unknown token gets 200 `{"error":"apiKey provided, but invalid"}`; in "IP not
//!   allowed" mode every call gets 403 `{"error":"apiKey blacklisted"}`;
//! - actions match exactly and case-sensitively (else `Method does not exists: <action>`);
//! - the envelope `{"<action>": payload}`: dictionaries bare arrays, PRICES/CHECKIN/NIGHTS
//!   objects; int ids, `YYYYMMDD` dates, 0/1 flags, string offer ids, ISO currencies,
//!   numeric prices in USD, `convertedPrice` formatted ("1 234 567 KZT");
//! - dictionaries with ids unlike any operator's (Almaty 417, Vietnam 93, Nha Trang 2201…)
//!   and Russian names, as a real catalogue is: other countries than Vietnam (Turkey,
//!   Thailand) sold from some departure cities, a departure city with no flight to Vietnam
//!   (Karaganda), Vietnamese hotels across resorts, categories (2* to 5*) and meal plans,
//!   some of whose names already end in their category ("Jade Heron Seaside Inn 3*"), as
//!   operators write them;
//! - charter flights on some weekdays only, per route (departure city and country), the same
//!   days both ways, sold a year ahead: `SearchTour_CHECKIN` lists those days, and PRICES has
//!   no rows checking in or out on other days or later (so 7 nights always fly, 8 from
//!   Almaty to Vietnam never do; see [`flight_days`]);
//! - PRICES filtered by window, nights, party and id lists, paged (`PRICEPAGE`, `pager`,
//!   page size configurable), grouped per hotel with `PARTITION_PRICE`, expanded with
//!   `CATCLAIM` + `HOTELS`; validation errors nested under the action;
//! - `Hotels_DETAILS` (`HOTELINC`): an HTML description for some hotels (with headed parts,
//!   or as a list of titled parts), each of the "no details" forms (`null`, `false`, `""`,
//!   `[]`) for others;
//! - tolerance switches: lenient value forms (string prices and ids, bool flags, dashed
//!   dates, `{"items":[…]}` dictionaries, NBSP-formatted converted prices without the
//!   number), CHECKIN shapes B and C, top-level `Error`, an HTML body with 200 or 5xx,
//!   `searchKey` with empty prices, a slow response (every call, or only PRICES: the
//!   operator's search time, as the load tool sets it), and an operator that mixes another
//!   country's offers into a search (`mixed_countries`);
//! - no booking actions; every request counted per action, its parameters, the payload
//!   answered and when it was answered kept for assertions (and for the load tool, which
//!   subtracts SAMO's own time from reply latencies).
//!
//! [`start_proxy`] is a tiny HTTP proxy (CONNECT tunnels and absolute-URI requests) that
//! counts its connections, for the proxy test.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The one valid token (32 lower-case hex, like the operators').
pub const TOKEN: &str = "5a0c9e2f41b87d3361e0f4a92c7b5d18";
/// The fake's exchange rates from USD (the hotels' native currency).
pub const USD_TO_KZT: f64 = 520.0;
pub const USD_TO_EUR: f64 = 0.92;

/// How `SearchTour_CHECKIN` answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CheckinShape {
    /// `{"start":"YYYYMMDD","valid":"0022…"}` (ANEX).
    #[default]
    A,
    /// `{"items":[{"checkin":"YYYYMMDD"}…]}` (Join UP).
    B,
    /// `{"startDate":"YYYYMMDD","validDates":"0101…"}`.
    C,
}

/// Behaviour switches; tests change them while the fake runs.
#[derive(Debug, Clone)]
pub struct Switches {
    /// "IP not allowed": every call gets 403 `apiKey blacklisted`.
    pub blacklisted: bool,
    /// Values in their other documented forms: string ids/prices/nights, bool flags, dashed
    /// dates, `{"items":[…]}` dictionaries, converted prices with NBSPs and decimals and no
    /// `convertedPriceNumber`.
    pub lenient: bool,
    pub checkin_shape: CheckinShape,
    /// Top-level errors under `Error` instead of `error`.
    pub capital_error: bool,
    /// Answer the next `.1` requests with an HTML page and HTTP status `.0`.
    pub html: Option<(u16, usize)>,
    /// PRICES answers `prices: []` with a `searchKey` (results would come later).
    pub search_key: bool,
    /// Wait this long before answering.
    pub delay: Option<Duration>,
    /// Wait this long before answering `SearchTour_PRICES` (on top of `delay`).
    pub prices_delay: Option<Duration>,
    /// PRICES rows per page.
    pub page_size: usize,
    /// PRICES for Vietnam also answers Turkish hotels' rows (an operator that ignores
    /// `STATEINC` for a combined programme): such offers must never be shown.
    pub mixed_countries: bool,
    /// After this many PRICES requests, every further one gets an HTML 502 page (an
    /// operator failing half-way through a customer's searches).
    pub prices_fail_after: Option<usize>,
}

impl Default for Switches {
    fn default() -> Switches {
        Switches {
            blacklisted: false,
            lenient: false,
            checkin_shape: CheckinShape::A,
            capital_error: false,
            html: None,
            search_key: false,
            delay: None,
            prices_delay: None,
            page_size: 300,
            mixed_countries: false,
            prices_fail_after: None,
        }
    }
}

/// The fake's state: switches and what it was asked.
pub struct FakeSamo {
    /// The full endpoint URL, as `SAMO_API_URL` would be set.
    pub url: String,
    switches: Mutex<Switches>,
    requests: Mutex<Vec<(String, HashMap<String, String>)>>,
    answers: Mutex<HashMap<String, Value>>,
    served: Mutex<Vec<Served>>,
}

/// A request the fake answered (with a payload or an error under the action), and when.
#[allow(dead_code)] // read by the load tool (benches/load.rs)
#[derive(Debug, Clone)]
pub struct Served {
    pub action: String,
    pub params: HashMap<String, String>,
    /// When the request arrived.
    pub started: Instant,
    /// When its answer was ready.
    pub finished: Instant,
}

impl FakeSamo {
    /// Changes the switches.
    pub fn set(&self, change: impl FnOnce(&mut Switches)) {
        change(&mut self.switches.lock().unwrap());
    }

    /// How many requests named `action` arrived (whatever the answer).
    pub fn requests_of(&self, action: &str) -> usize {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|(a, _)| a == action)
            .count()
    }

    /// The parameters of every request named `action`, oldest first.
    pub fn params_of(&self, action: &str) -> Vec<HashMap<String, String>> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|(a, _)| a == action)
            .map(|(_, p)| p.clone())
            .collect()
    }

    /// Every request named `action` that got an answer, oldest first, with its timing.
    #[allow(dead_code)] // used by the load tool (benches/load.rs)
    pub fn served(&self, action: &str) -> Vec<Served> {
        self.served
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.action == action)
            .cloned()
            .collect()
    }

    /// The last payload answered to `action` (inside the envelope).
    pub fn last_answer(&self, action: &str) -> Option<Value> {
        self.answers.lock().unwrap().get(action).cloned()
    }
}

/// Starts the fake on a free port at the default path.
pub async fn start() -> Arc<FakeSamo> {
    start_at("/export/default.php").await
}

/// Starts the fake on a free port; the endpoint is at `path`.
pub async fn start_at(path: &str) -> Arc<FakeSamo> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let fake = Arc::new(FakeSamo {
        url: format!("http://{}{path}", listener.local_addr().unwrap()),
        switches: Mutex::default(),
        requests: Mutex::default(),
        answers: Mutex::default(),
        served: Mutex::default(),
    });
    let app = Router::new()
        .route(path, get(api).post(post_refused))
        .with_state(fake.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    fake
}

async fn post_refused() -> Response {
    // ANEX answers a POST with HTTP 500.
    (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response()
}

const HTML: &str = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>";

async fn api(
    State(fake): State<Arc<FakeSamo>>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let started = Instant::now();
    let params: HashMap<String, String> = pairs.into_iter().collect();
    let action = params.get("action").cloned().unwrap_or_default();
    let prices_before = fake.requests_of("SearchTour_PRICES");
    fake.requests
        .lock()
        .unwrap()
        .push((action.clone(), params.clone()));
    let switches = {
        let mut s = fake.switches.lock().unwrap();
        let now = s.clone();
        let html_over = match &mut s.html {
            Some((_, left)) => {
                *left = left.saturating_sub(1);
                *left == 0
            }
            None => false,
        };
        if html_over {
            s.html = None;
        }
        now
    };
    if let Some(delay) = switches.delay {
        tokio::time::sleep(delay).await;
    }
    if action == "SearchTour_PRICES"
        && let Some(delay) = switches.prices_delay
    {
        tokio::time::sleep(delay).await;
    }
    let failing = action == "SearchTour_PRICES"
        && switches
            .prices_fail_after
            .is_some_and(|after| prices_before >= after);
    if let Some((status, _)) = switches.html.or(failing.then_some((502, 0))) {
        let status = StatusCode::from_u16(status).unwrap();
        return (status, [("content-type", "text/html; charset=utf-8")], HTML).into_response();
    }
    let error_key = if switches.capital_error {
        "Error"
    } else {
        "error"
    };
    if switches.blacklisted {
        return (
            StatusCode::FORBIDDEN,
            Json(json!({ error_key: "apiKey blacklisted" })),
        )
            .into_response();
    }
    let p = |k: &str| params.get(k).map(String::as_str);
    if p("samo_action") != Some("api") || p("version") != Some("1.0") || p("type") != Some("json") {
        return Json(
            json!({ error_key: "samo_action=api, version=1.0 and type=json are required" }),
        )
        .into_response();
    }
    if p("oauth_token") != Some(TOKEN) {
        return Json(json!({ error_key: "apiKey provided, but invalid" })).into_response();
    }
    let req = Request {
        params: &params,
        switches: &switches,
    };
    let answer = match action.as_str() {
        "SearchTour_TOWNFROMS" => Ok(req.dictionary(town_froms())),
        "SearchTour_STATES" => req.states(),
        "SearchTour_TOURS" => req.tours(),
        "SearchTour_TOWNS" => req.towns(),
        "SearchTour_HOTELS" => req.hotels(),
        "SearchTour_STARS" => req.route().map(|_| req.dictionary(stars())),
        "SearchTour_MEALS" => req.route().map(|_| req.dictionary(meals())),
        "SearchTour_CURRENCIES" => req.route().map(|_| req.dictionary(currencies(req.switches.lenient))),
        "SearchTour_CHECKIN" => req.checkin(),
        "SearchTour_NIGHTS" => req
            .route()
            .map(|_| json!({"nights": [5, 6, 7, 8, 9, 10, 11, 12, 13, 14], "places": [7, 10, 14], "default": {"from": 7, "till": 7}})),
        "SearchTour_PRICES" => req.prices(),
        "Hotels_DETAILS" => req.details(),
        other => {
            return Json(json!({"error": 1, "message": format!("Method does not exists: {other}")}))
                .into_response();
        }
    };
    let payload = match answer {
        Ok(payload) => payload,
        Err((code, message)) => json!({"error": code, "message": message}),
    };
    fake.answers
        .lock()
        .unwrap()
        .insert(action.clone(), payload.clone());
    fake.served.lock().unwrap().push(Served {
        action: action.clone(),
        params,
        started,
        finished: Instant::now(),
    });
    Json(json!({ action: payload })).into_response()
}

// --- The catalogue ------------------------------------------------------------------

struct TownFrom {
    id: i64,
    name: &'static str,
    /// Countries sold from here, each with the weekdays its charter flights leave on.
    routes: &'static [(i64, &'static [Weekday])],
}

use Weekday::{Fri, Mon, Sat, Sun, Thu, Tue, Wed};

fn town_froms_data() -> &'static [TownFrom] {
    &[
        TownFrom {
            id: 417,
            name: "Алматы",
            routes: &[
                (93, &[Tue, Thu, Sat]),
                (94, &[Mon, Wed, Fri, Sun]),
                (95, &[Mon, Fri]),
            ],
        },
        // The operator still calls Astana by its old name.
        TownFrom {
            id: 418,
            name: "Нур-Султан",
            routes: &[(93, &[Wed, Sun]), (94, &[Tue, Sat])],
        },
        TownFrom {
            id: 419,
            name: "Шымкент",
            routes: &[(94, &[Thu])],
        },
        // No flight to Vietnam from here.
        TownFrom {
            id: 420,
            name: "Караганда",
            routes: &[(94, &[Sat])],
        },
    ]
}

/// How many days ahead flights are sold (from today).
const CALENDAR_DAYS: u64 = 365;

/// The weekdays flights leave on from `from` to `state`; empty when that route is not sold.
pub fn flight_days(from: i64, state: i64) -> &'static [Weekday] {
    town_froms_data()
        .iter()
        .find(|t| t.id == from)
        .and_then(|t| t.routes.iter().find(|(s, _)| *s == state))
        .map_or(&[], |(_, days)| days)
}

fn town_froms() -> Vec<Value> {
    town_froms_data()
        .iter()
        .map(|t| json!({"id": t.id, "name": t.name, "stateFromKey": 7, "stateFromName": "Казахстан"}))
        .collect()
}

const STATES: &[(i64, &str, &str, &str)] = &[
    (93, "Вьетнам", "Vietnam", "VN"),
    (94, "Турция", "Turkey", "TR"),
    (95, "Таиланд", "Thailand", "TH"),
];

/// Resorts: (id, name, region, regionKey, country).
const TOWNS: &[(i64, &str, &str, i64, i64)] = &[
    (2201, "Нячанг", "Кханьхоа", 31, 93),
    (2202, "Камрань", "Кханьхоа", 31, 93),
    (2203, "Фукуок", "Фукуок", 32, 93),
    (2204, "Муйне", "Фантьет", 33, 93),
    (2205, "Фантьет", "Фантьет", 33, 93),
    (2206, "Дананг", "Дананг", 34, 93),
    (2207, "Хошимин", "Хошимин", 35, 93),
    (2208, "Куинён", "Биньдинь", 36, 93),
    (2301, "Анталья", "Анталья", 41, 94),
    (2302, "Кемер", "Анталья", 41, 94),
    (2401, "Пхукет", "Пхукет", 51, 95),
    (2402, "Паттайя", "Чонбури", 52, 95),
];

/// The country of a resort.
fn state_of(town: i64) -> i64 {
    TOWNS.iter().find(|t| t.0 == town).map_or(0, |t| t.4)
}

const STARS: &[(i64, &str)] = &[(301, "2*"), (302, "3*"), (303, "4*"), (304, "5*")];
const MEALS: &[(i64, &str)] = &[
    (501, "RO"),
    (502, "BB"),
    (503, "HB"),
    (504, "FB"),
    (505, "AI"),
];

fn stars() -> Vec<Value> {
    STARS
        .iter()
        .map(|(id, name)| json!({"id": id, "name": name}))
        .collect()
}

fn meals() -> Vec<Value> {
    MEALS
        .iter()
        .map(|(id, name)| json!({"id": id, "name": name}))
        .collect()
}

fn currencies(lenient: bool) -> Vec<Value> {
    if lenient {
        vec![
            json!({"id": "11", "name": "Доллар США", "currencyISO": "USD", "selected": "0"}),
            json!({"id": "12", "name": "Евро", "currencyISO": "EUR", "selected": false}),
            json!({"id": "14", "name": "Тенге", "currencyISO": "KZT", "selected": true}),
        ]
    } else {
        vec![
            json!({"id": 11, "name": "USD", "alias": "USD", "selected": 0}),
            json!({"id": 12, "name": "EUR", "alias": "EUR", "selected": 0}),
            json!({"id": 14, "name": "KZT", "alias": "KZT", "selected": 1}),
        ]
    }
}

/// A hotel of the catalogue (priced in USD); its resort decides its country.
pub struct Hotel {
    pub id: i64,
    /// As the operator writes it: some names end in the category ("… Inn 3*").
    pub name: &'static str,
    pub star_key: i64,
    pub town: i64,
    /// USD per person per night, before meal, room and date supplements.
    pub base: f64,
    /// (mealKey, USD per person per night).
    pub meals: &'static [(i64, f64)],
    pub availability: &'static str,
    /// Seats on the flight out and back.
    pub freight: (&'static str, &'static str),
}

pub const HOTELS: &[Hotel] = &[
    Hotel {
        id: 7001,
        name: "Sunrise Nha Trang Beach Hotel & Spa",
        star_key: 304,
        town: 2201,
        base: 95.0,
        meals: &[(505, 0.0)],
        availability: "Y",
        freight: ("Y", "Y"),
    },
    Hotel {
        id: 7002,
        name: "Galina Hotel & Spa",
        star_key: 303,
        town: 2201,
        base: 48.0,
        meals: &[(502, 0.0), (503, 15.0)],
        availability: "YYYY",
        freight: ("Y", "Y"),
    },
    Hotel {
        id: 7003,
        name: "Nesta Hotel",
        star_key: 302,
        town: 2201,
        base: 30.0,
        meals: &[(502, 0.0)],
        availability: "RRRR",
        freight: ("Y", "Y"),
    },
    // Sold out: its rows are answered, and must never be shown.
    Hotel {
        id: 7004,
        name: "Havana Nha Trang",
        star_key: 304,
        town: 2201,
        base: 20.0,
        meals: &[(503, 0.0)],
        availability: "NNNN",
        freight: ("Y", "Y"),
    },
    Hotel {
        id: 7005,
        name: "Fusion Resort Cam Ranh",
        star_key: 304,
        town: 2202,
        base: 140.0,
        meals: &[(505, 0.0)],
        availability: "F",
        freight: ("Y", "Y"),
    },
    Hotel {
        id: 7006,
        name: "Novotel Phu Quoc Resort",
        star_key: 304,
        town: 2203,
        base: 85.0,
        meals: &[(503, 0.0), (505, 30.0)],
        availability: "Y",
        freight: ("Y", "Y"),
    },
    Hotel {
        id: 7007,
        name: "Seahorse Resort & Spa",
        star_key: 303,
        town: 2204,
        base: 55.0,
        meals: &[(502, 0.0)],
        availability: "Y",
        freight: ("Y", "Y"),
    },
    Hotel {
        id: 7008,
        name: "Sea Links Beach Hotel",
        star_key: 304,
        town: 2205,
        base: 75.0,
        meals: &[(505, 0.0)],
        availability: "Y",
        freight: ("R", "Y"),
    },
    Hotel {
        id: 7009,
        name: "Fusion Suites Da Nang",
        star_key: 303,
        town: 2206,
        base: 60.0,
        meals: &[(502, 0.0)],
        availability: "Y",
        freight: ("Y", "Y"),
    },
    Hotel {
        id: 7010,
        name: "Rex Hotel Saigon",
        star_key: 303,
        town: 2207,
        base: 50.0,
        meals: &[(502, 0.0)],
        availability: "Y",
        freight: ("Y", "Y"),
    },
    Hotel {
        id: 7011,
        name: "Anya Premier Quy Nhon",
        star_key: 304,
        town: 2208,
        base: 65.0,
        meals: &[(502, 0.0)],
        availability: "Y",
        freight: ("Y", "Y"),
    },
    // Added for realism: names that end in their category, other resorts, categories
    // and meal plans. None of them is in Nha Trang, Phu Quoc or Phan Thiet, has breakfast
    // only, or is a 5* with all inclusive, so the older tests' hotel lists stand.
    Hotel {
        id: 7012,
        name: "Jade Heron Seaside Inn 3*",
        star_key: 302,
        town: 2206,
        base: 36.0,
        meals: &[(501, 0.0), (503, 12.0)],
        availability: "Y",
        freight: ("Y", "Y"),
    },
    Hotel {
        id: 7013,
        name: "Red Dune Beach Resort 4*",
        star_key: 303,
        town: 2202,
        base: 70.0,
        meals: &[(505, 0.0)],
        availability: "YYRR",
        freight: ("Y", "Y"),
    },
    // A hotel whose name is an everyday word: a customer's "sea view" is not it.
    Hotel {
        id: 7014,
        name: "Sea Hotel 2*",
        star_key: 301,
        town: 2208,
        base: 33.0,
        meals: &[(501, 0.0)],
        availability: "Y",
        freight: ("Y", "Y"),
    },
    Hotel {
        id: 7015,
        name: "Vinpearl Resort & Spa Da Nang 5*",
        star_key: 304,
        town: 2206,
        base: 120.0,
        meals: &[(503, 0.0), (504, 20.0)],
        availability: "Y",
        freight: ("Y", "Y"),
    },
    Hotel {
        id: 7016,
        name: "Liberty Central Saigon Riverside 4*",
        star_key: 303,
        town: 2207,
        base: 58.0,
        meals: &[(501, 0.0), (503, 14.0)],
        availability: "Y",
        freight: ("Y", "Y"),
    },
    // Other countries' hotels: in the operator's catalogue, never in a Vietnam search.
    Hotel {
        id: 7101,
        name: "Lara Golden Sands Hotel 4*",
        star_key: 303,
        town: 2301,
        base: 45.0,
        meals: &[(505, 0.0)],
        availability: "Y",
        freight: ("Y", "Y"),
    },
    Hotel {
        id: 7102,
        name: "Kemer Pine Garden 3*",
        star_key: 302,
        town: 2302,
        base: 28.0,
        meals: &[(503, 0.0), (505, 10.0)],
        availability: "Y",
        freight: ("Y", "Y"),
    },
    Hotel {
        id: 7201,
        name: "Patong Orchid Resort 4*",
        star_key: 303,
        town: 2401,
        base: 52.0,
        meals: &[(502, 0.0)],
        availability: "Y",
        freight: ("Y", "Y"),
    },
    Hotel {
        id: 7202,
        name: "Pattaya Blue Lagoon Hotel",
        star_key: 302,
        town: 2402,
        base: 31.0,
        meals: &[(502, 0.0)],
        availability: "Y",
        freight: ("Y", "Y"),
    },
];

/// Rooms: (roomKey, name, price factor).
const ROOMS: &[(i64, &str, f64)] = &[(1, "Standard", 1.0), (2, "Deluxe Sea View", 1.25)];

/// Return flight, USD per person (children 2+ pay 75 %, infants nothing).
const FLIGHT: f64 = 310.0;

fn name_of(table: &[(i64, &'static str)], id: i64) -> &'static str {
    table.iter().find(|(i, _)| *i == id).map_or("", |(_, n)| n)
}

// --- Requests -----------------------------------------------------------------------

type Answer = Result<Value, (i64, String)>;

struct Request<'a> {
    params: &'a HashMap<String, String>,
    switches: &'a Switches,
}

impl Request<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.params.get(key).map(String::as_str)
    }

    fn required_int(&self, key: &str) -> Result<i64, (i64, String)> {
        match self.get(key) {
            None | Some("") => Err((2, format!("Не задан параметр {key}"))),
            Some(v) => v
                .parse()
                .map_err(|_| (3, format!("Неверное значение параметра {key}: {v}"))),
        }
    }

    fn ids(&self, key: &str) -> Option<Vec<i64>> {
        self.get(key)
            .map(|v| v.split(',').filter_map(|i| i.trim().parse().ok()).collect())
    }

    fn date(&self, key: &str) -> Result<NaiveDate, (i64, String)> {
        let v = self
            .get(key)
            .ok_or_else(|| (2, format!("Не задан параметр {key}")))?;
        NaiveDate::parse_from_str(v, "%Y%m%d")
            .map_err(|_| (3, format!("Неверная дата {key}: {v} (нужно YYYYMMDD)")))
    }

    /// `TOWNFROMINC` and `STATEINC`, checked; `Ok(None)` when that country is not sold
    /// from that city.
    fn route(&self) -> Result<Option<(i64, i64)>, (i64, String)> {
        let from = self.required_int("TOWNFROMINC")?;
        let state = self.required_int("STATEINC")?;
        Ok((!flight_days(from, state).is_empty()).then_some((from, state)))
    }

    fn dictionary(&self, rows: Vec<Value>) -> Value {
        let rows = Value::Array(rows);
        if self.switches.lenient {
            let rows = stringify_ids(rows);
            json!({ "items": rows })
        } else {
            rows
        }
    }

    fn states(&self) -> Answer {
        let from = self.required_int("TOWNFROMINC")?;
        Ok(self.dictionary(
            STATES
                .iter()
                .filter(|(id, ..)| !flight_days(from, *id).is_empty())
                .map(|(id, name, alt, iso)| json!({"id": id, "name": name, "nameAlt": alt, "stateISO": iso}))
                .collect(),
        ))
    }

    fn tours(&self) -> Answer {
        let rows = match self.route()? {
            Some((from, state)) => {
                let country = STATES.iter().find(|s| s.0 == state).map_or("", |s| s.1);
                let city = town_froms_data()
                    .iter()
                    .find(|t| t.id == from)
                    .map_or("", |t| t.name);
                vec![
                    json!({"id": 880 + state, "name": format!("{country} из {city}"), "typeKey": 2}),
                ]
            }
            None => vec![],
        };
        Ok(self.dictionary(rows))
    }

    fn towns(&self) -> Answer {
        let rows = match self.route()? {
            Some((_, state)) => TOWNS
                .iter()
                .filter(|t| t.4 == state)
                .map(|(id, name, region, region_key, _)| json!({"id": id, "name": name, "region": region, "regionKey": region_key}))
                .collect(),
            None => vec![],
        };
        Ok(self.dictionary(rows))
    }

    fn hotels(&self) -> Answer {
        let rows = match self.route()? {
            Some((_, state)) => HOTELS
                .iter()
                .filter(|h| state_of(h.town) == state)
                .map(|h| json!({"id": h.id, "name": h.name, "star": name_of(STARS, h.star_key), "starKey": h.star_key, "townKey": h.town}))
                .collect(),
            None => vec![],
        };
        Ok(self.dictionary(rows))
    }

    /// The route's flight days for a year from today; nothing when the route is not sold.
    fn checkin(&self) -> Answer {
        let start = chrono::Utc::now().date_naive();
        let days = match self.route()? {
            Some((from, state)) => flight_days(from, state),
            None => &[],
        };
        let mask: String = (0..CALENDAR_DAYS)
            .map(|i| {
                let day = start + Days::new(i);
                if days.contains(&day.weekday()) {
                    '2'
                } else {
                    '0'
                }
            })
            .collect();
        let dates = || {
            mask.chars()
                .enumerate()
                .filter(|(_, c)| *c != '0')
                .map(|(i, _)| (start + Days::new(i as u64)).format("%Y%m%d").to_string())
        };
        Ok(match self.switches.checkin_shape {
            CheckinShape::A => json!({"start": start.format("%Y%m%d").to_string(), "valid": mask}),
            CheckinShape::B => {
                json!({"items": dates().map(|d| json!({"checkin": d})).collect::<Vec<_>>()})
            }
            CheckinShape::C => json!({
                "startDate": start.format("%Y%m%d").to_string(),
                "validDates": mask.replace('2', "1"),
            }),
        })
    }

    /// `Hotels_DETAILS`: what the operator wrote about `HOTELINC`, or one of the "no
    /// details" forms.
    fn details(&self) -> Answer {
        let id = self.required_int("HOTELINC")?;
        let Some(hotel) = HOTELS.iter().find(|h| h.id == id) else {
            return Ok(Value::Null);
        };
        let town = TOWNS.iter().find(|t| t.0 == hotel.town).map_or("", |t| t.1);
        let head = |extra: Value| {
            let mut row = json!({"id": hotel.id, "name": hotel.name, "star": name_of(STARS, hotel.star_key), "town": town, "townKey": hotel.town});
            if let (Some(o), Value::Object(more)) = (row.as_object_mut(), extra) {
                o.extend(more);
            }
            row
        };
        Ok(match id {
            // A description in HTML with headed parts.
            7002 => head(json!({
                "description": "<p>Отель в центре Нячанга, в 5&nbsp;минутах ходьбы от набережной.</p>\
                    <h3>Пляж</h3><p>Городской песчаный пляж через дорогу, 50&nbsp;м. Лежаки и полотенца за плату.</p>\
                    <h3>Номера</h3><ul><li>Standard: 24&nbsp;м², кондиционер</li><li>Deluxe Sea View: балкон с видом на море</li></ul>\
                    <h3>Питание</h3><p>Завтрак &laquo;шведский стол&raquo;, ужин по меню.</p>",
                "address": "5 Hung Vuong, Nha Trang",
            })),
            7001 => head(json!({
                "description": "<p><b>Sunrise</b> &mdash; пятизвёздочный отель на первой линии.</p><h4>Пляж</h4><p>Собственный песчаный пляж, зонтики и лежаки бесплатно.</p><h4>Для детей</h4><p>Детский клуб с 4 до 12 лет, бассейн.</p>",
            })),
            // The same, as a list of titled parts.
            7006 => head(json!({
                "descriptions": [
                    {"title": "Расположение", "text": "<p>Пляж Онг Ланг, 20&nbsp;км от аэропорта.</p>"},
                    {"title": "Пляж", "text": "Песчаный, пологий вход в море."},
                    {"title": "Ремонт", "text": ""},
                ],
            })),
            7012 => head(
                json!({"description": "<p>Small inn on My Khe beach, 3&nbsp;min walk.</p><h3>Rooms</h3><p>22 rooms, sea or city view.</p>"}),
            ),
            // Every "no details" form the protocol allows.
            7003 => Value::Null,
            7007 => Value::Bool(false),
            7008 => json!(""),
            7009 => json!([]),
            // Only the name: nothing to tell.
            _ => head(json!({"description": ""})),
        })
    }

    fn prices(&self) -> Answer {
        let route = self.route()?;
        let beg = self.date("CHECKIN_BEG")?;
        let end = self.date("CHECKIN_END")?;
        if beg > end {
            return Err((101, "CHECKIN_BEG позже CHECKIN_END".into()));
        }
        let nights_from = self.required_int("NIGHTS_FROM")?;
        let nights_till = self.required_int("NIGHTS_TILL")?;
        if nights_from > nights_till || !(1..=60).contains(&nights_from) {
            return Err((
                102,
                "Неверный диапазон ночей NIGHTS_FROM..NIGHTS_TILL".into(),
            ));
        }
        let adults = self.required_int("ADULT")?;
        let children = self
            .get("CHILD")
            .map_or(Ok(0), |_| self.required_int("CHILD"))?;
        let ages = self.ids("AGES").unwrap_or_default();
        if ages.len() as i64 != children {
            return Err((
                103,
                format!(
                    "Количество возрастов детей (AGES: {}) не совпадает с CHILD: {children}",
                    ages.len()
                ),
            ));
        }
        if !(1..=6).contains(&adults) || !(0..=6).contains(&children) {
            return Err((104, "ADULT 1..6, CHILD 0..6".into()));
        }
        let (code, rate) = match self.get("CURRENCY") {
            None | Some("11") => ("USD", 1.0),
            Some("12") => ("EUR", USD_TO_EUR),
            Some("14") => ("KZT", USD_TO_KZT),
            Some(other) => return Err((105, format!("Неизвестная валюта CURRENCY={other}"))),
        };
        if self.switches.search_key {
            return Ok(json!({"prices": [], "searchKey": "e0c5a7b2-fake-search"}));
        }
        let Some((from, state)) = route else {
            return Ok(json!({"prices": [], "pager": {"current": 1, "total": 1}}));
        };
        let horizon = chrono::Utc::now().date_naive() + Days::new(CALENDAR_DAYS);
        let flies = |from: i64, state: i64, day: NaiveDate| {
            flight_days(from, state).contains(&day.weekday())
        };
        let towns = self.ids("TOWNS");
        let hotels = self.ids("HOTELS");
        let stars = self.ids("STARS");
        let meals = self.ids("MEALS");
        let cost_max = self.get("COSTMAX").and_then(|v| v.parse::<f64>().ok());
        let cost_min = self.get("COSTMIN").and_then(|v| v.parse::<f64>().ok());
        let catclaim = self.get("CATCLAIM").filter(|c| !c.is_empty());
        let grouped = catclaim.is_none()
            && self
                .get("PARTITION_PRICE")
                .is_some_and(|p| p != "0" && !p.is_empty());
        // A group expands only into its own hotel.
        let claim_hotel = catclaim.and_then(|c| c.split('-').next()?.parse::<i64>().ok());
        if catclaim.is_some()
            && (claim_hotel.is_none()
                || hotels
                    .as_ref()
                    .is_none_or(|h| !h.contains(&claim_hotel.unwrap_or(0))))
        {
            return Ok(json!({"prices": [], "pager": {"current": 1, "total": 1}}));
        }
        let party = Party { adults, ages };
        let mut rows: Vec<Offer> = Vec::new();
        for hotel in HOTELS {
            let keep =
                |filter: &Option<Vec<i64>>, v: i64| filter.as_ref().is_none_or(|f| f.contains(&v));
            let country = state_of(hotel.town);
            // A mixing operator answers Turkish rows to a Vietnam search, unfiltered.
            let mixed_in = self.switches.mixed_countries && state == 93 && country == 94;
            if !mixed_in
                && (country != state
                    || !keep(&towns, hotel.town)
                    || !keep(&hotels, hotel.id)
                    || !keep(&stars, hotel.star_key))
            {
                continue;
            }
            let mut day = beg;
            while day <= end {
                // Charter flights leave on the route's weekdays only, both ways, and are
                // sold a year ahead (as the calendar says).
                let route = if mixed_in { state } else { country };
                if !flies(from, route, day) || day >= horizon {
                    day = day + Days::new(1);
                    continue;
                }
                for nights in nights_from..=nights_till {
                    if !flies(from, route, day + Days::new(nights as u64)) {
                        continue;
                    }
                    for &(meal, meal_extra) in hotel.meals {
                        if !keep(&meals, meal) {
                            continue;
                        }
                        for &(room, room_name, factor) in ROOMS {
                            let usd = party.price(hotel, day, nights, meal_extra, factor);
                            let converted = (usd * rate).round();
                            if cost_max.is_some_and(|m| converted > m)
                                || cost_min.is_some_and(|m| converted < m)
                            {
                                continue;
                            }
                            rows.push(Offer {
                                hotel,
                                day,
                                nights,
                                meal,
                                room,
                                room_name,
                                usd,
                                converted,
                            });
                        }
                    }
                }
                day = day + Days::new(1);
            }
        }
        rows.sort_by(|a, b| {
            a.converted
                .total_cmp(&b.converted)
                .then_with(|| a.id().cmp(&b.id()))
        });
        if grouped {
            let mut seen = std::collections::HashSet::new();
            rows.retain(|r| seen.insert(r.hotel.id));
        }
        if self.get("SORT") == Some("DESC") {
            rows.reverse();
        }
        let size = self.switches.page_size.max(1);
        let total = rows.len().div_ceil(size).max(1);
        let page = self
            .get("PRICEPAGE")
            .and_then(|p| p.parse::<usize>().ok())
            .unwrap_or(1)
            .max(1);
        let lenient = self.switches.lenient;
        let prices: Vec<Value> = rows
            .iter()
            .skip((page - 1) * size)
            .take(size)
            .map(|r| r.json(from, &party, code, grouped, lenient))
            .collect();
        Ok(json!({"prices": prices, "pager": {"current": page, "total": total}}))
    }
}

struct Party {
    adults: i64,
    ages: Vec<i64>,
}

impl Party {
    fn price(
        &self,
        hotel: &Hotel,
        day: NaiveDate,
        nights: i64,
        meal_extra: f64,
        room_factor: f64,
    ) -> f64 {
        // Prices move with the day of the month, so the cheapest date is a real choice.
        let per_night = (hotel.base + f64::from(day.day() % 5) * 2.0) * room_factor + meal_extra;
        let payers =
            self.adults as f64 + self.ages.iter().filter(|a| **a >= 2).count() as f64 * 0.5;
        let flights =
            self.adults as f64 + self.ages.iter().filter(|a| **a >= 2).count() as f64 * 0.75;
        (per_night * nights as f64 * payers + FLIGHT * flights).round()
    }
}

struct Offer {
    hotel: &'static Hotel,
    day: NaiveDate,
    nights: i64,
    meal: i64,
    room: i64,
    room_name: &'static str,
    usd: f64,
    converted: f64,
}

impl Offer {
    fn id(&self) -> String {
        format!(
            "{}-{}-{}-{}-{}",
            self.hotel.id,
            self.day.format("%Y%m%d"),
            self.nights,
            self.room,
            self.meal
        )
    }

    fn json(&self, from: i64, party: &Party, code: &str, grouped: bool, lenient: bool) -> Value {
        let h = self.hotel;
        let check_out = self.day + Days::new(self.nights as u64);
        let town = TOWNS.iter().find(|t| t.0 == h.town).map_or("", |t| t.1);
        let state = state_of(h.town);
        let country = STATES.iter().find(|s| s.0 == state).map_or("", |s| s.1);
        let date = |d: NaiveDate| {
            if lenient {
                d.format("%Y-%m-%d").to_string()
            } else {
                d.format("%Y%m%d").to_string()
            }
        };
        let mut row = json!({
            "id": self.id(),
            "checkIn": date(self.day), "checkOut": date(check_out), "nights": self.nights,
            "adult": party.adults, "child": party.ages.len(),
            "hotel": h.name, "hotelKey": h.id, "star": name_of(STARS, h.star_key), "starKey": h.star_key,
            "town": town, "townKey": h.town,
            "meal": name_of(MEALS, self.meal), "mealKey": self.meal,
            "room": self.room_name, "roomKey": self.room, "htPlace": "DBL", "htPlaceKey": 3,
            "price": self.usd, "currency": "USD", "currencyKey": 11,
            "convertedPrice": format!("{} {code}", group_thousands(self.converted, ' ')),
            "convertedPriceNumber": self.converted, "convertedCurrency": code,
            "hotelAvailability": h.availability,
            "freights": {"econom": {"in": h.freight.0, "out": h.freight.1}},
            "bron": 1, "grouped": i64::from(grouped), "packetType": 0,
            "tour": country, "tourKey": 880 + state, "stateKey": state, "townFromKey": from,
            "freightExternal": "N",
        });
        if lenient {
            let o = row.as_object_mut().unwrap();
            o.insert("price".into(), json!(format!("{:.2}", self.usd)));
            o.insert("hotelKey".into(), json!(h.id.to_string()));
            o.insert("nights".into(), json!(self.nights.to_string()));
            o.insert("bron".into(), json!(true));
            o.insert(
                "grouped".into(),
                if grouped { json!("1") } else { json!(false) },
            );
            o.remove("convertedPriceNumber");
            o.remove("convertedCurrency");
            o.insert(
                "convertedPrice".into(),
                json!(format!(
                    "{}.00\u{a0}{code}",
                    group_thousands(self.converted, '\u{a0}')
                )),
            );
        }
        row
    }
}

/// "1234567" → "1 234 567" with `sep` between groups.
fn group_thousands(amount: f64, sep: char) -> String {
    let digits = format!("{}", amount.round() as i64);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// Every `id`/`…Key` number turned into a string (the lenient form).
fn stringify_ids(v: Value) -> Value {
    match v {
        Value::Array(a) => Value::Array(a.into_iter().map(stringify_ids).collect()),
        Value::Object(o) => Value::Object(
            o.into_iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::Number(n) if k == "id" || k.ends_with("Key") => {
                            Value::String(n.to_string())
                        }
                        other => stringify_ids(other),
                    };
                    (k, v)
                })
                .collect(),
        ),
        other => other,
    }
}

// --- A CONNECT proxy ----------------------------------------------------------------

/// A tiny HTTP proxy on a free port: `CONNECT host:port` opens a tunnel, an absolute-URI
/// request (`GET http://host:port/…`) is forwarded to that host with the connection piped
/// both ways. Returns its URL and the number of connections it accepted.
pub async fn start_proxy() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = connections.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(proxy_connection(client));
        }
    });
    (url, connections)
}

async fn proxy_connection(mut client: tokio::net::TcpStream) {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match client.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut first = text.lines().next().unwrap_or_default().split_whitespace();
    let (method, target) = (
        first.next().unwrap_or_default(),
        first.next().unwrap_or_default(),
    );
    let authority = if method == "CONNECT" {
        target.to_owned()
    } else {
        let rest = target.strip_prefix("http://").unwrap_or(target);
        rest.split('/').next().unwrap_or_default().to_owned()
    };
    let Ok(mut upstream) = tokio::net::TcpStream::connect(&authority).await else {
        let _ = client
            .write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")
            .await;
        return;
    };
    if method == "CONNECT" {
        if client
            .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
            .await
            .is_err()
        {
            return;
        }
    } else if upstream.write_all(&head).await.is_err() {
        // The origin server accepts the absolute-URI form as is.
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
}
