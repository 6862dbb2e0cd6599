//! The web console at `/admin`: server-rendered pages over the operator verbs of
//! [`operations`], the same library the CLI and the JSON API call.
//!
//! - **Sign-in.** An operator pastes an admin token (`bella admin token create`, or
//!   `ADMIN_TOKEN`). The console keeps a session in Redis under a random id sent as an `HttpOnly`,
//!   `SameSite=Strict` cookie; Redis holds only the id's SHA-256 and the token's SHA-256, never a
//!   secret. A session ends after [`IDLE`] without a request, after [`LIFETIME`] in any case, at
//!   sign-out, and as soon as its token is revoked (checked on every request).
//! - **Roles.** The token's role applies: a viewer sees every page and no buttons; the library
//!   refuses a viewer's change anyway.
//! - **CSRF.** Every form carries the session's CSRF token, checked before any handler runs; the
//!   sign-in form uses a short-lived cookie for the same purpose. The session cookie is
//!   `SameSite=Strict` as well.
//! - **After a change**, the page redirects (303) back with a one-time message (kept in Redis
//!   next to the session), so a reload never repeats a change.
//! - No JavaScript: plain forms, and a strict Content-Security-Policy.

mod forms;
mod layout;
mod pages;

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use operations::{Actor, Role, tokens};
use rand::Rng as _;
use redis::AsyncCommands as _;
use secrecy::ExposeSecret as _;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq as _;

use crate::AppState;

pub use forms::FormData;

/// The session cookie.
pub const SESSION_COOKIE: &str = "bella_console";
/// The sign-in form's CSRF cookie.
const LOGIN_COOKIE: &str = "bella_login";
/// A session ends after this long without a request.
pub const IDLE: Duration = Duration::from_secs(30 * 60);
/// A session ends this long after sign-in, however busy.
pub const LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);
/// The largest form the console accepts.
const MAX_FORM: usize = 64 * 1024;

/// A signed-in operator, as handlers see it.
#[derive(Debug, Clone)]
pub struct Session {
    pub actor: Actor,
    /// The value every form must send back as `csrf`.
    pub csrf: String,
    /// The Redis key of the session.
    key: String,
}

impl Session {
    pub fn operator(&self) -> bool {
        self.actor.role == Role::Operator
    }
}

/// What Redis keeps for a session.
#[derive(Debug, Serialize, Deserialize)]
struct Stored {
    /// The SHA-256 of the token signed in with (`ADMIN_TOKEN`'s too: a new `ADMIN_TOKEN` ends the
    /// sessions of the old one).
    token_sha256: String,
    csrf: String,
    signed_in_ms: i64,
}

/// A message shown once, on the page a change redirects to.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Flash {
    pub ok: bool,
    pub text: String,
}

pub fn router(state: AppState) -> Router<AppState> {
    let pages = Router::new()
        .route("/admin", get(|| async { Redirect::to("/admin/queues") }))
        .route("/admin/", get(|| async { Redirect::to("/admin/queues") }))
        .route("/admin/logout", post(logout))
        .route("/admin/queues", get(pages::queues).post(pages::change_queues))
        .route("/admin/dead-letters", get(pages::dead_letters).post(pages::change_dead_letters))
        .route("/admin/dead-letters/{id}", get(pages::dead_letter))
        .route("/admin/workflows", get(pages::workflows))
        .route("/admin/workflows/{id}", get(pages::workflow))
        .route("/admin/workflows/{id}/resume", post(pages::resume_workflow))
        .route("/admin/workflows/{id}/cancel", post(pages::cancel_workflow))
        .route("/admin/appointments", get(pages::appointments))
        .route("/admin/appointments/{id}", get(pages::appointment))
        .route("/admin/appointments/{id}/cancel", post(pages::cancel_appointment))
        .route("/admin/calls", get(pages::calls))
        .route("/admin/calls/{sid}", get(pages::call))
        .route("/admin/businesses", get(pages::businesses).post(pages::create_business))
        .route("/admin/businesses/new", get(pages::new_business))
        .route("/admin/businesses/{id}", get(pages::business).post(pages::edit_business))
        .route("/admin/tokens", get(pages::tokens).post(pages::change_tokens))
        .route("/admin/audit", get(pages::audit))
        .route_layer(middleware::from_fn_with_state(state, require_session));
    Router::new()
        .route("/admin/login", get(login_form).post(login))
        .route("/admin/console.css", get(stylesheet))
        .merge(pages)
        .layer(middleware::from_fn(security_headers))
}

