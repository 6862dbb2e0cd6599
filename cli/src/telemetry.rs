//! Logs and traces.
//!
//! Logs: compact lines locally, JSON in production (`LOG_FORMAT=json`), level from `RUST_LOG`
//! (default `info`). Fields (see the README, Operations): `call.sid`, `business`, `turn`,
//! `job.kind`, `workflow.id`; phone numbers and names are never logged whole.
//!
//! Traces: every span also goes to OpenTelemetry, so that it has a W3C trace context to carry in
//! job headers (`adapters::trace_context`) and a trace id to record on workflow runs. With
//! `OTEL_EXPORTER_OTLP_ENDPOINT` set, spans are exported over OTLP/HTTP in batches from a thread
//! of their own; without it they are kept nowhere.

use adapters::Config;
use adapters::config::LogFormat;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

/// Flushes exported spans when dropped (at the end of `main`).
#[derive(Debug, Default)]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(error) = provider.shutdown()
        {
            eprintln!("could not flush the last traces: {error}");
        }
    }
}

fn filter() -> EnvFilter {
    EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,lapin=warn,tower_http=warn,hyper=warn"))
}

fn provider(config: &Config) -> anyhow::Result<(SdkTracerProvider, bool)> {
    let resource = Resource::builder().with_service_name(config.service_name.clone()).build();
    let builder = SdkTracerProvider::builder().with_resource(resource);
    let Some(endpoint) = &config.otlp_endpoint else { return Ok((builder.build(), false)) };
    let traces = endpoint.join("v1/traces")?;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(traces.as_str())
        .with_timeout(std::time::Duration::from_secs(5))
        .build()?;
    Ok((builder.with_batch_exporter(exporter).build(), true))
}

/// Logs to standard error, and traces, as configured. A second call (a test harness got there
/// first) keeps the first subscriber.
pub fn init(config: &Config) -> Telemetry {
    let (provider, exporting) = match provider(config) {
        Ok(built) => built,
        Err(error) => {
            eprintln!("OTEL_EXPORTER_OTLP_ENDPOINT: cannot export traces: {error:#}");
            (SdkTracerProvider::builder().build(), false)
        }
    };
    let otel = tracing_opentelemetry::layer().with_tracer(provider.tracer("bella"));
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let fmt = match config.log_format {
        LogFormat::Json => fmt.json().flatten_event(true).boxed(),
        LogFormat::Compact => fmt.compact().boxed(),
    };
    let installed = tracing_subscriber::registry().with(filter()).with(fmt).with(otel).try_init().is_ok();
    if installed && exporting {
        tracing::info!("exporting traces over OTLP");
    }
    Telemetry { provider: installed.then_some(provider) }
}

/// For tests: spans with trace context (so jobs carry it), and log lines only when `show_logs`.
pub fn init_for_tests(show_logs: bool) {
    let provider = SdkTracerProvider::builder().build();
    let otel = tracing_opentelemetry::layer().with_tracer(provider.tracer("bella-tests"));
    let fmt = show_logs.then(|| tracing_subscriber::fmt::layer().with_writer(std::io::stderr).compact());
    let _ = tracing_subscriber::registry().with(filter()).with(fmt).with(otel).try_init();
}

/// For commands that print their own output (`bella-bench`): warnings and errors only, unless
/// `RUST_LOG` says otherwise.
pub fn init_quiet() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).compact();
    let _ = tracing_subscriber::registry().with(filter).with(fmt).try_init();
}
