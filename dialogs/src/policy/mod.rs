//! The dialog policy: what the bot does with one message, as a pure function of what the
//! conversation remembers ([`DialogState`]) and what the message says ([`Analysis`]).
//!
//! A turn has at most two steps, because a tour search is I/O and this crate does none:
//!
//! 1. [`decide`] reads the message and either finishes the turn ([`Step::Reply`]), asks the
//!    caller to search ([`Step::Search`]) or to fetch hotel descriptions ([`Step::Details`]),
//!    or offers the caller a free-form answer by the LLM with a template fallback
//!    ([`Step::FreeForm`]).
//! 2. After a search, [`present`] turns the offers (or the failure) into replies; after
//!    descriptions, [`explain`] answers the question with them. The caller passes a free-form
//!    answer through [`settle`].
//!
//! The search needs five things: departure city, destination, departure window, nights and
//! party (adults, and children's ages when there are children): the party is never assumed.
//! Budget, stars and meal are optional filters. What is missing is asked for, two things at a
//! time. What the customer said is kept across messages, and a change ("а если в апреле?",
//! "а с завтраками?") searches again.
//!
//! The concerns, one file each:
//! - `ask`: what is missing, asking for it, bare answers ("10", "2"), the departure window
//!   (a single date searches a few days around it), the query;
//! - `offers`: showing offers, the nearest offers with what differs, nothing found, paging,
//!   "подешевле";
//! - `questions`: questions during a search, answered from the offers on screen, the
//!   operator's hotel descriptions, the FAQ, or passed to a manager as a question;
//! - `choice`: choosing an offer (number, ordinal, button, hotel name) and the booking request;
//! - `scope`: what is not sold (other countries, flights or hotels alone, past bookings);
//! - `repeats`: no reply says the same as the previous one word for word.
//!
//! Every sentence comes from a template (`prompts/replies/<lang>/<name>.j2`), given a struct of
//! [`crate::replies`].

mod ask;
mod choice;
mod offers;
mod questions;
mod repeats;
mod scope;
#[cfg(test)]
mod tests;

pub use choice::may_name_hotel;
// The handover turn (`crate::handover`) keeps the language and never repeats itself alike.
pub(crate) use choice::update_language;
pub use questions::DetailsRequest;
pub(crate) use repeats::fingerprint;

use crate::analysis::{Analysis, Intent, Language, Question, QuestionTopic};
use crate::faq::Faq;
use crate::hours::Office;
use crate::replies::{self as r, Template};
use crate::search::{HotelDetails, OfferPage, PageRequest, SearchFailure, SearchQuery, SortOrder};
use crate::state::DialogState;
use crate::templates::{TemplateError, Templates};
use crate::turn::{
    Button, DialogEvent, EscalationDetails, EscalationReason, Reply, TurnInput, TurnOutcome,
};
use serde::Serialize;
use std::sync::LazyLock;

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

/// What the agency sells when nothing is configured.
static DEFAULT_SOLD: LazyLock<Vec<String>> = LazyLock::new(|| vec!["Vietnam".to_owned()]);

/// The destinations sold when nothing is configured: Vietnam.
pub fn default_sold_countries() -> &'static [String] {
    &DEFAULT_SOLD
}

/// What the policy needs besides the state and the message.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub templates: &'a Templates,
    pub faq: &'a Faq,
    /// Offers per page (top 5 by default).
    pub page_size: usize,
    /// Words or phrases an admin configured that bring a manager in at once (lower case).
    pub keywords: &'a [String],
    /// Countries the agency sells, canonical English names ("Vietnam"); the first is the
    /// destination searched when the customer names none. Others get an honest answer and
    /// are never searched.
    pub sold_countries: &'a [String],
    /// Departure cities with flights, canonical names ("Almaty"), when known; empty: not
    /// checked before a search (the search says so, [`SearchFailure::NotOffered`]).
    pub departures: &'a [String],
}

