//! Twilio's voice webhooks. Every route here sits behind the signature check.

use axum::extract::{OriginalUri, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use workflows::{CallSid, Language};

use adapters::metrics::WEBHOOKS;

use crate::AppState;
use crate::turn::{self, TurnError, Webhook};
use crate::twilio::{TwilioParams, twiml};

#[derive(Debug, Deserialize)]
pub struct TurnQuery {
    /// The turn the request answers.
    t: Option<u32>,
    /// How many times this request was retried after an internal failure.
    r: Option<u32>,
    /// The caller's speech and keys, carried by such a retry (Twilio's redirect posts neither),
    /// sealed (see [`sealed`]).
    c: Option<String>,
}

/// After this many retries of a failing turn, Bella apologises and hangs up. With the pause before
/// each retry, a dependency may be away for about ten seconds (a restart) without losing the call.
const MAX_TROUBLE_RETRIES: u32 = 4;

pub async fn incoming(
    State(state): State<AppState>,
    uri: OriginalUri,
    Query(q): Query<TurnQuery>,
    params: TwilioParams,
) -> Response {
    respond(&state, Webhook::Incoming, &params, &uri, q.r).await
}

pub async fn turn(
    State(state): State<AppState>,
    uri: OriginalUri,
    Query(q): Query<TurnQuery>,
    mut params: TwilioParams,
) -> Response {
    // A retry after trouble: the answer the caller gave is in the URL, sealed, not in the body.
    if params.get("SpeechResult").is_none()
        && params.get("Digits").is_none()
        && let Some(carried) = q.c.as_deref().and_then(|c| sealed::open(&state, c))
    {
        params.0.extend(carried);
    }
    respond(&state, Webhook::Answer { turn: q.t }, &params, &uri, q.r).await
}

/// `POST /twilio/voice/result?t=N`: a call comes back for the result of the job it waits on.
pub async fn job_result(
    State(state): State<AppState>,
    uri: OriginalUri,
    Query(q): Query<TurnQuery>,
    params: TwilioParams,
) -> Response {
    respond(&state, Webhook::JobResult { turn: q.t }, &params, &uri, q.r).await
}

async fn respond(
    state: &AppState,
    webhook: Webhook,
    params: &TwilioParams,
    uri: &OriginalUri,
    retries: Option<u32>,
) -> Response {
    let route = webhook.name();
    let count =
        |outcome: &'static str| metrics::counter!(WEBHOOKS, "route" => route, "outcome" => outcome).increment(1);
    match turn::answer(state, webhook, params).await {
        Ok(answer) => {
            count(if answer.replayed { "replayed" } else { "ok" });
            xml(answer.twiml)
        }
        Err(TurnError::BadRequest(message)) => {
            count("bad_request");
            (StatusCode::BAD_REQUEST, message).into_response()
        }
        Err(TurnError::Internal(error)) => {
            count("trouble");
            let retries = retries.unwrap_or(0);
            tracing::error!(
                call.sid = params.text("CallSid"),
                retries,
                error = format!("{error:#}"),
                "a turn failed; the caller hears an apology"
            );
            // Twilio would read out an application error on a 500: apologise, and come back to the
            // same turn a bounded number of times (a Redis restart, say, is over in seconds).
            let retry = (retries < MAX_TROUBLE_RETRIES).then(|| retry_url(state, uri, params, retries + 1));
            xml(twiml::trouble(Language::En, retry.as_deref()))
        }
    }
}

/// The same path and query with `r` set to `retries`, carrying the caller's answer sealed (`c`)
/// so that the retry does not lose it, and no proxy's or Twilio's log holds what they said.
fn retry_url(state: &AppState, uri: &OriginalUri, params: &TwilioParams, retries: u32) -> String {
    let mut query: Vec<(String, String)> = uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .filter(|(k, _)| !matches!(k.as_str(), "r" | "c"))
                .collect()
        })
        .unwrap_or_default();
    query.push(("r".to_owned(), retries.to_string()));
    let answer: Vec<(String, String)> = ["SpeechResult", "Digits"]
        .into_iter()
        .filter_map(|name| params.get(name).filter(|v| !v.is_empty()).map(|v| (name.to_owned(), v.to_owned())))
        .collect();
    if !answer.is_empty() {
        query.push(("c".to_owned(), sealed::seal(state, &answer)));
    }
    let encoded = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(query).finish();
    format!("{}?{encoded}", uri.path())
}

/// What a caller said, sealed for the trip through Twilio's redirect: ChaCha20-Poly1305 under a
/// key derived from `TWILIO_AUTH_TOKEN` (every replica has it, and a retry may reach any), with a
/// random nonce. The trouble that calls for a retry is a store that does not answer, so the
/// answer cannot wait in one; sealed, it travels in the URL and only Bella can read it, or
/// change it (a changed one fails to open, and the caller is asked again).
mod sealed {
    use base64::Engine as _;
    use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
    use secrecy::ExposeSecret as _;
    use sha2::{Digest as _, Sha256};

