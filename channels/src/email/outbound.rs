//! Sending replies by email, over the SMTP connection of [`super::api`].
//!
//! **Threading.** A reply goes to the address in the conversation's route (the customer's
//! Reply-To, else From) with `In-Reply-To` = their Message-ID, `References` = their thread plus
//! that id, and `Re: <their subject>` (never `Re: Re:`), so every mail client files it under the
//! customer's email. It has a plain-text part and an HTML part (the same text, escaped, line
//! breaks as `<br>`); a reply's buttons become a short list of what to type.
//!
//! **Failures.** Classified by the SMTP connection ([`super::api`]); a message lettre cannot
//! build → rejected.
//!
//! **At least once.** Our `Message-ID` is derived from the outbox id (`<outbox-id@domain of
//! EMAIL_FROM>`), so a resend carries the same id. SMTP has no idempotency key, though: if the
//! engine dies — or the connection drops — after the server accepted the message but before
//! the delivery was recorded, the reply is sent again at the next start (or retry). Many
//! mailboxes (Gmail among them) show two messages with one Message-ID once, but not all do; the
//! window is one SMTP `DATA` exchange plus the store writer's next commit, and we accept it
//! rather than risk losing a reply.

use super::api::{ConnectionError, SetupError, Smtp};
use super::html;
use super::inbound::bare_subject;
use crate::outbound::{OutgoingMessage, SendError, SendReceipt, Sender};
use async_trait::async_trait;
use dialogs::Channel;
use dialogs::turn::Button;
use lettre::message::{Mailbox, MultiPart};
use lettre::{Address, Message};

/// Ids kept in `References` (the oldest go first, as RFC 5322 suggests for long threads).
const MAX_REFERENCES: usize = 20;
/// The subject when the customer's email had none.
const DEFAULT_SUBJECT: &str = "Crystal Bay";

/// The email side of the outbound channel actor.
pub struct EmailSender {
    smtp: Smtp,
}

impl EmailSender {
    /// A sender through `smtp_url` (`smtp://user:pass@host:port`, `smtp://…?tls=required` for
    /// STARTTLS, `smtps://…` for TLS from the start) from the address `from`.
    pub fn new(smtp_url: &str, from: &str) -> Result<Self, SetupError> {
        Ok(Self {
            smtp: Smtp::new(smtp_url, from)?,
        })
    }

    /// Connects to the SMTP server and says goodbye: no mail is sent (`crystalbay doctor`).
    pub async fn check_connection(&self) -> Result<(), ConnectionError> {
        self.smtp.check_connection().await
    }

    /// A plain-text notice to the agency's own staff (escalations to `MANAGERS_EMAIL`): not a
    /// reply in a customer's thread.
    #[tracing::instrument(name = "email.send_notice", skip_all)]
    pub async fn send_notice(&self, to: &str, subject: &str, text: &str) -> Result<(), SendError> {
        let to: Address = to.parse().map_err(|_| SendError::Rejected {
            reason: "MANAGERS_EMAIL is not a valid address".into(),
        })?;
        let email = Message::builder()
            .from(self.smtp.from.clone())
            .to(Mailbox::new(None, to))
            .subject(subject)
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(text.to_owned())
            .map_err(|e| SendError::Rejected {
                reason: format!("the email cannot be built: {e}"),
            })?;
        self.smtp.send(email).await
    }

    /// Our Message-ID for an outbox row: the same on every attempt.
    fn message_id(&self, outbox_id: &str) -> String {
        format!("<{outbox_id}@{}>", self.smtp.domain)
    }

    /// The reply as an email, threaded under the customer's message.
    fn build(&self, message: &OutgoingMessage) -> Result<Message, SendError> {
        let route = &message.route;
        let text_of = |name: &str| route.get(name).and_then(|v| v.as_str());
        let to: Address = text_of("address")
            .unwrap_or(&message.chat_id)
            .parse()
            .map_err(|_| SendError::Unreachable {
                reason: "the customer's email address is not valid".into(),
            })?;
        let their_id = text_of("message_id").filter(|id| valid_id(id));
        let mut references: Vec<&str> = route
            .get("references")
            .and_then(|r| r.as_array())
            .map(|ids| ids.iter().filter_map(|id| id.as_str()).collect())
            .unwrap_or_default();
        references.retain(|id| valid_id(id));
        references.extend(their_id);
        let skip = references.len().saturating_sub(MAX_REFERENCES);
        let mut builder = Message::builder()
            .from(self.smtp.from.clone())
            .to(Mailbox::new(None, to))
            .subject(reply_subject(text_of("subject")))
            .message_id(Some(self.message_id(&message.id)));
        if let Some(id) = their_id {
            builder = builder.in_reply_to(format!("<{id}>"));
        }
        if !references.is_empty() {
            let ids: Vec<String> = references[skip..]
                .iter()
                .map(|id| format!("<{id}>"))
                .collect();
            builder = builder.references(ids.join(" "));
        }
        builder
            .multipart(MultiPart::alternative_plain_html(
                plain_body(&message.text, &message.buttons),
                html_body(&message.text, &message.buttons),
            ))
            .map_err(|e| SendError::Rejected {
                reason: format!("the email cannot be built: {e}"),
            })
    }
}

#[async_trait]
impl Sender for EmailSender {
    fn channel(&self) -> Channel {
        Channel::Email
    }

