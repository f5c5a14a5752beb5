//! Handing ended spans to the pipeline's processors: the spans of one drain together, so that
//! the batch queue takes them in one step (one lock, one count, no copy of each span through
//! every processor's call) instead of one `on_end` per span.

use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::trace::{SpanData, SpanProcessor};

use super::clock::Anchor;
use super::span_record::SpanRecord;

/// Most spans made into span data and handed over at a time: their vector (about 100 KiB) stays
/// a block the allocator keeps, not one it maps and unmaps.
const CHUNK: usize = 256;

/// The pipeline's processors as the toolkit's sink hands them ended spans.
pub(crate) trait EndedSpanSink: SpanProcessor {
    /// Hands `spans` over in the order they ended, leaving the vector empty with its room: what
    /// [`SpanProcessor::on_end`] with each one does.
    fn on_end_all(&self, spans: &mut Vec<SpanData>) {
        for span in spans.drain(..) {
            self.on_end(span);
        }
    }
}

/// Hands `records` to `processor` in order, each made into the SDK's span data (its times made
/// wall-clock times against `anchor`) in `staged` (left empty with its room) and left empty.
pub(crate) fn deliver_all(
    processor: &dyn EndedSpanSink,
    staged: &mut Vec<SpanData>,
    records: &mut [Box<SpanRecord>],
    scope: &InstrumentationScope,
    anchor: &Anchor,
) {
    // Left by a pass that panicked half-way (the lock ignores poisoning): those spans are lost,
    // as a panicking pass loses its own, not delivered ahead of this pass's.
    staged.clear();
    for chunk in records.chunks_mut(CHUNK) {
        staged.extend(
            chunk
                .iter_mut()
                .map(|record| record.take_span_data(scope.clone(), anchor)),
        );
        processor.on_end_all(staged);
        staged.clear();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use opentelemetry::Context;
    use opentelemetry::trace::{SpanContext, SpanKind};
    use opentelemetry_sdk::error::OTelSdkResult;
    use opentelemetry_sdk::trace::Span;

    use super::*;

    /// Records the names it is handed and the size of each hand-over.
    #[derive(Debug, Default)]
    struct Seen {
        names: Mutex<Vec<String>>,
        calls: Mutex<Vec<usize>>,
    }

    impl SpanProcessor for Seen {
        fn on_start(&self, _span: &mut Span, _cx: &Context) {}
        fn on_end(&self, span: SpanData) {
            self.names.lock().unwrap().push(span.name.into_owned());
        }
        fn force_flush(&self) -> OTelSdkResult {
            Ok(())
        }
        fn shutdown_with_timeout(&self, _timeout: std::time::Duration) -> OTelSdkResult {
            Ok(())
        }
    }

    impl EndedSpanSink for Seen {
        fn on_end_all(&self, spans: &mut Vec<SpanData>) {
            self.calls.lock().unwrap().push(spans.len());
            for span in spans.drain(..) {
                self.on_end(span);
            }
        }
    }

    fn record(name: String) -> Box<SpanRecord> {
        Box::new(SpanRecord::new(
            SpanContext::empty_context(),
            &SpanContext::empty_context(),
            SpanKind::Internal,
            name.into(),
            None,
            Vec::new(),
            128,
        ))
    }

    #[test]
    fn records_are_handed_over_in_order_in_chunks_and_left_empty() {
        let mut records: Vec<_> = (0..CHUNK + 3).map(|i| record(format!("s{i}"))).collect();
        let seen = Seen::default();
        let scope = InstrumentationScope::builder("t").build();
        let mut staged = Vec::new();
        deliver_all(&seen, &mut staged, &mut records, &scope, &Anchor::now());
        let names = seen.names.lock().unwrap().clone();
        let expected: Vec<String> = (0..CHUNK + 3).map(|i| format!("s{i}")).collect();
        assert_eq!(names, expected);
        assert_eq!(*seen.calls.lock().unwrap(), [CHUNK, 3]);
        assert!(records.iter().all(|record| record.name.is_empty()));
    }
}
