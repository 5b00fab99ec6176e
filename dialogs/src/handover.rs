//! Handing a chat between the bot and the managers, as plain values.
//!
//! A chat is owned by the bot, waiting for a manager, or owned by a manager ([`Owner`]).
//! [`apply`] says who owns it after each [`Event`]: a customer's message (the quiet period),
//! a channel echo of a manager's message, a manager's take/write/release, an escalation. The
//! Conversation actor calls it and records each [`Handover`] it returns; it decides nothing
//! about ownership itself.

use crate::chat::Owner;
use crate::turn::EscalationReason;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Who speaks for the agency in a chat, since when, and (for a manager) who and from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hands {
    pub owner: Owner,
    /// When the chat passed to `owner`, or a manager last acted in it (the quiet period counts
    /// from here).
    pub since: DateTime<Utc>,
    /// The manager who owns the chat (`None` unless `owner` is a manager).
    pub manager: Option<String>,
    /// Where that manager last worked with the chat (`None` unless `owner` is a manager).
    pub desk: Option<Desk>,
}

impl Hands {
    /// A chat the bot owns.
    pub fn bot(since: DateTime<Utc>) -> Self {
        Self {
            owner: Owner::Bot,
            since,
            manager: None,
            desk: None,
        }
    }
}

/// Where a manager works with a chat. It decides whether the customer's messages are relayed
/// to the managers' chat while the manager owns it (not when they work through the admin API,
/// which shows the conversation itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Desk {
    /// The managers' Telegram chat: its buttons, and replies to announcements.
    ManagersChat,
    /// The admin HTTP API.
    AdminApi,
    /// The customer's own channel, outside the engine: the CRM or the phone (a channel echo).
    Channel,
}

impl Desk {
    pub fn as_str(self) -> &'static str {
        match self {
            Desk::ManagersChat => "managers_chat",
            Desk::AdminApi => "admin_api",
            Desk::Channel => "channel",
        }
    }

    /// The desk of a stored name; `None` for a name that is not one.
    pub fn parse(s: &str) -> Option<Self> {
        [Desk::ManagersChat, Desk::AdminApi, Desk::Channel]
            .into_iter()
            .find(|d| d.as_str() == s)
    }

    /// Whether the customer's messages should be copied to the managers' chat while a manager
    /// working here owns the chat.
    pub fn wants_relay(self) -> bool {
        self != Desk::AdminApi
    }
}

/// Why a customer's follow-up cannot wait for the next reminder: it is announced to the
/// managers at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    /// The customer says it is urgent ("срочно", "asap", "шұғыл").
    Said,
    /// The trip is days away ("вылет через неделю", "улетаем завтра").
    TripSoon,
    /// The customer asks to be called back, and their phone is known.
    CallBack,
    /// The customer is impatient ("вы вообще читаете???", "почему не отвечаете").
    Impatient,
    /// The customer pinged again ("алло" … "алло?") with nobody answering.
    Pings,
}

impl Urgency {
    /// The stored name (`said`, `trip_soon`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::Said => "said",
            Urgency::TripSoon => "trip_soon",
            Urgency::CallBack => "call_back",
            Urgency::Impatient => "impatient",
            Urgency::Pings => "pings",
        }
    }

    /// The urgency of a stored name; `None` for a name that is not one.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Urgency::Said,
            Urgency::TripSoon,
            Urgency::CallBack,
            Urgency::Impatient,
            Urgency::Pings,
        ]
        .into_iter()
        .find(|u| u.as_str() == s)
    }
}

/// What a manager does to a chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManagerMove {
    /// Takes the chat (claims its escalations): the bot falls silent.
    Take,
    /// Writes to the customer (taking the chat if not yet taken).
    Write,
    /// Gives the chat back to the bot (resolves its escalations).
    Release,
}

