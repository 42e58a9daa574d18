//! Fewer points than pixels: long traces hold hundreds of thousands of samples, more than a
//! chart can show and more than a page should carry. Thinning keeps every peak (the figure
//! that matters for memory and KV) and the shape.

use super::series::{MemoryPoint, Window};

/// At most about `max` points: consecutive points merge into one holding each field's
/// highest value at the time of the highest total.
pub fn memory(points: &[MemoryPoint], max: usize) -> Vec<MemoryPoint> {
    if points.len() <= max || max == 0 {
        return points.to_vec();
    }
    let per = points.len().div_ceil(max);
    points
        .chunks(per)
        .filter_map(|chunk| {
            let top = chunk.iter().max_by_key(|p| p.rss)?;
            let mut roles = [0u64; 3];
            for p in chunk {
                for (r, v) in roles.iter_mut().zip(p.roles) {
                    *r = (*r).max(v);
                }
            }
            let pss = chunk.iter().filter_map(|p| p.pss).max();
            Some(MemoryPoint {
                t: top.t,
                rss: top.rss,
                roles,
                pss,
            })
        })
        .collect()
}

/// A step function on at most `bins` time bins over `[0, span]`: each bin takes the row with
/// the highest total that holds anywhere in it.
pub fn steps(rows: &[(f64, [u64; 8])], span: f64, bins: usize) -> Vec<(f64, [u64; 8])> {
    if rows.len() <= 2 * bins || bins == 0 || span <= 0.0 {
        return rows.to_vec();
    }
    let width = span / bins as f64;
    let total = |r: &[u64; 8]| r.iter().sum::<u64>();
    let mut out: Vec<(f64, [u64; 8])> = Vec::with_capacity(bins + 1);
    let mut carried = [0u64; 8];
    let mut i = 0;
    for bin in 0..bins {
        let (from, to) = (bin as f64 * width, (bin + 1) as f64 * width);
        let mut best = carried;
        while i < rows.len() && rows[i].0 < to {
            if total(&rows[i].1) > total(&best) || rows[i].0 <= from {
                best = rows[i].1;
            }
            carried = rows[i].1;
            i += 1;
        }
        if total(&carried) > total(&best) {
            best = carried;
        }
        out.push((from, best));
    }
    out.push((span, carried));
    out
}

/// Windows of one category closer than `gap` are joined: thousands of short calls become the
/// busy stretches a chart can show.
pub fn windows(windows: &[Window], gap: f64) -> Vec<Window> {
    let mut out: Vec<Window> = Vec::with_capacity(windows.len());
    let mut sorted = windows.to_vec();
    sorted.sort_by(|a, b| {
        a.category
            .cmp(&b.category)
            .then(a.start.total_cmp(&b.start))
    });
    for w in sorted {
        match out.last_mut() {
            Some(last) if last.category == w.category && w.start <= last.end + gap => {
                last.end = last.end.max(w.end);
            }
            _ => out.push(w),
        }
    }
    out
}

/// Instants (in time order) at least `gap` apart: the first of each close group is kept.
pub fn instants(times: impl Iterator<Item = f64>, gap: f64) -> Vec<f64> {
    let mut kept: Vec<f64> = Vec::new();
    for t in times {
        if kept.last().is_none_or(|&last| t - last >= gap) {
            kept.push(t);
        }
    }
    kept
}

/// At most about `max` points of a sorted sample's cumulative distribution, as (value, share
/// at or below in %), at evenly spaced ranks: the curve's shape, not one step per call.
pub fn cdf(sorted: &[f64], max: usize) -> Vec<(f64, f64)> {
    let n = sorted.len();
    if n == 0 {
        return Vec::new();
    }
    let mut points = Vec::with_capacity(n.min(max) * 2 + 1);
    points.push((sorted[0], 0.0));
    if n <= max {
        for (i, v) in sorted.iter().enumerate() {
            points.push((*v, i as f64 * 100.0 / n as f64));
            points.push((*v, (i + 1) as f64 * 100.0 / n as f64));
        }
    } else {
        for k in 0..max {
            let rank = (k + 1) * n / max;
            points.push((sorted[rank - 1], rank as f64 * 100.0 / n as f64));
        }
    }
    points
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observation::Category;

    fn point(t: f64, rss: u64) -> MemoryPoint {
        MemoryPoint {
            t,
            rss,
            roles: [rss, 0, 0],
            pss: None,
        }
    }

    #[test]
    fn thinning_keeps_the_peak() {
        let points: Vec<MemoryPoint> = (0..10_000)
            .map(|i| point(i as f64, if i == 4321 { 9_999 } else { i % 100 }))
            .collect();
        let thin = memory(&points, 500);
        assert!(thin.len() <= 500);
        assert_eq!(thin.iter().map(|p| p.rss).max(), Some(9_999));
        assert_eq!(memory(&points[..10], 500).len(), 10);
    }

    #[test]
    fn step_bins_keep_the_highest_level() {
        let mut rows = Vec::new();
        for i in 0..1000 {
            let level = if i == 501 { 1000 } else { 1 };
            rows.push((i as f64 / 10.0, [level, 0, 0, 0, 0, 0, 0, 0]));
        }
        let thin = steps(&rows, 100.0, 50);
        assert!(thin.len() <= 51);
        assert_eq!(thin.iter().map(|r| r.1[0]).max(), Some(1000));
    }

    #[test]
    fn close_instants_merge_and_long_cdfs_shrink() {
        assert_eq!(
            instants([0.0, 0.5, 1.2, 5.0].into_iter(), 1.0),
            vec![0.0, 1.2, 5.0]
        );
        let sorted: Vec<f64> = (1..=10_000).map(f64::from).collect();
        let curve = cdf(&sorted, 500);
        assert!(curve.len() <= 501);
        assert_eq!(curve.last(), Some(&(10_000.0, 100.0)));
        assert_eq!(cdf(&[1.0, 2.0], 500).len(), 5);
    }

    #[test]
    fn close_windows_join() {
        let w = |s, e| Window {
            category: Category::Utility,
            start: s,
            end: e,
        };
        let joined = windows(&[w(0.0, 1.0), w(1.05, 2.0), w(5.0, 6.0)], 0.1);
        assert_eq!(joined, vec![w(0.0, 2.0), w(5.0, 6.0)]);
    }
}
