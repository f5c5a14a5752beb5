//! The points of each operation, into a provider of the test's own: recorded through bound
//! instruments where no request-context attribute is in force, with the attributes where they
//! are; the semantic-convention metric names checked against the crate's constants.

use std::cell::OnceCell;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::{Context, KeyValue, StringValue};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};

use super::recorder::{BoundGenAi, Recorder};
use super::*;

/// Every point exported: (metric name, sorted attributes, sum or value, count).
type Exported = Vec<(String, Vec<(String, String)>, f64, u64)>;

fn exported(provider: &SdkMeterProvider, exporter: &InMemoryMetricExporter) -> Exported {
    provider.force_flush().unwrap();
    let mut out = Vec::new();
    for resource in exporter.get_finished_metrics().unwrap() {
        for metric in resource.scope_metrics().flat_map(|scope| scope.metrics()) {
            let name = metric.name().to_owned();
            let mut push = |attributes: Vec<&KeyValue>, value: f64, count: u64| {
                let mut attributes: Vec<(String, String)> = attributes
                    .into_iter()
                    .map(|kv| (kv.key.to_string(), kv.value.to_string()))
                    .collect();
                attributes.sort();
                out.push((name.clone(), attributes, value, count));
            };
            match metric.data() {
                AggregatedMetrics::F64(MetricData::Histogram(h)) => h
                    .data_points()
                    .for_each(|p| push(p.attributes().collect(), p.sum(), p.count())),
                AggregatedMetrics::U64(MetricData::Histogram(h)) => h
                    .data_points()
                    .for_each(|p| push(p.attributes().collect(), p.sum() as f64, p.count())),
                AggregatedMetrics::U64(MetricData::Sum(s)) => s
                    .data_points()
                    .for_each(|p| push(p.attributes().collect(), p.value() as f64, 1)),
                _ => {}
            }
        }
    }
    out
}

fn pairs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    pairs.sort();
    pairs
}

#[test]
#[allow(deprecated)]
fn unscoped_calls_record_through_bound_instruments_and_scoped_ones_with_their_attributes() {
    let exporter = InMemoryMetricExporter::default();
    let provider = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(exporter.clone()).build())
        .build();
    let metrics = Arc::new(GenAiMetrics::new(&provider.meter("test")));
    let bound = BoundGenAi::default();
    let (provider_name, model) = (StringValue::from("openai"), StringValue::from("gpt-4o"));
    let server = (StringValue::from("api.openai.com"), 443);
    let points = ChatPoints {
        provider: &provider_name,
        request_model: &model,
        response_model: Some(&model),
        server: Some(&server),
        error: None,
        duration: Duration::from_millis(250),
        first_chunk: None,
        usage: Some((42, 9)),
    };
    let unscoped = Context::new();
    let recorder = Recorder::new(OnceCell::from(metrics.clone()), &bound, &unscoped);
    assert!(recorder.bound.is_some(), "no context attributes: bound");
    recorder.chat(&points);
    recorder.chat(&points);
    let streamed_model = StringValue::from("gpt-4o-stream");
    recorder.chat(&ChatPoints {
        response_model: Some(&streamed_model),
        first_chunk: Some(Duration::from_millis(40)),
        ..points
    });
    // Back to the first set: the thread's last set changes again.
    recorder.chat(&points);
    let name = StringValue::from("calculator");
    recorder.tool(&ToolPoints {
        name: &name,
        success: true,
        step_id: None,
        duration: Duration::from_millis(2),
    });
    recorder.step(Duration::from_millis(300));
    recorder.user_message();
    let scoped =
        crate::context::with_scope(&Context::new(), [KeyValue::new("organization.id", "org-1")]);
    let recorder = Recorder::new(OnceCell::from(metrics), &bound, &scoped);
    assert!(
        recorder.bound.is_none(),
        "context attributes: recorded with them"
    );
    recorder.chat(&points);

    let exported = exported(&provider, &exporter);
    let find = |name: &str, attributes: &[(&str, &str)]| {
        let attributes = pairs(attributes);
        exported
            .iter()
            .find(|(n, a, ..)| n == name && *a == attributes)
            .map(|(_, _, value, count)| (*value, *count))
            .unwrap_or_else(|| panic!("{name} {attributes:?} in {exported:#?}"))
    };
    let semconv = [
        ("gen_ai.operation.name", "chat"),
        ("gen_ai.provider.name", "openai"),
        ("gen_ai.request.model", "gpt-4o"),
        ("gen_ai.response.model", "gpt-4o"),
        ("server.address", "api.openai.com"),
        ("server.port", "443"),
    ];
    use opentelemetry_semantic_conventions::metric::{
        GEN_AI_CLIENT_OPERATION_DURATION, GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK,
        GEN_AI_CLIENT_TOKEN_USAGE,
    };
    let (sum, count) = find(GEN_AI_CLIENT_OPERATION_DURATION, &semconv);
    assert_eq!(count, 3);
    assert!((sum - 0.75).abs() < 1e-9, "{sum}");
    let with_type = |token_type| {
        let mut attributes = semconv.to_vec();
        attributes.push(("gen_ai.token.type", token_type));
        attributes
    };
    assert_eq!(
        find(GEN_AI_CLIENT_TOKEN_USAGE, &with_type("input")),
        (126.0, 3)
    );
    assert_eq!(
        find(GEN_AI_CLIENT_TOKEN_USAGE, &with_type("output")),
        (27.0, 3)
    );
    assert_eq!(
        find("hist_llm_execution_time_ms", &[("model.name", "gpt-4o")]),
        (1000.0, 4)
    );
    let mut streamed = semconv.to_vec();
    streamed[3] = ("gen_ai.response.model", "gpt-4o-stream");
    let (first, count) = find(GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK, &streamed);
    assert_eq!(count, 1);
    assert!((first - 0.04).abs() < 1e-9, "{first}");
    assert_eq!(find("hist_ttft_ms", &[("model.name", "gpt-4o")]), (40.0, 1));
    let ok = [
        ("tool.name", "calculator"),
        ("tool.execution_success", "true"),
    ];
    assert_eq!(find("count_tool_execution", &ok), (1.0, 1));
    assert_eq!(
        find(
            "hist_tool_execution_time_ms",
            &[("tool.name", "calculator")]
        ),
        (2.0, 1)
    );
    assert_eq!(find("hist_step_execution_time_ms", &[]), (300.0, 1));
    assert_eq!(find("count_user_message", &[]), (1.0, 1));
    let mut scoped_semconv = semconv.to_vec();
    scoped_semconv.push(("organization.id", "org-1"));
    assert_eq!(find(GEN_AI_CLIENT_OPERATION_DURATION, &scoped_semconv).1, 1);
    let first_chunks: Vec<_> = exported
        .iter()
        .filter(|(name, ..)| name == GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK)
        .collect();
    assert_eq!(
        first_chunks.len(),
        1,
        "only the streamed reply's set is bound and exported: {first_chunks:#?}"
    );
}
