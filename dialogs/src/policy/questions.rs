//! Questions during a search are answered, never taken for a choice or a search parameter,
//! and never book:
//!
//! - about offers on screen (one named by number, ordinal or hotel name, else the list):
//!   dates, meal, room, price, availability straight from what the operator returned; "how
//!   much is the cheapest" from what is shown; "который лучше" compares price and category;
//! - the beach or the hotel: from the operator's description (`Hotels_DETAILS`, fetched by
//!   the caller: [`Step::Details`]), "какой из них ближе к морю" by the distances the
//!   descriptions give; when they say nothing, a manager gets it **as a question** (not a
//!   booking), and the customer is told so and when;
//! - what the price includes, prepayment, "куда лучше — Нячанг или Фукуок": the FAQ, else a
//!   manager.

use super::ask::nothing_to_choose;
use super::choice::which_for;
use super::offers::{offer_view, split_category};
use super::{Step, Talk, ask, escalate, reply};
use crate::analysis::{Analysis, Language, Question, QuestionTopic, folded_words};
use crate::replies::{self as r, HotelView, OfferView};
use crate::search::{HotelDetails, Offer};
use crate::state::{DialogState, Need};
use crate::templates::TemplateError;
use crate::turn::{EscalationDetails, EscalationReason, Reply, TurnInput, TurnOutcome};

/// What to fetch for a question about hotels on screen, and what was asked.
#[derive(Debug, Clone, PartialEq)]
pub struct DetailsRequest {
    pub topic: QuestionTopic,
    /// The offers asked about: their number on screen and the operator's hotel key.
    pub hotels: Vec<(usize, i64)>,
    /// The question is about the list ("какой из них ближе к морю"), not one offer.
    pub all: bool,
    /// The customer's words, for a manager when the descriptions do not answer.
    pub text: String,
}

/// Longest part of a description quoted, in characters.
const PART_CHARS: usize = 280;

