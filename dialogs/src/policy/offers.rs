//! Showing what a search found: the offers page by page; the nearest real offers when
//! nothing matched exactly, each with what differs from the query (another departure day,
//! ±nights, one star less, another meal plan, a neighbouring resort, "на 52 000 ₸ дороже
//! бюджета"); and, when there is nothing at all, a manager brought in with the query. "Ещё"
//! pages, "подешевле" looks below the cheapest shown with the filters relaxed.

use super::ask::nothing_to_choose;
use super::{Step, Talk, ask, escalate, reply, reply_with};
use crate::names;
use crate::replies::{self as r, Difference, OfferView};
use crate::search::{
    Availability, Offer, OfferPage, PageRequest, SearchFailure, SearchField, SearchQuery, SortOrder,
};
use crate::state::{DialogState, Need, Shown};
use crate::templates::TemplateError;
use crate::turn::{Button, EscalationDetails, EscalationReason, TurnOutcome};

/// Turns a search result into the replies of the turn, updating `state`.
pub(super) fn present(
    state: &mut DialogState,
    query: SearchQuery,
    page: PageRequest,
    result: Result<OfferPage, SearchFailure>,
    t: &Talk<'_>,
) -> Result<TurnOutcome, TemplateError> {
    let preface = state.preface.take();
    let mut outcome = results(state, query, page, result, t)?;
    // An answer decided before the search comes first.
    if let Some(mut first) = preface {
        first.replies.append(&mut outcome.replies);
        first.events.append(&mut outcome.events);
        outcome = first;
    }
    Ok(outcome)
}

/// The replies for a search's result.
fn results(
    state: &mut DialogState,
    query: SearchQuery,
    page: PageRequest,
    result: Result<OfferPage, SearchFailure>,
    t: &Talk<'_>,
) -> Result<TurnOutcome, TemplateError> {
    // "Подешевле": nothing below the cheapest shown keeps the list, and says which that is.
    if let Some(limit) = state.cheaper.take()
        && page.offset == 0
    {
        match &result {
            Ok(found) if found.offers.iter().all(|o| o.price >= limit) => {
                return no_cheaper(state, t);
            }
            Ok(_) => {
                // The filters were relaxed to find these: the customer accepted that.
                state.slots.stars = None;
                state.slots.meal = None;
            }
            Err(_) => {}
        }
    }
    match result {
        Ok(found) if found.offers.is_empty() => {
            if page.offset > 0 {
                if let Some(s) = &mut state.shown {
                    s.more = false;
                }
                return Ok(reply_with(
                    t.say(&r::NoMoreOffers {})?,
                    vec![t.manager_button()?],
                ));
            }
            nothing_found(state, query, t)
        }
        Ok(found) => show(state, query, page, found, t),
        Err(SearchFailure::NotOffered {
            field,
            value,
            alternatives,
        }) => not_offered(state, field, &value, alternatives, t),
        Err(SearchFailure::Unavailable { cause }) => {
            let mut outcome = reply(t.say(&r::SearchUnavailable {})?);
            outcome.events.push(escalate(
                state,
                EscalationReason::SearchUnavailable,
                EscalationDetails {
                    query: Some(query),
                    error: Some(cause),
                    ..EscalationDetails::default()
                },
            ));
            Ok(outcome)
        }
    }
}

/// A page of offers (the nearest ones when the search was widened).
fn show(
    state: &mut DialogState,
    query: SearchQuery,
    page: PageRequest,
    found: OfferPage,
    t: &Talk<'_>,
) -> Result<TurnOutcome, TemplateError> {
    let continuing = page.offset > 0
        && state
            .shown
            .as_ref()
            .is_some_and(|s| s.query == query && s.offers.len() == page.offset);
    let first_number = if continuing { page.offset + 1 } else { 1 };
    state.nothing_found = None;
    let shown = state.shown.get_or_insert_with(|| Shown {
        query: query.clone(),
        offers: Vec::new(),
        more: false,
        page: 0,
        nearest: false,
    });
    if !continuing {
        shown.query = query.clone();
        shown.offers.clear();
        shown.nearest = !found.widened.is_empty();
    }
    shown.page = shown.offers.len();
    shown.offers.extend(found.offers.iter().cloned());
    shown.more = found.more;
    let nearest = shown.nearest;
    let offers = found
        .offers
        .iter()
        .enumerate()
        .map(|(i, o)| offer_view(o, first_number + i, nearest.then_some(&query), t))
        .collect::<Result<Vec<_>, _>>()?;
    let text = t.say(&r::Offers {
        search: ask::search_view(&query, state, t)?,
        offers,
        more: found.more,
        continued: continuing,
        nearest,
    })?;
    Ok(reply_with(text, offer_buttons(t, state)?))
}

