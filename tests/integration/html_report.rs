//! `report --html` and `simulate --html` as users run them: every chart on the page, axis
//! units, one colour per category in every chart and table, `unpriced` never drawn as $0,
//! and the directory policy (bad DIR → exit 2 naming it, nothing else touched).

use std::path::{Path, PathBuf};
use std::process::Output;

use agentprof::observation::Category;
use agentprof::output::html::palette;

use crate::support::{agentprof, stderr};

/// The committed demo trace every report test reads.
pub fn sample_trace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample-traces/demo-6-turns.jsonl")
}

/// Runs agentprof with `args`; panics with its stderr if it failed.
pub fn ok(args: &[&str]) -> Output {
    let output = agentprof().args(args).output().unwrap();
    assert!(output.status.success(), "{args:?}: {}", stderr(&output));
    output
}

/// The figures of a page: (id, the figure's HTML including its SVG).
pub fn figures(html: &str) -> Vec<(String, String)> {
    html.split("<figure class=\"chart\" id=\"chart-")
        .skip(1)
        .map(|part| {
            let id = part.split('"').next().unwrap_or_default().to_string();
            let body = part
                .split("</figure>")
                .next()
                .unwrap_or_default()
                .to_string();
            (id, body)
        })
        .collect()
}

/// Text elements of an SVG (plotters writes each text's content on its own line).
fn texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let content = t.split_once('>')?.1.split("</text>").next()?;
            Some(content.trim().to_string())
        })
        .collect()
}

/// Legend entries naming a category, each with the colour of the mark drawn just before it.
fn legend_colours(svg: &str) -> Vec<(Category, String)> {
    let mut found = Vec::new();
    let parts: Vec<&str> = svg.split("<text").collect();
    for pair in parts.windows(2) {
        let Some((attributes, rest)) = pair[1].split_once('>') else {
            continue;
        };
        // Legend labels start at their mark; axis labels (also category names, on a bar
        // chart's axis) end at their tick.
        if !attributes.contains("text-anchor=\"start\"") {
            continue;
        }
        let Some(content) = rest.split("</text>").next() else {
            continue;
        };
        let label = content.trim();
        let name = label.split([' ', '(']).next().unwrap_or_default();
        let Some(category) = Category::parse(name) else {
            continue;
        };
        // The mark is the last element before the text: a filled rect or a stroked line.
        let before = pair[0];
        let last = before.rfind('<').map_or(before, |i| &before[i..]);
        let colour = ["fill=\"", "stroke=\""].iter().find_map(|attr| {
            let start = last.find(attr)? + attr.len();
            let value = last.get(start..start + 7)?;
            value.starts_with('#').then(|| value.to_string())
        });
        if let Some(colour) = colour {
            found.push((category, colour));
        }
    }
    found
}

