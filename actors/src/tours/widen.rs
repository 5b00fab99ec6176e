//! Nearest-offer recovery: when a search finds nothing, it is widened in a fixed order, and
//! the first widened search that finds offers gives the customer the nearest real offers
//! instead of a dead end. Pure: the searches are run by [`super::service`].
//!
//! Each relaxation is first tried **alone**, so that the offers shown differ from what was
//! asked in one thing only, in this order:
//!
//! 1. **Dates**: the nearest flight days before and after the window, from the route's
//!    `SearchTour_CHECKIN` calendar (charters leave on some weekdays only), at most
//!    [`REACH_DAYS`] away;
//! 2. **Nights**: two nights fewer to two more (a return flight may leave on other days);
//! 3. **Stars**: one category less than asked;
//! 4. **Meal**: any meal plan;
//! 5. **Hotel**: any hotel of the named hotels' resorts;
//! 6. **Resort**: the resorts of the same region (Камрань for Нячанг), or the whole country
//!    when the region has no other;
//! 7. **Budget**: over the budget, cheapest first.
//!
//! Then, when more than one applies, **all of them together** (the widest search, in the
//! whole country). A
//! relaxation the query has nothing for (no stars asked, no flight day near…) is skipped
//! without a search. At most [`MAX_SEARCHES`] searches are made: past that, the last
//! relaxations alone are dropped, never the widest search.

use super::names::{self, Kind};
use super::plan::Resolved;
use chrono::{Days, NaiveDate};
use dialogs::search::{Offer, SortOrder, Widening};

/// The most widened searches one empty search leads to (`SearchTour_PRICES`, first page
/// each), besides one `SearchTour_CHECKIN` call for the route's flight days.
pub const MAX_SEARCHES: usize = 5;

/// How many days before or after the window an adjacent flight day may be.
pub const REACH_DAYS: u64 = 14;

/// Nights added and taken away by the nights step.
const NIGHTS_SPREAD: u32 = 2;

/// What the recovery knows about the route beyond the query.
#[derive(Debug, Clone, Default)]
pub struct Around {
    /// The route's bookable check-in days (`SearchTour_CHECKIN`).
    pub flight_days: Vec<NaiveDate>,
    /// The operator's ids of one category less than asked, and above.
    pub stars_one_less: Option<Vec<i64>>,
    /// Every town of the country, with its region.
    pub towns: Vec<Town>,
    /// The towns of the hotels asked for.
    pub hotel_towns: Vec<i64>,
}

/// An operator town and its region (`SearchTour_TOWNS`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Town {
    pub id: i64,
    pub name: String,
    pub region: Option<String>,
}

/// One relaxation, in the order tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Dates,
    Nights,
    Stars,
    Meal,
    Hotel,
    /// The towns of the same region as the asked ones.
    Neighbours,
    /// The whole country.
    Country,
    Budget,
}

const ORDER: [Step; 8] = [
    Step::Dates,
    Step::Nights,
    Step::Stars,
    Step::Meal,
    Step::Hotel,
    Step::Neighbours,
    Step::Country,
    Step::Budget,
];

impl Step {
    /// What the customer is told was relaxed.
    pub fn widening(self) -> Widening {
        match self {
            Step::Dates => Widening::Dates,
            Step::Nights => Widening::Nights,
            Step::Stars => Widening::Stars,
            Step::Meal => Widening::Meal,
            Step::Hotel => Widening::Hotel,
            Step::Neighbours | Step::Country => Widening::Resort,
            Step::Budget => Widening::Budget,
        }
    }