/// Something that may move a chat between the bot, waiting and a manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// A customer's message arrives: a chat left quiet for the quiet period returns to the bot.
    CustomerWrote,
    /// The channel reports a message a manager sent outside the engine (from the CRM or the
    /// phone): the chat is theirs.
    Echo { author: &'a str },
    /// A manager acts through the managers' chat or the admin API.
    Manager {
        action: ManagerMove,
        by: &'a str,
        desk: Desk,
    },
    /// The bot's turn escalated: a chat the bot owned now waits for a manager.
    Escalated { reason: EscalationReason },
}

/// Why a chat changed hands, as recorded in `ownership_changes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// No manager activity for the quiet period.
    QuietPeriod,
    /// A manager wrote from the CRM or the phone (a channel echo).
    ManagerWroteElsewhere,
    /// A manager took the chat.
    Claimed,
    /// A manager wrote through the engine.
    ManagerWrote,
    /// A manager gave the chat back.
    Released,
    /// The bot escalated, for this reason.
    Escalated(EscalationReason),
}

impl Reason {
    /// The stored name: `quiet_period`, `claimed`, … or the escalation's reason
    /// (`human_request`, `booking_request`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::QuietPeriod => "quiet_period",
            Reason::ManagerWroteElsewhere => "manager_wrote_elsewhere",
            Reason::Claimed => "claimed",
            Reason::ManagerWrote => "manager_wrote",
            Reason::Released => "released",
            Reason::Escalated(r) => r.as_str(),
        }
    }
}

/// A change of hands to record: from whom, to whom, who did it and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handover {
    pub from: Owner,
    pub to: Owner,
    /// `bot`, or the manager's name.
    pub by: String,
    pub reason: Reason,
}

/// Applies `event` at `now` to a chat in `hands`, changing them in place; returns the change of
/// hands to record, if the owner changed. `quiet` is the quiet period.
///
/// - A customer's message returns a chat that waited for a manager, or that a manager owned,
///   to the bot once `quiet` has passed since the last manager activity (or the handover).
/// - A channel echo of a manager's message, or a manager taking or writing, gives the chat to
///   that manager; if a manager owns it already, it is activity: the quiet period starts again
///   (the owner stays the one who took it; the desk follows where they last worked).
/// - A manager releasing gives the chat back to the bot.
/// - An escalation moves a chat the bot owns to waiting; a chat already waiting or with a
///   manager stays as it is (what the customer adds is a follow-up, not a new handover).
pub fn apply(
    hands: &mut Hands,
    event: Event<'_>,
    now: DateTime<Utc>,
    quiet: Duration,
) -> Option<Handover> {
    match event {
        Event::CustomerWrote => {
            let idle = (now - hands.since).to_std().unwrap_or_default();
            (hands.owner != Owner::Bot && idle >= quiet)
                .then(|| pass(hands, Owner::Bot, "bot", Reason::QuietPeriod, None, now))
        }
        Event::Echo { author } => to_manager(
            hands,
            author,
            Desk::Channel,
            Reason::ManagerWroteElsewhere,
            now,
        ),
        Event::Manager { action, by, desk } => match action {
            ManagerMove::Take => to_manager(hands, by, desk, Reason::Claimed, now),
            ManagerMove::Write => to_manager(hands, by, desk, Reason::ManagerWrote, now),
            ManagerMove::Release => (hands.owner != Owner::Bot)
                .then(|| pass(hands, Owner::Bot, by, Reason::Released, None, now)),
        },
        Event::Escalated { reason } => (hands.owner == Owner::Bot).then(|| {
            pass(
                hands,
                Owner::Waiting,
                "bot",
                Reason::Escalated(reason),
                None,
                now,
            )
        }),
    }
}

fn to_manager(
    hands: &mut Hands,
    by: &str,
    desk: Desk,
    reason: Reason,
    now: DateTime<Utc>,
) -> Option<Handover> {
    if hands.owner == Owner::Manager {
        hands.since = now;
        hands.desk = Some(desk);
        return None;
    }
    Some(pass(hands, Owner::Manager, by, reason, Some(desk), now))
}

