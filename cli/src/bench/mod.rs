//! `bella bench`: Bella's two numbers (how long a caller waits on each turn, how many bookings
//! the pipeline makes per second) and the api's memory, each beside the floor it is measured
//! against, on the services this machine runs.
//!
//! Self-contained: it creates its own database and namespace (`--name`), starts `bella api`,
//! `bella worker` and the floor server as child processes of this binary, runs the load from
//! this process, writes the results as JSON and prints them, then removes what it created.
//! docs/BENCHMARKS.md explains each measurement and records this machine's figures.

pub mod fleet;
pub mod floor;
pub mod pipeline;
pub mod publish;
pub mod stats;
pub mod turns;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use adapters::postgres::businesses::{self, DEFAULT_BUSINESS_ID, Profile};
use adapters::{Config, Namespace};
use anyhow::Context as _;
use chrono::Utc;
use secrecy::SecretString;
use serde::Serialize;
use workflows::schedule::WeeklyHours;

use fleet::Server;
use pipeline::{Pipeline, PipelineReport};
use turns::{Load, MemoryRun, Slots, Target, TurnRun};

/// What to run, and how hard.
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// Concurrent simulated callers in the turn-latency run.
    #[arg(long, default_value_t = 200)]
    pub calls: usize,
    /// Calls each caller places, one after another.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// A caller's speaking time between turns, in milliseconds (randomised ±50%); 0 sends turns
    /// back to back, to find the most calls per second.
    #[arg(long, default_value_t = 1000)]
    pub think_ms: u64,
    /// Booking jobs through the pipeline.
    #[arg(long, default_value_t = 20_000)]
    pub jobs: usize,
    /// Calls held in progress at once while the api's memory is measured.
    #[arg(long, default_value_t = 1000)]
    pub memory_calls: usize,
    /// Which parts to run.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [Part::Turns, Part::Memory, Part::Pipeline])]
    pub only: Vec<Part>,
    /// The results file (JSON).
    #[arg(long, default_value = "bench-results.json")]
    pub out: PathBuf,
    /// The bench's database and namespace (replaced at the start, removed at the end).
    #[arg(long, default_value = "bella_bench")]
    pub name: String,
    /// Keep the database and the api's state at the end, to look at them.
    #[arg(long)]
    pub keep: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    Turns,
    Memory,
    Pipeline,
}

/// Worker slots per kind (the worker's default prefetch and concurrency); the floor gets as many.
const WORKER_CONCURRENCY: u16 = 16;
/// Jobs outstanding at most in the pipeline run: four times the worker's slots.
const PIPELINE_WINDOW: usize = 64;
/// Webhooks in flight at most while calls are held for the memory measurement.
const MEMORY_IN_FLIGHT: usize = 50;
/// Calls placed first and not measured: connection pools and caches warm up.
const WARM_UP_CALLS: usize = 20;
/// Callers are numbered from here in each part, so that no call is from a returning caller.
const WARM_UP_FIRST_CALLER: usize = 200_000;
const MEMORY_FIRST_CALLER: usize = 100_000;

#[derive(Debug, Serialize)]
pub struct Report {
    pub started_at: chrono::DateTime<Utc>,
    pub machine: Machine,
    pub build: &'static str,
    pub turns: Option<TurnsReport>,
    pub memory: Option<MemoryRun>,
    pub pipeline: Option<PipelineReport>,
    pub targets: Vec<Check>,
}

#[derive(Debug, Serialize)]
pub struct Machine {
    pub cores: usize,
    pub cpu: String,
}

#[derive(Debug, Serialize)]
pub struct TurnsReport {
    pub load: Load,
    pub bella: TurnRun,
    pub floor: TurnRun,
    pub ratio_p50: f64,
    pub ratio_p99: f64,
    /// The api's own mean time per step of a turn (from its /metrics), in milliseconds.
    pub server_steps_ms: BTreeMap<String, f64>,
}

/// A target of the performance issue, and whether this run met it.
#[derive(Debug, Serialize)]
pub struct Check {
    pub target: String,
    pub measured: String,
    pub met: bool,
}

