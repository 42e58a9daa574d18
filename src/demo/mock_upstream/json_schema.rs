//! A JSON value built to satisfy a JSON schema: how the mock answers a request that asks for
//! JSON output (Gemini's `responseJsonSchema`/`responseSchema`), since clients such as Gemini
//! CLI retry a utility call whose answer does not parse.

use serde_json::{Map, Value, json};

use super::gemini::field;

/// Nesting the schema walker follows before it answers `null`.
const MAX_SCHEMA_DEPTH: usize = 16;

/// A JSON value that satisfies `schema` (JSON Schema, or the API's OpenAPI subset with
/// upper-case types): objects get their `required` properties (all properties when none are
/// required), recursively; an `enum` gives its first value; strings are short text; numbers and
/// integers are 1 (or `minimum`, kept within `maximum`); booleans false; arrays one item
/// (`minItems` when more are required, up to 3). `$ref`s to `#/$defs/…` or `#/definitions/…`
/// are followed; `anyOf`/`oneOf` take their first branch.
pub(crate) fn schema_value(schema: &Value) -> Value {
    value_for(schema, schema, 0)
}

fn value_for(schema: &Value, root: &Value, depth: usize) -> Value {
    if depth > MAX_SCHEMA_DEPTH {
        return Value::Null;
    }
    if let Some(target) = schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix('#'))
        .and_then(|pointer| root.pointer(pointer))
    {
        return value_for(target, root, depth + 1);
    }
    if let Some(first) = schema
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return first.clone();
    }
    if let Some(value) = schema.get("const") {
        return value.clone();
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(first) = field(schema, key)
            .and_then(Value::as_array)
            .and_then(|b| b.first())
        {
            return value_for(first, root, depth + 1);
        }
    }
    let kind = match schema.get("type") {
        Some(Value::String(t)) => t.to_ascii_lowercase(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_ascii_lowercase)
            .find(|t| t != "null")
            .unwrap_or_else(|| "null".into()),
        _ if schema.get("properties").is_some() => "object".into(),
        _ if schema.get("items").is_some() => "array".into(),
        _ => "string".into(),
    };
    match kind.as_str() {
        "object" => {
            let props = schema.get("properties").and_then(Value::as_object);
            let required: Vec<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let mut out = Map::new();
            for (name, sub) in props.into_iter().flatten() {
                if required.is_empty() || required.contains(&name.as_str()) {
                    out.insert(name.clone(), value_for(sub, root, depth + 1));
                }
            }
            // A required name without a property schema still gets a value.
            for name in required {
                if !out.contains_key(name) {
                    out.insert(name.to_string(), json!("mock"));
                }
            }
            Value::Object(out)
        }
        "array" => {
            let min = field(schema, "minItems")
                .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
                .unwrap_or(1);
            let n = min.clamp(1, 3);
            let item = schema.get("items").unwrap_or(&Value::Null);
            Value::Array((0..n).map(|_| value_for(item, root, depth + 1)).collect())
        }
        "integer" => json!(number_in(schema).ceil() as i64),
        "number" => json!(number_in(schema)),
        "boolean" => json!(false),
        "null" => Value::Null,
        _ => {
            let min = field(schema, "minLength")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            let mut s = String::from("mock answer");
            while (s.len() as u64) < min {
                s.push_str(" mock");
            }
            json!(s)
        }
    }
}

/// 1, or the schema's bounds pulled in (`minimum`/`exclusiveMinimum` first, then `maximum`).
fn number_in(schema: &Value) -> f64 {
    let bound = |key: &str| {
        schema.get(key).and_then(|v| {
            v.as_f64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        })
    };
    let mut n = 1.0_f64;
    if let Some(min) = bound("minimum") {
        n = min;
    }
    if let Some(min) = bound("exclusiveMinimum") {
        n = n.max(min + 1.0);
    }
    if let Some(max) = bound("maximum") {
        n = n.min(max);
    }
    n
}
