//! What the HTTP server layer records: excluded routes, header attributes, which endpoints get
//! metrics, and whether errors carry a trace-id header.

use std::borrow::Cow;

use http::HeaderName;
use regex::Regex;

use super::routes::RoutePatterns;

/// Routes that get no span and no metrics by default, matched against `"{METHOD} {path}"`.
pub const DEFAULT_EXCLUDED_ROUTES: &[&str] = &["^GET /v1/health$"];

/// Endpoints that get the original's endpoint metrics by default: the agent message endpoints,
/// as the original wrote them. Each is matched against `"{METHOD} {path}"` (the concrete path,
/// any server) and, with axum, against `"{METHOD} {route}"` (the route template, which
/// `[^/]+` matches too).
pub const DEFAULT_ENDPOINT_METRIC_ROUTES: &[&str] = &[
    "^POST /v1/agents/(?P<agent_id>[^/]+)/messages$",
    "^POST /v1/agents/(?P<agent_id>[^/]+)/messages/stream$",
    "^POST /v1/agents/(?P<agent_id>[^/]+)/messages/async$",
];

/// The path a request's endpoint metrics are recorded under (`endpoint_path`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// The route template, or the concrete path with each named group put back as `{name}`.
    pub(crate) path: Cow<'static, str>,
    /// Whether `path` is a template (axum's, or one made by a pattern with a named group), so it
    /// may serve as the semantic-convention `http.route`.
    pub(crate) is_template: bool,
}

/// Request headers copied into the request context (so every span and metric recorded while
/// handling the request carries them), with their attribute names.
pub const DEFAULT_HEADER_ATTRIBUTES: &[(&str, &str)] = &[
    ("x-organization-id", "organization.id"),
    ("x-project-id", "project.id"),
    ("x-base-template-id", "base_template.id"),
    ("x-template-id", "template.id"),
    ("x-agent-id", "agent.id"),
    ("x-stainless-package-version", "sdk.version"),
    ("x-stainless-lang", "sdk.language"),
    ("x-letta-source", "source"),
];

/// Request headers recorded on the server span only.
pub const DEFAULT_SPAN_HEADER_ATTRIBUTES: &[(&str, &str)] = &[
    ("user_id", "user.id"),
    ("user-agent", "user_agent.original"),
];

/// A pattern or header name that could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfigError(String);

impl std::fmt::Display for HttpConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HttpConfigError {}

/// Configuration of [`HttpLayer`](super::HttpLayer).
///
/// ```
/// use instrument::http::HttpConfig;
/// let config = HttpConfig::default()
///     .excluded_routes(["^GET /healthz$"])?
///     .endpoint_metrics(["^POST /v1/"])?
///     .trace_id_header("x-trace-id")?;
/// # Ok::<_, instrument::http::HttpConfigError>(())
/// ```
#[derive(Clone, Debug)]
pub struct HttpConfig {
    pub(crate) excluded_routes: RoutePatterns,
    pub(crate) endpoint_metric_routes: RoutePatterns,
    pub(crate) header_attributes: Vec<(HeaderName, &'static str)>,
    pub(crate) span_header_attributes: Vec<(HeaderName, &'static str)>,
    pub(crate) semconv_metrics: bool,
    pub(crate) trace_id_header: Option<HeaderName>,
    pub(crate) original_names: bool,
    pub(crate) body_capture_routes: RoutePatterns,
}

impl Default for HttpConfig {
    fn default() -> Self {
        let regexes = |patterns: &[&str]| {
            RoutePatterns::new(
                patterns
                    .iter()
                    .map(|p| Regex::new(p).expect("valid default"))
                    .collect(),
            )
        };
        let headers = |pairs: &[(&'static str, &'static str)]| {
            pairs
                .iter()
                .map(|(h, a)| (HeaderName::from_static(h), *a))
                .collect()
        };
        Self {
            excluded_routes: regexes(DEFAULT_EXCLUDED_ROUTES),
            endpoint_metric_routes: regexes(DEFAULT_ENDPOINT_METRIC_ROUTES),
            header_attributes: headers(DEFAULT_HEADER_ATTRIBUTES),
            span_header_attributes: headers(DEFAULT_SPAN_HEADER_ATTRIBUTES),
            semconv_metrics: true,
            trace_id_header: None,
            original_names: super::request_attributes::original_names_from_env(),
            body_capture_routes: RoutePatterns::new(Vec::new()),
        }
    }
}

fn compile<'a>(
    patterns: impl IntoIterator<Item = &'a str>,
) -> Result<RoutePatterns, HttpConfigError> {
    patterns
        .into_iter()
        .map(|p| {
            Regex::new(p).map_err(|e| HttpConfigError(format!("invalid route pattern {p:?}: {e}")))
        })
        .collect::<Result<Vec<Regex>, _>>()
        .map(RoutePatterns::new)
}

fn header(name: &str) -> Result<HeaderName, HttpConfigError> {
    HeaderName::try_from(name)
        .map_err(|e| HttpConfigError(format!("invalid header name {name:?}: {e}")))
}

/// Header names paired with their attribute keys, each name checked.
fn header_map<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'static str)>,
) -> Result<Vec<(HeaderName, &'static str)>, HttpConfigError> {
    pairs
        .into_iter()
        .map(|(h, a)| Ok((header(h)?, a)))
        .collect()
}

