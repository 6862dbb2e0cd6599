//! What the bench found: the report written as JSON, the targets of the performance issue checked
//! against it, and the same as a person reads it.

use std::collections::BTreeMap;

use chrono::Utc;
use serde::Serialize;

use crate::pipeline::PipelineReport;
use crate::stats;
use crate::turns::{Load, MemoryRun, TurnRun};

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

/// Mean milliseconds per step of `bella_turn_duration_seconds`, between two scrapes.
pub(crate) fn step_means(before: &str, after: &str) -> BTreeMap<String, f64> {
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

pub(crate) fn checks(
    turns: Option<&TurnsReport>,
    memory: Option<&MemoryRun>,
    pipeline: Option<&PipelineReport>,
) -> Vec<Check> {
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

pub(crate) fn machine() -> Machine {
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

pub(crate) fn build() -> &'static str {
    if cfg!(debug_assertions) { "debug (numbers are not representative: use --release)" } else { "release" }
}

/// The report as a person reads it.
pub fn render(report: &Report) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ =
        writeln!(out, "bella-bench, {} build, {} cores ({})", report.build, report.machine.cores, report.machine.cpu);
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
