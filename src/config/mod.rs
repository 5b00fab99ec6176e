//! Configuration: typed, from an optional `crystalbay.toml` and the environment (the
//! environment wins). The key names are the public interface: [`keys`] declares each once (name,
//! meaning, default, secret or not), and docs/configuration.md holds the table generated from it.
//!
//! Each integration is on when its credentials are present, and off otherwise. An invalid value
//! stops start-up with an error naming the key. Secrets are `SecretString`: never printed, not
//! even by `Debug`.

use secrecy::SecretString;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

pub mod keys;
pub use keys::{KEYS, Key};

/// A configuration value that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("invalid {key}: {problem}")]
    Invalid { key: String, problem: String },
    #[error("cannot read {path}: {problem}")]
    File { path: String, problem: String },
}

fn invalid(key: &str, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_owned(),
        problem: problem.into(),
    }
}

/// The whole configuration of one engine process.
#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub http_addr: SocketAddr,
    /// `ADMIN_TOKEN` (also the first of `admin_tokens`, named `admin`).
    pub admin_token: Option<SecretString>,
    /// Every token of the admin API: `ADMIN_TOKEN` as `admin`, then `ADMIN_TOKENS`.
    pub admin_tokens: Vec<AdminToken>,
    /// Admin API requests per minute allowed to each token.
    pub admin_rate_per_minute: u32,
    /// Where the world reaches us; webhooks are registered under it.
    pub public_url: Option<String>,
    pub telegram: Option<TelegramConfig>,
    pub wazzup: Option<WazzupConfig>,
    pub samo: Option<SamoConfig>,
    pub bitrix: Option<BitrixConfig>,
    pub openai: Option<OpenAiConfig>,
    pub email: Option<EmailConfig>,
    /// How long a conversation actor may sit idle before it is stopped.
    pub conversation_idle: Duration,
    /// Messages of one chat within this window are answered together.
    pub burst_window: Duration,
    /// Offers shown at a time.
    pub offers_per_page: usize,
    /// A chat with a manager returns to the bot after this long without manager activity.
    pub handoff_quiet: Duration,
    pub working_hours: dialogs::hours::WorkingHours,
    pub timezone: chrono::FixedOffset,
    /// Lower case, trimmed, non-empty.
    pub escalation_keywords: Vec<String>,
    /// An unclaimed escalation is announced again after this long.
    pub escalation_remind: Duration,
    /// The countries the agency sells, canonical English names ("Vietnam"); never empty.
    pub sold_countries: Vec<String>,
    /// How often the status page's service checks run (`None`: never).
    pub status_check: Option<Duration>,
    /// How replies are retried, paced and given up.
    pub outbox: OutboxConfig,
    /// How the HTTP server protects itself from slow and idle clients.
    pub server: ServerConfig,
}

/// `OUTBOX_*`: how replies are retried, paced and given up.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxConfig {
    pub deadline: Duration,
    pub retry_base: Duration,
    pub retry_max: Duration,
    pub breaker_failures: u32,
}

impl OutboxConfig {
    /// The channel actors' settings.
    pub fn settings(&self) -> actors::outbound::OutboxSettings {
        actors::outbound::OutboxSettings {
            deadline: self.deadline,
            retry_base: self.retry_base,
            retry_max: self.retry_max,
            breaker_failures: self.breaker_failures,
            ..Default::default()
        }
    }

    fn from_values(get: Get) -> Result<Self, ConfigError> {
        use keys::*;
        Ok(Self {
            deadline: positive_secs(get, &OUTBOX_DEADLINE_SECS)?,
            retry_base: Duration::from_millis(parsed(
                get,
                &OUTBOX_RETRY_BASE_MS,
                |ms: &u64| *ms > 0,
                "must be a positive number of milliseconds",
            )?),
            retry_max: positive_secs(get, &OUTBOX_RETRY_MAX_SECS)?,
            breaker_failures: parsed(
                get,
                &OUTBOX_BREAKER_FAILURES,
                |n: &u32| (1..=1000).contains(n),
                "must be a number from 1 to 1000",
            )?,
        })
    }
}

/// `HTTP_*`: bounds on what clients may hold.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerConfig {
    pub max_connections: usize,
    pub header_timeout: Duration,
    pub body_timeout: Duration,
}

impl ServerConfig {
    fn from_values(get: Get) -> Result<Self, ConfigError> {
        use keys::*;
        Ok(Self {
            max_connections: parsed(
                get,
                &HTTP_MAX_CONNECTIONS,
                |n: &usize| (1..=1_000_000).contains(n),
                "must be a number from 1 to 1000000",
            )?,
            header_timeout: positive_secs(get, &HTTP_HEADER_TIMEOUT_SECS)?,
            body_timeout: positive_secs(get, &HTTP_BODY_TIMEOUT_SECS)?,
        })
    }
}

/// Reads a key: its configured value, else its declared default (`None`: neither).
type Get<'a> = &'a dyn Fn(&Key) -> Option<String>;

/// `key`'s value (or its default) as a `T` that `ok` accepts; otherwise an error naming the key.
fn parsed<T: std::str::FromStr>(
    get: Get,
    key: &Key,
    ok: impl Fn(&T) -> bool,
    problem: &str,
) -> Result<T, ConfigError> {
    get(key)
        .and_then(|v| v.parse::<T>().ok())
        .filter(ok)
        .ok_or_else(|| invalid(key.name, problem))
}

/// A positive number of seconds (fractions allowed) under `key` (or its default).
fn positive_secs(get: Get, key: &Key) -> Result<Duration, ConfigError> {
    parsed(
        get,
        key,
        |s: &f64| s.is_finite() && *s > 0.0 && *s <= 10.0 * 365.0 * 86_400.0,
        "must be a positive number of seconds",
    )
    .map(Duration::from_secs_f64)
}

/// What a bearer token of the admin API may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Everything: prompts and templates, the CRM outbox, status, and what managers do.
    Admin,
    /// Conversations (read, take over, write, release), escalations, leads.
    Manager,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
        }
    }
}

/// A named bearer token of the admin API. The name is recorded with every change made with it
/// (author of a prompt version, who took or released a chat).
#[derive(Debug, Clone)]
pub struct AdminToken {
    pub name: String,
    pub role: Role,
    pub token: SecretString,
}

/// The shortest token accepted: guessing 16 random characters is out of reach.
const MIN_TOKEN_CHARS: usize = 16;

