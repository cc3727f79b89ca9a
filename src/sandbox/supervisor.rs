//! The supervisor: a single-threaded process between the worker and a confined child.
//!
//! Started by [`super::exec`] as `task-worker __sandbox-supervise <policy JSON>` with
//! * fd 0: the lifeline (read end of a pipe the worker holds; EOF = cancel),
//! * fd 1, 2: the child's output pipes,
//! * fd 3: the report pipe (one JSON [`Report`] line, written at the end),
//! * its environment: exactly the child's environment.
//!
//! It becomes a child subreaper, forks the child (which confines itself, see
//! [`super::confine`]), and then waits on its signals and the lifeline, measuring the tree
//! every 100 ms. However the run ends (exit, timeout, limit, cancel) it kills every
//! descendant before it reports, so nothing the child started outlives the run.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use super::confine::{self, Prepared};
use super::meter::Meter;
use super::policy::{Policy, Report};
use super::{landlock_rules, namespaces, seccomp, tree};

const REPORT_FD: i32 = 3;
const TICK: Duration = Duration::from_millis(100);

/// Entry point of `task-worker __sandbox-supervise`; `args` are the process arguments.
pub fn main(args: &[std::ffi::OsString]) -> ExitCode {
    let report = match args
        .get(2)
        .map(|a| serde_json::from_slice::<Policy>(a.as_bytes()))
    {
        Some(Ok(policy)) => supervise(&policy),
        Some(Err(e)) => Report::SetupFailed(format!("invalid sandbox policy: {e}")),
        None => Report::SetupFailed("no sandbox policy given".into()),
    };
    let mut line = serde_json::to_vec(&report).unwrap_or_default();
    line.push(b'\n');
    // SAFETY: writing our buffer to the report descriptor the worker gave us.
    let n = unsafe { libc::write(REPORT_FD, line.as_ptr().cast(), line.len()) };
    if n < 0 {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn os_err(what: &str) -> String {
    format!("{what}: {}", std::io::Error::last_os_error())
}

fn cstring(bytes: &[u8], what: &str) -> Result<CString, String> {
    CString::new(bytes).map_err(|_| format!("{what} contains a NUL byte"))
}

/// `argv[0]` as a path: as given when it has a `/`, else looked up in the child's `PATH`.
fn resolve_program(name: &str) -> Result<PathBuf, String> {
    if name.contains('/') {
        return Ok(PathBuf::from(name));
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into());
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| {
                use std::os::unix::fs::PermissionsExt;
                m.is_file() && m.permissions().mode() & 0o111 != 0
            })
        })
        .ok_or_else(|| format!("{name}: not found in PATH"))
}

fn prepare(policy: &Policy, me: i32) -> Result<Prepared, String> {
    let first = policy.argv.first().ok_or("empty command")?;
    let program = resolve_program(first)?;
    let argv = policy
        .argv
        .iter()
        .map(|a| cstring(a.as_bytes(), "an argument"))
        .collect::<Result<Vec<_>, _>>()?;
    let env = std::env::vars_os()
        .map(|(k, v)| {
            let mut kv = k.as_bytes().to_vec();
            kv.push(b'=');
            kv.extend_from_slice(v.as_bytes());
            cstring(&kv, "the environment")
        })
        .collect::<Result<Vec<_>, _>>()?;
    // SAFETY: getuid has no preconditions.
    let uid = unsafe { libc::getuid() };
    Ok(Prepared {
        program: cstring(program.as_os_str().as_bytes(), "the program path")?,
        argv,
        env,
        cwd: cstring(policy.cwd.as_os_str().as_bytes(), "the directory")?,
        ruleset: landlock_rules::build(policy)?,
        filters: seccomp::build(policy, me)?,
        limits: policy.limits,
        // RLIMIT_NPROC counts the tasks of a uid in one user namespace: in the run's own, only
        // its own processes count; in the worker's, every job's and the worker's do.
        nproc: if policy.isolation.is_some() {
            policy.limits.processes + namespaces::OVERHEAD_TASKS
        } else {
            tree::tasks_of_uid(uid) + policy.limits.processes
        },
    })
}

/// Blocks the signals the loop reads from a signalfd; returns the fd.
fn signal_fd() -> Result<i32, String> {
    // SAFETY: sigset manipulation and signalfd on values we own.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in [libc::SIGCHLD, libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
            libc::sigaddset(&mut set, s);
        }
        if libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) != 0 {
            return Err(os_err("sigprocmask"));
        }
        let fd = libc::signalfd(-1, &set, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK);
        if fd < 0 {
            return Err(os_err("signalfd"));
        }
        Ok(fd)
    }
}

/// Reads pending signals; returns true if one asked us to stop.
fn drain_signals(fd: i32) -> bool {
    let mut stop = false;
    loop {
        // SAFETY: reading into a buffer of the right size.
        let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
        let n = unsafe {
            libc::read(
                fd,
                (&mut info as *mut libc::signalfd_siginfo).cast(),
                std::mem::size_of::<libc::signalfd_siginfo>(),
            )
        };
        if n <= 0 {
            return stop;
        }
        if info.ssi_signo as i32 != libc::SIGCHLD {
            stop = true;
        }
    }
}

