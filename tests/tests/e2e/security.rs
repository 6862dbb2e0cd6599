//! Forged and malformed webhooks change nothing.

use bella::simulator::{Sent, Simulator};
use e2e::{open_day, spawn_app, spoken_day};
use secrecy::SecretString;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_signatures_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let mut call = app.call("+14165550123");
    let url = call.resolve("/twilio/voice").unwrap();
    let sent = Sent { url: url.clone(), params: call.call_params("ringing"), idempotency_token: "t1".into() };

    // No signature at all.
    let response = reqwest::Client::new()
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("CallSid=CA0123456789abcdef0123456789abcdef&From=%2B14165550123")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    // A made-up signature.
    let (status, _) = call.send(&sent, Some("bm90IGEgc2lnbmF0dXJl")).await.unwrap();
    assert_eq!(status, 403);
    // Signed with another token.
    let forger =
        Simulator::new(&app.base_url, SecretString::from("not-the-token".to_owned()), "+14165550123", "+15145550199")
            .unwrap();
    let (status, _) = forger.send(&sent, None).await.unwrap();
    assert_eq!(status, 403);
    // A genuine signature for another URL.
    let elsewhere = Sent { url: call.resolve("/twilio/status").unwrap(), ..sent.clone() };
    let stolen = api_signature(&app, &elsewhere);
    let (status, _) = call.send(&sent, Some(&stolen)).await.unwrap();
    assert_eq!(status, 403);
    // A genuine signature with a parameter changed afterwards.
    let signature = api_signature(&app, &sent);
    let mut tampered = sent.clone();
    tampered.params.iter_mut().find(|(k, _)| k == "From").unwrap().1 = "+19995550123".into();
    let (status, _) = call.send(&tampered, Some(&signature)).await.unwrap();
    assert_eq!(status, 403);

    assert!(!app.session_exists(call.call_sid()).await, "a refused request must not create a session");

    // The genuine request works.
    let heard = call.dial().await.unwrap();
    assert!(heard.text().contains("How can I help"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_yes_cannot_book() {
    let app = spawn_app().await;
    let mut call = app.call("+14165550123");
    call.dial().await.unwrap();
    call.say(&format!("this is Marie Tremblay, {} at 3 pm", spoken_day(open_day()))).await.unwrap();
    let heard = call.say("yes").await.unwrap();
    assert!(heard.text().contains("Shall I book it?"));
    let mut forged = call.last_request().unwrap().clone();
    let action = heard.documents.last().unwrap();
    let turn = action.split("turn?t=").nth(1).unwrap().split('"').next().unwrap().to_owned();
    forged.url = call.resolve(&format!("/twilio/voice/turn?t={turn}")).unwrap();
    forged.params.retain(|(k, _)| k != "SpeechResult");
    forged.params.push(("SpeechResult".into(), "yes".into()));
    let (status, _) = call.send(&forged, Some("Zm9yZ2Vk")).await.unwrap();
    assert_eq!(status, 403);
    assert!(app.appointments().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_request_without_a_call_sid_is_a_bad_request() {
    let app = spawn_app().await;
    let mut call = app.call("+14165550123");
    let url = call.resolve("/twilio/voice").unwrap();
    let (status, _) = call.post(&url, vec![("From".into(), "+14165550123".into())]).await.unwrap();
    assert_eq!(status, 400);
}

fn api_signature(app: &e2e::TestApp, sent: &Sent) -> String {
    use secrecy::ExposeSecret as _;
    api::twilio::signature::sign(app.twilio_token().expose_secret(), &sent.url, &sent.params)
}

/// Reads from `stream` until the server closes it, for at most `limit`; `true` if it closed.
async fn closed_within(stream: &mut tokio::net::TcpStream, limit: std::time::Duration) -> bool {
    use tokio::io::AsyncReadExt as _;
    let mut buffer = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            // An error page for the timed-out request, say: keep reading until the close.
            Ok(Ok(_)) => {}
        }
    }
}

/// A client that sends a request's headers one line a second (slowloris), or opens a connection
/// and sends nothing, is disconnected once the header timeout has passed; a prompt request on
/// another connection is answered meanwhile, and so is one on a connection kept alive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_and_silent_connections_are_cut_off() {
    use std::time::{Duration, Instant};
    use tokio::io::AsyncWriteExt as _;
    let app = e2e::spawn_with(&[("BELLA_HEADER_TIMEOUT_MS", "1500")]).await;
    let address = app.base_url.trim_start_matches("http://").to_owned();

    let mut slow = tokio::net::TcpStream::connect(&address).await.unwrap();
    let mut silent = tokio::net::TcpStream::connect(&address).await.unwrap();
    let started = Instant::now();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: bella\r\n").await.unwrap();
    let mut cut_off = false;
    for n in 0..10 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        if slow.write_all(format!("X-Slow-{n}: 1\r\n").as_bytes()).await.is_err() {
            cut_off = true;
            break;
        }
    }
    assert!(cut_off || closed_within(&mut slow, Duration::from_secs(2)).await, "the slow client is still connected");
    assert!(started.elapsed() < Duration::from_secs(5), "cut off after {:?}", started.elapsed());
    assert!(closed_within(&mut silent, Duration::from_secs(2)).await, "the silent connection is still open");

    // A prompt client is served, twice on one connection.
    let http = reqwest::Client::new();
    for _ in 0..2 {
        let response = http.get(format!("{}/healthz", app.base_url)).send().await.unwrap();
        assert_eq!(response.status(), 200);
    }
}

