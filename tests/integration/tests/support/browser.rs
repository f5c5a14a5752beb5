//! Headless Chromium for the viewer's page: the DOM after the page's scripts ran, and a
//! screenshot. `.ci/run` installs Debian's `chromium` where it is missing; elsewhere the tests
//! that need it print why they skip.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The Chromium binary: `$CHROMIUM`, or the first of the usual names found on `PATH`.
pub fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| {
            ["chromium", "chromium-browser", "google-chrome"].map(|name| dir.join(name))
        })
        .find(|candidate| candidate.is_file())
}

fn headless(chromium: &Path, profile: &Path) -> Command {
    let mut command = Command::new(chromium);
    command.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--virtual-time-budget=10000",
        "--window-size=1400,1000",
    ]);
    command.arg(format!("--user-data-dir={}", profile.display()));
    command
}

/// A browser with a profile of its own.
pub struct Browser {
    chromium: PathBuf,
    profile: PathBuf,
}

impl Browser {
    /// A browser using `chromium`.
    pub fn new(chromium: PathBuf) -> Self {
        let profile =
            std::env::temp_dir().join(format!("instrument-viewer-chromium-{}", std::process::id()));
        Self { chromium, profile }
    }

    /// The DOM of `url` once its scripts ran, serialised.
    pub fn dom(&self, url: &str) -> String {
        let output = headless(&self.chromium, &self.profile)
            .arg("--dump-dom")
            .arg(url)
            .output()
            .expect("chromium starts");
        assert!(
            output.status.success(),
            "chromium --dump-dom {url} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// A PNG of `url` at 1400×1000, written to `path`.
    pub fn screenshot(&self, url: &str, path: &Path) {
        let output = headless(&self.chromium, &self.profile)
            .arg(format!("--screenshot={}", path.display()))
            .arg(url)
            .output()
            .expect("chromium starts");
        assert!(
            output.status.success() && path.exists(),
            "chromium --screenshot {url} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
