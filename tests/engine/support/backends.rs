//! Fresh, isolated stores: SQLite in a temp dir; PostgreSQL in a schema of its own at
//! `TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/test`).
//!
//! When PostgreSQL does not answer: with `CI` set the test fails; otherwise one
//! "skipped: no PostgreSQL at …" line is printed and only SQLite runs.

use actors::store::Store;
use std::sync::{Arc, Once};

pub const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A store and what keeps it alive (the temp dir).
pub struct TestStore {
    pub name: &'static str,
    pub store: Arc<dyn Store>,
    _dir: Option<tempfile::TempDir>,
}

pub async fn sqlite() -> TestStore {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    TestStore {
        name: "sqlite",
        store: actors::store::open(&url).await.expect("open sqlite"),
        _dir: Some(dir),
    }
}

pub fn pg_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_PG.to_owned())
}

static SKIP_NOTICE: Once = Once::new();

/// A PostgreSQL store in a new schema, or `None` (skipped) when PostgreSQL is not there.
pub async fn postgres() -> Option<TestStore> {
    let url = pg_url();
    let schema = format!("cbtest_{}", uuid::Uuid::now_v7().simple());
    let connected = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        actors::store::postgres::PgStore::connect(&url, Some(&schema)),
    )
    .await;
    match connected {
        Ok(Ok(store)) => Some(TestStore {
            name: "postgres",
            store: Arc::new(store),
            _dir: None,
        }),
        Ok(Err(e)) => unavailable(&url, &e.to_string()),
        Err(_) => unavailable(&url, "timed out"),
    }
}

fn unavailable(url: &str, why: &str) -> Option<TestStore> {
    if std::env::var_os("CI").is_some() {
        panic!("PostgreSQL is required when CI is set, but {url} failed: {why}");
    }
    SKIP_NOTICE.call_once(|| println!("skipped: no PostgreSQL at {url} ({why})"));
    None
}

/// Both backends (PostgreSQL only when available), each fresh.
pub async fn all() -> Vec<TestStore> {
    let mut stores = vec![sqlite().await];
    if let Some(pg) = postgres().await {
        stores.push(pg);
    }
    stores
}
