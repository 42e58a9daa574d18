//! The self-contained page: one HTML file with its CSS inline and every chart as inline SVG —
//! no script, no font, nothing fetched (its Content-Security-Policy forbids it), so it opens
//! from a mail attachment or a CI artifact exactly as it was written.

use std::fmt::Write as _;

use super::charts::Chart;
use super::palette::Colour;
use super::target::GENERATOR;

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

const STYLE: &str = r#"
body { font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; margin: 0; color: #222; background: #f6f6f4; }
main { max-width: 1360px; margin: 0 auto; padding: 24px 28px 60px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 34px 0 10px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 16px; margin: 18px 0 8px; }
p, li { line-height: 1.45; }
.sub { color: #555; margin: 0 0 16px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
.card { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 10px 14px; min-width: 150px; }
.card .v { font-size: 22px; font-weight: 600; }
.card .k { font-size: 12px; color: #666; text-transform: uppercase; letter-spacing: .04em; }
figure { margin: 10px 0 18px; background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 8px; }
figure svg { display: block; max-width: 100%; height: auto; }
figure[data-scroll] { overflow-x: auto; }
figure[data-scroll] svg { max-width: none; }
figcaption { font-size: 13px; color: #555; margin: 6px 4px 2px; }
.row { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 14px; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(620px, 1fr)); gap: 16px; }
.run { background: #fbfbfa; border: 1px solid #ccc; border-radius: 8px; padding: 4px 14px 10px; }
table { border-collapse: collapse; background: #fff; margin: 8px 0 16px; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 4px 8px; }
th { background: #eee; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
td.unpriced { color: #a33; font-style: italic; }
.sw { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 6px; vertical-align: -1px; }
.note { font-size: 13px; color: #555; }
.warn { color: #8a4b00; }
.empty { color: #666; font-style: italic; background: #fff; border: 1px dashed #ccc; padding: 14px; border-radius: 6px; }
.table-wrap { overflow-x: auto; }
ul.cols { columns: 3; column-gap: 28px; font-size: 13px; color: #444; }
"#;

/// A page being written, section by section.
pub struct Page {
    html: String,
}

impl Page {
    /// Starts a page: the generator tag comes first in `<head>`, where the overwrite policy
    /// looks for it.
    pub fn new(title: &str) -> Page {
        let mut html = String::with_capacity(256 * 1024);
        html.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n");
        html.push_str(GENERATOR);
        html.push('\n');
        html.push_str("<meta charset=\"utf-8\">\n");
        // Nothing may load from anywhere: inline styles and inline SVG are the whole page.
        html.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n");
        html.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        let _ = writeln!(html, "<title>{}</title>", escape(title));
        let _ = writeln!(html, "<style>{STYLE}</style>\n</head>\n<body>\n<main>");
        Page { html }
    }

    pub fn h1(&mut self, text: &str) {
        let _ = writeln!(self.html, "<h1>{}</h1>", escape(text));
    }

    /// A section heading with an anchor id.
    pub fn h2(&mut self, id: &str, text: &str) {
        let _ = writeln!(self.html, "<h2 id=\"{}\">{}</h2>", escape(id), escape(text));
    }

    pub fn h3(&mut self, text: &str) {
        let _ = writeln!(self.html, "<h3>{}</h3>", escape(text));
    }

    /// A paragraph of plain text with a CSS class (`sub`, `note`, `warn`, `empty` or none).
    pub fn p(&mut self, class: &str, text: &str) {
        if class.is_empty() {
            let _ = writeln!(self.html, "<p>{}</p>", escape(text));
        } else {
            let _ = writeln!(self.html, "<p class=\"{class}\">{}</p>", escape(text));
        }
    }

    /// Headline figures as cards: (label, value).
    pub fn cards(&mut self, cards: &[(&str, String)]) {
        self.html.push_str("<div class=\"cards\">\n");
        for (label, value) in cards {
            let _ = writeln!(
                self.html,
                "<div class=\"card\"><div class=\"k\">{}</div><div class=\"v\">{}</div></div>",
                escape(label),
                escape(value)
            );
        }
        self.html.push_str("</div>\n");
    }

    /// A chart in a figure, with an optional caption under it.
    pub fn figure(&mut self, chart: &Chart, caption: &str) {
        self.figure_with(chart, caption, "");
    }

    /// A chart wider than the page, in a figure that scrolls sideways instead of shrinking it
    /// (the per-day charts of a long history).
    pub fn scrolling_figure(&mut self, chart: &Chart, caption: &str) {
        self.figure_with(chart, caption, " data-scroll");
    }

    fn figure_with(&mut self, chart: &Chart, caption: &str, attributes: &str) {
        let _ = writeln!(
            self.html,
            "<figure class=\"chart\" id=\"chart-{}\" data-chart=\"{}\"{attributes}>",
            escape(&chart.id),
            escape(&chart.id)
        );
        self.html.push_str(&chart.svg);
        if !caption.is_empty() {
            let _ = write!(self.html, "\n<figcaption>{}</figcaption>", escape(caption));
        }
        self.html.push_str("\n</figure>\n");
    }

    /// Opens a container (`row`: charts side by side; `grid`: sweep runs; `run`: one run).
    pub fn open(&mut self, class: &str) {
        let _ = writeln!(self.html, "<div class=\"{class}\">");
    }

    pub fn close(&mut self) {
        self.html.push_str("</div>\n");
    }

    /// A bulleted list of plain-text items with a CSS class.
    pub fn list(&mut self, class: &str, items: &[String]) {
        if items.is_empty() {
            return;
        }
        let _ = writeln!(self.html, "<ul class=\"{class}\">");
        for item in items {
            let _ = writeln!(self.html, "<li>{}</li>", escape(item));
        }
        self.html.push_str("</ul>\n");
    }

    pub fn table(&mut self, table: &HtmlTable) {
        table.write(&mut self.html);
    }

    /// Ends the page and returns it.
    pub fn finish(mut self, footer: &str) -> String {
        let _ = writeln!(self.html, "<p class=\"note\">{}</p>", escape(footer));
        self.html.push_str("</main>\n</body>\n</html>\n");
        self.html
    }
}

/// One cell of an HTML table.
#[derive(Debug, Clone)]
pub struct Cell {
    text: String,
    class: &'static str,
    swatch: Option<Colour>,
}

impl Cell {
    /// Text, left-aligned.
    pub fn text(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            class: "",
            swatch: None,
        }
    }

    /// A figure, right-aligned.
    pub fn num(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            class: "n",
            swatch: None,
        }
    }

    /// A cost: right-aligned, and marked `unpriced` (never `$0`) when unknown.
    pub fn cost(value: Option<f64>) -> Cell {
        Cell {
            text: super::units::cost(value),
            class: if value.is_some() { "n" } else { "n unpriced" },
            swatch: None,
        }
    }

    /// A name with its colour swatch (a category, in the colour of its charts).
    pub fn swatch(text: impl Into<String>, colour: Colour) -> Cell {
        Cell {
            text: text.into(),
            class: "",
            swatch: Some(colour),
        }
    }
}

/// A table with a header row.
#[derive(Debug, Clone, Default)]
pub struct HtmlTable {
    header: Vec<String>,
    rows: Vec<Vec<Cell>>,
}

impl HtmlTable {
    pub fn new(header: &[&str]) -> HtmlTable {
        HtmlTable {
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<Cell>) {
        self.rows.push(cells);
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn write(&self, out: &mut String) {
        out.push_str("<div class=\"table-wrap\"><table>\n<thead><tr>");
        for h in &self.header {
            let _ = write!(out, "<th>{}</th>", escape(h));
        }
        out.push_str("</tr></thead>\n<tbody>\n");
        for row in &self.rows {
            out.push_str("<tr>");
            for cell in row {
                if cell.class.is_empty() {
                    out.push_str("<td>");
                } else {
                    let _ = write!(out, "<td class=\"{}\">", cell.class);
                }
                if let Some(colour) = cell.swatch {
                    let _ = write!(
                        out,
                        "<span class=\"sw\" style=\"background:{}\"></span>",
                        colour.hex()
                    );
                }
                out.push_str(&escape(&cell.text));
                out.push_str("</td>");
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody>\n</table></div>\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_unknown_costs_say_unpriced() {
        assert_eq!(
            escape("<script>\"a\" & 'b'"),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;"
        );
        let mut table = HtmlTable::new(&["model", "cost"]);
        table.row(vec![Cell::text("<m>"), Cell::cost(None)]);
        let mut html = String::new();
        table.write(&mut html);
        assert!(html.contains("&lt;m&gt;"));
        assert!(html.contains("unpriced"));
        assert!(!html.contains("$0"));
    }

    #[test]
    fn the_generator_tag_is_in_the_head() {
        let page = Page::new("t").finish("end");
        let head = &page[..page.find("</head>").unwrap()];
        assert!(head.contains(GENERATOR));
        assert!(page.starts_with("<!DOCTYPE html>"));
    }
}
