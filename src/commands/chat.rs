//! `crystalbay chat`: talk to the bot in the terminal. Each line goes through the same path as
//! every channel — inbox, conversation actor, outbox — and lands in the same store.

use crate::config::Config;
use crate::startup::app::{Overrides, start_engine};
use actors::Accepted;
use actors::store::{InboxStatus, OutboxStatus, new_id};
use dialogs::{Channel, ChatKey};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncBufReadExt;

pub async fn run(config: Config, chat_id: String) -> anyhow::Result<()> {
    let store = crate::startup::app::open_store(&config).await?;
    let engine = start_engine(
        &config,
        store,
        Overrides {
            extra_senders: vec![Arc::new(channels::console::ConsoleSender)],
            recover_channels: Some(vec![Channel::Console]),
            ..Default::default()
        },
    )
    .await?
    .engine;
    let key = ChatKey::new(Channel::Console, chat_id);
    eprintln!(
        "Crystal Bay chat as `{}` (database {}). Type a message; Ctrl-D to quit.",
        key.chat_id,
        actors::store::redact_url(&config.database_url)
    );
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = lines.next_line().await? {
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        let external_id = new_id();
        let accepted = engine
            .accept(channels::console::inbound::line(
                &key.chat_id,
                external_id.clone(),
                text,
            ))
            .await?;
        if let Accepted::New(_) = accepted {
            wait_for_answer(&engine, &key, &external_id).await;
        }
    }
    engine.shutdown().await;
    Ok(())
}

/// Waits (up to 30 s) until the message is handled and its replies printed, so the bot's
/// answer appears before the next line is read.
async fn wait_for_answer(engine: &actors::Engine, key: &ChatKey, external_id: &str) {
    let store = &engine.store().store;
    for _ in 0..3000 {
        let handled = store
            .inbox_entry(key.channel, external_id)
            .await
            .map(|e| e.is_none_or(|e| e.status != InboxStatus::Pending))
            .unwrap_or(true);
        if handled {
            let sent = match store.conversation_by_chat(key).await {
                Ok(Some(c)) => store
                    .outbox_of(&c.id)
                    .await
                    .map(|rows| rows.iter().all(|r| r.status != OutboxStatus::Pending))
                    .unwrap_or(true),
                _ => true,
            };
            if sent {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
