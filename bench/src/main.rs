//! `bella-bench`: measures the `bella` built beside it (docs/BENCHMARKS.md). See
//! `bella-bench --help`.

// Printing the report to standard output is what the command is for.
#![allow(clippy::print_stdout)]

use std::process::ExitCode;

use adapters::Config;
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "bella-bench",
    version,
    about = "Measure turn latency, the booking pipeline and the api's memory against their floors \
             (see docs/BENCHMARKS.md; build with --release).",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    options: bench::Options,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The turn floor server the bench starts (one Redis GET and SET, fixed TwiML).
    #[command(hide = true)]
    Floor,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(error) = run(cli).await {
        eprintln!("error: {error:#}");
        // Exit before the runtime is dropped under connections still being attempted.
        std::process::exit(1);
    }
    ExitCode::SUCCESS
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None => {
            bella::telemetry::init_quiet();
            let report = bench::run(&cli.options).await?;
            print!("{}", bench::render(&report));
            println!("results written to {}", cli.options.out.display());
            Ok(())
        }
        Some(Command::Floor) => {
            let config = Config::from_env()?;
            bench::floor::serve(config.port, &config.redis_url, config.namespace.as_str()).await
        }
    }
}
