//! The admin API's OpenAPI document: served behind a token, describing every route, and fuzzed
//! against the running server by schemathesis (`scripts/test` installs it; see
//! `scripts/services --test-tools`): no request it makes gets a 5xx, and every answer has a
//! documented status, content type and schema.

use std::path::PathBuf;
use std::time::Duration;

use e2e::{booking_job, call_sid, spawn_with};
use serde_json::Value;
use workflows::jobs::{Job, JobKind};

/// Every admin route, as the router has it.
const ROUTES: [(&str, &str); 26] = [
    ("get", "/admin/api/whoami"),
    ("get", "/admin/api/queues"),
    ("post", "/admin/api/queues/pause"),
    ("post", "/admin/api/queues/resume"),
    ("post", "/admin/api/queues/drain"),
    ("get", "/admin/api/dead-letters"),
    ("get", "/admin/api/dead-letters/{id}"),
    ("post", "/admin/api/dead-letters/retry"),
    ("post", "/admin/api/dead-letters/discard"),
    ("post", "/admin/api/dead-letters/purge"),
    ("get", "/admin/api/workflows"),
    ("get", "/admin/api/workflows/{id}"),
    ("post", "/admin/api/workflows/{id}/resume"),
    ("post", "/admin/api/workflows/{id}/cancel"),
    ("get", "/admin/api/appointments"),
    ("get", "/admin/api/appointments/{id}"),
    ("post", "/admin/api/appointments/{id}/cancel"),
    ("get", "/admin/api/calls/{call_sid}/timeline"),
    ("get", "/admin/api/businesses"),
    ("post", "/admin/api/businesses"),
    ("get", "/admin/api/businesses/{id}"),
    ("patch", "/admin/api/businesses/{id}"),
    ("get", "/admin/api/tokens"),
    ("post", "/admin/api/tokens"),
    ("post", "/admin/api/tokens/{id}/revoke"),
    ("get", "/admin/api/audit"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_describes_every_admin_route() {
    let app = e2e::spawn_app().await;
    let (status, _) = app.admin_get("/admin/api/openapi.json", Some("nope")).await;
    assert_eq!(status, 401, "the document is behind a token like every admin route");
    let (status, doc) = app.admin_get("/admin/api/openapi.json", None).await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    let mut documented: Vec<(String, String)> = paths
        .iter()
        .flat_map(|(path, ops)| ops.as_object().unwrap().keys().map(move |method| (method.clone(), path.clone())))
        .collect();
    documented.sort();
    let mut expected: Vec<(String, String)> = ROUTES.iter().map(|(m, p)| ((*m).to_owned(), (*p).to_owned())).collect();
    expected.sort();
    assert_eq!(documented, expected);
    // Each operation needs the bearer token, and says what its answers look like.
    assert_eq!(doc["components"]["securitySchemes"]["token"]["scheme"], "bearer");
    assert_eq!(doc["security"][0]["token"], Value::Array(vec![]));
    for (method, path) in ROUTES {
        let operation = &doc["paths"][path][method];
        let responses = operation["responses"].as_object().unwrap();
        assert!(responses.contains_key("401"), "{method} {path}");
        let ok = responses.keys().find(|code| code.starts_with('2')).unwrap();
        assert!(
            !responses[ok]["content"]["application/json"]["schema"].is_null(),
            "{method} {path} documents no body for {ok}"
        );
    }
    // Changes say that they need a reason.
    let reason = &doc["components"]["schemas"]["ReasonBody"]["properties"]["reason"];
    assert_eq!(reason["minLength"], 1, "{reason}");
}

/// schemathesis, installed by `scripts/services --test-tools` (or named by `SCHEMATHESIS`).
fn schemathesis() -> PathBuf {
    if let Some(path) = std::env::var_os("SCHEMATHESIS") {
        return PathBuf::from(path);
    }
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let path = workspace.join("target/tools/schemathesis/bin/schemathesis");
    assert!(
        path.exists(),
        "schemathesis is not installed at {}: run scripts/services --test-tools (scripts/test does), or set SCHEMATHESIS",
        path.display()
    );
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_server_error_in_the_admin_api() {
    let program = schemathesis();
    // Something to look at: a dead letter and its run, an appointment-less business.
    let app = spawn_with(&[("BELLA_FAILPOINTS", "before:book_appointment=permanent*1")]).await;
    app.publish(&Job::BookAppointmentV1(booking_job(&call_sid(90), 1, 3))).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while app.dead_letters(JobKind::BookAppointment).await.is_empty() {
        assert!(std::time::Instant::now() < deadline, "no dead letter to fuzz around");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    use secrecy::ExposeSecret as _;
    let token = app.config.admin_token.as_ref().unwrap().expose_secret().to_owned();
    // schemathesis keeps its examples database in the working directory: one of its own.
    let report = std::env::temp_dir().join(format!("bella-schemathesis-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&report).unwrap();
    let output = tokio::process::Command::new(&program)
        .args(["run", &format!("{}/admin/api/openapi.json", app.base_url)])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
        ])
        .args(["--max-examples", "25", "--workers", "2", "--seed", "20261124"])
        // A drain may wait for jobs in flight for up to 50 seconds.
        .args(["--request-timeout", "65", "--no-color"])
        .current_dir(&report)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .expect("schemathesis runs");
    let _ = std::fs::remove_dir_all(&report);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "schemathesis found problems:\n{stdout}\n{stderr}");
    assert!(stdout.contains("Tested: 26"), "not every operation was fuzzed:\n{stdout}");
}
