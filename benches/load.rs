//! The load tool: the whole engine in-process, driven by simulated customers over its real
//! webhooks, against local fakes of every service it calls.
//!
//!     cargo bench --bench load -- --customers 2000 --rate 2000 --duration 30 [--postgres URL]
//!     cargo bench --bench load -- --prefill 100000 --customers 20000 --rate 2000 --duration 20
//!
//! What runs: `crystalbay::startup::app::Application::build` on a temp SQLite file (or a fresh schema of
//! the PostgreSQL database at `--postgres`, dropped afterwards), with the test fakes
//! (the `fakes` crate, `tests/fakes` — production code never contains fakes):
//! SAMO answering searches after `--samo-latency-ms` (300 ms) with its catalogue of Vietnamese
//! hotels, Wazzup and the Telegram Bot API (webhook mode) taking the replies, Bitrix24 taking
//! the CRM sync. No LLM; `BURST_WINDOW_MS=0`. The channels' pacing (Wazzup 80/s, Telegram 30/s:
//! their APIs' limits) is lifted, so the figures are the engine's, not the limiters'.
//!
//! Each customer — WhatsApp or Telegram — holds one tour-search conversation: "Хотим в
//! Нячанг", "из Алматы в начале марта", "10 ночей, двое", "ещё", "бронируем второй",
//! "спасибо", reading each reply for `--think-ms` (1 s) before writing again, then makes room
//! for a new customer. `--customers` talk at once; messages go out at `--rate` per second in
//! total, each from a customer who has read the reply to their last one (when none has, the
//! slot is counted as missed: give more customers than `rate × (think time + reply time)`).
//!
//! With `--prefill N`, N conversations are stored first (one exchange each, their CRM
//! commands settled), and start-up is timed on that database: from `Application::build` to
//! the first `200` of `GET /ready`.
//!
//! It prints a progress line each second, then: inbound messages per second sustained;
//! acknowledgement latency (the webhook's HTTP round trip) p50/p99/max; reply latency (webhook
//! sent → reply at the fake) p50/p99 for the dialog turns, for the search turns, and for the
//! search turns without SAMO's own time (the time SAMO spent on this search's requests while
//! the customer waited); resident memory (VmRSS, VmHWM) and heap per live conversation; SAMO
//! requests per search; errors (non-2xx, transport errors, replies missing or unasked for);
//! the CPU time per message and the machine's steal time.

use actors::store::{NewInbound, Store};
use actors::turns::DialogTurns;
use actors::{Engine, EngineSettings};
use clap::Parser;
use crystalbay::commands::bench::CountingSender;
use crystalbay::config::Config;
use crystalbay::startup::app::{Application, Overrides};
use dialogs::{Channel, ChatKey};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

#[derive(Debug, Parser)]
#[command(about = "Load test of the whole engine against local fakes")]
struct Args {
    /// Customers talking at once.
    #[arg(long, default_value_t = 2000)]
    customers: usize,
    /// Inbound messages per second, in total.
    #[arg(long, default_value_t = 2000.0)]
    rate: f64,
    /// Seconds of load.
    #[arg(long, default_value_t = 30)]
    duration: u64,
    /// Run on PostgreSQL at this URL (a fresh schema, dropped afterwards) instead of SQLite.
    #[arg(long)]
    postgres: Option<String>,
    /// Conversations stored before the engine starts (start-up is timed on them).
    #[arg(long, default_value_t = 0)]
    prefill: usize,
    /// Share of the customers on Telegram; the others write on WhatsApp through Wazzup.
    #[arg(long, default_value_t = 0.5)]
    telegram_share: f64,
    /// SAMO's own time for one search (`SearchTour_PRICES`).
    #[arg(long, default_value_t = 300)]
    samo_latency_ms: u64,
    /// SAMO calls per second the engine may make (`SAMO_REQUESTS_PER_SEC`).
    #[arg(long, default_value_t = 10.0)]
    samo_rps: f64,
    /// Milliseconds a customer reads a reply before writing again (also Telegram's pace of one
    /// message per second per chat, which the engine keeps).
    #[arg(long, default_value_t = 1000)]
    think_ms: u64,
    /// Seconds to wait for the last replies once the load stops.
    #[arg(long, default_value_t = 30)]
    drain: u64,
    /// Internal: store the `--prefill` conversations into this database and exit (the prefill
    /// runs in a child process, so its memory is not counted as the engine's).
    #[arg(long, hide = true)]
    prefill_into: Option<String>,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

const WAZZUP_SECRET: &str = "load-wazzup-secret";
const TELEGRAM_SECRET: &str = "load-telegram-secret";

/// Which customer writes on which channel, with what, and where their replies land.
mod customers {
    /// The conversation, turn by turn; `{month}`, `{nights}` and `{party}` vary by customer.
    pub const SCRIPT: [&str; 6] = [
        "Хотим в Нячанг",
        "из Алматы {month}",
        "{nights} ночей, {party}",
        "ещё",
        "бронируем второй",
        "спасибо",
    ];
    /// Turns that search (the first page, then the next).
    pub const SEARCH_TURNS: [usize; 2] = [2, 3];

