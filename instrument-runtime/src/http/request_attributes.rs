//! The attributes of a server span read off the request: the semantic conventions'
//! (`http.request.method`, `url.path`, `url.scheme`, `http.route`, `server.address` and
//! `server.port` from `Host`, `client.address` from `X-Forwarded-For` or the peer,
//! `network.protocol.version`), the original's `entry.timestamp_ms`, and in the original-names
//! mode (`OTEL_SEMCONV_STABILITY_OPT_IN=http/dup`) the original's `http.method`, `http.url`,
//! `http.<path param>` and `client` as well.

use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use http::header::{HOST, HeaderName, USER_AGENT};

use crate::capture::redact_text;
use http::{Request, Version};
use opentelemetry::{KeyValue, Value};
use opentelemetry_semantic_conventions::attribute::{
    CLIENT_ADDRESS, HTTP_REQUEST_METHOD, HTTP_ROUTE, NETWORK_PROTOCOL_VERSION, SERVER_ADDRESS,
    SERVER_PORT, URL_PATH, URL_SCHEME,
};

/// Attribute: when the request entered the application, in milliseconds since the Unix epoch
/// (the original's, to see queuing in front of the workers).
pub const ENTRY_TIMESTAMP_KEY: &str = "entry.timestamp_ms";
/// The environment variable and value that turn the original-names mode on.
pub const SEMCONV_OPT_IN_VARIABLE: &str = "OTEL_SEMCONV_STABILITY_OPT_IN";

/// Whether `OTEL_SEMCONV_STABILITY_OPT_IN` asks for the old HTTP names beside the stable ones.
pub(crate) fn original_names_from_env() -> bool {
    crate::environment::setting(SEMCONV_OPT_IN_VARIABLE)
        .is_some_and(|v| v.split(',').any(|item| item.trim() == "http/dup"))
}

/// `network.protocol.version` of `version`.
fn protocol_version(version: Version) -> Option<&'static str> {
    Some(match version {
        Version::HTTP_09 => "0.9",
        Version::HTTP_10 => "1.0",
        Version::HTTP_11 => "1.1",
        Version::HTTP_2 => "2",
        Version::HTTP_3 => "3",
        _ => return None,
    })
}

/// A `Host` value read, with its address as a shared text and its port.
type ReadHost = (Box<str>, Value, Option<u16>);

thread_local! {
    /// The last `Host` value this thread read: a server's requests name the same host, so most
    /// requests take the address from here.
    static LAST_HOST: RefCell<Option<ReadHost>> = const { RefCell::new(None) };
}

/// `server.address` (a shared text) and `server.port` of a `Host` header value.
fn server_address_and_port(host: &str) -> (Value, Option<u16>) {
    let cached = LAST_HOST.try_with(|last| {
        let mut last = last.try_borrow_mut().ok()?;
        if let Some((text, address, port)) = last.as_ref()
            && **text == *host
        {
            return Some((address.clone(), *port));
        }
        let (address, port) = host_and_port(host);
        let address = Value::from(Arc::<str>::from(address));
        *last = Some((host.into(), address.clone(), port));
        Some((address, port))
    });
    match cached {
        Ok(Some(found)) => found,
        _ => {
            let (address, port) = host_and_port(host);
            (Value::from(address), port)
        }
    }
}

/// Host and port of a `Host` header value (`example.com:8080`, `[::1]:3000`).
pub(crate) fn host_and_port(value: &str) -> (String, Option<u16>) {
    let (host, port) = match value.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((host, after)) => (host, after.strip_prefix(':')),
            None => (value, None),
        },
        None => match value.rsplit_once(':') {
            Some((host, port)) if !host.contains(':') => (host, Some(port)),
            _ => (value, None),
        },
    };
    (host.to_owned(), port.and_then(|p| p.parse().ok()))
}

/// The proxies' header naming the client, as a name the header map looks up without parsing it.
static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// The client's address: the first `X-Forwarded-For` entry, else the peer axum saw.
fn client_address<B>(request: &Request<B>) -> Option<String> {
    let forwarded = request
        .headers()
        .get(&X_FORWARDED_FOR)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty());
    forwarded.or_else(|| peer_address(request))
}

#[cfg(feature = "axum")]
fn peer_address<B>(request: &Request<B>) -> Option<String> {
    request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip().to_string())
}

#[cfg(not(feature = "axum"))]
fn peer_address<B>(_request: &Request<B>) -> Option<String> {
    None
}

/// The values of `route`'s `{param}` segments in `path`, by name.
pub(crate) fn path_params(route: &str, path: &str) -> Vec<(String, String)> {
    route
        .split('/')
        .zip(path.split('/'))
        .filter_map(|(template, actual)| {
            let name = template.strip_prefix('{')?.strip_suffix('}')?;
            let name = name.trim_start_matches('*');
            Some((name.to_owned(), actual.to_owned()))
        })
        .collect()
}

