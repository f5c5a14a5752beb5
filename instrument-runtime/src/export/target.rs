//! Where spans are sent: the OTLP protocol and endpoint, for naming the likely cause of a
//! failure.

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
