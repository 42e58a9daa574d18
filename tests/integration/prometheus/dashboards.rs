//! The dashboard JSON files under `dashboards/`: every panel query, with Grafana's variables
//! resolved the way Grafana would for "All" over a short range.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// One PromQL query of one panel.
#[derive(Debug)]
pub struct PanelQuery {
    pub dashboard: String,
    pub panel: String,
    /// The query as written in the JSON.
    pub expr: String,
    /// The query as Prometheus gets it.
    pub resolved: String,
}

/// Every `*.json` under `dashboards/`, parsed.
pub fn dashboards() -> Vec<(String, Value)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("dashboards");
    let mut files = Vec::new();
    collect_json(&root, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let json: Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{}: not JSON: {e}", path.display()));
            (path.display().to_string(), json)
        })
        .collect()
}

fn collect_json(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_json(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

/// Panels, including those nested in collapsed rows.
pub fn panels(dashboard: &Value) -> Vec<&Value> {
    fn walk<'a>(panels: &'a Value, out: &mut Vec<&'a Value>) {
        for panel in panels.as_array().into_iter().flatten() {
            out.push(panel);
            walk(&panel["panels"], out);
        }
    }
    let mut out = Vec::new();
    walk(&dashboard["panels"], &mut out);
    out
}

/// Every panel query of every dashboard, resolved.
pub fn panel_queries() -> Vec<PanelQuery> {
    let mut queries = Vec::new();
    for (file, dashboard) in dashboards() {
        let variables: Vec<String> = dashboard["templating"]["list"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|v| v["type"] != "datasource")
            .map(|v| v["name"].as_str().unwrap().to_string())
            .collect();
        for panel in panels(&dashboard) {
            for target in panel["targets"].as_array().into_iter().flatten() {
                let Some(expr) = target["expr"].as_str() else {
                    continue;
                };
                queries.push(PanelQuery {
                    dashboard: file.clone(),
                    panel: panel["title"].as_str().unwrap_or("?").to_string(),
                    expr: expr.to_string(),
                    resolved: resolve(expr, &variables),
                });
            }
        }
    }
    queries
}

/// Grafana's interval variables become one minute; template variables (all multi-value with
/// "All" = `.*`, used with `=~`) become `.*`.
fn resolve(expr: &str, variables: &[String]) -> String {
    let mut out = expr
        .replace("$__rate_interval", "1m")
        .replace("$__interval", "1m")
        .replace("$__range", "1m");
    for name in variables {
        out = out
            .replace(&format!("${{{name}}}"), ".*")
            .replace(&format!("${name}"), ".*");
    }
    assert!(
        !out.contains('$'),
        "unresolved variable in {expr:?} → {out:?}"
    );
    out
}

#[test]
fn dashboards_take_their_datasource_from_a_variable_and_have_queries() {
    let dashboards = dashboards();
    assert!(
        dashboards
            .iter()
            .any(|(f, _)| f.ends_with("agentprof.json")),
        "dashboards/agentprof.json exists"
    );
    for (file, dashboard) in &dashboards {
        let variables = dashboard["templating"]["list"].as_array().unwrap();
        assert!(
            variables.iter().any(|v| v["name"] == "DS_PROMETHEUS"
                && v["type"] == "datasource"
                && v["query"] == "prometheus"),
            "{file}: a datasource variable DS_PROMETHEUS of type prometheus"
        );
        let mut ids = std::collections::HashSet::new();
        for panel in panels(dashboard) {
            let title = &panel["title"];
            assert!(
                ids.insert(panel["id"].as_u64().unwrap()),
                "{file}: duplicate id at {title}"
            );
            if panel["type"] == "row" {
                continue;
            }
            assert_eq!(
                panel["datasource"]["uid"], "${DS_PROMETHEUS}",
                "{file}: {title}"
            );
            let targets = panel["targets"].as_array().unwrap();
            assert!(!targets.is_empty(), "{file}: {title} has no query");
            for target in targets {
                assert!(
                    target["expr"]
                        .as_str()
                        .is_some_and(|e| e.contains("agentprof_"))
                );
            }
        }
    }
    let queries = panel_queries();
    assert!(queries.len() >= 20, "{} queries", queries.len());
    // The panels the dashboard promises.
    for needle in [
        "agentprof_cost_usd_total",
        "category=\"user_turn\"",
        "type=\"cache_read\"",
        "agentprof_rss_bytes",
        "agentprof_pss_bytes",
        "agentprof_kv_bytes",
        "histogram_quantile(0.95, sum by (le) (rate(agentprof_request_duration_seconds_bucket",
        "histogram_quantile(0.95, sum by (le) (rate(agentprof_time_to_first_token_seconds_bucket",
        "agentprof_request_errors_total",
        "sum by (type, model)",
        "agentprof_findings",
        "agentprof_memory_leak_bytes_per_hour",
    ] {
        assert!(
            queries.iter().any(|q| q.expr.contains(needle)),
            "no panel query contains {needle}"
        );
    }
}
