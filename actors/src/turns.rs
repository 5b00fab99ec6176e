//! What a Conversation asks to decide a turn. The engine's own implementation runs the dialog
//! policy of the `dialogs` crate; tests may plug in another (one that panics, say).

use crate::store::{ConversationRecord, InboxMessage};
use async_trait::async_trait;
use dialogs::{DialogState, Templates, TurnInput, TurnOutcome};
use std::sync::{Arc, RwLock};

/// Decides the replies and events of one message, updating the conversation in place.
#[async_trait]
pub trait TurnHandler: Send + Sync + 'static {
    async fn handle_turn(
        &self,
        conversation: &mut ConversationRecord,
        message: &InboxMessage,
    ) -> anyhow::Result<TurnOutcome>;
}

/// The reply templates in force. Replaced whole when an admin publishes a new version, so the
/// next message of every conversation uses it, with no restart.
#[derive(Clone)]
pub struct SharedTemplates(Arc<RwLock<Arc<Templates>>>);

impl SharedTemplates {
    pub fn new(templates: Templates) -> Self {
        Self(Arc::new(RwLock::new(Arc::new(templates))))
    }

    pub fn current(&self) -> Arc<Templates> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn replace(&self, templates: Templates) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(templates);
    }
}

/// The engine's turn handler: the dialog policy over the stored dialog state.
pub struct DialogTurns {
    pub templates: SharedTemplates,
}

#[async_trait]
impl TurnHandler for DialogTurns {
    async fn handle_turn(
        &self,
        conversation: &mut ConversationRecord,
        message: &InboxMessage,
    ) -> anyhow::Result<TurnOutcome> {
        // A state that no longer parses (a bug, a manual edit) restarts the dialog rather than
        // silencing the chat for ever.
        let mut state: DialogState = serde_json::from_value(conversation.state.clone())
            .unwrap_or_else(|e| {
                tracing::warn!(conversation = %conversation.id, error = %e,
                    "stored dialog state unreadable; starting afresh");
                DialogState::default()
            });
        let input = TurnInput {
            text: message.inbound.text.clone(),
            today: local_today(),
        };
        let outcome = dialogs::policy::respond(&mut state, &input, &self.templates.current())?;
        conversation.state = serde_json::to_value(&state)?;
        Ok(outcome)
    }
}

/// Today in Kazakhstan (UTC+5), the agency's reference for "завтра" and "в марте".
pub fn local_today() -> chrono::NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(5)).date_naive()
}
