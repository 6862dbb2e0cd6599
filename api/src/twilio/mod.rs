//! Twilio's side of the conversation: request parameters, the signature check, and TwiML.

pub mod signature;
pub mod twiml;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use secrecy::ExposeSecret;

use crate::AppState;

/// The form parameters of a Twilio webhook, in the order they were posted (repeated keys kept).
///
/// Put in the request's extensions by [`verify`] once the signature has been checked, so a
/// handler can only see parameters that Twilio signed.
#[derive(Debug, Clone, Default)]
pub struct TwilioParams(pub Vec<(String, String)>);

impl TwilioParams {
    pub fn parse(body: &[u8]) -> Self {
        Self(url::form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
    }

    /// The parameters as Bella reads them, once the signature (over what Twilio sent, byte for
    /// byte) has been checked: NUL and other control characters removed (no recogniser produces
    /// them, and PostgreSQL cannot store NUL), and what the caller said or keyed cut to what a
    /// caller can say in one turn, so that a hostile body of 64 KB costs no more than a real one.
    pub fn cleaned(self) -> Self {
        Self(
            self.0
                .into_iter()
                .map(|(key, value)| {
                    let mut value: String =
                        value.chars().filter(|c| !c.is_control() || matches!(c, '\n' | '\t')).collect();
                    let limit = match key.as_str() {
                        "SpeechResult" | "UnstableSpeechResult" | "Body" => Some(MAX_SPEECH),
                        "Digits" => Some(MAX_DIGITS),
                        _ => None,
                    };
                    if let Some(limit) = limit
                        && value.len() > limit
                    {
                        let mut end = limit;
                        while !value.is_char_boundary(end) {
                            end -= 1;
                        }
                        value.truncate(end);
                    }
                    (key, value)
                })
                .collect(),
        )
    }

    /// The first value of `name`, if posted.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The value of `name`, or an empty string.
    pub fn text(&self, name: &str) -> &str {
        self.get(name).unwrap_or("")
    }
}

impl<S: Send + Sync> FromRequestParts<S> for TwilioParams {
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<TwilioParams>().cloned().ok_or(StatusCode::FORBIDDEN)
    }
}

/// Webhook bodies are small; anything larger is not Twilio.
const MAX_BODY: usize = 64 * 1024;
/// The most of a transcript (or an incoming text) Bella reads: a caller's turn is a sentence or
/// two, well under a kilobyte.
pub const MAX_SPEECH: usize = 1024;
/// The most keypad digits Bella reads in one turn.
pub const MAX_DIGITS: usize = 64;

/// Rejects, with 403 and no side effect, any request to a Twilio route that does not carry a
/// valid `X-Twilio-Signature` for the URL it was sent to and the parameters it carries.
pub async fn verify(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response();
    };
    let Some(signature) = parts.headers.get("x-twilio-signature").and_then(|v| v.to_str().ok()) else {
        tracing::warn!(path = parts.uri.path(), "refused a Twilio request without a signature");
        metrics::counter!(adapters::metrics::WEBHOOKS, "route" => "any", "outcome" => "forbidden").increment(1);
        return (StatusCode::FORBIDDEN, "missing X-Twilio-Signature").into_response();
    };
    let Some(url) = signed_url(&state, &parts.headers, &parts.uri) else {
        tracing::warn!(
            path = parts.uri.path(),
            "refused a Twilio request addressed to a host not in TWILIO_WEBHOOK_HOSTS"
        );
        metrics::counter!(adapters::metrics::WEBHOOKS, "route" => "any", "outcome" => "forbidden").increment(1);
        return (StatusCode::FORBIDDEN, "this host does not take Twilio webhooks").into_response();
    };
    let is_form = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let params = if is_form { TwilioParams::parse(&bytes) } else { TwilioParams::default() };
    let token = state.config.twilio_auth_token.expose_secret();
    if !signature::is_valid(token, &url, &params.0, signature) {
        tracing::warn!(path = parts.uri.path(), "refused a Twilio request with a wrong signature");
        metrics::counter!(adapters::metrics::WEBHOOKS, "route" => "any", "outcome" => "forbidden").increment(1);
        return (StatusCode::FORBIDDEN, "invalid X-Twilio-Signature").into_response();
    }
    parts.extensions.insert(params.cleaned());
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes))).await
}

/// The URL Twilio requested, as it signed it: `PUBLIC_URL` plus the raw path and query when set;
/// otherwise rebuilt from the `Host` header, with the scheme from `X-Forwarded-Proto` only when
/// that header is trusted. The query string is used exactly as received, never re-encoded.
/// `None` when `TWILIO_WEBHOOK_HOSTS` names the hosts and the request's is not one of them.
pub fn signed_url(state: &AppState, headers: &HeaderMap, uri: &axum::http::Uri) -> Option<String> {
    let path_and_query = uri.path_and_query().map_or("/", |pq| pq.as_str());
    if let Some(public) = &state.config.public_url {
        return Some(format!("{public}{path_and_query}"));
    }
    let scheme = if state.config.trust_forwarded_proto {
        headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| matches!(*v, "http" | "https"))
            .unwrap_or("http")
    } else {
        "http"
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("localhost");
    let accepted = &state.config.twilio_webhook_hosts;
    if !accepted.is_empty() {
        let host = host.to_ascii_lowercase();
        let name = host
            .rsplit_once(':')
            .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
            .map_or(host.as_str(), |(name, _)| name);
        if !accepted.iter().any(|a| *a == host || *a == name) {
            return None;
        }
    }
    Some(format!("{scheme}://{host}{path_and_query}"))
}
