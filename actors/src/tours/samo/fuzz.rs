//! Fuzzing the reading of SAMO answers, as property tests: the envelope
//! ([`SamoClient::payload`]) gets arbitrary bytes and arbitrary JSON, with the token planted in
//! error texts; the lenient readers of [`wire`] get arbitrary JSON, price rows whose fields are
//! missing or of any type, and amounts written any way. Properties: nothing panics; a failure
//! is a typed [`SamoError`] whose text never holds the token; what is read keeps its promises
//! (a page's numbers add up, a price is a finite amount not below zero, stars are 1–5).
//!
//! Why proptest and not cargo-fuzz: cargo-fuzz needs a nightly toolchain, which this project's
//! machines and CI do not have. Proptest runs on stable inside `cargo test`, with shrinking.
//!
//! Each property runs a bounded number of cases so that the module takes seconds; for a longer
//! local run set `PROPTEST_CASES` (e.g. `PROPTEST_CASES=20000 cargo test -p actors samo::fuzz`).

use super::client::{ClientSettings, SamoClient};
use super::wire::{self, DictRow, PriceRow, PricesPage};
use proptest::prelude::*;
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::{Value, json};
use std::sync::LazyLock;
use std::time::Duration;

const TOKEN: &str = "0123456789abcdef0123456789abcdef";
const ACTION: &str = "SearchTour_PRICES";

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

/// One client for every case: building one (its TLS set-up) costs far more than a case.
fn client() -> &'static SamoClient {
    static CLIENT: LazyLock<SamoClient> = LazyLock::new(|| {
        SamoClient::new(&ClientSettings {
            api_url: "https://samo.example/export/default.php".into(),
            oauth_token: SecretString::from(TOKEN),
            proxy: None,
            timeout: Duration::from_secs(5),
            requests_per_sec: None,
            max_concurrent: 1,
        })
        .unwrap()
    });
    &CLIENT
}

/// Text from arbitrary characters and pieces SAMO bodies are made of (numbers with
/// separators and codes, dates, seat codes, the token).
fn text() -> impl Strategy<Value = String> {
    const PIECES: &[&str] = &[
        "0",
        "1",
        "9",
        ".",
        ",",
        " ",
        "\u{a0}",
        "-",
        "e",
        "E",
        "KZT",
        "USD",
        "20261214",
        "2026-12-14",
        "Y",
        "N",
        "R",
        "F",
        "4*",
        "true",
        "error",
        TOKEN,
        "\u{0}",
        "🙂",
        "مرحبا",
        "999999999999999999999999999999999999999999999999999999999999999999999999999999999999\
         999999999999999999999999999999999999999999999999999999999999999999999999999999999999\
         999999999999999999999999999999999999999999999999999999999999999999999999999999999999\
         999999999999999999999999999999999999999999999999999999999999999999999999999999999999",
    ];
    prop::collection::vec(
        prop_oneof![
            1 => any::<char>().prop_map(String::from),
            2 => prop::sample::select(PIECES).prop_map(str::to_owned),
        ],
        0..12,
    )
    .prop_map(|parts| parts.concat())
}

/// Keys the readers look for.
const KEYS: &[&str] = &[
    ACTION,
    "searchtour_prices",
    "error",
    "Error",
    "message",
    "Message",
    "items",
    "prices",
    "pager",
    "current",
    "total",
    "searchKey",
    "id",
    "name",
    "start",
    "valid",
    "startDate",
    "validDates",
    "checkin",
    "places",
    "nights",
];

/// Arbitrary JSON, objects often with the keys above.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        let key = prop_oneof![
            3 => prop::sample::select(KEYS).prop_map(str::to_owned),
            1 => text(),
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key, inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

/// A price row: each field the reader knows is left as in a good row, left out, or given
/// any value.
fn price_row() -> impl Strategy<Value = Value> {
    let good = json!({
        "id": "X1", "hotel": "Galina Hotel", "hotelKey": 7002, "star": "4*", "town": "Нячанг",
        "checkIn": "20261214", "nights": 7, "meal": "BB", "room": "Standard", "htPlace": "DBL",
        "price": "1250.50", "currency": "USD", "convertedPrice": "650\u{a0}260 KZT",
        "convertedPriceNumber": 650260, "convertedCurrency": "KZT",
        "hotelAvailability": "YYRR", "freights": {"econom": {"in": "Y", "out": "Y"}},
        "grouped": "1"
    });
    let fields: Vec<(String, Value)> = good.as_object().unwrap().clone().into_iter().collect();
    let choices: Vec<_> = fields
        .into_iter()
        .map(|(key, value)| {
            prop_oneof![
                2 => Just(Some(value)),
                1 => Just(None),
                2 => json_value().prop_map(Some),
                1 => text().prop_map(|t| Some(Value::String(t))),
            ]
            .prop_map(move |v| (key.clone(), v))
        })
        .collect();
    choices.prop_map(|fields| {
        Value::Object(
            fields
                .into_iter()
                .filter_map(|(k, v)| Some((k, v?)))
                .collect(),
        )
    })
}

