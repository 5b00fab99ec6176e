//! What the search still needs and asking for it; bare answers to what was asked ("10",
//! "2"); reading dates into a departure window; and the search query itself.
//!
//! Dates: charter flights leave on some weekdays only, so a single departure day searches a
//! few days around it (two either side, three when the customer said "примерно"), and the
//! reply says so ("26–30 декабря, рядом с 28-м"). A range with the nights known otherwise
//! ("20–30 января", 7 nights said apart or before) is a window of departure days in which the
//! whole trip fits.

use super::{Step, Talk, reply, sort_of};
use crate::analysis::{Hints, Slots, folded_words};
use crate::names;
use crate::replies::{self as r, PartyView, SearchView};
use crate::search::SearchQuery;
use crate::state::{DialogState, Need};
use crate::templates::TemplateError;
use crate::turn::Reply;
use chrono::{Days, NaiveDate};

/// Days either side of a single departure date.
const FLEX_DAYS: u64 = 2;
/// Days either side of an approximate one ("around the 20th").
const FLEX_DAYS_APPROXIMATE: u64 = 3;

/// Required parameters not known yet, in the order they are asked.
pub(super) fn missing(s: &Slots) -> Vec<Need> {
    let mut needs = Vec::new();
    if s.country.is_none() && s.resort.is_none() {
        needs.push(Need::Destination);
    }
    if s.departure_city.is_none() {
        needs.push(Need::DepartureCity);
    }
    if s.date_from.is_none() {
        needs.push(Need::Dates);
    }
    if s.nights_from.is_none() {
        needs.push(Need::Nights);
    }
    if s.adults.is_none() {
        needs.push(Need::Party);
    }
    if s.children.unwrap_or(0) as usize > s.child_ages.len() {
        needs.push(Need::ChildAges);
    }
    needs
}

/// Asks for what is missing, at most two things, and remembers what was asked. `only`
/// repeats an earlier question; `confirm` says what this message added ("Записал: …") when
/// anything is known; `again` asks with an example, the answer to the same question having
/// not fitted.
pub(super) fn ask(
    state: &mut DialogState,
    t: &Talk<'_>,
    only: Option<Vec<Need>>,
    confirm: bool,
    again: bool,
) -> Result<Reply, TemplateError> {
    let mut needs = only.unwrap_or_else(|| missing(&state.slots));
    needs.truncate(2);
    state.awaiting = needs.clone();
    let known = known_view(state, t)?;
    let has_known = confirm && !is_blank(&known);
    Ok(Reply::text(t.say(&r::Ask {
        missing: needs,
        known,
        has_known,
        again,
    })?))
}

/// Nothing in the view would be printed.
fn is_blank(v: &SearchView) -> bool {
    v.destination.is_none()
        && v.departure_city.is_none()
        && v.dates.is_none()
        && v.nights.is_none()
        && v.adults.is_none()
        && v.children.is_none()
        && v.budget.is_none()
        && v.stars.is_none()
        && v.meal.is_none()
        && v.hotels.is_empty()
}

/// Words that may stand beside a bare number that answers a question: "нас 2", "10 ночей",
/// "5 и 8" (folded forms).
const BARE_WORDS: &[&str] = &[
    "и",
    "нас",
    "нам",
    "мы",
    "будет",
    "будем",
    "всего",
    "человек",
    "человека",
    "чел",
    "ночей",
    "ночи",
    "ночь",
    "ноч",
    "взрослых",
    "взрослый",
    "взрослого",
    "взр",
    "лет",
    "года",
    "год",
    "годиков",
    "ей",
    "ему",
    "им",
    "по",
    "где",
    "то",
    "примерно",
    "adults",
    "adult",
    "people",
    "persons",
    "pax",
    "ppl",
    "nights",
    "night",
    "we",
    "are",
    "and",
    "of",
    "us",
    "years",
    "yo",
    "адам",
    "адамбыз",
    "тун",
    "тунге",
    "ересек",
    "жаста",
    "жане",
    "бiз",
    "биз",
    "ok",
    "ок",
    "да",
    "yes",
    // Who a number is about, when the bot asked the children's ages: "she's 5", "сыну 7".
    "she",
    "he",
    "shes",
    "hes",
    "is",
    "s",
    "they",
    "theyre",
    "old",
    "year",
    "y",
    "o",
    "my",
    "son",
    "daughter",
    "kid",
    "child",
    "boy",
    "girl",
    "сыну",
    "сын",
    "дочке",
    "дочь",
    "дочка",
    "ребенку",
    "мальчику",
    "девочке",
    "ол",
    "улым",
    "улыма",
    "кызым",
    "кызыма",
    "балама",
];

