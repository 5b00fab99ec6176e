//! What a conversation remembers between messages. Stored as JSON with the conversation, so
//! every field has a default: a state written by an older version still loads (the language
//! was a code string, `"ru"`, which reads as [`Language::Ru`]).

use crate::analysis::{Language, Slots};
use crate::search::{NamedHotel, Offer, SearchQuery};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DialogState {
    /// Messages handled so far in this conversation.
    pub turns: u32,
    /// The conversation's language: the customer's, kept through a short line in another
    /// language or a hotel's name.
    pub language: Option<Language>,
    /// The language is settled (a message of a few words, or two in a row, were in it).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub language_firm: bool,
    /// Another language the last message was in, not yet taken.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language_pending: Option<Language>,
    /// Everything the customer has said about the trip and themselves, newest values kept.
    pub slots: Slots,
    /// Resorts named as alternatives to `slots.resort` ("Нячанг или Камрань"): searched too.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resorts_also: Vec<String>,
    /// Hotels the customer asked for by name, searched with.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hotels: Vec<NamedHotel>,
    /// The departure date was approximate ("around the 20th"): a wider window around it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub approximate: bool,
    /// What the last reply asked for, so a bare "10" or "2" can be read as its answer.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub awaiting: Vec<Need>,
    /// The last search and the offers shown from it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shown: Option<Shown>,
    /// The last search found nothing, not even near it, and a manager took the request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nothing_found: Option<SearchQuery>,
    /// The search under way is "подешевле": offers below this price (the cheapest on screen).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cheaper: Option<u64>,
    /// Messages in a row the bot could not understand.
    pub not_understood: u32,
    /// Offer ids already handed to a manager as booking requests.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub booked: Vec<String>,
    /// Replies decided before a search of this same turn, sent before its results (an
    /// answer to a question asked with new parameters). Never stored.
    #[serde(skip)]
    pub preface: Option<crate::turn::TurnOutcome>,
    /// Fingerprints of the replies of the last turn, so the next turn never says the same
    /// thing again word for word.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub recent: Vec<u64>,
    /// What the bot said since the chat was handed to a manager (see `handover`).
    #[serde(skip_serializing_if = "crate::handover::memory::Memory::is_empty")]
    pub handover: crate::handover::memory::Memory,
}

/// A search parameter the bot may have to ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Need {
    Destination,
    DepartureCity,
    Dates,
    Nights,
    Party,
    ChildAges,
}

/// A search whose offers the customer has seen. Offers are numbered from 1 across pages, in
/// the order shown, so "вариант 7" means the same offer it meant on screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shown {
    pub query: SearchQuery,
    pub offers: Vec<Offer>,
    /// More offers exist after the last one shown.
    pub more: bool,
    /// Position of the first offer of the last page shown ("какой из них" means that page).
    #[serde(default)]
    pub page: usize,
    /// Nothing matched the query exactly: these are the nearest real offers.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub nearest: bool,
}

impl Shown {
    /// The offers of the last page shown, with their numbers on screen.
    pub fn last_page(&self) -> impl Iterator<Item = (usize, &Offer)> {
        self.offers
            .iter()
            .enumerate()
            .skip(self.page.min(self.offers.len().saturating_sub(1)))
            .map(|(i, o)| (i + 1, o))
    }

    /// Offer number `n` (from 1).
    pub fn get(&self, n: u32) -> Option<&Offer> {
        (n as usize).checked_sub(1).and_then(|i| self.offers.get(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_stored_by_an_older_version_still_loads() {
        let old = serde_json::json!({
            "turns": 3,
            "language": "kk",
            "slots": {"resort": "Nha Trang", "adults": 2},
            "awaiting": ["dates"],
            "shown": {
                "query": {
                    "departure_city": "Almaty", "country": "Vietnam", "resort": "Nha Trang",
                    "date_from": "2027-03-01", "date_to": "2027-03-10",
                    "nights_from": 10, "nights_to": 10, "adults": 2
                },
                "offers": [],
                "more": false
            },
            "not_understood": 0
        });
        let state: DialogState = serde_json::from_value(old).unwrap();
        assert_eq!(state.language, Some(Language::Kk));
        assert_eq!(state.awaiting, [Need::Dates]);
        let shown = state.shown.unwrap();
        assert_eq!(shown.query.resorts, ["Nha Trang"]);
        assert_eq!((shown.page, shown.nearest), (0, false));
        let again: DialogState =
            serde_json::from_value(serde_json::to_value(DialogState::default()).unwrap()).unwrap();
        assert_eq!(again, DialogState::default());
    }
}
