//! The `crystalbay` binary's library: configuration, wiring of the actor tree, the HTTP server
//! (webhooks, health) and the command line. Everything here only wires; the logic lives in the
//! `dialogs`, `channels` and `actors` crates. Grouped by role:
//!
//! - [`config`]: typed configuration from `crystalbay.toml` and the environment.
//! - [`startup`]: start-up — store, engine, channels, HTTP listener — and graceful shutdown;
//!   metrics of the LLM and of each turn; logging; the allocator.
//! - [`http`]: the axum router (`/health`, `/ready`, `/metrics`, the admin API) that the
//!   channels' webhook routes are merged into.
//! - [`channels`]: one module per channel — its webhook route, its sender from the
//!   configuration and, for Telegram, its receiving loop — and the managers' desk.
//! - [`commands`]: the command line and its commands (`chat`, `bench`, `doctor`, `wazzup`).
//! - [`documents`]: the prompts and templates admins edit: validation, hot reload, and the
//!   settings in force while the engine runs (`LiveSettings`).

pub mod channels;
pub mod commands;
pub mod config;
pub mod documents;
pub mod http;
pub mod startup;
