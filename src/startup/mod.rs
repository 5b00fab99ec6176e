//! Start-up and what runs beside the engine.
//!
//! - [`app`]: the store, the actor tree, the senders of the configured channels, the HTTP
//!   server, and graceful shutdown.
//! - [`crm`]: the Crm actor's settings from the configuration.
//! - [`instrument`]: metrics and status of the LLM calls and of each turn.
//! - [`telemetry`]: logging set-up.
//! - [`memory`]: the allocator (mimalloc) and the bench's byte counter.

pub mod app;
pub mod crm;
pub mod instrument;
pub mod memory;
pub mod telemetry;
