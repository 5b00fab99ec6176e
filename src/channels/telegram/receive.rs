//! Telegram's receiving loop: updates into the engine, in one of two modes:
//!
//! - **webhook** (when `PUBLIC_URL` is set): at start-up `setWebhook` points Telegram at
//!   `{PUBLIC_URL}/webhooks/telegram` with our secret (retried in the background until it
//!   succeeds); this channel's route (`super::router`) receives the updates.
//! - **long polling** (otherwise): a poller calls `deleteWebhook`, then `getUpdates` in a loop.
//!   It stores each update in the inbox *before* moving its offset past it, so a crash loses
//!   nothing: the next start fetches the unconfirmed updates again, and the inbox (unique on
//!   `update_id`) recognises the ones already stored. Errors are logged and backed off. The
//!   poller runs as a supervised task: a panic restarts it.
//!
//! Both modes take the same path, [`Inbound::accept`]: classify, store, and answer a button
//! press (`answerCallbackQuery`) once it is stored.

use crate::config::TelegramConfig;
use actors::{Engine, EngineError};
use channels::telegram::{Incoming, TelegramBot, Update, inbound as incoming};
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How long one `getUpdates` waits for an update to arrive.
const LONG_POLL: Duration = Duration::from_secs(25);
/// The longest pause between failed calls.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// How long shutdown waits for the poller to finish the update in hand.
const STOP_LIMIT: Duration = Duration::from_secs(10);

/// The one way a Telegram update enters the engine.
#[derive(Clone)]
pub struct Inbound {
    engine: Engine,
    api: Arc<TelegramBot>,
    /// The managers' group: never a customer chat.
    managers_chat_id: Option<i64>,
    /// The `update_id`s of managers' updates acted on lately. Their updates do not go through
    /// the inbox, so this is what keeps a redelivered reply from reaching the customer twice.
    managers_seen: moka::future::Cache<i64, ()>,
}

/// How many managers' updates are remembered, and for how long.
const MANAGERS_SEEN: u64 = 10_000;
const MANAGERS_SEEN_FOR: Duration = Duration::from_secs(24 * 3600);

impl Inbound {
    /// Stores the update in the inbox (a repeat is recognised by its `update_id`), then answers
    /// a button press. Updates not for the bot are dropped. `Ok` means it is safe to
    /// acknowledge the update to Telegram.
    pub async fn accept(&self, update: Update) -> Result<(), EngineError> {
        let update_id = i64::from(update.id.0);
        match incoming::classify(&update, self.managers_chat_id) {
            Incoming::Manager(update) => {
                let fresh = self
                    .managers_seen
                    .entry(update_id)
                    .or_insert(())
                    .await
                    .is_fresh();
                if !fresh {
                    tracing::debug!(update_id, "managers' update already acted on; ignored");
                    return Ok(());
                }
                // Off the request: the chat's conversation may be mid-turn (searching), and
                // Telegram must have its answer now.
                if let Some(chat_id) = self.managers_chat_id {
                    tokio::spawn(crate::channels::managers::act(
                        self.engine.clone(),
                        self.api.clone(),
                        chat_id,
                        update,
                    ));
                }
                Ok(())
            }
            Incoming::Ignored(why) => {
                tracing::debug!(update_id, why, "Telegram update ignored");
                Ok(())
            }
            Incoming::Dropped { chat_id, what } => {
                tracing::info!(
                    update_id,
                    chat_id,
                    what,
                    "a customer's Telegram update not answered"
                );
                Ok(())
            }
            Incoming::Customer {
                inbound,
                callback_query_id,
            } => {
                self.engine.accept(*inbound).await?;
                // Also for a repeat: if the first answer was lost, the spinner still turns.
                if let Some(id) = callback_query_id {
                    let api = self.api.clone();
                    tokio::spawn(async move {
                        if let Err(e) = api.answer_callback_query(&id).await {
                            tracing::warn!(error = %e, "could not answer a Telegram button press");
                        }
                    });
                }
                Ok(())
            }
        }
    }
}

/// What the HTTP route needs in webhook mode.
pub struct Webhook {
    /// Compared with `X-Telegram-Bot-Api-Secret-Token`.
    pub secret: SecretString,
    pub inbound: Inbound,
}

/// The running Telegram receiver: the webhook registration or the poller.
pub struct Telegram {
    webhook: Option<Arc<Webhook>>,
    /// Set to `true` to stop the background task.
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Telegram {
    /// Starts receiving: webhook mode when `public_url` is set, long polling otherwise.
    pub fn start(
        config: &TelegramConfig,
        public_url: Option<&str>,
        engine: Engine,
    ) -> anyhow::Result<Telegram> {
        let api = Arc::new(super::bot::api(config)?);
        let inbound = Inbound {
            engine,
            api: api.clone(),
            managers_chat_id: config.managers_chat_id,
            managers_seen: moka::future::Cache::builder()
                .max_capacity(MANAGERS_SEEN)
                .time_to_live(MANAGERS_SEEN_FOR)
                .build(),
        };
        let (stop, stopped) = watch::channel(false);
        match (public_url, &config.webhook_secret) {
            (Some(public_url), Some(secret)) => {
                let url = format!("{public_url}/webhooks/telegram");
                let task = tokio::spawn(register_webhook(
                    api,
                    url,
                    secret.expose_secret().to_owned(),
                    stopped,
                    inbound.engine.integrations().clone(),
                ));
                Ok(Telegram {
                    webhook: Some(Arc::new(Webhook {
                        secret: secret.clone(),
                        inbound,
                    })),
                    stop,
                    task,
                })
            }
            (Some(_), None) => {
                anyhow::bail!(
                    "TELEGRAM_WEBHOOK_SECRET is required in webhook mode (PUBLIC_URL set)"
                )
            }
            (None, _) => Ok(Telegram {
                webhook: None,
                stop,
                task: tokio::spawn(supervise_poller(inbound, stopped)),
            }),
        }
    }

    /// The webhook route's part, in webhook mode.
    pub fn webhook(&self) -> Option<Arc<Webhook>> {
        self.webhook.clone()
    }

    /// Stops the poller (after the update in hand is stored) or the webhook registration.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let mut task = self.task;
        if tokio::time::timeout(STOP_LIMIT, &mut task).await.is_err() {
            // Still storing after the limit: what it fetched and did not confirm is fetched
            // again at the next start.
            task.abort();
        }
    }
}

