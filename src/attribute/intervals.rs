//! Time intervals: the union of busy stretches, which several figures need.

/// Union of intervals as disjoint intervals sorted by start (touching ones joined).
pub fn merged(mut intervals: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    intervals.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let mut merged: Vec<(f64, f64)> = Vec::with_capacity(intervals.len());
    for (start, end) in intervals {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_overlapping_and_touching_intervals_merge() {
        let got = merged(vec![
            (5.0, 6.0),
            (0.0, 100.0),
            (1.0, 2.0),
            (200.0, 201.0),
            (201.0, 202.0),
        ]);
        assert_eq!(got, vec![(0.0, 100.0), (200.0, 202.0)]);
    }
}
