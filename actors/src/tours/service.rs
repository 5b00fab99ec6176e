//! Tour search against SAMO: a [`SearchQuery`] becomes `SearchTour_PRICES` parameters (the
//! operator's ids, found by name in the [`Catalog`]), and the answer becomes [`Offer`]s.
//!
//! - Only the countries the agency sells (`SOLD_COUNTRIES`) are searched: another country is
//!   [`SearchFailure::NotOffered`] with the sold ones as alternatives, before any price is
//!   asked; a departure city with no flight to the country is `NotOffered` with the cities
//!   that have one. A row of another country (`stateKey`) is never shown.
//! - Rows are grouped per hotel (`PARTITION_PRICE=32`: the cheapest row of each hotel), rows
//!   without seats (`N`) are not shown, and the price shown is the one converted into the
//!   search currency (`SAMO_CURRENCY`, default KZT) when the operator converted it.
//! - A page of results (`offset..offset+limit`) is cut from SAMO's pages in order; a further
//!   SAMO page (`PRICEPAGE`) is fetched only when the slice reaches into it.
//! - Each SAMO page is cached per normalised parameters (the resolved ids, so "Алматы" and
//!   "Almaty" share an entry) for `SAMO_SEARCH_CACHE_SECS`; identical searches in flight share
//!   one request. Failures are not cached, nor are partial answers (`searchKey`: the operator
//!   is still searching; what came is shown and nothing is polled).
//! - A search with no offers at all is widened ([`super::widen`]: nearest flight days,
//!   nights, category, meal, hotel, resort, budget, each alone, then all together) in at most
//!   [`widen::MAX_SEARCHES`] more searches and one `SearchTour_CHECKIN`, each through the same
//!   cache and pacing; the page then says what differs ([`OfferPage::widened`]). A later page
//!   of the same query ("ещё") repeats the recovery from the caches.
//! - The budget becomes `COSTMAX` only when it is in the search currency (the operator's
//!   filter works on that currency); a budget in another currency is compared with each
//!   row's own price when the operator gives it in that currency ("500$" and hotels priced in
//!   USD), and filters nothing otherwise: converting it would take a rate the operator did
//!   not give.
//! - A grouped offer expands ([`Tours::expand`]) into the hotel's concrete offers with
//!   `CATCLAIM` + `HOTELS` and no `PARTITION_PRICE`, using the parameters of the search that
//!   returned it.
//! - Hotels named by a customer are found in the sold countries' `SearchTour_HOTELS`
//!   ([`Tours::hotels_named`], [`super::hotel_names`]); a hotel's description comes from
//!   `Hotels_DETAILS` ([`Tours::hotel_details`], [`super::details`]), cached like a
//!   dictionary.

use super::catalog::{Catalog, Dictionary, find_place};
use super::details;
use super::hotel_names::HotelIndex;
use super::names::{self, Kind};
use super::plan::{Params, Plan, Resolved};
use super::samo::{ClientSettings, PriceRow, SamoClient, SamoError, SamoStatus};
use super::widen::{self, Around, Town};
use chrono::NaiveDate;
use dialogs::search::{
    HotelDetails, NamedHotel, Offer, OfferPage, PageRequest, SearchFailure, SearchField,
    SearchQuery, SortOrder, Widening,
};
use moka::future::Cache;
use secrecy::SecretString;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long hotel names are not looked up after the hotel lists could not be read.
const NAMED_RETRY: Duration = Duration::from_secs(60);

/// Everything the Tours actor needs, as plain values (the binary maps its configuration to
/// this; see `SamoConfig::tours_settings`).
#[derive(Debug, Clone)]
pub struct ToursSettings {
    /// The full SAMO endpoint, e.g. `https://…/export/default.php`.
    pub api_url: String,
    pub oauth_token: SecretString,
    /// HTTP(S) proxy on an allow-listed host.
    pub proxy: Option<String>,
    /// Longest wait for one SAMO answer.
    pub timeout: Duration,
    /// How long a dictionary is kept (refreshed in the background after half of it).
    pub dictionary_ttl: Duration,
    /// How long a search result is kept.
    pub search_cache_ttl: Duration,
    /// Outbound pace, calls per second; `None` or 0: unpaced.
    pub requests_per_sec: Option<f64>,
    /// SAMO calls in flight at most.
    pub max_concurrent: usize,
    /// ISO code of the currency prices are shown in ("KZT").
    pub currency: String,
    /// The countries the agency sells (canonical English names, "Vietnam"); empty: every
    /// country the operator has.
    pub sold_countries: Vec<String>,
}

