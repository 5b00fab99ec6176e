//! Email: customers write to the agency's address, the engine answers in the same thread.
//!
//! - [`inbound`]: reading what reaches the webhook — a raw RFC 822 message or a SendGrid
//!   Inbound Parse post — into the engine's inbound message, with the route for threading.
//! - [`quote`]: the customer's own words: quoted history, signatures and phone footers stripped.
//! - [`html`]: HTML mail to text, and our reply's text to HTML.
//! - [`outbound`]: replies over SMTP (lettre), threaded with `In-Reply-To`/`References`.

pub mod html;
pub mod inbound;
pub mod quote;
pub mod outbound;

pub use inbound::{EmailError, InboundEmail, MAX_EMAIL_BYTES};
pub use outbound::{EmailSender, SetupError};
