//! Crash test under load: the real binary, with Wazzup, Telegram (webhook mode), Bitrix24 and
//! SAMO faked, takes a few hundred messages of whole tour-search conversations while it is
//! killed with SIGKILL at random moments five times and restarted each time on the same
//! database. Messages are posted the way the channels deliver them: again, with the same id,
//! until one is acknowledged.
//!
//! Counted at the fakes at the end:
//! - every message has its reply: none is lost;
//! - WhatsApp: exactly one reply per message (Wazzup refuses a repeated `crmMessageId`, so a
//!   resend after a crash never reaches the customer twice);
//! - Telegram: at least once — the Bot API has no idempotency key, so a reply accepted just
//!   before a kill is sent again after the restart. Such repeats are counted and printed; every
//!   message still has its own reply;
//! - Bitrix24: one deal per conversation, one contact per phone, at most one booking to-do
//!   per deal.
//!
//! The kill moments come from a seeded generator; the seed is printed (set `CRASH_SEED` to
//! replay a run). No timing is asserted: waits have deadlines only to end a broken run.

use crate::support::{self, eventually};
use fakes::bitrix::FakeBitrix;
use fakes::samo::FakeSamo;
use fakes::telegram::FakeTelegram;
use fakes::wazzup::FakeWazzup;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::process::Child;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

const WAZZUP_SECRET: &str = "crash-load-wazzup-secret";
const TELEGRAM_SECRET: &str = "crash-load-telegram-secret";
/// Customers per channel; each writes the whole script.
const PER_CHANNEL: usize = 25;
const SCRIPT: [&str; 6] = [
    "Хотим в Нячанг",
    "из Алматы в начале марта",
    "10 ночей, двое",
    "ещё",
    "бронируем второй",
    "спасибо",
];
const KILLS: usize = 5;
/// Bounds a broken run; never a timing assertion.
const WAIT: Duration = Duration::from_secs(120);

/// A small seeded generator (SplitMix64): the kill moments and the customers' pauses.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Milliseconds in `[from, to)`.
    fn millis(&mut self, from: u64, to: u64) -> Duration {
        Duration::from_millis(from + self.next() % (to - from))
    }
}

struct Fakes {
    wazzup_url: String,
    wazzup: Arc<FakeWazzup>,
    telegram: Arc<FakeTelegram>,
    bitrix: Arc<FakeBitrix>,
    samo: Arc<FakeSamo>,
}

/// `crystalbay run` on `db` and `port`, with only the variables given.
fn spawn_engine(db: &std::path::Path, port: u16, fakes: &Fakes) -> Child {
    support::engine_command(db, port, &fakes.wazzup_url, WAZZUP_SECRET)
        .env("TELEGRAM_BOT_TOKEN", fakes::telegram::TOKEN)
        .env("TELEGRAM_API_URL", &fakes.telegram.url)
        .env("PUBLIC_URL", "https://bot.crystalbay.test")
        .env("TELEGRAM_WEBHOOK_SECRET", TELEGRAM_SECRET)
        .env("BITRIX_WEBHOOK_URL", fakes.bitrix.webhook_url())
        .env("BITRIX_DEAL_CATEGORY", fakes::bitrix::TOURS)
        .env("BITRIX_RATE_PER_SEC", "100")
        .env("BITRIX_RETRY_BASE_MS", "100")
        .env("SAMO_API_URL", &fakes.samo.url)
        .env("SAMO_OAUTH_TOKEN", fakes::samo::TOKEN)
        .env("SAMO_REQUESTS_PER_SEC", "100")
        .env("RUST_LOG", "error")
        .spawn()
        .expect("start the crystalbay binary")
}

/// Which customer, on which channel.
#[derive(Clone, Copy)]
enum Customer {
    WhatsApp(usize),
    Telegram(usize),
}

impl Customer {
    fn phone(i: usize) -> String {
        format!("7701555{i:04}")
    }