    const MONTHS: [(&str, &str); 2] = [("в начале марта", "03"), ("в конце февраля", "02")];
    const NIGHTS: [u32; 3] = [7, 10, 12];
    const PARTIES: [(&str, u32); 2] = [("двое", 2), ("трое взрослых", 3)];

    /// WhatsApp numbers 7770xxxxxxx; stored (prefilled) conversations use 7750xxxxxxx.
    const PHONE_BASE: u64 = 77_700_000_000;
    pub const PREFILL_PHONE_BASE: u64 = 77_500_000_000;
    const TELEGRAM_BASE: i64 = 6_000_000_000;

    /// What customer `n` searches for: the month's text and number, nights, party.
    pub fn query(n: u64) -> (&'static str, &'static str, u32, (&'static str, u32)) {
        let (month, mm) = MONTHS[(n % 2) as usize];
        let nights = NIGHTS[((n / 2) % 3) as usize];
        let party = PARTIES[((n / 6) % 2) as usize];
        (month, mm, nights, party)
    }

    pub fn text(n: u64, step: usize) -> String {
        let (month, _, nights, (party, _)) = query(n);
        SCRIPT[step]
            .replace("{month}", month)
            .replace("{nights}", &nights.to_string())
            .replace("{party}", party)
    }

    /// The key a SAMO request of this customer's search has: (nights, adults, check-in month).
    pub fn search_key(n: u64) -> (String, String, String) {
        let (_, mm, nights, (_, adults)) = query(n);
        (nights.to_string(), adults.to_string(), mm.to_owned())
    }

    pub fn on_telegram(n: u64, share: f64) -> bool {
        // Spread evenly: customer n is on Telegram when the running share crosses a whole one.
        ((n + 1) as f64 * share).floor() > (n as f64 * share).floor()
    }

    pub fn phone(n: u64) -> String {
        (PHONE_BASE + n).to_string()
    }

    pub fn telegram_chat(n: u64) -> i64 {
        TELEGRAM_BASE + n as i64
    }

    /// The customer a reply went to, from the fake's chat id.
    pub fn from_phone(chat: &str) -> Option<u64> {
        chat.parse::<u64>().ok()?.checked_sub(PHONE_BASE)
    }

    pub fn from_telegram(chat: i64) -> Option<u64> {
        u64::try_from(chat.checked_sub(TELEGRAM_BASE)?).ok()
    }
}

/// Latency samples in microseconds.
#[derive(Default)]
struct Samples(Vec<u64>);

impl Samples {
    fn add(&mut self, d: Duration) {
        self.0.push(d.as_micros() as u64);
    }

    fn sorted(&self) -> Vec<u64> {
        let mut v = self.0.clone();
        v.sort_unstable();
        v
    }

    /// `p50 … p99 … max …` in milliseconds.
    fn summary(&self) -> String {
        let v = self.sorted();
        if v.is_empty() {
            return "—".into();
        }
        let at = |q: f64| v[((v.len() as f64 * q) as usize).min(v.len() - 1)] as f64 / 1000.0;
        format!(
            "p50 {:>8.2} ms   p99 {:>8.2} ms   max {:>8.2} ms   (n = {})",
            at(0.50),
            at(0.99),
            *v.last().unwrap() as f64 / 1000.0,
            v.len()
        )
    }