/// A finite amount, not below zero.
fn sane(amount: f64) -> bool {
    amount.is_finite() && amount >= 0.0
}

/// What the Tours actor relies on in whatever the readers make of `payload`.
fn check_readers(payload: &Value) {
    if let Some((rows, skipped)) = DictRow::parse_all(payload) {
        assert_eq!(rows.len() + skipped, wire::rows(payload).unwrap().len());
        for row in rows {
            assert!(!row.name.is_empty() && row.name.trim() == row.name);
        }
    }
    if let Some(page) = PricesPage::parse(payload) {
        assert!(
            1 <= page.current && page.current <= page.total_pages,
            "{page:?}"
        );
        for row in &page.rows {
            check_row(row);
        }
    }
    let _ = wire::checkin_dates(payload);
    let _ = wire::nights(payload);
}

fn check_row(row: &PriceRow) {
    assert!(!row.id.is_empty() && !row.hotel.is_empty());
    assert!(sane(row.price), "price {}", row.price);
    if let Some((amount, code)) = &row.converted {
        assert!(sane(*amount), "converted {amount}");
        assert!(!code.is_empty());
    }
    assert!(row.stars().is_none_or(|s| (1..=5).contains(&s)));
    let _ = row.availability();
    let _ = row.check_out();
}

/// The envelope's contract on a JSON answer, and the readers on what it lets through.
fn check_answer(json: Value, status: StatusCode) {
    let top_has_action = json
        .as_object()
        .is_some_and(|o| o.keys().any(|k| k.eq_ignore_ascii_case(ACTION)));
    match client().payload(ACTION, status, json) {
        Ok(payload) => {
            assert!(top_has_action);
            check_readers(&payload);
        }
        Err(e) => {
            let text = e.to_string();
            assert!(!text.is_empty());
            assert!(!text.contains(TOKEN), "the token leaked: {text}");
        }
    }
}

fn status() -> impl Strategy<Value = StatusCode> {
    prop::sample::select(vec![200u16, 400, 403, 404, 500, 502])
        .prop_map(|s| StatusCode::from_u16(s).unwrap())
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn any_body_is_read_or_refused(body in prop::collection::vec(any::<u8>(), 0..256), status in status()) {
        if let Ok(json) = serde_json::from_slice::<Value>(&body) {
            check_answer(json, status);
        }
    }

    #[test]
    fn any_json_is_read_or_refused(v in json_value(), status in status()) {
        check_answer(v, status);
    }

    #[test]
    fn any_payload_in_a_good_envelope_is_read_or_refused(payload in json_value()) {
        check_answer(json!({ ACTION: payload }), StatusCode::OK);
    }

    #[test]
    fn errors_never_carry_the_token(
        before in text(),
        after in text(),
        nested in any::<bool>(),
        key in prop::sample::select(vec!["error", "Error", "message"]),
    ) {
        let message = format!("{before}{TOKEN}{after}");
        let error = if key == "message" {
            json!({"error": true, "message": message})
        } else {
            json!({ key: message })
        };
        let body = if nested { json!({ ACTION: error }) } else { error };
        let e = client().payload(ACTION, StatusCode::OK, body).unwrap_err();
        prop_assert!(!e.to_string().contains(TOKEN), "{}", e);
    }

    #[test]
    fn price_rows_with_fields_missing_or_of_any_type(rows in prop::collection::vec(price_row(), 0..4), pager in json_value()) {
        let payload = json!({"prices": rows, "pager": pager});
        let page = PricesPage::parse(&payload).expect("a list of prices is a page");
        prop_assert_eq!(page.rows.len() + page.skipped, rows.len());
        check_readers(&payload);
    }

    #[test]
    fn scalars_in_any_form(v in json_value(), s in text()) {
        let _ = (wire::int(&v), wire::flag(&v), wire::text(&v), wire::date(&v));
        prop_assert!(wire::amount(&v).is_none_or(sane));
        if let Some((amount, code)) = wire::parse_amount(&s) {
            prop_assert!(sane(amount), "{s:?} → {amount}");
            prop_assert!(code.is_none_or(|c| c.chars().all(|c| c.is_ascii_uppercase())));
        }
        let _ = wire::leading_star(&s);
    }
}
