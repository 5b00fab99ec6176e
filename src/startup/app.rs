//! Start-up: the store, the actor tree, the senders of the configured channels, and the HTTP
//! server on one listener. A test builds an `Application` on port 0 against local fakes.

use crate::channels;
use crate::config::Config;
use crate::documents::live::LiveSettings;
use crate::http;
use ::channels::Sender;
use actors::store::Store;
use actors::tours::TourSearch;
use actors::turns::{DialogTurns, TurnHandler};
use actors::{Engine, EngineSettings};
use anyhow::Context;
use dialogs::Channel;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

/// A running engine with its HTTP listener bound, not yet serving.
pub struct Application {
    engine: Engine,
    listener: tokio::net::TcpListener,
    router: axum::Router,
    /// Receiving Telegram updates (poller or webhook registration), when Telegram is on.
    telegram: Option<channels::telegram::receive::Telegram>,
    /// Bounds on what clients may hold (`HTTP_MAX_CONNECTIONS`, header and body timeouts).
    limits: http::serve::Limits,
}

/// Parts a caller may replace (tests: a panicking turn handler; `chat`: the console sender).
#[derive(Default)]
pub struct Overrides {
    pub turns: Option<Arc<dyn TurnHandler>>,
    pub extra_senders: Vec<Arc<dyn Sender>>,
    /// Start only these senders and replay only these channels (`crystalbay chat`: the console).
    pub recover_channels: Option<Vec<dialogs::Channel>>,
    /// Tests of the dialog: a stand-in for the Tours actor.
    pub tours: Option<Arc<dyn TourSearch>>,
    /// Fault tests: this store instead of the one `DATABASE_URL` names.
    pub store: Option<Arc<dyn Store>>,
}