#[test]
fn a_report_page_has_every_chart_with_units_legends_and_one_colour_per_category() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    let trace = sample_trace();
    let output = ok(&[
        "report",
        trace.to_str().unwrap(),
        "--json",
        "--html",
        out.to_str().unwrap(),
    ]);
    // stdout is the JSON alone; where the page went is said on stderr.
    let mut docs =
        serde_json::Deserializer::from_slice(&output.stdout).into_iter::<serde_json::Value>();
    assert!(docs.next().unwrap().is_ok());
    assert!(docs.next().is_none(), "one JSON document on stdout");
    let index = out.join("index.html");
    assert!(stderr(&output).contains(&index.display().to_string()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&index).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the page is private like the trace");
    }

    let html = std::fs::read_to_string(&index).unwrap();
    let figures = figures(&html);
    let ids: Vec<&str> = figures.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "memory",
            "tokens-per-turn",
            "cost-per-turn",
            "server-kv",
            "latency",
            "cache-hit-ratio"
        ]
    );
    for (id, figure) in &figures {
        assert!(figure.contains("<svg"), "{id}: inline SVG");
        assert!(texts(figure).len() > 10, "{id}: labelled");
    }
    let all_text: Vec<String> = figures.iter().flat_map(|(_, f)| texts(f)).collect();
    for label in [
        "memory (MiB)",
        "time since start (s)",
        "tokens (×1,000)",
        "cost ($)",
        "server KV (GiB)",
        "time (ms, log scale)",
        "cache reads / prompt tokens (%)",
        "Server KV cache over time by category (assumed profile llama-3.1-405b)",
        "tree PSS",
        "T6",
    ] {
        assert!(
            all_text.iter().any(|t| t == label),
            "no {label:?} in the charts"
        );
    }

    // Every legend entry of a category carries that category's one colour, in every chart.
    let mut checked = 0;
    for (id, figure) in &figures {
        for (category, colour) in legend_colours(figure) {
            assert_eq!(
                colour,
                palette::category(category).hex(),
                "{id}: {category} drawn in another colour"
            );
            // …and the data of that chart uses it too (a bar, a band, a line).
            assert!(
                figure.matches(&colour).count() >= 2,
                "{id}: {category} only in the legend"
            );
            checked += 1;
        }
    }
    assert!(checked >= 20, "legends checked: {checked}");
    // The tables' swatches are the same colours.
    for category in [
        Category::UserTurn,
        Category::Subagent,
        Category::MemoryExtraction,
    ] {
        let swatch = format!(
            "<span class=\"sw\" style=\"background:{}\"></span>{}",
            palette::category(category).hex(),
            category.as_str()
        );
        assert!(html.contains(&swatch), "no swatch for {category}");
    }
    // A run of minutes is one day: a line says so instead of two charts of one bar.
    assert!(
        html.contains("Every call was made on 2026-"),
        "the one-day line"
    );
    // The tables of the terminal report are there too.
    for heading in [
        "By category",
        "By model",
        "By turn",
        "Memory of the agent",
        "Assumptions",
    ] {
        assert!(html.contains(heading), "no {heading:?} table");
    }
}

#[test]
fn unknown_prices_read_unpriced_never_zero_dollars() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("unpriced.jsonl");
    let text = std::fs::read_to_string(sample_trace()).unwrap();
    std::fs::write(&trace, text.replace("claude-sonnet-4-6", "mystery-model-1")).unwrap();
    let out = dir.path().join("html");
    ok(&[
        "report",
        trace.to_str().unwrap(),
        "--html",
        out.to_str().unwrap(),
    ]);
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(
        html.contains("<div class=\"k\">cost</div><div class=\"v\">unpriced</div>"),
        "the total cost card says unpriced"
    );
    let (_, cost) = figures(&html)
        .into_iter()
        .find(|(id, _)| id == "cost-per-turn")
        .unwrap();
    let labels = texts(&cost);
    assert_eq!(
        labels.iter().filter(|t| *t == "unpriced").count(),
        6,
        "{labels:?}"
    );
    assert!(!labels.iter().any(|t| t.starts_with("$0")), "{labels:?}");
    // Each turn's cost cell is unpriced too, never $0.
    let turns = html
        .split("By turn")
        .nth(1)
        .unwrap()
        .split("</table>")
        .next()
        .unwrap();
    assert_eq!(turns.matches("class=\"n unpriced\">unpriced").count(), 6);
    assert!(!turns.contains("$0.0000"));
}

