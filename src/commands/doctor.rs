//! `crystalbay doctor`: checks every configured service for real, all at once, and says in
//! plain words what works, what does not and how to fix it. Each service gets a one-line
//! verdict (with the fix when it is broken) and the findings behind it; services that are not
//! configured are listed as such. The answer is "healthy" (exit code 0) only when everything
//! configured works. The same checks feed `/admin/status` ([`Checks`], re-run in the
//! background every `STATUS_CHECK_SECS`).
//!
//! - SAMO: token present (never printed), endpoint reachable (a 403 comes with the allow-list /
//!   `SAMO_PROXY` advice), the dictionaries the search needs, and one sample search (Almaty →
//!   Vietnam next month, 7 nights, 2 adults).
//! - Telegram: `getMe` (the token); `getWebhookInfo`: in webhook mode the URL is
//!   `PUBLIC_URL/webhooks/telegram`, updates waiting, Telegram's last delivery error; the
//!   managers' chat reachable (`getChatMember` of the bot there).
//! - Wazzup: the channels and their states; the webhook URI points at us.
//! - Bitrix24: the webhook (`profile`), its `crm` scope, the deal pipeline and each of the
//!   nine stages (the check the admin status shows too).
//! - The LLM: `GET /models` lists the configured model (a one-token completion where the API
//!   has no `/models`).
//! - SMTP: connect, TLS as `SMTP_URL` asks, AUTH; no mail is sent.

use crate::config::{
    BitrixConfig, Config, EmailConfig, OpenAiConfig, SamoConfig, TelegramConfig, WazzupConfig,
};
use actors::tours::Tours;
use actors::tours::catalog::Dictionary;
use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use dialogs::search::{PageRequest, SearchFailure, SearchField, SearchQuery, SortOrder};
use secrecy::ExposeSecret;
use serde::Serialize;
use std::io::Write;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// How long one service's check may take in all before it is called broken.
const SERVICE_LIMIT: Duration = Duration::from_secs(60);

/// What one check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Ok,
    Note,
    Fail,
}

/// One service's result.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceCheck {
    /// `samo`, `telegram`, `wazzup`, `bitrix24`, `llm`, `email` (as in `/admin/status`).
    pub key: &'static str,
    /// For people: `Telegram`, `SMTP (e-mail replies)`…
    pub service: &'static str,
    pub configured: bool,
    /// Configured and nothing failed.
    pub ok: bool,
    /// One line: the first failure, or what shows it works, or "not configured (…)".
    pub verdict: String,
    /// What to do about the first failure.
    pub fix: Option<String>,
    /// Every finding, in order.
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub level: Level,
    pub text: String,
}

/// The findings of one service while it is checked.
#[derive(Default)]
struct Findings {
    lines: Vec<Finding>,
    /// The line that says it works, when nothing failed (else the last `ok`).
    summary: Option<String>,
    fix: Option<String>,
}

impl Findings {
    fn ok(&mut self, text: impl Into<String>) {
        self.push(Level::Ok, text.into());
    }
    fn note(&mut self, text: impl Into<String>) {
        self.push(Level::Note, text.into());
    }
    fn fail(&mut self, text: impl Into<String>) {
        self.push(Level::Fail, text.into());
    }
    /// A failure, with what to do about it (the first fix given is the one shown).
    fn fail_fix(&mut self, text: impl Into<String>, fix: impl Into<String>) {
        self.fix.get_or_insert_with(|| fix.into());
        self.push(Level::Fail, text.into());
    }
    /// The verdict when nothing fails.
    fn summary(&mut self, text: impl Into<String>) {
        self.summary = Some(text.into());
    }
    fn push(&mut self, level: Level, text: String) {
        self.lines.push(Finding { level, text });
    }