    use crate::AppState;

    fn key(state: &AppState) -> Option<LessSafeKey> {
        let mut hasher = Sha256::new();
        hasher.update(b"bella: a failed turn's answer, sealed for its retry (v1)\0");
        hasher.update(state.config.twilio_auth_token.expose_secret().as_bytes());
        UnboundKey::new(&CHACHA20_POLY1305, &hasher.finalize()).ok().map(LessSafeKey::new)
    }

    pub(super) fn seal(state: &AppState, answer: &[(String, String)]) -> String {
        let Some(key) = key(state) else { return String::new() };
        let mut nonce = [0u8; NONCE_LEN];
        rand::Rng::fill(&mut rand::rng(), &mut nonce);
        let mut data = serde_json::to_vec(answer).unwrap_or_default();
        if key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut data).is_err() {
            return String::new();
        }
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&data);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sealed)
    }

    pub(super) fn open(state: &AppState, sealed: &str) -> Option<Vec<(String, String)>> {
        let key = key(state)?;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(sealed).ok()?;
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let (nonce, data) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut data = data.to_vec();
        let plain = key.open_in_place(nonce, Aad::empty(), &mut data).ok()?;
        let answer: Vec<(String, String)> = serde_json::from_slice(plain).ok()?;
        // Only what a retry carries, nothing that would change who is calling.
        Some(answer.into_iter().filter(|(name, _)| matches!(name.as_str(), "SpeechResult" | "Digits")).collect())
    }
}

fn xml(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], body).into_response()
}

/// `POST /twilio/status`: a call that has ended releases its session.
pub async fn status(State(state): State<AppState>, params: TwilioParams) -> Response {
    let Ok(call) = CallSid::parse(params.text("CallSid")) else {
        return (StatusCode::BAD_REQUEST, "CallSid is missing or invalid").into_response();
    };
    let status = params.text("CallStatus");
    if matches!(status, "completed" | "busy" | "failed" | "no-answer" | "canceled") {
        if let Err(error) =
            adapters::postgres::sessions::forget(&state.pool, &call, state.config.timeline_retention).await
        {
            tracing::warn!(call.sid = %call, %error, "could not forget the call's session copy");
        }
        match state.sessions.end(&call).await {
            Ok(released) => tracing::info!(call.sid = %call, status, released, "call ended"),
            Err(error) => {
                // Twilio retries status callbacks that fail; the session also expires by itself.
                tracing::error!(call.sid = %call, error = format!("{error:#}"), "could not end the call's session");
                return StatusCode::SERVICE_UNAVAILABLE.into_response();
            }
        }
    }
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /twilio/sms-status`: Twilio reports how far a text message got.
pub async fn sms_status(State(state): State<AppState>, params: TwilioParams) -> Response {
    let (sid, status) = (params.text("MessageSid"), params.text("MessageStatus"));
    if sid.is_empty() || status.is_empty() {
        return (StatusCode::BAD_REQUEST, "MessageSid and MessageStatus are required").into_response();
    }
    let code = params.get("ErrorCode").and_then(|c| c.parse::<i32>().ok());
    match adapters::postgres::sms::record_status(&state.pool, sid, status, code).await {
        Ok(updated) => {
            tracing::info!(sms.sid = sid, sms.status = status, updated, "text message status");
            StatusCode::NO_CONTENT.into_response()
        }
        Err(error) => {
            // Twilio retries a callback that fails.
            tracing::error!(sms.sid = sid, %error, "could not record a text message status");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// `POST /twilio/sms`: a text from a caller. STOP, ARRET and their kin stop our texts to that
/// number; START restarts them. Twilio answers STOP itself on long codes; ARRET gets our answer.
pub async fn sms_incoming(State(state): State<AppState>, params: TwilioParams) -> Response {
    let Ok(from) = workflows::E164::parse(params.text("From")) else {
        return (StatusCode::BAD_REQUEST, "From is not a phone number").into_response();
    };
    let body = params.text("Body");
    let result = match workflows::sms::opt_out_keyword(body) {
        Some(true) => adapters::postgres::sms::opt_out(&state.pool, &from, body.trim()).await.map(|()| true),
        Some(false) => adapters::postgres::sms::opt_in(&state.pool, &from).await.map(|()| false),
        None => return xml(r#"<?xml version="1.0" encoding="UTF-8"?><Response/>"#.to_owned()),
    };
    match result {
        Ok(stopped) => {
            tracing::info!(sms.from = %from.masked(), stopped, "text message preferences changed");
            let french = workflows::text::fold_accents(&body.trim().to_lowercase()).starts_with("arret");
            let reply = match (stopped, french) {
                (true, true) => "<Message>Vous ne recevrez plus de textos. Répondez START pour recommencer.</Message>",
                _ => "",
            };
            xml(format!(r#"<?xml version="1.0" encoding="UTF-8"?><Response>{reply}</Response>"#))
        }
        Err(error) => {
            tracing::error!(%error, "could not record a text message preference");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}
