//! Twilio's Messages API (`/2010-04-01/Accounts/{AccountSid}/Messages.json`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;
use workflows::E164;

use super::{Sent, SmsError, SmsGateway};

/// Every request gives up after this long; a timeout is ambiguous, never a reason to resend.
const TIMEOUT: Duration = Duration::from_secs(10);

pub struct TwilioSms {
    http: reqwest::Client,
    base: Url,
    account_sid: String,
    auth_token: SecretString,
    status_callback: Option<String>,
}

impl std::fmt::Debug for TwilioSms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwilioSms").field("base", &self.base.as_str()).finish_non_exhaustive()
    }
}

impl TwilioSms {
    pub fn new(
        base: Url,
        account_sid: String,
        auth_token: SecretString,
        status_callback: Option<String>,
    ) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder().timeout(TIMEOUT).connect_timeout(Duration::from_secs(3)).build()?;
        Ok(Self { http, base, account_sid, auth_token, status_callback })
    }

    fn messages_url(&self) -> Result<Url, SmsError> {
        self.base
            .join(&format!("/2010-04-01/Accounts/{}/Messages.json", self.account_sid))
            .map_err(|e| SmsError::NotSent(format!("bad TWILIO_API_BASE: {e}")))
    }
}

#[derive(Deserialize)]
struct Message {
    sid: String,
    status: String,
    #[serde(default)]
    body: String,
}

#[derive(Deserialize)]
struct MessageList {
    #[serde(default)]
    messages: Vec<Message>,
    /// The next page, relative to the API's base, when there is one.
    #[serde(default)]
    next_page_uri: Option<String>,
}

/// Pages of a hundred messages read, at most, when looking a message up: a sender's texts to one
/// number over two days.
const MAX_LOOKUP_PAGES: usize = 10;

#[derive(Deserialize)]
struct TwilioError {
    #[serde(default)]
    code: i32,
    #[serde(default)]
    message: String,
}

/// What went wrong with a request, for an error message: the error and its causes, never the
/// URL (reqwest's errors quote it, and a lookup's URL carries the recipient's number), and any
/// number that is left masked.
fn describe(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    workflows::privacy::mask_numbers(&text)
}

fn transport(error: reqwest::Error) -> SmsError {
    if error.is_connect() { SmsError::NotSent(describe(error)) } else { SmsError::Ambiguous(describe(error)) }
}

#[async_trait::async_trait]
impl SmsGateway for TwilioSms {
    async fn send(&self, to: &E164, from: &E164, body: &str) -> Result<Sent, SmsError> {
        let mut form = vec![("To", to.as_str()), ("From", from.as_str()), ("Body", body)];
        if let Some(callback) = &self.status_callback {
            form.push(("StatusCallback", callback));
        }
        let response = self
            .http
            .post(self.messages_url()?)
            .basic_auth(&self.account_sid, Some(self.auth_token.expose_secret()))
            .form(&form)
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        if status.is_success() {
            let message: Message = response
                .json()
                .await
                .map_err(|e| SmsError::Ambiguous(format!("unreadable answer: {}", describe(e))))?;
            return Ok(Sent { sid: message.sid, status: message.status });
        }
        if status.as_u16() == 429 {
            let wait = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(30);
            return Err(SmsError::RetryAfter(Duration::from_secs(wait)));
        }
        if status.is_server_error() {
            // Twilio documents that a 5xx does not prove the message was not created.
            return Err(SmsError::Ambiguous(format!("Twilio answered {status}")));
        }
        let error: TwilioError =
            response.json().await.unwrap_or(TwilioError { code: 0, message: format!("Twilio answered {status}") });
        // Twilio's messages often quote the number ("The 'To' number +1416… is not valid").
        Err(SmsError::Rejected { code: error.code, message: workflows::privacy::mask_numbers(&error.message) })
    }

    async fn find(&self, to: &E164, since: DateTime<Utc>, body: &str) -> Result<Option<Sent>, SmsError> {
        let mut url = self.messages_url()?;
        url.query_pairs_mut()
            .append_pair("To", to.as_str())
            .append_pair("DateSent>", &(since - chrono::Duration::days(1)).format("%Y-%m-%d").to_string())
            .append_pair("PageSize", "100");
        // Every page, not only the first: a busy sender's message may be on the second, and not
        // finding it would send it twice.
        let mut next = Some(url);
        for _ in 0..MAX_LOOKUP_PAGES {
            let Some(page) = next.take() else { return Ok(None) };
            let response = self
                .http
                .get(page)
                .basic_auth(&self.account_sid, Some(self.auth_token.expose_secret()))
                .send()
                .await
                .map_err(|e| SmsError::Ambiguous(format!("lookup failed: {}", describe(e))))?;
            if !response.status().is_success() {
                return Err(SmsError::Ambiguous(format!("lookup answered {}", response.status())));
            }
            let list: MessageList = response
                .json()
                .await
                .map_err(|e| SmsError::Ambiguous(format!("unreadable lookup: {}", describe(e))))?;
            if let Some(found) = list.messages.into_iter().find(|m| m.body == body) {
                return Ok(Some(Sent { sid: found.sid, status: found.status }));
            }
            // Only ever Twilio's own pages: the credentials go with the request.
            next = list
                .next_page_uri
                .and_then(|uri| self.base.join(&uri).ok())
                .filter(|page| page.origin() == self.base.origin());
        }
        match next {
            None => Ok(None),
            // Still more pages: the message may be on one of them. Not knowing is not a reason to
            // send again.
            Some(_) => Err(SmsError::Ambiguous(format!("lookup stopped after {MAX_LOOKUP_PAGES} pages"))),
        }
    }
}