    /// `r` relaxed by this step; `None` when there is nothing to relax.
    fn relax(self, r: &Resolved, around: &Around) -> Option<Resolved> {
        let mut wider = r.clone();
        match self {
            Step::Dates => {
                wider.check_in = adjacent_window(r.check_in, &around.flight_days)?;
            }
            Step::Nights => {
                wider.nights = (
                    r.nights.0.saturating_sub(NIGHTS_SPREAD).max(1),
                    r.nights.1 + NIGHTS_SPREAD,
                );
            }
            Step::Stars => {
                let (asked, _) = r.stars.as_ref().filter(|(s, _)| *s > 1)?;
                let ids = around.stars_one_less.clone().filter(|i| !i.is_empty())?;
                wider.stars = Some((asked - 1, ids));
            }
            Step::Meal => {
                r.meal.as_ref()?;
                wider.meal = None;
            }
            Step::Hotel => {
                r.hotels.as_ref()?;
                wider.hotels = None;
                if wider.towns.is_empty() {
                    wider.towns = around
                        .towns
                        .iter()
                        .filter(|t| around.hotel_towns.contains(&t.id))
                        .map(|t| (t.id, t.name.clone()))
                        .collect();
                }
            }
            Step::Neighbours => {
                let regions: Vec<&str> = around
                    .towns
                    .iter()
                    .filter(|t| r.towns.iter().any(|(id, _)| *id == t.id))
                    .filter_map(|t| t.region.as_deref())
                    .collect();
                let neighbours: Vec<(i64, String)> = around
                    .towns
                    .iter()
                    .filter(|t| t.region.as_deref().is_some_and(|g| regions.contains(&g)))
                    .filter(|t| !r.towns.iter().any(|(id, _)| *id == t.id))
                    .map(|t| (t.id, t.name.clone()))
                    .collect();
                if neighbours.is_empty() {
                    return None;
                }
                wider.towns.extend(neighbours);
            }
            Step::Country => {
                if r.towns.is_empty() {
                    return None;
                }
                wider.towns.clear();
            }
            Step::Budget => {
                if r.budget.is_none() && r.budget_native.is_none() {
                    return None;
                }
                wider.budget = None;
                wider.budget_native = None;
                // The cheapest there is.
                wider.sort = SortOrder::PriceAsc;
            }
        }
        Some(wider)
    }
}

/// The widened searches for `asked`, in the order to try them, each with the steps it
/// relaxes: every step alone, then all of them together. At most [`MAX_SEARCHES`].
pub fn searches(asked: &Resolved, around: &Around) -> Vec<(Vec<Step>, Resolved)> {
    let mut searches: Vec<(Vec<Step>, Resolved)> = Vec::new();
    for step in ORDER {
        // Alone, the whole country is tried only when the region has no other resort.
        if step == Step::Country && searches.iter().any(|(s, _)| s == &[Step::Neighbours]) {
            continue;
        }
        if let Some(wider) = step.relax(asked, around) {
            searches.push((vec![step], wider));
        }
    }
    let mut widest = asked.clone();
    let mut all = Vec::new();
    for step in ORDER {
        if let Some(wider) = step.relax(&widest, around) {
            widest = wider;
            all.push(step);
        }
    }
    if all.len() > 1 {
        searches.truncate(MAX_SEARCHES - 1);
        searches.push((all, widest));
    }
    searches.truncate(MAX_SEARCHES);
    searches
}

/// The nearest flight days before and after `window` (within [`REACH_DAYS`]), as a window
/// that also holds the asked one; `None` when there is none.
pub fn adjacent_window(
    window: (NaiveDate, NaiveDate),
    flight_days: &[NaiveDate],
) -> Option<(NaiveDate, NaiveDate)> {
    let reach = Days::new(REACH_DAYS);
    let earliest = window.0.checked_sub_days(reach).unwrap_or(window.0);
    let latest = window.1.checked_add_days(reach).unwrap_or(window.1);
    let before = flight_days
        .iter()
        .filter(|d| **d < window.0 && **d >= earliest)
        .max();
    let after = flight_days
        .iter()
        .filter(|d| **d > window.1 && **d <= latest)
        .min();
    if before.is_none() && after.is_none() {
        return None;
    }
    Some((
        before.copied().unwrap_or(window.0),
        after.copied().unwrap_or(window.1),
    ))
}