/// Runs the bench, writes `options.out` and returns the report.
pub async fn run(options: &Options) -> anyhow::Result<Report> {
    anyhow::ensure!(options.calls > 0 && options.rounds > 0, "--calls and --rounds must be at least 1");
    anyhow::ensure!(
        options.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
        "--name takes lowercase letters, digits and underscores"
    );
    let config = Config::from_env()?;
    let bench = Bench::prepare(&config, options).await?;
    let result = bench.measure(options).await;
    bench.clean_up(options.keep).await;
    let report = result?;
    let json = serde_json::to_string_pretty(&report)?;
    std::fs::write(&options.out, json + "\n").with_context(|| format!("writing {}", options.out.display()))?;
    Ok(report)
}

struct Bench {
    config: Config,
    names: Namespace,
    database: String,
    database_url: String,
    services: adapters::Services,
    env: Vec<(String, String)>,
    token: SecretString,
    state_dir: PathBuf,
    pipeline_business: workflows::BusinessId,
}

impl Bench {
    /// A fresh database with the bench's businesses, and an empty namespace.
    async fn prepare(config: &Config, options: &Options) -> anyhow::Result<Self> {
        let database_url = with_database(&config.database_url, &options.name)?;
        drop_database(&config.database_url, &options.name).await?;
        let mut bench_config = config.clone();
        bench_config.database_url = database_url.clone();
        bench_config.namespace = Namespace::new(&options.name);
        let services = crate::bootstrap::connect(&bench_config).await?;
        remove_namespace(&services, &bench_config.namespace).await;
        crate::bootstrap::prepare(&bench_config, &services).await?;
        // The callers' business: open every day 06:00-22:00, ten-minute appointments, so the
        // bench has many distinct times to book (turns::Slots).
        let default = businesses::load_all(&services.pool)
            .await?
            .into_iter()
            .find(|b| b.profile.id == DEFAULT_BUSINESS_ID)
            .context("the default business is missing")?;
        let mut profile = Profile::of(&default);
        profile.hours = WeeklyHours::parse("mon-sun 06:00-22:00").map_err(anyhow::Error::msg)?;
        profile.appointment_minutes = 10;
        profile.min_notice_minutes = 0;
        profile.phone_number = Some(workflows::E164::parse(turns::DIALLED)?);
        businesses::update(&services.pool, DEFAULT_BUSINESS_ID, &profile).await?;
        // The pipeline's jobs book into a business of their own.
        let pipeline_profile =
            Profile { name: "Bench pipeline".into(), phone_number: None, is_default: false, ..profile };
        let pipeline_business = businesses::create(&services.pool, &pipeline_profile).await?;

        let token = random_token();
        let state_dir = std::env::temp_dir().join(format!("{}-{}", options.name, std::process::id()));
        let env = vec![
            ("DATABASE_URL".to_owned(), database_url.clone()),
            ("REDIS_URL".to_owned(), config.redis_url.clone()),
            ("AMQP_URL".to_owned(), config.amqp_url.clone()),
            ("BELLA_NAMESPACE".to_owned(), options.name.clone()),
            ("TWILIO_AUTH_TOKEN".to_owned(), token.clone()),
            ("TWILIO_WEBHOOK_HOSTS".to_owned(), "127.0.0.1".to_owned()),
            ("ADMIN_TOKEN".to_owned(), random_token()),
            ("BELLA_STATE_DIR".to_owned(), state_dir.display().to_string()),
            ("LOG_FORMAT".to_owned(), "compact".to_owned()),
        ];
        Ok(Self {
            config: bench_config,
            names: Namespace::new(&options.name),
            database: options.name.clone(),
            database_url,
            services,
            env,
            token: SecretString::from(token),
            state_dir,
            pipeline_business,
        })
    }

    async fn measure(&self, options: &Options) -> anyhow::Result<Report> {
        let started_at = Utc::now();
        eprintln!("starting bella api and bella worker ({})", adapters::config::redact_url(&self.database_url));
        let api = Server::start("api", &["api"], &self.env, "/readyz").await?;
        let worker = Server::start("worker", &["worker"], &self.env, "/readyz").await?;
        let result = self.parts(options, &api).await;
        api.stop().await;
        worker.stop().await;
        let (turns, memory, pipeline) = result?;
        let targets = checks(turns.as_ref(), memory.as_ref(), pipeline.as_ref());
        Ok(Report { started_at, machine: machine(), build: build(), turns, memory, pipeline, targets })
    }

