//! What the toolkit keeps of one of its spans from its start to its export: ids, times, name,
//! the call site's `code.*` attributes and the parameters' text kept inline (no allocation for
//! them on the calling thread), other attributes, events, links and status. The collector thread
//! turns it into the SDK's `SpanData`, attributes in the order an SDK span would hold them.

use std::borrow::Cow;
use std::time::SystemTime;

use super::clock::{Anchor, Moment};
use super::inline_params::{INLINE_INTEGER_BYTES, INLINE_PARAMS, Inline, InlineParams};
use opentelemetry::trace::{Event, Link, SpanContext, SpanId, SpanKind, Status};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLimits, SpanLinks};
use opentelemetry_semantic_conventions::attribute::{
    CODE_FILE_PATH, CODE_FUNCTION_NAME, CODE_LINE_NUMBER,
};

/// Keeps the first `limit` of `attributes` and returns how many were dropped, as the SDK's span
/// limits do.
pub(crate) fn truncate_counting(attributes: &mut Vec<KeyValue>, limit: u32) -> u32 {
    let limit = limit as usize;
    let dropped = attributes.len().saturating_sub(limit) as u32;
    attributes.truncate(limit);
    dropped
}

/// The `code.*` attributes of an instrumented function's span.
#[derive(Debug)]
pub(crate) struct CodeLocation {
    pub(crate) function: Cow<'static, str>,
    pub(crate) file: &'static str,
    pub(crate) line: u32,
}

impl CodeLocation {
    /// `code.function.name`, `code.file.path`, `code.line.number`.
    pub(crate) fn attributes(&self) -> [KeyValue; 3] {
        [
            KeyValue::new(CODE_FUNCTION_NAME, self.function.clone()),
            KeyValue::new(CODE_FILE_PATH, self.file),
            KeyValue::new(CODE_LINE_NUMBER, i64::from(self.line)),
        ]
    }
}

/// A span of the toolkit, recording or ended.
#[derive(Debug)]
pub(crate) struct SpanRecord {
    pub(crate) span_context: SpanContext,
    pub(crate) parent_span_id: SpanId,
    pub(crate) parent_span_is_remote: bool,
    pub(crate) kind: SpanKind,
    pub(crate) name: Cow<'static, str>,
    pub(crate) start_time: Moment,
    pub(crate) end_time: Moment,
    pub(crate) code: Option<CodeLocation>,
    attributes: Vec<KeyValue>,
    dropped_attributes_count: u32,
    params: InlineParams,
    pub(crate) events: SpanEvents,
    pub(crate) links: SpanLinks,
    pub(crate) status: Status,
}

impl SpanRecord {
    /// A record holding nothing, to be started.
    pub(crate) fn blank() -> Self {
        Self {
            span_context: SpanContext::NONE,
            parent_span_id: SpanId::INVALID,
            parent_span_is_remote: false,
            kind: SpanKind::Internal,
            name: Cow::Borrowed(""),
            start_time: Moment::NONE,
            end_time: Moment::NONE,
            code: None,
            attributes: Vec::new(),
            dropped_attributes_count: 0,
            params: InlineParams::EMPTY,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: Status::Unset,
        }
    }

    /// A record started now (see [`SpanRecord::start`]).
    #[cfg(test)]
    pub(crate) fn new(
        span_context: SpanContext,
        parent: &SpanContext,
        kind: SpanKind,
        name: Cow<'static, str>,
        code: Option<CodeLocation>,
        attributes: Vec<KeyValue>,
        limit: usize,
    ) -> Self {
        let mut record = Self::blank();
        record.start(span_context, parent, kind, name, code, attributes, limit);
        record
    }