impl ToursSettings {
    /// The defaults for an endpoint and a token: 20 s timeout, dictionaries 6 h, searches
    /// 15 min, 2 calls/s, 4 in flight, KZT, Vietnam sold.
    pub fn new(api_url: impl Into<String>, oauth_token: SecretString) -> ToursSettings {
        ToursSettings {
            api_url: api_url.into(),
            oauth_token,
            proxy: None,
            timeout: Duration::from_secs(20),
            dictionary_ttl: Duration::from_secs(6 * 3600),
            search_cache_ttl: Duration::from_secs(15 * 60),
            requests_per_sec: Some(2.0),
            max_concurrent: 4,
            currency: "KZT".into(),
            sold_countries: vec!["Vietnam".into()],
        }
    }
}

/// One SAMO page as shown: grouped per hotel, without sold-out rows, sorted.
#[derive(Debug)]
struct ShownPage {
    offers: Vec<Offer>,
    total_pages: u32,
    /// The operator was still searching (`searchKey`): not cached.
    partial: bool,
}

/// Where an offer came from, so it can be expanded later.
#[derive(Debug)]
struct Origin {
    plan: Plan,
    hotel_key: i64,
}

/// The offers of a search's first SAMO pages, in order.
#[derive(Debug, Default)]
struct Found {
    offers: Vec<Offer>,
    /// SAMO pages are left that were not fetched.
    unfetched: bool,
    /// A page came while the operator was still searching.
    partial: bool,
}

/// The hotels of the sold countries, ready for matching names.
struct NamedIndex {
    index: HotelIndex,
    hotels: Vec<NamedHotel>,
}

/// The SAMO client, the dictionaries and the search caches. Cheap to clone.
#[derive(Clone)]
pub struct Tours {
    client: Arc<SamoClient>,
    catalog: Catalog,
    /// Shown pages by parameters, page number and the budget that filters rows after the
    /// operator (not a parameter of the operator's).
    pages: Cache<PageKey, Arc<ShownPage>>,
    origins: Cache<String, Arc<Origin>>,
    /// Each route's flight days (`SearchTour_CHECKIN`), kept as long as search results.
    checkins: Cache<(i64, i64), Arc<[NaiveDate]>>,
    /// `Hotels_DETAILS` per hotel, kept as long as dictionaries.
    details: Cache<i64, Option<Arc<HotelDetails>>>,
    /// The sold countries' hotels by name, rebuilt from the cached dictionaries.
    named: Cache<(), Arc<NamedIndex>>,
    /// When reading the hotel lists last failed: not tried again for [`NAMED_RETRY`], so a
    /// SAMO outage does not slow every customer message down.
    named_failed: Arc<std::sync::Mutex<Option<Instant>>>,
    currency: String,
    sold: Arc<[String]>,
}

impl Tours {
    pub fn new(settings: &ToursSettings) -> Result<Tours, SamoError> {
        let client = Arc::new(SamoClient::new(&ClientSettings {
            api_url: settings.api_url.clone(),
            oauth_token: settings.oauth_token.clone(),
            proxy: settings.proxy.clone(),
            timeout: settings.timeout,
            requests_per_sec: settings.requests_per_sec,
            max_concurrent: settings.max_concurrent,
        })?);
        let ttl = settings.search_cache_ttl.max(Duration::from_millis(1));
        let dictionary_ttl = settings.dictionary_ttl.max(Duration::from_millis(1));
        Ok(Tours {
            catalog: Catalog::new(client.clone(), dictionary_ttl),
            client,
            // Bounded by offers held (a few hundred bytes each), not by pages.
            pages: Cache::builder()
                .time_to_live(ttl)
                .weigher(|_, page: &Arc<ShownPage>| {
                    u32::try_from(page.offers.len() + 1).unwrap_or(u32::MAX)
                })
                .max_capacity(200_000)
                .build(),
            origins: Cache::builder()
                .time_to_live(ttl)
                .max_capacity(200_000)
                .build(),
            checkins: Cache::builder()
                .time_to_live(ttl)
                .max_capacity(1_000)
                .build(),
            details: Cache::builder()
                .time_to_live(dictionary_ttl)
                .max_capacity(20_000)
                .build(),
            named: Cache::builder()
                .time_to_live((dictionary_ttl / 2).max(Duration::from_millis(1)))
                .max_capacity(1)
                .build(),
            named_failed: Arc::default(),
            currency: settings.currency.trim().to_ascii_uppercase(),
            sold: settings
                .sold_countries
                .iter()
                .map(|c| c.trim().to_owned())
                .filter(|c| !c.is_empty())
                .collect(),
        })
    }

