//! The supervisor's descendants, read from `/proc`.
//!
//! The supervisor is a child subreaper, so every process its child starts stays below it:
//! one that loses its parent (`setsid` plus a double fork, say) is re-parented to the
//! supervisor, never to init. A scan of `/proc/*/stat` therefore finds the whole tree.

use std::collections::HashMap;

/// One process of the tree.
#[derive(Debug, Clone, Copy)]
pub struct Proc {
    pub pid: i32,
    /// Threads of the process (each counts against `RLIMIT_NPROC`).
    pub threads: u64,
    /// Resident set in bytes.
    pub rss_bytes: u64,
    /// CPU time in clock ticks: its own and that of the children it has waited for.
    pub cpu_ticks: u64,
    /// CPU time in clock ticks of this process alone (all its threads).
    pub own_ticks: u64,
    /// Start time in clock ticks since boot: with the pid, it names the process (pids are
    /// reused).
    pub start: u64,
}

impl Proc {
    fn of(pid: i32, st: &Stat, page: u64) -> Proc {
        Proc {
            pid,
            threads: st.threads,
            rss_bytes: st.rss_pages * page,
            cpu_ticks: st.cpu,
            own_ticks: st.own,
            start: st.start,
        }
    }
}

/// What one `/proc/<pid>/stat` line says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stat {
    ppid: i32,
    threads: u64,
    /// Own plus waited-for children's CPU ticks.
    cpu: u64,
    own: u64,
    start: u64,
    rss_pages: u64,
}

/// Parses `/proc/<pid>/stat`. The command name sits in parentheses and may itself contain
/// spaces and parentheses, so fields are counted from the last `)`.
fn parse_stat(text: &str) -> Option<Stat> {
    let rest = &text[text.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // f[0] is field 3 (state); field n is f[n - 3].
    let num = |n: usize| f.get(n - 3).and_then(|s| s.parse::<u64>().ok());
    let own = num(14)? + num(15)?;
    Some(Stat {
        ppid: f.get(1)?.parse::<i32>().ok()?,
        threads: num(20)?,
        cpu: own + num(16)? + num(17)?,
        own,
        start: num(22)?,
        rss_pages: num(24)?,
    })
}

/// Every live descendant of `root_pid` (zombies included until reaped). Walks the
/// `children` lists of each process's threads, reading only the tree; where the kernel has no
/// such lists (`CONFIG_PROC_CHILDREN`), scans all of `/proc`.
pub fn descendants(root_pid: i32) -> Vec<Proc> {
    // SAFETY: sysconf has no preconditions.
    let page = u64::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
    let Some(kids) = children_of(root_pid) else {
        return descendants_by_scan(root_pid, page);
    };
    let mut out = Vec::new();
    let mut stack = kids;
    while let Some(pid) = stack.pop() {
        let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some(st) = parse_stat(&text) else {
            continue;
        };
        out.push(Proc::of(pid, &st, page));
        if let Some(more) = children_of(pid) {
            stack.extend(more);
        }
    }
    out
}

/// The children of every thread of `pid` (`/proc/<pid>/task/<tid>/children`); `None` when
/// the kernel does not provide the lists.
fn children_of(pid: i32) -> Option<Vec<i32>> {
    // Whether the kernel has the lists at all, asked once: without them every tick would try
    // first and scan anyway.
    static LISTS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let has_lists = LISTS.get_or_init(|| {
        // SAFETY: gettid has no preconditions.
        let tid = unsafe { libc::gettid() };
        std::path::Path::new(&format!("/proc/self/task/{tid}/children")).exists()
    });
    if !*has_lists {
        return None;
    }
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut out = Vec::new();
    for t in tasks.flatten() {
        let Ok(text) = std::fs::read_to_string(t.path().join("children")) else {
            continue;
        };
        out.extend(
            text.split_whitespace()
                .filter_map(|s| s.parse::<i32>().ok()),
        );
    }
    Some(out)
}

fn descendants_by_scan(root_pid: i32, page: u64) -> Vec<Proc> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut children: HashMap<i32, Vec<Proc>> = HashMap::new();
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        if let Some(st) = parse_stat(&text) {
            children
                .entry(st.ppid)
                .or_default()
                .push(Proc::of(pid, &st, page));
        }
    }
    let mut out = Vec::new();
    let mut stack = vec![root_pid];
    while let Some(p) = stack.pop() {
        if let Some(kids) = children.remove(&p) {
            for k in kids {
                stack.push(k.pid);
                out.push(k);
            }
        }
    }
    out
}