    fn into_check(self, key: &'static str, service: &'static str) -> ServiceCheck {
        let failure = self.lines.iter().find(|f| f.level == Level::Fail);
        let verdict = match failure {
            Some(f) => f.text.clone(),
            None => self
                .summary
                .clone()
                .or_else(|| {
                    self.lines
                        .iter()
                        .rev()
                        .find(|f| f.level == Level::Ok)
                        .map(|f| f.text.clone())
                })
                .unwrap_or_else(|| "works".into()),
        };
        ServiceCheck {
            key,
            service,
            configured: true,
            ok: failure.is_none(),
            verdict,
            fix: failure.and(self.fix),
            findings: self.lines,
        }
    }
}

fn not_configured(key: &'static str, service: &'static str, how: &str) -> ServiceCheck {
    ServiceCheck {
        key,
        service,
        configured: false,
        ok: true,
        verdict: format!("not configured ({how})"),
        fix: None,
        findings: Vec::new(),
    }
}

/// Runs `check` on a fresh [`Findings`] within [`SERVICE_LIMIT`].
async fn checked<F>(key: &'static str, service: &'static str, check: F) -> ServiceCheck
where
    F: AsyncFnOnce(&mut Findings),
{
    let mut findings = Findings::default();
    if tokio::time::timeout(SERVICE_LIMIT, check(&mut findings))
        .await
        .is_err()
    {
        findings.fail_fix(
            format!("no answer within {} s", SERVICE_LIMIT.as_secs()),
            "check the service's address and this server's network",
        );
    }
    findings.into_check(key, service)
}

/// Checks every service at once; one result per service, in a fixed order.
pub async fn check_all(config: &Config, today: NaiveDate) -> Vec<ServiceCheck> {
    let samo = async {
        match &config.samo {
            None => not_configured(
                "samo",
                "SAMO (tour search)",
                "set SAMO_API_URL and SAMO_OAUTH_TOKEN to search tours",
            ),
            Some(samo) => {
                checked("samo", "SAMO (tour search)", async |f| {
                    check_samo(samo, today, f).await
                })
                .await
            }
        }
    };
    let telegram = async {
        match &config.telegram {
            None => not_configured("telegram", "Telegram", "TELEGRAM_BOT_TOKEN"),
            Some(t) => {
                checked("telegram", "Telegram", async |f| {
                    check_telegram(t, config.public_url.as_deref(), f).await
                })
                .await
            }
        }
    };
    let wazzup = async {
        match &config.wazzup {
            None => not_configured(
                "wazzup",
                "Wazzup (WhatsApp)",
                "set WAZZUP_API_KEY to talk on WhatsApp",
            ),
            Some(w) => {
                checked("wazzup", "Wazzup (WhatsApp)", async |f| {
                    check_wazzup(w, config, f).await
                })
                .await
            }
        }
    };
    let bitrix = async {
        match &config.bitrix {
            None => not_configured("bitrix24", "Bitrix24 (CRM)", "BITRIX_WEBHOOK_URL"),
            Some(b) => {
                checked("bitrix24", "Bitrix24 (CRM)", async |f| {
                    check_bitrix(b, f).await
                })
                .await
            }
        }
    };
    let llm = async {
        match &config.openai {
            None => not_configured("llm", "OpenAI (LLM)", "OPENAI_API_KEY"),
            Some(o) => checked("llm", "OpenAI (LLM)", async |f| check_llm(o, f).await).await,
        }
    };
    let email = async {
        match &config.email {
            None => not_configured("email", "E-mail (SMTP)", "SMTP_URL and EMAIL_FROM"),
            Some(e) => checked("email", "E-mail (SMTP)", async |f| check_email(e, f).await).await,
        }
    };
    let (samo, telegram, wazzup, bitrix, llm, email) =
        tokio::join!(samo, telegram, wazzup, bitrix, llm, email);
    vec![samo, telegram, wazzup, bitrix, llm, email]
}

/// Checks every configured service, writing the findings to `out`. Returns whether
/// everything configured works.
pub async fn run(config: &Config, today: NaiveDate, out: &mut dyn Write) -> bool {
    let checks = check_all(config, today).await;
    let _ = writeln!(out, "crystalbay doctor");
    write_report(&checks, out);
    checks.iter().all(|c| c.ok)
}