/// Runs `report` with `--html dir`, expecting exit code 2 and a message naming `names`.
fn expect_refusal(trace: &Path, dir: &Path, names: &str) {
    let before = std::fs::read(trace).unwrap();
    let output = agentprof()
        .args([
            "report",
            trace.to_str().unwrap(),
            "--html",
            dir.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(names),
        "{names} in {}",
        stderr(&output)
    );
    assert!(
        output.stdout.is_empty(),
        "no report on stdout after a refusal"
    );
    assert_eq!(
        std::fs::read(trace).unwrap(),
        before,
        "the trace is untouched"
    );
}

#[test]
fn a_bad_html_directory_is_an_input_error_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace.jsonl");
    std::fs::copy(sample_trace(), &trace).unwrap();

    // DIR is a file: refused, the file kept as it was.
    let file = dir.path().join("notes.txt");
    std::fs::write(&file, "mine").unwrap();
    expect_refusal(
        &trace,
        &file,
        &format!("{}: exists and is not a directory", file.display()),
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine");

    // DIR cannot be created (its parent is a file).
    let under = file.join("report");
    expect_refusal(&trace, &under, &under.display().to_string());

    // DIR holds an index.html agentprof did not write: never overwritten.
    let theirs = dir.path().join("site");
    std::fs::create_dir(&theirs).unwrap();
    std::fs::write(theirs.join("index.html"), "<html>my site</html>").unwrap();
    expect_refusal(&trace, &theirs, "not written by agentprof");
    assert_eq!(
        std::fs::read_to_string(theirs.join("index.html")).unwrap(),
        "<html>my site</html>"
    );

    // agentprof's own page is replaced in place, and nothing else appears beside it.
    let ours = dir.path().join("ours");
    for _ in 0..2 {
        ok(&[
            "report",
            trace.to_str().unwrap(),
            "--html",
            ours.to_str().unwrap(),
        ]);
    }
    let entries: Vec<_> = std::fs::read_dir(&ours).unwrap().collect();
    assert_eq!(entries.len(), 1, "only index.html");
}

#[test]
fn simulate_pages_show_ram_cost_and_kv_and_a_sweep_side_by_side() {
    let dir = tempfile::tempdir().unwrap();
    let one = dir.path().join("one");
    let small = ["--set", "sessions=4", "--set", "days=1"];
    let mut args = vec![
        "simulate",
        "--preset",
        "swarm",
        "--json",
        "--html",
        one.to_str().unwrap(),
    ];
    args.extend(small);
    let output = ok(&args);
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON alone");
    let recommended = json["runs"][0]["recommended_workstation_ram_gib"]
        .as_u64()
        .unwrap();
    let html = std::fs::read_to_string(one.join("index.html")).unwrap();
    let ids: Vec<String> = figures(&html).into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, ["ram-1", "cost-1", "kv-1"]);
    let ram = texts(&figures(&html)[0].1);
    assert!(
        ram.iter()
            .any(|t| t == &format!("recommended {recommended} GiB")),
        "the recommendation is marked: {ram:?}"
    );
    assert!(ram.iter().any(|t| t == "share of samples (%)"));
    let kv = texts(&figures(&html)[2].1);
    assert!(
        kv.iter()
            .any(|t| t.starts_with("server KV (") && t.ends_with("iB)")),
        "{kv:?}"
    );
    assert!(
        kv.iter()
            .any(|t| t == "Server KV over time (llama-3.1-405b)")
    );
    let cost = texts(&figures(&html)[1].1);
    assert!(cost.iter().any(|t| t == "cost per developer-day ($)"));

    let sweep = dir.path().join("sweep");
    let mut args = vec![
        "simulate",
        "--preset",
        "today-200k",
        "--sweep",
        "agents=1,2,4",
        "--html",
        sweep.to_str().unwrap(),
    ];
    args.extend(small);
    ok(&args);
    let html = std::fs::read_to_string(sweep.join("index.html")).unwrap();
    let ids: Vec<String> = figures(&html).into_iter().map(|(id, _)| id).collect();
    assert_eq!(
        ids,
        [
            "sweep-cost",
            "sweep-ram",
            "sweep-kv",
            "ram-1",
            "cost-1",
            "kv-1",
            "ram-2",
            "cost-2",
            "kv-2",
            "ram-3",
            "cost-3",
            "kv-3"
        ]
    );
    assert!(html.contains("<div class=\"grid\">"), "runs side by side");
    let compared = texts(&figures(&html)[0].1);
    for label in ["1", "2", "4", "agents"] {
        assert!(
            compared.iter().any(|t| t == label),
            "{label} on the sweep's axis"
        );
    }
    for (id, figure) in figures(&html) {
        for (category, colour) in legend_colours(&figure) {
            assert_eq!(
                colour,
                palette::category(category).hex(),
                "{id}: {category}"
            );
        }
    }
}

