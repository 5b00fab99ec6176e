//! What the bot tells the CRM, as values: how far a conversation has come ([`DealStage`]), who
//! the customer is ([`LeadSnapshot`]), and the commands ([`CrmCommand`]) a turn produces
//! ([`commands_for_turn`]). Pure: the engine's Crm actor executes the commands in Bitrix24,
//! and its store keeps them in the CRM outbox.

use crate::analysis::Slots;
use crate::search::{Offer, SearchQuery};
use crate::turn::EscalationReason;
use crate::{Channel, DialogEvent, DialogState, TurnOutcome};
use serde::{Deserialize, Serialize};

/// How far a conversation has come, as the bot moves the deal forward. Later stages
/// (payment, confirmation…) belong to managers. Mapped to the portal's stage names by
/// configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DealStage {
    /// "Новый запрос": the customer wrote.
    New,
    /// "Консультация": a question was answered, or a manager brought in.
    Consultation,
    /// "Подбор тура": search parameters are being collected.
    TourSelection,
    /// "Коммерческое предложение": offers were shown.
    OfferShown,
}

/// Who the customer is and what they want, as of one turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadSnapshot {
    pub name: Option<String>,
    /// E.164.
    pub phone: Option<String>,
    pub email: Option<String>,
    /// Where the customer writes (stored by its name: `telegram`, `wazzup`, …).
    pub channel: Channel,
    pub stage: DealStage,
    pub slots: Slots,
}

/// One thing to tell the CRM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum CrmCommand {
    /// Make sure the contact (found by phone/email, else created) and the conversation's deal
    /// exist, with the search parameters in the deal's comments, at least at `lead.stage`.
    SyncLead { lead: LeadSnapshot },
    /// A timeline comment on the deal: why a manager was brought in, with the last messages.
    EscalationNote {
        reason: EscalationReason,
        excerpt: String,
    },
    /// A to-do for the responsible manager: the customer chose this offer.
    BookingTask { offer: Offer, query: SearchQuery },
}

impl CrmCommand {
    /// The command's name (stored with it in the CRM outbox).
    pub fn name(&self) -> &'static str {
        match self {
            CrmCommand::SyncLead { .. } => "sync_lead",
            CrmCommand::EscalationNote { .. } => "escalation_note",
            CrmCommand::BookingTask { .. } => "booking_task",
        }
    }
}

/// A command to store with a turn.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCrmCommand {
    pub id: String,
    pub command: CrmCommand,
}

/// What a lead is made of, as a conversation knows it at one moment: its channel, the
/// customer's details the conversation keeps, and the dialog state.
#[derive(Debug, Clone, Copy)]
pub struct LeadSource<'a> {
    pub channel: Channel,
    pub customer_name: Option<&'a str>,
    pub customer_phone: Option<&'a str>,
    pub customer_email: Option<&'a str>,
    pub state: &'a DialogState,
}

impl LeadSource<'_> {
    /// The lead at `stage`: the details the dialog gathered first, else the conversation's.
    fn snapshot(&self, stage: DealStage) -> LeadSnapshot {
        let slots = &self.state.slots;
        LeadSnapshot {
            name: (slots.name.clone()).or_else(|| self.customer_name.map(str::to_owned)),
            phone: (slots.phone.clone()).or_else(|| self.customer_phone.map(str::to_owned)),
            email: (slots.email.clone()).or_else(|| self.customer_email.map(str::to_owned)),
            channel: self.channel,
            stage,
            slots: slots.clone(),
        }
    }
}

/// The stage a dialog state has reached.
pub fn stage_of(state: &DialogState, outcome: &TurnOutcome) -> DealStage {
    if state.shown.is_some() || !state.booked.is_empty() {
        DealStage::OfferShown
    } else if has_search_slots(&state.slots) {
        DealStage::TourSelection
    } else if state.turns > 1 || !outcome.events.is_empty() {
        DealStage::Consultation
    } else {
        DealStage::New
    }
}

fn has_search_slots(s: &Slots) -> bool {
    s.departure_city.is_some()
        || s.country.is_some()
        || s.resort.is_some()
        || s.date_from.is_some()
        || s.nights_from.is_some()
        || s.adults.is_some()
}

/// What a turn tells the CRM: the lead when it is new or its stage, contact details or search
/// changed; a note for each escalation; a task for a booking request. `before` is the
/// conversation as it was before the turn (`None` for a new conversation).
pub fn commands_for_turn(
    before: Option<LeadSource<'_>>,
    after: LeadSource<'_>,
    outcome: &TurnOutcome,
    excerpt: &str,
) -> Vec<CrmCommand> {
    let old = before.map(|b| b.snapshot(stage_of(b.state, &TurnOutcome::default())));
    // The bot only moves the deal forward (a failed new search does not take it back).
    let stage =
        stage_of(after.state, outcome).max(old.as_ref().map_or(DealStage::New, |o| o.stage));
    let lead = after.snapshot(stage);
    let mut commands = Vec::new();
    if old.as_ref() != Some(&lead) {
        commands.push(CrmCommand::SyncLead { lead });
    }
    for event in &outcome.events {
        let DialogEvent::Escalate { reason, details } = event else {
            continue;
        };
        commands.push(CrmCommand::EscalationNote {
            reason: *reason,
            excerpt: excerpt.to_owned(),
        });
        if *reason == EscalationReason::BookingRequest
            && let (Some(offer), Some(query)) = (&details.offer, &details.query)
        {
            commands.push(CrmCommand::BookingTask {
                offer: offer.clone(),
                query: query.clone(),
            });
        }
    }
    commands
}
