//! Phone numbers: the validated [`E164`] type and its rules for a callback number.
//!
//! The system we replace ran a second normaliser over numbers that were already E.164 and turned
//! `+14165551234` into `+11416555123`. Here a number is parsed once, into a type that can only hold
//! a valid E.164 string, and every other part of Bella passes that type around.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a number cannot be used to call or text the caller back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum PhoneProblem {
    #[error("no digits were heard")]
    NoDigits,
    #[error("too few digits for a phone number")]
    TooShort,
    #[error("too many digits for a phone number")]
    TooLong,
    #[error("not a valid phone number")]
    Invalid,
    #[error("an N11 service code such as 911 or 411")]
    ServiceCode,
    #[error("a toll-free number cannot receive a callback text")]
    TollFree,
    #[error("a premium-rate number")]
    PremiumRate,
}

/// A phone number in E.164 form (`+14165550123`), valid by construction.
///
/// `Debug` prints a masked form so that a number cannot reach the logs by accident; use
/// [`E164::as_str`] where the whole number is needed (the database, Twilio), and [`E164::masked`]
/// in log fields.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct E164(String);

const TOLL_FREE_AREA_CODES: [&str; 7] = ["800", "833", "844", "855", "866", "877", "888"];

impl E164 {
    /// Parses a number written in E.164 (`+14165550123`) or, without the `+`, as a North American
    /// number (`4165550123`, `1 416 555 0123`). Twilio's placeholders for a withheld caller ID
    /// (`anonymous`, `+266696687`, …) are not valid numbers and are refused.
    pub fn parse(input: &str) -> Result<Self, PhoneProblem> {
        let trimmed = input.trim();
        let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
        if digits.is_empty() {
            return Err(PhoneProblem::NoDigits);
        }
        if trimmed.starts_with('+') && !digits.starts_with('1') {
            return Self::international(&digits);
        }
        Self::north_american(&digits)
    }

    /// A North American (NANP) number from its 10 digits, or 11 with the leading 1.
    pub fn north_american(digits: &str) -> Result<Self, PhoneProblem> {
        let national = match digits.len() {
            11 if digits.starts_with('1') => &digits[1..],
            10 => digits,
            0 => return Err(PhoneProblem::NoDigits),
            n if n < 10 => return Err(PhoneProblem::TooShort),
            _ => return Err(PhoneProblem::TooLong),
        };
        let (area, exchange, line) = (&national[0..3], &national[3..6], &national[6..]);
        // NANP: area codes and exchanges start with 2-9, and no area code ends in 11.
        if area.starts_with(['0', '1']) || exchange.starts_with(['0', '1']) || &area[1..] == "11" {
            return Err(PhoneProblem::Invalid);
        }
        if &exchange[1..] == "11" {
            return Err(PhoneProblem::ServiceCode);
        }
        let e164 = format!("+1{national}");
        // 555-0100 to 555-0199 are reserved for fiction and tests in every area code: well-formed,
        // though no carrier assigns them, so libphonenumber's assignment tables may refuse them.
        let fictional = exchange == "555" && line.starts_with("01");
        if !fictional && !libphonenumber_accepts(&e164) {
            return Err(PhoneProblem::Invalid);
        }
        Ok(Self(e164))
    }

