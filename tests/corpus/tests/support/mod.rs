//! The corpus instantiated under each option of the macros, shared by the test binaries, and the
//! comparison with the plain corpus.

/// `#[trace_method]` on every shape.
pub mod traced {
    instrument_corpus::corpus! {
        all: [#[instrument::trace_method]],
        x: [#[instrument::trace_method]],
        result: [#[instrument::trace_method]],
    }
}

/// `#[trace_method(skip_all)]` on every shape.
pub mod skip_all {
    instrument_corpus::corpus! {
        all: [#[instrument::trace_method(skip_all)]],
        x: [#[instrument::trace_method(skip_all)]],
        result: [#[instrument::trace_method(skip_all)]],
    }
}

/// `#[trace_method(name = .., kind = ..)]` on every shape.
pub mod named {
    instrument_corpus::corpus! {
        all: [#[instrument::trace_method(name = "corpus.shape", kind = "client")]],
        x: [#[instrument::trace_method(name = "corpus.shape", kind = "client")]],
        result: [#[instrument::trace_method(name = "corpus.shape", kind = "client")]],
    }
}

/// `#[trace_method(exclude = [x])]` on the shapes with a parameter `x`.
pub mod exclude {
    instrument_corpus::corpus! {
        all: [#[instrument::trace_method]],
        x: [#[instrument::trace_method(exclude = [x])]],
        result: [#[instrument::trace_method]],
    }
}

/// `#[metric]` on every shape, `err` on the Result shapes.
pub mod metric {
    instrument_corpus::corpus! {
        all: [#[instrument::metric(counter = "corpus_calls")]],
        x: [#[instrument::metric(counter = "corpus_calls")]],
        result: [#[instrument::metric(histogram = "corpus_ms", err)]],
    }
}

/// `#[trace_method]` above `#[metric]`.
pub mod traced_then_metric {
    instrument_corpus::corpus! {
        all: [#[instrument::trace_method] #[instrument::metric(counter = "corpus_calls")]],
        x: [#[instrument::trace_method] #[instrument::metric(counter = "corpus_calls")]],
        result: [#[instrument::trace_method] #[instrument::metric(histogram = "corpus_ms", err)]],
    }
}

/// `#[metric]` above `#[trace_method]`.
pub mod metric_then_traced {
    instrument_corpus::corpus! {
        all: [#[instrument::metric(counter = "corpus_calls")] #[instrument::trace_method]],
        x: [#[instrument::metric(counter = "corpus_calls")] #[instrument::trace_method]],
        result: [#[instrument::metric(histogram = "corpus_ms", err)] #[instrument::trace_method]],
    }
}

/// What `run_all` returns.
pub type Rows = Vec<(&'static str, String)>;

/// Fails, listing every shape whose observations differ, unless `got` is what the plain corpus
/// returns.
pub fn assert_same_as_plain(variant: &str, got: &Rows) {
    let want = instrument_corpus::plain::run_all();
    let mut differences = Vec::new();
    for (index, (got_row, want_row)) in got.iter().zip(&want).enumerate() {
        if got_row != want_row {
            differences.push(format!(
                "  #{index} {}\n    instrumented: {}\n    plain:        {}",
                got_row.0, got_row.1, want_row.1
            ));
        }
    }
    if got.len() != want.len() {
        differences.push(format!(
            "  {} rows instrumented, {} plain",
            got.len(),
            want.len()
        ));
    }
    assert!(
        differences.is_empty(),
        "variant `{variant}` differs from the plain corpus:\n{}",
        differences.join("\n")
    );
}