    async fn parts(
        &self,
        options: &Options,
        api: &Server,
    ) -> anyhow::Result<(Option<TurnsReport>, Option<MemoryRun>, Option<PipelineReport>)> {
        let runs = |part| options.only.contains(&part);
        let http = reqwest::Client::builder().timeout(Duration::from_secs(15)).build()?;
        let today = Utc::now().with_timezone(&chrono_tz::America::Toronto).date_naive();
        let load = Load { callers: options.calls, calls_per_caller: options.rounds, think_ms: options.think_ms };
        let needed = WARM_UP_CALLS + load.callers * load.calls_per_caller + options.memory_calls;
        let slots = Arc::new(Slots::new(needed, today));
        let target = Target { http: http.clone(), base: api.url(), token: self.token.clone() };

        let turns = if runs(Part::Turns) {
            let warm = Load { callers: WARM_UP_CALLS, calls_per_caller: 1, think_ms: 0 };
            let progress = bar(WARM_UP_CALLS, "warming up");
            turns::run(&target, warm, Some(slots.clone()), WARM_UP_FIRST_CALLER, &progress).await?;
            progress.finish_and_clear();
            let before = api.metrics().await?;
            let progress = bar(load.callers * load.calls_per_caller, "bella: calls through the api");
            let bella = turns::run(&target, load, Some(slots.clone()), 0, &progress).await?;
            progress.finish_and_clear();
            let server_steps_ms = step_means(&before, &api.metrics().await?);
            let floor_server =
                Server::start("floor", &["bench-floor"], &self.env, "/healthz").await.context("the floor server")?;
            let floor_target = Target { http: http.clone(), base: floor_server.url(), token: self.token.clone() };
            let progress = bar(load.callers * load.calls_per_caller, "floor: the same calls");
            let floor = turns::run(&floor_target, load, None, 0, &progress).await;
            progress.finish_and_clear();
            floor_server.stop().await;
            let floor = floor?;
            let ratio = |a: f64, b: f64| a / b.max(1e-6);
            Some(TurnsReport {
                load,
                ratio_p50: ratio(bella.all.p50_ms, floor.all.p50_ms),
                ratio_p99: ratio(bella.all.p99_ms, floor.all.p99_ms),
                bella,
                floor,
                server_steps_ms,
            })
        } else {
            None
        };

        let memory = if runs(Part::Memory) && options.memory_calls > 0 {
            let progress = bar(options.memory_calls, "memory: calls brought to the read-back");
            let held = turns::hold(
                &target,
                options.memory_calls,
                slots.clone(),
                MEMORY_FIRST_CALLER,
                MEMORY_IN_FLIGHT,
                &progress,
                || api.memory(),
            )
            .await?;
            progress.finish_and_clear();
            Some(held)
        } else {
            None
        };

        let pipeline = if runs(Part::Pipeline) && options.jobs > 0 {
            let run = Pipeline {
                pool: &self.services.pool,
                redis: &self.services.redis,
                amqp: &self.services.amqp,
                names: &self.names,
                business: self.pipeline_business,
                window: PIPELINE_WINDOW,
                concurrency: WORKER_CONCURRENCY,
            };
            Some(run.run(options.jobs).await?)
        } else {
            None
        };
        Ok((turns, memory, pipeline))
    }

    async fn clean_up(self, keep: bool) {
        if keep {
            eprintln!("kept database {} and namespace {}", self.database, self.names);
            return;
        }
        remove_namespace(&self.services, &self.names).await;
        self.services.pool.close().await;
        let _ = drop_database(&self.config.database_url, &self.database).await;
        let _ = std::fs::remove_dir_all(&self.state_dir);
    }
}

/// A progress bar on standard error (hidden when it is not a terminal).
pub fn bar(len: usize, message: &'static str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len as u64);
    if let Ok(style) = indicatif::ProgressStyle::with_template("{msg:40} [{bar:30}] {pos}/{len} {elapsed}") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(message);
    bar
}

