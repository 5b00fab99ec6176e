//! What a conversation remembers between messages. Stored as JSON with the conversation, so
//! every field has a default: a state written by an older version still loads.

use crate::analysis::Slots;
use crate::search::{Offer, SearchQuery};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DialogState {
    /// Messages handled so far in this conversation.
    pub turns: u32,
    /// The customer's language as last detected: `ru`, `kk` or `en`.
    pub language: Option<String>,
    /// Everything the customer has said about the trip and themselves, newest values kept.
    pub slots: Slots,
    /// What the last reply asked for, so a bare "10" or "2" can be read as its answer.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub awaiting: Vec<Need>,
    /// The last search and the offers shown from it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shown: Option<Shown>,
    /// Messages in a row the bot could not understand.
    pub not_understood: u32,
    /// Offer ids already handed to a manager as booking requests.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub booked: Vec<String>,
    /// What the bot said since the chat was handed to a manager (see `handover`).
    #[serde(skip_serializing_if = "crate::handover::Memory::is_empty")]
    pub handover: crate::handover::Memory,
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
}
