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
//! | `BELLA_BUSINESS_CACHE_MS` | `30000` | how long business profiles are cached by the api |
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
use std::path::{Path, PathBuf};
use std::time::Duration;

use rand::Rng;
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::names::Namespace;

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
    pub booking_wait: Duration,
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
        let text = |name: &str, default: &str| lookup(name).unwrap_or_else(|| default.to_owned());
        let flag = |name: &'static str| -> Result<bool, ConfigError> {
            match lookup(name).as_deref().map(str::to_ascii_lowercase).as_deref() {
                None | Some("0" | "false" | "no" | "off") => Ok(false),
                Some("1" | "true" | "yes" | "on") => Ok(true),
                Some(other) => {
                    Err(ConfigError::Invalid { name, reason: format!("expected true or false, got {other:?}") })
                }
            }
        };
        let port_number = |name: &'static str, default: u16| match lookup(name) {
            None => Ok(default),
            Some(raw) => raw
                .parse()
                .map_err(|_| ConfigError::Invalid { name, reason: format!("expected a port number, got {raw:?}") }),
        };
        let port = port_number("PORT", 8080)?;
        let metrics_port = port_number("METRICS_PORT", 9090)?;
        let public_url = lookup("PUBLIC_URL")
            .map(|raw| parse_url("PUBLIC_URL", &raw))
            .transpose()?
            .map(|url| url.as_str().trim_end_matches('/').to_owned());
        let twilio_api_base = parse_url("TWILIO_API_BASE", &text("TWILIO_API_BASE", "https://api.twilio.com"))?;
        let booking_wait_ms: u64 = match lookup("BELLA_BOOKING_WAIT_MS") {
            None => 3000,
            Some(raw) => {
                raw.parse().ok().filter(|ms| (50..=10_000).contains(ms)).ok_or_else(|| ConfigError::Invalid {
                    name: "BELLA_BOOKING_WAIT_MS",
                    reason: format!("expected milliseconds from 50 to 10000, got {raw:?}"),
                })?
            }
        };
        let database_pool_size = match lookup("DATABASE_POOL_SIZE") {
            None => 20,
            Some(raw) => raw.parse().ok().filter(|n| (1..=500).contains(n)).ok_or_else(|| ConfigError::Invalid {
                name: "DATABASE_POOL_SIZE",
                reason: format!("expected a number from 1 to 500, got {raw:?}"),
            })?,
        };
        let business_cache_ms: u64 = match lookup("BELLA_BUSINESS_CACHE_MS") {
            None => 30_000,
            Some(raw) => raw.parse().ok().filter(|ms| *ms <= 3_600_000).ok_or_else(|| ConfigError::Invalid {
                name: "BELLA_BUSINESS_CACHE_MS",
                reason: format!("expected milliseconds up to 3600000, got {raw:?}"),
            })?,
        };
        let header_timeout_ms: u64 = match lookup("BELLA_HEADER_TIMEOUT_MS") {
            None => 10_000,
            Some(raw) => {
                raw.parse().ok().filter(|ms| (100..=600_000).contains(ms)).ok_or_else(|| ConfigError::Invalid {
                    name: "BELLA_HEADER_TIMEOUT_MS",
                    reason: format!("expected milliseconds from 100 to 600000, got {raw:?}"),
                })?
            }
        };
        let max_connections: usize = match lookup("BELLA_MAX_CONNECTIONS") {
            None => 4096,
            Some(raw) => {
                raw.parse().ok().filter(|n| (1..=1_000_000).contains(n)).ok_or_else(|| ConfigError::Invalid {
                    name: "BELLA_MAX_CONNECTIONS",
                    reason: format!("expected a number from 1 to 1000000, got {raw:?}"),
                })?
            }
        };
        let timeline_days: u64 = match lookup("BELLA_TIMELINE_DAYS") {
            None => 30,
            Some(raw) => raw.parse().ok().filter(|d| (1..=3650).contains(d)).ok_or_else(|| ConfigError::Invalid {
                name: "BELLA_TIMELINE_DAYS",
                reason: format!("expected a number of days from 1 to 3650, got {raw:?}"),
            })?,
        };
        let namespace = text("BELLA_NAMESPACE", "bella");
        if namespace.is_empty() || !namespace.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            return Err(ConfigError::Invalid {
                name: "BELLA_NAMESPACE",
                reason: "use letters, digits, '_' and '-' only".to_owned(),
            });
        }
        let log_format = match lookup("LOG_FORMAT").as_deref() {
            None | Some("compact" | "pretty" | "text") => LogFormat::Compact,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "LOG_FORMAT",
                    reason: format!("expected compact or json, got {other:?}"),
                });
            }
        };

        let env_token = lookup("TWILIO_AUTH_TOKEN").map(SecretString::from);
        let env_admin = lookup("ADMIN_TOKEN").map(SecretString::from);
        if let Some(admin) = &env_admin {
            let length = admin.expose_secret().chars().count();
            if length < MIN_ADMIN_TOKEN {
                return Err(ConfigError::ShortAdminToken(length));
            }
        }
        let twilio_webhook_hosts: Vec<String> = lookup("TWILIO_WEBHOOK_HOSTS")
            .map(|raw| raw.split(',').map(|h| h.trim().to_ascii_lowercase()).filter(|h| !h.is_empty()).collect())
            .unwrap_or_default();
        if serving && env_token.is_some() && public_url.is_none() && twilio_webhook_hosts.is_empty() {
            return Err(ConfigError::NoWebhookAddress);
        }
        let (twilio_auth_token, admin_token, token_source) = match env_token {
            Some(token) => (token, env_admin, TokenSource::Environment),
            None if public_url.is_some() && serving => return Err(ConfigError::MissingTwilioToken),
            None if !serving => {
                // Never used: this process answers no webhook. Random, so that it cannot be
                // mistaken for a real one.
                let mut bytes = [0u8; 16];
                rand::rng().fill(&mut bytes);
                let unused: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                (SecretString::from(unused), env_admin, TokenSource::NotNeeded)
            }
            None => {
                let dir = state_dir(&lookup);
                let tokens = DevTokens::load_or_create(&dir)?;
                (tokens.twilio_auth_token, env_admin.or(Some(tokens.admin_token)), TokenSource::Development(dir))
            }
        };

        let database_url = with_password(
            "DATABASE_URL",
            text("DATABASE_URL", DEFAULT_DATABASE_URL),
            lookup("DATABASE_PASSWORD").as_deref(),
        )?;
        let redis_url =
            with_password("REDIS_URL", text("REDIS_URL", DEFAULT_REDIS_URL), lookup("REDIS_PASSWORD").as_deref())?;
        let amqp_url =
            with_password("AMQP_URL", text("AMQP_URL", DEFAULT_AMQP_URL), lookup("AMQP_PASSWORD").as_deref())?;

        Ok(Self {
            port,
            metrics_port,
            database_url,
            database_pool_size,
            redis_url,
            amqp_url,
            namespace: Namespace::new(&namespace),
            twilio_auth_token,
            token_source,
            twilio_account_sid: lookup("TWILIO_ACCOUNT_SID"),
            twilio_api_base,
            twilio_sms_from: lookup("TWILIO_SMS_FROM"),
            admin_token,
            public_url,
            trust_forwarded_proto: flag("TRUST_FORWARDED_PROTO")?,
            trust_forwarded_for: flag("TRUST_FORWARDED_FOR")?,
            twilio_webhook_hosts,
            openai_api_key: lookup("OPENAI_API_KEY").map(SecretString::from),
            openai_base_url: lookup("OPENAI_BASE_URL"),
            openai_model: text("OPENAI_MODEL", "gpt-4o-mini"),
            booking_wait: Duration::from_millis(booking_wait_ms),
            business_cache: Duration::from_millis(business_cache_ms),
            header_timeout: Duration::from_millis(header_timeout_ms),
            max_connections,
            metrics_token: lookup("METRICS_TOKEN").map(SecretString::from),
            timeline_retention: Duration::from_secs(timeline_days * 24 * 60 * 60),
            failpoints: lookup("BELLA_FAILPOINTS"),
            log_format,
            otlp_endpoint: lookup("OTEL_EXPORTER_OTLP_ENDPOINT")
                .map(|raw| parse_url("OTEL_EXPORTER_OTLP_ENDPOINT", &raw))
                .transpose()?,
            service_name: text("OTEL_SERVICE_NAME", "bella"),
        })
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