/// Answers a question (see the module note).
pub(super) fn answer(
    state: &mut DialogState,
    q: Question,
    named_offer: Option<u32>,
    analysis: &Analysis,
    input: &TurnInput,
    awaited: &[Need],
    t: &Talk<'_>,
) -> Result<Step, TemplateError> {
    // The offers asked about.
    let (targets, all): (Vec<(usize, Offer)>, bool) = match (q.offer.or(named_offer), &state.shown)
    {
        (Some(n), Some(shown)) => match shown.get(n) {
            Some(o) => (vec![(n as usize, o.clone())], false),
            // "а второй вариант с завтраками?" under a list of one: the answer is about the
            // one on screen (the reply names its hotel).
            None if shown.offers.len() == 1 => (
                shown.last_page().map(|(n, o)| (n, o.clone())).collect(),
                true,
            ),
            // A question, not a booking: ask which offer is meant.
            None => return which_for(state, Some(n), true, t),
        },
        (Some(n), None) => return nothing_to_choose(state, "question", Some(n), t),
        (None, Some(shown)) => (
            shown.last_page().map(|(n, o)| (n, o.clone())).collect(),
            true,
        ),
        (None, None) => (Vec::new(), false),
    };
    // "номера с балконом?", "sea view rooms?": a feature of the rooms is told by the
    // operator's descriptions, not by the room type of the offer.
    let mut q = q;
    if q.topic == QuestionTopic::Room
        && folded_words(&input.text).iter().any(|w| {
            [
                "балкон",
                "вид",
                "view",
                "кроват",
                "bed",
                "террас",
                "terrace",
                "balcon",
            ]
            .iter()
            .any(|f| w.starts_with(f))
        })
    {
        q.topic = QuestionTopic::Hotel;
    }
    match q.topic {
        QuestionTopic::Included => faq(state, input, "tour_contents", awaited, t),
        QuestionTopic::Payment => faq(state, input, "prepayment", awaited, t),
        QuestionTopic::Compare => {
            let about_resorts = analysis.slots.resort.is_some()
                || !analysis.hints.resort_alternatives.is_empty()
                || targets.is_empty();
            if about_resorts {
                if faq_answer(input, "resorts", t).is_some() {
                    return faq(state, input, "resorts", awaited, t);
                }
                return to_manager(state, "compare", None, &input.text, &targets, t);
            }
            // "which hotel is best for kids?": better at something the descriptions tell,
            // not the cheapest or the highest category.
            if !asked_about(state, &input.text).is_empty() {
                let about = Question {
                    topic: QuestionTopic::Hotel,
                    ..q
                };
                return answer(state, about, named_offer, analysis, input, awaited, t);
            }
            facts(state, "compare", &targets, all, t)
        }
        QuestionTopic::Price
        | QuestionTopic::Meal
        | QuestionTopic::Room
        | QuestionTopic::Flight
        | QuestionTopic::Availability => {
            if !targets.is_empty() {
                let topic = match q.topic {
                    QuestionTopic::Price => "price",
                    QuestionTopic::Meal => "meal",
                    QuestionTopic::Room => "room",
                    QuestionTopic::Flight => "flight",
                    _ => "availability",
                };
                return facts(state, topic, &targets, all, t);
            }
            if let Some(answer) = t.ctx.faq.answer(&input.text, t.lang) {
                return with_reask(state, Reply::text(answer.text), awaited, t);
            }
            if q.topic == QuestionTopic::Price {
                // The price comes with the offers: search, or say what is still needed.
                if ask::missing(&state.slots).is_empty() {
                    let query = ask::query_from(state, t.ctx, input.today);
                    return Ok(super::search(query, t.ctx));
                }
                let mut text = t.say(&r::PriceLater {})?;
                text.push('\n');
                text.push_str(&ask::ask(state, t, None, false, false)?.text);
                return Ok(Step::Reply(reply(text)));
            }
            unknown(state, awaited, t)
        }
        QuestionTopic::Beach | QuestionTopic::Hotel => {
            if !targets.is_empty() {
                let hotels: Vec<(usize, i64)> = targets
                    .iter()
                    .filter_map(|(n, o)| o.hotel_key.map(|k| (*n, k)))
                    .collect();
                if hotels.is_empty() {
                    let topic = topic_name(q.topic);
                    return to_manager(state, topic, None, &input.text, &targets, t);
                }
                return Ok(Step::Details(DetailsRequest {
                    topic: q.topic,
                    hotels,
                    all,
                    text: input.text.clone(),
                }));
            }
            if let Some(answer) = t.ctx.faq.answer(&input.text, t.lang) {
                return with_reask(state, Reply::text(answer.text), awaited, t);
            }
            let hotel = input
                .hotels_named
                .first()
                .map(|h| h.name.clone())
                .or_else(|| state.hotels.first().map(|h| h.name.clone()));
            if hotel.is_some() {
                return to_manager(state, topic_name(q.topic), hotel, &input.text, &[], t);
            }
            unknown(state, awaited, t)
        }
    }
}

fn topic_name(topic: QuestionTopic) -> &'static str {
    match topic {
        QuestionTopic::Beach => "beach",
        QuestionTopic::Hotel => "hotel",
        QuestionTopic::Compare => "compare",
        _ => "other",
    }
}

/// The FAQ's answer to the message, or the entry `topic` when the message matches none.
fn faq_answer<'f>(input: &TurnInput, topic: &str, t: &Talk<'f>) -> Option<&'f str> {
    t.ctx
        .faq
        .answer(&input.text, t.lang)
        .or_else(|| t.ctx.faq.topic(topic, t.lang))
        .map(|a| a.text)
}

/// A general question about the tour: the FAQ answers it, then the search goes on.
fn faq(
    state: &mut DialogState,
    input: &TurnInput,
    topic: &str,
    awaited: &[Need],
    t: &Talk<'_>,
) -> Result<Step, TemplateError> {
    match faq_answer(input, topic, t) {
        Some(text) => with_reask(state, Reply::text(text), awaited, t),
        None => to_manager(state, "other", None, &input.text, &[], t),
    }
}

