//! Plays Twilio's part in a call, for `bella call` and the end-to-end tests.
//!
//! It posts the webhooks Twilio would post, with Twilio's parameter names (including empty ones
//! such as `CallToken`), signed with the auth token, and an `I-Twilio-Idempotency-Token`. It then
//! follows the TwiML it gets back as Twilio does: speaks every `<Say>`, waits for the caller at a
//! `<Gather>`, follows `<Redirect>`, and ends at `<Hangup>` or `<Dial>`.

use anyhow::Context as _;
use quick_xml::Reader;
use quick_xml::events::Event as Xml;
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use url::Url;

/// One thing the caller does at a `<Gather>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Speech(String),
    Digits(String),
    Silence,
}

impl Input {
    /// A line typed at `bella call`: `#1234` keys digits, an empty line is silence.
    pub fn from_line(line: &str) -> Self {
        let line = line.trim();
        match line.strip_prefix('#') {
            Some(digits) => Self::Digits(digits.trim().to_owned()),
            None if line.is_empty() => Self::Silence,
            None => Self::Speech(line.to_owned()),
        }
    }
}

/// How a call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    Hangup,
    Transfer(String),
    /// The document ended without asking anything: Twilio hangs up.
    Finished,
}

/// What Bella said since the caller's last input, and whether the call is over.
#[derive(Debug, Clone, Default)]
pub struct Spoken {
    pub said: Vec<String>,
    /// Every TwiML document received, in order.
    pub documents: Vec<String>,
    pub end: Option<End>,
}

impl Spoken {
    pub fn text(&self) -> String {
        self.said.join(" ")
    }
}

/// A request as sent, kept so a test can send it again exactly as Twilio retries it.
#[derive(Debug, Clone)]
pub struct Sent {
    pub url: String,
    pub params: Vec<(String, String)>,
    pub idempotency_token: String,
}

#[derive(Debug, Clone)]
enum Verb {
    Say(String),
    Gather {
        action: String,
        says: Vec<String>,
    },
    Redirect(String),
    /// `<Pause length="N"/>`: Twilio waits that long, and so does the simulator.
    Pause(u64),
    Hangup,
    Dial(String),
}

pub struct Simulator {
    http: reqwest::Client,
    base: Url,
    token: SecretString,
    account_sid: String,
    call_sid: String,
    from: String,
    to: String,
    action: Option<String>,
    last: Option<Sent>,
    /// Every request's path and round-trip time, for `bella-bench`.
    timings: Vec<(String, std::time::Duration)>,
    /// Servers that receive the requests in turn, while the signature stays over `base`: a load
    /// balancer in front of several api replicas. Empty: requests go to `base`.
    replicas: Vec<Url>,
    sent: std::sync::atomic::AtomicUsize,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("base", &self.base.as_str())
            .field("call_sid", &self.call_sid)
            .finish_non_exhaustive()
    }
}

/// Redirects followed in a row before the simulator decides the server is looping.
const MAX_REDIRECTS: usize = 25;

fn random_hex(len: usize) -> String {
    let mut out = String::new();
    while out.len() < len {
        out.push_str(&uuid::Uuid::new_v4().simple().to_string());
    }
    out.truncate(len);
    out
}

impl Simulator {
    /// A new call from `from` (a withheld caller ID is `anonymous`) to `to`, on the server at
    /// `base`.
    pub fn new(base: &str, token: SecretString, from: &str, to: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder().timeout(std::time::Duration::from_secs(15)).build()?;
        Self::with_client(http, base, token, from, to)
    }

