//! Escalations: tells the managers about chats that need them, and reminds them.
//!
//! Escalations are rows written with the turn that raised them (so none is lost). This actor
//! looks for open ones nobody has been told about — or told about longer ago than the
//! reminder period without anyone claiming them — and announces each through every
//! configured [`ManagerNotifier`] (the managers' Telegram chat, email). An announcement is
//! recorded (`notified_at`) once a notifier delivered it; the announcement carries who the
//! customer is, why, the search, the chosen offer, the last messages and the CRM deal.
//!
//! A notifier that fails for now (an outage, a rate limit) is tried again at the next look
//! (every 2 s). One whose channel refused the announcement for good ([`NoticeError::Permanent`]:
//! a request Telegram calls bad, the bot not in the managers' chat, a wrong address) is not:
//! the failure is logged as an error and the announcement recorded, so it is tried once more
//! with the reminder (`remind_after`), not every 2 s for ever.
//!
//! What the customer adds after the handover (follow-ups, kept on the escalation) reaches the
//! managers too, at the same look: an urgent one at once, even before anyone claimed the chat
//! (the customer says it is urgent, the trip is days away, asks to be called back, or keeps
//! pinging); every one once a manager claimed it (unless they work through the admin API,
//! which shows the conversation itself). A follow-up is recorded relayed (`relayed_at`) like an
//! announcement: once a notifier delivered it, or no notifier could ever take it.
//!
//! Claiming, writing and releasing happen through `Engine::manage`; the time to claim and to
//! first answer are recorded on the escalation by those commits.

use crate::store::{
    ConversationRecord, EscalationRecord, FollowUpRecord, StoreError, TranscriptEntry, WriteOp,
};
use crate::store_writer::StoreHandle;
use async_trait::async_trait;
use ractor::{Actor, ActorProcessingErr, ActorRef};
use std::sync::Arc;
use std::time::Duration;

/// What managers are told about one escalation.
#[derive(Debug, Clone)]
pub struct Notice {
    pub escalation: EscalationRecord,
    pub conversation: ConversationRecord,
    /// The last lines of the conversation, oldest first.
    pub recent: Vec<TranscriptEntry>,
    /// The conversation's Bitrix24 deal, once synced.
    pub deal_id: Option<i64>,
    /// Told before and still not claimed.
    pub reminder: bool,
}

/// What managers are told about one follow-up: something the customer added after the chat
/// was handed over (see `dialogs::handover`).
#[derive(Debug, Clone)]
pub struct FollowUpNotice {
    pub follow_up: FollowUpRecord,
    /// The escalation it was added to.
    pub escalation: EscalationRecord,
    pub conversation: ConversationRecord,
}

/// A way to reach the managers.
#[async_trait]
pub trait ManagerNotifier: Send + Sync + 'static {
    /// A name for logs ("telegram", "email").
    fn name(&self) -> &'static str;

    async fn announce(&self, notice: &Notice) -> Result<(), NoticeError>;

    /// A message about the engine itself, not about a customer (a Bitrix24 set-up problem,
    /// then its fix): plain Russian text for the managers, no buttons.
    async fn alert(&self, text: &str) -> Result<(), NoticeError>;

    /// Passes on a customer's follow-up. A notifier that has no use for it (a mailbox needs
    /// no copy of every line) says `Ok` and does nothing.
    async fn relay(&self, note: &FollowUpNotice) -> Result<(), NoticeError> {
        let _ = note;
        Ok(())
    }
}

/// Why the managers could not be told through one notifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoticeError {
    /// Worth trying again at the next look (an outage, a rate limit, a timeout).
    #[error("{0}")]
    Temporary(String),
    /// This announcement will not go through however often it is sent: tried again only with
    /// the next reminder.
    #[error("refused for good: {0}")]
    Permanent(String),
}

#[derive(Clone)]
pub struct EscalationsSettings {
    pub notifiers: Vec<Arc<dyn ManagerNotifier>>,
    /// An open escalation nobody claimed is announced again after this long (default 10 min).
    pub remind_after: Duration,
    /// How often to look for escalations to announce (default 2 s).
    pub tick: Duration,
}

impl std::fmt::Debug for EscalationsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EscalationsSettings")
            .field(
                "notifiers",
                &self.notifiers.iter().map(|n| n.name()).collect::<Vec<_>>(),
            )
            .field("remind_after", &self.remind_after)
            .field("tick", &self.tick)
            .finish()
    }
}

impl EscalationsSettings {
    pub fn new(notifiers: Vec<Arc<dyn ManagerNotifier>>) -> Self {
        Self {
            notifiers,
            remind_after: Duration::from_secs(600),
            tick: Duration::from_secs(2),
        }
    }
}

/// Lines of the conversation shown with an announcement.
const RECENT_LINES: usize = 6;

pub enum EscalationsMsg {
    /// Look for escalations to announce.
    Tick,
    /// A round of announcements finished.
    RoundDone,
}

pub struct Escalations;

pub struct EscalationsArgs {
    pub settings: EscalationsSettings,
    pub store: StoreHandle,
}

