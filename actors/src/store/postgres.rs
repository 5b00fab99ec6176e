//! The PostgreSQL store, for production. Optionally confined to one schema (tests give each
//! test its own, so they never see each other's rows).

use super::StoreError;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use std::str::FromStr;
use std::time::Duration;

pub struct PgStore {
    pool: sqlx::PgPool,
}

impl PgStore {
    /// Connects to `url` and migrates. With `schema`, every connection uses (and the migration
    /// creates) that schema only.
    pub async fn connect(url: &str, schema: Option<&str>) -> Result<Self, StoreError> {
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
            .connect_with(options)
            .await?;
        if let Some(schema) = schema {
            // Checked above to be a plain identifier, so it can be spliced into the DDL.
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "CREATE SCHEMA IF NOT EXISTS \"{schema}\""
            )))
            .execute(&pool)
            .await?;
        }
        sqlx::migrate!("../migrations/postgres").run(&pool).await?;
        Ok(Self { pool })
    }
}

// sqlx 0.9.0 does not set TCP_NODELAY (transact-rs/sqlx#4335, fixed upstream after 0.9.0): a
// statement large enough to be written in pieces waits ~40 ms for a delayed ACK. Statements are
// kept small — 16 narrow rows, or 4 rows carrying a dialog state or a reply — which measured
// best both with small states (`crystalbay bench`) and with offers in them (the load tool).
super::sql::impl_store!(
    PgStore,
    sqlx::Postgres,
    "postgres",
    max_rows = 16,
    max_wide_rows = 4
);