/// No framing, no scripts, no third-party anything; nothing cached.
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = |headers: &mut HeaderMap, name, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(
        headers,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::REFERRER_POLICY, "same-origin");
    if !headers.contains_key(header::CACHE_CONTROL) {
        set(headers, header::CACHE_CONTROL, "no-store");
    }
    response
}

async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "max-age=300")],
        include_str!("console.css"),
    )
        .into_response()
}

fn random_hex() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The value of cookie `name`.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

fn equal(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

fn secure(state: &AppState) -> &'static str {
    match &state.config.public_url {
        Some(url) if url.starts_with("https://") => "; Secure",
        _ => "",
    }
}

fn session_key(state: &AppState, id: &str) -> String {
    state.config.namespace.console_session_key(&tokens::sha256_hex(id))
}

/// The session named by the request's cookie, if it is live; refreshes its idle expiry.
async fn load_session(state: &AppState, headers: &HeaderMap) -> anyhow::Result<Option<Session>> {
    let Some(id) = cookie(headers, SESSION_COOKIE).filter(|id| id.len() == 64) else { return Ok(None) };
    let key = session_key(state, &id);
    let mut redis = state.services.redis.clone();
    let raw: Option<String> = redis.get(&key).await?;
    let Some(stored) = raw.and_then(|raw| serde_json::from_str::<Stored>(&raw).ok()) else { return Ok(None) };
    let lifetime_ms = i64::try_from(LIFETIME.as_millis()).unwrap_or(i64::MAX);
    let left_ms = stored.signed_in_ms.saturating_add(lifetime_ms) - now_ms();
    // The token must still be live: revoking it (or changing ADMIN_TOKEN) ends its sessions.
    let env_token = state.config.admin_token.as_ref().map(|t| tokens::sha256_hex(t.expose_secret()));
    let actor = if env_token.is_some_and(|sha| equal(&sha, &stored.token_sha256)) {
        Some(Actor { name: "token:admin-token".into(), role: Role::Operator })
    } else {
        tokens::live(&state.pool, &stored.token_sha256).await?
    };
    let Some(actor) = actor.filter(|_| left_ms > 0) else {
        let _: () = redis.del(&key).await?;
        return Ok(None);
    };
    let idle_ms = i64::try_from(IDLE.as_millis()).unwrap_or(i64::MAX);
    let _: () = redis.pexpire(&key, left_ms.min(idle_ms)).await?;
    let name = actor.name.strip_prefix("token:").unwrap_or(&actor.name);
    Ok(Some(Session { actor: Actor { name: format!("console:{name}"), role: actor.role }, csrf: stored.csrf, key }))
}

/// Lets a request through with its [`Session`], or sends the browser to sign in. A form sent
/// without the session's CSRF token is refused with 403 before any handler sees it.
async fn require_session(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let session = match load_session(&state, request.headers()).await {
        Ok(Some(session)) => session,
        Ok(None) => return Redirect::to("/admin/login").into_response(),
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "console: cannot read the session");
            return layout::error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "The session store is not answering; try again.",
            );
        }
    };
    let mut request = if request.method() == Method::POST {
        let (parts, body) = request.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM).await else {
            return layout::error_page(StatusCode::PAYLOAD_TOO_LARGE, "The form is too large.");
        };
        let sent = FormData::parse(&bytes).get("csrf").unwrap_or_default().to_owned();
        if !equal(&sent, &session.csrf) {
            return layout::error_page(
                StatusCode::FORBIDDEN,
                "This form is out of date or did not come from the console (CSRF check failed). Reload the page and try again.",
            );
        }
        // A viewer's change is refused by the verb; it is on record from here, whatever the form.
        if session.actor.role == Role::Viewer && parts.uri.path() != "/admin/logout" {
            let action = format!("POST {}", parts.uri.path());
            let target = serde_json::json!({ "path": parts.uri.path() });
            if let Err(error) = operations::audit::refused(&state.pool, &session.actor, &action, target).await {
                tracing::warn!(%error, "console: could not record a refused change in the audit log");
            }
        }
        Request::from_parts(parts, Body::from(bytes))
    } else {
        request
    };
    request.extensions_mut().insert(session);
    next.run(request).await
}

