//! Confinement of everything the student test task starts (docs/security.md).
//!
//! Student code is hostile. The worker never runs it, or git, as a plain child: it starts a
//! *supervisor* (this same binary, `__sandbox-supervise`), which
//! * becomes a child subreaper, so every process the runner starts stays its descendant
//!   whatever it does (`setsid`, double fork), and kills them all when the job ends;
//! * forks the confined child, which before `execve` drops into a Landlock domain
//!   (filesystem, TCP, signal and abstract-socket scoping), a seccomp filter (no sockets, no
//!   ptrace, no SysV IPC, ...) and rlimits;
//! * watches the tree's wall time, CPU time, memory, process count and the job root's disk
//!   use, and reports how the child ended on a private pipe.
//!
//! The worker holds a *lifeline* pipe to the supervisor: when the job is cancelled, or the
//! worker dies, the pipe closes and the supervisor kills the tree. Killing the supervisor
//! itself would orphan the tree, so nothing on the worker side ever does that.
//!
//! Modules, top-down: [`exec`] (worker side: start a supervisor, collect its report),
//! [`supervisor`] (the supervisor's loop), [`confine`] (what the child applies to itself:
//! [`landlock_rules`], [`seccomp`], rlimits), [`tree`] (the descendants: list, kill, measure),
//! [`namespaces`] (the run's own user, mount, PID and IPC namespaces), [`disk`] (job-root size), [`beneath`] (opening paths without leaving a tree),
//! [`rq_worker::fs::remove_tree`] (removing a root whatever its permissions), [`check`] (`sandbox-check`),
//! [`student`] (`confine-student`: student code confined further than the grader).

pub mod beneath;
// The job root is walked and removed by descriptor with the worker library's tree helpers.
pub use rq_worker::fs::dirfd;
pub mod check;
pub mod confine;
pub mod disk;
pub mod exec;
pub mod landlock_rules;
pub mod meter;
pub mod namespaces;
pub mod policy;
pub mod seccomp;
pub mod student;
pub mod supervisor;
pub mod tree;

pub use policy::{Limits, NamespaceMode, Network, Policy, Report, Settings};

/// The hidden first argument that makes the binary a supervisor (see `main.rs`).
pub const SUPERVISE_ARG: &str = "__sandbox-supervise";

/// Makes this process non-dumpable: processes of the same uid can then no longer read its
/// `/proc/<pid>/environ`, `mem` or `fd/` (they need `CAP_SYS_PTRACE`). The worker calls it at
/// start, so even without the sandbox a child cannot lift its secrets that way.
pub fn make_undumpable() -> std::io::Result<()> {
    // SAFETY: prctl with integer arguments only.
    let r = unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}
