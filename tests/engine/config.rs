//! The configuration as an operator meets it through the binary: `crystalbay config --markdown`
//! prints the reference that docs/configuration.md holds, and a bad value or an unknown key in
//! the file stops the process with a message naming it.

/// Runs the binary with only these variables (and no configuration file unless given).
async fn crystalbay(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_crystalbay"));
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("CRYSTALBAY_CONFIG", "/nonexistent/crystalbay.toml");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().await.unwrap()
}

#[tokio::test]
async fn config_markdown_prints_the_documented_reference_and_no_secret() {
    let out = crystalbay(
        &["config", "--markdown"],
        &[
            ("ADMIN_TOKEN", "admin-secret-0123456789"),
            ("TELEGRAM_BOT_TOKEN", "1:telegram-secret"),
        ],
    )
    .await;
    assert!(out.status.success(), "{out:?}");
    let printed = String::from_utf8(out.stdout).unwrap();
    let docs = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/configuration.md"
    ))
    .unwrap();
    assert!(
        docs.contains(&printed),
        "docs/configuration.md lacks:\n{printed}"
    );
    for key in ["DATABASE_URL", "ADMIN_TOKEN", "HANDOFF_QUIET_SECS"] {
        assert!(printed.contains(&format!("| `{key}` |")), "{key}");
    }
    assert!(!printed.contains("admin-secret") && !printed.contains("telegram-secret"));
}

#[tokio::test]
async fn a_bad_value_or_an_unknown_file_key_stops_start_up_naming_it() {
    let out = crystalbay(&["doctor"], &[("HTTP_ADDR", "localhost")]).await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("HTTP_ADDR"), "{stderr}");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("crystalbay.toml");
    std::fs::write(&file, "samo_timeout = 5\n").unwrap();
    let out = crystalbay(
        &["doctor"],
        &[("CRYSTALBAY_CONFIG", file.to_str().unwrap())],
    )
    .await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("samo_timeout"), "{stderr}");
}
