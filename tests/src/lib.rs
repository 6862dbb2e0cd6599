//! The end-to-end harness: [`spawn_app`] starts the real Bella (api and worker, as `bella all`
//! does) on port 0 against the real PostgreSQL, Redis and RabbitMQ, isolated from every other
//! test by its own database, Redis key namespace and RabbitMQ queues, and removes them again
//! when the [`TestApp`] is dropped.
//!
//! Services are found at their usual localhost addresses, or through `TEST_DATABASE_URL` (a
//! server URL without a database name), `TEST_REDIS_URL` and `TEST_AMQP_URL`.

// A test harness reports a broken precondition by failing the test, that is, by panicking.
#![allow(clippy::expect_used, clippy::unwrap_used)]

pub mod days;
pub mod engines;
pub mod fake_openai;
pub mod fake_twilio;
pub mod process;
pub mod services;

pub use days::{ZONE, jour, local_rfc3339, open_day, open_day_after, spoken_day};

use std::collections::HashMap;
use std::sync::Once;

use adapters::Config;
use adapters::postgres::businesses::Profile;
use bella::simulator::Simulator;
use bella::{Roles, Running, bootstrap};
use chrono::{Duration, NaiveDate, Utc};
use secrecy::SecretString;
use serde_json::Value;
use sqlx::PgPool;
use workflows::{BusinessId, E164, Language};

/// Each test's database and namespace: `bella_test_{stamp}_{unique}` (see [`sandbox::stamped_name`]).
const DATABASE_PREFIX: &str = "bella_test";

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_owned())
}

fn server_url() -> String {
    env_or("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432")
}

/// A running Bella for one test.
pub struct TestApp {
    pub config: Config,
    /// The environment the configuration was read from, for `bella` subprocesses.
    pub env: HashMap<String, String>,
    roles: Roles,
    pub base_url: String,
    /// A pool of the test's own, for assertions.
    pub pool: PgPool,
    running: Option<Running>,
    database: String,
    database_server: String,
}

impl std::fmt::Debug for TestApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestApp").field("base_url", &self.base_url).field("database", &self.database).finish()
    }
}

/// Starts Bella with a fresh database, namespace and tokens.
pub async fn spawn_app() -> TestApp {
    spawn_with(&[]).await
}

/// Starts Bella with extra environment variables for its configuration.
pub async fn spawn_with(extra: &[(&str, &str)]) -> TestApp {
    spawn_roles(extra, Roles::ALL).await
}

/// Where a test's Bella finds PostgreSQL, Redis and RabbitMQ: the machine's shared services,
/// unless a test brings engines of its own (a primary with a standby, a cluster).
#[derive(Debug, Clone)]
pub struct Engines {
    /// A PostgreSQL server URL without a database name.
    pub database_server: String,
    pub redis_url: String,
    pub amqp_url: String,
}

impl Default for Engines {
    fn default() -> Self {
        Self {
            database_server: server_url(),
            redis_url: env_or("TEST_REDIS_URL", "redis://127.0.0.1:6379"),
            amqp_url: env_or("TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2f"),
        }
    }
}

/// Starts the given roles of Bella (the outbox relay always runs) with extra configuration.
pub async fn spawn_roles(extra: &[(&str, &str)], roles: Roles) -> TestApp {
    spawn_on(&Engines::default(), extra, roles).await
}

