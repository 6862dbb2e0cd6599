//! The life of a workflow run (one job's record in PostgreSQL): the statuses it passes through,
//! and what each allows. Every crate names a status through [`RunStatus`]; the text form is what
//! the `workflow_runs.status` column, the admin API and the console show.
//!
//! ```text
//!   running ──▶ completed                      (the job did what it was asked, or answered why not)
//!      │    ──▶ failed                         (it ended without its effect; a text Twilio refused)
//!      │    ──▶ expired                        (too late to matter: a repair nobody waits for)
//!      ├──▶ retrying ──▶ running …             (a retryable failure, through a retry tier)
//!      └──▶ dead_lettered ──▶ retrying | cancelled   (an operator resumes or gives up)
//! ```

use std::fmt;
use std::str::FromStr;

/// Where a workflow run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunStatus {
    /// A worker is running it (or died running it: the broker redelivers).
    Running,
    /// It failed and waits in a retry tier, or an operator resumed it.
    Retrying,
    Completed,
    Failed,
    /// Out of retries, or not retryable: kept for operators.
    DeadLettered,
    /// An operator gave up on it.
    Cancelled,
    Expired,
}

impl RunStatus {
    pub const ALL: [RunStatus; 7] = [
        Self::Running,
        Self::Retrying,
        Self::Completed,
        Self::Failed,
        Self::DeadLettered,
        Self::Cancelled,
        Self::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Retrying => "retrying",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::DeadLettered => "dead_lettered",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
        }
    }

    /// A worker has it or will have it again: nothing to resume, nothing to edit.
    pub fn is_going(self) -> bool {
        matches!(self, Self::Running | Self::Retrying)
    }

    /// It will not run again unless an operator resumes it.
    pub fn is_terminal(self) -> bool {
        !self.is_going()
    }

    /// An operator may resume it (from its failed step, or from the start).
    pub fn is_resumable(self) -> bool {
        matches!(self, Self::Failed | Self::DeadLettered | Self::Cancelled | Self::Expired)
    }

    /// Its recorded output is the job's answer: a redelivery reports it instead of running again.
    pub fn has_answer(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Expired)
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A text that is not a run status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown run status {0:?}: running, retrying, completed, failed, dead_lettered, cancelled or expired")]
pub struct UnknownStatus(pub String);

impl FromStr for RunStatus {
    type Err = UnknownStatus;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|s| s.as_str() == text).ok_or_else(|| UnknownStatus(text.to_owned()))
    }
}

impl TryFrom<String> for RunStatus {
    type Error = UnknownStatus;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_reads_back_from_its_text() {
        for status in RunStatus::ALL {
            assert_eq!(status.as_str().parse::<RunStatus>(), Ok(status));
        }
        assert!("done".parse::<RunStatus>().is_err());
    }

    #[test]
    fn a_run_is_going_or_terminal_and_only_a_stopped_one_is_resumed() {
        for status in RunStatus::ALL {
            assert_ne!(status.is_going(), status.is_terminal(), "{status}");
            assert!(!(status.is_going() && status.is_resumable()), "{status}");
        }
        assert!(!RunStatus::Completed.is_resumable());
    }
}
