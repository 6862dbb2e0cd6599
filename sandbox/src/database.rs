//! Databases made for one run. A name from [`stamped_name`] carries the time it was made, so
//! that [`sweep_databases`] can find and drop those a killed run left behind.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use sqlx::PgPool;

/// `url` (a PostgreSQL server's URL, with or without a database) with its database replaced by
/// `name`.
pub fn database_url(url: &str, name: &str) -> anyhow::Result<String> {
    let mut parsed = url::Url::parse(url).context("the database URL is not a URL")?;
    parsed.set_path(&format!("/{name}"));
    Ok(parsed.to_string())
}

/// A new name for a database (and a namespace): `{prefix}_{seconds since 1970}_{ten hex digits}`.
pub fn stamped_name(prefix: &str) -> String {
    let unique = &uuid::Uuid::new_v4().simple().to_string()[..10];
    format!("{prefix}_{}_{unique}", seconds_now())
}

/// Creates database `name` on the server of `url`.
pub async fn create_database(url: &str, name: &str) -> anyhow::Result<()> {
    maintenance(url, &format!("create database \"{name}\"")).await
}

/// Drops database `name` on the server of `url` if it exists, closing its connections.
pub async fn drop_database(url: &str, name: &str) -> anyhow::Result<()> {
    maintenance(url, &format!("drop database if exists \"{name}\" with (force)")).await
}

/// Drops the databases named by [`stamped_name`] with `prefix` that were made more than `age`
/// ago: those of runs killed before they could clean up.
pub async fn sweep_databases(url: &str, prefix: &str, age: Duration) {
    let Ok(pool) = connect_maintenance(url).await else {
        return;
    };
    let pattern = format!("{}\\_%", prefix.replace('_', "\\_"));
    let names: Vec<String> = sqlx::query_scalar("select datname from pg_database where datname like $1")
        .bind(pattern)
        .fetch_all(&pool)
        .await
        .unwrap_or_default();
    pool.close().await;
    let now = seconds_now();
    for name in names {
        let made = stamp_of(&name, prefix).unwrap_or(now);
        if now.saturating_sub(made) > age.as_secs() {
            let _ = drop_database(url, &name).await;
        }
    }
}

/// When a database named by [`stamped_name`] was made.
fn stamp_of(name: &str, prefix: &str) -> Option<u64> {
    name.strip_prefix(prefix)?.strip_prefix('_')?.split('_').next()?.parse().ok()
}

fn seconds_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

/// The server's `postgres` database, where databases are created and dropped.
async fn connect_maintenance(url: &str) -> anyhow::Result<PgPool> {
    adapters::postgres::connect(&database_url(url, "postgres")?, 1).await
}

async fn maintenance(url: &str, statement: &str) -> anyhow::Result<()> {
    let pool = connect_maintenance(url).await?;
    let result = sqlx::query(sqlx::AssertSqlSafe(statement.to_owned())).execute(&pool).await;
    pool.close().await;
    result.with_context(|| format!("`{statement}`"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_url_takes_the_database_as_its_path() {
        let server = "postgres://postgres@127.0.0.1:5432";
        assert_eq!(database_url(server, "bella_x").unwrap(), "postgres://postgres@127.0.0.1:5432/bella_x");
        let url = "postgres://u:p@db:5432/bella?sslmode=require";
        assert_eq!(database_url(url, "postgres").unwrap(), "postgres://u:p@db:5432/postgres?sslmode=require");
    }

    #[test]
    fn a_stamped_name_says_when_it_was_made() {
        let name = stamped_name("bella_test");
        let made = stamp_of(&name, "bella_test").unwrap();
        assert!(seconds_now().abs_diff(made) < 5, "{name}");
        assert_eq!(stamp_of("bella_test_bare", "bella_test"), None);
        assert_eq!(stamp_of("bella_bench", "bella_test"), None);
    }
}
