//! The PostgreSQL store, for production. Optionally confined to one schema (tests give each
//! test its own, so they never see each other's rows).

use super::StoreError;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use std::str::FromStr;
use std::time::Duration;

pub struct PgStore {
    pool: sqlx::PgPool,
    schema: Option<String>,
    /// Set once the schema exists and the migrations ran.
    migrated: tokio::sync::OnceCell<()>,
}

impl PgStore {
    /// Connects to `url` and migrates. With `schema`, every connection uses (and the migration
    /// creates) that schema only.
    pub async fn connect(url: &str, schema: Option<&str>) -> Result<Self, StoreError> {
        let store = Self::connect_lazy(url, schema)?;
        store.prepare_backend().await?;
        Ok(store)
    }

    /// A store for `url` that connects on first use: nothing is tried here, so it exists while
    /// the database is away. [`Store::prepare`](super::Store::prepare) migrates it.
    pub fn connect_lazy(url: &str, schema: Option<&str>) -> Result<Self, StoreError> {
        if let Some(schema) = schema
            && !schema
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(StoreError::Database(sqlx::Error::Configuration(
                format!("schema name `{schema}` must be letters, digits and `_`").into(),
            )));
        }
        let mut options = PgConnectOptions::from_str(url)?;
        if let Some(schema) = schema {
            options = options.options([("search_path", schema)]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(5))
            .connect_lazy_with(options);
        Ok(Self {
            pool,
            schema: schema.map(str::to_owned),
            migrated: tokio::sync::OnceCell::new(),
        })
    }

    /// Creates the schema (if any) and migrates, once.
    async fn prepare_backend(&self) -> Result<(), StoreError> {
        self.migrated
            .get_or_try_init(|| async {
                if let Some(schema) = &self.schema {
                    // Checked to be a plain identifier, so it can be spliced into the DDL.
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "CREATE SCHEMA IF NOT EXISTS \"{schema}\""
                    )))
                    .execute(&self.pool)
                    .await?;
                }
                sqlx::migrate!("../migrations/postgres")
                    .run(&self.pool)
                    .await?;
                Ok::<(), StoreError>(())
            })
            .await?;
        Ok(())
    }
}

// The shared reads and writes (`sql/`), compiled for PostgreSQL.
//
// sqlx 0.9.0 does not set TCP_NODELAY (transact-rs/sqlx#4335, fixed upstream after 0.9.0): a
// statement large enough to be written in pieces waits ~40 ms for a delayed ACK. Statements are
// kept small — 16 narrow rows, or 4 rows carrying a dialog state or a reply — which measured
// best both with small states (`crystalbay bench`) and with offers in them (the load tool).
type Db = sqlx::Postgres;
type Backend = PgStore;
const NAME: &str = "postgres";
const MAX_ROWS: usize = 16;
const MAX_WIDE_ROWS: usize = 4;
// Deliberately the same files as the other backend's: one source, compiled once per backend.
#[allow(clippy::duplicate_mod)]
#[path = "sql/mod.rs"]
mod sql;
