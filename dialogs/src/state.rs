//! What a conversation remembers between messages. Stored as JSON with the conversation, so
//! every field has a default: a state written by an older version still loads.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DialogState {
    /// Messages handled so far in this conversation.
    pub turns: u32,
    /// The customer's language as last detected: `ru`, `kk` or `en`.
    pub language: Option<String>,
}
