//! The whole route table: who may call what (401/403), the OpenAPI document covering every
//! route, concurrency (kiosks issuing and clerks calling at once), and bad input.

use std::collections::BTreeSet;

use futures_util::future::join_all;
use kolejka::auth::{DeviceKind, Role};
use kolejka::server::routes::{self, RouteSpec};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{DeviceClient, TestApp, UserClient};

/// A concrete path for a route: path parameters replaced by plausible values.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| match seg {
            "{id}" => "1",
            "{number}" => "A001",
            "{code}" => "dowody",
            "{name}" => "admin",
            s if s.starts_with('{') => "1",
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn method(spec: &RouteSpec) -> Method {
    Method::from_bytes(spec.method.as_str().as_bytes()).expect("method")
}

/// The websocket route answers upgrades only; it authenticates inside the socket.
fn is_http(spec: &RouteSpec) -> bool {
    spec.path != "/ws"
}

#[tokio::test]
async fn every_protected_route_needs_credentials_and_the_right_role() {
    let app = TestApp::spawn().await;
    let clerk = app.user("clerk1", "clerk").await;
    let manager = app.user("manager1", "manager").await;
    let kiosk = app.kiosk().await;
    let screen = app.device("screen").await;
    let mut checked_401 = 0;
    let mut checked_403 = 0;
    for spec in routes::all().iter().filter(|s| is_http(s)) {
        let path = concrete(spec.path);
        let m = method(spec);
        // Nobody: 401 on every protected route.
        let resp = app
            .anon
            .request(m.clone(), app.url(&path))
            .json(&json!({}))
            .send()
            .await
            .expect("request");
        if spec.access.public {
            assert_ne!(
                resp.status(),
                StatusCode::UNAUTHORIZED,
                "{m} {path} is public"
            );
            continue;
        }
        assert_eq!(
            resp.status(),
            StatusCode::UNAUTHORIZED,
            "{m} {path} without credentials"
        );
        let body: Value = resp.json().await.expect("error body is JSON");
        assert_eq!(body["error"], "unauthorized");
        checked_401 += 1;

        // Someone who is signed in but not allowed: 403.
        enum Who<'a> {
            User(&'a UserClient),
            Device(&'a DeviceClient),
        }
        let outsider = match (spec.access.min_role, spec.access.devices) {
            (Some(Role::Admin), _) => Some(Who::User(&manager)),
            (Some(Role::Manager), _) => Some(Who::User(&clerk)),
            (Some(Role::Clerk), devices) if !devices.contains(&DeviceKind::Kiosk) => {
                Some(Who::Device(&kiosk))
            }
            (Some(Role::Clerk), devices) if !devices.contains(&DeviceKind::Screen) => {
                Some(Who::Device(&screen))
            }
            (None, devices) if !devices.is_empty() => {
                if devices.contains(&DeviceKind::Screen) {
                    Some(Who::User(&clerk))
                } else {
                    Some(Who::Device(&screen))
                }
            }
            _ => None,
        };
        let Some(outsider) = outsider else { continue };
        let resp = match outsider {
            Who::User(u) => u.send(m.clone(), &path, &json!({})).await,
            Who::Device(d) => d
                .http
                .request(m.clone(), format!("{}{}", d.base, path))
                .bearer_auth(&d.token)
                .json(&json!({}))
                .send()
                .await
                .expect("request"),
        };
        assert_eq!(
            resp.status(),
            StatusCode::FORBIDDEN,
            "{m} {path} with the wrong role"
        );
        checked_403 += 1;
    }
    assert!(
        checked_401 >= 20,
        "only {checked_401} protected routes checked"
    );
    assert!(
        checked_403 >= 15,
        "only {checked_403} routes checked for 403"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_openapi_document_lists_every_route_and_nothing_else() {
    let app = TestApp::spawn().await;
    let doc: Value = app
        .anon
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .expect("GET openapi")
        .json()
        .await
        .expect("json");
    assert_eq!(doc["openapi"], "3.1.0");
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, methods)| {
            methods
                .as_object()
                .expect("methods")
                .keys()
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect();
    let served: BTreeSet<(String, String)> = routes::all()
        .iter()
        .map(|s| (s.method.as_str().to_owned(), s.path.to_owned()))
        .collect();
    let missing: Vec<_> = served.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "routes missing from the OpenAPI document: {missing:?}"
    );
    let extra: Vec<_> = documented.difference(&served).collect();
    assert!(
        extra.is_empty(),
        "documented routes that are not served: {extra:?}"
    );
    // Every $ref points at a schema that exists.
    let text = doc.to_string();
    for r in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = r.split('"').next().expect("name");
        assert!(
            doc["components"]["schemas"].get(name).is_some(),
            "dangling $ref {name}"
        );
    }
    // Every route answers (no route in the table falls through to "no such route").
    for spec in routes::all().iter().filter(|s| is_http(s)) {
        let resp = app
            .anon
            .request(method(spec), app.url(&concrete(spec.path)))
            .send()
            .await
            .expect("request");
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        assert_ne!(
            body["message"], "no such route",
            "{} {}",
            spec.method, spec.path
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn fifty_kiosks_issuing_at_once_never_repeat_a_number() {
    let app = TestApp::spawn().await;
    let kiosks: Vec<DeviceClient> = join_all((0..5).map(|_| app.kiosk())).await;
    let issued = join_all((0..50).map(|i| {
        let k = kiosks[i % kiosks.len()].clone();
        async move { k.issue("dowody").await }
    }))
    .await;
    let numbers: BTreeSet<String> = issued
        .iter()
        .map(|t| t["ticket"]["number"].as_str().expect("number").to_owned())
        .collect();
    assert_eq!(numbers.len(), 50, "a number was repeated");
    let expected: BTreeSet<String> = (1..=50).map(|n| format!("A{n:03}")).collect();
    assert_eq!(numbers, expected, "numbers are 1..50 without a gap");
    app.stop().await;
}

#[tokio::test]
async fn eight_clerks_calling_at_once_never_get_the_same_ticket() {
    let app = TestApp::spawn().await;
    let kiosk = app.kiosk().await;
    // Enough of every case type that each of the eight counters has something to call.
    let office: Value = kiosk
        .get("/api/v1/office")
        .await
        .json()
        .await
        .expect("json");
    for ct in office["case_types"].as_array().expect("case types") {
        for _ in 0..3 {
            kiosk.issue(ct["code"].as_str().expect("code")).await;
        }
    }
    let names: Vec<String> = (1..=8).map(|c| format!("clerk{c}")).collect();
    let clerks: Vec<UserClient> =
        join_all(names.iter().zip(1..=8).map(|(n, c)| app.clerk_at(n, c))).await;
    let answers = join_all(clerks.iter().enumerate().map(|(i, c)| async move {
        let resp = c
            .post(&format!("/api/v1/counters/{}/call-next", i + 1), &json!({}))
            .await;
        (resp.status(), resp.json::<Value>().await.expect("json"))
    }))
    .await;
    let mut called = BTreeSet::new();
    for (status, body) in &answers {
        assert_eq!(*status, StatusCode::OK, "{body}");
        let n = body["ticket"]["number"]
            .as_str()
            .expect("number")
            .to_owned();
        assert!(called.insert(n.clone()), "{n} called by two counters");
    }
    assert_eq!(called.len(), 8);
    // The engine agrees: every called ticket is at exactly one counter.
    let counters: Value = clerks[0]
        .get("/api/v1/counters")
        .await
        .json()
        .await
        .expect("json");
    let held: Vec<&str> = counters
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|c| c["current"]["number"].as_str())
        .collect();
    assert_eq!(held.len(), called.len());
    app.stop().await;
}

#[tokio::test]
async fn bad_input_gets_a_clear_error_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let kiosk = app.kiosk().await;
    let clerk = app.clerk_at("anna", 1).await;
    kiosk.issue("dowody").await;
    let version = |app: &TestApp| app.state().queue.read(|_, v| v);
    let before = version(&app);

    let raw = |body: &'static str| {
        let k = kiosk.clone();
        async move {
            k.http
                .post(format!("{}/api/v1/tickets", k.base))
                .bearer_auth(&k.token)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .expect("request")
        }
    };
    let expect = |status: StatusCode, code: &'static str| {
        move |resp: reqwest::Response| async move {
            assert_eq!(resp.status(), status);
            let body: Value = resp.json().await.expect("JSON error body");
            assert_eq!(body["error"], code, "{body}");
            assert!(
                body["message"].as_str().is_some_and(|m| !m.is_empty()),
                "{body}"
            );
        }
    };
    expect(StatusCode::BAD_REQUEST, "bad_request")(raw("{\"case_type\": ").await).await;
    expect(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable")(
        raw("{\"case_type\": 12, \"lang\": \"pl\"}").await,
    )
    .await;
    expect(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable")(
        raw("{\"case_type\": \"dowody\", \"lang\": \"pl\", \"name\": \"Jan Kowalski\"}").await,
    )
    .await;
    expect(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable")(
        raw("{\"case_type\": \"dowody\", \"lang\": \"de\"}").await,
    )
    .await;
    expect(StatusCode::NOT_FOUND, "not_found")(
        kiosk
            .post(
                "/api/v1/tickets",
                &json!({"case_type": "nieznane", "lang": "pl"}),
            )
            .await,
    )
    .await;
    expect(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable")(
        kiosk
            .post(
                "/api/v1/tickets",
                &json!({"case_type": "Bad Code!", "lang": "pl"}),
            )
            .await,
    )
    .await;
    // A huge body.
    let huge = format!(
        "{{\"case_type\": \"dowody\", \"lang\": \"pl\", \"x\": \"{}\"}}",
        "a".repeat(1 << 20)
    );
    let resp = kiosk
        .http
        .post(format!("{}/api/v1/tickets", kiosk.base))
        .bearer_auth(&kiosk.token)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Unknown ids.
    expect(StatusCode::NOT_FOUND, "not_found")(clerk.get("/api/v1/tickets/Z999").await).await;
    expect(StatusCode::NOT_FOUND, "not_found")(
        clerk
            .post("/api/v1/counters/999/call-next", &json!({}))
            .await,
    )
    .await;
    expect(StatusCode::NOT_FOUND, "not_found")(
        clerk
            .post("/api/v1/counters/abc/call-next", &json!({}))
            .await,
    )
    .await;
    expect(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable")(
        clerk
            .post(
                "/api/v1/counters/1/call",
                &json!({"number": "not a number"}),
            )
            .await,
    )
    .await;
    expect(StatusCode::NOT_FOUND, "not_found")(
        app.anon
            .get(app.url("/api/v1/nope"))
            .send()
            .await
            .expect("GET"),
    )
    .await;
    assert_eq!(
        version(&app),
        before,
        "a rejected request changed the state"
    );

    // An illegal transition is a 409 that says why, and changes nothing either.
    let resp = clerk.post("/api/v1/counters/1/finish", &json!({})).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    let body: Value = resp.json().await.expect("json");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("no current ticket")),
        "{body}"
    );
    clerk.ok("/api/v1/counters/1/call-next", &json!({})).await;
    let after_call = version(&app);
    let resp = clerk.post("/api/v1/counters/1/finish", &json!({})).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["error"], "illegal_transition");
    assert!(
        body["message"].as_str().is_some_and(|m| m.contains("A001")),
        "{body}"
    );
    assert_eq!(version(&app), after_call);
    app.stop().await;
}

