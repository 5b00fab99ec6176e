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
    /// "Nha Trang"; `None` searches the whole country.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resort: Option<String>,
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
    pub hotel: String,
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
