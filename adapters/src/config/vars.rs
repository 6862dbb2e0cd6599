//! Reading one variable: a default when it is unset, and an error that names the variable and
//! says what it expected when it is set wrong.

use std::ops::RangeInclusive;
use std::str::FromStr;

use super::ConfigError;

/// The variables, as a lookup (the process environment, or a test's map).
pub(super) struct Vars<F>(pub(super) F);

impl<F: Fn(&str) -> Option<String>> Vars<F> {
    pub(super) fn get(&self, name: &str) -> Option<String> {
        (self.0)(name)
    }

    /// The text of `name`, or `default`.
    pub(super) fn text(&self, name: &str, default: &str) -> String {
        self.get(name).unwrap_or_else(|| default.to_owned())
    }

    /// A yes/no variable: unset is no.
    pub(super) fn flag(&self, name: &'static str) -> Result<bool, ConfigError> {
        match self.get(name).as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("0" | "false" | "no" | "off") => Ok(false),
            Some("1" | "true" | "yes" | "on") => Ok(true),
            Some(other) => Err(ConfigError::Invalid { name, reason: format!("expected true or false, got {other:?}") }),
        }
    }

    pub(super) fn port(&self, name: &'static str, default: u16) -> Result<u16, ConfigError> {
        match self.get(name) {
            None => Ok(default),
            Some(raw) => raw
                .parse()
                .map_err(|_| ConfigError::Invalid { name, reason: format!("expected a port number, got {raw:?}") }),
        }
    }

    /// A number within `range`, or `default`; `what` says what it counts, for the error
    /// ("milliseconds", "a number of days").
    pub(super) fn within<T>(
        &self,
        name: &'static str,
        default: T,
        range: RangeInclusive<T>,
        what: &str,
    ) -> Result<T, ConfigError>
    where
        T: FromStr + PartialOrd + Default + std::fmt::Display,
    {
        let Some(raw) = self.get(name) else { return Ok(default) };
        raw.parse().ok().filter(|n| range.contains(n)).ok_or_else(|| {
            let (low, high) = (range.start(), range.end());
            let bounds = if *low == T::default() { format!("up to {high}") } else { format!("from {low} to {high}") };
            ConfigError::Invalid { name, reason: format!("expected {what} {bounds}, got {raw:?}") }
        })
    }
}
