//! `crystalbay doctor` against the fakes of every service: the real binary, its output and its
//! exit status. Healthy fakes: one verdict per service, exit 0. Each broken on purpose (SAMO
//! refuses this server's IP, Telegram delivers elsewhere and failed, Wazzup's webhook is
//! someone else's, Bitrix24's webhook lacks the CRM scope, the LLM has no such model, SMTP
//! refuses the password): one FAIL verdict with its fix per service, exit 1. And the same
//! checks in `/admin/status`.

use crate::support::app::{self, Options};
use crate::support::eventually;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

const PUBLIC_URL: &str = "https://bot.crystalbay.test";
const WAZZUP_SECRET: &str = "wz-secret-0123456789";
const MANAGERS: i64 = -1001234567890;

/// The services' headings, in the order the doctor prints them.
const SERVICES: [&str; 6] = [
    "SAMO (tour search)",
    "Telegram",
    "Wazzup (WhatsApp)",
    "Bitrix24 (CRM)",
    "OpenAI (LLM)",
    "E-mail (SMTP)",
];

struct Fakes {
    samo: Arc<fakes::samo::FakeSamo>,
    telegram: Arc<fakes::telegram::FakeTelegram>,
    wazzup_url: String,
    wazzup: Arc<fakes::wazzup::FakeWazzup>,
    bitrix: Arc<fakes::bitrix::FakeBitrix>,
    openai_url: String,
    smtp: Arc<fakes::smtp::FakeSmtp>,
}

/// Every service, healthy: webhooks point at us.
async fn healthy() -> Fakes {
    let samo = fakes::samo::start().await;
    let telegram = fakes::telegram::start().await;
    *telegram.webhook.lock().unwrap() = Some(
        json!({"url": format!("{PUBLIC_URL}/webhooks/telegram")})
            .as_object()
            .unwrap()
            .clone(),
    );
    let (wazzup_url, wazzup) = fakes::wazzup::start().await;
    *wazzup.webhook.lock().unwrap() = Some(json!({
        "webhooksUri": format!("{PUBLIC_URL}/webhooks/wazzup/{WAZZUP_SECRET}"),
        "subscriptions": {"messagesAndStatuses": true},
    }));
    let bitrix = fakes::bitrix::start().await;
    let (openai_url, _) = fakes::openai::start(fakes::openai::Mode::Text("ok".into())).await;
    let smtp = fakes::smtp::start().await;
    Fakes {
        samo,
        telegram,
        wazzup_url,
        wazzup,
        bitrix,
        openai_url,
        smtp,
    }
}

fn env(f: &Fakes) -> Vec<(&'static str, String)> {
    vec![
        ("PUBLIC_URL", PUBLIC_URL.into()),
        ("SAMO_API_URL", f.samo.url.clone()),
        ("SAMO_OAUTH_TOKEN", fakes::samo::TOKEN.into()),
        ("SAMO_REQUESTS_PER_SEC", "100".into()),
        ("TELEGRAM_BOT_TOKEN", fakes::telegram::TOKEN.into()),
        ("TELEGRAM_API_URL", f.telegram.url.clone()),
        ("TELEGRAM_WEBHOOK_SECRET", "tg-secret_0123456789".into()),
        ("TELEGRAM_MANAGERS_CHAT_ID", MANAGERS.to_string()),
        ("WAZZUP_API_KEY", fakes::wazzup::API_KEY.into()),
        ("WAZZUP_API_URL", f.wazzup_url.clone()),
        ("WAZZUP_WEBHOOK_SECRET", WAZZUP_SECRET.into()),
        ("BITRIX_WEBHOOK_URL", f.bitrix.webhook_url()),
        ("OPENAI_API_KEY", fakes::openai::API_KEY.into()),
        ("OPENAI_BASE_URL", f.openai_url.clone()),
        ("SMTP_URL", f.smtp.url.clone()),
        ("EMAIL_FROM", "bot@crystalbay.test".into()),
    ]
}

