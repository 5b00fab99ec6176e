//! Reading SAMO payloads leniently. The protocol is loosely specified (see the spec's
//! "uncertain" markers), so every reader accepts all the forms seen in the wild: numbers as
//! strings, flags as `0`/`1`/`true`/`"1"`, dates as `YYYYMMDD` or `YYYY-MM-DD`, dictionaries
//! bare or wrapped in `{"items":[…]}`, prices as numbers or decimal strings, converted prices
//! formatted with spaces or NBSPs, and the three shapes of `SearchTour_CHECKIN`. A row that
//! lacks what the engine needs is skipped (and counted), never invented.

use chrono::{Days, NaiveDate};
use dialogs::search::Availability;
use serde_json::Value;

/// An integer, from a JSON number or a numeric string.
pub fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A flag: `1`/`0`, `true`/`false`, `"1"`/`"0"`, `"true"`/`"false"`, `"Y"`/`"N"`.
pub fn flag(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_f64().map(|f| f != 0.0),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "y" | "yes" => Some(true),
            "0" | "false" | "n" | "no" | "" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A non-empty text, from a string or a number.
pub fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A date written `YYYYMMDD` (string or number) or `YYYY-MM-DD`.
pub fn date(v: &Value) -> Option<NaiveDate> {
    let s = match v {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    NaiveDate::parse_from_str(&s, "%Y%m%d")
        .or_else(|_| NaiveDate::parse_from_str(s.get(..10).unwrap_or(&s), "%Y-%m-%d"))
        .ok()
}

/// An amount: a JSON number, a decimal string (`"1250.50"`), or a formatted one with
/// thousands separated by spaces, NBSPs or commas and an optional currency code
/// (`"1 234 567.00 KZT"`, `"82 796 RUB"`). Never below zero.
pub fn amount(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => parse_amount(s).map(|(a, _)| a),
        _ => None,
    }
    .filter(|a| a.is_finite() && *a >= 0.0)
}

/// A formatted amount and the currency code written after it, if any. `None` for digits too
/// many for a finite number.
pub fn parse_amount(s: &str) -> Option<(f64, Option<String>)> {
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    let number: String = compact
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ',')
        .collect();
    let code = compact[number.len()..].trim().to_owned();
    let normalised = match (number.contains('.'), number.matches(',').count()) {
        (true, _) => number.replace(',', ""),
        (false, 1) if number.rsplit(',').next().is_some_and(|d| d.len() <= 2) => {
            number.replace(',', ".")
        }
        _ => number.replace(',', ""),
    };
    let value = normalised.parse::<f64>().ok().filter(|v| v.is_finite())?;
    let code = (!code.is_empty() && code.chars().all(|c| c.is_ascii_alphabetic()))
        .then(|| code.to_ascii_uppercase());
    Some((value, code))
}

/// The rows of a dictionary payload: a bare array or `{"items":[…]}`.
pub fn rows(payload: &Value) -> Option<&[Value]> {
    match payload {
        Value::Array(rows) => Some(rows),
        Value::Object(o) => o.get("items").and_then(Value::as_array).map(Vec::as_slice),
        _ => None,
    }
}

/// One row of a SAMO dictionary (`TOWNFROMS`, `STATES`, `TOWNS`, `HOTELS`, `STARS`, `MEALS`,
/// `CURRENCIES`), with the fields the engine reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DictRow {
    /// The operator's id (used as `…INC` or in id lists).
    pub id: i64,
    pub name: String,
    /// Other names the row carries: `nameAlt`, ISO codes (`stateISO`, `stateISO3`,
    /// `currencyISO`), `alias`.
    pub alt_names: Vec<String>,
    /// A resort's region (`TOWNS.region`), e.g. the province several towns belong to.
    pub region: Option<String>,
    /// A departure city's country (`TOWNFROMS.stateFromName`).
    pub state_from: Option<String>,
    /// A hotel's resort (`HOTELS.townKey`).
    pub town_key: Option<i64>,
    /// A hotel's category as written (`HOTELS.star`, "4*").
    pub star: Option<String>,
}