    pub fn client(&self) -> &SamoClient {
        &self.client
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub fn status(&self) -> SamoStatus {
        self.client.status()
    }

    /// The offers `page.offset..page.offset + page.limit` of `query`'s results; when the
    /// search has none at all, the nearest real offers, saying what was relaxed.
    pub async fn search(
        &self,
        query: &SearchQuery,
        page: PageRequest,
    ) -> Result<OfferPage, SearchFailure> {
        let asked = self.resolve(query).await?;
        let end = page.offset.saturating_add(page.limit);
        let exact = self.run(&asked, end).await?;
        if !exact.offers.is_empty() || exact.unfetched || exact.partial {
            return Ok(slice(exact, page, Vec::new()));
        }
        Ok(self.nearest(&asked, page).await)
    }

    /// Whether tours are sold from `departure_city` to `country` (canonical names; either
    /// may be unknown yet), from the dictionaries alone: the `NotOffered` a search would
    /// give otherwise.
    pub async fn check_route(
        &self,
        departure_city: Option<&str>,
        country: Option<&str>,
    ) -> Result<(), SearchFailure> {
        if let Some(country) = country {
            self.check_sold(country)?;
        }
        let Some(city) = departure_city else {
            return Ok(());
        };
        let sold: Vec<&str> = self.sold.iter().map(String::as_str).collect();
        let targets: Vec<&str> = country.map_or(sold, |c| vec![c]);
        let from = match self.catalog.departure_city(city).await {
            Ok(from) => from,
            Err(e) => return Err(self.other_departures(e, city, &targets).await),
        };
        if targets.is_empty() {
            return Ok(());
        }
        for target in &targets {
            match self.catalog.country(from.id, target).await {
                Ok(_) => return Ok(()),
                Err(SearchFailure::NotOffered { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        let none = SearchFailure::NotOffered {
            field: SearchField::DepartureCity,
            value: city.to_owned(),
            alternatives: Vec::new(),
        };
        Err(self.other_departures(none, city, &targets).await)
    }

    /// The concrete offers inside the grouped offer `offer_id` (one hotel, every room, meal
    /// and date of the search that returned it), cheapest first. The offer must come from a
    /// search of the last `SAMO_SEARCH_CACHE_SECS`; an older one needs a new search.
    pub async fn expand(&self, offer_id: &str) -> Result<Vec<Offer>, SearchFailure> {
        let origin =
            self.origins
                .get(offer_id)
                .await
                .ok_or_else(|| SearchFailure::Unavailable {
                    cause: format!("offer {offer_id} is not from a recent search: search again"),
                })?;
        let mut params: Params = origin
            .plan
            .params
            .iter()
            .filter(|(k, _)| !matches!(*k, "PARTITION_PRICE" | "CATCLAIM" | "HOTELS"))
            .cloned()
            .collect();
        params.push(("CATCLAIM", offer_id.to_owned()));
        params.push(("HOTELS", origin.hotel_key.to_string()));
        params.sort();
        let plan = Plan {
            params: Arc::new(params),
            ..origin.plan.clone()
        };
        let (pages, _) = self.pages(&plan, usize::MAX).await?;
        Ok(pages
            .iter()
            .flat_map(|p| p.offers.iter().cloned())
            .collect())
    }

    /// What the operator says about the hotel `hotel_key` (`Hotels_DETAILS`); `None` when it
    /// says nothing (or does not offer the action).
    pub async fn hotel_details(
        &self,
        hotel_key: i64,
    ) -> Result<Option<HotelDetails>, SearchFailure> {
        let client = self.client.clone();
        let details = self
            .details
            .try_get_with(hotel_key, async move {
                let params = [("HOTELINC", hotel_key.to_string())];
                match client.call("Hotels_DETAILS", &params).await {
                    Ok(payload) => Ok(details::parse(&payload).map(Arc::new)),
                    Err(SamoError::UnknownAction { .. }) => {
                        tracing::warn!(target: "samo", "the operator has no Hotels_DETAILS: hotels have no descriptions");
                        Ok(None)
                    }
                    Err(e) => Err(e),
                }
            })
            .await
            .map_err(|e| SearchFailure::from((*e).clone()))?;
        Ok(details.map(|d| (*d).clone()))
    }

    /// The sold countries' hotels that `text` names, best match first; empty when it names
    /// none, or when the hotel lists cannot be read (logged).
    pub async fn hotels_named(&self, text: &str) -> Vec<NamedHotel> {
        let failed = |at: Option<Instant>| at.is_some_and(|at| at.elapsed() < NAMED_RETRY);
        if failed(*self.named_failed.lock().unwrap_or_else(|p| p.into_inner())) {
            return Vec::new();
        }
        let this = self.clone();
        let named = self
            .named
            .try_get_with((), async move { this.named_index().await.map(Arc::new) })
            .await;
        match named {
            Ok(named) => named
                .index
                .find(text)
                .into_iter()
                .filter_map(|i| named.hotels.get(i).cloned())
                .collect(),
            Err(e) => {
                tracing::warn!(target: "samo", error = %e, "hotel lists unavailable: no hotel recognised by name for a minute");
                *self.named_failed.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
                Vec::new()
            }
        }
    }

    async fn named_index(&self) -> Result<NamedIndex, SearchFailure> {
        let mut hotels = Vec::new();
        let mut places: Vec<String> = Vec::new();
        for country in self.sold.iter() {
            let Some((from, state)) = self.catalog.hub(country).await? else {
                continue;
            };
            let key = (from.id, state.id);
            let towns = self
                .catalog
                .rows(Dictionary::Resorts {
                    from: key.0,
                    country: key.1,
                })
                .await?;
            let listed = self
                .catalog
                .rows(Dictionary::Hotels {
                    from: key.0,
                    country: key.1,
                })
                .await?;
            places.extend(towns.iter().map(|t| t.row.name.clone()));
            for hotel in listed.iter() {
                let town = hotel
                    .row
                    .town_key
                    .and_then(|k| towns.iter().find(|t| t.row.id == k));
                hotels.push(NamedHotel {
                    name: hotel.row.name.clone(),
                    resort: town.and_then(|t| {
                        names::canonical(Kind::Resort, &t.row.name, t.row.region.as_deref())
                            .map(str::to_owned)
                    }),
                    country: country.clone(),
                    stars: hotel
                        .row
                        .star
                        .as_deref()
                        .and_then(super::samo::wire::leading_star),
                });
            }
        }
        let index = HotelIndex::new(
            hotels.iter().map(|h| h.name.as_str()),
            places.iter().map(String::as_str),
        );
        Ok(NamedIndex { index, hotels })
    }

    /// The offers of `search`'s SAMO pages from the first until they hold `wanted`.
    async fn run(&self, search: &Resolved, wanted: usize) -> Result<Found, SearchFailure> {
        let Some(plan) = search.plan() else {
            return Ok(Found::default());
        };
        let (pages, unfetched) = self.pages(&plan, wanted).await?;
        Ok(Found {
            partial: pages.iter().any(|p| p.partial),
            offers: pages
                .iter()
                .flat_map(|p| p.offers.iter().cloned())
                .collect(),
            unfetched,
        })
    }

    /// The nearest real offers to `asked`, which found none: the first widened search that
    /// finds any ([`widen::searches`]). An empty page when none does, or when the operator
    /// fails meanwhile (the search itself was answered: nothing matches).
    async fn nearest(&self, asked: &Resolved, page: PageRequest) -> OfferPage {
        let around = self.around(asked).await;
        let end = page.offset.saturating_add(page.limit);
        for (steps, wider) in widen::searches(asked, &around) {
            match self.run(&wider, end).await {
                Ok(found) if !found.offers.is_empty() => {
                    let shown = slice(found, page, Vec::new());
                    let widened = widen::differences(asked, &steps, &shown.offers);
                    return OfferPage { widened, ..shown };
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(target: "samo", error = %e, "a widened search failed; no nearest offers");
                    break;
                }
            }
        }
        OfferPage {
            offers: Vec::new(),
            offset: page.offset,
            more: false,
            widened: Vec::new(),
        }
    }

    /// What the recovery needs beyond the query: the route's flight days, one category less,
    /// the country's towns and the named hotels' towns. What cannot be read is left empty
    /// (its step is skipped).
    async fn around(&self, asked: &Resolved) -> Around {
        let (from, country) = (asked.from, asked.country);
        let client = self.client.clone();
        let flight_days = self
            .checkins
            .try_get_with((from, country), async move {
                client
                    .checkin_dates(from, country)
                    .await
                    .map(Arc::<[NaiveDate]>::from)
            })
            .await
            .map(|days| days.to_vec())
            .unwrap_or_else(|e| {
                tracing::warn!(target: "samo", error = %e, "no flight calendar: other days are not tried");
                Vec::new()
            });
        let stars_one_less = match &asked.stars {
            Some((stars, _)) if *stars > 1 => self
                .catalog
                .stars_at_least(from, country, stars - 1)
                .await
                .ok()
                .map(|rows| rows.iter().map(|r| r.id).collect()),
            _ => None,
        };
        let towns = self
            .catalog
            .rows(Dictionary::Resorts { from, country })
            .await
            .map(|rows| {
                rows.iter()
                    .map(|t| Town {
                        id: t.row.id,
                        name: t.row.name.clone(),
                        region: t.row.region.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let hotel_towns = match &asked.hotels {
            Some(ids) if !ids.is_empty() => self
                .catalog
                .rows(Dictionary::Hotels { from, country })
                .await
                .map(|rows| {
                    rows.iter()
                        .filter(|h| ids.contains(&h.row.id))
                        .filter_map(|h| h.row.town_key)
                        .collect()
                })
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        Around {
            flight_days,
            stars_one_less,
            towns,
            hotel_towns,
        }
    }

    /// SAMO pages of `plan` from the first, until they hold `wanted` offers or run out;
    /// and whether pages are left.
    async fn pages(
        &self,
        plan: &Plan,
        wanted: usize,
    ) -> Result<(Vec<Arc<ShownPage>>, bool), SearchFailure> {
        let mut pages = Vec::new();
        let mut have = 0;
        for number in 1.. {
            let shown = self.page(plan, number).await?;
            have += shown.offers.len();
            let total = shown.total_pages;
            pages.push(shown);
            if have >= wanted || number >= total {
                return Ok((pages, number < total));
            }
        }
        unreachable!("the operator's page count is finite")
    }

    /// `SearchFailure::NotOffered` for a country the agency does not sell.
    fn check_sold(&self, country: &str) -> Result<(), SearchFailure> {
        let wanted = names::normalise(country);
        let sold = self.sold.is_empty()
            || self
                .sold
                .iter()
                .any(|s| names::spellings(Kind::Country, s).contains(&wanted));
        if sold {
            Ok(())
        } else {
            Err(SearchFailure::NotOffered {
                field: SearchField::Country,
                value: country.to_owned(),
                alternatives: self.sold.to_vec(),
            })
        }
    }

    /// `failure` (a departure city the operator does not have, or that has no flight to
    /// `countries`) with the cities that fly there as alternatives.
    async fn other_departures(
        &self,
        failure: SearchFailure,
        city: &str,
        countries: &[&str],
    ) -> SearchFailure {
        if countries.is_empty() {
            return failure;
        }
        match self.catalog.departures_to(countries).await {
            Ok(cities) => SearchFailure::NotOffered {
                field: SearchField::DepartureCity,
                value: city.to_owned(),
                alternatives: cities.into_iter().map(|c| c.name).collect(),
            },
            Err(e) => e,
        }
    }

    /// The query in the operator's ids. Every name is looked up in the cached dictionaries.
    async fn resolve(&self, q: &SearchQuery) -> Result<Resolved, SearchFailure> {
        self.check_sold(&q.country)?;
        let catalog = &self.catalog;
        let from = match catalog.departure_city(&q.departure_city).await {
            Ok(from) => from.id,
            Err(e @ SearchFailure::NotOffered { .. }) => {
                return Err(self
                    .other_departures(e, &q.departure_city, &[q.country.as_str()])
                    .await);
            }
            Err(e) => return Err(e),
        };
        let country = match catalog.country(from, &q.country).await {
            Ok(country) => country.id,
            Err(e @ SearchFailure::NotOffered { .. }) => {
                return Err(self.no_flights(e, from, q).await);
            }
            Err(e) => return Err(e),
        };
        let mut towns: Vec<(i64, String)> = Vec::new();
        for resort in &q.resorts {
            for town in catalog.resort(from, country, resort).await? {
                if !towns.iter().any(|(id, _)| *id == town.id) {
                    towns.push((town.id, town.name));
                }
            }
        }
        let hotels = if q.hotels.is_empty() {
            None
        } else {
            let listed = catalog.rows(Dictionary::Hotels { from, country }).await?;
            let wanted: Vec<String> = q.hotels.iter().map(|h| names::normalise(h)).collect();
            Some(
                listed
                    .iter()
                    .filter(|h| wanted.contains(&names::normalise(&h.row.name)))
                    .map(|h| h.row.id)
                    .collect(),
            )
        };
        let stars = match q.stars {
            Some(stars) => Some((
                stars,
                catalog
                    .stars_at_least(from, country, stars)
                    .await?
                    .iter()
                    .map(|r| r.id)
                    .collect(),
            )),
            None => None,
        };
        let meal = match &q.meal {
            Some(meal) => Some((
                meal.clone(),
                catalog
                    .meal(from, country, meal)
                    .await?
                    .iter()
                    .map(|r| r.id)
                    .collect(),
            )),
            None => None,
        };
        let currency = match catalog.currency(from, country, &self.currency).await {
            Ok(row) => Some((row.id, Arc::<str>::from(self.currency.as_str()))),
            Err(SearchFailure::NotOffered { alternatives, .. }) => {
                // A configuration matter, not the customer's: show the operator's own
                // currency rather than no offers.
                tracing::warn!(
                    target: "samo", currency = %self.currency, offered = ?alternatives,
                    "SAMO_CURRENCY is not among the operator's currencies; prices are shown as the operator gives them"
                );
                None
            }
            Err(e) => return Err(e),
        };
        let budget_currency = q.budget_currency.as_deref().unwrap_or("KZT");
        let in_search_currency = currency
            .as_ref()
            .is_some_and(|(_, c)| c.eq_ignore_ascii_case(budget_currency));
        let budget = q.budget_max.filter(|_| in_search_currency);
        let budget_native = q
            .budget_max
            .filter(|_| !in_search_currency)
            .map(|max| (max, Arc::from(budget_currency.to_ascii_uppercase())));
        Ok(Resolved {
            from,
            country,
            adults: q.adults,
            child_ages: q.child_ages.clone(),
            check_in: (q.date_from.min(q.date_to), q.date_from.max(q.date_to)),
            nights: (
                q.nights_from.min(q.nights_to),
                q.nights_from.max(q.nights_to),
            ),
            towns,
            hotels,
            stars,
            meal,
            currency,
            budget,
            budget_native,
            sort: q.sort,
        })
    }

    /// `failure` (the operator does not fly from `from` to the country asked) as the customer
    /// needs it: the departure cities that do fly there; or, when none does, the sold
    /// countries that `from` flies to.
    async fn no_flights(
        &self,
        failure: SearchFailure,
        from: i64,
        q: &SearchQuery,
    ) -> SearchFailure {
        let with_flights = self
            .other_departures(failure, &q.departure_city, &[q.country.as_str()])
            .await;
        match with_flights {
            SearchFailure::NotOffered { alternatives, .. } if alternatives.is_empty() => {
                let states = self.catalog.rows(Dictionary::Countries { from }).await;
                let flown: Vec<String> = match states {
                    Ok(states) => self
                        .sold
                        .iter()
                        .filter(|s| find_place(&states, Kind::Country, s).is_some())
                        .cloned()
                        .collect(),
                    Err(e) => return e,
                };
                SearchFailure::NotOffered {
                    field: SearchField::Country,
                    value: q.country.clone(),
                    alternatives: flown,
                }
            }
            other => other,
        }
    }

    /// SAMO page `number` of `plan`, shown: from the cache, or fetched once for every caller
    /// waiting for it.
    async fn page(&self, plan: &Plan, number: u32) -> Result<Arc<ShownPage>, SamoError> {
        let key = (plan.params.clone(), number, plan.budget_native.clone());
        let shown = self
            .pages
            .try_get_with(key.clone(), async {
                let mut params: Vec<(&str, String)> = plan.params.to_vec();
                params.push(("PRICEPAGE", number.to_string()));
                let page = self.client.prices(&params).await?;
                if let Some(search_key) = &page.search_key {
                    tracing::info!(
                        target: "samo", search_key, rows = page.rows.len(),
                        "SAMO is still searching; showing what came, not polling"
                    );
                }
                Ok::<_, SamoError>(Arc::new(ShownPage {
                    offers: self.show(plan, &page.rows).await,
                    total_pages: page.total_pages,
                    partial: page.search_key.is_some(),
                }))
            })
            .await
            .map_err(|e| (*e).clone())?;
        if shown.partial {
            // Results are still coming: the next identical search asks again.
            self.pages.invalidate(&key).await;
        }
        Ok(shown)
    }

    /// The rows as the customer sees them: one per hotel (its cheapest), none without
    /// seats, none of another country, none over budget, in the asked order; each
    /// remembered for expansion.
    async fn show(&self, plan: &Plan, rows: &[PriceRow]) -> Vec<Offer> {
        let mut seen_hotels = HashSet::new();
        let mut shown: Vec<(Offer, Option<i64>)> = Vec::new();
        let foreign = rows
            .iter()
            .filter(|r| r.state_key.is_some_and(|k| k != plan.country))
            .count();
        if foreign > 0 {
            tracing::warn!(target: "samo", foreign, country = plan.country, "rows of another country than searched were left out");
        }
        let mut candidates: Vec<(Offer, Option<i64>)> = rows
            .iter()
            .filter(|row| row.state_key.is_none_or(|k| k == plan.country))
            // A budget in another currency is compared with the operator's own price.
            .filter(|row| match &plan.budget_native {
                Some((max, code)) if row.currency.eq_ignore_ascii_case(code) => {
                    row.price <= *max as f64
                }
                _ => true,
            })
            .filter_map(|row| Some((offer(row, plan.currency.as_deref())?, row.hotel_key)))
            .filter(|(offer, _)| match (plan.budget, plan.currency.as_deref()) {
                (Some(max), Some(currency)) if offer.currency == currency => offer.price <= max,
                _ => true,
            })
            .collect();
        // Cheapest first, so the first row of each hotel is its minimum.
        candidates.sort_by_key(|(o, _)| o.price);
        let grouped = plan.params.iter().any(|(k, _)| *k == "PARTITION_PRICE");
        for (offer, hotel_key) in candidates {
            let hotel = hotel_key.map_or_else(|| offer.hotel.clone(), |k| k.to_string());
            if grouped && !seen_hotels.insert(hotel) {
                continue;
            }
            shown.push((offer, hotel_key));
        }
        if plan.sort == SortOrder::PriceDesc {
            shown.reverse();
        }
        for (offer, hotel_key) in &shown {
            if let Some(hotel_key) = hotel_key {
                self.origins
                    .insert(
                        offer.id.clone(),
                        Arc::new(Origin {
                            plan: plan.clone(),
                            hotel_key: *hotel_key,
                        }),
                    )
                    .await;
            }
        }
        shown.into_iter().map(|(o, _)| o).collect()
    }
}

/// What a shown page is cached by.
type PageKey = (Arc<Params>, u32, Option<(u64, Arc<str>)>);

/// The offers `page.offset..page.offset + page.limit` of `found`.
fn slice(found: Found, page: PageRequest, widened: Vec<Widening>) -> OfferPage {
    let end = page.offset.saturating_add(page.limit);
    let have = found.offers.len();
    OfferPage {
        offers: found
            .offers
            .into_iter()
            .skip(page.offset)
            .take(page.limit)
            .collect(),
        offset: page.offset,
        more: have > end || found.unfetched,
        widened,
    }
}

/// The offer a row describes, priced in `currency` when the operator converted it (else in
/// its own currency); `None` when it has no seats or no usable price.
fn offer(row: &PriceRow, currency: Option<&str>) -> Option<Offer> {
    let availability = row.availability()?;
    let (amount, code) = match (&row.converted, currency) {
        (Some((amount, code)), Some(wanted)) if code.eq_ignore_ascii_case(wanted) => {
            (*amount, code.clone())
        }
        _ => (row.price, row.currency.clone()),
    };
    if amount.is_nan() || amount <= 0.0 || code.is_empty() {
        return None;
    }
    Some(Offer {
        id: row.id.clone(),
        hotel: row.hotel.clone(),
        hotel_key: row.hotel_key,
        stars: row.stars(),
        resort: row.town.clone(),
        check_in: row.check_in,
        nights: row.nights,
        meal: row.meal.clone(),
        room: row.room.clone(),
        price: amount.round() as u64,
        currency: code,
        availability,
    })
}
