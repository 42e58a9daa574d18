//! Client RAM of one workstation: every agent process's RSS, summed on a time grid.
//!
//! A cell holds, per process, the highest RSS the process reached in that cell (a process
//! only grows, except across a restart, which is a new process), summed over processes. For a
//! process that lives through the cell this is its RSS at the cell's end; one that exits
//! counts with its RSS at exit. Processes leak at their idle slope only between turns.

/// The workstation's grid for one developer (reused between developers).
#[derive(Debug, Clone)]
pub struct RamGrid {
    pub cells: Vec<f64>,
    cell_s: f64,
}

impl RamGrid {
    pub fn new(cells: usize, cell_s: f64) -> RamGrid {
        RamGrid {
            cells: vec![0.0; cells],
            cell_s,
        }
    }

    pub fn clear(&mut self) {
        self.cells.fill(0.0);
    }

    fn cell_end(&self, cell: usize) -> f64 {
        (cell + 1) as f64 * self.cell_s
    }

    /// A process of constant RSS alive over `[t0, t1)` (a sub-agent process).
    pub fn add_span(&mut self, t0: f64, t1: f64, bytes: f64) {
        if t1 <= t0 || self.cells.is_empty() {
            return;
        }
        let last = self.cells.len() - 1;
        let first = (t0 / self.cell_s) as usize;
        if first > last {
            return;
        }
        let end = ((t1 / self.cell_s).ceil() as usize)
            .saturating_sub(1)
            .clamp(first, last);
        for cell in &mut self.cells[first..=end] {
            *cell += bytes;
        }
    }
}

/// One process's RSS over its life.
#[derive(Debug, Clone)]
pub struct ProcessRam {
    /// RSS at `at`.
    rss: f64,
    at: f64,
    /// Idle growth, bytes per second.
    slope: f64,
    cap: f64,
    /// First cell not yet written.
    next_cell: usize,
    /// Highest RSS seen so far in `next_cell`.
    cell_max: f64,
}

impl ProcessRam {
    pub fn start(t: f64, base: f64, slope_per_hour: f64, cap: f64, grid: &RamGrid) -> ProcessRam {
        let rss = base.min(cap);
        ProcessRam {
            rss,
            at: t,
            slope: slope_per_hour / 3600.0,
            cap,
            next_cell: (t / grid.cell_s) as usize,
            cell_max: rss,
        }
    }

    pub fn rss(&self) -> f64 {
        self.rss
    }

    /// Idle (leaking) until `t`.
    pub fn idle_until(&mut self, t: f64, grid: &mut RamGrid) {
        self.advance(t, true, grid);
    }

    /// Busy (in a turn, not leaking) until `t`.
    pub fn busy_until(&mut self, t: f64, grid: &mut RamGrid) {
        self.advance(t, false, grid);
    }

    /// Keeps `bytes` more (after a turn).
    pub fn grow(&mut self, bytes: f64) {
        self.rss = (self.rss + bytes).min(self.cap);
        self.cell_max = self.cell_max.max(self.rss);
    }

    /// `n` identical cycles after the current state: idle until `first + w·interval`, busy
    /// for `busy.1` seconds, keeping `growth` more bytes `busy.0` seconds into each (the end of
    /// the turn, before its forks). The closed form of calling `idle_until`, `busy_until` and
    /// `grow` per cycle.
    pub fn cycles(
        &mut self,
        (first, interval): (f64, f64),
        (grow_after, busy): (f64, f64),
        growth: f64,
        n: u64,
        grid: &mut RamGrid,
    ) {
        if n == 0 {
            return;
        }
        let gap0 = (first - self.at).max(0.0);
        let idle_gap = (interval - busy).max(0.0);
        let end = first + (n - 1) as f64 * interval + busy;
        let rss_at = |tau: f64| -> f64 {
            let u = tau - first;
            if u < 0.0 {
                return self.rss + self.slope * (tau - self.at);
            }
            let c = ((u / interval).floor() as u64).min(n - 1);
            let offset = u - c as f64 * interval;
            let grown = c + u64::from(offset >= grow_after);
            let idle = gap0 + c as f64 * idle_gap + (offset - busy).max(0.0);
            self.rss + self.slope * idle + growth * grown as f64
        };
        let cells = grid.cells.len();
        let mut cell_max = self.cell_max;
        while self.next_cell < cells {
            let cell_end = grid.cell_end(self.next_cell);
            if cell_end > end {
                break;
            }
            let value = rss_at(cell_end).min(self.cap);
            grid.cells[self.next_cell] += cell_max.max(value);
            self.next_cell += 1;
            cell_max = value;
        }
        let rss = (self.rss + self.slope * (gap0 + (n - 1) as f64 * idle_gap) + growth * n as f64)
            .min(self.cap);
        self.rss = rss;
        self.at = end;
        self.cell_max = cell_max.max(rss);
    }

    /// The process exits at `t` (idle until then).
    pub fn exit(mut self, t: f64, grid: &mut RamGrid) {
        self.idle_until(t, grid);
        if let Some(cell) = grid.cells.get_mut(self.next_cell) {
            *cell += self.cell_max;
        }
    }

    fn advance(&mut self, t: f64, leak: bool, grid: &mut RamGrid) {
        if t <= self.at {
            return;
        }
        let slope = if leak { self.slope } else { 0.0 };
        let n = grid.cells.len();
        while self.next_cell < n {
            let end = grid.cell_end(self.next_cell);
            if end > t {
                break;
            }
            let at_end = (self.rss + slope * (end - self.at)).min(self.cap);
            grid.cells[self.next_cell] += self.cell_max.max(at_end);
            self.next_cell += 1;
            self.cell_max = at_end;
        }
        self.rss = (self.rss + slope * (t - self.at)).min(self.cap);
        self.at = t;
        self.cell_max = self.cell_max.max(self.rss);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_writes_its_value_at_each_cell_end() {
        let mut grid = RamGrid::new(4, 10.0);
        // 100 bytes, leaking 36 000 B/h = 10 B/s.
        let mut p = ProcessRam::start(5.0, 100.0, 36_000.0, 1e9, &grid);
        p.idle_until(12.0, &mut grid); // cell 0 closes at 10 s: 100 + 5 × 10
        p.busy_until(22.0, &mut grid); // no leak: cell 1 closes at 170
        p.grow(1000.0);
        p.exit(25.0, &mut grid); // cell 2: 1170 + 3 × 10
        assert_eq!(grid.cells, vec![150.0, 170.0, 1200.0, 0.0]);
    }

    #[test]
    fn the_cap_holds_and_spans_add_up() {
        let mut grid = RamGrid::new(3, 10.0);
        let mut p = ProcessRam::start(0.0, 100.0, 3.6e9, 500.0, &grid);
        p.idle_until(30.0, &mut grid);
        p.exit(30.0, &mut grid);
        assert_eq!(grid.cells, vec![500.0, 500.0, 500.0]);
        grid.add_span(5.0, 15.0, 7.0);
        assert_eq!(grid.cells, vec![507.0, 507.0, 500.0]);
    }
}
