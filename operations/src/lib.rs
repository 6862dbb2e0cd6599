//! Operators' verbs: one library behind the three faces (`bella admin …`, `/admin/api/…` and the
//! web console), so that a verb behaves the same wherever it is called from.
//!
//! Every mutating verb
//! - takes an [`Actor`] (who) and a reason (why), and writes one [`audit`] row with what it
//!   applied to, how many things it changed and how it ended, in the same transaction as the
//!   change when there is one;
//! - is idempotent: asking again for what is already so changes nothing and says so
//!   (`affected = 0`);
//! - refuses a viewer ([`Actor::require_operator`]).
//!
//! | module | verbs |
//! |---|---|
//! | [`queues`] | stats, pause, resume, drain |
//! | [`dead_letters`] | list, show, retry (dry run, rate limit, progress), discard, purge |
//! | [`workflows`] | list, show (step journal), resume (after editing fields), cancel |
//! | [`calls`] | appointment show and cancel, call timeline |
//! | [`businesses`] | list, show, create, edit |
//! | [`tokens`] | create, list, revoke, authenticate |
//! | [`audit`] | list |

pub mod audit;
pub mod businesses;
pub mod calendar_feed;
pub mod calls;
pub mod dead_letters;
pub mod queues;
pub mod tokens;
pub mod workflows;

use serde::{Deserialize, Serialize};

/// What the verbs that look at queues and workers need beyond PostgreSQL.
#[derive(Clone)]
pub struct Ops {
    pub pool: sqlx::PgPool,
    pub redis: redis::aio::ConnectionManager,
    pub amqp: adapters::amqp::Broker,
    pub names: adapters::Namespace,
}

impl std::fmt::Debug for Ops {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ops").field("names", &self.names).finish_non_exhaustive()
    }
}

impl Ops {
    pub fn new(services: &adapters::Services, names: adapters::Namespace) -> Self {
        Self { pool: services.pool.clone(), redis: services.redis.clone(), amqp: services.amqp.clone(), names }
    }
}

/// What a token (or a person at the CLI) may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads everything, changes nothing.
    Viewer,
    /// Reads and changes: pause, retry, resume, cancel, edit.
    Operator,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Operator => "operator",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "viewer" => Ok(Self::Viewer),
            "operator" => Ok(Self::Operator),
            other => Err(format!("role must be viewer or operator, not {other:?}")),
        }
    }
}

/// Who is acting: written to the audit log with every action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Actor {
    /// `token:alice`, `cli:root`, `console:alice`.
    pub name: String,
    pub role: Role,
}

impl Actor {
    /// A person at the `bella` CLI: whoever can reach the database is an operator.
    pub fn cli() -> Self {
        // USER is unset in some shells (containers, cron): fall back to the home directory's name.
        let home = || {
            std::env::var_os("HOME")
                .and_then(|h| std::path::PathBuf::from(h).file_name().map(|n| n.to_string_lossy().into_owned()))
                .filter(|n| !n.is_empty())
        };
        let user = std::env::var("USER")
            .or_else(|_| std::env::var("LOGNAME"))
            .ok()
            .filter(|u| !u.is_empty())
            .or_else(home)
            .unwrap_or_else(|| "unknown".into());
        Self { name: format!("cli:{user}"), role: Role::Operator }
    }

    pub fn require_operator(&self) -> Result<(), AdminError> {
        match self.role {
            Role::Operator => Ok(()),
            Role::Viewer => Err(AdminError::Forbidden(format!(
                "{} is a viewer: this needs an operator token (bella admin token create --role operator)",
                self.name
            ))),
        }
    }
}

/// Why an operator verb did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    /// The thing is not in a state the verb applies to (a running workflow cannot be resumed).
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Forbidden(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// The longest reason kept.
pub const MAX_REASON: usize = 500;

/// A reason as the audit log keeps it: required, trimmed, bounded.
pub fn reason(text: &str) -> Result<String, AdminError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(AdminError::Invalid("a reason is required: say why (it goes to the audit log)".into()));
    }
    if text.chars().count() > MAX_REASON {
        return Err(AdminError::Invalid(format!("the reason is longer than {MAX_REASON} characters")));
    }
    Ok(text.to_owned())
}

/// What a mutating verb did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Outcome {
    /// How many things changed (or, in a dry run, would change).
    pub affected: u64,
    pub dry_run: bool,
    /// One line for a person: "3 dead letters retried", "already paused".
    pub message: String,
    /// The audit row written for it.
    pub audit_id: i64,
}

/// Masks every phone number in `text` to its last four digits, in whatever form it was said,
/// keyed or written (`workflows::privacy`). For payloads, transcripts and errors shown to
/// operators, who need to tell numbers apart but not to read them.
pub fn mask_phone_numbers(text: &str) -> String {
    ::workflows::privacy::mask_numbers(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_are_masked_to_their_last_four_digits() {
        assert_eq!(mask_phone_numbers(r#"{"phone":"+14165550123"}"#), r#"{"phone":"+1******0123"}"#);
        assert_eq!(mask_phone_numbers("call 416-555-0123 now"), "call ***-***-0123 now");
        assert_eq!(mask_phone_numbers("four one six: 416 555 0123."), "four one six: *** *** 0123.");
        // Short numbers, dates, times, references and identifiers are not phone numbers.
        let plain = r#"at 14:30 on 2026-12-01T15:00:00Z, ref 4K7Q, call CA12345678901234567890abcdef"#;
        assert_eq!(mask_phone_numbers(plain), plain);
        assert_eq!(mask_phone_numbers("attempt 3 of 6"), "attempt 3 of 6");
        let business = r#"{"business_id":"00000000-0000-4000-8000-000000000001"}"#;
        assert_eq!(mask_phone_numbers(business), business);
        // Two numbers in a row, or a number then a date, are masked all the same.
        assert_eq!(mask_phone_numbers("416 555 0123 416 555 0124"), "*** *** **** *** *** 0124");
        assert!(!mask_phone_numbers("416-555-0123 2026-12-01").contains("555"));
    }

    #[test]
    fn reasons_are_required_and_bounded() {
        assert!(reason("  ").is_err());
        assert_eq!(reason(" deploy ").unwrap(), "deploy");
        assert!(reason(&"x".repeat(MAX_REASON + 1)).is_err());
    }
}
