//! Everything Bella says, in English and Canadian French.
//!
//! One function per prompt, each with both languages side by side, so that a prompt can never
//! exist in one language only. Wording follows the old system's baseline where it was good
//! (short questions, one thing at a time), with examples after a misunderstanding.

use chrono::{DateTime, NaiveDate, NaiveTime};
use chrono_tz::Tz;

use crate::extract::PersonName;
use crate::ids::{AppointmentRef, Language};
use crate::phone::{E164, PhoneProblem};
use crate::schedule::Unavailable;
use crate::speech;

/// Prompts in one language.
#[derive(Debug, Clone, Copy)]
pub struct Prompts(pub Language);

impl Prompts {
    fn pick(self, en: impl Into<String>, fr: impl Into<String>) -> String {
        match self.0 {
            Language::En => en.into(),
            Language::Fr => fr.into(),
        }
    }

    fn when(self, at: DateTime<Tz>) -> String {
        speech::date_time(self.0, at)
    }

    /// The greeting. A bilingual line starts in both languages and says how to switch; a returning
    /// caller is welcomed by name.
    pub fn greeting(self, business: &str, returning: Option<&PersonName>, other: Option<Language>) -> String {
        let opening = match (self.0, other.is_some()) {
            (Language::En, false) => format!("Hello, thank you for calling {business}."),
            (Language::En, true) => format!("Hello, bonjour! Thank you for calling {business}."),
            (Language::Fr, false) => format!("Bonjour, merci d'avoir appelé {business}."),
            (Language::Fr, true) => format!("Bonjour, hello! Merci d'avoir appelé {business}."),
        };
        let welcome = returning.map(|name| {
            self.pick(format!(" Welcome back, {}.", name.first()), format!(" Rebonjour, {}.", name.first()))
        });
        let question = self.pick(
            " I can book, change or cancel an appointment. How can I help you today?",
            " Je peux prendre, déplacer ou annuler un rendez-vous. Comment puis-je vous aider?",
        );
        let switch = match other {
            Some(Language::En) => " For service in English, press 2.",
            Some(Language::Fr) => " Pour le service en français, faites le 2.",
            None => "",
        };
        format!("{opening}{}{question}{switch}", welcome.unwrap_or_default())
    }

    pub fn how_can_i_help(self) -> String {
        self.pick("How can I help you today?", "Comment puis-je vous aider?")
    }

    pub fn ask_book_new(self) -> String {
        self.pick("Would you like to book a new appointment?", "Voulez-vous prendre un nouveau rendez-vous?")
    }

    pub fn switched(self) -> String {
        self.pick("Sure, let's continue in English.", "Bien sûr, continuons en français.")
    }

    /// Said in the caller's language when the business does not serve it: the line serves
    /// `served`, a person can be reached when `transfer`, and Bella carries on in `served`.
    pub fn line_serves(self, served: Language, transfer: bool) -> String {
        let person = match (self.0, transfer) {
            (_, false) => "",
            (Language::En, true) => " To speak with someone, press 0.",
            (Language::Fr, true) => " Pour parler à quelqu'un, faites le 0.",
        };
        match (self.0, served) {
            (Language::Fr, Language::En) => {
                format!("Désolée, ce service est offert en anglais seulement.{person} Je continue en anglais.")
            }
            (Language::En, Language::Fr) => {
                format!("Sorry, this line is served in French only.{person} I'll carry on in French.")
            }
            (_, _) => String::new(),
        }
    }

    pub fn hours(self, hours: &str, address: Option<&str>) -> String {
        let mut line = self.pick(format!("We're open {hours}."), format!("Nous sommes ouverts {hours}."));
        if let Some(address) = address {
            line.push(' ');
            line.push_str(
                &self.pick(format!("We're located at {address}."), format!("Nous sommes situés au {address}.")),
            );
        }
        line
    }

    pub fn anything_else(self) -> String {
        self.pick("Is there anything else I can help you with?", "Puis-je vous aider avec autre chose?")
    }

    pub fn goodbye(self) -> String {
        self.pick("Thank you for calling, goodbye.", "Merci d'avoir appelé, au revoir.")
    }