/// Sends `sig` to every descendant.
pub fn signal_all(root_pid: i32, sig: i32) {
    for p in descendants(root_pid) {
        // SAFETY: kill only sends a signal; a pid that is gone gives ESRCH.
        unsafe {
            libc::kill(p.pid, sig);
        }
    }
}

/// Reaps every child that has ended; returns (pid, wait status) pairs.
pub fn reap() -> Vec<(i32, i32)> {
    let mut out = Vec::new();
    loop {
        let mut status = 0;
        // SAFETY: waitpid with a valid pointer.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        if pid <= 0 {
            return out;
        }
        out.push((pid, status));
    }
}

/// This process's pid as `/proc` numbers it. Inside a job whose PID namespace could not
/// mount a `/proc` of its own (a container with masked paths), `/proc` shows the pids of an
/// outer namespace, and they are not the numbers `getpid` and `kill` use.
pub fn proc_self_pid() -> Option<i32> {
    std::fs::read_link("/proc/self")
        .ok()?
        .to_str()?
        .parse()
        .ok()
}

/// The pid of `/proc`'s process `pid` in that process's own PID namespace (the last
/// `NSpid:` entry of its status): the number `kill` takes from a process of that namespace.
fn pid_in_own_namespace(pid: i32) -> Option<i32> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text.lines().find_map(|l| l.strip_prefix("NSpid:"))?;
    line.split_whitespace().last()?.parse().ok()
}

