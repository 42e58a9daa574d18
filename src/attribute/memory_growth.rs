//! Memory growth charged to what was happening: per turn, inside each category's calls, and
//! while nothing was happening at all (the idle slope that turns into 15 GB overnight).
//!
//! Growth is measured between the samples nearest to two instants, over the processes alive at
//! the end: each one's RSS then minus its RSS at the start (0 if it started in between). A
//! process that exited in between is left out — releasing its memory is not something the
//! window caused — so a sub-agent process that starts and ends inside a turn does not make the
//! turn look as if it freed memory.

use crate::observation::MemorySample;

/// Tree RSS at `t`: the last sample at or before it, else the first after it.
pub fn rss_at(samples: &[MemorySample], t: f64) -> Option<u64> {
    sample_at(samples, t).map(|s| s.rss_bytes)
}

/// RSS change from `start` to `end` of the processes alive at `end` (negative when they freed
/// memory).
pub fn growth(samples: &[MemorySample], start: f64, end: f64) -> Option<i64> {
    let (before, after) = (sample_at(samples, start)?, sample_at(samples, end)?);
    Some(
        after
            .processes
            .iter()
            .map(|p| {
                let then = before
                    .processes
                    .iter()
                    .find(|q| q.pid == p.pid)
                    .map_or(0, |q| q.rss_bytes);
                p.rss_bytes as i64 - then as i64
            })
            .sum(),
    )
}

/// The last sample at or before `t`, else the first after it.
fn sample_at(samples: &[MemorySample], t: f64) -> Option<&MemorySample> {
    match samples.partition_point(|s| s.t <= t) {
        0 => samples.first(),
        n => Some(&samples[n - 1]),
    }
}

/// How fast RSS grows while no call is in flight, in bytes per hour.
///
/// Idle stretches are the runs of consecutive samples with no call interval between them. The
/// slope is the pooled within-stretch least-squares fit (each stretch with its own intercept),
/// so a level shift caused by a call between two stretches does not count as idle growth.
/// `None` when there are not two idle samples in any stretch.
pub fn idle_slope_bytes_per_hour(samples: &[MemorySample], busy: &[(f64, f64)]) -> Option<f64> {
    let points: Vec<(f64, f64)> = samples.iter().map(|s| (s.t, s.rss_bytes as f64)).collect();
    let stretches = idle_stretches(&points, busy, f64::NEG_INFINITY);

    let (mut covariance, mut variance) = (0.0, 0.0);
    for stretch in &stretches {
        let n = stretch.len() as f64;
        let mean_t = stretch.iter().map(|p| p.0).sum::<f64>() / n;
        let mean_r = stretch.iter().map(|p| p.1).sum::<f64>() / n;
        for (t, r) in stretch {
            covariance += (t - mean_t) * (r - mean_r);
            variance += (t - mean_t) * (t - mean_t);
        }
    }
    (variance > 0.0).then(|| covariance / variance * 3600.0)
}

/// Runs of `(t, value)` points at or after `from` with no call of `busy` (start, end) in
/// flight between neighbours: the stretches of idle time in which memory is judged.
pub fn idle_stretches(
    points: &[(f64, f64)],
    busy: &[(f64, f64)],
    from: f64,
) -> Vec<Vec<(f64, f64)>> {
    // Merged, the intervals are disjoint and sorted by start *and* end, which the binary
    // search below needs (a long call with short ones inside it is not sorted by end).
    let intervals = super::intervals::merged(busy.to_vec());
    let busy_between = |from: f64, to: f64| {
        // The first interval that could end after `from`.
        let i = intervals.partition_point(|iv| iv.1 < from);
        intervals[i..]
            .iter()
            .take_while(|iv| iv.0 <= to)
            .any(|iv| iv.1 >= from)
    };
    let mut stretches = Vec::new();
    let mut current: Vec<(f64, f64)> = Vec::new();
    for pair in points.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if a.0 < from || busy_between(a.0, b.0) {
            if current.len() >= 2 {
                stretches.push(std::mem::take(&mut current));
            }
            current.clear();
            continue;
        }
        if current.is_empty() {
            current.push(a);
        }
        current.push(b);
    }
    if current.len() >= 2 {
        stretches.push(current);
    }
    stretches
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(t: f64, rss: u64) -> MemorySample {
        sample_of(t, &[(1, rss)])
    }

    fn sample_of(t: f64, processes: &[(u32, u64)]) -> MemorySample {
        MemorySample::of_processes(t, processes)
    }

    #[test]
    fn growth_counts_processes_alive_at_the_end() {
        // Main grows 10 → 15; a sub-agent (pid 2) lives 0..1 and exits; a tool (pid 3) starts.
        let s = [
            sample_of(0.0, &[(1, 10), (2, 40)]),
            sample_of(1.0, &[(1, 15), (3, 7)]),
        ];
        assert_eq!(
            growth(&s, 0.0, 1.0),
            Some(5 + 7),
            "the exited sub-agent frees nothing here"
        );
        assert_eq!(rss_at(&s, 1.0), Some(22));
    }

    #[test]
    fn rss_at_takes_the_last_sample_before() {
        let s = [sample(1.0, 10), sample(2.0, 20), sample(3.0, 30)];
        assert_eq!(rss_at(&s, 0.5), Some(10));
        assert_eq!(rss_at(&s, 2.0), Some(20));
        assert_eq!(rss_at(&s, 2.9), Some(20));
        assert_eq!(rss_at(&s, 9.0), Some(30));
        assert_eq!(growth(&s, 1.0, 3.0), Some(20));
        assert_eq!(growth(&s, 3.0, 1.0), Some(-20));
        assert_eq!(rss_at(&[], 1.0), None);
    }

    #[test]
    fn idle_slope_ignores_jumps_during_calls() {
        // Idle growth of 1 000 bytes/s, plus a 1 MB jump during a call at t = 10..11.
        let mut samples = Vec::new();
        for i in 0..=20 {
            let t = i as f64;
            let jump = if t > 10.5 { 1_000_000 } else { 0 };
            samples.push(sample(t, 5_000_000 + (t * 1000.0) as u64 + jump));
        }
        let slope = idle_slope_bytes_per_hour(&samples, &[(10.2, 10.8)]).unwrap();
        assert!((slope - 3_600_000.0).abs() < 1.0, "{slope}");
        // Without knowing about the call, the jump would inflate the slope.
        let naive = idle_slope_bytes_per_hour(&samples, &[]).unwrap();
        assert!(naive > 3_600_000.0 * 1.5);
    }

    #[test]
    fn a_long_call_with_short_ones_inside_is_not_idle() {
        let samples: Vec<_> = (0..=20)
            .map(|i| sample(f64::from(i), 1_000_000 * i as u64))
            .collect();
        let busy = [(0.0, 100.0), (1.0, 2.0), (3.0, 4.0), (5.0, 6.0)];
        assert_eq!(idle_slope_bytes_per_hour(&samples, &busy), None);
    }

    #[test]
    fn no_idle_stretch_no_slope() {
        let samples = [sample(0.0, 1), sample(1.0, 2)];
        assert_eq!(idle_slope_bytes_per_hour(&samples, &[(0.0, 1.0)]), None);
        assert_eq!(idle_slope_bytes_per_hour(&samples[..1], &[]), None);
    }
}