pub struct EscalationsState {
    settings: EscalationsSettings,
    store: StoreHandle,
    /// A round is running (announcements may be slow): ticks meanwhile are skipped.
    busy: bool,
}

impl Actor for Escalations {
    type Msg = EscalationsMsg;
    type State = EscalationsState;
    type Arguments = EscalationsArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        args: EscalationsArgs,
    ) -> Result<Self::State, ActorProcessingErr> {
        myself.send_interval(args.settings.tick, || EscalationsMsg::Tick);
        let _ = myself.cast(EscalationsMsg::Tick);
        Ok(EscalationsState {
            settings: args.settings,
            store: args.store,
            busy: false,
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            EscalationsMsg::Tick if !state.busy => {
                state.busy = true;
                let settings = state.settings.clone();
                let store = state.store.clone();
                // Off the mailbox: a slow notifier never holds up the next tick's bookkeeping.
                tokio::spawn(async move {
                    if let Err(e) = announce_due(&settings, &store).await {
                        tracing::warn!(error = %e, "could not look for escalations to announce");
                    }
                    // After the announcements: a follow-up never comes before its escalation.
                    if let Err(e) = relay_due(&settings, &store).await {
                        tracing::warn!(error = %e, "could not look for follow-ups to relay");
                    }
                    let _ = myself.cast(EscalationsMsg::RoundDone);
                });
            }
            EscalationsMsg::Tick => {}
            EscalationsMsg::RoundDone => state.busy = false,
        }
        Ok(())
    }
}

/// Announces every escalation that is due, each through every notifier.
async fn announce_due(
    settings: &EscalationsSettings,
    store: &StoreHandle,
) -> Result<(), StoreError> {
    let now = crate::store::now();
    let remind_before = now - chrono::Duration::from_std(settings.remind_after).unwrap_or_default();
    for escalation in store.store.escalations_to_announce(remind_before).await? {
        let Some(conversation) = store
            .store
            .conversation(&escalation.conversation_id)
            .await?
        else {
            continue;
        };
        let transcript = store.store.transcript(&conversation.id).await?;
        let recent = transcript[transcript.len().saturating_sub(RECENT_LINES)..].to_vec();
        let deal_id = store
            .store
            .lead(&conversation.id)
            .await?
            .and_then(|l| l.crm_deal_id);
        let notice = Notice {
            reminder: escalation.notified_at.is_some(),
            escalation,
            conversation,
            recent,
            deal_id,
        };
        let mut told = false;
        let mut try_again = false;
        for notifier in &settings.notifiers {
            match notifier.announce(&notice).await {
                Ok(()) => told = true,
                Err(e @ NoticeError::Temporary(_)) => {
                    try_again = true;
                    tracing::warn!(notifier = notifier.name(), error = %e,
                        escalation = %notice.escalation.id, "could not tell the managers; will try again");
                }
                Err(e @ NoticeError::Permanent(_)) => tracing::error!(notifier = notifier.name(),
                    error = %e, escalation = %notice.escalation.id,
                    "the managers' announcement was refused; tried again only with the reminder"),
            }
        }
        if told || !try_again {
            if told {
                tracing::info!(escalation = %notice.escalation.id, reason = %notice.escalation.reason,
                    reminder = notice.reminder, "managers told about an escalation");
            }
            store
                .write(WriteOp::EscalationAnnounced {
                    id: notice.escalation.id.clone(),
                    at: crate::store::now(),
                })
                .await?;
        }
    }
    Ok(())
}

/// Relays every follow-up that is due (see the module note), each through every notifier.
async fn relay_due(settings: &EscalationsSettings, store: &StoreHandle) -> Result<(), StoreError> {
    let mut done = Vec::new();
    for follow_up in store.store.follow_ups_due().await? {
        let escalation = store.store.escalation(&follow_up.escalation_id).await?;
        let conversation = store.store.conversation(&follow_up.conversation_id).await?;
        let (Some(escalation), Some(conversation)) = (escalation, conversation) else {
            // Nothing to tell it with: not looked at again.
            done.push(follow_up.id);
            continue;
        };
        let note = FollowUpNotice {
            follow_up,
            escalation,
            conversation,
        };
        let mut told = false;
        let mut try_again = false;
        for notifier in &settings.notifiers {
            match notifier.relay(&note).await {
                Ok(()) => told = true,
                Err(e @ NoticeError::Temporary(_)) => {
                    try_again = true;
                    tracing::warn!(notifier = notifier.name(), error = %e,
                        follow_up = %note.follow_up.id, "could not relay a follow-up; will try again");
                }
                Err(e @ NoticeError::Permanent(_)) => tracing::error!(notifier = notifier.name(),
                    error = %e, follow_up = %note.follow_up.id, "a follow-up was refused for good"),
            }
        }
        if told || !try_again {
            if told {
                tracing::info!(follow_up = %note.follow_up.id, escalation = %note.escalation.id,
                    urgency = ?note.follow_up.urgency, "customer's follow-up relayed to the managers");
            }
            done.push(note.follow_up.id);
        }
    }
    if !done.is_empty() {
        store
            .write(WriteOp::FollowUpsRelayed {
                ids: done,
                at: crate::store::now(),
            })
            .await?;
    }
    Ok(())
}
