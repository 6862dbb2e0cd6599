//! `bella`: Bella's single binary. See `bella --help`.

// Printing to standard output is what a command-line tool is for.
#![allow(clippy::print_stdout)]

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::process::ExitCode;

use adapters::Config;
use adapters::config::{DevTokens, state_dir};
use anyhow::Context as _;
use bella::simulator::{End, Heard, Input, Simulator};
use bella::{Roles, admin, bench, bootstrap, parse, telemetry};
use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};
use secrecy::SecretString;
use workflows::Language;

#[derive(Debug, Parser)]
#[command(name = "bella", version, about = "Bella answers the phone and books appointments.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the api and the workers in one process (the default for one machine).
    All,
    /// Run the HTTP api only.
    Api,
    /// Run the workers only.
    Worker,
    /// Create the database if missing and apply migrations.
    Migrate,
    /// Talk to a running Bella from the terminal, playing Twilio's part.
    ///
    /// Each line read is what the caller says; `#1234` keys digits; an empty line is silence.
    /// End of input hangs up.
    Call {
        /// The caller ID; `anonymous` for a withheld number.
        #[arg(long, default_value = "+14165550100")]
        from: String,
        /// The number dialled (chooses the business).
        #[arg(long, default_value = "+15145550199")]
        to: String,
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
    },
    /// Operators' commands.
    Admin {
        #[command(flatten)]
        output: admin::ops::Output,
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Measure turn latency, the booking pipeline and the api's memory against their floors
    /// (see docs/BENCHMARKS.md; build with --release).
    Bench(bench::Options),
    /// The turn floor server `bella bench` starts (one Redis GET and SET, fixed TwiML).
    #[command(hide = true)]
    BenchFloor,
    /// Run one extractor on TEXT and print JSON.
    Parse {
        #[arg(value_enum)]
        kind: parse::Kind,
        text: String,
        #[arg(long, default_value = "en")]
        lang: Language,
        /// The reference instant (RFC 3339); defaults to now.
        #[arg(long)]
        now: Option<DateTime<Utc>>,
        /// The business's time zone.
        #[arg(long, default_value = "America/Toronto")]
        tz: chrono_tz::Tz,
    },
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Businesses: the profile each call is answered with.
    Business {
        #[command(subcommand)]
        command: BusinessCommand,
    },
    #[command(flatten)]
    Ops(admin::ops::OpsCommand),
}

#[derive(Debug, Subcommand)]
enum BusinessCommand {
    /// List the businesses.
    List,
    /// Show one business: an id, its number, or `default`.
    Show { business: String },
    /// Create a business (unset fields take the defaults: Mon-Fri 09:00-17:00, America/Toronto,
    /// ON, 30 minutes, one resource, English).
    Create {
        #[command(flatten)]
        fields: admin::business::Fields,
        /// Why, for the audit log.
        #[arg(long, default_value = "new business")]
        reason: String,
    },
    /// Change some fields of a business: an id, its number, or `default`.
    Edit {
        business: String,
        #[command(flatten)]
        fields: admin::business::Fields,
        /// Why, for the audit log.
        #[arg(long, default_value = "profile edited")]
        reason: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", one_line(&error));
            // Exit before the runtime is dropped under connections still being attempted.
            std::process::exit(1);
        }
    }
}

/// The error and its causes on one line, without repeating a cause that an outer message
/// already quotes.
fn one_line(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::All => serve(Roles::ALL).await,
        Command::Api => serve(Roles::API).await,
        Command::Worker => serve(Roles::WORKER).await,
        Command::Migrate => {
            let config = Config::from_env_serving_nothing()?;
            let _telemetry = telemetry::init(&config);
            let pool = adapters::postgres::connect(&config.database_url, 2).await?;
            adapters::postgres::migrate(&pool).await?;
            println!("migrations applied to {}", adapters::config::redact_url(&config.database_url));
            Ok(())
        }
        Command::Call { from, to, url } => call(&from, &to, &url).await,
        Command::Bench(options) => {
            telemetry::init_quiet();
            let report = bench::run(&options).await?;
            print!("{}", bench::render(&report));
            println!("results written to {}", options.out.display());
            Ok(())
        }
        Command::BenchFloor => {
            let config = Config::from_env()?;
            bench::floor::serve(config.port, &config.redis_url, config.namespace.as_str()).await
        }
        Command::Admin { output, command } => run_admin(command, output).await,
        Command::Parse { kind, text, lang, now, tz } => {
            let out = parse::run(kind, &text, lang, now.unwrap_or_else(Utc::now), tz);
            println!("{out}");
            Ok(())
        }
    }
}