/// A bare answer to what the bot just asked: "10" after "на сколько ночей?", "2" after
/// "сколько вас?", "5 и 8" after the children's ages. Only a message of numbers (and the words
/// that say what they count) is such an answer, only a number that fits what was asked fills
/// it, and only what the analyser left empty.
pub(super) fn fill_bare_answer(text: &str, awaiting: &[Need], said: &mut Slots) {
    // The analyser explained the numbers of the message ("9 nights"): nothing is bare.
    let search_said = Slots {
        phone: None,
        email: None,
        name: None,
        ..said.clone()
    };
    if awaiting.is_empty() || !search_said.is_empty() {
        return;
    }
    let words = folded_words(text);
    let numbers: Vec<u32> = words
        .iter()
        .filter(|w| w.len() <= 3)
        .filter_map(|w| w.parse().ok())
        .collect();
    if numbers.is_empty()
        || words
            .iter()
            .any(|w| w.parse::<u32>().is_err() && !BARE_WORDS.contains(&w.as_str()))
    {
        return;
    }
    let wants = |n: Need| awaiting.contains(&n);
    if wants(Need::ChildAges) && said.child_ages.is_empty() && numbers.iter().all(|a| *a < 18) {
        said.child_ages = numbers;
        return;
    }
    let [n] = numbers[..] else { return };
    let nights_ok = (2..=30).contains(&n);
    let party_ok = (1..=9).contains(&n);
    match (
        wants(Need::Nights) && said.nights_from.is_none(),
        wants(Need::Party) && said.adults.is_none(),
    ) {
        (true, false) if nights_ok => {
            said.nights_from = Some(n);
            said.nights_to = Some(n);
        }
        (false, true) if party_ok => said.adults = Some(n),
        // Both asked: few people, many nights.
        (true, true) if n >= 6 && nights_ok => {
            said.nights_from = Some(n);
            said.nights_to = Some(n);
        }
        (true, true) if n <= 4 => said.adults = Some(n),
        _ => {}
    }
}

/// Resorts named as alternatives ("Нячанг или Камрань") are searched together; a new resort
/// or country said alone drops them. Returns whether they changed.
pub(super) fn resort_alternatives(state: &mut DialogState, said: &Slots, hints: &Hints) -> bool {
    let alternatives: Vec<String> = match &said.resort {
        Some(resort) => {
            let mut v: Vec<String> = Vec::new();
            for a in &hints.resort_alternatives {
                if a != resort && !v.contains(a) {
                    v.push(a.clone());
                }
            }
            v
        }
        None if said.country.is_some() && said.country != state.slots.country => Vec::new(),
        None => return false,
    };
    let changed = alternatives != state.resorts_also;
    state.resorts_also = alternatives;
    changed
}

/// Reads the dates of this message: whether they were approximate, and a from–to range as a
/// window of departure days when the nights are known apart from it.
pub(super) fn read_dates(state: &mut DialogState, said: &mut Slots, hints: &Hints) {
    if said.date_from.is_none() {
        return;
    }
    state.approximate = hints.date_approximate;
    let Some((a, b)) = hints.date_range else {
        return;
    };
    let span = (b - a).num_days();
    if span <= 0 {
        return;
    }
    let span = span as u32;
    // The analyser reads "с 20 по 30 января" as a departure on the 20th for 10 nights. When
    // the nights were said apart (in this message or before), the range is where the trip
    // must fit.
    let (from, to) = match (said.nights_from, said.nights_to) {
        (Some(n), to) if n != span => (n, to.unwrap_or(n)),
        _ => match (state.slots.nights_from, state.slots.nights_to) {
            (Some(n), to) if n != span => (n, to.unwrap_or(n)),
            _ => return,
        },
    };
    said.nights_from = Some(from);
    said.nights_to = Some(to.max(from));
    let last = b
        .checked_sub_days(Days::new(u64::from(from)))
        .unwrap_or(a)
        .max(a);
    said.date_from = Some(a);
    said.date_to = Some(last);
}

