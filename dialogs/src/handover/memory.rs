//! What the bot remembers while a chat is handed to a manager, kept in the dialog state and
//! named in replies and escalations: the [`Memory`] of the current handover, the
//! acknowledgements sent ([`Ack`]) and why a follow-up is urgent ([`Urgency`]). Plain values
//! with no logic beyond their names, so the state, the replies and the turn types can hold them
//! without depending on the handover's decisions (`super`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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

/// What the bot remembers of the current handover, so that it acknowledges once and never
/// repeats itself. Kept in the dialog state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Memory {
    /// When the chat left the bot: the handover this memory is about (a new one starts afresh).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    /// Pings ("алло", "?") and impatient messages since the handover: a second one is urgent.
    pub pings: u32,
    /// The customer asked to be called and gave no phone yet: the phone, when it comes, is an
    /// urgent call-back request.
    pub wants_call: bool,
    /// The kinds of acknowledgement sent since the handover, each once, in the order first sent.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub acks: Vec<Ack>,
    /// The last acknowledgement sent (the next one is never the same).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last: Option<Ack>,
}

impl Memory {
    /// Nothing remembered (not serialised then).
    pub fn is_empty(&self) -> bool {
        *self == Memory::default()
    }
}

/// An acknowledgement the bot sends while a chat waits for a manager (template `waiting`).
/// Each but the two short notes is sent at most once per handover; the short notes take turns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ack {
    /// "Передал менеджеру, он ответит …; всё, что допишете, тоже передам."
    Told,
    /// "Отметил как срочное и сразу передал менеджеру …"
    Urgent,
    /// "Напомнил менеджеру ещё раз …" (a later urgent follow-up).
    Reminded,
    /// "Передал просьбу перезвонить на … — менеджер свяжется …"
    CallBack,
    /// "Оставьте номер — менеджер перезвонит." (a call-back request with no phone known)
    AskPhone,
    /// "Спасибо! Менеджер свяжется с вами …" (the customer thanks or says goodbye)
    Thanks,
    /// A short note: "Добавил к заявке — менеджер увидит."
    Noted,
    /// Another short note, so two in a row never read the same: "Записал 👍 …"
    NotedAgain,
}
