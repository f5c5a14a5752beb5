//! The `static` metadata every `#[trace_method]` expansion emits, and what is derived from it
//! once per call site (parameter treatments).

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};

use opentelemetry::trace::SpanKind;

use crate::call_name::CallName;
use crate::capture::{CaptureConfig, ParamRule, Treatment};
use crate::state::CallSiteSwitch;

/// One parameter of an instrumented function, as the macro saw it.
#[derive(Debug)]
pub struct ParamMeta {
    /// The parameter's name in the source.
    pub name: &'static str,
    /// Its attribute key, `parameter.<name>`.
    pub key: &'static str,
    /// What the macro's `exclude`/`include` said about it.
    pub rule: ParamRule,
}

/// Call-site metadata of an instrumented function. Built in a `static` by the macro.
#[derive(Debug)]
pub struct SpanMeta {
    name: CallName,
    file: &'static str,
    line: u32,
    kind: SpanKind,
    params: &'static [ParamMeta],
    treatments: AtomicU64,
    switch: CallSiteSwitch,
}

/// Treatments of the first `CACHED_PARAMS` parameters are cached, two bits each.
const CACHED_PARAMS: usize = 16;

impl SpanMeta {
    /// Metadata of a function whose span name and path are known at compile time.
    pub const fn new(
        name: &'static str,
        function: &'static str,
        file: &'static str,
        line: u32,
        kind: SpanKind,
        params: &'static [ParamMeta],
    ) -> Self {
        Self::with_name(CallName::fixed(name, function), file, line, kind, params)
    }

    /// Metadata of a method named `{Self}.{method}` (or `name`, when given), where `Self` is
    /// resolved at run time from the type name the call site passes.
    pub const fn method_of_self(
        method: &'static str,
        name: Option<&'static str>,
        file: &'static str,
        line: u32,
        kind: SpanKind,
        params: &'static [ParamMeta],
    ) -> Self {
        Self::with_name(CallName::of_self(method, name), file, line, kind, params)
    }

    const fn with_name(
        name: CallName,
        file: &'static str,
        line: u32,
        kind: SpanKind,
        params: &'static [ParamMeta],
    ) -> Self {
        Self {
            name,
            file,
            line,
            kind,
            params,
            treatments: AtomicU64::new(0),
            switch: CallSiteSwitch::new(),
        }
    }

    /// Whether the call site is known not to record (telemetry is off and the site has run
    /// before): the off path's one test, on the call site's own static.
    #[inline(always)]
    pub fn is_off(&self) -> bool {
        self.switch.is_off()
    }

    /// Whether the call site records now (registering its switch on its first run).
    #[inline]
    pub(crate) fn records(&'static self) -> bool {
        self.switch.records()
    }

    /// The parameters, in signature order.
    pub fn params(&self) -> &'static [ParamMeta] {
        self.params
    }

    /// Source file of the function.
    pub fn file(&self) -> &'static str {
        self.file
    }

    /// Source line of the function.
    pub fn line(&self) -> u32 {
        self.line
    }

    /// Span kind.
    pub fn kind(&self) -> SpanKind {
        self.kind.clone()
    }

    /// The span name and `code.function.name` for a call with `Self = self_type`.
    pub fn names(
        &'static self,
        self_type: Option<&'static str>,
    ) -> (Cow<'static, str>, Cow<'static, str>) {
        self.name.resolve(self_type)
    }

    /// The treatment of parameter `index` under the configuration in force, cached per call
    /// site until the configuration changes.
    #[inline]
    pub(crate) fn treatment(
        &self,
        index: usize,
        generation: u32,
        config: &CaptureConfig,
    ) -> Treatment {
        let param = &self.params[index];
        if index >= CACHED_PARAMS {
            return Treatment::decide(param.name, param.rule, config);
        }
        let mut cached = self.treatments.load(Ordering::Relaxed);
        if (cached >> 32) as u32 != generation {
            cached = self.decide_all(generation, config);
        }
        decode((cached >> (index * 2)) & 0b11)
    }

    /// The treatments of every parameter when all are cached for configuration `generation`:
    /// the call then needs nothing else of the configuration but its limits.
    #[inline]
    pub(crate) fn cached_treatments(&self, generation: u32) -> Option<CachedTreatments> {
        if self.params.len() > CACHED_PARAMS {
            return None;
        }
        let cached = self.treatments.load(Ordering::Relaxed);
        ((cached >> 32) as u32 == generation).then_some(CachedTreatments(cached))
    }

    fn decide_all(&self, generation: u32, config: &CaptureConfig) -> u64 {
        let mut bits = u64::from(generation) << 32;
        for (i, param) in self.params.iter().take(CACHED_PARAMS).enumerate() {
            bits |= encode(Treatment::decide(param.name, param.rule, config)) << (i * 2);
        }
        self.treatments.store(bits, Ordering::Relaxed);
        bits
    }
}

/// The treatments of a call site's parameters, as cached for one configuration generation.
#[derive(Clone, Copy)]
pub(crate) struct CachedTreatments(u64);

impl CachedTreatments {
    /// The treatment of parameter `index`.
    #[inline]
    pub(crate) fn get(self, index: usize) -> Treatment {
        decode((self.0 >> (index * 2)) & 0b11)
    }
}

fn encode(treatment: Treatment) -> u64 {
    match treatment {
        Treatment::Record => 0,
        Treatment::Exclude => 1,
        Treatment::Redact => 2,
    }
}

/// Treatments by their two bits: a table lookup, not a branch per treatment.
const DECODED: [Treatment; 4] = [
    Treatment::Record,
    Treatment::Exclude,
    Treatment::Redact,
    Treatment::Record,
];

#[inline]
fn decode(bits: u64) -> Treatment {
    DECODED[(bits & 0b11) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    static PARAMS: [ParamMeta; 3] = [
        ParamMeta {
            name: "agent_id",
            key: "parameter.agent_id",
            rule: ParamRule::Default,
        },
        ParamMeta {
            name: "messages",
            key: "parameter.messages",
            rule: ParamRule::Default,
        },
        ParamMeta {
            name: "token",
            key: "parameter.token",
            rule: ParamRule::Include,
        },
    ];
    static META: SpanMeta =
        SpanMeta::method_of_self("step", None, "lib.rs", 7, SpanKind::Internal, &PARAMS);

    #[test]
    fn treatments_are_cached_per_generation() {
        let config = CaptureConfig::default();
        assert_eq!(META.treatment(0, 5, &config), Treatment::Record);
        assert_eq!(META.treatment(1, 5, &config), Treatment::Exclude);
        assert_eq!(META.treatment(2, 5, &config), Treatment::Redact);
        let open = CaptureConfig {
            excluded_by_default: vec![],
            ..CaptureConfig::default()
        };
        assert_eq!(META.treatment(1, 6, &open), Treatment::Record);
    }
}