impl<'a> Context<'a> {
    /// The defaults: 5 offers a page, no keywords, Vietnam sold, departures not known.
    pub fn new(templates: &'a Templates, faq: &'a Faq) -> Self {
        Self {
            templates,
            faq,
            page_size: 5,
            keywords: &[],
            sold_countries: default_sold_countries(),
            departures: &[],
        }
    }
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
    /// Fetch the operator's description of these hotels (`TourSearch::hotel_details`), then
    /// call [`explain`] with them, in the same order.
    Details(DetailsRequest),
    /// No template answers this message well: the caller may have the LLM phrase an answer
    /// (in `language`); otherwise, or when it fails, `fallback` is the turn. Either way the
    /// caller passes the turn through [`settle`].
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
    choice::update_language(state, analysis, input);
    let t = Talk::new(ctx, state, input.office.clone());
    match turn(state, analysis, input, &t, first)? {
        Step::Reply(outcome) => Ok(Step::Reply(repeats::settle(state, outcome, &t)?)),
        other => Ok(other),
    }
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
    let t = Talk::new(ctx, state, office);
    let outcome = offers::present(state, query, page, result, &t)?;
    repeats::settle(state, outcome, &t)
}

/// Answers the question of a [`Step::Details`] with the descriptions fetched (`None`: the
/// operator has none, or it could not be fetched), in the order asked.
pub fn explain(
    state: &mut DialogState,
    request: &DetailsRequest,
    details: &[Option<HotelDetails>],
    office: Option<Office>,
    ctx: &Context<'_>,
) -> Result<TurnOutcome, TemplateError> {
    let t = Talk::new(ctx, state, office);
    let outcome = questions::explain(state, request, details, &t)?;
    repeats::settle(state, outcome, &t)
}

/// The last pass of every turn the caller completes itself (a free-form answer): a reply
/// that would repeat the previous one word for word is said another way.
pub fn settle(
    state: &mut DialogState,
    outcome: TurnOutcome,
    office: Option<Office>,
    ctx: &Context<'_>,
) -> Result<TurnOutcome, TemplateError> {
    let t = Talk::new(ctx, state, office);
    repeats::settle(state, outcome, &t)
}

/// A media message with no text: the bot reads text only.
pub fn media(
    state: &mut DialogState,
    office: Option<Office>,
    ctx: &Context<'_>,
) -> Result<TurnOutcome, TemplateError> {
    let t = Talk::new(ctx, state, office);
    let outcome = reply(t.say(&r::Media {})?);
    repeats::settle(state, outcome, &t)
}

/// The reply of a turn whose message could not be handled at all (it failed twice): an
/// apology, with a manager brought in.
pub fn apology(lang: Option<Language>, templates: &Templates) -> Result<Reply, TemplateError> {
    Ok(Reply::text(templates.render(
        lang.unwrap_or_default(),
        r::Sorry::NAME,
        &r::Sorry {},
    )?))
}

