//! Reading an inbound email, in either of the shapes it reaches our webhook:
//!
//! - a raw RFC 822 message (`Content-Type: message/rfc822`);
//! - a SendGrid Inbound Parse post (`multipart/form-data`, or `x-www-form-urlencoded`), with
//!   the parsed fields `from`, `subject`, `text`, `html`, `headers`, `charsets`, or — when
//!   "send raw" is on — the whole message in the `email` field.
//!
//! Either way the result is an [`InboundEmail`]: the sender, the thread ids, the date and the
//! body as written. [`InboundEmail::to_inbound`] turns it into the engine's message: the
//! customer's own words (quotes and signatures stripped, a meaningful subject in front), the
//! sender and Message-ID as the inbox key, and the reply route for threading.
//!
//! The inbox key is scoped to the sender ([`inbox_key`]): a Message-ID is only the sender's
//! promise of uniqueness, and another customer whose client reuses one must still be answered.
//! (Neither accepted shape carries a provider's own event id: SendGrid Inbound Parse posts the
//! mail alone.)

use super::{html, quote};
use crate::inbound::{InboundKind, NewInbound};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use dialogs::{Channel, ChatKey};
use mail_parser::{HeaderValue, Message, MessageParser, MimeHeaders};
use serde_json::json;
use std::collections::HashMap;

/// The largest email accepted, attachments included (a bigger webhook body is a 413).
pub const MAX_EMAIL_BYTES: usize = 25 * 1024 * 1024;

/// Why a webhook body was refused (answered with a 4xx and this reason; nothing is stored).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error(
        "unsupported content type `{0}`: expected message/rfc822, multipart/form-data or application/x-www-form-urlencoded"
    )]
    UnsupportedType(String),
    #[error("the form cannot be read: {0}")]
    Form(String),
    #[error("the form has neither an `email` field (raw message) nor a `from` field")]
    NoEmailFields,
    #[error("the body is not an email: no header could be read")]
    NotAnEmail,
    #[error("the email has no usable sender address (From)")]
    NoSender,
}

/// An email as the engine needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct InboundEmail {
    /// The sender's address (From), lower case: it names the chat.
    pub address: String,
    /// The sender's display name, when given.
    pub name: Option<String>,
    /// Where replies go: the Reply-To address when set, else the sender's.
    pub reply_to: String,
    pub subject: Option<String>,
    /// The Message-ID, without angle brackets.
    pub message_id: Option<String>,
    /// The thread before this message (References, or else In-Reply-To), oldest first,
    /// without angle brackets.
    pub references: Vec<String>,
    /// The Date header, when it parses.
    pub date: Option<DateTime<Utc>>,
    /// The Date header as written (part of the fallback id when there is no Message-ID).
    pub date_raw: String,
    /// The body as written: the plain-text part, or else the HTML part as text. Quoted
    /// history included; [`InboundEmail::text`] strips it.
    pub body: String,
    pub attachments: usize,
    /// Sent by a machine (auto-reply, bounce, bulk mail): stored nowhere, never answered, or
    /// two auto-responders would write to each other for ever.
    pub auto_generated: bool,
}

/// Reads a webhook body of the given `Content-Type`.
pub async fn parse_request(
    content_type: Option<&str>,
    body: Bytes,
) -> Result<InboundEmail, EmailError> {
    let content_type = content_type.unwrap_or("").trim();
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "message/rfc822" => parse_raw(&body),
        "multipart/form-data" => parse_form(&read_multipart(content_type, body).await?),
        "application/x-www-form-urlencoded" => parse_form(&read_urlencoded(&body)),
        _ => Err(EmailError::UnsupportedType(
            content_type.chars().take(100).collect(),
        )),
    }
}

/// The fields of an Inbound Parse post: text fields by name, and how many files came.
#[derive(Debug, Default)]
pub struct Form {
    pub fields: HashMap<String, Vec<u8>>,
    pub files: usize,
}

