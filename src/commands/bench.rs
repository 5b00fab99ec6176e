//! `crystalbay bench`: how fast the durable path is, and what a live conversation costs.
//!
//! Drives N conversations × M messages through `Engine::accept` (inbox insert, acknowledged
//! only once durable) → Conversation actor (the dialog policy) → outbox commit → a sender that
//! counts, on a fresh SQLite file or a fresh PostgreSQL schema. Prints a progress line each
//! second, then messages per second end to end and heap per live conversation actor.

use actors::store::{NewInbound, Store};
use actors::turns::DialogTurns;
use actors::{Engine, EngineSettings};
use async_trait::async_trait;
use channels::{OutgoingMessage, SendError, SendReceipt, Sender};
use dialogs::{Channel, ChatKey};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Conversations to drive.
    #[arg(long, default_value_t = 10_000)]
    pub conversations: usize,
    /// Messages per conversation.
    #[arg(long, default_value_t = 10)]
    pub messages: usize,
    /// Concurrent senders of webhook-like traffic.
    #[arg(long, default_value_t = 256)]
    pub concurrency: usize,
    /// Run on PostgreSQL at this URL (a fresh schema, dropped afterwards) instead of SQLite.
    #[arg(long)]
    pub postgres: Option<String>,
}

/// What each conversation says, round after round: a greeting, a destination (the bot asks
/// what it still needs), a FAQ question, thanks. Nothing here searches — SAMO is not part of
/// this bench (the load tool, `cargo bench --bench load`, runs searches against a fake SAMO).
const SCRIPT: [&str; 4] = [
    "Здравствуйте!",
    "Хотим в Нячанг",
    "А виза во Вьетнам нужна?",
    "спасибо",
];

/// A sender that only counts what it is given (also the load tool's, for its prefill).
pub struct CountingSender {
    channel: Channel,
    sent: AtomicU64,
}

impl CountingSender {
    pub fn new(channel: Channel) -> Self {
        Self {
            channel,
            sent: AtomicU64::new(0),
        }
    }

    /// Messages sent so far.
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }
}

#[async_trait]
impl Sender for CountingSender {
    fn channel(&self) -> Channel {
        self.channel
    }
    async fn send(&self, _m: &OutgoingMessage) -> Result<SendReceipt, SendError> {
        self.sent.fetch_add(1, Ordering::Relaxed);
        Ok(SendReceipt::default())
    }
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (store, label, schema): (Arc<dyn Store>, String, Option<(String, String)>) =
        match &args.postgres {
            None => {
                let url = format!("sqlite://{}", dir.path().join("bench.db").display());
                (
                    actors::store::open(&url).await?,
                    "SQLite (temp file)".into(),
                    None,
                )
            }
            Some(url) => {
                let schema = format!("bench_{}", std::process::id());
                let store = actors::store::postgres::PgStore::connect(url, Some(&schema)).await?;
                (
                    Arc::new(store),
                    format!("PostgreSQL ({})", actors::store::redact_url(url)),
                    Some((url.clone(), schema)),
                )
            }
        };
    println!(
        "crystalbay bench: {} conversations × {} messages on {label}",
        args.conversations, args.messages
    );

    let sent = Arc::new(CountingSender::new(Channel::Console));
    let engine = Engine::start(
        store.clone(),
        vec![sent.clone()],
        Arc::new(DialogTurns::new(Arc::new(actors::tours::NotConfigured))),
        EngineSettings {
            idle_after: Duration::from_secs(3600),
            recover_channels: None,
            burst_window: Duration::ZERO,
            ..EngineSettings::default()
        },
    )
    .await?;

    let total = (args.conversations * args.messages) as u64;
    let started = Instant::now();
    let next = Arc::new(AtomicU64::new(0));
    let mut producers = Vec::new();
    for _ in 0..args.concurrency.max(1) {
        let engine = engine.clone();
        let next = next.clone();
        let conversations = args.conversations as u64;
        producers.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total {
                    return Ok::<_, anyhow::Error>(());
                }
                // Round n goes to every conversation before round n+1: the shape of many
                // customers typing at once.
                let conversation = n % conversations;
                engine
                    .accept(NewInbound {
                        key: ChatKey::new(Channel::Console, format!("bench-{conversation}")),
                        external_id: format!("m{n}"),
                        kind: channels::InboundKind::Text,
                        text: SCRIPT[(n / conversations) as usize % SCRIPT.len()].into(),
                        sender_name: None,
                        route: serde_json::json!({}),
                        payload: serde_json::json!({}),
                        sent_at: chrono::Utc::now(),
                    })
                    .await?;
            }
        }));
    }
    let mut last_print = Instant::now();
    while sent.sent() < total {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if last_print.elapsed() >= Duration::from_secs(1) {
            last_print = Instant::now();
            let done = sent.sent();
            println!(
                "  … {done}/{total} replies sent, {:.0} msg/s so far",
                done as f64 / started.elapsed().as_secs_f64()
            );
        }
        if started.elapsed() > Duration::from_secs(600) {
            anyhow::bail!(
                "gave up after 10 minutes with {} of {total} replies",
                sent.sent()
            );
        }
    }
    for p in producers {
        p.await??;
    }
    let elapsed = started.elapsed();
    let live = engine.stats().await.live;
    println!(
        "messages handled durably: {total} in {:.2} s",
        elapsed.as_secs_f64()
    );
    println!(
        "throughput (inbox → conversation → outbox → sent): {:.0} messages/s",
        total as f64 / elapsed.as_secs_f64()
    );
    println!(
        "resident memory with {live} live conversations: {:.1} MB",
        resident_bytes().unwrap_or(0) as f64 / 1e6
    );
    // What a live conversation costs: the heap freed by stopping every (idle) conversation
    // actor — actor, mailbox, cached state, router entry — apart from the engine's caches.
    crate::startup::memory::start_counting();
    let stopped = engine.passivate_all().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let freed = -crate::startup::memory::counted_bytes();
    if stopped > 0 {
        println!(
            "heap per live conversation actor: {:.1} KB ({stopped} passivated)",
            freed as f64 / stopped as f64 / 1024.0
        );
    }
    engine.shutdown().await;
    if let Some((url, schema)) = schema {
        let pool = sqlx::PgPool::connect(&url).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA \"{schema}\" CASCADE"
        )))
        .execute(&pool)
        .await?;
    }
    Ok(())
}

/// Resident set size of this process, from /proc.
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}
