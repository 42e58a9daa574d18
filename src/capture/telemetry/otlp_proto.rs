//! OTLP/HTTP protobuf bodies (`application/x-protobuf`), decoded with `opentelemetry-proto`'s
//! prost types.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::AnyValue;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use prost::Message;

use super::extract::{LogRecordView, Value, is_wanted};

/// The log records of an `ExportLogsServiceRequest`, in order.
pub(crate) fn decode_logs(body: &[u8]) -> Result<Vec<LogRecordView>, prost::DecodeError> {
    let request = ExportLogsServiceRequest::decode(body)?;
    let records = request
        .resource_logs
        .into_iter()
        .flat_map(|resource| resource.scope_logs)
        .flat_map(|scope| scope.log_records)
        .map(|record| LogRecordView {
            time_unix_nano: record.time_unix_nano,
            observed_time_unix_nano: record.observed_time_unix_nano,
            event_name: record.event_name,
            body: record.body.map(value),
            attributes: record
                .attributes
                .into_iter()
                .filter(|kv| is_wanted(&kv.key))
                .map(|kv| (kv.key, kv.value.map_or(Value::Other, value)))
                .collect(),
        })
        .collect();
    Ok(records)
}

/// Checks that a body is an `ExportMetricsServiceRequest`; metrics are only counted.
pub(crate) fn check_metrics(body: &[u8]) -> Result<(), prost::DecodeError> {
    ExportMetricsServiceRequest::decode(body).map(drop)
}

/// Checks that a body is an `ExportTraceServiceRequest`; spans are only counted.
pub(crate) fn check_traces(body: &[u8]) -> Result<(), prost::DecodeError> {
    ExportTraceServiceRequest::decode(body).map(drop)
}

fn value(any: AnyValue) -> Value {
    match any.value {
        Some(Any::StringValue(s)) => Value::Str(s),
        Some(Any::IntValue(i)) => Value::Int(i),
        Some(Any::DoubleValue(d)) => Value::Double(d),
        Some(Any::BoolValue(b)) => Value::Bool(b),
        _ => Value::Other,
    }
}

/// A `google.rpc.Status`, the body OTLP/HTTP servers answer errors with.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct Status {
    #[prost(int32, tag = "1")]
    pub code: i32,
    #[prost(string, tag = "2")]
    pub message: String,
}