/// The answer, then what the bot was waiting for.
fn with_reask(
    state: &mut DialogState,
    answer: Reply,
    awaited: &[Need],
    t: &Talk<'_>,
) -> Result<Step, TemplateError> {
    let mut replies = vec![answer];
    if !awaited.is_empty() {
        replies.push(ask::ask(state, t, Some(awaited.to_vec()), false, false)?);
    }
    Ok(Step::Reply(TurnOutcome {
        replies,
        events: Vec::new(),
    }))
}

/// Nothing here answers it: the LLM may, else the FAQ's "a manager will tell you".
fn unknown(state: &mut DialogState, awaited: &[Need], t: &Talk<'_>) -> Result<Step, TemplateError> {
    state.awaiting = awaited.to_vec();
    Ok(Step::FreeForm {
        language: t.lang,
        fallback: reply(t.say(&r::FaqUnknown {})?),
    })
}

/// Facts of offers on screen: price, meal, room, flight dates, availability, a comparison.
fn facts(
    state: &DialogState,
    topic: &'static str,
    targets: &[(usize, Offer)],
    all: bool,
    t: &Talk<'_>,
) -> Result<Step, TemplateError> {
    let views = targets
        .iter()
        .map(|(n, o)| offer_view(o, *n, None, t))
        .collect::<Result<Vec<OfferView>, _>>()?;
    let cheapest = targets
        .iter()
        .min_by_key(|(_, o)| o.price)
        .map(|(n, o)| offer_view(o, *n, None, t))
        .transpose()?;
    let stars = |o: &Offer| o.stars.or(split_category(&o.hotel).1).unwrap_or(0);
    let best = targets
        .iter()
        .max_by_key(|(n, o)| (stars(o), std::cmp::Reverse(o.price), std::cmp::Reverse(*n)))
        .filter(|(n, o)| stars(o) > 0 && Some(*n) != cheapest.as_ref().map(|c| c.n))
        .map(|(n, o)| offer_view(o, *n, None, t))
        .transpose()?;
    let party = state
        .shown
        .as_ref()
        .map(|s| ask::party_view(&s.query))
        .unwrap_or_default();
    Ok(Step::Reply(reply(t.say(&r::OfferFacts {
        topic,
        offers: views,
        all,
        cheapest,
        best,
        party,
    })?)))
}

/// A question the bot cannot answer: a manager gets it as a question, the customer is told
/// so and when.
pub(super) fn to_manager(
    state: &mut DialogState,
    topic: &'static str,
    hotel: Option<String>,
    text: &str,
    targets: &[(usize, Offer)],
    t: &Talk<'_>,
) -> Result<Step, TemplateError> {
    to_manager_about(state, topic, hotel, text, targets, Vec::new(), t).map(Step::Reply)
}

/// [`to_manager`], saying what the descriptions do not mention (`missing`, the customer's
/// words).
pub(super) fn to_manager_about(
    state: &mut DialogState,
    topic: &'static str,
    hotel: Option<String>,
    text: &str,
    targets: &[(usize, Offer)],
    missing: Vec<String>,
    t: &Talk<'_>,
) -> Result<TurnOutcome, TemplateError> {
    let hotel = hotel.or_else(|| match targets {
        [(_, o)] => Some(split_category(&o.hotel).0),
        _ => None,
    });
    let mut outcome = reply(t.say(&r::QuestionToManager {
        topic,
        hotel,
        manager: true,
        missing,
    })?);
    let offers: Vec<Offer> = targets.iter().map(|(_, o)| o.clone()).collect();
    outcome.events.push(escalate(
        state,
        EscalationReason::Question,
        EscalationDetails {
            question: Some(topic.to_owned()),
            text: Some(text.to_owned()),
            offers: Some(offers),
            query: state.shown.as_ref().map(|s| s.query.clone()),
            ..EscalationDetails::default()
        },
    ));
    Ok(outcome)
}

