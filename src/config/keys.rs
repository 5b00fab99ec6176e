//! Every configuration key, declared once: its name, what it means, its default and whether it
//! is a secret. The parser ([`super::Config::from_values`]) reads values through these
//! constants (a default here is parsed like a configured value), the file reader refuses names
//! that are not here, and [`markdown`] turns them into the table of `docs/configuration.md`
//! (`crystalbay config --markdown`; a test fails when the docs differ).
//!
//! A new key: add it to the `keys!` list below (meaning in Markdown, `default` when it has one,
//! `secret: true` for credentials, `list: true` when the file may give it as a TOML list), read
//! it in `from_values` with `get(&keys::NAME)` (or `secret(&keys::NAME)`), then run
//! `cargo run -- config --markdown` and paste the table into `docs/configuration.md`. A
//! secret also gets a sample value in `no_key_declared_secret_is_printed_by_debug` (the tests
//! of [`super`]), which checks that it never shows in a log.

/// One configuration key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    /// The environment variable; the file takes the same name in any case.
    pub name: &'static str,
    /// One Markdown line for the reference.
    pub meaning: &'static str,
    /// The value used when the key is unset (or empty), parsed like a configured one.
    pub default: Option<&'static str>,
    /// A credential: read into a `SecretString`, never printed or logged.
    pub secret: bool,
    /// The file may give it as a list of strings (read like the comma-separated string).
    pub list: bool,
}

impl Key {
    const BASE: Key = Key {
        name: "",
        meaning: "",
        default: None,
        secret: false,
        list: false,
    };
}

/// Declares each key as a `pub const` [`Key`] named like the variable, and [`KEYS`], all of
/// them in the reference's order.
macro_rules! keys {
    ($($name:ident { $($field:ident: $value:expr),* $(,)? })*) => {
        $(pub const $name: Key = Key { name: stringify!($name), $($field: $value,)* ..Key::BASE };)*
        /// Every key the engine reads, in the reference's order.
        pub const KEYS: &[Key] = &[$($name),*];
    };
}

const STAGES: [&str; 9] = actors::crm::DEFAULT_STAGE_NAMES;