    pub fn transfer_after_trouble(self) -> String {
        self.pick(
            "I'm sorry, I'm having trouble understanding. Let me transfer you to someone who can help.",
            "Désolée, j'ai de la difficulté à comprendre. Je vous transfère à quelqu'un qui pourra vous aider.",
        )
    }

    pub fn ask_phone_keypad(self) -> String {
        self.pick(
            "Let's try the keypad: please enter your ten-digit phone number, then press the pound key.",
            "Essayons le clavier : composez votre numéro de téléphone à dix chiffres, puis le carré.",
        )
    }

    pub fn ask_spelling(self) -> String {
        self.pick(
            "Could you spell your name for me, letter by letter?",
            "Pourriez-vous m'épeler votre nom, lettre par lettre?",
        )
    }

    pub fn found_one(self, at: DateTime<Tz>) -> String {
        let when = self.when(at);
        self.pick(format!("I see your appointment on {when}."), format!("Je vois votre rendez-vous du {when}."))
    }

    pub fn choose_existing(self, options: &[DateTime<Tz>]) -> String {
        let times: Vec<String> = options.iter().map(|at| self.when(*at)).collect();
        let list = speech::either(self.0, &times);
        self.pick(
            format!("I see appointments on {list}. Which one do you mean?"),
            format!("Je vois des rendez-vous {list}. Lequel voulez-vous dire?"),
        )
    }

    pub fn ask_new_time(self) -> String {
        self.pick("What new day and time would you like?", "Pour quel nouveau jour et quelle heure?")
    }

    pub fn not_found_for_caller_id(self) -> String {
        self.pick(
            "I couldn't find an upcoming appointment for the number you're calling from.",
            "Je ne trouve pas de rendez-vous à venir pour le numéro d'où vous appelez.",
        )
    }

    pub fn ask_lookup_phone(self) -> String {
        self.pick(
            "What phone number was the appointment booked with?",
            "Avec quel numéro de téléphone le rendez-vous a-t-il été pris?",
        )
    }

    pub fn not_found_offer_new(self) -> String {
        self.pick(
            "I couldn't find an upcoming appointment for that number. Would you like to book a new one?",
            "Je ne trouve pas de rendez-vous à venir pour ce numéro. Voulez-vous en prendre un nouveau?",
        )
    }

    pub fn read_back_move(self, from: DateTime<Tz>, to: DateTime<Tz>) -> String {
        let (from, to) = (self.when(from), self.when(to));
        self.pick(
            format!("To confirm: move your appointment from {from} to {to}. Shall I do that?"),
            format!("Je confirme : déplacer votre rendez-vous du {from} au {to}. Est-ce que je le fais?"),
        )
    }

    pub fn moved(self, at: DateTime<Tz>, reference: &AppointmentRef) -> String {
        let when = self.when(at);
        let reference = reference.spelled();
        self.pick(
            format!("Done. Your appointment is now on {when}. Your reference is still {reference}. Thank you for calling, goodbye."),
            format!("C'est fait. Votre rendez-vous est maintenant le {when}. Votre référence reste {reference}. Merci d'avoir appelé, au revoir."),
        )
    }

    pub fn appointment_gone(self) -> String {
        self.pick("I'm sorry, that appointment is no longer booked.", "Désolée, ce rendez-vous n'est plus réservé.")
    }

    pub fn confirm_cancel(self, at: DateTime<Tz>) -> String {
        let when = self.when(at);
        self.pick(
            format!("Shall I cancel your appointment on {when}?"),
            format!("Voulez-vous que j'annule votre rendez-vous du {when}?"),
        )
    }

    pub fn cancelled(self, at: DateTime<Tz>) -> String {
        let when = self.when(at);
        self.pick(
            format!("Your appointment on {when} is cancelled. Thank you for calling, goodbye."),
            format!("Votre rendez-vous du {when} est annulé. Merci d'avoir appelé, au revoir."),
        )
    }

    pub fn kept(self) -> String {
        self.pick("Okay, I haven't cancelled it.", "D'accord, je ne l'ai pas annulé.")
    }

    pub fn ask_name(self) -> String {
        self.pick("May I have your name, please?", "Puis-je avoir votre nom, s'il vous plaît?")
    }

    pub fn thanks_name(self, name: &PersonName) -> String {
        self.pick(format!("Thanks, {}.", name.first()), format!("Merci, {}.", name.first()))
    }