/// What the customer is told was relaxed: the steps taken (in order) in which at least one
/// of `offers` differs from what was asked; all the steps taken when none visibly does.
pub fn differences(asked: &Resolved, taken: &[Step], offers: &[Offer]) -> Vec<Widening> {
    let differs = |step: Step, o: &Offer| match step {
        Step::Dates => o.check_in < asked.check_in.0 || o.check_in > asked.check_in.1,
        Step::Nights => o.nights < asked.nights.0 || o.nights > asked.nights.1,
        Step::Stars => asked
            .stars
            .as_ref()
            .is_some_and(|(s, _)| o.stars.is_none_or(|o| o < *s)),
        Step::Meal => asked.meal.as_ref().is_some_and(|(code, _)| {
            !names::meal_matches(
                &names::normalise(&o.meal),
                &names::spellings(Kind::Meal, code),
            )
        }),
        Step::Hotel => asked
            .hotels
            .as_ref()
            .is_some_and(|ids| o.hotel_key.is_none_or(|k| !ids.contains(&k))),
        Step::Neighbours | Step::Country => {
            !asked.towns.is_empty()
                && !asked
                    .towns
                    .iter()
                    .any(|(_, name)| names::normalise(name) == names::normalise(&o.resort))
        }
        Step::Budget => {
            asked.budget.is_some_and(|max| {
                o.price > max
                    && asked
                        .currency
                        .as_ref()
                        .is_some_and(|(_, code)| code.eq_ignore_ascii_case(&o.currency))
            })
            // Shown in another currency than the budget's: only the widening says it.
            || asked.budget_native.is_some()
        }
    };
    let mut shown = Vec::new();
    let mut all = Vec::new();
    for step in taken {
        let widening = step.widening();
        if !all.contains(&widening) {
            all.push(widening);
        }
        if !shown.contains(&widening) && offers.iter().any(|o| differs(*step, o)) {
            shown.push(widening);
        }
    }
    if shown.is_empty() { all } else { shown }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tours::plan::tests::{date, resolved};
    use dialogs::search::Availability;

    fn town(id: i64, name: &str, region: &str) -> Town {
        Town {
            id,
            name: name.into(),
            region: Some(region.into()),
        }
    }

    fn around() -> Around {
        Around {
            // Tuesdays, Thursdays and Saturdays in January 2027.
            flight_days: [5, 7, 9, 12, 14, 16, 19, 21, 23]
                .iter()
                .map(|d| NaiveDate::from_ymd_opt(2027, 1, *d).unwrap())
                .collect(),
            stars_one_less: Some(vec![303, 304]),
            towns: vec![
                town(2201, "Нячанг", "Кханьхоа"),
                town(2202, "Камрань", "Кханьхоа"),
                town(2203, "Фукуок", "Фукуок"),
            ],
            hotel_towns: vec![2201],
        }
    }

    fn steps(searches: &[(Vec<Step>, Resolved)]) -> Vec<Vec<Step>> {
        searches.iter().map(|(s, _)| s.clone()).collect()
    }

    #[test]
    fn adjacent_flight_days_are_the_nearest_on_each_side() {
        let days = around().flight_days;
        // Sunday the 10th: Saturday the 9th and Tuesday the 12th.
        assert_eq!(
            adjacent_window((date("2027-01-10"), date("2027-01-10")), &days),
            Some((date("2027-01-09"), date("2027-01-12")))
        );
        // Before the first flight of the list: only after.
        assert_eq!(
            adjacent_window((date("2027-01-02"), date("2027-01-03")), &days),
            Some((date("2027-01-02"), date("2027-01-05")))
        );
        // Nothing within two weeks.
        assert_eq!(
            adjacent_window((date("2027-03-01"), date("2027-03-02")), &days),
            None
        );
        assert_eq!(
            adjacent_window((date("2027-01-10"), date("2027-01-10")), &[]),
            None
        );
    }

    #[test]
    fn each_relaxation_alone_then_all_together() {
        let mut asked = resolved();
        asked.check_in = (date("2027-01-10"), date("2027-01-10"));
        let searches = searches(&asked, &around());
        assert_eq!(
            steps(&searches),
            [
                vec![Step::Dates],
                vec![Step::Nights],
                vec![Step::Neighbours],
                vec![Step::Dates, Step::Nights, Step::Neighbours, Step::Country],
            ]
        );
        let (_, dates) = &searches[0];
        assert_eq!(dates.check_in, (date("2027-01-09"), date("2027-01-12")));
        assert_eq!((dates.nights, dates.towns.len()), ((7, 7), 1), "dates only");
        let (_, nights) = &searches[1];
        assert_eq!((nights.check_in, nights.nights), (asked.check_in, (5, 9)));
        let (_, neighbours) = &searches[2];
        assert_eq!(
            neighbours.towns,
            [(2201, "Нячанг".into()), (2202, "Камрань".into())]
        );
        assert_eq!(neighbours.check_in, asked.check_in);
        let (_, widest) = &searches[3];
        assert_eq!(
            (widest.check_in, widest.nights, widest.towns.len()),
            ((date("2027-01-09"), date("2027-01-12")), (5, 9), 0)
        );
    }

    #[test]
    fn past_the_bound_the_last_relaxations_alone_give_way_to_all_together() {
        let mut asked = resolved();
        asked.stars = Some((5, vec![304]));
        asked.meal = Some(("AI".into(), vec![505]));
        asked.budget = Some(500_000);
        asked.sort = SortOrder::PriceDesc;
        let searches = searches(&asked, &around());
        assert_eq!(searches.len(), MAX_SEARCHES);
        assert_eq!(
            steps(&searches),
            [
                vec![Step::Dates],
                vec![Step::Nights],
                vec![Step::Stars],
                vec![Step::Meal],
                vec![
                    Step::Dates,
                    Step::Nights,
                    Step::Stars,
                    Step::Meal,
                    Step::Neighbours,
                    Step::Country,
                    Step::Budget
                ],
            ]
        );
        let (_, stars) = &searches[2];
        assert_eq!(stars.stars, Some((4, vec![303, 304])));
        assert!(
            stars.meal.is_some() && stars.budget.is_some(),
            "one thing at a time"
        );
        let (_, widest) = &searches[4];
        assert_eq!(
            (widest.meal.as_ref(), widest.towns.len(), widest.budget),
            (None, 0, None)
        );
        assert_eq!(widest.stars, Some((4, vec![303, 304])));
        assert_eq!(widest.sort, SortOrder::PriceAsc, "the cheapest there is");
    }

    #[test]
    fn over_the_budget_alone_is_the_cheapest_there_is() {
        let mut asked = resolved();
        asked.towns.clear();
        asked.budget = Some(300_000);
        asked.sort = SortOrder::PriceDesc;
        let mut far = around();
        far.flight_days.clear();
        let searches = searches(&asked, &far);
        assert_eq!(
            steps(&searches),
            [
                vec![Step::Nights],
                vec![Step::Budget],
                vec![Step::Nights, Step::Budget]
            ]
        );
        let (_, budget) = &searches[1];
        assert_eq!((budget.budget, budget.sort), (None, SortOrder::PriceAsc));
        assert_eq!(budget.nights, asked.nights);
    }

    #[test]
    fn a_resort_alone_in_its_region_gives_way_to_the_country() {
        let mut asked = resolved();
        asked.towns = vec![(2203, "Фукуок".into())];
        let mut far = around();
        far.flight_days.clear();
        let searches = searches(&asked, &far);
        assert_eq!(
            steps(&searches),
            [
                vec![Step::Nights],
                vec![Step::Country],
                vec![Step::Nights, Step::Country]
            ]
        );
    }

    #[test]
    fn relaxations_with_nothing_to_relax_are_skipped() {
        let mut asked = resolved();
        asked.towns.clear();
        asked.stars = Some((1, vec![301]));
        let mut far = around();
        far.flight_days.clear();
        assert_eq!(steps(&searches(&asked, &far)), [vec![Step::Nights]]);
    }

    #[test]
    fn a_named_hotel_gives_way_to_its_resort_then_the_region() {
        let mut asked = resolved();
        asked.towns.clear();
        asked.hotels = Some(vec![7002]);
        let searches = searches(&asked, &around());
        assert_eq!(
            steps(&searches),
            [
                vec![Step::Dates],
                vec![Step::Nights],
                vec![Step::Hotel],
                vec![
                    Step::Dates,
                    Step::Nights,
                    Step::Hotel,
                    Step::Neighbours,
                    Step::Country
                ]
            ]
        );
        let (_, hotel) = &searches[2];
        assert_eq!(
            (hotel.hotels.as_ref(), hotel.towns.as_slice()),
            (None, &[(2201, "Нячанг".to_owned())][..])
        );
        let (_, widest) = &searches[3];
        assert!(widest.hotels.is_none() && widest.towns.is_empty());
    }

    fn offer(check_in: &str, nights: u32, resort: &str, price: u64) -> Offer {
        Offer {
            id: "x".into(),
            hotel: "Galina Hotel & Spa".into(),
            hotel_key: Some(7002),
            stars: Some(4),
            resort: resort.into(),
            check_in: date(check_in),
            nights,
            meal: "AI (All Inclusive)".into(),
            room: "Standard (DBL)".into(),
            price,
            currency: "KZT".into(),
            availability: Availability::Available,
        }
    }

    #[test]
    fn the_customer_is_told_what_the_offers_show_relaxed() {
        let mut asked = resolved();
        asked.meal = Some(("AI".into(), vec![505]));
        asked.budget = Some(500_000);
        let taken = [Step::Dates, Step::Nights, Step::Neighbours, Step::Budget];
        // Another day, same nights, a neighbouring resort, within budget.
        let offers = [offer("2027-01-09", 7, "Камрань", 480_000)];
        assert_eq!(
            differences(&asked, &taken, &offers),
            [Widening::Dates, Widening::Resort]
        );
        let offers = [
            offer("2027-01-12", 9, "Нячанг", 480_000),
            offer("2027-01-12", 7, "нячанг", 552_000),
        ];
        assert_eq!(
            differences(&asked, &taken, &offers),
            [Widening::Nights, Widening::Budget]
        );
        // Nothing visibly different: every step taken is said.
        let offers = [offer("2027-01-12", 7, "Нячанг", 480_000)];
        assert_eq!(
            differences(&asked, &[Step::Dates, Step::Meal], &offers),
            [Widening::Dates, Widening::Meal]
        );
    }
}
