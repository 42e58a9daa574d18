//! OTLP/HTTP JSON bodies (`application/json`), read by hand over [`serde_json::Value`].
//!
//! OTLP/JSON is the protobuf JSON mapping with OTLP's own rules: lowerCamelCase keys, 64-bit
//! integers (`timeUnixNano`, `intValue`) as decimal strings — though numbers are accepted too —
//! `traceId`/`spanId` as hex, enums as integers, unknown fields ignored. Only the fields
//! extraction needs are read, so a record with an odd field elsewhere (a malformed `traceId`,
//! an unknown value kind) still counts; only a body that is not JSON, or whose batch structure
//! is of the wrong type, is an error. snake_case keys (the proto field names, which protobuf JSON
//! parsers also accept) are read as well.

use serde_json::{Map, Value as Json};

use super::extract::{LogRecordView, Value, is_wanted};

/// Why a JSON body was refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum JsonError {
    #[error("invalid JSON: {0}")]
    Syntax(#[from] serde_json::Error),
    #[error("expected {expected} at {at}")]
    Shape {
        expected: &'static str,
        at: &'static str,
    },
}

/// The log records of an `ExportLogsServiceRequest`, in order.
pub(crate) fn decode_logs(body: &[u8]) -> Result<Vec<LogRecordView>, JsonError> {
    let root = parse_object(body)?;
    let mut records = Vec::new();
    for resource in objects(&root, &["resourceLogs", "resource_logs"], "resourceLogs")? {
        let scopes = objects(
            resource,
            &["scopeLogs", "scope_logs", "instrumentationLibraryLogs"],
            "scopeLogs",
        )?;
        for scope in scopes {
            for record in objects(scope, &["logRecords", "log_records"], "logRecords")? {
                records.push(log_record(record));
            }
        }
    }
    Ok(records)
}

/// Checks that a body is a JSON `ExportMetricsServiceRequest`; metrics are only counted.
pub(crate) fn check_metrics(body: &[u8]) -> Result<(), JsonError> {
    let root = parse_object(body)?;
    objects(
        &root,
        &["resourceMetrics", "resource_metrics"],
        "resourceMetrics",
    )
    .map(drop)
}

/// Checks that a body is a JSON `ExportTraceServiceRequest`; spans are only counted.
pub(crate) fn check_traces(body: &[u8]) -> Result<(), JsonError> {
    let root = parse_object(body)?;
    objects(&root, &["resourceSpans", "resource_spans"], "resourceSpans").map(drop)
}

fn parse_object(body: &[u8]) -> Result<Map<String, Json>, JsonError> {
    match serde_json::from_slice::<Json>(body)? {
        Json::Object(map) => Ok(map),
        _ => Err(JsonError::Shape {
            expected: "an object",
            at: "the top level",
        }),
    }
}

/// The first present key among `keys`: missing or `null` is an empty list; anything but an
/// array of objects is an error.
fn objects<'a>(
    map: &'a Map<String, Json>,
    keys: &[&str],
    at: &'static str,
) -> Result<Vec<&'a Map<String, Json>>, JsonError> {
    let shape = JsonError::Shape {
        expected: "an array of objects",
        at,
    };
    match field(map, keys) {
        None | Some(Json::Null) => Ok(Vec::new()),
        Some(Json::Array(items)) => items
            .iter()
            .map(Json::as_object)
            .collect::<Option<Vec<_>>>()
            .ok_or(shape),
        Some(_) => Err(shape),
    }
}

fn field<'a>(map: &'a Map<String, Json>, keys: &[&str]) -> Option<&'a Json> {
    keys.iter().find_map(|key| map.get(*key))
}

fn log_record(record: &Map<String, Json>) -> LogRecordView {
    let attributes = match field(record, &["attributes"]) {
        Some(Json::Array(items)) => items.iter().filter_map(key_value).collect(),
        _ => Vec::new(),
    };
    LogRecordView {
        time_unix_nano: field(record, &["timeUnixNano", "time_unix_nano"])
            .and_then(uint64)
            .unwrap_or(0),
        observed_time_unix_nano: field(
            record,
            &["observedTimeUnixNano", "observed_time_unix_nano"],
        )
        .and_then(uint64)
        .unwrap_or(0),
        event_name: field(record, &["eventName", "event_name"])
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_owned(),
        body: field(record, &["body"]).map(any_value),
        attributes,
    }
}

/// A wanted `{"key": …, "value": AnyValue}` entry.
fn key_value(item: &Json) -> Option<(String, Value)> {
    let key = item.get("key")?.as_str()?;
    if !is_wanted(key) {
        return None;
    }
    let value = item.get("value").map_or(Value::Other, any_value);
    Some((key.to_owned(), value))
}

/// An `AnyValue` object; a bare JSON scalar (not OTLP, but seen from hand-written senders) is
/// taken for what it is.
fn any_value(json: &Json) -> Value {
    match json {
        Json::String(s) => Value::Str(s.clone()),
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(_) => number(json),
        Json::Object(map) => {
            if let Some(s) = field(map, &["stringValue", "string_value"]).and_then(Json::as_str) {
                Value::Str(s.to_owned())
            } else if let Some(v) = field(map, &["intValue", "int_value"]) {
                int64(v).map_or(Value::Other, Value::Int)
            } else if let Some(v) = field(map, &["doubleValue", "double_value"]) {
                double(v).map_or(Value::Other, Value::Double)
            } else if let Some(b) = field(map, &["boolValue", "bool_value"]).and_then(Json::as_bool)
            {
                Value::Bool(b)
            } else {
                Value::Other
            }
        }
        Json::Null | Json::Array(_) => Value::Other,
    }
}

fn number(json: &Json) -> Value {
    if let Some(i) = json.as_i64() {
        Value::Int(i)
    } else {
        json.as_f64().map_or(Value::Other, Value::Double)
    }
}

/// A 64-bit integer sent as a decimal string or a JSON number.
fn int64(json: &Json) -> Option<i64> {
    match json {
        Json::String(s) => s.trim().parse().ok(),
        Json::Number(n) => n.as_i64(),
        _ => None,
    }
}

fn uint64(json: &Json) -> Option<u64> {
    match json {
        Json::String(s) => s.trim().parse().ok(),
        Json::Number(n) => n.as_u64(),
        _ => None,
    }
}

/// A double sent as a JSON number or a string (`"1.5"`, `"NaN"`, `"Infinity"`).
fn double(json: &Json) -> Option<f64> {
    match json {
        Json::String(s) => s.trim().parse().ok(),
        Json::Number(n) => n.as_f64(),
        _ => None,
    }
}