    /// Starts this record (blank, or emptied by [`SpanRecord::take_span_data`]) now, in place,
    /// with `attributes` after its `code.*` ones, dropping those past `limit` attributes in all.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    pub(crate) fn start(
        &mut self,
        span_context: SpanContext,
        parent: &SpanContext,
        kind: SpanKind,
        name: Cow<'static, str>,
        code: Option<CodeLocation>,
        mut attributes: Vec<KeyValue>,
        limit: usize,
    ) {
        let room = limit.saturating_sub(if code.is_some() { 3 } else { 0 });
        self.dropped_attributes_count = truncate_counting(&mut attributes, room as u32);
        self.span_context = span_context;
        self.parent_span_id = parent.span_id();
        self.parent_span_is_remote = parent.is_remote();
        self.kind = kind;
        self.name = name;
        self.start_time = Moment::now();
        self.end_time = Moment::NONE;
        self.code = code;
        if attributes.capacity() == 0 {
            // The usual start (no request-context attributes): the emptied list is kept, and
            // nothing is dropped (the empty list given owns no memory: forgetting it skips its
            // drop glue, which is not inlined).
            std::mem::forget(attributes);
            if !self.attributes.is_empty() {
                self.attributes.clear();
            }
        } else {
            self.attributes = attributes;
        }
        self.params.clear();
        self.events.events.clear();
        self.events.dropped_count = 0;
        self.links.links.clear();
        self.links.dropped_count = 0;
        self.status = Status::Unset;
    }

    /// Attributes held.
    fn attribute_count(&self) -> usize {
        usize::from(self.code.is_some()) * 3 + self.params.count() + self.attributes.len()
    }

    /// Adds `attribute` unless the record holds `limit` attributes already (then counts it as
    /// dropped).
    pub(crate) fn push_attribute(&mut self, attribute: KeyValue, limit: usize) {
        if self.attribute_count() < limit {
            self.attributes.push(attribute);
        } else {
            self.dropped_attributes_count += 1;
        }
    }

    /// Adds a parameter's attribute (`text` is UTF-8), its text inline when there is room for
    /// it and nothing was added since the last inline one (so the order is kept).
    pub(crate) fn push_param(&mut self, key: &'static str, text: &[u8], limit: usize) {
        if self.attribute_count() >= limit {
            self.dropped_attributes_count += 1;
            return;
        }
        if let Some(room) = self.param_room(limit)
            && let Some(target) = room.get_mut(..text.len())
        {
            target.copy_from_slice(text);
            self.commit_param(key, text.len());
        } else {
            let text = String::from_utf8_lossy(text).into_owned();
            self.attributes.push(KeyValue::new(key, text));
        }
    }

    /// The free inline text, when one more parameter may be kept inline: the record holds
    /// fewer than `limit` attributes and [`INLINE_PARAMS`] inline ones, and nothing was added
    /// since the last inline one (so the order is kept).
    pub(crate) fn param_room(&mut self, limit: usize) -> Option<&mut [u8]> {
        let in_order = self.params.count() == 0 || self.params.at() == self.attributes.len();
        if self.attribute_count() >= limit || self.params.count() >= INLINE_PARAMS || !in_order {
            return None;
        }
        Some(self.params.room())
    }

    /// Keeps the first `len` bytes of the [`param_room`](Self::param_room), UTF-8, as the
    /// text of parameter `key`.
    pub(crate) fn commit_param(&mut self, key: &'static str, len: usize) {
        self.commit_inline(key, len, Inline::Text);
    }

    /// Keeps the first [`INLINE_INTEGER_BYTES`] bytes of the [`param_room`](Self::param_room)
    /// as parameter `key`'s integer (an `i64`'s when `signed`, else a `u64`'s), its digits
    /// written when the span is converted.
    pub(crate) fn commit_integer_param(&mut self, key: &'static str, signed: bool) {
        let inline = if signed {
            Inline::Signed
        } else {
            Inline::Unsigned
        };
        self.commit_inline(key, INLINE_INTEGER_BYTES, inline);
    }

    fn commit_inline(&mut self, key: &'static str, len: usize, inline: Inline) {
        self.params.commit(key, len, inline, self.attributes.len());
    }

    /// Adds an event unless the record holds the limit of events (then counts it as dropped),
    /// keeping at most the limit of attributes per event.
    pub(crate) fn add_event(
        &mut self,
        name: Cow<'static, str>,
        timestamp: SystemTime,
        mut attributes: Vec<KeyValue>,
        limits: &SpanLimits,
    ) {
        if self.events.events.len() < limits.max_events_per_span as usize {
            let dropped = truncate_counting(&mut attributes, limits.max_attributes_per_event);
            self.events
                .events
                .push(Event::new(name, timestamp, attributes, dropped));
        } else {
            self.events.dropped_count += 1;
        }
    }

    /// Adds a link unless the record holds the limit of links (then counts it as dropped).
    pub(crate) fn add_link(
        &mut self,
        span_context: SpanContext,
        mut attributes: Vec<KeyValue>,
        limits: &SpanLimits,
    ) {
        if self.links.links.len() < limits.max_links_per_span as usize {
            let dropped = truncate_counting(&mut attributes, limits.max_attributes_per_link);
            self.links
                .links
                .push(Link::new(span_context, attributes, dropped));
        } else {
            self.links.dropped_count += 1;
        }
    }

    /// Sets the status: `Ok` over `Error` over `Unset`, as the SDK orders them.
    pub(crate) fn set_status(&mut self, status: Status) {
        if status > self.status {
            self.status = status;
        }
    }

    /// The attributes in the order they were recorded: the code location's, the ordinary ones
    /// before the inline parameters, the parameters, the rest. A record with neither code
    /// location nor inline parameters (the integrations' spans) hands its list over as it is.
    fn take_attributes(&mut self) -> Vec<KeyValue> {
        let code = self.code.take();
        let mut ordinary = std::mem::take(&mut self.attributes);
        if code.is_none() && self.params.count() == 0 {
            return ordinary;
        }
        let mut attributes = Vec::with_capacity(
            usize::from(code.is_some()) * 3 + self.params.count() + ordinary.len(),
        );
        if let Some(code) = code {
            attributes.extend(code.attributes());
        }
        let at = self.params.at().min(ordinary.len());
        attributes.extend(ordinary.drain(..at));
        attributes.extend((0..self.params.count()).map(|i| self.params.get(i)));
        attributes.append(&mut ordinary);
        attributes
    }

    /// The SDK's form of the ended span, its times made wall-clock times against `anchor`, taken
    /// out of the record, which is left empty for its box to be used again.
    pub(crate) fn take_span_data(
        &mut self,
        scope: InstrumentationScope,
        anchor: &Anchor,
    ) -> SpanData {
        let attributes = self.take_attributes();
        SpanData {
            span_context: self.span_context.clone(),
            parent_span_id: self.parent_span_id,
            parent_span_is_remote: self.parent_span_is_remote,
            span_kind: self.kind.clone(),
            name: std::mem::take(&mut self.name),
            start_time: self.start_time.to_system_time(anchor),
            end_time: self.end_time.to_system_time(anchor),
            attributes,
            dropped_attributes_count: self.dropped_attributes_count,
            events: std::mem::take(&mut self.events),
            links: std::mem::take(&mut self.links),
            status: std::mem::take(&mut self.status),
            instrumentation_scope: scope,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::inline_params::INLINE_TEXT_BYTES;
    use super::*;

    fn record(code: bool) -> SpanRecord {
        SpanRecord::new(
            SpanContext::empty_context(),
            &SpanContext::empty_context(),
            SpanKind::Internal,
            "r".into(),
            code.then(|| CodeLocation {
                function: "f".into(),
                file: "src/lib.rs",
                line: 7,
            }),
            vec![KeyValue::new("scoped", "s")],
            128,
        )
    }

    fn keys(data: &SpanData) -> Vec<&str> {
        data.attributes.iter().map(|kv| kv.key.as_str()).collect()
    }

    #[test]
    fn integers_kept_inline_become_their_digits_in_order() {
        let mut r = record(false);
        r.push_param("parameter.a", b"x", 128);
        for (key, bits, signed) in [
            ("parameter.n", u64::MAX, false),
            ("parameter.m", (-42i64) as u64, true),
        ] {
            let room = r.param_room(128).unwrap();
            room[..INLINE_INTEGER_BYTES].copy_from_slice(&bits.to_le_bytes());
            r.commit_integer_param(key, signed);
        }
        r.push_param("parameter.b", b"y", 128);
        let data = r.take_span_data(InstrumentationScope::builder("t").build(), &Anchor::now());
        let values: Vec<(&str, String)> = data
            .attributes
            .iter()
            .map(|kv| (kv.key.as_str(), kv.value.to_string()))
            .collect();
        assert_eq!(
            values,
            [
                ("scoped", "s".to_owned()),
                ("parameter.a", "x".to_owned()),
                ("parameter.n", u64::MAX.to_string()),
                ("parameter.m", "-42".to_owned()),
                ("parameter.b", "y".to_owned()),
            ]
        );
    }

    #[test]
    fn attributes_keep_the_order_they_were_added_in() {
        let mut r = record(true);
        r.push_param("parameter.a", b"1", 128);
        r.push_param("parameter.b", b"two", 128);
        r.push_attribute(KeyValue::new("error.type", "E"), 128);
        r.push_param("parameter.late", b"3", 128);
        let data = r.take_span_data(InstrumentationScope::builder("t").build(), &Anchor::now());
        assert_eq!(
            keys(&data),
            [
                CODE_FUNCTION_NAME,
                CODE_FILE_PATH,
                CODE_LINE_NUMBER,
                "scoped",
                "parameter.a",
                "parameter.b",
                "error.type",
                "parameter.late"
            ]
        );
        assert_eq!(data.attributes[5].value.as_str(), "two");
        assert_eq!(data.attributes[7].value.as_str(), "3");
    }

    #[test]
    fn long_or_many_parameters_become_ordinary_attributes_in_order() {
        let mut r = record(false);
        let long = "x".repeat(INLINE_TEXT_BYTES + 1);
        r.push_param("parameter.long", long.as_bytes(), 128);
        for i in 0..INLINE_PARAMS + 2 {
            r.push_param("parameter.n", i.to_string().as_bytes(), 128);
        }
        let data = r.take_span_data(InstrumentationScope::builder("t").build(), &Anchor::now());
        assert_eq!(data.attributes.len(), 1 + 1 + INLINE_PARAMS + 2);
        assert_eq!(data.attributes[1].value.as_str(), long);
        let texts: Vec<_> = data.attributes[2..]
            .iter()
            .map(|kv| kv.value.as_str().into_owned())
            .collect();
        let expected: Vec<String> = (0..INLINE_PARAMS + 2).map(|i| i.to_string()).collect();
        assert_eq!(texts, expected);
    }

    #[test]
    fn text_written_into_the_room_is_a_parameter_in_order() {
        let mut r = record(false);
        let room = r.param_room(128).expect("room in an empty record");
        assert_eq!(room.len(), INLINE_TEXT_BYTES);
        room[..2].copy_from_slice(b"42");
        r.commit_param("parameter.a", 2);
        assert_eq!(
            r.param_room(128).map(|room| room.len()),
            Some(INLINE_TEXT_BYTES - 2)
        );
        assert!(
            r.param_room(2).is_none(),
            "no room once the attribute limit is reached"
        );
        r.push_attribute(KeyValue::new("error.type", "E"), 128);
        assert!(
            r.param_room(128).is_none(),
            "an inline text would go before error.type"
        );
        let data = r.take_span_data(InstrumentationScope::builder("t").build(), &Anchor::now());
        assert_eq!(keys(&data), ["scoped", "parameter.a", "error.type"]);
        assert_eq!(data.attributes[1].value.as_str(), "42");
    }

    #[test]
    fn a_record_stays_small_enough_for_the_allocator_s_thread_cache() {
        assert!(
            std::mem::size_of::<SpanRecord>() <= 640,
            "{}",
            std::mem::size_of::<SpanRecord>()
        );
    }

    #[test]
    fn the_attribute_limit_counts_every_kind_of_attribute() {
        let mut r = record(true);
        r.push_param("parameter.a", b"1", 5);
        r.push_param("parameter.b", b"2", 5);
        r.push_attribute(KeyValue::new("x", 1), 5);
        let data = r.take_span_data(InstrumentationScope::builder("t").build(), &Anchor::now());
        assert_eq!(data.attributes.len(), 5);
        assert_eq!(data.dropped_attributes_count, 2);
    }
}
