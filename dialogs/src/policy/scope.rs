//! What the agency does not sell gets an honest answer and is never recorded as a search
//! parameter: a country outside the sold list ("в Таиланд туры есть?" → not "Записал:
//! Таиланд"), a departure city without flights, plane tickets or a hotel alone, and a trip
//! already bought (a manager's matter).

use super::{Context, Step, Talk, escalate, reply, reply_step, their_words};
use crate::analysis::{OutOfScope, Slots, folded_words};
use crate::names;
use crate::replies as r;
use crate::search::{SearchFailure, SearchField};
use crate::state::{DialogState, Need};
use crate::templates::TemplateError;
use crate::turn::{EscalationReason, TurnInput};

/// A value of the message that is not sold, taken out of what is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Refused {
    Country(String),
    /// A city without flights, and the cities that have them (operator's or canonical names).
    DepartureCity {
        city: String,
        alternatives: Vec<String>,
    },
}

/// Resorts suggested when Vietnam is sold and the customer asked for elsewhere.
const VIETNAM_RESORTS: [&str; 4] = ["Nha Trang", "Phu Quoc", "Da Nang", "Phan Thiet"];

/// Is `country` (canonical) sold?
pub(super) fn sold(ctx: &Context<'_>, country: &str) -> bool {
    ctx.sold_countries
        .iter()
        .any(|c| c.eq_ignore_ascii_case(country))
}

/// Takes an unsold country (with its resort) or a departure city without flights out of
/// `said`, and says which: by the sold countries and known departure cities, or by what the
/// caller learnt of the route (`TurnInput::route`).
pub(super) fn refuse_unsold(
    said: &mut Slots,
    input: &TurnInput,
    ctx: &Context<'_>,
) -> Option<Refused> {
    if let Some(country) = said.country.clone()
        && !sold(ctx, &country)
    {
        said.country = None;
        said.resort = None;
        return Some(Refused::Country(country));
    }
    if let Some(city) = said.departure_city.clone()
        && !ctx.departures.is_empty()
        && !ctx.departures.iter().any(|d| d.eq_ignore_ascii_case(&city))
    {
        said.departure_city = None;
        return Some(Refused::DepartureCity {
            city,
            alternatives: ctx.departures.to_vec(),
        });
    }
    match &input.route {
        Some(SearchFailure::NotOffered {
            field: SearchField::DepartureCity,
            value,
            alternatives,
        }) => {
            let city = said.departure_city.take().unwrap_or_else(|| value.clone());
            Some(Refused::DepartureCity {
                city,
                alternatives: alternatives.clone(),
            })
        }
        Some(SearchFailure::NotOffered {
            field: SearchField::Country,
            value,
            ..
        }) => {
            said.resort = None;
            let country = said.country.take().unwrap_or_else(|| value.clone());
            Some(Refused::Country(country))
        }
        _ => None,
    }
}

/// "Да, давайте" to "…подобрать во Вьетнаме?": the first sold country.
pub(super) fn agrees(text: &str) -> bool {
    const YES: &[&str] = &[
        "да",
        "давайте",
        "давай",
        "ок",
        "ok",
        "okay",
        "окей",
        "yes",
        "yeah",
        "sure",
        "иа",
        "ия",
        "жарайды",
        "хорошо",
        "можно",
        "конечно",
        "го",
        "please",
        "пожалуйста",
        "ага",
        "угу",
        "вьетнам",
        "vietnam",
    ];
    let words = folded_words(text);
    !words.is_empty() && words.len() <= 4 && words.iter().all(|w| YES.contains(&w.as_str()))
}

/// The contact details of a message, the only thing kept from an out-of-scope one.
pub(super) fn contact_only(said: &Slots, input: &TurnInput) -> Slots {
    Slots {
        phone: said.phone.clone().or_else(|| input.customer_phone.clone()),
        email: said.email.clone(),
        name: said.name.clone(),
        ..Slots::default()
    }
}

/// Not a package tour, or a trip already bought.
pub(super) fn out_of_scope(
    state: &mut DialogState,
    scope: OutOfScope,
    input: &TurnInput,
    t: &Talk<'_>,
) -> Result<Step, TemplateError> {
    match scope {
        OutOfScope::ExistingBooking => {
            let need_phone = state.slots.phone.is_none();
            let mut outcome = reply(t.say(&r::ExistingBooking { need_phone })?);
            outcome.events.push(escalate(
                state,
                EscalationReason::ExistingBooking,
                their_words(input),
            ));
            Ok(Step::Reply(outcome))
        }
        OutOfScope::FlightsOnly | OutOfScope::HotelOnly => {
            let scope = if scope == OutOfScope::FlightsOnly {
                "flights_only"
            } else {
                "hotel_only"
            };
            Ok(reply_step(t.say(&r::NotPackage { scope })?))
        }
    }
}

/// A destination that is not sold: said honestly, with what is.
pub(super) fn not_sold(
    state: &mut DialogState,
    country: &str,
    input: &TurnInput,
    t: &Talk<'_>,
) -> Result<Step, TemplateError> {
    let ctx = t.ctx;
    // The place as the customer named it when it is the better known: Bali, not Indonesia.
    let words = folded_words(&input.text);
    let named = if country == "Indonesia" && words.iter().any(|w| w == "бали" || w == "bali") {
        "Bali"
    } else {
        country
    };
    let resorts = if sold(ctx, "Vietnam") {
        VIETNAM_RESORTS
            .iter()
            .map(|r| names::place(r, t.lang))
            .collect()
    } else {
        Vec::new()
    };
    if state.slots.country.is_none() && state.slots.resort.is_none() {
        state.awaiting = vec![Need::Destination];
    }
    let mut context = r::NotSold {
        country: names::place(named, t.lang),
        sold: ctx
            .sold_countries
            .iter()
            .map(|c| names::place(c, t.lang))
            .collect(),
        resorts,
        again: false,
    };
    let text = t.say(&context)?;
    if !state.recent.contains(&super::fingerprint(&text)) {
        return Ok(reply_step(text));
    }
    // Another place of the same country ("а на Пхукет?"): still an honest answer about it.
    context.again = true;
    Ok(reply_step(t.say(&context)?))
}

/// A departure city without flights: said, with the cities that have them.
pub(super) fn no_departures(
    state: &mut DialogState,
    city: &str,
    alternatives: &[String],
    t: &Talk<'_>,
) -> Result<Step, TemplateError> {
    state.awaiting = vec![Need::DepartureCity];
    Ok(reply_step(
        t.say(&r::NotOffered {
            field: "departure_city",
            value: names::place(city, t.lang),
            alternatives: alternatives
                .iter()
                .map(|c| names::place(c, t.lang))
                .collect(),
        })?,
    ))
}