/// Did anything that changes the search change?
pub(super) fn search_changed(before: &Slots, after: &Slots) -> bool {
    let strip = |s: &Slots| Slots {
        phone: None,
        email: None,
        name: None,
        ..s.clone()
    };
    strip(before) != strip(after)
}

/// The departure window searched: a single day widens to a few days around it (never before
/// today).
fn window(state: &DialogState, today: NaiveDate) -> (NaiveDate, NaiveDate) {
    let s = &state.slots;
    let from = s.date_from.unwrap_or(today);
    let to = s.date_to.unwrap_or(from).max(from);
    let (from, to) = if from == to {
        let flex = Days::new(if state.approximate {
            FLEX_DAYS_APPROXIMATE
        } else {
            FLEX_DAYS
        });
        (
            from.checked_sub_days(flex).unwrap_or(from),
            to.checked_add_days(flex).unwrap_or(to),
        )
    } else {
        (from, to)
    };
    let from = from.max(today);
    (from, to.max(from))
}

/// The search for complete slots (see [`missing`]).
pub(super) fn query_from(
    state: &DialogState,
    ctx: &super::Context<'_>,
    today: NaiveDate,
) -> SearchQuery {
    let s = &state.slots;
    let (date_from, date_to) = window(state, today);
    let nights_from = s.nights_from.unwrap_or(7);
    // Every child the customer gave an age for travels (a count said apart caps them).
    let mut ages = s.child_ages.clone();
    ages.truncate(s.children.map_or(ages.len(), |c| c as usize));
    let mut resorts: Vec<String> = s.resort.clone().into_iter().collect();
    for r in &state.resorts_also {
        if !resorts.contains(r) {
            resorts.push(r.clone());
        }
    }
    let country = s
        .country
        .clone()
        .or_else(|| ctx.sold_countries.first().cloned())
        .unwrap_or_else(|| "Vietnam".into());
    SearchQuery {
        departure_city: s.departure_city.clone().unwrap_or_default(),
        country,
        resorts,
        hotels: state.hotels.iter().map(|h| h.name.clone()).collect(),
        date_from,
        date_to,
        nights_from,
        nights_to: s.nights_to.unwrap_or(nights_from).max(nights_from),
        adults: s.adults.unwrap_or_default(),
        child_ages: ages,
        budget_max: s.budget_max,
        budget_currency: s
            .budget_max
            .map(|_| s.currency.clone().unwrap_or_else(|| "KZT".into())),
        stars: s.stars,
        meal: s.meal.clone(),
        sort: sort_of(state),
    }
}

/// "Нячанг или Камрань" in the customer's language.
pub(super) fn either(places: &[String], t: &Talk<'_>) -> String {
    let or = match t.lang {
        crate::analysis::Language::Ru => " или ",
        crate::analysis::Language::Kk => " немесе ",
        crate::analysis::Language::En => " or ",
    };
    places
        .iter()
        .map(|p| names::place(p, t.lang))
        .collect::<Vec<_>>()
        .join(or)
}

fn nights(from: Option<u32>, to: Option<u32>) -> Option<String> {
    let from = from?;
    Some(match to {
        Some(to) if to != from => format!("{from}–{to}"),
        _ => from.to_string(),
    })
}

pub(super) fn meal_words(code: &str, t: &Talk<'_>) -> Result<String, TemplateError> {
    t.say(&r::Meal {
        code: code.to_owned(),
    })
}

/// A search's parameters as templates see them.
pub(super) fn search_view(
    q: &SearchQuery,
    state: &DialogState,
    t: &Talk<'_>,
) -> Result<SearchView, TemplateError> {
    let destination = if q.resorts.is_empty() {
        names::place(&q.country, t.lang)
    } else {
        either(&q.resorts, t)
    };
    // The day the customer named, when the window was widened around it.
    let near = match (state.slots.date_from, state.slots.date_to) {
        (Some(d), Some(e))
            if d == e && q.date_from != q.date_to && q.date_from <= d && d <= q.date_to =>
        {
            Some(d)
        }
        _ => None,
    };
    Ok(SearchView {
        destination: Some(destination),
        departure_city: Some(names::place(&q.departure_city, t.lang)),
        dates: Some(names::days(q.date_from, q.date_to, t.lang)),
        near: near.map(|d| names::day(d, t.lang)),
        near_day: near.map(|d| chrono::Datelike::day(&d)),
        nights: nights(Some(q.nights_from), Some(q.nights_to)),
        adults: Some(q.adults),
        children: (!q.child_ages.is_empty()).then_some(q.child_ages.len() as u32),
        child_ages: q.child_ages.clone(),
        budget: q
            .budget_max
            .map(|b| names::money(b, q.budget_currency.as_deref().unwrap_or("KZT"))),
        stars: q.stars,
        meal: q.meal.as_deref().map(|m| meal_words(m, t)).transpose()?,
        hotels: q.hotels.clone(),
    })
}

