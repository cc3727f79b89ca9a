//! Python jobs (`--python`, docs/python-jobs.md): the jobs whose function is not a registered
//! task run in Python processes of the application's environment, through the worker
//! library's [`Fallback`] hook.
//!
//! Mode `fork` (the default, as RQ's `Worker`): each runner is a warm parent that forks a
//! child per job, in the child's own process group; the child runs the job as a `reuse` runner
//! does, sends the outcome through its parent and exits; a timeout, stop, kill or shutdown
//! kills the child's group only, and the parent reports how a child died (its raw wait
//! status). Mode `reuse` (as RQ's `SimpleWorker`): a pool of long-lived runners, at most one per
//! concurrency slot, started when a job needs one. A runner is `python -c <runner.py>`, in its
//! own process group, told its configuration and then one job id at a time over its stdin,
//! answering on its stdout with length-prefixed frames. It loads the job with RQ's own
//! `Job.fetch` and runs `job.perform()`, so the pickle is decoded by Python in the
//! application's process, never in the worker. The worker enforces timeouts, stop and kill
//! commands and shutdown by dropping the run's future, which kills the runner's group; a runner
//! that dies fails only its own job, with RQ's "Work-horse terminated unexpectedly" text, and
//! the next job starts a new one. A runner is recycled after `--python-max-jobs` jobs or when
//! its resident memory is above `--python-max-memory-mb`.

use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::ValueEnum;
use rq_worker::rq::codec::Serializer;
use rq_worker::rq::failure;
use rq_worker::tasks::fallback::CallbackKind;
use rq_worker::{
    Fallback, PhaseSignal, RawCallbackCall, RawFuture, RawJob, RawOutcome, RawRetry, TaskContext,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tracing::{info, warn};

mod connection;
pub use connection::TlsFiles;

/// The runner, run as `python -c`.
pub const RUNNER: &str = include_str!("runner.py");

/// How long a new runner may take to import RQ, the `--python-preload` modules and answer.
const READY_TIMEOUT: Duration = Duration::from_secs(300);
/// The largest frame a runner may send (a return value): 1 GiB.
const MAX_FRAME: usize = 1 << 30;

/// How Python jobs are isolated (`--python-mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PythonMode {
    /// Long-lived processes, one job at a time each (RQ's `SimpleWorker`).
    Reuse,
    /// One process per job, forked from a warm parent that has imported `--python-preload`
    /// (RQ's `Worker`).
    Fork,
}

/// Validated settings of Python jobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PythonSettings {
    /// The interpreter of the application's environment (`--python`).
    pub interpreter: PathBuf,
    /// Prepended to `sys.path`, in order (`--python-path`; `.` when none is given, as
    /// `rq worker -P`).
    pub path: Vec<String>,
    /// Modules imported when a runner starts (`--python-preload`).
    pub preload: Vec<String>,
    pub mode: PythonMode,
    /// Jobs a runner runs before it is replaced; 0 = no limit.
    pub max_jobs: u64,
    /// Resident memory (MiB) above which a runner is replaced after its job; 0 = no limit.
    pub max_memory_mb: u64,
    /// The `--redis-tls-*` files, for the runners' own connections.
    pub tls: TlsFiles,
}

/// The pool of runners: the worker's [`Fallback`].
#[derive(Clone)]
pub struct PythonPool {
    inner: Arc<Inner>,
}

struct Inner {
    settings: PythonSettings,
    /// The first frame every runner gets (holds the Redis URL: never logged, never in argv).
    config_frame: Vec<u8>,
    idle: Mutex<Vec<Runner>>,
}

/// What the first runner said when it was ready.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Ready {
    /// RQ's version in the application's environment.
    pub rq: String,
    /// Python's version.
    pub python: String,
    pub pid: u32,
}

