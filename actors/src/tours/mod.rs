//! Tours: the only caller of the tour operator's SAMO API.
//!
//! [`TourSearch`] is what a conversation asks; [`ToursHandle`] (the Tours actor) answers it
//! from SAMO with cached dictionaries and cached, paced, coalesced searches. Tests of the
//! dialog plug in their own implementation.
//!
//! - [`samo`]: the SAMO Online API client, its typed errors and lenient payload readers.
//! - [`names`]: the spellings of canonical places, meals and currencies (no ids).
//! - [`catalog`]: the operator's dictionaries, cached, and lookups by canonical name.
//! - [`plan`]: a query in the operator's ids, and the `SearchTour_PRICES` parameters it
//!   becomes.
//! - [`widen`]: nearest-offer recovery — the fixed order an empty search is widened in.
//! - [`hotel_names`]: hotels a customer names, found in the operator's hotel list.
//! - [`details`]: `Hotels_DETAILS` as plain-text sections.
//! - [`service`]: [`Tours`] — a query to `SearchTour_PRICES`, offers, paging, caching,
//!   recovery, sold countries, hotels by name and their details.
//! - [`actor`]: the Tours actor and [`ToursHandle`]; [`start`] spawns it.

pub mod actor;
pub mod catalog;
pub mod details;
pub mod hotel_names;
pub mod names;
pub mod plan;
pub mod samo;
pub mod service;
pub mod widen;

pub use actor::{StartError, ToursHandle, ToursMessage, start};
pub use samo::{SamoError, SamoStatus};
pub use service::{Tours, ToursSettings};

use async_trait::async_trait;
use dialogs::search::{
    HotelDetails, NamedHotel, OfferPage, PageRequest, SearchFailure, SearchQuery,
};

/// Finds real offers. Implementations never invent one: a failure is a [`SearchFailure`].
#[async_trait]
pub trait TourSearch: Send + Sync + 'static {
    /// The offers `page.offset..page.offset + page.limit` of `query`'s results, sorted as
    /// the query asks (cheapest offer per hotel). When the first page of a search is empty,
    /// implementations may return the nearest real offers instead, saying how they widened
    /// the query ([`OfferPage::widened`]).
    async fn search(
        &self,
        query: &SearchQuery,
        page: PageRequest,
    ) -> Result<OfferPage, SearchFailure>;

    /// What the operator says about a hotel of an offer ([`Offer::hotel_key`]); `None` when
    /// it has no description.
    ///
    /// [`Offer::hotel_key`]: dialogs::search::Offer::hotel_key
    async fn hotel_details(&self, _hotel_key: i64) -> Result<Option<HotelDetails>, SearchFailure> {
        Ok(None)
    }

    /// The operator's hotels that `text` names ("хотим в Galina Hotel"), best match first;
    /// empty when it names none or the hotel list is not at hand.
    async fn hotels_named(&self, _text: &str) -> Vec<NamedHotel> {
        Vec::new()
    }

    /// Whether tours are sold from `departure_city` to `country` (canonical names, either
    /// one unknown yet), asked without searching prices ("в Таиланд туры есть?", "из
    /// Караганды есть вылеты?"): `Ok` when they are, or when nothing says otherwise; else the
    /// [`SearchFailure::NotOffered`] a search would give, with its alternatives (for a
    /// country not sold, the sold countries' canonical names; for a departure city, the
    /// operator's names of the cities that fly there).
    async fn check_route(
        &self,
        _departure_city: Option<&str>,
        _country: Option<&str>,
    ) -> Result<(), SearchFailure> {
        Ok(())
    }
}

/// Used when no SAMO endpoint is configured: every search is honestly unavailable, so the
/// customer is told so and a manager is brought in.
pub struct NotConfigured;

#[async_trait]
impl TourSearch for NotConfigured {
    async fn search(
        &self,
        _query: &SearchQuery,
        _page: PageRequest,
    ) -> Result<OfferPage, SearchFailure> {
        Err(SearchFailure::Unavailable {
            cause: "SAMO is not configured (set SAMO_API_URL and SAMO_OAUTH_TOKEN)".into(),
        })
    }
}
