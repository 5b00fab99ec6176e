//! What each reply template is given: one `#[derive(Serialize)]` struct per template of
//! `prompts/replies/<lang>/<name>.j2`, tied to its name by [`Template`]. The policy renders a
//! template only through its struct, so a template is always given the fields its struct has
//! and nothing else; the admin validation of edited templates (`src/documents/samples.rs`)
//! renders them with sample values of the same structs and refuses a template that uses a
//! field no struct has.
//!
//! Every template is also given `office` (are managers at work, and if not, when), added by
//! the renderer. Values are already formatted for the customer's language (money, dates,
//! place names); codes (`meal`, `availability`, `kind`) are words the templates translate.

use crate::state::Need;
use serde::Serialize;

/// A reply template's context: the struct and the template's name.
pub trait Template: Serialize {
    /// The template's name (`replies/<lang>/<NAME>`).
    const NAME: &'static str;
}

macro_rules! named {
    ($($ty:ty => $name:literal),* $(,)?) => {
        $(impl Template for $ty { const NAME: &'static str = $name; })*
    };
}

named![
    Greeting => "greeting",
    Ask => "ask",
    Summary => "summary",
    Offers => "offers",
    NoOffers => "no_offers",
    NoMoreOffers => "no_more_offers",
    NoCheaper => "no_cheaper",
    AfterEmpty => "after_empty",
    NoList => "no_list",
    NotOffered => "not_offered",
    NotSold => "not_sold",
    NotPackage => "not_package",
    ExistingBooking => "existing_booking",
    SearchUnavailable => "search_unavailable",
    Booking => "booking",
    WhichOffer => "which_offer",
    OfferFacts => "offer_facts",
    HotelInfo => "hotel_info",
    QuestionToManager => "question_to_manager",
    PriceLater => "price_later",
    Repeated => "repeated",
    Human => "human",
    Complaint => "complaint",
    Thanks => "thanks",
    FaqUnknown => "faq_unknown",
    NotUnderstood => "not_understood",
    Sorry => "sorry",
    Media => "media",
    ContactThanks => "contact_thanks",
    Waiting => "waiting",
    WhenManager => "when_manager",
    Meal => "meal",
    ButtonBook => "button_book",
    ButtonMore => "button_more",
    ButtonManager => "button_manager",
];

/// The first message of a chat (`again`: the customer greets or restarts later on).
#[derive(Debug, Clone, Serialize)]
pub struct Greeting {
    pub again: bool,
}

/// Asks for what the search still needs.
#[derive(Debug, Clone, Serialize)]
pub struct Ask {
    /// What to ask for, at most two, in order.
    pub missing: Vec<Need>,
    /// What is known so far.
    pub known: SearchView,
    /// This message added something worth confirming ("Записал: …"); never with nothing known.
    pub has_known: bool,
    /// The same thing was asked just before and the answer did not fit: ask with an example.
    pub again: bool,
}

/// The search's parameters as one phrase (a fragment other templates include as `search`).
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub search: SearchView,
}

/// A search's parameters, formatted for the customer. `None`/empty: not known.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SearchView {
    /// "Нячанг" or "Нячанг или Камрань", else the country.
    pub destination: Option<String>,
    pub departure_city: Option<String>,
    /// The departure window searched: "26–30 декабря", "1–31 марта".
    pub dates: Option<String>,
    /// The day the customer named when the window was widened around it: "28 декабря".
    pub near: Option<String>,
    /// Its day of the month (for "рядом с 28-м").
    pub near_day: Option<u32>,
    /// "10" or "7–9".
    pub nights: Option<String>,
    pub adults: Option<u32>,
    /// Children, when there are any.
    pub children: Option<u32>,
    pub child_ages: Vec<u32>,
    /// "1 500 000 ₸".
    pub budget: Option<String>,
    pub stars: Option<u8>,
    /// The meal plan asked for, in words.
    pub meal: Option<String>,
    /// Hotels asked for by name.
    pub hotels: Vec<String>,
}

/// A list of offers.
#[derive(Debug, Clone, Serialize)]
pub struct Offers {
    pub search: SearchView,
    pub offers: Vec<OfferView>,
    /// More offers exist after these.
    pub more: bool,
    /// A next page of the same list.
    pub continued: bool,
    /// Nothing matched exactly: these are the nearest real offers, each with what differs.
    pub nearest: bool,
}

