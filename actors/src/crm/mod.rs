//! CRM: what the engine tells Bitrix24, as durable commands.
//!
//! A turn that changes what the CRM should know writes [`CrmCommand`]s into the `crm_outbox`
//! table in the same transaction as its replies ([`commands_for_turn`] decides which). The Crm
//! actor — the only caller of Bitrix24 — executes them in order per conversation, paced,
//! retried and idempotent (Bitrix ids are stored with the lead), so every lead lands exactly
//! once even when Bitrix24 is slow or down.
//!
//! - [`bitrix`]: the Bitrix24 REST client (webhook calls, envelopes, typed errors, `batch`,
//!   limit answers waited out).
//! - `pace`: the leaky bucket that paces calls the way the portal counts them, and the wait
//!   after a limit answer.
//! - [`pipeline`]: which deal pipeline to use (found by its stages), and the typed set-up
//!   problems when the portal lacks it.
//! - [`check`](mod@check): the Bitrix24 check (webhook, scope, pipeline, the nine stages) for
//!   `crystalbay doctor` and the admin status.
//! - [`sync`]: what each command does in Bitrix24, idempotently.
//! - [`health`]: what the people watching see (the last check, the set-up problem, calls),
//!   and the request to re-read the portal now.
//! - [`actor`]: the Crm actor — polls the outbox, runs commands in order per conversation,
//!   retries, holds what a set-up problem blocks and releases it when the portal is right.

pub mod actor;
pub mod bitrix;
pub mod check;
pub mod health;
mod pace;
pub mod pipeline;
pub mod sync;

pub use actor::{Crm, CrmArgs, CrmMsg, CrmSettings};
pub use check::{BitrixCheck, Verdict, check};
pub use health::{CrmHandle, CrmHealth};
pub use pipeline::{DEFAULT_STAGE_NAMES, SetupProblem, SyncSettings};

use crate::store::ConversationRecord;
use dialogs::analysis::Slots;
use dialogs::search::{Offer, SearchQuery};
use dialogs::turn::EscalationReason;
use dialogs::{DialogEvent, DialogState, TurnOutcome};
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
    /// `telegram`, `wazzup`, `email`, `console`.
    pub channel: String,
    pub stage: DealStage,
    pub slots: Slots,
}

/// One thing to tell Bitrix24.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum CrmCommand {
    /// Make sure the contact (found by phone/email, else created) and the conversation's deal
    /// exist, with the search parameters in the deal's comments, at least at `lead.stage`.
    SyncLead { lead: LeadSnapshot },
    /// A timeline comment on the deal: why a manager was brought in, with the last messages.
    EscalationNote { reason: String, excerpt: String },
    /// A to-do for the responsible manager: the customer chose this offer.
    BookingTask { offer: Offer, query: SearchQuery },
}

impl CrmCommand {
    /// The name stored in `crm_outbox.command`.
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
/// changed; a note for each escalation; a task for a booking request. `before` is the record
/// and its dialog state as they were before the turn (`None` for a new conversation), `after`
/// the same after it (the states as the turn read and left them: parsed once, by the caller).
pub fn commands_for_turn(
    before: Option<(&ConversationRecord, &DialogState)>,
    after: (&ConversationRecord, &DialogState),
    outcome: &TurnOutcome,
    excerpt: &str,
) -> Vec<CrmCommand> {
    let snapshot = |r: &ConversationRecord, state: &DialogState, stage: DealStage| LeadSnapshot {
        name: state.slots.name.clone().or_else(|| r.customer_name.clone()),
        phone: state
            .slots
            .phone
            .clone()
            .or_else(|| r.customer_phone.clone()),
        email: state
            .slots
            .email
            .clone()
            .or_else(|| r.customer_email.clone()),
        channel: r.key.channel.to_string(),
        stage,
        slots: state.slots.clone(),
    };
    let (after, now) = after;
    let old = before.map(|(b, was)| {
        let stage = stage_of(was, &TurnOutcome::default());
        snapshot(b, was, stage)
    });
    // The bot only moves the deal forward (a failed new search does not take it back).
    let stage = stage_of(now, outcome).max(old.as_ref().map_or(DealStage::New, |o| o.stage));
    let lead = snapshot(after, now, stage);
    let mut commands = Vec::new();
    if old.as_ref() != Some(&lead) {
        commands.push(CrmCommand::SyncLead { lead });
    }
    for event in &outcome.events {
        let DialogEvent::Escalate { reason, details } = event else {
            continue;
        };
        commands.push(CrmCommand::EscalationNote {
            reason: reason.as_str().to_owned(),
            excerpt: excerpt.to_owned(),
        });
        if *reason == EscalationReason::BookingRequest
            && let (Ok(offer), Ok(query)) = (
                serde_json::from_value::<Offer>(details["offer"].clone()),
                serde_json::from_value::<SearchQuery>(details["query"].clone()),
            )
        {
            commands.push(CrmCommand::BookingTask { offer, query });
        }
    }
    commands
}
