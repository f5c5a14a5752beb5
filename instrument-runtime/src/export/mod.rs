//! The export pipeline, below setup: the batch processor the toolkit puts in front of every
//! exporter (counting each span, bounding the queue, delivering batches and retrying failed
//! ones), the accounting of what was exported, refused or shed, the diagnosis of a failing
//! collector, tail sampling, the processors that hand the toolkit's records to the provider and
//! add the request-context attributes, and the file exporter. Setup builds it from the
//! configuration; nothing here reads the configuration itself.

mod batch;
mod context_attributes;
mod delivery;
mod diagnose;
#[cfg(feature = "otlp")]
mod empty_histograms;
#[cfg(feature = "file")]
mod file;
mod queue;
mod shared_processor;
mod stats;
mod tail_sampling;
mod target;

pub(crate) use batch::{BatchSettings, CountingMetricExporter, CountingProcessor, accounted_batch};
pub use batch::{DEFAULT_MAX_EXPORT_BATCH_SIZE, DEFAULT_SCHEDULED_DELAY};
pub(crate) use context_attributes::WithContextAttributes;
#[cfg(feature = "otlp")]
pub(crate) use diagnose::record_transport_failure;
#[cfg(feature = "otlp")]
pub(crate) use empty_histograms::{WithoutEmptyMinMax, clear_empty_min_max};
#[cfg(feature = "file")]
pub(crate) use file::FileExporter;
pub use queue::{DEFAULT_MAX_QUEUE_SIZE, MAX_QUEUED_BYTES};
pub(crate) use shared_processor::SharedProcessor;
pub(crate) use stats::report_drops;
pub use stats::{ExportStats, export_stats};
pub use tail_sampling::TailSampling;
pub(crate) use tail_sampling::install as install_tail_sampling;
#[cfg(feature = "otlp")]
pub(crate) use target::ExportTarget;
pub use target::Protocol;
