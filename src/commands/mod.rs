//! The command line: `run` (the default), `chat`, `analyze`, `bench`, `doctor`, `config`,
//! `wazzup`; this file parses it and hands over, one module per command that has more to it.
//!
//! - [`chat`]: `crystalbay chat`, the terminal conversation.
//! - [`bench`](mod@bench): `crystalbay bench`, throughput and memory figures.
//! - [`doctor`]: `crystalbay doctor`, what works and what does not in each configured service
//!   (also the status page's periodic checks).
//! - [`wazzup`]: `crystalbay wazzup register-webhook | channels`.

pub mod bench;
pub mod chat;
pub mod doctor;
pub mod wazzup;

use crate::config::Config;
use clap::{Parser, Subcommand};
use std::io::{BufRead, Write};

#[derive(Debug, Parser)]
#[command(name = "crystalbay", version, about = "Crystal Bay conversational engine", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the engine and its HTTP server (the default).
    Run,
    /// Talk to the bot in the terminal, through the whole engine and the configured store.
    Chat {
        /// Which conversation to continue (each chat id is one conversation).
        #[arg(long, default_value = "local")]
        chat_id: String,
    },
    /// Analyse messages: JSONL `{"text": …}` on stdin, one JSON result per line on stdout.
    Analyze {
        /// Reference date for relative dates (YYYY-MM-DD); default: today.
        #[arg(long)]
        today: Option<chrono::NaiveDate>,
    },
    /// Measure the engine: throughput through inbox → conversation → outbox, and memory.
    Bench(crate::commands::bench::BenchArgs),
    /// Check each configured service (SAMO, Wazzup, …) and say what works and what does not.
    /// Exits non-zero when something configured is broken.
    Doctor,
    /// Print every configuration key with its meaning and default.
    Config {
        /// As the Markdown table of docs/configuration.md.
        #[arg(long)]
        markdown: bool,
    },
    /// Wazzup24 account: register the webhook, list channels.
    Wazzup {
        #[command(subcommand)]
        command: WazzupCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum WazzupCommand {
    /// Point the account's webhook at {PUBLIC_URL}/webhooks/wazzup/{WAZZUP_WEBHOOK_SECRET}.
    RegisterWebhook,
    /// List the account's channels and their state.
    Channels,
}

/// Parses the command line and runs the command. Returns the process exit code.
pub fn main() -> anyhow::Result<std::process::ExitCode> {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Run);
    if let Command::Analyze { today } = command {
        // No runtime, no configuration, no network: pure analysis.
        return analyze(today.unwrap_or_else(actors::turns::local_today));
    }
    if let Command::Config { markdown } = command {
        let reference = if markdown {
            crate::config::keys::markdown()
        } else {
            crate::config::keys::plain()
        };
        std::io::stdout().write_all(reference.as_bytes())?;
        return Ok(std::process::ExitCode::SUCCESS);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match command {
            Command::Run => {
                crate::startup::telemetry::init("info");
                let config = load_config()?;
                let app =
                    crate::startup::app::Application::build(config, Default::default()).await?;
                app.run_until(crate::startup::app::shutdown_signal())
                    .await?;
            }
            Command::Chat { chat_id } => {
                crate::startup::telemetry::init("warn");
                let config = load_config()?;
                crate::commands::chat::run(config, chat_id).await?;
            }
            Command::Bench(args) => {
                crate::startup::telemetry::init("warn");
                crate::commands::bench::run(args).await?;
            }
            Command::Doctor => {
                // The findings are the output; call logs would only repeat them.
                crate::startup::telemetry::init("error");
                let config = load_config()?;
                let today = actors::turns::local_today();
                let healthy =
                    crate::commands::doctor::run(&config, today, &mut std::io::stdout()).await;
                if !healthy {
                    return Ok(std::process::ExitCode::FAILURE);
                }
            }
            Command::Wazzup { command } => {
                crate::startup::telemetry::init("warn");
                let config = load_config()?;
                match command {
                    WazzupCommand::RegisterWebhook => {
                        crate::commands::wazzup::register_webhook(&config).await?
                    }
                    WazzupCommand::Channels => {
                        crate::commands::wazzup::list_channels(&config).await?
                    }
                }
            }
            Command::Analyze { .. } | Command::Config { .. } => unreachable!("handled above"),
        }
        Ok(std::process::ExitCode::SUCCESS)
    })
}

fn load_config() -> anyhow::Result<Config> {
    Config::from_env().map_err(|e| anyhow::anyhow!("configuration: {e}"))
}

fn analyze(today: chrono::NaiveDate) -> anyhow::Result<std::process::ExitCode> {
    let stdin = std::io::stdin().lock();
    let out = std::io::BufWriter::new(std::io::stdout().lock());
    analyze_lines(stdin, out, today)?;
    Ok(std::process::ExitCode::SUCCESS)
}

/// The `analyze` loop: each non-blank input line gives one output line, a line that is not
/// UTF-8 an `{"error": …}` line like any other malformed line (`docs/analysis.md`), and the
/// run goes on. Lines end in `\n` or `\r\n`; only a failure to read or write stops it.
pub fn analyze_lines(
    mut input: impl BufRead,
    mut out: impl Write,
    today: chrono::NaiveDate,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    loop {
        buf.clear();
        if input.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        let line = buf
            .strip_suffix(b"\n")
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
            .unwrap_or(&buf);
        let result = match std::str::from_utf8(line) {
            Ok(line) if line.trim().is_empty() => continue,
            Ok(line) => dialogs::analysis::analyze_line(line, today),
            Err(e) => serde_json::json!({ "error": format!("invalid UTF-8: {e}") }),
        };
        serde_json::to_writer(&mut out, &result)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(input: &[u8]) -> Vec<serde_json::Value> {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
        let mut out = Vec::new();
        analyze_lines(input, &mut out, today).unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn analyze_goes_on_after_a_line_that_is_not_utf8() {
        let mut input = b"{\"text\": \"2 \xff\xfe adults\"}\n\n".to_vec();
        input.extend_from_slice("{\"text\": \"в марте\"}\r\n{\"text\": \"hi\"}".as_bytes());
        let out = run(&input);
        assert_eq!(out.len(), 3, "{out:?}");
        assert!(
            out[0]["error"]
                .as_str()
                .unwrap()
                .starts_with("invalid UTF-8"),
            "{}",
            out[0]
        );
        assert_eq!(out[1]["slots"]["date_from"], "2027-03-01");
        assert_eq!(out[2]["intent"], "greeting");
    }
}