    /// The same, sharing `http` (its connection pool) with other calls.
    pub fn with_client(
        http: reqwest::Client,
        base: &str,
        token: SecretString,
        from: &str,
        to: &str,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            http,
            base: Url::parse(base).with_context(|| format!("not a URL: {base}"))?,
            token,
            account_sid: format!("AC{}", random_hex(32)),
            call_sid: format!("CA{}", random_hex(32)),
            from: from.to_owned(),
            to: to.to_owned(),
            action: None,
            last: None,
            timings: Vec::new(),
            replicas: Vec::new(),
            sent: std::sync::atomic::AtomicUsize::new(0),
        })
    }

    pub fn call_sid(&self) -> &str {
        &self.call_sid
    }

    /// Points the call at another server (the api restarted on another port).
    pub fn set_base(&mut self, base: &str) -> anyhow::Result<()> {
        self.base = Url::parse(base)?;
        Ok(())
    }

    /// Sends each request to the next of `replicas` in turn, as a load balancer in front of
    /// them would, still signing the public URL (`base`) that Twilio requests.
    pub fn spread_over(&mut self, replicas: &[String]) -> anyhow::Result<()> {
        self.replicas = replicas.iter().map(|r| Url::parse(r)).collect::<Result<_, _>>()?;
        Ok(())
    }

    /// The last request sent.
    pub fn last_request(&self) -> Option<&Sent> {
        self.last.as_ref()
    }

    /// The parameters Twilio posts on every voice webhook.
    pub fn call_params(&self, status: &str) -> Vec<(String, String)> {
        let pairs = [
            ("AccountSid", self.account_sid.as_str()),
            ("ApiVersion", "2010-04-01"),
            ("CallSid", self.call_sid.as_str()),
            ("CallStatus", status),
            ("CallToken", ""),
            ("Called", self.to.as_str()),
            ("CalledCountry", "CA"),
            ("Caller", self.from.as_str()),
            ("CallerCountry", "CA"),
            ("Direction", "inbound"),
            ("From", self.from.as_str()),
            ("FromCountry", "CA"),
            ("To", self.to.as_str()),
            ("ToCountry", "CA"),
        ];
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    /// The absolute URL of a path or URL found in TwiML.
    pub fn resolve(&self, target: &str) -> anyhow::Result<String> {
        Ok(self.base.join(target).with_context(|| format!("bad URL in TwiML: {target}"))?.to_string())
    }

    /// Signs and posts `params` to `url`; returns the status and body.
    pub async fn post(&mut self, url: &str, params: Vec<(String, String)>) -> anyhow::Result<(StatusCode, String)> {
        let sent =
            Sent { url: url.to_owned(), params, idempotency_token: format!("{}-{}", random_hex(8), random_hex(24)) };
        let started = std::time::Instant::now();
        let result = self.send(&sent, None).await;
        let path = Url::parse(url).map(|u| u.path().to_owned()).unwrap_or_default();
        self.timings.push((path, started.elapsed()));
        self.last = Some(sent);
        result
    }

    /// The path and round-trip time of every request since the last call, oldest first.
    pub fn take_timings(&mut self) -> Vec<(String, std::time::Duration)> {
        std::mem::take(&mut self.timings)
    }

    /// Sends `sent`, signed (or with `signature` instead, to test forgeries).
    pub async fn send(&self, sent: &Sent, signature: Option<&str>) -> anyhow::Result<(StatusCode, String)> {
        let computed;
        let signature = match signature {
            Some(s) => s,
            None => {
                computed = api::twilio::signature::sign(self.token.expose_secret(), &sent.url, &sent.params);
                &computed
            }
        };
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&sent.params).finish();
        let mut target = Url::parse(&sent.url).with_context(|| format!("not a URL: {}", sent.url))?;
        if !self.replicas.is_empty() {
            let n = self.sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let replica = &self.replicas[n % self.replicas.len()];
            target.set_scheme(replica.scheme()).ok();
            target.set_host(replica.host_str()).ok();
            target.set_port(replica.port()).ok();
        }
        let response = self
            .http
            .post(target.as_str())
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-twilio-signature", signature)
            .header("i-twilio-idempotency-token", &sent.idempotency_token)
            .body(body)
            .send()
            .await
            .with_context(|| format!("cannot reach Bella at {}", target.origin().ascii_serialization()))?;
        let status = response.status();
        Ok((status, response.text().await?))
    }

    /// Sends the last request again, exactly (Twilio's retry).
    pub async fn resend_last(&self) -> anyhow::Result<(StatusCode, String)> {
        let sent = self.last.clone().context("nothing was sent yet")?;
        self.send(&sent, None).await
    }

    /// Places the call: the first webhook, then whatever Bella's TwiML leads to.
    pub async fn dial(&mut self) -> anyhow::Result<Spoken> {
        let url = self.resolve("/twilio/voice")?;
        let params = self.call_params("ringing");
        let (status, body) = self.post(&url, params).await?;
        self.follow(status, body).await
    }

    /// Answers the current `<Gather>`.
    pub async fn respond(&mut self, input: Input) -> anyhow::Result<Spoken> {
        let action = self.action.take().context("Bella is not listening: the call has ended")?;
        let url = self.resolve(&action)?;
        let mut params = self.call_params("in-progress");
        match input {
            Input::Speech(text) => {
                params.push(("SpeechResult".into(), text));
                params.push(("Confidence".into(), "0.92".into()));
            }
            Input::Digits(digits) => {
                params.push(("Digits".into(), digits));
                params.push(("FinishedOnKey".into(), String::new()));
            }
            Input::Silence => {}
        }
        let (status, body) = self.post(&url, params).await?;
        self.follow(status, body).await
    }

    pub async fn say(&mut self, speech: &str) -> anyhow::Result<Spoken> {
        self.respond(Input::Speech(speech.to_owned())).await
    }

    pub async fn press(&mut self, digits: &str) -> anyhow::Result<Spoken> {
        self.respond(Input::Digits(digits.to_owned())).await
    }

    pub async fn silence(&mut self) -> anyhow::Result<Spoken> {
        self.respond(Input::Silence).await
    }

    pub fn is_listening(&self) -> bool {
        self.action.is_some()
    }

    /// Tells Bella the call is over (`POST /twilio/status`, `completed`).
    pub async fn hang_up(&mut self) -> anyhow::Result<StatusCode> {
        self.action = None;
        let url = self.resolve("/twilio/status")?;
        let mut params = self.call_params("completed");
        params.push(("CallDuration".into(), "42".into()));
        let (status, _) = self.post(&url, params).await?;
        Ok(status)
    }

    /// Plays TwiML until Bella listens or the call ends.
    async fn follow(&mut self, status: StatusCode, body: String) -> anyhow::Result<Spoken> {
        let mut heard = Spoken::default();
        let (mut status, mut body) = (status, body);
        for _ in 0..MAX_REDIRECTS {
            if !status.is_success() {
                anyhow::bail!("Bella answered {status}: {}", body.trim());
            }
            let verbs = parse_twiml(&body)?;
            heard.documents.push(body);
            let mut redirect = None;
            for verb in verbs {
                match verb {
                    Verb::Say(text) => heard.said.push(text),
                    Verb::Gather { action, says } => {
                        heard.said.extend(says);
                        self.action = Some(action);
                        return Ok(heard);
                    }
                    Verb::Redirect(target) => {
                        redirect = Some(target);
                        break;
                    }
                    Verb::Pause(seconds) => tokio::time::sleep(std::time::Duration::from_secs(seconds)).await,
                    Verb::Hangup => {
                        heard.end = Some(End::Hangup);
                        return Ok(heard);
                    }
                    Verb::Dial(number) => {
                        heard.end = Some(End::Transfer(number));
                        return Ok(heard);
                    }
                }
            }
            let Some(target) = redirect else {
                heard.end = Some(End::Finished);
                return Ok(heard);
            };
            let url = self.resolve(&target)?;
            let params = self.call_params("in-progress");
            (status, body) = self.post(&url, params).await?;
        }
        anyhow::bail!("Bella redirected {MAX_REDIRECTS} times in a row")
    }
}