    fn p99(&self) -> f64 {
        let v = self.sorted();
        if v.is_empty() {
            return 0.0;
        }
        v[((v.len() as f64 * 0.99) as usize).min(v.len() - 1)] as f64 / 1000.0
    }
}

/// A customer's message waiting for its reply.
struct Waiting {
    step: usize,
    sent: Instant,
}

struct Customer {
    n: u64,
    step: usize,
    waiting: Option<Waiting>,
}

/// A search turn's reply, kept to subtract SAMO's time once the run is over.
struct SearchReply {
    customer: u64,
    sent: Instant,
    replied: Instant,
}

/// What the webhook answered.
struct Ack {
    slot: usize,
    n: u64,
    latency: Duration,
    /// The HTTP status, or `None` for a transport error.
    status: Option<u16>,
}

/// Everything counted during the run.
#[derive(Default)]
struct Figures {
    sent: u64,
    acked: u64,
    non_2xx: u64,
    transport_errors: u64,
    missed_slots: u64,
    replies: u64,
    unasked_replies: u64,
    /// Messages still without a reply when the run ended.
    unanswered: u64,
    conversations_done: u64,
    search_turns: u64,
    ack: Samples,
    dialog_reply: Samples,
    search_reply: Samples,
    searches: Vec<SearchReply>,
}

/// A reply seen at a fake: the customer it went to and when.
struct Reply {
    n: u64,
    at: Instant,
}

/// CPU time of this process and the machine's CPU counters, to report CPU per message and
/// steal time.
#[derive(Clone, Copy)]
struct Cpu {
    process_ticks: u64,
    total: u64,
    steal: u64,
}

fn cpu_now() -> Cpu {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses): utime is the 14th field.
    let after = stat.rsplit(") ").next().unwrap_or("");
    let f: Vec<u64> = after
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    let process_ticks = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
    let machine = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let cpu: Vec<u64> = machine
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .skip(1)
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    Cpu {
        process_ticks,
        total: cpu.iter().take(8).sum(),
        steal: cpu.get(7).copied().unwrap_or(0),
    }
}

impl Cpu {
    /// Steal time between `self` and `later`, in percent of the machine's time.
    fn steal_pct(&self, later: &Cpu) -> f64 {
        let total = later.total.saturating_sub(self.total).max(1);
        later.steal.saturating_sub(self.steal) as f64 * 100.0 / total as f64
    }