/// The body of [`decide`], before repeats are settled.
fn turn(
    state: &mut DialogState,
    analysis: &Analysis,
    input: &TurnInput,
    t: &Talk<'_>,
    first: bool,
) -> Result<Step, TemplateError> {
    let ctx = t.ctx;
    let hints = &analysis.hints;

    // Buttons first: they say exactly what the customer wants.
    if let Some(action) = input.action.as_deref() {
        if let Some(phone) = &input.customer_phone {
            state.slots.phone = Some(phone.clone());
        }
        state.awaiting.clear();
        match action {
            actions::START => return Ok(reply_step(t.say(&r::Greeting { again: !first })?)),
            actions::CONTACT => {
                let booked = !state.booked.is_empty();
                let mut outcome = reply(t.say(&r::ContactThanks { booked })?);
                if !booked && !ask::missing(&state.slots).is_empty() {
                    outcome
                        .replies
                        .push(ask::ask(state, t, None, false, false)?);
                }
                return Ok(Step::Reply(outcome));
            }
            actions::MORE => return offers::more(state, t),
            actions::MANAGER => {
                return human(state, input, t, EscalationReason::HumanRequest);
            }
            a if a.starts_with(actions::BOOK) => {
                if let Ok(n) = a[actions::BOOK.len()..].parse::<u32>() {
                    return choice::book(state, n, input, t);
                }
            }
            _ => {}
        }
    }

    // Words an admin chose always bring a manager in.
    if !ctx.keywords.is_empty() {
        let folded = input.text.to_lowercase().replace('ё', "е");
        if ctx
            .keywords
            .iter()
            .any(|k| !k.is_empty() && folded.contains(k.as_str()))
        {
            return human(state, input, t, EscalationReason::Keyword);
        }
    }

    // Not a package tour, or a trip already bought: an honest answer, nothing recorded.
    if let Some(scope) = hints.scope {
        state
            .slots
            .merge(&scope::contact_only(&analysis.slots, input));
        return scope::out_of_scope(state, scope, input, t);
    }

    let mut said = analysis.slots.clone();
    if said.phone.is_none() {
        said.phone = input.customer_phone.clone();
    }
    let awaited = std::mem::take(&mut state.awaiting);
    let named_offer = choice::named_offer(state, input);
    // A hotel named with no list showing it narrows the search to it.
    let hotels_changed = if hints.question.is_none() && named_offer.is_none() {
        choice::hotel_wish(state, &mut said, input, analysis, ctx)
    } else {
        false
    };
    // "а завтраки там включены?" under a list asks about the offers' meal plans: the meal it
    // names is the question's subject, not a new filter.
    if state.shown.is_some()
        && hints
            .question
            .is_some_and(|q| q.topic == QuestionTopic::Meal)
    {
        said.meal = None;
    }
    // What is not sold is answered, never recorded.
    let refused = scope::refuse_unsold(&mut said, input, ctx);
    // "Да" to "…подобрать во Вьетнаме?".
    if awaited.contains(&crate::state::Need::Destination)
        && said.country.is_none()
        && said.resort.is_none()
        && scope::agrees(&input.text)
    {
        said.country = ctx.sold_countries.first().cloned();
    }
    // A bare "2" may answer what was asked (the analyser cannot know): that comes first.
    let bare = choice::bare_number(&input.text).is_some();
    let choosing = (!bare && (hints.choice.is_some() || analysis.intent == Intent::BookingRequest))
        || hints.question.is_some()
        || named_offer.is_some();
    if !choosing {
        ask::fill_bare_answer(&input.text, &awaited, &mut said);
    }
    let resorts_changed = ask::resort_alternatives(state, &said, hints);
    ask::read_dates(state, &mut said, hints);

    // "с нами ещё мама поедет": the party said before, and the people joining it.
    if let Some(n) = hints.joining
        && said.adults.is_none()
        && let Some(adults) = state.slots.adults
    {
        said.adults = Some(adults + n);
    }
    let before = state.slots.clone();
    state.slots.merge(&said);
    let changed = ask::search_changed(&before, &state.slots) || resorts_changed || hotels_changed;

    match refused {
        Some(scope::Refused::Country(country)) => {
            return scope::not_sold(state, &country, input, t);
        }
        Some(scope::Refused::DepartureCity { city, alternatives }) => {
            return scope::no_departures(state, &city, &alternatives, t);
        }
        None => {}
    }

    let understood = analysis.intent != Intent::Other
        || !analysis.slots.is_empty()
        || changed
        || hints.more
        || hints.cheaper
        || hints.choice.is_some()
        || hints.question.is_some()
        || hints.earlier
        || named_offer.is_some();
    if understood {
        state.not_understood = 0;
    }
    match analysis.intent {
        Intent::HumanRequest => return human(state, input, t, EscalationReason::HumanRequest),
        Intent::Complaint => return human(state, input, t, EscalationReason::Complaint),
        _ => {}
    }

    // A question is answered, never taken for a choice or a slot. A new parameter with it
    // ("а в апреле сколько?") searches again: the new offers answer it.
    let booking_words = analysis.intent == Intent::BookingRequest || hints.choice.is_some();
    // "Is the first one good for kids?": an offer with a question mark and no word of taking
    // is asked about, not booked.
    let asks_about = hints
        .choice
        .filter(|_| input.text.contains('?') && !choice::takes(&input.text));
    let question = hints.question.or_else(|| {
        asks_about.map(|n| Question {
            topic: QuestionTopic::Hotel,
            offer: Some(n),
        })
    });
    let question = question.or_else(|| {
        // "а Red Dune?" under a list: a question about that offer.
        named_offer.filter(|_| !booking_words).map(|n| Question {
            topic: QuestionTopic::Hotel,
            offer: Some(n),
        })
    });
    if let Some(q) = question {
        if !changed {
            return questions::answer(state, q, named_offer, analysis, input, &awaited, t);
        }
        // "Фукуок или Нячанг, какой лучше в январе?": the question is answered, and the new
        // parameters are kept and asked on from, or searched (the answer comes first).
        let can_search = ask::missing(&state.slots).is_empty();
        let general = matches!(
            q.topic,
            QuestionTopic::Compare | QuestionTopic::Included | QuestionTopic::Payment
        );
        if (general || !can_search)
            && let Step::Reply(mut answer) =
                questions::answer(state, q, named_offer, analysis, input, &[], t)?
        {
            if !can_search {
                if state.awaiting.is_empty() {
                    answer.replies.push(ask::ask(state, t, None, true, false)?);
                }
                return Ok(Step::Reply(answer));
            }
            state.preface = Some(answer);
            let query = ask::query_from(state, ctx, input.today);
            return Ok(search(query, ctx));
        }
    }

    match analysis.intent {
        Intent::Faq => return faq(state, input, &awaited, t),
        Intent::ThanksBye if !changed => {
            let booked = !state.booked.is_empty();
            return Ok(reply_step(t.say(&r::Thanks { booked })?));
        }
        Intent::Greeting if !changed => {
            let mut outcome = reply(t.say(&r::Greeting { again: !first })?);
            if !first && !awaited.is_empty() {
                outcome
                    .replies
                    .push(ask::ask(state, t, Some(awaited), false, false)?);
            }
            return Ok(Step::Reply(outcome));
        }
        _ => {}
    }

    if !changed && asks_about.is_none() {
        if let Some(n) = choice::chosen(analysis, input, named_offer, &awaited) {
            return choice::choose(state, n, input, t);
        }
        if analysis.intent == Intent::BookingRequest
            && (state.shown.is_some() || state.nothing_found.is_some())
        {
            return choice::which(state, None, t);
        }
        if hints.earlier {
            // "ну который вчера скидывали": the list on screen, or none in this chat.
            return match state.shown {
                Some(_) => choice::which(state, None, t),
                None => ask::nothing_to_choose(state, "earlier", None, t),
            };
        }
        if hints.more {
            return offers::more(state, t);
        }
        if hints.cheaper {
            return offers::cheaper(state, t);
        }
    }

    // An emoji or a sign alone ("👋", "🙏", "??"): a hello or a nudge, answered with the
    // next step, never "not understood".
    let wordless = !input.text.trim().is_empty() && !input.text.chars().any(char::is_alphanumeric);
    if wordless && !changed {
        if !awaited.is_empty() && !first {
            return Ok(Step::Reply(reply(
                ask::ask(state, t, Some(awaited), false, true)?.text,
            )));
        }
        if let Some(shown) = state.shown.as_ref().filter(|_| !first) {
            let offers = shown.offers.len();
            return Ok(Step::Reply(reply_with(
                t.say(&r::Repeated {
                    missing: Vec::new(),
                    offers,
                    empty: false,
                })?,
                offers::offer_buttons(t, state)?,
            )));
        }
        let mut outcome = reply(t.say(&r::Greeting { again: !first })?);
        if !first && !ask::missing(&state.slots).is_empty() {
            outcome
                .replies
                .push(ask::ask(state, t, None, false, false)?);
        }
        return Ok(Step::Reply(outcome));
    }

    if !understood && !changed {
        // A question the analyser could not place may still be one the FAQ answers.
        if let Some(answer) = ctx.faq.answer(&input.text, t.lang) {
            let mut outcome = reply(answer.text.to_owned());
            if !awaited.is_empty() {
                outcome
                    .replies
                    .push(ask::ask(state, t, Some(awaited), false, false)?);
            }
            return Ok(Step::Reply(outcome));
        }
        if let Some(step) = unplaced_question(state, analysis, input, &awaited, t)? {
            return Ok(step);
        }
        state.not_understood += 1;
        let mut fallback = reply(t.say(&r::NotUnderstood {
            attempt: state.not_understood,
            first,
        })?);
        if state.not_understood >= NOT_UNDERSTOOD_LIMIT {
            state.not_understood = 0;
            fallback.events.push(escalate(
                state,
                EscalationReason::NotUnderstood,
                their_words(input),
            ));
        } else if !awaited.is_empty() {
            // Keep waiting for what was asked.
            state.awaiting = awaited;
        }
        return Ok(Step::FreeForm {
            language: t.lang,
            fallback,
        });
    }

    let missing = ask::missing(&state.slots);
    if missing.is_empty() {
        let query = ask::query_from(state, ctx, input.today);
        // Nothing new, and these very offers are on screen: point at them.
        let same_offers = !changed && state.shown.as_ref().is_some_and(|s| s.query == query);
        if same_offers {
            // "в каком из отелей номера с видом на море?" under the list: answered, not
            // pointed at the list.
            if let Some(step) = unplaced_question(state, analysis, input, &awaited, t)? {
                return Ok(step);
            }
            let offers = state.shown.as_ref().map_or(0, |s| s.offers.len());
            return Ok(Step::Reply(reply_with(
                t.say(&r::Repeated {
                    missing: Vec::new(),
                    offers,
                    empty: false,
                })?,
                offers::offer_buttons(t, state)?,
            )));
        }
        return Ok(search(query, ctx));
    }
    // Asked the same just before and the answer did not fit: ask again with an example —
    // unless it was a question, not an answer.
    let again = !changed && awaited.iter().eq(missing.iter().take(2));
    if again && let Some(step) = unplaced_question(state, analysis, input, &awaited, t)? {
        return Ok(step);
    }
    Ok(Step::Reply(TurnOutcome {
        replies: vec![ask::ask(state, t, None, changed, again)?],
        events: Vec::new(),
    }))
}