    pub fn ask_time(self) -> String {
        self.pick("What day and time would you like to come in?", "Quel jour et à quelle heure aimeriez-vous venir?")
    }

    pub fn ask_time_example(self) -> String {
        self.pick(
            "You can say something like tomorrow at 2 PM, or Friday morning.",
            "Vous pouvez dire par exemple demain à 14 h, ou vendredi matin.",
        )
    }

    pub fn ask_time_on(self, day: NaiveDate) -> String {
        let day = speech::date(self.0, day);
        self.pick(format!("What time on {day}?"), format!("À quelle heure, {day}?"))
    }

    pub fn ask_day_for(self, time: NaiveTime) -> String {
        let time = speech::time(self.0, time);
        self.pick(format!("What day would you like, at {time}?"), format!("Quel jour aimeriez-vous, à {time}?"))
    }

    pub fn available(self, at: DateTime<Tz>) -> String {
        let when = self.when(at);
        self.pick(format!("{when} is available."), format!("{when}, c'est disponible."))
    }

    pub fn first_opening(self, at: DateTime<Tz>) -> String {
        let when = self.when(at);
        self.pick(format!("The first opening is {when}."), format!("La première disponibilité est {when}."))
    }

    pub fn offer_caller_id(self, number: &E164) -> String {
        let last = number.last_four().chars().map(String::from).collect::<Vec<_>>().join(" ");
        self.pick(
            format!("Can we text you at the number you're calling from, ending in {last}?"),
            format!("Pouvons-nous vous texter au numéro d'où vous appelez, qui se termine par {last}?"),
        )
    }

    pub fn ask_phone(self) -> String {
        self.pick(
            "What's the best phone number to reach you? You can say it or key it in.",
            "À quel numéro pouvons-nous vous joindre? Vous pouvez le dire ou le composer sur le clavier.",
        )
    }

    pub fn phone_problem(self, problem: PhoneProblem) -> String {
        match problem {
            PhoneProblem::TollFree | PhoneProblem::PremiumRate => self.pick(
                "That number can't receive our text message. What's another number we can use?",
                "Ce numéro ne peut pas recevoir notre texto. Quel autre numéro pouvons-nous utiliser?",
            ),
            _ => self.pick(
                "Sorry, I didn't get a complete phone number. Please say all ten digits, or key them in.",
                "Désolée, je n'ai pas eu un numéro complet. Dites les dix chiffres, ou composez-les sur le clavier.",
            ),
        }
    }

    pub fn read_back(self, name: &PersonName, at: DateTime<Tz>, phone: &E164) -> String {
        let when = self.when(at);
        let digits = speech::phone(phone);
        let name = name.as_str();
        self.pick(
            format!("Let me confirm: an appointment for {name} on {when}, and we'll text {digits}. Shall I book it?"),
            format!("Je confirme : un rendez-vous pour {name}, {when}, et nous texterons le {digits}. Est-ce que je le réserve?"),
        )
    }

    /// The read-back when the name was taken as heard, for a person to check.
    pub fn read_back_name_as_heard(self, at: DateTime<Tz>, phone: &E164) -> String {
        let when = self.when(at);
        let digits = speech::phone(phone);
        self.pick(
            format!("Let me confirm: an appointment on {when}, under your name as I heard it, which our team will check, and we'll text {digits}. Shall I book it?"),
            format!("Je confirme : un rendez-vous {when}, à votre nom tel que je l'ai entendu, que notre équipe vérifiera, et nous texterons le {digits}. Est-ce que je le réserve?"),
        )
    }

    /// The name recorded when nothing heard at the name prompt looked like one.
    pub fn unknown_caller(self) -> String {
        self.pick("caller", "client")
    }

    /// The name was not understood, twice: spelled, it may be.
    pub fn ask_spelling_after_trouble(self) -> String {
        self.pick(
            "Sorry, I didn't catch your name. Could you spell it for me, letter by letter?",
            "Désolée, je n'ai pas bien compris votre nom. Pourriez-vous me l'épeler, lettre par lettre?",
        )
    }

    /// The spelling was not understood either: the name is kept as heard and the call goes on.
    pub fn name_kept_as_heard(self) -> String {
        self.pick(
            "Thank you. I'll note your name as I heard it, and someone from our team will check it.",
            "Merci. Je note votre nom tel que je l'ai entendu, et quelqu'un de notre équipe le vérifiera.",
        )
    }

