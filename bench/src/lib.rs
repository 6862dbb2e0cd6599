//! `bella-bench`: Bella's two numbers (how long a caller waits on each turn, how many bookings
//! the pipeline makes per second) and the api's memory, each beside the floor it is measured
//! against, on the services this machine runs.
//!
//! Self-contained: it creates its own database and namespace (`--name`, with [`sandbox`]), starts
//! `bella api` and `bella worker` (the `bella` binary built beside this one) and the floor server
//! (this binary's `floor` command) as child processes, runs the load from this process, writes
//! the results as JSON and prints them, then removes what it created. docs/BENCHMARKS.md explains
//! each measurement and records this machine's figures.

pub mod fleet;
pub mod floor;
pub mod pipeline;
pub mod progress;
pub mod publish;
pub mod report;
pub mod stats;
pub mod turns;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use adapters::postgres::businesses::{self, DEFAULT_BUSINESS_ID, Profile};
use adapters::{Config, Namespace};
use anyhow::Context as _;
use chrono::Utc;
use secrecy::SecretString;
use serde::Serialize;
use workflows::BusinessId;
use workflows::schedule::WeeklyHours;

use fleet::Server;
use pipeline::{Pipeline, PipelineReport};
use progress::bar;
pub use report::{Check, Machine, Report, TurnsReport, render};
use turns::{Load, MemoryRun, Slots, Target};

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

/// Runs the bench, writes `options.out` and returns the report.
pub async fn run(options: &Options) -> anyhow::Result<Report> {
    anyhow::ensure!(options.calls > 0 && options.rounds > 0, "--calls and --rounds must be at least 1");
    anyhow::ensure!(
        options.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
        "--name takes lowercase letters, digits and underscores"
    );
    let config = Config::from_env()?;
    let programs = Programs {
        bella: sandbox::bella_binary()?,
        floor: std::env::current_exe().context("finding the bench's own binary")?,
    };
    let bench = Bench::prepare(&config, options, programs).await?;
    let result = bench.measure(options).await;
    bench.clean_up(options.keep).await;
    let report = result?;
    let json = serde_json::to_string_pretty(&report)?;
    std::fs::write(&options.out, json + "\n").with_context(|| format!("writing {}", options.out.display()))?;
    Ok(report)
}

/// The binaries the bench starts: `bella` (api and worker), and itself (`floor`).
struct Programs {
    bella: PathBuf,
    floor: PathBuf,
}

struct Bench {
    programs: Programs,
    config: Config,
    names: Namespace,
    database: String,
    database_url: String,
    services: adapters::Services,
    env: Vec<(String, String)>,
    token: SecretString,
    state_dir: PathBuf,
    pipeline_business: BusinessId,
}