/// Nothing found, not even near the query: a manager takes the request (once per query),
/// and the customer is told what happens next and when.
fn nothing_found(
    state: &mut DialogState,
    query: SearchQuery,
    t: &Talk<'_>,
) -> Result<TurnOutcome, TemplateError> {
    state.shown = None;
    let again = state.nothing_found.as_ref() == Some(&query);
    let text = t.say(&r::NoOffers {
        search: ask::search_view(&query, state, t)?,
        cheaper: query.budget_max.is_some(),
        manager: !again,
    })?;
    let mut outcome = reply(text);
    if !again {
        outcome.events.push(escalate(
            state,
            EscalationReason::NothingFound,
            EscalationDetails {
                query: Some(query.clone()),
                ..EscalationDetails::default()
            },
        ));
    }
    state.nothing_found = Some(query);
    Ok(outcome)
}

/// The operator does not have a value of the search: forget it, so the next answer replaces
/// it, and say what exists instead.
fn not_offered(
    state: &mut DialogState,
    field: SearchField,
    value: &str,
    alternatives: Vec<String>,
    t: &Talk<'_>,
) -> Result<TurnOutcome, TemplateError> {
    let (name, need) = match field {
        SearchField::DepartureCity => {
            state.slots.departure_city = None;
            ("departure_city", Some(Need::DepartureCity))
        }
        // The operator flies to a country we sell, but not from this city: the city is what
        // is not offered (never the other countries it suggests instead).
        SearchField::Country
            if super::scope::sold(t.ctx, value) && state.slots.departure_city.is_some() =>
        {
            let city = state.slots.departure_city.take().unwrap_or_default();
            state.awaiting = vec![Need::DepartureCity];
            return Ok(reply(
                t.say(&r::NotOffered {
                    field: "departure_city",
                    value: names::place(&city, t.lang),
                    alternatives: t
                        .ctx
                        .departures
                        .iter()
                        .map(|c| names::place(c, t.lang))
                        .collect(),
                })?,
            ));
        }
        SearchField::Country | SearchField::Resort => {
            state.slots.resort = None;
            state.resorts_also.clear();
            state.hotels.clear();
            if field == SearchField::Country {
                state.slots.country = None;
            }
            let name = if field == SearchField::Country {
                "country"
            } else {
                "resort"
            };
            (name, Some(Need::Destination))
        }
        SearchField::Dates => {
            state.slots.date_from = None;
            state.slots.date_to = None;
            ("dates", Some(Need::Dates))
        }
        SearchField::Meal => {
            state.slots.meal = None;
            ("meal", None)
        }
        SearchField::Stars => {
            state.slots.stars = None;
            ("stars", None)
        }
        SearchField::Currency => ("currency", None),
    };
    state.awaiting = need.into_iter().collect();
    let place_like = matches!(
        field,
        SearchField::DepartureCity | SearchField::Country | SearchField::Resort
    );
    let local = |v: &str| {
        if place_like {
            names::place(v, t.lang)
        } else {
            v.to_owned()
        }
    };
    // Other countries the operator has are not offered unless they are sold.
    let alternatives = alternatives
        .iter()
        .filter(|a| {
            field != SearchField::Country
                || names::canonical(a).is_some_and(|c| super::scope::sold(t.ctx, c))
        })
        .map(|a| local(a))
        .collect();
    Ok(reply(t.say(&r::NotOffered {
        field: name,
        value: local(value),
        alternatives,
    })?))
}

/// "Ещё": the next page, or that there is no more.
pub(super) fn more(state: &mut DialogState, t: &Talk<'_>) -> Result<Step, TemplateError> {
    match &state.shown {
        Some(s) if s.more => Ok(Step::Search {
            query: s.query.clone(),
            page: PageRequest {
                offset: s.offers.len(),
                limit: t.ctx.page_size,
            },
        }),
        Some(_) => Ok(Step::Reply(reply_with(
            t.say(&r::NoMoreOffers {})?,
            vec![t.manager_button()?],
        ))),
        None => nothing_to_choose(state, "more", None, t),
    }
}

