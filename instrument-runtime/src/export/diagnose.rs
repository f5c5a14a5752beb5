//! Naming the likely cause of a failed export from its error text and where it was sent: the
//! mistakes a first setup makes (the gRPC port with HTTP, TLS expected, missing credentials, a
//! host name that does not resolve, nothing listening).

use std::sync::Mutex;

use super::target::{ExportTarget, Protocol};

/// The cause of the last transport failure of one pipeline's HTTP exporters, whose own error
/// says only "network error".
#[derive(Debug, Default)]
pub(crate) struct TransportFailures {
    last: Mutex<Option<String>>,
}

impl TransportFailures {
    /// Keeps the cause of a transport failure (the error and its sources, secrets hidden).
    #[cfg(feature = "otlp")]
    pub(crate) fn record(&self, error: &(dyn std::error::Error + 'static)) {
        let mut text = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        let text = crate::capture::redact_text(&text).into_owned();
        if let Ok(mut last) = self.last.lock() {
            *last = Some(text);
        }
    }

    /// The error text of a failed export, with the transport's cause when the exporter dropped
    /// it.
    pub(super) fn full_error_text(&self, error: &str) -> String {
        if !error.contains("network error") {
            return error.to_owned();
        }
        match self.last.lock().ok().and_then(|mut last| last.take()) {
            Some(cause) => format!("{error} ({cause})"),
            None => error.to_owned(),
        }
    }
}

/// Whether an export failure will not go away by trying again (the backend refuses the
/// credentials or the request itself).
pub(super) fn is_permanent(error: &str) -> bool {
    let words = ErrorWords::of(error);
    words.has(&[
        "unauthenticated",
        "permissiondenied",
        "permission denied",
        "invalidargument",
    ]) || words.has_status(&[401, 403])
}

/// An export error's text as it is classified: lower case, with the addresses in it left out, so
/// that a port such as `:40339` is not read as the status 403.
struct ErrorWords(String);

impl ErrorWords {
    fn of(error: &str) -> Self {
        let kept: Vec<&str> = error
            .split_whitespace()
            .filter(|word| !word.contains("://"))
            .collect();
        Self(kept.join(" ").to_ascii_lowercase())
    }

    /// Whether any of the words occurs in the text.
    fn has(&self, words: &[&str]) -> bool {
        words.iter().any(|word| self.0.contains(word))
    }

    /// Whether any of the status codes occurs as a whole number.
    fn has_status(&self, codes: &[u16]) -> bool {
        self.0
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|digits| digits.parse::<u16>().ok())
            .any(|number| codes.contains(&number))
    }
}

/// The likely cause of an export failure, when one can be named. A collector that took exports
/// before (`delivered_before`) was set up right: it went away.
pub(crate) fn likely_cause(
    error: &str,
    target: Option<&ExportTarget>,
    delivered_before: bool,
) -> Option<String> {
    let words = ErrorWords::of(error);
    if words.has(&["unauthenticated"]) || words.has_status(&[401]) {
        return Some(
            "the backend wants credentials: set its header in OTEL_EXPORTER_OTLP_HEADERS \
             (for example `authorization=Bearer%20<token>`)"
                .into(),
        );
    }
    if words.has(&["permissiondenied", "permission denied"]) || words.has_status(&[403]) {
        return Some(
            "the backend refused the credentials in OTEL_EXPORTER_OTLP_HEADERS (403)".into(),
        );
    }
    if words.has(&[
        "dns error",
        "failed to lookup address",
        "name or service not known",
        "no such host",
        "nodename nor servname",
    ]) {
        return Some("the collector's host name does not resolve (DNS)".into());
    }
    if words.has(&["certificate", "tls", "handshake", "unknownissuer"]) {
        return Some(
            "TLS failed: for a private CA set OTEL_EXPORTER_OTLP_CERTIFICATE to its PEM file"
                .into(),
        );
    }
    let target = target?;
    if delivered_before {
        return Some(format!(
            "the collector at {} went away (restarting?) after taking exports",
            target.endpoint
        ));
    }
    let port = target
        .endpoint
        .rsplit(':')
        .next()
        .and_then(|p| p.trim_end_matches('/').split('/').next())
        .and_then(|p| p.parse::<u16>().ok());
    match (target.protocol, port) {
        (Protocol::HttpProtobuf, Some(4317)) => {
            return Some(
                "port 4317 is OTLP over gRPC: with http/protobuf the collector listens on 4318 \
                 (or set OTEL_EXPORTER_OTLP_PROTOCOL=grpc)"
                    .into(),
            );
        }
        (Protocol::Grpc, Some(4318)) => {
            return Some(
                "port 4318 is OTLP over HTTP: with grpc the collector listens on 4317 (or set \
                 OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf)"
                    .into(),
            );
        }
        _ => {}
    }
    if words.has(&["connection refused", "tcp connect error", "connect error"]) {
        return Some(format!("nothing listens at {}", target.endpoint));
    }
    if target.endpoint.starts_with("http://")
        && words.has(&["connection reset", "broken pipe", "frame", "protocol error"])
    {
        return Some(expects_tls(&target.endpoint, cfg!(feature = "tls")));
    }
    None
}