/// The checks as text: per service, the verdict line, then the findings.
pub fn write_report(checks: &[ServiceCheck], out: &mut dyn Write) {
    for c in checks {
        let word = match (c.configured, c.ok) {
            (false, _) => "off",
            (true, true) => "OK",
            (true, false) => "FAIL",
        };
        let fix = c
            .fix
            .as_ref()
            .map(|f| format!(" — fix: {f}"))
            .unwrap_or_default();
        let _ = writeln!(out, "\n{}: {word} — {}{fix}", c.service, c.verdict);
        for f in &c.findings {
            let mark = match f.level {
                Level::Ok => "ok  ",
                Level::Note => "note",
                Level::Fail => "FAIL",
            };
            let _ = writeln!(out, "  {mark}  {}", f.text);
        }
    }
    let broken: Vec<&str> = checks.iter().filter(|c| !c.ok).map(|c| c.service).collect();
    let _ = writeln!(
        out,
        "\n{}",
        if broken.is_empty() {
            "Everything configured works.".to_owned()
        } else {
            format!(
                "Something configured does not work ({}): see FAIL above.",
                broken.join(", ")
            )
        }
    );
}

/// The latest checks, for `/admin/status`.
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    pub at: DateTime<Utc>,
    pub ok: bool,
    pub services: Vec<ServiceCheck>,
}

/// The checks re-run in the background every `STATUS_CHECK_SECS`; the status page shows the
/// latest (none before the first run ends).
#[derive(Clone, Default)]
pub struct Checks {
    latest: Arc<RwLock<Option<Snapshot>>>,
}

impl Checks {
    pub fn latest(&self) -> Option<Snapshot> {
        self.latest.read().expect("not poisoned").clone()
    }

    /// Starts the periodic run (when `STATUS_CHECK_SECS` is not 0): the first at once. A
    /// change is logged once (a service that broke, one that works again), not every run. The
    /// task ends when the last handle to these checks is gone.
    pub fn start(&self, config: &Config) {
        let Some(every) = config.status_check else {
            return;
        };
        let config = config.clone();
        let latest = Arc::downgrade(&self.latest);
        tokio::spawn(async move {
            loop {
                let services = check_all(&config, Utc::now().date_naive()).await;
                let Some(latest) = latest.upgrade() else {
                    return;
                };
                let before = latest.read().expect("not poisoned").clone();
                log_changes(before.as_ref().map(|s| s.services.as_slice()), &services);
                *latest.write().expect("not poisoned") = Some(Snapshot {
                    at: Utc::now(),
                    ok: services.iter().all(|c| c.ok),
                    services,
                });
                drop(latest);
                tokio::time::sleep(every).await;
            }
        });
    }
}

