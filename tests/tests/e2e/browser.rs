//! The console in a real browser: Debian's Chromium, headless, driven over WebDriver by
//! chromedriver. `scripts/test` installs both (packages chromium and chromium-driver); the test
//! fails, saying so, where they are missing.

use std::process::Stdio;
use std::time::{Duration, Instant};

use e2e::{booking_job, call_sid, spawn_with};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use workflows::jobs::{Job, JobKind, JobOutcome};

const WAIT: Duration = Duration::from_secs(20);

/// chromedriver on a port of its own, and a Chromium session through it.
struct Browser {
    client: Client,
    _driver: tokio::process::Child,
    profile: std::path::PathBuf,
}

fn program(name: &str) -> std::path::PathBuf {
    for dir in ["/usr/bin", "/usr/local/bin", "/usr/lib/chromium"] {
        let path = std::path::Path::new(dir).join(name);
        if path.exists() {
            return path;
        }
    }
    panic!(
        "{name} is not installed: the console's browser test needs Debian's chromium and chromium-driver \
         (scripts/test installs them; or: sudo apt-get install chromium chromium-driver)"
    );
}

impl Browser {
    async fn start() -> Self {
        let chromium = program("chromium");
        let driver_path = program("chromedriver");
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let driver = tokio::process::Command::new(driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver starts");
        let profile = std::env::temp_dir().join(format!("bella-chromium-{}", uuid::Uuid::new_v4().simple()));
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": chromium,
                // As root in a sandboxed machine, with no network beyond localhost.
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--window-size=1400,1000",
                    format!("--user-data-dir={}", profile.display()),
                ]
            }
        });
        let capabilities = capabilities.as_object().unwrap().clone();
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + WAIT;
        let client = loop {
            match ClientBuilder::new(HttpConnector::new()).capabilities(capabilities.clone()).connect(&url).await {
                Ok(client) => break client,
                Err(error) => {
                    assert!(Instant::now() < deadline, "cannot start a Chromium session: {error}");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        };
        Self { client, _driver: driver, profile }
    }

    /// The element, once the page that has it is there: a click that submits a form or follows a
    /// link returns before the next page has loaded, as a person's click does.
    async fn element(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
    }

    async fn text(&self, css: &str) -> String {
        self.element(css).await.text().await.unwrap()
    }

    async fn fill(&self, css: &str, value: &str) {
        let input = self.element(css).await;
        input.clear().await.unwrap();
        input.send_keys(value).await.unwrap();
    }

    async fn click(&self, css: &str) {
        self.element(css).await.click().await.unwrap();
    }

    async fn close(self) {
        let _ = self.client.close().await;
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_signs_in_and_retries_a_dead_letter_in_a_real_browser() {
    // One booking fails for good (a permanent error, once): it is dead-lettered.
    let app = spawn_with(&[("BELLA_FAILPOINTS", "before:book_appointment=permanent*1")]).await;
    let job = booking_job(&call_sid(70), 1, 3);
    app.publish(&Job::BookAppointmentV1(job.clone())).await;
    let deadline = Instant::now() + WAIT;
    while app.dead_letters(JobKind::BookAppointment).await.is_empty() {
        assert!(Instant::now() < deadline, "the booking was never dead-lettered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (ok, token, stderr) = app.bella_admin(&["token", "create", "--name", "olivia", "--role", "operator"]).await;
    assert!(ok, "{stderr}");

    let browser = Browser::start().await;
    let c = &browser.client;
    // A page of the console sends an anonymous browser to sign in.
    c.goto(&format!("{}/admin/dead-letters", app.base_url)).await.unwrap();
    assert!(c.current_url().await.unwrap().path().ends_with("/admin/login"));
    browser.fill("#token", token.trim()).await;
    browser.click("form button[type=submit]").await;
    let who = browser.text("#who").await;
    assert!(who.starts_with("console:olivia#") && who.ends_with(" · operator"), "{who}");

    // The dead letter is listed; its page shows why it died.
    browser.click("nav a[href='/admin/dead-letters']").await;
    let row = browser.text("#dead-letters tbody tr").await;
    assert!(row.contains("book_appointment") && row.contains("permanent"), "{row}");
    browser.click("#dead-letters tbody tr a").await;
    assert_eq!(browser.text("#status").await, "dead");

    // Retry it, with a reason.
    browser.fill("main form input[name=reason]", "the failure was injected for this test").await;
    browser.click("#retry").await;
    let flash = browser.text("#flash").await;
    assert!(flash.starts_with("1 dead letter retried (audit #"), "{flash}");

    // It succeeds: the booking is made, and the page says the dead letter was retried.
    let booked = app.outcome(&job.idempotency_key, WAIT).await;
    assert!(matches!(booked, Some(JobOutcome::Booked { .. })), "{booked:?}");
    c.refresh().await.unwrap();
    assert!(browser.text("#status").await.starts_with("retried"));
    browser.click("main a[href^='/admin/workflows/']").await;
    let deadline = Instant::now() + WAIT;
    while browser.text("#status").await != "completed" {
        assert!(Instant::now() < deadline, "the run never completed");
        tokio::time::sleep(Duration::from_millis(200)).await;
        c.refresh().await.unwrap();
    }
    // The audit log shows who did it, and why.
    browser.click("nav a[href='/admin/audit']").await;
    let audit = browser.text("#audit tbody tr[data-action='dead_letters.retry']").await;
    assert!(audit.contains("console:olivia") && audit.contains("the failure was injected for this test"), "{audit}");
    browser.close().await;

    let appointments: i64 = sqlx::query_scalar("select count(*) from appointments").fetch_one(&app.pool).await.unwrap();
    assert_eq!(appointments, 1);
}