/// `BELLA_STATE_DIR`, else `$XDG_STATE_HOME/bella`, else `~/.local/state/bella`, else `.bella`.
pub fn state_dir(lookup: &impl Fn(&str) -> Option<String>) -> PathBuf {
    if let Some(dir) = lookup("BELLA_STATE_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = lookup("XDG_STATE_HOME") {
        return Path::new(&dir).join("bella");
    }
    match lookup("HOME") {
        Some(home) => Path::new(&home).join(".local/state/bella"),
        None => PathBuf::from(".bella"),
    }
}

/// Tokens generated for local development, one file each, readable by the owner only.
#[derive(Debug)]
pub struct DevTokens {
    pub twilio_auth_token: SecretString,
    pub admin_token: SecretString,
}

impl DevTokens {
    const TWILIO: &'static str = "twilio-auth-token";
    const ADMIN: &'static str = "admin-token";

    /// The tokens kept in `dir`, made on first use. The directory is private to its owner
    /// (0700) and each file too (0600, tightened if it was not); a token file that is a symbolic
    /// link is refused (it could point anywhere); two processes starting at once settle on the
    /// same tokens (each file appears whole, once).
    pub fn load_or_create(dir: &Path) -> Result<Self, ConfigError> {
        let io = |source| ConfigError::StateDir { path: dir.to_owned(), source };
        private_dir(dir).map_err(io)?;
        Ok(Self {
            twilio_auth_token: read_or_create(&dir.join(Self::TWILIO)).map_err(io)?,
            admin_token: read_or_create(&dir.join(Self::ADMIN)).map_err(io)?,
        })
    }

