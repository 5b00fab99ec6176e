//! Choosing an offer, and the hotels a customer names.
//!
//! A choice needs a list on screen: a number, an ordinal, a button, or the name of a hotel
//! on screen with a word of taking ("берем Red Dune"). A bare number answers what the bot
//! asked only when it fits it; "ok book option 1" while the bot waits for the party size is a
//! choice attempt, never "1 adult". With no list on screen the customer is told so and what
//! to do. A choice is a booking request for a manager, with the offer, the party and every
//! parameter of the search.
//!
//! A hotel named with no list showing it is a wish: the search is narrowed to it (its resort
//! and country with it). Its name is not the customer's language either: "берем Red Dune" in
//! a Russian chat keeps the chat Russian.

use super::ask::nothing_to_choose;
use super::offers::{offer_buttons, offer_view, split_category};
use super::{Context, Step, Talk, ask, escalate, reply, reply_with, scope};
use crate::analysis::{Analysis, Intent, Slots, analyze, folded_words};
use crate::replies as r;
use crate::search::NamedHotel;
use crate::state::{DialogState, Need};
use crate::templates::TemplateError;
use crate::turn::{EscalationDetails, EscalationReason, TurnInput, TurnOutcome};

/// Words of hotel names that do not tell one hotel from another (folded).
const GENERIC: &[&str] = &[
    "hotel",
    "hotels",
    "resort",
    "resorts",
    "spa",
    "and",
    "the",
    "villa",
    "villas",
    "inn",
    "suites",
    "suite",
    "apartment",
    "apartments",
    "residence",
    "boutique",
    "house",
    "club",
    "by",
    "collection",
    "отель",
    "гостиница",
    "resort&spa",
    "nha",
    "trang",
    "phu",
    "quoc",
    "nang",
    "cam",
    "ranh",
    "long",
    "beach",
    "sea",
    "view",
    "city",
    "center",
    "centre",
    "bay",
];

/// Beginnings of words of taking: "берем Red Dune", "book Red Dune", "давайте второй".
const TAKE: &[&str] = &[
    "берем",
    "беру",
    "берите",
    "брон",
    "заброн",
    "возьм",
    "выбира",
    "выбер",
    "оформ",
    "давай",
    "алам",
    "алайык",
    "book",
    "take",
    "choose",
];
/// Whole words of taking.
const TAKE_WORDS: &[&str] = &["go", "lets"];

/// The folded words of a hotel's name that tell it apart.
fn name_words(name: &str) -> Vec<String> {
    let (bare, _) = split_category(name);
    folded_words(&bare)
        .into_iter()
        .filter(|w| {
            w.chars().count() >= 3 && !GENERIC.contains(&w.as_str()) && w.parse::<u32>().is_err()
        })
        .collect()
}

/// How well `text_words` name a hotel: the number of its words found when that is enough to
/// tell it (all of them, or two of three or more), else 0.
fn names_score(hotel: &str, text_words: &[String]) -> usize {
    let words = name_words(hotel);
    if words.is_empty() {
        return 0;
    }
    let found = words
        .iter()
        .filter(|w| text_words.iter().any(|t| same_word(w, t)))
        .count();
    if found == words.len() || (words.len() >= 3 && found >= 2) {
        found
    } else {
        0
    }
}

/// The words, and those in Cyrillic also in Latin letters ("галина" → "galina"), to match
/// hotel names the operator writes in Latin.
fn with_latin(mut words: Vec<String>) -> Vec<String> {
    let latin: Vec<String> = words
        .iter()
        .filter(|w| w.chars().any(|c| ('\u{0400}'..='\u{04FF}').contains(&c)))
        .map(|w| crate::names::latin(w).to_lowercase())
        .collect();
    words.extend(latin);
    words
}

/// One word, allowing a declined ending ("галину" for "галина", "Galina'да").
fn same_word(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let (la, lb) = (a.chars().count(), b.chars().count());
    let common = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
    la.min(lb) >= 5 && common >= la.max(lb).saturating_sub(2).max(5)
}

/// Two spellings of one hotel (the operator's list and an offer).
fn same_hotel(a: &str, b: &str) -> bool {
    let (a, b) = (name_words(a), name_words(b));
    !a.is_empty()
        && !b.is_empty()
        && (a.iter().all(|w| b.contains(w)) || b.iter().all(|w| a.contains(w)))
}

