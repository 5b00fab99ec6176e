//! A search in the operator's ids ([`Resolved`]) and the `SearchTour_PRICES` parameters it
//! becomes ([`Plan`]). Pure: the ids come from the catalogue, nothing here calls SAMO.
//!
//! [`Resolved`] keeps the query's structure (dates, nights, towns, hotels, categories, meals,
//! budget) so that the nearest-offer recovery ([`super::widen`]) can relax one part of it at
//! a time; [`Plan`] is the normalised parameter list, which is also the page cache's key.

use chrono::NaiveDate;
use dialogs::search::SortOrder;
use std::sync::Arc;

/// A search resolved to the operator's ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// `TOWNFROMINC`.
    pub from: i64,
    /// `STATEINC`.
    pub country: i64,
    pub adults: u32,
    pub child_ages: Vec<u32>,
    /// Check-in window, first ≤ last.
    pub check_in: (NaiveDate, NaiveDate),
    /// Nights, fewest ≤ most.
    pub nights: (u32, u32),
    /// The operator's towns (id, name); empty: the whole country.
    pub towns: Vec<(i64, String)>,
    /// The operator's hotels; `None`: any. `Some(empty)`: the hotels asked for are not sold
    /// on this route, so the search is empty without asking the operator.
    pub hotels: Option<Vec<i64>>,
    /// The least category asked and the operator's ids of it and above.
    pub stars: Option<(u8, Vec<i64>)>,
    /// The operator's ids of the meal asked, and its canonical code ("AI").
    pub meal: Option<(String, Vec<i64>)>,
    /// `CURRENCY` id and ISO code, when the operator has the configured currency.
    pub currency: Option<(i64, Arc<str>)>,
    /// Upper price in `currency` (only when the customer's budget is in that currency).
    pub budget: Option<u64>,
    /// A budget in another currency than the search's ("500$" while prices are in tenge):
    /// compared with the operator's own price of each row when that is in this currency.
    pub budget_native: Option<(u64, Arc<str>)>,
    pub sort: SortOrder,
}

/// `SearchTour_PRICES` parameters without `PRICEPAGE`, sorted by name: the normalised form of
/// a search, and its cache key.
pub type Params = Vec<(&'static str, String)>;

/// A search as it is sent, with what is needed to show its rows.
#[derive(Debug, Clone)]
pub struct Plan {
    pub params: Arc<Params>,
    /// ISO code prices are converted into, when the operator offers that currency.
    pub currency: Option<Arc<str>>,
    /// Offers above this (in `currency`) are not shown.
    pub budget: Option<u64>,
    /// Offers whose operator's own price is in this currency and above this are not shown.
    pub budget_native: Option<(u64, Arc<str>)>,
    pub sort: SortOrder,
    /// The country searched: rows of another country (`stateKey`) are never shown.
    pub country: i64,
}

impl Resolved {
    /// The parameters to send; `None` when the search is known to be empty (hotels asked
    /// for that the route does not sell).
    pub fn plan(&self) -> Option<Plan> {
        let ids = |ids: &mut dyn Iterator<Item = i64>| {
            ids.map(|id| id.to_string()).collect::<Vec<_>>().join(",")
        };
        let mut params: Params = vec![
            ("TOWNFROMINC", self.from.to_string()),
            ("STATEINC", self.country.to_string()),
            ("ADULT", self.adults.to_string()),
            ("CHILD", self.child_ages.len().to_string()),
            ("FREIGHT", "1".into()),
            ("FILTER", "1".into()),
            ("PARTITION_PRICE", "32".into()),
            ("CHECKIN_BEG", self.check_in.0.format("%Y%m%d").to_string()),
            ("CHECKIN_END", self.check_in.1.format("%Y%m%d").to_string()),
            ("NIGHTS_FROM", self.nights.0.to_string()),
            ("NIGHTS_TILL", self.nights.1.to_string()),
        ];
        if !self.child_ages.is_empty() {
            let ages: Vec<String> = self.child_ages.iter().map(u32::to_string).collect();
            params.push(("AGES", ages.join(",")));
        }
        if !self.towns.is_empty() {
            params.push(("TOWNS", ids(&mut self.towns.iter().map(|(id, _)| *id))));
        }
        match &self.hotels {
            Some(hotels) if hotels.is_empty() => return None,
            Some(hotels) => params.push(("HOTELS", ids(&mut hotels.iter().copied()))),
            None => {}
        }
        if let Some((_, stars)) = &self.stars {
            params.push(("STARS", ids(&mut stars.iter().copied())));
        }
        if let Some((_, meals)) = &self.meal {
            params.push(("MEALS", ids(&mut meals.iter().copied())));
        }
        if let Some((id, _)) = &self.currency {
            params.push(("CURRENCY", id.to_string()));
        }
        if let Some(max) = self.budget {
            params.push(("COSTMAX", max.to_string()));
        }
        params.push((
            "SORT",
            match self.sort {
                SortOrder::PriceAsc => "ASC",
                SortOrder::PriceDesc => "DESC",
            }
            .into(),
        ));
        params.sort();
        Some(Plan {
            params: Arc::new(params),
            currency: self.currency.as_ref().map(|(_, code)| code.clone()),
            budget: self.budget,
            budget_native: self.budget_native.clone(),
            sort: self.sort,
            country: self.country,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// Almaty (417) → Vietnam (93), Nha Trang (2201), 10–12 January, 7 nights, two adults.
    pub(crate) fn resolved() -> Resolved {
        Resolved {
            from: 417,
            country: 93,
            adults: 2,
            child_ages: vec![],
            check_in: (date("2027-01-10"), date("2027-01-12")),
            nights: (7, 7),
            towns: vec![(2201, "Нячанг".into())],
            hotels: None,
            stars: None,
            meal: None,
            currency: Some((14, "KZT".into())),
            budget: None,
            budget_native: None,
            sort: SortOrder::PriceAsc,
        }
    }

    fn get<'a>(plan: &'a Plan, key: &str) -> Option<&'a str> {
        plan.params
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn every_part_of_the_query_becomes_its_parameter() {
        let mut r = resolved();
        r.child_ages = vec![5, 1];
        r.towns.push((2202, "Камрань".into()));
        r.hotels = Some(vec![7002, 7001]);
        r.stars = Some((4, vec![303, 304]));
        r.meal = Some(("AI".into(), vec![505]));
        r.budget = Some(900_000);
        let plan = r.plan().unwrap();
        for (key, value) in [
            ("TOWNFROMINC", "417"),
            ("STATEINC", "93"),
            ("CHILD", "2"),
            ("AGES", "5,1"),
            ("TOWNS", "2201,2202"),
            ("HOTELS", "7002,7001"),
            ("STARS", "303,304"),
            ("MEALS", "505"),
            ("CURRENCY", "14"),
            ("COSTMAX", "900000"),
            ("CHECKIN_BEG", "20270110"),
            ("CHECKIN_END", "20270112"),
            ("SORT", "ASC"),
        ] {
            assert_eq!(get(&plan, key), Some(value), "{key}");
        }
        assert!(plan.params.windows(2).all(|w| w[0].0 <= w[1].0), "sorted");
        assert_eq!((plan.budget, plan.country), (Some(900_000), 93));
    }

    #[test]
    fn hotels_the_route_does_not_sell_make_a_search_with_nothing_to_ask() {
        let mut r = resolved();
        r.hotels = Some(vec![]);
        assert!(r.plan().is_none());
        r.hotels = None;
        assert!(get(&r.plan().unwrap(), "HOTELS").is_none());
    }
}
