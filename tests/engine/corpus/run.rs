//! Playing one script against the whole engine: a fresh app per conversation (its own
//! SQLite file, fake Wazzup and fake Telegram with a managers' chat), the real Tours actor
//! (shared by all conversations) against the fake SAMO, every search recorded at the seam
//! between the dialog and Tours. After each step the runner waits until the engine has
//! handled everything the customer sent and sent everything it will send, then records what
//! a customer and a manager would see.

use super::checks::{self, Screen};
use super::dates;
use super::script::{Action, ChannelKind, Script, Step};
use crate::support::app::{self, Options, TelegramMode, TestApp};
use crate::support::eventually;
use actors::conversation::ManagerAction;
use actors::store::EscalationRecord;
use actors::tours::TourSearch;
use async_trait::async_trait;
use dialogs::search::{
    HotelDetails, NamedHotel, OfferPage, PageRequest, SearchFailure, SearchQuery,
};
use dialogs::{Channel, ChatKey, Owner};
use fakes::telegram::FakeTelegram;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The burst window the corpus runs with (production: 1.5 s): shorter, so that every step
/// does not wait the production window. A burst's lines reach the engine together (see
/// `play_step`), so nothing depends on how fast the machine is.
pub const BURST_WINDOW_MS: u64 = 750;
/// The production burst window, in seconds: lines closer than this are one burst.
const PRODUCTION_BURST_SECS: f64 = 1.5;
/// Longest wait for the engine to settle after a step (a bound for a broken run only).
const SETTLE: Duration = Duration::from_secs(60);
/// Longest wait for a managers' announcement the script expects.
const ANNOUNCE: Duration = Duration::from_secs(10);
const MANAGERS_CHAT: i64 = -1009876543210;
const MANAGER: &str = "Айдана";

/// One search the dialog asked of Tours, and what came back.
#[derive(Debug, Clone)]
pub struct Search {
    pub query: SearchQuery,
    pub page: PageRequest,
    pub result: Result<OfferPage, SearchFailure>,
}

/// The real Tours behind a recorder: every search, in order.
pub struct Recording {
    inner: Arc<dyn TourSearch>,
    searches: Mutex<Vec<Search>>,
}

impl Recording {
    fn searches(&self) -> Vec<Search> {
        self.searches.lock().unwrap().clone()
    }
}

#[async_trait]
impl TourSearch for Recording {
    async fn search(
        &self,
        query: &SearchQuery,
        page: PageRequest,
    ) -> Result<OfferPage, SearchFailure> {
        let result = self.inner.search(query, page).await;
        self.searches.lock().unwrap().push(Search {
            query: query.clone(),
            page,
            result: result.clone(),
        });
        result
    }

    async fn hotel_details(&self, hotel_key: i64) -> Result<Option<HotelDetails>, SearchFailure> {
        self.inner.hotel_details(hotel_key).await
    }

    async fn hotels_named(&self, text: &str) -> Vec<NamedHotel> {
        self.inner.hotels_named(text).await
    }

    async fn check_route(
        &self,
        departure_city: Option<&str>,
        country: Option<&str>,
    ) -> Result<(), SearchFailure> {
        self.inner.check_route(departure_city, country).await
    }
}

/// A message the customer received.
#[derive(Debug, Clone)]
pub struct Reply {
    pub text: String,
    /// Inline buttons' callback data (Telegram).
    pub buttons: Vec<String>,
}

/// What one step did and what came of it.
#[derive(Debug, Clone)]
pub struct StepRecord {
    /// The customer's lines as sent (dates shifted, `{hotel N}` filled in).
    pub sent: Vec<String>,
    /// Messages the customer received in this step (a manager's own message included).
    pub replies: Vec<Reply>,
    pub searches: Vec<Search>,
    /// Escalations created in this step.
    pub escalations: Vec<EscalationRecord>,
    pub owner_before: Owner,
    pub owner: Owner,
    /// Messages to the managers' chat in this step.
    pub managers: Vec<String>,
    /// A reply came while the customer was still sending the lines of a burst (each line
    /// within the production burst window of the one before).
    pub answered_mid_burst: bool,
    /// What went wrong in the runner itself (a reply that never came, a button not offered).
    pub problem: Option<String>,
    /// The numbered offers on the customer's screen after this step.
    pub screen: Screen,
}

