//! The dialog policy: what the bot does with one message, as a pure function of what the
//! conversation remembers ([`DialogState`]) and what the message says ([`Analysis`]).
//!
//! A turn has at most two steps, because a tour search is I/O and this crate does none:
//!
//! 1. [`decide`] reads the message and either finishes the turn ([`Step::Reply`]), asks the
//!    caller to search ([`Step::Search`]), or offers the caller a free-form answer by the LLM
//!    with a template fallback ([`Step::FreeForm`]).
//! 2. After a search, [`present`] turns the offers (or the failure) into replies.
//!
//! The search needs five things: departure city, destination, departure window, nights and
//! party (adults, and children's ages when there are children). Budget, stars and meal are
//! optional filters. What is missing is asked for, two things at a time. What the customer
//! said is kept across messages, and a change ("а если в апреле?", "а с завтраками?")
//! searches again. "Ещё" pages, "подешевле" relaxes the filters under a lower budget, and a
//! chosen offer ("бронируем второй", a button) goes to a manager with all the parameters.
//!
//! Every sentence comes from a template (`prompts/replies/<lang>/<name>.j2`).

use crate::analysis::{Analysis, Intent, Language, Slots};
use crate::faq::Faq;
use crate::hours::Office;
use crate::names;
use crate::search::{
    Availability, Offer, OfferPage, PageRequest, SearchFailure, SearchField, SearchQuery, SortOrder,
};
use crate::state::{DialogState, Need, Shown};
use crate::templates::{TemplateError, Templates};
use crate::turn::{Button, DialogEvent, EscalationReason, Reply, TurnInput, TurnOutcome};
use serde_json::{Value, json};

/// Button actions (Telegram callback data). The labels come from templates.
pub mod actions {
    /// Show the next offers.
    pub const MORE: &str = "more";
    /// Bring a manager in.
    pub const MANAGER: &str = "manager";
    /// Prefix of "book offer N" (`book:2`).
    pub const BOOK: &str = "book:";
    /// Not a button: the customer opened the chat (Telegram `/start`).
    pub const START: &str = "start";
    /// Not a button: the customer shared their contact (the phone is in
    /// [`TurnInput::customer_phone`](crate::turn::TurnInput::customer_phone)).
    pub const CONTACT: &str = "contact";
}

/// Messages in a row the bot may fail to understand before it brings a manager in.
const NOT_UNDERSTOOD_LIMIT: u32 = 2;

/// What the policy needs besides the state and the message.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub templates: &'a Templates,
    pub faq: &'a Faq,
    /// Offers per page (top 5 by default).
    pub page_size: usize,
    /// Words or phrases an admin configured that bring a manager in at once (lower case).
    pub keywords: &'a [String],
}

/// The first step of a turn.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// The turn is decided.
    Reply(TurnOutcome),
    /// Search tours, then call [`present`] with the result.
    Search {
        query: SearchQuery,
        page: PageRequest,
    },
    /// No template answers this message well: the caller may have the LLM phrase an answer
    /// (in `language`); otherwise, or when it fails, `fallback` is the turn.
    FreeForm {
        language: Language,
        fallback: TurnOutcome,
    },
}