    fn chat(i: usize) -> i64 {
        7_100_000 + i as i64
    }

    /// Posts message `step` as the channel delivers it: the same id until acknowledged.
    async fn deliver(self, http: &reqwest::Client, base: &str, step: usize) {
        let text = SCRIPT[step];
        let (url, body, secret) = match self {
            Customer::WhatsApp(i) => (
                format!("{base}/webhooks/wazzup/{WAZZUP_SECRET}"),
                fakes::wazzup::inbound(&format!("crash-{i}-{step}"), &Self::phone(i), text),
                None,
            ),
            Customer::Telegram(i) => (
                format!("{base}/webhooks/telegram"),
                fakes::telegram::with_id(
                    fakes::telegram::text(Self::chat(i), text),
                    (900_000 + i * 10 + step) as i64,
                ),
                Some(TELEGRAM_SECRET),
            ),
        };
        let delivered = eventually(WAIT, || async {
            let mut request = http.post(&url).json(&body);
            if let Some(secret) = secret {
                request = request.header("X-Telegram-Bot-Api-Secret-Token", secret);
            }
            match request.send().await {
                Ok(r) if r.status().is_success() => true,
                Ok(r) => {
                    assert!(
                        r.status().is_server_error(),
                        "a valid message was refused: {}",
                        r.status()
                    );
                    false
                }
                // The engine is down: the channel tries again.
                Err(_) => false,
            }
        })
        .await;
        assert!(delivered, "message {step} was never acknowledged");
    }

    /// Replies the customer has seen (Telegram: repeats of the same reply included).
    fn seen(self, fakes: &Fakes) -> Vec<String> {
        match self {
            Customer::WhatsApp(i) => fakes
                .wazzup
                .delivered_to(&Self::phone(i))
                .into_iter()
                .map(|d| d.text)
                .collect(),
            Customer::Telegram(i) => fakes
                .telegram
                .sent_to(Self::chat(i))
                .into_iter()
                .map(|s| s.text)
                .collect(),
        }
    }
}

/// Replies with a repeat of the one just before it (a resend) counted once.
fn distinct(replies: &[String]) -> usize {
    replies
        .iter()
        .enumerate()
        .filter(|(i, r)| *i == 0 || replies[i - 1] != **r)
        .count()
}

