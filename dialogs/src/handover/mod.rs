//! Handing a chat between the bot and the managers, as plain values.
//!
//! A chat is owned by the bot, waiting for a manager, or owned by a manager ([`Owner`]).
//!
//! - [`apply`] says who owns it after each [`Event`]: a customer's message (the quiet period),
//!   a channel echo of a manager's message, a manager's take/write/release, an escalation. The
//!   Conversation actor calls it and records each [`Handover`] it returns; it decides nothing
//!   about ownership itself.
//! - [`after_handover`] decides a turn of a chat that is not the bot's. The bot stops selling
//!   (no slot questions, searches or offers): what the customer adds is a follow-up for the
//!   manager ([`DialogEvent::FollowUp`], urgent when it cannot wait: see [`urgency`]). While the
//!   chat waits, the bot acknowledges once, saying when a manager answers (an urgent follow-up:
//!   that it went as urgent; a call-back: that the manager will call), then with short notes
//!   that take turns, never the same one twice in a row; plain FAQ questions are still
//!   answered. While a manager owns the chat the bot says nothing.

use crate::analysis::{Analysis, Intent, Language, folded_words};
use crate::chat::Owner;
use crate::faq::Faq;
use crate::hours::Office;
use crate::policy::{actions, fingerprint};
use crate::replies::{Template, Waiting};
use crate::state::DialogState;
use crate::templates::{TemplateError, Templates};
use crate::turn::{DialogEvent, EscalationReason, Reply, TurnInput, TurnOutcome};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub mod memory;
pub use memory::{Ack, Memory, Urgency};

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
/// - An escalation moves a chat the bot owns to waiting, except a question passed on
///   ([`hands_over`]); a chat already waiting or with a manager stays as it is (what the
///   customer adds is a follow-up, not a new handover).
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
        Event::Escalated { reason } => {
            (hands.owner == Owner::Bot && hands_over(reason)).then(|| {
                pass(
                    hands,
                    Owner::Waiting,
                    "bot",
                    Reason::Escalated(reason),
                    None,
                    now,
                )
            })
        }
    }
}

