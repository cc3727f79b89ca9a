//! What a confined child does to itself between `fork` and `execve`, in the supervisor.
//!
//! The supervisor is single-threaded, so allocating after `fork` is safe here. Everything
//! that can fail for reasons of the host (Landlock missing, a bad filter) was prepared
//! before the fork; a failure here is reported on the error pipe and the child exits 127.

use std::ffi::CString;
use std::os::fd::RawFd;
use std::path::Path;

use landlock::{RulesetCreated, RulesetStatus};

use super::policy::Limits;
use super::seccomp::Filters;

/// Everything prepared before the fork.
pub struct Prepared {
    pub program: CString,
    pub argv: Vec<CString>,
    pub env: Vec<CString>,
    pub cwd: CString,
    pub ruleset: RulesetCreated,
    pub filters: Filters,
    pub limits: Limits,
    /// `RLIMIT_NPROC`: in the job's own user namespace, the process limit plus the creator and
    /// the init; without one, the uid's tasks when the run started plus the process limit.
    pub nproc: u64,
}

/// Adds a read-only rule for `path` to the prepared ruleset (the job's own `/proc`, mounted
/// after the fork).
pub fn allow_read(mut p: Prepared, path: &Path) -> Result<Prepared, String> {
    p.ruleset = super::landlock_rules::add_read(p.ruleset, path)?;
    Ok(p)
}

/// Runs in the child; never returns.
pub fn enter(p: Prepared, err_fd: RawFd) -> ! {
    let why = match apply(p, err_fd) {
        Ok(never) => match never {},
        Err(why) => why,
    };
    let msg = why.as_bytes();
    // SAFETY: writing a buffer we own to our pipe, then exiting without running destructors.
    unsafe {
        libc::write(err_fd, msg.as_ptr().cast(), msg.len());
        libc::_exit(127);
    }
}

enum Never {}

fn os_err(what: &str) -> String {
    format!("{what}: {}", std::io::Error::last_os_error())
}

fn apply(p: Prepared, err_fd: RawFd) -> Result<Never, String> {
    // SAFETY (this whole function): plain system calls on values we own, in a fresh
    // single-threaded child.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut all);
        libc::sigprocmask(libc::SIG_SETMASK, &all, std::ptr::null_mut());
        // A write past RLIMIT_FSIZE fails with EFBIG instead of killing the writer: the
        // program can say why it stopped (git deletes its partial pack, so only its message
        // shows that a repository was too large), and its children inherit the disposition.
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        // Its own session: no terminal signals from the worker's group, and it is not in the
        // supervisor's process group.
        libc::setsid();
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if null < 0 || libc::dup2(null, 0) < 0 {
            return Err(os_err("stdin from /dev/null"));
        }
        if null > 2 {
            libc::close(null);
        }
        // The kernel's OOM killer picks confined processes before the worker. The supervisor
        // is non-dumpable, and so /proc/self files would belong to root: dumpable first (the
        // program is dumpable after execve anyway).
        libc::prctl(libc::PR_SET_DUMPABLE, 1, 0, 0, 0);
        let adj = libc::open(c"/proc/self/oom_score_adj".as_ptr(), libc::O_WRONLY);
        if adj < 0 || libc::write(adj, b"1000".as_ptr().cast(), 4) != 4 {
            return Err(os_err("oom_score_adj 1000"));
        }
        libc::close(adj);
        set_limits(&p.limits, p.nproc)?;
        drop_capabilities();
        if libc::chdir(p.cwd.as_ptr()) != 0 {
            return Err(os_err("chdir to the job directory"));
        }
    }
    let status = p
        .ruleset
        .restrict_self()
        .map_err(|e| format!("landlock: {e}"))?;
    if status.ruleset == RulesetStatus::NotEnforced {
        return Err("landlock: the ruleset is not enforced by this kernel".into());
    }
    seccompiler::apply_filter(&p.filters.main).map_err(|e| format!("seccomp: {e}"))?;
    seccompiler::apply_filter(&p.filters.compat).map_err(|e| format!("seccomp: {e}"))?;
    seccompiler::apply_filter(&p.filters.no_fallocate).map_err(|e| format!("seccomp: {e}"))?;
    // SAFETY: closing descriptors we do not need; argv/env are NUL-terminated arrays of
    // pointers into CStrings that outlive the call.
    unsafe {
        close_from(3, err_fd);
        let mut argv: Vec<*const libc::c_char> = p.argv.iter().map(|a| a.as_ptr()).collect();
        argv.push(std::ptr::null());
        let mut env: Vec<*const libc::c_char> = p.env.iter().map(|a| a.as_ptr()).collect();
        env.push(std::ptr::null());
        libc::execve(p.program.as_ptr(), argv.as_ptr(), env.as_ptr());
    }
    Err(os_err("execve"))
}

