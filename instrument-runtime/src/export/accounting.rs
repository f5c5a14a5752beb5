//! What the export processors and metric readers of one pipeline share: its export counters,
//! its tail sampling and the causes of its transport failures. Setup makes one per pipeline and hands it to each processor it builds.

use std::sync::Arc;

use super::diagnose::TransportFailures;
use super::stats::ExportCounters;
use super::tail_sampling::{TailSampler, TailSampling};

/// One pipeline's export accounting.
#[derive(Clone, Debug)]
pub(crate) struct Accounting {
    pub(crate) counters: Arc<ExportCounters>,
    pub(crate) tail: Arc<TailSampler>,
    /// The causes of its HTTP exporters' transport failures, for the refusal reports.
    pub(crate) transport: Arc<TransportFailures>,
}

impl Accounting {
    /// The accounting of a pipeline counting into `counters`, with `tail` in force.
    pub(crate) fn new(counters: Arc<ExportCounters>, tail: Option<TailSampling>) -> Self {
        Self {
            tail: Arc::new(TailSampler::new(tail, counters.clone())),
            counters,
            transport: Arc::default(),
        }
    }
}
