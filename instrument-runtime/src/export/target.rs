//! Where spans are sent: the OTLP protocol and endpoint, for naming the likely cause of a
//! failure.

use std::time::Duration;

/// Wire protocol of the OTLP exporter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// OTLP over gRPC (port 4317 by convention).
    Grpc,
    /// OTLP over HTTP with protobuf bodies (port 4318 by convention); the specification's default.
    HttpProtobuf,
}

/// Where spans are sent, for naming the likely cause of a failure.
#[derive(Clone, Debug)]
pub(crate) struct ExportTarget {
    pub endpoint: String,
    pub protocol: Protocol,
}

/// Where and how the OTLP exporters send.
// Read by the OTLP exporters only: without the `otlp` feature, setup says it is off.
#[cfg_attr(not(feature = "otlp"), allow(dead_code))]
pub(crate) struct OtlpTarget<'a> {
    /// Base endpoint of spans (and of logs, unless they have their own).
    pub traces_endpoint: &'a str,
    /// Base endpoint of metrics (`OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`, else the traces one).
    pub metrics_endpoint: &'a str,
    pub protocol: Protocol,
    pub timeout: Duration,
    /// Whether the environment may add to the transport (certificate files).
    pub read_env: bool,
}
