//! The terminal channel behind `crystalbay chat`: replies are printed, buttons listed under them.

use crate::outbound::{OutgoingMessage, SendError, SendReceipt, Sender};
use async_trait::async_trait;
use dialogs::Channel;
use std::io::Write;

/// Prints replies to standard output.
#[derive(Debug, Default)]
pub struct ConsoleSender;

#[async_trait]
impl Sender for ConsoleSender {
    fn channel(&self) -> Channel {
        Channel::Console
    }

    async fn send(&self, message: &OutgoingMessage) -> Result<SendReceipt, SendError> {
        let mut out = String::new();
        for line in message.text.lines() {
            out.push_str("bot> ");
            out.push_str(line);
            out.push('\n');
        }
        for (i, b) in message.buttons.iter().enumerate() {
            out.push_str(&format!("     [{}] {}\n", i + 1, b.label));
        }
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(out.as_bytes())
            .and_then(|_| stdout.flush())
            .map_err(|e| SendError::Retryable {
                reason: format!("stdout: {e}"),
                retry_after: None,
            })?;
        Ok(SendReceipt::default())
    }
}