impl Application {
    pub async fn build(config: Config, overrides: Overrides) -> anyhow::Result<Application> {
        let store = match overrides.store.clone() {
            Some(store) => store,
            None => open_store(&config).await?,
        };
        let Started { engine, live } = start_engine(&config, store, overrides).await?;
        let listener = tokio::net::TcpListener::bind(config.http_addr)
            .await
            .with_context(|| format!("binding HTTP_ADDR {}", config.http_addr))?;
        let mut state = http::AppState::new(engine.clone(), &config);
        state.live = live;
        // The status page's service checks (`doctor`), every STATUS_CHECK_SECS.
        state.admin.checks.start(&config);
        // Telegram: webhook mode when PUBLIC_URL is set (its route below receives), long
        // polling otherwise. Started after the engine has replayed the last run's work.
        let telegram = channels::telegram::start(&config, engine.clone())?;
        // Each channel's webhook route, one line a channel.
        let webhooks = [
            (Channel::Wazzup, channels::wazzup::router(&engine, &config)),
            (
                Channel::Telegram,
                channels::telegram::router(telegram.as_ref()),
            ),
            (Channel::Email, channels::email::router(&engine, &config)),
        ];
        let router = http::router(state, webhooks);
        Ok(Application {
            engine,
            listener,
            router,
            telegram,
            limits: http::serve::Limits::from(&config.server),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("bound listener has an address")
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Serves until `shutdown` resolves; then stops taking requests, lets conversations finish
    /// the message in hand, flushes the store, and returns.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        tracing::info!(addr = %self.local_addr(), "HTTP server listening");
        let hangup = self.engine.crm().cloned().map(reread_on_sighup);
        let served = http::serve::serve(self.listener, self.router, self.limits, shutdown)
            .await
            .context("HTTP server failed");
        if let Some(task) = hangup {
            task.abort();
        }
        served?;
        tracing::info!("shutting down: finishing messages in hand");
        if let Some(telegram) = self.telegram {
            telegram.stop().await;
        }
        self.engine.shutdown().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Opens the configured database and applies its migrations.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    actors::store::open(&config.database_url)
        .await
        .with_context(|| {
            format!(
                "opening the database {}",
                actors::store::redact_url(&config.database_url)
            )
        })
}

/// A started engine, with the handles admins change (none when a test replaced the dialog).
pub struct Started {
    pub engine: Engine,
    pub live: Option<LiveSettings>,
}

/// Starts the actor tree with the senders of every configured channel.
pub async fn start_engine(
    config: &Config,
    store: Arc<dyn Store>,
    overrides: Overrides,
) -> anyhow::Result<Started> {
    let mut senders: Vec<Arc<dyn Sender>> = overrides.extra_senders;
    let only = overrides.recover_channels.clone();
    let wanted = |c: Channel| only.as_ref().is_none_or(|cs| cs.contains(&c));
    // Each channel's sender from the configuration (none when it is not configured), one line
    // a channel.
    type SenderOf = fn(&Config) -> anyhow::Result<Option<Arc<dyn Sender>>>;
    let configured: &[(Channel, SenderOf)] = &[
        (Channel::Wazzup, channels::wazzup::sender),
        (Channel::Telegram, channels::telegram::sender),
        (Channel::Email, channels::email::sender),
    ];
    for &(channel, sender_of) in configured {
        if wanted(channel)
            && let Some(sender) = sender_of(config)?
        {
            senders.push(sender);
        }
    }
    let integrations = actors::status::Integrations::new();
    let mut live = None;
    let turns = match overrides.turns {
        Some(turns) => turns,
        None => {
            let mut tours_handle = None;
            let tours: Arc<dyn TourSearch> = match (overrides.tours, &config.samo) {
                (Some(tours), _) => tours,
                (None, Some(samo)) => {
                    let handle = actors::tours::start(samo.tours_settings())
                        .await
                        .context("starting the Tours actor")?;
                    tours_handle = Some(handle.clone());
                    Arc::new(handle)
                }
                // Searches are honestly unavailable: customers are told, managers brought in.
                (None, None) => Arc::new(actors::tours::NotConfigured),
            };
            let mut dialog = DialogTurns::new(tours);
            dialog.page_size = config.offers_per_page;
            dialog.hours = Some(config.working_hours.clone());
            dialog.utc_offset = config.timezone;
            dialog.keywords = config.escalation_keywords.clone();
            let mut llm_handle = None;
            if let Some(openai) = &config.openai {
                let mut settings = actors::llm::LlmSettings::new(
                    openai.base_url.clone(),
                    openai.api_key.clone(),
                    openai.model.clone(),
                );
                settings.timeout = openai.timeout;
                let llm = actors::llm::start(settings)
                    .await
                    .context("starting the LLM actor")?;
                tracing::info!(model = %openai.model, "LLM configured: used where the rules fall short");
                dialog.llm = Some(Arc::new(crate::startup::instrument::ObservedModel {
                    inner: Arc::new(llm.clone()),
                    integrations: integrations.clone(),
                }));
                llm_handle = Some(llm);
            }
            live = Some(LiveSettings {
                templates: dialog.templates.clone(),
                faq: dialog.faq.clone(),
                llm: llm_handle,
                tours: tours_handle,
            });
            Arc::new(dialog)
        }
    };
    // One engine per database syncs the CRM: `chat` (which serves only the console) leaves
    // its conversations' commands to the running engine.
    let crm = crm_settings(config).filter(|_| overrides.recover_channels.is_none());
    // Likewise, only the running engine tells the managers.
    let escalations = escalation_settings(config)?.filter(|_| overrides.recover_channels.is_none());
    // Admin-edited prompts and templates: the latest stored versions replace the shipped
    // defaults before the engine replays anything, so no reply uses a superseded text. Run
    // once the database answers (the engine waits for it).
    let prepare: actors::engine::Prepare = {
        let store = store.clone();
        let live = live.clone();
        Box::new(move || {
            let store = store.clone();
            let live = live.clone();
            Box::pin(async move {
                if let Some(live) = &live {
                    crate::documents::apply_stored(store.as_ref(), live)
                        .await
                        .context("applying the stored prompts and templates")?;
                }
                Ok(())
            })
        })
    };
    let settings = EngineSettings {
        idle_after: config.conversation_idle,
        recover_channels: overrides.recover_channels,
        burst_window: config.burst_window,
        handoff_quiet: config.handoff_quiet,
        crm,
        escalations,
        integrations,
        outbox: config.outbox.settings(),
        // Started above for the turn handler; the engine's root supervises them from here on.
        llm: live.as_ref().and_then(|l| l.llm.clone()),
        tours: live.as_ref().and_then(|l| l.tours.clone()),
    };
    let turns: Arc<dyn TurnHandler> = Arc::new(crate::startup::instrument::TimedTurns(turns));
    Ok(Started {
        engine: Engine::start_waiting(store, senders, turns, settings, prepare).await?,
        live,
    })
}

/// Who hears about escalations: the managers' desk (their Telegram chat, `MANAGERS_EMAIL`).
fn escalation_settings(
    config: &Config,
) -> anyhow::Result<Option<actors::escalations::EscalationsSettings>> {
    let notifiers = channels::managers::notifiers(config)?;
    if notifiers.is_empty() {
        return Ok(None);
    }
    let mut settings = actors::escalations::EscalationsSettings::new(notifiers);
    settings.remind_after = config.escalation_remind;
    Ok(Some(settings))
}

/// The Crm actor's settings, when Bitrix24 is configured.
fn crm_settings(config: &Config) -> Option<actors::crm::CrmSettings> {
    config.bitrix.as_ref().map(crate::startup::crm::settings_of)
}

/// SIGHUP: re-read Bitrix24's set-up now (a pipeline or stage just fixed in the portal), so
/// held commands go out without waiting for the periodic re-read.
fn reread_on_sighup(crm: actors::crm::CrmHandle) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let Ok(mut hangups) = signal(SignalKind::hangup()) else {
                return;
            };
            while hangups.recv().await.is_some() {
                tracing::info!("SIGHUP: re-reading the Bitrix24 set-up");
                crm.recheck();
            }
        }
        #[cfg(not(unix))]
        drop(crm);
    })
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