async fn check_samo(samo: &SamoConfig, today: NaiveDate, report: &mut Findings) {
    let token = samo.oauth_token.expose_secret();
    let usual = token.len() == 32
        && token
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
    report.ok("token present (SAMO_OAUTH_TOKEN, not shown)");
    if !usual {
        report.note("the token is not 32 lower-case hex characters, as SAMO tokens usually are");
    }
    if samo.proxy.is_some() {
        report.note("calls go through SAMO_PROXY");
    }
    let tours = match Tours::new(&samo.tours_settings()) {
        Ok(tours) => tours,
        Err(e) => return report.fail(e.to_string()),
    };
    let catalog = tours.catalog();
    let endpoint = tours.client().endpoint();

    let cities = match catalog.entries(Dictionary::DepartureCities).await {
        Ok(cities) => cities,
        Err(e) => {
            return report.fail_fix(
                format!("{endpoint}: {e}"),
                "check SAMO_API_URL and SAMO_OAUTH_TOKEN; a 403 means this server's IP is not on the operator's allow-list (ask them, or set SAMO_PROXY)",
            );
        }
    };
    report.ok(format!(
        "{endpoint} answers: {} departure cities ({})",
        cities.len(),
        list(cities.iter().map(|c| c.row.name.as_str()))
    ));

    let (from_name, from) = match catalog.departure_city("Almaty").await {
        Ok(row) => ("Almaty", row),
        Err(SearchFailure::NotOffered { .. }) => match cities.first() {
            Some(first) => {
                report.note(format!(
                    "no departures from Almaty; the checks below use «{}»",
                    first.row.name
                ));
                (first.row.name.as_str(), first.row.clone())
            }
            None => return report.fail("the operator lists no departure city at all"),
        },
        Err(e) => return report.fail(e.to_string()),
    };
    let country = match catalog.country(from.id, "Vietnam").await {
        Ok(country) => {
            report.ok(format!(
                "Vietnam is sold from «{}»: «{}» (id {})",
                from.name, country.name, country.id
            ));
            country
        }
        Err(e) => return report.fail(failure_text(&e)),
    };

    let resorts = Dictionary::Resorts {
        from: from.id,
        country: country.id,
    };
    match catalog.entries(resorts).await {
        Ok(towns) => {
            report.ok(format!(
                "{} resorts in «{}» ({})",
                towns.len(),
                country.name,
                list(towns.iter().map(|t| t.row.name.as_str()))
            ));
            let mut known = Vec::new();
            let mut missing = Vec::new();
            for resort in VIETNAM_RESORTS {
                match catalog.resort(from.id, country.id, resort).await {
                    Ok(_) => known.push(*resort),
                    Err(_) => missing.push(*resort),
                }
            }
            report.ok(format!("resorts recognised by name: {}", known.join(", ")));
            if !missing.is_empty() {
                report.note(format!(
                    "not sold by the operator (customers asking are offered the others): {}",
                    missing.join(", ")
                ));
            }
        }
        Err(e) => report.fail(e.to_string()),
    }
    for (what, dictionary) in [
        (
            "hotels",
            Dictionary::Hotels {
                from: from.id,
                country: country.id,
            },
        ),
        (
            "hotel categories",
            Dictionary::Stars {
                from: from.id,
                country: country.id,
            },
        ),
        (
            "meal plans",
            Dictionary::Meals {
                from: from.id,
                country: country.id,
            },
        ),
    ] {
        match catalog.entries(dictionary).await {
            Ok(rows) => report.ok(format!("{} {what}", rows.len())),
            Err(e) => report.fail(e.to_string()),
        }
    }
    match catalog.currency(from.id, country.id, &samo.currency).await {
        Ok(row) => report.ok(format!(
            "prices in {} (SAMO_CURRENCY): currency id {}",
            samo.currency, row.id
        )),
        Err(e) => report.fail(format!(
            "{} (set SAMO_CURRENCY to one of them)",
            failure_text(&e)
        )),
    }

    let first_day = today
        .with_day(1)
        .and_then(|d| d.checked_add_months(Months::new(1)))
        .unwrap_or(today);
    let last_day = first_day
        .checked_add_months(Months::new(1))
        .and_then(|d| d.pred_opt())
        .unwrap_or(first_day);
    let query = SearchQuery {
        departure_city: from_name.to_owned(),
        country: "Vietnam".into(),
        resorts: Vec::new(),
        hotels: Vec::new(),
        date_from: first_day,
        date_to: last_day,
        nights_from: 7,
        nights_to: 7,
        adults: 2,
        child_ages: vec![],
        budget_max: None,
        budget_currency: None,
        stars: None,
        meal: None,
        sort: SortOrder::PriceAsc,
    };
    let what = format!(
        "sample search {} → Vietnam, check-in {first_day}…{last_day}, 7 nights, 2 adults",
        from.name
    );
    match tours
        .search(
            &query,
            PageRequest {
                offset: 0,
                limit: 100,
            },
        )
        .await
    {
        Ok(page) => {
            report.summary(format!(
                "{} answers; a sample search found {}{} offers",
                endpoint,
                page.offers.len(),
                if page.more { "+" } else { "" }
            ));
            let cheapest = page
                .offers
                .first()
                .map(|o| format!("; cheapest: {}, {} {}", o.hotel, o.price, o.currency))
                .unwrap_or_default();
            report.ok(format!(
                "{what}: {}{} offers{cheapest}",
                page.offers.len(),
                if page.more { "+" } else { "" }
            ));
            if page.offers.is_empty() {
                report.note("no offers for these dates: the endpoint works, but check the operator's season");
            }
        }
        Err(e) => report.fail(format!("{what}: {}", failure_text(&e))),
    }
}

