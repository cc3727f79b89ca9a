//! Child processes of a handler, in their own process group ([`run`]).
//!
//! Each child runs in its own process group with stdin from `/dev/null` and stdout/stderr
//! captured up to a cap (the rest is read and dropped, so the child never blocks on a full
//! pipe). At its time limit the whole group gets SIGTERM, then after a grace period SIGKILL.
//! After the child exits, whatever it left running in its group is killed too.
//!
//! The engine cancels a job by dropping the handler future (job timeout, stop command,
//! shutdown). The future of [`run`] then kills the whole group at once, so nothing a task
//! started outlives its job.

use std::io;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;
use tokio::sync::watch;

/// How long output is still read after the group was killed (a process that left the group
/// with `setsid` could keep the pipe open forever).
const DRAIN_AFTER_EXIT: Duration = Duration::from_secs(2);

/// Limits for one child process.
#[derive(Debug, Clone, Copy)]
pub struct ProcessLimits {
    /// How long the child may run before its group gets SIGTERM.
    pub timeout: Duration,
    /// Time between SIGTERM and SIGKILL after the timeout.
    pub grace: Duration,
    /// Bytes kept of stdout and of stderr, each.
    pub output_cap: usize,
}

/// Captured output of one stream, cut at the cap.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Captured {
    /// What was kept, up to the cap.
    pub bytes: Vec<u8>,
    /// Bytes read beyond the cap and dropped.
    pub dropped: u64,
}

impl Captured {
    fn push(&mut self, chunk: &[u8], cap: usize) {
        let room = cap.saturating_sub(self.bytes.len());
        let keep = room.min(chunk.len());
        self.bytes.extend_from_slice(&chunk[..keep]);
        self.dropped += (chunk.len() - keep) as u64;
    }

    /// The text for logs (lossy UTF-8, with a note when it was cut).
    pub fn text(&self) -> String {
        let mut s = String::from_utf8_lossy(&self.bytes).into_owned();
        if self.dropped > 0 {
            s.push_str(&format!("\n[… {} more bytes not kept]", self.dropped));
        }
        s
    }
}

/// A child that ran to its end (any exit status).
#[derive(Debug)]
pub struct Finished {
    /// How it exited.
    pub status: ExitStatus,
    /// Its standard output.
    pub stdout: Captured,
    /// Its standard error.
    pub stderr: Captured,
}

/// Why a child did not run to its end.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// It could not be started (program missing, bad working directory, …).
    #[error("could not start: {0}")]
    Spawn(io::Error),
    /// It was killed at its time limit; what it wrote until then.
    #[error("timed out")]
    TimedOut {
        /// Its standard output.
        stdout: Captured,
        /// Its standard error.
        stderr: Captured,
    },
    /// Waiting for it failed.
    #[error("could not wait for it: {0}")]
    Wait(io::Error),
}

/// Signals a child's process group; kills it when dropped while armed.
#[derive(Debug)]
struct GroupGuard {
    pgid: Option<i32>,
}

impl GroupGuard {
    fn new(pid: Option<u32>) -> Self {
        GroupGuard {
            pgid: pid.and_then(|p| i32::try_from(p).ok()).filter(|p| *p > 1),
        }
    }

    fn signal(&self, sig: i32) {
        if let Some(pgid) = self.pgid {
            // SAFETY: killpg only sends a signal; a group that is gone gives ESRCH, ignored.
            unsafe {
                libc::killpg(pgid, sig);
            }
        }
    }

    fn disarm(&mut self) {
        self.pgid = None;
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.signal(libc::SIGKILL);
    }
}

/// Runs `cmd` to its end under `limits`. Sets stdin, stdout, stderr, the process group and
/// kill-on-drop; everything else (args, cwd, env) is the caller's.
pub async fn run(mut cmd: Command, limits: ProcessLimits) -> Result<Finished, RunError> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .process_group(0);
    let mut child = cmd.spawn().map_err(RunError::Spawn)?;
    let mut guard = GroupGuard::new(child.id());
    let (done_tx, done_rx) = watch::channel(false);
    let stdout = read_capped(child.stdout.take(), limits.output_cap, done_rx.clone());
    let stderr = read_capped(child.stderr.take(), limits.output_cap, done_rx);
    let waiter = async {
        let ended = match tokio::time::timeout(limits.timeout, child.wait()).await {
            Ok(r) => r.map(|s| (s, false)),
            Err(_) => {
                guard.signal(libc::SIGTERM);
                match tokio::time::timeout(limits.grace, child.wait()).await {
                    Ok(r) => r.map(|s| (s, true)),
                    Err(_) => {
                        guard.signal(libc::SIGKILL);
                        child.wait().await.map(|s| (s, true))
                    }
                }
            }
        };
        // Whatever the child left behind in its group goes with it.
        guard.signal(libc::SIGKILL);
        guard.disarm();
        let _ = done_tx.send(true);
        ended
    };
    let (ended, stdout, stderr) = tokio::join!(waiter, stdout, stderr);
    match ended {
        Ok((_, true)) => Err(RunError::TimedOut { stdout, stderr }),
        Ok((status, false)) => Ok(Finished {
            status,
            stdout,
            stderr,
        }),
        Err(e) => Err(RunError::Wait(e)),
    }
}