#[test]
fn demo_writes_its_html_report_beside_its_trace() {
    let dir = tempfile::tempdir().unwrap();
    // A folder holding someone else's page is refused before the demo runs.
    std::fs::write(dir.path().join("index.html"), "theirs").unwrap();
    let refused = agentprof()
        .args(["demo", "--turns", "2", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(
        !dir.path().join("trace.jsonl").exists(),
        "refused before running"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("index.html")).unwrap(),
        "theirs"
    );

    std::fs::remove_file(dir.path().join("index.html")).unwrap();
    let output = ok(&[
        "demo",
        "--turns",
        "2",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    let index = dir.path().join("index.html");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(&format!("HTML report: {}", index.display())),
        "{stdout}"
    );
    let html = std::fs::read_to_string(&index).unwrap();
    let ids: Vec<String> = figures(&html).into_iter().map(|(id, _)| id).collect();
    assert!(ids.len() == 6 && ids[0] == "memory", "{ids:?}");
    assert!(html.contains(&dir.path().join("trace.jsonl").display().to_string()));
}

#[test]
fn the_committed_example_report_is_what_this_version_writes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let output = agentprof()
        .current_dir(root)
        // The page names the day of its calls: read in one zone, it is the same everywhere.
        .args([
            "report",
            "sample-traces/demo-6-turns.jsonl",
            "--timezone",
            "UTC",
        ])
        .arg("--html")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let fresh = std::fs::read_to_string(dir.path().join("index.html")).unwrap();
    let committed = std::fs::read_to_string(root.join("reports/example/index.html")).unwrap();
    assert!(
        fresh == committed,
        "reports/example/index.html is stale: run scripts/make-example-report"
    );
}

#[test]
fn a_live_trace_and_an_import_report_together() {
    let dir = tempfile::tempdir().unwrap();
    let live = sample_trace();
    let import = live.with_file_name("import-claude-code-2.1.197.jsonl");
    let output = ok(&[
        "report",
        live.to_str().unwrap(),
        import.to_str().unwrap(),
        "--html",
        dir.path().to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("Classified from the transcripts"), "{text}");
    let html = std::fs::read_to_string(dir.path().join("index.html")).unwrap();
    let ids: Vec<String> = figures(&html).into_iter().map(|(id, _)| id).collect();
    assert!(ids.contains(&"memory".to_string()) && ids.contains(&"latency".to_string()));
    // The latency curves count the live calls only: imported times are not measurements.
    let (_, latency) = figures(&html)
        .into_iter()
        .find(|(id, _)| id == "latency")
        .unwrap();
    assert!(
        texts(&latency).iter().any(|t| t == "user_turn (23)"),
        "{:?}",
        texts(&latency)
    );
}

/// The `<rect>`s of an SVG: (x, width, fill).
fn rects(svg: &str) -> Vec<(i64, i64, String)> {
    let attribute = |tag: &str, name: &str| -> Option<String> {
        let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        Some(tag[start..].split('"').next()?.to_string())
    };
    svg.split("<rect")
        .skip(1)
        .filter_map(|tag| {
            let tag = tag.split('>').next()?;
            Some((
                attribute(tag, "x")?.parse().ok()?,
                attribute(tag, "width")?.parse().ok()?,
                attribute(tag, "fill")?,
            ))
        })
        .collect()
}

/// The bars of a chart: the distinct left edges of rects in `colours`, left of the legend.
fn bar_edges(svg: &str, colours: &[String]) -> Vec<i64> {
    let width: i64 = svg
        .split("width=\"")
        .nth(1)
        .and_then(|w| w.split('"').next())
        .and_then(|w| w.parse().ok())
        .unwrap();
    let mut edges: Vec<i64> = rects(svg)
        .into_iter()
        .filter(|(x, _, fill)| *x < width - 200 && colours.contains(fill))
        .map(|(x, _, _)| x)
        .collect();
    edges.sort_unstable();
    edges.dedup();
    edges
}

/// A Claude Code session under `history` with one prompt and one answer on each of `days`
/// (`YYYY-MM-DD`, at noon UTC).
fn write_session_on(history: &Path, days: &[&str]) {
    let session = "5e55a1d0-0000-4000-8000-000000000001";
    let dir = history.join("projects/-home-dev-later");
    std::fs::create_dir_all(&dir).unwrap();
    let mut lines = String::new();
    for (k, day) in days.iter().enumerate() {
        lines.push_str(&format!(
            r#"{{"parentUuid":null,"isSidechain":false,"type":"user","message":{{"role":"user","content":"hello {k}"}},"uuid":"p{k}","timestamp":"{day}T12:00:00.000Z","sessionId":"{session}","version":"2.1.328"}}"#
        ));
        lines.push('\n');
        lines.push_str(&format!(
            r#"{{"parentUuid":"p{k}","isSidechain":false,"message":{{"id":"msg_later_{k}","type":"message","role":"assistant","model":"claude-sonnet-4-6","content":[{{"type":"text","text":"ok"}}],"usage":{{"input_tokens":1000,"cache_creation_input_tokens":0,"cache_read_input_tokens":5000,"output_tokens":300}}}},"requestId":"req_later_{k}","type":"assistant","uuid":"a{k}","timestamp":"{day}T12:00:05.000Z","sessionId":"{session}","version":"2.1.328"}}"#
        ));
        lines.push('\n');
    }
    std::fs::write(dir.join(format!("{session}.jsonl")), lines).unwrap();
}

/// The circles of an SVG left of its legend: their centres' x.
fn dots(svg: &str, width: i64) -> usize {
    svg.split("<circle")
        .skip(1)
        .filter_map(|tag| {
            let start = tag.find(" cx=\"")? + 5;
            tag[start..].split('"').next()?.parse::<i64>().ok()
        })
        .filter(|&x| x < width - 200)
        .count()
}

#[test]
fn an_import_of_months_draws_cost_and_overhead_per_day_one_bar_per_day_with_calls() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history");
    // A generated history (its days of March 2026), then a session on days months later with
    // weeks between them: the axis keeps those weeks, as gaps.
    let _: agentprof::demo::transcript_corpus::GroundTruth =
        crate::support::generate_history("gen-transcripts", &history, "4", 7, &[]);
    write_session_on(
        &history,
        &["2026-06-15", "2026-08-24", "2026-09-01", "2026-10-01"],
    );
    let out = dir.path().join("html");
    // --by session: the page's days are per day whatever the rows are keyed by.
    let (report, _) = crate::support::import_json(
        "claude-code",
        &history,
        &[
            "--timezone",
            "UTC",
            "--by",
            "session",
            "--html",
            out.to_str().unwrap(),
        ],
    );
    let (by_day, _) = crate::support::import_json(
        "claude-code",
        &history,
        &["--timezone", "UTC", "--by", "day"],
    );
    let days: Vec<&str> = by_day["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        days[days.len() - 4..],
        ["2026-06-15", "2026-08-24", "2026-09-01", "2026-10-01"]
    );
    let first: jiff::civil::Date = days[0].parse().unwrap();
    assert_eq!((first.year(), first.month()), (2026, 3), "{days:?}");
    let calendar_days = first
        .until(jiff::civil::date(2026, 10, 1))
        .unwrap()
        .get_days()
        + 1;

    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    let figures = figures(&html);
    let ids: Vec<&str> = figures.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids[..2], ["daily-cost", "daily-overhead"], "{ids:?}");
    let (cost, overhead) = (&figures[0].1, &figures[1].1);
    let cost_text = texts(cost);
    for label in [
        "Cost per day by category",
        "day (UTC)",
        "cost ($)",
        // Seven months of days, labelled by month.
        "2026-06",
        "2026-10",
        &format!("{calendar_days} days, {} with calls", days.len()),
    ] {
        assert!(
            cost_text.iter().any(|t| t == label),
            "{label}: {cost_text:?}"
        );
    }
    assert!(
        !cost_text.iter().any(|t| t == "2026-06-15"),
        "labels are thinned, not one a day"
    );
    let overhead_text = texts(overhead);
    for label in [
        "Overhead share per day (everything but user_turn)",
        "overhead share (%)",
        "of tokens",
        "of cost",
    ] {
        assert!(overhead_text.iter().any(|t| t == label), "{label}");
    }

    // One stacked bar per day with calls, in the categories' colours, and one cost-share point.
    let categories: Vec<String> = Category::ALL
        .iter()
        .map(|c| palette::category(*c).hex())
        .collect();
    assert_eq!(bar_edges(cost, &categories).len(), days.len());
    assert_eq!(dots(overhead, 1300), days.len());
    // The bars add up to the report's cost, which the legend says and the card shows.
    let total = report["totals"]["cost_usd"].as_f64().unwrap();
    let dollars = agentprof::output::html::units::dollars(total);
    assert!(
        cost_text.iter().any(|t| *t == format!("total {dollars}")),
        "total {dollars}: {cost_text:?}"
    );
    assert!(html.contains(&format!("<div class=\"v\">{dollars}</div>")));
}
