//! Tests of the Linux process table: the `/proc` parsers, and reads of this very process.

use super::*;

#[test]
fn parses_stat_with_a_hostile_command_name() {
    let line = b"4242 (a) b (c) S 17 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 3 0 \
                     987654 10000 2560 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
    assert_eq!(
        parse_stat(line),
        Some(StatFields {
            state: b'S',
            ppid: 17,
            flags: 4_194_560,
            num_threads: 3,
            start_time: 987_654,
            rss_pages: 2560,
            comm_hash: parse_stat(b"1 (a) b (c) S 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0")
                .map_or(0, |f| f.comm_hash),
        })
    );
    let other = parse_stat(b"1 (a) b (d) S 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0");
    assert!(other.is_some_and(|f| f.comm_hash != parse_stat(line).map_or(0, |f| f.comm_hash)));
    assert_eq!(parse_stat(b"4242 (x) S 1 2"), None);
    assert_eq!(parse_stat(b""), None);
}

#[test]
fn reads_kib_fields() {
    let status = b"Name:\tx\nVmPeak:\t  10 kB\nVmHWM:\t    2380 kB\nVmRSS:\t 1 kB\n";
    assert_eq!(kib_field(status, "VmHWM"), Some(2380 * 1024));
    assert_eq!(kib_field(status, "VmHW"), None);
    let rollup =
        b"55ac-7ffd ---p 0 00:00 0 [rollup]\nRss: 3952 kB\nPss_Anon: 538 kB\nPss: 1037 kB\n";
    assert_eq!(kib_field(rollup, "Pss"), Some(1037 * 1024));
    assert_eq!(kib_field(b"", "Pss"), None);
}

impl LinuxProcessTable {
    fn held_is_consistent(&self) -> bool {
        self.held == self.entries.values().map(Entry::held_files).sum::<usize>()
    }
}

#[test]
fn reads_this_process() {
    let Ok(mut table) = LinuxProcessTable::new() else {
        panic!("no process table");
    };
    let me = std::process::id();
    table.refresh_new(&[me]);
    let info = table.info(me).expect("own info");
    assert_eq!(info.state, ProcState::Alive);
    assert_eq!(info.kind, ProcKind::Process);
    assert_eq!(
        info.ppid,
        procfs::process::Process::myself()
            .and_then(|p| p.stat())
            .ok()
            .map(|s| s.ppid as u32)
    );
    assert!(table.rss_bytes(me).is_some_and(|rss| rss > 1 << 20));
    let command = table.command(me).expect("own command");
    assert_eq!(command.exe, std::env::current_exe().ok());
    assert!(!command.argv.is_empty());
    let reading = table.pss_and_peak(me);
    assert!(reading.pss_bytes.is_some_and(|p| p > 0));
    assert!(reading.peak_rss_bytes.is_some_and(|p| p > 1 << 20));
    // A thread is a thread, not a process. Our own, kept alive while it is looked at: another
    // test's thread picked from /proc/self/task may exit before it is read (seen once).
    let (tid_tx, tid_rx) = std::sync::mpsc::channel();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let thread = std::thread::spawn(move || {
        // /proc/thread-self -> "PID/task/TID"
        let link = std::fs::read_link("/proc/thread-self").expect("thread-self");
        let tid: u32 = link
            .file_name()
            .and_then(|n| n.to_str()?.parse().ok())
            .expect("tid");
        tid_tx.send(tid).expect("send tid");
        let _ = done_rx.recv();
    });
    let tid = tid_rx.recv().expect("tid from the thread");
    assert_ne!(tid, me);
    table.refresh_new(&[tid]);
    assert_eq!(table.info(tid).map(|i| i.kind), Some(ProcKind::Thread));
    done_tx.send(()).expect("release the thread");
    thread.join().expect("thread");
    // kthreadd is a kernel thread.
    table.refresh_new(&[KTHREADD_PID]);
    if let Some(info) = table.info(KTHREADD_PID) {
        assert_eq!(info.kind, ProcKind::KernelThread);
    }
    let mut children = Vec::new();
    assert!(table.children(me, &mut children));
    assert!(table.held_is_consistent());
    // A later refresh that doesn't name them releases them.
    table.refresh(&[me]);
    assert!(table.info(KTHREADD_PID).is_none());
    assert!(table.info(me).is_some());
    assert!(table.command(me).is_some(), "command survives refreshes");
    assert!(table.held_is_consistent());
    table.refresh(&[]);
    assert_eq!(table.held, 0);
}
