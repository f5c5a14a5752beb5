//! `instrument-viewer`: see every trace, log and metric of the services on this machine.

#![forbid(unsafe_code)]

use instrument_viewer::{Command, USAGE, Viewer, ViewerConfig};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let config = match ViewerConfig::from_args(std::env::args().skip(1)) {
        Ok(Command::Run(config)) => config,
        Ok(Command::Help) => {
            println!("{USAGE}");
            return std::process::ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("instrument-viewer: {error}");
            return std::process::ExitCode::from(2);
        }
    };
    let viewer = match Viewer::start(config).await {
        Ok(viewer) => viewer,
        Err(error) => {
            eprintln!("instrument-viewer: {error}");
            return std::process::ExitCode::from(1);
        }
    };
    println!(
        "instrument-viewer: UI on http://{}\n  OTLP/gRPC on {} and OTLP/HTTP on {}: point a service at it with\n  OTEL_EXPORTER_OTLP_ENDPOINT=http://{}\nCtrl-C stops it.",
        viewer.ui_address(),
        viewer.grpc_address(),
        viewer.http_address(),
        viewer.grpc_address(),
    );
    tokio::select! {
        () = viewer.wait() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    std::process::ExitCode::SUCCESS
}