#[derive(Debug, Clone)]
pub struct TelegramConfig {
    pub bot_token: SecretString,
    pub api_url: String,
    pub webhook_secret: Option<SecretString>,
    pub managers_chat_id: Option<i64>,
    /// Messages per second overall (Telegram's limit is 30; a load test lifts it).
    pub sends_per_sec: u32,
}

#[derive(Debug, Clone)]
pub struct WazzupConfig {
    pub api_key: SecretString,
    pub api_url: String,
    pub webhook_secret: Option<SecretString>,
    /// API calls per second (the account allows 500 per 5 s; a load test lifts it).
    pub sends_per_sec: u32,
}

#[derive(Debug, Clone)]
pub struct SamoConfig {
    pub api_url: String,
    pub oauth_token: SecretString,
    pub proxy: Option<String>,
    /// Longest wait for one SAMO answer.
    pub timeout: Duration,
    /// How long dictionaries are kept (refreshed in the background after half of it).
    pub dictionary_ttl: Duration,
    /// How long search results are kept.
    pub search_cache_ttl: Duration,
    /// Outbound pace, calls per second.
    pub requests_per_sec: f64,
    /// SAMO calls in flight at most.
    pub max_concurrent: usize,
    /// ISO code of the currency prices are shown in.
    pub currency: String,
    /// The countries the agency sells (a copy of [`Config::sold_countries`]).
    pub sold_countries: Vec<String>,
}

