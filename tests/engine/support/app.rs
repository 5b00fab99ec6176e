//! The whole engine in-process on port 0, on a fresh SQLite file, with a fake Wazzup behind it
//! (and, when a test asks, a fake Telegram Bot API in webhook or polling mode).

use actors::tours::TourSearch;
use actors::turns::TurnHandler;
use crystalbay::config::Config;
use crystalbay::startup::app::{Application, Overrides};
use fakes::telegram::FakeTelegram;
use fakes::wazzup::FakeWazzup;
use std::collections::BTreeMap;
use std::sync::Arc;

pub const WEBHOOK_SECRET: &str = "wz-secret-0123456789";
pub const TELEGRAM_SECRET: &str = "tg-secret_0123456789";
/// `PUBLIC_URL` in Telegram webhook mode (the fake never calls it).
pub const PUBLIC_URL: &str = "https://bot.crystalbay.test";

pub struct TestApp {
    pub base: String,
    pub engine: actors::Engine,
    pub wazzup: Arc<FakeWazzup>,
    pub http: reqwest::Client,
    /// The engine's SQLite file, for tests that look at the tables themselves.
    pub db_path: std::path::PathBuf,
    _dir: tempfile::TempDir,
    _server: tokio::task::JoinHandle<()>,
}

impl TestApp {
    /// Stops the engine as SIGTERM would (finishing what is in hand) and closes its port.
    pub async fn stop(self) {
        self.engine.shutdown().await;
        self._server.abort();
    }

    pub async fn post_wazzup(&self, body: &serde_json::Value) -> reqwest::StatusCode {
        self.http
            .post(format!("{}/webhooks/wazzup/{WEBHOOK_SECRET}", self.base))
            .json(body)
            .send()
            .await
            .unwrap()
            .status()
    }

    /// Posts a Telegram update to the webhook with this secret header (none: no header).
    pub async fn post_telegram(
        &self,
        update: &serde_json::Value,
        secret: Option<&str>,
    ) -> reqwest::StatusCode {
        let mut request = self
            .http
            .post(format!("{}/webhooks/telegram", self.base))
            .json(update);
        if let Some(secret) = secret {
            request = request.header("X-Telegram-Bot-Api-Secret-Token", secret);
        }
        request.send().await.unwrap().status()
    }
}

/// How the app receives Telegram updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TelegramMode {
    /// `PUBLIC_URL` set: `setWebhook` at start, updates posted to `/webhooks/telegram`.
    Webhook,
    /// No `PUBLIC_URL`: the engine polls `getUpdates`.
    Polling,
}

pub async fn spawn(turns: Option<Arc<dyn TurnHandler>>) -> TestApp {
    spawn_with(Options {
        turns,
        ..Options::default()
    })
    .await
}

/// What a test may change about the app.
#[derive(Default)]
pub struct Options {
    pub turns: Option<Arc<dyn TurnHandler>>,
    pub tours: Option<Arc<dyn TourSearch>>,
    /// Extra configuration keys (they win over the defaults below).
    pub env: Vec<(&'static str, String)>,
    /// Telegram against this fake Bot API, in this mode.
    pub telegram: Option<(TelegramMode, Arc<FakeTelegram>)>,
    /// Fault tests: this store instead of the SQLite file.
    pub store: Option<Arc<dyn actors::store::Store>>,
}

pub async fn spawn_with(options: Options) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("app.db");
    let (wazzup_url, wazzup) = fakes::wazzup::start().await;
    let env = [
        ("DATABASE_URL", format!("sqlite://{}", db_path.display())),
        ("HTTP_ADDR", "127.0.0.1:0".to_owned()),
        ("WAZZUP_API_KEY", fakes::wazzup::API_KEY.to_owned()),
        ("WAZZUP_API_URL", wazzup_url),
        ("WAZZUP_WEBHOOK_SECRET", WEBHOOK_SECRET.to_owned()),
        // Answer each message at once unless a test is about bursts.
        ("BURST_WINDOW_MS", "0".to_owned()),
        // No background service checks (they would call the fakes) unless a test asks.
        ("STATUS_CHECK_SECS", "0".to_owned()),
    ];
    let mut telegram_env: Vec<(&'static str, String)> = Vec::new();
    if let Some((mode, fake)) = &options.telegram {
        telegram_env.push(("TELEGRAM_BOT_TOKEN", fakes::telegram::TOKEN.to_owned()));
        telegram_env.push(("TELEGRAM_API_URL", fake.url.clone()));
        if *mode == TelegramMode::Webhook {
            telegram_env.push(("PUBLIC_URL", PUBLIC_URL.to_owned()));
            telegram_env.push(("TELEGRAM_WEBHOOK_SECRET", TELEGRAM_SECRET.to_owned()));
        }
    }
    let values = env
        .into_iter()
        .chain(telegram_env)
        .chain(options.env)
        .map(|(k, v)| (k.to_owned(), v));
    let config = Config::from_values(BTreeMap::new(), values).unwrap();
    let app = Application::build(
        config,
        Overrides {
            turns: options.turns,
            tours: options.tours,
            store: options.store,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let base = format!("http://{}", app.local_addr());
    let engine = app.engine().clone();
    let server = tokio::spawn(async move {
        app.run_until(std::future::pending()).await.unwrap();
    });
    TestApp {
        base,
        engine,
        wazzup,
        http: reqwest::Client::new(),
        db_path,
        _dir: dir,
        _server: server,
    }
}
