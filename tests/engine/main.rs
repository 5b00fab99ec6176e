//! End-to-end tests: the whole engine against local fakes, and the store conformance suite
//! against SQLite and PostgreSQL. One binary, so everything links once.

mod admin;
mod crash;
mod dialog;
mod durable;
mod handoff;
mod llm;
mod store;
mod support;
mod telegram;
mod wazzup;
