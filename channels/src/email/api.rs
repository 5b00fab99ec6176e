//! The SMTP connection (lettre's pooled async transport) from `SMTP_URL` and `EMAIL_FROM`:
//! checking it, sending a built message, and each failure classified.
//!
//! **Failures.** SMTP 4xx, timeouts and connection or TLS failures → retry. A permanent 5xx
//! about the recipient (550/551/552/553 mailbox unavailable or unknown, 521/556 domain takes no
//! mail) → unreachable; any other 5xx (a policy refusal such as `5.7.1`, failed
//! authentication) → rejected. The URL (it carries the password) is never in an error.

use crate::outbound::SendError;
use lettre::message::Mailbox;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// How long one SMTP command may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);
/// Why the email sender could not be built (a configuration problem: start-up stops).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetupError {
    /// The reason never repeats the URL: it carries the SMTP password.
    #[error("SMTP_URL cannot be used: {0}")]
    SmtpUrl(String),
    #[error("EMAIL_FROM is not a valid address")]
    From,
}

/// Why the SMTP server could not be reached or refused us (`crystalbay doctor`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectionError {
    #[error("the server closed the connection")]
    Closed,
    /// lettre's reason (it never shows the password).
    #[error("{0}")]
    Smtp(String),
}

/// An SMTP server to send through, as `from`.
pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    /// EMAIL_FROM.
    pub(super) from: Mailbox,
    /// The domain of our Message-IDs: EMAIL_FROM's.
    pub(super) domain: String,
}

impl Smtp {
    /// The server of `smtp_url`, sending as `from`.
    pub fn new(smtp_url: &str, from: &str) -> Result<Self, SetupError> {
        let address: Address = from.trim().parse().map_err(|_| SetupError::From)?;
        let domain = address.domain().to_owned();
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
            .map_err(|e| SetupError::SmtpUrl(e.to_string()))?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        if sends_password_in_clear(smtp_url) {
            tracing::warn!(
                "SMTP_URL is smtp:// with a password and without ?tls=required: the password \
                 crosses the network unencrypted; use smtps:// or add ?tls=required"
            );
        }
        Ok(Self {
            transport,
            from: Mailbox::new(None, address),
            domain,
        })
    }

    /// Connects to the SMTP server, with TLS as the URL asks and AUTH when it carries
    /// credentials, and says goodbye: no mail is sent.
    #[tracing::instrument(name = "email.check_connection", skip_all)]
    pub async fn check_connection(&self) -> Result<(), ConnectionError> {
        match self.transport.test_connection().await {
            Ok(true) => Ok(()),
            Ok(false) => Err(ConnectionError::Closed),
            Err(e) => Err(ConnectionError::Smtp(e.to_string())),
        }
    }

    /// Sends one message; a failure says what the channel actor should do.
    #[tracing::instrument(name = "email.smtp_send", skip_all)]
    pub async fn send(&self, email: Message) -> Result<(), SendError> {
        self.transport.send(email).await.map_err(send_error)?;
        Ok(())
    }
}

/// What the channel actor should do about a failed send. The reason is masked: servers quote
/// the recipient's address in their refusals.
fn send_error(error: lettre::transport::smtp::Error) -> SendError {
    let reason = dialogs::privacy::mask_text(&error.to_string());
    if error.is_permanent() {
        classify_permanent(error.status().map(u16::from), reason)
    } else if error.is_client() {
        // lettre refused to go on (no common authentication mechanism, …): retrying will not help.
        SendError::Rejected { reason }
    } else {
        // 4xx, timeouts, connection and TLS failures, unreadable answers.
        SendError::Retryable {
            reason,
            retry_after: None,
        }
    }
}

/// A permanent (5xx) refusal: about the recipient's mailbox → unreachable; anything else
/// (policy, authentication, syntax) → rejected.
fn classify_permanent(code: Option<u16>, reason: String) -> SendError {
    let about_recipient = matches!(code, Some(550 | 551 | 552 | 553 | 521 | 556));
    // Enhanced status 5.7.x is a policy (spam, relaying, authentication) refusal of our mail,
    // not a missing mailbox, whatever the basic code.
    let policy = reason.contains("5.7.");
    if about_recipient && !policy {
        SendError::Unreachable { reason }
    } else {
        SendError::Rejected { reason }
    }
}

/// `smtp://user:pass@host` without `tls=` to a host other than this machine.
fn sends_password_in_clear(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("smtp://") else {
        return false;
    };
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return false;
    };
    let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
    let local = matches!(host, "localhost" | "127.0.0.1" | "[::1]");
    userinfo.contains(':') && !url.contains("tls=") && !local
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permanent_refusals_are_told_apart() {
        let unreachable = classify_permanent(Some(550), "5.1.1 mailbox unavailable".into());
        assert!(matches!(unreachable, SendError::Unreachable { .. }));
        let policy = classify_permanent(Some(550), "5.7.1 message refused as spam".into());
        assert!(matches!(policy, SendError::Rejected { .. }));
        let auth = classify_permanent(Some(535), "5.7.8 authentication failed".into());
        assert!(matches!(auth, SendError::Rejected { .. }));
    }

    #[test]
    fn clear_text_passwords_are_noticed() {
        assert!(sends_password_in_clear("smtp://u:p@smtp.example.com:587"));
        assert!(!sends_password_in_clear(
            "smtp://u:p@smtp.example.com:587?tls=required"
        ));
        assert!(!sends_password_in_clear("smtps://u:p@smtp.example.com"));
        assert!(!sends_password_in_clear("smtp://u:p@127.0.0.1:2525"));
        assert!(!sends_password_in_clear("smtp://smtp.example.com"));
    }

    // The pool spawns its cleanup task: a runtime is needed.
    #[tokio::test]
    async fn setup_errors_do_not_repeat_the_password() {
        let Err(err) = Smtp::new("ftp://user:hunter2@host", "bot@crystalbay.kz") else {
            panic!("an ftp URL was accepted");
        };
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert!(matches!(
            Smtp::new("smtp://127.0.0.1", "not an address"),
            Err(SetupError::From)
        ));
    }
}