impl DictRow {
    /// Reads one row; `None` when it has no id or name.
    pub fn parse(v: &Value) -> Option<DictRow> {
        let id = int(v.get("id")?)?;
        let name = text(v.get("name")?)?;
        let field = |k: &str| v.get(k).and_then(text);
        let alt_names = ["nameAlt", "stateISO", "stateISO3", "currencyISO", "alias"]
            .iter()
            .filter_map(|k| field(k))
            .collect();
        Some(DictRow {
            id,
            name,
            alt_names,
            region: field("region"),
            state_from: field("stateFromName"),
            town_key: v.get("townKey").and_then(int),
            star: field("star"),
        })
    }

    /// Reads a whole dictionary payload; the second value counts rows skipped as unreadable.
    pub fn parse_all(payload: &Value) -> Option<(Vec<DictRow>, usize)> {
        let rows = rows(payload)?;
        let parsed: Vec<DictRow> = rows.iter().filter_map(DictRow::parse).collect();
        let skipped = rows.len() - parsed.len();
        Some((parsed, skipped))
    }
}

/// One row of `SearchTour_PRICES`: an offer as the operator describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceRow {
    /// Opaque offer id (`CATCLAIM` for expansion; the manager's booking reference).
    pub id: String,
    pub hotel: String,
    pub hotel_key: Option<i64>,
    /// "4*" as written (`star`, else `starAlt`).
    pub star: Option<String>,
    /// Resort (`town`).
    pub town: String,
    pub check_in: NaiveDate,
    pub nights: u32,
    pub meal: String,
    /// Room and accommodation: "Standard Room (DBL)".
    pub room: String,
    /// Native amount and its ISO code.
    pub price: f64,
    pub currency: String,
    /// The amount in the requested `CURRENCY` and its ISO code, when given.
    pub converted: Option<(f64, String)>,
    /// Seats at the hotel, `[YNFR]{1,8}`.
    pub hotel_availability: String,
    /// Seats on the flights, one `(out, back)` pair per class (`freights.<class>.in/out`).
    pub freights: Vec<(String, String)>,
    /// A group-minimum row (expand it with `CATCLAIM`).
    pub grouped: bool,
    /// The country of the offer (`stateKey`), when given.
    pub state_key: Option<i64>,
}

impl PriceRow {
    /// Reads one row; `None` when something the customer must see is missing.
    pub fn parse(v: &Value) -> Option<PriceRow> {
        let field = |k: &str| v.get(k).and_then(text);
        let price = v.get("price").and_then(amount)?;
        let converted = converted(v);
        let room = match (field("room"), field("htPlace")) {
            (Some(room), Some(place)) => format!("{room} ({place})"),
            (Some(room), None) => room,
            (None, Some(place)) => place,
            (None, None) => String::new(),
        };
        let freights = match v.get("freights") {
            Some(Value::Object(classes)) => classes
                .values()
                .map(|c| {
                    let seat = |k: &str| c.get(k).and_then(text).unwrap_or_default();
                    (seat("in"), seat("out"))
                })
                .collect(),
            _ => Vec::new(),
        };
        Some(PriceRow {
            id: field("id")?,
            hotel: field("hotel")?,
            hotel_key: v.get("hotelKey").and_then(int),
            star: field("star").or_else(|| field("starAlt")),
            town: field("town").unwrap_or_default(),
            check_in: v.get("checkIn").and_then(date)?,
            nights: v
                .get("nights")
                .and_then(int)
                .and_then(|n| u32::try_from(n).ok())?,
            meal: field("meal").unwrap_or_default(),
            room,
            price,
            currency: field("currency")
                .map(|c| c.to_ascii_uppercase())
                .unwrap_or_default(),
            converted,
            hotel_availability: field("hotelAvailability").unwrap_or_default(),
            freights,
            grouped: v.get("grouped").and_then(flag).unwrap_or(false),
            state_key: v.get("stateKey").and_then(int),
        })
    }

    /// The category as a number ("4*" → 4), when the operator wrote one.
    pub fn stars(&self) -> Option<u8> {
        self.star.as_deref().and_then(leading_star)
    }

