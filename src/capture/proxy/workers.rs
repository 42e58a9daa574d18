//! The proxy's worker threads: each runs a single-threaded tokio runtime and serves the
//! connections handed to it, with its own copy of the per-worker state (the request handler
//! and its pooled upstream client).
//!
//! Why not one multi-threaded runtime: measured with `scripts/bench-proxy`, a request through
//! the proxy is a few tens of microseconds of CPU, and on a work-stealing runtime the tasks of
//! one call (client connection, upstream connection) land on different threads and wake each
//! other across cores; single-threaded runtimes keep a call on one thread, and one runtime per
//! core still uses every core for many connections (docs/performance.md has the figures).

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::runtime::Handle;
use tokio::sync::oneshot;

/// At most this many worker threads: an agent's traffic is a handful of concurrent calls, and
/// the machine's other cores belong to the agent and to the user's own work.
const MAX_WORKERS: usize = 2;

/// The running worker threads.
pub struct Workers<S> {
    slots: Vec<Slot<S>>,
}

struct Slot<S> {
    runtime: Handle,
    state: S,
    open: Arc<AtomicUsize>,
    stop: oneshot::Sender<()>,
}

/// A connection assigned to a worker: where to spawn it and the worker's state. The worker
/// counts it as open until this is dropped.
pub struct Assignment<S> {
    pub runtime: Handle,
    pub state: S,
    _open: OpenGuard,
}

struct OpenGuard(Arc<AtomicUsize>);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl<S: Clone> Workers<S> {
    /// Starts one worker per core, at most [`MAX_WORKERS`]; `make` gives each its state.
    pub fn start(mut make: impl FnMut() -> S) -> io::Result<Workers<S>> {
        let count = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, MAX_WORKERS);
        let mut slots = Vec::with_capacity(count);
        for i in 0..count {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let handle = runtime.handle().clone();
            let (stop, stopped) = oneshot::channel::<()>();
            std::thread::Builder::new()
                .name(format!("agentprof-proxy-{i}"))
                .spawn(move || {
                    // Runs the connections spawned onto it until told to stop (or until the
                    // proxy is gone). Dropping the runtime then waits for calls still being
                    // recorded on its blocking pool.
                    runtime.block_on(async {
                        let _ = stopped.await;
                    });
                })?;
            slots.push(Slot {
                runtime: handle,
                state: make(),
                open: Arc::new(AtomicUsize::new(0)),
                stop,
            });
        }
        Ok(Workers { slots })
    }

    /// The worker with the fewest open connections (the first of those tied).
    pub fn least_busy(&self) -> Option<Assignment<S>> {
        let slot = self
            .slots
            .iter()
            .min_by_key(|s| s.open.load(Ordering::Relaxed))?;
        slot.open.fetch_add(1, Ordering::Relaxed);
        Some(Assignment {
            runtime: slot.runtime.clone(),
            state: slot.state.clone(),
            _open: OpenGuard(slot.open.clone()),
        })
    }

    /// Lets every worker thread end once its runtime has nothing left to run.
    pub fn stop(self) {
        for slot in self.slots {
            let _ = slot.stop.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_go_to_the_least_busy_worker() {
        let Ok(workers) = Workers::start(|| ()) else {
            panic!("cannot start workers");
        };
        let n = workers.slots.len();
        let assigned: Vec<_> = (0..2 * n).filter_map(|_| workers.least_busy()).collect();
        for slot in &workers.slots {
            assert_eq!(slot.open.load(Ordering::Relaxed), 2);
        }
        drop(assigned);
        for slot in &workers.slots {
            assert_eq!(slot.open.load(Ordering::Relaxed), 0);
        }
        workers.stop();
    }
}
