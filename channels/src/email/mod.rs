//! Email: customers write to the agency's address, the engine answers in the same thread.
//!
//! - [`inbound`]: reading what reaches the webhook — a raw RFC 822 message or a SendGrid
//!   Inbound Parse post — into the engine's inbound message, with the route for threading.
//! - [`quote`]: the customer's own words: quoted history, signatures and phone footers stripped.
//! - [`html`]: HTML mail to text, and our reply's text to HTML.
//! - [`outbound`]: replies threaded with `In-Reply-To`/`References`, and notices to staff.
//! - [`api`]: the SMTP connection (lettre), its set-up and failures classified.

pub mod api;
pub mod html;
pub mod inbound;
pub mod outbound;
pub mod quote;

pub use api::{ConnectionError, SetupError};
pub use inbound::{EmailError, InboundEmail, MAX_EMAIL_BYTES};
pub use outbound::EmailSender;