/// The same, on the given engines.
pub async fn spawn_on(engines: &Engines, extra: &[(&str, &str)], roles: Roles) -> TestApp {
    // Spans with trace context always (jobs carry it); TEST_LOG=1 also shows Bella's logs.
    bella::telemetry::init_for_tests(std::env::var("TEST_LOG").is_ok());
    sweep_leftovers_once().await;
    let name = sandbox::stamped_name(DATABASE_PREFIX);
    let mut vars: HashMap<String, String> = [
        ("PORT", "0".to_owned()),
        ("METRICS_PORT", "0".to_owned()),
        ("DATABASE_URL", sandbox::database_url(&engines.database_server, &name).expect("the test's database URL")),
        ("DATABASE_POOL_SIZE", "6".to_owned()),
        ("REDIS_URL", engines.redis_url.clone()),
        ("AMQP_URL", engines.amqp_url.clone()),
        ("TWILIO_AUTH_TOKEN", uuid::Uuid::new_v4().simple().to_string()),
        // Webhooks reach the test's server at 127.0.0.1, on whatever port it took.
        ("TWILIO_WEBHOOK_HOSTS", "127.0.0.1".to_owned()),
        ("ADMIN_TOKEN", uuid::Uuid::new_v4().simple().to_string()),
        ("BELLA_NAMESPACE", name.clone()),
        // Businesses created by a test are seen by the next turn.
        ("BELLA_BUSINESS_CACHE_MS", "0".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for (k, v) in extra {
        vars.insert((*k).to_owned(), (*v).to_owned());
    }
    let config = Config::from_lookup(|k| vars.get(k).cloned()).expect("test configuration");
    let running = bootstrap::start(config.clone(), roles).await.expect("Bella starts");
    let port = running.port.expect("the api runs");
    let pool = adapters::postgres::connect(&config.database_url, 2).await.expect("test pool");
    TestApp {
        base_url: format!("http://127.0.0.1:{port}"),
        config,
        env: vars,
        roles,
        pool,
        running: Some(running),
        database: name,
        database_server: engines.database_server.clone(),
    }
}

impl TestApp {
    pub fn twilio_token(&self) -> SecretString {
        self.config.twilio_auth_token.clone()
    }

    /// A new call from `from` (`anonymous` when withheld) to the default business.
    pub fn call(&self, from: &str) -> Simulator {
        Simulator::new(&self.base_url, self.twilio_token(), from, "+15145550199").expect("simulator")
    }

    /// Stops Bella (api and worker) and starts it again on a new port, as a deploy would.
    pub async fn restart(&mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await.expect("Bella stops cleanly");
        }
        let running = bootstrap::start(self.config.clone(), self.roles).await.expect("Bella restarts");
        self.base_url = format!("http://127.0.0.1:{}", running.port.expect("the api runs"));
        self.running = Some(running);
    }

    /// `GET` an admin API path with the admin token (or another, or none).
    pub async fn admin_get(&self, path: &str, token: Option<&str>) -> (reqwest::StatusCode, Value) {
        use secrecy::ExposeSecret as _;
        let admin = self.config.admin_token.as_ref().map(|t| t.expose_secret().to_owned()).unwrap_or_default();
        let mut request = reqwest::Client::new().get(format!("{}{path}", self.base_url));
        match token {
            Some("") => {}
            Some(other) => request = request.bearer_auth(other),
            None => request = request.bearer_auth(admin),
        }
        let response = request.send().await.expect("admin API answers");
        let status = response.status();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    /// Every appointment, as `GET /admin/api/appointments` returns them.
    pub async fn appointments(&self) -> Vec<Value> {
        let (status, body) = self.admin_get("/admin/api/appointments", None).await;
        assert_eq!(status, 200, "{body}");
        body.as_array().cloned().unwrap_or_default()
    }

    /// Whether Redis still holds the session of `call_sid`.
    pub async fn session_exists(&self, call_sid: &str) -> bool {
        let call = workflows::CallSid::parse(call_sid).expect("CallSid");
        let mut redis = adapters::redis::connect(&self.config.redis_url).await.expect("redis");
        let exists: i64 = redis::cmd("EXISTS")
            .arg(self.config.namespace.session_key(&call))
            .query_async(&mut redis)
            .await
            .expect("EXISTS");
        exists == 1
    }

    /// Drops the times callers hold at the default business, as a Redis restart would.
    pub async fn forget_holds(&self) {
        let key = self.config.namespace.holds_key(adapters::postgres::businesses::DEFAULT_BUSINESS_ID);
        let mut redis = adapters::redis::connect(&self.config.redis_url).await.expect("redis");
        let _: i64 = redis::cmd("DEL").arg(key).query_async(&mut redis).await.expect("DEL");
    }

    /// Every field of a call's session hash in Redis, to put back later.
    pub async fn session_hash(&self, call_sid: &str) -> Vec<(String, String)> {
        let call = workflows::CallSid::parse(call_sid).expect("CallSid");
        let mut redis = adapters::redis::connect(&self.config.redis_url).await.expect("redis");
        redis::cmd("HGETALL")
            .arg(self.config.namespace.session_key(&call))
            .query_async(&mut redis)
            .await
            .expect("HGETALL")
    }

    /// Replaces a call's session hash in Redis, as a replica that missed the last writes would
    /// hold it after a failover.
    pub async fn set_session_hash(&self, call_sid: &str, fields: &[(String, String)]) {
        let call = workflows::CallSid::parse(call_sid).expect("CallSid");
        let key = self.config.namespace.session_key(&call);
        let mut redis = adapters::redis::connect(&self.config.redis_url).await.expect("redis");
        let _: () = redis::pipe()
            .atomic()
            .cmd("DEL")
            .arg(&key)
            .cmd("HSET")
            .arg(&key)
            .arg(fields)
            .cmd("EXPIRE")
            .arg(&key)
            .arg(900)
            .query_async(&mut redis)
            .await
            .expect("HSET");
    }

    /// Waits until the PostgreSQL copy of a call's session has reached `turn` (it is written
    /// just after each answer).
    pub async fn wait_for_session_copy(&self, call_sid: &str, turn: i32) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let kept: Option<i32> = sqlx::query_scalar("select turn from call_sessions where call_sid = $1")
                .bind(call_sid)
                .fetch_optional(&self.pool)
                .await
                .expect("call_sessions");
            if kept.is_some_and(|kept| kept >= turn) {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "the session copy never reached turn {turn}: {kept:?}");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let running = self.running.take();
        let config = self.config.clone();
        let database = self.database.clone();
        let server = self.database_server.clone();
        // Cleaning up needs async I/O, and Drop cannot await: do it on a thread of its own.
        let cleanup = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
            runtime.block_on(async move {
                if let Some(running) = running {
                    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), running.stop()).await;
                }
                remove(&config, &server, &database).await;
            });
        });
        let _ = cleanup.join();
    }
}

