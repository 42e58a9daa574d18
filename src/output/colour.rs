//! Colour in terminal tables: on only when stdout is a terminal and `NO_COLOR` is unset or
//! empty (<https://no-color.org>), so a redirected report, a pipe and `NO_COLOR=1` all get
//! plain text. Categories take the colours of the HTML charts.

use std::ffi::OsStr;
use std::io::IsTerminal;

use comfy_table::{Attribute, Cell, Color, Table};

use crate::observation::Category;
use crate::output::html::palette;

/// The rule: `NO_COLOR` set to anything non-empty turns colour off; else a terminal decides.
pub fn allowed(no_color: Option<&OsStr>, is_terminal: bool) -> bool {
    no_color.is_none_or(|v| v.is_empty()) && is_terminal
}

/// Whether tables written to stdout may carry colour now.
pub fn enabled() -> bool {
    allowed(
        std::env::var_os("NO_COLOR").as_deref(),
        std::io::stdout().is_terminal(),
    )
}

/// Prepares a table: without colour, comfy-table is told there is no terminal (it then writes
/// no escape codes at all); with colour, its header is bold.
pub fn table(table: &mut Table) {
    if !enabled() {
        table.force_no_tty();
    }
}

/// A header cell, bold when colour is on (comfy-table drops the style otherwise).
pub fn header(text: &str) -> Cell {
    Cell::new(text).add_attribute(Attribute::Bold)
}

/// A category's name in its chart colour; other names plain.
pub fn name(text: &str) -> Cell {
    match Category::parse(text) {
        Some(category) => {
            let c = palette::category(category);
            Cell::new(text).fg(Color::Rgb {
                r: c.0,
                g: c.1,
                b: c.2,
            })
        }
        None => Cell::new(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_color_and_pipes_turn_colour_off() {
        assert!(allowed(None, true));
        assert!(
            allowed(Some(OsStr::new("")), true),
            "empty NO_COLOR is unset"
        );
        assert!(!allowed(Some(OsStr::new("1")), true));
        assert!(!allowed(None, false));
    }

    #[test]
    fn a_table_without_colour_has_no_escape_codes() {
        let mut t = Table::new();
        t.force_no_tty();
        t.set_header(vec![header("category")]);
        t.add_row(vec![name("user_turn")]);
        let text = t.to_string();
        assert!(text.contains("user_turn"));
        assert!(!text.contains('\u{1b}'), "{text:?}");
        t.enforce_styling();
        assert!(t.to_string().contains('\u{1b}'), "styled when forced");
    }
}