/// Answers a question about hotels with the operator's descriptions.
pub(super) fn explain(
    state: &mut DialogState,
    request: &DetailsRequest,
    details: &[Option<HotelDetails>],
    t: &Talk<'_>,
) -> Result<TurnOutcome, TemplateError> {
    let beach = request.topic == QuestionTopic::Beach;
    // What about the hotel is asked ("анимация", "для детей", "pool"): only the parts that
    // speak of it answer; what no description mentions goes to a manager.
    let subject = if beach {
        Vec::new()
    } else {
        asked_about(state, &request.text)
    };
    let mut mentioned = vec![false; subject.len()];
    let mut hotels = Vec::new();
    let mut foreign = false;
    for ((n, _), found) in request.hotels.iter().zip(details) {
        let Some(d) = found else { continue };
        let all_parts = if beach {
            beach_parts(d)
        } else if subject.is_empty() {
            hotel_parts(d)
        } else {
            let stems: Vec<&str> = subject.iter().map(|(_, s)| s.as_str()).collect();
            let parts = subject_parts(d, &stems);
            for (k, (_, stem)) in subject.iter().enumerate() {
                mentioned[k] |= parts
                    .iter()
                    .any(|p| folded_words(p).iter().any(|w| w.starts_with(stem.as_str())));
            }
            parts
        };
        let metres = if beach {
            all_parts.iter().filter_map(|p| metres_to_sea(p)).min()
        } else {
            None
        };
        // The operator writes in Russian: an English reader gets only what can be said in
        // English (the distance to the sea), never the Russian words.
        let before = all_parts.len();
        let parts: Vec<String> = all_parts
            .into_iter()
            .filter(|p| t.lang != Language::En || !cyrillic(p))
            .collect();
        // An English question looked for in a Russian description finds nothing: say so.
        foreign |= parts.len() < before
            || (t.lang == Language::En
                && d.sections
                    .iter()
                    .any(|s| cyrillic(&s.title) || cyrillic(&s.text)));
        if parts.is_empty() && metres.is_none() {
            continue;
        }
        let hotel = state
            .shown
            .as_ref()
            .and_then(|s| s.get(*n as u32))
            .map(|o| split_category(&o.hotel).0)
            .unwrap_or_else(|| split_category(&d.hotel).0);
        hotels.push(HotelView {
            n: *n,
            hotel,
            parts,
            metres,
        });
    }
    let targets: Vec<(usize, Offer)> = request
        .hotels
        .iter()
        .filter_map(|(n, _)| {
            let o = state.shown.as_ref()?.get(*n as u32)?.clone();
            Some((*n, o))
        })
        .collect();
    if hotels.is_empty() {
        // Described, but in Russian only, for an English reader: a manager answers in English.
        let described = details.iter().any(Option::is_some);
        let (topic, missing) = if foreign {
            ("foreign", Vec::new())
        } else if described && !subject.is_empty() {
            // Described, but not what was asked about.
            ("missing", subject.iter().map(|(w, _)| w.clone()).collect())
        } else {
            (topic_name(request.topic), Vec::new())
        };
        return to_manager_about(state, topic, None, &request.text, &targets, missing, t);
    }
    // Asked about something no description mentions: said so, and a manager gets the question.
    let missing: Vec<String> = subject
        .iter()
        .zip(&mentioned)
        .filter(|(_, m)| !**m)
        .map(|((word, _), _)| word.clone())
        .collect();
    // The nearest to the sea, when the descriptions say and one is nearest.
    let closest = if beach && request.all {
        let known: Vec<(usize, u32)> = hotels
            .iter()
            .filter_map(|h| h.metres.map(|m| (h.n, m)))
            .collect();
        let least = known.iter().map(|(_, m)| *m).min();
        match least {
            Some(m) if known.iter().filter(|(_, x)| *x == m).count() == 1 => {
                known.iter().find(|(_, x)| *x == m).map(|(n, _)| *n)
            }
            _ => None,
        }
    } else {
        None
    };
    let mut outcome = reply(t.say(&r::HotelInfo {
        topic: if beach { "beach" } else { "hotel" },
        hotels,
        closest,
        foreign,
        missing: missing.clone(),
    })?);
    if !missing.is_empty() {
        let offers: Vec<Offer> = targets.iter().map(|(_, o)| o.clone()).collect();
        outcome.events.push(escalate(
            state,
            EscalationReason::Question,
            EscalationDetails {
                question: Some("hotel".to_owned()),
                text: Some(request.text.clone()),
                not_in_description: Some(missing),
                offers: Some(offers),
                query: state.shown.as_ref().map(|s| s.query.clone()),
                ..EscalationDetails::default()
            },
        ));
    }
    Ok(outcome)
}

