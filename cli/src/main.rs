//! `bella`: Bella's single binary. See `bella --help`.

// Printing to standard output is what a command-line tool is for.
#![allow(clippy::print_stdout)]

use std::process::ExitCode;

use adapters::Config;
use bella::{Roles, admin, bootstrap, parse, telemetry};
use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};
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
        output: admin::Output,
        #[command(subcommand)]
        command: admin::Command,
    },
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
        Command::All => bootstrap::serve(Roles::ALL).await,
        Command::Api => bootstrap::serve(Roles::API).await,
        Command::Worker => bootstrap::serve(Roles::WORKER).await,
        Command::Migrate => {
            let config = Config::from_env_serving_nothing()?;
            let _telemetry = telemetry::init(&config);
            let pool = adapters::postgres::connect(&config.database_url, 2).await?;
            adapters::postgres::migrate(&pool).await?;
            println!("migrations applied to {}", adapters::config::redact_url(&config.database_url));
            Ok(())
        }
        Command::Call { from, to, url } => bella::call::run(&from, &to, &url).await,
        Command::Admin { output, command } => admin::run(command, output).await,
        Command::Parse { kind, text, lang, now, tz } => {
            let out = parse::run(kind, &text, lang, now.unwrap_or_else(Utc::now), tz);
            println!("{out}");
            Ok(())
        }
    }
}
