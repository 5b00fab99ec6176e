//! Test support: fresh stores on both backends, fakes of Wazzup, the Telegram Bot API,
//! Bitrix24, SAMO, an OpenAI-compatible API and an SMTP server, and an in-process engine.

pub mod app;
pub mod backends;
pub mod fake_bitrix;
pub mod fake_openai;
pub mod fake_samo;
pub mod fake_smtp;
pub mod fake_telegram;
pub mod fake_wazzup;
pub mod stand_ins;

use std::future::Future;
use std::time::Duration;

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
