//! The whole engine in-process on port 0, on a fresh SQLite file, with a fake Wazzup behind it.

use super::fake_wazzup::{self, FakeWazzup};
use actors::tours::TourSearch;
use actors::turns::TurnHandler;
use crystalbay::app::{Application, Overrides};
use crystalbay::config::Config;
use std::collections::BTreeMap;
use std::sync::Arc;

pub const WEBHOOK_SECRET: &str = "wz-secret-0123456789";

pub struct TestApp {
    pub base: String,
    pub engine: actors::Engine,
    pub wazzup: Arc<FakeWazzup>,
    pub http: reqwest::Client,
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
}

pub async fn spawn_with(options: Options) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let (wazzup_url, wazzup) = fake_wazzup::start().await;
    let env = [
        (
            "DATABASE_URL",
            format!("sqlite://{}", dir.path().join("app.db").display()),
        ),
        ("HTTP_ADDR", "127.0.0.1:0".to_owned()),
        ("WAZZUP_API_KEY", fake_wazzup::API_KEY.to_owned()),
        ("WAZZUP_API_URL", wazzup_url),
        ("WAZZUP_WEBHOOK_SECRET", WEBHOOK_SECRET.to_owned()),
        // Answer each message at once unless a test is about bursts.
        ("BURST_WINDOW_MS", "0".to_owned()),
    ];
    let values = env
        .into_iter()
        .chain(options.env)
        .map(|(k, v)| (k.to_owned(), v));
    let config = Config::from_values(BTreeMap::new(), values).unwrap();
    let app = Application::build(
        config,
        Overrides {
            turns: options.turns,
            tours: options.tours,
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
        _dir: dir,
        _server: server,
    }
}
