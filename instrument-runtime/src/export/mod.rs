//! The export pipeline, below setup: the batch processor the toolkit puts in front of every
//! exporter (counting each span, bounding the queue, delivering batches and retrying failed
//! ones), the accounting of what was exported, refused or shed, the diagnosis of a failing
//! collector, tail sampling, the processors that hand the toolkit's records to the provider and
//! add the request-context attributes, and the file exporter. Setup builds it from the
//! configuration; nothing here reads the configuration itself.

mod accounting;
mod batch;
mod batch_queue;
mod context_attributes;
mod delivery;
mod diagnose;
#[cfg(feature = "otlp")]
mod empty_histograms;
mod error;
#[cfg(feature = "file")]
mod file;
#[cfg(feature = "otlp")]
mod grpc_metrics;
mod guard;
#[cfg(feature = "otlp")]
pub(crate) mod otlp;
#[cfg(all(feature = "otlp", feature = "tracing"))]
pub(crate) mod otlp_logs;
mod queue;
mod shared_processor;
mod stats;
mod tail_sampling;
mod target;
#[cfg(feature = "tls")]
mod tls;
mod workers;

pub(crate) use accounting::Accounting;
pub(crate) use batch::{BatchSettings, CountingMetricExporter, CountingProcessor, accounted_batch};
pub use batch::{DEFAULT_MAX_EXPORT_BATCH_SIZE, DEFAULT_SCHEDULED_DELAY};
pub(crate) use context_attributes::WithContextAttributes;
pub use error::SetupError;
#[cfg(feature = "file")]
pub(crate) use file::FileExporter;
pub(crate) use guard::ExporterRuntime;
pub use guard::{DEFAULT_SHUTDOWN_TIMEOUT, TelemetryGuard};
pub use queue::{DEFAULT_MAX_QUEUE_SIZE, MAX_QUEUED_BYTES};
pub(crate) use shared_processor::SharedProcessor;
pub(crate) use stats::ExportCounters;
pub use stats::{ExportStats, export_stats};
pub use tail_sampling::TailSampling;
#[cfg(feature = "otlp")]
pub(crate) use target::ExportTarget;
pub(crate) use target::OtlpTarget;
pub use target::Protocol;
