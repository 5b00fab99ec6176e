//! The operator's dictionaries, loaded on first use and cached, and the lookups that turn the
//! analyser's canonical values into the operator's ids by name ([`super::names`]).
//!
//! Each dictionary (departure cities; countries per departure city; resorts, hotels,
//! categories, meals and currencies per departure city and country) is one cache entry that
//! lives `SAMO_DICTIONARY_TTL_SECS`. Concurrent first uses share one load. An entry older than
//! half its lifetime is refreshed in the background while the cached copy keeps being served;
//! a failed refresh is logged and the copy stays until it expires. A failed load is not
//! cached.
//!
//! A value the operator does not have is [`SearchFailure::NotOffered`] with the operator's
//! own names as alternatives; a failed load is [`SearchFailure::Unavailable`].
//!
//! Which departure cities fly to a country is known only from each city's `SearchTour_STATES`:
//! [`Catalog::departures_to`] reads them (at most [`MAX_DEPARTURES`] cities, each list cached
//! like any dictionary), only when a customer's city has no flight to the country asked.

use super::names::{self, Kind};
use super::samo::{DictRow, SamoClient, SamoError};
use crate::clock::Clock;
use dialogs::search::{SearchFailure, SearchField};
use moka::future::Cache;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The most departure cities whose countries are read to find which fly where.
pub const MAX_DEPARTURES: usize = 30;

/// One dictionary of one operator: what is asked for, and for which departure and country.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dictionary {
    DepartureCities,
    Countries { from: i64 },
    Resorts { from: i64, country: i64 },
    Hotels { from: i64, country: i64 },
    Stars { from: i64, country: i64 },
    Meals { from: i64, country: i64 },
    Currencies { from: i64, country: i64 },
}

impl Dictionary {
    fn action(self) -> &'static str {
        match self {
            Dictionary::DepartureCities => "SearchTour_TOWNFROMS",
            Dictionary::Countries { .. } => "SearchTour_STATES",
            Dictionary::Resorts { .. } => "SearchTour_TOWNS",
            Dictionary::Hotels { .. } => "SearchTour_HOTELS",
            Dictionary::Stars { .. } => "SearchTour_STARS",
            Dictionary::Meals { .. } => "SearchTour_MEALS",
            Dictionary::Currencies { .. } => "SearchTour_CURRENCIES",
        }
    }

    fn params(self) -> Vec<(&'static str, String)> {
        match self {
            Dictionary::DepartureCities => vec![],
            Dictionary::Countries { from } => vec![("TOWNFROMINC", from.to_string())],
            Dictionary::Resorts { from, country }
            | Dictionary::Hotels { from, country }
            | Dictionary::Stars { from, country }
            | Dictionary::Meals { from, country }
            | Dictionary::Currencies { from, country } => vec![
                ("TOWNFROMINC", from.to_string()),
                ("STATEINC", country.to_string()),
            ],
        }
    }
}

/// A dictionary row with its names normalised once, for matching.
#[derive(Debug, Clone)]
pub struct Entry {
    pub row: DictRow,
    /// `name` and every alternative name, normalised.
    names: Vec<String>,
    /// `region`, normalised.
    region: Option<String>,
}

impl Entry {
    fn new(row: DictRow) -> Entry {
        let names = std::iter::once(&row.name)
            .chain(&row.alt_names)
            .map(|n| names::normalise(n))
            .filter(|n| !n.is_empty())
            .collect();
        let region = row.region.as_deref().map(names::normalise);
        Entry { row, names, region }
    }
}

#[derive(Clone)]
struct Loaded {
    at: Instant,
    entries: Arc<[Entry]>,
}

/// The cached dictionaries of one operator.
#[derive(Clone)]
pub struct Catalog {
    client: Arc<SamoClient>,
    cache: Cache<Dictionary, Loaded>,
    ttl: Duration,
    /// Dictionaries being refreshed in the background (one refresh each at a time).
    refreshing: Arc<Mutex<HashSet<Dictionary>>>,
    /// What a loaded dictionary's age is measured with.
    clock: Clock,
}