/// The Vietnamese resorts the analyser knows (canonical names).
const VIETNAM_RESORTS: &[&str] = &[
    "Nha Trang",
    "Cam Ranh",
    "Phu Quoc",
    "Phan Thiet",
    "Da Nang",
    "Hoi An",
    "Ho Chi Minh City",
    "Hanoi",
    "Ha Long",
    "Da Lat",
    "Quy Nhon",
    "Vung Tau",
];

async fn check_wazzup(wazzup: &WazzupConfig, config: &Config, report: &mut Findings) {
    report.ok("API key present (WAZZUP_API_KEY, not shown)");
    let client = match channels::wazzup::WazzupClient::new(
        &wazzup.api_url,
        wazzup.api_key.expose_secret(),
    ) {
        Ok(client) => client,
        Err(e) => return report.fail(format!("HTTP client: {e}")),
    };
    let (channels, webhook) = tokio::join!(client.channels(), client.webhook());
    match channels {
        Ok(channels) => {
            let active = channels.iter().filter(|c| c.state == "active").count();
            report.ok(format!(
                "{} answers: {} channels",
                wazzup.api_url,
                channels.len()
            ));
            report.summary(format!("{active} of {} channels active", channels.len()));
            for c in &channels {
                let line = format!(
                    "{} {} is {}",
                    c.transport,
                    c.plain_id.as_deref().unwrap_or(&c.channel_id),
                    c.state
                );
                if c.state == "active" {
                    report.ok(line);
                } else {
                    report.note(line);
                }
            }
            if active == 0 {
                report.fail_fix(
                    "no active channel: messages cannot be sent",
                    "open the Wazzup24 account and reconnect the WhatsApp channel (scan the QR code)",
                );
            }
        }
        Err(e) => report.fail_fix(
            e.to_string(),
            "check WAZZUP_API_KEY (Wazzup24 → Integrations → API)",
        ),
    }
    match (webhook, crate::commands::wazzup::webhook_uri(config)) {
        (Err(e), _) => report.fail_fix(
            format!("the webhook setting cannot be read: {e}"),
            "check WAZZUP_API_KEY",
        ),
        (Ok(_), Err(why)) => report.note(format!("inbound messages cannot be received: {why}")),
        (Ok((None, _)), Ok(_)) => report.fail_fix(
            "no webhook is set: customers' messages do not reach the bot",
            "run `crystalbay wazzup register-webhook`",
        ),
        (Ok((Some(uri), delivers)), Ok(ours)) => {
            if uri != ours {
                report.fail_fix(
                    format!(
                        "the webhook points at {}, not at this engine ({}/…)",
                        without_secret(&uri),
                        without_secret(&ours)
                    ),
                    "run `crystalbay wazzup register-webhook`",
                );
            } else if !delivers {
                report.fail_fix(
                    "the webhook is ours but does not deliver messages and statuses",
                    "run `crystalbay wazzup register-webhook`",
                );
            } else {
                report.ok(format!(
                    "the webhook points at this engine ({}/…)",
                    without_secret(&ours)
                ));
            }
        }
    }
}

/// A webhook address without its last segment (the secret).
fn without_secret(uri: &str) -> &str {
    uri.rsplit_once('/').map_or(uri, |(base, _)| base)
}