/// What the customer has said so far, as templates see it.
pub(super) fn known_view(state: &DialogState, t: &Talk<'_>) -> Result<SearchView, TemplateError> {
    let s = &state.slots;
    let destination = match &s.resort {
        Some(resort) => {
            let mut all = vec![resort.clone()];
            all.extend(state.resorts_also.iter().cloned());
            Some(either(&all, t))
        }
        None => s.country.as_deref().map(|c| names::place(c, t.lang)),
    };
    Ok(SearchView {
        destination,
        departure_city: s.departure_city.as_deref().map(|c| names::place(c, t.lang)),
        dates: s
            .date_from
            .map(|from| names::days(from, s.date_to.unwrap_or(from), t.lang)),
        near: None,
        near_day: None,
        nights: nights(s.nights_from, s.nights_to),
        adults: s.adults,
        children: s.children.filter(|c| *c > 0),
        child_ages: s.child_ages.clone(),
        budget: s
            .budget_max
            .map(|b| names::money(b, s.currency.as_deref().unwrap_or("KZT"))),
        stars: s.stars,
        meal: s.meal.as_deref().map(|m| meal_words(m, t)).transpose()?,
        hotels: state.hotels.iter().map(|h| h.name.clone()).collect(),
    })
}

/// Who travels on a search.
pub(super) fn party_view(q: &SearchQuery) -> PartyView {
    PartyView {
        adults: q.adults,
        children: q.child_ages.len() as u32,
        child_ages: q.child_ages.clone(),
    }
}

