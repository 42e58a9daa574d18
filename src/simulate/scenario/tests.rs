//! Scenario files, presets, `--set` and `--sweep`: what is accepted and what each error says.

use super::load::{ScenarioError, ScenarioText};
use super::overrides::{ALIASES, grid, keys, parse_set, parse_sweep};
use super::{CacheTtl, Scenario};
use crate::simulate::presets;

fn text(toml: &str) -> ScenarioText {
    ScenarioText {
        origin: "test.toml".into(),
        text: toml.into(),
        fallback_name: "test".into(),
    }
}

fn resolve(toml: &str, sets: &[&str]) -> Result<Scenario, ScenarioError> {
    let sets = sets
        .iter()
        .map(|s| parse_set(s))
        .collect::<Result<Vec<_>, _>>()?;
    text(toml).resolve(&sets)
}

#[test]
fn every_preset_loads_and_validates() {
    for name in presets::names() {
        let s = ScenarioText::preset(name).unwrap().resolve(&[]).unwrap();
        assert_eq!(s.name, name);
        assert!(!s.description.is_empty(), "{name} has no description");
    }
    assert!(presets::names().contains(&presets::DEFAULT));
}

#[test]
fn the_defaults_are_today_200k() {
    // Other presets only list what they change: that is only true if the defaults are it.
    let mut today = ScenarioText::preset("today-200k").unwrap().parse().unwrap();
    today.name = Scenario::default().name;
    today.description = String::new();
    assert_eq!(today, Scenario::default());
}

#[test]
fn every_preset_number_names_its_source() {
    for name in presets::names() {
        let toml = presets::text(name).unwrap();
        assert!(
            toml.starts_with('#'),
            "{name}: the file must open with a comment saying what it is"
        );
        for (i, line) in toml.lines().enumerate() {
            let code = line.split('#').next().unwrap_or("").trim();
            let is_setting = code.contains('=') && !code.starts_with('[');
            let exempt = code.starts_with("name") || code.starts_with("description");
            if is_setting && !exempt {
                let comment = line.split_once('#').map(|(_, c)| c.trim()).unwrap_or("");
                assert!(
                    comment.len() > 3,
                    "{name}.toml:{}: `{code}` has no source comment",
                    i + 1
                );
            }
        }
    }
}

#[test]
fn a_file_sets_only_what_it_names() {
    let s = resolve("days = 2\n[model]\ncontext_window = 1_000_000\n", &[]).unwrap();
    assert_eq!(s.name, "test");
    assert_eq!(s.days, 2.0);
    assert_eq!(s.model.context_window, 1_000_000);
    assert_eq!(s.turn, Scenario::default().turn);
}

#[test]
fn sets_reach_every_key_and_the_aliases() {
    let s = resolve(
        "",
        &[
            "sessions=7",
            "days=1.5",
            "context_window=1e6",
            "agents=3",
            "extraction=false",
            "dream=off",
            "daemon=true",
            "kv_profile=deepseek-v3",
            "seed=42",
            "cache_ttl=1h",
            "turn.tool_calls=2.5",
            "model.main=claude-opus-4-6",
        ],
    )
    .unwrap();
    assert_eq!((s.sessions, s.agents, s.seed), (7, 3, 42));
    assert_eq!(s.days, 1.5);
    assert_eq!(s.model.context_window, 1_000_000);
    assert!(!s.extraction.enabled && !s.dream.enabled && s.daemon);
    assert_eq!(s.kv_profile, "deepseek-v3");
    assert_eq!(s.model.cache_ttl, CacheTtl::OneHour);
    assert_eq!(s.turn.tool_calls, 2.5);
    assert_eq!(s.model.main, "claude-opus-4-6");
    // Every alias names a real parameter.
    let all = keys();
    for (alias, path) in ALIASES {
        assert!(all.iter().any(|k| k == path), "alias {alias} → {path}");
    }
    // Later settings win.
    let s = resolve("", &["days=3", "days=4"]).unwrap();
    assert_eq!(s.days, 4.0);
}

