//! The runner of the macros' trybuild cases (`tests/ui.rs`); it has no code of its own.