    fn international(digits: &str) -> Result<Self, PhoneProblem> {
        if digits.len() > 15 {
            return Err(PhoneProblem::TooLong);
        }
        let e164 = format!("+{digits}");
        if libphonenumber_accepts(&e164) { Ok(Self(e164)) } else { Err(PhoneProblem::Invalid) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_north_american(&self) -> bool {
        self.0.starts_with("+1") && self.0.len() == 12
    }

    /// Why this number cannot be a callback number, if it cannot.
    pub fn callback_problem(&self) -> Option<PhoneProblem> {
        if !self.is_north_american() {
            return None;
        }
        let area = &self.0[2..5];
        if TOLL_FREE_AREA_CODES.contains(&area) {
            Some(PhoneProblem::TollFree)
        } else if area == "900" {
            Some(PhoneProblem::PremiumRate)
        } else {
            None
        }
    }

    /// The last four digits, as a caller recognises their number ("ending in 0123").
    pub fn last_four(&self) -> &str {
        &self.0[self.0.len() - 4..]
    }

    /// `+1******0123`: safe for logs.
    pub fn masked(&self) -> String {
        let keep_start = if self.is_north_american() { 2 } else { 3.min(self.0.len()) };
        let hidden = self.0.len().saturating_sub(keep_start + 4);
        format!("{}{}{}", &self.0[..keep_start], "*".repeat(hidden), self.last_four())
    }

    /// The digits grouped as they are read back: `416 555 0123` for a North American number
    /// (groups of 3, 3 and 4), groups of three otherwise.
    pub fn groups(&self) -> Vec<&str> {
        if self.is_north_american() {
            vec![&self.0[2..5], &self.0[5..8], &self.0[8..]]
        } else {
            let digits = &self.0[1..];
            let mut groups = Vec::new();
            let mut start = 0;
            while start < digits.len() {
                let end = (start + 3).min(digits.len());
                groups.push(&digits[start..end]);
                start = end;
            }
            groups
        }
    }
}

fn libphonenumber_accepts(e164: &str) -> bool {
    phonenumber::parse(None, e164).is_ok_and(|number| phonenumber::is_valid(&number))
}

impl TryFrom<String> for E164 {
    type Error = PhoneProblem;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        if !value.starts_with('+') {
            return Err(PhoneProblem::Invalid);
        }
        Self::parse(&value)
    }
}

impl From<E164> for String {
    fn from(value: E164) -> Self {
        value.0
    }
}

impl fmt::Debug for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "E164({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_stays_intact() {
        // The defect of the system we replace: a valid E.164 number must come out unchanged.
        assert_eq!(E164::parse("+14165551234").unwrap().as_str(), "+14165551234");
        assert_eq!(E164::parse("+447911123456").unwrap().as_str(), "+447911123456");
        assert_eq!(E164::parse("(416) 555-1234").unwrap().as_str(), "+14165551234");
        assert_eq!(E164::parse("1-416-555-1234").unwrap().as_str(), "+14165551234");
    }

    #[test]
    fn withheld_caller_ids_are_not_numbers() {
        for placeholder in ["anonymous", "+266696687", "+7378742833", "+2562533", "", "+86282452253"] {
            assert!(E164::parse(placeholder).is_err(), "{placeholder} must not parse");
        }
    }

    #[test]
    fn nanp_rules() {
        assert_eq!(E164::parse("4169111234"), Err(PhoneProblem::ServiceCode));
        assert_eq!(E164::parse("0165551234"), Err(PhoneProblem::Invalid));
        assert_eq!(E164::parse("4160551234"), Err(PhoneProblem::Invalid));
        assert_eq!(E164::parse("416555123"), Err(PhoneProblem::TooShort));
        assert_eq!(E164::parse("416555123456"), Err(PhoneProblem::TooLong));
        assert_eq!(E164::parse("4165550142").unwrap().as_str(), "+14165550142");
        let toll_free = E164::parse("+18005551212").unwrap();
        assert_eq!(toll_free.callback_problem(), Some(PhoneProblem::TollFree));
        let premium = E164::parse("+19005550123").unwrap();
        assert_eq!(premium.callback_problem(), Some(PhoneProblem::PremiumRate));
        assert_eq!(E164::parse("+15145550199").unwrap().callback_problem(), None);
    }

    #[test]
    fn masking_and_grouping() {
        let n = E164::parse("+14165550123").unwrap();
        assert_eq!(n.masked(), "+1******0123");
        assert_eq!(format!("{n:?}"), "E164(+1******0123)");
        assert_eq!(n.groups(), ["416", "555", "0123"]);
        assert_eq!(n.last_four(), "0123");
    }

    #[test]
    fn serde_round_trip_validates() {
        let n = E164::parse("+14165550123").unwrap();
        let json = serde_json::to_string(&n).unwrap();
        assert_eq!(json, "\"+14165550123\"");
        assert_eq!(serde_json::from_str::<E164>(&json).unwrap(), n);
        assert!(serde_json::from_str::<E164>("\"+11416555123\"").is_err());
    }
}