fn message(result: Result<Scenario, ScenarioError>) -> String {
    match result {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_bad_set_names_the_key_and_what_was_wrong() {
    let m = message(resolve("", &["no_such_key=1"]));
    assert!(
        m.contains("--set no_such_key=1") && m.contains("unknown key"),
        "{m}"
    );
    let m = message(resolve("", &["tool_calls=1"]));
    assert!(
        m.contains("turn.tool_calls"),
        "a leaf name suggests its path: {m}"
    );
    let m = message(resolve("", &["extraction=maybe"]));
    assert!(
        m.contains("extraction.enabled") && m.contains("true or false"),
        "{m}"
    );
    let m = message(resolve("", &["sessions=many"]));
    assert!(m.contains("sessions") && m.contains("whole number"), "{m}");
    let m = message(resolve("", &["sessions=-3"]));
    assert!(m.contains("sessions"), "{m}");
    let m = message(resolve("", &["days"]));
    assert!(m.contains("KEY=VALUE"), "{m}");
    let m = message(resolve("", &["kv_profile=gpt-9"]));
    assert!(
        m.contains("--set kv_profile=gpt-9") && m.contains("llama-3.1-405b"),
        "{m}"
    );
    let m = message(resolve("", &["cache_ttl=10m"]));
    assert!(m.contains("cache_ttl"), "{m}");
    let m = message(resolve("", &["extraction.probability=1.5"]));
    assert!(
        m.contains("--set extraction.probability=1.5") && m.contains("out of range"),
        "{m}"
    );
    let m = message(resolve("", &["context_window=20000"]));
    assert!(
        m.contains("--set context_window=20000") && m.contains("compaction"),
        "{m}"
    );
}

#[test]
fn a_bad_file_names_its_line() {
    let m = message(resolve("days = 2\n[turn]\nno_such = 1\n", &[]));
    assert!(
        m.starts_with("test.toml:3:") && m.contains("no_such"),
        "{m}"
    );
    let m = message(resolve(
        "days = 2\n\n[model]\ncontext_window = \"big\"\n",
        &[],
    ));
    assert!(m.starts_with("test.toml:4:"), "{m}");
    let m = message(resolve("days = [\n", &[]));
    assert!(m.starts_with("test.toml:"), "{m}");
    // A value of the right type but out of range is blamed on its line too.
    let m = message(resolve(
        "seed = 1\n[interactive]\nturns_per_hour = -2.0\n",
        &[],
    ));
    assert!(
        m.starts_with("test.toml:3:") && m.contains("turns_per_hour"),
        "{m}"
    );
    let m = message(resolve("[extraction]\nprobability = 2.0\n", &[]));
    assert!(m.starts_with("test.toml:2:"), "{m}");
}

#[test]
fn unknown_presets_and_missing_files_say_so() {
    let m = ScenarioText::preset("tomorrow").unwrap_err().to_string();
    assert!(
        m.contains("tomorrow") && m.contains("today-200k") && m.contains("swarm"),
        "{m}"
    );
    let m = ScenarioText::file(std::path::Path::new("/nonexistent/s.toml"))
        .unwrap_err()
        .to_string();
    assert!(m.contains("/nonexistent/s.toml"), "{m}");
}

#[test]
fn sweeps_make_a_grid_first_sweep_slowest() {
    let a = parse_sweep("context_window=200000,1000000").unwrap();
    let b = parse_sweep("extraction=true,false").unwrap();
    let points = grid(&[a, b]);
    let labels: Vec<String> = points
        .iter()
        .map(|p| {
            p.iter()
                .map(|s| s.text.clone())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    assert_eq!(
        labels,
        [
            "context_window=200000 extraction=true",
            "context_window=200000 extraction=false",
            "context_window=1000000 extraction=true",
            "context_window=1000000 extraction=false",
        ]
    );
    assert_eq!(points[0][0].key, "model.context_window");
    assert!(parse_sweep("days=").is_err());
    assert!(parse_sweep("nope=1,2").is_err());
    assert_eq!(grid(&[]), vec![Vec::new()]);
}

#[test]
fn developers_and_their_agents() {
    let s = resolve("", &["sessions=10", "agents=4"]).unwrap();
    assert_eq!(s.developers(), 3);
    let plan =
        crate::simulate::model::plan::Plan::new(&s, &crate::attribute::cost::PriceTable::bundled());
    assert_eq!(
        (0..3).map(|d| plan.agents_of(d)).collect::<Vec<_>>(),
        [4, 4, 2]
    );
    let s = resolve("", &["sessions=1"]).unwrap();
    assert_eq!(s.resolved_trials(), 400);
    let s = resolve("", &["sessions=10000"]).unwrap();
    assert_eq!(s.resolved_trials(), 1);
}