impl Bench {
    /// A fresh database with the bench's businesses, and an empty namespace.
    async fn prepare(config: &Config, options: &Options, programs: Programs) -> anyhow::Result<Self> {
        let database_url = sandbox::database_url(&config.database_url, &options.name)?;
        sandbox::drop_database(&config.database_url, &options.name).await?;
        let mut bench_config = config.clone();
        bench_config.database_url = database_url.clone();
        bench_config.namespace = Namespace::new(&options.name);
        let services = bella::bootstrap::connect(&bench_config).await?;
        sandbox::remove_namespace(&bench_config).await;
        bella::bootstrap::prepare(&bench_config, &services).await?;
        let pipeline_business = businesses(&services.pool).await?;

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
            programs,
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

    /// Starts `program args…` (`bella api`, `bella worker`, `bella-bench floor`) with the bench's
    /// environment.
    async fn start(&self, name: &'static str, program: &Path, args: &[&str], ready: &str) -> anyhow::Result<Server> {
        Server::start(name, program, args, &self.env, ready).await
    }

    async fn measure(&self, options: &Options) -> anyhow::Result<Report> {
        let started_at = Utc::now();
        eprintln!("starting bella api and bella worker ({})", adapters::config::redact_url(&self.database_url));
        let api = self.start("api", &self.programs.bella, &["api"], "/readyz").await?;
        let worker = self.start("worker", &self.programs.bella, &["worker"], "/readyz").await?;
        let result = self.parts(options, &api).await;
        api.stop().await;
        worker.stop().await;
        let (turns, memory, pipeline) = result?;
        let targets = report::checks(turns.as_ref(), memory.as_ref(), pipeline.as_ref());
        Ok(Report { started_at, machine: report::machine(), build: report::build(), turns, memory, pipeline, targets })
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
        let target = Target { http, base: api.url(), token: self.token.clone() };

        let turns = if runs(Part::Turns) { Some(self.turns(&target, load, &slots, api).await?) } else { None };
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

    /// Turn latency: warm-up calls, the measured calls through the api, then the same calls to
    /// the floor server.
    async fn turns(
        &self,
        target: &Target,
        load: Load,
        slots: &Arc<Slots>,
        api: &Server,
    ) -> anyhow::Result<TurnsReport> {
        let warm = Load { callers: WARM_UP_CALLS, calls_per_caller: 1, think_ms: 0 };
        let progress = bar(WARM_UP_CALLS, "warming up");
        turns::run(target, warm, Some(slots.clone()), WARM_UP_FIRST_CALLER, &progress).await?;
        progress.finish_and_clear();
        let before = api.metrics().await?;
        let progress = bar(load.callers * load.calls_per_caller, "bella: calls through the api");
        let bella = turns::run(target, load, Some(slots.clone()), 0, &progress).await?;
        progress.finish_and_clear();
        let server_steps_ms = report::step_means(&before, &api.metrics().await?);
        let floor_server =
            self.start("floor", &self.programs.floor, &["floor"], "/healthz").await.context("the floor server")?;
        let floor_target = Target { http: target.http.clone(), base: floor_server.url(), token: self.token.clone() };
        let progress = bar(load.callers * load.calls_per_caller, "floor: the same calls");
        let floor = turns::run(&floor_target, load, None, 0, &progress).await;
        progress.finish_and_clear();
        floor_server.stop().await;
        let floor = floor?;
        let ratio = |a: f64, b: f64| a / b.max(1e-6);
        Ok(TurnsReport {
            load,
            ratio_p50: ratio(bella.all.p50_ms, floor.all.p50_ms),
            ratio_p99: ratio(bella.all.p99_ms, floor.all.p99_ms),
            bella,
            floor,
            server_steps_ms,
        })
    }

    async fn clean_up(self, keep: bool) {
        if keep {
            eprintln!("kept database {} and namespace {}", self.database, self.names);
            return;
        }
        sandbox::remove_namespace(&self.config).await;
        self.services.pool.close().await;
        let _ = sandbox::drop_database(&self.config.database_url, &self.database).await;
        let _ = std::fs::remove_dir_all(&self.state_dir);
    }
}

/// The callers' business (the default one, changed) and the pipeline's (a new one): its id.
async fn businesses(pool: &sqlx::PgPool) -> anyhow::Result<BusinessId> {
    // The callers' business: open every day 06:00-22:00, ten-minute appointments, so the
    // bench has many distinct times to book (turns::Slots).
    let default = businesses::load_all(pool)
        .await?
        .into_iter()
        .find(|b| b.profile.id == DEFAULT_BUSINESS_ID)
        .context("the default business is missing")?;
    let mut profile = Profile::of(&default);
    profile.hours = WeeklyHours::parse("mon-sun 06:00-22:00").map_err(anyhow::Error::msg)?;
    profile.appointment_minutes = 10;
    profile.min_notice_minutes = 0;
    profile.phone_number = Some(workflows::E164::parse(turns::DIALLED)?);
    businesses::update(pool, DEFAULT_BUSINESS_ID, &profile).await?;
    // The pipeline's jobs book into a business of their own.
    let pipeline_profile = Profile { name: "Bench pipeline".into(), phone_number: None, is_default: false, ..profile };
    Ok(businesses::create(pool, &pipeline_profile).await?)
}

fn random_token() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}