/// Reads one message and decides the turn, updating `state` in place.
pub fn decide(
    state: &mut DialogState,
    analysis: &Analysis,
    input: &TurnInput,
    ctx: &Context<'_>,
) -> Result<Step, TemplateError> {
    let first = state.turns == 0;
    state.turns += 1;
    // A button's data ("more", "book:2") says nothing about the customer's language.
    if (analysis.language_sure && input.action.is_none()) || state.language.is_none() {
        state.language = Some(code(analysis.language).to_owned());
    }
    let t = Talk {
        ctx,
        lang: state.language.clone().unwrap_or_else(|| "ru".into()),
        office: input.office.clone().unwrap_or_else(Office::always_open),
    };

    let mut said = analysis.slots.clone();
    fill_bare_answer(&input.text, &state.awaiting, &mut said);
    if said.phone.is_none() {
        said.phone = input.customer_phone.clone();
    }
    let before = state.slots.clone();
    state.slots.merge(&said);
    let changed = search_changed(&before, &state.slots);
    let awaited = std::mem::take(&mut state.awaiting);

    // Buttons first: they say exactly what the customer wants.
    match input.action.as_deref() {
        Some(actions::START) => {
            return Ok(Step::Reply(reply(
                t.say("greeting", json!({ "again": !first }))?,
            )));
        }
        Some(actions::CONTACT) => {
            let mut outcome = reply(t.say(
                "contact_thanks",
                json!({ "booked": !state.booked.is_empty() }),
            )?);
            if state.booked.is_empty() && !missing(&state.slots).is_empty() {
                outcome.replies.push(ask(state, &t, None)?);
            }
            return Ok(Step::Reply(outcome));
        }
        Some(actions::MORE) => return more(state, &t),
        Some(actions::MANAGER) => return human(state, input, &t, EscalationReason::HumanRequest),
        Some(a) if a.starts_with(actions::BOOK) => {
            if let Ok(n) = a[actions::BOOK.len()..].parse::<u32>() {
                return book(state, n, input, &t);
            }
        }
        _ => {}
    }

    // What the channel knows (the WhatsApp phone) is not something the customer said.
    // Words an admin chose always bring a manager in.
    if !ctx.keywords.is_empty() {
        let folded = input.text.to_lowercase().replace('ё', "е");
        if ctx
            .keywords
            .iter()
            .any(|k| !k.is_empty() && folded.contains(k.as_str()))
        {
            return human(state, input, &t, EscalationReason::Keyword);
        }
    }

    let understood = analysis.intent != Intent::Other
        || !analysis.slots.is_empty()
        || changed
        || has_hint(analysis);
    if understood {
        state.not_understood = 0;
    }
    match analysis.intent {
        Intent::HumanRequest => return human(state, input, &t, EscalationReason::HumanRequest),
        Intent::Complaint => return human(state, input, &t, EscalationReason::Complaint),
        Intent::Faq => {
            if let Some(answer) = ctx.faq.answer(&input.text, language(&t.lang)) {
                let mut replies = vec![Reply::text(answer.text)];
                if !awaited.is_empty() {
                    // Still mid-search: remind the customer what we were waiting for.
                    replies.push(ask(state, &t, Some(awaited.clone()))?);
                }
                return Ok(Step::Reply(TurnOutcome {
                    replies,
                    events: Vec::new(),
                }));
            }
            return Ok(Step::FreeForm {
                language: language(&t.lang),
                fallback: reply(t.say("faq_unknown", json!({}))?),
            });
        }
        Intent::ThanksBye if !changed => {
            return Ok(Step::Reply(reply(
                t.say("thanks", json!({ "booked": !state.booked.is_empty() }))?,
            )));
        }
        Intent::Greeting if !changed => {
            return Ok(Step::Reply(reply(
                t.say("greeting", json!({ "again": !first }))?,
            )));
        }
        _ => {}
    }

    let shown = state.shown.is_some();
    // Under a list of offers, a bare "2" (or "№2") picks one.
    let choice = analysis.hints.choice.or_else(|| {
        let t = input.text.trim().trim_start_matches(['№', '#']).trim();
        t.parse::<u32>().ok().filter(|n| (1..=100).contains(n))
    });
    if let Some(n) = choice
        && shown
        && !changed
    {
        return book(state, n, input, &t);
    }
    // "Хочу забронировать тур" with nothing shown yet: find one first (below).
    if analysis.intent == Intent::BookingRequest && !changed && shown {
        let count = state.shown.as_ref().map_or(0, |s| s.offers.len());
        return Ok(Step::Reply(reply_with(
            t.say("which_offer", json!({ "count": count }))?,
            offer_buttons(&t, state)?,
        )));
    }
    if analysis.hints.more && shown && !changed {
        return more(state, &t);
    }
    if analysis.hints.cheaper
        && !changed
        && let Some(s) = &state.shown
        && let Some(cheapest) = s.offers.iter().min_by_key(|o| o.price)
    {
        // The cheapest shown is the cheapest there is under these filters: relax them and
        // look below it.
        let mut query = s.query.clone();
        query.budget_max = Some(cheapest.price.saturating_sub(1));
        query.budget_currency = Some(cheapest.currency.clone());
        query.stars = None;
        query.meal = None;
        query.sort = SortOrder::PriceAsc;
        state.slots.stars = None;
        state.slots.meal = None;
        return Ok(search(query, ctx));
    }

    if !understood && !changed {
        // A question the analyser could not place may still be one the FAQ answers.
        if let Some(answer) = ctx.faq.answer(&input.text, language(&t.lang)) {
            return Ok(Step::Reply(reply(answer.text.to_owned())));
        }
        state.not_understood += 1;
        let mut fallback = reply(t.say(
            "not_understood",
            json!({ "attempt": state.not_understood, "first": first }),
        )?);
        if state.not_understood >= NOT_UNDERSTOOD_LIMIT {
            state.not_understood = 0;
            fallback.events.push(escalate(
                state,
                EscalationReason::NotUnderstood,
                json!({ "text": input.text }),
            ));
        }
        return Ok(Step::FreeForm {
            language: language(&t.lang),
            fallback,
        });
    }

    let missing = missing(&state.slots);
    if missing.is_empty() {
        let query = query_from(&state.slots, state.shown.as_ref());
        return Ok(search(query, ctx));
    }
    Ok(Step::Reply(TurnOutcome {
        replies: vec![ask(state, &t, None)?],
        events: Vec::new(),
    }))
}