fn random_token() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

/// `url` with its database replaced by `name`.
fn with_database(url: &str, name: &str) -> anyhow::Result<String> {
    let mut parsed = url::Url::parse(url).context("DATABASE_URL is not a URL")?;
    parsed.set_path(&format!("/{name}"));
    Ok(parsed.to_string())
}

async fn drop_database(url: &str, name: &str) -> anyhow::Result<()> {
    let maintenance = with_database(url, "postgres")?;
    let pool = adapters::postgres::connect(&maintenance, 1).await?;
    let statement = format!("drop database if exists \"{name}\" with (force)");
    sqlx::query(sqlx::AssertSqlSafe(statement)).execute(&pool).await?;
    pool.close().await;
    Ok(())
}

/// Deletes the namespace's queues and exchanges, and its Redis keys.
async fn remove_namespace(services: &adapters::Services, names: &Namespace) {
    if let Ok(channel) = services.amqp.create_channel().await {
        let _ = adapters::amqp::topology::delete(&channel, names).await;
        let _ = channel.close(200, "OK".into()).await;
    }
    let mut redis = services.redis.clone();
    let pattern = format!("{names}:*");
    let keys: Vec<String> = redis::cmd("KEYS").arg(pattern).query_async(&mut redis).await.unwrap_or_default();
    for chunk in keys.chunks(1000) {
        let _: redis::RedisResult<()> = redis::cmd("DEL").arg(chunk).query_async(&mut redis).await;
    }
}

/// Mean milliseconds per step of `bella_turn_duration_seconds`, between two scrapes.
fn step_means(before: &str, after: &str) -> BTreeMap<String, f64> {
    let totals = |text: &str| {
        let mut sums: BTreeMap<String, (f64, f64)> = BTreeMap::new();
        for line in text.lines() {
            let (series, value) = match line.rsplit_once(' ') {
                Some(pair) => pair,
                None => continue,
            };
            let Ok(value) = value.parse::<f64>() else { continue };
            let is_sum = series.starts_with("bella_turn_duration_seconds_sum{");
            let is_count = series.starts_with("bella_turn_duration_seconds_count{");
            if !is_sum && !is_count {
                continue;
            }
            let Some(step) = series.split("step=\"").nth(1).and_then(|s| s.split('"').next()) else { continue };
            let entry = sums.entry(step.to_owned()).or_default();
            if is_sum { entry.0 += value } else { entry.1 += value }
        }
        sums
    };
    let (before, after) = (totals(before), totals(after));
    after
        .into_iter()
        .filter_map(|(step, (sum, count))| {
            let (sum0, count0) = before.get(&step).copied().unwrap_or_default();
            let n = count - count0;
            (n > 0.0).then(|| (step, (sum - sum0) / n * 1000.0))
        })
        .collect()
}

fn checks(turns: Option<&TurnsReport>, memory: Option<&MemoryRun>, pipeline: Option<&PipelineReport>) -> Vec<Check> {
    let mut checks = Vec::new();
    let mut check = |target: &str, measured: String, met: bool| {
        checks.push(Check { target: target.to_owned(), measured, met });
    };
    if let Some(t) = turns {
        let c = t.load.callers;
        check(
            &format!("turn p50 under 3 ms at {c} concurrent calls"),
            format!("{:.2} ms", t.bella.all.p50_ms),
            t.bella.all.p50_ms < 3.0,
        );
        check(
            &format!("turn p99 under 15 ms at {c} concurrent calls"),
            format!("{:.2} ms", t.bella.all.p99_ms),
            t.bella.all.p99_ms < 15.0,
        );
        check(
            "turn latency within 3x of the floor (p50 and p99)",
            format!("{:.2}x p50, {:.2}x p99", t.ratio_p50, t.ratio_p99),
            t.ratio_p50 <= 3.0 && t.ratio_p99 <= 3.0,
        );
        check("every bench call booked", format!("{} of {}", t.bella.booked, t.bella.calls), t.bella.failed == 0);
    }
    if let Some(m) = memory {
        check(
            &format!("api memory under 100 MB with {} calls in progress", m.calls),
            format!("{:.1} MB (peak {:.1} MB)", m.rss_with_calls_mb, m.peak_mb),
            m.rss_with_calls_mb < 100.0 && m.peak_mb < 100.0,
        );
    }
    if let Some(p) = pipeline {
        check(
            "booking pipeline at least half the floor's throughput",
            format!("{:.0} vs {:.0} jobs/s ({:.2})", p.bella.jobs_per_second, p.floor.jobs_per_second, p.ratio),
            p.ratio >= 0.5,
        );
        check(
            "every booking and text exactly once",
            format!(
                "{} appointments, {} texts, {} duplicates",
                p.effects.appointments,
                p.effects.texts,
                p.effects.calls_with_two_appointments + p.effects.appointments_with_two_texts
            ),
            p.effects.exactly_once(p.bella.jobs),
        );
    }
    checks
}