/// Reads `pipe` to its end, keeping the first `cap` bytes and dropping the rest (so the writer
/// never blocks on a full pipe). Once `done` turns true (the child exited), reading goes on
/// for two more seconds at most: a process that left the group could hold the pipe open for
/// ever. `None` reads nothing.
pub async fn read_capped(
    pipe: Option<impl AsyncRead + Unpin>,
    cap: usize,
    mut done: watch::Receiver<bool>,
) -> Captured {
    let mut out = Captured::default();
    let Some(mut pipe) = pipe else {
        return out;
    };
    let drain_deadline = async move {
        let _ = done.wait_for(|d| *d).await;
        tokio::time::sleep(DRAIN_AFTER_EXIT).await;
    };
    tokio::pin!(drain_deadline);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        tokio::select! {
            r = pipe.read(&mut buf) => match r {
                Ok(0) | Err(_) => break,
                Ok(n) => out.push(&buf[..n], cap),
            },
            _ = &mut drain_deadline => break,
        }
    }
    out
}

/// A short description of an exit status for logs: `exit code 3` or `signal 9`.
pub fn describe_status(status: &ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _) => format!("exit code {c}"),
        (None, Some(s)) => format!("signal {s}"),
        _ => "unknown status".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(timeout_ms: u64) -> ProcessLimits {
        ProcessLimits {
            timeout: Duration::from_millis(timeout_ms),
            grace: Duration::from_millis(300),
            output_cap: 10,
        }
    }

    fn sh(script: &str) -> Command {
        let mut c = Command::new("/bin/sh");
        c.arg("-c").arg(script);
        c
    }

    fn alive(pid: i32) -> bool {
        // SAFETY: signal 0 only checks for existence.
        unsafe { libc::kill(pid, 0) == 0 }
    }

    fn read_pid(path: &std::path::Path) -> i32 {
        std::fs::read_to_string(path)
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }

    #[tokio::test]
    async fn output_is_capped_and_status_kept() {
        let f = run(
            sh("printf 0123456789abcdef; echo err >&2; exit 3"),
            limits(5000),
        )
        .await
        .unwrap();
        assert_eq!(f.status.code(), Some(3));
        assert_eq!(f.stdout.bytes, b"0123456789");
        assert_eq!(f.stdout.dropped, 6);
        assert_eq!(f.stderr.text(), "err\n");
        assert_eq!(describe_status(&f.status), "exit code 3");
    }

    #[tokio::test]
    async fn spawn_failure_is_reported() {
        let e = run(Command::new("/nonexistent/program"), limits(1000))
            .await
            .unwrap_err();
        assert!(matches!(e, RunError::Spawn(_)), "{e}");
    }

    #[tokio::test]
    async fn timeout_kills_the_whole_group_even_when_term_is_ignored() {
        let dir = std::env::temp_dir().join(format!("tw-proc-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let pidfile = dir.join("bg.pid");
        let script = format!(
            "trap '' TERM; sleep 60 & echo $! > {}; while :; do sleep 1; done",
            pidfile.display()
        );
        let e = run(sh(&script), limits(500)).await.unwrap_err();
        assert!(matches!(e, RunError::TimedOut { .. }), "{e}");
        let bg = read_pid(&pidfile);
        // The background sleep was in the group: it is gone (or a zombie about to be reaped).
        let gone = (0..50).any(|_| {
            std::thread::sleep(Duration::from_millis(20));
            !alive(bg) || is_zombie(bg)
        });
        assert!(gone, "background process {bg} survived");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn dropping_the_future_kills_the_group() {
        let dir = std::env::temp_dir().join(format!("tw-proc-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let pidfile = dir.join("bg.pid");
        let script = format!("sleep 60 & echo $! > {}; wait", pidfile.display());
        let fut = run(sh(&script), limits(60_000));
        let r = tokio::time::timeout(Duration::from_millis(500), fut).await;
        assert!(r.is_err(), "the child should still have been running");
        let bg = read_pid(&pidfile);
        let gone = (0..50).any(|_| {
            std::thread::sleep(Duration::from_millis(20));
            !alive(bg) || is_zombie(bg)
        });
        assert!(gone, "background process {bg} survived the drop");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn is_zombie(pid: i32) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| {
                s.rsplit(')')
                    .next()
                    .unwrap_or("")
                    .trim_start()
                    .starts_with('Z')
            })
            .unwrap_or(true)
    }
}
