//! Random draws: one explicitly seeded generator per (trial, developer, agent, stream), and
//! the few distributions the model uses.
//!
//! Streams are separate so that switching a feature off does not shift the draws of
//! everything else: with extraction off, turns, sizes and arrivals are exactly those of the
//! run with extraction on, and the difference between the two runs is extraction alone.
//! Xoshiro256++ is portable and fast; seeds are spread with SplitMix64.

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Exp1, Gamma, StandardNormal};

pub type SimRng = Xoshiro256PlusPlus;

/// The independent generators of one agent.
pub struct Streams {
    /// Arrivals, turn sizes, tool loops, sub-agents.
    pub work: SimRng,
    /// Background work: utility and extraction draws.
    pub background: SimRng,
    /// Cache evictions.
    pub cache: SimRng,
    /// Per-process RAM draws.
    pub ram: SimRng,
}

impl Streams {
    pub fn new(seed: u64, trial: u32, developer: u32, agent: u32) -> Streams {
        let base = mix(mix(mix(seed) ^ u64::from(trial)) ^ (u64::from(developer) << 20))
            ^ u64::from(agent);
        let stream = |n: u64| SimRng::seed_from_u64(mix(base ^ n.wrapping_mul(0x9E37)));
        Streams {
            work: stream(1),
            background: stream(2),
            cache: stream(3),
            ram: stream(4),
        }
    }
}

/// SplitMix64's finaliser: decorrelates nearby seeds.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A mean-1 lognormal factor with a given coefficient of variation (exactly 1 when it is 0,
/// without drawing).
#[derive(Debug, Clone, Copy)]
pub struct Factor {
    mu: f64,
    sigma: f64,
}

impl Factor {
    pub fn new(cv: f64) -> Factor {
        let sigma2 = (1.0 + cv * cv).ln();
        Factor {
            mu: -sigma2 / 2.0,
            sigma: sigma2.sqrt(),
        }
    }

    pub fn draw(&self, rng: &mut SimRng) -> f64 {
        if self.sigma == 0.0 {
            return 1.0;
        }
        let z: f64 = StandardNormal.sample(rng);
        (self.mu + self.sigma * z).exp()
    }
}

/// A mean-1 gamma factor (for rates: never negative, lighter tail than a lognormal).
#[derive(Debug, Clone)]
pub struct RateFactor(Option<Gamma<f64>>);

impl RateFactor {
    pub fn new(cv: f64) -> RateFactor {
        if cv <= 0.0 {
            return RateFactor(None);
        }
        let shape = 1.0 / (cv * cv);
        RateFactor(Gamma::new(shape, 1.0 / shape).ok())
    }

    pub fn draw(&self, rng: &mut SimRng) -> f64 {
        self.0.as_ref().map_or(1.0, |g| g.sample(rng))
    }
}

/// `x` rounded down or up at random so that the mean is exactly `x`.
pub fn stochastic_round(x: f64, rng: &mut SimRng) -> u64 {
    let floor = x.floor();
    let frac = x - floor;
    let up = frac > 0.0 && rng.random::<f64>() < frac;
    floor as u64 + u64::from(up)
}

/// A uniform draw in [0, 1).
pub fn uniform(rng: &mut SimRng) -> f64 {
    rng.random::<f64>()
}

/// `n` sorted uniform instants in `[start, end)`, written to `out` (a Poisson process
/// conditioned on `n` events: normalised sums of exponential spacings, no sort needed).
pub fn sorted_uniform(n: usize, start: f64, end: f64, rng: &mut SimRng, out: &mut Vec<f64>) {
    out.clear();
    if n == 0 {
        return;
    }
    let mut sum = 0.0;
    for _ in 0..n {
        let e: f64 = Exp1.sample(rng);
        sum += e;
        out.push(sum);
    }
    let last: f64 = Exp1.sample(rng);
    let scale = (end - start) / (sum + last);
    for t in out.iter_mut() {
        *t = start + *t * scale;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factor_has_mean_one_and_the_asked_spread() {
        let mut rng = SimRng::seed_from_u64(7);
        let f = Factor::new(0.5);
        let n = 200_000;
        let draws: Vec<f64> = (0..n).map(|_| f.draw(&mut rng)).collect();
        let mean = draws.iter().sum::<f64>() / n as f64;
        let var = draws.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / n as f64;
        assert!((mean - 1.0).abs() < 0.01, "{mean}");
        assert!((var.sqrt() - 0.5).abs() < 0.02, "{}", var.sqrt());
        assert_eq!(Factor::new(0.0).draw(&mut rng), 1.0);
    }

    #[test]
    fn stochastic_rounding_keeps_the_mean() {
        let mut rng = SimRng::seed_from_u64(1);
        let n = 100_000;
        let sum: u64 = (0..n).map(|_| stochastic_round(2.3, &mut rng)).sum();
        assert!((sum as f64 / n as f64 - 2.3).abs() < 0.01);
        assert_eq!(stochastic_round(4.0, &mut rng), 4);
    }

    #[test]
    fn sorted_uniform_is_sorted_and_inside() {
        let mut rng = SimRng::seed_from_u64(3);
        let mut out = Vec::new();
        sorted_uniform(50, 10.0, 20.0, &mut rng, &mut out);
        assert_eq!(out.len(), 50);
        assert!(out.windows(2).all(|w| w[0] <= w[1]));
        assert!(out.iter().all(|t| (10.0..20.0).contains(t)));
    }

    #[test]
    fn streams_differ_by_every_coordinate() {
        let first = |s: Streams| {
            let mut s = s;
            s.work.random::<u64>()
        };
        let a = first(Streams::new(1, 0, 0, 0));
        assert_eq!(a, first(Streams::new(1, 0, 0, 0)));
        for other in [
            Streams::new(2, 0, 0, 0),
            Streams::new(1, 1, 0, 0),
            Streams::new(1, 0, 1, 0),
            Streams::new(1, 0, 0, 1),
        ] {
            assert_ne!(a, first(other));
        }
    }
}
