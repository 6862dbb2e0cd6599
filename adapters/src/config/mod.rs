//! Configuration from environment variables, each with a working localhost default.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `PORT` | `8080` | HTTP port of `bella api` and `bella all` |
//! | `METRICS_PORT` | `9090` | `bella worker`'s `/healthz`, `/readyz` and `/metrics` |
//! | `DATABASE_URL` | `postgres://postgres@127.0.0.1:5432/bella` | created if missing |
//! | `DATABASE_POOL_SIZE` | `20` | connections per process |
//! | `REDIS_URL` | `redis://127.0.0.1:6379` | sessions and job results (`rediss://` for TLS) |
//! | `AMQP_URL` | `amqp://guest:guest@127.0.0.1:5672/%2f` | jobs; a comma-separated list of a cluster's nodes is tried in turn |
//! | `DATABASE_PASSWORD`, `REDIS_PASSWORD`, `AMQP_PASSWORD` | none | replace the password in the URL (secrets injected on their own) |
//! | `TWILIO_AUTH_TOKEN` | development token | signs and checks webhooks |
//! | `TWILIO_ACCOUNT_SID` | none | Twilio REST (text messages) |
//! | `TWILIO_API_BASE` | `https://api.twilio.com` | Twilio REST base, for tests |
//! | `TWILIO_SMS_FROM` | none | sender of text messages for a business without a number |
//! | `ADMIN_TOKEN` | development token | bearer token of the admin API |
//! | `PUBLIC_URL` | none | the public base URL Twilio calls, for signatures (required with `TWILIO_AUTH_TOKEN`, unless `TWILIO_WEBHOOK_HOSTS`) |
//! | `TWILIO_WEBHOOK_HOSTS` | none | without `PUBLIC_URL`: the `Host` names (`host` or `host:port`, comma-separated) webhooks may be addressed to |
//! | `TRUST_FORWARDED_PROTO` | `false` | trust `X-Forwarded-Proto` when rebuilding the URL |
//! | `TRUST_FORWARDED_FOR` | `false` | take the client's address from the last `X-Forwarded-For` entry (behind a proxy that appends it) |
//! | `OPENAI_API_KEY`, `OPENAI_BASE_URL`, `OPENAI_MODEL` | none | LLM repair |
//! | `BELLA_NAMESPACE` | `bella` | prefix of Redis keys and RabbitMQ names |
//! | `BELLA_BOOKING_WAIT_MS` | `3000` | how long a turn waits for a booking result |
//! | `BELLA_BUSINESS_CACHE_MS` | `30000` | the longest the api keeps business profiles (a change is announced by PostgreSQL and reloaded at once) |
//! | `BELLA_HEADER_TIMEOUT_MS` | `10000` | a request's headers must arrive within this; also closes idle keep-alive connections |
//! | `BELLA_MAX_CONNECTIONS` | `4096` | HTTP connections served at once per listener |
//! | `METRICS_TOKEN` | none | when set, `/metrics` answers only `Authorization: Bearer` this token |
//! | `BELLA_TIMELINE_DAYS` | `30` | how long each call's turns (masked) are kept for its timeline |
//! | `BELLA_STATE_DIR` | `~/.local/state/bella` | where development tokens are kept |
//! | `LOG_FORMAT` | `compact` | `json` in production |
//! | `OTEL_EXPORTER_OTLP_ENDPOINT` | none | OTLP/HTTP collector (`http://collector:4318`): traces are exported |
//! | `OTEL_SERVICE_NAME` | `bella` | the service name on exported traces |
//! | `BELLA_FAILPOINTS` | none | deliberate failures, for tests only (see `worker::failpoints`) |
//!
//! Without `TWILIO_AUTH_TOKEN`, Bella runs in development mode: it generates a random token once,
//! keeps it in `BELLA_STATE_DIR`, and requires every webhook to be signed with it (`bella call`
//! signs with it automatically). There is no unsigned mode. A deployment that sets `PUBLIC_URL`,
//! that is one Twilio can reach, refuses to start without the real token.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use rand::Rng;
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::names::Namespace;

mod dev_tokens;
mod vars;

