//! Sign-in, sessions, CSRF, throttling, users, registered devices and counter claims, through
//! the real server; and `kolejka user` through the real binary.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use kolejka::app;
use kolejka::auth::{AuthSettings, Role};
use kolejka::clock::{Clock, ManualClock};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, demo_office};

const ANNA_PW: &str = "anna-has-a-long-password";

fn cookie_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client")
}

/// The `Set-Cookie` headers of a response.
fn set_cookies(resp: &Response) -> Vec<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().expect("ascii").to_owned())
        .collect()
}

async fn login_raw(
    app: &TestApp,
    client: &reqwest::Client,
    name: &str,
    password: &str,
    forwarded_for: Option<&str>,
) -> Response {
    let mut req = client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": name, "password": password}));
    if let Some(ip) = forwarded_for {
        req = req.header("x-forwarded-for", ip);
    }
    req.send().await.expect("login request")
}

async fn app_with_anna() -> TestApp {
    let app = TestApp::spawn().await;
    app.state()
        .auth
        .create_user("anna", Role::Clerk, ANNA_PW)
        .await
        .expect("create anna");
    app
}

async fn json(resp: Response) -> Value {
    resp.json().await.expect("JSON body")
}

#[tokio::test]
async fn sign_in_me_and_sign_out() {
    let app = app_with_anna().await;
    let client = cookie_client();
    let resp = login_raw(&app, &client, "anna", ANNA_PW, None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let cookies = set_cookies(&resp);
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    let cookie = &cookies[0];
    let secret = cookie
        .strip_prefix("kolejka_session=")
        .and_then(|c| c.split(';').next())
        .expect("kolejka_session cookie");
    assert!(secret.len() >= 43, "at least 32 random bytes: {secret}");
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(flag), "{flag} missing: {cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP: no Secure flag: {cookie}"
    );
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let body = json(resp).await;
    assert_eq!(body["user"], "anna");
    assert_eq!(body["role"], "clerk");
    let csrf = body["csrf_token"].as_str().expect("csrf_token").to_owned();
    assert!(csrf.len() >= 43);
    let expires: Timestamp = body["expires_at"]
        .as_str()
        .expect("expires_at")
        .parse()
        .expect("RFC 3339");
    let hours = (expires - Timestamp::now())
        .total(jiff::Unit::Hour)
        .expect("hours");
    assert!(
        (11.9..=12.0).contains(&hours),
        "absolute expiry 12 h, got {hours}"
    );

    let me = json(
        client
            .get(app.url("/api/v1/auth/me"))
            .send()
            .await
            .expect("me"),
    )
    .await;
    assert_eq!(me["user"], "anna");
    assert_eq!(me["role"], "clerk");
    assert_eq!(me["counter"], Value::Null);
    assert_eq!(me["csrf_token"], csrf.as_str());
    assert_eq!(me["expires_at"], body["expires_at"]);

    // Signing out needs the CSRF token too (no forced sign-out from another site).
    let resp = client
        .post(app.url("/api/v1/auth/logout"))
        .send()
        .await
        .expect("logout");
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = client
        .post(app.url("/api/v1/auth/logout"))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .expect("logout");
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let cleared = set_cookies(&resp);
    assert!(
        cleared
            .iter()
            .any(|c| c.starts_with("kolejka_session=;") && c.contains("Max-Age=0")),
        "{cleared:?}"
    );
    let resp = client
        .get(app.url("/api/v1/auth/me"))
        .send()
        .await
        .expect("me");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    // The old cookie, replayed by hand, is dead: the session was deleted.
    let resp = app
        .anon
        .get(app.url("/api/v1/auth/me"))
        .header("cookie", format!("kolejka_session={secret}"))
        .send()
        .await
        .expect("me");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    app.stop().await;
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_401() {
    let app = app_with_anna().await;
    let client = cookie_client();
    let wrong = login_raw(&app, &client, "anna", "not-her-password", None).await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(set_cookies(&wrong).is_empty());
    let wrong = json(wrong).await;
    let unknown = login_raw(&app, &client, "nobody", "not-her-password", None).await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        json(unknown).await,
        wrong,
        "the same answer whether the user exists"
    );
    let bad_name = login_raw(&app, &client, "no such name!", "whatever-password", None).await;
    assert_eq!(bad_name.status(), StatusCode::UNAUTHORIZED);
    app.stop().await;
}

