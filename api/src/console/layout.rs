//! The console's page shell and the small pieces every page uses. maud escapes every value
//! written with `(...)`: nothing a caller said or an operator typed can become markup.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Utc};
use maud::{DOCTYPE, Markup, html};
use serde_json::Value;

use super::{Flash, Session};

const SECTIONS: [(&str, &str); 8] = [
    ("/admin/queues", "Queues"),
    ("/admin/dead-letters", "Dead letters"),
    ("/admin/workflows", "Workflows"),
    ("/admin/appointments", "Appointments"),
    ("/admin/calls", "Calls"),
    ("/admin/businesses", "Businesses"),
    ("/admin/tokens", "Tokens"),
    ("/admin/audit", "Audit"),
];

/// A whole page: navigation, who is signed in, the one-time message, then `body`.
pub(super) fn page(session: &Session, flash: Option<&Flash>, current: &str, title: &str, body: &Markup) -> Response {
    Html(
        html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (title) " · Bella console" }
                    link rel="stylesheet" href="/admin/console.css";
                }
                body {
                    header {
                        span.brand { "Bella" }
                        nav {
                            @for (href, label) in SECTIONS {
                                a href=(href) aria-current=[(href == current).then_some("page")] { (label) }
                            }
                        }
                        form.who method="post" action="/admin/logout" {
                            span #who { (session.actor.name) " · " (session.actor.role.as_str()) }
                            (csrf(session))
                            button type="submit" { "Sign out" }
                        }
                    }
                    main {
                        h1 { (title) }
                        @if let Some(flash) = flash {
                            p.flash.ok[flash.ok].error[!flash.ok] #flash role="status" { (flash.text) }
                        }
                        (body)
                    }
                }
            }
        }
        .into_string(),
    )
    .into_response()
}

pub(super) fn login(csrf: &str, problem: Option<&str>) -> Html<String> {
    Html(
        html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    title { "Sign in · Bella console" }
                    link rel="stylesheet" href="/admin/console.css";
                }
                body.login {
                    main {
                        h1 { "Bella console" }
                        @if let Some(problem) = problem { p.flash.error #flash { (problem) } }
                        form method="post" action="/admin/login" {
                            input type="hidden" name="csrf" value=(csrf);
                            label for="token" { "Admin token" }
                            input #token type="password" name="token" autocomplete="off" required autofocus;
                            button type="submit" { "Sign in" }
                        }
                        p.hint {
                            "A token comes from " code { "bella admin token create --name you --role operator" }
                            " (or " code { "ADMIN_TOKEN" } "). Sessions end after 30 minutes idle, or 12 hours."
                        }
                    }
                }
            }
        }
        .into_string(),
    )
}

pub(super) fn error_page(status: StatusCode, message: &str) -> Response {
    let body = html! {
        (DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { "Bella console" } link rel="stylesheet" href="/admin/console.css"; }
            body.login { main {
                h1 { (status.as_u16()) " " (status.canonical_reason().unwrap_or("")) }
                p.flash.error #flash { (message) }
                p { a href="/admin/queues" { "Back to the console" } }
            } }
        }
    };
    (status, Html(body.into_string())).into_response()
}

/// The hidden CSRF field every form carries.
pub(super) fn csrf(session: &Session) -> Markup {
    html! { input type="hidden" name="csrf" value=(session.csrf); }
}

/// The reason field every change asks for.
pub(super) fn reason(placeholder: &str) -> Markup {
    html! {
        input.reason type="text" name="reason" required maxlength="500" placeholder=(placeholder) aria-label="Reason";
    }
}

/// The box a destructive change needs ticked.
pub(super) fn confirm(what: &str) -> Markup {
    html! { label.confirm { input type="checkbox" name="confirm" value="yes"; " " (what) } }
}

pub(super) fn when(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

pub(super) fn maybe(value: Option<&str>) -> &str {
    value.unwrap_or("–")
}

/// A JSON value, pretty-printed.
pub(super) fn json(value: &Value) -> Markup {
    html! { pre { (serde_json::to_string_pretty(value).unwrap_or_default()) } }
}

/// The first `n` characters of `text`, with an ellipsis when cut.
pub(super) fn short(text: &str, n: usize) -> String {
    if text.chars().count() <= n { text.to_owned() } else { format!("{}…", text.chars().take(n).collect::<String>()) }
}

/// A message when a list is empty.
pub(super) fn empty(rows: usize, what: &str) -> Markup {
    html! { @if rows == 0 { p.empty { (what) } } }
}