/// The webhook, its `crm` scope, the pipeline and each of the nine stages
/// ([`actors::crm::check`](fn@actors::crm::check::check), the same check the admin status shows).
async fn check_bitrix(bitrix: &BitrixConfig, report: &mut Findings) {
    let settings = crate::startup::crm::settings_of(bitrix);
    let client = match actors::crm::bitrix::BitrixClient::new(
        &settings.webhook_url,
        std::time::Duration::from_secs(20),
        settings.rate_per_sec,
        settings.burst,
    ) {
        Ok(client) => client,
        Err(e) => return report.fail(format!("HTTP client: {e}")),
    };
    let (check, _) = actors::crm::check(&client, &settings.sync).await;
    for verdict in check.verdicts() {
        if verdict.ok {
            report.ok(verdict.text);
        } else {
            report.fail(verdict.text);
        }
    }
    if !check.ok() {
        report.fix = Some(
            "check BITRIX_WEBHOOK_URL (an incoming webhook with the `crm` scope), BITRIX_DEAL_CATEGORY and BITRIX_STAGE_*; held commands go out by themselves once the portal is right".into(),
        );
    }
}

/// Logs what changed since the last run, once: a service that broke or broke differently (a
/// warning with the fix), one that works again. Nothing while nothing changes.
fn log_changes(before: Option<&[ServiceCheck]>, now: &[ServiceCheck]) {
    for c in now {
        let was = before.and_then(|b| b.iter().find(|p| p.key == c.key));
        match (was, c.ok) {
            (Some(p), false) if !p.ok && p.verdict == c.verdict => {}
            (_, false) => tracing::warn!(
                service = c.key,
                verdict = %c.verdict,
                fix = c.fix.as_deref().unwrap_or(""),
                "service check failed"
            ),
            (Some(p), true) if !p.ok => {
                tracing::info!(service = c.key, verdict = %c.verdict, "service works again")
            }
            _ => {}
        }
    }
}

/// `getMe`, `getWebhookInfo` and the managers' chat.
async fn check_telegram(t: &TelegramConfig, public_url: Option<&str>, report: &mut Findings) {
    let bot = match crate::channels::telegram::bot::api(t) {
        Ok(bot) => bot,
        Err(e) => return report.fail(e.to_string()),
    };
    let me = match bot.get_me().await {
        Ok(me) => me,
        Err(e) => {
            return report.fail_fix(
                e.to_string(),
                "check TELEGRAM_BOT_TOKEN (BotFather gives it: /mybots → API Token)",
            );
        }
    };
    let username = me.user.username.clone().unwrap_or_default();
    report.ok(format!("the token works: @{username} (id {})", me.user.id));
    match bot.get_webhook_info().await {
        Err(e) => report.fail(e.to_string()),
        Ok(info) => {
            let set = info.url.as_ref().map(|u| u.to_string());
            match public_url {
                Some(public) => {
                    let ours = format!("{}/webhooks/telegram", public.trim_end_matches('/'));
                    match set.as_deref() {
                        Some(url) if url == ours => report.ok(format!("webhook mode: Telegram delivers to {ours}")),
                        Some(url) => report.fail_fix(
                            format!("Telegram delivers to {url}, not to {ours}"),
                            "restart the engine: it sets the webhook to PUBLIC_URL at start (or fix PUBLIC_URL)",
                        ),
                        None => report.fail_fix(
                            format!("no webhook is set: Telegram does not deliver to {ours}"),
                            "start the engine with PUBLIC_URL and TELEGRAM_WEBHOOK_SECRET: it sets the webhook at start",
                        ),
                    }
                }
                None => match set {
                    Some(url) => report.note(format!(
                        "a webhook is set ({url}) but PUBLIC_URL is not: the engine polls, and deletes the webhook at start"
                    )),
                    None => report.ok("polling mode (no PUBLIC_URL): the engine fetches updates itself"),
                },
            }
            if info.pending_update_count > 0 {
                report.note(format!(
                    "{} updates wait to be delivered",
                    info.pending_update_count
                ));
            }
            if let Some(message) = &info.last_error_message {
                let at = info
                    .last_error_date
                    .map(|d| format!(" at {}", d.format("%Y-%m-%d %H:%M UTC")))
                    .unwrap_or_default();
                let recent = info
                    .last_error_date
                    .is_none_or(|d| Utc::now() - d < chrono::Duration::hours(1));
                let line = format!("Telegram's last delivery to the webhook failed{at}: {message}");
                if recent && public_url.is_some() {
                    report.fail_fix(
                        line,
                        "make PUBLIC_URL reachable from the internet over HTTPS with a valid certificate (Telegram accepts ports 443, 80, 88 and 8443)",
                    );
                } else {
                    report.note(line);
                }
            }
        }
    }
    match t.managers_chat_id {
        None => report.note(
            "TELEGRAM_MANAGERS_CHAT_ID not set: escalations are not announced in a managers' chat",
        ),
        Some(chat) => match bot.get_chat_member(chat, me.user.id).await {
            Ok(member) if member.is_present() => report.ok(format!(
                "the managers' chat {chat} is reachable (the bot is a member)"
            )),
            Ok(_) => report.fail_fix(
                format!("the bot is not a member of the managers' chat {chat}"),
                "add the bot to the managers' group",
            ),
            Err(e) => report.fail_fix(
                format!("the managers' chat {chat} cannot be reached: {e}"),
                "add the bot to the managers' group and set TELEGRAM_MANAGERS_CHAT_ID to its id (a group's id is negative)",
            ),
        },
    }
}

