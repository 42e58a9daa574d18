//! The one colour of every category and process role, used by every chart, table swatch and
//! terminal table, so `subagent` is the same orange wherever it appears.
//!
//! Categories take the Tableau 10 hues (distinguishable for the common forms of colour
//! blindness, and printable); process roles are greys, so a memory line is never mistaken for
//! a category's calls shaded behind it.

use plotters::style::RGBColor;

use crate::observation::{Category, ProcessRole};

/// A colour as the charts and the page use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Colour(pub u8, pub u8, pub u8);

impl Colour {
    /// `#RRGGBB`, upper case: the form plotters writes into SVG, so the page and the charts
    /// spell one colour the same way.
    pub fn hex(self) -> String {
        format!("#{:02X}{:02X}{:02X}", self.0, self.1, self.2)
    }

    pub fn rgb(self) -> RGBColor {
        RGBColor(self.0, self.1, self.2)
    }
}

/// The colour of a category.
pub fn category(category: Category) -> Colour {
    match category {
        Category::UserTurn => Colour(0x4E, 0x79, 0xA7),
        Category::Subagent => Colour(0xF2, 0x8E, 0x2B),
        Category::MemoryExtraction => Colour(0xE1, 0x57, 0x59),
        Category::Dream => Colour(0xB0, 0x7A, 0xA1),
        Category::AwaySummary => Colour(0x76, 0xB7, 0xB2),
        Category::Compaction => Colour(0xED, 0xC9, 0x48),
        Category::Utility => Colour(0x59, 0xA1, 0x4F),
        Category::Unknown => Colour(0x9C, 0x75, 0x5F),
    }
}

/// The colour of a process role's memory line.
pub fn role(role: ProcessRole) -> Colour {
    match role {
        ProcessRole::Main => Colour(0x33, 0x33, 0x33),
        ProcessRole::Subagent => Colour(0x77, 0x77, 0x77),
        ProcessRole::Other => Colour(0xAA, 0xAA, 0xAA),
    }
}

/// The whole tree's RSS (and PSS) line: darker than any role.
pub const TREE: Colour = Colour(0x00, 0x00, 0x00);

/// Marks that are not data: turn boundaries, the recommendation, grid lines.
pub const MARK: Colour = Colour(0x55, 0x55, 0x55);

/// A finding marked on a chart (where a memory leak began): the one red that is no category.
pub const FINDING: Colour = Colour(0xC0, 0x00, 0x00);

/// Aggregate figures that are not one category (a whole turn, a whole run).
pub const ALL: Colour = Colour(0x2F, 0x2F, 0x2F);

/// A cost that is not known (a model without a price): a pale band, never a bar of $0.
pub const UNPRICED: Colour = Colour(0xDC, 0xDC, 0xDC);

/// The overhead share of tokens (everything but `user_turn`), a figure of no one category.
pub const OVERHEAD: Colour = Colour(0x9C, 0x9C, 0x9C);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_category_has_its_own_colour_distinct_from_the_roles() {
        let mut seen = Vec::new();
        for c in Category::ALL {
            let colour = category(c);
            assert!(!seen.contains(&colour), "{c} shares a colour");
            seen.push(colour);
        }
        for r in ProcessRole::ALL {
            assert!(
                !seen.contains(&role(r)),
                "role {} looks like a category",
                r.as_str()
            );
        }
        for other in [TREE, MARK, ALL, UNPRICED, OVERHEAD, FINDING] {
            assert!(
                !seen.contains(&other),
                "{} looks like a category",
                other.hex()
            );
        }
        assert_ne!(UNPRICED, OVERHEAD);
    }

    #[test]
    fn hex_is_what_plotters_writes() {
        assert_eq!(category(Category::UserTurn).hex(), "#4E79A7");
        let RGBColor(r, g, b) = category(Category::Dream).rgb();
        assert_eq!(Colour(r, g, b).hex(), "#B07AA1");
    }
}