/// One offer as the customer reads it.
#[derive(Debug, Clone, Serialize)]
pub struct OfferView {
    /// Its number on screen, from 1 across pages.
    pub n: usize,
    /// The operator's name without a category it may end in ("Jade Heron Seaside Inn").
    pub hotel: String,
    pub stars: Option<u8>,
    pub resort: String,
    /// "02.03.2027".
    pub check_in: String,
    /// The day of the flight back: "12.03.2027".
    pub back: String,
    pub nights: u32,
    /// In words ("всё включено").
    pub meal: String,
    pub room: String,
    /// For the whole party: "1 234 567 ₸".
    pub price: String,
    /// `available`, `seats_left` or `on_request`.
    pub availability: &'static str,
    pub seats: Option<u32>,
    /// How it differs from what was asked (nearest offers only).
    pub differs: Vec<Difference>,
}

/// One way a nearest offer differs from the query.
#[derive(Debug, Clone, Serialize)]
pub struct Difference {
    /// `date`, `nights`, `stars`, `meal`, `resort`, `hotel` or `budget`.
    pub kind: &'static str,
    /// What was asked, formatted ("26–30 декабря", "5", "всё включено"; the budget).
    pub asked: String,
    /// What the offer has ("02.01", "4", "завтраки"; for `budget`, how much more it costs).
    pub offered: String,
}

/// Nothing found, not even near the query: a manager takes the request over.
#[derive(Debug, Clone, Serialize)]
pub struct NoOffers {
    pub search: SearchView,
    /// The query had a budget.
    pub cheaper: bool,
    /// A manager was brought in with this message (else one already has the request).
    pub manager: bool,
}

/// The customer asked for more and there is no more.
#[derive(Debug, Clone, Serialize)]
pub struct NoMoreOffers {}

/// "Подешевле" and there is nothing cheaper: the cheapest on screen, and the list stays.
#[derive(Debug, Clone, Serialize)]
pub struct NoCheaper {
    pub cheapest: Option<OfferView>,
    pub party: PartyView,
}

/// "ещё?", "подешевле", "берем 3"… after a search that found nothing.
#[derive(Debug, Clone, Serialize)]
pub struct AfterEmpty {
    /// `more`, `cheaper`, `choice` or `booking`.
    pub asked: &'static str,
    /// The option number the customer wrote, for `choice`.
    pub n: Option<u32>,
}

/// A choice ("берем 3", "второй"), "ещё" or "подешевле" with no list of offers on screen.
#[derive(Debug, Clone, Serialize)]
pub struct NoList {
    /// `choice`, `more`, `cheaper`, `booking`, `question`, or `earlier` (offers "sent before").
    pub asked: &'static str,
    pub n: Option<u32>,
    /// Parameters are still missing (the next message asks for them).
    pub asking: bool,
}

/// The operator does not have a value of the search (a departure city, a resort…).
#[derive(Debug, Clone, Serialize)]
pub struct NotOffered {
    /// `departure_city`, `country`, `resort`, `dates`, `meal`, `stars` or `currency`.
    pub field: &'static str,
    pub value: String,
    /// What the operator has instead.
    pub alternatives: Vec<String>,
}

/// A destination the agency does not sell.
#[derive(Debug, Clone, Serialize)]
pub struct NotSold {
    /// As the customer reads it ("Таиланд").
    pub country: String,
    /// What is sold ("Вьетнам").
    pub sold: Vec<String>,
    /// Resorts to suggest ("Нячанг, Фукуок, Дананг").
    pub resorts: Vec<String>,
    /// The same country was just refused (another of its resorts is asked about, "а на
    /// Пхукет?"): said another way, not word for word again.
    pub again: bool,
}

/// Not a package tour: flights only or a hotel only.
#[derive(Debug, Clone, Serialize)]
pub struct NotPackage {
    /// `flights_only` or `hotel_only`.
    pub scope: &'static str,
}

/// A question about a trip already bought: a manager's matter.
#[derive(Debug, Clone, Serialize)]
pub struct ExistingBooking {
    pub need_phone: bool,
}

/// The live search does not work now; a manager has the request.
#[derive(Debug, Clone, Serialize)]
pub struct SearchUnavailable {}

/// A chosen offer, handed to a manager as a booking request.
#[derive(Debug, Clone, Serialize)]
pub struct Booking {
    pub offer: OfferView,
    /// Who travels: "2 взрослых и 1 ребёнок" is built by the template from these.
    pub party: PartyView,
    pub need_phone: bool,
    /// This offer was already requested.
    pub again: bool,
}

/// The party of a search (kept with the search's values; also in an escalation's details).
pub use crate::search::PartyView;

/// The customer wants to book but did not say which offer.
#[derive(Debug, Clone, Serialize)]
pub struct WhichOffer {
    /// Offers on screen.
    pub count: usize,
    /// The number the customer wrote, when it is not on screen.
    pub n: Option<u32>,
    /// The customer asked about the offer rather than booking it.
    pub question: bool,
}

