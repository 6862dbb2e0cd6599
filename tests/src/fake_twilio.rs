//! A fake of Twilio's Messages API on a local HTTP server (wiremock), so that Bella's real
//! client runs in the tests. It remembers the messages it created (a lookup finds them, as on
//! Twilio) and can be told how to answer the next create requests.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use serde_json::json;
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// How the fake answers one create request.
#[derive(Debug, Clone)]
pub enum Answer {
    /// 201: created.
    Create,
    /// 400 with a Twilio error code: not created.
    Refuse(i32),
    /// 400 with a Twilio error code and a message quoting the recipient, as Twilio's often do.
    RefuseQuoting(i32),
    /// 429 with Retry-After: not created.
    TooMany { retry_after: u64 },
    /// 500 after creating the message: the client cannot know it was sent.
    FailAfterCreating,
    /// 500 without creating it.
    FailBeforeCreating,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    pub sid: String,
    pub to: String,
    pub from: String,
    pub body: String,
}

#[derive(Debug, Default)]
struct State {
    script: VecDeque<Answer>,
    /// Lookups still to answer with a body that is not JSON.
    garbled_lookups: usize,
    created: Vec<Created>,
    create_requests: usize,
}

#[derive(Clone)]
struct Responder(Arc<Mutex<State>>);

fn form(request: &Request) -> Vec<(String, String)> {
    url::form_urlencoded::parse(&request.body).into_owned().collect()
}

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut state = self.0.lock().unwrap();
        if request.method.as_str() == "GET" {
            if state.garbled_lookups > 0 {
                state.garbled_lookups -= 1;
                return ResponseTemplate::new(200).set_body_string("<html>upstream hiccup</html>");
            }
            let query = |name: &str| request.url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
            let to = query("To");
            let size: usize = query("PageSize").and_then(|v| v.parse().ok()).unwrap_or(50).max(1);
            let page: usize = query("Page").and_then(|v| v.parse().ok()).unwrap_or(0);
            // Newest first, a page at a time, as Twilio lists them.
            let matching: Vec<_> = state
                .created
                .iter()
                .rev()
                .filter(|m| to.as_deref().is_none_or(|t| t == m.to))
                .map(|m| json!({ "sid": m.sid, "status": "sent", "body": m.body, "to": m.to }))
                .collect();
            let messages: Vec<_> = matching.iter().skip(page * size).take(size).cloned().collect();
            let next = ((page + 1) * size < matching.len()).then(|| {
                let mut next = request.url.clone();
                let kept: Vec<(String, String)> = next
                    .query_pairs()
                    .filter(|(k, _)| k != "Page")
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect();
                next.query_pairs_mut().clear().extend_pairs(kept).append_pair("Page", &(page + 1).to_string());
                format!("{}?{}", next.path(), next.query().unwrap_or_default())
            });
            return ResponseTemplate::new(200).set_body_json(json!({ "messages": messages, "next_page_uri": next }));
        }
        state.create_requests += 1;
        let fields = form(request);
        let get = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
        let answer = state.script.pop_front().unwrap_or(Answer::Create);
        let create = |state: &mut State| {
            let sid = format!("SM{:032x}", state.created.len() + 1);
            state.created.push(Created { sid: sid.clone(), to: get("To"), from: get("From"), body: get("Body") });
            sid
        };
        match answer {
            Answer::Create => {
                let sid = create(&mut state);
                ResponseTemplate::new(201).set_body_json(json!({ "sid": sid, "status": "queued", "body": get("Body") }))
            }
            Answer::Refuse(code) => ResponseTemplate::new(400)
                .set_body_json(json!({ "code": code, "message": format!("error {code}"), "status": 400 })),
            Answer::RefuseQuoting(code) => ResponseTemplate::new(400).set_body_json(json!({
                "code": code,
                "message": format!("The 'To' number {} is not a valid phone number.", get("To")),
                "status": 400,
            })),
            Answer::TooMany { retry_after } => {
                ResponseTemplate::new(429).insert_header("Retry-After", retry_after.to_string().as_str())
            }
            Answer::FailAfterCreating => {
                create(&mut state);
                ResponseTemplate::new(500)
            }
            Answer::FailBeforeCreating => ResponseTemplate::new(500),
        }
    }
}

pub struct FakeTwilio {
    pub server: MockServer,
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for FakeTwilio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeTwilio").field("uri", &self.server.uri()).finish()
    }
}

impl FakeTwilio {
    pub async fn start() -> Self {
        let server = MockServer::start().await;
        let state = Arc::new(Mutex::new(State::default()));
        Mock::given(path_regex(r"^/2010-04-01/Accounts/AC[0-9a-f]+/Messages\.json$"))
            .and(method("POST"))
            .respond_with(Responder(state.clone()))
            .mount(&server)
            .await;
        Mock::given(path_regex(r"^/2010-04-01/Accounts/AC[0-9a-f]+/Messages\.json$"))
            .and(method("GET"))
            .respond_with(Responder(state.clone()))
            .mount(&server)
            .await;
        Self { server, state }
    }

    /// Answers the next create requests so, in order (then: created).
    pub fn script(&self, answers: impl IntoIterator<Item = Answer>) {
        self.state.lock().unwrap().script.extend(answers);
    }

    /// Records `count` messages sent to `to` by someone else (another of the sender's texts), newer
    /// than those already created.
    pub fn seed(&self, to: &str, count: usize) {
        let mut state = self.state.lock().unwrap();
        for n in 0..count {
            let sid = format!("SMseed{:026x}", state.created.len() + n);
            state.created.push(Created { sid, to: to.into(), from: SMS_FROM.into(), body: format!("Reminder {n}") });
        }
    }

    /// Answers the next `count` message lookups with a body that is not JSON.
    pub fn garble_lookups(&self, count: usize) {
        self.state.lock().unwrap().garbled_lookups += count;
    }

    /// The messages created, that is, sent to phones.
    pub fn created(&self) -> Vec<Created> {
        self.state.lock().unwrap().created.clone()
    }

    /// Create requests received, created or not.
    pub fn create_requests(&self) -> usize {
        self.state.lock().unwrap().create_requests
    }

    pub fn uri(&self) -> String {
        self.server.uri()
    }
}

/// The account of the fake.
pub const ACCOUNT_SID: &str = "AC00000000000000000000000000000001";
/// The sender for a business without a number of its own.
pub const SMS_FROM: &str = "+15145550100";