    #[tracing::instrument(name = "email.send", skip_all, fields(outbox = %message.id))]
    async fn send(&self, message: &OutgoingMessage) -> Result<SendReceipt, SendError> {
        let email = self.build(message)?;
        self.smtp.send(email).await?;
        Ok(SendReceipt {
            external_id: Some(
                self.message_id(&message.id)
                    .trim_matches(['<', '>'])
                    .to_owned(),
            ),
        })
    }
}

/// `Re: <their subject>`, prefixes they already had removed (no `Re: Re:`).
pub fn reply_subject(subject: Option<&str>) -> String {
    let (bare, _) = bare_subject(subject.unwrap_or(""));
    if bare.is_empty() {
        DEFAULT_SUBJECT.to_owned()
    } else {
        format!("Re: {bare}")
    }
}

/// The text part: the reply, then its buttons as lines to type.
fn plain_body(text: &str, buttons: &[Button]) -> String {
    let mut body = text.trim_end().to_owned();
    let labels = labels(buttons);
    if !labels.is_empty() {
        body.push_str("\n\n");
        for label in labels {
            body.push_str("— ");
            body.push_str(label);
            body.push('\n');
        }
    }
    body
}

/// The HTML part: the same text escaped, line breaks as `<br>`, buttons as a list.
fn html_body(text: &str, buttons: &[Button]) -> String {
    let mut body = format!(
        "<!DOCTYPE html>\n<html><body>\n<div style=\"font-family: sans-serif\">{}</div>\n",
        html::from_text(text.trim_end())
    );
    let labels = labels(buttons);
    if !labels.is_empty() {
        body.push_str("<ul>\n");
        for label in labels {
            body.push_str(&format!("<li>{}</li>\n", html::escape(label)));
        }
        body.push_str("</ul>\n");
    }
    body.push_str("</body></html>\n");
    body
}

/// What the customer can type instead of pressing a button: its label ("Забронировать 2",
/// "Ещё варианты", "Связаться с менеджером" are all understood as typed words).
fn labels(buttons: &[Button]) -> Vec<&str> {
    buttons
        .iter()
        .map(|b| b.label.trim())
        .filter(|l| !l.is_empty())
        .collect()
}

/// An id we can put into a header as `<id>`.
fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 250
        && id
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '<' && c != '>')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn outgoing(route: serde_json::Value, buttons: Vec<Button>) -> OutgoingMessage {
        OutgoingMessage {
            id: "0190-abc".into(),
            chat_id: "aigul@mail.ru".into(),
            route,
            text: "Здравствуйте!\nКуда <хотите>?".into(),
            buttons,
        }
    }

    #[test]
    fn subjects_get_one_re() {
        assert_eq!(reply_subject(Some("Тур в Нячанг")), "Re: Тур в Нячанг");
        assert_eq!(reply_subject(Some("RE: Re: Тур")), "Re: Тур");
        assert_eq!(reply_subject(Some("Re:")), "Crystal Bay");
        assert_eq!(reply_subject(None), "Crystal Bay");
    }

    // The pool spawns its cleanup task: a runtime is needed.
    #[tokio::test]
    async fn a_reply_is_threaded_and_has_both_parts() {
        let sender = EmailSender::new("smtp://127.0.0.1:2525", "bot@crystalbay.kz").unwrap();
        let route = json!({"address": "aigul@mail.ru", "subject": "Тур",
                           "message_id": "m2@mail.ru", "references": ["m1@mail.ru"]});
        let button = Button {
            label: "Связаться с менеджером".into(),
            action: "manager".into(),
        };
        let email = sender.build(&outgoing(route, vec![button])).unwrap();
        let raw = String::from_utf8(email.formatted()).unwrap();
        let parsed = mail_parser::MessageParser::default()
            .parse(raw.as_bytes())
            .unwrap();
        assert_eq!(parsed.message_id(), Some("0190-abc@crystalbay.kz"));
        assert_eq!(parsed.subject(), Some("Re: Тур"));
        let ids = |value: &mail_parser::HeaderValue<'_>| -> Vec<String> {
            match value {
                mail_parser::HeaderValue::Text(t) => vec![t.to_string()],
                mail_parser::HeaderValue::TextList(l) => l.iter().map(|t| t.to_string()).collect(),
                _ => Vec::new(),
            }
        };
        assert_eq!(ids(parsed.in_reply_to()), ["m2@mail.ru"]);
        assert_eq!(ids(parsed.references()), ["m1@mail.ru", "m2@mail.ru"]);
        let text = parsed.body_text(0).unwrap().replace("\r\n", "\n");
        assert!(text.contains("Куда <хотите>?"), "{text}");
        assert!(text.contains("— Связаться с менеджером"), "{text}");
        // Lines end in CRLF on the wire.
        let html = parsed.body_html(0).unwrap().replace("\r\n", "\n");
        assert!(
            html.contains("Здравствуйте!<br>\nКуда &lt;хотите&gt;?"),
            "{html}"
        );
        assert!(html.contains("<li>Связаться с менеджером</li>"), "{html}");
    }

    // The pool spawns its cleanup task: a runtime is needed.
    #[tokio::test]
    async fn a_bad_address_is_unreachable() {
        let sender = EmailSender::new("smtp://127.0.0.1:2525", "bot@crystalbay.kz").unwrap();
        let err = sender
            .build(&outgoing(json!({"address": "not an address"}), Vec::new()))
            .unwrap_err();
        assert!(matches!(err, SendError::Unreachable { .. }));
    }
}
