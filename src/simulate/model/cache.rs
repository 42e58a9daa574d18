//! The prompt cache of one prefix: what a call reads from it and what it writes.

/// What the server holds for one prefix (one cache key).
#[derive(Debug, Clone, Copy)]
pub struct PromptCache {
    pub(super) cached: u64,
    pub(super) last_use: f64,
}

impl PromptCache {
    pub const COLD: PromptCache = PromptCache {
        cached: 0,
        last_use: f64::NEG_INFINITY,
    };

    /// A call over `[start, end)` whose cacheable part is `cacheable` tokens: how many it
    /// reads and how many it writes. `hit` is false when the server lost a warm prefix.
    pub fn use_prefix(
        &mut self,
        start: f64,
        end: f64,
        cacheable: u64,
        ttl: f64,
        hit: bool,
    ) -> (u64, u64) {
        let warm = self.cached > 0 && start - self.last_use <= ttl && hit;
        let read = if warm { self.cached.min(cacheable) } else { 0 };
        self.cached = cacheable;
        self.last_use = end;
        (read, cacheable - read)
    }

    pub fn cached(&self) -> u64 {
        self.cached
    }
}