pub use dev_tokens::{DevTokens, state_dir};
use vars::Vars;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
    #[error("TWILIO_AUTH_TOKEN is required when PUBLIC_URL is set: Twilio signs every webhook with it")]
    MissingTwilioToken,
    #[error(
        "TWILIO_AUTH_TOKEN is set but PUBLIC_URL is not: a webhook's signature covers the URL Twilio called, which without PUBLIC_URL would be rebuilt from the Host header that the sender chooses (a webhook signed for another app of the same Twilio account would pass). Set PUBLIC_URL to the URL Twilio calls, or TWILIO_WEBHOOK_HOSTS to the host names it may call"
    )]
    NoWebhookAddress,
    #[error(
        "ADMIN_TOKEN is too short ({0} characters): it is an operator's password, and one of fewer than {MIN_ADMIN_TOKEN} characters can be guessed; generate one with `openssl rand -hex 32`"
    )]
    ShortAdminToken(usize),
    #[error("cannot keep development tokens in {path}: {source} (set BELLA_STATE_DIR to a writable directory)")]
    StateDir { path: PathBuf, source: std::io::Error },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Compact,
    Json,
}

/// Where the Twilio and admin tokens came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    Environment,
    /// Generated for local development and stored in this directory.
    Development(PathBuf),
    /// A command that answers no webhook and signs in no one (`bella migrate`).
    NotNeeded,
}

#[derive(Clone)]
pub struct Config {
    pub port: u16,
    /// Where `bella worker` answers `/healthz`, `/readyz` and `/metrics`.
    pub metrics_port: u16,
    pub database_url: String,
    pub database_pool_size: u32,
    pub redis_url: String,
    pub amqp_url: String,
    pub namespace: Namespace,
    pub twilio_auth_token: SecretString,
    pub token_source: TokenSource,
    pub twilio_account_sid: Option<String>,
    pub twilio_api_base: Url,
    pub twilio_sms_from: Option<String>,
    pub admin_token: Option<SecretString>,
    /// Validated, without a trailing slash: the request path is appended to it.
    pub public_url: Option<String>,
    pub trust_forwarded_proto: bool,
    /// Without `PUBLIC_URL`: the `Host` values (lowercase `host` or `host:port`) a webhook may be
    /// addressed to. Empty in development, where any is.
    pub twilio_webhook_hosts: Vec<String>,
    /// The client's address is the last entry of `X-Forwarded-For` (behind a load balancer).
    pub trust_forwarded_for: bool,
    pub openai_api_key: Option<SecretString>,
    pub openai_base_url: Option<String>,
    pub openai_model: String,
    pub job_wait: Duration,
    pub business_cache: Duration,
    /// How long a client may take to send a request's headers (or leave a connection idle).
    pub header_timeout: Duration,
    /// HTTP connections served at once, per listener.
    pub max_connections: usize,
    /// The bearer token `/metrics` asks for, if any.
    pub metrics_token: Option<SecretString>,
    /// How long a call's turns are kept for its timeline.
    pub timeline_retention: Duration,
    pub log_format: LogFormat,
    /// The OTLP/HTTP collector's base URL; traces are exported only when it is set.
    pub otlp_endpoint: Option<Url>,
    pub service_name: String,
    /// Deliberate failures for tests; never set in production.
    pub failpoints: Option<String>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("port", &self.port)
            .field("database", &redact_url(&self.database_url))
            .field("redis", &redact_url(&self.redis_url))
            .field("amqp", &redact_url(&self.amqp_url))
            .field("namespace", &self.namespace)
            .field("token_source", &self.token_source)
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

/// `scheme://host:port/path` without credentials: safe to print in an error or a log. A list
/// (`AMQP_URL` naming a cluster's nodes) is redacted address by address.
pub fn redact_url(raw: &str) -> String {
    if raw.contains(',') {
        return raw.split(',').map(|one| redact_url(one.trim())).collect::<Vec<_>>().join(", ");
    }
    match Url::parse(raw) {
        // `amqp:user:password@host` parses as a scheme and an opaque path: nothing to show.
        Ok(url) if url.cannot_be_a_base() => "(unparsable URL)".to_owned(),
        Ok(url) => {
            let host = url.host_str().unwrap_or("?");
            match url.port() {
                Some(port) => format!("{}://{host}:{port}{}", url.scheme(), url.path()),
                None => format!("{}://{host}{}", url.scheme(), url.path()),
            }
        }
        Err(_) => "(unparsable URL)".to_owned(),
    }
}

/// The shortest `ADMIN_TOKEN` Bella starts with (the development token has 32 hex characters).
pub const MIN_ADMIN_TOKEN: usize = 32;

pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/bella";
pub const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";
pub const DEFAULT_AMQP_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

impl Config {
    /// Reads the process environment; generates development tokens where needed (see the module
    /// documentation).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    /// The same for a command that serves nothing (`bella migrate`): without `TWILIO_AUTH_TOKEN`
    /// no development token is read or written, so it runs on a read-only file system.
    pub fn from_env_serving_nothing() -> Result<Self, ConfigError> {
        Self::read(|name| std::env::var(name).ok().filter(|v| !v.is_empty()), false)
    }

