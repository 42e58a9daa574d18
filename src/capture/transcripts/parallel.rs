//! Reading many files on every core: one file a job, handed out largest first, so one big
//! file never leaves a core idle at the end (the Codex and Gemini CLI imports).

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The worker count `threads` asks for: 0 means one per core.
pub fn worker_count(threads: usize) -> usize {
    match threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
}

/// `read(i)` for every `i < sizes.len()`, on up to `threads` threads named `name`, the largest
/// `sizes[i]` first; the results in index order.
pub fn largest_first<T: Send>(
    sizes: &[u64],
    threads: usize,
    name: &str,
    read: impl Fn(usize) -> T + Sync,
) -> Vec<T> {
    let mut order: Vec<usize> = (0..sizes.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(sizes[i]));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, T)>> = Mutex::new(Vec::with_capacity(sizes.len()));
    let work = || {
        let mut mine = Vec::new();
        while let Some(&index) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
            mine.push((index, read(index)));
        }
        match results.lock() {
            Ok(mut all) => all.extend(mine),
            Err(poisoned) => poisoned.into_inner().extend(mine),
        }
    };
    std::thread::scope(|scope| {
        for _ in 1..threads.min(sizes.len().max(1)) {
            // A thread that cannot be started only means less parallelism.
            let _ = std::thread::Builder::new()
                .name(name.to_string())
                .spawn_scoped(scope, work);
        }
        work();
    });
    let mut all = match results.into_inner() {
        Ok(all) => all,
        Err(poisoned) => poisoned.into_inner(),
    };
    all.sort_by_key(|(index, _)| *index);
    all.into_iter().map(|(_, result)| result).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_job_once_in_index_order() {
        let sizes = [5, 1, 9, 3, 7];
        let out = largest_first(&sizes, 3, "test", |i| i * 10);
        assert_eq!(out, [0, 10, 20, 30, 40]);
        assert!(largest_first(&[], 4, "test", |i| i).is_empty());
    }
}