/// A played conversation.
pub struct Played {
    pub records: Vec<StepRecord>,
}

fn customer_key(script: &Script, index: usize) -> (ChatKey, String) {
    match script.channel {
        ChannelKind::WhatsApp => {
            let phone = format!("7708{index:07}");
            (
                ChatKey::new(Channel::Wazzup, format!("whatsapp:{phone}")),
                phone,
            )
        }
        ChannelKind::Telegram => {
            let chat = (900_000 + index).to_string();
            (ChatKey::new(Channel::Telegram, chat.clone()), chat)
        }
    }
}

struct Customer<'a> {
    app: &'a TestApp,
    telegram: &'a FakeTelegram,
    channel: ChannelKind,
    key: ChatKey,
    /// The phone (WhatsApp) or chat id (Telegram).
    id: String,
    sent: usize,
}

impl Customer<'_> {
    fn chat_id(&self) -> i64 {
        self.id.parse().expect("a Telegram chat id")
    }

    async fn say(&mut self, text: &str) -> Result<(), String> {
        self.sent += 1;
        let status = match self.channel {
            ChannelKind::WhatsApp => {
                let id = format!("{}-{}", self.id, self.sent);
                self.app
                    .post_wazzup(&fakes::wazzup::inbound(&id, &self.id, text))
                    .await
            }
            ChannelKind::Telegram => {
                let update = fakes::telegram::with_id(
                    fakes::telegram::text(self.chat_id(), text),
                    self.sent as i64,
                );
                self.app
                    .post_telegram(&update, Some(app::TELEGRAM_SECRET))
                    .await
            }
        };
        if status != reqwest::StatusCode::OK {
            return Err(format!("the webhook answered {status} to {text:?}"));
        }
        Ok(())
    }

    /// Several WhatsApp lines in one webhook body, in order (a burst, as Wazzup delivers it).
    async fn say_all(&mut self, texts: &[String]) -> Result<(), String> {
        let mut messages = Vec::new();
        for text in texts {
            self.sent += 1;
            let id = format!("{}-{}", self.id, self.sent);
            let body = fakes::wazzup::inbound(&id, &self.id, text);
            messages.extend(body["messages"].as_array().cloned().unwrap_or_default());
        }
        let status = self
            .app
            .post_wazzup(&serde_json::json!({ "messages": messages }))
            .await;
        if status != reqwest::StatusCode::OK {
            return Err(format!("the webhook answered {status} to {texts:?}"));
        }
        Ok(())
    }

    async fn press(&mut self, data: &str) -> Result<(), String> {
        self.sent += 1;
        let update = fakes::telegram::with_id(
            fakes::telegram::button_press(self.chat_id(), &format!("cb-{}", self.sent), data),
            self.sent as i64,
        );
        let status = self
            .app
            .post_telegram(&update, Some(app::TELEGRAM_SECRET))
            .await;
        if status != reqwest::StatusCode::OK {
            return Err(format!(
                "the webhook answered {status} to the button {data}"
            ));
        }
        Ok(())
    }

    fn received(&self) -> Vec<Reply> {
        match self.channel {
            ChannelKind::WhatsApp => self
                .app
                .wazzup
                .delivered_to(&self.id)
                .into_iter()
                .map(|d| Reply {
                    text: d.text,
                    buttons: Vec::new(),
                })
                .collect(),
            ChannelKind::Telegram => self
                .telegram
                .sent_to(self.chat_id())
                .into_iter()
                .map(|s| Reply {
                    buttons: s.button_actions(),
                    text: s.text,
                })
                .collect(),
        }
    }

    async fn owner(&self) -> Owner {
        let store = &self.app.engine.store().store;
        match store.conversation_by_chat(&self.key).await {
            Ok(Some(c)) => c.owner,
            _ => Owner::Bot,
        }
    }

    async fn escalations(&self) -> Vec<EscalationRecord> {
        let store = &self.app.engine.store().store;
        match store.conversation_by_chat(&self.key).await {
            Ok(Some(c)) => store.escalations_of(&c.id).await.unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    /// Waits until every message is handled, every reply sent, the managers told about every
    /// open escalation and every follow-up due relayed (so a late announcement never carries
    /// the next step's words).
    async fn settle(&self) -> Result<(), String> {
        let store = &self.app.engine.store().store;
        let settled = eventually(SETTLE, || async {
            matches!(store.pending_inbox().await, Ok(p) if p.is_empty())
                && matches!(store.unsent_outbox().await, Ok(o) if o.is_empty())
                && self
                    .escalations()
                    .await
                    .iter()
                    .all(|e| e.status.as_str() != "open" || e.notified_at.is_some())
                && matches!(store.follow_ups_due().await, Ok(f) if f.is_empty())
        })
        .await;
        if !settled {
            return Err(format!(
                "the engine had not answered after {}s",
                SETTLE.as_secs()
            ));
        }
        Ok(())
    }
}

/// Plays `script` (the `index`th of the run) against a fresh app using `tours`.
pub async fn play(script: &Script, index: usize, tours: Arc<dyn TourSearch>) -> Played {
    let telegram = fakes::telegram::start().await;
    let recording = Arc::new(Recording {
        inner: tours,
        searches: Mutex::new(Vec::new()),
    });
    let app = app::spawn_with(Options {
        tours: Some(recording.clone()),
        telegram: Some((TelegramMode::Webhook, telegram.clone())),
        env: vec![
            ("BURST_WINDOW_MS", BURST_WINDOW_MS.to_string()),
            ("TELEGRAM_MANAGERS_CHAT_ID", MANAGERS_CHAT.to_string()),
        ],
        ..Options::default()
    })
    .await;
    let shift = if script.fixed_dates {
        0
    } else {
        dates::months_since_written(actors::turns::local_today())
    };
    let (key, id) = customer_key(script, index);
    let mut customer = Customer {
        app: &app,
        telegram: &telegram,
        channel: script.channel,
        key,
        id,
        sent: 0,
    };
    let mut records: Vec<StepRecord> = Vec::new();
    for step in &script.steps {
        let screen = records.last().map(|r| r.screen.clone()).unwrap_or_default();
        let record = play_step(&mut customer, &recording, step, shift, screen).await;
        let stop = record.problem.is_some();
        records.push(record);
        if stop {
            break;
        }
    }
    app.stop().await;
    Played { records }
}

async fn play_step(
    customer: &mut Customer<'_>,
    recording: &Recording,
    step: &Step,
    shift: i32,
    screen: Screen,
) -> StepRecord {
    let replies_before = customer.received().len();
    let searches_before = recording.searches().len();
    let escalations_before = customer.escalations().await.len();
    let managers_before = customer.telegram.sent_to(MANAGERS_CHAT).len();
    let owner_before = customer.owner().await;
    let mut sent = Vec::new();
    let mut problem = None;
    let mut answered_mid_burst = false;
    let acted: Result<(), String> = async {
        match &step.action {
            Action::Say(lines) => {
                // Lines closer than the production window are one burst. On WhatsApp a burst
                // goes as one webhook body, as Wazzup batches what a customer sent together:
                // the engine holds every line of it before its window can end, however loaded
                // the machine, so the corpus never depends on timing. A longer gap starts a
                // new burst once the engine has answered the one before.
                let mut bursts: Vec<Vec<String>> = Vec::new();
                for (gap, text) in lines {
                    let text = screen.fill_in(&dates::shift_text(text, shift))?;
                    match bursts.last_mut() {
                        Some(burst) if *gap < PRODUCTION_BURST_SECS => burst.push(text),
                        _ => bursts.push(vec![text]),
                    }
                }
                for (i, burst) in bursts.into_iter().enumerate() {
                    if i > 0 {
                        customer.settle().await?;
                    }
                    match customer.channel {
                        ChannelKind::WhatsApp => customer.say_all(&burst).await?,
                        ChannelKind::Telegram => {
                            // One update per line (Telegram sends them so): the lines follow
                            // each other at once, well inside the window.
                            let window = Duration::from_millis(BURST_WINDOW_MS);
                            let mut stored_at: Option<Instant> = None;
                            let mut too_slow = false;
                            let mut replied_early = false;
                            for (j, text) in burst.iter().enumerate() {
                                if j > 0 && customer.received().len() > replies_before {
                                    replied_early = true;
                                }
                                customer.say(text).await?;
                                if stored_at.is_some_and(|at| at.elapsed() >= window) {
                                    too_slow = true;
                                }
                                stored_at = Some(Instant::now());
                            }
                            answered_mid_burst |= replied_early && !too_slow;
                        }
                    }
                    sent.extend(burst);
                }
            }
            Action::Button(data) => {
                let offered = customer
                    .received()
                    .last()
                    .is_some_and(|r| r.buttons.iter().any(|b| b == data));
                if !offered {
                    return Err(format!(
                        "the button {data:?} was not under the bot's last message"
                    ));
                }
                sent.push(format!("[button {data}]"));
                customer.press(data).await?;
            }
            Action::ManagerTakes => {
                manage(customer, ManagerAction::Take).await?;
            }
            Action::ManagerReleases => {
                manage(customer, ManagerAction::Release).await?;
            }
            Action::ManagerSays(text) => {
                manage(customer, ManagerAction::Say(text.clone())).await?;
            }
        }
        customer.settle().await
    }
    .await;
    if let Err(e) = acted {
        problem = Some(e);
    }
    // An announcement the script waits for may come a moment after the turn.
    let wanted: Vec<String> = step
        .expects
        .iter()
        .flatten()
        .filter_map(|e| match e {
            super::script::Expect::ManagersTold(t) => Some(t.to_lowercase()),
            _ => None,
        })
        .collect();
    if !wanted.is_empty() {
        let telegram = customer.telegram;
        eventually(ANNOUNCE, || async {
            let told: Vec<String> = telegram.sent_to(MANAGERS_CHAT)[managers_before..]
                .iter()
                .map(|s| s.text.to_lowercase())
                .collect();
            wanted.iter().all(|w| told.iter().any(|t| t.contains(w)))
        })
        .await;
    }
    let replies: Vec<Reply> = customer.received()[replies_before..].to_vec();
    let searches: Vec<_> = recording.searches()[searches_before..].to_vec();
    let escalations: Vec<_> = customer.escalations().await[escalations_before..].to_vec();
    let managers = customer.telegram.sent_to(MANAGERS_CHAT)[managers_before..]
        .iter()
        .map(|s| s.text.clone())
        .collect();
    let owner = customer.owner().await;
    let screen = checks::screen_after(&screen, &searches, &replies);
    StepRecord {
        sent,
        replies,
        searches,
        escalations,
        owner_before,
        owner,
        managers,
        answered_mid_burst,
        problem,
        screen,
    }
}

async fn manage(customer: &Customer<'_>, action: ManagerAction) -> Result<(), String> {
    customer
        .app
        .engine
        .manage(customer.key.clone(), action, MANAGER)
        .await
        .map(|_| ())
        .map_err(|e| format!("the manager's action failed: {e}"))
}