async fn run_admin(command: AdminCommand, output: admin::ops::Output) -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let pool = adapters::postgres::connect(&config.database_url, 2).await?;
    adapters::postgres::migrate(&pool).await?;
    let command = match command {
        AdminCommand::Business { command } => command,
        AdminCommand::Ops(command) => {
            let connect_ops = async || {
                let services = bootstrap::connect(&config).await?;
                Ok(adapters::admin::Ops::new(&services, config.namespace.clone()))
            };
            return admin::ops::run(&pool, connect_ops, command, output).await;
        }
    };
    use adapters::admin::{Actor, businesses as admin_businesses};
    use adapters::postgres::businesses;
    match command {
        BusinessCommand::List => {
            for business in businesses::load_all(&pool).await? {
                println!("{}", admin::business::line(&business));
            }
        }
        BusinessCommand::Show { business } => {
            print!("{}", admin::business::describe(&admin::business::find(&pool, &business).await?));
        }
        BusinessCommand::Create { fields, reason } => {
            let changes = fields.changes(&[]);
            if changes.name.is_none() {
                anyhow::bail!("--name is required to create a business");
            }
            let saved = admin_businesses::create(&pool, &Actor::cli(), &changes, &reason).await?;
            println!("created business {} (audit #{})", saved.id, saved.outcome.audit_id);
            print!("{}", admin::business::describe(&admin::business::find(&pool, &saved.id.to_string()).await?));
        }
        BusinessCommand::Edit { business, fields, reason } => {
            let current = admin::business::find(&pool, &business).await?;
            let changes = fields.changes(&current.own_holidays);
            let id = current.profile.id.to_string();
            let saved = admin_businesses::edit(&pool, &Actor::cli(), &id, &changes, &reason).await?;
            if saved.outcome.affected == 0 {
                println!("business {id}: {} (audit #{})", saved.outcome.message, saved.outcome.audit_id);
            } else {
                println!(
                    "updated business {id} (audit #{}; running servers pick it up within 30 seconds)",
                    saved.outcome.audit_id
                );
            }
            print!("{}", admin::business::describe(&admin::business::find(&pool, &id).await?));
        }
    }
    Ok(())
}

async fn serve(roles: Roles) -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let _telemetry = telemetry::init(&config);
    if let adapters::config::TokenSource::Development(dir) = &config.token_source {
        tracing::warn!(
            dir = %dir.display(),
            "TWILIO_AUTH_TOKEN is not set: using a development token; `bella call` signs with it, Twilio's real webhooks will be refused"
        );
        if std::env::var_os("ADMIN_TOKEN").is_none() && roles.api {
            tracing::info!(
                console = format!("http://localhost:{}/admin", config.port),
                token_file = %DevTokens::admin_token_path(dir).display(),
                "the admin console: sign in with the admin token kept in token_file"
            );
        }
    }
    let running = bootstrap::start(config, roles).await?;
    running.run_until(shutdown_signal()).await
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

/// The token `bella call` signs with: `TWILIO_AUTH_TOKEN`, or the development token.
fn auth_token() -> anyhow::Result<SecretString> {
    if let Ok(token) = std::env::var("TWILIO_AUTH_TOKEN")
        && !token.is_empty()
    {
        return Ok(SecretString::from(token));
    }
    let dir = state_dir(&|name: &str| std::env::var(name).ok().filter(|v| !v.is_empty()));
    DevTokens::load(&dir).map(|t| t.twilio_auth_token).with_context(|| {
        format!(
            "no Twilio auth token: set TWILIO_AUTH_TOKEN to the server's token (no development token in {})",
            dir.display()
        )
    })
}

async fn call(from: &str, to: &str, url: &str) -> anyhow::Result<()> {
    let mut sim = Simulator::new(url, auth_token()?, from, to)?;
    let interactive = std::io::stdin().is_terminal();
    println!("calling {url} as {from} (CallSid {})", sim.call_sid());
    let mut heard = sim.dial().await?;
    let mut lines = std::io::stdin().lock().lines();
    loop {
        print_heard(&heard);
        if let Some(end) = &heard.end {
            match end {
                End::Transfer(number) => println!("[transferred to {number}]"),
                End::Hangup | End::Finished => println!("[Bella hung up]"),
            }
            break;
        }
        if interactive {
            print!("you> ");
            std::io::stdout().flush().ok();
        }
        let Some(line) = lines.next().transpose()? else {
            println!("[you hung up]");
            break;
        };
        let input = Input::from_line(&line);
        if !interactive {
            match &input {
                Input::Speech(s) => println!("you: {s}"),
                Input::Digits(d) => println!("you: (keys {d})"),
                Input::Silence => println!("you: (silence)"),
            }
        }
        heard = sim.respond(input).await?;
    }
    sim.hang_up().await?;
    Ok(())
}

fn print_heard(heard: &Heard) {
    for line in &heard.said {
        println!("bella: {line}");
    }
}