/// Words of a question that are not about asking ("какой", "есть", "отель", "which",
/// "бар"…): what it asks about, as written and as a stem ("анимация" → "анимац", "детей" →
/// "дет", "kids" → "kid"). Empty for "расскажите про первый отель".
/// What about the hotels a question asks ("для детей", "pool"), without the hotels' and
/// resorts' own names (they say which hotel, not what about it).
fn asked_about(state: &DialogState, text: &str) -> Vec<(String, String)> {
    let names: Vec<String> = state
        .shown
        .iter()
        .flat_map(|s| &s.offers)
        .flat_map(|o| folded_words(&format!("{} {}", o.hotel, o.resort)))
        .collect();
    subject_words(text)
        .into_iter()
        .filter(|(w, _)| !names.contains(w))
        .collect()
}

fn subject_words(text: &str) -> Vec<(String, String)> {
    const STOP: &[&str] = &[
        "какой",
        "какая",
        "какое",
        "какие",
        "каком",
        "какого",
        "каких",
        "какую",
        "какой-то",
        "который",
        "которая",
        "которое",
        "которые",
        "котором",
        "которой",
        "есть",
        "там",
        "тут",
        "этом",
        "этот",
        "этой",
        "этих",
        "том",
        "тот",
        "той",
        "отель",
        "отеле",
        "отеля",
        "отели",
        "отелях",
        "отелей",
        "гостиница",
        "гостинице",
        "вариант",
        "варианте",
        "варианта",
        "первый",
        "первом",
        "первого",
        "второй",
        "втором",
        "второго",
        "третий",
        "третьем",
        "четвертый",
        "четвертом",
        "пятый",
        "пятом",
        "расскажите",
        "подробнее",
        "скажите",
        "подскажите",
        "хороший",
        "хорошая",
        "хорошее",
        "хорошо",
        "нормальный",
        "лучше",
        "лучший",
        "лучшая",
        "лучшее",
        "best",
        "better",
        "них",
        "ним",
        "ними",
        "нас",
        "нам",
        "вас",
        "вам",
        "мне",
        "меня",
        "для",
        "our",
        "вообще",
        "можно",
        "будет",
        "нибудь",
        "ли",
        "что",
        "как",
        "где",
        "это",
        "отелем",
        "how",
        "where",
        "like",
        "кандай",
        "the",
        "which",
        "what",
        "whats",
        "there",
        "have",
        "has",
        "does",
        "good",
        "nice",
        "option",
        "first",
        "second",
        "third",
        "fourth",
        "fifth",
        "one",
        "this",
        "that",
        "them",
        "they",
        "with",
        "hotel",
        "hotels",
        "tell",
        "about",
        "more",
        "details",
        "any",
        "for",
        "is",
        "are",
        "кайсы",
        "кайсысы",
        "кайсысында",
        "бар",
        "ма",
        "ме",
        "кунакуй",
        "кунакуйде",
        "нуска",
        "нускада",
        "бирінши",
        "екинши",
        "жаксы",
        "туралы",
        "айтыныз",
        "айтып",
    ];
    const ENDINGS: &[&str] = &[
        "ция", "ия", "ей", "ой", "ий", "ая", "ое", "ые", "ых", "ом", "ем", "ам", "ям", "ах", "ях",
        "ов", "ев", "а", "я", "ы", "и", "е", "у", "ю", "о", "es", "s",
    ];
    folded_words(text)
        .into_iter()
        .filter(|w| w.chars().count() >= 3 && !STOP.contains(&w.as_str()))
        .filter(|w| w.chars().any(char::is_alphabetic) && !w.chars().all(|c| c.is_ascii_digit()))
        .map(|w| {
            let stem = ENDINGS
                .iter()
                .find_map(|e| {
                    w.strip_suffix(e)
                        .filter(|s| s.chars().count() >= 3)
                        .map(|s| {
                            if *e == "ция" {
                                format!("{s}ц")
                            } else {
                                s.to_owned()
                            }
                        })
                })
                .unwrap_or_else(|| w.clone());
            (w, stem)
        })
        .collect()
}