impl HttpConfig {
    /// Requests whose `"{METHOD} {path}"` matches one of `patterns` get no span and no metrics.
    pub fn excluded_routes<'a>(
        mut self,
        patterns: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, HttpConfigError> {
        self.excluded_routes = compile(patterns)?;
        Ok(self)
    }

    /// Requests matching one of `patterns` record `count_endpoint_requests` and
    /// `hist_endpoint_e2e_ms`. Empty: none do.
    ///
    /// A pattern is matched against `"{METHOD} {path}"`, the concrete path, so it works behind
    /// any tower or hyper service: name each variable segment with a group,
    /// `^POST /v1/agents/(?P<agent_id>[^/]+)/messages$`, and `endpoint_path` is the path with
    /// each named group put back as `{name}` (`/v1/agents/{agent_id}/messages`, never the id);
    /// without axum that path is also the span's `http.route`. With axum a pattern may instead
    /// match `"{METHOD} {route}"`, the route template, and the template is always the
    /// `endpoint_path`. A pattern that is not a valid regex is an error naming it.
    pub fn endpoint_metrics<'a>(
        mut self,
        patterns: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, HttpConfigError> {
        self.endpoint_metric_routes = compile(patterns)?;
        Ok(self)
    }

    /// Headers copied into the request context as attributes, replacing the defaults.
    pub fn header_attributes<'a>(
        mut self,
        pairs: impl IntoIterator<Item = (&'a str, &'static str)>,
    ) -> Result<Self, HttpConfigError> {
        self.header_attributes = header_map(pairs)?;
        Ok(self)
    }

    /// Headers recorded on the server span only, replacing the defaults.
    pub fn span_header_attributes<'a>(
        mut self,
        pairs: impl IntoIterator<Item = (&'a str, &'static str)>,
    ) -> Result<Self, HttpConfigError> {
        self.span_header_attributes = header_map(pairs)?;
        Ok(self)
    }

    /// Records the semantic-convention metrics `http.server.request.duration` and
    /// `http.server.active_requests` (on by default).
    pub fn semconv_metrics(mut self, on: bool) -> Self {
        self.semconv_metrics = on;
        self
    }

    /// The original-names mode for teams migrating dashboards: the stable semantic-convention
    /// names plus the original's `http.method`, `http.url`, `http.status_code`,
    /// `http.<path param>` and `client`, and 4xx as ERROR. Default: on when
    /// `OTEL_SEMCONV_STABILITY_OPT_IN` lists `http/dup`.
    pub fn original_names(mut self, on: bool) -> Self {
        self.original_names = on;
        self
    }

    /// Routes whose JSON request bodies (`POST`, `PUT`, `PATCH`) are captured, matched against
    /// `"{METHOD} {route}"`: each top-level key becomes `http.request.body.<key>` on the server
    /// span, bounded and redacted like parameters. None by default; a body longer than the
    /// capture limit streams through untouched and records nothing.
    pub fn capture_request_body<'a>(
        mut self,
        patterns: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, HttpConfigError> {
        self.body_capture_routes = compile(patterns)?;
        Ok(self)
    }

    pub(crate) fn captures_body(&self, method: &str, route: &str) -> bool {
        self.body_capture_routes.matches(method, route)
    }

    /// Adds a response header carrying the trace id (off by default).
    pub fn trace_id_header(mut self, name: &str) -> Result<Self, HttpConfigError> {
        self.trace_id_header = Some(header(name)?);
        Ok(self)
    }

    pub(crate) fn is_excluded(&self, method: &str, path: &str) -> bool {
        self.excluded_routes.matches(method, path)
    }

    /// The endpoint a request's endpoint metrics are recorded under, if a pattern matches it:
    /// axum's route template when there is one (matched as a template, or through the concrete
    /// `path`), otherwise `path` normalized by the pattern that matched.
    pub(crate) fn endpoint(
        &self,
        method: &str,
        route: Option<&Cow<'static, str>>,
        path: &str,
    ) -> Option<Endpoint> {
        let patterns = &self.endpoint_metric_routes;
        if let Some(route) = route {
            let matched =
                patterns.matches(method, route) || patterns.normalized(method, path).is_some();
            return matched.then(|| Endpoint {
                path: route.clone(),
                is_template: true,
            });
        }
        let (normalized, named) = patterns.normalized(method, path)?;
        Some(Endpoint {
            path: Cow::Owned(normalized),
            is_template: named,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint_path(
        config: &HttpConfig,
        method: &str,
        route: Option<&str>,
        path: &str,
    ) -> Option<String> {
        let route = route.map(|r| Cow::Owned(r.to_owned()));
        config
            .endpoint(method, route.as_ref(), path)
            .map(|endpoint| endpoint.path.into_owned())
    }

    #[test]
    fn defaults_match_the_original() {
        let config = HttpConfig::default();
        assert!(config.is_excluded("GET", "/v1/health"));
        assert!(!config.is_excluded("GET", "/v1/health/deep"));
        assert!(!config.is_excluded("POST", "/v1/health"));
        for route in [
            "/v1/agents/{agent_id}/messages",
            "/v1/agents/{agent_id}/messages/stream",
            "/v1/agents/{agent_id}/messages/async",
        ] {
            let path = route.replace("{agent_id}", "a-123");
            let expected = Some(route.to_owned());
            assert_eq!(
                endpoint_path(&config, "POST", Some(route), &path),
                expected,
                "axum: {route}"
            );
            assert_eq!(
                endpoint_path(&config, "POST", None, &path),
                expected,
                "no axum: {path}"
            );
        }
        assert_eq!(
            endpoint_path(
                &config,
                "GET",
                Some("/v1/agents/{agent_id}/messages"),
                "/v1/agents/a/messages"
            ),
            None
        );
        assert_eq!(
            endpoint_path(&config, "GET", None, "/v1/agents/a/messages"),
            None
        );
        assert_eq!(
            endpoint_path(&config, "POST", None, "/v1/agents/a/b/messages"),
            None
        );
        assert_eq!(config.header_attributes.len(), 8);
    }

    #[test]
    fn the_template_wins_and_template_patterns_still_match() {
        let escaped = HttpConfig::default()
            .endpoint_metrics(["^POST /v1/agents/\\{agent_id\\}/messages$"])
            .unwrap();
        assert_eq!(
            endpoint_path(
                &escaped,
                "POST",
                Some("/v1/agents/{agent_id}/messages"),
                "/v1/agents/a/messages"
            ),
            Some("/v1/agents/{agent_id}/messages".to_owned())
        );
        assert_eq!(
            endpoint_path(&escaped, "POST", None, "/v1/agents/a/messages"),
            None
        );
        let concrete = HttpConfig::default()
            .endpoint_metrics(["^POST /v1/agents/(?P<id>agent-[0-9]+)/messages$"])
            .unwrap();
        assert_eq!(
            endpoint_path(
                &concrete,
                "POST",
                Some("/v1/agents/{agent_id}/messages"),
                "/v1/agents/agent-7/messages"
            ),
            Some("/v1/agents/{agent_id}/messages".to_owned()),
            "matched through the path, recorded under the template"
        );
        let endpoint = concrete
            .endpoint("POST", None, "/v1/agents/agent-7/messages")
            .unwrap();
        assert_eq!(endpoint.path, "/v1/agents/{id}/messages");
        assert!(endpoint.is_template);
        let plain = HttpConfig::default()
            .endpoint_metrics(["^GET /v1/stream$"])
            .unwrap();
        let endpoint = plain.endpoint("GET", None, "/v1/stream").unwrap();
        assert_eq!(endpoint.path, "/v1/stream");
        assert!(!endpoint.is_template, "no named group: not a route");
    }

    #[test]
    fn bad_patterns_and_headers_are_errors() {
        assert!(HttpConfig::default().excluded_routes(["("]).is_err());
        let error = HttpConfig::default()
            .endpoint_metrics(["^POST /v1/(?P<id>[^/]+"])
            .unwrap_err();
        assert!(
            error.to_string().contains("^POST /v1/(?P<id>[^/]+"),
            "{error}"
        );
        assert!(HttpConfig::default().trace_id_header("bad header").is_err());
    }
}