/// "берем 3", "ещё", "подешевле" or "бронируем" with no list on screen: after a search that
/// found nothing, what happens now; before any search, that the list comes first, and what
/// is still needed for it.
pub(super) fn nothing_to_choose(
    state: &mut DialogState,
    asked: &'static str,
    n: Option<u32>,
    t: &Talk<'_>,
) -> Result<Step, TemplateError> {
    if state.nothing_found.is_some() {
        return Ok(Step::Reply(reply(t.say(&r::AfterEmpty { asked, n })?)));
    }
    let missing = missing(&state.slots);
    let mut text = t.say(&r::NoList {
        asked,
        n,
        asking: !missing.is_empty(),
    })?;
    if !missing.is_empty() {
        // One message: what is missing for the list comes right after.
        text.push('\n');
        text.push_str(&ask(state, t, None, false, false)?.text);
    }
    Ok(Step::Reply(reply(text)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::analyze;
    use crate::faq::Faq;
    use crate::templates::Templates;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    #[test]
    fn a_bare_answer_is_only_numbers_that_fit_what_was_asked() {
        let fill = |text: &str, awaiting: &[Need]| {
            let mut s = Slots::default();
            fill_bare_answer(text, awaiting, &mut s);
            (s.adults, s.nights_from, s.child_ages)
        };
        assert_eq!(fill("2", &[Need::Party]), (Some(2), None, vec![]));
        assert_eq!(fill("нас 3", &[Need::Party]), (Some(3), None, vec![]));
        assert_eq!(fill("10", &[Need::Nights]), (None, Some(10), vec![]));
        assert_eq!(fill("5 и 8", &[Need::ChildAges]), (None, None, vec![5, 8]));
        // A choice, not a party size.
        assert_eq!(
            fill("ok book option 1", &[Need::Party]),
            (None, None, vec![])
        );
        assert_eq!(fill("берем 1", &[Need::Party]), (None, None, vec![]));
        assert_eq!(fill("вариант 2", &[Need::Party]), (None, None, vec![]));
        // Does not fit: 40 people, 1 night.
        assert_eq!(fill("40", &[Need::Party]), (None, None, vec![]));
        assert_eq!(fill("1", &[Need::Nights]), (None, None, vec![]));
        // Nothing was asked.
        assert_eq!(fill("2", &[]), (None, None, vec![]));
        // A number the analyser read is not read again: "9 nights" is no party of nine.
        let mut s = Slots {
            nights_from: Some(9),
            nights_to: Some(9),
            ..Slots::default()
        };
        fill_bare_answer("9 nights", &[Need::Nights, Need::Party], &mut s);
        assert_eq!(s.adults, None);
    }

    #[test]
    fn a_single_day_searches_a_few_days_around_it() {
        let mut state = DialogState::default();
        state.slots.date_from = Some(d(12, 28));
        state.slots.date_to = Some(d(12, 28));
        assert_eq!(window(&state, d(11, 21)), (d(12, 26), d(12, 30)));
        state.approximate = true;
        assert_eq!(window(&state, d(11, 21)), (d(12, 25), d(12, 31)));
        // Never before today.
        assert_eq!(window(&state, d(12, 27)), (d(12, 27), d(12, 31)));
        state.slots.date_to = Some(d(12, 31));
        state.approximate = false;
        assert_eq!(window(&state, d(11, 21)), (d(12, 28), d(12, 31)));
    }

    #[test]
    fn a_range_with_nights_said_apart_is_a_window_where_the_trip_fits() {
        let today = d(11, 21);
        let jan = |day| NaiveDate::from_ymd_opt(2027, 1, day).unwrap();
        let range = Hints {
            date_range: Some((jan(20), jan(30))),
            ..Hints::default()
        };
        // "20–30 января на 7 ночей": leave between the 20th and the 23rd.
        let mut state = DialogState::default();
        let mut said = analyze("20-30 января", today).slots;
        said.nights_from = Some(7);
        said.nights_to = Some(7);
        read_dates(&mut state, &mut said, &range);
        assert_eq!(
            (said.date_from, said.date_to),
            (Some(jan(20)), Some(jan(23)))
        );
        assert_eq!(said.nights_from, Some(7));
        // Nights known from before: the range keeps them.
        let mut state = DialogState::default();
        state.slots.nights_from = Some(5);
        state.slots.nights_to = Some(5);
        let mut said = Slots {
            date_from: Some(jan(20)),
            date_to: Some(jan(20)),
            nights_from: Some(10),
            nights_to: Some(10),
            ..Slots::default()
        };
        read_dates(&mut state, &mut said, &range);
        assert_eq!(
            (said.date_from, said.date_to),
            (Some(jan(20)), Some(jan(25)))
        );
        assert_eq!(said.nights_from, Some(5));
        // Nothing else known: a departure on the 20th for 10 nights, as the analyser read it.
        let mut state = DialogState::default();
        let before = said.clone();
        let mut said = Slots {
            date_from: Some(jan(20)),
            date_to: Some(jan(20)),
            nights_from: Some(10),
            nights_to: Some(10),
            ..Slots::default()
        };
        read_dates(&mut state, &mut said, &range);
        assert_eq!((said.date_to, said.nights_from), (Some(jan(20)), Some(10)));
        assert_ne!(before, said);
    }

    #[test]
    fn the_reply_says_the_window_and_the_day_asked() {
        let templates = Templates::defaults();
        let faq = Faq::default();
        let ctx = super::super::Context::new(&templates, &faq);
        for (lang, expect) in [
            (
                crate::analysis::Language::Ru,
                "вылет 26–30 декабря (рядом с 28-м: рейсы летают не каждый день)",
            ),
            (
                crate::analysis::Language::En,
                "departing 26–30 December (around 28 December: flights do not leave every day)",
            ),
            (
                crate::analysis::Language::Kk,
                "26–30 желтоқсан (28 желтоқсан маңында: рейстер күн сайын ұшпайды)",
            ),
        ] {
            let mut state = DialogState {
                language: Some(lang),
                ..DialogState::default()
            };
            state.slots =
                analyze("Нячанг из Алматы 28 декабря на 10 ночей вдвоем", d(11, 21)).slots;
            let q = query_from(&state, &ctx, d(11, 21));
            assert_eq!((q.date_from, q.date_to), (d(12, 26), d(12, 30)));
            let t = Talk::new(&ctx, &state, None);
            let view = search_view(&q, &state, &t).unwrap();
            let text = t.say(&r::Summary { search: view }).unwrap();
            assert!(text.contains(expect), "{lang}: {text}");
        }
    }
}
