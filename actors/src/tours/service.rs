//! Tour search against SAMO: a [`SearchQuery`] becomes `SearchTour_PRICES` parameters (the
//! operator's ids, found by name in the [`Catalog`]), and the answer becomes [`Offer`]s.
//!
//! - Rows are grouped per hotel (`PARTITION_PRICE=32`: the cheapest row of each hotel), rows
//!   without seats (`N`) are not shown, and the price shown is the one converted into the
//!   search currency (`SAMO_CURRENCY`, default KZT) when the operator converted it.
//! - A page of results (`offset..offset+limit`) is cut from SAMO's pages in order; a further
//!   SAMO page (`PRICEPAGE`) is fetched only when the slice reaches into it.
//! - Each SAMO page is cached per normalised parameters (the resolved ids, so "Алматы" and
//!   "Almaty" share an entry) for `SAMO_SEARCH_CACHE_SECS`; identical searches in flight share
//!   one request. Failures are not cached, nor are partial answers (`searchKey`: the operator
//!   is still searching; what came is shown and nothing is polled).
//! - The budget becomes `COSTMAX` only when it is in the search currency (the operator's
//!   filter works on that currency); a budget in another currency filters nothing, because
//!   converting it would take a rate the operator did not give.
//! - A grouped offer expands ([`Tours::expand`]) into the hotel's concrete offers with
//!   `CATCLAIM` + `HOTELS` and no `PARTITION_PRICE`, using the parameters of the search that
//!   returned it.

use super::catalog::Catalog;
use super::samo::{ClientSettings, PriceRow, SamoClient, SamoError, SamoStatus};
use dialogs::search::{Offer, OfferPage, PageRequest, SearchFailure, SearchQuery, SortOrder};
use moka::future::Cache;
use secrecy::SecretString;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

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
}

impl ToursSettings {
    /// The defaults for an endpoint and a token: 20 s timeout, dictionaries 6 h, searches
    /// 15 min, 2 calls/s, 4 in flight, KZT.
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
        }
    }
}