impl Catalog {
    pub fn new(client: Arc<SamoClient>, ttl: Duration) -> Catalog {
        Catalog {
            client,
            cache: Cache::builder()
                .time_to_live(ttl)
                .max_capacity(10_000)
                .build(),
            ttl,
            refreshing: Arc::default(),
            clock: Clock::default(),
        }
    }

    /// What a loaded dictionary's age is measured with (a test moves it past the half-life).
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The rows of `dictionary`, from the cache when there.
    pub async fn entries(&self, dictionary: Dictionary) -> Result<Arc<[Entry]>, SamoError> {
        let client = self.client.clone();
        let loaded = self
            .cache
            .try_get_with(dictionary, load(client, dictionary, self.clock.clone()))
            .await
            .map_err(|e| (*e).clone())?;
        if self.clock.instant().saturating_duration_since(loaded.at) > self.ttl / 2 {
            self.refresh_in_background(dictionary);
        }
        Ok(loaded.entries)
    }

    fn refresh_in_background(&self, dictionary: Dictionary) {
        {
            let mut refreshing = self
                .refreshing
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if !refreshing.insert(dictionary) {
                return;
            }
        }
        let this = self.clone();
        tokio::spawn(async move {
            match load(this.client.clone(), dictionary, this.clock.clone()).await {
                Ok(fresh) => this.cache.insert(dictionary, fresh).await,
                Err(e) => tracing::warn!(
                    target: "samo", ?dictionary, error = %e,
                    "dictionary refresh failed; the cached copy is served until it expires"
                ),
            }
            this.refreshing
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .remove(&dictionary);
        });
    }

    // --- Lookups by canonical name -----------------------------------------------------

    /// The departure city named `canonical` ("Almaty").
    pub async fn departure_city(&self, canonical: &str) -> Result<DictRow, SearchFailure> {
        let entries = self.lookup(Dictionary::DepartureCities).await?;
        find_place(&entries, Kind::DepartureCity, canonical)
            .ok_or_else(|| not_offered(SearchField::DepartureCity, canonical, &entries))
    }

    /// The country named `canonical` ("Vietnam"), as sold from `from`.
    pub async fn country(&self, from: i64, canonical: &str) -> Result<DictRow, SearchFailure> {
        let entries = self.lookup(Dictionary::Countries { from }).await?;
        find_place(&entries, Kind::Country, canonical)
            .ok_or_else(|| not_offered(SearchField::Country, canonical, &entries))
    }

    /// Every operator town that belongs to the resort `canonical` ("Phan Thiet": Муйне,
    /// Фантьет, …): by its own name or by its region.
    pub async fn resort(
        &self,
        from: i64,
        country: i64,
        canonical: &str,
    ) -> Result<Vec<DictRow>, SearchFailure> {
        let entries = self.lookup(Dictionary::Resorts { from, country }).await?;
        let spellings = names::spellings(Kind::Resort, canonical);
        let towns: Vec<DictRow> = entries
            .iter()
            .filter(|e| {
                e.names.iter().any(|n| names::place_matches(n, &spellings))
                    || e.region
                        .as_deref()
                        .is_some_and(|r| names::place_matches(r, &spellings))
            })
            .map(|e| e.row.clone())
            .collect();
        if towns.is_empty() {
            return Err(not_offered(SearchField::Resort, canonical, &entries));
        }
        Ok(towns)
    }

    /// The categories of at least `stars` stars ("4*" and "5*" for 4).
    pub async fn stars_at_least(
        &self,
        from: i64,
        country: i64,
        stars: u8,
    ) -> Result<Vec<DictRow>, SearchFailure> {
        let entries = self.lookup(Dictionary::Stars { from, country }).await?;
        let found: Vec<DictRow> = entries
            .iter()
            .filter(|e| super::samo::wire::leading_star(&e.row.name).is_some_and(|s| s >= stars))
            .map(|e| e.row.clone())
            .collect();
        if found.is_empty() {
            return Err(not_offered(
                SearchField::Stars,
                &format!("{stars}*"),
                &entries,
            ));
        }
        Ok(found)
    }