impl PythonPool {
    /// Starts the first runner, so that a wrong interpreter or an environment without RQ is a
    /// start-up error; it stays in the pool for the first job.
    /// The runners connect as `worker` does (its URL, Sentinel, TLS and key prefix:
    /// [`connection`]).
    pub async fn start(
        settings: PythonSettings,
        worker: &rq_worker::Config,
    ) -> anyhow::Result<(PythonPool, Ready)> {
        let mut config = connection::connection_config(worker, &settings.tls);
        config["serializer"] = serde_json::json!(match worker.serializer {
            Serializer::Pickle => "",
            Serializer::Json => "rq.serializers.JSONSerializer",
        });
        config["path"] = serde_json::json!(settings.path);
        config["preload"] = serde_json::json!(settings.preload);
        config["mode"] = serde_json::json!(match settings.mode {
            PythonMode::Reuse => "reuse",
            PythonMode::Fork => "fork",
        });
        let pool = PythonPool {
            inner: Arc::new(Inner {
                settings,
                config_frame: config.to_string().into_bytes(),
                idle: Mutex::new(Vec::new()),
            }),
        };
        let (runner, ready) = pool.spawn().await.map_err(|e| {
            anyhow::anyhow!(
                "--python {}: cannot start a Python runner: {e}",
                pool.inner.settings.interpreter.display()
            )
        })?;
        pool.put_back(runner);
        Ok((pool, ready))
    }

