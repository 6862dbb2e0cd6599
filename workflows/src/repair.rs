//! What Bella asks a language model when the rules could not understand an answer twice, and
//! how its answer is read.
//!
//! The model is a fallback for speech recognition, never a source of truth: it gets what the
//! recogniser heard and rewrites it into a short phrase the rules already understand ("Antarpreet
//! Kauldhar", "next tuesday at 14:30"). The dialogue then runs that phrase through the same
//! extractors and business rules as any answer, so a model cannot book a time that is closed, in
//! the past or taken, and date arithmetic stays in our tested code, in the business's time zone.
//! The answer is constrained by a strict JSON schema: `{"value": string | null}`.

use serde::Deserialize;
use serde_json::json;

use crate::ids::Language;
use crate::jobs::{RepairAnswer, RepairField};

/// Longest value accepted from the model; a name or a time phrase is far shorter.
const MAX_VALUE_CHARS: usize = 80;
/// Longest utterance sent to the model.
const MAX_HEARD_CHARS: usize = 300;

/// The chat messages for one repair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub system: String,
    pub user: String,
}

/// The name of the response format, as the API wants it.
pub const SCHEMA_NAME: &str = "bella_repair";

/// The strict JSON schema the model must answer with.
pub fn schema() -> serde_json::Value {
    json!({
        "type": "object",
        "properties": {
            "value": {
                "type": ["string", "null"],
                "description": "The caller's answer rewritten in the requested form, or null when it cannot be told."
            }
        },
        "required": ["value"],
        "additionalProperties": false
    })
}

/// The messages for a repair job.
pub fn prompt(job: &RepairAnswer) -> Prompt {
    let language = match job.language {
        Language::En => "English",
        Language::Fr => "Canadian French",
    };
    let task = match job.field {
        RepairField::Name => {
            "The receptionist asked for the caller's name. Give the person's name as it would be \
             written (first name, then last name if given), correcting obvious mis-transcriptions \
             of names from any culture, without titles or other words. If no name was said, answer null."
        }
        RepairField::Time => {
            "The receptionist asked when the caller would like the appointment. Rewrite the \
             caller's wish in English, in one of these forms only: \"tomorrow at 14:30\", \
             \"next tuesday at 09:00\", \"tuesday in the afternoon\", \"december 3 at 10:15\", \
             \"friday\", \"at 15:00\". Use a 24-hour clock. Keep relative days relative (do not \
             compute dates); use a month and day only when the caller said a date. If no day or \
             time was said, answer null."
        }
    };
    let system = format!(
        "You help a phone receptionist understand a caller whose answer the speech recogniser \
         transcribed badly. The call is in {language}. {task} Never guess: when unsure, answer null. \
         Answer only with the JSON object."
    );
    let heard: Vec<String> = job
        .heard
        .iter()
        .map(|h| h.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(MAX_HEARD_CHARS).collect::<String>())
        .map(|h| format!("- \"{}\"", h.replace('"', "'")))
        .collect();
    let user = format!(
        "Today is {} ({}). The recogniser heard, over the caller's last answers:\n{}",
        job.today.format("%Y-%m-%d"),
        job.today.format("%A"),
        heard.join("\n")
    );
    Prompt { system, user }
}

/// The model's answer could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the model's answer is not the JSON asked for: {0}")]
pub struct Unreadable(String);

/// Reads the model's message: the candidate value, if any. A value that is empty, too long or
/// not a single line counts as none.
pub fn candidate(content: &str) -> Result<Option<String>, Unreadable> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Answer {
        value: Option<String>,
    }
    let answer: Answer = serde_json::from_str(content.trim()).map_err(|e| Unreadable(e.to_string()))?;
    Ok(answer
        .value
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty() && v.chars().count() <= MAX_VALUE_CHARS && !v.chars().any(char::is_control)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{BusinessId, CallSid};
    use chrono::{DateTime, NaiveDate};

    fn job(field: RepairField, heard: &[&str]) -> RepairAnswer {
        RepairAnswer {
            idempotency_key: "repair:CA0123456789abcdef0123456789abcdef#4".into(),
            call_sid: CallSid::parse("CA0123456789abcdef0123456789abcdef").unwrap(),
            business_id: BusinessId::from_uuid(uuid::Uuid::nil()),
            field,
            language: Language::Fr,
            heard: heard.iter().map(|h| (*h).to_owned()).collect(),
            today: NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
            requested_at: DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn the_prompt_gives_the_day_the_language_and_what_was_heard() {
        let prompt = prompt(&job(RepairField::Time, &["mardi qui vient a deux heures", "lundi \"matin\""]));
        assert!(prompt.system.contains("Canadian French"));
        assert!(prompt.system.contains("24-hour"));
        assert!(prompt.user.contains("Today is 2026-11-24 (Tuesday)"));
        assert!(prompt.user.contains("- \"mardi qui vient a deux heures\"\n- \"lundi 'matin'\""));
        let name = super::prompt(&job(RepairField::Name, &["and her pre cold are"]));
        assert!(name.system.contains("caller's name"));
    }

    #[test]
    fn a_strict_answer_is_read_and_anything_else_is_refused() {
        assert_eq!(candidate(r#"{"value": " Antarpreet Kauldhar "}"#), Ok(Some("Antarpreet Kauldhar".into())));
        assert_eq!(candidate(r#"{"value": null}"#), Ok(None));
        assert_eq!(candidate(r#"{"value": ""}"#), Ok(None));
        assert_eq!(candidate(&format!(r#"{{"value": "{}"}}"#, "a".repeat(81))), Ok(None));
        assert_eq!(candidate(r#"{"value": "line\nbreak"}"#), Ok(None));
        assert!(candidate(r#"{"value": "x", "confidence": 1}"#).is_err());
        assert!(candidate("Sure! The name is Marie.").is_err());
    }

    #[test]
    fn the_schema_is_strict() {
        let schema = schema();
        assert_eq!(schema["additionalProperties"], false);
        assert_eq!(schema["required"], json!(["value"]));
    }
}
