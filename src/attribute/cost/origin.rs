//! Where price text comes from, and the error that names it: every complaint about a price
//! file says which file, and which line when the problem has one.

use std::ops::Range;
use std::path::PathBuf;

/// Why a price file could not be used. Every message names the file, and the line when the
/// problem has one.
#[derive(Debug, thiserror::Error)]
pub enum PriceError {
    #[error("{}: cannot read price file: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Invalid {
        /// The file as given (or the bundled snapshot's name).
        file: String,
        /// 1-based line of the offending text, when the parser could locate it.
        line: Option<usize>,
        message: String,
    },
}

/// The text of one price file and the name used for it in messages.
pub(super) struct Origin<'a> {
    pub name: String,
    pub text: &'a str,
}

impl Origin<'_> {
    /// 1-based line of a byte offset into the text.
    pub fn line_at(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        // Counting bytes is enough: '\n' is never part of a multi-byte UTF-8 sequence.
        self.text.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    }

    /// Byte offset of `part`, a slice borrowed from this text, else the end of the text.
    pub fn offset_of(&self, part: &str) -> usize {
        // Address arithmetic only (no dereference): the slice lies inside `text` when it was
        // borrowed from it, which is how the JSON reader hands its values out.
        let start = self.text.as_ptr() as usize;
        let at = part.as_ptr() as usize;
        at.checked_sub(start)
            .filter(|o| *o <= self.text.len())
            .unwrap_or(self.text.len())
    }

    pub fn error(&self, span: Option<&Range<usize>>, message: String) -> PriceError {
        PriceError::Invalid {
            file: self.name.clone(),
            line: span.map(|s| self.line_at(s.start)),
            message,
        }
    }

    /// An error about the text that starts at byte `offset`.
    pub fn error_at(&self, offset: usize, message: String) -> PriceError {
        PriceError::Invalid {
            file: self.name.clone(),
            line: Some(self.line_at(offset)),
            message,
        }
    }
}