fn supervise(policy: &Policy) -> Report {
    // SAFETY (block): process-wide settings of this fresh, single-threaded process.
    unsafe {
        // Only 0-3 are ours; anything else inherited goes, and fd 3 is not passed on.
        libc::close_range(4, u32::MAX, 0);
        libc::fcntl(REPORT_FD, libc::F_SETFD, libc::FD_CLOEXEC);
        libc::fcntl(0, libc::F_SETFD, libc::FD_CLOEXEC);
        if libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0 {
            return Report::SetupFailed(os_err("PR_SET_CHILD_SUBREAPER"));
        }
        // Its environment may hold a git credential.
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
    let me = std::process::id() as i32;
    let sigfd = match signal_fd() {
        Ok(fd) => fd,
        Err(e) => return Report::SetupFailed(e),
    };
    let prepared = match prepare(policy, me) {
        Ok(p) => p,
        Err(e) => return Report::SetupFailed(e),
    };
    let mut err_pipe = [0i32; 2];
    // SAFETY: pipe2 with a valid array.
    if unsafe { libc::pipe2(err_pipe.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Report::SetupFailed(os_err("pipe"));
    }
    let started = Instant::now();
    // SAFETY: fork in a single-threaded process; the child only runs confine::enter.
    let child = unsafe { libc::fork() };
    if child < 0 {
        return Report::SetupFailed(os_err("fork"));
    }
    if child == 0 {
        // SAFETY: closing our copy of the read end.
        unsafe { libc::close(err_pipe[0]) };
        match &policy.isolation {
            Some(iso) => namespaces::enter(iso, prepared, err_pipe[1]),
            None => confine::enter(prepared, err_pipe[1]),
        }
    }
    drop(prepared);
    // SAFETY: closing the write end; reading the read end until EOF (exec) or an error text.
    let setup_error = unsafe {
        libc::close(err_pipe[1]);
        let mut buf = vec![0u8; 4096];
        let mut got = Vec::new();
        loop {
            let n = libc::read(err_pipe[0], buf.as_mut_ptr().cast(), buf.len());
            if n > 0 {
                got.extend_from_slice(&buf[..n as usize]);
            } else if n == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR)
            {
                break;
            }
        }
        libc::close(err_pipe[0]);
        got
    };
    if !setup_error.is_empty() {
        tree::kill_all(me);
        return Report::SetupFailed(String::from_utf8_lossy(&setup_error).into_owned());
    }
    watch(policy, me, child, sigfd, started)
}

fn watch(policy: &Policy, me: i32, child: i32, sigfd: i32, started: Instant) -> Report {
    let timeout = Duration::from_millis(policy.timeout_ms);
    let grace = Duration::from_millis(policy.grace_ms);
    let mut term_sent: Option<Instant> = None;
    let mut meter = Meter::new(policy, me);
    let mut main_status: Option<i32> = None;
    loop {
        for (pid, status) in tree::reap() {
            if pid == child {
                main_status = Some(status);
            }
        }
        if let Some(status) = main_status {
            if term_sent.is_none() {
                tree::kill_all(me);
                // Writes are fast: the cap may have been passed since the last measurement.
                if let Some(limit) = meter.over_disk_limit() {
                    return limit;
                }
                return if libc::WIFEXITED(status) {
                    Report::Exited(libc::WEXITSTATUS(status))
                } else {
                    Report::Signaled(libc::WTERMSIG(status))
                };
            }
        }
        let now = Instant::now();
        if let Some(t) = term_sent {
            if main_status.is_some() || now.duration_since(t) >= grace {
                tree::kill_all(me);
                return Report::TimedOut;
            }
        } else if now.duration_since(started) >= timeout {
            tree::signal_all(me, libc::SIGTERM);
            term_sent = Some(now);
        }
        if let Some(limit) = meter.over_limit() {
            tree::kill_all(me);
            return limit;
        }
        let mut fds = [
            libc::pollfd {
                fd: 0,
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: sigfd,
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: poll on our two descriptors.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, TICK.as_millis() as i32) };
        if n > 0 {
            if fds[0].revents != 0 && lifeline_closed() {
                tree::kill_all(me);
                return Report::Cancelled;
            }
            if fds[1].revents != 0 && drain_signals(sigfd) {
                tree::kill_all(me);
                return Report::Cancelled;
            }
        }
    }
}

/// The worker never writes to the lifeline: readable means EOF (or an error).
fn lifeline_closed() -> bool {
    let mut b = [0u8; 64];
    // SAFETY: reading into our buffer.
    let n = unsafe { libc::read(0, b.as_mut_ptr().cast(), b.len()) };
    n <= 0
}