/// The offer on screen whose hotel the message names, by its number.
pub(super) fn named_offer(state: &DialogState, input: &TurnInput) -> Option<u32> {
    let shown = state.shown.as_ref()?;
    if input.action.is_some() {
        return None;
    }
    // The caller found these in the operator's list.
    for named in &input.hotels_named {
        if let Some(i) = shown
            .offers
            .iter()
            .position(|o| same_hotel(&o.hotel, &named.name))
        {
            return Some(i as u32 + 1);
        }
    }
    let text = with_latin(folded_words(&input.text));
    let mut best: Option<(usize, u32)> = None;
    let mut tie = false;
    for (i, offer) in shown.offers.iter().enumerate() {
        let score = names_score(&offer.hotel, &text);
        if score == 0 {
            continue;
        }
        match best {
            Some((top, _)) if score < top => {}
            Some((top, _)) if score == top => tie = true,
            _ => {
                best = Some((score, i as u32 + 1));
                tie = false;
            }
        }
    }
    best.filter(|_| !tie).map(|(_, n)| n)
}

/// Might the message name a hotel (so the caller looks it up in the operator's list)? Latin
/// words or the word "отель"; cheap, and the lookup is cached on the caller's side.
pub fn may_name_hotel(text: &str) -> bool {
    text.split(|c: char| !c.is_alphanumeric() && c != '\'')
        .any(|w| w.chars().filter(char::is_ascii_alphabetic).count() >= 3)
        || folded_words(text).iter().any(|w| {
            ["отел", "гостиниц", "hotel", "resort", "курорт", "вилл"]
                .iter()
                .any(|p| w.starts_with(p))
        })
}

/// The conversation's language follows the customer, without flipping on a short line in
/// another language ("ok book option 1" in a Russian chat, "2 взрослых" in a Kazakh one) or
/// on a hotel's name ("берем Red Dune"). A language is firm once a message of a few words or
/// two messages in a row are in it; a firm language changes on a longer message in another
/// language, or on two short ones in a row.
pub(crate) fn update_language(state: &mut DialogState, analysis: &Analysis, input: &TurnInput) {
    // A button's data ("more", "book:2") says nothing about the customer's language.
    if input.action.is_some() || !analysis.language_sure {
        state.language.get_or_insert(analysis.language);
        return;
    }
    let Some(current) = state.language else {
        state.language = Some(analysis.language);
        state.language_firm = words_of_language(state, input) >= FIRM_WORDS;
        return;
    };
    let mut heard = analysis.language;
    let words = words_of_language(state, input);
    if heard != current && words < input_words(input) {
        // Some words were a hotel's name: read the message again without them.
        let rest = without_hotel_names(state, input);
        let again = analyze(&rest, input.today);
        if !again.language_sure {
            return;
        }
        heard = again.language;
    }
    if heard == current {
        state.language_pending = None;
        if words >= FIRM_WORDS - 1 {
            state.language_firm = true;
        }
        return;
    }
    if !state.language_firm || words >= SWITCH_WORDS || state.language_pending == Some(heard) {
        state.language = Some(heard);
        state.language_firm = words >= FIRM_WORDS;
        state.language_pending = None;
    } else {
        state.language_pending = Some(heard);
    }
}

/// Words that make a language firm at once.
const FIRM_WORDS: usize = 3;
/// Words in another language that change a firm one at once.
const SWITCH_WORDS: usize = 4;

/// The hotels' words the message may contain: of offers on screen and of hotels named.
fn hotel_words(state: &DialogState, input: &TurnInput) -> Vec<String> {
    let mut words: Vec<String> = input
        .hotels_named
        .iter()
        .flat_map(|h| name_words(&h.name))
        .collect();
    if let Some(shown) = &state.shown {
        words.extend(shown.offers.iter().flat_map(|o| name_words(&o.hotel)));
    }
    words
}

/// Words of letters in the message.
fn input_words(input: &TurnInput) -> usize {
    folded_words(&input.text)
        .iter()
        .filter(|w| w.chars().all(char::is_alphabetic))
        .count()
}