/// Whether an escalation for `reason` takes the chat from the bot. A question the bot could
/// not answer (about a hotel, say) goes to a manager as a question, and the customer goes on
/// choosing with the bot meanwhile: the chat becomes the manager's when they take it or write.
pub fn hands_over(reason: EscalationReason) -> bool {
    reason != EscalationReason::Question
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

/// Decides a turn of a chat that is not the bot's (`hands.owner` is waiting or a manager),
/// updating `state` (its [`Memory`], contact details, language). `analysis` is of the
/// customer's words (of nothing for a button press).
///
/// The outcome carries one [`DialogEvent::FollowUp`] with what the customer added, and the
/// replies: while the chat waits, an acknowledgement (the first says when a manager answers;
/// an urgent follow-up says it was passed on as urgent; a call-back request says the manager
/// will call; later, a short note), or a FAQ answer to a plain question; none while a manager
/// owns the chat. Never a slot question, a search or an offer, never the same reply twice in
/// a row.
pub fn after_handover(
    state: &mut DialogState,
    hands: &Hands,
    analysis: &Analysis,
    input: &TurnInput,
    templates: &Templates,
    faq: &Faq,
) -> Result<TurnOutcome, TemplateError> {
    state.turns += 1;
    let memory = &mut state.handover;
    let new_handover = match hands.owner {
        Owner::Waiting => memory.since != Some(hands.since),
        _ => memory.since.is_none(),
    };
    if new_handover {
        *memory = Memory {
            since: Some(hands.since),
            ..Memory::default()
        };
    }
    crate::policy::update_language(state, analysis, input);
    // Contact details are kept (the manager needs them); nothing else the customer says
    // changes the search now: it is the manager's.
    let said = &analysis.slots;
    let shared_phone = (input.action.as_deref() == Some(actions::CONTACT))
        .then(|| input.customer_phone.clone())
        .flatten();
    let new_phone = said.phone.clone().or(shared_phone);
    for (slot, value) in [
        (&mut state.slots.phone, &new_phone),
        (&mut state.slots.email, &said.email),
        (&mut state.slots.name, &said.name),
    ] {
        if value.is_some() {
            slot.clone_from(value);
        }
    }
    let phone = state.slots.phone.clone().or(input.customer_phone.clone());

    let text = follow_up_text(state, analysis, input);
    let signals = Signals::read(&input.text, analysis, input.today);
    let memory = &mut state.handover;
    let repeated_ping = signals.ping && memory.pings > 0;
    if signals.ping {
        memory.pings += 1;
    }
    // A call-back request, or the phone it waited for.
    let call_back = (signals.call || (memory.wants_call && new_phone.is_some())) && phone.is_some();
    memory.wants_call = (signals.call || memory.wants_call) && phone.is_none();
    let urgency = signals.urgency(call_back, repeated_ping);
    let follow_up = DialogEvent::FollowUp { text, urgency };
    if hands.owner == Owner::Manager {
        // The manager speaks for the agency here.
        return Ok(TurnOutcome {
            replies: Vec::new(),
            events: vec![follow_up],
        });
    }

    let lang = state.language.unwrap_or_default();
    let recent = std::mem::take(&mut state.recent);
    let plain_question = input.action.is_none()
        && urgency.is_none()
        && !signals.ping
        && !signals.call
        && matches!(
            analysis.intent,
            Intent::Faq | Intent::Other | Intent::Greeting
        );
    // The same answer twice in a row is not repeated: the question goes to the manager.
    if plain_question
        && let Some(answer) = faq.answer(&input.text, lang)
        && !recent.contains(&fingerprint(answer.text))
    {
        state.recent = vec![fingerprint(answer.text)];
        return Ok(TurnOutcome {
            replies: vec![Reply::text(answer.text)],
            events: vec![follow_up],
        });
    }

    let memory = &mut state.handover;
    let given = |a: Ack| memory.acks.contains(&a);
    let told = given(Ack::Told) || given(Ack::Urgent) || given(Ack::CallBack) || given(Ack::Thanks);
    let ack = if urgency == Some(Urgency::CallBack) && !given(Ack::CallBack) {
        Ack::CallBack
    } else if memory.wants_call && !given(Ack::AskPhone) {
        Ack::AskPhone
    } else if urgency.is_none() && analysis.intent == Intent::ThanksBye && !given(Ack::Thanks) {
        Ack::Thanks
    } else if urgency.is_some() && !given(Ack::Urgent) {
        Ack::Urgent
    } else if urgency.is_some() && !given(Ack::Reminded) {
        Ack::Reminded
    } else if !told {
        Ack::Told
    } else if memory.last == Some(Ack::Noted) {
        // The customer knows what happens next: a short note, never the same twice in a row.
        Ack::NotedAgain
    } else {
        Ack::Noted
    };
    if !memory.acks.contains(&ack) {
        memory.acks.push(ack);
    }
    memory.last = Some(ack);
    let context = Waiting {
        ack,
        phone: phone.filter(|_| ack == Ack::CallBack),
    };
    let office = input.office.clone().unwrap_or_else(Office::always_open);
    let replies = vec![Reply::text(render(templates, lang, &context, &office)?)];
    state.recent = replies.iter().map(|r| fingerprint(&r.text)).collect();
    Ok(TurnOutcome {
        replies,
        events: vec![follow_up],
    })
}

/// The follow-up as the manager reads it: the customer's words, or what they did (a button,
/// a shared contact), with the offer they picked when they picked one on screen. For staff, so
/// in Russian.
fn follow_up_text(state: &DialogState, analysis: &Analysis, input: &TurnInput) -> String {
    let offer = |n: u32| {
        let o = state
            .shown
            .as_ref()?
            .offers
            .get((n as usize).checked_sub(1)?)?;
        Some(format!(
            "вариант {n}: {}, {}, заезд {}, {} ноч., {}",
            o.hotel,
            o.resort,
            o.check_in.format("%d.%m.%Y"),
            o.nights,
            crate::names::money(o.price, &o.currency)
        ))
    };
    let words = input.text.trim();
    match input.action.as_deref() {
        Some(actions::CONTACT) => format!(
            "[поделился контактом] {}",
            input.customer_phone.as_deref().unwrap_or("")
        )
        .trim()
        .to_owned(),
        Some(actions::MORE) => "[нажал «ещё варианты»]".to_owned(),
        Some(actions::MANAGER) => "[нажал «менеджер»]".to_owned(),
        Some(actions::START) => "[открыл чат заново]".to_owned(),
        Some(a) if a.starts_with(actions::BOOK) => {
            let n = a[actions::BOOK.len()..].parse::<u32>().ok();
            match n.and_then(offer) {
                Some(o) => format!("[нажал «забронировать»] {o}"),
                None => format!("[нажал «{a}»]"),
            }
        }
        _ if words.is_empty() => "[вложение без текста]".to_owned(),
        _ => match analysis.hints.choice.and_then(offer) {
            Some(o) => format!("{words}\n→ {o}"),
            None => words.to_owned(),
        },
    }
}

/// Why a customer's follow-up cannot wait, if it cannot: the customer says so, the trip is
/// days away, a call-back with the phone known, impatience, or a ping after an unanswered one.
/// `pings_before` counts the pings and impatient messages earlier in this handover;
/// `phone_known` is whether the customer's phone is known (said now or before, or the channel's).
pub fn urgency(
    text: &str,
    analysis: &Analysis,
    today: NaiveDate,
    pings_before: u32,
    phone_known: bool,
) -> Option<Urgency> {
    let s = Signals::read(text, analysis, today);
    s.urgency(s.call && phone_known, s.ping && pings_before > 0)
}

/// What a message says about time and patience.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Signals {
    /// "срочно", "asap", "шұғыл".
    said_urgent: bool,
    /// A departure within two weeks ("вылет через неделю", "улетаем завтра").
    trip_soon: bool,
    /// Asks to be called ("позвоните мне", "call me back").
    call: bool,
    /// "вы читаете???", "почему не отвечаете".
    impatient: bool,
    /// Only calls for attention: "алло", "ау", "?", "вы тут?" (impatient messages count too).
    ping: bool,
}

