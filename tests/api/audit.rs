//! The audit log (`GET /api/v1/audit`): every manager's and admin's change recorded with who,
//! when, before and after, merged with the queue's events and filterable; and counter actions
//! acted on once per `Idempotency-Key`.

use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, UserClient};

async fn audit(user: &UserClient, query: &str) -> Value {
    let resp = user.get(&format!("/api/v1/audit{query}")).await;
    let status = resp.status();
    let body: Value = resp.json().await.expect("json");
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn entries(view: &Value) -> Vec<Value> {
    view["entries"].as_array().expect("entries").clone()
}

fn find<'a>(list: &'a [Value], action: &str, target: &str) -> &'a Value {
    list.iter()
        .find(|e| e["action"] == action && e["target"] == target)
        .unwrap_or_else(|| panic!("no {action} of {target} in {list:#?}"))
}

#[tokio::test]
async fn every_manager_change_is_recorded_with_before_and_after() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let boss = app.user("boss", "manager").await;
    let kiosk = app.kiosk().await;
    kiosk.issue("dowody").await;

    // Queue changes.
    let resp = boss
        .put(
            "/api/v1/counters/3/serves",
            &json!({"serves": [{"case_type": "dowody", "weight": 7}]}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = boss
        .put(
            "/api/v1/case-types/pojazdy/issuing",
            &json!({"open": false}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = boss
        .put("/api/v1/case-types/usc/daily-cap", &json!({"cap": 40}))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    boss.ok(
        "/api/v1/tickets/A001/cancel",
        &json!({"reason": "pomyłka w wyborze sprawy"}),
    )
    .await;

    // Users, devices, messages.
    let resp = admin
        .post(
            "/api/v1/users",
            &json!({"name": "ewa", "role": "clerk", "password": "ewa-long-password"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let resp = admin
        .send(
            Method::PATCH,
            "/api/v1/users/ewa",
            &json!({"disabled": true}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = admin
        .put(
            "/api/v1/users/ewa/password",
            &json!({"password": "a-new-long-password"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let screen = app
        .anon
        .post(app.url("/api/v1/devices/pair"))
        .json(&json!({"kind": "screen"}))
        .send()
        .await
        .expect("pair");
    let pair: Value = screen.json().await.expect("pair json");
    let device = boss
        .ok(
            "/api/v1/devices/approve",
            &json!({"pairing_code": pair["pairing_code"], "name": "Ekran sala A"}),
        )
        .await;
    let dev = device["id"].as_i64().expect("device id");
    let resp = boss
        .send(
            Method::PATCH,
            &format!("/api/v1/devices/{dev}"),
            &json!({"name": "Ekran sala B"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    boss.ok(&format!("/api/v1/devices/{dev}/revoke"), &json!({}))
        .await;
    let msg = boss
        .ok(
            "/api/v1/messages",
            &json!({"text": "Wydział komunikacji nieczynny 12-13"}),
        )
        .await;
    let resp = boss
        .send(
            Method::DELETE,
            &format!("/api/v1/messages/{}", msg["id"]),
            &json!({}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);

    let all = entries(&audit(&boss, "?source=audit").await);
    let serves = find(&all, "counter.serves", "counter:3");
    assert_eq!(serves["actor"], "user:boss");
    assert_eq!(serves["source"], "audit");
    assert_eq!(
        serves["before"],
        json!([{"case_type": "dowody", "weight": 5}, {"case_type": "meldunki", "weight": 10}])
    );
    assert_eq!(
        serves["after"],
        json!([{"case_type": "dowody", "weight": 7}])
    );
    assert!(serves["at"].as_str().expect("at").ends_with('Z'));
    let issuing = find(&all, "case_type.issuing", "case_type:pojazdy");
    assert_eq!(issuing["before"]["stopped_by_manager"], false);
    assert_eq!(issuing["after"]["stopped_by_manager"], true);
    assert_eq!(issuing["after"]["issuing"], false);
    let cap = find(&all, "case_type.daily_cap", "case_type:usc");
    assert_eq!(cap["before"]["daily_cap"], Value::Null);
    assert_eq!(cap["after"]["daily_cap"], 40);
    let cancel = find(&all, "ticket.cancel", "ticket:A001");
    assert_eq!(cancel["before"]["state"], "waiting");
    assert_eq!(cancel["after"]["state"], "cancelled");
    assert_eq!(cancel["after"]["reason"], "pomyłka w wyborze sprawy");
    let created = find(&all, "user.create", "user:ewa");
    assert_eq!(created["actor"], "user:admin");
    assert_eq!(created["before"], Value::Null);
    assert_eq!(created["after"]["role"], "clerk");
    let disabled = find(&all, "user.update", "user:ewa");
    assert_eq!(disabled["before"]["disabled"], false);
    assert_eq!(disabled["after"]["disabled"], true);
    let password = find(&all, "user.password", "user:ewa");
    let text = password.to_string();
    assert!(!text.contains("a-new-long-password"), "{text}");
    assert!(!text.contains("argon2"), "{text}");
    let target = format!("device:{dev}");
    let approved = find(&all, "device.approve", &target);
    assert_eq!(approved["after"]["status"], "approved");
    let renamed = find(&all, "device.rename", &target);
    assert_eq!(renamed["before"]["name"], "Ekran sala A");
    assert_eq!(renamed["after"]["name"], "Ekran sala B");
    let revoked = find(&all, "device.revoke", &target);
    assert_eq!(revoked["before"]["status"], "approved");
    assert_eq!(revoked["after"]["status"], "revoked");
    let target = format!("message:{}", msg["id"]);
    let posted = find(&all, "message.post", &target);
    assert_eq!(
        posted["after"]["text"]["pl"],
        "Wydział komunikacji nieczynny 12-13"
    );
    let withdrawn = find(&all, "message.withdraw", &target);
    assert_eq!(withdrawn["before"]["status"], "active");
    assert_eq!(withdrawn["after"]["status"], "withdrawn");
    // No secret of a device or user in any record.
    let everything = serde_json::to_string(&all).expect("json");
    for secret in ["token", "pairing_code", "password_hash"] {
        assert!(!everything.contains(secret), "{secret} in {everything}");
    }
    // Newest first.
    let times: Vec<jiff::Timestamp> = all
        .iter()
        .map(|e| e["at"].as_str().expect("at").parse().expect("RFC 3339"))
        .collect();
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted);

    // Filters: who, what (a prefix), when, and the merged event log.
    let by_admin = entries(&audit(&boss, "?source=audit&actor=admin").await);
    assert!(!by_admin.is_empty());
    assert!(by_admin.iter().all(|e| e["actor"] == "user:admin"));
    let devices = entries(&audit(&boss, "?action=device.&actor=boss").await);
    assert_eq!(devices.len(), 3, "{devices:#?}");
    let merged = entries(&audit(&boss, "").await);
    let issued = find(&merged, "ticket_issued", "ticket:A001");
    assert_eq!(issued["source"], "event");
    assert_eq!(issued["actor"], format!("device:{}", 1));
    let serves_event = find(&merged, "counter_serves_changed", "counter:3");
    assert_eq!(serves_event["actor"], "user:boss");
    let events_only = entries(&audit(&boss, "?source=events").await);
    assert!(events_only.iter().all(|e| e["source"] == "event"));
    let future = entries(&audit(&boss, "?from=2999-01-01").await);
    assert!(future.is_empty());
    let today = jiff::Zoned::now()
        .with_time_zone(jiff::tz::TimeZone::get("Europe/Warsaw").expect("tz"))
        .date();
    let todays = audit(&boss, &format!("?from={today}&to={today}&limit=3")).await;
    assert_eq!(entries(&todays).len(), 3);
    assert_eq!(todays["more"], true);

    // Bad filters are the caller's to fix; a clerk may not read the log.
    for bad in ["?from=wczoraj", "?source=both", "?limit=0", "?colour=red"] {
        let resp = boss.get(&format!("/api/v1/audit{bad}")).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    let clerk = app.user("anna", "clerk").await;
    let resp = clerk.get("/api/v1/audit").await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    app.stop().await;
}

#[tokio::test]
async fn the_audit_log_never_shows_a_priority_category() {
    let app = TestApp::spawn().await;
    let boss = app.user("boss", "manager").await;
    let kiosk = app.kiosk().await;
    let resp = kiosk
        .post(
            "/api/v1/tickets",
            &json!({"case_type": "dowody", "priority": "ciaza", "lang": "pl"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let resp = boss.get("/api/v1/audit").await;
    let text = resp.text().await.expect("body");
    assert!(!text.contains("ciaza"), "{text}");
    let view: Value = serde_json::from_str(&text).expect("json");
    let issued = find(&entries(&view), "ticket_issued", "ticket:A001").clone();
    assert_eq!(issued["after"]["priority"], true);
    app.stop().await;
}

async fn post_with_key(user: &UserClient, path: &str, key: &str) -> (StatusCode, bool, Value) {
    let resp = user
        .http
        .post(user.url(path))
        .header("X-CSRF-Token", &user.csrf)
        .header("Idempotency-Key", key)
        .json(&json!({}))
        .send()
        .await
        .expect("request");
    let status = resp.status();
    let replayed = resp.headers().get("idempotent-replayed").is_some();
    (status, replayed, resp.json().await.expect("json"))
}

#[tokio::test]
async fn a_counter_action_sent_twice_with_one_key_acts_once() {
    let app = TestApp::spawn().await;
    let kiosk = app.kiosk().await;
    let anna = app.clerk_at("anna", 1).await;
    for _ in 0..3 {
        kiosk.issue("dowody").await;
    }
    let (status, replayed, first) =
        post_with_key(&anna, "/api/v1/counters/1/call-next", "press-1").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!replayed);
    assert_eq!(first["ticket"]["number"], "A001");
    anna.ok("/api/v1/counters/1/no-show", &json!({})).await;
    // The retry of the first press (say its answer was lost) does not call A002.
    let (status, replayed, again) =
        post_with_key(&anna, "/api/v1/counters/1/call-next", "press-1").await;
    assert_eq!(status, StatusCode::OK);
    assert!(replayed);
    assert_eq!(again, first);
    let counters: Value = anna
        .get("/api/v1/counters")
        .await
        .json()
        .await
        .expect("json");
    assert!(counters[0]["current"].is_null(), "{counters}");
    // A refusal is kept as well: the same press is refused the same way.
    let (status, _, refused) = post_with_key(&anna, "/api/v1/counters/1/start", "press-2").await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    let (status, replayed, _) = post_with_key(&anna, "/api/v1/counters/1/start", "press-2").await;
    assert_eq!((status, replayed), (StatusCode::CONFLICT, true));
    // One key, another action: refused, nothing done.
    let (status, _, body) = post_with_key(&anna, "/api/v1/counters/1/park", "press-1").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let resp = anna
        .http
        .post(anna.url("/api/v1/counters/1/call-next"))
        .header("X-CSRF-Token", &anna.csrf)
        .header("Idempotency-Key", "")
        .json(&json!({}))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);

    // The same key sent many times at once (a retry racing the first): one call.
    let presses = (0..8).map(|_| post_with_key(&anna, "/api/v1/counters/1/call-next", "press-3"));
    let answers = join_all(presses).await;
    for (status, _, body) in &answers {
        assert_eq!(*status, StatusCode::OK, "{body}");
        assert_eq!(body["ticket"]["number"], "A002");
    }
    assert_eq!(answers.iter().filter(|a| !a.1).count(), 1);
    let tickets: Value = anna
        .get("/api/v1/tickets")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(tickets[2]["state"], "waiting", "{tickets}");

    // Keys belong to a session: another clerk's same key is another press.
    let ewa = app.clerk_at("ewa", 2).await;
    let (status, replayed, other) =
        post_with_key(&ewa, "/api/v1/counters/2/call-next", "press-3").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!replayed);
    assert_eq!(other["ticket"]["number"], "A003");
    app.stop().await;
}