/// Past the connection cap, a new connection waits until one closes: the listener never takes
/// more than it was told to.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_cap_wait_their_turn() {
    use std::time::Duration;
    let app = e2e::spawn_with(&[("BELLA_MAX_CONNECTIONS", "2"), ("BELLA_HEADER_TIMEOUT_MS", "60000")]).await;
    let address = app.base_url.trim_start_matches("http://").to_owned();
    let first = tokio::net::TcpStream::connect(&address).await.unwrap();
    let _second = tokio::net::TcpStream::connect(&address).await.unwrap();
    let http = reqwest::Client::new();
    let url = format!("{}/healthz", app.base_url);
    let waiting = tokio::time::timeout(Duration::from_millis(700), http.get(&url).send()).await;
    assert!(waiting.is_err(), "a third connection was served past a cap of two");
    drop(first);
    let served = tokio::time::timeout(Duration::from_secs(5), http.get(&url).send()).await;
    assert_eq!(served.expect("served once a connection closed").unwrap().status(), 200);
}

/// Guessing admin tokens is throttled per client address: after ten refusals the address is
/// answered 429 with Retry-After, even for the right token, and the log names it. Behind a load
/// balancer (TRUST_FORWARDED_FOR) each client behind it is counted on its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessing_admin_tokens_is_throttled_per_address() {
    use secrecy::ExposeSecret as _;
    let app = spawn_app().await;
    let right = app.config.admin_token.as_ref().unwrap().expose_secret().to_owned();
    let log = std::env::temp_dir().join(format!("bella-throttle-{}.jsonl", uuid::Uuid::new_v4().simple()));
    let api = e2e::process::ApiProcess::start_logged(&app, &[], &log).await;
    let http = reqwest::Client::new();
    let whoami = format!("{}/admin/api/whoami", api.url);
    for guess in 0..10 {
        let response = http.get(&whoami).bearer_auth(format!("guess-{guess:032}")).send().await.unwrap();
        assert_eq!(response.status(), 401, "guess {guess}");
    }
    let response = http.get(&whoami).bearer_auth("guess-11").send().await.unwrap();
    assert_eq!(response.status(), 429);
    let wait: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=300).contains(&wait), "Retry-After {wait}");
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("too many refused tokens"), "{body}");
    // The right token from the same address waits too: a right guess must not get in.
    let response = http.get(&whoami).bearer_auth(&right).send().await.unwrap();
    assert_eq!(response.status(), 429);
    // The console's sign-in says so in words.
    let page = http.get(format!("{}/admin/login", api.url)).send().await.unwrap();
    let csrf_cookie = page.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let csrf = csrf_cookie.split('=').nth(1).unwrap().to_owned();
    let response = http
        .post(format!("{}/admin/login", api.url))
        .header("cookie", &csrf_cookie)
        .form(&[("csrf", csrf.as_str()), ("token", right.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert!(response.text().await.unwrap().contains("Too many refused tokens"));
    let logged = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_file(&log);
    assert!(logged.contains("throttled") && logged.contains("127.0.0.1"), "{logged}");

    // Behind a proxy that appends the client's address, each client is counted on its own, and
    // an address a client writes into the header itself does not count.
    let proxied = e2e::process::ApiProcess::start(&app, &[("TRUST_FORWARDED_FOR", "true")]).await;
    let whoami = format!("{}/admin/api/whoami", proxied.url);
    for guess in 0..11 {
        http.get(&whoami)
            .header("x-forwarded-for", "198.51.100.1, 203.0.113.7")
            .bearer_auth(format!("g{guess}"))
            .send()
            .await
            .unwrap();
    }
    let blocked = http.get(&whoami).header("x-forwarded-for", "203.0.113.7").bearer_auth(&right).send().await.unwrap();
    assert_eq!(blocked.status(), 429);
    let other = http
        .get(&whoami)
        .header("x-forwarded-for", "203.0.113.7, 198.51.100.9")
        .bearer_auth(&right)
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 200);
}

/// Hostile parameters in signed webhooks: NUL bytes, a 64 KB transcript. Bella answers as for
/// any utterance, keeps the session's copy and the timeline, and never answers 5xx (to which
/// Twilio would retry for ever). The admin API refuses a NUL in a filter with 400.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nul_bytes_and_huge_transcripts_are_cleaned_at_the_edge() {
    let app = spawn_app().await;
    let mut call = app.call("+14165550123");
    call.dial().await.unwrap();
    let heard = call.say("this is Marie\0 Tremblay").await.unwrap();
    assert!(heard.text().contains("Marie"), "{}", heard.text());
    // The copy that survives a Redis failover, and the timeline, were written.
    app.wait_for_session_copy(call.call_sid(), 2).await;
    let heard_rows: Vec<Option<String>> =
        sqlx::query_scalar("select heard from call_turns where call_sid = $1 order by turn")
            .bind(call.call_sid())
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert!(heard_rows.iter().flatten().any(|h| h.contains("Marie Tremblay")), "{heard_rows:?}");

    // 60 KB of homophones (the body limit is 64 KB): read (only its first kilobyte) like any
    // other answer.
    let huge = format!("{}5", "won ".repeat(15 * 1024));
    let heard = call.say(&huge).await.unwrap();
    assert!(!heard.documents.is_empty(), "no TwiML for a huge transcript");
    let kept: i32 = sqlx::query_scalar("select max(length(heard)) from call_turns where call_sid = $1")
        .bind(call.call_sid())
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(kept <= 1024, "{kept} characters of one turn kept");

    // Text-message webhooks with a NUL: answered, not 5xx.
    let (status, _) =
        app.twilio_post("/twilio/sms-status", &[("MessageSid", "SM\0x"), ("MessageStatus", "delivered")]).await;
    assert!(status < 500, "sms-status answered {status}");
    let (status, _) =
        app.twilio_post("/twilio/sms", &[("From", "+14165550123"), ("To", "+15145550199"), ("Body", "STOP\0")]).await;
    assert!(status < 500, "sms answered {status}");
    let opted_out: i64 = app.scalar("select count(*) from sms_opt_outs").await;
    assert_eq!(opted_out, 1, "STOP with a NUL after it still opts out");

    let (status, body) = app.admin_get("/admin/api/appointments?call_sid=%00", None).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].as_str().unwrap().contains("NUL"), "{body}");
}

