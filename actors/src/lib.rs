//! The actors of the engine, their supervision, and the clients each actor alone owns.
//!
//! - [`engine`]: the root supervisor and the `Engine` handle (accept a message, shut down).
//! - [`store`]: the `Store` trait and its SQLite and PostgreSQL implementations.
//! - [`store_writer`]: the Store actor, the only writer, batching writes into transactions.
//! - [`context`]: the few things actors truly share (start/stop flags, the channel actors).
//! - [`router`]: the router and supervisor of conversation actors.
//! - [`conversation`]: one actor per chat (behaviour: `src/conversation.md`).
//! - [`messages`]: the router's and the conversations' messages (a leaf module).
//! - [`outbound`]: one actor per channel sending the outbox.
//! - [`crm`]: CRM commands, the Bitrix24 client, and the Crm actor that syncs the CRM outbox.
//! - [`turns`]: how a conversation decides a turn (the dialog policy, or a test double).
//! - [`tours`]: the Tours actor, the only caller of SAMO (client, dictionaries, search cache).
//! - [`status`]: the registry of each integration's last success and last error.
//! - [`meters`]: metric names and helpers (Prometheus through the `metrics` facade).
//! - [`clock`]: the engine's clock, which tests move forward instead of sleeping.

pub mod clock;
pub mod context;
pub mod conversation;
pub mod crm;
pub mod engine;
pub mod escalations;
pub mod messages;
pub mod meters;
pub mod outbound;
pub mod router;
pub mod status;
pub mod store;
pub mod store_writer;
pub mod turns;

pub use engine::{Accepted, Engine, EngineError, EngineSettings, NotRunning, StartFailure};
pub mod llm;
pub mod tours;