    /// What the customer is told about seats; `None` when there are none (an `N` for the
    /// hotel, or every flight class sold out one way): such rows are not shown.
    pub fn availability(&self) -> Option<Availability> {
        let hotel = seats(&self.hotel_availability)?;
        // The customer can take any class that has seats both ways.
        let flights = if self.freights.is_empty() {
            Seats::Yes
        } else {
            self.freights
                .iter()
                .filter_map(|(out, back)| Some(seats(out)?.min(seats(back)?)))
                .max()?
        };
        Some(match hotel.min(flights) {
            Seats::Yes => Availability::Available,
            Seats::OnRequest => Availability::OnRequest,
        })
    }

    /// The check-out day.
    pub fn check_out(&self) -> Option<NaiveDate> {
        self.check_in
            .checked_add_days(Days::new(self.nights.into()))
    }
}

/// Seats as one availability code string says: the worst of its letters. Unknown letters and
/// an empty string count as "on request" (not confirmed); any `N` means none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Seats {
    OnRequest,
    Yes,
}

fn seats(code: &str) -> Option<Seats> {
    let code = code.trim().to_ascii_uppercase();
    if code.contains('N') {
        return None;
    }
    if !code.is_empty() && code.chars().all(|c| c == 'Y' || c == 'F') {
        Some(Seats::Yes)
    } else {
        Some(Seats::OnRequest)
    }
}

/// The first digit of a category name ("4*", "5* Deluxe", "3+") as a star count.
pub fn leading_star(name: &str) -> Option<u8> {
    name.chars()
        .find(char::is_ascii_digit)
        .and_then(|c| c.to_digit(10))
        .and_then(|d| u8::try_from(d).ok())
        .filter(|d| (1..=5).contains(d))
}

fn converted(v: &Value) -> Option<(f64, String)> {
    let formatted = v
        .get("convertedPrice")
        .and_then(Value::as_str)
        .and_then(parse_amount);
    let number = v
        .get("convertedPriceNumber")
        .and_then(amount)
        .or_else(|| formatted.as_ref().map(|(a, _)| *a))?;
    let code = v
        .get("convertedCurrency")
        .and_then(text)
        .map(|c| c.to_ascii_uppercase())
        .or_else(|| formatted.and_then(|(_, code)| code))?;
    Some((number, code))
}

/// One page of `SearchTour_PRICES`.
#[derive(Debug, Clone, PartialEq)]
pub struct PricesPage {
    pub rows: Vec<PriceRow>,
    /// Rows left out because they lacked an id, hotel, date, nights or price.
    pub skipped: usize,
    /// `pager.current` and `pager.total` (pages); a missing pager means one page.
    pub current: u32,
    pub total_pages: u32,
    /// Set when SAMO started an external search whose results come later (not polled).
    pub search_key: Option<String>,
}

impl PricesPage {
    pub fn parse(payload: &Value) -> Option<PricesPage> {
        let listed = payload.get("prices")?;
        let listed: &[Value] = match listed {
            Value::Array(rows) => rows,
            Value::Null => &[],
            Value::Object(o) if o.is_empty() => &[],
            _ => return None,
        };
        let rows: Vec<PriceRow> = listed.iter().filter_map(PriceRow::parse).collect();
        let pager = payload.get("pager");
        let page_field = |k: &str| {
            pager
                .and_then(|p| p.get(k))
                .and_then(int)
                .and_then(|n| u32::try_from(n).ok())
                .filter(|n| *n >= 1)
        };
        let current = page_field("current").unwrap_or(1);
        Some(PricesPage {
            skipped: listed.len() - rows.len(),
            rows,
            current,
            total_pages: page_field("total").unwrap_or(current).max(current),
            search_key: payload.get("searchKey").and_then(text),
        })
    }
}