/// "Подешевле": the cheapest shown is the cheapest there is under these filters, so relax
/// them and look for offers below it, cheapest first.
pub(super) fn cheaper(state: &mut DialogState, t: &Talk<'_>) -> Result<Step, TemplateError> {
    let Some(s) = &state.shown else {
        return nothing_to_choose(state, "cheaper", None, t);
    };
    let Some(cheapest) = s.offers.iter().min_by_key(|o| o.price) else {
        return nothing_to_choose(state, "cheaper", None, t);
    };
    // The cheapest first with the filters relaxed; what is below the cheapest shown answers.
    let limit = cheapest.price;
    let mut query = s.query.clone();
    query.stars = None;
    query.meal = None;
    query.sort = SortOrder::PriceAsc;
    state.cheaper = Some(limit);
    Ok(super::search(query, t.ctx))
}

/// Nothing cheaper than the offers on screen: the cheapest of them, and the list stays.
fn no_cheaper(state: &mut DialogState, t: &Talk<'_>) -> Result<TurnOutcome, TemplateError> {
    let Some(shown) = &state.shown else {
        return Ok(reply(t.say(&r::NoMoreOffers {})?));
    };
    let cheapest = shown
        .offers
        .iter()
        .enumerate()
        .min_by_key(|(_, o)| o.price)
        .map(|(i, o)| offer_view(o, i + 1, None, t))
        .transpose()?;
    let party = ask::party_view(&shown.query);
    Ok(reply_with(
        t.say(&r::NoCheaper { cheapest, party })?,
        offer_buttons(t, state)?,
    ))
}

/// "Забронировать N" for each offer on screen, "ещё", "менеджер".
pub(super) fn offer_buttons(
    t: &Talk<'_>,
    state: &DialogState,
) -> Result<Vec<Button>, TemplateError> {
    let Some(shown) = &state.shown else {
        return Ok(Vec::new());
    };
    let mut buttons = Vec::new();
    for n in 1..=shown.offers.len() {
        buttons.push(t.button(
            &r::ButtonBook { n },
            &format!("{}{n}", super::actions::BOOK),
        )?);
    }
    if shown.more {
        buttons.push(t.button(&r::ButtonMore {}, super::actions::MORE)?);
    }
    buttons.push(t.manager_button()?);
    Ok(buttons)
}

/// A hotel's name without the category it may end in, and that category: "Jade Heron
/// Seaside Inn 3*" → ("Jade Heron Seaside Inn", 3). Forms: `3*`, `3 *`, `4*+`, `(5*)`,
/// `*****`, `3 stars`, `3 звезды`.
pub(crate) fn split_category(name: &str) -> (String, Option<u8>) {
    let words: Vec<&str> = name.split_whitespace().collect();
    let digit = |s: &str| -> Option<u8> {
        let d: u8 = s.parse().ok()?;
        (1..=5).contains(&d).then_some(d)
    };
    let parse_last = |words: &[&str]| -> Option<(usize, u8)> {
        let last = words
            .last()?
            .trim_matches(|c| c == '(' || c == ')' || c == '[' || c == ']');
        let n = words.len();
        // "3*", "4*+", "3*****"
        let core = last.trim_end_matches('+');
        if let Some(d) = core.strip_suffix('*').map(|s| s.trim_end_matches('*'))
            && let Some(d) = digit(d)
        {
            return Some((n - 1, d));
        }
        // "3 *", "3 stars", "3 звезды"
        let unit = core.to_lowercase();
        if n >= 2
            && (unit == "*"
                || unit.starts_with("star")
                || unit.starts_with("звезд")
                || unit.starts_with("жұлдыз"))
            && let Some(d) = digit(words[n - 2].trim_start_matches('('))
        {
            return Some((n - 2, d));
        }
        // "*****"
        if core.len() >= 2 && core.len() <= 5 && core.chars().all(|c| c == '*') {
            return Some((n - 1, core.len() as u8));
        }
        None
    };
    match parse_last(&words) {
        Some((cut, stars)) if cut > 0 => {
            let bare = words[..cut].join(" ");
            let bare = bare.trim_end_matches([',', '-', '–']).trim().to_owned();
            (bare, Some(stars))
        }
        _ => (name.trim().to_owned(), None),
    }
}

/// An offer as templates see it: numbers formatted, names localised, the category printed
/// once. With `query`, what differs from it (the nearest offers).
pub(super) fn offer_view(
    o: &Offer,
    n: usize,
    query: Option<&SearchQuery>,
    t: &Talk<'_>,
) -> Result<OfferView, TemplateError> {
    let (availability, seats) = match o.availability {
        Availability::Available => ("available", None),
        Availability::SeatsLeft { seats } => ("seats_left", Some(seats)),
        Availability::OnRequest => ("on_request", None),
    };
    let (hotel, named_stars) = split_category(&o.hotel);
    let back = o
        .check_in
        .checked_add_days(chrono::Days::new(u64::from(o.nights)))
        .unwrap_or(o.check_in);
    Ok(OfferView {
        n,
        hotel,
        stars: o.stars.or(named_stars),
        resort: names::place(&o.resort, t.lang),
        check_in: o.check_in.format("%d.%m.%Y").to_string(),
        back: back.format("%d.%m.%Y").to_string(),
        nights: o.nights,
        meal: ask::meal_words(&o.meal, t)?,
        room: o.room.clone(),
        price: names::money(o.price, &o.currency),
        availability,
        seats,
        differs: match query {
            Some(q) => differences(o, q, t)?,
            None => Vec::new(),
        },
    })
}

