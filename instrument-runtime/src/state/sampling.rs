//! The head sampler of the toolkit's own spans. The SDK's standard samplers (`AlwaysOn`,
//! `AlwaysOff`, `TraceIdRatioBased`, `ParentBased` over each) are decided here without calling
//! them: the same decision and trace state as their `should_sample`, without building its
//! parent context, attribute list and result (which cost ~500 instructions a span). Any other
//! sampler (a user's own `ShouldSample`) is called as the SDK would call it.
//!
//! `ParentBased` holds its root sampler as a `Box<dyn ShouldSample>`, which cannot be
//! downcast: the root is known by its `Debug` text, accepted only when it is exactly the text of
//! the standard sampler it names (`AlwaysOn`, `TraceIdRatioBased(0.25)`, ...).

use std::any::Any;

use opentelemetry::trace::{SpanContext, TraceId};
use opentelemetry_sdk::trace::{Sampler, ShouldSample};

/// A head sampler: the one the provider runs for the SDK's own spans, and how the toolkit's
/// spans take the same decision.
#[derive(Clone, Debug)]
pub(crate) struct HeadSampler {
    /// What the SDK's provider is given.
    pub(crate) sdk: Box<dyn ShouldSample>,
    /// The decision taken natively; `None` for a sampler that must be called.
    pub(crate) standard: Option<Standard>,
}

/// A standard sampler, decided natively.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Standard {
    AlwaysOn,
    AlwaysOff,
    /// `TraceIdRatioBased`: sampled when the trace id's low 63 bits are below the bound.
    Ratio {
        upper_bound: u64,
        always: bool,
    },
    /// `ParentBased` over a root sampler.
    ParentBased(Box<Standard>),
}

impl Default for HeadSampler {
    /// The SDK's default, `ParentBased(AlwaysOn)`.
    fn default() -> Self {
        Self::new(Sampler::ParentBased(Box::new(Sampler::AlwaysOn)))
    }
}

impl HeadSampler {
    /// `sampler`, decided natively when it is one of the SDK's standard samplers.
    pub(crate) fn new<S: ShouldSample + 'static>(sampler: S) -> Self {
        let standard = (&sampler as &dyn Any)
            .downcast_ref::<Sampler>()
            .and_then(Standard::of);
        Self {
            sdk: Box::new(sampler),
            standard,
        }
    }
}

impl Standard {
    fn of(sampler: &Sampler) -> Option<Self> {
        Some(match sampler {
            Sampler::AlwaysOn => Self::AlwaysOn,
            Sampler::AlwaysOff => Self::AlwaysOff,
            Sampler::TraceIdRatioBased(ratio) => Self::Ratio {
                // The SDK's bound, computed as it computes it.
                upper_bound: (ratio.max(0.0) * (1u64 << 63) as f64) as u64,
                always: *ratio >= 1.0,
            },
            Sampler::ParentBased(root) => {
                Self::ParentBased(Box::new(Self::named(&format!("{root:?}"))?))
            }
            _ => return None,
        })
    }

    /// The standard sampler whose `Debug` text is exactly `text`.
    fn named(text: &str) -> Option<Self> {
        let sampler = match text {
            "AlwaysOn" => Sampler::AlwaysOn,
            "AlwaysOff" => Sampler::AlwaysOff,
            _ => {
                if let Some(ratio) = text
                    .strip_prefix("TraceIdRatioBased(")
                    .and_then(|rest| rest.strip_suffix(')'))
                {
                    Sampler::TraceIdRatioBased(ratio.parse().ok()?)
                } else {
                    let root = text
                        .strip_prefix("ParentBased(")
                        .and_then(|rest| rest.strip_suffix(')'))?;
                    return Some(Self::ParentBased(Box::new(Self::named(root)?)));
                }
            }
        };
        (format!("{sampler:?}") == text).then(|| Self::of(&sampler))?
    }