keys! {
    DATABASE_URL {
        meaning: "`sqlite://path/file.db` (created, with its folder) or `postgres://user:pass@host/db`",
        default: Some("sqlite://data/crystalbay.db"),
    }
    HTTP_ADDR {
        meaning: "address of the HTTP server (webhooks, health, admin)",
        default: Some("127.0.0.1:8080"),
    }
    ADMIN_TOKEN {
        meaning: "bearer token of the admin API: admin role, recorded as `admin` (16+ characters)",
        secret: true,
    }
    ADMIN_TOKENS {
        meaning: "more admin API tokens, `name:role:token` separated by commas (role `admin` or `manager`; in the file also a list, `admin_tokens = [\"aidana:manager:…\", …]`)",
        list: true,
        secret: true,
    }
    ADMIN_RATE_LIMIT {
        meaning: "admin API requests per minute for each token (and for failed attempts, together)",
        default: Some("600"),
    }
    PUBLIC_URL {
        meaning: "https URL where this server is reachable; enables webhook registration (Telegram: webhook mode instead of long polling)",
    }
    TELEGRAM_BOT_TOKEN {
        meaning: "Telegram bot token; enables Telegram",
        secret: true,
    }
    TELEGRAM_API_URL {
        meaning: "Telegram Bot API base URL",
        default: Some("https://api.telegram.org"),
    }
    TELEGRAM_WEBHOOK_SECRET {
        meaning: "secret checked in `X-Telegram-Bot-Api-Secret-Token` (1–256 of `A-Z a-z 0-9 _ -`; required with `PUBLIC_URL`)",
        secret: true,
    }
    TELEGRAM_MANAGERS_CHAT_ID {
        meaning: "the managers' Telegram chat (integer id); its messages are never taken for a customer's",
    }
    TELEGRAM_SENDS_PER_SEC {
        meaning: "Telegram messages per second overall (the Bot API allows 30; paid broadcasts more); one per second per chat always",
        default: Some("30"),
    }
    WAZZUP_API_KEY {
        meaning: "Wazzup24 API key; enables WhatsApp through Wazzup",
        secret: true,
    }
    WAZZUP_API_URL {
        meaning: "Wazzup24 API base URL",
        default: Some("https://api.wazzup24.com"),
    }
    WAZZUP_WEBHOOK_SECRET {
        meaning: "secret path segment of `POST /webhooks/wazzup/{secret}`",
        secret: true,
    }
    WAZZUP_SENDS_PER_SEC {
        meaning: "Wazzup24 API calls per second (the account allows 500 per 5 s), in bursts of at most 50",
        default: Some("80"),
    }
    SAMO_API_URL {
        meaning: "full SAMO endpoint, e.g. `https://…/export/default.php` (required with the token)",
    }
    SAMO_OAUTH_TOKEN {
        meaning: "SAMO Online API token; enables tour search",
        secret: true,
    }
    SAMO_PROXY {
        meaning: "HTTP(S) proxy for SAMO (tokens are bound to allow-listed IPs)",
    }
    SAMO_TIMEOUT_SECS {
        meaning: "seconds to wait for one SAMO answer",
        default: Some("20"),
    }
    SAMO_DICTIONARY_TTL_SECS {
        meaning: "seconds SAMO dictionaries (cities, countries, resorts, …) are kept; refreshed in the background after half",
        default: Some("21600"),
    }
    SAMO_SEARCH_CACHE_SECS {
        meaning: "seconds SAMO search results are kept",
        default: Some("900"),
    }
    SAMO_REQUESTS_PER_SEC {
        meaning: "most SAMO calls per second (fractions allowed)",
        default: Some("2"),
    }
    SAMO_MAX_CONCURRENT {
        meaning: "most SAMO calls in flight at once",
        default: Some("4"),
    }
    SAMO_CURRENCY {
        meaning: "ISO code of the currency tour prices are shown in",
        default: Some("KZT"),
    }
    SOLD_COUNTRIES {
        meaning: "countries the agency sells, comma-separated English names (in the file also a list). Other countries are declined with these as the alternatives, never searched; a departure city with no flight to them is declined with the cities that have one (departure cities are the operator's own)",
        default: Some("Vietnam"),
        list: true,
    }
    BITRIX_WEBHOOK_URL {
        meaning: "Bitrix24 incoming webhook `https://<portal>/rest/<user>/<code>/`; enables CRM sync",
        secret: true,
    }
    BITRIX_DEAL_CATEGORY {
        meaning: "name of the deal pipeline the bot's deals go to (any case, `ё` = `е`); unset: the pipeline that holds the nine stages",
    }
    BITRIX_STAGE_NEW {
        meaning: "name of the pipeline's stage for a new request (the bot sets it)",
        default: Some(STAGES[0]),
    }
    BITRIX_STAGE_CONSULTATION {
        meaning: "name of the stage for a consultation (the bot sets it)",
        default: Some(STAGES[1]),
    }
    BITRIX_STAGE_TOUR_SELECTION {
        meaning: "name of the stage while search parameters are collected (the bot sets it)",
        default: Some(STAGES[2]),
    }
    BITRIX_STAGE_OFFER {
        meaning: "name of the stage once offers were shown (the bot sets it)",
        default: Some(STAGES[3]),
    }
    BITRIX_STAGE_INTEGRATIONS {
        meaning: "a managers' later stage (the pipeline must hold it too)",
        default: Some(STAGES[4]),
    }
    BITRIX_STAGE_PAID {
        meaning: "a managers' later stage (the pipeline must hold it too)",
        default: Some(STAGES[5]),
    }
    BITRIX_STAGE_ACCEPTED {
        meaning: "a managers' later stage (the pipeline must hold it too)",
        default: Some(STAGES[6]),
    }
    BITRIX_STAGE_CONFIRMED {
        meaning: "a managers' later stage (the pipeline must hold it too)",
        default: Some(STAGES[7]),
    }
    BITRIX_STAGE_DONE {
        meaning: "a managers' later stage (the pipeline must hold it too)",
        default: Some(STAGES[8]),
    }
    BITRIX_USE_LEADS {
        meaning: "`true`: one Bitrix24 lead per conversation instead of a contact and a deal",
        default: Some("false"),
    }
    BITRIX_RATE_PER_SEC {
        meaning: "Bitrix24 calls per second (the portal's leaky bucket; Enterprise: 5)",
        default: Some("2"),
    }
    BITRIX_BURST {
        meaning: "Bitrix24 calls at once before pacing (Enterprise: 250)",
        default: Some("50"),
    }
    BITRIX_RETRY_BASE_MS {
        meaning: "after an outage (5xx, timeout, refused connection): first retry delay, doubled per attempt, at most 5 min. Limit answers are not attempts",
        default: Some("1000"),
    }
    BITRIX_MAX_ATTEMPTS {
        meaning: "attempts after outages before a Bitrix24 command is `failed`",
        default: Some("10"),
    }
    BITRIX_SETUP_RECHECK_SECS {
        meaning: "how often the portal is re-read while a set-up problem holds commands",
        default: Some("300"),
    }
    OPENAI_API_KEY {
        meaning: "OpenAI-compatible API key; enables the LLM",
        secret: true,
    }
    OPENAI_BASE_URL {
        meaning: "OpenAI-compatible base URL",
        default: Some("https://api.openai.com/v1"),
    }
    OPENAI_MODEL {
        meaning: "model",
        default: Some("gpt-4o"),
    }
    OPENAI_TIMEOUT_SECS {
        meaning: "bound on one LLM call, the client's retries included; past it the rules path answers",
        default: Some("15"),
    }
    SMTP_URL {
        meaning: "SMTP server for replies (needs `EMAIL_FROM`): `smtps://user:pass@host:465` (TLS), `smtp://user:pass@host:587?tls=required` (STARTTLS), `smtp://host:25` (plain, local relays only); user and password percent-encoded",
        secret: true,
    }
    EMAIL_FROM {
        meaning: "sender address of replies; also the domain of their `Message-ID`; mail from it is never taken for a customer's",
    }
    EMAIL_WEBHOOK_SECRET {
        meaning: "secret path segment of `POST /webhooks/email/{secret}`; enables inbound email",
        secret: true,
    }
    MANAGERS_EMAIL {
        meaning: "address that receives escalations by email; mail from it is never taken for a customer's",
    }
    CONVERSATION_IDLE_SECS {
        meaning: "stop an idle conversation actor after this many seconds",
        default: Some("1800"),
    }
    BURST_WINDOW_MS {
        meaning: "messages of one chat that follow each other within this many milliseconds are answered together (`0`: each at once)",
        default: Some("1500"),
    }
    OFFERS_PER_PAGE {
        meaning: "offers shown at a time (1 to 10)",
        default: Some("5"),
    }
    WORKING_HOURS {
        meaning: "managers' hours in `MANAGER_TIMEZONE`; out of hours the bot says when a manager answers",
        default: Some("Mon-Fri 10:00-19:00, Sat 11:00-16:00"),
    }
    MANAGER_TIMEZONE {
        meaning: "the agency's time zone: a Kazakhstan zone such as `Asia/Almaty`, `UTC`, or an offset like `+05:00`",
        default: Some("Asia/Almaty"),
    }
    ESCALATION_KEYWORDS {
        meaning: "comma-separated words or phrases that bring a manager in at once (e.g. `юрист, суд, претензия`)",
    }
    ESCALATION_REMIND_SECS {
        meaning: "an escalation no manager claimed is announced again after this many seconds",
        default: Some("600"),
    }
    HANDOFF_QUIET_SECS {
        meaning: "a chat taken by (or waiting for) a manager returns to the bot after this many seconds without manager activity (43200: 12 h)",
        default: Some("43200"),
    }
    STATUS_CHECK_SECS {
        meaning: "how often `/admin/status` re-runs the `doctor` checks of every configured service in the background (shown as `checks`); `0`: never",
        default: Some("600"),
    }
    OUTBOX_DEADLINE_SECS {
        meaning: "a reply not delivered this long after it was written is escalated to the managers with its text (fractions allowed; 86400: 24 h)",
        default: Some("86400"),
    }
    OUTBOX_RETRY_BASE_MS {
        meaning: "after a failed send (5xx, timeout): first wait, doubled per attempt up to `OUTBOX_RETRY_MAX_SECS`; also the circuit breaker's pauses between probes (at most 30 s). A 429 waits as long as the channel asks instead, and is not an attempt",
        default: Some("1000"),
    }
    OUTBOX_RETRY_MAX_SECS {
        meaning: "the longest wait between send attempts",
        default: Some("300"),
    }
    OUTBOX_BREAKER_FAILURES {
        meaning: "failed sends in a row on one channel that stop its sends until a single probe gets through",
        default: Some("5"),
    }
    HTTP_MAX_CONNECTIONS {
        meaning: "client connections held at most; at the bound a new one closes the oldest idle (or half-sent) one",
        default: Some("1024"),
    }
    HTTP_HEADER_TIMEOUT_SECS {
        meaning: "time a client has to send a request's headers — also the longest a kept-alive connection may sit idle",
        default: Some("10"),
    }
    HTTP_BODY_TIMEOUT_SECS {
        meaning: "time a client has to send a request's body",
        default: Some("30"),
    }
}

