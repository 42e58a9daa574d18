//! The statistics of a comparison: mean and standard deviation of each side's runs, and the
//! difference of the means with a Welch confidence interval (unequal variances, the
//! Welch–Satterthwaite degrees of freedom) — what hyperfine reports for timings.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

/// One side's runs of one figure.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Side {
    pub runs: usize,
    pub mean: f64,
    /// Sample standard deviation (n − 1); `None` with one run.
    pub sd: Option<f64>,
}

impl Side {
    pub fn of(values: &[f64]) -> Side {
        let runs = values.len();
        let mean = values.iter().sum::<f64>() / runs.max(1) as f64;
        let sd = (runs > 1).then(|| {
            let squares: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
            (squares / (runs - 1) as f64).sqrt()
        });
        Side { runs, mean, sd }
    }
}

/// B − A.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Difference {
    pub delta: f64,
    /// B / A; `None` when A is 0.
    pub ratio: Option<f64>,
    /// The confidence interval of `delta` at [`CONFIDENCE`]; `None` unless both sides have two
    /// runs or more.
    pub interval: Option<(f64, f64)>,
}

/// The confidence level of every interval.
pub const CONFIDENCE: f64 = 0.95;

/// The difference of the means of `b` and `a`, with Welch's interval.
pub fn difference(a: &Side, b: &Side) -> Difference {
    let delta = b.mean - a.mean;
    let ratio = (a.mean != 0.0).then(|| b.mean / a.mean);
    let interval = match (a.sd, b.sd) {
        (Some(sa), Some(sb)) => {
            let va = sa * sa / a.runs as f64;
            let vb = sb * sb / b.runs as f64;
            let se = (va + vb).sqrt();
            if se == 0.0 {
                // Every run of each side the same: the difference is known exactly.
                Some((delta, delta))
            } else {
                let df = (va + vb).powi(2)
                    / (va * va / (a.runs - 1) as f64 + vb * vb / (b.runs - 1) as f64);
                StudentsT::new(0.0, 1.0, df).ok().map(|t| {
                    let half = t.inverse_cdf(1.0 - (1.0 - CONFIDENCE) / 2.0) * se;
                    (delta - half, delta + half)
                })
            }
        }
        _ => None,
    };
    Difference {
        delta,
        ratio,
        interval,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance
    }

    #[test]
    fn mean_and_sample_sd() {
        let side = Side::of(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!(side.mean, 5.0);
        // Σ(x − 5)² = 32, / 7.
        assert!(close(side.sd.unwrap(), (32.0f64 / 7.0).sqrt(), 1e-12));
        assert_eq!(Side::of(&[3.0]).sd, None);
    }

    #[test]
    fn welch_interval_by_hand() {
        // a = 1, 2, 3; b = 4, 5, 6: means 2 and 5, both variances 1, so the standard error is
        // √(1/3 + 1/3) = 0.81650 and Welch's df = (2/3)² / (2 × (1/3)² / 2) = 4;
        // t(0.975, 4) = 2.776445: 3 ± 2.26698.
        let d = difference(&Side::of(&[1.0, 2.0, 3.0]), &Side::of(&[4.0, 5.0, 6.0]));
        assert_eq!(d.delta, 3.0);
        assert_eq!(d.ratio, Some(2.5));
        let (lo, hi) = d.interval.unwrap();
        assert!(close(lo, 3.0 - 2.266_98, 1e-4), "{lo}");
        assert!(close(hi, 3.0 + 2.266_98, 1e-4), "{hi}");
    }

    #[test]
    fn unequal_variances_and_sizes() {
        // a: n 4, mean 10, var 4 → 1.0; b: n 2, mean 14, var 8 → 4.0. se = √5 = 2.23607;
        // df = 25 / (1/3 + 16/1) = 1.53061; t(0.975, 1.53061) = 5.8510 (the t density integrated
        // numerically and inverted by bisection, independently of statrs).
        let a = Side {
            runs: 4,
            mean: 10.0,
            sd: Some(2.0),
        };
        let b = Side {
            runs: 2,
            mean: 14.0,
            sd: Some(8.0f64.sqrt()),
        };
        let (lo, hi) = difference(&a, &b).interval.unwrap();
        let half = (hi - lo) / 2.0;
        assert!(
            close(half / 5.0f64.sqrt(), 5.8510, 1e-3),
            "{}",
            half / 5.0f64.sqrt()
        );
    }

    #[test]
    fn one_run_a_side_has_no_interval_and_identical_runs_an_exact_one() {
        let d = difference(&Side::of(&[1.0]), &Side::of(&[3.0]));
        assert_eq!((d.delta, d.interval), (2.0, None));
        let d = difference(&Side::of(&[1.0, 1.0]), &Side::of(&[3.0, 3.0]));
        assert_eq!(d.interval, Some((2.0, 2.0)));
        assert_eq!(difference(&Side::of(&[0.0]), &Side::of(&[1.0])).ratio, None);
    }
}