/// Word stems (folded as the analyser folds: lower case, ё → е, Kazakh letters to Russian);
/// a stem with a space is a phrase of consecutive words, its last one a stem too.
#[rustfmt::skip]
const URGENT: &[&str] = &[
    "срочн", "асап", "asap", "urgent", "шугыл", "тезирек", "побыстрее", "поскорее",
    "как можно скорее", "как можно быстрее", "безотлагат", "горит", "as soon as",
];
#[rustfmt::skip]
const TRIP: &[&str] = &[
    "вылет", "улет", "летим", "лечу", "рейс", "выезж", "выезд", "flight", "fly", "flying",
    "leav", "depart", "ушамыз", "ушамын", "ушып", "ушу", "ушак",
];
/// Days away a departure counts as soon.
const SOON_DAYS: i64 = 14;
/// Words that put a departure within days ("на неделю" is a length, "через неделю" a date).
#[rustfmt::skip]
const SOON: &[&str] = &[
    "сегодня", "завтра", "послезавтра", "today", "tonight", "tomorrow", "бугин", "ертен",
    "через недел", "через пару", "через несколько", "через день", "этой неделе",
    "следующей неделе", "эти выходные", "на выходных", "next week", "this week", "in a week",
    "within a week", "this weekend", "аптадан кейин", "келеси апта", "осы апта",
];
#[rustfmt::skip]
const CALL: &[&str] = &[
    "позвон", "перезвон", "звякн", "наберите", "набери", "созвон", "звонок", "звонк", "call",
    "ring me", "по телефону", "by phone", "телефонмен", "конырау", "хабарлас",
];
#[rustfmt::skip]
const IMPATIENT: &[&str] = &[
    "читает", "читаешь", "прочитал", "видите", "слышите", "игнор", "отвечает", "отвечаешь",
    "ответьте", "долго ждать", "как долго", "сколько можно", "сколько ждать", "anyone",
    "respond", "ignor", "still waiting", "жауап бермей", "жауап берин", "жауап жок", "окып жатыр",
    "окыдыныз",
];
/// Words of a message that only calls for attention (whole words).
#[rustfmt::skip]
const PING: &[&str] = &[
    "алло", "ало", "алле", "але", "алеу", "ау", "эй", "ну", "что", "как", "hello", "helo",
    "hey", "hi", "привет", "здравствуйте", "здрасте", "салем", "салеметсиз", "есть", "кто",
    "нибудь", "кто-нибудь", "тут", "здесь", "вы", "там", "где", "are", "you", "there",
    "anyone", "someone", "somebody", "is", "бар", "ма", "ме", "кайдасыз", "кайдасыздар",
    "кайда",
];