async fn remove(config: &Config, server: &str, database: &str) {
    sandbox::remove_namespace(config).await;
    let _ = sandbox::drop_database(server, database).await;
    let _ = sandbox::drop_database(server, &format!("{database}_bare")).await;
}

/// Drops test databases left behind by runs that were killed, once per test process.
async fn sweep_leftovers_once() {
    static ONCE: Once = Once::new();
    let mut first = false;
    ONCE.call_once(|| first = true);
    if first {
        sandbox::sweep_databases(&server_url(), DATABASE_PREFIX, std::time::Duration::from_secs(2 * 60 * 60)).await;
    }
}

/// The number of the test's Quebec business.
pub const QUEBEC_NUMBER: &str = "+15145550142";
/// Where its calls are transferred.
pub const QUEBEC_TRANSFER: &str = "+15145550111";

impl TestApp {
    /// Creates a business: the defaults of `bella admin business create`, changed by `edit`.
    pub async fn business(&self, name: &str, edit: impl FnOnce(&mut Profile)) -> BusinessId {
        let mut profile = operations::businesses::default_profile();
        profile.name = name.to_owned();
        edit(&mut profile);
        adapters::postgres::businesses::create(&self.pool, &profile).await.expect("business created")
    }

    /// A French-first salon in Montréal with a transfer number: `QUEBEC_NUMBER`.
    pub async fn quebec_salon(&self) -> BusinessId {
        self.business("Salon Élégance", |p| {
            p.phone_number = Some(E164::parse(QUEBEC_NUMBER).unwrap());
            p.time_zone = chrono_tz::America::Toronto;
            p.province = workflows::holidays::Province::QC;
            p.languages = vec![Language::Fr, Language::En];
            p.transfer_number = Some(E164::parse(QUEBEC_TRANSFER).unwrap());
            p.address = Some("123, rue Saint-Denis, Montréal".into());
        })
        .await
    }

    /// A call from `from` to the number `to`.
    pub fn call_to(&self, from: &str, to: &str) -> Simulator {
        Simulator::new(&self.base_url, self.twilio_token(), from, to).expect("simulator")
    }

    /// The appointments `GET /admin/api/appointments?{query}` returns.
    pub async fn appointments_where(&self, query: &str) -> Vec<Value> {
        let (status, body) = self.admin_get(&format!("/admin/api/appointments?{query}"), None).await;
        assert_eq!(status, 200, "{body}");
        body.as_array().cloned().unwrap_or_default()
    }

    /// Books an appointment through a whole English call to the default business; returns the
    /// reference Bella read out.
    pub async fn book_by_phone(&self, from: &str, name: &str, day: NaiveDate, at: &str) -> String {
        let mut call = self.call(from);
        call.dial().await.unwrap();
        let mut heard = call.say(&format!("this is {name}, I'd like {} at {at}", spoken_day(day))).await.unwrap();
        // A first-time caller confirms the caller ID; a returning one goes straight to the read-back.
        if heard.text().contains("ending in") {
            heard = call.say("yes").await.unwrap();
        }
        assert!(heard.text().contains("Shall I book it?"), "{}", heard.text());
        let heard = call.say("yes").await.unwrap();
        assert!(heard.text().contains("You're all set"), "{}", heard.text());
        call.hang_up().await.unwrap();
        let rows = self.appointments_where(&format!("call_sid={}", call.call_sid())).await;
        rows[0]["reference"].as_str().unwrap().to_owned()
    }
}

