//! The [`Store`](crate::store::Store) over SQL, written once and compiled once per backend:
//! `sqlite.rs` and `postgres.rs` each include this folder as a module of their own after
//! naming, for it, the backend's database type (`Db`), its store (`Backend`, a struct with a
//! `pool: sqlx::Pool<Db>` field and a `prepare_backend` method), its name (`NAME`), and how
//! many rows a multi-row statement takes (`MAX_ROWS`; `MAX_WIDE_ROWS` for rows that carry a
//! dialog state or a reply's text: conversations, transcript, outbox, CRM commands).
//!
//! - `reads`: the trait's reads, each one statement whose rows become records
//!   (`store::rows`).
//! - `writes`: batches of writes, one function per family.
//!
//! The SQL text itself is in `store::statements`, shared by both.

mod reads;
mod writes;

use super::{Backend, Db, MAX_ROWS, MAX_WIDE_ROWS, NAME};

/// A connection of this backend.
type Conn = <Db as sqlx::Database>::Connection;
