//! Memory the synthetic agent holds on purpose, so the sampler has something real to measure.
//!
//! A real agent's heap grows with its transcript (parsed messages, UI history, tool output
//! caches) far beyond the transcript's own bytes, and keeps that memory after a compaction. The
//! synthetic agent imitates this by retaining `RATIO` bytes per transcript byte ever appended,
//! with every page written so it is resident (counted in RSS), plus a fixed baseline for a
//! sub-agent process (its runtime and loaded context).

/// Retained bytes per transcript byte appended. Tuned so a 6-turn demo grows the main
/// process by roughly 30–80 MiB and a sub-agent by roughly 20–40 MiB.
const RATIO: usize = 320;
/// What a sub-agent process holds before its first call.
pub(crate) const SUBAGENT_BASELINE: usize = 16 << 20;
const PAGE: usize = 4096;
/// Memory an idle agent keeps accumulating (1 MiB/s; reported idle sessions grew far faster,
/// e.g. 0.86 → 11.8 GB in two minutes, anthropics/claude-code#31414).
const IDLE_GROWTH_BYTES_PER_SEC: usize = 1 << 20;

/// Touched, retained memory.
#[derive(Debug)]
pub(crate) struct Ballast {
    blocks: Vec<Vec<u8>>,
    held: usize,
    /// Bytes retained per second of idling.
    idle_growth: usize,
}

impl Default for Ballast {
    fn default() -> Self {
        Ballast {
            blocks: Vec::new(),
            held: 0,
            idle_growth: IDLE_GROWTH_BYTES_PER_SEC,
        }
    }
}

impl Ballast {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// A ballast that grows `bytes_per_sec` while idle instead of the default 1 MiB/s: the
    /// leaks users report (`--idle-leak-mib-per-min`).
    pub(crate) fn idle_growth(bytes_per_sec: usize) -> Self {
        Ballast {
            idle_growth: bytes_per_sec,
            ..Self::default()
        }
    }

    /// Retains memory for `transcript_bytes` newly appended bytes.
    pub(crate) fn grow_for_transcript(&mut self, transcript_bytes: usize) {
        self.hold(transcript_bytes.saturating_mul(RATIO));
    }

    /// Retains `bytes` more, writing one byte per page so the kernel backs every page.
    pub(crate) fn hold(&mut self, bytes: usize) {
        if bytes == 0 {
            return;
        }
        // Zeroed allocations map untouched zero pages; writing makes them resident.
        let mut block = vec![0u8; bytes];
        for (i, byte) in block.iter_mut().step_by(PAGE).enumerate() {
            *byte = (i % 251) as u8 | 1;
        }
        std::hint::black_box(&block);
        self.held += bytes;
        self.blocks.push(block);
    }

    /// Waits like an idle agent does: holding on to a little more memory as time passes (the
    /// idle growth users report), so the idle-slope figure has something to measure.
    pub(crate) async fn idle(&mut self, duration: std::time::Duration) {
        const STEP: std::time::Duration = std::time::Duration::from_millis(50);
        let mut left = duration;
        while !left.is_zero() {
            let step = left.min(STEP);
            tokio::time::sleep(step).await;
            self.hold((self.idle_growth as f64 * step.as_secs_f64()) as usize);
            left -= step;
        }
    }

    pub(crate) fn held(&self) -> usize {
        self.held
    }
}