/// Talking to the test's broker and result board directly, as a worker or the api would.
impl TestApp {
    pub async fn amqp(&self) -> adapters::amqp::Broker {
        adapters::amqp::connect(&self.config.amqp_url, "bella-test").await.expect("amqp")
    }

    /// Publishes a job with confirms, as the api does.
    pub async fn publish(&self, job: &workflows::jobs::Job) {
        let amqp = self.amqp().await;
        let publisher = adapters::amqp::Publisher::new(&amqp, self.config.namespace.clone()).await.expect("publisher");
        publisher.publish(job, std::time::Duration::from_secs(5)).await.expect("published");
        amqp.close(200, "OK".into()).await.ok();
    }

    /// Waits up to `limit` for the result the worker posts for `key`.
    pub async fn outcome(&self, key: &str, limit: std::time::Duration) -> Option<workflows::jobs::JobOutcome> {
        let redis = adapters::redis::connect(&self.config.redis_url).await.expect("redis");
        let board = adapters::redis::ResultBoard::new(redis, self.config.namespace.clone());
        let deadline = std::time::Instant::now() + limit;
        while std::time::Instant::now() < deadline {
            if let Some(outcome) = board.get(key).await.expect("result") {
                return Some(outcome);
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        None
    }

    /// A kind's dead letters, as the worker's keeper stored them in PostgreSQL: (headers as
    /// text, payload), oldest first.
    pub async fn dead_letters(
        &self,
        kind: workflows::jobs::JobKind,
    ) -> Vec<(std::collections::BTreeMap<String, String>, Vec<u8>)> {
        let rows: Vec<(Value, Vec<u8>)> = sqlx::query_as(
            "select headers, payload from dead_letters where kind = $1 order by dead_at, dead_letter_id",
        )
        .bind(kind.name())
        .fetch_all(&self.pool)
        .await
        .expect("dead letters");
        rows.into_iter()
            .map(|(headers, payload)| {
                let headers = headers
                    .as_object()
                    .map(|map| {
                        map.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned())).collect()
                    })
                    .unwrap_or_default();
                (headers, payload)
            })
            .collect()
    }

