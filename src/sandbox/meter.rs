//! The limits of a whole run, measured by the supervisor: processes, memory, CPU time, open
//! files, disk. Passing one ends the run with [`Report::LimitExceeded`] (R7).
//!
//! What each reading covers, and why:
//! * processes and threads of the tree (the creator and the init of the run's namespaces
//!   not counted);
//! * memory: what the tree holds (shared pages once, see [`tree::proportional_bytes`]) plus
//!   `memfd` files, which hold memory no resident set shows until they are mapped;
//! * CPU: every process ever seen, gone ones included ([`tree::CpuLedger`]), or what the
//!   kernel added up for waited-for children, whichever is more;
//! * disk: the job root walked by descriptor (paths past `PATH_MAX` included, nesting capped
//!   at [`disk::MAX_DEPTH`]), plus files still open but unlinked;
//! * the most descriptors one process holds.

use std::time::{Duration, Instant};

use super::policy::{Policy, Report};
use super::{disk, namespaces, tree};

/// Disk and descriptors are read less often than processes: a walk costs more.
const DISK_EVERY: Duration = Duration::from_millis(300);

/// State between readings.
pub struct Meter<'a> {
    policy: &'a Policy,
    me: i32,
    ticks_per_s: u64,
    cpu: tree::CpuLedger,
    last_disk: Instant,
    /// From the last descriptor scan.
    open: tree::OpenFiles,
    /// Tasks of the run that are not the program's.
    overhead: u64,
}

fn exceeded(limit: &str, detail: String) -> Option<Report> {
    Some(Report::LimitExceeded {
        limit: limit.into(),
        detail,
    })
}

impl<'a> Meter<'a> {
    pub fn new(policy: &'a Policy, me: i32) -> Meter<'a> {
        // SAFETY: sysconf has no preconditions.
        let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        Meter {
            policy,
            me,
            ticks_per_s: u64::try_from(ticks).unwrap_or(100).max(1),
            cpu: tree::CpuLedger::default(),
            last_disk: Instant::now() - DISK_EVERY,
            open: tree::OpenFiles::default(),
            overhead: if policy.isolation.is_some() {
                namespaces::OVERHEAD_TASKS
            } else {
                0
            },
        }
    }

    /// One reading; the first limit passed, if any.
    pub fn over_limit(&mut self) -> Option<Report> {
        let l = &self.policy.limits;
        let procs = tree::descendants(self.me);
        let usage = tree::usage(&procs);
        // At the limit counts: the next fork fails with EAGAIN, so a run that reaches it is a
        // fork bomb or broken, and either way will not end well.
        let tasks = usage.tasks.saturating_sub(self.overhead);
        if tasks >= l.processes {
            return exceeded("processes", format!("{tasks} processes or threads"));
        }
        if self.last_disk.elapsed() >= DISK_EVERY {
            self.last_disk = Instant::now();
            self.open = tree::open_files(self.me);
            // RLIMIT_NOFILE makes the next open fail; a process at the limit has hit it.
            if self.open.most_in_one_process >= l.open_files {
                let n = self.open.most_in_one_process;
                return exceeded("open files", format!("{n} files open in one process"));
            }
            if let Some(r) = self.over_disk_limit() {
                return Some(r);
            }
        }
        // RSS never undercounts, so it is the cheap first test; a tree over the limit by RSS
        // is measured again by PSS, which counts pages shared after fork once.
        let memfd = self.open.memfd_bytes;
        if usage.rss_bytes + memfd > l.memory_bytes {
            let held = tree::proportional_bytes(self.me) + memfd;
            if held > l.memory_bytes {
                let detail = if memfd > 0 {
                    format!(
                        "{} MiB resident, {} MiB of it in memfd files",
                        held >> 20,
                        memfd >> 20
                    )
                } else {
                    format!("{} MiB resident", held >> 20)
                };
                return exceeded("memory", detail);
            }
        }
        let seen = self.cpu.update(&procs);
        let waited = usage.cpu_ticks + reaped_cpu_ticks(self.ticks_per_s);
        let cpu = seen.max(waited) / self.ticks_per_s;
        if cpu >= l.cpu_seconds {
            return exceeded("cpu", format!("{cpu} s of CPU time"));
        }
        None
    }

    /// The job root's disk use (and unlinked files from the last descriptor scan).
    pub fn over_disk_limit(&self) -> Option<Report> {
        let l = &self.policy.limits;
        let used = disk::measure(&self.policy.root, l.disk_bytes, l.disk_entries);
        let unlinked = self.open.unlinked_bytes;
        if used.too_deep {
            exceeded(
                "disk",
                format!(
                    "directories nested deeper than {} levels in the job directory",
                    disk::MAX_DEPTH
                ),
            )
        } else if used.bytes + unlinked > l.disk_bytes {
            let detail = if unlinked > 0 {
                format!(
                    "over {} MiB in the job directory ({} MiB in files deleted but still open)",
                    l.disk_bytes >> 20,
                    unlinked >> 20
                )
            } else {
                format!("over {} MiB in the job directory", l.disk_bytes >> 20)
            };
            exceeded("disk", detail)
        } else if used.entries > l.disk_entries {
            exceeded(
                "disk",
                format!("over {} files in the job directory", l.disk_entries),
            )
        } else if used.largest_file >= l.file_size_bytes {
            // RLIMIT_FSIZE stops a file at the limit: one that reached it was cut there.
            exceeded(
                "file size",
                format!("a file reached {} MiB", l.file_size_bytes >> 20),
            )
        } else {
            None
        }
    }
}

/// CPU time of the descendants already reaped (by us or by their parents, up to us).
fn reaped_cpu_ticks(ticks_per_s: u64) -> u64 {
    // SAFETY: getrusage with a valid pointer.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) };
    let us = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    (us(ru.ru_utime) + us(ru.ru_stime)) * ticks_per_s / 1_000_000
}
