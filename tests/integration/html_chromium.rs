//! The pages open in a real browser: headless Chromium (Debian's `chromium`, installed by
//! scripts/test) renders a report and a sweep page with no console message at all (the pages
//! have no script and load nothing, so any message is a fault), its DOM holds every chart's
//! SVG with its text, and a screenshot is a picture with charts in it, not a blank page.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::html_report::{figures, ok, sample_trace};
use crate::support::stderr;

const CHROMIUM: &str = "/usr/bin/chromium";
const WIDTH: u32 = 1400;
const HEIGHT: u32 = 3000;

fn chromium() -> &'static str {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} not found: run scripts/test, which installs Debian's chromium"
    );
    CHROMIUM
}

/// Headless Chromium on `page` with `mode` (`--dump-dom` or `--screenshot=…`). The flags keep
/// it off the network entirely (no update checks, no sync, no QUIC probes) and its profile in
/// a fresh directory.
fn run(page: &Path, mode: &str) -> Output {
    let profile = tempfile::tempdir().unwrap();
    let output = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
            &format!("--user-data-dir={}", profile.path().display()),
            &format!("--window-size={WIDTH},{HEIGHT}"),
            mode,
        ])
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(output.status.success(), "chromium: {}", stderr(&output));
    // Console messages (errors, CSP violations, failed loads) are logged as `CONSOLE`.
    let log = stderr(&output);
    let console: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught"))
        .collect();
    assert!(console.is_empty(), "console messages: {console:#?}");
    output
}

/// A screenshot's size and how many distinct colours it has.
fn picture(png_file: &Path) -> (u32, u32, usize) {
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(png_file).unwrap(),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    let step = info.color_type.samples();
    let mut colours: Vec<&[u8]> = pixels[..info.buffer_size()]
        .chunks(step)
        .step_by(7)
        .collect();
    colours.sort_unstable();
    colours.dedup();
    (info.width, info.height, colours.len())
}

fn pages(dir: &Path) -> Vec<PathBuf> {
    let report = dir.join("report");
    let trace = sample_trace();
    ok(&[
        "report",
        trace.to_str().unwrap(),
        "--html",
        report.to_str().unwrap(),
    ]);
    let sweep = dir.join("sweep");
    ok(&[
        "simulate",
        "--preset",
        "today-200k",
        "--set",
        "sessions=4",
        "--set",
        "days=1",
        "--sweep",
        "agents=1,4",
        "--html",
        sweep.to_str().unwrap(),
    ]);
    vec![report.join("index.html"), sweep.join("index.html")]
}

#[test]
fn pages_render_in_headless_chromium_with_their_charts_and_no_console_errors() {
    let dir = tempfile::tempdir().unwrap();
    for page in pages(dir.path()) {
        let html = std::fs::read_to_string(&page).unwrap();
        let expected = figures(&html);
        assert!(
            expected.len() >= 6,
            "{}: {} charts",
            page.display(),
            expected.len()
        );

        let dom = String::from_utf8_lossy(&run(&page, "--dump-dom").stdout).into_owned();
        let rendered = figures(&dom);
        assert_eq!(
            rendered.iter().map(|f| &f.0).collect::<Vec<_>>(),
            expected.iter().map(|f| &f.0).collect::<Vec<_>>(),
            "every chart is in the rendered DOM"
        );
        for (id, figure) in &rendered {
            assert!(
                figure.contains("<svg") && figure.contains("</svg>"),
                "{id}: SVG parsed"
            );
            assert!(
                figure.matches("<text").count() > 10,
                "{id}: its labels are there"
            );
        }

        let shot = page.with_file_name("screenshot.png");
        run(&page, &format!("--screenshot={}", shot.display()));
        let (width, height, colours) = picture(&shot);
        assert_eq!((width, height), (WIDTH, HEIGHT), "{}", shot.display());
        // A blank or one-colour page has a handful; charts in eight category colours with
        // anti-aliased text have hundreds.
        assert!(colours > 200, "{}: only {colours} colours", shot.display());
    }
}
