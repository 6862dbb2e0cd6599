//! The admin API: authentication, filters, and the fields it promises.

use e2e::{local_rfc3339, open_day, spawn_app, spoken_day};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appointments_need_the_admin_token() {
    let app = spawn_app().await;
    let (status, _) = app.admin_get("/admin/api/appointments", Some("")).await;
    assert_eq!(status, 401);
    let (status, body) = app.admin_get("/admin/api/appointments", Some("wrong")).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "invalid bearer token");
    let (status, body) = app.admin_get("/admin/api/appointments", None).await;
    assert_eq!(status, 200);
    assert_eq!(body, serde_json::json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appointments_can_be_filtered() {
    let app = spawn_app().await;
    let day = open_day();
    let mut call = app.call("+14165550123");
    call.dial().await.unwrap();
    call.say(&format!("this is Marie Tremblay, {} at 4 pm", spoken_day(day))).await.unwrap();
    call.say("yes").await.unwrap();
    call.say("yes").await.unwrap();

    let sid = call.call_sid().to_owned();
    let (status, body) = app.admin_get(&format!("/admin/api/appointments?call_sid={sid}&status=booked"), None).await;
    assert_eq!(status, 200);
    let rows = body.as_array().unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    for field in
        ["id", "reference", "call_sid", "business", "name", "phone", "starts_at", "ends_at", "status", "language"]
    {
        assert!(!row[field].is_null(), "missing {field}: {row}");
    }
    assert_eq!(row["starts_at"], local_rfc3339(day, 16, 0));
    assert_eq!(row["language"], "en");

    let (_, body) = app.admin_get(&format!("/admin/api/appointments?from={day}&to={day}"), None).await;
    assert_eq!(body.as_array().unwrap().len(), 1);
    let next = day.succ_opt().unwrap();
    let (_, body) = app.admin_get(&format!("/admin/api/appointments?from={next}"), None).await;
    assert_eq!(body.as_array().unwrap().len(), 0);
    let (_, body) = app.admin_get("/admin/api/appointments?status=cancelled", None).await;
    assert_eq!(body.as_array().unwrap().len(), 0);
    let (_, body) = app.admin_get("/admin/api/appointments?call_sid=CA00000000000000000000000000000000", None).await;
    assert_eq!(body.as_array().unwrap().len(), 0);

    let (status, body) = app.admin_get("/admin/api/appointments?from=yesterday", None).await;
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap().contains("from must be"), "{body}");
    let (status, _) = app.admin_get("/admin/api/appointments?status=maybe", None).await;
    assert_eq!(status, 400);
    let (status, _) = app.admin_get("/admin/api/appointments?colour=blue", None).await;
    assert_eq!(status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_readiness() {
    let app = spawn_app().await;
    let body = reqwest::get(format!("{}/healthz", app.base_url)).await.unwrap().text().await.unwrap();
    assert_eq!(body, "ok");
    let response = reqwest::get(format!("{}/readyz", app.base_url)).await.unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body, serde_json::json!({ "postgres": "ok", "redis": "ok", "rabbitmq": "ok" }));
}

/// A business an operator creates (here with `bella admin`, as another replica or a script would:
/// not through this api) answers its own calls at once, with the cache kept as in production
/// (30 s); and so does an edit. A Vancouver clinic's first caller must not hear the default
/// business's name and Toronto hours.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_business_created_a_moment_ago_answers_its_own_calls() {
    let app = e2e::spawn_with(&[("BELLA_BUSINESS_CACHE_MS", "30000")]).await;
    // A first call fills the api's cache with the businesses as they are now.
    let mut before = app.call_to("+14165550123", "+16045550177");
    let heard = before.dial().await.unwrap();
    assert!(!heard.text().contains("Kitsilano"), "{}", heard.text());
    let created = [
        "business",
        "create",
        "--name",
        "Kitsilano Physio",
        "--number",
        "+16045550177",
        "--time-zone",
        "America/Vancouver",
        "--province",
        "BC",
        "--reason",
        "new clinic",
    ];
    let (ok, _, stderr) = app.bella_admin(&created).await;
    assert!(ok, "{stderr}");
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let mut call = app.call_to("+14165550123", "+16045550177");
    let heard = call.dial().await.unwrap();
    assert!(heard.text().contains("thank you for calling Kitsilano Physio"), "{}", heard.text());

    let edited = ["business", "edit", "+16045550177", "--name", "Kits Physio", "--reason", "renamed"];
    let (ok, _, stderr) = app.bella_admin(&edited).await;
    assert!(ok, "{stderr}");
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let mut after = app.call_to("+14165550124", "+16045550177");
    let heard = after.dial().await.unwrap();
    assert!(heard.text().contains("thank you for calling Kits Physio"), "{}", heard.text());
}