#[tokio::test]
async fn the_cookie_is_secure_behind_a_tls_proxy() {
    let app = app_with_anna().await;
    let resp = app
        .anon
        .post(app.url("/api/v1/auth/login"))
        .header("x-forwarded-proto", "https")
        .json(&json!({"username": "anna", "password": ANNA_PW}))
        .send()
        .await
        .expect("login");
    assert_eq!(resp.status(), StatusCode::OK);
    let cookies = set_cookies(&resp);
    assert!(
        cookies.iter().any(|c| c.contains("; Secure")
            && c.contains("HttpOnly")
            && c.contains("SameSite=Strict")),
        "{cookies:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn cookie_changes_need_the_csrf_token_and_bearer_requests_do_not() {
    let app = app_with_anna().await;
    let anna = app.login("anna", ANNA_PW).await.expect("login");
    let open = anna.url("/api/v1/counters/1/open");
    for token in [None, Some("wrong"), Some("")] {
        let mut req = anna.http.post(&open).json(&json!({}));
        if let Some(t) = token {
            req = req.header("x-csrf-token", t);
        }
        let resp = req.send().await.expect("open");
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "token {token:?}");
        let body = json(resp).await;
        assert_eq!(body["error"], "csrf", "{body}");
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|m| m.contains("X-CSRF-Token"))
        );
    }
    // Another session's token does not fit either.
    let other = app.login("anna", ANNA_PW).await.expect("second login");
    let resp = anna
        .http
        .post(&open)
        .header("x-csrf-token", &other.csrf)
        .json(&json!({}))
        .send()
        .await
        .expect("open");
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    // Reads need no token.
    let resp = anna
        .http
        .get(anna.url("/api/v1/counters"))
        .send()
        .await
        .expect("GET");
    assert_eq!(resp.status(), StatusCode::OK);
    // The right token.
    let resp = anna.post("/api/v1/counters/1/open", &json!({})).await;
    assert_eq!(resp.status(), StatusCode::OK);
    // A device's bearer token needs none.
    let kiosk = app.kiosk().await;
    let resp = kiosk
        .post(
            "/api/v1/tickets",
            &json!({"case_type": "dowody", "lang": "pl"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    app.stop().await;
}

#[tokio::test]
async fn five_failures_for_a_name_block_it_even_with_the_right_password() {
    let app = app_with_anna().await;
    let client = cookie_client();
    // From five different addresses (a local proxy's X-Forwarded-For): the name's own limit.
    for i in 1..=5 {
        let ip = format!("10.0.0.{i}");
        let resp = login_raw(&app, &client, "anna", "guess-number-x", Some(&ip)).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let resp = login_raw(&app, &client, "anna", ANNA_PW, Some("10.0.0.99")).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=900).contains(&retry), "Retry-After {retry}");
    assert_eq!(json(resp).await["error"], "too_many_requests");
    // Another name from the same address is not blocked.
    app.state()
        .auth
        .create_user("ewa", Role::Clerk, "ewa-has-a-long-password")
        .await
        .expect("ewa");
    let resp = login_raw(
        &app,
        &client,
        "ewa",
        "ewa-has-a-long-password",
        Some("10.0.0.99"),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn five_failures_from_an_address_block_it_for_every_name() {
    let app = app_with_anna().await;
    let client = cookie_client();
    for i in 1..=5 {
        let resp = login_raw(
            &app,
            &client,
            &format!("user{i}"),
            "guess-number-x",
            Some("10.9.9.9"),
        )
        .await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }
    let resp = login_raw(&app, &client, "anna", ANNA_PW, Some("10.9.9.9")).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.headers().contains_key("retry-after"));
    // From another address anna signs in.
    let resp = login_raw(&app, &client, "anna", ANNA_PW, Some("10.1.1.1")).await;
    assert_eq!(resp.status(), StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn sessions_end_after_two_idle_hours_or_twelve_hours_in_all() {
    let clock = Arc::new(ManualClock::new(Timestamp::now()));
    let app = TestApp::spawn_with(demo_office(), clock.clone()).await;
    app.state()
        .auth
        .create_user("anna", Role::Clerk, ANNA_PW)
        .await
        .expect("anna");
    let me = |c: &crate::helpers::UserClient| {
        let c = c.clone();
        async move { c.get("/api/v1/auth/me").await.status() }
    };

    // Idle: 1 h 59 min between requests keeps it; 2 h ends it.
    let anna = app.login("anna", ANNA_PW).await.expect("login");
    clock.advance(SignedDuration::from_mins(119));
    assert_eq!(me(&anna).await, StatusCode::OK);
    clock.advance(SignedDuration::from_mins(120));
    assert_eq!(me(&anna).await, StatusCode::UNAUTHORIZED);

    // Absolute: busy all day, it still ends 12 h after sign-in.
    let anna = app.login("anna", ANNA_PW).await.expect("login");
    for _ in 0..11 {
        clock.advance(SignedDuration::from_hours(1));
        assert_eq!(me(&anna).await, StatusCode::OK);
    }
    clock.advance(SignedDuration::from_mins(59));
    assert_eq!(me(&anna).await, StatusCode::OK);
    clock.advance(SignedDuration::from_mins(1));
    assert_eq!(me(&anna).await, StatusCode::UNAUTHORIZED);
    app.stop().await;
}

#[tokio::test]
async fn a_disabled_user_cannot_sign_in_and_their_sessions_stop() {
    let app = app_with_anna().await;
    let admin = app.admin().await;
    let anna = app.login("anna", ANNA_PW).await.expect("login");
    anna.post("/api/v1/counters/2/open", &json!({})).await;
    let resp = admin
        .send(
            reqwest::Method::PATCH,
            "/api/v1/users/anna",
            &json!({"disabled": true}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(json(resp).await["disabled"], true);
    assert_eq!(
        anna.get("/api/v1/auth/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login("anna", ANNA_PW).await.err(),
        Some(StatusCode::UNAUTHORIZED)
    );
    // Enabled again, she signs in.
    let resp = admin
        .send(
            reqwest::Method::PATCH,
            "/api/v1/users/anna",
            &json!({"disabled": false}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(app.login("anna", ANNA_PW).await.is_ok());
    // The last admin cannot be disabled or demoted.
    for change in [json!({"disabled": true}), json!({"role": "manager"})] {
        let resp = admin
            .send(reqwest::Method::PATCH, "/api/v1/users/admin", &change)
            .await;
        assert_eq!(resp.status(), StatusCode::CONFLICT);
        assert_eq!(json(resp).await["error"], "last_admin");
    }
    app.stop().await;
}

#[tokio::test]
async fn first_start_creates_an_admin_whose_password_file_is_private() {
    let mut app = TestApp::spawn().await;
    let file = app.dir.path().join("admin-password.txt");
    let meta = std::fs::metadata(&file).expect("admin-password.txt");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }
    let password = app.admin_password();
    assert!(password.chars().count() >= 16, "{password}");
    let admin = app.admin().await;
    let me = json(admin.get("/api/v1/auth/me").await).await;
    assert_eq!(me["role"], "admin");
    let users = json(admin.get("/api/v1/users").await).await;
    assert_eq!(users.as_array().expect("array").len(), 1);
    assert_eq!(users[0]["name"], "admin");
    assert!(users[0].get("password_hash").is_none());

    // A later start finds users and creates no other admin.
    std::fs::remove_file(&file).expect("remove");
    app.restart().await;
    assert!(!file.exists());
    assert!(app.login("admin", &password).await.is_ok());
    app.stop().await;
}

#[tokio::test]
async fn the_users_api_creates_changes_and_sets_passwords() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let create = |body: Value| {
        let admin = admin.clone();
        async move { admin.post("/api/v1/users", &body).await }
    };
    let resp =
        create(json!({"name": "ewa.nowak@um", "role": "clerk", "password": "ewa-password-1"}))
            .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let ewa_view = json(resp).await;
    assert_eq!(ewa_view["name"], "ewa.nowak@um");
    assert_eq!(ewa_view["role"], "clerk");
    assert_eq!(ewa_view["disabled"], false);
    let resp =
        create(json!({"name": "ewa.nowak@um", "role": "clerk", "password": "ewa-password-1"}))
            .await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    assert_eq!(json(resp).await["error"], "user_exists");
    for bad in [
        json!({"name": "ewa nowak", "role": "clerk", "password": "ewa-password-1"}),
        json!({"name": "", "role": "clerk", "password": "ewa-password-1"}),
        json!({"name": "x".repeat(65), "role": "clerk", "password": "ewa-password-1"}),
        json!({"name": "piotr", "role": "clerk", "password": "short"}),
        json!({"name": "piotr", "role": "boss", "password": "piotr-password-1"}),
        json!({"name": "piotr", "role": "clerk", "password": "piotr-password-1", "extra": 1}),
    ] {
        let resp = create(bad.clone()).await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let resp = admin
        .send(
            reqwest::Method::PATCH,
            "/api/v1/users/ewa.nowak@um",
            &json!({"role": "manager"}),
        )
        .await;
    assert_eq!(json(resp).await["role"], "manager");
    let resp = admin
        .send(
            reqwest::Method::PATCH,
            "/api/v1/users/nobody",
            &json!({"role": "manager"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);

    // Ewa changes her own password: with the current one only.
    let ewa = app
        .login("ewa.nowak@um", "ewa-password-1")
        .await
        .expect("login");
    let ewa_elsewhere = app
        .login("ewa.nowak@um", "ewa-password-1")
        .await
        .expect("login");
    let path = "/api/v1/users/ewa.nowak@um/password";
    let resp = ewa.put(path, &json!({"password": "ewa-password-2"})).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let resp = ewa
        .put(
            path,
            &json!({"password": "ewa-password-2", "current_password": "wrong-one-1"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = ewa
        .put(
            path,
            &json!({"password": "ewa-password-2", "current_password": "ewa-password-1"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        ewa.get("/api/v1/auth/me").await.status(),
        StatusCode::OK,
        "this session stays"
    );
    assert_eq!(
        ewa_elsewhere.get("/api/v1/auth/me").await.status(),
        StatusCode::UNAUTHORIZED,
        "other sessions end"
    );
    assert!(app.login("ewa.nowak@um", "ewa-password-1").await.is_err());
    // Not another user's password.
    let resp = ewa
        .put(
            "/api/v1/users/admin/password",
            &json!({"password": "taken-over-1", "current_password": "ewa-password-2"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    // The admin resets hers; her sessions end.
    let resp = admin
        .put(path, &json!({"password": "ewa-password-3"}))
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        ewa.get("/api/v1/auth/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert!(app.login("ewa.nowak@um", "ewa-password-3").await.is_ok());
    let users = json(admin.get("/api/v1/users").await).await;
    assert_eq!(users.as_array().expect("array").len(), 2);
    app.stop().await;
}

#[tokio::test]
async fn a_device_pairs_is_approved_by_code_fetches_its_token_once_and_is_revoked() {
    let app = TestApp::spawn().await;
    let boss = app.user("boss", "manager").await;
    let clerk = app.user("klara", "clerk").await;

    let resp = app
        .anon
        .post(app.url("/api/v1/devices/pair"))
        .json(&json!({"kind": "kiosk", "name": "kiosk w holu"}))
        .send()
        .await
        .expect("pair");
    assert_eq!(resp.status(), StatusCode::CREATED);
    let pair = json(resp).await;
    let id = pair["device_id"].as_i64().expect("device_id");
    let code = pair["pairing_code"].as_str().expect("code").to_owned();
    let poll_token = pair["poll_token"].as_str().expect("poll_token").to_owned();
    assert_eq!(code.len(), 6);
    assert!(code.chars().all(|c| c.is_ascii_digit()));
    assert_eq!(pair["status"], "pending");
    assert!(
        pair.get("token").is_none(),
        "no token before approval: {pair}"
    );

    let poll = |token: String| {
        let app_url = app.url(&format!("/api/v1/devices/pair/{id}"));
        let client = app.anon.clone();
        async move {
            client
                .get(app_url)
                .bearer_auth(token)
                .send()
                .await
                .expect("poll")
        }
    };
    let waiting = json(poll(poll_token.clone()).await).await;
    assert_eq!(waiting["status"], "pending");
    assert!(waiting.get("token").is_none());
    assert_eq!(
        poll("not-the-poll-token".into()).await.status(),
        StatusCode::NOT_FOUND
    );

    // The list shows the waiting device, never a code or token.
    let list = json(boss.get("/api/v1/devices").await).await;
    let listed = &list.as_array().expect("array")[0];
    assert_eq!(listed["status"], "pending");
    let text = list.to_string();
    assert!(
        !text.contains(&code) && !text.contains(&poll_token),
        "{text}"
    );

    // A clerk may not approve; a wrong code finds nothing; the right one approves.
    let approve = json!({"pairing_code": code, "name": "Kiosk parter"});
    assert_eq!(
        clerk
            .post("/api/v1/devices/approve", &approve)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let wrong = if code == "000000" { "000001" } else { "000000" };
    let resp = boss
        .post(
            "/api/v1/devices/approve",
            &json!({"pairing_code": wrong, "name": "x"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let resp = boss.post("/api/v1/devices/approve", &approve).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let device = json(resp).await;
    assert_eq!(device["status"], "approved");
    assert_eq!(device["name"], "Kiosk parter");
    assert_eq!(device["kind"], "kiosk");
    assert_eq!(device["approved_by"], "boss");
    // The code is used up.
    assert_eq!(
        boss.post("/api/v1/devices/approve", &approve)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    // The token comes exactly once.
    let first = json(poll(poll_token.clone()).await).await;
    assert_eq!(first["status"], "approved");
    let token = first["token"]
        .as_str()
        .expect("token after approval")
        .to_owned();
    assert!(token.len() >= 43);
    let second = json(poll(poll_token.clone()).await).await;
    assert_eq!(second["status"], "approved");
    assert!(second.get("token").is_none(), "token shown twice: {second}");

    // It works on a kiosk route, and the list shows when it was last seen.
    let kiosk = reqwest::Client::new();
    let issue = |token: String| {
        let kiosk = kiosk.clone();
        let url = app.url("/api/v1/tickets");
        async move {
            kiosk
                .post(url)
                .bearer_auth(token)
                .json(&json!({"case_type": "dowody", "lang": "pl"}))
                .send()
                .await
                .expect("issue")
        }
    };
    assert_eq!(issue(token.clone()).await.status(), StatusCode::CREATED);
    assert_eq!(
        issue("a-made-up-token".into()).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let list = json(boss.get("/api/v1/devices").await).await;
    assert!(list[0]["last_seen"].is_string(), "{list}");

    // Renamed, then revoked: the token stops working at once.
    let resp = boss
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/devices/{id}"),
            &json!({"name": "Kiosk 1"}),
        )
        .await;
    assert_eq!(json(resp).await["name"], "Kiosk 1");
    let resp = boss
        .post(&format!("/api/v1/devices/{id}/revoke"), &json!({}))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(json(resp).await["status"], "revoked");
    assert_eq!(issue(token).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json(poll(poll_token).await).await["status"], "revoked");
    assert_eq!(
        boss.post("/api/v1/devices/999/revoke", &json!({}))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    app.stop().await;
}

#[tokio::test]
async fn pairing_requests_are_limited_per_address() {
    let app = TestApp::spawn().await;
    let pair = || async {
        app.anon
            .post(app.url("/api/v1/devices/pair"))
            .json(&json!({"kind": "screen"}))
            .send()
            .await
            .expect("pair")
    };
    for i in 0..20 {
        assert_eq!(pair().await.status(), StatusCode::CREATED, "request {i}");
    }
    let resp = pair().await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.headers().contains_key("retry-after"));
    app.stop().await;
}

#[tokio::test]
async fn loopback_pairing_is_approved_at_once_when_the_demo_setting_is_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let running = app::start(app::Options {
        office: demo_office(),
        db: dir.path().join("kolejka.db"),
        listen: "127.0.0.1:0".parse().expect("addr"),
        clock: Arc::new(kolejka::clock::SystemClock),
        auth: AuthSettings {
            auto_approve_loopback: true,
        },
    })
    .await
    .expect("start");
    let base = format!("http://{}", running.addr);
    let client = reqwest::Client::new();
    let resp = client
        .post(format!("{base}/api/v1/devices/pair"))
        .json(&json!({"kind": "kiosk"}))
        .send()
        .await
        .expect("pair");
    assert_eq!(resp.status(), StatusCode::CREATED);
    let pair = json(resp).await;
    assert_eq!(pair["status"], "approved");
    let token = pair["token"].as_str().expect("token at once").to_owned();
    let resp = client
        .post(format!("{base}/api/v1/tickets"))
        .bearer_auth(&token)
        .json(&json!({"case_type": "dowody", "lang": "pl"}))
        .send()
        .await
        .expect("issue");
    assert_eq!(resp.status(), StatusCode::CREATED);
    // Through a proxy (even one on this machine) the setting does not apply.
    let resp = client
        .post(format!("{base}/api/v1/devices/pair"))
        .header("x-forwarded-for", "203.0.113.5")
        .json(&json!({"kind": "kiosk"}))
        .send()
        .await
        .expect("pair");
    let pair = json(resp).await;
    assert_eq!(pair["status"], "pending");
    assert!(pair.get("token").is_none());
    running.stop().await.expect("stop");
}

#[tokio::test]
async fn one_counter_one_session() {
    let app = TestApp::spawn().await;
    let kiosk = app.kiosk().await;
    kiosk.issue("dowody").await;
    let anna = app.user("anna", "clerk").await;
    let ewa = app.user("ewa", "clerk").await;

    let resp = anna.post("/api/v1/counters/1/open", &json!({})).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let me = json(anna.get("/api/v1/auth/me").await).await;
    assert_eq!(me["counter"], 1);
    // Opening it again is harmless.
    assert_eq!(
        anna.post("/api/v1/counters/1/open", &json!({}))
            .await
            .status(),
        StatusCode::OK
    );

    // Ewa cannot take counter 1; Anna cannot hold a second counter.
    let resp = ewa.post("/api/v1/counters/1/open", &json!({})).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    assert_eq!(json(resp).await["error"], "counter_taken");
    let resp = anna.post("/api/v1/counters/2/open", &json!({})).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    assert_eq!(json(resp).await["error"], "holds_other_counter");
    // Anna in a new browser (the old one crashed) takes her own counter over; the old
    // session no longer acts there, so one counter still has one session.
    let anna_old = anna;
    let anna = app
        .login("anna", "anna-secret-password")
        .await
        .expect("login");
    let resp = anna.post("/api/v1/counters/1/open", &json!({})).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = anna_old
        .post("/api/v1/counters/1/call-next", &json!({}))
        .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);

    // The holder calls.
    let called = anna.ok("/api/v1/counters/1/call-next", &json!({})).await;
    assert_eq!(called["ticket"]["number"], "A001");
    let resp = ewa.post("/api/v1/counters/1/call-next", &json!({})).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);

    // Closed, the counter is free for Ewa.
    anna.ok("/api/v1/counters/1/no-show", &json!({})).await;
    anna.ok("/api/v1/counters/1/close", &json!({})).await;
    let me = json(anna.get("/api/v1/auth/me").await).await;
    assert_eq!(me["counter"], Value::Null);
    let resp = ewa.post("/api/v1/counters/1/open", &json!({})).await;
    assert_eq!(resp.status(), StatusCode::OK);
    app.stop().await;
}

/// Runs the real binary with `args`, writing `stdin` to its standard input.
fn kolejka(args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kolejka"))
        .args(args)
        .env_remove("KOLEJKA_DB")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kolejka");
    // A command that fails before it reads its input closes the pipe: not an error here.
    let _ = child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes());
    child.wait_with_output().expect("wait")
}

#[tokio::test]
async fn kolejka_user_add_and_passwd_read_the_password_from_stdin() {
    let app = TestApp::spawn().await;
    let db = app.db.to_str().expect("utf-8 path").to_owned();
    // While the server runs, on the same database.
    let out = tokio::task::spawn_blocking({
        let db = db.clone();
        move || {
            kolejka(
                &["user", "add", "piotr", "--role", "manager", "--db", &db],
                "piotr-password-1\n",
            )
        }
    })
    .await
    .expect("task");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("piotr"));
    let piotr = app
        .login("piotr", "piotr-password-1")
        .await
        .expect("piotr signs in");
    let me = json(piotr.get("/api/v1/auth/me").await).await;
    assert_eq!(me["role"], "manager");

    let db2 = db.clone();
    let (short, taken, passwd, unknown) = tokio::task::spawn_blocking(move || {
        (
            kolejka(
                &["user", "add", "jan", "--role", "clerk", "--db", &db2],
                "short\n",
            ),
            kolejka(
                &["user", "add", "piotr", "--role", "clerk", "--db", &db2],
                "another-password\n",
            ),
            kolejka(
                &["user", "passwd", "piotr", "--db", &db2],
                "piotr-password-2\r\n",
            ),
            kolejka(
                &["user", "passwd", "nobody", "--db", &db2],
                "whatever-password\n",
            ),
        )
    })
    .await
    .expect("task");
    assert_eq!(short.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 10"));
    assert_eq!(taken.status.code(), Some(2));
    assert!(
        passwd.status.success(),
        "{}",
        String::from_utf8_lossy(&passwd.stderr)
    );
    assert_eq!(unknown.status.code(), Some(2));
    // The new password works, the old does not, and the old session has ended.
    assert_eq!(
        piotr.get("/api/v1/auth/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert!(app.login("piotr", "piotr-password-1").await.is_err());
    assert!(app.login("piotr", "piotr-password-2").await.is_ok());
    // There is no way to give the password as an argument.
    let db3 = db.clone();
    let argv = tokio::task::spawn_blocking(move || {
        kolejka(
            &[
                "user",
                "add",
                "jan",
                "--role",
                "clerk",
                "--password",
                "jan-password-1",
                "--db",
                &db3,
            ],
            "",
        )
    })
    .await
    .expect("task");
    assert!(!argv.status.success());
    app.stop().await;
}

#[tokio::test]
async fn a_pairing_code_expires_after_fifteen_minutes() {
    let clock = Arc::new(ManualClock::new(whole_second_now()));
    let app = TestApp::spawn_with(demo_office(), clock.clone()).await;
    let boss = app.user("boss", "manager").await;
    let pair = json(
        app.anon
            .post(app.url("/api/v1/devices/pair"))
            .json(&json!({"kind": "screen"}))
            .send()
            .await
            .expect("pair"),
    )
    .await;
    let expires: Timestamp = pair["code_expires_at"]
        .as_str()
        .expect("code_expires_at")
        .parse()
        .expect("RFC 3339");
    assert_eq!(
        expires.duration_since(clock.now()),
        SignedDuration::from_mins(15)
    );
    clock.advance(SignedDuration::from_mins(15));
    let resp = boss
        .post(
            "/api/v1/devices/approve",
            &json!({"pairing_code": pair["pairing_code"], "name": "Ekran"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let resp = app
        .anon
        .get(app.url(&format!("/api/v1/devices/pair/{}", pair["device_id"])))
        .bearer_auth(pair["poll_token"].as_str().expect("poll_token"))
        .send()
        .await
        .expect("poll");
    assert_eq!(
        resp.status(),
        StatusCode::NOT_FOUND,
        "the device pairs again"
    );
    let list = json(boss.get("/api/v1/devices").await).await;
    assert_eq!(list, json!([]));
    app.stop().await;
}

/// Now, to the second (times in the database are in milliseconds).
fn whole_second_now() -> Timestamp {
    Timestamp::from_second(Timestamp::now().as_second()).expect("now")
}

#[tokio::test]
async fn managers_manage_clerks_accounts_but_not_managers_or_admins() {
    let app = TestApp::spawn().await;
    let boss = app.user("boss", "manager").await;
    let other = app.user("other", "manager").await;
    // A clerk account: create, reset, disable.
    let resp = boss
        .post(
            "/api/v1/users",
            &json!({"name": "kasia", "role": "clerk", "password": "kasia-password-1"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let resp = boss
        .put(
            "/api/v1/users/kasia/password",
            &json!({"password": "kasia-password-2"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert!(app.login("kasia", "kasia-password-2").await.is_ok());
    let resp = boss
        .send(
            reqwest::Method::PATCH,
            "/api/v1/users/kasia",
            &json!({"disabled": true}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    // Not a manager or admin account, and no promotion.
    for (method, path, body) in [
        (
            reqwest::Method::POST,
            "/api/v1/users",
            json!({"name": "x", "role": "manager", "password": "x-password-123"}),
        ),
        (
            reqwest::Method::PATCH,
            "/api/v1/users/kasia",
            json!({"role": "admin"}),
        ),
        (
            reqwest::Method::PATCH,
            "/api/v1/users/other",
            json!({"disabled": true}),
        ),
        (
            reqwest::Method::PUT,
            "/api/v1/users/admin/password",
            json!({"password": "taken-over-123"}),
        ),
    ] {
        let resp = boss.send(method.clone(), path, &body).await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{method} {path}");
    }
    assert!(other.get("/api/v1/auth/me").await.status().is_success());
    assert!(app.login("admin", &app.admin_password()).await.is_ok());
    app.stop().await;
}