#[tokio::test]
async fn a_clerk_works_a_ticket_through_the_api() {
    let app = TestApp::spawn().await;
    let kiosk = app.kiosk().await;
    let anna = app.clerk_at("anna", 1).await;
    let issued = kiosk.issue("dowody").await;
    assert_eq!(issued["ticket"]["number"], "A001");
    assert_eq!(issued["people_ahead"], 0);
    assert_eq!(issued["ticket"]["priority"], false);

    let called = anna.ok("/api/v1/counters/1/call-next", &json!({})).await;
    assert_eq!(called["ticket"]["number"], "A001");
    assert_eq!(called["counter"]["current"]["state"], "called");
    let recalled = anna.ok("/api/v1/counters/1/recall", &json!({})).await;
    assert_eq!(recalled["ticket"]["calls"], 2);
    anna.ok("/api/v1/counters/1/start", &json!({})).await;
    let moved = anna
        .ok(
            "/api/v1/counters/1/transfer",
            &json!({"case_type": "meldunki"}),
        )
        .await;
    assert_eq!(moved["ticket"]["state"], "waiting");
    assert_eq!(moved["ticket"]["case_type"], "meldunki");
    assert_eq!(moved["ticket"]["number"], "A001");
    let again = anna.ok("/api/v1/counters/1/call-next", &json!({})).await;
    assert_eq!(again["ticket"]["number"], "A001");
    anna.ok("/api/v1/counters/1/park", &json!({})).await;
    anna.ok("/api/v1/counters/1/call", &json!({"number": "a1"}))
        .await;
    anna.ok("/api/v1/counters/1/start", &json!({})).await;
    let done = anna.ok("/api/v1/counters/1/finish", &json!({})).await;
    assert_eq!(done["ticket"]["state"], "done");
    assert!(done["counter"]["current"].is_null());
    anna.ok("/api/v1/counters/1/pause", &json!({"reason": "przerwa"}))
        .await;
    let resp = anna.post("/api/v1/counters/1/call-next", &json!({})).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    anna.ok("/api/v1/counters/1/resume", &json!({})).await;

    // Another clerk cannot act at counter 1 or take it.
    let ewa = app.user("ewa", "clerk").await;
    let resp = ewa.post("/api/v1/counters/1/call-next", &json!({})).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = ewa.post("/api/v1/counters/1/open", &json!({})).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);

    // A manager moves counter 3 to ID cards; its next call takes one.
    let boss = app.user("boss", "manager").await;
    kiosk.issue("dowody").await;
    let resp = boss
        .put(
            "/api/v1/counters/3/serves",
            &json!({"serves": [{"case_type": "dowody", "weight": 5}]}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let piotr = app.clerk_at("piotr", 3).await;
    let called = piotr.ok("/api/v1/counters/3/call-next", &json!({})).await;
    assert_eq!(called["ticket"]["case_type"], "dowody");

    // The manager stops issuing a case type; the kiosk sees why.
    let resp = boss
        .put(
            "/api/v1/case-types/pojazdy/issuing",
            &json!({"open": false}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let queues: Value = kiosk
        .get("/api/v1/queues")
        .await
        .json()
        .await
        .expect("json");
    let pojazdy = queues["case_types"]
        .as_array()
        .expect("array")
        .iter()
        .find(|c| c["code"] == "pojazdy")
        .expect("pojazdy");
    assert_eq!(pojazdy["issuing"], false);
    assert_eq!(pojazdy["not_issuing_reason"], "stopped_by_manager");
    let resp = kiosk
        .post(
            "/api/v1/tickets",
            &json!({"case_type": "pojazdy", "lang": "uk"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);

    // Cancel with a reason.
    let t = kiosk.issue("meldunki").await;
    let n = t["ticket"]["number"].as_str().expect("number");
    let resp = boss
        .post(
            &format!("/api/v1/tickets/{n}/cancel"),
            &json!({"reason": "pomyłka"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let view: Value = resp.json().await.expect("json");
    assert_eq!(view["state"], "cancelled");
    app.stop().await;
}

#[tokio::test]
async fn a_manager_closes_the_day_through_the_api() {
    let app = TestApp::spawn().await;
    let kiosk = app.kiosk().await;
    let anna = app.clerk_at("anna", 1).await;
    let boss = app.user("boss", "manager").await;
    kiosk.issue("dowody").await;
    kiosk.issue("dowody").await;
    anna.ok("/api/v1/counters/1/call-next", &json!({})).await;
    // Refused while a citizen is at a counter, and nothing changes.
    let resp = boss.post("/api/v1/day/close", &json!({})).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    anna.ok("/api/v1/counters/1/start", &json!({})).await;
    anna.ok("/api/v1/counters/1/finish", &json!({})).await;
    let closed = boss.ok("/api/v1/day/close", &json!({})).await;
    assert_eq!(closed["cancelled"], 1);
    assert_eq!(closed["counters_closed"], 1);
    assert!(
        closed["issuing_stopped"].as_u64().is_some_and(|n| n >= 6),
        "{closed}"
    );
    let resp = kiosk
        .post(
            "/api/v1/tickets",
            &json!({"case_type": "dowody", "lang": "pl"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["error"], "not_issuing");
    // The clerk's claim went with the counter: she can open counter 2 now.
    let resp = anna.post("/api/v1/counters/2/open", &json!({})).await;
    assert_eq!(resp.status(), StatusCode::OK);
    // A clerk cannot close the day.
    let resp = anna.post("/api/v1/day/close", &json!({})).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    app.stop().await;
}
