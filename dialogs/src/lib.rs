//! Conversation logic with no I/O: every decision the bot makes, testable with plain values.
//!
//! - [`analysis`]: rules-based message analysis (intent, language, tour-search slots).
//! - [`chat`]: who a conversation is with (channel, chat, owner).
//! - [`turn`]: one turn as values — the input, the replies, the events.
//! - [`state`]: what a conversation remembers between messages.
//! - [`policy`]: decides the replies and events of a turn.
//! - [`templates`]: the registry of reply templates (`prompts/replies`), replaceable at run time.
//! - [`privacy`]: masking of phone numbers and emails for logs.

pub mod analysis;
pub mod chat;
pub mod faq;
pub mod policy;
pub mod privacy;
pub mod search;
pub mod state;
pub mod templates;
pub mod turn;

pub use chat::{Channel, ChatKey, Owner};
pub use state::DialogState;
pub use templates::Templates;
pub use turn::{DialogEvent, Reply, TurnInput, TurnOutcome};