/// [`kill_all`] for a process that may see a foreign `/proc` (see [`proc_self_pid`]): the
/// tree is read below this process as `/proc` numbers it, and each pid is translated to the
/// caller's namespace before the signal.
pub fn kill_all_below_self() {
    // SAFETY: getpid has no preconditions.
    let me = unsafe { libc::getpid() };
    let Some(proc_me) = proc_self_pid() else {
        kill_all(me);
        return;
    };
    if proc_me == me {
        kill_all(me);
        return;
    }
    for _ in 0..10_000u32 {
        let procs: Vec<i32> = descendants(proc_me)
            .iter()
            .filter_map(|p| pid_in_own_namespace(p.pid))
            .collect();
        reap();
        if procs.is_empty() {
            break;
        }
        for sig in [libc::SIGSTOP, libc::SIGKILL] {
            for &p in &procs {
                // SAFETY: kill only sends a signal.
                unsafe {
                    libc::kill(p, sig);
                }
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
        reap();
    }
}

/// Kills the whole tree: stops every process first (so none can fork while the others die),
/// then kills them, and repeats until no descendant is left. Returns what was reaped.
pub fn kill_all(root_pid: i32) -> Vec<(i32, i32)> {
    let mut reaped = Vec::new();
    for round in 0..10_000u32 {
        let procs = descendants(root_pid);
        reaped.extend(reap());
        if procs.is_empty() {
            break;
        }
        for p in &procs {
            // SAFETY: as in signal_all.
            unsafe {
                libc::kill(p.pid, libc::SIGSTOP);
            }
        }
        for p in &procs {
            // SAFETY: as in signal_all.
            unsafe {
                libc::kill(p.pid, libc::SIGKILL);
            }
        }
        if round > 0 {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        reaped.extend(reap());
    }
    reaped
}

/// What the tree uses now.
#[derive(Debug, Default, Clone, Copy)]
pub struct Usage {
    pub tasks: u64,
    pub rss_bytes: u64,
    pub cpu_ticks: u64,
}

pub fn usage(procs: &[Proc]) -> Usage {
    procs.iter().fold(Usage::default(), |u, p| Usage {
        tasks: u.tasks + p.threads.max(1),
        rss_bytes: u.rss_bytes + p.rss_bytes,
        cpu_ticks: u.cpu_ticks + p.cpu_ticks,
    })
}

/// Memory the tree really holds, in bytes: the sum of each process's proportional set size
/// (`Pss:` of `/proc/<pid>/smaps_rollup`). Summed RSS counts a page that processes share after
/// `fork` once per process, so a tree of forked Pythons would look many times its size; PSS
/// splits each shared page among its sharers and sums to the true total. A process whose PSS
/// cannot be read (it made itself non-dumpable, say) counts with its whole RSS.
pub fn proportional_bytes(root_pid: i32) -> u64 {
    descendants(root_pid)
        .iter()
        .map(|p| pss_bytes(p.pid).unwrap_or_else(|| rss_now(p.pid)))
        .sum()
}

/// The resident set of `pid` read again: 0 for a process that has ended since the tree was
/// read (its memory is gone; counting its earlier RSS would charge a tree whose children all
/// exit at once with memory nobody holds any more).
fn rss_now(pid: i32) -> u64 {
    let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0;
    };
    let state = text
        .rfind(')')
        .and_then(|i| text[i + 1..].split_whitespace().next());
    if matches!(state, Some("Z") | Some("X") | None) {
        return 0;
    }
    // SAFETY: sysconf has no preconditions.
    let page = u64::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
    parse_stat(&text).map_or(0, |st| st.rss_pages * page)
}

/// `Pss:` of `/proc/<pid>/smaps_rollup` in bytes.
fn pss_bytes(pid: i32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    parse_pss(&text)
}

fn parse_pss(smaps_rollup: &str) -> Option<u64> {
    let line = smaps_rollup.lines().find(|l| l.starts_with("Pss:"))?;
    let kib = line.split_whitespace().nth(1)?.parse::<u64>().ok()?;
    Some(kib * 1024)
}

/// What the tree's open descriptors hold.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct OpenFiles {
    /// The most descriptors any one process has open.
    pub most_in_one_process: u64,
    /// Bytes of `memfd` files: memory that no process's resident set shows until mapped.
    pub memfd_bytes: u64,
    /// Bytes of regular files that are open but no longer have a name: disk that no walk
    /// of the job root finds.
    pub unlinked_bytes: u64,
}

/// Reads every descriptor of the tree (`/proc/<pid>/fd`); a file open in several processes
/// counts once.
pub fn open_files(root_pid: i32) -> OpenFiles {
    use std::os::unix::fs::MetadataExt;
    let mut out = OpenFiles::default();
    let mut seen = std::collections::HashSet::new();
    for p in descendants(root_pid) {
        let Ok(dir) = std::fs::read_dir(format!("/proc/{}/fd", p.pid)) else {
            continue;
        };
        let mut n = 0u64;
        for entry in dir.flatten() {
            n += 1;
            let Ok(target) = std::fs::read_link(entry.path()) else {
                continue;
            };
            let t = target.as_os_str().as_encoded_bytes();
            let memfd = t.starts_with(b"/memfd:");
            if !memfd && !t.ends_with(b" (deleted)") {
                continue;
            }
            // The magic link opens the file itself, name or not.
            let Ok(meta) = std::fs::metadata(entry.path()) else {
                continue;
            };
            if !meta.is_file() || meta.nlink() > 0 || !seen.insert((meta.dev(), meta.ino())) {
                continue;
            }
            if memfd {
                out.memfd_bytes += meta.blocks() * 512;
            } else {
                out.unlinked_bytes += meta.blocks() * 512;
            }
        }
        out.most_in_one_process = out.most_in_one_process.max(n);
    }
    out
}

/// CPU time of a tree, processes that are gone included. The kernel adds a child's CPU time
/// to its parent's only when the parent waits for it: the children of a parent that ignores
/// `SIGCHLD` are reaped by the kernel and their time is added to nobody's. So every process
/// seen is remembered with its own time, and what the ones that have gone used last counts
/// on.
#[derive(Debug, Default)]
pub struct CpuLedger {
    live: HashMap<(i32, u64), u64>,
    gone_ticks: u64,
}

impl CpuLedger {
    /// Takes a new reading of the tree; returns the ticks used by every process ever seen.
    pub fn update(&mut self, procs: &[Proc]) -> u64 {
        let mut live = HashMap::with_capacity(procs.len());
        let mut live_ticks = 0;
        for p in procs {
            live.insert((p.pid, p.start), p.own_ticks);
            live_ticks += p.own_ticks;
        }
        for (key, ticks) in self.live.drain() {
            if !live.contains_key(&key) {
                self.gone_ticks += ticks;
            }
        }
        self.live = live;
        live_ticks + self.gone_ticks
    }
}

/// Tasks (threads) that belong to uid `uid` right now: the base `RLIMIT_NPROC` is counted from.
pub fn tasks_of_uid(uid: u32) -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let mut n = 0;
    for entry in dir.flatten() {
        if entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
            .is_none()
        {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(entry.path().join("status")) else {
            continue;
        };
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse::<u64>().ok())
        };
        if field("Uid:") == Some(u64::from(uid)) {
            n += field("Threads:").unwrap_or(1);
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_with_odd_names_parse() {
        let line = "42 (a) b (c)) S 7 42 42 0 -1 4194560 100 0 0 0 11 22 33 44 20 0 3 0 5 1000 250 18446744073709551615";
        let st = parse_stat(line).unwrap();
        assert_eq!(
            (st.ppid, st.threads, st.cpu, st.own, st.start, st.rss_pages),
            (7, 3, 110, 33, 5, 250)
        );
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn pss_is_read_from_smaps_rollup() {
        let text = "55d0-7ffe ---p 00000000 00:00 0 [rollup]\nRss: 9000 kB\nPss: 2345 kB\nPss_Anon: 1000 kB\n";
        assert_eq!(parse_pss(text), Some(2345 * 1024));
        assert_eq!(parse_pss("Rss: 1 kB\n"), None);
    }

    /// Children forked from a process with 64 MiB touched each show all of it as RSS, but
    /// their proportional sizes share it: the memory limit must see it once, not per child.
    #[test]
    fn pages_shared_after_fork_count_once() {
        const MIB: usize = 1 << 20;
        let mut block = vec![0u8; 64 * MIB];
        for i in (0..block.len()).step_by(4096) {
            block[i] = 1;
        }
        let mut kids = Vec::new();
        for _ in 0..3 {
            // SAFETY: the child only sleeps in `pause` (async-signal-safe) until it is killed.
            let pid = unsafe { libc::fork() };
            assert!(pid >= 0, "fork failed");
            if pid == 0 {
                loop {
                    // SAFETY: as above.
                    unsafe { libc::pause() };
                }
            }
            kids.push(pid);
        }
        // Give the children a moment to exist in /proc.
        std::thread::sleep(std::time::Duration::from_millis(100));
        let me = std::process::id() as i32;
        let procs: Vec<Proc> = descendants(me)
            .into_iter()
            .filter(|p| kids.contains(&p.pid))
            .collect();
        let rss: u64 = procs.iter().map(|p| p.rss_bytes).sum();
        let pss: Option<u64> = procs.iter().map(|p| pss_bytes(p.pid)).sum();
        for &k in &kids {
            // SAFETY: killing and reaping our own children.
            unsafe {
                libc::kill(k, libc::SIGKILL);
                libc::waitpid(k, std::ptr::null_mut(), 0);
            }
        }
        std::hint::black_box(&block);
        assert_eq!(procs.len(), 3);
        let pss = pss.expect("own children's smaps_rollup is readable");
        let touched = 64 * MIB as u64;
        assert!(rss >= 3 * touched, "each child maps the 64 MiB: rss {rss}");
        // The parent holds a quarter of each shared page, so the children hold 3/4 of 64 MiB
        // plus their little private memory: far below the 192 MiB their RSS adds up to.
        assert!(pss < 2 * touched, "shared pages counted once: pss {pss}");
        assert!(
            pss >= touched / 2,
            "the children's share is counted: pss {pss}"
        );
    }

    #[test]
    fn own_children_are_found() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let me = std::process::id() as i32;
        let found = descendants(me).iter().any(|p| p.pid == child.id() as i32);
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(found);
        // SAFETY: getuid has no preconditions.
        assert!(tasks_of_uid(unsafe { libc::getuid() }) >= 1);
    }
}