/// A question the rules cannot place ("в каком из отелей номера с видом на море?"): never
/// "not understood"; a manager gets it as a question (not a booking), and what the bot was
/// waiting for is asked on. The LLM, when there is one, may answer it instead. `None` when the
/// message is no question.
fn unplaced_question(
    state: &mut DialogState,
    analysis: &Analysis,
    input: &TurnInput,
    awaited: &[crate::state::Need],
    t: &Talk<'_>,
) -> Result<Option<Step>, TemplateError> {
    let words = input.text.split_whitespace().count();
    if !input.text.contains('?') || words < 3 {
        return Ok(None);
    }
    // Offers on screen: a question about them, answered from the operator's descriptions
    // where they speak of it, else passed to a manager as a question.
    if state.shown.is_some() {
        let about = Question {
            topic: QuestionTopic::Hotel,
            offer: None,
        };
        return questions::answer(state, about, None, analysis, input, awaited, t).map(Some);
    }
    let mut fallback =
        questions::to_manager_about(state, "other", None, &input.text, &[], Vec::new(), t)?;
    if !awaited.is_empty() {
        fallback
            .replies
            .push(ask::ask(state, t, Some(awaited.to_vec()), false, false)?);
    }
    Ok(Some(Step::FreeForm {
        language: t.lang,
        fallback,
    }))
}

