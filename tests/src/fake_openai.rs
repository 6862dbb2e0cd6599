//! A fake of an OpenAI-compatible chat completions API on a local HTTP server (wiremock), so that
//! Bella's real client (async-openai) runs in the tests. It answers every request with the value
//! it was given, after an optional delay, and keeps the requests for assertions.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The model name the tests configure.
pub const MODEL: &str = "bella-test-model";
/// The API key the tests configure.
pub const API_KEY: &str = "sk-test-not-a-real-key";

#[derive(Debug, Clone)]
struct Behaviour {
    /// The `value` the model answers (`None`: null).
    value: Option<String>,
    delay: Duration,
    /// An HTTP error status instead of an answer.
    status: Option<u16>,
}

#[derive(Debug)]
struct State {
    behaviour: Behaviour,
    requests: Vec<Value>,
}

#[derive(Clone)]
struct Responder(Arc<Mutex<State>>);

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut state = self.0.lock().unwrap();
        let mut body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let authorization = request.headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
        body["_authorization"] = json!(authorization);
        state.requests.push(body);
        let behaviour = state.behaviour.clone();
        if let Some(status) = behaviour.status {
            return ResponseTemplate::new(status).set_body_json(
                json!({ "error": { "message": "fake failure", "type": "server_error", "param": null, "code": null } }),
            );
        }
        let content = json!({ "value": behaviour.value }).to_string();
        ResponseTemplate::new(200).set_delay(behaviour.delay).set_body_json(json!({
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": 1_764_000_000,
            "model": MODEL,
            "choices": [{
                "index": 0,
                "message": { "role": "assistant", "content": content, "refusal": null },
                "finish_reason": "stop",
                "logprobs": null
            }],
            "usage": { "prompt_tokens": 120, "completion_tokens": 8, "total_tokens": 128 }
        }))
    }
}

pub struct FakeOpenAi {
    pub server: MockServer,
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for FakeOpenAi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeOpenAi").field("uri", &self.server.uri()).finish()
    }
}

impl FakeOpenAi {
    /// A model that answers `value` at once.
    pub async fn answering(value: Option<&str>) -> Self {
        let server = MockServer::start().await;
        let behaviour = Behaviour { value: value.map(str::to_owned), delay: Duration::ZERO, status: None };
        let state = Arc::new(Mutex::new(State { behaviour, requests: Vec::new() }));
        Mock::given(path("/v1/chat/completions"))
            .and(method("POST"))
            .respond_with(Responder(state.clone()))
            .mount(&server)
            .await;
        Self { server, state }
    }

    /// Answers only after `delay`.
    pub fn slow(&self, delay: Duration) {
        self.state.lock().unwrap().behaviour.delay = delay;
    }

    /// Fails every request with `status`.
    pub fn failing(&self, status: u16) {
        self.state.lock().unwrap().behaviour.status = Some(status);
    }

    /// The request bodies received (with the Authorization header as `_authorization`).
    pub fn requests(&self) -> Vec<Value> {
        self.state.lock().unwrap().requests.clone()
    }

    /// The configuration pointing Bella at this fake.
    pub fn env(&self) -> [(&'static str, String); 3] {
        [
            ("OPENAI_API_KEY", API_KEY.to_owned()),
            ("OPENAI_BASE_URL", format!("{}/v1", self.server.uri())),
            ("OPENAI_MODEL", MODEL.to_owned()),
        ]
    }
}