/// Keeps `flash` for the next page of this session.
pub async fn set_flash(state: &AppState, session: &Session, flash: &Flash) {
    let mut redis = state.services.redis.clone();
    let value = serde_json::to_string(flash).unwrap_or_default();
    let set: redis::RedisResult<()> = redis.set_ex(format!("{}:flash", session.key), value, 300).await;
    if let Err(error) = set {
        tracing::warn!(%error, "console: cannot keep the message for the next page");
    }
}

/// The message left for this page, once.
pub async fn take_flash(state: &AppState, session: &Session) -> Option<Flash> {
    let mut redis = state.services.redis.clone();
    let raw: Option<String> = redis.get_del(format!("{}:flash", session.key)).await.ok()?;
    raw.and_then(|raw| serde_json::from_str(&raw).ok())
}

async fn login_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if matches!(load_session(&state, &headers).await, Ok(Some(_))) {
        return Redirect::to("/admin/queues").into_response();
    }
    login_page(&state, StatusCode::OK, None)
}

fn login_page(state: &AppState, status: StatusCode, problem: Option<&str>) -> Response {
    let csrf = random_hex();
    let cookie =
        format!("{LOGIN_COOKIE}={csrf}; Path=/admin/login; HttpOnly; SameSite=Strict; Max-Age=900{}", secure(state));
    let mut response = (status, layout::login(&csrf, problem)).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
    body: axum::body::Bytes,
) -> Response {
    let client = crate::throttle::client(&state, &headers, &extensions);
    if let Some(wait) = crate::throttle::throttled(&state, client).await {
        let message =
            format!("Too many refused tokens from your address: try again in {} minutes.", wait.as_secs().div_ceil(60));
        let mut response = login_page(&state, StatusCode::TOO_MANY_REQUESTS, Some(&message));
        if let Ok(value) = HeaderValue::from_str(&wait.as_secs().to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    }
    let form = FormData::parse(&body);
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !equal(form.get("csrf").unwrap_or_default(), &expected) {
        return login_page(&state, StatusCode::FORBIDDEN, Some("The sign-in form expired. Paste your token again."));
    }
    let token = form.get("token").unwrap_or_default().trim().to_owned();
    let actor = match crate::routes::admin::access::actor_for(&state, &token).await {
        Ok(Some(actor)) => actor,
        Ok(None) => {
            crate::throttle::refused(&state, client, "console sign-in").await;
            return login_page(
                &state,
                StatusCode::UNAUTHORIZED,
                Some("That token is not valid, or it was revoked. Ask an operator for one (bella admin token create)."),
            );
        }
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "console: cannot check a token");
            return layout::error_page(StatusCode::SERVICE_UNAVAILABLE, "Cannot check the token now; try again.");
        }
    };
    let stored = Stored { token_sha256: tokens::sha256_hex(&token), csrf: random_hex(), signed_in_ms: now_ms() };
    let id = random_hex();
    let mut redis = state.services.redis.clone();
    let saved: redis::RedisResult<()> = redis
        .set_ex(session_key(&state, &id), serde_json::to_string(&stored).unwrap_or_default(), IDLE.as_secs())
        .await;
    if let Err(error) = saved {
        tracing::error!(%error, "console: cannot keep a session");
        return layout::error_page(StatusCode::SERVICE_UNAVAILABLE, "The session store is not answering; try again.");
    }
    tracing::info!(actor = %actor.name, "console: signed in");
    let mut response = Redirect::to("/admin/queues").into_response();
    let cookies = [
        format!(
            "{SESSION_COOKIE}={id}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age={}{}",
            LIFETIME.as_secs(),
            secure(&state)
        ),
        format!("{LOGIN_COOKIE}=; Path=/admin/login; HttpOnly; SameSite=Strict; Max-Age=0"),
    ];
    for cookie in cookies {
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

async fn logout(State(state): State<AppState>, axum::Extension(session): axum::Extension<Session>) -> Response {
    let mut redis = state.services.redis.clone();
    let deleted: redis::RedisResult<()> = redis.del(&[session.key.clone(), format!("{}:flash", session.key)]).await;
    if let Err(error) = deleted {
        tracing::warn!(%error, "console: cannot end a session");
    }
    let mut response = Redirect::to("/admin/login").into_response();
    let clear = format!("{SESSION_COOKIE}=; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=0");
    if let Ok(value) = HeaderValue::from_str(&clear) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}