impl Signals {
    /// The urgency, given whether this is a call-back request with the phone known and a ping
    /// after an earlier one: the strongest reason first.
    fn urgency(&self, call_back: bool, repeated_ping: bool) -> Option<Urgency> {
        if call_back {
            Some(Urgency::CallBack)
        } else if self.trip_soon {
            Some(Urgency::TripSoon)
        } else if self.said_urgent {
            Some(Urgency::Said)
        } else if self.impatient {
            Some(Urgency::Impatient)
        } else if repeated_ping {
            Some(Urgency::Pings)
        } else {
            None
        }
    }

    fn read(text: &str, analysis: &Analysis, today: NaiveDate) -> Self {
        let words = folded_words(text);
        let joined = format!(" {} ", words.join(" "));
        // A stem matches a word start; a stem with a space, a phrase of consecutive words.
        let has = |stems: &[&str]| {
            stems.iter().any(|stem| {
                if stem.contains(' ') {
                    joined.contains(&format!(" {stem}"))
                } else {
                    words.iter().any(|w| w.starts_with(stem))
                }
            })
        };
        let only_attention =
            !text.trim().is_empty() && words.iter().all(|w| PING.contains(&w.as_str()));
        let marks = text.contains("??") || text.contains("?!") || text.contains("!?");
        // "вы читаете???", "почему не отвечаете"; "ну что там??" (only attention, insisting).
        let impatient = has(IMPATIENT) || marks && only_attention;
        let date_soon = analysis
            .slots
            .date_from
            .is_some_and(|d| (0..=SOON_DAYS).contains(&(d - today).num_days()));
        let trip = has(TRIP);
        let soon_in_days = words.windows(3).any(|w| {
            (w[0] == "через" || w[0] == "in")
                && w[1].parse::<i64>().is_ok_and(|n| n <= SOON_DAYS)
                && (w[2].starts_with("дн") || w[2].starts_with("ден") || w[2].starts_with("day"))
        });
        Self {
            said_urgent: has(URGENT),
            trip_soon: trip && (has(SOON) || soon_in_days || date_soon),
            call: has(CALL),
            impatient,
            ping: only_attention || impatient,
        }
    }
}