    /// The development tokens if they exist, for `bella call` and the admin CLI.
    pub fn load(dir: &Path) -> Option<Self> {
        let read = |name| read_existing(&dir.join(name)).ok().flatten();
        Some(Self { twilio_auth_token: read(Self::TWILIO)?, admin_token: read(Self::ADMIN)? })
    }

    pub fn admin_token_path(dir: &Path) -> PathBuf {
        dir.join(Self::ADMIN)
    }
}

#[cfg(unix)]
fn private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
    // Created private; a directory that exists already is left as it is (it may be $HOME, or
    // shared): the token files in it are private whatever the directory.
    if std::fs::symlink_metadata(dir).is_err() {
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

/// The token in `path`, if there is one: refused if the file is a symbolic link, made private if
/// it was readable by others.
fn read_existing(path: &Path) -> std::io::Result<Option<SecretString>> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error),
    };
    if meta.file_type().is_symlink() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} is a symbolic link; a token is kept only in a regular file", path.display()),
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if meta.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    let token = std::fs::read_to_string(path)?;
    let token = token.trim();
    Ok((!token.is_empty()).then(|| SecretString::from(token.to_owned())))
}

/// The token in `path`, or a new one written there. The new token is written whole to a private
/// file of its own, then linked into place, which fails if another process got there first: the
/// loser reads the winner's token.
fn read_or_create(path: &Path) -> std::io::Result<SecretString> {
    for _ in 0..3 {
        if let Some(token) = read_existing(path)? {
            return Ok(token);
        }
        if let Ok(meta) = std::fs::symlink_metadata(path) {
            // An empty file (left by an interrupted older version) is replaced; a file with a
            // token in it appeared since the read above (another process won): read it.
            if meta.len() == 0 {
                match std::fs::remove_file(path) {
                    Ok(()) => {}
                    Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                    Err(error) => return Err(error),
                }
            }
            continue;
        }
        let mut bytes = [0u8; 16];
        rand::rng().fill(&mut bytes);
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let temporary = path.with_extension(format!("new-{}-{:08x}", std::process::id(), rand::rng().random::<u32>()));
        write_private(&temporary, &token)?;
        let linked = match std::fs::hard_link(&temporary, path) {
            // A file system without hard links: a rename, which two processes starting together
            // could both win (the second token then replaces the first, once).
            Err(error)
                if error.kind() != std::io::ErrorKind::AlreadyExists && std::fs::symlink_metadata(path).is_err() =>
            {
                std::fs::rename(&temporary, path)
            }
            linked => linked,
        };
        let _ = std::fs::remove_file(&temporary);
        match linked {
            Ok(()) => return Ok(SecretString::from(token)),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(error) => return Err(error),
        }
    }
    read_existing(path)?.ok_or_else(|| std::io::Error::other(format!("cannot settle a token in {}", path.display())))
}