    /// Seconds of CPU this process used between `self` and `later`.
    fn process_secs(&self, later: &Cpu) -> f64 {
        // SAFETY: sysconf has no preconditions.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
        later.process_ticks.saturating_sub(self.process_ticks) as f64 / hz
    }
}

/// `VmRSS` and `VmHWM` of this process, in MB.
fn memory_mb() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Stores `n` conversations (one exchange each) through the engine's own durable path, then
/// settles their CRM commands as a run with Bitrix24 would have.
async fn prefill(url: &str, n: usize) -> anyhow::Result<()> {
    let started = Instant::now();
    let store: Arc<dyn Store> = actors::store::open(url).await?;
    let sent = Arc::new(CountingSender::new(Channel::Wazzup));
    let engine = Engine::start(
        store.clone(),
        vec![sent.clone()],
        Arc::new(DialogTurns::new(Arc::new(actors::tours::NotConfigured))),
        EngineSettings {
            idle_after: Duration::from_secs(3600),
            burst_window: Duration::ZERO,
            ..EngineSettings::default()
        },
    )
    .await?;
    let next = Arc::new(AtomicU64::new(0));
    let mut producers = Vec::new();
    for _ in 0..256 {
        let (engine, next) = (engine.clone(), next.clone());
        producers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n as u64 {
                    return anyhow::Ok(());
                }
                let phone = customers::PREFILL_PHONE_BASE + i;
                engine
                    .accept(NewInbound {
                        key: ChatKey::new(Channel::Wazzup, format!("whatsapp:{phone}")),
                        external_id: format!("prefill-{i}"),
                        kind: channels::InboundKind::Text,
                        text: "Здравствуйте! Хотим в Нячанг из Алматы".into(),
                        sender_name: Some("Айгуль".into()),
                        route: serde_json::json!({"channelId": fakes::wazzup::CHANNEL_ID, "chatType": "whatsapp", "chatId": phone.to_string()}),
                        payload: serde_json::json!({}),
                        sent_at: chrono::Utc::now(),
                    })
                    .await?;
            }
        }));
    }
    let mut last = Instant::now();
    while sent.sent() < n as u64 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if last.elapsed() >= Duration::from_secs(1) {
            last = Instant::now();
            println!("  prefill … {}/{n} conversations stored", sent.sent());
        }
    }
    for p in producers {
        p.await??;
    }
    engine.shutdown().await;
    drop(store);
    // Their CRM commands are settled: this run measures the engine, not a CRM backlog.
    settle_crm(url).await?;
    println!(
        "prefill: {n} conversations stored in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn settle_crm(url: &str) -> anyhow::Result<()> {
    const SQL: &str = "UPDATE crm_outbox SET status = 'done' WHERE status = 'pending'";
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await?;
        sqlx::query(SQL).execute(&pool).await?;
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await?;
        sqlx::query(SQL).execute(&pool).await?;
        pool.close().await;
    }
    Ok(())
}

/// The database: a temp SQLite file, or a fresh schema in the PostgreSQL database.
struct Database {
    url: String,
    label: String,
    /// PostgreSQL: (server URL, schema) to drop at the end.
    schema: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

async fn database(args: &Args) -> anyhow::Result<Database> {
    let dir = tempfile::tempdir()?;
    Ok(match &args.postgres {
        None => Database {
            url: format!("sqlite://{}", dir.path().join("load.db").display()),
            label: "SQLite (temp file)".into(),
            schema: None,
            _dir: dir,
        },
        Some(server) => {
            let schema = format!("load_{}", std::process::id());
            let pool = sqlx::PgPool::connect(server).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA \"{schema}\"")))
                .execute(&pool)
                .await?;
            pool.close().await;
            // Every connection of the engine uses the schema (`search_path`).
            let sep = if server.contains('?') { '&' } else { '?' };
            Database {
                url: format!("{server}{sep}options=-c%20search_path%3D{schema}"),
                label: format!(
                    "PostgreSQL ({}, schema {schema})",
                    actors::store::redact_url(server)
                ),
                schema: Some((server.clone(), schema)),
                _dir: dir,
            }
        }
    })
}

/// The fakes the engine talks to.
struct Fakes {
    samo: Arc<fakes::samo::FakeSamo>,
    wazzup_url: String,
    wazzup: Arc<fakes::wazzup::FakeWazzup>,
    telegram: Arc<fakes::telegram::FakeTelegram>,
    bitrix: Arc<fakes::bitrix::FakeBitrix>,
}

async fn fakes(args: &Args) -> Fakes {
    let samo = fakes::samo::start().await;
    samo.set(|s| s.prices_delay = Some(Duration::from_millis(args.samo_latency_ms)));
    let (wazzup_url, wazzup) = fakes::wazzup::start().await;
    wazzup.forget.store(true, Ordering::Relaxed);
    let telegram = fakes::telegram::start().await;
    telegram.forget.store(true, Ordering::Relaxed);
    let bitrix = fakes::bitrix::start().await;
    Fakes {
        samo,
        wazzup_url,
        wazzup,
        telegram,
        bitrix,
    }
}

