use std::collections::HashMap;
use std::path::Path;

use super::*;

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
    let c = config(&[("TWILIO_AUTH_TOKEN", "t"), ("TWILIO_WEBHOOK_HOSTS", "Bella.Internal:8080, 10.0.0.5")]).unwrap();
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
    let c =
        config(&[("TWILIO_AUTH_TOKEN", "t"), ("PUBLIC_URL", "https://b.example"), ("METRICS_PORT", "9464")]).unwrap();
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
    assert_eq!(redact_url("amqp://u:p@n1:5672/%2f,amqp://u:p@n2:5673/%2f"), "amqp://n1:5672/%2f, amqp://n2:5673/%2f");
}

#[test]
fn a_short_admin_token_is_refused_with_the_reason() {
    let err = config(&[("TWILIO_AUTH_TOKEN", "t"), ("ADMIN_TOKEN", "hunter2")]).err().unwrap();
    assert!(matches!(err, ConfigError::ShortAdminToken(7)), "{err}");
    assert!(err.to_string().contains("ADMIN_TOKEN is too short"), "{err}");
    let long = "x".repeat(MIN_ADMIN_TOKEN);
    assert!(config(&[("TWILIO_AUTH_TOKEN", "t"), ("PUBLIC_URL", "https://b.example"), ("ADMIN_TOKEN", &long)]).is_ok());
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