/// A general question: the FAQ's answer, then what the bot was waiting for.
fn faq(
    state: &mut DialogState,
    input: &TurnInput,
    awaited: &[crate::state::Need],
    t: &Talk<'_>,
) -> Result<Step, TemplateError> {
    if let Some(answer) = t.ctx.faq.answer(&input.text, t.lang) {
        let mut replies = vec![Reply::text(answer.text)];
        if !awaited.is_empty() {
            // Still mid-search: remind the customer what we were waiting for.
            replies.push(ask::ask(state, t, Some(awaited.to_vec()), false, false)?);
        }
        return Ok(Step::Reply(TurnOutcome {
            replies,
            events: Vec::new(),
        }));
    }
    state.awaiting = awaited.to_vec();
    Ok(Step::FreeForm {
        language: t.lang,
        fallback: reply(t.say(&r::FaqUnknown {})?),
    })
}

/// A request for a person, or a complaint: a manager is brought in.
fn human(
    state: &mut DialogState,
    input: &TurnInput,
    t: &Talk<'_>,
    reason: EscalationReason,
) -> Result<Step, TemplateError> {
    let need_phone = state.slots.phone.is_none();
    let text = match reason {
        EscalationReason::Complaint => t.say(&r::Complaint { need_phone })?,
        _ => t.say(&r::Human { need_phone })?,
    };
    let mut outcome = reply(text);
    outcome
        .events
        .push(escalate(state, reason, their_words(input)));
    Ok(Step::Reply(outcome))
}