    /// `POST`s JSON to the admin API with `token` (None: ADMIN_TOKEN): (status, JSON body).
    pub async fn admin_post(&self, path: &str, body: Value, token: Option<&str>) -> (reqwest::StatusCode, Value) {
        use secrecy::ExposeSecret as _;
        let admin = self.config.admin_token.as_ref().map(|t| t.expose_secret().to_owned()).unwrap_or_default();
        let response = reqwest::Client::new()
            .post(format!("{}{path}", self.base_url))
            .bearer_auth(token.unwrap_or(&admin))
            .json(&body)
            .send()
            .await
            .expect("admin API answers");
        let status = response.status();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    /// Runs `bella admin …` against this app (its database, Redis and RabbitMQ namespace):
    /// (success, stdout, stderr).
    pub async fn bella_admin(&self, args: &[&str]) -> (bool, String, String) {
        self.bella_admin_with(&[], args).await
    }

    /// A second database on the test's server that no `bella migrate` has prepared (it has no
    /// tables), dropped with the app: its URL.
    pub async fn bare_database(&self) -> String {
        let name = format!("{}_bare", self.database);
        sandbox::create_database(&self.database_server, &name).await.expect("create a bare database");
        sandbox::database_url(&self.database_server, &name).expect("the bare database's URL")
    }

    /// Runs `bella admin …` as [`TestApp::bella_admin`] does, with some variables changed.
    pub async fn bella_admin_with(&self, changed: &[(&str, &str)], args: &[&str]) -> (bool, String, String) {
        let mut command = tokio::process::Command::new(process::bella_binary());
        command.arg("admin").args(args).env_clear().envs(&self.env).stdin(std::process::Stdio::null());
        command.envs(changed.iter().copied());
        for key in ["PATH", "HOME", "USER"] {
            if let Some(value) = std::env::var_os(key) {
                command.env(key, value);
            }
        }
        let output = command.output().await.expect("bella admin runs");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    /// A value from the test's database.
    pub async fn scalar<T>(&self, sql: &'static str) -> T
    where
        T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + Unpin,
        (T,): for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
    {
        sqlx::query_scalar(sql).fetch_one(&self.pool).await.expect("query")
    }
}

/// A booking job for the default business, `days` from now at 15:00 UTC (10:00 or 11:00 in
/// Toronto).
pub fn booking_job(call: &str, attempt: u32, days: i64) -> workflows::jobs::BookAppointment {
    use workflows::jobs::BookAppointment;
    let call_sid = workflows::CallSid::parse(call).expect("CallSid");
    let day = open_day_after(days);
    let starts_at = day.and_hms_opt(15, 0, 0).expect("time").and_utc();
    BookAppointment {
        idempotency_key: workflows::jobs::keys::book(&call_sid, attempt),
        call_sid,
        attempt,
        business_id: adapters::postgres::businesses::DEFAULT_BUSINESS_ID,
        name: workflows::extract::PersonName::parse("Ann Lee").expect("name"),
        name_to_check: false,
        phone: E164::parse("+14165550123").expect("phone"),
        starts_at,
        ends_at: starts_at + Duration::minutes(30),
        language: Language::En,
        requested_at: Utc::now(),
        deferred: false,
    }
}

/// A CallSid made of one repeated hex digit and a number: `CA1111…0007`.
pub fn call_sid(n: u32) -> String {
    format!("CA{:032x}", 0x1234_0000_u64 + u64::from(n))
}

/// Starts Bella with text messages going to a fake Twilio.
pub async fn spawn_with_twilio(extra: &[(&str, &str)]) -> (TestApp, fake_twilio::FakeTwilio) {
    let twilio = fake_twilio::FakeTwilio::start().await;
    let uri = twilio.uri();
    let mut vars = vec![
        ("TWILIO_ACCOUNT_SID", fake_twilio::ACCOUNT_SID),
        ("TWILIO_API_BASE", uri.as_str()),
        ("TWILIO_SMS_FROM", fake_twilio::SMS_FROM),
    ];
    vars.extend_from_slice(extra);
    (spawn_with(&vars).await, twilio)
}

impl TestApp {
    /// The SMS ledger: (kind, to, status, body, twilio_sid), oldest first.
    pub async fn texts(&self) -> Vec<(String, String, String, String, Option<String>)> {
        sqlx::query_as("select kind, to_phone, status, body, twilio_sid from sms_messages order by created_at")
            .fetch_all(&self.pool)
            .await
            .expect("ledger")
    }

    /// Waits until every text in the ledger has left `intended` and `submitting`, and returns
    /// them.
    pub async fn settled_texts(&self, count: usize) -> Vec<(String, String, String, String, Option<String>)> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let texts = self.texts().await;
            if texts.len() >= count && texts.iter().all(|t| t.2 != "intended" && t.2 != "submitting") {
                return texts;
            }
            assert!(std::time::Instant::now() < deadline, "texts never settled: {texts:?}");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// Posts a signed Twilio webhook to `path`; returns the status and body.
    pub async fn twilio_post(&self, path: &str, params: &[(&str, &str)]) -> (u16, String) {
        let mut sim = self.call("+14165550123");
        let url = sim.resolve(path).expect("url");
        let params = params.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        let (status, body) = sim.post(&url, params).await.expect("post");
        (status.as_u16(), body)
    }
}

/// Starts Bella with LLM repairs going to a fake model that answers `value`.
pub async fn spawn_with_model(value: Option<&str>) -> (TestApp, fake_openai::FakeOpenAi) {
    let model = fake_openai::FakeOpenAi::answering(value).await;
    let env = model.env();
    let vars: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    (spawn_with(&vars).await, model)
}

impl TestApp {
    /// The LLM repairs of the test: (status, step output, last error), oldest first.
    pub async fn repairs(&self) -> Vec<(String, Value, Option<String>)> {
        sqlx::query_as(
            "select r.status, coalesce(s.output, 'null'::jsonb), r.last_error
               from workflow_runs r left join workflow_steps s using (workflow_run_id)
              where r.kind = 'repair_answer' order by r.created_at",
        )
        .fetch_all(&self.pool)
        .await
        .expect("repair runs")
    }

    /// Waits until `count` repairs have ended, and returns them.
    pub async fn ended_repairs(&self, count: usize) -> Vec<(String, Value, Option<String>)> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let repairs = self.repairs().await;
            if repairs.len() >= count && repairs.iter().all(|r| r.0 != "running") {
                return repairs;
            }
            assert!(std::time::Instant::now() < deadline, "repairs never ended: {repairs:?}");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}
