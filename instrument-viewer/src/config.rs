//! The viewer's settings and its command line.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::store::Limits;

/// Where the viewer listens, what it keeps and what it loads at start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ViewerConfig {
    /// OTLP/gRPC (default `127.0.0.1:4317`).
    pub grpc: SocketAddr,
    /// OTLP/HTTP, protobuf and JSON (default `127.0.0.1:4318`).
    pub http: SocketAddr,
    /// The web UI (default `127.0.0.1:18888`).
    pub ui: SocketAddr,
    /// Whether a non-loopback address may be bound.
    pub allow_remote: bool,
    /// The store's bounds.
    pub limits: Limits,
    /// OTLP-JSON lines files to load at start (the toolkit's file exporter writes them).
    pub open: Vec<PathBuf>,
}

impl Default for ViewerConfig {
    fn default() -> Self {
        Self {
            grpc: SocketAddr::from(([127, 0, 0, 1], 4317)),
            http: SocketAddr::from(([127, 0, 0, 1], 4318)),
            ui: SocketAddr::from(([127, 0, 0, 1], 18888)),
            allow_remote: false,
            limits: Limits::default(),
            open: Vec::new(),
        }
    }
}

/// The command line's help.
pub const USAGE: &str = "\
instrument-viewer: a local OTLP receiver with a web UI for traces, logs and metrics

USAGE: instrument-viewer [OPTIONS]

OPTIONS:
  --grpc ADDR        OTLP/gRPC address            (default 127.0.0.1:4317)
  --http ADDR        OTLP/HTTP address            (default 127.0.0.1:4318)
  --ui ADDR          web UI address               (default 127.0.0.1:18888)
  --allow-remote     allow addresses other than loopback: anyone who can reach them can send
                     telemetry and read every span, log and metric the viewer holds
  --max-spans N      spans kept, oldest traces evicted first   (default 200000)
  --max-bytes N      bytes of spans and logs kept, e.g. 256MiB (default 256MiB)
  --max-logs N       log records kept                          (default 100000)
  --open FILE        load an OTLP-JSON lines file (repeatable), e.g. one the toolkit's file
                     exporter wrote (INSTRUMENT_EXPORT_FILE)
  -h, --help         this help";

/// Why the command line or the settings were refused.
#[derive(Debug, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// What the command line asks for: run with a configuration, or print the help.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    /// Run.
    Run(ViewerConfig),
    /// Print [`USAGE`].
    Help,
}

fn bytes(text: &str) -> Option<usize> {
    let lower = text.to_ascii_lowercase();
    let (digits, unit) = match lower.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => lower.split_at(at),
        None => (lower.as_str(), ""),
    };
    let scale: usize = match unit.trim() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return None,
    };
    digits.parse::<usize>().ok()?.checked_mul(scale)
}

impl ViewerConfig {
    /// Parses the command line (without the program name).
    pub fn from_args(args: impl IntoIterator<Item = String>) -> Result<Command, ConfigError> {
        let mut config = Self::default();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let mut value = |what: &str| {
                args.next()
                    .ok_or_else(|| ConfigError(format!("{arg} needs {what}")))
            };
            let address = |text: String| {
                text.parse::<SocketAddr>().map_err(|_| {
                    ConfigError(format!("`{text}` is not an address like 127.0.0.1:4317"))
                })
            };
            let count = |text: String| {
                text.parse::<usize>()
                    .map_err(|_| ConfigError(format!("`{text}` is not a count")))
            };
            match arg.as_str() {
                "--grpc" => config.grpc = address(value("an address")?)?,
                "--http" => config.http = address(value("an address")?)?,
                "--ui" => config.ui = address(value("an address")?)?,
                "--allow-remote" => config.allow_remote = true,
                "--max-spans" => config.limits.max_spans = count(value("a count")?)?,
                "--max-logs" => config.limits.max_logs = count(value("a count")?)?,
                "--max-bytes" => {
                    let text = value("a size")?;
                    config.limits.max_bytes = bytes(&text).ok_or_else(|| {
                        ConfigError(format!("`{text}` is not a size like 256MiB"))
                    })?;
                }
                "--open" => config.open.push(PathBuf::from(value("a file")?)),
                "-h" | "--help" => return Ok(Command::Help),
                other => {
                    return Err(ConfigError(format!(
                        "unknown option `{other}` (--help lists them)"
                    )));
                }
            }
        }
        config.check()?;
        Ok(Command::Run(config))
    }

    /// Refuses a non-loopback address unless `allow_remote` says so.
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.allow_remote {
            return Ok(());
        }
        for (what, address) in [
            ("OTLP/gRPC", self.grpc),
            ("OTLP/HTTP", self.http),
            ("UI", self.ui),
        ] {
            if !address.ip().is_loopback() {
                return Err(ConfigError(format!(
                    "refusing to listen for {what} on {address}: that is reachable from other \
                     machines, and anyone who reaches it can send telemetry and read every span, \
                     log and metric the viewer holds (attribute values included); pass \
                     --allow-remote to do it anyway"
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, ConfigError> {
        ViewerConfig::from_args(args.iter().map(|a| a.to_string()))
    }

    #[test]
    fn defaults_are_loopback_on_the_otlp_ports() {
        let Ok(Command::Run(config)) = parse(&[]) else {
            panic!("no arguments run with the defaults")
        };
        assert_eq!(config, ViewerConfig::default());
        assert_eq!(config.grpc.port(), 4317);
        assert_eq!(config.http.port(), 4318);
        assert_eq!(config.ui.port(), 18888);
    }

    #[test]
    fn options_are_read() {
        let Ok(Command::Run(config)) = parse(&[
            "--ui",
            "127.0.0.1:0",
            "--max-bytes",
            "64MiB",
            "--max-spans",
            "10",
            "--open",
            "run.jsonl",
        ]) else {
            panic!("valid options")
        };
        assert_eq!(config.ui.port(), 0);
        assert_eq!(config.limits.max_bytes, 64 << 20);
        assert_eq!(config.limits.max_spans, 10);
        assert_eq!(config.open, vec![PathBuf::from("run.jsonl")]);
    }

    #[test]
    fn a_remote_address_needs_the_flag_that_says_what_it_exposes() {
        let error = parse(&["--grpc", "0.0.0.0:4317"]).unwrap_err();
        assert!(error.0.contains("--allow-remote"), "{error}");
        assert!(error.0.contains("read every span"), "{error}");
        assert!(parse(&["--grpc", "0.0.0.0:4317", "--allow-remote"]).is_ok());
    }

    #[test]
    fn bad_arguments_say_what_is_wrong() {
        assert!(parse(&["--ui"]).unwrap_err().0.contains("needs an address"));
        assert!(
            parse(&["--max-bytes", "lots"])
                .unwrap_err()
                .0
                .contains("not a size")
        );
        assert!(
            parse(&["--frobnicate"])
                .unwrap_err()
                .0
                .contains("unknown option")
        );
        assert_eq!(parse(&["--help"]), Ok(Command::Help));
    }
}