/// `crystalbay doctor` with only these variables: its exit code and output.
async fn doctor(env: &[(&'static str, String)]) -> (i32, String) {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_crystalbay"));
    command
        .arg("doctor")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("CRYSTALBAY_CONFIG", "/nonexistent/crystalbay.toml");
    for (k, v) in env {
        command.env(k, v);
    }
    let output = command.output().await.unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    (output.status.code().unwrap_or(-1), text)
}

/// The verdict line of each service: `<service>: <OK|FAIL|off> — …`.
fn verdicts(text: &str) -> Vec<String> {
    SERVICES
        .iter()
        .map(|s| {
            let lines: Vec<&str> = text
                .lines()
                .filter(|l| l.starts_with(&format!("{s}: ")))
                .collect();
            assert_eq!(lines.len(), 1, "one verdict line for {s} in:\n{text}");
            lines[0].to_owned()
        })
        .collect()
}

#[tokio::test]
async fn doctor_checks_every_service_for_real_and_exits_0_only_when_all_work() {
    let f = healthy().await;
    let env = env(&f);
    let (code, text) = doctor(&env).await;
    assert_eq!(code, 0, "{text}");
    for line in verdicts(&text) {
        assert!(line.contains(": OK — "), "{line}\n{text}");
    }
    for expected in [
        "ok    the token works: @crystalbay_test_bot",
        "ok    webhook mode: Telegram delivers to https://bot.crystalbay.test/webhooks/telegram",
        "ok    the managers' chat -1001234567890 is reachable",
        "ok    the webhook points at this engine (https://bot.crystalbay.test/webhooks/wazzup/…)",
        "ok    the key works; model gpt-4o is offered",
        "ok    the server accepted the user and password (AUTH)",
        "ok    the webhook has the `crm` scope",
        "Everything configured works.",
    ] {
        assert!(text.contains(expected), "missing «{expected}» in:\n{text}");
    }
    for secret in [
        fakes::telegram::TOKEN,
        fakes::samo::TOKEN,
        fakes::wazzup::API_KEY,
        fakes::openai::API_KEY,
        fakes::smtp::PASSWORD,
        WAZZUP_SECRET,
        fakes::bitrix::CODE,
    ] {
        assert!(!text.contains(secret), "a secret in the output:\n{text}");
    }
    assert_eq!(f.smtp.received_for("bot@crystalbay.test").len(), 0);

    // Now each one broken on purpose.
    f.samo.set(|s| s.blacklisted = true);
    *f.telegram.webhook.lock().unwrap() = Some(
        json!({"url": "https://old-server.example/hook"})
            .as_object()
            .unwrap()
            .clone(),
    );
    *f.telegram.webhook_error.lock().unwrap() = Some("Connection timed out".into());
    f.telegram
        .refused
        .lock()
        .unwrap()
        .insert(MANAGERS, "Bad Request: chat not found".into());
    *f.wazzup.webhook.lock().unwrap() = Some(json!({
        "webhooksUri": "https://someone-else.example/wazzup",
        "subscriptions": {"messagesAndStatuses": true},
    }));
    f.bitrix.set_scopes(&["user_brief", "task"]);
    let mut broken = env.clone();
    for (k, v) in broken.iter_mut() {
        match *k {
            "OPENAI_MODEL" => {}
            "SMTP_URL" => *v = v.replace(fakes::smtp::PASSWORD, "wrong-password"),
            _ => {}
        }
    }
    broken.push(("OPENAI_MODEL", "gpt-5-nonexistent".into()));
    let (code, text) = doctor(&broken).await;
    assert_eq!(code, 1, "{text}");
    let lines = verdicts(&text);
    for line in &lines {
        assert!(
            line.contains(": FAIL — ") && line.contains(" — fix: "),
            "a FAIL verdict with its fix: {line}\n{text}"
        );
    }
    for (line, expected) in lines.iter().zip([
        "allow-list",
        "Telegram delivers to https://old-server.example/hook, not to https://bot.crystalbay.test/webhooks/telegram",
        "the webhook points at https://someone-else.example, not at this engine",
        "the webhook lacks the `crm` scope",
        "model gpt-5-nonexistent is not offered; the API has: gpt-4o, gpt-4o-mini",
        "535",
    ]) {
        assert!(line.contains(expected), "«{expected}» in {line}");
    }
    for expected in [
        "FAIL  Telegram's last delivery to the webhook failed at",
        "Connection timed out",
        "FAIL  the managers' chat -1001234567890 cannot be reached",
        "Something configured does not work (SAMO (tour search), Telegram, Wazzup (WhatsApp), Bitrix24 (CRM), OpenAI (LLM), E-mail (SMTP))",
    ] {
        assert!(text.contains(expected), "missing «{expected}» in:\n{text}");
    }
}

#[tokio::test]
async fn unconfigured_services_are_listed_as_such_and_do_not_fail() {
    let (code, text) = doctor(&[]).await;
    assert_eq!(code, 0, "{text}");
    for line in verdicts(&text) {
        assert!(line.contains(": off — not configured ("), "{line}");
    }
}

#[tokio::test]
async fn the_status_page_shows_the_same_checks_run_in_the_background() {
    let f = healthy().await;
    f.bitrix.set_scopes(&["user_brief"]);
    let mut env = env(&f);
    env.retain(|(k, _)| {
        !k.starts_with("WAZZUP_") && *k != "PUBLIC_URL" && !k.starts_with("TELEGRAM_")
    });
    env.push(("ADMIN_TOKEN", "admin-token-0123456789abcdef".into()));
    env.push(("STATUS_CHECK_SECS", "600".into()));
    let app = app::spawn_with(Options {
        env,
        ..Options::default()
    })
    .await;
    let status = || async {
        app.http
            .get(format!("{}/admin/status", app.base))
            .bearer_auth("admin-token-0123456789abcdef")
            .send()
            .await
            .unwrap()
            .json::<serde_json::Value>()
            .await
            .unwrap()
    };
    assert!(
        eventually(Duration::from_secs(60), || async {
            status().await["checks"].is_object()
        })
        .await,
        "the first run of the checks ends"
    );
    let checks = &status().await["checks"];
    assert_eq!(checks["ok"], false, "{checks:#}");
    let services = checks["services"].as_array().unwrap();
    assert_eq!(services.len(), 6, "{checks:#}");
    let of = |key: &str| services.iter().find(|s| s["key"] == key).unwrap().clone();
    assert_eq!(of("samo")["ok"], true, "{checks:#}");
    assert_eq!(of("llm")["ok"], true, "{checks:#}");
    assert_eq!(of("email")["ok"], true, "{checks:#}");
    assert_eq!(
        of("wazzup")["ok"],
        true,
        "the test app's own Wazzup: {checks:#}"
    );
    assert_eq!(of("telegram")["configured"], false);
    let bitrix = of("bitrix24");
    assert_eq!(bitrix["ok"], false);
    assert!(
        bitrix["verdict"]
            .as_str()
            .unwrap()
            .contains("lacks the `crm` scope"),
        "{bitrix:#}"
    );
    assert!(
        bitrix["fix"]
            .as_str()
            .unwrap()
            .contains("BITRIX_WEBHOOK_URL")
    );
}