/// Turns a search result into the replies of the turn, updating `state`.
pub fn present(
    state: &mut DialogState,
    query: SearchQuery,
    page: PageRequest,
    result: Result<OfferPage, SearchFailure>,
    office: Option<Office>,
    ctx: &Context<'_>,
) -> Result<TurnOutcome, TemplateError> {
    let t = Talk {
        ctx,
        lang: state.language.clone().unwrap_or_else(|| "ru".into()),
        office: office.unwrap_or_else(Office::always_open),
    };
    match result {
        Ok(found) if found.offers.is_empty() => {
            if page.offset > 0 {
                if let Some(s) = &mut state.shown {
                    s.more = false;
                }
                return Ok(reply_with(
                    t.say("no_more_offers", json!({}))?,
                    vec![t.button("button_manager", json!({}), actions::MANAGER)?],
                ));
            }
            state.shown = None;
            Ok(reply_with(
                t.say(
                    "no_offers",
                    json!({ "search": summary(&query, &t.lang), "cheaper": query.budget_max.is_some() }),
                )?,
                vec![t.button("button_manager", json!({}), actions::MANAGER)?],
            ))
        }
        Ok(found) => {
            let continuing = page.offset > 0
                && state
                    .shown
                    .as_ref()
                    .is_some_and(|s| s.query == query && s.offers.len() == page.offset);
            let first_number = if continuing { page.offset + 1 } else { 1 };
            let shown = state.shown.get_or_insert_with(|| Shown {
                query: query.clone(),
                offers: Vec::new(),
                more: false,
            });
            if !continuing {
                shown.query = query.clone();
                shown.offers.clear();
            }
            shown.offers.extend(found.offers.iter().cloned());
            shown.more = found.more;
            let offers = found
                .offers
                .iter()
                .enumerate()
                .map(|(i, o)| offer_view(o, first_number + i, &t))
                .collect::<Result<Vec<Value>, _>>()?;
            let text = t.say(
                "offers",
                json!({
                    "search": summary(&query, &t.lang),
                    "offers": offers,
                    "more": found.more,
                    "continued": continuing,
                }),
            )?;
            Ok(reply_with(text, offer_buttons(&t, state)?))
        }
        Err(SearchFailure::NotOffered {
            field,
            value,
            alternatives,
        }) => {
            // Forget the value the operator does not have, so the next answer replaces it.
            let need = match field {
                SearchField::DepartureCity => {
                    state.slots.departure_city = None;
                    Some(Need::DepartureCity)
                }
                SearchField::Country | SearchField::Resort => {
                    state.slots.resort = None;
                    if field == SearchField::Country {
                        state.slots.country = None;
                    }
                    Some(Need::Destination)
                }
                SearchField::Dates => {
                    state.slots.date_from = None;
                    state.slots.date_to = None;
                    Some(Need::Dates)
                }
                SearchField::Meal => {
                    state.slots.meal = None;
                    None
                }
                SearchField::Stars => {
                    state.slots.stars = None;
                    None
                }
                SearchField::Currency => None,
            };
            state.awaiting = need.into_iter().collect();
            let shown_value = names::place(&value, &t.lang);
            Ok(reply(t.say(
                "not_offered",
                json!({
                    "field": field,
                    "value": shown_value,
                    "alternatives": alternatives,
                }),
            )?))
        }
        Err(SearchFailure::Unavailable { cause }) => {
            let mut outcome = reply(t.say("search_unavailable", json!({}))?);
            outcome.events.push(escalate(
                state,
                EscalationReason::SearchUnavailable,
                json!({ "query": query, "error": cause }),
            ));
            Ok(outcome)
        }
    }
}

/// The reply of a turn whose message could not be handled at all (it failed twice): an
/// apology, with a manager brought in.
pub fn apology(lang: Option<&str>, templates: &Templates) -> Result<Reply, TemplateError> {
    Ok(Reply::text(templates.render(
        lang.unwrap_or("ru"),
        "sorry",
        json!({}),
    )?))
}

/// Renders replies in the conversation's language. Every template also sees `office`: whether
/// managers are at work, and if not when they will be.
struct Talk<'a> {
    ctx: &'a Context<'a>,
    lang: String,
    office: Office,
}

impl Talk<'_> {
    fn say(&self, name: &str, mut data: Value) -> Result<String, TemplateError> {
        if let Some(map) = data.as_object_mut() {
            map.insert("office".into(), json!(self.office));
        }
        self.ctx.templates.render(&self.lang, name, data)
    }

    fn button(&self, name: &str, data: Value, action: &str) -> Result<Button, TemplateError> {
        Ok(Button {
            label: self.say(name, data)?,
            action: action.to_owned(),
        })
    }
}

fn reply(text: String) -> TurnOutcome {
    reply_with(text, Vec::new())
}

fn reply_with(text: String, buttons: Vec<Button>) -> TurnOutcome {
    TurnOutcome {
        replies: vec![Reply { text, buttons }],
        events: Vec::new(),
    }
}

fn search(query: SearchQuery, ctx: &Context<'_>) -> Step {
    Step::Search {
        query,
        page: PageRequest {
            offset: 0,
            limit: ctx.page_size,
        },
    }
}