/// Without PUBLIC_URL, a webhook's URL is rebuilt from its Host header, which the sender
/// chooses: a request signed (genuinely, with the same Twilio account) for another app's host
/// must not pass here. Only the hosts in TWILIO_WEBHOOK_HOSTS are taken.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_signed_for_another_host_is_refused() {
    let app = spawn_app().await;
    let call = app.call("+14165550123");
    let params = call.call_params("ringing");
    let elsewhere = "http://other-app.example.com/twilio/voice";
    let signature =
        api_signature(&app, &Sent { url: elsewhere.into(), params: params.clone(), idempotency_token: "t".into() });
    let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&params).finish();
    let response = reqwest::Client::new()
        .post(format!("{}/twilio/voice", app.base_url))
        .header("host", "other-app.example.com")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-twilio-signature", signature)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert!(!app.session_exists(call.call_sid()).await);
}

/// A turn that fails (Redis away for a moment) is retried through Twilio's redirect; what the
/// caller said travels with the retry sealed, not in clear in a URL that Twilio's and proxies'
/// logs keep, and the retry still understands it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_turns_retry_carries_the_callers_words_sealed() {
    use e2e::engines::proxy::SwitchProxy;
    use e2e::engines::redis::RedisPair;
    let pair = RedisPair::start().await;
    let primary = std::net::SocketAddr::from(([127, 0, 0, 1], pair.primary));
    let proxy = std::sync::Arc::new(SwitchProxy::start(primary).await);
    let engines = e2e::Engines { redis_url: format!("redis://127.0.0.1:{}", proxy.port()), ..e2e::Engines::default() };
    let app = e2e::spawn_on(&engines, &[], bella::Roles::ALL).await;
    let mut call = app.call("+14165550123");
    call.dial().await.unwrap();

    // Redis goes away (the address leads nowhere) and comes back two seconds later.
    proxy.switch(std::net::SocketAddr::from(([127, 0, 0, 1], e2e::engines::free_port())));
    let back = std::sync::Arc::clone(&proxy);
    let restore = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
        back.switch(primary);
    });
    let heard = call.say("this is Marie Tremblay, I'd like to book").await.unwrap();
    restore.await.unwrap();
    let documents = heard.documents.join("\n");
    assert!(documents.contains("having a little trouble"), "no retry happened: {documents}");
    assert!(documents.contains("c="), "{documents}");
    // The URLs Twilio is told to request (and would log).
    let redirects: Vec<&str> = documents
        .split("<Redirect")
        .skip(1)
        .filter_map(|r| r.split_once('>').and_then(|(_, rest)| rest.split_once("</Redirect>")).map(|(url, _)| url))
        .collect();
    assert!(redirects.iter().any(|r| r.contains("c=")), "{redirects:?}");
    assert!(
        redirects.iter().all(|r| !r.contains("Marie") && !r.contains("Tremblay") && !r.contains("s=")),
        "{redirects:?}"
    );
    // The retry understood what was said.
    assert!(heard.text().contains("Marie"), "{}", heard.text());
    drop(app);
    drop(pair);
}