/// Looks a key up by its name (upper case).
pub fn find(name: &str) -> Option<&'static Key> {
    KEYS.iter().find(|k| k.name == name)
}

/// The reference table of `docs/configuration.md`, generated from [`KEYS`].
pub fn markdown() -> String {
    let mut out = String::from("| key | meaning | default |\n|---|---|---|\n");
    for key in KEYS {
        let secret = if key.secret { " (secret)" } else { "" };
        let default = key.default.map_or("—".to_owned(), |d| format!("`{d}`"));
        out.push_str(&format!(
            "| `{}` | {}{secret} | {default} |\n",
            key.name, key.meaning
        ));
    }
    out
}

/// The reference as plain text, for a terminal.
pub fn plain() -> String {
    let mut out = String::new();
    for key in KEYS {
        let secret = if key.secret { " (secret)" } else { "" };
        let default = key
            .default
            .map_or(String::new(), |d| format!(" [default: {d}]"));
        out.push_str(&format!(
            "{}{secret}{default}\n    {}\n",
            key.name, key.meaning
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines between the markers of `docs/configuration.md`.
    fn documented() -> String {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/configuration.md");
        let docs = std::fs::read_to_string(path).unwrap();
        let (_, rest) = docs.split_once(BEGIN).expect("the begin marker");
        let (table, _) = rest.split_once(END).expect("the end marker");
        table.trim_start_matches('\n').to_owned()
    }

    const BEGIN: &str = "<!-- BEGIN generated by `crystalbay config --markdown` from src/config/keys.rs: do not edit by hand -->";
    const END: &str = "<!-- END generated -->";

    #[test]
    fn the_docs_hold_the_generated_reference() {
        assert!(
            documented() == markdown(),
            "docs/configuration.md differs from the declaration of the keys: run \
             `cargo run -- config --markdown` and paste its output between the markers"
        );
    }

    #[test]
    fn each_key_is_declared_once() {
        for (i, key) in KEYS.iter().enumerate() {
            assert!(
                KEYS[i + 1..].iter().all(|k| k.name != key.name),
                "{} twice",
                key.name
            );
            assert!(
                !key.meaning.is_empty() && !key.meaning.contains('|'),
                "{key:?}"
            );
            assert!(!(key.secret && key.default.is_some()), "{key:?}");
        }
        assert_eq!(find("HTTP_ADDR"), Some(&HTTP_ADDR));
    }
}