fn more(state: &mut DialogState, t: &Talk<'_>) -> Result<Step, TemplateError> {
    match &state.shown {
        Some(s) if s.more => Ok(Step::Search {
            query: s.query.clone(),
            page: PageRequest {
                offset: s.offers.len(),
                limit: t.ctx.page_size,
            },
        }),
        Some(_) => Ok(Step::Reply(reply_with(
            t.say("no_more_offers", json!({}))?,
            vec![t.button("button_manager", json!({}), actions::MANAGER)?],
        ))),
        None => Ok(Step::Reply(TurnOutcome {
            replies: vec![ask(state, t, None)?],
            events: Vec::new(),
        })),
    }
}

/// A chosen offer: a booking request for a manager, with the offer and every parameter.
fn book(
    state: &mut DialogState,
    n: u32,
    input: &TurnInput,
    t: &Talk<'_>,
) -> Result<Step, TemplateError> {
    let Some(shown) = &state.shown else {
        return Ok(Step::Reply(TurnOutcome {
            replies: vec![ask(state, t, None)?],
            events: Vec::new(),
        }));
    };
    let Some(offer) = (n as usize)
        .checked_sub(1)
        .and_then(|i| shown.offers.get(i))
        .cloned()
    else {
        let count = shown.offers.len();
        return Ok(Step::Reply(reply_with(
            t.say("which_offer", json!({ "count": count }))?,
            offer_buttons(t, state)?,
        )));
    };
    let query = shown.query.clone();
    let again = state.booked.contains(&offer.id);
    if !again {
        state.booked.push(offer.id.clone());
    }
    let need_phone = state.slots.phone.is_none();
    let text = t.say(
        "booking",
        json!({
            "offer": offer_view(&offer, n as usize, t)?,
            "need_phone": need_phone,
            "again": again,
        }),
    )?;
    let mut outcome = reply(text);
    if !again {
        outcome.events.push(escalate(
            state,
            EscalationReason::BookingRequest,
            json!({ "offer": offer, "query": query, "text": input.text }),
        ));
    }
    Ok(Step::Reply(outcome))
}

/// A request for a person, or a complaint: a manager is brought in.
fn human(
    state: &mut DialogState,
    input: &TurnInput,
    t: &Talk<'_>,
    reason: EscalationReason,
) -> Result<Step, TemplateError> {
    let name = match reason {
        EscalationReason::Complaint => "complaint",
        _ => "human",
    };
    let text = t.say(name, json!({ "need_phone": state.slots.phone.is_none() }))?;
    let mut outcome = reply(text);
    outcome
        .events
        .push(escalate(state, reason, json!({ "text": input.text })));
    Ok(Step::Reply(outcome))
}

/// An escalation carrying what a manager needs: the customer's words, the trip so far, and
/// the reason-specific `extra` (offer, query, error).
fn escalate(state: &DialogState, reason: EscalationReason, extra: Value) -> DialogEvent {
    let mut details = json!({
        "language": state.language,
        "slots": state.slots,
    });
    if let (Some(d), Some(e)) = (details.as_object_mut(), extra.as_object()) {
        d.extend(e.clone());
    }
    DialogEvent::Escalate { reason, details }
}

/// Asks for what is missing, at most two things, and remembers what was asked. `only`
/// repeats an earlier question.
fn ask(
    state: &mut DialogState,
    t: &Talk<'_>,
    only: Option<Vec<Need>>,
) -> Result<Reply, TemplateError> {
    let mut needs = only.unwrap_or_else(|| missing(&state.slots));
    needs.truncate(2);
    state.awaiting = needs.clone();
    let s = &state.slots;
    let known = json!({
        "destination": destination(s).map(|d| names::place(&d, &t.lang)),
        "departure_city": s.departure_city.as_deref().map(|c| names::place(c, &t.lang)),
        "dates": window(s.date_from, s.date_to),
        "nights": nights(s.nights_from, s.nights_to),
        "adults": s.adults,
        "children": s.children.filter(|c| *c > 0),
        "child_ages": s.child_ages,
        "budget": s.budget_max.map(|b| names::money(b, s.currency.as_deref().unwrap_or("KZT"))),
        "stars": s.stars,
        "meal": s.meal,
    });
    Ok(Reply::text(t.say(
        "ask",
        json!({ "missing": needs, "known": known, "has_known": !s.is_empty() }),
    )?))
}