fn config(args: &Args, db: &Database, fakes: &Fakes) -> anyhow::Result<Config> {
    let values = [
        ("DATABASE_URL", db.url.clone()),
        ("HTTP_ADDR", "127.0.0.1:0".into()),
        ("WAZZUP_API_KEY", fakes::wazzup::API_KEY.into()),
        ("WAZZUP_API_URL", fakes.wazzup_url.clone()),
        ("WAZZUP_WEBHOOK_SECRET", WAZZUP_SECRET.into()),
        ("WAZZUP_SENDS_PER_SEC", "1000000".into()),
        ("TELEGRAM_BOT_TOKEN", fakes::telegram::TOKEN.into()),
        ("TELEGRAM_API_URL", fakes.telegram.url.clone()),
        ("PUBLIC_URL", "https://bot.crystalbay.test".into()),
        ("TELEGRAM_WEBHOOK_SECRET", TELEGRAM_SECRET.into()),
        ("TELEGRAM_SENDS_PER_SEC", "1000000".into()),
        ("SAMO_API_URL", fakes.samo.url.clone()),
        ("SAMO_OAUTH_TOKEN", fakes::samo::TOKEN.into()),
        ("SAMO_REQUESTS_PER_SEC", args.samo_rps.to_string()),
        ("BITRIX_WEBHOOK_URL", fakes.bitrix.webhook_url()),
        ("BITRIX_DEAL_CATEGORY", fakes::bitrix::TOURS.into()),
        ("BURST_WINDOW_MS", "0".into()),
    ];
    Ok(Config::from_values(
        BTreeMap::new(),
        values.into_iter().map(|(k, v)| (k.to_owned(), v)),
    )?)
}

/// A running engine: its base URL, handle and a way to stop it.
struct Running {
    base: String,
    engine: Engine,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
}

/// Builds and serves the application; returns once `/ready` answers 200, with the time that
/// took.
async fn start(config: Config, http: &reqwest::Client) -> anyhow::Result<(Running, Duration)> {
    let started = Instant::now();
    let app = Application::build(config, Overrides::default()).await?;
    let base = format!("http://{}", app.local_addr());
    let engine = app.engine().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    loop {
        let ready = http.get(format!("{base}/ready")).send().await;
        if ready.is_ok_and(|r| r.status().is_success()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let took = started.elapsed();
    Ok((
        Running {
            base,
            engine,
            stop,
            server,
        },
        took,
    ))
}

/// Posts customers' messages to the webhooks and reports each answer.
struct Poster {
    http: reqwest::Client,
    base: String,
    telegram_share: f64,
    acks: mpsc::UnboundedSender<Ack>,
    next_update_id: i64,
}

impl Poster {
    /// Posts customer `n`'s message of `step` to their channel's webhook, in its own task.
    fn post(&mut self, slot: usize, n: u64, step: usize) {
        let text = customers::text(n, step);
        let (url, body, telegram) = if customers::on_telegram(n, self.telegram_share) {
            self.next_update_id += 1;
            let update = fakes::telegram::with_id(
                fakes::telegram::text(customers::telegram_chat(n), &text),
                self.next_update_id,
            );
            (format!("{}/webhooks/telegram", self.base), update, true)
        } else {
            let id = format!("load-{n}-{step}");
            let body = fakes::wazzup::inbound(&id, &customers::phone(n), &text);
            let url = format!("{}/webhooks/wazzup/{WAZZUP_SECRET}", self.base);
            (url, body, false)
        };
        let body = serde_json::to_vec(&body).expect("JSON");
        let mut request = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .body(body);
        if telegram {
            request = request.header("x-telegram-bot-api-secret-token", TELEGRAM_SECRET);
        }
        let acks = self.acks.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let status = match request.send().await {
                Ok(r) => {
                    let status = r.status().as_u16();
                    let _ = r.bytes().await;
                    Some(status)
                }
                Err(_) => None,
            };
            let _ = acks.send(Ack {
                slot,
                n,
                latency: started.elapsed(),
                status,
            });
        });
    }
}