/// Renders replies in the conversation's language. Every template also sees `office`: whether
/// managers are at work, and if not when they will be.
pub(crate) struct Talk<'a> {
    ctx: &'a Context<'a>,
    lang: Language,
    office: Office,
}

impl<'a> Talk<'a> {
    fn new(ctx: &'a Context<'a>, state: &DialogState, office: Option<Office>) -> Self {
        Self {
            ctx,
            lang: state.language.unwrap_or_default(),
            office: office.unwrap_or_else(Office::always_open),
        }
    }

    fn say<T: Template>(&self, context: &T) -> Result<String, TemplateError> {
        #[derive(Serialize)]
        struct WithOffice<'b, T> {
            #[serde(flatten)]
            context: &'b T,
            office: &'b Office,
        }
        self.ctx.templates.render(
            self.lang,
            T::NAME,
            WithOffice {
                context,
                office: &self.office,
            },
        )
    }

    fn button<T: Template>(&self, label: &T, action: &str) -> Result<Button, TemplateError> {
        Ok(Button {
            label: self.say(label)?,
            action: action.to_owned(),
        })
    }

    fn manager_button(&self) -> Result<Button, TemplateError> {
        self.button(&r::ButtonManager {}, actions::MANAGER)
    }
}

fn reply(text: String) -> TurnOutcome {
    reply_with(text, Vec::new())
}

fn reply_step(text: String) -> Step {
    Step::Reply(reply(text))
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

/// An escalation carrying what a manager needs: the trip so far (language, slots, resorts,
/// hotels) over the reason-specific `extra` (the customer's words, offer, query, error,
/// question).
fn escalate(
    state: &DialogState,
    reason: EscalationReason,
    extra: EscalationDetails,
) -> DialogEvent {
    let details = EscalationDetails {
        language: state.language,
        slots: Some(state.slots.clone()),
        resorts_also: state.resorts_also.clone(),
        hotels: state.hotels.clone(),
        ..extra
    };
    DialogEvent::Escalate {
        reason,
        details: Box::new(details),
    }
}

/// The details of an escalation that carries only what the customer wrote.
fn their_words(input: &TurnInput) -> EscalationDetails {
    EscalationDetails {
        text: Some(input.text.clone()),
        ..EscalationDetails::default()
    }
}

/// A new search starts cheapest first, and keeps the order of the one before it when only
/// the filters changed.
fn sort_of(state: &DialogState) -> SortOrder {
    state
        .shown
        .as_ref()
        .map(|s| s.query.sort)
        .unwrap_or_default()
}
