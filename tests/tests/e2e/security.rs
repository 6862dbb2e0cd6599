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