/// The parts of a description that mention one of `stems`: a section whose title does,
/// whole; otherwise its sentences that do.
fn subject_parts(d: &HotelDetails, stems: &[&str]) -> Vec<String> {
    let speaks = |text: &str| {
        folded_words(text)
            .iter()
            .any(|w| stems.iter().any(|s| w.starts_with(s)))
    };
    let mut parts = Vec::new();
    for s in &d.sections {
        if s.text.trim().is_empty() {
            continue;
        }
        if speaks(&s.title) {
            parts.push(titled(&s.title, &shorten(&s.text, PART_CHARS)));
        } else {
            let found: Vec<&str> = sentences(&s.text)
                .into_iter()
                .filter(|x| speaks(x))
                .collect();
            if !found.is_empty() {
                parts.push(titled(&s.title, &shorten(&found.join(" "), PART_CHARS)));
            }
        }
    }
    parts.truncate(3);
    parts
}

/// Whether a text has Cyrillic letters (the operator's Russian).
fn cyrillic(text: &str) -> bool {
    text.chars().any(|c| ('\u{0400}'..='\u{04FF}').contains(&c))
}

/// Words of a description about the beach and the sea (folded prefixes).
const BEACH_WORDS: &[&str] = &[
    "пляж",
    "мор",
    "берег",
    "побереж",
    "линия",
    "линии",
    "океан",
    "beach",
    "sea",
    "coast",
    "shore",
    "line",
    "ocean",
    "жагажай",
    "теңіз",
    "тениз",
];

fn about_beach(text: &str) -> bool {
    folded_words(text)
        .iter()
        .any(|w| BEACH_WORDS.iter().any(|b| w.starts_with(b)))
}

/// The parts of a description about the beach: titled sections whole, otherwise the
/// sentences that mention it.
fn beach_parts(d: &HotelDetails) -> Vec<String> {
    let mut parts = Vec::new();
    for s in &d.sections {
        if s.text.trim().is_empty() {
            continue;
        }
        if about_beach(&s.title) {
            parts.push(titled(&s.title, &shorten(&s.text, PART_CHARS)));
        } else {
            let sentences: Vec<&str> = sentences(&s.text)
                .into_iter()
                .filter(|x| about_beach(x))
                .collect();
            if !sentences.is_empty() {
                parts.push(titled(&s.title, &shorten(&sentences.join(" "), PART_CHARS)));
            }
        }
    }
    parts.truncate(3);
    parts
}

/// The first sections of a description, shortened.
fn hotel_parts(d: &HotelDetails) -> Vec<String> {
    d.sections
        .iter()
        .filter(|s| !s.text.trim().is_empty())
        .take(3)
        .map(|s| titled(&s.title, &shorten(&s.text, PART_CHARS)))
        .collect()
}