/// The cause of a failure at an `http://` endpoint whose collector seems to want TLS; a build
/// without the `tls` feature (`tls_built`) needs that feature for `https://`, and is told so.
fn expects_tls(endpoint: &str, tls_built: bool) -> String {
    let feature = if tls_built {
        ""
    } else {
        ", with instrument's `tls` feature (`features = [\"tls\"]` on the `instrument` dependency)"
    };
    format!("the collector may expect TLS: try https:// instead of {endpoint}{feature}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(endpoint: &str, protocol: Protocol) -> ExportTarget {
        ExportTarget {
            endpoint: endpoint.into(),
            protocol,
        }
    }

    #[test]
    fn a_tls_hint_names_the_feature_a_build_lacks() {
        let endpoint = "http://collector:4317";
        assert_eq!(
            expects_tls(endpoint, true),
            "the collector may expect TLS: try https:// instead of http://collector:4317"
        );
        assert_eq!(
            expects_tls(endpoint, false),
            "the collector may expect TLS: try https:// instead of http://collector:4317, with \
             instrument's `tls` feature (`features = [\"tls\"]` on the `instrument` dependency)"
        );
        let cause = likely_cause(
            "connection reset by peer",
            Some(&target(endpoint, Protocol::Grpc)),
            false,
        )
        .unwrap_or_default();
        assert_eq!(
            cause.contains("`tls` feature"),
            !cfg!(feature = "tls"),
            "{cause}"
        );
    }

    #[test]
    fn a_port_is_not_read_as_a_status() {
        let error = "HTTP export failed: network error (error sending request for url \
                     (https://localhost:40339/v1/traces): client error (Connect): invalid peer \
                     certificate: BadSignature)";
        let target = target("https://localhost:40339", Protocol::HttpProtobuf);
        let cause = likely_cause(error, Some(&target), false).unwrap_or_default();
        assert!(cause.starts_with("TLS failed"), "{cause}");
        assert!(!is_permanent(error));
        assert!(!is_permanent("tcp connect error to 10.0.4.3:14013"));
    }

    #[test]
    fn first_setup_mistakes_are_named() {
        let grpc = target("http://127.0.0.1:4317", Protocol::Grpc);
        let http_on_grpc_port = target("http://127.0.0.1:4317", Protocol::HttpProtobuf);
        let grpc_on_http_port = target("http://collector:4318", Protocol::Grpc);
        for (error, target, expected) in [
            (
                "status: Unauthenticated, message: \"no key\"",
                &grpc,
                "OTEL_EXPORTER_OTLP_HEADERS",
            ),
            ("HTTP status 403 Forbidden", &grpc, "403"),
            (
                "dns error: failed to lookup address information",
                &grpc,
                "DNS",
            ),
            (
                "invalid peer certificate: UnknownIssuer",
                &grpc,
                "OTEL_EXPORTER_OTLP_CERTIFICATE",
            ),
            ("error sending request", &http_on_grpc_port, "4318"),
            ("transport error", &grpc_on_http_port, "4317"),
            (
                "tcp connect error: Connection refused (os error 111)",
                &grpc,
                "nothing listens",
            ),
            ("connection reset by peer", &grpc, "TLS"),
        ] {
            let cause = likely_cause(error, Some(target), false).unwrap_or_default();
            assert!(cause.contains(expected), "{error}: {cause}");
        }
        assert_eq!(likely_cause("something odd", Some(&grpc), false), None);
        assert!(
            likely_cause("broken pipe", Some(&grpc), true)
                .unwrap()
                .contains("went away")
        );
        assert!(is_permanent("status: PermissionDenied"));
        assert!(is_permanent("HTTP export failed with status 401"));
        assert!(!is_permanent("status: Unavailable"));
    }
}