/// A viewer's attempt to change something is refused and on record, through the API and the
/// console alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewers_refused_change_is_in_the_audit_log() {
    let app = spawn_app().await;
    let (ok, token, stderr) = app.bella_admin(&["token", "create", "--name", "vera", "--role", "viewer"]).await;
    assert!(ok, "{stderr}");
    let (status, body) = app
        .admin_post(
            "/admin/api/queues/pause",
            serde_json::json!({ "kinds": ["send_sms"], "reason": "curious" }),
            Some(token.trim()),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    let rows: Vec<(String, String, String)> =
        sqlx::query_as("select actor, action, result from audit_log where result like 'refused%'")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(rows[0].0.starts_with("token:vera#") && rows[0].1 == "POST /admin/api/queues/pause", "{rows:?}");
    // `action=` is matched literally: a `%` lists nothing.
    let (status, listed) = app.admin_get("/admin/api/audit?action=%25", None).await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed.as_array().map(Vec::len), Some(0), "{listed}");
    let (_, listed) = app.admin_get("/admin/api/audit?action=tokens.", None).await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "the token's creation, by prefix: {listed}");
}

/// No statement runs for ever: every connection Bella opens carries a statement timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_have_a_timeout() {
    let app = spawn_app().await;
    let timeout: String = app.scalar("select current_setting('statement_timeout')").await;
    assert_eq!(timeout, "30s");
}

/// The timeline of a call is kept `BELLA_TIMELINE_DAYS` (30 by default), masked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timelines_are_kept_masked_for_the_retention_and_no_longer() {
    let app = spawn_app().await;
    let mut call = app.call("anonymous");
    call.dial().await.unwrap();
    call.say(&format!("this is Ann Lee, {} at 1 pm", spoken_day(open_day()))).await.unwrap();
    call.say("six one three five five five zero one four two").await.unwrap();
    app.wait_for_session_copy(call.call_sid(), 3).await;
    let stored: Vec<(Option<String>, Option<String>)> =
        sqlx::query_as("select heard, reply from call_turns where call_sid = $1")
            .bind(call.call_sid())
            .fetch_all(&app.pool)
            .await
            .unwrap();
    let stored = format!("{stored:?}");
    assert!(!stored.contains("six one three five five five") && !stored.contains("6 1 3, 5 5 5"), "{stored}");
    assert!(stored.contains("zero one four two"), "{stored}");

    sqlx::query("insert into call_turns (call_sid, turn, heard, stage, reply, at) values ('CAold', 0, 'x', 'greeting', '', now() - interval '31 days')")
        .execute(&app.pool)
        .await
        .unwrap();
    adapters::postgres::sessions::sweep(&app.pool, app.config.timeline_retention).await.unwrap();
    let left: Vec<String> =
        sqlx::query_scalar("select distinct call_sid from call_turns").fetch_all(&app.pool).await.unwrap();
    assert_eq!(left, [call.call_sid().to_owned()]);
}