#[tokio::test]
async fn sigkill_under_load_loses_no_reply_and_duplicates_nothing() {
    let seed = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    println!("crash test under load: seed {seed} (CRASH_SEED={seed} replays the kill moments)");
    let mut rng = Rng(seed);

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash-load.db");
    let (wazzup_url, wazzup) = fakes::wazzup::start().await;
    let fakes = Arc::new(Fakes {
        wazzup_url,
        wazzup,
        telegram: fakes::telegram::start().await,
        bitrix: fakes::bitrix::start().await,
        samo: fakes::samo::start().await,
    });
    fakes.bitrix.set_bucket(10_000.0, 1_000.0);
    // Searches take a while, so kills also land while one is in flight.
    fakes
        .samo
        .set(|s| s.prices_delay = Some(Duration::from_millis(100)));
    let port = crate::support::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();

    let customers: Vec<Customer> = (0..PER_CHANNEL)
        .flat_map(|i| [Customer::WhatsApp(i), Customer::Telegram(i)])
        .collect();
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let mut engine = spawn_engine(&db, port, &fakes);

    // The customers: each starts at a random moment, waits for each reply (across crashes),
    // and pauses a little before writing again.
    let mut talking = Vec::new();
    for (k, customer) in customers.iter().copied().enumerate() {
        let (fakes, http, base, acknowledged) = (
            fakes.clone(),
            http.clone(),
            base.clone(),
            acknowledged.clone(),
        );
        let start = rng.millis(0, 3000);
        let pauses: Vec<Duration> = (0..SCRIPT.len()).map(|_| rng.millis(50, 500)).collect();
        talking.push(tokio::spawn(async move {
            tokio::time::sleep(start).await;
            for (step, pause) in pauses.into_iter().enumerate() {
                customer.deliver(&http, &base, step).await;
                acknowledged.fetch_add(1, Ordering::SeqCst);
                let answered =
                    eventually(WAIT, || async { customer.seen(&fakes).len() > step }).await;
                assert!(answered, "customer {k}: no reply to message {step}");
                tokio::time::sleep(pause).await;
            }
        }));
    }

    // The killer: five SIGKILLs at random moments, each followed by a restart.
    for kill in 1..=KILLS {
        let after = rng.millis(300, 1500);
        tokio::time::sleep(after).await;
        engine.kill().expect("SIGKILL");
        engine.wait().unwrap();
        println!(
            "kill {kill}: after {} ms, {} messages acknowledged so far",
            after.as_millis(),
            acknowledged.load(Ordering::SeqCst)
        );
        engine = spawn_engine(&db, port, &fakes);
    }
    for t in talking {
        t.await.expect("a customer's conversation failed");
    }

    // Everything settles: no message unhandled, no reply unsent, every CRM command done.
    let store = actors::store::open(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let settled = eventually(WAIT, || async {
        store.pending_inbox().await.unwrap().is_empty()
            && store.unsent_outbox().await.unwrap().is_empty()
            && store
                .crm_commands(Some(actors::store::CrmStatus::Pending), 10)
                .await
                .unwrap()
                .is_empty()
    })
    .await;
    assert!(settled, "work left pending after the last restart");
    let failed = store
        .crm_commands(Some(actors::store::CrmStatus::Failed), 100)
        .await
        .unwrap();
    assert!(failed.is_empty(), "CRM commands failed: {failed:#?}");
    engine.kill().expect("SIGKILL");
    engine.wait().unwrap();

    // Replies, counted as the customers saw them.
    let mut telegram_repeats = 0;
    for customer in &customers {
        let seen = customer.seen(&fakes);
        match customer {
            Customer::WhatsApp(i) => assert_eq!(
                seen.len(),
                SCRIPT.len(),
                "WhatsApp customer {i}: one reply per message, no more: {seen:#?}"
            ),
            Customer::Telegram(i) => {
                assert_eq!(
                    distinct(&seen),
                    SCRIPT.len(),
                    "Telegram customer {i}: a reply per message: {seen:#?}"
                );
                telegram_repeats += seen.len() - distinct(&seen);
            }
        }
    }
    let messages = customers.len() * SCRIPT.len();
    println!(
        "{messages} messages, {KILLS} kills: every message answered; WhatsApp 0 repeats; \
         Telegram {telegram_repeats} repeated replies (at least once, documented)"
    );

    // Bitrix24: one deal per conversation, one contact per phone, one to-do per deal at most.
    let deals = fakes.bitrix.deals();
    let origins: HashSet<&Value> = deals.iter().map(|d| &d["ORIGIN_ID"]).collect();
    assert_eq!(origins.len(), deals.len(), "a conversation with two deals");
    assert_eq!(deals.len(), customers.len(), "a deal per conversation");
    let contacts = fakes.bitrix.contacts();
    let mut phones = HashSet::new();
    for contact in &contacts {
        for phone in contact["PHONE"].as_array().into_iter().flatten() {
            assert!(
                phones.insert(phone["VALUE"].as_str().unwrap().to_owned()),
                "two contacts with one phone: {contacts:#?}"
            );
        }
    }
    assert_eq!(
        contacts.len(),
        PER_CHANNEL,
        "a contact per WhatsApp customer"
    );
    let mut todos: HashMap<String, usize> = HashMap::new();
    for activity in fakes.bitrix.activities() {
        *todos.entry(activity["OWNER_ID"].to_string()).or_default() += 1;
    }
    assert!(
        todos.values().all(|n| *n == 1),
        "a deal with two booking to-dos: {todos:?}"
    );
}
