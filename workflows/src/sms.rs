//! The text messages Bella sends, in the caller's language.
//!
//! French is written to stay within GSM-7 where it can (é, è and à are in it; ê, ç and ô are
//! not), so that most messages fit in one or two segments.

use chrono::DateTime;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::ids::{AppointmentRef, Language};
use crate::speech;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmsKind {
    Confirmation,
    Rescheduled,
    Cancelled,
    /// A booking saved while the broker was down could not be made after the call.
    NotBooked,
}

impl SmsKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Confirmation => "confirmation",
            Self::Rescheduled => "rescheduled",
            Self::Cancelled => "cancelled",
            Self::NotBooked => "not_booked",
        }
    }
}

/// The text of a message about an appointment at `business`, at `at` (local time).
pub fn body(
    kind: SmsKind,
    language: Language,
    business: &str,
    at: DateTime<Tz>,
    reference: Option<&AppointmentRef>,
) -> String {
    let when = speech::date_time(language, at);
    let reference = reference.map(AppointmentRef::as_str).unwrap_or("-");
    match (kind, language) {
        (SmsKind::Confirmation, Language::En) => format!(
            "{business}: your appointment is confirmed for {when}. Reference {reference}. To change or cancel, call us. Reply STOP to opt out."
        ),
        (SmsKind::Confirmation, Language::Fr) => format!(
            "{business} : votre rendez-vous est confirmé le {when}. Référence {reference}. Pour le changer ou l'annuler, appelez-nous. Répondez ARRET pour ne plus recevoir de textos."
        ),
        (SmsKind::Rescheduled, Language::En) => {
            format!("{business}: your appointment has moved to {when}. Reference {reference}. Reply STOP to opt out.")
        }
        (SmsKind::Rescheduled, Language::Fr) => format!(
            "{business} : votre rendez-vous est déplacé au {when}. Référence {reference}. Répondez ARRET pour ne plus recevoir de textos."
        ),
        (SmsKind::Cancelled, Language::En) => {
            format!(
                "{business}: your appointment on {when} is cancelled. Reference {reference}. Reply STOP to opt out."
            )
        }
        (SmsKind::Cancelled, Language::Fr) => format!(
            "{business} : votre rendez-vous du {when} est annulé. Référence {reference}. Répondez ARRET pour ne plus recevoir de textos."
        ),
        (SmsKind::NotBooked, Language::En) => format!(
            "{business}: sorry, we could not book {when}; that time was taken. Please call us to choose another time. Reply STOP to opt out."
        ),
        (SmsKind::NotBooked, Language::Fr) => format!(
            "{business} : désolés, nous n'avons pas pu réserver le {when}; ce moment a été pris. Appelez-nous pour en choisir un autre. Répondez ARRET pour ne plus recevoir de textos."
        ),
    }
}

/// Keywords that stop (or restart) text messages, in English and French.
pub fn opt_out_keyword(body: &str) -> Option<bool> {
    let word = crate::text::fold_accents(&body.trim().to_lowercase());
    let word = word.trim_matches(|c: char| !c.is_alphanumeric());
    match word {
        "stop" | "stopall" | "unsubscribe" | "cancel" | "end" | "quit" | "revoke" | "optout" | "arret" | "arreter"
        | "desabonner" => Some(true),
        "start" | "unstop" | "yes" | "subscribe" | "debut" | "recommencer" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn bodies_in_both_languages() {
        let at = chrono_tz::America::Toronto.with_ymd_and_hms(2026, 12, 1, 14, 30, 0).unwrap();
        let reference = AppointmentRef::parse("BK7Q3M2X").unwrap();
        let en = body(SmsKind::Confirmation, Language::En, "Bella Demo Clinic", at, Some(&reference));
        assert_eq!(
            en,
            "Bella Demo Clinic: your appointment is confirmed for Tuesday, December 1 at 2:30 PM. Reference BK7Q3M2X. To change or cancel, call us. Reply STOP to opt out."
        );
        let fr = body(SmsKind::Confirmation, Language::Fr, "Salon Élégance", at, Some(&reference));
        assert!(fr.contains("confirmé le mardi 1er décembre à 14 h 30"), "{fr}");
        assert!(fr.contains("ARRET"));
    }

    #[test]
    fn stop_words() {
        assert_eq!(opt_out_keyword("STOP"), Some(true));
        assert_eq!(opt_out_keyword(" Arrêt "), Some(true));
        assert_eq!(opt_out_keyword("ARRET."), Some(true));
        assert_eq!(opt_out_keyword("start"), Some(false));
        assert_eq!(opt_out_keyword("thanks!"), None);
    }
}
