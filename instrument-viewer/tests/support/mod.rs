//! What the viewer's tests share: plain HTTP/1.1 exchanges with the API, and headless Chromium
//! for the page (the DOM after its scripts ran, and the JSON a probe script left in it).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use instrument_viewer::Store;
use serde_json::Value;

/// One HTTP/1.1 exchange over a plain socket: the status code and the body.
pub fn exchange(address: SocketAddr, request: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, body.to_owned())
}

/// `GET path`, its body as JSON.
pub fn get(address: SocketAddr, path: &str) -> Value {
    let (status, body) = exchange(
        address,
        &format!("GET {path} HTTP/1.1\r\nHost: viewer\r\nConnection: close\r\n\r\n"),
    );
    assert_eq!(status, 200, "GET {path}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// The Chromium binary: `$CHROMIUM`, or the first of the usual names found on `PATH`. Without
/// one, the test fails under CI (`CI` set to `true` or `1`) and says why it skips elsewhere.
pub fn chromium_or_skip() -> Option<PathBuf> {
    let found = std::env::var_os("CHROMIUM").map(PathBuf::from).or_else(|| {
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path)
            .flat_map(|dir| {
                ["chromium", "chromium-browser", "google-chrome"].map(|name| dir.join(name))
            })
            .find(|candidate| candidate.is_file())
    });
    if found.is_none() {
        let reason = "no chromium on PATH (set CHROMIUM, or install Debian's chromium)";
        if matches!(std::env::var("CI").as_deref(), Ok("true" | "1")) {
            panic!("{reason} (under CI a missing browser fails the test)");
        }
        println!("SKIPPED: {reason}");
    }
    found
}

/// The DOM of `url` in a `width`×1000 window once its scripts ran, serialised; `name` keeps the
/// browser profile apart from other tests'.
pub fn dom(chromium: &Path, url: &str, width: u32, name: &str) -> String {
    let profile = std::env::temp_dir().join(format!(
        "instrument-viewer-{name}-{}-{width}",
        std::process::id()
    ));
    let output = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=10000",
        ])
        .arg(format!("--window-size={width},1000"))
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(url)
        .output()
        .expect("chromium starts");
    let _ = std::fs::remove_dir_all(&profile);
    assert!(
        output.status.success(),
        "chromium --dump-dom {url} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// What the page's probe script wrote into the dumped DOM (`data-probe`), parsed.
pub fn probe_result(dom: &str) -> Value {
    let start = dom
        .find("data-probe=\"")
        .unwrap_or_else(|| panic!("the probe ran: {dom}"))
        + "data-probe=\"".len();
    let end = start + dom[start..].find('"').unwrap();
    let json = dom[start..end]
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&");
    serde_json::from_str(&json).unwrap()
}

/// Serves the viewer's page at `/probe` with the script `probe` added (at `/probe.js`), and the
/// viewer's UI routes over `store`, on a free local port; abort the returned task to stop it.
pub async fn serve_page_with_probe(
    store: std::sync::Arc<Store>,
    probe: String,
) -> (SocketAddr, tokio::task::JoinHandle<std::io::Result<()>>) {
    let page = include_str!("../../assets/index.html")
        .replace("</body>", "<script src=\"/probe.js\"></script>\n</body>");
    let app = Router::new()
        .route(
            "/probe",
            axum::routing::get(move || {
                let page = page.clone();
                async move { ([(header::CONTENT_TYPE, "text/html")], page).into_response() }
            }),
        )
        .route(
            "/probe.js",
            axum::routing::get(move || {
                let probe = probe.clone();
                async move { ([(header::CONTENT_TYPE, "text/javascript")], probe).into_response() }
            }),
        )
        .merge(instrument_viewer::api::ui_routes(store));
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let address = listener.local_addr().unwrap();
    (
        address,
        tokio::spawn(async move { axum::serve(listener, app).await }),
    )
}
