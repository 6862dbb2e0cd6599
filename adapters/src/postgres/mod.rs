//! PostgreSQL: connecting (creating the database when it is missing), migrations, and the
//! repositories the api and the worker share.

pub mod appointments;
pub mod businesses;
pub mod outbox;
pub mod runs;
pub mod sessions;
pub mod sms;

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context as _;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection as _, PgConnection, PgPool};

/// The migrations in `migrations/`, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest any statement may run (migrations excepted).
const STATEMENT_TIMEOUT: &str = "30s";

/// "PostgreSQL at 127.0.0.1:5432", for error messages (never the password).
fn describe(options: &PgConnectOptions) -> String {
    format!("PostgreSQL at {}:{}", options.get_host(), options.get_port())
}

/// Connects a pool to `url`, creating the database first if it does not exist.
pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<PgPool> {
    let options = PgConnectOptions::from_str(url)
        .context("DATABASE_URL is not a valid PostgreSQL URL")?
        .application_name("bella")
        // No statement runs for ever: a lock wait or a runaway query fails after this, and the
        // turn apologises or the job is retried, instead of holding a connection.
        .options([("statement_timeout", STATEMENT_TIMEOUT)]);
    ensure_database(&options).await?;
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(CONNECT_TIMEOUT)
        .connect_with(options.clone())
        .await
        .with_context(|| format!("cannot reach {} (DATABASE_URL)", describe(&options)))
}

/// Creates the database named in `options` when it is missing.
async fn ensure_database(options: &PgConnectOptions) -> anyhow::Result<()> {
    let target = describe(options);
    let first = tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(options)).await;
    let error = match first {
        Ok(Ok(connection)) => {
            connection.close().await.ok();
            return Ok(());
        }
        Ok(Err(error)) => error,
        Err(_) => anyhow::bail!("cannot reach {target} (DATABASE_URL): no answer within 5 s"),
    };
    let missing = error.as_database_error().and_then(|e| e.code()).is_some_and(|code| code == "3D000");
    if !missing {
        return Err(error).with_context(|| format!("cannot reach {target} (DATABASE_URL)"));
    }
    let name = options.get_database().unwrap_or("postgres").to_owned();
    let maintenance = options.clone().database("postgres");
    let mut connection = PgConnection::connect_with(&maintenance)
        .await
        .with_context(|| format!("cannot connect to {target} to create database {name:?} (DATABASE_URL)"))?;
    let create = format!("create database \"{}\"", name.replace('"', "\"\""));
    match sqlx::query(AssertSqlSafe(create)).execute(&mut connection).await {
        Ok(_) => tracing::info!(database = %name, "created the database"),
        // Another process created it meanwhile.
        Err(e) if e.as_database_error().and_then(|d| d.code()).is_some_and(|c| c == "42P04") => {}
        Err(e) => {
            return Err(e).with_context(|| format!("cannot create database {name:?} on {target}"));
        }
    }
    connection.close().await.ok();
    Ok(())
}

/// Refuses a database whose schema is not this build's: one that `bella migrate` has not brought
/// up to date, or one that a newer Bella migrated further. Tools that only read and change rows
/// (`bella admin`) call this instead of migrating: changing the schema is `bella migrate`'s job.
pub async fn require_migrated(pool: &PgPool) -> anyhow::Result<()> {
    let expected = MIGRATOR.iter().filter(|m| m.migration_type.is_up_migration()).map(|m| m.version).max().unwrap_or(0);
    let table: Option<String> =
        sqlx::query_scalar("select to_regclass('_sqlx_migrations')::text").fetch_one(pool).await?;
    let applied: Option<i64> = match table {
        Some(_) => {
            sqlx::query_scalar("select max(version) from _sqlx_migrations where success").fetch_one(pool).await?
        }
        None => None,
    };
    match applied {
        Some(version) if version == expected => Ok(()),
        Some(version) if version > expected => anyhow::bail!(
            "the database is at migration {version}, newer than this bella (migration {expected}): use the newer bella"
        ),
        Some(version) => anyhow::bail!(
            "the database is at migration {version}, this bella needs {expected}: run `bella migrate` first"
        ),
        None => anyhow::bail!("the database has no Bella schema: run `bella migrate` first"),
    }
}

/// Applies every migration not yet applied, without the statement timeout (a migration of a
/// big table may take its time), on one connection.
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    let mut connection = pool.acquire().await.context("connecting to apply migrations")?;
    sqlx::query("set statement_timeout = 0").execute(&mut *connection).await?;
    let applied = MIGRATOR.run(&mut *connection).await.context("applying database migrations");
    // Back to the pool with its timeout, or not back at all.
    if sqlx::query("reset statement_timeout").execute(&mut *connection).await.is_err() {
        connection.close().await.ok();
    }
    applied
}