fn machine() -> Machine {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned());
    Machine { cores, cpu }
}

fn build() -> &'static str {
    if cfg!(debug_assertions) { "debug (numbers are not representative: use --release)" } else { "release" }
}

/// The report as a person reads it.
pub fn render(report: &Report) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ =
        writeln!(out, "bella bench, {} build, {} cores ({})", report.build, report.machine.cores, report.machine.cpu);
    if let Some(t) = &report.turns {
        let _ = writeln!(
            out,
            "\nturn latency: {} concurrent callers x {} calls, {} ms think time (client-side, ms)",
            t.load.callers, t.load.calls_per_caller, t.load.think_ms
        );
        let _ = writeln!(out, "  {:<16} {:>7} {:>8} {:>8} {:>8} {:>8}", "turn", "count", "p50", "p95", "p99", "max");
        let row = |out: &mut String, name: &str, s: &stats::Summary| {
            let _ = writeln!(
                out,
                "  {name:<16} {:>7} {:>8.2} {:>8.2} {:>8.2} {:>8.2}",
                s.count, s.p50_ms, s.p95_ms, s.p99_ms, s.max_ms
            );
        };
        for (turn, summary) in &t.bella.by_turn {
            row(&mut out, turn, summary);
        }
        row(&mut out, "all turns", &t.bella.all);
        row(&mut out, "floor", &t.floor.all);
        let _ = writeln!(
            out,
            "  {} calls ({} booked) in {:.1} s: {:.1} calls/s; floor {:.1} calls/s",
            t.bella.calls, t.bella.booked, t.bella.seconds, t.bella.calls_per_second, t.floor.calls_per_second
        );
        let _ = writeln!(out, "  Bella / floor: {:.2}x at p50, {:.2}x at p99", t.ratio_p50, t.ratio_p99);
        let steps: Vec<String> = t.server_steps_ms.iter().map(|(s, ms)| format!("{s} {ms:.3}")).collect();
        let _ = writeln!(out, "  inside the api, mean ms per step: {}", steps.join(", "));
    }
    if let Some(m) = &report.memory {
        let _ = writeln!(
            out,
            "\napi memory: {:.1} MB before, {:.1} MB with {} calls in progress, peak {:.1} MB ({} booked)",
            m.rss_before_mb, m.rss_with_calls_mb, m.calls, m.peak_mb, m.booked
        );
    }
    if let Some(p) = &report.pipeline {
        let _ = writeln!(out, "\nbooking pipeline: {} jobs, at most {} outstanding", p.bella.jobs, p.window);
        for (name, run) in [("bella", &p.bella), ("floor", &p.floor)] {
            let _ = writeln!(
                out,
                "  {name:<6} {:>8.0} jobs/s ({:.1} s), pickup p50 {:.2} ms, p99 {:.2} ms",
                run.jobs_per_second, run.seconds, run.pickup.p50_ms, run.pickup.p99_ms
            );
        }
        let _ = writeln!(out, "  Bella / floor throughput: {:.2}", p.ratio);
    }
    let _ = writeln!(out, "\ntargets:");
    for check in &report.targets {
        let _ = writeln!(out, "  [{}] {}: {}", if check.met { "met" } else { "MISSED" }, check.target, check.measured);
    }
    out
}
