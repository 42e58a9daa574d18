//! Server KV occupancy of the fleet, accumulated in tokens (bytes come from the profile at
//! the end).
//!
//! Each session reports what it holds on the server as time-ordered segments in a few
//! *lanes* (its main prefix, its sub-agents, its small-model calls). The fleet keeps, per
//! time bucket, the sum over lanes of each lane's highest level in that bucket: a lane's own
//! consecutive segments take a max, concurrent lanes add. That is the exact peak of a single
//! lane and an upper bound for a fleet (two lanes' maxima in one bucket may not coincide),
//! the conservative side for capacity. The integral (token-µs) is exact and gives the mean
//! and the GiB-hours. All integers, so merging workers in any order gives the same figures.

/// Fleet-wide accumulators of one trial.
#[derive(Debug, Clone)]
pub struct KvSink {
    /// Per bucket: Σ over lanes of the lane's max level (tokens).
    pub peak: Vec<u64>,
    /// Σ level × duration, in token-microseconds.
    pub integral: u128,
    bucket_s: f64,
    end_s: f64,
}

impl KvSink {
    pub fn new(buckets: usize, bucket_s: f64, end_s: f64) -> KvSink {
        KvSink {
            peak: vec![0; buckets],
            integral: 0,
            bucket_s,
            end_s,
        }
    }

    pub fn reset(&mut self) {
        self.peak.fill(0);
        self.integral = 0;
    }

    pub fn merge(&mut self, other: &KvSink) {
        for (a, b) in self.peak.iter_mut().zip(&other.peak) {
            *a += b;
        }
        self.integral += other.integral;
    }

    pub fn bucket_s(&self) -> f64 {
        self.bucket_s
    }

    /// The highest bucket (tokens).
    pub fn peak_tokens(&self) -> u64 {
        self.peak.iter().copied().max().unwrap_or(0)
    }
}

/// One sequence of non-overlapping segments (one cache key, or calls that replace each other).
#[derive(Debug, Clone)]
pub struct KvLane {
    bucket: usize,
    max: u64,
}

impl Default for KvLane {
    fn default() -> Self {
        KvLane {
            bucket: usize::MAX,
            max: 0,
        }
    }
}

impl KvLane {
    /// Holds `mean` tokens on average and `max` at most over `[t0, t1)`. Segments must come in
    /// time order.
    pub fn segment(&mut self, sink: &mut KvSink, t0: f64, t1: f64, mean: u64, max: u64) {
        let t1 = t1.min(sink.end_s);
        if t1 <= t0 || max == 0 || sink.peak.is_empty() {
            return;
        }
        // Durations are positive here: adding ½ and truncating rounds, without a libm call.
        let micros = ((t1 - t0) * 1e6 + 0.5) as u64;
        sink.integral += u128::from(mean) * u128::from(micros);
        let last = sink.peak.len() - 1;
        let first = ((t0 / sink.bucket_s) as usize).min(last);
        let end = (((t1 / sink.bucket_s).ceil() as usize).saturating_sub(1)).clamp(first, last);
        for bucket in first..=end {
            if bucket != self.bucket {
                self.flush(sink);
                self.bucket = bucket;
            }
            self.max = self.max.max(max);
        }
    }

    /// The lane reaches `level` somewhere in `bucket` (buckets in time order, like segments).
    pub fn bucket_max(&mut self, sink: &mut KvSink, bucket: usize, level: u64) {
        if bucket >= sink.peak.len() {
            return;
        }
        if bucket != self.bucket {
            self.flush(sink);
            self.bucket = bucket;
        }
        self.max = self.max.max(level);
    }

    /// Hands the open bucket's max to the sink (call when the lane ends).
    pub fn flush(&mut self, sink: &mut KvSink) {
        if let Some(slot) = sink.peak.get_mut(self.bucket) {
            *slot += self.max;
        }
        self.bucket = usize::MAX;
        self.max = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consecutive_segments_of_a_lane_take_the_max_concurrent_lanes_add() {
        let mut sink = KvSink::new(10, 60.0, 600.0);
        let mut a = KvLane::default();
        a.segment(&mut sink, 0.0, 30.0, 100, 100);
        a.segment(&mut sink, 30.0, 50.0, 300, 300);
        a.segment(&mut sink, 50.0, 130.0, 200, 200);
        a.flush(&mut sink);
        assert_eq!(&sink.peak[..3], &[300, 200, 200]);
        let mut b = KvLane::default();
        b.segment(&mut sink, 10.0, 20.0, 50, 50);
        b.flush(&mut sink);
        assert_eq!(sink.peak[0], 350);
        assert_eq!(sink.peak_tokens(), 350);
        let expected = 100 * 30 + 300 * 20 + 200 * 80 + 50 * 10;
        assert_eq!(sink.integral, expected as u128 * 1_000_000);
    }

    #[test]
    fn segments_past_the_end_are_cut() {
        let mut sink = KvSink::new(2, 60.0, 120.0);
        let mut a = KvLane::default();
        a.segment(&mut sink, 100.0, 500.0, 10, 10);
        a.segment(&mut sink, 600.0, 700.0, 10, 10);
        a.flush(&mut sink);
        assert_eq!(sink.peak, vec![0, 10]);
        assert_eq!(sink.integral, 10 * 20 * 1_000_000);
    }
}