    /// Starts a runner and waits until it is ready.
    async fn spawn(&self) -> Result<(Runner, Ready), String> {
        let s = &self.inner.settings;
        let mut cmd = Command::new(&s.interpreter);
        cmd.arg("-c")
            .arg(RUNNER)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .process_group(0);
        // SAFETY: prctl only sets this process's parent-death signal (async-signal-safe): a
        // runner does not outlive a worker killed with SIGKILL.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let mut child = cmd.spawn().map_err(|e| e.to_string())?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err("the runner's pipes are missing".into());
        };
        let mut runner = Runner {
            pid: child.id().unwrap_or(0),
            child,
            stdin,
            stdout,
            jobs: 0,
            stale: false,
        };
        let handshake = async {
            runner.send(&self.inner.config_frame).await?;
            runner.receive().await
        };
        let frame = match tokio::time::timeout(READY_TIMEOUT, handshake).await {
            Ok(Ok(frame)) => frame,
            Ok(Err(_)) => return Err(runner.death_text().await),
            Err(_) => return Err(format!("not ready after {}s", READY_TIMEOUT.as_secs())),
        };
        match frame.split_first() {
            Some((b'+', body)) => {
                let ready: Ready = serde_json::from_slice(body)
                    .map_err(|e| format!("unreadable ready message: {e}"))?;
                Ok((runner, ready))
            }
            Some((b'!', body)) => {
                // A traceback on lines of its own; a settings error on one line.
                let text = String::from_utf8_lossy(body);
                let sep = if text.trim_end().contains('\n') {
                    "\n"
                } else {
                    " "
                };
                Err(format!(
                    "the runner failed to start:{sep}{}",
                    text.trim_end()
                ))
            }
            _ => Err("the runner answered something else than ready".into()),
        }
    }

    fn put_back(&self, runner: Runner) {
        if let Ok(mut idle) = self.inner.idle.lock() {
            idle.push(runner);
        }
    }

    fn take_idle(&self) -> Option<Runner> {
        self.inner.idle.lock().ok()?.pop()
    }

    /// Runs one job, with the callbacks the runner is to run, in an idle runner or a new one.
    /// Dropping the future kills the runner (fork: the job's child).
    async fn run_job(self, job: RawJob) -> RawOutcome {
        let callbacks: serde_json::Map<String, serde_json::Value> = job
            .callbacks
            .iter()
            .map(|c| (kind_name(c.kind).to_string(), c.name.clone().into()))
            .collect();
        let request = serde_json::json!({ "id": job.job_id, "callbacks": callbacks });
        let frame = RequestFrame::new(&request, job.hash.clone());
        self.run_request(&job.job_id, frame, &job.phase).await
    }

    /// Runs one request (a job, or a callback on its own) in an idle runner or a new one.
    async fn run_request(
        self,
        job_id: &str,
        request: RequestFrame,
        phase: &PhaseSignal,
    ) -> RawOutcome {
        let runner = loop {
            match self.take_idle() {
                // fork: the parent of a killed child still owes its wait status.
                Some(mut r) if r.stale => {
                    // Callback starts it passed on before the kill are skipped.
                    let owed = tokio::time::timeout(Duration::from_secs(5), async {
                        loop {
                            let frame = r.receive().await?;
                            if frame.first() != Some(&b'C') {
                                return Ok::<_, std::io::Error>(frame);
                            }
                        }
                    })
                    .await;
                    if let Ok(Ok(frame)) = owed {
                        if frame.first() == Some(&b'D') {
                            r.stale = false;
                            break r;
                        }
                    }
                    // Dropped: killed; try the next one.
                }
                Some(r) => break r,
                None => match self.spawn().await {
                    Ok((r, ready)) => {
                        info!(pid = ready.pid, "Python runner started");
                        break r;
                    }
                    Err(e) => {
                        warn!(job_id = %job_id, "cannot start a Python runner: {e}");
                        return RawOutcome::Raised(failure::exc_string(
                            "task-worker (Python runner)",
                            &format!("RuntimeError: task-worker could not start a Python process for the job: {}", e.trim_end()),
                        ));
                    }
                },
            }
        };
        let mut busy = Busy {
            pool: self.clone(),
            runner: Some(runner),
            child: None,
        };
        let reply = async {
            let Busy { runner, child, .. } = &mut busy;
            let Some(runner) = runner.as_mut() else {
                return Err(std::io::Error::other("no runner"));
            };
            request.write_to(&mut runner.stdin).await?;
            loop {
                let frame = runner.receive().await?;
                match frame.split_first() {
                    // fork: the job's child, killed (its group) if the run is dropped.
                    Some((b'P', body)) => {
                        *child = std::str::from_utf8(body).ok().and_then(|t| t.parse().ok());
                    }
                    // A callback starts: its own timeout applies from now on.
                    Some((b'C', body)) => {
                        if let Some(kind) = parse_kind(body) {
                            phase.callback_started(kind);
                        }
                    }
                    _ => return Ok(frame),
                }
            }
        }
        .await;
        let Some(mut runner) = busy.runner.take() else {
            return RawOutcome::Raised(failure::exc_string(
                "task-worker (Python runner)",
                "RuntimeError: the Python runner is gone",
            ));
        };
        let frame = match reply {
            Ok(frame) => frame,
            Err(_) => {
                let text = runner.death_text().await;
                warn!(job_id = %job_id, pid = runner.pid, "Python runner died during the job: {text}");
                return RawOutcome::Raised(text);
            }
        };
        let outcome = match frame.split_first() {
            Some((b'R', body)) => RawOutcome::Returned(Some(body.to_vec())),
            Some((b'N', _)) => RawOutcome::Returned(None),
            Some((b'E', body)) => RawOutcome::Raised(String::from_utf8_lossy(body).into_owned()),
            Some((b'Y', body)) => match parse_retry(body) {
                Some(retry) => RawOutcome::Retry(retry),
                None => {
                    return RawOutcome::Raised(failure::exc_string(
                        "task-worker (Python runner)",
                        "RuntimeError: the Python runner sent an unreadable Retry",
                    ))
                }
            },
            // fork: the job's child died; its raw wait status, as RQ's forking Worker reports it.
            Some((b'D', body)) => {
                let raw: i32 = std::str::from_utf8(body)
                    .ok()
                    .and_then(|t| t.parse().ok())
                    .unwrap_or(0);
                let text = horse_died_text(raw, wait_signal(raw));
                warn!(job_id = %job_id, "the job's Python process died: {text}");
                RawOutcome::Raised(text)
            }
            _ => {
                // Not the protocol: the runner is not trusted with another job.
                return RawOutcome::Raised(failure::exc_string(
                    "task-worker (Python runner)",
                    "RuntimeError: the Python runner sent an unexpected reply",
                ));
            }
        };
        runner.jobs += 1;
        if self.keep(&runner) {
            self.put_back(runner);
        } else {
            info!(
                pid = runner.pid,
                jobs = runner.jobs,
                "Python runner recycled"
            );
        }
        outcome
    }

    /// Whether a runner that just finished a job may run another.
    fn keep(&self, runner: &Runner) -> bool {
        let s = &self.inner.settings;
        if s.max_jobs > 0 && runner.jobs >= s.max_jobs {
            return false;
        }
        if s.max_memory_mb > 0 {
            if let Some(kib) = resident_kib(runner.pid) {
                if kib > s.max_memory_mb.saturating_mul(1024) {
                    return false;
                }
            }
        }
        true
    }
}