    /// Whether a span of `trace_id` is sampled, under `parent` when `has_parent` (the parent
    /// context holds a span, valid or not, as the SDK's `has_active_span` says).
    #[inline]
    pub(crate) fn sampled(
        &self,
        has_parent: bool,
        parent: &SpanContext,
        trace_id: TraceId,
    ) -> bool {
        match self {
            Self::AlwaysOn => true,
            Self::AlwaysOff => false,
            Self::Ratio {
                upper_bound,
                always,
            } => {
                *always || {
                    let low =
                        u64::from_be_bytes(trace_id.to_bytes()[8..].try_into().expect("8 bytes"));
                    (low >> 1) < *upper_bound
                }
            }
            Self::ParentBased(_) if has_parent => parent.is_sampled(),
            Self::ParentBased(root) => root.sampled(false, parent, trace_id),
        }
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::Context;
    use opentelemetry::trace::{SpanId, SpanKind, TraceContextExt, TraceFlags, TraceState};
    use opentelemetry_sdk::trace::SamplingDecision;

    use super::*;

    fn samplers() -> Vec<Sampler> {
        let mut all = Vec::new();
        for root in [
            Sampler::AlwaysOn,
            Sampler::AlwaysOff,
            Sampler::TraceIdRatioBased(0.0),
            Sampler::TraceIdRatioBased(0.25),
            Sampler::TraceIdRatioBased(0.5),
            Sampler::TraceIdRatioBased(1.0),
            Sampler::TraceIdRatioBased(-1.0),
        ] {
            all.push(Sampler::ParentBased(Box::new(root.clone())));
            all.push(root);
        }
        all
    }

    #[test]
    fn standard_samplers_decide_as_the_sdk_does() {
        let parents = [
            None,
            Some(SpanContext::new(
                TraceId::from(3),
                SpanId::from(4),
                TraceFlags::SAMPLED,
                true,
                TraceState::default(),
            )),
            Some(SpanContext::new(
                TraceId::from(3),
                SpanId::from(4),
                TraceFlags::default(),
                false,
                TraceState::default(),
            )),
            Some(SpanContext::empty_context()),
        ];
        let mut checked = 0;
        for sampler in samplers() {
            let head = HeadSampler::new(sampler.clone());
            let standard = head.standard.as_ref().expect("a standard sampler");
            for parent in &parents {
                let cx = match parent {
                    Some(sc) => Context::new().with_remote_span_context(sc.clone()),
                    None => Context::new(),
                };
                for seed in 0..500u128 {
                    let trace_id = TraceId::from(
                        seed.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835) | 1,
                    );
                    let sdk = sampler
                        .should_sample(Some(&cx), trace_id, "s", &SpanKind::Internal, &[], &[])
                        .decision
                        == SamplingDecision::RecordAndSample;
                    let span = cx.span();
                    let ours =
                        standard.sampled(cx.has_active_span(), span.span_context(), trace_id);
                    assert_eq!(ours, sdk, "{sampler:?} under {parent:?}, trace {trace_id}");
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 14 * 4 * 500);
    }

    #[derive(Clone, Debug)]
    struct Mine;

    impl ShouldSample for Mine {
        fn should_sample(
            &self,
            _: Option<&Context>,
            _: TraceId,
            _: &str,
            _: &SpanKind,
            _: &[opentelemetry::KeyValue],
            _: &[opentelemetry::trace::Link],
        ) -> opentelemetry_sdk::trace::SamplingResult {
            opentelemetry_sdk::trace::SamplingResult {
                decision: SamplingDecision::Drop,
                attributes: Vec::new(),
                trace_state: TraceState::default(),
            }
        }
    }

    #[test]
    fn a_users_own_sampler_is_called() {
        assert_eq!(HeadSampler::new(Mine).standard, None);
        assert_eq!(
            HeadSampler::new(Sampler::ParentBased(Box::new(Mine))).standard,
            None
        );
        assert_eq!(
            HeadSampler::new(Sampler::ParentBased(Box::new(Sampler::ParentBased(
                Box::new(Sampler::TraceIdRatioBased(0.1))
            ))))
            .standard,
            Some(Standard::ParentBased(Box::new(Standard::ParentBased(
                Box::new(Standard::Ratio {
                    upper_bound: (0.1 * (1u64 << 63) as f64) as u64,
                    always: false
                })
            ))))
        );
        assert_eq!(
            HeadSampler::default().standard,
            Some(Standard::ParentBased(Box::new(Standard::AlwaysOn)))
        );
    }
}