async fn read_multipart(content_type: &str, body: Bytes) -> Result<Form, EmailError> {
    let boundary =
        multer::parse_boundary(content_type).map_err(|e| EmailError::Form(e.to_string()))?;
    let stream = futures::stream::once(async move { Ok::<Bytes, std::convert::Infallible>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut form = Form::default();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| EmailError::Form(e.to_string()))?
    {
        let name = field.name().map(str::to_owned);
        let is_file = field.file_name().is_some();
        let bytes = field
            .bytes()
            .await
            .map_err(|e| EmailError::Form(e.to_string()))?;
        match name {
            Some(_) if is_file => form.files += 1,
            Some(name) => {
                form.fields.insert(name, bytes.to_vec());
            }
            None => {}
        }
    }
    Ok(form)
}

fn read_urlencoded(body: &[u8]) -> Form {
    Form {
        fields: form_urlencoded::parse(body)
            .map(|(k, v)| (k.into_owned(), v.into_owned().into_bytes()))
            .collect(),
        files: 0,
    }
}

/// Reads an Inbound Parse form: the raw `email` field when "send raw" is on, else the parsed
/// fields (`from`, `subject`, `text`/`html`, and `headers` for the ids and the date).
pub fn parse_form(form: &Form) -> Result<InboundEmail, EmailError> {
    if let Some(raw) = form.fields.get("email").filter(|r| !r.is_empty()) {
        return parse_raw(raw);
    }
    // Each text field is in the charset `charsets` names for it (UTF-8 for most senders).
    let charsets: HashMap<String, String> = form
        .fields
        .get("charsets")
        .and_then(|c| serde_json::from_slice(c).ok())
        .unwrap_or_default();
    let field = |name: &str| {
        form.fields
            .get(name)
            .map(|bytes| decode(bytes, charsets.get(name).map(String::as_str)))
    };
    let Some(from) = field("from").filter(|f| !f.trim().is_empty()) else {
        return Err(EmailError::NoEmailFields);
    };
    let raw_headers = field("headers").unwrap_or_default();
    let headers_block = format!("{}\n\n", raw_headers.trim_end());
    let parser = MessageParser::default();
    let headers = parser.parse_headers(headers_block.as_bytes());
    // The `from` field is the From header's value; read it as one.
    let from_block = format!("From: {}\n\n", from.trim());
    let from_header = parser
        .parse_headers(from_block.as_bytes())
        .ok_or(EmailError::NoSender)?;
    let (address, name) = sender(&from_header).ok_or(EmailError::NoSender)?;
    let facts = headers.as_ref().map(Facts::of).unwrap_or_default();
    let subject = field("subject")
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .or(facts.subject);
    let body = match field("text").filter(|t| !t.trim().is_empty()) {
        Some(text) => text,
        None => field("html").map(|h| html::to_text(&h)).unwrap_or_default(),
    };
    let attachments = field("attachments")
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(form.files);
    Ok(InboundEmail {
        reply_to: facts.reply_to.unwrap_or_else(|| address.clone()),
        auto_generated: facts.auto_generated || is_system_sender(&address),
        address,
        name,
        subject,
        message_id: facts.message_id,
        references: facts.references,
        date: facts.date,
        date_raw: facts.date_raw,
        body,
        attachments,
    })
}

/// Reads a raw RFC 822 message.
pub fn parse_raw(raw: &[u8]) -> Result<InboundEmail, EmailError> {
    let message = MessageParser::default()
        .parse(raw)
        .filter(|m| !m.headers().is_empty())
        .ok_or(EmailError::NotAnEmail)?;
    let (address, name) = sender(&message).ok_or(EmailError::NoSender)?;
    let facts = Facts::of(&message);
    let plain = message
        .text_bodies()
        .find(|p| !p.is_text_html())
        .and_then(|p| {
            let text = p.text_contents()?;
            let flowed = p.content_type().and_then(|ct| {
                let is = |name: &str, value: &str| {
                    ct.attribute(name)
                        .is_some_and(|v| v.eq_ignore_ascii_case(value))
                };
                is("format", "flowed").then(|| is("delsp", "yes"))
            });
            Some(match flowed {
                Some(delsp) => unflow(text, delsp),
                None => text.to_owned(),
            })
        })
        .filter(|t| !t.trim().is_empty());
    let body = match plain {
        Some(text) => text,
        None => message
            .html_bodies()
            .find(|p| p.is_text_html())
            .and_then(|p| p.text_contents())
            .map(html::to_text)
            .unwrap_or_default(),
    };
    Ok(InboundEmail {
        reply_to: facts.reply_to.unwrap_or_else(|| address.clone()),
        auto_generated: facts.auto_generated || is_system_sender(&address),
        address,
        name,
        subject: facts.subject,
        message_id: facts.message_id,
        references: facts.references,
        date: facts.date,
        date_raw: facts.date_raw,
        body,
        attachments: message.attachment_count(),
    })
}

/// A `format=flowed` text (RFC 3676, Apple Mail and Thunderbird send it) as its writer's
/// lines: a line that ends in a space goes on in the next one (the space dropped with
/// `delsp=yes`), a space-stuffed line loses its stuffing. Quoted lines and the signature
/// separator `-- ` never flow.
fn unflow(text: &str, delsp: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let line = line.strip_prefix(' ').unwrap_or(line);
        let soft = line.ends_with(' ') && line != "-- " && !line.starts_with('>');
        match (soft, delsp) {
            (true, true) => out.push_str(&line[..line.len() - 1]),
            (true, false) => out.push_str(line),
            (false, _) => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// What the headers say, beyond the sender.
#[derive(Debug, Default)]
struct Facts {
    reply_to: Option<String>,
    subject: Option<String>,
    message_id: Option<String>,
    references: Vec<String>,
    date: Option<DateTime<Utc>>,
    date_raw: String,
    auto_generated: bool,
}

impl Facts {
    fn of(message: &Message<'_>) -> Facts {
        let mut references = ids(message.references());
        if references.is_empty() {
            references = ids(message.in_reply_to());
        }
        let raw = |name: &'static str| {
            message
                .header_raw(name)
                .map(|v| v.trim().to_ascii_lowercase())
        };
        let auto_submitted = raw("Auto-Submitted").is_some_and(|v| {
            let first = v.split(';').next().unwrap_or("").trim().to_owned();
            !first.is_empty() && first != "no"
        });
        let bulk = raw("Precedence")
            .is_some_and(|v| matches!(v.as_str(), "bulk" | "junk" | "list" | "auto_reply"));
        let autoreply_headers = raw("X-Autoreply").is_some() || raw("X-Autorespond").is_some();
        let report = message.content_type().is_some_and(|ct| {
            ct.ctype().eq_ignore_ascii_case("multipart")
                && ct
                    .subtype()
                    .is_some_and(|s| s.eq_ignore_ascii_case("report"))
        });
        Facts {
            reply_to: message
                .reply_to()
                .and_then(|a| a.first())
                .and_then(|a| a.address())
                .and_then(normalise_address),
            subject: message
                .subject()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty()),
            message_id: message
                .message_id()
                .filter(|id| valid_id(id))
                .map(str::to_owned),
            references,
            date: message
                .date()
                .filter(|d| d.is_valid())
                .and_then(|d| DateTime::from_timestamp(d.to_timestamp(), 0)),
            date_raw: raw_header(message, "Date"),
            auto_generated: auto_submitted || bulk || autoreply_headers || report,
        }
    }
}

/// A header's value as written, trimmed ("" when absent).
fn raw_header(message: &Message<'_>, name: &'static str) -> String {
    message.header_raw(name).unwrap_or("").trim().to_owned()
}

/// The From address (lower case) and display name.
fn sender(message: &Message<'_>) -> Option<(String, Option<String>)> {
    let from = message.from()?.first()?;
    let address = normalise_address(from.address()?)?;
    let name = from
        .name()
        .map(|n| n.trim().trim_matches('"').trim().to_owned())
        .filter(|n| !n.is_empty() && !n.eq_ignore_ascii_case(&address));
    Some((address, name))
}

/// `Aigul@Mail.RU` → `aigul@mail.ru`; `None` for what is not an address.
fn normalise_address(address: &str) -> Option<String> {
    let address = address.trim().to_lowercase();
    let (local, domain) = address.split_once('@')?;
    let fine = !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && !address.contains(|c: char| c.is_whitespace() || c.is_control() || c == '<' || c == '>');
    fine.then_some(address)
}

/// Bounces and postmasters: machines.
fn is_system_sender(address: &str) -> bool {
    let local = address.split('@').next().unwrap_or("");
    matches!(local, "mailer-daemon" | "postmaster")
}

/// Message ids from References or In-Reply-To, without angle brackets.
fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    let all: Vec<&str> = match value {
        HeaderValue::Text(t) => vec![t.as_ref()],
        HeaderValue::TextList(list) => list.iter().map(|t| t.as_ref()).collect(),
        _ => Vec::new(),
    };
    all.into_iter()
        .filter(|id| valid_id(id))
        .map(str::to_owned)
        .collect()
}