/// Required parameters not known yet, in the order they are asked.
fn missing(s: &Slots) -> Vec<Need> {
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

/// The destination as the customer named it: the resort, else the country.
fn destination(s: &Slots) -> Option<String> {
    s.resort.clone().or_else(|| s.country.clone())
}

/// Did anything that changes the search change?
fn search_changed(before: &Slots, after: &Slots) -> bool {
    let strip = |s: &Slots| Slots {
        phone: None,
        email: None,
        name: None,
        ..s.clone()
    };
    strip(before) != strip(after)
}

fn has_hint(a: &Analysis) -> bool {
    a.hints.more || a.hints.cheaper || a.hints.choice.is_some()
}

/// The search for complete slots. A new search starts cheapest first, and keeps the order of
/// the one before it when only the filters changed.
fn query_from(s: &Slots, previous: Option<&Shown>) -> SearchQuery {
    let date_from = s.date_from.expect("checked by missing()");
    let nights_from = s.nights_from.expect("checked by missing()");
    let mut ages = s.child_ages.clone();
    ages.truncate(s.children.unwrap_or(0) as usize);
    SearchQuery {
        departure_city: s.departure_city.clone().expect("checked by missing()"),
        country: s.country.clone().unwrap_or_else(|| "Vietnam".into()),
        resorts: s.resort.clone().into_iter().collect(),
        hotels: Vec::new(),
        date_from,
        date_to: s.date_to.unwrap_or(date_from).max(date_from),
        nights_from,
        nights_to: s.nights_to.unwrap_or(nights_from).max(nights_from),
        adults: s.adults.expect("checked by missing()"),
        child_ages: ages,
        budget_max: s.budget_max,
        budget_currency: s
            .budget_max
            .map(|_| s.currency.clone().unwrap_or_else(|| "KZT".into())),
        stars: s.stars,
        meal: s.meal.clone(),
        sort: previous.map(|p| p.query.sort).unwrap_or_default(),
    }
}

/// A bare answer to what the bot just asked: "10" after "на сколько ночей?", "2" after "сколько
/// вас?", "5 и 8" after the children's ages. Only fills what the analyser left empty.
fn fill_bare_answer(text: &str, awaiting: &[Need], said: &mut Slots) {
    let numbers: Vec<u32> = text
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty() && p.len() <= 3)
        .filter_map(|p| p.parse().ok())
        .collect();
    if numbers.is_empty() || text.chars().filter(|c| c.is_alphabetic()).count() > 12 {
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

fn offer_buttons(t: &Talk<'_>, state: &DialogState) -> Result<Vec<Button>, TemplateError> {
    let Some(shown) = &state.shown else {
        return Ok(Vec::new());
    };
    let mut buttons = Vec::new();
    for n in 1..=shown.offers.len() {
        buttons.push(t.button(
            "button_book",
            json!({ "n": n }),
            &format!("{}{n}", actions::BOOK),
        )?);
    }
    if shown.more {
        buttons.push(t.button("button_more", json!({}), actions::MORE)?);
    }
    buttons.push(t.button("button_manager", json!({}), actions::MANAGER)?);
    Ok(buttons)
}

/// An offer as templates see it: numbers formatted, names localised where we can.
fn offer_view(o: &Offer, n: usize, t: &Talk<'_>) -> Result<Value, TemplateError> {
    let (availability, seats) = match o.availability {
        Availability::Available => ("available", None),
        Availability::SeatsLeft { seats } => ("seats_left", Some(seats)),
        Availability::OnRequest => ("on_request", None),
    };
    Ok(json!({
        "n": n,
        "hotel": o.hotel,
        "stars": o.stars,
        "resort": names::place(&o.resort, &t.lang),
        "check_in": o.check_in.format("%d.%m.%Y").to_string(),
        "nights": o.nights,
        "meal": t.say("meal", json!({ "code": o.meal }))?,
        "room": o.room,
        "price": names::money(o.price, &o.currency),
        "availability": availability,
        "seats": seats,
    }))
}

/// A search's parameters as templates see them.
fn summary(q: &SearchQuery, lang: &str) -> Value {
    json!({
        "destination": destination_of(q, lang),
        "departure_city": names::place(&q.departure_city, lang),
        "dates": window(Some(q.date_from), Some(q.date_to)),
        "nights": nights(Some(q.nights_from), Some(q.nights_to)),
        "adults": q.adults,
        "children": q.child_ages.len(),
        "child_ages": q.child_ages,
        "budget": q.budget_max.map(|b| names::money(b, q.budget_currency.as_deref().unwrap_or("KZT"))),
        "stars": q.stars,
        "meal": q.meal,
    })
}

/// The resorts searched ("Нячанг, Камрань"), else the country, as the customer reads them.
fn destination_of(q: &SearchQuery, lang: &str) -> String {
    if q.resorts.is_empty() {
        return names::place(&q.country, lang);
    }
    q.resorts
        .iter()
        .map(|r| names::place(r, lang))
        .collect::<Vec<_>>()
        .join(", ")
}

fn window(from: Option<chrono::NaiveDate>, to: Option<chrono::NaiveDate>) -> Option<String> {
    let from = from?;
    let f = from.format("%d.%m.%Y").to_string();
    Some(match to {
        Some(to) if to != from => format!("{}–{}", from.format("%d.%m"), to.format("%d.%m.%Y")),
        _ => f,
    })
}

fn nights(from: Option<u32>, to: Option<u32>) -> Option<String> {
    let from = from?;
    Some(match to {
        Some(to) if to != from => format!("{from}–{to}"),
        _ => from.to_string(),
    })
}

fn code(language: Language) -> &'static str {
    match language {
        Language::Ru => "ru",
        Language::Kk => "kk",
        Language::En => "en",
    }
}

fn language(code: &str) -> Language {
    match code {
        "kk" => Language::Kk,
        "en" => Language::En,
        _ => Language::Ru,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::analyze;
    use chrono::NaiveDate;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
    }

    struct Bot {
        state: DialogState,
        templates: Templates,
        faq: Faq,
    }

    fn offer(n: u64) -> Offer {
        Offer {
            id: format!("offer-{n}"),
            hotel: format!("Hotel {n}"),
            hotel_key: None,
            stars: Some(4),
            resort: "Nha Trang".into(),
            check_in: NaiveDate::from_ymd_opt(2027, 3, 2).unwrap(),
            nights: 10,
            meal: "BB".into(),
            room: "Standard".into(),
            price: 500_000 + n * 10_000,
            currency: "KZT".into(),
            availability: Availability::Available,
        }
    }

    impl Bot {
        fn new() -> Self {
            Self {
                state: DialogState::default(),
                templates: Templates::defaults(),
                faq: Faq::defaults(),
            }
        }

        fn step(&mut self, input: TurnInput) -> Step {
            let ctx = Context {
                templates: &self.templates,
                faq: &self.faq,
                page_size: 5,
                keywords: &[],
            };
            let analysis = analyze(&input.text, input.today);
            decide(&mut self.state, &analysis, &input, &ctx).unwrap()
        }

        fn say(&mut self, text: &str) -> Step {
            self.step(TurnInput::text(text, today()))
        }

        /// Runs a whole turn against a search that returns `total` offers.
        fn turn(&mut self, text: &str, total: u64) -> TurnOutcome {
            let step = self.say(text);
            self.finish(step, total)
        }

        fn finish(&mut self, step: Step, total: u64) -> TurnOutcome {
            match step {
                Step::Reply(o) => o,
                Step::FreeForm { fallback, .. } => fallback,
                Step::Search { query, page } => {
                    let all: Vec<Offer> = (1..=total).map(offer).collect();
                    let offers: Vec<Offer> = all
                        .iter()
                        .skip(page.offset)
                        .take(page.limit)
                        .cloned()
                        .collect();
                    let more = page.offset + offers.len() < all.len();
                    let ctx = Context {
                        templates: &self.templates,
                        faq: &self.faq,
                        page_size: 5,
                        keywords: &[],
                    };
                    let found = OfferPage {
                        offers,
                        offset: page.offset,
                        more,
                        widened: Vec::new(),
                    };
                    present(&mut self.state, query, page, Ok(found), None, &ctx).unwrap()
                }
            }
        }
    }

    #[test]
    fn a_complete_request_searches_at_once() {
        let mut bot = Bot::new();
        let Step::Search { query, page } =
            bot.say("Хотим в Нячанг из Алматы в начале марта, 2 взрослых, 10 ночей")
        else {
            panic!("expected a search");
        };
        assert_eq!(query.departure_city, "Almaty");
        assert_eq!(query.resorts, ["Nha Trang"]);
        assert_eq!(query.date_from.to_string(), "2027-03-01");
        assert_eq!(query.date_to.to_string(), "2027-03-10");
        assert_eq!(
            (query.nights_from, query.nights_to, query.adults),
            (10, 10, 2)
        );
        assert_eq!(
            page,
            PageRequest {
                offset: 0,
                limit: 5
            }
        );
    }

    #[test]
    fn missing_parameters_are_asked_two_at_a_time_and_bare_answers_fill_them() {
        let mut bot = Bot::new();
        let out = bot.turn("Хочу в Нячанг", 0);
        assert_eq!(bot.state.awaiting, vec![Need::DepartureCity, Need::Dates]);
        let text = &out.replies[0].text;
        assert!(text.contains("Нячанг"), "{text}");
        assert!(
            text.contains("из какого города") && text.contains("когда"),
            "{text}"
        );
        bot.turn("из Астаны в апреле", 0);
        assert_eq!(bot.state.awaiting, vec![Need::Nights, Need::Party]);
        bot.turn("10", 0);
        assert_eq!(bot.state.slots.nights_from, Some(10));
        assert_eq!(bot.state.awaiting, vec![Need::Party]);
        let step = bot.say("2");
        assert!(matches!(step, Step::Search { ref query, .. } if query.adults == 2));
    }

    #[test]
    fn offers_are_shown_paged_and_booked_with_a_manager() {
        let mut bot = Bot::new();
        let out = bot.turn("Нячанг из Алматы в марте на 10 ночей вдвоём", 12);
        let text = &out.replies[0].text;
        assert!(text.contains("1. Hotel 1 4*"), "{text}");
        assert!(text.contains("5. Hotel 5"), "{text}");
        assert!(!text.contains("Hotel 6"), "{text}");
        assert!(text.contains("510\u{a0}000\u{a0}₸"), "{text}");
        assert!(text.contains("завтраки"), "{text}");
        let actions: Vec<&str> = out.replies[0]
            .buttons
            .iter()
            .map(|b| b.action.as_str())
            .collect();
        assert_eq!(
            actions,
            [
                "book:1", "book:2", "book:3", "book:4", "book:5", "more", "manager"
            ]
        );

        let out = bot.turn("ещё", 12);
        let text = &out.replies[0].text;
        assert!(
            text.contains("6. Hotel 6") && text.contains("10. Hotel 10"),
            "{text}"
        );
        let out = bot.turn("покажите ещё варианты", 12);
        assert!(out.replies[0].text.contains("12. Hotel 12"));
        let out = bot.turn("ещё", 12);
        assert!(
            out.replies[0].text.contains("Других вариантов"),
            "{:?}",
            out.replies
        );

        let out = bot.turn("бронируем второй", 12);
        let DialogEvent::Escalate { reason, details } = &out.events[0];
        let bare = bot.turn("7", 12);
        let DialogEvent::Escalate {
            details: seventh, ..
        } = &bare.events[0];
        assert_eq!(seventh["offer"]["id"], "offer-7");
        assert_eq!(*reason, EscalationReason::BookingRequest);
        assert_eq!(details["offer"]["id"], "offer-2");
        assert_eq!(details["query"]["departure_city"], "Almaty");
        assert!(out.replies[0].text.contains("Hotel 2"));
        assert!(out.replies[0].text.contains("номер телефона"));
        // The same choice again is not a second request.
        let out = bot.turn("бронируем второй", 12);
        assert!(out.events.is_empty());
    }

    #[test]
    fn a_change_after_offers_searches_again_with_the_rest_kept() {
        let mut bot = Bot::new();
        bot.turn("Нячанг из Алматы в марте на 10 ночей вдвоём", 3);
        let Step::Search { query, page } = bot.say("а если в апреле?") else {
            panic!("expected a new search");
        };
        assert_eq!(query.date_from.to_string(), "2027-04-01");
        assert_eq!(query.resorts, ["Nha Trang"]);
        assert_eq!(page.offset, 0);
        let Step::Search { query, .. } = bot.say("а с завтраками?") else {
            panic!("expected a new search");
        };
        assert_eq!(query.meal.as_deref(), Some("BB"));
    }

    #[test]
    fn cheaper_relaxes_filters_under_the_cheapest_shown() {
        let mut bot = Bot::new();
        bot.turn("Нячанг из Алматы в марте на 10 ночей вдвоём 5 звезд", 3);
        let Step::Search { query, .. } = bot.say("давайте подешевле") else {
            panic!("expected a search");
        };
        assert_eq!(query.budget_max, Some(509_999));
        assert_eq!(query.stars, None);
    }

    #[test]
    fn people_complaints_and_failures_reach_a_manager() {
        for (text, reason) in [
            ("позовите менеджера", EscalationReason::HumanRequest),
            ("Ужасный отель, верните деньги", EscalationReason::Complaint),
        ] {
            let mut bot = Bot::new();
            let out = bot.turn(text, 0);
            assert!(
                matches!(&out.events[..], [DialogEvent::Escalate { reason: r, .. }] if *r == reason)
            );
            assert!(!out.replies[0].text.is_empty());
        }
        let mut bot = Bot::new();
        let Step::Search { query, page } = bot.say("Нячанг из Алматы в марте на 10 ночей вдвоём")
        else {
            panic!()
        };
        let ctx = Context {
            templates: &bot.templates,
            faq: &bot.faq,
            page_size: 5,
            keywords: &[],
        };
        let out = present(
            &mut bot.state,
            query,
            page,
            Err(SearchFailure::Unavailable {
                cause: "HTTP 403 blacklisted".into(),
            }),
            None,
            &ctx,
        )
        .unwrap();
        assert!(out.replies[0].text.contains("временно недоступен"));
        let DialogEvent::Escalate { reason, details } = &out.events[0];
        assert_eq!(*reason, EscalationReason::SearchUnavailable);
        assert_eq!(details["error"], "HTTP 403 blacklisted");
        assert!(!out.replies[0].text.contains("403"));
    }

    #[test]
    fn an_unknown_departure_city_is_reported_with_the_alternatives() {
        let mut bot = Bot::new();
        let Step::Search { query, page } =
            bot.say("Нячанг из Павлодара в марте на 10 ночей вдвоём")
        else {
            panic!()
        };
        let ctx = Context {
            templates: &bot.templates,
            faq: &bot.faq,
            page_size: 5,
            keywords: &[],
        };
        let out = present(
            &mut bot.state,
            query,
            page,
            Err(SearchFailure::NotOffered {
                field: SearchField::DepartureCity,
                value: "Pavlodar".into(),
                alternatives: vec!["Алматы".into(), "Астана".into()],
            }),
            None,
            &ctx,
        )
        .unwrap();
        let text = &out.replies[0].text;
        assert!(
            text.contains("Павлодар") && text.contains("Алматы, Астана"),
            "{text}"
        );
        assert_eq!(bot.state.slots.departure_city, None);
        let step = bot.say("тогда из Астаны");
        assert!(matches!(step, Step::Search { ref query, .. } if query.departure_city == "Astana"));
    }

    #[test]
    fn every_reply_renders_in_kazakh_and_english() {
        for (lang, hello, search, more, book) in [
            (
                "kk",
                "Сәлеметсіз бе",
                "Алматыдан Нячангқа наурызда 10 түнге 2 ересек",
                "тағы",
                "екінші нұсқаны брондаймыз",
            ),
            (
                "en",
                "Hello",
                "Nha Trang from Almaty in March for 10 nights, 2 adults",
                "more options",
                "book the second option",
            ),
        ] {
            let mut bot = Bot::new();
            let out = bot.turn(hello, 0);
            assert!(out.replies[0].text.contains("Crystal Bay"));
            assert_eq!(bot.state.language.as_deref(), Some(lang));
            let out = bot.turn(search, 7);
            assert!(
                out.replies[0].text.contains("Hotel 1"),
                "{lang}: {:?}",
                out.replies
            );
            assert_eq!(bot.state.language.as_deref(), Some(lang));
            let out = bot.turn(more, 7);
            assert!(
                out.replies[0].text.contains("6. Hotel 6"),
                "{lang}: {:?}",
                out.replies
            );
            let out = bot.turn(book, 7);
            assert_eq!(out.events.len(), 1, "{lang}: {:?}", out.replies);
            // A bare number keeps the conversation's language.
            bot.turn("2", 7);
            assert_eq!(bot.state.language.as_deref(), Some(lang));
        }
    }

    #[test]
    fn buttons_act_like_words() {
        let mut bot = Bot::new();
        bot.turn("Нячанг из Алматы в марте на 10 ночей вдвоём", 7);
        let press = |action: &str| TurnInput {
            action: Some(action.into()),
            ..TurnInput::text(action, today())
        };
        let step = bot.step(press("more"));
        assert!(matches!(step, Step::Search { page, .. } if page.offset == 5));
        let shared = TurnInput {
            action: Some("contact".into()),
            customer_phone: Some("+77011234567".into()),
            ..TurnInput::text("", today())
        };
        let step = bot.step(shared);
        let out = bot.finish(step, 7);
        assert!(out.replies[0].text.contains("Спасибо"), "{:?}", out.replies);
        assert_eq!(bot.state.slots.phone.as_deref(), Some("+77011234567"));
        let step = bot.step(press("book:3"));
        let out = bot.finish(step, 7);
        let DialogEvent::Escalate { details, .. } = &out.events[0];
        assert_eq!(details["offer"]["id"], "offer-3");
    }

    #[test]
    fn not_understood_twice_brings_a_manager() {
        let mut bot = Bot::new();
        for i in 1..=2 {
            let Step::FreeForm { fallback, .. } = bot.say("ыыы ааа") else {
                panic!("expected a free-form answer");
            };
            assert_eq!(fallback.events.len(), usize::from(i == 2), "attempt {i}");
        }
    }
}

#[cfg(test)]
mod office_tests {
    use super::*;
    use crate::analysis::analyze;

    #[test]
    fn out_of_hours_the_customer_is_told_when_a_manager_answers() {
        let templates = Templates::defaults();
        let faq = Faq::default();
        let keywords = vec!["юрист".to_owned()];
        let ctx = Context {
            templates: &templates,
            faq: &faq,
            page_size: 5,
            keywords: &keywords,
        };
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
        let closed = crate::hours::WorkingHours::parse("Mon-Fri 10:00-19:00")
            .unwrap()
            .at(today.and_hms_opt(12, 0, 0).unwrap());
        for (lang_text, expect) in [
            ("позовите менеджера", "в понедельник с 10:00"),
            ("I want to talk to a manager", "on Monday from 10:00"),
            ("менеджермен сөйлескім келеді", "дүйсенбі күні сағат 10:00"),
        ] {
            let mut state = DialogState::default();
            let input = TurnInput {
                office: Some(closed.clone()),
                ..TurnInput::text(lang_text, today)
            };
            let Step::Reply(out) =
                decide(&mut state, &analyze(lang_text, today), &input, &ctx).unwrap()
            else {
                panic!()
            };
            assert!(
                out.replies[0].text.contains(expect),
                "{}",
                out.replies[0].text
            );
        }
        let mut state = DialogState::default();
        let text = "Нужен ЮРИСТ по моему туру";
        let Step::Reply(out) = decide(
            &mut state,
            &analyze(text, today),
            &TurnInput::text(text, today),
            &ctx,
        )
        .unwrap() else {
            panic!()
        };
        assert!(matches!(
            &out.events[..],
            [DialogEvent::Escalate {
                reason: EscalationReason::Keyword,
                ..
            }]
        ));
        assert!(
            out.replies[0].text.contains("в ближайшее время"),
            "{}",
            out.replies[0].text
        );
    }
}