/// Words of letters that are not a hotel's name.
fn words_of_language(state: &DialogState, input: &TurnInput) -> usize {
    let hotels = hotel_words(state, input);
    folded_words(&input.text)
        .iter()
        .filter(|w| w.chars().all(char::is_alphabetic) && !hotels.contains(w))
        .count()
}

/// The message with the words of hotel names taken out.
fn without_hotel_names(state: &DialogState, input: &TurnInput) -> String {
    let hotels = hotel_words(state, input);
    input
        .text
        .split_whitespace()
        .filter(|w| {
            let folded = folded_words(w);
            folded.is_empty() || !folded.iter().all(|f| hotels.contains(f))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Hotels the customer names with no list showing them: the search narrows to them, in
/// their resort and country. A new resort or country said alone drops them. Returns whether
/// they changed.
pub(super) fn hotel_wish(
    state: &mut DialogState,
    said: &mut Slots,
    input: &TurnInput,
    analysis: &Analysis,
    ctx: &Context<'_>,
) -> bool {
    let named: Vec<&NamedHotel> = input
        .hotels_named
        .iter()
        .filter(|h| really_named(&h.name, &input.text))
        .collect();
    if named.is_empty()
        || matches!(
            analysis.intent,
            Intent::Complaint | Intent::Faq | Intent::HumanRequest | Intent::ThanksBye
        )
    {
        let away = state.hotels.iter().any(|h| {
            said.resort
                .as_ref()
                .is_some_and(|r| h.resort.as_ref() != Some(r))
                || said.country.as_ref().is_some_and(|c| *c != h.country)
        });
        if away {
            state.hotels.clear();
        }
        return away;
    }
    let first = named[0];
    if !scope::sold(ctx, &first.country) {
        // Refused with the country, honestly (see `scope`).
        if said.country.is_none() {
            said.country = Some(first.country.clone());
        }
        return false;
    }
    let wanted: Vec<NamedHotel> = named
        .iter()
        .filter(|h| h.country == first.country)
        .take(3)
        .map(|h| (*h).clone())
        .collect();
    if said.resort.is_none()
        && let Some(resort) = &first.resort
        && wanted.iter().all(|h| h.resort.as_ref() == Some(resort))
    {
        said.resort = Some(resort.clone());
    }
    if said.country.is_none() {
        said.country = Some(first.country.clone());
    }
    let changed = state.hotels != wanted;
    state.hotels = wanted;
    changed
}

/// Words of taking in the message ("берем", "book", "давайте").
pub(super) fn takes(text: &str) -> bool {
    folded_words(text)
        .iter()
        .any(|w| TAKE.iter().any(|t| w.starts_with(t)) || TAKE_WORDS.contains(&w.as_str()))
}

/// Does the message really name this hotel of the operator's list (its telling words, as
/// written or in Latin letters), or speak of a hotel at all ("отель Галина")? A loose match
/// on a resort's name ("Nha Trang Lodge" for "nha trang in jan") narrows nothing.
fn really_named(hotel: &str, text: &str) -> bool {
    let words = with_latin(folded_words(text));
    names_score(hotel, &words) > 0
        || words.iter().any(|w| {
            [
                "отел",
                "гостиниц",
                "hotel",
                "resort",
                "курорт",
                "вилл",
                "villa",
                "кунакуй",
            ]
            .iter()
            .any(|p| w.starts_with(p))
        })
}

/// The offer number the message chooses, if it is a choice at all.
pub(super) fn chosen(
    analysis: &Analysis,
    input: &TurnInput,
    named_offer: Option<u32>,
    awaited: &[Need],
) -> Option<u32> {
    let bare = bare_number(&input.text);
    // A bare number while something was asked is an answer that did not fit, not a choice.
    if bare.is_some() && !awaited.is_empty() {
        return None;
    }
    if let Some(n) = analysis.hints.choice {
        return Some(n);
    }
    if let Some(n) = named_offer
        && (analysis.intent == Intent::BookingRequest || takes(&input.text))
    {
        return Some(n);
    }
    // A bare "2" (or "№2") when nothing was asked.
    bare.filter(|n| (1..=30).contains(n))
}

/// The message is one number and nothing else ("2", "№2", "10!").
pub(super) fn bare_number(text: &str) -> Option<u32> {
    match &folded_words(text)[..] {
        [word] => word.parse().ok(),
        _ => None,
    }
}

/// A choice of offer `n`: a booking request with a list on screen; otherwise what to do.
pub(super) fn choose(
    state: &mut DialogState,
    n: u32,
    input: &TurnInput,
    t: &Talk<'_>,
) -> Result<Step, TemplateError> {
    if state.shown.is_some() {
        return book(state, n, input, t);
    }
    nothing_to_choose(state, "choice", Some(n), t)
}

/// "Хочу забронировать" without a number, or a number not on screen.
pub(super) fn which(
    state: &mut DialogState,
    n: Option<u32>,
    t: &Talk<'_>,
) -> Result<Step, TemplateError> {
    which_for(state, n, false, t)
}

/// [`which`], for a booking (`question` false) or a question about an offer not on screen.
pub(super) fn which_for(
    state: &mut DialogState,
    n: Option<u32>,
    question: bool,
    t: &Talk<'_>,
) -> Result<Step, TemplateError> {
    let Some(shown) = &state.shown else {
        return nothing_to_choose(state, "booking", n, t);
    };
    let count = shown.offers.len();
    Ok(Step::Reply(reply_with(
        t.say(&r::WhichOffer { count, n, question })?,
        offer_buttons(t, state)?,
    )))
}

/// A chosen offer: a booking request for a manager, with the offer and every parameter.
pub(super) fn book(
    state: &mut DialogState,
    n: u32,
    input: &TurnInput,
    t: &Talk<'_>,
) -> Result<Step, TemplateError> {
    let Some(shown) = &state.shown else {
        return nothing_to_choose(state, "choice", Some(n), t);
    };
    let Some(offer) = shown.get(n).cloned() else {
        return which(state, Some(n), t);
    };
    let query = shown.query.clone();
    let again = state.booked.contains(&offer.id);
    if !again {
        state.booked.push(offer.id.clone());
    }
    let party = ask::party_view(&query);
    let text = t.say(&r::Booking {
        offer: offer_view(&offer, n as usize, None, t)?,
        party: party.clone(),
        need_phone: state.slots.phone.is_none(),
        again,
    })?;
    let mut outcome: TurnOutcome = reply(text);
    if !again {
        outcome.events.push(escalate(
            state,
            EscalationReason::BookingRequest,
            EscalationDetails {
                offer: Some(offer),
                number: Some(n),
                query: Some(query),
                party: Some(party),
                text: Some(input.text.clone()),
                ..EscalationDetails::default()
            },
        ));
    }
    Ok(Step::Reply(outcome))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hotel_is_named_by_the_words_that_tell_it_apart() {
        let text = |s: &str| folded_words(s);
        assert!(names_score("Red Dune Resort 4*", &text("берем Red Dune")) > 0);
        assert!(names_score("Jade Heron Seaside Inn 3*", &text("jade heron pls")) > 0);
        assert!(names_score("Galina Hotel & Spa 4*", &with_latin(text("берем галину"))) > 0);
        assert_eq!(names_score("Jade Heron Seaside Inn 3*", &text("jade")), 0);
        assert_eq!(
            names_score("Sunrise Beach Resort", &text("beach resort")),
            0
        );
        assert!(same_hotel("Red Dune Resort 4*", "RED DUNE RESORT"));
        assert!(!same_hotel("Red Dune Resort", "Blue Sea Resort"));
        assert!(same_word("galina", "galinu") && !same_word("nesta", "nesti"));
    }

    #[test]
    fn a_loose_match_of_the_operator_s_list_is_not_a_hotel_named() {
        assert!(really_named("Galina Hotel & Spa", "хотим в галину"));
        assert!(really_named("Galina Hotel & Spa", "хотим в Galina"));
        assert!(really_named(
            "Vinpearl Resort Nha Trang",
            "отель винперл есть?"
        ));
        assert!(!really_named(
            "Nha Trang Lodge",
            "nha trang in jan, 2 ppl frm almaty"
        ));
    }

    #[test]
    fn a_message_may_name_a_hotel() {
        assert!(may_name_hotel("берем Red Dune"));
        assert!(may_name_hotel("а отель Галина хороший?"));
        assert!(!may_name_hotel("Нячанг из Алматы в марте, 2 взрослых"));
        assert!(!may_name_hotel("2"));
    }
}