impl Fallback for PythonPool {
    fn run(&self, job: RawJob, _ctx: TaskContext) -> RawFuture {
        Box::pin(self.clone().run_job(job))
    }

    /// A failure or stopped callback in Python on its own (the job's run was ended by the
    /// worker: its timeout, a stop): `f(job, connection, type, value, None)` with the exception
    /// named on the text's last line, or `f(job, connection)`.
    fn run_callback(&self, job: RawJob, call: RawCallbackCall, _ctx: TaskContext) -> RawFuture {
        let pool = self.clone();
        Box::pin(async move {
            let request = serde_json::json!({
                "id": job.job_id,
                "callback": kind_name(call.callback.kind),
                "exception": call.exception,
            });
            let frame = RequestFrame::new(&request, Arc::new([]));
            pool.run_request(&job.job_id, frame, &PhaseSignal::detached())
                .await
        })
    }
}

/// A runner during a job. Dropped before the job's answer (timeout, stop, kill, shutdown): in
/// fork mode, with the child's pid known, only the child's group is killed and the warm parent
/// goes back to the pool (owing the child's wait status); otherwise the runner is killed.
struct Busy {
    pool: PythonPool,
    runner: Option<Runner>,
    child: Option<i32>,
}

impl Drop for Busy {
    fn drop(&mut self) {
        let Some(mut runner) = self.runner.take() else {
            return;
        };
        match self.child {
            Some(child) if child > 0 => {
                // SAFETY: killpg only sends a signal; a group that is gone gives ESRCH.
                unsafe {
                    libc::killpg(child, libc::SIGKILL);
                }
                runner.stale = true;
                self.pool.put_back(runner);
            }
            _ => drop(runner),
        }
    }
}

/// One runner process. Dropped (job done with it, timeout, stop, shutdown): its group is
/// killed.
struct Runner {
    child: Child,
    stdin: ChildStdin,
    stdout: ChildStdout,
    pid: u32,
    jobs: u64,
    /// fork: a child was killed; the parent's `D` frame for it is still to be read.
    stale: bool,
}

impl Runner {
    async fn send(&mut self, body: &[u8]) -> std::io::Result<()> {
        let len =
            u32::try_from(body.len()).map_err(|_| std::io::Error::other("frame too large"))?;
        let mut frame = Vec::with_capacity(body.len() + 4);
        frame.extend_from_slice(&len.to_be_bytes());
        frame.extend_from_slice(body);
        self.stdin.write_all(&frame).await?;
        self.stdin.flush().await
    }

    async fn receive(&mut self) -> std::io::Result<Vec<u8>> {
        let mut head = [0u8; 4];
        self.stdout.read_exact(&mut head).await?;
        let len = u32::from_be_bytes(head) as usize;
        if len == 0 || len > MAX_FRAME {
            return Err(std::io::Error::other(format!("bad frame length {len}")));
        }
        let mut body = vec![0u8; len];
        self.stdout.read_exact(&mut body).await?;
        Ok(body)
    }