    pub fn read_back_reprompt(self) -> String {
        self.pick(
            "Please say yes to book it, or no to change something. You can also press 1 for yes or 2 for no.",
            "Dites oui pour réserver, ou non pour changer quelque chose. Vous pouvez aussi appuyer sur 1 pour oui ou 2 pour non.",
        )
    }

    pub fn what_to_change(self) -> String {
        self.pick(
            "Okay, I haven't booked anything. What would you like to change: the name, the day and time, or the phone number?",
            "D'accord, je n'ai rien réservé. Que voulez-vous changer : le nom, le jour et l'heure, ou le numéro de téléphone?",
        )
    }

    pub fn unavailable(self, reason: Unavailable, at: DateTime<Tz>) -> String {
        let when = self.when(at);
        let date = speech::date(self.0, at.date_naive());
        let time = speech::time(self.0, at.time());
        let weekday = speech::weekday_name(self.0, chrono::Datelike::weekday(&at.date_naive()));
        match reason {
            Unavailable::Past => self.pick(format!("{when} has already passed."), format!("{when}, c'est déjà passé.")),
            Unavailable::TooSoon => self
                .pick(format!("{when} is too soon for us to book."), format!("{when}, c'est trop tôt pour réserver.")),
            Unavailable::Holiday => self.pick(
                format!("We're closed on {date} for the holiday."),
                format!("Nous sommes fermés le {date}, c'est un jour férié."),
            ),
            Unavailable::ClosedDay => {
                self.pick(format!("We're closed on {weekday}s."), format!("Nous sommes fermés le {weekday}."))
            }
            Unavailable::OutsideHours => self.pick(
                format!("{time} is outside our opening hours on {date}."),
                format!("{time}, c'est en dehors de nos heures d'ouverture le {date}."),
            ),
            Unavailable::Taken => {
                self.pick(format!("{when} is already booked."), format!("{when}, c'est déjà réservé."))
            }
        }
    }

    pub fn nothing_free_then(self) -> String {
        self.pick("I have nothing free then.", "Je n'ai rien de libre à ce moment-là.")
    }

    pub fn offer(self, options: &[DateTime<Tz>]) -> String {
        let times: Vec<String> = options.iter().map(|at| self.when(*at)).collect();
        let list = speech::either(self.0, &times);
        match options.len() {
            0 => self.no_options(),
            1 => self.pick(
                format!("The nearest time I have is {list}. Would that work?"),
                format!("Le moment le plus proche que j'ai est {list}. Est-ce que ça vous convient?"),
            ),
            _ => self.pick(
                format!("The nearest times I have are {list}. Would one of those work?"),
                format!("Les moments les plus proches que j'ai sont {list}. Est-ce que l'un d'eux vous convient?"),
            ),
        }
    }

    pub fn no_options(self) -> String {
        self.pick(
            "I couldn't find a free time near then. What other day would you like?",
            "Je n'ai pas trouvé de moment libre à ce moment-là. Quel autre jour aimeriez-vous?",
        )
    }

    pub fn ask_other_time(self) -> String {
        self.pick("What other day or time would you like?", "Quel autre jour ou quelle autre heure aimeriez-vous?")
    }

    /// The hold while a language model looks at a misheard answer.
    pub fn one_moment(self) -> String {
        self.pick("One moment, please.", "Un instant, s'il vous plaît.")
    }

    pub fn booking_wait(self) -> String {
        self.pick("One moment while I book that for you.", "Un instant, je fais la réservation.")
    }

    pub fn still_confirming(self) -> String {
        self.pick("Still confirming, just a moment.", "Je confirme toujours, un instant.")
    }

    /// `name` is none when the name was taken as heard: Bella does not read back what it could
    /// not understand.
    pub fn booked(self, name: Option<&PersonName>, at: DateTime<Tz>, reference: &AppointmentRef) -> String {
        let when = self.when(at);
        let reference = reference.spelled();
        match name {
            Some(name) => {
                let first = name.first();
                self.pick(
                    format!("You're all set, {first}. Your appointment is booked for {when}. Your reference is {reference}. Thank you for calling, goodbye."),
                    format!("C'est réservé, {first}. Votre rendez-vous est {when}. Votre numéro de référence est {reference}. Merci d'avoir appelé, au revoir."),
                )
            }
            None => self.pick(
                format!("You're all set. Your appointment is booked for {when}. Your reference is {reference}. Thank you for calling, goodbye."),
                format!("C'est réservé. Votre rendez-vous est {when}. Votre numéro de référence est {reference}. Merci d'avoir appelé, au revoir."),
            ),
        }
    }

