//! Admin tokens: `bella_` and 40 random hex characters, shown once when created and kept only as
//! a SHA-256. A token has a name (who holds it, for the audit log) and a role.
//!
//! `ADMIN_TOKEN` from the environment is also accepted, as an operator named `admin-token`: it is
//! how the first operator gets in, and how existing scripts keep working.

use chrono::{DateTime, Utc};
use rand::Rng as _;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest as _, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

use super::audit::{self, Entry};
use super::{Actor, AdminError, Outcome, Role};

/// The prefix of every token we make: recognisable in a secret scanner.
pub const PREFIX: &str = "bella_";

/// Names no token may take: `ADMIN_TOKEN` acts under the first.
pub const RESERVED: [&str; 2] = ["admin-token", "admin_token"];

/// How a token's holder appears in the audit log: its name and the end of its id, so that a
/// name, even a reused one, cannot pass for another holder (`token:alice#9f3c2a1b`).
pub fn actor_name(name: &str, id: Uuid) -> String {
    let simple = id.simple().to_string();
    format!("token:{name}#{}", &simple[simple.len() - 8..])
}

/// The SHA-256 of a token, in hex: what is stored, and what a console session remembers.
pub fn sha256_hex(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// A token just made: the only time its secret is known.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Created {
    pub id: Uuid,
    pub name: String,
    pub role: Role,
    pub token: String,
    pub audit_id: i64,
}

/// Makes a token for `name` with `role`.
pub async fn create(pool: &PgPool, actor: &Actor, name: &str, role: Role) -> Result<Created, AdminError> {
    actor.require_operator()?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(|c| c.is_control() || c == '#') {
        return Err(AdminError::Invalid("the token's name must be 1 to 100 printable characters, without '#'".into()));
    }
    if RESERVED.iter().any(|reserved| reserved.eq_ignore_ascii_case(name)) {
        return Err(AdminError::Invalid(format!(
            "{name:?} is reserved (ADMIN_TOKEN acts under it in the audit log); choose another name"
        )));
    }
    let secret: [u8; 20] = rand::rng().random();
    let token = format!("{PREFIX}{}", secret.iter().map(|b| format!("{b:02x}")).collect::<String>());
    let id = Uuid::now_v7();
    let mut tx = pool.begin().await?;
    let inserted = sqlx::query(
        "insert into admin_tokens (admin_token_id, name, role, token_sha256, created_by) values ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(name)
    .bind(role.as_str())
    .bind(sha256_hex(&token))
    .bind(&actor.name)
    .execute(&mut *tx)
    .await;
    if let Err(error) = &inserted
        && error.as_database_error().and_then(|e| e.constraint()) == Some("admin_tokens_name_unique")
    {
        return Err(AdminError::Conflict(format!(
            "a token named {name:?} exists already (names are who acts in the audit log); choose another name"
        )));
    }
    inserted?;
    let audit_id = audit::record(
        &mut *tx,
        &Entry {
            actor,
            action: "tokens.create",
            target: json!({ "token_id": id, "name": name, "role": role }),
            reason: "new token",
            dry_run: false,
            affected: 1,
            result: "created",
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Created { id, name: name.to_owned(), role, token, audit_id })
}

/// The holder of `token`, if it is a live token. Marks it used (at most once a minute).
pub async fn authenticate(pool: &PgPool, token: &str) -> Result<Option<Actor>, sqlx::Error> {
    if !token.starts_with(PREFIX) {
        return Ok(None);
    }
    // Looked up by hash: equal hashes of unequal tokens do not happen, and the comparison is on
    // the hash, not the secret, so its timing tells nothing about the token.
    let found: Option<(Uuid, String, String)> = sqlx::query_as(
        "select admin_token_id, name, role from admin_tokens where token_sha256 = $1 and revoked_at is null",
    )
    .bind(sha256_hex(token))
    .fetch_optional(pool)
    .await?;
    let Some((id, name, role)) = found else { return Ok(None) };
    // At most once a minute: a busy script must not turn every read into a write.
    sqlx::query(
        "update admin_tokens set last_used_at = now()
          where admin_token_id = $1 and (last_used_at is null or last_used_at < now() - interval '1 minute')",
    )
    .bind(id)
    .execute(pool)
    .await?;
    Ok(role.parse().ok().map(|role| Actor { name: actor_name(&name, id), role }))
}

/// The holder of the token with this SHA-256, if it is still live (not revoked). The console
/// checks its session's token on every request, so that revoking a token ends its sessions.
pub async fn live(pool: &PgPool, token_sha256: &str) -> Result<Option<Actor>, sqlx::Error> {
    let found: Option<(Uuid, String, String)> = sqlx::query_as(
        "select admin_token_id, name, role from admin_tokens where token_sha256 = $1 and revoked_at is null",
    )
    .bind(token_sha256)
    .fetch_optional(pool)
    .await?;
    Ok(found.and_then(|(id, name, role)| Some(Actor { name: actor_name(&name, id), role: role.parse().ok()? })))
}

/// A token as listed: never its secret.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct TokenRow {
    pub admin_token_id: Uuid,
    pub name: String,
    pub role: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

pub async fn list(pool: &PgPool) -> Result<Vec<TokenRow>, sqlx::Error> {
    sqlx::query_as(
        "select admin_token_id, name, role, created_at, created_by, last_used_at, revoked_at
           from admin_tokens order by created_at",
    )
    .fetch_all(pool)
    .await
}

/// Revokes a token by id: it stops working at once. Revoking a revoked token changes nothing.
pub async fn revoke(pool: &PgPool, actor: &Actor, id: Uuid, why: &str) -> Result<Outcome, AdminError> {
    actor.require_operator()?;
    let why = super::reason(why)?;
    let mut tx = pool.begin().await?;
    let exists: Option<Option<DateTime<Utc>>> =
        sqlx::query_scalar("select revoked_at from admin_tokens where admin_token_id = $1 for update")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    let Some(revoked_at) = exists else { return Err(AdminError::NotFound(format!("no token {id}"))) };
    let affected = if revoked_at.is_none() {
        sqlx::query("update admin_tokens set revoked_at = now() where admin_token_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        1
    } else {
        0
    };
    let result = if affected == 1 { "revoked" } else { "already revoked" };
    let entry = Entry {
        actor,
        action: "tokens.revoke",
        target: json!({ "token_id": id }),
        reason: &why,
        dry_run: false,
        affected,
        result,
    };
    let outcome = audit::outcome(&mut *tx, &entry).await?;
    tx.commit().await?;
    Ok(outcome)
}
