//! `--fail-if` thresholds: `cost>+10%`, `memory_extraction.cost>+10%`, `rss_peak>100000000`,
//! `tokens<-5%`. A threshold is checked against B − A (the point estimate); a percent is of A's
//! mean. CI uses them to fail a build when a change costs more than allowed.

use super::{Comparison, Row, figure_names};

#[derive(Debug, Clone, PartialEq)]
pub struct FailIf {
    /// `total` when no scope is given.
    pub scope: String,
    pub figure: String,
    pub above: bool,
    pub limit: Limit,
    /// As given, for messages.
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Limit {
    /// Of A's mean.
    Percent(f64),
    Absolute(f64),
}

impl FailIf {
    /// Parses one threshold; the error says what is wrong and what is expected.
    pub fn parse(text: &str) -> Result<FailIf, String> {
        let usage = "expected [SCOPE.]FIGURE>LIMIT or <LIMIT, LIMIT a number or a percent of A \
                     (cost>+10%, memory_extraction.cost>+10%, rss_peak>100000000)";
        let (left, right, above) = match (text.split_once('>'), text.split_once('<')) {
            (Some((l, r)), None) => (l, r, true),
            (None, Some((l, r))) => (l, r, false),
            _ => return Err(format!("{text:?}: {usage}")),
        };
        let (scope, figure) = match left.trim().rsplit_once('.') {
            Some((scope, figure)) => (scope.trim().to_string(), figure.trim().to_string()),
            None => ("total".to_string(), left.trim().to_string()),
        };
        if !figure_names().contains(&figure.as_str()) {
            return Err(format!(
                "{text:?}: no figure {figure:?} (one of {})",
                figure_names().join(", ")
            ));
        }
        let right = right.trim();
        let limit = match right.strip_suffix('%') {
            Some(number) => number.trim().parse().map(Limit::Percent),
            None => right.parse().map(Limit::Absolute),
        }
        .map_err(|_| format!("{text:?}: {right:?} is not a number: {usage}"))?;
        if let Limit::Percent(v) | Limit::Absolute(v) = limit
            && !v.is_finite()
        {
            return Err(format!("{text:?}: {right:?} is not a finite number"));
        }
        Ok(FailIf {
            scope,
            figure,
            above,
            limit,
            text: text.to_string(),
        })
    }

    /// Why the comparison breaks this threshold, or `None` when it holds. A scope the
    /// comparison does not have (a category neither side used) holds.
    pub fn broken_by(&self, comparison: &Comparison) -> Option<String> {
        let row: &Row = comparison
            .rows
            .iter()
            .find(|r| r.scope == self.scope && r.figure == self.figure)?;
        let delta = row.difference.delta;
        let (value, shown) = match self.limit {
            Limit::Absolute(_) => (delta, format!("{delta:+}")),
            Limit::Percent(_) if row.a.mean == 0.0 => {
                let infinite = if delta > 0.0 {
                    f64::INFINITY
                } else if delta < 0.0 {
                    f64::NEG_INFINITY
                } else {
                    0.0
                };
                (infinite, format!("{delta:+} from 0"))
            }
            Limit::Percent(_) => {
                let percent = delta / row.a.mean * 100.0;
                (percent, format!("{percent:+.1} %"))
            }
        };
        let limit = match self.limit {
            Limit::Percent(v) | Limit::Absolute(v) => v,
        };
        let broken = if self.above {
            value > limit
        } else {
            value < limit
        };
        broken.then(|| {
            format!(
                "{}: {} {} changed by {shown} (A {} → B {})",
                self.text, self.scope, self.figure, row.a.mean, row.b.mean
            )
        })
    }
}