fn pass(
    hands: &mut Hands,
    to: Owner,
    by: &str,
    reason: Reason,
    desk: Option<Desk>,
    now: DateTime<Utc>,
) -> Handover {
    let change = Handover {
        from: hands.owner,
        to,
        by: by.to_owned(),
        reason,
    };
    hands.owner = to;
    hands.since = now;
    hands.manager = (to == Owner::Manager).then(|| by.to_owned());
    hands.desk = desk;
    change
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUIET: Duration = Duration::from_secs(12 * 3600);

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap() + chrono::Duration::minutes(minutes)
    }

    fn take(by: &str, desk: Desk) -> Event<'_> {
        Event::Manager {
            action: ManagerMove::Take,
            by,
            desk,
        }
    }

    #[test]
    fn an_escalation_moves_the_bots_chat_to_waiting_once() {
        let mut hands = Hands::bot(at(0));
        let change = apply(
            &mut hands,
            Event::Escalated {
                reason: EscalationReason::BookingRequest,
            },
            at(1),
            QUIET,
        )
        .unwrap();
        assert_eq!((change.from, change.to), (Owner::Bot, Owner::Waiting));
        assert_eq!(
            (change.by.as_str(), change.reason.as_str()),
            ("bot", "booking_request")
        );
        assert_eq!((hands.owner, hands.since), (Owner::Waiting, at(1)));
        // Escalating again while waiting (or with a manager) changes nothing: it is a follow-up.
        let again = Event::Escalated {
            reason: EscalationReason::Complaint,
        };
        assert_eq!(apply(&mut hands, again, at(5), QUIET), None);
        assert_eq!(
            hands.since,
            at(1),
            "the wait still counts from the handover"
        );
        apply(&mut hands, take("Айдана", Desk::ManagersChat), at(6), QUIET);
        assert_eq!(apply(&mut hands, again, at(7), QUIET), None);
        assert_eq!(hands.owner, Owner::Manager);
    }

    #[test]
    fn a_manager_takes_writes_and_releases() {
        let mut hands = Hands::bot(at(0));
        hands.owner = Owner::Waiting;
        let change = apply(&mut hands, take("Айдана", Desk::ManagersChat), at(2), QUIET).unwrap();
        assert_eq!(
            (change.from, change.to, change.reason),
            (Owner::Waiting, Owner::Manager, Reason::Claimed)
        );
        assert_eq!(hands.manager.as_deref(), Some("Айдана"));
        assert_eq!(hands.desk, Some(Desk::ManagersChat));

        // Writing while owning is activity: no change recorded, the quiet period restarts, the
        // desk follows; the owner stays the manager who took it.
        let write = Event::Manager {
            action: ManagerMove::Write,
            by: "Серик",
            desk: Desk::AdminApi,
        };
        assert_eq!(apply(&mut hands, write, at(30), QUIET), None);
        assert_eq!((hands.since, hands.desk), (at(30), Some(Desk::AdminApi)));
        assert_eq!(hands.manager.as_deref(), Some("Айдана"));

        let release = Event::Manager {
            action: ManagerMove::Release,
            by: "Айдана",
            desk: Desk::AdminApi,
        };
        let change = apply(&mut hands, release, at(40), QUIET).unwrap();
        assert_eq!(
            (change.to, change.reason.as_str()),
            (Owner::Bot, "released")
        );
        assert_eq!(hands, Hands::bot(at(40)));
        // Releasing a chat the bot owns records nothing.
        assert_eq!(apply(&mut hands, release, at(41), QUIET), None);
    }

    #[test]
    fn writing_to_a_chat_nobody_took_takes_it() {
        let mut hands = Hands::bot(at(0));
        let write = Event::Manager {
            action: ManagerMove::Write,
            by: "Айдана",
            desk: Desk::AdminApi,
        };
        let change = apply(&mut hands, write, at(1), QUIET).unwrap();
        assert_eq!(
            (change.from, change.to, change.reason.as_str()),
            (Owner::Bot, Owner::Manager, "manager_wrote")
        );
    }

    #[test]
    fn a_channel_echo_of_a_managers_message_takes_the_chat() {
        let mut hands = Hands::bot(at(0));
        hands.owner = Owner::Waiting;
        let change = apply(
            &mut hands,
            Event::Echo {
                author: "Айгерим"
            },
            at(3),
            QUIET,
        )
        .unwrap();
        assert_eq!(
            (change.to, change.by.as_str(), change.reason.as_str()),
            (Owner::Manager, "Айгерим", "manager_wrote_elsewhere")
        );
        assert_eq!(hands.desk, Some(Desk::Channel));
        // The next echo is activity.
        assert_eq!(
            apply(
                &mut hands,
                Event::Echo {
                    author: "Айгерим"
                },
                at(50),
                QUIET
            ),
            None
        );
        assert_eq!(hands.since, at(50));
    }

    #[test]
    fn a_quiet_chat_returns_to_the_bot_with_the_next_customer_message() {
        for owner in [Owner::Waiting, Owner::Manager] {
            let mut hands = Hands {
                owner,
                since: at(0),
                manager: (owner == Owner::Manager).then(|| "Айдана".to_owned()),
                desk: (owner == Owner::Manager).then_some(Desk::ManagersChat),
            };
            // Not yet: a minute short.
            assert_eq!(
                apply(&mut hands, Event::CustomerWrote, at(12 * 60 - 1), QUIET),
                None
            );
            assert_eq!(hands.owner, owner);
            let change = apply(&mut hands, Event::CustomerWrote, at(12 * 60), QUIET).unwrap();
            assert_eq!(
                (change.from, change.to, change.by.as_str()),
                (owner, Owner::Bot, "bot")
            );
            assert_eq!(change.reason, Reason::QuietPeriod);
            assert_eq!(hands, Hands::bot(at(12 * 60)));
        }
        // A chat the bot owns has no quiet period.
        let mut hands = Hands::bot(at(0));
        assert_eq!(
            apply(&mut hands, Event::CustomerWrote, at(100_000), QUIET),
            None
        );
    }

    #[test]
    fn manager_activity_keeps_the_chat_through_the_quiet_period() {
        let mut hands = Hands::bot(at(0));
        apply(&mut hands, take("Айдана", Desk::ManagersChat), at(0), QUIET);
        let write = Event::Manager {
            action: ManagerMove::Write,
            by: "Айдана",
            desk: Desk::ManagersChat,
        };
        apply(&mut hands, write, at(11 * 60), QUIET);
        assert_eq!(
            apply(&mut hands, Event::CustomerWrote, at(13 * 60), QUIET),
            None
        );
        assert_eq!(hands.owner, Owner::Manager);
    }

    #[test]
    fn reasons_are_stored_by_their_serialised_names() {
        for r in [
            EscalationReason::HumanRequest,
            EscalationReason::Complaint,
            EscalationReason::BookingRequest,
            EscalationReason::NotUnderstood,
            EscalationReason::SearchUnavailable,
            EscalationReason::Keyword,
        ] {
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
            assert_eq!(Reason::Escalated(r).as_str(), r.as_str());
        }
    }

    #[test]
    fn desks_round_trip_and_only_the_admin_api_goes_without_relays() {
        for d in [Desk::ManagersChat, Desk::AdminApi, Desk::Channel] {
            assert_eq!(Desk::parse(d.as_str()), Some(d));
        }
        assert_eq!(Desk::parse("fax"), None);
        assert!(Desk::ManagersChat.wants_relay() && Desk::Channel.wants_relay());
        assert!(!Desk::AdminApi.wants_relay());
    }
}