    /// RQ's text for a work horse that died (`Work-horse terminated unexpectedly; waitpid
    /// returned <status>[ (signal <n>)]; `), once the process has exited.
    async fn death_text(&mut self) -> String {
        let status = match tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await {
            Ok(Ok(status)) => status,
            _ => {
                // Its pipe broke but it runs on: kill it and report that.
                let _ = self.child.start_kill();
                match tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await {
                    Ok(Ok(status)) => status,
                    _ => {
                        return "Work-horse terminated unexpectedly; waitpid returned None; ".into()
                    }
                }
            }
        };
        horse_died_text(status.into_raw(), status.signal())
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        // Still running (or not yet reaped): kill its whole group (what the job started too).
        if let (Ok(None), Ok(pgid)) = (self.child.try_wait(), i32::try_from(self.pid)) {
            if pgid > 0 {
                // SAFETY: killpg only sends a signal; a group that is gone gives ESRCH.
                unsafe {
                    libc::killpg(pgid, libc::SIGKILL);
                }
            }
        }
    }
}

/// A request frame: its JSON, then, when the job hash is known, a newline and each field as
/// a 4-byte big-endian length and the name, then the same for the value (the runner restores
/// the job from them instead of reading the hash: RQ's horse runs the worker's in-memory job).
/// Written in pieces: a large field (the job's `data`) goes to the pipe from the shared hash,
/// never copied into a buffer.
struct RequestFrame {
    json: Vec<u8>,
    hash: Arc<[(String, Vec<u8>)]>,
}

/// Fields at least this large are written on their own rather than copied into the buffer.
const LARGE_FIELD: usize = 64 * 1024;

impl RequestFrame {
    fn new(request: &serde_json::Value, hash: Arc<[(String, Vec<u8>)]>) -> RequestFrame {
        RequestFrame {
            json: request.to_string().into_bytes(),
            hash,
        }
    }

    /// The frame's length (the 4-byte prefix not counted).
    fn len(&self) -> usize {
        let fields: usize = self.hash.iter().map(|(n, v)| 8 + n.len() + v.len()).sum();
        self.json.len() + if self.hash.is_empty() { 0 } else { 1 + fields }
    }

    async fn write_to<W: tokio::io::AsyncWrite + Unpin>(&self, out: &mut W) -> std::io::Result<()> {
        let len =
            u32::try_from(self.len()).map_err(|_| std::io::Error::other("frame too large"))?;
        let mut buf = Vec::with_capacity(4096);
        buf.extend_from_slice(&len.to_be_bytes());
        buf.extend_from_slice(&self.json);
        if !self.hash.is_empty() {
            buf.push(b'\n');
        }
        for (name, value) in self.hash.iter() {
            for part in [name.as_bytes(), value.as_slice()] {
                // Within the frame's length, which fits in 32 bits.
                buf.extend_from_slice(&(part.len() as u32).to_be_bytes());
                if part.len() >= LARGE_FIELD {
                    out.write_all(&buf).await?;
                    buf.clear();
                    out.write_all(part).await?;
                } else {
                    buf.extend_from_slice(part);
                }
            }
        }
        out.write_all(&buf).await?;
        out.flush().await
    }
}

/// RQ's text (`rq.worker` `monitor_work_horse`): `ret_val` is the raw `waitpid` status.
pub fn horse_died_text(ret_val: i32, signal: Option<i32>) -> String {
    let signal_msg = signal.map(|s| format!(" (signal {s})")).unwrap_or_default();
    format!("Work-horse terminated unexpectedly; waitpid returned {ret_val}{signal_msg}; ")
}