impl SamoConfig {
    /// The Tours actor's settings.
    pub fn tours_settings(&self) -> actors::tours::ToursSettings {
        actors::tours::ToursSettings {
            api_url: self.api_url.clone(),
            oauth_token: self.oauth_token.clone(),
            proxy: self.proxy.clone(),
            timeout: self.timeout,
            dictionary_ttl: self.dictionary_ttl,
            search_cache_ttl: self.search_cache_ttl,
            requests_per_sec: Some(self.requests_per_sec),
            max_concurrent: self.max_concurrent,
            currency: self.currency.clone(),
            sold_countries: self.sold_countries.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct BitrixConfig {
    /// The URL is the secret (it carries the webhook code).
    pub webhook_url: SecretString,
    /// The deal pipeline by name; `None`: the one that holds the nine stages.
    pub deal_category: Option<String>,
    /// A lead per conversation instead of a contact and a deal.
    pub use_leads: bool,
    /// How often the portal is re-read while a set-up problem holds commands.
    pub setup_recheck: Duration,
    /// The pipeline's stage names, first to last (the bot sets the first four).
    pub stage_names: [String; 9],
    pub rate_per_sec: f64,
    pub burst: u32,
    pub retry_base: Duration,
    pub max_attempts: i32,
}

/// The stage keys, in pipeline order (their defaults: `actors::crm::DEFAULT_STAGE_NAMES`).
const BITRIX_STAGE_KEYS: [Key; 9] = [
    keys::BITRIX_STAGE_NEW,
    keys::BITRIX_STAGE_CONSULTATION,
    keys::BITRIX_STAGE_TOUR_SELECTION,
    keys::BITRIX_STAGE_OFFER,
    keys::BITRIX_STAGE_INTEGRATIONS,
    keys::BITRIX_STAGE_PAID,
    keys::BITRIX_STAGE_ACCEPTED,
    keys::BITRIX_STAGE_CONFIRMED,
    keys::BITRIX_STAGE_DONE,
];

#[derive(Debug, Clone)]
pub struct OpenAiConfig {
    pub api_key: SecretString,
    pub base_url: String,
    pub model: String,
    /// Bound on one whole call (the client's retries included); past it the rules path answers.
    pub timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct EmailConfig {
    pub smtp_url: Option<SecretString>,
    pub from: Option<String>,
    pub webhook_secret: Option<SecretString>,
    pub managers_email: Option<String>,
}

impl Config {
    /// Reads `crystalbay.toml` (or the file named by `CRYSTALBAY_CONFIG`) when present, then the
    /// process environment on top.
    pub fn from_env() -> Result<Config, ConfigError> {
        let file = std::env::var("CRYSTALBAY_CONFIG").unwrap_or_else(|_| "crystalbay.toml".into());
        let path = Path::new(&file);
        let file_values = if path.exists() {
            read_toml(path)?
        } else {
            BTreeMap::new()
        };
        Config::from_values(file_values, std::env::vars())
    }

    /// The configuration from file values overlaid with environment values. Pure: tests use it
    /// without touching the process environment.
    pub fn from_values(
        file: BTreeMap<String, String>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        use keys::*;
        let mut values = file;
        for (k, v) in env {
            if keys::find(&k).is_some() {
                values.insert(k, v);
            }
        }
        // An empty value counts as unset, as it does for most tools.
        values.retain(|_, v| !v.trim().is_empty());
        let get = |key: &Key| {
            values
                .get(key.name)
                .map(|v| v.trim().to_owned())
                .or_else(|| key.default.map(str::to_owned))
        };
        let secret = |key: &Key| {
            debug_assert!(key.secret, "{} is not declared secret", key.name);
            get(key).map(SecretString::from)
        };
        // For keys declared with a default (always `Some`).
        let value = |key: &Key| get(key).unwrap_or_default();

        let database_url = value(&DATABASE_URL);
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres:")
            || database_url.starts_with("postgresql:"))
        {
            return Err(invalid(
                DATABASE_URL.name,
                "must start with sqlite:// or postgres://",
            ));
        }
        let http_addr = value(&HTTP_ADDR).parse().map_err(|e| {
            invalid(
                HTTP_ADDR.name,
                format!("expected host:port such as 127.0.0.1:8080 ({e})"),
            )
        })?;
        let public_url = get(&PUBLIC_URL)
            .map(|u| http_url(PUBLIC_URL.name, &u))
            .transpose()?;

        // Pacing of a channel's sends: a whole number of calls per second.
        let sends_per_sec = |key: &Key| {
            parsed(
                &get,
                key,
                |n: &u32| (1..=1_000_000).contains(n),
                "must be a whole number of calls per second, at least 1",
            )
        };
        let telegram = match secret(&TELEGRAM_BOT_TOKEN) {
            None => None,
            Some(bot_token) => Some(TelegramConfig {
                bot_token,
                api_url: http_url(TELEGRAM_API_URL.name, &value(&TELEGRAM_API_URL))?,
                webhook_secret: telegram_webhook_secret(
                    get(&TELEGRAM_WEBHOOK_SECRET),
                    public_url.is_some(),
                )?,
                managers_chat_id: get(&TELEGRAM_MANAGERS_CHAT_ID)
                    .map(|v| {
                        v.parse::<i64>().map_err(|_| {
                            invalid(
                                TELEGRAM_MANAGERS_CHAT_ID.name,
                                "must be an integer chat id such as -1001234567890",
                            )
                        })
                    })
                    .transpose()?,
                sends_per_sec: sends_per_sec(&TELEGRAM_SENDS_PER_SEC)?,
            }),
        };
        let wazzup = match secret(&WAZZUP_API_KEY) {
            None => None,
            Some(api_key) => Some(WazzupConfig {
                api_key,
                api_url: http_url(WAZZUP_API_URL.name, &value(&WAZZUP_API_URL))?,
                webhook_secret: secret(&WAZZUP_WEBHOOK_SECRET),
                sends_per_sec: sends_per_sec(&WAZZUP_SENDS_PER_SEC)?,
            }),
        };
        let sold_countries = sold_countries(get(&SOLD_COUNTRIES).as_deref());
        let samo = match (get(&SAMO_API_URL), secret(&SAMO_OAUTH_TOKEN)) {
            (None, None) => None,
            (Some(_), None) => {
                return Err(invalid(
                    SAMO_OAUTH_TOKEN.name,
                    "is required when SAMO_API_URL is set",
                ));
            }
            (None, Some(_)) => {
                return Err(invalid(
                    SAMO_API_URL.name,
                    "is required when SAMO_OAUTH_TOKEN is set: the operator's full endpoint URL, e.g. https://…/export/default.php",
                ));
            }
            (Some(url), Some(oauth_token)) => {
                let secs = |key: &Key| {
                    parsed(
                        &get,
                        key,
                        |s: &u64| *s > 0,
                        "must be a positive number of seconds",
                    )
                    .map(Duration::from_secs)
                };
                let currency = value(&SAMO_CURRENCY);
                if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_alphabetic()) {
                    return Err(invalid(
                        SAMO_CURRENCY.name,
                        "must be an ISO currency code such as KZT or USD",
                    ));
                }
                Some(SamoConfig {
                    api_url: http_url(SAMO_API_URL.name, &url)?,
                    oauth_token,
                    proxy: get(&SAMO_PROXY)
                        .map(|p| http_url(SAMO_PROXY.name, &p))
                        .transpose()?,
                    timeout: secs(&SAMO_TIMEOUT_SECS)?,
                    dictionary_ttl: secs(&SAMO_DICTIONARY_TTL_SECS)?,
                    search_cache_ttl: secs(&SAMO_SEARCH_CACHE_SECS)?,
                    requests_per_sec: parsed(
                        &get,
                        &SAMO_REQUESTS_PER_SEC,
                        |r: &f64| r.is_finite() && *r > 0.0 && *r <= 1000.0,
                        "must be a positive number of calls per second such as 2 or 0.5",
                    )?,
                    max_concurrent: parsed(
                        &get,
                        &SAMO_MAX_CONCURRENT,
                        |n: &usize| (1..=256).contains(n),
                        "must be a whole number from 1 to 256",
                    )?,
                    currency: currency.to_ascii_uppercase(),
                    sold_countries: sold_countries.clone(),
                })
            }
        };
        let bitrix = match get(&BITRIX_WEBHOOK_URL) {
            None => None,
            Some(url) => {
                // Validated, but never echoed: the URL carries the webhook code.
                if !(url.starts_with("https://") || url.starts_with("http://"))
                    || !url.contains("/rest/")
                {
                    return Err(invalid(
                        BITRIX_WEBHOOK_URL.name,
                        "must look like https://<portal>/rest/<user id>/<webhook code>/",
                    ));
                }
                let number = |key: &Key, range: std::ops::RangeInclusive<f64>| {
                    let problem =
                        format!("must be a number from {} to {}", range.start(), range.end());
                    parsed(&get, key, |n: &f64| range.contains(n), &problem)
                };
                let stage_names = BITRIX_STAGE_KEYS.map(|key| value(&key));
                Some(BitrixConfig {
                    webhook_url: SecretString::from(url),
                    deal_category: get(&BITRIX_DEAL_CATEGORY),
                    use_leads: match value(&BITRIX_USE_LEADS).to_lowercase().as_str() {
                        "true" | "1" | "yes" | "on" => true,
                        "false" | "0" | "no" | "off" => false,
                        _ => {
                            return Err(invalid(BITRIX_USE_LEADS.name, "must be true or false"));
                        }
                    },
                    setup_recheck: Duration::from_secs_f64(number(
                        &BITRIX_SETUP_RECHECK_SECS,
                        0.05..=86_400.0,
                    )?),
                    stage_names,
                    rate_per_sec: number(&BITRIX_RATE_PER_SEC, 0.1..=1000.0)?,
                    burst: number(&BITRIX_BURST, 1.0..=10_000.0)? as u32,
                    retry_base: Duration::from_millis(number(
                        &BITRIX_RETRY_BASE_MS,
                        1.0..=600_000.0,
                    )? as u64),
                    max_attempts: number(&BITRIX_MAX_ATTEMPTS, 1.0..=100.0)? as i32,
                })
            }
        };
        let openai = match secret(&OPENAI_API_KEY) {
            None => None,
            Some(api_key) => Some(OpenAiConfig {
                api_key,
                base_url: http_url(OPENAI_BASE_URL.name, &value(&OPENAI_BASE_URL))?,
                model: value(&OPENAI_MODEL),
                timeout: Duration::from_secs(parsed(
                    &get,
                    &OPENAI_TIMEOUT_SECS,
                    |s: &u64| (1..=600).contains(s),
                    "must be a whole number of seconds from 1 to 600",
                )?),
            }),
        };
        let email_from = get(&EMAIL_FROM)
            .map(|a| email_address(EMAIL_FROM.name, &a))
            .transpose()?;
        let managers_email = get(&MANAGERS_EMAIL)
            .map(|a| email_address(MANAGERS_EMAIL.name, &a))
            .transpose()?;
        let smtp_url = get(&SMTP_URL);
        if let Some(url) = &smtp_url {
            if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
                return Err(invalid(
                    SMTP_URL.name,
                    "must start with smtp:// or smtps://",
                ));
            }
            if email_from.is_none() {
                return Err(invalid(EMAIL_FROM.name, "is required when SMTP_URL is set"));
            }
        }
        let email_webhook_secret = secret(&EMAIL_WEBHOOK_SECRET);
        let email =
            if smtp_url.is_some() || email_webhook_secret.is_some() || managers_email.is_some() {
                Some(EmailConfig {
                    smtp_url: smtp_url.map(SecretString::from),
                    from: email_from,
                    webhook_secret: email_webhook_secret,
                    managers_email,
                })
            } else {
                None
            };
        let whole_secs = |key: &Key| {
            parsed(
                &get,
                key,
                |s: &u64| *s > 0,
                "must be a positive number of seconds",
            )
            .map(Duration::from_secs)
        };
        let burst_window = Duration::from_millis(parsed(
            &get,
            &BURST_WINDOW_MS,
            |ms: &u64| *ms <= 60_000,
            "must be a number of milliseconds from 0 to 60000",
        )?);
        let offers_per_page = parsed(
            &get,
            &OFFERS_PER_PAGE,
            |n: &usize| (1..=10).contains(n),
            "must be a number from 1 to 10",
        )?;
        let working_hours = dialogs::hours::WorkingHours::parse(&value(&WORKING_HOURS))
            .map_err(|e| invalid(WORKING_HOURS.name, e.to_string()))?;
        let timezone = parse_timezone(&value(&MANAGER_TIMEZONE)).ok_or_else(|| {
            invalid(
                MANAGER_TIMEZONE.name,
                "must be a Kazakhstan zone such as Asia/Almaty, UTC, or an offset like +05:00",
            )
        })?;
        let escalation_keywords = get(&ESCALATION_KEYWORDS)
            .map(|v| {
                v.split(',')
                    .map(|k| k.trim().to_lowercase().replace('ё', "е"))
                    .filter(|k| !k.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let status_check = parsed(
            &get,
            &STATUS_CHECK_SECS,
            |_: &u64| true,
            "must be a number of seconds (0: never)",
        )
        .map(|secs| (secs > 0).then(|| Duration::from_secs(secs.max(10))))?;
        let admin_token = secret(&ADMIN_TOKEN);
        let admin_tokens = admin_tokens(admin_token.as_ref(), get(&ADMIN_TOKENS).as_deref())?;
        let admin_rate_per_minute = parsed(
            &get,
            &ADMIN_RATE_LIMIT,
            |n: &u32| (1..=100_000).contains(n),
            "must be a number of requests per minute from 1 to 100000",
        )?;
        Ok(Config {
            outbox: OutboxConfig::from_values(&get)?,
            server: ServerConfig::from_values(&get)?,
            database_url,
            http_addr,
            admin_token,
            admin_tokens,
            admin_rate_per_minute,
            public_url,
            telegram,
            wazzup,
            samo,
            bitrix,
            openai,
            email,
            conversation_idle: whole_secs(&CONVERSATION_IDLE_SECS)?,
            burst_window,
            offers_per_page,
            handoff_quiet: whole_secs(&HANDOFF_QUIET_SECS)?,
            working_hours,
            timezone,
            escalation_keywords,
            escalation_remind: whole_secs(&ESCALATION_REMIND_SECS)?,
            sold_countries,
            status_check,
        })
    }
}

/// A time zone as a fixed offset: Kazakhstan's zones (all UTC+5 since March 2024), `UTC`, or
/// `+05:00` / `UTC+5` forms.
fn parse_timezone(tz: &str) -> Option<chrono::FixedOffset> {
    let tz = tz.trim();
    const KAZAKHSTAN: &[&str] = &[
        "Asia/Almaty",
        "Asia/Qostanay",
        "Asia/Aqtau",
        "Asia/Aqtobe",
        "Asia/Atyrau",
        "Asia/Oral",
        "Asia/Qyzylorda",
    ];
    if KAZAKHSTAN.iter().any(|z| z.eq_ignore_ascii_case(tz)) {
        return chrono::FixedOffset::east_opt(5 * 3600);
    }
    let offset = tz
        .strip_prefix("UTC")
        .or_else(|| tz.strip_prefix("GMT"))
        .unwrap_or(tz);
    if offset.is_empty() {
        return chrono::FixedOffset::east_opt(0);
    }
    let (sign, rest) = match offset.as_bytes().first()? {
        b'+' => (1, &offset[1..]),
        b'-' => (-1, &offset[1..]),
        _ => return None,
    };
    let (h, m) = match rest.split_once(':') {
        Some((h, m)) => (h.parse::<i32>().ok()?, m.parse::<i32>().ok()?),
        None => (rest.parse::<i32>().ok()?, 0),
    };
    if !(0..=14).contains(&h) || !(0..60).contains(&m) {
        return None;
    }
    chrono::FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

/// The admin API's tokens: `ADMIN_TOKEN` (named `admin`, admin role), then each
/// `name:role:token` of `ADMIN_TOKENS`. Names and tokens are unique; tokens have at least
/// [`MIN_TOKEN_CHARS`] characters and no spaces or commas.
fn admin_tokens(
    admin_token: Option<&SecretString>,
    more: Option<&str>,
) -> Result<Vec<AdminToken>, ConfigError> {
    use secrecy::ExposeSecret;
    let mut tokens = Vec::new();
    if let Some(token) = admin_token {
        if token.expose_secret().chars().count() < MIN_TOKEN_CHARS {
            return Err(invalid(
                keys::ADMIN_TOKEN.name,
                format!("must have at least {MIN_TOKEN_CHARS} characters"),
            ));
        }
        tokens.push(AdminToken {
            name: "admin".into(),
            role: Role::Admin,
            token: token.clone(),
        });
    }
    const KEY: &str = keys::ADMIN_TOKENS.name;
    for (n, entry) in more
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .enumerate()
    {
        let n = n + 1;
        let mut parts = entry.splitn(3, ':');
        let (Some(name), Some(role), Some(token)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid(
                KEY,
                format!("entry {n} must look like name:role:token (role admin or manager)"),
            ));
        };
        let (name, token) = (name.trim(), token.trim());
        if name.is_empty()
            || name.chars().count() > 64
            || !name
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            return Err(invalid(
                KEY,
                format!("entry {n}: the name must be 1 to 64 letters, digits, `_`, `-` or `.`"),
            ));
        }
        let role = match role.trim() {
            "admin" => Role::Admin,
            "manager" => Role::Manager,
            _ => {
                return Err(invalid(
                    KEY,
                    format!("entry {n} ({name}): the role must be admin or manager"),
                ));
            }
        };
        if token.chars().count() < MIN_TOKEN_CHARS || token.contains(char::is_whitespace) {
            return Err(invalid(
                KEY,
                format!(
                    "entry {n} ({name}): the token must have at least {MIN_TOKEN_CHARS} characters and no spaces"
                ),
            ));
        }
        if tokens.iter().any(|t: &AdminToken| t.name == name) {
            return Err(invalid(
                KEY,
                format!("entry {n}: the name {name} is used twice (`admin` is ADMIN_TOKEN's)"),
            ));
        }
        if tokens.iter().any(|t| t.token.expose_secret() == token) {
            return Err(invalid(
                KEY,
                format!("entry {n} ({name}): this token is already another name's"),
            ));
        }
        tokens.push(AdminToken {
            name: name.to_owned(),
            role,
            token: SecretString::from(token.to_owned()),
        });
    }
    Ok(tokens)
}

/// `SOLD_COUNTRIES` as canonical English names ("вьетнам, Turkey" → Vietnam, Turkey); a name
/// we do not know is kept as written. Unset: Vietnam.
fn sold_countries(value: Option<&str>) -> Vec<String> {
    use actors::tours::names::{Kind, canonical};
    let mut sold: Vec<String> = Vec::new();
    for name in value.unwrap_or("Vietnam").split(',').map(str::trim) {
        let name = canonical(Kind::Country, name, None).map_or(name, |c| c);
        if !name.is_empty() && !sold.iter().any(|s| s == name) {
            sold.push(name.to_owned());
        }
    }
    if sold.is_empty() {
        sold.push("Vietnam".into());
    }
    sold
}

/// Reads the flat keys of a TOML file (same names as the environment, any case).
fn read_toml(path: &Path) -> Result<BTreeMap<String, String>, ConfigError> {
    let file_err = |problem: String| ConfigError::File {
        path: path.display().to_string(),
        problem,
    };
    let text = std::fs::read_to_string(path).map_err(|e| file_err(e.to_string()))?;
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| file_err(e.to_string()))?;
    let mut values = BTreeMap::new();
    for (key, value) in table {
        let upper = key.to_ascii_uppercase();
        let Some(declared) = keys::find(&upper) else {
            return Err(file_err(format!("unknown key `{key}`")));
        };
        let value = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            // `admin_tokens = ["name:role:token", …]` (and `sold_countries = [...]`) reads
            // like the comma-separated string.
            toml::Value::Array(items) if declared.list && items.iter().all(toml::Value::is_str) => {
                items
                    .iter()
                    .filter_map(toml::Value::as_str)
                    .collect::<Vec<_>>()
                    .join(",")
            }
            other => {
                return Err(file_err(format!(
                    "`{key}` must be a string or a number, not {}",
                    other.type_str()
                )));
            }
        };
        values.insert(upper, value);
    }
    Ok(values)
}

fn http_url(key: &str, url: &str) -> Result<String, ConfigError> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| invalid(key, "must be an http:// or https:// URL"))?;
    if rest.is_empty() || rest.starts_with('/') || rest.contains(char::is_whitespace) {
        return Err(invalid(key, "must name a host, e.g. https://example.com"));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// Telegram accepts 1–256 characters `A-Z a-z 0-9 _ -` as a webhook secret; webhook mode
/// (`PUBLIC_URL` set) needs one, or anyone could post updates to the webhook.
fn telegram_webhook_secret(
    value: Option<String>,
    webhook_mode: bool,
) -> Result<Option<SecretString>, ConfigError> {
    const KEY: &str = keys::TELEGRAM_WEBHOOK_SECRET.name;
    match value {
        None if webhook_mode => Err(invalid(
            KEY,
            "is required with PUBLIC_URL (Telegram webhook mode); e.g. 32 random letters and digits",
        )),
        None => Ok(None),
        Some(v)
            if v.len() <= 256
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') =>
        {
            Ok(Some(SecretString::from(v)))
        }
        Some(_) => Err(invalid(
            KEY,
            "must be 1 to 256 characters A-Z, a-z, 0-9, _ or -",
        )),
    }
}

fn email_address(key: &str, address: &str) -> Result<String, ConfigError> {
    match address.split_once('@') {
        Some((local, domain))
            if !local.is_empty()
                && domain.contains('.')
                && !address.contains(char::is_whitespace) =>
        {
            Ok(address.to_owned())
        }
        _ => Err(invalid(
            key,
            "must be an email address such as bot@agency.kz",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    #[test]
    fn nothing_configured_gives_the_embedded_defaults() {
        let c = Config::from_values(BTreeMap::new(), env(&[])).unwrap();
        assert_eq!(c.database_url, "sqlite://data/crystalbay.db");
        assert_eq!(c.http_addr.to_string(), "127.0.0.1:8080");
        assert!(c.telegram.is_none() && c.wazzup.is_none() && c.samo.is_none());
        assert!(c.bitrix.is_none() && c.openai.is_none() && c.email.is_none());
    }

    #[test]
    fn every_declared_default_is_a_valid_value() {
        let all = env(&[
            ("TELEGRAM_BOT_TOKEN", "1:x"),
            ("WAZZUP_API_KEY", "k"),
            ("SAMO_API_URL", "https://samo.example/export/default.php"),
            ("SAMO_OAUTH_TOKEN", "t"),
            ("BITRIX_WEBHOOK_URL", "https://p.bitrix24.kz/rest/1/code/"),
            ("OPENAI_API_KEY", "sk-test"),
            ("EMAIL_WEBHOOK_SECRET", "s"),
        ]);
        let c = Config::from_values(BTreeMap::new(), all).unwrap();
        assert_eq!(c.conversation_idle, Duration::from_secs(1800));
        assert_eq!(c.burst_window, Duration::from_millis(1500));
        assert_eq!(c.offers_per_page, 5);
        assert_eq!(c.handoff_quiet, Duration::from_secs(12 * 3600));
        assert_eq!(c.escalation_remind, Duration::from_secs(600));
        assert_eq!(c.status_check, Some(Duration::from_secs(600)));
        assert_eq!(c.timezone, actors::turns::almaty());
        assert_eq!(c.admin_rate_per_minute, 600);
        assert!(c.escalation_keywords.is_empty());
        let b = c.bitrix.unwrap();
        assert_eq!(
            b.stage_names,
            actors::crm::DEFAULT_STAGE_NAMES.map(String::from)
        );
        assert_eq!(b.retry_base, Duration::from_secs(1));
    }

    #[test]
    fn the_environment_wins_over_the_file() {
        let file = BTreeMap::from([("HTTP_ADDR".to_owned(), "0.0.0.0:1".to_owned())]);
        let c = Config::from_values(file, env(&[("HTTP_ADDR", "127.0.0.1:9999")])).unwrap();
        assert_eq!(c.http_addr.port(), 9999);
    }

    #[test]
    fn integrations_switch_on_with_their_credentials() {
        let c = Config::from_values(
            BTreeMap::new(),
            env(&[
                ("WAZZUP_API_KEY", "k"),
                ("SAMO_API_URL", "http://127.0.0.1:1/export/default.php"),
                ("SAMO_OAUTH_TOKEN", "0123456789abcdef0123456789abcdef"),
            ]),
        )
        .unwrap();
        assert_eq!(c.wazzup.unwrap().api_url, "https://api.wazzup24.com");
        assert_eq!(
            c.samo.unwrap().oauth_token.expose_secret(),
            "0123456789abcdef0123456789abcdef"
        );
    }

    #[test]
    fn the_llm_has_defaults_and_a_configurable_timeout() {
        let c =
            Config::from_values(BTreeMap::new(), env(&[("OPENAI_API_KEY", "sk-test")])).unwrap();
        let openai = c.openai.unwrap();
        assert_eq!(openai.base_url, "https://api.openai.com/v1");
        assert_eq!(openai.model, "gpt-4o");
        assert_eq!(openai.timeout, Duration::from_secs(15));
        let c = Config::from_values(
            BTreeMap::new(),
            env(&[("OPENAI_API_KEY", "sk-test"), ("OPENAI_TIMEOUT_SECS", "5")]),
        )
        .unwrap();
        assert_eq!(c.openai.unwrap().timeout, Duration::from_secs(5));
    }

    #[test]
    fn an_invalid_value_names_its_key() {
        let cases = [
            ("HTTP_ADDR", "localhost"),
            ("DATABASE_URL", "mysql://x"),
            ("PUBLIC_URL", "bot.example"),
            ("TELEGRAM_MANAGERS_CHAT_ID", "managers"),
            ("CONVERSATION_IDLE_SECS", "0"),
            ("OPENAI_TIMEOUT_SECS", "15s"),
            ("OPENAI_TIMEOUT_SECS", "0"),
        ];
        for (key, value) in cases {
            let mut pairs = vec![(key, value)];
            if key == "TELEGRAM_MANAGERS_CHAT_ID" {
                pairs.push(("TELEGRAM_BOT_TOKEN", "1:x"));
            }
            if key == "OPENAI_TIMEOUT_SECS" {
                pairs.push(("OPENAI_API_KEY", "sk-test"));
            }
            let err = Config::from_values(BTreeMap::new(), env(&pairs)).unwrap_err();
            assert!(err.to_string().contains(key), "{key}: {err}");
        }
        let err =
            Config::from_values(BTreeMap::new(), env(&[("SAMO_OAUTH_TOKEN", "t")])).unwrap_err();
        assert!(err.to_string().contains("SAMO_API_URL"));
        let samo_cases = [
            ("SAMO_TIMEOUT_SECS", "0"),
            ("SAMO_DICTIONARY_TTL_SECS", "six hours"),
            ("SAMO_SEARCH_CACHE_SECS", "-1"),
            ("SAMO_REQUESTS_PER_SEC", "0"),
            ("SAMO_MAX_CONCURRENT", "0"),
            ("SAMO_CURRENCY", "tenge"),
            ("SAMO_PROXY", "proxy:3128"),
        ];
        for (key, value) in samo_cases {
            let pairs = [
                ("SAMO_API_URL", "http://127.0.0.1:1/export/default.php"),
                ("SAMO_OAUTH_TOKEN", "t"),
                (key, value),
            ];
            let err = Config::from_values(BTreeMap::new(), env(&pairs)).unwrap_err();
            assert!(err.to_string().contains(key), "{key}: {err}");
        }
    }

    #[test]
    fn samo_settings_have_defaults_and_can_be_tuned() {
        let base = [
            ("SAMO_API_URL", "https://samo.example/export/default.php"),
            ("SAMO_OAUTH_TOKEN", "0123456789abcdef0123456789abcdef"),
        ];
        let samo = Config::from_values(BTreeMap::new(), env(&base))
            .unwrap()
            .samo
            .unwrap();
        assert_eq!(samo.timeout, Duration::from_secs(20));
        assert_eq!(samo.dictionary_ttl, Duration::from_secs(6 * 3600));
        assert_eq!(samo.search_cache_ttl, Duration::from_secs(900));
        assert_eq!((samo.requests_per_sec, samo.max_concurrent), (2.0, 4));
        assert_eq!(samo.currency, "KZT");
        let mut tuned = base.to_vec();
        tuned.extend([
            ("SAMO_TIMEOUT_SECS", "5"),
            ("SAMO_REQUESTS_PER_SEC", "0.5"),
            ("SAMO_MAX_CONCURRENT", "2"),
            ("SAMO_CURRENCY", "usd"),
            ("SAMO_PROXY", "http://10.0.0.1:3128"),
        ]);
        let settings = Config::from_values(BTreeMap::new(), env(&tuned))
            .unwrap()
            .samo
            .unwrap()
            .tours_settings();
        assert_eq!(settings.timeout, Duration::from_secs(5));
        assert_eq!(settings.requests_per_sec, Some(0.5));
        assert_eq!(settings.max_concurrent, 2);
        assert_eq!(settings.currency, "USD");
        assert_eq!(settings.proxy.as_deref(), Some("http://10.0.0.1:3128"));
        assert_eq!(settings.sold_countries, ["Vietnam"], "the default");
    }

    #[test]
    fn sold_countries_are_canonical_english_names() {
        let sold = |value: &str| {
            Config::from_values(BTreeMap::new(), env(&[("SOLD_COUNTRIES", value)]))
                .unwrap()
                .sold_countries
        };
        assert_eq!(sold(""), ["Vietnam"]);
        assert_eq!(
            sold("вьетнам, Turkey,, Таиланд"),
            ["Vietnam", "Turkey", "Thailand"]
        );
        assert_eq!(sold("Vietnam, Cuba"), ["Vietnam", "Cuba"]);
        let file = BTreeMap::from([("SOLD_COUNTRIES".to_owned(), "Vietnam,Thailand".to_owned())]);
        let c = Config::from_values(
            file,
            env(&[
                ("SAMO_API_URL", "https://samo.example/export/default.php"),
                ("SAMO_OAUTH_TOKEN", "0123456789abcdef0123456789abcdef"),
            ]),
        )
        .unwrap();
        assert_eq!(c.sold_countries, ["Vietnam", "Thailand"]);
        assert_eq!(
            c.samo.unwrap().tours_settings().sold_countries,
            ["Vietnam", "Thailand"]
        );
    }

    #[test]
    fn telegram_webhook_mode_needs_a_valid_secret() {
        let with = |pairs: &[(&str, &str)]| {
            let mut all = vec![("TELEGRAM_BOT_TOKEN", "1:x")];
            all.extend_from_slice(pairs);
            Config::from_values(BTreeMap::new(), env(&all))
        };
        let polling = with(&[]).unwrap().telegram.unwrap();
        assert_eq!(polling.api_url, "https://api.telegram.org");
        assert!(polling.webhook_secret.is_none());
        let missing = with(&[("PUBLIC_URL", "https://bot.example.kz")]).unwrap_err();
        assert!(missing.to_string().contains("TELEGRAM_WEBHOOK_SECRET"));
        let bad = with(&[("TELEGRAM_WEBHOOK_SECRET", "not allowed!")]).unwrap_err();
        assert!(bad.to_string().contains("TELEGRAM_WEBHOOK_SECRET"));
        let ok = with(&[
            ("PUBLIC_URL", "https://bot.example.kz/"),
            ("TELEGRAM_WEBHOOK_SECRET", "Abc_123-xyz"),
        ])
        .unwrap();
        assert_eq!(ok.public_url.as_deref(), Some("https://bot.example.kz"));
        assert_eq!(
            ok.telegram.unwrap().webhook_secret.unwrap().expose_secret(),
            "Abc_123-xyz"
        );
    }

    #[test]
    fn email_replies_need_an_smtp_url_and_a_sender() {
        let c = Config::from_values(
            BTreeMap::new(),
            env(&[
                ("SMTP_URL", "smtps://bot:smtp-password@smtp.example.kz"),
                ("EMAIL_FROM", "tours@crystalbay.kz"),
                ("EMAIL_WEBHOOK_SECRET", "mail-secret"),
            ]),
        )
        .unwrap();
        let email = c.email.clone().unwrap();
        assert_eq!(email.from.as_deref(), Some("tours@crystalbay.kz"));
        assert!(!format!("{c:?}").contains("smtp-password"));
        let no_from = Config::from_values(
            BTreeMap::new(),
            env(&[("SMTP_URL", "smtp://smtp.example.kz:587?tls=required")]),
        )
        .unwrap_err();
        assert!(no_from.to_string().contains("EMAIL_FROM"), "{no_from}");
        let wrong_scheme = Config::from_values(
            BTreeMap::new(),
            env(&[
                ("SMTP_URL", "https://smtp.example.kz"),
                ("EMAIL_FROM", "tours@crystalbay.kz"),
            ]),
        )
        .unwrap_err();
        assert!(
            wrong_scheme.to_string().contains("SMTP_URL"),
            "{wrong_scheme}"
        );
        // Inbound only: replies wait in the outbox until SMTP is configured.
        let inbound_only =
            Config::from_values(BTreeMap::new(), env(&[("EMAIL_WEBHOOK_SECRET", "s")])).unwrap();
        assert!(inbound_only.email.unwrap().smtp_url.is_none());
    }

    #[test]
    fn secrets_are_not_printed_by_debug() {
        let c = Config::from_values(
            BTreeMap::new(),
            env(&[
                ("ADMIN_TOKEN", "super-secret-admin"),
                (
                    "BITRIX_WEBHOOK_URL",
                    "https://p.bitrix24.kz/rest/1/codecode/",
                ),
            ]),
        )
        .unwrap();
        let printed = format!("{c:?}");
        assert!(!printed.contains("super-secret-admin"));
        assert!(!printed.contains("codecode"));
    }

    #[test]
    fn no_key_declared_secret_is_printed_by_debug() {
        // A valid value for each secret key, each holding a marker that must not be printed.
        let samples = [
            ("ADMIN_TOKEN", "hidden-admin-token-0"),
            ("ADMIN_TOKENS", "ops:manager:hidden-ops-token-1"),
            ("TELEGRAM_BOT_TOKEN", "1:hidden-2"),
            ("TELEGRAM_WEBHOOK_SECRET", "hidden-3"),
            ("WAZZUP_API_KEY", "hidden-4"),
            ("WAZZUP_WEBHOOK_SECRET", "hidden-5"),
            ("SAMO_OAUTH_TOKEN", "hidden-6"),
            (
                "BITRIX_WEBHOOK_URL",
                "https://p.bitrix24.kz/rest/1/hidden-7/",
            ),
            ("OPENAI_API_KEY", "hidden-8"),
            ("SMTP_URL", "smtps://bot:hidden-9@smtp.example.kz"),
            ("EMAIL_WEBHOOK_SECRET", "hidden-10"),
        ];
        for key in KEYS.iter().filter(|k| k.secret) {
            assert!(
                samples.iter().any(|(name, _)| *name == key.name),
                "give {} a sample value here",
                key.name
            );
        }
        let mut pairs = samples.to_vec();
        pairs.extend([
            ("SAMO_API_URL", "https://samo.example/export/default.php"),
            ("EMAIL_FROM", "tours@crystalbay.kz"),
        ]);
        let c = Config::from_values(BTreeMap::new(), env(&pairs)).unwrap();
        assert!(c.telegram.is_some() && c.wazzup.is_some() && c.samo.is_some());
        assert!(c.bitrix.is_some() && c.openai.is_some() && c.email.is_some());
        assert_eq!(c.admin_tokens.len(), 2);
        let printed = format!("{c:?}");
        assert!(!printed.contains("hidden"), "{printed}");
    }

    #[test]
    fn bitrix_settings_have_defaults_and_are_checked() {
        let url = (
            "BITRIX_WEBHOOK_URL",
            "https://p.bitrix24.kz/rest/1/codecode/",
        );
        let c = Config::from_values(BTreeMap::new(), env(&[url])).unwrap();
        let b = c.bitrix.unwrap();
        assert_eq!((b.rate_per_sec, b.burst, b.max_attempts), (2.0, 50, 10));
        assert_eq!(b.stage_names[2], "Подбор тура");
        assert_eq!(b.deal_category, None);
        assert!(!b.use_leads);
        assert_eq!(b.setup_recheck, Duration::from_secs(300));
        let c = Config::from_values(
            BTreeMap::new(),
            env(&[
                url,
                ("BITRIX_DEAL_CATEGORY", "Туры"),
                ("BITRIX_STAGE_OFFER", "КП"),
                ("BITRIX_RATE_PER_SEC", "5"),
                ("BITRIX_BURST", "250"),
                ("BITRIX_USE_LEADS", "TRUE"),
                ("BITRIX_SETUP_RECHECK_SECS", "60"),
            ]),
        )
        .unwrap();
        let b = c.bitrix.unwrap();
        assert!(b.use_leads);
        assert_eq!(b.setup_recheck, Duration::from_secs(60));
        assert_eq!(b.deal_category.as_deref(), Some("Туры"));
        assert_eq!(b.stage_names[3], "КП");
        assert_eq!((b.rate_per_sec, b.burst), (5.0, 250));
        let err = Config::from_values(BTreeMap::new(), env(&[url, ("BITRIX_BURST", "many")]))
            .unwrap_err();
        assert!(err.to_string().contains("BITRIX_BURST"), "{err}");
        let err = Config::from_values(BTreeMap::new(), env(&[url, ("BITRIX_USE_LEADS", "maybe")]))
            .unwrap_err();
        assert!(err.to_string().contains("BITRIX_USE_LEADS"), "{err}");
    }

    #[test]
    fn admin_tokens_have_names_and_roles() {
        let c = Config::from_values(
            BTreeMap::new(),
            env(&[
                ("ADMIN_TOKEN", "admin-token-0123456789"),
                (
                    "ADMIN_TOKENS",
                    "Айдана:manager:manager-token-0123456789, ops:admin:ops:token:0123456789",
                ),
            ]),
        )
        .unwrap();
        let got: Vec<(&str, Role, &str)> = c
            .admin_tokens
            .iter()
            .map(|t| (t.name.as_str(), t.role, t.token.expose_secret()))
            .collect();
        assert_eq!(
            got,
            [
                ("admin", Role::Admin, "admin-token-0123456789"),
                ("Айдана", Role::Manager, "manager-token-0123456789"),
                ("ops", Role::Admin, "ops:token:0123456789"),
            ]
        );
        assert_eq!(c.admin_rate_per_minute, 600);
        for bad in [
            "x:manager",
            "x:boss:token-0123456789abcdef",
            "x:manager:short",
            "a b:manager:token-0123456789abcdef",
            "admin:manager:token-0123456789abcdef",
            "y:manager:admin-token-0123456789",
        ] {
            let err = Config::from_values(
                BTreeMap::new(),
                env(&[
                    ("ADMIN_TOKEN", "admin-token-0123456789"),
                    ("ADMIN_TOKENS", bad),
                ]),
            )
            .unwrap_err();
            assert!(err.to_string().contains("ADMIN_TOKENS"), "{bad}: {err}");
            assert!(!err.to_string().contains("0123456789"), "{bad}: {err}");
        }
        let err =
            Config::from_values(BTreeMap::new(), env(&[("ADMIN_TOKEN", "short")])).unwrap_err();
        assert!(err.to_string().contains("ADMIN_TOKEN"));
    }

    #[test]
    fn admin_tokens_may_be_a_toml_list() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crystalbay.toml");
        std::fs::write(
            &path,
            "admin_tokens = [\"a:manager:aaaaaaaaaaaaaaaaaaaa\", \"b:admin:bbbbbbbbbbbbbbbbbbbb\"]\n",
        )
        .unwrap();
        let c = Config::from_values(read_toml(&path).unwrap(), env(&[])).unwrap();
        assert_eq!(c.admin_tokens.len(), 2);
        assert_eq!(c.admin_tokens[1].role, Role::Admin);
    }

    #[test]
    fn channel_pacing_defaults_to_the_apis_limits_and_can_be_lifted() {
        let keys = [("WAZZUP_API_KEY", "k"), ("TELEGRAM_BOT_TOKEN", "123:abc")];
        let c = Config::from_values(BTreeMap::new(), env(&keys)).unwrap();
        assert_eq!(c.wazzup.unwrap().sends_per_sec, 80);
        assert_eq!(c.telegram.unwrap().sends_per_sec, 30);
        let lifted = [
            keys[0],
            keys[1],
            ("WAZZUP_SENDS_PER_SEC", "5000"),
            ("TELEGRAM_SENDS_PER_SEC", "1000"),
        ];
        let c = Config::from_values(BTreeMap::new(), env(&lifted)).unwrap();
        assert_eq!(c.wazzup.unwrap().sends_per_sec, 5000);
        assert_eq!(c.telegram.unwrap().sends_per_sec, 1000);
        let zero = [keys[0], ("WAZZUP_SENDS_PER_SEC", "0")];
        let err = Config::from_values(BTreeMap::new(), env(&zero)).unwrap_err();
        assert!(err.to_string().contains("WAZZUP_SENDS_PER_SEC"), "{err}");
    }

    #[test]
    fn a_toml_file_is_read_and_unknown_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crystalbay.toml");
        std::fs::write(&path, "http_addr = \"127.0.0.1:7000\"\n").unwrap();
        assert_eq!(read_toml(&path).unwrap()["HTTP_ADDR"], "127.0.0.1:7000");
        std::fs::write(&path, "htp_addr = \"x\"\n").unwrap();
        assert!(
            read_toml(&path)
                .unwrap_err()
                .to_string()
                .contains("htp_addr")
        );
    }

    #[test]
    fn outbox_and_server_bounds_have_defaults_and_are_checked() {
        let c = Config::from_values(BTreeMap::new(), env(&[])).unwrap();
        assert_eq!(c.outbox.deadline, Duration::from_secs(86_400));
        assert_eq!(c.outbox.retry_base, Duration::from_secs(1));
        assert_eq!(c.outbox.retry_max, Duration::from_secs(300));
        assert_eq!(c.outbox.breaker_failures, 5);
        assert_eq!(c.server.max_connections, 1024);
        assert_eq!(c.server.header_timeout, Duration::from_secs(10));
        assert_eq!(c.server.body_timeout, Duration::from_secs(30));
        let c = Config::from_values(
            BTreeMap::new(),
            env(&[
                ("OUTBOX_DEADLINE_SECS", "1.5"),
                ("OUTBOX_RETRY_BASE_MS", "50"),
                ("HTTP_MAX_CONNECTIONS", "200"),
            ]),
        )
        .unwrap();
        assert_eq!(c.outbox.deadline, Duration::from_millis(1500));
        assert_eq!(c.outbox.settings().retry_base, Duration::from_millis(50));
        assert_eq!(c.server.max_connections, 200);
        for (key, bad) in [
            ("OUTBOX_DEADLINE_SECS", "0"),
            ("OUTBOX_RETRY_MAX_SECS", "soon"),
            ("OUTBOX_BREAKER_FAILURES", "0"),
            ("HTTP_MAX_CONNECTIONS", "0"),
            ("HTTP_HEADER_TIMEOUT_SECS", "-1"),
        ] {
            let err = Config::from_values(BTreeMap::new(), env(&[(key, bad)])).unwrap_err();
            assert!(err.to_string().contains(key), "{err}");
        }
    }
}
