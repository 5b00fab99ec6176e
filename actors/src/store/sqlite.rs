//! The embedded SQLite store: one file, WAL journal, a short busy timeout, foreign keys on.
//! Only the Store actor writes, so one connection's worth of writing is all SQLite ever sees.
//!
//! A full disk and a read-only database are simulated (for fault tests) with SQLite's own
//! `max_page_count` and `query_only`: see [`SqliteStore::simulate_full_disk`].
//!
//! The write-ahead log is copied back into the database by a task of its own, once a second,
//! not by whichever commit happens to cross SQLite's threshold: that commit (and every webhook
//! waiting on it) would otherwise take the checkpoint's time too.

use super::StoreError;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::Duration;

pub struct SqliteStore {
    pool: sqlx::SqlitePool,
    _checkpoints: Checkpointer,
    /// See [`SqliteStore::simulate_full_disk`]: 0 never limited; otherwise the
    /// `max_page_count` every connection gets before use.
    page_limit: Arc<AtomicU64>,
    /// See [`SqliteStore::simulate_read_only`]: 0 never set; 1 read-only; 2 writable.
    read_only: Arc<AtomicU8>,
}

/// SQLite's own ceiling on `max_page_count`: "no limit".
const NO_PAGE_LIMIT: u64 = 4_294_967_294;

/// How often the write-ahead log is checkpointed.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// The checkpoint task; it stops with the store.
struct Checkpointer(tokio::task::JoinHandle<()>);

impl Checkpointer {
    fn start(pool: sqlx::SqlitePool, file: PathBuf) -> Self {
        Self(tokio::spawn(async move {
            let mut every = tokio::time::interval(CHECKPOINT_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                // Stopped with the store (Drop aborts it), and also when the pool is closed
                // or the file was removed under a store still referenced somewhere (a test's
                // temp dir gone): there is nothing left to checkpoint.
                if pool.is_closed() || !file.exists() {
                    return;
                }
                // PASSIVE copies what no reader still needs and never waits for the writer.
                if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                    .execute(&pool)
                    .await
                {
                    tracing::warn!(error = %e, "WAL checkpoint failed; will try again");
                }
            }
        }))
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl SqliteStore {
    /// Opens (creating when missing, with its folder) the database at `url` and migrates it.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // With WAL, NORMAL survives a process crash (SIGKILL); only a power loss can drop
            // the last transactions.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true)
            // Checkpoints are the Checkpointer's job, not the committing writer's.
            .pragma("wal_autocheckpoint", "0");
        if let Some(parent) = options.get_filename().parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError::Database(sqlx::Error::Io(std::io::Error::new(
                    e.kind(),
                    format!("cannot create {}: {e}", parent.display()),
                )))
            })?;
        }
        let file = options.get_filename().to_path_buf();
        let page_limit = Arc::new(AtomicU64::new(0));
        let read_only = Arc::new(AtomicU8::new(0));
        let (limit, query_only) = (page_limit.clone(), read_only.clone());
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .before_acquire(move |conn, _| {
                let pages = limit.load(Ordering::Acquire);
                let query_only = query_only.load(Ordering::Acquire);
                Box::pin(async move {
                    if pages != 0 {
                        sqlx::query(sqlx::AssertSqlSafe(format!(
                            "PRAGMA max_page_count = {pages}"
                        )))
                        .execute(&mut *conn)
                        .await?;
                    }
                    if query_only != 0 {
                        let on = if query_only == 1 { "ON" } else { "OFF" };
                        sqlx::query(sqlx::AssertSqlSafe(format!("PRAGMA query_only = {on}")))
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(options)
            .await?;
        sqlx::migrate!("../migrations/sqlite").run(&pool).await?;
        let checkpoints = Checkpointer::start(pool.clone(), file);
        Ok(Self {
            pool,
            _checkpoints: checkpoints,
            page_limit,
            read_only,
        })
    }

    /// Migrated when opened: nothing to do.
    async fn prepare_backend(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Caps the database at about its current size (`full`) or lifts the cap: SQLite's own
    /// `max_page_count`, so a write that needs more room fails with `SQLITE_FULL` exactly as
    /// on a full disk. For fault tests (the disk fills, then space returns); until it is first
    /// called it costs nothing.
    pub fn simulate_full_disk(&self, full: bool) {
        // Below the current size SQLite keeps the current size: 1 means "as it is now".
        let pages = if full { 1 } else { NO_PAGE_LIMIT };
        self.page_limit.store(pages, Ordering::Release);
    }

    /// Makes the database refuse writes (`SQLITE_READONLY`, as a file or mount turned
    /// read-only does) or take them again. For fault tests, like
    /// [`SqliteStore::simulate_full_disk`].
    pub fn simulate_read_only(&self, read_only: bool) {
        self.read_only
            .store(if read_only { 1 } else { 2 }, Ordering::Release);
    }
}

// The shared reads and writes (`sql/`), compiled for SQLite. 64 rows a statement: fewer round
// trips to sqlx's SQLite worker thread, which is where the time goes.
type Db = sqlx::Sqlite;
type Backend = SqliteStore;
const NAME: &str = "sqlite";
const MAX_ROWS: usize = 64;
const MAX_WIDE_ROWS: usize = 64;
// Deliberately the same files as the other backend's: one source, compiled once per backend.
#[allow(clippy::duplicate_mod)]
#[path = "sql/mod.rs"]
mod sql;