/// `setWebhook`, retried with backoff until Telegram accepts it.
async fn register_webhook(
    api: Arc<TelegramBot>,
    url: String,
    secret: String,
    mut stopped: watch::Receiver<bool>,
    status: actors::status::Integrations,
) {
    let mut failures = 0;
    loop {
        let result = tokio::select! {
            r = api.set_webhook(&url, &secret) => r,
            _ = stopped.changed() => return,
        };
        match result {
            Ok(()) => {
                tracing::info!(%url, "Telegram webhook registered");
                status.success("telegram");
                return;
            }
            Err(e) => {
                status.failure("telegram", &format!("setWebhook: {e}"));
                failures += 1;
                tracing::error!(error = %e, %url, "could not register the Telegram webhook; will retry");
                if !pause(&mut stopped, backoff(failures)).await {
                    return;
                }
            }
        }
    }
}

/// Runs the poller, restarting it if it panics, until told to stop.
async fn supervise_poller(inbound: Inbound, stopped: watch::Receiver<bool>) {
    loop {
        let mut poller = tokio::spawn(poll(inbound.clone(), stopped.clone()));
        let mut watch = stopped.clone();
        let result = tokio::select! {
            r = &mut poller => r,
            // Give the update in hand its chance to be stored, then go.
            _ = stop_requested(&mut watch) => {
                let _ = tokio::time::timeout(STOP_LIMIT, &mut poller).await;
                poller.abort();
                return;
            }
        };
        match result {
            Ok(()) => return,
            Err(e) => {
                tracing::error!(error = %e, "Telegram poller failed; restarting it");
                if !pause(&mut watch, Duration::from_secs(1)).await {
                    return;
                }
            }
        }
    }
}

/// The polling loop: `deleteWebhook`, then `getUpdates` until stopped.
async fn poll(inbound: Inbound, mut stopped: watch::Receiver<bool>) {
    let api = inbound.api.clone();
    let mut failures = 0;
    // `getUpdates` is refused while a webhook is set.
    loop {
        let result = tokio::select! {
            r = api.delete_webhook() => r,
            _ = stop_requested(&mut stopped) => return,
        };
        match result {
            Ok(()) => break,
            Err(e) => {
                failures += 1;
                tracing::error!(error = %e, "could not switch Telegram to polling (deleteWebhook); will retry");
                if !pause(&mut stopped, backoff(failures)).await {
                    return;
                }
            }
        }
    }
    tracing::info!("polling Telegram for updates");
    failures = 0;
    // The first update not yet stored. `None` at start: Telegram serves what is unconfirmed.
    let mut offset: Option<i32> = None;
    loop {
        let result = tokio::select! {
            r = api.get_updates(offset, LONG_POLL) => r,
            _ = stop_requested(&mut stopped) => return,
        };
        let status = inbound.engine.integrations();
        let updates = match result {
            Ok(updates) => {
                status.success("telegram");
                failures = 0;
                updates
            }
            Err(e) => {
                status.failure("telegram", &format!("getUpdates: {e}"));
                failures += 1;
                tracing::warn!(error = %e, attempt = failures, "Telegram getUpdates failed; backing off");
                if !pause(&mut stopped, backoff(failures)).await {
                    return;
                }
                continue;
            }
        };
        for update in updates {
            // Not raced with the stop signal: an update being stored is stored whole.
            let update_id = update.id;
            let id = update_id.0;
            match incoming::reparse(update) {
                Ok(update) => {
                    if let Err(e) = inbound.accept(update).await {
                        // Not confirmed: fetched again after the pause.
                        tracing::error!(error = %e, update_id = id, "could not store a Telegram update; will fetch it again");
                        failures += 1;
                        if !pause(&mut stopped, backoff(failures)).await {
                            return;
                        }
                        break;
                    }
                }
                // It will never parse: skipping it is all that can be done.
                Err(e) => {
                    tracing::warn!(error = %e, update_id = id, "unreadable Telegram update; skipped")
                }
            }
            offset = Some(update_id.as_offset());
        }
    }
}

/// Resolves once a stop is requested (or the `Telegram` that could request it is gone).
async fn stop_requested(stopped: &mut watch::Receiver<bool>) {
    let _ = stopped.wait_for(|stop| *stop).await;
}

/// Sleeps `delay` unless told to stop first; `false` when stopping.
async fn pause(stopped: &mut watch::Receiver<bool>, delay: Duration) -> bool {
    tokio::time::timeout(delay, stop_requested(stopped))
        .await
        .is_err()
}

/// 1 s, 2 s, 4 s … up to a minute.
fn backoff(failures: u32) -> Duration {
    Duration::from_secs(1u64 << failures.saturating_sub(1).min(6)).min(MAX_BACKOFF)
}
