//! CRM: what the engine tells Bitrix24, as durable commands.
//!
//! A turn that changes what the CRM should know writes [`CrmCommand`]s into the `crm_outbox`
//! table in the same transaction as its replies (`dialogs::crm::commands_for_turn` decides
//! which). The Crm
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

// The commands and what they are made of are values of the dialog (`dialogs::crm`), decided
// with each turn; this module executes them.
pub use dialogs::crm::{CrmCommand, DealStage, LeadSnapshot, NewCrmCommand};