/// Meal plans from least to most: an offer with more than asked does not differ for the worse.
fn meal_rank(code: &str) -> Option<u8> {
    Some(match code.to_ascii_uppercase().as_str() {
        "RO" | "OB" | "AO" => 0,
        "BB" => 1,
        "HB" => 2,
        "FB" => 3,
        "AI" => 4,
        "UAI" => 5,
        _ => return None,
    })
}

/// How a nearest offer differs from what was asked, by comparing it with the query.
fn differences(o: &Offer, q: &SearchQuery, t: &Talk<'_>) -> Result<Vec<Difference>, TemplateError> {
    let mut out = Vec::new();
    if o.check_in < q.date_from || o.check_in > q.date_to {
        out.push(Difference {
            kind: "date",
            asked: names::days(q.date_from, q.date_to, t.lang),
            offered: names::day(o.check_in, t.lang),
        });
    }
    if o.nights < q.nights_from || o.nights > q.nights_to {
        out.push(Difference {
            kind: "nights",
            asked: if q.nights_from == q.nights_to {
                q.nights_from.to_string()
            } else {
                format!("{}–{}", q.nights_from, q.nights_to)
            },
            offered: o.nights.to_string(),
        });
    }
    let stars = o.stars.or(split_category(&o.hotel).1);
    if let (Some(asked), Some(got)) = (q.stars, stars)
        && got < asked
    {
        out.push(Difference {
            kind: "stars",
            asked: asked.to_string(),
            offered: got.to_string(),
        });
    }
    if let Some(asked) = &q.meal
        && !asked.eq_ignore_ascii_case(&o.meal)
    {
        let worse = match (meal_rank(asked), meal_rank(&o.meal)) {
            (Some(a), Some(g)) => g < a,
            _ => true,
        };
        if worse {
            out.push(Difference {
                kind: "meal",
                asked: ask::meal_words(asked, t)?,
                offered: ask::meal_words(&o.meal, t)?,
            });
        }
    }
    if !q.resorts.is_empty() {
        let resort = names::canonical(&o.resort).unwrap_or(o.resort.as_str());
        if !q.resorts.iter().any(|r| r.eq_ignore_ascii_case(resort)) {
            out.push(Difference {
                kind: "resort",
                asked: ask::either(&q.resorts, t),
                offered: names::place(&o.resort, t.lang),
            });
        }
    }
    if !q.hotels.is_empty()
        && !q.hotels.iter().any(|h| {
            split_category(h)
                .0
                .eq_ignore_ascii_case(&split_category(&o.hotel).0)
        })
    {
        out.push(Difference {
            kind: "hotel",
            asked: q.hotels.join(", "),
            offered: split_category(&o.hotel).0,
        });
    }
    if let Some(budget) = q.budget_max
        && o.price > budget
    {
        let currency = q.budget_currency.as_deref().unwrap_or("KZT");
        out.push(Difference {
            kind: "budget",
            asked: names::money(budget, currency),
            offered: if currency.eq_ignore_ascii_case(&o.currency) {
                names::money(o.price - budget, &o.currency)
            } else {
                String::new()
            },
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_category_is_taken_off_the_name_once() {
        for (name, bare, stars) in [
            (
                "Jade Heron Seaside Inn 3*",
                "Jade Heron Seaside Inn",
                Some(3),
            ),
            ("Red Dune Resort 4 *", "Red Dune Resort", Some(4)),
            ("Galina Hotel & Spa 4*+", "Galina Hotel & Spa", Some(4)),
            ("Sunrise (5*)", "Sunrise", Some(5)),
            ("Mia Resort *****", "Mia Resort", Some(5)),
            ("Amiana 5 stars", "Amiana", Some(5)),
            ("Hotel 1", "Hotel 1", None),
            ("Villa 3", "Villa 3", None),
            ("5*", "5*", None),
        ] {
            assert_eq!(split_category(name), (bare.to_owned(), stars), "{name}");
        }
    }
}