fn titled(title: &str, text: &str) -> String {
    let title = title.trim().trim_end_matches(':');
    if title.is_empty() {
        text.to_owned()
    } else {
        format!("{title}: {text}")
    }
}

fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if matches!(c, '.' | '!' | '?' | ';' | '\n') {
            let s = text[start..i + c.len_utf8()].trim();
            if !s.is_empty() {
                out.push(s);
            }
            start = i + c.len_utf8();
        }
    }
    let rest = text[start..].trim();
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

/// At most `max` characters, cut at the end of a sentence or a word, with "…".
fn shorten(text: &str, max: usize) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= max {
        return text;
    }
    let cut: String = text.chars().take(max).collect();
    if let Some(i) = cut.rfind(['.', '!', '?'])
        && i > max / 2
    {
        return cut[..=i].to_owned();
    }
    let at = cut.rfind(' ').unwrap_or(cut.len());
    format!("{}…", cut[..at].trim_end_matches([',', ';', ':', ' ']))
}

/// Metres to the sea a text gives: "первая линия" is 0, "300 м до пляжа" 300, "1,2 км" 1200.
fn metres_to_sea(text: &str) -> Option<u32> {
    let lower = text.to_lowercase().replace('ё', "е");
    const FIRST_LINE: &[&str] = &[
        "первая линия",
        "первой линии",
        "1-я линия",
        "1 линия",
        "1-й линии",
        "first line",
        "1st line",
        "beachfront",
        "на берегу",
        "собственный пляж",
        "private beach",
        "бірінші жағалау",
    ];
    if FIRST_LINE.iter().any(|p| lower.contains(p)) {
        return Some(0);
    }
    let chars: Vec<char> = lower.chars().collect();
    let mut best: Option<u32> = None;
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() || (i > 0 && chars[i - 1].is_alphanumeric()) {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == ',' || chars[i] == '.') {
            i += 1;
        }
        let number: String = chars[start..i]
            .iter()
            .map(|c| if *c == ',' { '.' } else { *c })
            .collect();
        let number = number.trim_end_matches('.');
        let mut j = i;
        while j < chars.len() && chars[j] == ' ' {
            j += 1;
        }
        let unit: String = chars[j..].iter().take(6).collect();
        let word_end = |s: &str| {
            unit.starts_with(s)
                && !unit[s.len()..]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_alphabetic())
        };
        let factor = if word_end("км") || word_end("km") {
            1000.0
        } else if word_end("м")
            || word_end("m")
            || unit.starts_with("метр")
            || unit.starts_with("meter")
            || unit.starts_with("metre")
        {
            1.0
        } else {
            continue;
        };
        if let Ok(v) = number.parse::<f64>() {
            let m = (v * factor).round() as u32;
            best = Some(best.map_or(m, |b| b.min(m)));
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_to_the_sea_are_read_from_descriptions() {
        assert_eq!(
            metres_to_sea("Отель на первой линии, пляж песчаный"),
            Some(0)
        );
        assert_eq!(
            metres_to_sea("До пляжа 300 м, бесплатный трансфер"),
            Some(300)
        );
        assert_eq!(metres_to_sea("Пляж в 1,2 км от отеля"), Some(1200));
        assert_eq!(metres_to_sea("Beach: 150 meters away"), Some(150));
        assert_eq!(metres_to_sea("2 бассейна, 3 ресторана"), None);
        assert_eq!(metres_to_sea("Пляж муниципальный, 5 минут пешком"), None);
    }

    #[test]
    fn long_parts_are_shortened_at_a_sentence() {
        let long = "Песчаный пляж. ".repeat(40);
        let s = shorten(&long, 100);
        assert!(s.chars().count() <= 100 && s.ends_with('.'), "{s}");
        let s = shorten(&"слово ".repeat(60), 50);
        assert!(s.ends_with('…'), "{s}");
    }
}
