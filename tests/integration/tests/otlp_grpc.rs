//! End to end: spans and metrics exported over real OTLP/gRPC to the test receiver
//! (`tests/support/receiver.rs`).

#[allow(dead_code)]
#[path = "support/receiver.rs"]
mod receiver;

use instrument::{KeyValue, Protocol, Telemetry, context, metric, trace_method};
use opentelemetry_proto::tonic::common::v1::{KeyValue as ProtoKeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use receiver::{Receiver, Wire};

fn text(attributes: &[ProtoKeyValue], key: &str) -> Option<String> {
    let value = attributes
        .iter()
        .find(|kv| kv.key == key)?
        .value
        .as_ref()?
        .value
        .as_ref()?;
    Some(match value {
        any_value::Value::StringValue(s) => s.clone(),
        any_value::Value::IntValue(i) => i.to_string(),
        any_value::Value::BoolValue(b) => b.to_string(),
        other => format!("{other:?}"),
    })
}

#[derive(serde::Serialize)]
struct Message {
    id: String,
    content: String,
}

#[trace_method]
#[metric(histogram = "checkout_duration_ms", counter = "checkout_calls")]
async fn checkout(order_id: &str, messages: &[Message]) -> Result<u32, String> {
    let total = price(messages.len() as u32).await;
    if total > 100 {
        return Err(format!("order {order_id} is over budget"));
    }
    Ok(total)
}

#[trace_method(kind = "client")]
async fn price(items: u32) -> u32 {
    tokio::task::yield_now().await;
    items * 60
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_arrive_over_otlp_grpc() {
    let receiver = Receiver::start(Wire::Grpc);

    let guard = Telemetry::builder()
        .ignore_env()
        .service_name("e2e-service")
        .service_version("9.9.9")
        .endpoint(receiver.endpoint())
        .protocol(Protocol::Grpc)
        .install()
        .expect("telemetry installs");

    let messages = vec![
        Message {
            id: "m1".into(),
            content: "a".repeat(10_000),
        },
        Message {
            id: "m2".into(),
            content: "b".into(),
        },
    ];
    context::scope([KeyValue::new("organization.id", "org-e2e")], async {
        assert_eq!(checkout("o-1", &messages[..1]).await, Ok(60));
        assert!(checkout("o-2", &messages).await.is_err());
    })
    .await;

    tokio::task::spawn_blocking(move || guard.shutdown())
        .await
        .unwrap()
        .expect("clean shutdown");

    let requests = receiver.trace_requests();
    assert!(!requests.is_empty(), "the receiver got exports");
    let resource_spans: Vec<_> = requests.iter().flat_map(|r| &r.resource_spans).collect();
    let resource = resource_spans[0].resource.as_ref().unwrap();
    assert_eq!(
        text(&resource.attributes, "service.name").as_deref(),
        Some("e2e-service")
    );
    assert_eq!(
        text(&resource.attributes, "service.version").as_deref(),
        Some("9.9.9")
    );
    assert!(text(&resource.attributes, "host.name").is_some());

    let spans: Vec<&Span> = resource_spans
        .iter()
        .flat_map(|rs| &rs.scope_spans)
        .flat_map(|ss| &ss.spans)
        .collect();
    assert_eq!(spans.len(), 4);
    let checkouts: Vec<_> = spans.iter().filter(|s| s.name == "checkout").collect();
    let prices: Vec<_> = spans.iter().filter(|s| s.name == "price").collect();
    assert_eq!((checkouts.len(), prices.len()), (2, 2));

    let ok = checkouts
        .iter()
        .find(|s| text(&s.attributes, "parameter.order_id").as_deref() == Some("o-1"))
        .unwrap();
    let failed = checkouts
        .iter()
        .find(|s| text(&s.attributes, "parameter.order_id").as_deref() == Some("o-2"))
        .unwrap();
    assert_eq!(ok.status.as_ref().unwrap().code, StatusCode::Ok as i32);
    let status = failed.status.as_ref().unwrap();
    assert_eq!(status.code, StatusCode::Error as i32);
    assert_eq!(status.message, "order o-2 is over budget");
    assert!(failed.events.iter().any(|e| e.name == "exception"));
    assert_eq!(
        text(&failed.attributes, "parameter.messages").as_deref(),
        Some("<&[Message] (excluded, ids=[m1,m2] (2 total))>")
    );
    assert_eq!(
        text(&ok.attributes, "code.function.name").as_deref(),
        Some("otlp_grpc::checkout")
    );

    assert_eq!(
        text(&ok.attributes, "organization.id").as_deref(),
        Some("org-e2e")
    );

    let metric_requests = receiver.metric_requests();
    let exported: Vec<_> = metric_requests
        .iter()
        .flat_map(|r| &r.resource_metrics)
        .flat_map(|rm| &rm.scope_metrics)
        .flat_map(|sm| &sm.metrics)
        .collect();
    let histogram = exported
        .iter()
        .find(|m| m.name == "checkout_duration_ms")
        .expect("histogram arrived");
    assert_eq!(histogram.unit, "ms");
    let Some(Data::Histogram(data)) = &histogram.data else {
        panic!("not a histogram: {histogram:?}")
    };
    let mut results: Vec<(String, u64)> = data
        .data_points
        .iter()
        .map(|p| (text(&p.attributes, "result").unwrap(), p.count))
        .collect();
    results.sort();
    assert_eq!(results, vec![("error".to_owned(), 1), ("ok".to_owned(), 1)]);
    assert!(
        data.data_points
            .iter()
            .all(|p| text(&p.attributes, "organization.id").as_deref() == Some("org-e2e"))
    );
    let calls = exported
        .iter()
        .find(|m| m.name == "checkout_calls")
        .expect("counter arrived");
    let Some(Data::Sum(sum)) = &calls.data else {
        panic!("not a sum")
    };
    assert!(sum.is_monotonic);

    for parent in [ok, failed] {
        let child = prices
            .iter()
            .find(|p| p.parent_span_id == parent.span_id)
            .expect("price under checkout");
        assert_eq!(child.trace_id, parent.trace_id);
        assert_eq!(
            child.kind,
            opentelemetry_proto::tonic::trace::v1::span::SpanKind::Client as i32
        );
        assert!(parent.parent_span_id.is_empty(), "checkout is a root span");
    }
}
