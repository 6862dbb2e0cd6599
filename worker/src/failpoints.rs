//! Failpoints: deliberate failures at named points, for the fault-injection tests.
//!
//! Configured with `BELLA_FAILPOINTS`, a `;`-separated list of `point=action[*count]`:
//!
//! ```text
//! before:book_appointment=retryable*1      the first run of each booking job fails, retryably
//! before:book_appointment=retry_after:3    fails asking to wait 3 s
//! before:cancel_appointment=permanent      every run fails permanently
//! before:book_appointment=needs_repair
//! before:book_appointment=panic*1
//! after_commit:book_appointment=hang       after the commit, before the acknowledgement: stop
//!                                          (the test then kills the process)
//! after_commit:book_appointment=delay:500
//! sent:send_sms=hang                       Twilio accepted the text, the ledger does not know yet
//! claim:send_sms=delay:1000                 pause between reading the ledger and claiming the text
//! ```
//!
//! Without the variable nothing is checked beyond an empty list. Never set it in production.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::jobs::JobError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Retryable,
    Permanent,
    RetryAfter(Duration),
    NeedsRepair,
    Panic,
    /// Stop forever here, as if the process had frozen; the test kills it.
    Hang,
    Delay(Duration),
}

#[derive(Debug)]
struct Rule {
    point: String,
    action: Action,
    remaining: Option<u32>,
}

#[derive(Debug, Clone, Default)]
pub struct Failpoints(Arc<Mutex<Vec<Rule>>>);

impl Failpoints {
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut rules = Vec::new();
        for entry in spec.split(';').map(str::trim).filter(|e| !e.is_empty()) {
            let (point, action) =
                entry.split_once('=').ok_or_else(|| format!("failpoint {entry:?}: expected point=action"))?;
            let (action, count) = match action.split_once('*') {
                Some((a, n)) => (a, Some(n.parse().map_err(|_| format!("failpoint {entry:?}: bad count"))?)),
                None => (action, None),
            };
            let seconds = |s: &str| s.parse::<u64>().map_err(|_| format!("failpoint {entry:?}: bad number"));
            let action = match action.split_once(':') {
                Some(("retry_after", s)) => Action::RetryAfter(Duration::from_secs(seconds(s)?)),
                Some(("delay", ms)) => Action::Delay(Duration::from_millis(seconds(ms)?)),
                None if action == "retryable" => Action::Retryable,
                None if action == "permanent" => Action::Permanent,
                None if action == "needs_repair" => Action::NeedsRepair,
                None if action == "panic" => Action::Panic,
                None if action == "hang" => Action::Hang,
                _ => return Err(format!("failpoint {entry:?}: unknown action")),
            };
            rules.push(Rule { point: point.trim().to_owned(), action, remaining: count });
        }
        Ok(Self(Arc::new(Mutex::new(rules))))
    }

    /// The action to take at `point`, if any; counted rules are used up.
    pub fn hit(&self, point: &str) -> Option<Action> {
        let mut rules = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let rule = rules.iter_mut().find(|r| r.point == point && r.remaining != Some(0))?;
        if let Some(n) = rule.remaining.as_mut() {
            *n -= 1;
        }
        tracing::warn!(point, action = ?rule.action, "failpoint hit");
        Some(rule.action.clone())
    }

    /// Acts on `point`: returns the failure to report, panics, hangs or pauses, as configured.
    pub async fn check(&self, point: &str) -> Result<(), JobError> {
        let failure = || anyhow::anyhow!("failpoint {point}");
        match self.hit(point) {
            None => Ok(()),
            Some(Action::Retryable) => Err(JobError::retryable(failure())),
            Some(Action::Permanent) => Err(JobError::permanent(failure())),
            Some(Action::NeedsRepair) => Err(JobError::needs_repair(failure())),
            Some(Action::RetryAfter(wait)) => Err(JobError::retry_after(wait, failure())),
            Some(Action::Panic) => panic!("failpoint {point}"),
            Some(Action::Hang) => std::future::pending().await,
            Some(Action::Delay(pause)) => {
                tokio::time::sleep(pause).await;
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_and_unlimited_rules() {
        let f = Failpoints::parse("before:a=retryable*1; after_commit:a=delay:5; before:b=retry_after:3").unwrap();
        assert_eq!(f.hit("before:a"), Some(Action::Retryable));
        assert_eq!(f.hit("before:a"), None);
        assert_eq!(f.hit("after_commit:a"), Some(Action::Delay(Duration::from_millis(5))));
        assert_eq!(f.hit("after_commit:a"), Some(Action::Delay(Duration::from_millis(5))));
        assert_eq!(f.hit("before:b"), Some(Action::RetryAfter(Duration::from_secs(3))));
        assert!(Failpoints::parse("nonsense").is_err());
        assert!(Failpoints::parse("x=explode").is_err());
    }
}
