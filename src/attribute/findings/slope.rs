//! A robust slope: Theil–Sen, the median of the slopes between pairs of points.
//!
//! A least-squares line through memory samples follows a single garbage-collection drop or a
//! one-off allocation; the median of pairwise slopes shrugs off up to ~29 % of the points
//! being anywhere. Pairs are only taken within a segment (a stretch of idle samples): a level
//! shift between two segments — memory a call allocated — is not a slope of either.

/// At most this many points per segment enter the pairs (evenly thinned beyond): the pairs
/// grow with the square of the points, and a few hundred already pin the median down.
const MAX_POINTS: usize = 300;

/// The Theil–Sen slope of `segments` (each a run of `(t, value)` points in time order), in
/// value units per time unit; `None` without two points at different times in one segment.
pub fn theil_sen(segments: &[&[(f64, f64)]]) -> Option<f64> {
    let mut slopes = Vec::new();
    for segment in segments {
        let points = thinned(segment);
        for (i, a) in points.iter().enumerate() {
            for b in &points[i + 1..] {
                let dt = b.0 - a.0;
                if dt > 0.0 {
                    slopes.push((b.1 - a.1) / dt);
                }
            }
        }
    }
    median(&mut slopes)
}

/// `points`, or `MAX_POINTS` of them evenly spread, first and last kept.
fn thinned(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    if points.len() <= MAX_POINTS {
        return points.to_vec();
    }
    let last = points.len() - 1;
    (0..MAX_POINTS)
        .map(|k| points[k * last / (MAX_POINTS - 1)])
        .collect()
}

/// The median (the mean of the middle two for an even count); `None` when empty or NaN.
fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() || values.iter().any(|v| v.is_nan()) {
        return None;
    }
    values.sort_unstable_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(match values.len() % 2 {
        1 => values[mid],
        _ => (values[mid - 1] + values[mid]) / 2.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(n: usize, slope: f64) -> Vec<(f64, f64)> {
        (0..n)
            .map(|i| (i as f64, 100.0 + slope * i as f64))
            .collect()
    }

    #[test]
    fn a_line_has_its_slope_whatever_a_quarter_of_its_points_say() {
        assert_eq!(theil_sen(&[&line(20, 2.5)]), Some(2.5));
        let mut spiky = line(40, 2.5);
        for point in spiky.iter_mut().step_by(4) {
            point.1 += 1e9;
        }
        assert_eq!(theil_sen(&[&spiky]), Some(2.5));
    }

    #[test]
    fn a_level_shift_between_segments_is_no_slope() {
        let before = line(10, 0.0);
        let after: Vec<(f64, f64)> = line(10, 0.0)
            .into_iter()
            .map(|(t, v)| (t + 20.0, v + 5e8))
            .collect();
        assert_eq!(theil_sen(&[&before, &after]), Some(0.0));
        // As one segment, the shift would read as growth.
        let joined: Vec<(f64, f64)> = before.iter().chain(&after).copied().collect();
        assert!(theil_sen(&[&joined]).unwrap() > 0.0);
    }

    #[test]
    fn long_segments_are_thinned_to_the_same_slope() {
        let long = line(5_000, -3.0);
        assert_eq!(thinned(&long).len(), MAX_POINTS);
        assert_eq!(thinned(&long)[MAX_POINTS - 1], long[4_999]);
        assert_eq!(theil_sen(&[&long]), Some(-3.0));
    }

    #[test]
    fn too_few_points_have_no_slope() {
        assert_eq!(theil_sen(&[]), None);
        assert_eq!(theil_sen(&[&[(1.0, 5.0)]]), None);
        assert_eq!(theil_sen(&[&[(1.0, 5.0), (1.0, 9.0)]]), None);
        assert_eq!(theil_sen(&[&[(1.0, 5.0)], &[(2.0, 9.0)]]), None);
    }
}