    pub fn slot_taken(self, at: DateTime<Tz>) -> String {
        let when = self.when(at);
        self.pick(
            format!("I'm sorry, {when} was just taken by another caller."),
            format!("Désolée, {when} vient d'être réservé par quelqu'un d'autre."),
        )
    }

    pub fn booking_failed(self) -> String {
        self.pick(
            "I'm sorry, I couldn't complete the booking. Please call us back later. Goodbye.",
            "Désolée, je n'ai pas pu terminer la réservation. Veuillez nous rappeler plus tard. Au revoir.",
        )
    }

    pub fn booking_unreachable(self) -> String {
        self.pick(
            "I'm sorry, I couldn't reach our booking system just now, so nothing is booked yet. Shall I try again?",
            "Désolée, je n'ai pas pu joindre notre système de réservation, donc rien n'est réservé. Voulez-vous que j'essaie de nouveau?",
        )
    }

    pub fn queued(self) -> String {
        self.pick(
            "I couldn't confirm it right away, but your request is saved. You'll get a text message as soon as it's done. Thank you for calling, goodbye.",
            "Je n'ai pas pu le confirmer tout de suite, mais votre demande est enregistrée. Vous recevrez un texto dès que ce sera fait. Merci d'avoir appelé, au revoir.",
        )
    }

    pub fn booking_pending_final(self) -> String {
        self.pick(
            "Your request has been received and will be confirmed shortly. Thank you for calling, goodbye.",
            "Votre demande a bien été reçue et sera confirmée sous peu. Merci d'avoir appelé, au revoir.",
        )
    }

    pub fn silence(self, count: u8) -> String {
        if count <= 1 {
            self.pick("Sorry, I didn't hear anything.", "Désolée, je n'ai rien entendu.")
        } else {
            self.pick("Are you still there?", "Êtes-vous toujours là?")
        }
    }

    pub fn not_understood(self) -> String {
        self.pick("Sorry, I didn't catch that.", "Désolée, je n'ai pas compris.")
    }

    pub fn goodbye_silent(self) -> String {
        self.pick(
            "I'm sorry, I can't hear you. Please call us back when you're ready. Goodbye.",
            "Désolée, je ne vous entends pas. Rappelez-nous quand vous serez prêt. Au revoir.",
        )
    }

    pub fn keypad_yes_no(self) -> String {
        self.pick(
            "Sorry, I'm having trouble hearing you. You can use the keypad: press 1 for yes, or 2 for no.",
            "Désolée, je vous entends mal. Vous pouvez utiliser le clavier : appuyez sur 1 pour oui, ou 2 pour non.",
        )
    }

    pub fn goodbye_confused(self) -> String {
        self.pick(
            "I'm sorry, I'm having trouble understanding. Please call us back later. Goodbye.",
            "Désolée, j'ai de la difficulté à comprendre. Veuillez nous rappeler plus tard. Au revoir.",
        )
    }

    pub fn goodbye_nothing_booked(self) -> String {
        self.pick(
            "Okay, nothing has been booked. Thank you for calling, goodbye.",
            "D'accord, rien n'a été réservé. Merci d'avoir appelé, au revoir.",
        )
    }

    pub fn goodbye_too_long(self) -> String {
        self.pick(
            "I'm sorry, this is taking too long. Please call us back. Goodbye.",
            "Désolée, c'est trop long. Veuillez nous rappeler. Au revoir.",
        )
    }

    pub fn transferring(self) -> String {
        self.pick("Please hold while I transfer your call.", "Veuillez patienter, je transfère votre appel.")
    }

    pub fn nobody_available(self) -> String {
        self.pick(
            "I'm sorry, no one is available to take your call right now, but I can book an appointment for you.",
            "Désolée, personne n'est disponible pour le moment, mais je peux prendre un rendez-vous pour vous.",
        )
    }
}