/// `SearchTour_PRICES` parameters without `PRICEPAGE`, sorted by name: the normalised form of
/// a search, and its cache key.
type Params = Vec<(&'static str, String)>;

/// A search resolved to the operator's ids.
#[derive(Debug, Clone)]
struct Plan {
    params: Arc<Params>,
    /// ISO code prices are converted into, when the operator offers that currency.
    currency: Option<Arc<str>>,
    /// Offers above this (in `currency`) are not shown.
    budget: Option<u64>,
    sort: SortOrder,
}

/// One SAMO page as shown: grouped per hotel, without sold-out rows, sorted.
#[derive(Debug)]
struct ShownPage {
    offers: Vec<Offer>,
    total_pages: u32,
}

/// Where an offer came from, so it can be expanded later.
#[derive(Debug)]
struct Origin {
    plan: Plan,
    hotel_key: i64,
}

/// The SAMO client, the dictionaries and the search caches. Cheap to clone.
#[derive(Clone)]
pub struct Tours {
    client: Arc<SamoClient>,
    catalog: Catalog,
    pages: Cache<(Arc<Params>, u32), Arc<ShownPage>>,
    origins: Cache<String, Arc<Origin>>,
    currency: String,
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
        Ok(Tours {
            catalog: Catalog::new(
                client.clone(),
                settings.dictionary_ttl.max(Duration::from_millis(1)),
            ),
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
            currency: settings.currency.trim().to_ascii_uppercase(),
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

    /// The offers `page.offset..page.offset + page.limit` of `query`'s results.
    pub async fn search(
        &self,
        query: &SearchQuery,
        page: PageRequest,
    ) -> Result<OfferPage, SearchFailure> {
        let plan = self.plan(query).await?;
        let end = page.offset.saturating_add(page.limit);
        let (pages, unfetched) = self.pages(&plan, end).await?;
        let have: usize = pages.iter().map(|p| p.offers.len()).sum();
        Ok(OfferPage {
            offers: pages
                .iter()
                .flat_map(|p| p.offers.iter())
                .skip(page.offset)
                .take(page.limit)
                .cloned()
                .collect(),
            offset: page.offset,
            more: have > end || unfetched,
            widened: Vec::new(),
        })
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

    /// The query in the operator's ids. Every name is looked up in the cached dictionaries.
    async fn plan(&self, q: &SearchQuery) -> Result<Plan, SearchFailure> {
        let catalog = &self.catalog;
        let from = catalog.departure_city(&q.departure_city).await?.id;
        let country = catalog.country(from, &q.country).await?.id;
        let ids = |rows: Vec<super::samo::DictRow>| {
            rows.iter()
                .map(|r| r.id.to_string())
                .collect::<Vec<_>>()
                .join(",")
        };
        let mut params: Params = vec![
            ("TOWNFROMINC", from.to_string()),
            ("STATEINC", country.to_string()),
            ("ADULT", q.adults.to_string()),
            ("CHILD", q.child_ages.len().to_string()),
            ("FREIGHT", "1".into()),
            ("FILTER", "1".into()),
            ("PARTITION_PRICE", "32".into()),
        ];
        let (first, last) = (q.date_from.min(q.date_to), q.date_from.max(q.date_to));
        params.push(("CHECKIN_BEG", first.format("%Y%m%d").to_string()));
        params.push(("CHECKIN_END", last.format("%Y%m%d").to_string()));
        params.push(("NIGHTS_FROM", q.nights_from.min(q.nights_to).to_string()));
        params.push(("NIGHTS_TILL", q.nights_from.max(q.nights_to).to_string()));
        if !q.child_ages.is_empty() {
            let ages: Vec<String> = q.child_ages.iter().map(u32::to_string).collect();
            params.push(("AGES", ages.join(",")));
        }
        if !q.resorts.is_empty() {
            let mut towns = Vec::new();
            for resort in &q.resorts {
                towns.extend(catalog.resort(from, country, resort).await?);
            }
            params.push(("TOWNS", ids(towns)));
        }
        if let Some(stars) = q.stars {
            params.push((
                "STARS",
                ids(catalog.stars_at_least(from, country, stars).await?),
            ));
        }
        if let Some(meal) = &q.meal {
            params.push(("MEALS", ids(catalog.meal(from, country, meal).await?)));
        }
        let currency = match catalog.currency(from, country, &self.currency).await {
            Ok(row) => {
                params.push(("CURRENCY", row.id.to_string()));
                Some(Arc::<str>::from(self.currency.as_str()))
            }
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
        let budget = q.budget_max.filter(|_| {
            currency
                .as_deref()
                .is_some_and(|c| c.eq_ignore_ascii_case(budget_currency))
        });
        if let Some(max) = budget {
            params.push(("COSTMAX", max.to_string()));
        }
        params.push((
            "SORT",
            match q.sort {
                SortOrder::PriceAsc => "ASC",
                SortOrder::PriceDesc => "DESC",
            }
            .into(),
        ));
        params.sort();
        Ok(Plan {
            params: Arc::new(params),
            currency,
            budget,
            sort: q.sort,
        })
    }

    /// SAMO page `number` of `plan`, shown: from the cache, or fetched once for every caller
    /// waiting for it.
    async fn page(&self, plan: &Plan, number: u32) -> Result<Arc<ShownPage>, SamoError> {
        let key = (plan.params.clone(), number);
        let mut partial = false;
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
                    partial = true;
                }
                Ok::<_, SamoError>(Arc::new(ShownPage {
                    offers: self.show(plan, &page.rows).await,
                    total_pages: page.total_pages,
                }))
            })
            .await
            .map_err(|e| (*e).clone())?;
        if partial {
            // Results are still coming: the next identical search asks again.
            self.pages.invalidate(&key).await;
        }
        Ok(shown)
    }

    /// The rows as the customer sees them: one per hotel (its cheapest), none without
    /// seats, none over budget, in the asked order; each remembered for expansion.
    async fn show(&self, plan: &Plan, rows: &[PriceRow]) -> Vec<Offer> {
        let mut seen_hotels = HashSet::new();
        let mut shown: Vec<(Offer, Option<i64>)> = Vec::new();
        let mut candidates: Vec<(Offer, Option<i64>)> = rows
            .iter()
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
