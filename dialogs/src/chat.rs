//! Who a conversation is with: the channel, the chat within it, and who owns it.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A channel travellers write on. `Console` is the terminal chat (`crystalbay chat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Telegram,
    Wazzup,
    Email,
    Console,
}

impl Channel {
    pub const ALL: [Channel; 4] = [
        Channel::Telegram,
        Channel::Wazzup,
        Channel::Email,
        Channel::Console,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Telegram => "telegram",
            Channel::Wazzup => "wazzup",
            Channel::Email => "email",
            Channel::Console => "console",
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error for a channel or owner name that is not one of ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{value}`")]
pub struct UnknownName {
    pub what: &'static str,
    pub value: String,
}

impl FromStr for Channel {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Channel::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownName {
                what: "channel",
                value: s.to_owned(),
            })
    }
}

/// One chat: the unit of ordering. Messages of one `ChatKey` are handled one at a time, in order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ChatKey {
    pub channel: Channel,
    /// The channel's own id of the chat (Telegram chat id, WhatsApp number, email address, …).
    pub chat_id: String,
}

impl ChatKey {
    pub fn new(channel: Channel, chat_id: impl Into<String>) -> Self {
        Self {
            channel,
            chat_id: chat_id.into(),
        }
    }
}

impl fmt::Display for ChatKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.channel, self.chat_id)
    }
}

/// Who speaks for the agency in a chat right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Owner {
    /// The bot answers.
    #[default]
    Bot,
    /// Escalated: the bot has told the customer a manager is coming and waits.
    Waiting,
    /// A manager owns the chat; the bot stays silent.
    Manager,
}

impl Owner {
    pub fn as_str(self) -> &'static str {
        match self {
            Owner::Bot => "bot",
            Owner::Waiting => "waiting",
            Owner::Manager => "manager",
        }
    }
}

impl FromStr for Owner {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "bot" => Ok(Owner::Bot),
            "waiting" => Ok(Owner::Waiting),
            "manager" => Ok(Owner::Manager),
            other => Err(UnknownName {
                what: "owner",
                value: other.to_owned(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_and_owner_names_round_trip() {
        for c in Channel::ALL {
            assert_eq!(c.as_str().parse::<Channel>().unwrap(), c);
        }
        for o in [Owner::Bot, Owner::Waiting, Owner::Manager] {
            assert_eq!(o.as_str().parse::<Owner>().unwrap(), o);
        }
        assert!("fax".parse::<Channel>().is_err());
    }
}