/// An id we can put back into a header as `<id>`.
fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 250
        && id
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '<' && c != '>')
}

/// A form field's bytes as text, in its declared charset when it is not UTF-8.
fn decode(bytes: &[u8], charset: Option<&str>) -> String {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return text.to_owned();
    }
    match charset.and_then(|c| mail_parser::decoders::charsets::map::charset_decoder(c.as_bytes()))
    {
        Some(decoder) => decoder(bytes),
        None => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// Subjects that say nothing (lower case).
const EMPTY_SUBJECTS: &[&str] = &["(no subject)", "no subject", "без темы", "(без темы)"];

/// Prefixes of a reply's subject (lower case, without the colon).
const REPLY_PREFIXES: &[&str] = &["re", "aw", "sv", "ответ", "отв"];
/// Prefixes of a forwarded message's subject.
const FORWARD_PREFIXES: &[&str] = &["fwd", "fw", "tr", "wg", "пересл"];

/// The subject without `Re:`/`Fwd:` prefixes (also `Re[2]:`), and whether it was a reply.
pub fn bare_subject(subject: &str) -> (&str, bool) {
    let mut rest = subject.trim();
    let mut reply = false;
    loop {
        let Some((head, tail)) = rest.split_once(':') else {
            return (rest, reply);
        };
        let head = head.trim().to_lowercase();
        // `Re[2]` / `Re(2)` → `re`.
        let word = head
            .split(['[', '('])
            .next()
            .unwrap_or("")
            .trim()
            .to_owned();
        if REPLY_PREFIXES.contains(&word.as_str()) {
            reply = true;
        } else if !FORWARD_PREFIXES.contains(&word.as_str()) {
            return (rest, reply);
        }
        rest = tail.trim_start();
    }
}

/// The inbox key of an email with a Message-ID: `<sender> <message id>` (neither holds a
/// space or angle brackets), so the same id from two senders is two emails.
pub fn inbox_key(address: &str, message_id: &str) -> String {
    format!("{address} <{message_id}>")
}

impl InboundEmail {
    /// The inbox key: the sender with the Message-ID ([`inbox_key`]), or — when a sender leaves
    /// the id out — a stable hash of the sender, date, subject and body, so a redelivery is
    /// still recognised.
    pub fn external_id(&self) -> String {
        if let Some(id) = &self.message_id {
            return inbox_key(&self.address, id);
        }
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        for part in [
            self.address.as_str(),
            self.date_raw.as_str(),
            self.subject.as_deref().unwrap_or(""),
            self.body.as_str(),
        ] {
            hash.update(part.as_bytes());
            hash.update([0u8]);
        }
        let digest = hash.finalize();
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        format!("sha256:{hex}")
    }

    /// The subject when it tells the bot something: not empty, not a bare `Re:`, not the
    /// repeated subject of a reply (the thread's first email already brought it, and reading
    /// it again with every reply would undo a change of mind), not already in the body.
    fn subject_words(&self, body: &str) -> Option<String> {
        let (bare, reply) = bare_subject(self.subject.as_deref()?);
        let lower = bare.to_lowercase();
        if bare.is_empty() || reply || EMPTY_SUBJECTS.contains(&lower.as_str()) {
            return None;
        }
        (!body.to_lowercase().contains(&lower)).then(|| bare.to_owned())
    }

    /// What the customer wrote: the subject (when it says something) and then the body,
    /// without quoted history or signature.
    pub fn text(&self) -> String {
        let words = quote::strip(&self.body);
        match self.subject_words(&words) {
            Some(subject) if words.is_empty() => subject,
            Some(subject) => format!("{subject}\n{words}"),
            None => words,
        }
    }

    /// The message for the engine.
    pub fn to_inbound(&self) -> NewInbound {
        let text = self.text();
        let kind = if text.is_empty() && self.attachments > 0 {
            InboundKind::Media {
                kind: "attachment".to_owned(),
            }
        } else {
            InboundKind::Text
        };
        NewInbound {
            key: ChatKey::new(Channel::Email, self.address.clone()),
            external_id: self.external_id(),
            kind: kind.clone(),
            text,
            sender_name: self.name.clone(),
            route: json!({
                "address": self.reply_to,
                "subject": self.subject,
                "message_id": self.message_id,
                "references": self.references,
            }),
            payload: kind.with_data(json!({
                "subject": self.subject,
                "attachments": self.attachments,
            })),
            sent_at: self.date.unwrap_or_else(Utc::now),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RAW: &str = "From: =?UTF-8?B?0JDQudCz0YPQu9GM?= <Aigul.K@Mail.RU>\r\n\
        To: tours@crystalbay.kz\r\n\
        Subject: =?UTF-8?B?0KLRg9GAINCyINCd0Y/Rh9Cw0L3Qsw==?=\r\n\
        Date: Tue, 3 Mar 2026 10:15:00 +0500\r\n\
        Message-ID: <abc.123@mail.ru>\r\n\
        MIME-Version: 1.0\r\n\
        Content-Type: multipart/alternative; boundary=\"b1\"\r\n\
        \r\n\
        --b1\r\n\
        Content-Type: text/plain; charset=utf-8\r\n\
        Content-Transfer-Encoding: 8bit\r\n\
        \r\n\
        Хотим в марте, двое взрослых.\r\n\
        \r\n\
        С уважением,\r\n\
        Айгуль\r\n\
        --b1\r\n\
        Content-Type: text/html; charset=utf-8\r\n\
        \r\n\
        <div>Хотим в марте, двое взрослых.</div>\r\n\
        --b1--\r\n";

    #[test]
    fn a_raw_email_is_read() {
        let email = parse_raw(RAW.as_bytes()).unwrap();
        assert_eq!(email.address, "aigul.k@mail.ru");
        assert_eq!(email.name.as_deref(), Some("Айгуль"));
        assert_eq!(email.subject.as_deref(), Some("Тур в Нячанг"));
        assert_eq!(email.message_id.as_deref(), Some("abc.123@mail.ru"));
        assert_eq!(
            email.date.unwrap().to_rfc3339(),
            "2026-03-03T05:15:00+00:00"
        );
        assert!(!email.auto_generated);
        let inbound = email.to_inbound();
        assert_eq!(inbound.key, ChatKey::new(Channel::Email, "aigul.k@mail.ru"));
        assert_eq!(inbound.external_id, "aigul.k@mail.ru <abc.123@mail.ru>");
        assert_eq!(inbound.text, "Тур в Нячанг\nХотим в марте, двое взрослых.");
        assert_eq!(inbound.route["address"], "aigul.k@mail.ru");
        assert_eq!(inbound.route["references"], json!([]));
    }

    #[test]
    fn a_reply_keeps_its_thread_and_not_its_subject() {
        let raw = "From: aigul@mail.ru\nSubject: Re: Тур в Нячанг\nIn-Reply-To: <o1@crystalbay.kz>\n\
                   Reply-To: Aigul <aigul.work@corp.kz>\n\nДа, подходит\n\n> old";
        let email = parse_raw(raw.as_bytes()).unwrap();
        assert_eq!(email.references, ["o1@crystalbay.kz"]);
        assert_eq!(email.reply_to, "aigul.work@corp.kz");
        assert_eq!(email.text(), "Да, подходит");
        // No Message-ID: a stable hash stands in.
        let id = email.external_id();
        assert!(id.starts_with("sha256:"), "{id}");
        assert_eq!(parse_raw(raw.as_bytes()).unwrap().external_id(), id);
    }

    #[test]
    fn the_same_message_id_from_two_senders_is_two_keys() {
        let from = |address: &str| {
            let raw = format!("From: {address}\nMessage-ID: <same@client>\n\nПривет");
            parse_raw(raw.as_bytes()).unwrap().external_id()
        };
        assert_eq!(from("a@mail.ru"), from("A@Mail.RU"), "one sender, any case");
        assert_ne!(from("a@mail.ru"), from("b@mail.ru"));
    }

    #[test]
    fn flowed_lines_are_joined() {
        assert_eq!(
            unflow(
                "about 10 \r\nnights.\r\n\r\n-- \r\nTom\r\n> a \r\n>b\r\n",
                false
            ),
            "about 10 nights.\n\n-- \nTom\n> a \n>b\n\n"
        );
        assert_eq!(unflow("sepa- \nrated\n", true), "sepa-rated\n\n");
        assert_eq!(unflow("  stuffed\n", false), " stuffed\n\n");
    }

    #[test]
    fn subjects_lose_their_prefixes() {
        assert_eq!(bare_subject("Re: RE: Тур"), ("Тур", true));
        assert_eq!(bare_subject("Fwd: Тур"), ("Тур", false));
        assert_eq!(bare_subject("Re[2]: "), ("", true));
        assert_eq!(bare_subject("Ответ: Вопрос: виза"), ("Вопрос: виза", true));
    }

    #[test]
    fn machines_are_recognised() {
        let auto =
            "From: aigul@mail.ru\nAuto-Submitted: auto-replied\nSubject: Out of office\n\nAway";
        assert!(parse_raw(auto.as_bytes()).unwrap().auto_generated);
        let bounce = "From: MAILER-DAEMON@mx.mail.ru\nSubject: Undelivered\n\nx";
        assert!(parse_raw(bounce.as_bytes()).unwrap().auto_generated);
        let human = "From: aigul@mail.ru\nAuto-Submitted: no\n\nHi";
        assert!(!parse_raw(human.as_bytes()).unwrap().auto_generated);
    }

    #[test]
    fn what_is_not_an_email_is_refused() {
        assert_eq!(parse_raw(b""), Err(EmailError::NotAnEmail));
        assert_eq!(
            parse_raw(b"Subject: hi\n\nno sender"),
            Err(EmailError::NoSender)
        );
        assert_eq!(
            parse_raw(b"From: not an address\n\nx"),
            Err(EmailError::NoSender)
        );
    }

    #[test]
    fn a_parsed_form_is_read() {
        let mut form = Form::default();
        for (k, v) in [
            ("from", "Aigul <aigul@mail.ru>"),
            ("subject", "Тур в Нячанг"),
            ("html", "<p>Хотим в марте</p><blockquote>old</blockquote>"),
            (
                "headers",
                "Message-ID: <f1@mail.ru>\nReferences: <a@x> <b@y>\nDate: Tue, 3 Mar 2026 10:15:00 +0500\n",
            ),
        ] {
            form.fields.insert(k.into(), v.as_bytes().to_vec());
        }
        let email = parse_form(&form).unwrap();
        assert_eq!(email.address, "aigul@mail.ru");
        assert_eq!(email.name.as_deref(), Some("Aigul"));
        assert_eq!(email.message_id.as_deref(), Some("f1@mail.ru"));
        assert_eq!(email.references, ["a@x", "b@y"]);
        assert_eq!(email.text(), "Тур в Нячанг\nХотим в марте");
        assert_eq!(
            parse_form(&Form::default()).unwrap_err(),
            EmailError::NoEmailFields
        );
    }

    #[test]
    fn a_field_in_another_charset_is_decoded() {
        // "Привет" in windows-1251.
        let cp1251 = [0xCF, 0xF0, 0xE8, 0xE2, 0xE5, 0xF2];
        assert_eq!(decode(&cp1251, Some("windows-1251")), "Привет");
        assert_eq!(decode("ок".as_bytes(), None), "ок");
    }
}
