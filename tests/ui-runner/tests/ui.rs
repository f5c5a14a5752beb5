//! The macros' compile-time contract, checked with trybuild on the cases in the workspace's
//! `tests/ui/`: misuse gives a precise error on the offending token (`fail_*`), and every body
//! shape expands without a warning under `#![deny(warnings)]` (`pass_*`). The runner lives in
//! a crate of its own so that trybuild is not a dependency of the facade's builds, and so that
//! trybuild's build of the cases compiles the facade without the integrations.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("../ui/fail/*.rs");
    cases.pass("../ui/pass/*.rs");
}