/// The bookable check-in dates of a `SearchTour_CHECKIN` payload, in any of its shapes:
/// A `{"start":"YYYYMMDD","valid":"0022…"}` (`1`/`2`/`3`/`5` = bookable), B
/// `{"items":[{"checkin":"YYYYMMDD"}…]}`, C `{"startDate":…,"validDates":"0101…"}`.
pub fn checkin_dates(payload: &Value) -> Option<Vec<NaiveDate>> {
    let by_mask = |start: &str, mask: &str, bookable: &[char]| -> Option<Vec<NaiveDate>> {
        let start = payload.get(start).and_then(date)?;
        let mask = payload.get(mask).and_then(Value::as_str)?;
        Some(
            mask.chars()
                .enumerate()
                .filter(|(_, c)| bookable.contains(c))
                .filter_map(|(i, _)| start.checked_add_days(Days::new(i as u64)))
                .collect(),
        )
    };
    by_mask("start", "valid", &['1', '2', '3', '5'])
        .or_else(|| by_mask("startDate", "validDates", &['1']))
        .or_else(|| {
            let items = rows(payload)?;
            Some(
                items
                    .iter()
                    .filter_map(|i| i.get("checkin").or_else(|| i.get("checkIn")))
                    .filter_map(date)
                    .collect(),
            )
        })
}