/// Drives the customers for `args.duration` seconds at `args.rate`, then waits for the last
/// replies. Prints a progress line each second.
async fn drive(
    args: &Args,
    running: &Running,
    http: &reqwest::Client,
    mut replies: mpsc::UnboundedReceiver<Reply>,
) -> Figures {
    let mut figures = Figures::default();
    let mut people: Vec<Customer> = (0..args.customers)
        .map(|slot| Customer {
            n: slot as u64,
            step: 0,
            waiting: None,
        })
        .collect();
    // Customer number → slot, for the customers talking now.
    let mut slot_of: HashMap<u64, usize> = (0..args.customers).map(|s| (s as u64, s)).collect();
    let mut next_n = args.customers as u64;
    // Customers free to write, each from an instant on (a reply plus the reading time).
    let mut ready: VecDeque<(Instant, usize)> =
        (0..args.customers).map(|s| (Instant::now(), s)).collect();
    let think = Duration::from_millis(args.think_ms);
    let (ack_tx, mut acks) = mpsc::unbounded_channel::<Ack>();
    let mut poster = Poster {
        http: http.clone(),
        base: running.base.clone(),
        telegram_share: args.telegram_share,
        acks: ack_tx,
        next_update_id: 800_000_000,
    };
    // Customers waiting for a reply.
    let mut waiting = 0usize;

    let load_for = Duration::from_secs(args.duration);
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut slots: u64 = 0;
    let mut second = Instant::now();
    let mut cpu_second = cpu_now();
    let (mut last_sent, mut last_acked, mut last_replies) = (0, 0, 0);
    let mut second_acks = Samples::default();
    let drain_until = started + load_for + Duration::from_secs(args.drain);

    loop {
        let loading = started.elapsed() < load_for;
        if !loading && (waiting == 0 || Instant::now() > drain_until) {
            break;
        }
        tokio::select! {
            _ = tick.tick() => {
                if loading {
                    let due = (started.elapsed().as_secs_f64() * args.rate) as u64;
                    let now = Instant::now();
                    while slots < due {
                        slots += 1;
                        let Some(slot) = ready.pop_front_if(|(at, _)| *at <= now).map(|(_, s)| s) else {
                            figures.missed_slots += 1;
                            continue;
                        };
                        let c = &mut people[slot];
                        c.waiting = Some(Waiting { step: c.step, sent: Instant::now() });
                        waiting += 1;
                        poster.post(slot, c.n, c.step);
                        figures.sent += 1;
                    }
                }
                if second.elapsed() >= Duration::from_secs(1) {
                    let now = cpu_now();
                    let live = running.engine.stats().await.live;
                    let (rss, _) = memory_mb();
                    let secs = second.elapsed().as_secs_f64();
                    println!(
                        "  {:>4.0} s  sent {:>5.0}/s  acked {:>5.0}/s  replies {:>5.0}/s  ack p99 {:>6.2} ms  waiting {:>5}  live {:>6}  RSS {:>5.0} MB  steal {:>4.1} %",
                        started.elapsed().as_secs_f64(),
                        (figures.sent - last_sent) as f64 / secs,
                        (figures.acked - last_acked) as f64 / secs,
                        (figures.replies - last_replies) as f64 / secs,
                        second_acks.p99(),
                        waiting,
                        live,
                        rss,
                        cpu_second.steal_pct(&now),
                    );
                    (last_sent, last_acked, last_replies) = (figures.sent, figures.acked, figures.replies);
                    second_acks = Samples::default();
                    second = Instant::now();
                    cpu_second = now;
                }
            }
            Some(ack) = acks.recv() => {
                figures.ack.add(ack.latency);
                second_acks.add(ack.latency);
                let ok = matches!(ack.status, Some(s) if (200..300).contains(&s));
                if ok {
                    figures.acked += 1;
                } else {
                    match ack.status {
                        Some(_) => figures.non_2xx += 1,
                        None => figures.transport_errors += 1,
                    }
                    // Not accepted: no reply will come; the customer may write again.
                    let c = &mut people[ack.slot];
                    if c.n == ack.n && c.waiting.take().is_some() {
                        waiting -= 1;
                        ready.push_back((Instant::now(), ack.slot));
                    }
                }
            }
            Some(reply) = replies.recv() => {
                figures.replies += 1;
                let Some(&slot) = slot_of.get(&reply.n) else {
                    figures.unasked_replies += 1;
                    continue;
                };
                let c = &mut people[slot];
                let Some(w) = c.waiting.take() else {
                    figures.unasked_replies += 1;
                    continue;
                };
                waiting -= 1;
                let latency = reply.at.saturating_duration_since(w.sent);
                if customers::SEARCH_TURNS.contains(&w.step) {
                    figures.search_reply.add(latency);
                    figures.searches.push(SearchReply { customer: c.n, sent: w.sent, replied: reply.at });
                    if w.step == customers::SEARCH_TURNS[0] {
                        figures.search_turns += 1;
                    }
                } else {
                    figures.dialog_reply.add(latency);
                }
                c.step += 1;
                if c.step == customers::SCRIPT.len() {
                    // Done: a new customer takes the place.
                    figures.conversations_done += 1;
                    slot_of.remove(&c.n);
                    c.n = next_n;
                    c.step = 0;
                    slot_of.insert(next_n, slot);
                    next_n += 1;
                }
                ready.push_back((Instant::now() + think, slot));
            }
        }
    }
    figures.unanswered = waiting as u64;
    figures
}

