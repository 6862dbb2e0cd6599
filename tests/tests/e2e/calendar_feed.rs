//! Issue 16's calendar feed: a business's appointments as an iCalendar feed any calendar app can
//! subscribe to, read here by an iCalendar parser written apart from ours and checked against
//! PostgreSQL: stable UIDs, local times with the business's TZID and its VTIMEZONE, SEQUENCE
//! bumped and STATUS:CANCELLED on a cancellation, and a token that can be replaced or revoked.

use std::time::{Duration, Instant};

use e2e::{TestApp, local_rfc3339, open_day, spawn_app};
use icalendar::parser::{Component, read_calendar, unfold};
use serde_json::json;

/// The feed's URL path, as `bella admin business calendar-feed` printed it.
async fn issue(app: &TestApp) -> String {
    let (ok, stdout, stderr) = app.bella_admin(&["business", "calendar-feed", "default"]).await;
    assert!(ok, "{stderr}");
    stdout.lines().find(|l| l.contains("/calendar/")).expect("a feed URL").trim().to_owned()
}

async fn fetch(app: &TestApp, path: &str) -> (u16, String) {
    let response = reqwest::get(format!("{}{path}", app.base_url)).await.unwrap();
    let status = response.status().as_u16();
    if status == 200 {
        let kind = response.headers()["content-type"].to_str().unwrap().to_owned();
        assert_eq!(kind, "text/calendar; charset=utf-8");
    }
    (status, response.text().await.unwrap())
}

fn prop(component: &Component<'_>, name: &str) -> String {
    component.find_prop(name).map(|p| p.val.as_str().to_owned()).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_lists_appointments_in_the_business_zone_and_follows_a_cancellation() {
    let app = spawn_app().await;
    let day = open_day();
    let reference = app.book_by_phone("+14165550123", "Marie Tremblay", day, "2 pm").await;
    let path = issue(&app).await;
    assert!(path.starts_with("/calendar/") && path.contains(".ics?token=bellacal_"), "{path}");

    let (status, text) = fetch(&app, &path).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.lines().all(|l| l.len() <= 76), "lines fold at 75 octets");
    let unfolded = unfold(&text);
    let calendar = read_calendar(&unfolded).expect("a valid iCalendar document");
    assert!(
        calendar.properties.iter().any(|p| p.name.as_str() == "X-WR-CALNAME" && p.val.as_str() == "Bella Demo Clinic")
    );
    let zones: Vec<_> = calendar.components.iter().filter(|c| c.name.as_str() == "VTIMEZONE").collect();
    assert_eq!(zones.len(), 1);
    assert_eq!(prop(zones[0], "TZID"), "America/Toronto");
    let events: Vec<_> = calendar.components.iter().filter(|c| c.name.as_str() == "VEVENT").collect();
    assert_eq!(events.len(), 1);
    let event = events[0];
    let row = &app.appointments_where("status=booked").await[0];
    assert_eq!(prop(event, "UID"), format!("{}@bella", row["id"].as_str().unwrap()));
    assert_eq!(row["starts_at"], local_rfc3339(day, 14, 0));
    let start = event.find_prop("DTSTART").unwrap();
    assert_eq!(start.val.as_str(), format!("{}T140000", day.format("%Y%m%d")));
    assert_eq!(start.params[0].key.as_str(), "TZID");
    assert_eq!(start.params[0].val.as_ref().unwrap().as_str(), "America/Toronto");
    assert_eq!(prop(event, "DTEND"), format!("{}T143000", day.format("%Y%m%d")));
    assert_eq!(prop(event, "SUMMARY"), format!("Marie Tremblay ({reference})"));
    assert_eq!(prop(event, "STATUS"), "CONFIRMED");
    assert_eq!(prop(event, "SEQUENCE"), "0");

    // Cancelled: the same event, a higher SEQUENCE, STATUS:CANCELLED.
    let (status, outcome) = app
        .admin_post(&format!("/admin/api/appointments/{reference}/cancel"), json!({ "reason": "caller emailed" }), None)
        .await;
    assert_eq!(status, 200, "{outcome}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while app.appointments_where("status=cancelled").await.is_empty() {
        assert!(Instant::now() < deadline, "the cancellation never committed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, text) = fetch(&app, &path).await;
    let unfolded = unfold(&text);
    let calendar = read_calendar(&unfolded).unwrap();
    let event = calendar.components.iter().find(|c| c.name.as_str() == "VEVENT").unwrap();
    assert_eq!(prop(event, "UID"), format!("{}@bella", row["id"].as_str().unwrap()));
    assert_eq!(prop(event, "STATUS"), "CANCELLED");
    assert_eq!(prop(event, "SEQUENCE"), "1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feed_opens_only_with_its_latest_token_until_revoked() {
    let app = spawn_app().await;
    let first = issue(&app).await;
    assert_eq!(fetch(&app, &first).await.0, 200);
    let (business, _) = first.split_once("?token=").unwrap();
    assert_eq!(fetch(&app, business).await.0, 404, "no token");
    assert_eq!(fetch(&app, &format!("{business}?token=bellacal_wrong")).await.0, 404);
    let second = issue(&app).await;
    assert_ne!(first, second);
    assert_eq!(fetch(&app, &first).await.0, 404, "a new URL replaces the old one");
    assert_eq!(fetch(&app, &second).await.0, 200);
    let (ok, stdout, stderr) = app.bella_admin(&["business", "calendar-feed", "default", "--revoke"]).await;
    assert!(ok && stdout.contains("revoked"), "{stdout}{stderr}");
    assert_eq!(fetch(&app, &second).await.0, 404);
    let audit: i64 = sqlx::query_scalar("select count(*) from audit_log where action like 'calendar_feed.%'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(audit, 3);
}