/// The night counts of a `SearchTour_NIGHTS` payload: `places` (nights with seats) when
/// given, else `nights`.
pub fn nights(payload: &Value) -> Option<Vec<u32>> {
    let list = |k: &str| -> Option<Vec<u32>> {
        let v: Vec<u32> = payload
            .get(k)?
            .as_array()?
            .iter()
            .filter_map(int)
            .filter_map(|n| u32::try_from(n).ok())
            .collect();
        (!v.is_empty()).then_some(v)
    };
    list("places").or_else(|| list("nights"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn numbers_flags_and_dates_in_every_form() {
        assert_eq!(int(&json!(417)), Some(417));
        assert_eq!(int(&json!("417")), Some(417));
        assert_eq!(int(&json!(417.0)), Some(417));
        for yes in [json!(1), json!(true), json!("1"), json!("true")] {
            assert_eq!(flag(&yes), Some(true), "{yes}");
        }
        for no in [json!(0), json!(false), json!("0")] {
            assert_eq!(flag(&no), Some(false), "{no}");
        }
        assert_eq!(date(&json!("20261214")), Some(d("2026-12-14")));
        assert_eq!(date(&json!("2026-12-14")), Some(d("2026-12-14")));
        assert_eq!(date(&json!(20261214)), Some(d("2026-12-14")));
        assert_eq!(date(&json!("14.12.2026")), None);
    }

    #[test]
    fn amounts_with_separators_decimals_and_codes() {
        assert_eq!(amount(&json!(1222)), Some(1222.0));
        assert_eq!(amount(&json!("1250.50")), Some(1250.5));
        assert_eq!(
            parse_amount("1 234 567 KZT"),
            Some((1_234_567.0, Some("KZT".into())))
        );
        assert_eq!(
            parse_amount("112\u{a0}545.00\u{a0}RUB"),
            Some((112_545.0, Some("RUB".into())))
        );
        assert_eq!(parse_amount("1,234.50"), Some((1234.5, None)));
        assert_eq!(parse_amount("99,5"), Some((99.5, None)));
        assert_eq!(parse_amount("KZT"), None);
        // Not a price: below zero, or more digits than a finite number holds.
        assert_eq!(amount(&json!(-1250)), None);
        assert_eq!(parse_amount(&"9".repeat(400)), None);
        let row = json!({"id": "X", "hotel": "H", "checkIn": "20261214", "nights": 7,
                         "price": 100, "convertedPrice": format!("{} KZT", "9".repeat(400))});
        assert_eq!(PriceRow::parse(&row).unwrap().converted, None);
    }

    #[test]
    fn dictionaries_bare_or_wrapped() {
        let bare = json!([{"id": 417, "name": "Алматы"}, {"name": "no id"}]);
        let (rows, skipped) = DictRow::parse_all(&bare).unwrap();
        assert_eq!((rows.len(), skipped), (1, 1));
        assert_eq!(rows[0].id, 417);
        let wrapped = json!({"items": [{"id": "93", "name": "Вьетнам", "nameAlt": "Vietnam", "stateISO": "VN"}]});
        let (rows, _) = DictRow::parse_all(&wrapped).unwrap();
        assert_eq!(rows[0].id, 93);
        assert_eq!(rows[0].alt_names, ["Vietnam", "VN"]);
    }

    #[test]
    fn a_price_row_with_converted_price_and_availability() {
        let row = json!({
            "id": "X1", "hotel": "Galina Hotel", "hotelKey": 7002, "star": "4*", "town": "Нячанг",
            "checkIn": "20261214", "nights": 7, "meal": "BB", "room": "Standard", "htPlace": "DBL",
            "price": "1250.50", "currency": "USD",
            "convertedPrice": "650\u{a0}260 KZT",
            "hotelAvailability": "YYRR", "freights": {"econom": {"in": "Y", "out": "Y"}},
            "grouped": "1"
        });
        let row = PriceRow::parse(&row).unwrap();
        assert_eq!(row.price, 1250.5);
        assert_eq!(row.converted, Some((650_260.0, "KZT".into())));
        assert_eq!(row.room, "Standard (DBL)");
        assert_eq!(row.stars(), Some(4));
        assert!(row.grouped);
        assert_eq!(row.availability(), Some(Availability::OnRequest));
        assert_eq!(row.check_out(), Some(d("2026-12-21")));
    }

    #[test]
    fn seats_decide_what_is_shown() {
        let row = |hotel: &str, freights: Vec<(&str, &str)>| PriceRow {
            id: "x".into(),
            hotel: "h".into(),
            hotel_key: None,
            star: None,
            town: String::new(),
            check_in: d("2026-12-14"),
            nights: 7,
            meal: String::new(),
            room: String::new(),
            price: 1.0,
            currency: "USD".into(),
            converted: None,
            hotel_availability: hotel.into(),
            freights: freights
                .into_iter()
                .map(|(a, b)| (a.into(), b.into()))
                .collect(),
            grouped: false,
            state_key: None,
        };
        assert_eq!(
            row("Y", vec![("Y", "F")]).availability(),
            Some(Availability::Available)
        );
        assert_eq!(
            row("F", vec![]).availability(),
            Some(Availability::Available)
        );
        assert_eq!(
            row("Y", vec![("R", "Y")]).availability(),
            Some(Availability::OnRequest)
        );
        // Economy sold out, business has seats: bookable.
        assert_eq!(
            row("Y", vec![("N", "Y"), ("Y", "Y")]).availability(),
            Some(Availability::Available)
        );
        assert_eq!(row("YYNN", vec![("Y", "Y")]).availability(), None);
        assert_eq!(row("Y", vec![("N", "N")]).availability(), None);
    }

    #[test]
    fn checkin_in_all_three_shapes() {
        let want = vec![d("2026-12-02"), d("2026-12-04")];
        let a = json!({"start": "20261201", "valid": "02070"});
        let a2 = json!({"start": "20261201", "valid": "05000"});
        let b = json!({"items": [{"checkin": "20261202"}, {"checkin": "2026-12-04"}]});
        let c = json!({"startDate": "20261201", "validDates": "0101"});
        assert_eq!(checkin_dates(&a).unwrap(), vec![d("2026-12-02")]);
        assert_eq!(checkin_dates(&a2).unwrap(), vec![d("2026-12-02")]);
        assert_eq!(checkin_dates(&b).unwrap(), want);
        assert_eq!(checkin_dates(&c).unwrap(), want);
    }

    #[test]
    fn nights_prefer_places() {
        assert_eq!(
            nights(&json!({"nights": [6, 7, 10], "places": [7, 10]})),
            Some(vec![7, 10])
        );
        assert_eq!(nights(&json!({"nights": [6, 7]})), Some(vec![6, 7]));
    }

    #[test]
    fn prices_pager_and_search_key() {
        let p = PricesPage::parse(&json!({"prices": [], "searchKey": "abc"})).unwrap();
        assert_eq!((p.current, p.total_pages), (1, 1));
        assert_eq!(p.search_key.as_deref(), Some("abc"));
        let p = PricesPage::parse(
            &json!({"prices": [{"id": "x"}], "pager": {"current": "2", "total": 7}}),
        )
        .unwrap();
        assert_eq!((p.current, p.total_pages, p.skipped), (2, 7, 1));
        assert!(PricesPage::parse(&json!({"nothing": 1})).is_none());
    }
}
