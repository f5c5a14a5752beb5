//! The README's "Versions" block names, for each crate whose types meet the toolkit's API, a
//! version requirement that the workspace's own lockfile satisfies: a user who copies it gets
//! the versions the toolkit is built and tested with.

use std::path::Path;

/// `(crate, requirement)` of each dependency line of the README's versions block.
fn readme_requirements() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let start = readme
        .find("<!-- versions:")
        .expect("the README has a versions block");
    let end = readme[start..]
        .find("<!-- /versions -->")
        .expect("the versions block ends")
        + start;
    readme[start..end]
        .lines()
        .filter_map(|line| {
            let (name, rest) = line.split_once(" = ")?;
            let version = match rest.trim_start().strip_prefix('{') {
                Some(table) => table.split("version = \"").nth(1)?,
                None => rest.trim_start().strip_prefix('"')?,
            };
            let version = version.split('"').next()?;
            Some((name.trim().to_owned(), version.to_owned()))
        })
        .collect()
}

/// Every version of `name` in the workspace's lockfile.
fn locked_versions(lock: &str, name: &str) -> Vec<String> {
    let header = format!("name = \"{name}\"\n");
    lock.split("[[package]]")
        .filter(|package| package.contains(&header))
        .filter_map(|package| {
            let version = package.split("version = \"").nth(1)?;
            Some(version.split('"').next()?.to_owned())
        })
        .collect()
}

/// Whether `version` meets the caret requirement `requirement` (`0.33` takes `0.33.x`, `1` takes
/// `1.x.y`, `2.3` takes `2.y.z` with `y >= 3`).
fn satisfies(version: &str, requirement: &str) -> bool {
    let numbers = |text: &str| -> Vec<u64> {
        text.split(['.', '-', '+'])
            .map_while(|part| part.parse().ok())
            .collect()
    };
    let (have, want) = (numbers(version), numbers(requirement));
    let Some(&major) = want.first() else {
        return false;
    };
    if have.first() != Some(&major) {
        return false;
    }
    if major == 0 {
        return want.get(1).is_none_or(|minor| have.get(1) == Some(minor));
    }
    have[1..] >= want[1..]
}

#[test]
fn the_readme_names_the_versions_the_lockfile_holds() {
    let lock = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.lock"))
        .expect("Cargo.lock");
    let requirements = readme_requirements();
    let named: Vec<&str> = requirements.iter().map(|(n, _)| n.as_str()).collect();
    for needed in ["instrument", "opentelemetry", "tokio", "axum", "sqlx"] {
        assert!(
            named.contains(&needed),
            "the block names {needed}: {named:?}"
        );
    }
    for (name, requirement) in &requirements {
        let locked = locked_versions(&lock, name);
        assert!(
            !locked.is_empty(),
            "{name} is not in the workspace's lockfile"
        );
        assert!(
            locked.iter().any(|v| satisfies(v, requirement)),
            "README asks for {name} = \"{requirement}\", the lockfile holds {locked:?}"
        );
    }
}

#[test]
fn caret_requirements_read_as_cargo_reads_them() {
    assert!(satisfies("0.33.1", "0.33"));
    assert!(!satisfies("0.34.0", "0.33"));
    assert!(!satisfies("0.8.1", "0.9"));
    assert!(satisfies("1.54.1", "1"));
    assert!(satisfies("2.3.14", "2.3"));
    assert!(!satisfies("2.2.0", "2.3"));
    assert!(!satisfies("3.0.0", "2.3"));
}