/// How an English-speaking caller says `day`: "Tuesday, December 1st".
pub fn spoken_day(day: chrono::NaiveDate) -> String {
    use chrono::Datelike as _;
    let suffix = match day.day() {
        1 | 21 | 31 => "st",
        2 | 22 => "nd",
        3 | 23 => "rd",
        _ => "th",
    };
    format!("{}, {} {}{suffix}", day.format("%A"), day.format("%B"), day.day())
}

/// The verbs of a TwiML document, in order; nested `<Say>` inside `<Gather>` is kept with it.
fn parse_twiml(xml: &str) -> anyhow::Result<Vec<Verb>> {
    let mut reader = Reader::from_str(xml);
    let mut verbs = Vec::new();
    let mut stack: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut gather: Option<(String, Vec<String>)> = None;
    loop {
        match reader.read_event().context("Bella's TwiML is not well-formed XML")? {
            Xml::Start(element) => {
                let name = String::from_utf8_lossy(element.name().as_ref()).into_owned();
                if name == "Gather" {
                    let action = element
                        .try_get_attribute("action")?
                        .map(|a| a.unescape_value().map(|v| v.into_owned()))
                        .transpose()?
                        .unwrap_or_default();
                    gather = Some((action, Vec::new()));
                }
                text.clear();
                stack.push(name);
            }
            Xml::Empty(element) => match element.name().as_ref() {
                b"Hangup" => verbs.push(Verb::Hangup),
                b"Pause" => {
                    let seconds = element
                        .try_get_attribute("length")?
                        .and_then(|a| a.unescape_value().ok().and_then(|v| v.parse().ok()))
                        .unwrap_or(1);
                    verbs.push(Verb::Pause(seconds));
                }
                b"Gather" => {
                    let action = element
                        .try_get_attribute("action")?
                        .map(|a| a.unescape_value().map(|v| v.into_owned()))
                        .transpose()?
                        .unwrap_or_default();
                    verbs.push(Verb::Gather { action, says: Vec::new() });
                }
                _ => {}
            },
            Xml::Text(t) => text.push_str(&t.unescape()?),
            Xml::End(_) => {
                let name = stack.pop().unwrap_or_default();
                let content = std::mem::take(&mut text).trim().to_owned();
                match name.as_str() {
                    "Say" => match gather.as_mut() {
                        Some((_, says)) => says.push(content),
                        None => verbs.push(Verb::Say(content)),
                    },
                    "Gather" => {
                        if let Some((action, says)) = gather.take() {
                            verbs.push(Verb::Gather { action, says });
                        }
                    }
                    "Redirect" => verbs.push(Verb::Redirect(content)),
                    "Dial" => verbs.push(Verb::Dial(content)),
                    _ => {}
                }
            }
            Xml::Eof => break,
            _ => {}
        }
    }
    Ok(verbs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_twiml_verbs() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?><Response><Say voice="x">Hello &amp; welcome</Say><Gather input="speech dtmf" action="/twilio/voice/turn?t=1"><Say>Your name?</Say></Gather><Redirect method="POST">/twilio/voice/turn?t=1</Redirect></Response>"#;
        let verbs = parse_twiml(xml).unwrap();
        assert!(matches!(&verbs[0], Verb::Say(t) if t == "Hello & welcome"));
        assert!(
            matches!(&verbs[1], Verb::Gather { action, says } if action == "/twilio/voice/turn?t=1" && says == &["Your name?"])
        );
        assert!(matches!(&verbs[2], Verb::Redirect(u) if u == "/twilio/voice/turn?t=1"));
    }

    #[test]
    fn lines_become_inputs() {
        assert_eq!(Input::from_line("#4165550123"), Input::Digits("4165550123".into()));
        assert_eq!(Input::from_line("   "), Input::Silence);
        assert_eq!(Input::from_line("yes please"), Input::Speech("yes please".into()));
    }
}
