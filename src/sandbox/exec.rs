//! The worker's side of a confined run: start a supervisor, hold its lifeline, capture the
//! child's output, and read the supervisor's report.

use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;
use tokio::sync::watch;

use super::policy::{Policy, Report};
use super::SUPERVISE_ARG;
use rq_worker::process::{read_capped, Captured};

/// A confined run that ended (whatever way).
#[derive(Debug)]
pub struct Confined {
    pub report: Report,
    pub stdout: Captured,
    pub stderr: Captured,
}

/// Extra time past the policy's own timeout and grace before the worker gives up on a
/// supervisor: it then closes the lifeline, and kills the supervisor only as a last resort.
const SUPERVISOR_SLACK: Duration = Duration::from_secs(30);

fn pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0i32; 2];
    // SAFETY: pipe2 with a valid array; both ends are owned below.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: fresh descriptors we own.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Runs `policy` confined, with exactly `env` as the child's environment. Errors are about
/// the worker's side (the supervisor could not be started); a confinement the kernel cannot
/// provide comes back as [`Report::SetupFailed`].
pub async fn run(
    policy: &Policy,
    env: &[(String, String)],
    output_cap: usize,
) -> Result<Confined, String> {
    let json = serde_json::to_string(policy).map_err(|e| format!("sandbox policy: {e}"))?;
    let (life_r, life_w) = pipe().map_err(|e| format!("lifeline pipe: {e}"))?;
    let (report_r, report_w) = pipe().map_err(|e| format!("report pipe: {e}"))?;
    let report_w_raw = report_w.as_raw_fd();
    let mut cmd = Command::new("/proc/self/exe");
    cmd.arg0("task-worker-sandbox")
        .arg(SUPERVISE_ARG)
        .arg(json)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .current_dir("/")
        .stdin(Stdio::from(life_r))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(false);
    // SAFETY: dup2 and fcntl are async-signal-safe; this runs in the forked child only.
    unsafe {
        cmd.pre_exec(move || {
            if report_w_raw == 3 {
                if libc::fcntl(3, libc::F_SETFD, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            } else if libc::dup2(report_w_raw, 3) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start the sandbox supervisor: {e}"))?;
    drop(report_w);
    let (done_tx, done_rx) = watch::channel(false);
    let stdout = read_capped(child.stdout.take(), output_cap, done_rx.clone());
    let stderr = read_capped(child.stderr.take(), output_cap, done_rx);
    let deadline =
        Duration::from_millis(policy.timeout_ms.saturating_add(policy.grace_ms)) + SUPERVISOR_SLACK;
    let waiter = async {
        let mut lifeline = Some(life_w);
        let status = match tokio::time::timeout(deadline, child.wait()).await {
            Ok(s) => s,
            Err(_) => {
                tracing::warn!("sandbox supervisor overran its deadline; cancelling the run");
                lifeline.take();
                match tokio::time::timeout(Duration::from_secs(10), child.wait()).await {
                    Ok(s) => s,
                    Err(_) => {
                        tracing::error!("sandbox supervisor does not answer; killing it");
                        let _ = child.start_kill();
                        child.wait().await
                    }
                }
            }
        };
        drop(lifeline);
        let _ = done_tx.send(true);
        status
    };
    let (status, stdout, stderr) = tokio::join!(waiter, stdout, stderr);
    let report = read_report(report_r).unwrap_or_else(|| {
        Report::SetupFailed(match status {
            Ok(s) => format!("the sandbox supervisor ended without a report ({s})"),
            Err(e) => format!("waiting for the sandbox supervisor failed: {e}"),
        })
    });
    Ok(Confined {
        report,
        stdout,
        stderr,
    })
}

/// The supervisor has exited: whatever it wrote is in the pipe. Non-blocking, so a stray
/// holder of the write end can never hang the worker.
fn read_report(fd: OwnedFd) -> Option<Report> {
    // SAFETY: fcntl on a descriptor we own.
    unsafe {
        let flags = libc::fcntl(fd.as_raw_fd(), libc::F_GETFL);
        libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK);
    }
    let mut file = std::fs::File::from(fd);
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while buf.len() < 64 * 1024 {
        match file.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let line = buf.split(|b| *b == b'\n').next()?;
    serde_json::from_slice(line).ok()
}