    /// Reads configuration through `lookup`, so tests can pass their own values.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Self::read(lookup, true)
    }

    fn read(lookup: impl Fn(&str) -> Option<String>, serving: bool) -> Result<Self, ConfigError> {
        let vars = Vars(lookup);
        // Values first, so that a mistyped one is reported as such before anything is decided
        // about tokens (or development tokens are made).
        let port = vars.port("PORT", 8080)?;
        let metrics_port = vars.port("METRICS_PORT", 9090)?;
        let public_url = vars
            .get("PUBLIC_URL")
            .map(|raw| parse_url("PUBLIC_URL", &raw))
            .transpose()?
            .map(|url| url.as_str().trim_end_matches('/').to_owned());
        let twilio_api_base = parse_url("TWILIO_API_BASE", &vars.text("TWILIO_API_BASE", "https://api.twilio.com"))?;
        let ms = |name, default, range| vars.within(name, default, range, "milliseconds").map(Duration::from_millis);
        let job_wait = ms("BELLA_BOOKING_WAIT_MS", 3000, 50..=10_000)?;
        let database_pool_size = vars.within("DATABASE_POOL_SIZE", 20, 1..=500, "a number")?;
        let business_cache = ms("BELLA_BUSINESS_CACHE_MS", 30_000, 0..=3_600_000)?;
        let header_timeout = ms("BELLA_HEADER_TIMEOUT_MS", 10_000, 100..=600_000)?;
        let max_connections = vars.within("BELLA_MAX_CONNECTIONS", 4096, 1..=1_000_000, "a number")?;
        let timeline_days: u64 = vars.within("BELLA_TIMELINE_DAYS", 30, 1..=3650, "a number of days")?;
        let namespace = namespace(&vars)?;
        let log_format = log_format(&vars)?;

        let (twilio_auth_token, admin_token, token_source) = tokens(&vars, serving, public_url.is_some())?;
        let twilio_webhook_hosts: Vec<String> = vars
            .get("TWILIO_WEBHOOK_HOSTS")
            .map(|raw| raw.split(',').map(|h| h.trim().to_ascii_lowercase()).filter(|h| !h.is_empty()).collect())
            .unwrap_or_default();
        if serving
            && token_source == TokenSource::Environment
            && public_url.is_none()
            && twilio_webhook_hosts.is_empty()
        {
            return Err(ConfigError::NoWebhookAddress);
        }
        let url = |name: &'static str, default: &str, password: &str| {
            with_password(name, vars.text(name, default), vars.get(password).as_deref())
        };
        Ok(Self {
            port,
            metrics_port,
            database_url: url("DATABASE_URL", DEFAULT_DATABASE_URL, "DATABASE_PASSWORD")?,
            database_pool_size,
            redis_url: url("REDIS_URL", DEFAULT_REDIS_URL, "REDIS_PASSWORD")?,
            amqp_url: url("AMQP_URL", DEFAULT_AMQP_URL, "AMQP_PASSWORD")?,
            namespace,
            twilio_auth_token,
            token_source,
            twilio_account_sid: vars.get("TWILIO_ACCOUNT_SID"),
            twilio_api_base,
            twilio_sms_from: vars.get("TWILIO_SMS_FROM"),
            admin_token,
            public_url,
            trust_forwarded_proto: vars.flag("TRUST_FORWARDED_PROTO")?,
            trust_forwarded_for: vars.flag("TRUST_FORWARDED_FOR")?,
            twilio_webhook_hosts,
            openai_api_key: vars.get("OPENAI_API_KEY").map(SecretString::from),
            openai_base_url: vars.get("OPENAI_BASE_URL"),
            openai_model: vars.text("OPENAI_MODEL", "gpt-4o-mini"),
            job_wait,
            business_cache,
            header_timeout,
            max_connections,
            metrics_token: vars.get("METRICS_TOKEN").map(SecretString::from),
            timeline_retention: Duration::from_secs(timeline_days * 24 * 60 * 60),
            failpoints: vars.get("BELLA_FAILPOINTS"),
            log_format,
            otlp_endpoint: vars
                .get("OTEL_EXPORTER_OTLP_ENDPOINT")
                .map(|raw| parse_url("OTEL_EXPORTER_OTLP_ENDPOINT", &raw))
                .transpose()?,
            service_name: vars.text("OTEL_SERVICE_NAME", "bella"),
        })
    }
}