/// The signal that ended a process, from its raw wait status (`os.WTERMSIG` if `WIFSIGNALED`).
fn wait_signal(raw: i32) -> Option<i32> {
    let sig = raw & 0x7f;
    (sig != 0 && sig != 0x7f).then_some(sig)
}

/// The runner's name of a callback kind.
fn kind_name(kind: CallbackKind) -> &'static str {
    match kind {
        CallbackKind::Success => "success",
        CallbackKind::Failure => "failure",
        CallbackKind::Stopped => "stopped",
    }
}

fn parse_kind(body: &[u8]) -> Option<CallbackKind> {
    CallbackKind::ALL
        .into_iter()
        .find(|k| kind_name(*k).as_bytes() == body)
}

/// A `Y` frame: JSON `{"max", "intervals"}`, a newline, `serializer.dumps(retry)`.
fn parse_retry(body: &[u8]) -> Option<RawRetry> {
    #[derive(serde::Deserialize)]
    struct Head {
        max: i64,
        intervals: Vec<i64>,
    }
    let split = body.iter().position(|b| *b == b'\n')?;
    let head: Head = serde_json::from_slice(&body[..split]).ok()?;
    Some(RawRetry::new(
        head.max,
        head.intervals,
        body[split + 1..].to_vec(),
    ))
}

/// VmRSS of a process, in KiB (Linux).
fn resident_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn horse_died_text_is_rqs() {
        assert_eq!(
            horse_died_text(768, None),
            "Work-horse terminated unexpectedly; waitpid returned 768; "
        );
        assert_eq!(horse_died_text(9, Some(9)), failure::KILLED_TEXT);
    }

    #[test]
    fn wait_signal_is_wtermsig() {
        assert_eq!(wait_signal(768), None);
        assert_eq!(wait_signal(9), Some(9));
        assert_eq!(wait_signal(11 | 0x80), Some(11));
        assert_eq!(wait_signal(0x137f), None); // stopped
    }

    #[test]
    fn retry_frame_is_read() {
        let r = parse_retry(b"{\"max\": 3, \"intervals\": [1, 2]}\n\x80\x05.").unwrap();
        assert_eq!(
            (r.max, r.intervals.clone(), r.value.clone()),
            (3, vec![1, 2], b"\x80\x05.".to_vec())
        );
        assert!(parse_retry(b"no newline").is_none());
        assert_eq!(parse_kind(b"failure"), Some(CallbackKind::Failure));
    }

    fn written(frame: &RequestFrame) -> Vec<u8> {
        let mut out = Vec::new();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(frame.write_to(&mut out)).unwrap();
        out
    }

    #[test]
    fn request_frame_carries_the_hash() {
        let request = serde_json::json!({"id": "a\nb"});
        let json = br#"{"id":"a\nb"}"#.to_vec();
        let mut want = (json.len() as u32).to_be_bytes().to_vec();
        want.extend_from_slice(&json);
        assert_eq!(written(&RequestFrame::new(&request, Arc::new([]))), want);
        // A small field and one written on its own: the same bytes as one buffer.
        let big = vec![7u8; LARGE_FIELD + 3];
        let hash: Arc<[(String, Vec<u8>)]> = Arc::new([
            ("data".into(), b"\x00\n".to_vec()),
            ("x".into(), big.clone()),
        ]);
        let frame = RequestFrame::new(&request, hash);
        let mut body = json.clone();
        body.extend_from_slice(b"\n\0\0\0\x04data\0\0\0\x02\x00\n\0\0\0\x01x");
        body.extend_from_slice(&(big.len() as u32).to_be_bytes());
        body.extend_from_slice(&big);
        assert_eq!(frame.len(), body.len());
        let mut want = (body.len() as u32).to_be_bytes().to_vec();
        want.extend_from_slice(&body);
        assert_eq!(written(&frame), want);
    }

    #[test]
    fn own_memory_is_readable() {
        assert!(resident_kib(std::process::id()).is_some_and(|k| k > 0));
    }
}