/// Reply latencies of the search turns with SAMO's own time taken out: for each, the time the
/// fake spent on `SearchTour_PRICES` requests for that customer's search (same nights, party
/// and month) while the customer waited.
fn without_samo(figures: &Figures, samo: &fakes::samo::FakeSamo) -> Samples {
    let mut by_key: HashMap<(String, String, String), Vec<(Instant, Instant)>> = HashMap::new();
    for s in samo.served("SearchTour_PRICES") {
        let get = |k: &str| s.params.get(k).cloned().unwrap_or_default();
        let month = get("CHECKIN_BEG").get(4..6).unwrap_or("").to_owned();
        by_key
            .entry((get("NIGHTS_FROM"), get("ADULT"), month))
            .or_default()
            .push((s.started, s.finished));
    }
    let mut out = Samples::default();
    for r in &figures.searches {
        let mut samo_time = Duration::ZERO;
        if let Some(spans) = by_key.get(&customers::search_key(r.customer)) {
            // The union of the overlaps of [sent, replied] with the requests' spans.
            let mut overlaps: Vec<(Instant, Instant)> = spans
                .iter()
                .map(|(a, b)| ((*a).max(r.sent), (*b).min(r.replied)))
                .filter(|(a, b)| a < b)
                .collect();
            overlaps.sort();
            let mut end: Option<Instant> = None;
            for (a, b) in overlaps {
                let a = end.map_or(a, |e| a.max(e));
                if b > a {
                    samo_time += b - a;
                    end = Some(b);
                }
            }
        }
        out.add(r.replied.saturating_duration_since(r.sent) - samo_time);
    }
    out
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // Logs only when asked for (`RUST_LOG=actors::store_writer=debug` shows every batch).
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    if let Some(url) = &args.prefill_into {
        return prefill(url, args.prefill).await;
    }
    let db = database(&args).await?;
    println!(
        "load: {} customers at {} messages/s for {} s on {} ({} % on Telegram, the rest on WhatsApp); SAMO {} ms per search, at most {} calls/s",
        args.customers,
        args.rate,
        args.duration,
        db.label,
        (args.telegram_share * 100.0).round(),
        args.samo_latency_ms,
        args.samo_rps
    );
    if args.prefill > 0 {
        // In a child process: this one's resident memory is then the engine's, the fakes' and
        // the load generator's only.
        let status = tokio::process::Command::new(std::env::current_exe()?)
            .arg("--prefill")
            .arg(args.prefill.to_string())
            .arg("--prefill-into")
            .arg(&db.url)
            .status()
            .await?;
        anyhow::ensure!(status.success(), "the prefill failed: {status}");
    }
    let fakes = fakes(&args).await;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(4096)
        .build()?;
    let (running, startup) = start(config(&args, &db, &fakes)?, &http).await?;
    let stored = running
        .engine
        .store()
        .store
        .count_conversations()
        .await
        .unwrap_or(0);
    println!(
        "start-up to ready: {:.0} ms with {stored} stored conversations",
        startup.as_secs_f64() * 1000.0
    );
    let (rss_idle, _) = memory_mb();

    // Replies as the fakes accept them, tagged with their customer.
    let (reply_tx, replies) = mpsc::unbounded_channel::<Reply>();
    let mut from_wazzup = fakes.wazzup.subscribe();
    let tx = reply_tx.clone();
    tokio::spawn(async move {
        while let Some(d) = from_wazzup.recv().await {
            if let Some(n) = customers::from_phone(&d.chat_id) {
                let _ = tx.send(Reply { n, at: d.at });
            }
        }
    });
    let mut from_telegram = fakes.telegram.subscribe();
    tokio::spawn(async move {
        while let Some(s) = from_telegram.recv().await {
            if let Some(n) = customers::from_telegram(s.chat_id) {
                let _ = reply_tx.send(Reply { n, at: s.at });
            }
        }
    });

    let cpu_start = cpu_now();
    let load_started = Instant::now();
    let figures = drive(&args, &running, &http, replies).await;
    let cpu_end = cpu_now();
    let wall = load_started.elapsed();
    let (rss, hwm) = memory_mb();
    let live = running.engine.stats().await.live;

    let secs = args.duration as f64;
    println!();
    println!("== figures ==");
    println!(
        "inbound messages acknowledged: {} in {} s = {:.0} messages/s sustained (target {:.0}/s; {} slots missed with every customer waiting for a reply)",
        figures.acked,
        args.duration,
        figures.acked as f64 / secs,
        args.rate,
        figures.missed_slots
    );
    println!(
        "acknowledgement (webhook HTTP round trip): {}",
        figures.ack.summary()
    );
    println!("reply latency (webhook sent → reply at the fake):");
    println!(
        "  dialog turns:                   {}",
        figures.dialog_reply.summary()
    );
    println!(
        "  search turns:                   {}",
        figures.search_reply.summary()
    );
    println!(
        "  search turns without SAMO time: {}",
        without_samo(&figures, &fakes.samo).summary()
    );
    let prices = fakes.samo.requests_of("SearchTour_PRICES");
    println!(
        "SAMO: {prices} PRICES requests for {} searches = {:.3} per search (the rest from the cache or joined to a request in flight)",
        figures.search_turns,
        prices as f64 / figures.search_turns.max(1) as f64
    );
    println!(
        "conversations: {} finished, {} live actors, {stored} stored before the run",
        figures.conversations_done, live
    );
    println!(
        "resident memory: {rss:.0} MB now (VmRSS), {hwm:.0} MB peak (VmHWM), {rss_idle:.0} MB before the load; engine, fakes and load generator in one process"
    );
    // What a live conversation costs: the heap freed by stopping every (idle) conversation
    // actor — actor, mailbox, cached state, router entry.
    crystalbay::startup::memory::start_counting();
    let stopped = running.engine.passivate_all().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let freed = -crystalbay::startup::memory::counted_bytes();
    if stopped > 0 {
        println!(
            "heap per live conversation: {:.1} KB ({stopped} passivated)",
            freed as f64 / stopped as f64 / 1024.0
        );
    }
    let cpu = cpu_start.process_secs(&cpu_end);
    println!(
        "CPU: {:.1} s of this process over {:.1} s ({:.0} µs per message, engine + fakes + load generator); steal {:.1} % of the machine",
        cpu,
        wall.as_secs_f64(),
        cpu * 1e6 / figures.acked.max(1) as f64,
        cpu_start.steal_pct(&cpu_end)
    );
    println!(
        "errors: {} non-2xx, {} transport errors, {} messages without a reply when the run ended, {} replies nobody waited for",
        figures.non_2xx, figures.transport_errors, figures.unanswered, figures.unasked_replies
    );
    println!(
        "Bitrix24: {} contacts, {} deals (synced at the portal's pace, 2 calls/s)",
        fakes.bitrix.contacts().len(),
        fakes.bitrix.deals().len()
    );

    let _ = running.stop.send(());
    running.server.await??;
    if let Some((server, schema)) = &db.schema {
        let pool = sqlx::PgPool::connect(server).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA \"{schema}\" CASCADE"
        )))
        .execute(&pool)
        .await?;
    }
    Ok(())
}
