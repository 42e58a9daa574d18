//! The test collector (tests/python/otlp_sink.py, decoding with PyPI `opentelemetry-proto`) and
//! readers for what it wrote: spans, metric data points and resources as plain maps.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::support::{python, python_script};

/// The Python collector, killed on drop.
pub struct Sink {
    child: Child,
    pub port: u16,
    out: PathBuf,
}

impl Sink {
    /// Starts the collector, writing decoded requests to `dir/otlp.jsonl`.
    pub fn start(dir: &Path) -> Sink {
        let out = dir.join("otlp.jsonl");
        let mut child = Command::new(python())
            .arg(python_script("otlp_sink.py"))
            .arg(&out)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("the sink printed {line:?}, not its port"));
        Sink { child, port, out }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(&self.out).unwrap_or_default();
        text.lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An OTLP `AnyValue` as JSON: strings, ints (`int64` arrives as a string), doubles, bools.
fn any_value(value: &Value) -> Value {
    if let Some(s) = value.get("string_value") {
        return s.clone();
    }
    if let Some(i) = value.get("int_value") {
        let n: i64 = match i {
            Value::String(s) => s.parse().unwrap(),
            other => other.as_i64().unwrap(),
        };
        return Value::from(n);
    }
    if let Some(d) = value.get("double_value") {
        return d.clone();
    }
    if let Some(b) = value.get("bool_value") {
        return b.clone();
    }
    panic!("unexpected attribute value {value}");
}

/// `[{key, value}]` as a map.
pub fn attributes(list: &Value) -> HashMap<String, Value> {
    list.as_array()
        .map(|items| {
            items
                .iter()
                .map(|kv| {
                    (
                        kv["key"].as_str().unwrap().to_string(),
                        any_value(&kv["value"]),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A uint64 / int64 / fixed64 field, which the JSON mapping writes as a string.
pub fn int(value: &Value) -> u64 {
    match value {
        Value::String(s) => s.parse().unwrap(),
        Value::Null => 0,
        other => other.as_u64().unwrap(),
    }
}

/// One decoded span.
#[derive(Debug)]
pub struct Span {
    pub name: String,
    pub kind: String,
    pub start_ns: u64,
    pub end_ns: u64,
    pub status_code: Option<String>,
    pub attributes: HashMap<String, Value>,
    pub resource: HashMap<String, Value>,
}

/// Every span of every `/v1/traces` request.
pub fn spans(requests: &[Value]) -> Vec<Span> {
    let mut spans = Vec::new();
    for request in requests.iter().filter(|r| r["path"] == "/v1/traces") {
        for resource_spans in request["body"]["resource_spans"].as_array().unwrap() {
            let resource = attributes(&resource_spans["resource"]["attributes"]);
            for scope in resource_spans["scope_spans"].as_array().unwrap() {
                assert_eq!(scope["scope"]["name"], "agentprof");
                for span in scope["spans"].as_array().unwrap() {
                    spans.push(Span {
                        name: span["name"].as_str().unwrap().to_string(),
                        kind: span["kind"].as_str().unwrap_or_default().to_string(),
                        start_ns: int(&span["start_time_unix_nano"]),
                        end_ns: int(&span["end_time_unix_nano"]),
                        status_code: span["status"]["code"].as_str().map(str::to_string),
                        attributes: attributes(&span["attributes"]),
                        resource: resource.clone(),
                    });
                }
            }
        }
    }
    spans
}

/// One data point of a metric: its attributes and the whole point as decoded.
#[derive(Debug, Clone)]
pub struct Point {
    pub attributes: HashMap<String, Value>,
    pub point: Value,
}

impl Point {
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attributes.get(key).and_then(Value::as_str)
    }

    /// A sum's or gauge's value as a float (`as_int` or `as_double`).
    pub fn value(&self) -> f64 {
        match (self.point.get("as_int"), self.point.get("as_double")) {
            (Some(i), _) => int(i) as f64,
            (None, Some(d)) => d.as_f64().unwrap(),
            (None, None) => 0.0,
        }
    }
}

/// A metric as last exported: the metrics are cumulative, so the last request that carries a
/// metric holds its totals (the final flush at exit).
#[derive(Debug, Clone)]
pub struct Metric {
    pub unit: String,
    /// `histogram`, `sum` or `gauge`.
    pub kind: String,
    /// For sums: `is_monotonic`.
    pub monotonic: bool,
    pub points: Vec<Point>,
    pub resource: HashMap<String, Value>,
}

/// The latest export of every metric, by name.
pub fn metrics(requests: &[Value]) -> HashMap<String, Metric> {
    let mut latest = HashMap::new();
    for request in requests.iter().filter(|r| r["path"] == "/v1/metrics") {
        for resource_metrics in request["body"]["resource_metrics"].as_array().unwrap() {
            let resource = attributes(&resource_metrics["resource"]["attributes"]);
            for scope in resource_metrics["scope_metrics"].as_array().unwrap() {
                assert_eq!(scope["scope"]["name"], "agentprof");
                for metric in scope["metrics"].as_array().unwrap() {
                    let kind = ["histogram", "sum", "gauge"]
                        .into_iter()
                        .find(|k| metric.get(*k).is_some())
                        .unwrap_or_else(|| panic!("unexpected metric {metric}"));
                    let data = &metric[kind];
                    let points = data["data_points"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|p| Point {
                            attributes: attributes(&p["attributes"]),
                            point: p.clone(),
                        })
                        .collect();
                    latest.insert(
                        metric["name"].as_str().unwrap().to_string(),
                        Metric {
                            unit: metric["unit"].as_str().unwrap_or_default().to_string(),
                            kind: kind.to_string(),
                            monotonic: data["is_monotonic"].as_bool().unwrap_or(false),
                            points,
                            resource: resource.clone(),
                        },
                    );
                }
            }
        }
    }
    latest
}
