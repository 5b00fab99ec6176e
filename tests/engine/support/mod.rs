//! Test support: fresh stores on both backends, an in-process engine, stand-ins and small
//! helpers. The fakes of the services the engine calls live in their own crate, `fakes`
//! (`tests/fakes`), shared with the benches.

pub mod app;
pub mod backends;
pub mod stand_ins;

use std::future::Future;
use std::process::{Command, Stdio};
use std::time::Duration;

/// An escalation's details as they are stored: the JSON object the managers' notices and the
/// admin API show, for assertions by key.
pub fn stored(details: &dialogs::turn::EscalationDetails) -> serde_json::Value {
    serde_json::to_value(details).expect("details serialise")
}

/// A TCP port free on 127.0.0.1 right now, for a child `crystalbay` process to listen on.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls `check` every 20 ms until it holds, for at most `limit`; says whether it held.
/// (A wait with a deadline, not a timing assertion: the deadline only bounds a broken run.)
pub async fn eventually<F, Fut>(limit: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = std::time::Instant::now();
    loop {
        if check().await {
            return true;
        }
        if start.elapsed() > limit {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `crystalbay run` on the SQLite file `db` at `port`, sending WhatsApp through the fake Wazzup at
/// `wazzup_url` (webhooks checked against `wazzup_secret`), with only the variables given (never
/// the developer's environment) and no burst window. Add more with `.env(…)`, then spawn.
pub fn engine_command(
    db: &std::path::Path,
    port: u16,
    wazzup_url: &str,
    wazzup_secret: &str,
) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_crystalbay"));
    command
        .arg("run")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("DATABASE_URL", format!("sqlite://{}", db.display()))
        .env("HTTP_ADDR", format!("127.0.0.1:{port}"))
        .env("WAZZUP_API_KEY", fakes::wazzup::API_KEY)
        .env("WAZZUP_API_URL", wazzup_url)
        .env("WAZZUP_WEBHOOK_SECRET", wazzup_secret)
        .env("BURST_WINDOW_MS", "0")
        .env("STATUS_CHECK_SECS", "0")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    command
}