/// No capability survives `execve`, whatever the uid: in its own user namespace the child
/// holds every capability of that namespace until then, and a worker run as root would pass
/// root's on. The bounding set is emptied and root's special treatment switched off; without
/// `CAP_SETPCAP` (a non-root worker without namespaces) there is nothing to drop and the
/// calls fail harmlessly.
fn drop_capabilities() {
    const SECBIT_NOROOT: libc::c_ulong = 1 << 0;
    const SECBIT_NOROOT_LOCKED: libc::c_ulong = 1 << 1;
    const SECBIT_NO_SETUID_FIXUP: libc::c_ulong = 1 << 2;
    const SECBIT_NO_SETUID_FIXUP_LOCKED: libc::c_ulong = 1 << 3;
    // SAFETY: prctl with integer arguments only.
    unsafe {
        for cap in 0..64 {
            libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0);
        }
        libc::prctl(
            libc::PR_SET_SECUREBITS,
            SECBIT_NOROOT
                | SECBIT_NOROOT_LOCKED
                | SECBIT_NO_SETUID_FIXUP
                | SECBIT_NO_SETUID_FIXUP_LOCKED,
            0,
            0,
            0,
        );
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL,
            0,
            0,
            0,
        );
    }
}

/// Closes every descriptor from `first` on, except `keep`.
///
/// # Safety
/// Called between `fork` and `execve`: the caller must own every descriptor in the range
/// (nothing else in the child may use them afterwards).
unsafe fn close_from(first: u32, keep: RawFd) {
    let keep = keep as u32;
    // SAFETY: close_range only closes descriptors; the caller owns the whole range.
    unsafe {
        if keep >= first {
            if keep > first {
                libc::close_range(first, keep - 1, 0);
            }
            libc::close_range(keep + 1, u32::MAX, 0);
        } else {
            libc::close_range(first, u32::MAX, 0);
        }
    }
}

fn set_limits(l: &Limits, nproc: u64) -> Result<(), String> {
    let cpu_hard = l.cpu_seconds.saturating_add(5);
    let limits: [(libc::__rlimit_resource_t, u64, u64, &str); 7] = [
        (libc::RLIMIT_NPROC, nproc, nproc, "processes"),
        (libc::RLIMIT_AS, l.memory_bytes, l.memory_bytes, "memory"),
        (libc::RLIMIT_CPU, l.cpu_seconds, cpu_hard, "cpu"),
        (
            libc::RLIMIT_FSIZE,
            l.file_size_bytes,
            l.file_size_bytes,
            "file size",
        ),
        (
            libc::RLIMIT_NOFILE,
            l.open_files,
            l.open_files,
            "open files",
        ),
        (libc::RLIMIT_CORE, 0, 0, "core"),
        (libc::RLIMIT_MSGQUEUE, 0, 0, "message queues"),
    ];
    for (res, soft, hard, what) in limits {
        // SAFETY: get/setrlimit with valid pointers.
        unsafe {
            let mut cur: libc::rlimit = std::mem::zeroed();
            libc::getrlimit(res, &mut cur);
            // Never above the current hard limit (raising needs privileges).
            let hard = hard.min(cur.rlim_max);
            let new = libc::rlimit {
                rlim_cur: soft.min(hard),
                rlim_max: hard,
            };
            if libc::setrlimit(res, &new) != 0 {
                return Err(os_err(&format!("rlimit {what}")));
            }
        }
    }
    Ok(())
}