/// An answer about offers on screen, from what the operator returned.
#[derive(Debug, Clone, Serialize)]
pub struct OfferFacts {
    /// `price`, `meal`, `room`, `flight`, `availability` or `compare`.
    pub topic: &'static str,
    /// The offers asked about (all on screen when none was named).
    pub offers: Vec<OfferView>,
    /// The customer named no offer: the answer covers the list (`price`: the cheapest).
    pub all: bool,
    /// The cheapest of `offers` (`price`, `compare`).
    pub cheapest: Option<OfferView>,
    /// The one of the highest category, when it is not the cheapest (`compare`).
    pub best: Option<OfferView>,
    pub party: PartyView,
}

/// What the operator's description says about hotels on screen.
#[derive(Debug, Clone, Serialize)]
pub struct HotelInfo {
    /// `beach` or `hotel`.
    pub topic: &'static str,
    pub hotels: Vec<HotelView>,
    /// The option nearest the sea, when the descriptions say how near.
    pub closest: Option<usize>,
    /// Parts of the descriptions were left out: they are in Russian and the customer reads
    /// English (a manager can tell more).
    pub foreign: bool,
    /// What the customer asked about that no description mentions, in their words
    /// ("анимация"): passed to a manager as a question.
    pub missing: Vec<String>,
}

/// One hotel's description, the parts that answer the question.
#[derive(Debug, Clone, Serialize)]
pub struct HotelView {
    /// The offer's number on screen.
    pub n: usize,
    pub hotel: String,
    /// "Пляж: 50 м, песчаный…" (the operator's words, shortened).
    pub parts: Vec<String>,
    /// Metres to the beach when the description says, or 0 for "first line".
    pub metres: Option<u32>,
}

/// A question the bot cannot answer from what it has: passed to a manager as a question.
#[derive(Debug, Clone, Serialize)]
pub struct QuestionToManager {
    /// `beach`, `hotel`, `compare`, `other`, `foreign` (described in Russian only, and the
    /// customer reads English) or `missing` (described, but not what was asked).
    pub topic: &'static str,
    /// The hotel it is about.
    pub hotel: Option<String>,
    /// A manager was brought in with this message (else one already has the chat).
    pub manager: bool,
    /// Topic `missing`: what the customer asked about that the description does not mention,
    /// in their words.
    pub missing: Vec<String>,
}

/// "Сколько стоит?" before any search: the price comes with the offers.
#[derive(Debug, Clone, Serialize)]
pub struct PriceLater {}

/// The reply would have been the same as the previous one: a shorter form, with a next step.
#[derive(Debug, Clone, Serialize)]
pub struct Repeated {
    /// What the bot is waiting for.
    pub missing: Vec<Need>,
    /// Offers on screen.
    pub offers: usize,
    /// A search found nothing and a manager has it.
    pub empty: bool,
}

/// A manager is brought in at the customer's request.
#[derive(Debug, Clone, Serialize)]
pub struct Human {
    pub need_phone: bool,
}

/// A complaint, passed to a manager.
#[derive(Debug, Clone, Serialize)]
pub struct Complaint {
    pub need_phone: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Thanks {
    /// A booking request is with a manager.
    pub booked: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ContactThanks {
    pub booked: bool,
}

/// A question the FAQ does not answer (when no LLM answers it either).
#[derive(Debug, Clone, Serialize)]
pub struct FaqUnknown {}

#[derive(Debug, Clone, Serialize)]
pub struct NotUnderstood {
    /// Messages in a row not understood (from 1).
    pub attempt: u32,
    /// It was the chat's first message.
    pub first: bool,
}

/// A technical failure: the message is kept and a manager answers.
#[derive(Debug, Clone, Serialize)]
pub struct Sorry {}

/// A photo, voice message or file with no text.
#[derive(Debug, Clone, Serialize)]
pub struct Media {}

/// "When a manager answers" (a fragment; it reads only `office`).
#[derive(Debug, Clone, Serialize)]
pub struct WhenManager {}

/// A meal code in words.
#[derive(Debug, Clone, Serialize)]
pub struct Meal {
    pub code: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ButtonBook {
    pub n: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ButtonMore {}

#[derive(Debug, Clone, Serialize)]
pub struct ButtonManager {}

/// An acknowledgement while the chat waits for a manager (see `crate::handover`): which one,
/// and the customer's phone for a call-back.
#[derive(Debug, Clone, Serialize)]
pub struct Waiting {
    pub ack: crate::handover::memory::Ack,
    pub phone: Option<String>,
}
