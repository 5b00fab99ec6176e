//! Logging: human-readable lines on stderr, or JSON with `LOG_FORMAT=json`; the level from
//! `RUST_LOG` (default `info`). Request URLs are never logged by our code (tokens live in
//! some of them), and personal data is masked where it is logged (`dialogs::privacy`).

use tracing_subscriber::EnvFilter;

pub fn init(default_level: &str) {
    // async-openai logs whole response bodies of failed calls (model output may quote the
    // customer); the Llm actor logs each call's outcome itself, with no body.
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("{default_level},async_openai=off")));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let result = if std::env::var("LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    // Already initialised (tests): keep the first.
    let _ = result;
}