    /// The meals with code `canonical` ("AI").
    pub async fn meal(
        &self,
        from: i64,
        country: i64,
        canonical: &str,
    ) -> Result<Vec<DictRow>, SearchFailure> {
        let entries = self.lookup(Dictionary::Meals { from, country }).await?;
        let spellings = names::spellings(Kind::Meal, canonical);
        let found: Vec<DictRow> = entries
            .iter()
            .filter(|e| e.names.iter().any(|n| names::meal_matches(n, &spellings)))
            .map(|e| e.row.clone())
            .collect();
        if found.is_empty() {
            return Err(not_offered(SearchField::Meal, canonical, &entries));
        }
        Ok(found)
    }

    /// The currency with ISO code `iso` ("KZT").
    pub async fn currency(
        &self,
        from: i64,
        country: i64,
        iso: &str,
    ) -> Result<DictRow, SearchFailure> {
        let entries = self
            .lookup(Dictionary::Currencies { from, country })
            .await?;
        let spellings = names::spellings(Kind::Currency, iso);
        entries
            .iter()
            .find(|e| e.names.iter().any(|n| spellings.contains(n)))
            .map(|e| e.row.clone())
            .ok_or_else(|| not_offered(SearchField::Currency, iso, &entries))
    }

    /// The departure cities (in the operator's order) with flights to any of `countries`
    /// (canonical names). Reads the countries of at most [`MAX_DEPARTURES`] cities.
    pub async fn departures_to(&self, countries: &[&str]) -> Result<Vec<DictRow>, SearchFailure> {
        let cities = self.lookup(Dictionary::DepartureCities).await?;
        let cities: Vec<&Entry> = cities.iter().take(MAX_DEPARTURES).collect();
        let sold_from = futures::future::join_all(
            cities
                .iter()
                .map(|c| self.lookup(Dictionary::Countries { from: c.row.id })),
        )
        .await;
        let mut found = Vec::new();
        for (city, states) in cities.iter().zip(sold_from) {
            let states = states?;
            if countries
                .iter()
                .any(|c| find_place(&states, Kind::Country, c).is_some())
            {
                found.push(city.row.clone());
            }
        }
        Ok(found)
    }

    /// The first departure city (in the operator's order) with flights to `country`
    /// (canonical), and the operator's row of that country; `None` when no city flies there.
    pub async fn hub(&self, country: &str) -> Result<Option<(DictRow, DictRow)>, SearchFailure> {
        let cities = self.lookup(Dictionary::DepartureCities).await?;
        for city in cities.iter().take(MAX_DEPARTURES) {
            let states = self
                .lookup(Dictionary::Countries { from: city.row.id })
                .await?;
            if let Some(state) = find_place(&states, Kind::Country, country) {
                return Ok(Some((city.row.clone(), state)));
            }
        }
        Ok(None)
    }

    /// The rows of a dictionary, a failed load as "search unavailable".
    pub async fn rows(&self, dictionary: Dictionary) -> Result<Arc<[Entry]>, SearchFailure> {
        self.lookup(dictionary).await
    }

    async fn lookup(&self, dictionary: Dictionary) -> Result<Arc<[Entry]>, SearchFailure> {
        self.entries(dictionary).await.map_err(SearchFailure::from)
    }
}

async fn load(
    client: Arc<SamoClient>,
    dictionary: Dictionary,
    clock: Clock,
) -> Result<Loaded, SamoError> {
    let rows = client
        .dictionary(dictionary.action(), &dictionary.params())
        .await?;
    Ok(Loaded {
        at: clock.instant(),
        entries: rows.into_iter().map(Entry::new).collect(),
    })
}

/// The entry whose name is one of the spellings of `canonical`: an exact name first, else
/// one that contains a spelling as whole words.
pub fn find_place(entries: &[Entry], kind: Kind, canonical: &str) -> Option<DictRow> {
    let spellings = names::spellings(kind, canonical);
    entries
        .iter()
        .find(|e| e.names.iter().any(|n| spellings.contains(n)))
        .or_else(|| {
            entries
                .iter()
                .find(|e| e.names.iter().any(|n| names::place_matches(n, &spellings)))
        })
        .map(|e| e.row.clone())
}

fn not_offered(field: SearchField, value: &str, entries: &[Entry]) -> SearchFailure {
    SearchFailure::NotOffered {
        field,
        value: value.to_owned(),
        alternatives: entries.iter().map(|e| e.row.name.clone()).collect(),
    }
}
