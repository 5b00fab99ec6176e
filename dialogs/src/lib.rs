//! Conversation logic with no I/O: every decision the bot makes, testable with plain values.
//!
//! - [`analysis`]: rules-based message analysis (intent, language, tour-search slots).
//! - [`chat`]: who a conversation is with (channel, chat, owner).
//! - [`turn`]: one turn as values — the input, the replies, the events.
//! - [`state`]: what a conversation remembers between messages.
//! - [`policy`]: decides a turn: ask for what is missing, search, show offers, answer, escalate.
//! - [`search`]: a tour search as values (query, offers, failures) for the Tours actor.
//! - [`crm`]: what a turn tells the CRM (deal stage, lead, commands), as values.
//! - [`handover`]: who owns a chat (bot, waiting, manager) after each event, as pure rules.
//! - [`hours`]: managers' working hours, for "when will a manager answer".
//! - [`faq`]: answers to common questions from the editable `prompts/faq.toml`.
//! - [`names`]: place names, dates and money as a customer reads them.
//! - [`templates`]: the registry of reply templates (`prompts/replies`), replaceable at run time.
//! - [`replies`]: what each reply template is given, one struct per template.
//! - [`privacy`]: masking of phone numbers and emails for logs.

pub mod analysis;
pub mod chat;
pub mod crm;
pub mod faq;
pub mod handover;
pub mod hours;
pub mod names;
pub mod policy;
pub mod privacy;
pub mod replies;
pub mod search;
pub mod state;
pub mod templates;
pub mod turn;

pub use chat::{Channel, ChatKey, Owner};
pub use state::DialogState;
pub use templates::Templates;
pub use turn::{DialogEvent, Reply, TurnInput, TurnOutcome};