/// Renders a template with `office`, as every reply template is.
fn render<T: Template>(
    templates: &Templates,
    lang: Language,
    context: &T,
    office: &Office,
) -> Result<String, TemplateError> {
    #[derive(Serialize)]
    struct WithOffice<'a, T> {
        #[serde(flatten)]
        context: &'a T,
        office: &'a Office,
    }
    templates.render(lang, T::NAME, WithOffice { context, office })
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
    fn a_question_passed_on_leaves_the_chat_with_the_bot() {
        let mut hands = Hands::bot(at(0));
        let question = Event::Escalated {
            reason: EscalationReason::Question,
        };
        assert_eq!(apply(&mut hands, question, at(1), QUIET), None);
        assert_eq!(hands.owner, Owner::Bot);
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

    // --- After a handover ---

    use crate::analysis::analyze;
    use crate::search::{Availability, Offer, SearchQuery};
    use crate::state::Shown;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()
    }

    /// A chat handed to the managers, and the bot's side of it.
    struct Handed {
        state: DialogState,
        hands: Hands,
        templates: Templates,
        faq: Faq,
        /// The channel's phone (WhatsApp gives it; Telegram does not).
        channel_phone: Option<String>,
        office: Option<Office>,
    }

    impl Handed {
        fn new(owner: Owner) -> Self {
            Self {
                state: DialogState {
                    language: Some(Language::Ru),
                    ..DialogState::default()
                },
                hands: Hands {
                    owner,
                    since: at(0),
                    manager: (owner == Owner::Manager).then(|| "Айдана".into()),
                    desk: (owner == Owner::Manager).then_some(Desk::ManagersChat),
                },
                templates: Templates::defaults(),
                faq: Faq::defaults(),
                channel_phone: None,
                office: None,
            }
        }

        fn input(&self, text: &str, action: Option<&str>) -> TurnInput {
            TurnInput {
                action: action.map(str::to_owned),
                customer_phone: self.channel_phone.clone(),
                office: self.office.clone(),
                ..TurnInput::text(text, today())
            }
        }

        fn turn(&mut self, input: TurnInput) -> (Option<String>, String, Option<Urgency>) {
            let words = if input.action.is_some() {
                ""
            } else {
                input.text.as_str()
            };
            let analysis = analyze(words, today());
            let out = after_handover(
                &mut self.state,
                &self.hands,
                &analysis,
                &input,
                &self.templates,
                &self.faq,
            )
            .unwrap();
            assert!(out.replies.len() <= 1, "{:?}", out.replies);
            let [DialogEvent::FollowUp { text, urgency }] = &out.events[..] else {
                panic!("one follow-up, no escalation: {:?}", out.events)
            };
            (
                out.replies.first().map(|r| r.text.clone()),
                text.clone(),
                *urgency,
            )
        }

        /// The customer writes `text`: the reply (if any), the follow-up and its urgency.
        fn say(&mut self, text: &str) -> (Option<String>, String, Option<Urgency>) {
            self.turn(self.input(text, None))
        }
    }

    /// Sales talk the bot must not produce once a manager is called.
    fn sells(reply: &str) -> bool {
        [
            "из какого города",
            "сколько вас",
            "на сколько ночей",
            "когда планируете",
            "Нашёл",
            "₸",
        ]
        .iter()
        .any(|w| reply.contains(w))
    }

    #[test]
    fn while_waiting_the_bot_acknowledges_once_then_briefly_and_never_twice_alike() {
        let mut chat = Handed::new(Owner::Waiting);
        let script = [
            "алло",
            "мне срочно, вылет через неделю",
            "вы вообще читаете???",
            "ну что",
            "а можно ещё Фукуок посмотреть на 7 ночей, вдвоем",
            "ок",
            "жду",
        ];
        let mut replies = Vec::new();
        let mut urgencies = Vec::new();
        for line in script {
            let (reply, text, urgency) = chat.say(line);
            assert_eq!(text, line, "the manager gets the customer's words");
            if let Some(r) = reply {
                assert!(!sells(&r), "{line}: {r}");
                replies.push(r);
            }
            urgencies.push(urgency);
        }
        assert_eq!(
            urgencies,
            [
                None,
                Some(Urgency::TripSoon),
                Some(Urgency::Impatient),
                Some(Urgency::Pings),
                None,
                None,
                None
            ]
        );
        // Told when a manager answers, then told it went as urgent, then reminded, then short
        // notes taking turns: each once, or never twice in a row.
        assert_eq!(replies.len(), 7, "{replies:#?}");
        assert!(
            replies[0].contains("передал")
                && replies[0].contains("ответит здесь в ближайшее время"),
            "{}",
            replies[0]
        );
        assert!(replies[1].contains("срочное"), "{}", replies[1]);
        assert!(replies[2].contains("Напомнил"), "{}", replies[2]);
        for (i, r) in replies[..4].iter().enumerate() {
            assert!(!replies[..i].contains(r), "repeated: {r}");
        }
        for pair in replies.windows(2) {
            assert_ne!(pair[0], pair[1], "the same twice in a row");
        }
        assert!(
            replies.iter().all(|r| r.contains("енеджер")),
            "{replies:#?}"
        );
        assert_eq!(
            chat.state.handover.acks,
            [
                Ack::Told,
                Ack::Urgent,
                Ack::Reminded,
                Ack::Noted,
                Ack::NotedAgain
            ]
        );
        assert_eq!(
            chat.state.slots,
            Default::default(),
            "a wish is for the manager, not a search"
        );
        assert!(chat.state.shown.is_none() && chat.state.awaiting.is_empty());
    }

    #[test]
    fn urgent_follow_ups_are_told_apart_from_the_rest() {
        let cases: &[(&str, u32, bool, Option<Urgency>)] = &[
            (
                "мне срочно, вылет через неделю",
                0,
                false,
                Some(Urgency::TripSoon),
            ),
            (
                "улетаем завтра утром а ответа нет",
                0,
                false,
                Some(Urgency::TripSoon),
            ),
            ("у нас вылет 5 декабря", 0, false, Some(Urgency::TripSoon)),
            ("we fly in 3 days", 0, false, Some(Urgency::TripSoon)),
            ("СРОЧНО!!!", 0, false, Some(Urgency::Said)),
            ("please answer asap", 0, false, Some(Urgency::Said)),
            ("шұғыл керек", 0, false, Some(Urgency::Said)),
            ("вы вообще читаете???", 0, false, Some(Urgency::Impatient)),
            ("почему не отвечаете", 0, false, Some(Urgency::Impatient)),
            ("ну что там??", 0, false, Some(Urgency::Impatient)),
            ("позвоните мне пожалуйста", 0, true, Some(Urgency::CallBack)),
            ("позвоните мне пожалуйста", 0, false, None),
            ("call me back please", 0, true, Some(Urgency::CallBack)),
            ("алло", 0, false, None),
            ("алло", 1, false, Some(Urgency::Pings)),
            ("вы тут?", 2, false, Some(Urgency::Pings)),
            // Not urgent: a length of stay, a far date, a question, "most likely".
            ("хотим в марте на неделю", 3, false, None),
            ("вылет в марте на 2 недели", 0, false, None),
            ("а виза нужна??", 0, false, None),
            ("скорее всего поедем вдвоем", 0, false, None),
            ("спасибо, жду", 0, false, None),
            (
                "неге жауап бермейсіздер?",
                0,
                false,
                Some(Urgency::Impatient),
            ),
            ("менеджер қашан жауап береді", 0, false, None),
        ];
        for (text, pings, phone, expected) in cases {
            let analysis = analyze(text, today());
            assert_eq!(
                urgency(text, &analysis, today(), *pings, *phone),
                *expected,
                "{text}"
            );
        }
    }

    #[test]
    fn plain_questions_are_still_answered_from_the_faq() {
        let mut chat = Handed::new(Owner::Waiting);
        chat.say("алло");
        let (reply, text, urgency) = chat.say("а виза во Вьетнам нужна?");
        let reply = reply.unwrap();
        assert!(reply.contains("виза во Вьетнам не нужна"), "{reply}");
        assert_eq!((text.as_str(), urgency), ("а виза во Вьетнам нужна?", None));
        // A question asked urgently is the manager's.
        let (reply, _, urgency) = chat.say("срочно скажите нужна ли виза");
        assert_eq!(urgency, Some(Urgency::Said));
        assert!(reply.unwrap().contains("срочное"));
    }

    #[test]
    fn a_call_back_request_needs_a_phone_and_then_is_urgent() {
        // Telegram: no phone from the channel.
        let mut chat = Handed::new(Owner::Waiting);
        let (reply, _, urgency) = chat.say("позвоните мне");
        assert_eq!(urgency, None);
        assert!(reply.unwrap().contains("оставьте, пожалуйста, номер"));
        let (reply, text, urgency) = chat.say("+7 701 123 45 67");
        assert_eq!(urgency, Some(Urgency::CallBack));
        assert_eq!(text, "+7 701 123 45 67");
        let reply = reply.unwrap();
        assert!(
            reply.contains("перезвонить на номер +77011234567"),
            "{reply}"
        );
        assert_eq!(chat.state.slots.phone.as_deref(), Some("+77011234567"));

        // WhatsApp: the channel's phone is the customer's.
        let mut chat = Handed::new(Owner::Waiting);
        chat.channel_phone = Some("+77019998877".into());
        let (reply, _, urgency) = chat.say("перезвоните пожалуйста");
        assert_eq!(urgency, Some(Urgency::CallBack));
        assert!(reply.unwrap().contains("+77019998877"));

        // A shared contact goes to the manager as such.
        let mut chat = Handed::new(Owner::Waiting);
        chat.channel_phone = Some("+77015554433".into());
        let (_, text, _) = chat.turn(chat.input("", Some(actions::CONTACT)));
        assert_eq!(text, "[поделился контактом] +77015554433");
        assert_eq!(chat.state.slots.phone.as_deref(), Some("+77015554433"));
    }

    #[test]
    fn thanks_are_answered_once_with_what_happens_next() {
        let mut chat = Handed::new(Owner::Waiting);
        let (reply, ..) = chat.say("Спасибо большое!");
        let reply = reply.unwrap();
        assert!(
            reply.contains("Спасибо") && reply.contains("Менеджер свяжется"),
            "{reply}"
        );
        let (again, ..) = chat.say("спасибо");
        assert!(
            again.is_some_and(|r| r != reply),
            "never the same twice in a row"
        );
    }

    #[test]
    fn while_a_manager_owns_the_chat_the_bot_is_silent_but_keeps_the_words() {
        let mut chat = Handed::new(Owner::Manager);
        for line in ["здравствуйте", "вы читаете???", "а виза нужна?"]
        {
            let (reply, text, _) = chat.say(line);
            assert_eq!(reply, None, "{line}");
            assert_eq!(text, line);
        }
        assert!(chat.state.handover.acks.is_empty());
    }

    #[test]
    fn out_of_hours_the_acknowledgement_says_when_and_a_new_handover_starts_afresh() {
        let mut chat = Handed::new(Owner::Waiting);
        chat.office = Some(
            crate::hours::WorkingHours::parse("Mon-Fri 10:00-19:00")
                .unwrap()
                .at(today().and_hms_opt(12, 0, 0).unwrap()),
        );
        let (reply, ..) = chat.say("алло");
        let reply = reply.unwrap();
        assert!(reply.contains("в понедельник с 10:00"), "{reply}");
        let (second, ..) = chat.say("ясно");
        let (third, ..) = chat.say("понятно");
        assert_ne!(second, third, "short notes take turns");
        assert!(!third.unwrap().contains("понедельник"), "said once");
        // The chat went back to the bot and was handed over again later.
        chat.hands.since = at(600);
        let (reply, ..) = chat.say("алло");
        assert!(reply.unwrap().contains("понедельник"));
    }

    #[test]
    fn a_choice_on_screen_is_described_for_the_manager() {
        let mut chat = Handed::new(Owner::Waiting);
        let offer = |n: u64| Offer {
            id: format!("offer-{n}"),
            hotel: format!("Sea Pearl {n} 4*"),
            hotel_key: None,
            stars: Some(4),
            resort: "Nha Trang".into(),
            check_in: NaiveDate::from_ymd_opt(2027, 3, 2).unwrap(),
            nights: 10,
            meal: "BB".into(),
            room: "Standard".into(),
            price: 500_000 + n * 10_000,
            currency: "KZT".into(),
            availability: Availability::Available,
        };
        let query: SearchQuery = serde_json::from_value(serde_json::json!({
            "departure_city": "Almaty", "country": "Vietnam", "resorts": ["Nha Trang"],
            "date_from": "2027-03-01", "date_to": "2027-03-10", "nights_from": 10,
            "nights_to": 10, "adults": 2
        }))
        .unwrap();
        chat.state.shown = Some(Shown {
            query,
            offers: vec![offer(1), offer(2)],
            more: false,
            page: 0,
            nearest: false,
        });
        let (_, text, _) = chat.say("берем второй");
        assert!(
            text.starts_with("берем второй\n→ вариант 2: Sea Pearl 2 4*"),
            "{text}"
        );
        let (_, text, _) = chat.turn(chat.input("Забронировать 1", Some("book:1")));
        assert!(
            text.contains("вариант 1: Sea Pearl 1 4*") && text.contains("510"),
            "{text}"
        );
        let (reply, ..) = chat.turn(chat.input("", Some(actions::MORE)));
        assert!(
            reply.is_none_or(|r| !sells(&r)),
            "no more offers while waiting"
        );
    }

    #[test]
    fn acknowledgements_speak_the_customers_language() {
        for (lang, line, expected) in [
            (
                Language::Kk,
                "сәлеметсіз бе, менеджер қашан жауап береді",
                "менеджерге жеткіздім",
            ),
            (
                Language::En,
                "hello? any news",
                "passed your message to a manager",
            ),
        ] {
            let mut chat = Handed::new(Owner::Waiting);
            chat.state.language = Some(lang);
            let (reply, ..) = chat.say(line);
            let reply = reply.unwrap();
            assert!(reply.contains(expected), "{lang:?}: {reply}");
        }
    }
}
