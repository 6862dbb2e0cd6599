//! Identifiers that carry their invariants: once you hold one, it is valid.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// A value that failed to parse into one of the identifier types.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind}: {reason}")]
pub struct InvalidId {
    kind: &'static str,
    reason: &'static str,
}

/// Twilio's identifier of one call: `CA` followed by 32 hexadecimal digits.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CallSid(String);

impl CallSid {
    pub fn parse(value: &str) -> Result<Self, InvalidId> {
        let invalid = |reason| InvalidId { kind: "CallSid", reason };
        let Some(hex) = value.strip_prefix("CA") else {
            return Err(invalid("it must start with CA"));
        };
        if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid("CA must be followed by 32 hexadecimal digits"));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CallSid {
    type Error = InvalidId;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<CallSid> for String {
    fn from(value: CallSid) -> Self {
        value.0
    }
}

impl fmt::Display for CallSid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for CallSid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CallSid({})", self.0)
    }
}

/// A business (one Twilio number, one calendar).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BusinessId(Uuid);

impl BusinessId {
    pub const fn from_uuid(id: Uuid) -> Self {
        Self(id)
    }

    pub const fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl fmt::Display for BusinessId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Debug for BusinessId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BusinessId({})", self.0)
    }
}

/// The language a call is conducted in. Every prompt, read-back and text message exists in both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    En,
    Fr,
}

impl Language {
    /// The short code stored in the database and used by the CLI (`en`, `fr`).
    pub const fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Fr => "fr",
        }
    }

    /// The BCP-47 tag for Twilio's speech recogniser.
    pub const fn bcp47(self) -> &'static str {
        match self {
            Self::En => "en-CA",
            Self::Fr => "fr-CA",
        }
    }
}

impl FromStr for Language {
    type Err = InvalidId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "en" | "en-ca" | "en-us" | "english" => Ok(Self::En),
            "fr" | "fr-ca" | "french" | "français" | "francais" => Ok(Self::Fr),
            _ => Err(InvalidId { kind: "language", reason: "expected en or fr" }),
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The short reference a caller can quote for their appointment, such as `BK7Q3M2X`.
///
/// It is derived from the booking's idempotency key, so a redelivered job computes the same
/// reference, and it uses Crockford's base32 alphabet, which has no I, L, O or U to mishear.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AppointmentRef(String);

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

impl AppointmentRef {
    pub const LEN: usize = 8;

    pub fn for_booking_key(key: &str) -> Self {
        let digest = Sha256::digest(key.as_bytes());
        let mut bits: u64 = 0;
        for byte in &digest[..5] {
            bits = (bits << 8) | u64::from(*byte);
        }
        let mut out = String::with_capacity(Self::LEN);
        for i in (0..Self::LEN).rev() {
            let index = ((bits >> (i * 5)) & 31) as usize;
            out.push(char::from(CROCKFORD[index]));
        }
        Self(out)
    }

    pub fn parse(value: &str) -> Result<Self, InvalidId> {
        let upper = value.trim().to_ascii_uppercase();
        if upper.len() == Self::LEN && upper.bytes().all(|b| CROCKFORD.contains(&b)) {
            Ok(Self(upper))
        } else {
            Err(InvalidId { kind: "reference", reason: "expected 8 letters and digits" })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The reference spelled out for text-to-speech: `B K 7 Q 3 M 2 X`.
    pub fn spelled(&self) -> String {
        let chars: Vec<String> = self.0.chars().map(String::from).collect();
        chars.join(" ")
    }
}

impl fmt::Display for AppointmentRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for AppointmentRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AppointmentRef({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_sid_accepts_twilio_shape_only() {
        assert!(CallSid::parse("CA0123456789abcdef0123456789abcdef").is_ok());
        assert!(CallSid::parse("CA0123456789ABCDEF0123456789ABCDEF").is_ok());
        assert!(CallSid::parse("SM0123456789abcdef0123456789abcdef").is_err());
        assert!(CallSid::parse("CA0123").is_err());
        assert!(CallSid::parse("CA0123456789abcdef0123456789abcdeg").is_err());
        assert!(CallSid::parse("").is_err());
    }

    #[test]
    fn reference_is_stable_and_readable() {
        let a = AppointmentRef::for_booking_key("book:CA1");
        assert_eq!(a, AppointmentRef::for_booking_key("book:CA1"));
        assert_ne!(a, AppointmentRef::for_booking_key("book:CA2"));
        assert_eq!(a.as_str().len(), 8);
        assert!(!a.as_str().contains(['I', 'L', 'O', 'U']));
        assert_eq!(AppointmentRef::parse(&a.as_str().to_lowercase()).unwrap(), a);
        assert_eq!(a.spelled().len(), 15);
    }

    #[test]
    fn language_parses_codes() {
        assert_eq!("fr-CA".parse::<Language>().unwrap(), Language::Fr);
        assert_eq!("EN".parse::<Language>().unwrap(), Language::En);
        assert!("de".parse::<Language>().is_err());
    }
}
