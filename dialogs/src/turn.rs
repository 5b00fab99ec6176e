//! One turn of a conversation as plain values: what came in, what the bot says back, and what
//! else should happen (events for the CRM and the managers).

use serde::{Deserialize, Serialize};

/// A customer message as the dialog sees it: channel details already stripped away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnInput {
    pub text: String,
    /// The reference date for relative dates ("завтра", "в марте").
    pub today: chrono::NaiveDate,
    /// Set when the customer pressed a button: its [`Button::action`].
    pub action: Option<String>,
    /// The customer's phone when the channel itself gives it (WhatsApp), E.164.
    pub customer_phone: Option<String>,
    /// Whether managers are at work now (`None`: as if they were).
    pub office: Option<crate::hours::Office>,
    /// Hotels of the operator's list that the text names, found by the caller (the dialog
    /// does no I/O), best match first.
    pub hotels_named: Vec<crate::search::NamedHotel>,
    /// What the operator says about the route the text names (a departure city, a
    /// country), when the caller checked it and it is not offered ("из Караганды есть
    /// вылеты?"): the failure a search would give, with its alternatives. `None`: not
    /// checked, or offered.
    pub route: Option<crate::search::SearchFailure>,
}

impl TurnInput {
    /// A typed message.
    pub fn text(text: impl Into<String>, today: chrono::NaiveDate) -> Self {
        Self {
            text: text.into(),
            today,
            action: None,
            customer_phone: None,
            office: None,
            hotels_named: Vec::new(),
            route: None,
        }
    }
}

/// A button under a reply (Telegram inline keyboard; other channels show the label as text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    pub label: String,
    /// What pressing it sends back to the conversation (Telegram callback data).
    pub action: String,
}

/// One message the bot sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<Button>,
}

impl Reply {
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            buttons: Vec::new(),
        }
    }
}

/// Why a chat is handed to a manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalationReason {
    HumanRequest,
    Complaint,
    BookingRequest,
    NotUnderstood,
    SearchUnavailable,
    Keyword,
    /// A question about an offer or a hotel the bot cannot answer from what it has (not a
    /// booking): the manager answers it.
    Question,
    /// A search found nothing, not even near the query: the manager looks for options.
    NothingFound,
    /// The customer writes about a trip already bought.
    ExistingBooking,
}

impl EscalationReason {
    /// The stored name (`human_request`, `booking_request`, …), as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            EscalationReason::HumanRequest => "human_request",
            EscalationReason::Complaint => "complaint",
            EscalationReason::BookingRequest => "booking_request",
            EscalationReason::NotUnderstood => "not_understood",
            EscalationReason::SearchUnavailable => "search_unavailable",
            EscalationReason::Keyword => "keyword",
            EscalationReason::Question => "question",
            EscalationReason::NothingFound => "nothing_found",
            EscalationReason::ExistingBooking => "existing_booking",
        }
    }

    /// Every reason, in declaration order.
    pub const ALL: [EscalationReason; 9] = [
        EscalationReason::HumanRequest,
        EscalationReason::Complaint,
        EscalationReason::BookingRequest,
        EscalationReason::NotUnderstood,
        EscalationReason::SearchUnavailable,
        EscalationReason::Keyword,
        EscalationReason::Question,
        EscalationReason::NothingFound,
        EscalationReason::ExistingBooking,
    ];

    /// The reason stored as `name` ([`EscalationReason::as_str`]); `None` for a name the
    /// dialog does not give (the engine's own, such as `undelivered`).
    pub fn parse(name: &str) -> Option<EscalationReason> {
        Self::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

/// What a manager is told with an escalation: the customer's words, the trip so far, and what
/// is specific to the reason (the chosen offer, the failed search, the question). Stored as a
/// JSON object with these keys, a key absent when it has no value. The dialog fills the trip
/// and the reason's part; the engine's own escalations (a message that failed, a reply not
/// delivered) fill `text`, `error` and the ids.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EscalationDetails {
    /// The conversation's language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<crate::analysis::Language>,
    /// The search parameters gathered so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slots: Option<crate::analysis::Slots>,
    /// Resorts named as alternatives to `slots.resort`, searched too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resorts_also: Vec<String>,
    /// Hotels the customer asked for by name, searched with.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hotels: Vec<crate::search::NamedHotel>,
    /// What the customer wrote (for an undelivered reply: the bot's text not delivered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The offer chosen for booking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer: Option<crate::search::Offer>,
    /// The chosen offer's number on screen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<u32>,
    /// The search the escalation is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<crate::search::SearchQuery>,
    /// Who travels, as the booking reply told the customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub party: Option<crate::search::PartyView>,
    /// What failed: the search, the turn, the delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The topic of a question passed to the manager (`beach`, `hotel`, `foreign`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question: Option<String>,
    /// The offers a question is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offers: Option<Vec<crate::search::Offer>>,
    /// What the customer asked about that no hotel description mentions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_in_description: Option<Vec<String>>,
    /// The customer repeated the same message: the bot went round in circles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeated: Option<bool>,
    /// The inbox messages that failed for good (a parked message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbox_ids: Option<Vec<i64>>,
    /// The reply the outbox gave up (an undelivered reply).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbox_id: Option<String>,
}

/// Something besides replies that a turn asks the engine to do. Stored durably with the turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DialogEvent {
    /// Bring a manager in: the chat passes to `Owner::Waiting`.
    Escalate {
        reason: EscalationReason,
        /// Everything a manager needs: search parameters, the chosen offer, the error (boxed:
        /// the other events are small).
        details: Box<EscalationDetails>,
    },
    /// Something the customer added while the chat waits for a manager or a manager owns it:
    /// kept on the chat's open escalation for the manager and relayed to the managers' chat
    /// (see [`crate::handover`]).
    FollowUp {
        /// What the customer wrote (for a button or a shared contact: what they did).
        text: String,
        /// Why it cannot wait for the next reminder; `None` when it can.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        urgency: Option<crate::handover::memory::Urgency>,
    },
}

/// What the dialog decided for one turn.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TurnOutcome {
    pub replies: Vec<Reply>,
    pub events: Vec<DialogEvent>,
}
