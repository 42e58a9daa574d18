//! The trace clock: one monotonic origin shared by every capture source.
//!
//! All observation times are seconds since this origin, so proxy calls and memory samples taken
//! on different threads line up exactly; the wall-clock instant of the origin goes in the trace
//! header so readers can turn offsets back into timestamps.

use std::time::Instant;

/// Monotonic origin plus the wall-clock time it corresponds to.
#[derive(Debug, Clone, Copy)]
pub struct TraceClock {
    origin: Instant,
    started_at: jiff::Timestamp,
}

impl TraceClock {
    /// Starts a clock whose offset 0 is now.
    pub fn start() -> Self {
        TraceClock {
            origin: Instant::now(),
            started_at: jiff::Timestamp::now(),
        }
    }

    /// Seconds since the origin, rounded to the microsecond so traces stay short and stable.
    pub fn now(&self) -> f64 {
        round_micros(self.origin.elapsed().as_secs_f64())
    }

    /// The wall-clock time of offset 0.
    pub fn started_at(&self) -> jiff::Timestamp {
        self.started_at
    }

    /// The wall-clock time of the current instant, consistent with [`TraceClock::now`].
    pub fn wall_now(&self) -> jiff::Timestamp {
        offset_to_timestamp(self.started_at, self.now())
    }
}

/// Rounds seconds to whole microseconds.
pub fn round_micros(seconds: f64) -> f64 {
    (seconds * 1e6).round() / 1e6
}

/// The wall-clock instant `offset` seconds after `origin` (saturating on absurd offsets).
pub fn offset_to_timestamp(origin: jiff::Timestamp, offset: f64) -> jiff::Timestamp {
    let micros = (offset * 1e6).round() as i64;
    origin
        .checked_add(jiff::SignedDuration::from_micros(micros))
        .unwrap_or(origin)
}
