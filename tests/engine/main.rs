//! End-to-end tests: the whole engine against local fakes, the store conformance suite
//! against SQLite and PostgreSQL, and tour search against a fake SAMO. One binary, so
//! everything links once.

mod admin;
mod admin_contract;
mod bad_input;
mod config;
mod corpus;
mod crash;
mod crash_load;
mod crm;
mod dialog;
mod doctor;
mod durable;
mod email;
mod handoff;
mod llm;
mod managers;
mod outbox;
mod peers;
mod store;
mod support;
mod telegram;
mod tours;
mod wazzup;