/// A new file, readable by its owner only, created exclusively (never through a link).
#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(path)?;
    file.write_all(contents.as_bytes())
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
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_work_on_localhost() {
        let dir = std::env::temp_dir().join(format!("bella-config-{}", std::process::id()));
        let c = config(&[("BELLA_STATE_DIR", dir.to_str().unwrap())]).unwrap();
        assert_eq!(c.port, 8080);
        assert_eq!(c.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(c.namespace.as_str(), "bella");
        assert_eq!(c.token_source, TokenSource::Development(dir.clone()));
        assert!(c.admin_token.is_some());
        // The same development token on the next start.
        let again = config(&[("BELLA_STATE_DIR", dir.to_str().unwrap())]).unwrap();
        assert_eq!(again.twilio_auth_token.expose_secret(), c.twilio_auth_token.expose_secret());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn public_deployments_need_the_real_token() {
        let err = config(&[("PUBLIC_URL", "https://bella.example.com")]).err().unwrap();
        assert!(matches!(err, ConfigError::MissingTwilioToken));
        let ok = config(&[("PUBLIC_URL", "https://bella.example.com/"), ("TWILIO_AUTH_TOKEN", "t")]).unwrap();
        assert_eq!(ok.public_url.as_deref(), Some("https://bella.example.com"));
        assert_eq!(ok.admin_token.map(|t| t.expose_secret().to_owned()), None);
    }

    #[test]
    fn migrating_needs_no_token_and_writes_no_file() {
        let dir = std::env::temp_dir().join(format!("bella-migrate-{}", uuid::Uuid::new_v4().simple()));
        let map: HashMap<String, String> = [("BELLA_STATE_DIR".to_owned(), dir.display().to_string())].into();
        let c = Config::read(|k| map.get(k).cloned(), false).unwrap();
        assert_eq!(c.token_source, TokenSource::NotNeeded);
        assert!(!dir.exists(), "bella migrate wrote development tokens");
    }

    #[test]
    fn a_real_token_needs_the_address_twilio_calls() {
        let err = config(&[("TWILIO_AUTH_TOKEN", "t")]).err().unwrap();
        assert!(matches!(err, ConfigError::NoWebhookAddress), "{err}");
        assert!(err.to_string().contains("Set PUBLIC_URL"), "{err}");
        let c =
            config(&[("TWILIO_AUTH_TOKEN", "t"), ("TWILIO_WEBHOOK_HOSTS", "Bella.Internal:8080, 10.0.0.5")]).unwrap();
        assert_eq!(c.twilio_webhook_hosts, ["bella.internal:8080", "10.0.0.5"]);
    }

    #[test]
    fn bad_values_name_the_variable() {
        let err = config(&[("TWILIO_AUTH_TOKEN", "t"), ("PORT", "eighty")]).err().unwrap();
        assert!(err.to_string().starts_with("PORT is invalid"), "{err}");
        let err = config(&[("TWILIO_AUTH_TOKEN", "t"), ("BELLA_NAMESPACE", "a b")]).err().unwrap();
        assert!(err.to_string().contains("BELLA_NAMESPACE"), "{err}");
    }

    #[test]
    fn the_worker_has_its_own_port() {
        let c = config(&[("TWILIO_AUTH_TOKEN", "t"), ("PUBLIC_URL", "https://b.example"), ("PORT", "8081")]).unwrap();
        assert_eq!((c.port, c.metrics_port), (8081, 9090));
        let c = config(&[("TWILIO_AUTH_TOKEN", "t"), ("PUBLIC_URL", "https://b.example"), ("METRICS_PORT", "9464")])
            .unwrap();
        assert_eq!((c.port, c.metrics_port), (8080, 9464));
        let err = config(&[("TWILIO_AUTH_TOKEN", "t"), ("METRICS_PORT", "x")]).err().unwrap();
        assert!(err.to_string().starts_with("METRICS_PORT is invalid"), "{err}");
    }

    #[test]
    fn passwords_injected_on_their_own_go_into_the_urls() {
        let c = config(&[
            ("TWILIO_AUTH_TOKEN", "t"),
            ("TWILIO_WEBHOOK_HOSTS", "bella.internal"),
            ("DATABASE_URL", "postgres://bella@db.internal:5432/bella?sslmode=require"),
            ("DATABASE_PASSWORD", "p@ss/word"),
            ("REDIS_URL", "rediss://cache.internal:6379"),
            ("REDIS_PASSWORD", "auth-token"),
            ("AMQP_URL", "amqps://bella@b-1.mq:5671/%2f, amqps://bella@b-2.mq:5671/%2f, b-3.mq:5671"),
            ("AMQP_PASSWORD", "s3cret,%x"),
        ])
        .unwrap();
        assert_eq!(c.database_url, "postgres://bella:p%40ss%2Fword@db.internal:5432/bella?sslmode=require");
        assert_eq!(c.redis_url, "rediss://:auth-token@cache.internal:6379");
        assert_eq!(
            c.amqp_url,
            "amqps://bella:s3cret%2C%25x@b-1.mq:5671/%2f,amqps://bella:s3cret%2C%25x@b-2.mq:5671/%2f,b-3.mq:5671"
        );
        // Without them, the URLs are kept as given.
        let c = config(&[
            ("TWILIO_AUTH_TOKEN", "t"),
            ("PUBLIC_URL", "https://b.example"),
            ("REDIS_URL", "redis://:inline@127.0.0.1:6379"),
        ])
        .unwrap();
        assert_eq!(c.redis_url, "redis://:inline@127.0.0.1:6379");
    }

    #[test]
    fn urls_are_redacted() {
        assert_eq!(redact_url("amqp://guest:secret@127.0.0.1:5672/%2f"), "amqp://127.0.0.1:5672/%2f");
        assert_eq!(redact_url("postgres://u:p@db/bella"), "postgres://db/bella");
        assert_eq!(
            redact_url("amqp://u:p@n1:5672/%2f,amqp://u:p@n2:5673/%2f"),
            "amqp://n1:5672/%2f, amqp://n2:5673/%2f"
        );
    }

    #[test]
    fn a_short_admin_token_is_refused_with_the_reason() {
        let err = config(&[("TWILIO_AUTH_TOKEN", "t"), ("ADMIN_TOKEN", "hunter2")]).err().unwrap();
        assert!(matches!(err, ConfigError::ShortAdminToken(7)), "{err}");
        assert!(err.to_string().contains("ADMIN_TOKEN is too short"), "{err}");
        let long = "x".repeat(MIN_ADMIN_TOKEN);
        assert!(
            config(&[("TWILIO_AUTH_TOKEN", "t"), ("PUBLIC_URL", "https://b.example"), ("ADMIN_TOKEN", &long)]).is_ok()
        );
    }

    #[cfg(unix)]
    #[test]
    fn development_tokens_are_private_and_settled_once() {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let base = std::env::temp_dir().join(format!("bella-tokens-{}", uuid::Uuid::new_v4().simple()));
        let dir = base.join("state");
        // Eight processes starting at once settle on one pair of tokens.
        let tokens: Vec<(String, String)> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    scope.spawn(|| {
                        let t = DevTokens::load_or_create(&dir).unwrap();
                        (t.twilio_auth_token.expose_secret().to_owned(), t.admin_token.expose_secret().to_owned())
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(tokens.windows(2).all(|w| w[0] == w[1]), "{tokens:?}");
        assert_eq!(tokens[0].1.len(), MIN_ADMIN_TOKEN);
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("admin-token")), 0o600);
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2, "temporary files left behind");

        // A file left readable by others is made private.
        std::fs::set_permissions(dir.join("admin-token"), std::fs::Permissions::from_mode(0o644)).unwrap();
        let again = DevTokens::load_or_create(&dir).unwrap();
        assert_eq!(again.admin_token.expose_secret(), tokens[0].1);
        assert_eq!(mode(&dir.join("admin-token")), 0o600);

        // A token file that is a symbolic link is refused, with the path in the message.
        let elsewhere = base.join("elsewhere");
        std::fs::write(&elsewhere, "planted-token-of-someone-else").unwrap();
        std::fs::remove_file(dir.join("admin-token")).unwrap();
        std::os::unix::fs::symlink(&elsewhere, dir.join("admin-token")).unwrap();
        let refused = DevTokens::load_or_create(&dir).err().unwrap();
        assert!(refused.to_string().contains("symbolic link"), "{refused}");
        std::fs::remove_dir_all(base).unwrap();
    }

    #[test]
    fn tokens_compare() {
        let t = SecretString::from("abc".to_owned());
        assert!(token_matches(&t, "abc"));
        assert!(!token_matches(&t, "abd"));
        assert!(!token_matches(&t, "ab"));
    }
}
