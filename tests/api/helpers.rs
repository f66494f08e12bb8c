//! `TestApp`: the real service on port 0 with a temporary database, and clients for a
//! signed-in user and a registered device that go through the real sign-in and pairing flows.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use kolejka::app::{self, App};
use kolejka::clock::{Clock, SystemClock};
use kolejka::engine::Office;
use kolejka::server::AppState;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

pub struct TestApp {
    pub addr: SocketAddr,
    app: Option<App>,
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
    office: Office,
    clock: Arc<dyn Clock>,
    /// A client with no credentials.
    pub anon: reqwest::Client,
}

pub fn demo_office() -> Office {
    kolejka::config::demo().office
}

impl TestApp {
    /// The demo office (which issues at any hour) on a fresh database.
    pub async fn spawn() -> TestApp {
        Self::spawn_with(demo_office(), Arc::new(SystemClock)).await
    }

    pub async fn spawn_with(office: Office, clock: Arc<dyn Clock>) -> TestApp {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("kolejka.db");
        let app = start(&office, &db, clock.clone()).await;
        TestApp {
            addr: app.addr,
            app: Some(app),
            dir,
            db,
            office,
            clock,
            anon: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    pub fn state(&self) -> &AppState {
        &self.app.as_ref().expect("app running").state
    }

    /// Stops the service gracefully and starts it again on the same database (on a new
    /// port: clients must use `url` again).
    pub async fn restart(&mut self) {
        if let Some(app) = self.app.take() {
            app.stop().await.expect("stop");
        }
        let app = start(&self.office, &self.db, self.clock.clone()).await;
        self.addr = app.addr;
        self.app = Some(app);
    }

    pub async fn stop(mut self) {
        if let Some(app) = self.app.take() {
            app.stop().await.expect("stop");
        }
    }

    /// The password of the admin account created on first start, from the file it is
    /// written to beside the database.
    pub fn admin_password(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("admin-password.txt"))
            .expect("admin-password.txt written on first start")
            .trim()
            .to_owned()
    }

    /// Signs in as the first-start admin.
    pub async fn admin(&self) -> UserClient {
        self.login("admin", &self.admin_password())
            .await
            .expect("admin can sign in")
    }

    /// Signs in; `Err` with the response status if refused.
    pub async fn login(&self, name: &str, password: &str) -> Result<UserClient, StatusCode> {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .expect("client");
        let resp = http
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({"username": name, "password": password}))
            .send()
            .await
            .expect("login request");
        if resp.status() != StatusCode::OK {
            return Err(resp.status());
        }
        let body: Value = resp.json().await.expect("login json");
        Ok(UserClient {
            http,
            base: format!("http://{}", self.addr),
            csrf: body["csrf_token"].as_str().expect("csrf_token").to_owned(),
            name: name.to_owned(),
        })
    }

    /// Creates a user with `role` (through the admin) and signs them in.
    pub async fn user(&self, name: &str, role: &str) -> UserClient {
        let password = format!("{name}-secret-password");
        let admin = self.admin().await;
        let resp = admin
            .post(
                "/api/v1/users",
                &json!({"name": name, "role": role, "password": password}),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::CREATED, "create user {name}");
        self.login(name, &password)
            .await
            .expect("new user signs in")
    }

    /// A clerk signed in and holding counter `counter`.
    pub async fn clerk_at(&self, name: &str, counter: u32) -> UserClient {
        let clerk = self.user(name, "clerk").await;
        let resp = clerk
            .post(&format!("/api/v1/counters/{counter}/open"), &json!({}))
            .await;
        assert_eq!(resp.status(), StatusCode::OK, "open counter {counter}");
        clerk
    }

    /// A device of `kind` paired and approved by a manager, through the real flow.
    pub async fn device(&self, kind: &str) -> DeviceClient {
        let resp = self
            .anon
            .post(self.url("/api/v1/devices/pair"))
            .json(&json!({"kind": kind}))
            .send()
            .await
            .expect("pair");
        assert_eq!(resp.status(), StatusCode::CREATED);
        let pair: Value = resp.json().await.expect("pair json");
        let token = match pair["token"].as_str() {
            // Auto-approved (loopback, demo setting).
            Some(t) => t.to_owned(),
            None => {
                let admin = self.admin().await;
                let resp = admin
                    .post(
                        "/api/v1/devices/approve",
                        &json!({"pairing_code": pair["pairing_code"], "name": format!("test {kind}")}),
                    )
                    .await;
                assert!(resp.status().is_success(), "approve: {}", resp.status());
                let poll: Value = self
                    .anon
                    .get(self.url(&format!("/api/v1/devices/pair/{}", pair["device_id"])))
                    .bearer_auth(pair["poll_token"].as_str().expect("poll_token"))
                    .send()
                    .await
                    .expect("poll")
                    .json()
                    .await
                    .expect("poll json");
                poll["token"]
                    .as_str()
                    .expect("token after approval")
                    .to_owned()
            }
        };
        DeviceClient {
            http: reqwest::Client::new(),
            base: format!("http://{}", self.addr),
            token,
        }
    }

    pub async fn kiosk(&self) -> DeviceClient {
        self.device("kiosk").await
    }
}

async fn start(office: &Office, db: &std::path::Path, clock: Arc<dyn Clock>) -> App {
    app::start(app::Options {
        office: office.clone(),
        db: db.to_owned(),
        listen: "127.0.0.1:0".parse().expect("addr"),
        clock,
        auth: Default::default(),
    })
    .await
    .expect("start the app")
}

/// A signed-in user: the session cookie is kept by the client, the CSRF token sent on changes.
#[derive(Clone)]
pub struct UserClient {
    pub http: reqwest::Client,
    pub base: String,
    pub csrf: String,
    pub name: String,
}

impl UserClient {
    /// Points the client at a restarted app (the cookie jar is per host:port).
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }
    pub async fn get(&self, path: &str) -> Response {
        self.http.get(self.url(path)).send().await.expect("GET")
    }
    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.send(reqwest::Method::POST, path, body).await
    }
    pub async fn put(&self, path: &str, body: &Value) -> Response {
        self.send(reqwest::Method::PUT, path, body).await
    }
    pub async fn send(&self, method: reqwest::Method, path: &str, body: &Value) -> Response {
        self.http
            .request(method, self.url(path))
            .header("X-CSRF-Token", &self.csrf)
            .json(body)
            .send()
            .await
            .expect("request")
    }
    /// POSTs and returns the JSON body, asserting success.
    pub async fn ok(&self, path: &str, body: &Value) -> Value {
        let resp = self.post(path, body).await;
        let status = resp.status();
        let body: Value = resp.json().await.expect("json body");
        assert!(status.is_success(), "POST {path}: {status} {body}");
        body
    }
}

/// A registered device holding its bearer token.
#[derive(Clone)]
pub struct DeviceClient {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
}

impl DeviceClient {
    pub async fn get(&self, path: &str) -> Response {
        self.http
            .get(format!("{}{}", self.base, path))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("GET")
    }
    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.http
            .post(format!("{}{}", self.base, path))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .expect("POST")
    }
    /// Issues a ticket of `case_type` and returns the answer's JSON.
    pub async fn issue(&self, case_type: &str) -> Value {
        let resp = self
            .post(
                "/api/v1/tickets",
                &json!({"case_type": case_type, "lang": "pl"}),
            )
            .await;
        let status = resp.status();
        let body: Value = resp.json().await.expect("json");
        assert_eq!(status, StatusCode::CREATED, "issue: {body}");
        body
    }
}
