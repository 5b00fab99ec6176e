//! A tour search as plain values: the query the dialog asks for, the offers that come back,
//! and the ways a search can fail. The Tours actor (in `actors`) answers these from SAMO;
//! nothing here invents an offer.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Everything a search needs, in the analyser's canonical values (English city, country and
/// resort names; `AI`/`BB`/…; ISO currency codes). Built by the policy only once every
/// required field is known.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SearchQuery {
    /// "Almaty".
    pub departure_city: String,
    /// "Vietnam".
    pub country: String,
    /// Resorts to search ("Nha Trang"); empty searches the whole country. Several when the
    /// customer named alternatives ("Нячанг или Камрань"): SAMO takes several towns at once.
    /// Reads the single `resort` of states stored by older versions.
    #[serde(
        default,
        alias = "resort",
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub resorts: Vec<String>,
    /// Hotels the customer asked for by name, as the operator's hotel list spells them
    /// (`SearchTour_HOTELS`); empty: any hotel.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hotels: Vec<String>,
    /// Departure window, both ends inclusive.
    pub date_from: NaiveDate,
    pub date_to: NaiveDate,
    pub nights_from: u32,
    pub nights_to: u32,
    pub adults: u32,
    #[serde(default)]
    pub child_ages: Vec<u32>,
    /// Upper price for the whole party, in `budget_currency` (KZT when not given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_max: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_currency: Option<String>,
    /// Least hotel category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stars: Option<u8>,
    /// "AI", "BB", "HB", "FB" or "RO".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meal: Option<String>,
    #[serde(default)]
    pub sort: SortOrder,
}

/// The order offers are shown in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortOrder {
    /// Cheapest first (the default).
    #[default]
    PriceAsc,
    /// Most expensive first ("подороже", "самые лучшие").
    PriceDesc,
}

/// Which slice of a search's results to show: offers `offset..offset + limit` of the
/// sorted list (cheapest offer per hotel).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PageRequest {
    pub offset: usize,
    pub limit: usize,
}

/// Seats as the operator reported them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Availability {
    /// Confirmed instantly (`Y`, or `F` free sale).
    Available,
    /// Only a few seats left, when the operator says how many.
    SeatsLeft { seats: u32 },
    /// Needs the operator's confirmation (`R`).
    OnRequest,
}

/// One concrete offer from one SAMO search response. Every field comes from that response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offer {
    /// SAMO's opaque offer id (`prices[].id`): the reference a manager books with.
    pub id: String,
    /// The hotel's name as the operator writes it (it may end in its category: "… 4*").
    pub hotel: String,
    /// The operator's id of the hotel (`hotelKey`), to ask for its description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hotel_key: Option<i64>,
    /// Hotel category as a number when the operator gave one ("4*" → 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stars: Option<u8>,
    /// Resort (SAMO `town`).
    pub resort: String,
    pub check_in: NaiveDate,
    pub nights: u32,
    /// Meal code as the operator writes it ("AI", "BB").
    pub meal: String,
    pub room: String,
    /// Total for the whole party, whole units of `currency`.
    pub price: u64,
    /// ISO code of `price` ("KZT").
    pub currency: String,
    pub availability: Availability,
}

/// One page of a search's results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferPage {
    pub offers: Vec<Offer>,
    /// Position of the first offer in the whole sorted list.
    pub offset: usize,
    /// More offers exist after this page.
    pub more: bool,
    /// Empty when the offers match the query. Otherwise nothing matched it exactly, and these
    /// are the nearest real offers, found by relaxing the query in this order; how each offer
    /// differs from what was asked is read by comparing it with the query.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub widened: Vec<Widening>,
}

/// One way an empty search was widened to find the nearest real offers, in the order the
/// Tours side tries them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Widening {
    /// Other departure days near the window asked (flights leave on some weekdays only).
    Dates,
    /// A night or two more or fewer.
    Nights,
    /// A lower hotel category than asked.
    Stars,
    /// Another meal plan than asked.
    Meal,
    /// Other hotels than the ones the customer named (of their resorts first).
    Hotel,
    /// A neighbouring resort, or the whole country.
    Resort,
    /// Above the customer's budget (the cheapest there is).
    Budget,
}

/// A hotel the customer named, found in the operator's hotel list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedHotel {
    /// As the operator's list spells it.
    pub name: String,
    /// Canonical resort name ("Nha Trang") when the operator's town is one we know.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resort: Option<String>,
    /// Canonical country name ("Vietnam").
    pub country: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stars: Option<u8>,
}

/// What the operator says about a hotel (`Hotels_DETAILS`), as plain text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HotelDetails {
    /// The hotel's name as the operator writes it.
    pub hotel: String,
    /// The description by section, HTML removed, in the operator's order; each section's
    /// title as the operator gives it ("Пляж", "Расположение"; empty when untitled).
    pub sections: Vec<DetailSection>,
}

/// One titled part of a hotel's description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetailSection {
    pub title: String,
    pub text: String,
}

/// Reads a list of strings, or one string (older stored states), or nothing.
fn one_or_many<'de, D>(deserializer: D) -> Result<Vec<String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Option::<OneOrMany>::deserialize(deserializer)? {
        None => Vec::new(),
        Some(OneOrMany::One(s)) => vec![s],
        Some(OneOrMany::Many(v)) => v,
    })
}

/// Which search field a value the operator does not know belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchField {
    DepartureCity,
    Country,
    Resort,
    Meal,
    Stars,
    Dates,
    Currency,
}

/// Why a search gave no offers to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SearchFailure {
    /// The operator has no such departure city, country, resort…: the dialog says so and
    /// offers what exists instead (`alternatives`, the operator's own names).
    #[error("the operator has no {field:?} {value:?}")]
    NotOffered {
        field: SearchField,
        value: String,
        alternatives: Vec<String>,
    },
    /// The live search does not work right now (SAMO down, token, allow-list, timeout):
    /// the customer is told so and a manager takes over. `cause` is for operators only.
    #[error("tour search unavailable: {cause}")]
    Unavailable { cause: String },
}

/// The party of a search.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartyView {
    pub adults: u32,
    pub children: u32,
    pub child_ages: Vec<u32>,
}