/// The attributes a server span starts with, in a list with `room` more places.
pub(crate) fn server_span_attributes<B>(
    request: &Request<B>,
    method: Cow<'static, str>,
    scheme: &'static str,
    route: Option<Cow<'static, str>>,
    original_names: bool,
    room: usize,
) -> Vec<KeyValue> {
    let path = request.uri().path();
    let route_text = route.as_deref();
    // The attributes below, and `room` more the caller adds.
    let mut attributes = Vec::with_capacity(10 + room);
    attributes.extend([
        KeyValue::new(HTTP_REQUEST_METHOD, method.clone()),
        // Shared: the export copies a batch to retry it, and a shared text is copied by a count.
        KeyValue::new(URL_PATH, Arc::<str>::from(path)),
        KeyValue::new(URL_SCHEME, scheme),
    ]);
    if let Some(route) = route.clone() {
        attributes.push(KeyValue::new(HTTP_ROUTE, route));
    }
    let host = request
        .headers()
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()));
    if let Some(host) = host {
        let (address, port) = server_address_and_port(host);
        attributes.push(KeyValue::new(SERVER_ADDRESS, address));
        if let Some(port) = port {
            attributes.push(KeyValue::new(SERVER_PORT, i64::from(port)));
        }
    }
    if let Some(client) = client_address(request) {
        attributes.push(KeyValue::new(CLIENT_ADDRESS, client));
    }
    if let Some(version) = protocol_version(request.version()) {
        attributes.push(KeyValue::new(NETWORK_PROTOCOL_VERSION, version));
    }
    let entered_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    attributes.push(KeyValue::new(ENTRY_TIMESTAMP_KEY, entered_ms));
    if original_names {
        attributes.push(KeyValue::new("http.method", method));
        let url = match (host, request.uri().path_and_query()) {
            (Some(host), Some(pq)) => format!("{scheme}://{host}{}", pq.as_str()),
            _ => request.uri().to_string(),
        };
        attributes.push(KeyValue::new("http.url", redact_text(&url).into_owned()));
        if let Some(route) = route_text {
            for (name, value) in path_params(route, path) {
                attributes.push(KeyValue::new(format!("http.{name}"), value));
            }
        }
        if let Some(agent) = request
            .headers()
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
        {
            attributes.push(KeyValue::new("client", redact_text(agent).into_owned()));
        }
    }
    attributes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_headers_split_into_address_and_port() {
        assert_eq!(
            host_and_port("example.com:8080"),
            ("example.com".to_owned(), Some(8080))
        );
        assert_eq!(
            host_and_port("example.com"),
            ("example.com".to_owned(), None)
        );
        assert_eq!(host_and_port("[::1]:3000"), ("::1".to_owned(), Some(3000)));
        assert_eq!(host_and_port("::1"), ("::1".to_owned(), None));
    }

    #[test]
    fn the_last_host_is_read_once_and_shared() {
        let (first, port) = server_address_and_port("api.example.com:8443");
        assert_eq!(
            (first.as_str().as_ref(), port),
            ("api.example.com", Some(8443))
        );
        let (again, _) = server_address_and_port("api.example.com:8443");
        assert_eq!(
            again.as_str().as_ptr(),
            first.as_str().as_ptr(),
            "the same text, shared"
        );
        let (other, port) = server_address_and_port("[::1]:3000");
        assert_eq!((other.as_str().as_ref(), port), ("::1", Some(3000)));
    }

    #[test]
    fn path_params_come_from_the_route_template() {
        assert_eq!(
            path_params("/v1/agents/{agent_id}/messages", "/v1/agents/a-1/messages"),
            vec![("agent_id".to_owned(), "a-1".to_owned())]
        );
        assert!(path_params("/v1/health", "/v1/health").is_empty());
    }

    #[test]
    fn original_names_join_the_stable_ones() {
        let request = Request::builder()
            .method("POST")
            .uri("/v1/agents/a-1/messages?x=1")
            .header("host", "api.local:8283")
            .header("user-agent", "letta-client/1.0")
            .header("x-forwarded-for", "203.0.113.9, 10.0.0.1")
            .body(())
            .unwrap();
        let attributes = server_span_attributes(
            &request,
            "POST".into(),
            "http",
            Some("/v1/agents/{agent_id}/messages".into()),
            true,
            0,
        );
        let get = |key: &str| {
            attributes
                .iter()
                .find(|kv| kv.key.as_str() == key)
                .map(|kv| kv.value.to_string())
        };
        assert_eq!(get("server.address").as_deref(), Some("api.local"));
        assert_eq!(get("server.port").as_deref(), Some("8283"));
        assert_eq!(get("client.address").as_deref(), Some("203.0.113.9"));
        assert_eq!(get("network.protocol.version").as_deref(), Some("1.1"));
        assert_eq!(get("http.method").as_deref(), Some("POST"));
        assert_eq!(
            get("http.url").as_deref(),
            Some("http://api.local:8283/v1/agents/a-1/messages?x=1")
        );
        assert_eq!(get("http.agent_id").as_deref(), Some("a-1"));
        assert_eq!(get("client").as_deref(), Some("letta-client/1.0"));
        assert!(get(ENTRY_TIMESTAMP_KEY).is_some());
        let stable = server_span_attributes(&request, "POST".into(), "http", None, false, 0);
        assert!(
            !stable
                .iter()
                .any(|kv| kv.key.as_str() == "http.method" || kv.key.as_str() == "client")
        );
    }
}
