//! Callers: each books one appointment through a whole call, and remembers what it was told.

use bella::simulator::{Simulator, Spoken};
use chrono::NaiveDate;
use e2e::{TestApp, open_day_after, spoken_day};

/// What the caller was told at the end of the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Told {
    Booked,
    /// "You'll get a text message as soon as it's done."
    TextWillFollow,
    /// The caller was told nothing was booked.
    Failed,
    /// Nothing conclusive (the transcript says what).
    Unclear,
}

pub(crate) fn told(last: &str) -> Told {
    if last.contains("You're all set") {
        Told::Booked
    } else if last.contains("You'll get a text message") || last.contains("will be confirmed shortly") {
        Told::TextWillFollow
    } else if last.contains("couldn't complete the booking")
        || last.contains("nothing is booked yet")
        || last.contains("call us back")
    {
        Told::Failed
    } else {
        Told::Unclear
    }
}

/// A call placed, and how it ended.
#[derive(Debug, Clone)]
pub(crate) struct Placed {
    pub call_sid: String,
    pub told: Told,
    pub transcript: Vec<String>,
    /// The call went back to the start after a fault (a lost session).
    pub started_over: bool,
}

/// A caller in the middle of a call.
pub(crate) struct Caller {
    sim: Simulator,
    transcript: Vec<String>,
    last: Option<Spoken>,
    error: Option<String>,
    started_over: bool,
}

impl Caller {
    /// Calls the default business from caller ID number `n` (a first-time caller).
    pub(crate) fn new(app: &TestApp, n: usize) -> Self {
        // 555-0100 to 555-0199: well-formed test numbers, one per caller (a returning caller
        // would be greeted differently).
        assert!(n < 100, "at most 100 callers per scenario");
        let from = format!("+1416555{:04}", 100 + n);
        Self { sim: app.call(&from), transcript: Vec::new(), last: None, error: None, started_over: false }
    }

    /// A caller on a simulator of the test's making (several api replicas behind one URL, say).
    pub(crate) fn with(sim: Simulator) -> Self {
        Self { sim, transcript: Vec::new(), last: None, error: None, started_over: false }
    }

    fn ended(&self) -> bool {
        self.error.is_some() || self.last.as_ref().is_some_and(|h| h.end.is_some())
    }

    fn record(&mut self, heard: anyhow::Result<Spoken>) {
        match heard {
            Ok(heard) => {
                self.transcript.push(heard.text());
                self.last = Some(heard);
            }
            Err(error) => {
                self.transcript.push(format!("(error: {error:#})"));
                self.error = Some(format!("{error:#}"));
            }
        }
    }

    /// Dials and asks for `when`, giving the name in the same sentence. Bella then offers the
    /// caller ID as the callback number.
    pub(crate) async fn ask(&mut self, name: &str, when: &str) {
        let heard = self.sim.dial().await;
        self.record(heard);
        if self.ended() {
            return;
        }
        let heard = self.sim.say(&format!("Hi, this is {name}, I'd like {when}")).await;
        self.record(heard);
    }

    /// Says yes to the caller ID; Bella reads everything back. A reply that is not the read-back
    /// means the call lost its place.
    pub(crate) async fn confirm_number(&mut self) {
        if self.ended() {
            return;
        }
        let heard = self.sim.say("yes").await;
        self.record(heard);
        if !self.ended() && !self.last.as_ref().is_some_and(|h| h.text().contains("Shall I book it?")) {
            self.started_over = true;
        }
    }

    /// Says yes to the read-back, and hangs up once Bella has answered.
    pub(crate) async fn book(mut self) -> Placed {
        if !self.ended() {
            let heard = self.sim.say("yes").await;
            self.record(heard);
        }
        let _ = self.sim.hang_up().await;
        let last = self.last.as_ref().map(Spoken::text).unwrap_or_default();
        let told = if self.error.is_some() { Told::Unclear } else { told(&last) };
        Placed {
            call_sid: self.sim.call_sid().to_owned(),
            told,
            transcript: self.transcript,
            started_over: self.started_over,
        }
    }

    /// The whole call in one go.
    pub(crate) async fn place(mut self, name: &str, when: &str) -> Placed {
        self.ask(name, when).await;
        self.confirm_number().await;
        self.book().await
    }
}

/// `count` distinct bookable times, as a caller says them: "Tuesday, December 1st at 9 am".
pub(crate) fn distinct_times(count: usize) -> Vec<String> {
    const HOURS: [&str; 7] = ["9 am", "10 am", "11 am", "1 pm", "2 pm", "3 pm", "4 pm"];
    let mut days: Vec<NaiveDate> = Vec::new();
    let mut ahead = 2;
    while days.len() * HOURS.len() < count {
        let day = open_day_after(ahead);
        if !days.contains(&day) {
            days.push(day);
        }
        ahead += 1;
    }
    (0..count).map(|i| format!("{} at {}", spoken_day(days[i / HOURS.len()]), HOURS[i % HOURS.len()])).collect()
}

/// A name per caller.
pub(crate) fn name(n: usize) -> String {
    const FIRST: [&str; 8] = ["Marie", "Kevin", "Amira", "Jean", "Priya", "Luc", "Sofia", "Omar"];
    const LAST: [&str; 8] = ["Tremblay", "Nguyen", "Haddad", "Roy", "Singh", "Gagnon", "Rossi", "Khan"];
    format!("{} {}", FIRST[n % FIRST.len()], LAST[(n / FIRST.len() + n) % LAST.len()])
}
