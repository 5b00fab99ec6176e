//! crystalbay