/// `GET {base}/models`; where there is none, a one-token completion.
async fn check_llm(o: &OpenAiConfig, report: &mut Findings) {
    let http = match reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
    {
        Ok(http) => http,
        Err(e) => return report.fail(format!("HTTP client: {e}")),
    };
    let base = o.base_url.trim_end_matches('/');
    let key = o.api_key.expose_secret();
    let refused = |status: reqwest::StatusCode, body: &str| {
        let message = serde_json::from_str::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
            .unwrap_or_default();
        format!("{base} answered HTTP {status} {message}")
    };
    let models = match http
        .get(format!("{base}/models"))
        .bearer_auth(key)
        .send()
        .await
    {
        Ok(r) => r,
        Err(e) => {
            return report.fail_fix(
                format!("{base} cannot be reached: {}", without_url(&e)),
                "check OPENAI_BASE_URL and this server's network",
            );
        }
    };
    let status = models.status();
    let body = models.text().await.unwrap_or_default();
    if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
        return report.fail_fix(refused(status, &body), "check OPENAI_API_KEY");
    }
    if status.is_success() {
        let ids: Vec<String> = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["data"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|m| m["id"].as_str().map(str::to_owned))
            .collect();
        if ids.contains(&o.model) {
            report.ok(format!("the key works; model {} is offered", o.model));
            return;
        }
        if !ids.is_empty() {
            return report.fail_fix(
                format!(
                    "model {} is not offered; the API has: {}",
                    o.model,
                    list(ids.iter().map(String::as_str))
                ),
                "set OPENAI_MODEL to one of them",
            );
        }
    }
    // No usable model list (some compatible APIs have none): one token of a completion.
    let answer = http
        .post(format!("{base}/chat/completions"))
        .bearer_auth(key)
        .json(&serde_json::json!({
            "model": o.model,
            "messages": [{"role": "user", "content": "ping"}],
            "max_tokens": 1,
        }))
        .send()
        .await;
    match answer {
        Err(e) => report.fail_fix(
            format!("{base} cannot be reached: {}", without_url(&e)),
            "check OPENAI_BASE_URL and this server's network",
        ),
        Ok(r) if r.status().is_success() => {
            report.ok(format!("a one-token completion with {} works", o.model))
        }
        Ok(r) => {
            let status = r.status();
            let body = r.text().await.unwrap_or_default();
            report.fail_fix(
                refused(status, &body),
                "check OPENAI_API_KEY, OPENAI_BASE_URL and OPENAI_MODEL",
            )
        }
    }
}

