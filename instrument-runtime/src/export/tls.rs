//! TLS for OTLP export (feature `tls`): rustls with the aws-lc-rs provider, the webpki roots for gRPC
//! and the platform's roots for HTTP, plus a private CA (`OTEL_EXPORTER_OTLP_CERTIFICATE`) and a
//! client certificate (`OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE` and `_CLIENT_KEY`), each a PEM
//! file. A file that cannot be read is reported, naming the variable, and left out.

use crate::diagnostics::warn;

/// The PEM files the environment names.
#[derive(Clone, Debug, Default)]
pub(crate) struct TlsFiles {
    ca: Option<Vec<u8>>,
    client_certificate: Option<Vec<u8>>,
    client_key: Option<Vec<u8>>,
}

impl TlsFiles {
    /// Reads the files named by the environment (nothing when `ignore_env`).
    pub(crate) fn from_env(ignore_env: bool) -> Self {
        if ignore_env {
            return Self::default();
        }
        let read = |var: &str| {
            let path = crate::environment::read(var)?;
            std::fs::read(path.trim())
                .map_err(|error| warn(&format!("{var}: cannot read {path:?}: {error}; left out")))
                .ok()
        };
        let files = Self {
            ca: read("OTEL_EXPORTER_OTLP_CERTIFICATE"),
            client_certificate: read("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE"),
            client_key: read("OTEL_EXPORTER_OTLP_CLIENT_KEY"),
        };
        if files.client_certificate.is_some() != files.client_key.is_some() {
            warn(
                "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and OTEL_EXPORTER_OTLP_CLIENT_KEY go \
                 together; the one set alone is left out",
            );
            return Self {
                client_certificate: None,
                client_key: None,
                ..files
            };
        }
        files
    }

    /// The gRPC client's TLS settings: the webpki roots, the private CA and the client
    /// certificate.
    pub(crate) fn tonic_config(&self) -> tonic::transport::ClientTlsConfig {
        use tonic::transport::{Certificate, ClientTlsConfig, Identity};
        let mut config = ClientTlsConfig::new().with_webpki_roots();
        if let Some(ca) = &self.ca {
            config = config.ca_certificate(Certificate::from_pem(ca));
        }
        if let (Some(cert), Some(key)) = (&self.client_certificate, &self.client_key) {
            config = config.identity(Identity::from_pem(cert, key));
        }
        config
    }

    /// `builder` trusting the private CA (beside the platform's roots) and presenting the
    /// client certificate.
    pub(crate) fn http_client(
        &self,
        mut builder: reqwest::blocking::ClientBuilder,
    ) -> Result<reqwest::blocking::ClientBuilder, String> {
        if let Some(ca) = &self.ca {
            let ca = reqwest::Certificate::from_pem(ca).map_err(|e| {
                format!("OTEL_EXPORTER_OTLP_CERTIFICATE is not a PEM certificate: {e}")
            })?;
            builder = builder.tls_certs_merge([ca]);
        }
        if let (Some(cert), Some(key)) = (&self.client_certificate, &self.client_key) {
            let mut pem = cert.clone();
            pem.push(b'\n');
            pem.extend_from_slice(key);
            let identity = reqwest::Identity::from_pem(&pem).map_err(|e| {
                format!("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE/_CLIENT_KEY are not a PEM pair: {e}")
            })?;
            builder = builder.identity(identity);
        }
        Ok(builder)
    }
}
