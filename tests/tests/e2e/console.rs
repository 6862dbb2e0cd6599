//! The web console over HTTP, as a browser would use it: sign-in with a token, sessions that
//! expire or end with their token, CSRF on every form, roles, and the businesses pages. The
//! same flows in a real headless Chromium are in `browser.rs`.

use e2e::TestApp;
use redis::AsyncCommands as _;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::json;

/// A browser's side of the console, by hand: its cookies and the page's CSRF token.
struct Console {
    http: reqwest::Client,
    base: String,
    cookie: String,
}

/// The value of the first `name="…" value="…"` hidden field called `name` in `html`.
fn field(html: &str, name: &str) -> Option<String> {
    let start = html.find(&format!("name=\"{name}\" value=\""))? + name.len() + 15;
    Some(html[start..].split('"').next()?.to_owned())
}

fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

impl Console {
    fn new(app: &TestApp) -> Self {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { http, base: app.base_url.clone(), cookie: String::new() }
    }

    /// Signs in with `token`: the status of the sign-in answer.
    async fn sign_in(&mut self, token: &str) -> StatusCode {
        let form = self.http.get(format!("{}/admin/login", self.base)).send().await.unwrap();
        assert_eq!(form.status(), 200);
        let login_cookie = set_cookie(&form, "bella_login").unwrap();
        let login_cookie = login_cookie.split(';').next().unwrap().to_owned();
        let csrf = field(&form.text().await.unwrap(), "csrf").unwrap();
        let answer = self
            .http
            .post(format!("{}/admin/login", self.base))
            .header(COOKIE, login_cookie)
            .form(&[("token", token), ("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        if let Some(session) = set_cookie(&answer, "bella_console") {
            assert!(session.contains("HttpOnly") && session.contains("SameSite=Strict"), "{session}");
            self.cookie = session.split(';').next().unwrap().to_owned();
        }
        answer.status()
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(format!("{}{path}", self.base)).header(COOKIE, &self.cookie).send().await.unwrap()
    }

    /// A page's HTML, which must answer 200.
    async fn page(&self, path: &str) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.text().await.unwrap()
    }

    /// Posts a form as the page at `from` would (with its CSRF token): (status, Location).
    async fn post(&self, from: &str, path: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
        let csrf = field(&self.page(from).await, "csrf").unwrap();
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        form.push(("csrf", &csrf));
        self.post_raw(path, &form).await
    }

    async fn post_raw(&self, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header(COOKIE, &self.cookie)
            .form(form)
            .send()
            .await
            .unwrap();
        let location = response.headers().get(LOCATION).map(|l| l.to_str().unwrap().to_owned()).unwrap_or_default();
        (response.status(), location)
    }
}

/// `NAME#` and the end of the token's id, as the audit log and the console name its holder.
async fn token_actor(app: &TestApp, name: &str) -> String {
    let id: uuid::Uuid = sqlx::query_scalar("select admin_token_id from admin_tokens where name = $1")
        .bind(name)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let simple = id.simple().to_string();
    format!("{name}#{}", &simple[24..])
}

fn admin_token(app: &TestApp) -> String {
    use secrecy::ExposeSecret as _;
    app.config.admin_token.as_ref().unwrap().expose_secret().to_owned()
}

async fn paused(app: &TestApp, kind: &str) -> bool {
    sqlx::query_scalar("select coalesce((select paused from queue_controls where kind = $1), false)")
        .bind(kind)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_needs_a_session_and_every_form_its_csrf_token() {
    let app = e2e::spawn_app().await;
    let mut console = Console::new(&app);
    // Not signed in: every page sends the browser to sign in.
    for path in ["/admin", "/admin/queues", "/admin/dead-letters", "/admin/audit"] {
        let response = console.get(path).await;
        assert_eq!(response.status(), 303, "{path}");
        let location = response.headers()[LOCATION].to_str().unwrap().to_owned();
        assert!(location == "/admin/login" || location == "/admin/queues", "{path} -> {location}");
    }
    let (status, location) = console.post_raw("/admin/queues", &[("verb", "pause"), ("reason", "x")]).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/admin/login"));

    // A wrong token is refused, and says what to do.
    assert_eq!(console.sign_in("bella_0000000000000000000000000000000000000000").await, 401);
    assert!(console.cookie.is_empty());
    // The sign-in form needs its own CSRF cookie.
    let forged =
        console.http.post(format!("{}/admin/login", app.base_url)).form(&[("token", "x"), ("csrf", "y")]).send();
    assert_eq!(forged.await.unwrap().status(), 403);

    let (ok, token, stderr) = app.bella_admin(&["token", "create", "--name", "alice", "--role", "operator"]).await;
    assert!(ok, "{stderr}");
    assert_eq!(console.sign_in(token.trim()).await, 303);
    let queues = console.page("/admin/queues").await;
    // The holder is shown with the end of the token's id: a name alone could pass for another.
    let alice = format!("console:{}", token_actor(&app, "alice").await);
    assert!(queues.contains("book_appointment") && queues.contains(&format!("{alice} · operator")), "{queues}");
    let response = console.get("/admin/queues").await;
    let policy = response.headers()["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("default-src 'none'") && policy.contains("frame-ancestors 'none'"), "{policy}");

    // A form without the session's CSRF token changes nothing.
    let (status, _) =
        console.post_raw("/admin/queues", &[("verb", "pause"), ("kind", "send_sms"), ("reason", "x")]).await;
    assert_eq!(status, 403);
    let (status, _) = console
        .post_raw("/admin/queues", &[("verb", "pause"), ("kind", "send_sms"), ("reason", "x"), ("csrf", "forged")])
        .await;
    assert_eq!(status, 403);
    assert!(!paused(&app, "send_sms").await);

    // With it, the change is made, audited under the console's name, and reported once.
    let (status, location) = console
        .post("/admin/queues", "/admin/queues", &[("verb", "pause"), ("kind", "send_sms"), ("reason", "deploy")])
        .await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/admin/queues"));
    assert!(paused(&app, "send_sms").await);
    let page = console.page("/admin/queues").await;
    assert!(page.contains("id=\"flash\"") && page.contains("1 kind paused (audit #"), "{page}");
    assert!(!console.page("/admin/queues").await.contains("id=\"flash\""), "the message is shown once");
    let (actor, reason): (String, String) =
        sqlx::query_as("select actor, reason from audit_log where action = 'queues.pause'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((actor.as_str(), reason.as_str()), (alice.as_str(), "deploy"));
    // A bad request is reported on the page, and changes nothing.
    console.post("/admin/queues", "/admin/queues", &[("verb", "pause"), ("kind", "bogus"), ("reason", "x")]).await;
    assert!(console.page("/admin/queues").await.contains("unknown job kind &quot;bogus&quot;"));

    // Revoking the token ends its sessions at once.
    let id: uuid::Uuid = sqlx::query_scalar("select admin_token_id from admin_tokens where name = 'alice'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let (ok, stdout, stderr) = app.bella_admin(&["token", "revoke", &id.to_string(), "--reason", "left"]).await;
    assert!(ok && stdout.contains("revoked"), "{stdout}{stderr}");
    let response = console.get("/admin/queues").await;
    assert_eq!(response.status(), 303);

    // A session ends when it has been idle too long (Redis expires it), and at sign-out.
    let mut console = Console::new(&app);
    assert_eq!(console.sign_in(&admin_token(&app)).await, 303);
    console.page("/admin/queues").await;
    let mut redis =
        redis::Client::open(app.config.redis_url.as_str()).unwrap().get_multiplexed_async_connection().await.unwrap();
    let pattern = format!("{}:console:*", app.config.namespace.as_str());
    let keys: Vec<String> = redis.keys(&pattern).await.unwrap();
    let sessions: Vec<&String> = keys.iter().filter(|k| !k.ends_with(":flash")).collect();
    assert_eq!(sessions.len(), 1, "{keys:?}");
    let ttl: i64 = redis.ttl(sessions[0]).await.unwrap();
    assert!((1..=1800).contains(&ttl), "idle expiry, refreshed by each request: {ttl}");
    let _: () = redis.pexpire(sessions[0], 1).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    assert_eq!(console.get("/admin/queues").await.status(), 303);

    let mut console = Console::new(&app);
    assert_eq!(console.sign_in(&admin_token(&app)).await, 303);
    let (status, location) = console.post("/admin/queues", "/admin/logout", &[]).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/admin/login"));
    assert_eq!(console.get("/admin/queues").await.status(), 303);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_sees_the_console_but_cannot_change_anything() {
    let app = e2e::spawn_app().await;
    let (ok, token, stderr) = app.bella_admin(&["token", "create", "--name", "vera", "--role", "viewer"]).await;
    assert!(ok, "{stderr}");
    let mut console = Console::new(&app);
    assert_eq!(console.sign_in(token.trim()).await, 303);
    for path in [
        "/admin/queues",
        "/admin/dead-letters",
        "/admin/workflows",
        "/admin/appointments",
        "/admin/calls",
        "/admin/businesses",
        "/admin/tokens",
        "/admin/audit",
    ] {
        let page = console.page(path).await;
        assert!(page.contains(&format!("console:{} · viewer", token_actor(&app, "vera").await)), "{path}");
        assert!(!page.contains("name=\"reason\""), "{path} offers a change to a viewer");
    }
    // A hand-made form is refused by the verb itself.
    console.post("/admin/queues", "/admin/queues", &[("verb", "pause"), ("reason", "x")]).await;
    let page = console.page("/admin/queues").await;
    assert!(page.contains(&format!("console:{} is a viewer", token_actor(&app, "vera").await)), "{page}");
    // The refused change is on record.
    let refused: Vec<String> = sqlx::query_scalar(
        "select actor from audit_log where result like 'refused%' and action = 'POST /admin/queues'",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(refused, [format!("console:{}", token_actor(&app, "vera").await)]);
    assert!(!paused(&app, "book_appointment").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::too_many_lines, reason = "one operator's session, read top to bottom")]
async fn businesses_are_created_and_edited_over_the_api_and_the_console() {
    let app = e2e::spawn_app().await;
    // API: create, with a bad field named.
    let (status, error) = app
        .admin_post(
            "/admin/api/businesses",
            json!({ "set": { "name": "Salon Élégance", "time_zone": "Mars/Olympus" }, "reason": "new client" }),
            None,
        )
        .await;
    assert_eq!(status, 400);
    assert!(error["error"].as_str().unwrap().starts_with("time_zone:"), "{error}");
    let (status, created) = app
        .admin_post(
            "/admin/api/businesses",
            json!({ "set": { "name": "Salon Élégance", "phone_number": "+15145550199", "time_zone": "America/Toronto",
                             "province": "qc", "languages": "fr,en", "hours": "tue-sat 10:00-18:00" },
                    "reason": "new client" }),
            None,
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let (_, shown) = app.admin_get(&format!("/admin/api/businesses/{id}"), None).await;
    assert_eq!(shown["phone_number"], "+15145550199");
    assert_eq!(shown["province"], "QC");
    assert_eq!(shown["languages"], json!(["fr", "en"]));
    assert_eq!(shown["hours"], "tue-sat 10:00-18:00");

    // API: edit only what is given; the same edit again changes nothing.
    let patch = |body| {
        let url = format!("{}/admin/api/businesses/+15145550199", app.base_url);
        reqwest::Client::new().patch(url).bearer_auth(admin_token(&app)).json(&body).send()
    };
    let answer = patch(json!({ "set": { "min_notice_minutes": 120 }, "reason": "needs notice" })).await.unwrap();
    assert_eq!(answer.status(), 200);
    let again = patch(json!({ "set": { "min_notice_minutes": 120 }, "reason": "needs notice" })).await.unwrap();
    let again: serde_json::Value = again.json().await.unwrap();
    assert_eq!(again["affected"], 0, "{again}");
    let (_, shown) = app.admin_get(&format!("/admin/api/businesses/{id}"), None).await;
    assert_eq!((shown["min_notice_minutes"].as_u64(), shown["name"].as_str()), (Some(120), Some("Salon Élégance")));
    let taken = patch(json!({ "set": { "phone_number": "not a number" }, "reason": "x" })).await.unwrap();
    assert_eq!(taken.status(), 400);

    // Console: a new business from the form; a bad number names its field; an edit of it.
    let mut console = Console::new(&app);
    assert_eq!(console.sign_in(&admin_token(&app)).await, 303);
    let form = [
        ("name", "Clinique Dentaire Laval"),
        ("phone_number", "+14505550123"),
        ("time_zone", "America/Toronto"),
        ("province", "QC"),
        ("hours", "mon-fri 08:00-16:00"),
        ("appointment_minutes", "45"),
        ("resources", "2"),
        ("min_notice_minutes", "0"),
        ("languages", "fr"),
        ("transfer_number", ""),
        ("address", "1 boulevard Saint-Martin, Laval"),
        ("own_holidays", "2026-12-24, 2026-12-31"),
        ("reason", "onboarding"),
    ];
    let mut bad = form.to_vec();
    bad[6] = ("resources", "two");
    let (_, location) = console.post("/admin/businesses/new", "/admin/businesses", &bad).await;
    assert_eq!(location, "/admin/businesses/new");
    assert!(
        console
            .page("/admin/businesses/new")
            .await
            .contains("appointments at once: &quot;two&quot; is not a whole number")
    );
    let (status, location) = console.post("/admin/businesses/new", "/admin/businesses", &form).await;
    assert_eq!(status, 303);
    let page = console.page(&location).await;
    assert!(page.contains("Business created") && page.contains("value=\"Clinique Dentaire Laval\""), "{page}");
    let (_, shown) = app.admin_get("/admin/api/businesses/+14505550123", None).await;
    assert_eq!(shown["appointment_minutes"], 45);
    assert_eq!(shown["resources"], 2);
    assert_eq!(shown["own_holidays"], json!(["2026-12-24", "2026-12-31"]));
    // An operator opens the form; meanwhile someone changes the notice over the API; the
    // operator changes the hours and saves: both changes stand.
    let page = console.page(&location).await;
    let patch_laval = reqwest::Client::new()
        .patch(format!("{}/admin/api/businesses/+14505550123", app.base_url))
        .bearer_auth(admin_token(&app))
        .json(&json!({ "set": { "min_notice_minutes": 60 }, "reason": "phone policy" }))
        .send();
    assert_eq!(patch_laval.await.unwrap().status(), 200);
    let mut sent: Vec<(String, String)> = vec![("csrf".into(), field(&page, "csrf").unwrap())];
    for (name, _) in &form[..12] {
        let shown = field(&page, &format!("orig.{name}")).unwrap_or_else(|| panic!("orig.{name} in {page}"));
        sent.push((format!("orig.{name}"), shown.clone()));
        sent.push(((*name).to_owned(), shown));
    }
    sent.iter_mut().find(|(k, _)| k == "hours").unwrap().1 = "mon-fri 08:00-16:00; sat 09:00-12:00".into();
    sent.push(("reason".into(), "open Saturday mornings".into()));
    let sent: Vec<(&str, &str)> = sent.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (status, _) = console.post_raw(&location, &sent).await;
    assert_eq!(status, 303);
    assert!(console.page(&location).await.contains("edited (audit #"));
    let (_, shown) = app.admin_get("/admin/api/businesses/+14505550123", None).await;
    assert_eq!(shown["hours"], "mon-fri 08:00-16:00; sat 09:00-12:00");
    assert_eq!(shown["min_notice_minutes"], 60, "the form did not put back the notice it showed");
    let fields: serde_json::Value = sqlx::query_scalar(
        "select target->'fields' from audit_log where action = 'businesses.edit' order by audit_id desc limit 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(fields, json!(["hours"]), "the audit names what changed");

    // There is always a default business.
    let (status, error) = app
        .admin_post("/admin/api/businesses/default", json!({ "set": { "is_default": false }, "reason": "x" }), None)
        .await;
    assert_eq!(status, 405, "PATCH, not POST: {error}");
    let undefault = reqwest::Client::new()
        .patch(format!("{}/admin/api/businesses/default", app.base_url))
        .bearer_auth(admin_token(&app))
        .json(&json!({ "set": { "is_default": false }, "reason": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(undefault.status(), 400);

    let actions: Vec<(String, String, String)> = sqlx::query_as(
        "select actor, action, result from audit_log where action like 'businesses.%' order by audit_id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let actions: Vec<(&str, &str, &str)> =
        actions.iter().map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str())).collect();
    assert_eq!(
        actions,
        [
            ("token:admin-token", "businesses.create", "created"),
            ("token:admin-token", "businesses.edit", "edited"),
            ("token:admin-token", "businesses.edit", "already so: nothing changed"),
            ("console:admin-token", "businesses.create", "created"),
            ("token:admin-token", "businesses.edit", "edited"),
            ("console:admin-token", "businesses.edit", "edited"),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discard_and_purge_refuse_a_dry_run_rather_than_do_it() {
    let app = e2e::spawn_app().await;
    for verb in ["discard", "purge"] {
        let body = json!({ "all": true, "dry_run": true, "reason": "just looking" });
        let (status, error) = app.admin_post(&format!("/admin/api/dead-letters/{verb}"), body, None).await;
        assert_eq!(status, 400, "{verb}: {error}");
        assert!(error["error"].as_str().unwrap().contains("dry_run applies to retry only"), "{error}");
    }
    let rows: i64 = sqlx::query_scalar("select count(*) from audit_log").fetch_one(&app.pool).await.unwrap();
    assert_eq!(rows, 0);
    // The framework's own refusals have the API's error shape too.
    let answer = reqwest::Client::new()
        .post(format!("{}/admin/api/queues/pause", app.base_url))
        .bearer_auth(admin_token(&app))
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    let error: serde_json::Value = answer.json().await.unwrap();
    assert!(error["error"].as_str().unwrap().contains("Content-Type"), "{error}");
}

/// A form's `back` with a line break in it (a header injection) does not break the answer after
/// the change has run: the console goes back to a page of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_back_link_with_a_line_break_is_not_followed() {
    let app = e2e::spawn_app().await;
    let mut console = Console::new(&app);
    assert_eq!(console.sign_in(&admin_token(&app)).await, 303);
    let (status, location) = console
        .post(
            "/admin/dead-letters",
            "/admin/dead-letters",
            &[
                ("verb", "retry"),
                ("matching", "yes"),
                ("dry_run", "yes"),
                ("reason", "count them"),
                ("back", "/admin/dead-letters\r\nSet-Cookie: bella_console=stolen"),
            ],
        )
        .await;
    assert_eq!(status, 303);
    assert_eq!(location, "/admin/dead-letters");
}
