//! The `crystalbay` binary's library: configuration, wiring of the actor tree, the HTTP server
//! (webhooks, health) and the command line. Everything here only wires; the logic lives in the
//! `dialogs`, `channels` and `actors` crates.
//!
//! - [`config`]: typed configuration from `crystalbay.toml` and the environment.
//! - [`app`]: start-up — store, engine, HTTP listener — and graceful shutdown.
//! - [`live`]: what admins change while the engine runs (templates, FAQ, prompts).
//! - [`crm`]: the Crm actor's settings from the configuration.
//! - [`http`]: the axum router (`/health`, `/ready`, webhooks, `/metrics`, the admin API).
//! - [`documents`]: the prompts and templates admins edit: validation, hot reload.
//! - [`instrument`]: metrics and status of the LLM calls and of each turn.
//! - [`telegram`]: Telegram updates into the engine (webhook registration or long polling).
//! - [`managers`]: the managers' Telegram chat — escalation announcements, claim, release, replies.
//! - [`chat`]: `crystalbay chat`, the terminal conversation.
//! - [`bench`](mod@bench): `crystalbay bench`, throughput and memory figures.
//! - [`cli`]: the command line.
//! - [`doctor`]: `crystalbay doctor`, what works and what does not in each configured service.
//! - [`telemetry`]: logging set-up.
//! - [`memory`]: the allocator (mimalloc) and the bench's byte counter.
//! - [`wazzup`]: `crystalbay wazzup register-webhook | channels`.

pub mod app;
pub mod bench;
pub mod chat;
pub mod cli;
pub mod config;
pub mod crm;
pub mod doctor;
pub mod documents;
pub mod http;
pub mod instrument;
pub mod live;
pub mod managers;
pub mod memory;
pub mod telegram;
pub mod telemetry;
pub mod wazzup;