/// `BELLA_NAMESPACE`: letters, digits, `_` and `-`.
fn namespace(vars: &Vars<impl Fn(&str) -> Option<String>>) -> Result<Namespace, ConfigError> {
    let namespace = vars.text("BELLA_NAMESPACE", "bella");
    if namespace.is_empty() || !namespace.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        return Err(ConfigError::Invalid {
            name: "BELLA_NAMESPACE",
            reason: "use letters, digits, '_' and '-' only".to_owned(),
        });
    }
    Ok(Namespace::new(&namespace))
}

fn log_format(vars: &Vars<impl Fn(&str) -> Option<String>>) -> Result<LogFormat, ConfigError> {
    match vars.get("LOG_FORMAT").as_deref() {
        None | Some("compact" | "pretty" | "text") => Ok(LogFormat::Compact),
        Some("json") => Ok(LogFormat::Json),
        Some(other) => {
            Err(ConfigError::Invalid { name: "LOG_FORMAT", reason: format!("expected compact or json, got {other:?}") })
        }
    }
}

/// The Twilio token webhooks are signed with, the admin token, and where they came from: the
/// environment; for a process that serves no webhook, a random one never used; else the
/// development tokens (refused for a deployment Twilio can reach, one with `PUBLIC_URL`).
fn tokens(
    vars: &Vars<impl Fn(&str) -> Option<String>>,
    serving: bool,
    public: bool,
) -> Result<(SecretString, Option<SecretString>, TokenSource), ConfigError> {
    let env_admin = vars.get("ADMIN_TOKEN").map(SecretString::from);
    if let Some(admin) = &env_admin {
        let length = admin.expose_secret().chars().count();
        if length < MIN_ADMIN_TOKEN {
            return Err(ConfigError::ShortAdminToken(length));
        }
    }
    match vars.get("TWILIO_AUTH_TOKEN").map(SecretString::from) {
        Some(token) => Ok((token, env_admin, TokenSource::Environment)),
        None if public && serving => Err(ConfigError::MissingTwilioToken),
        None if !serving => {
            // Never used: this process answers no webhook. Random, so that it cannot be
            // mistaken for a real one.
            let mut bytes = [0u8; 16];
            rand::rng().fill(&mut bytes);
            let unused: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            Ok((SecretString::from(unused), env_admin, TokenSource::NotNeeded))
        }
        None => {
            let dir = state_dir(&|name: &str| vars.get(name));
            let tokens = DevTokens::load_or_create(&dir)?;
            Ok((tokens.twilio_auth_token, env_admin.or(Some(tokens.admin_token)), TokenSource::Development(dir)))
        }
    }
}
/// `url` (or each URL of a comma-separated list) with its password replaced by `password`, when
/// one is given: a deployment injects the password from its secret store on its own, and the
/// address in plain configuration.
fn with_password(name: &'static str, url: String, password: Option<&str>) -> Result<String, ConfigError> {
    let Some(password) = password else { return Ok(url) };
    // Encoded here, entirely: `Url::set_password` leaves `%` and `,` as they are, which would
    // garble a password containing them (and split a list).
    const RESERVED: &percent_encoding::AsciiSet =
        &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
    let encoded = percent_encoding::utf8_percent_encode(password, RESERVED).to_string();
    let replaced: Result<Vec<String>, ConfigError> = url
        .split(',')
        .map(str::trim)
        .map(|one| {
            // A bare `host:port` after the first URL of a list takes its credentials from it.
            if !one.contains("://") {
                return Ok(one.to_owned());
            }
            let mut parsed = Url::parse(one).map_err(|e| ConfigError::Invalid { name, reason: format!("{e}") })?;
            parsed.set_password(Some(&encoded)).map_err(|()| ConfigError::Invalid {
                name,
                reason: format!("{} cannot carry a password", redact_url(one)),
            })?;
            Ok(parsed.to_string())
        })
        .collect();
    Ok(replaced?.join(","))
}

fn parse_url(name: &'static str, raw: &str) -> Result<Url, ConfigError> {
    Url::parse(raw).map_err(|e| ConfigError::Invalid { name, reason: format!("{e}: {raw:?}") })
}

/// Compares a presented token with the expected one in constant time, whatever their lengths:
/// their SHA-256 digests are compared, so neither a length nor a common prefix shows in the time
/// taken.
pub fn token_matches(expected: &SecretString, presented: &str) -> bool {
    use sha2::Digest as _;
    use subtle::ConstantTimeEq as _;
    let expected = sha2::Sha256::digest(expected.expose_secret().as_bytes());
    let presented = sha2::Sha256::digest(presented.as_bytes());
    expected.ct_eq(&presented).into()
}

#[cfg(test)]
mod tests;