/// A reqwest error's text with its cause (the URL holds no secret: the key is a header).
fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(source) = std::error::Error::source(e) {
        text.push_str(&format!(": {source}"));
    }
    text
}

/// Connect, TLS, AUTH, QUIT: no mail is sent.
async fn check_email(e: &EmailConfig, report: &mut Findings) {
    let (Some(url), Some(from)) = (&e.smtp_url, &e.from) else {
        let missing = match (&e.smtp_url, &e.from) {
            (None, None) => "SMTP_URL and EMAIL_FROM are",
            (None, _) => "SMTP_URL is",
            _ => "EMAIL_FROM is",
        };
        return report.fail_fix(
            format!("{missing} not set: e-mail customers get no answer"),
            "set SMTP_URL (smtps://user:pass@host:465) and EMAIL_FROM",
        );
    };
    let url = url.expose_secret();
    let (host, tls) = smtp_shape(url);
    let sender = match channels::email::outbound::EmailSender::new(url, from) {
        Ok(sender) => sender,
        Err(e) => return report.fail_fix(e.to_string(), "fix SMTP_URL or EMAIL_FROM"),
    };
    match sender.check_connection().await {
        Ok(()) => {
            report.ok(format!("{host} answers; {tls}"));
            if url.contains('@') {
                report.ok("the server accepted the user and password (AUTH)");
            } else {
                report.note("no user in SMTP_URL: sent without AUTH (a local relay)");
            }
            report.summary(format!(
                "{host}: connected, {tls}, replies can be sent from {from}"
            ));
        }
        Err(why) => {
            let why = why.to_string();
            let fix = if why.contains("535") || why.to_lowercase().contains("auth") {
                "check the user and password in SMTP_URL (percent-encoded; many providers want an app password)"
            } else {
                "check the host and port in SMTP_URL, and that this server may connect to it"
            };
            report.fail_fix(format!("{host}: {why}"), fix);
        }
    }
}

/// `host:port` of an SMTP URL (no credentials), and how it is protected.
fn smtp_shape(url: &str) -> (String, &'static str) {
    let (scheme, rest) = url.split_once("://").unwrap_or(("smtp", url));
    let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let host = rest.split(['?', '/']).next().unwrap_or(rest).to_owned();
    let tls = if scheme == "smtps" {
        "TLS from the first byte"
    } else if url.contains("tls=required") {
        "STARTTLS required"
    } else if url.contains("tls=opportunistic") {
        "STARTTLS when offered"
    } else {
        "no TLS (local relays only)"
    };
    (host, tls)
}

fn failure_text(failure: &SearchFailure) -> String {
    match failure {
        SearchFailure::NotOffered {
            field,
            value,
            alternatives,
        } => {
            let field = match field {
                SearchField::DepartureCity => "departure city",
                SearchField::Country => "country",
                SearchField::Resort => "resort",
                SearchField::Meal => "meal plan",
                SearchField::Stars => "hotel category",
                SearchField::Dates => "dates",
                SearchField::Currency => "currency",
            };
            format!(
                "the operator has no {field} «{value}»; it has: {}",
                list(alternatives.iter().map(String::as_str))
            )
        }
        SearchFailure::Unavailable { cause } => cause.clone(),
    }
}

/// Up to eight names, then how many more.
fn list<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.collect();
    let mut text = names.iter().take(8).copied().collect::<Vec<_>>().join(", ");
    if names.len() > 8 {
        text.push_str(&format!(" and {} more", names.len() - 8));
    }
    text
}

#[cfg(test)]
mod tests {
    #[test]
    fn long_lists_are_cut() {
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
        assert_eq!(
            super::list(names.into_iter()),
            "a, b, c, d, e, f, g, h and 2 more"
        );
    }

    #[test]
    fn every_vietnam_resort_has_spellings() {
        for resort in super::VIETNAM_RESORTS {
            let spellings =
                actors::tours::names::spellings(actors::tours::names::Kind::Resort, resort);
            assert!(spellings.len() > 1, "{resort}");
        }
    }
}
