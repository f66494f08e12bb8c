//! The web pages (kiosk, hall screens and counter displays, clerk and manager panels): static
//! HTML, CSS and JS from `kiosk/`, `display/` and `panel/`, built into the binary.
//!
//! `/kiosk` serves `kiosk/index.html`, `/kiosk/app.js` serves `kiosk/app.js`, and a path with
//! no such file and no extension serves the page named by its first segment, so
//! `/display/counter/3` serves `display/counter.html`; `/panel/manager/reports` serves
//! `panel/manager/reports.html` if there is one, else `panel/manager.html`. Pages authenticate through the API (device token or session); the
//! files themselves hold nothing private.

use std::sync::OnceLock;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_embed::{EmbeddedFile, RustEmbed};
use sha2::{Digest, Sha256};

use super::AppState;

#[derive(RustEmbed)]
#[folder = "kiosk/"]
struct Kiosk;

#[derive(RustEmbed)]
#[folder = "display/"]
struct Display;

#[derive(RustEmbed)]
#[folder = "panel/"]
struct Panel;

/// Content Security Policy for every page: only our own scripts, styles, images, sounds and
/// websocket; no framing.
const CSP: &str = "default-src 'self'; img-src 'self' data:; media-src 'self'; \
                   connect-src 'self'; style-src 'self'; script-src 'self'; \
                   frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/kiosk",
            get(|h: HeaderMap| async move { page::<Kiosk>("", &h) }),
        )
        .route(
            "/kiosk/{*path}",
            get(|Path(p): Path<String>, h: HeaderMap| async move { page::<Kiosk>(&p, &h) }),
        )
        // A ticket on the phone: the page reads its code from the address (`kiosk::routes`).
        .route(
            "/t/{code}",
            get(|h: HeaderMap| async move { page::<Kiosk>("phone.html", &h) }),
        )
        .route(
            "/display",
            get(|h: HeaderMap| async move { page::<Display>("", &h) }),
        )
        .route(
            "/display/{*path}",
            get(|Path(p): Path<String>, h: HeaderMap| async move { page::<Display>(&p, &h) }),
        )
        .route(
            "/panel",
            get(|h: HeaderMap| async move { page::<Panel>("", &h) }),
        )
        .route(
            "/panel/{*path}",
            get(|Path(p): Path<String>, h: HeaderMap| async move { page::<Panel>(&p, &h) }),
        )
}

/// The file a page path resolves to, if any.
fn resolve<E: RustEmbed>(path: &str) -> Option<(String, EmbeddedFile)> {
    let path = path.trim_matches('/');
    if path
        .split('/')
        .any(|seg| seg == ".." || seg.starts_with('.'))
    {
        return None;
    }
    let mut candidates = Vec::new();
    if path.is_empty() {
        candidates.push("index.html".to_owned());
    } else {
        candidates.push(path.to_owned());
        let last = path.rsplit('/').next().unwrap_or(path);
        if !last.contains('.') {
            candidates.push(format!("{path}.html"));
            candidates.push(format!("{path}/index.html"));
            let first = path.split('/').next().unwrap_or(path);
            candidates.push(format!("{first}.html"));
        }
    }
    candidates
        .into_iter()
        .find_map(|c| E::get(&c).map(|f| (c, f)))
}

fn page<E: RustEmbed>(path: &str, headers: &HeaderMap) -> Response {
    let Some((name, file)) = resolve::<E>(path) else {
        return (StatusCode::NOT_FOUND, "no such page").into_response();
    };
    let etag = format!(
        "\"{}\"",
        file.metadata
            .sha256_hash()
            .iter()
            .take(12)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == etag)
    {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    let mime = file.metadata.mimetype().to_owned();
    let mut resp = (StatusCode::OK, file.data.into_owned()).into_response();
    let h = resp.headers_mut();
    let set = |h: &mut HeaderMap, k: header::HeaderName, v: &str| {
        if let Ok(v) = HeaderValue::from_str(v) {
            h.insert(k, v);
        }
    };
    set(h, header::CONTENT_TYPE, &mime);
    set(h, header::ETAG, &etag);
    // Always revalidate: after an upgrade every screen gets the new files.
    set(h, header::CACHE_CONTROL, "no-cache");
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::REFERRER_POLICY, "no-referrer");
    if name.ends_with(".html") {
        set(h, header::CONTENT_SECURITY_POLICY, CSP);
    }
    resp
}

/// The version of the embedded pages: a hash over every page file's path and SHA-256, computed
/// once (at start, see `meta::routes`). `/healthz` reports it; a hall screen that sees it change
/// reloads itself, so an upgrade reaches every screen without anyone touching the TVs.
pub(crate) fn version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let mut hasher = Sha256::new();
        fn add<E: RustEmbed>(hasher: &mut Sha256, folder: &str) {
            let mut names: Vec<_> = E::iter().collect();
            names.sort();
            for name in names {
                if let Some(file) = E::get(&name) {
                    hasher.update(folder.as_bytes());
                    hasher.update(name.as_bytes());
                    hasher.update([0]);
                    hasher.update(file.metadata.sha256_hash());
                }
            }
        }
        add::<Kiosk>(&mut hasher, "kiosk/");
        add::<Display>(&mut hasher, "display/");
        add::<Panel>(&mut hasher, "panel/");
        hasher
            .finalize()
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(RustEmbed)]
    #[folder = "src/server/testpages/"]
    struct TestPages;

    #[test]
    fn paths_resolve_to_files_pages_or_nothing() {
        assert_eq!(
            resolve::<TestPages>("").map(|f| f.0).as_deref(),
            Some("index.html")
        );
        assert_eq!(
            resolve::<TestPages>("app.js").map(|f| f.0).as_deref(),
            Some("app.js")
        );
        assert_eq!(
            resolve::<TestPages>("counter/3").map(|f| f.0).as_deref(),
            Some("counter.html")
        );
        assert!(resolve::<TestPages>("missing.js").is_none());
        assert!(resolve::<TestPages>("../Cargo.toml").is_none());
        assert!(resolve::<TestPages>(".hidden").is_none());
    }
}
