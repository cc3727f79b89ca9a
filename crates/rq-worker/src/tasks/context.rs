//! What a running handler gets besides its arguments ([`TaskContext`]): the job's identity,
//! progress, cancellation, a scratch directory removed with the job, and shared data.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;
use tracing::{debug, warn};

use super::DataMap;
use crate::value::Value;

/// Where progress goes. The engine implements it by writing the job's `meta` the way Python's
/// `job.save_meta()` does; handlers only see this trait (and a test may give its own to
/// [`TaskContext::new`]).
pub trait ProgressSink: Send + Sync {
    /// Records `progress`; the future completes once it is stored (or given up on: progress is
    /// never a reason for a job to fail).
    fn report<'a>(&'a self, progress: Value) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>>;
}

/// What a running handler may use besides its arguments.
///
/// The engine builds one per job; a test builds its own with [`TaskContext::new`] and the
/// `with_*` methods. Shared data, as a handler reads it:
///
/// ```
/// use rq_worker::{DataMap, TaskContext};
///
/// struct Greeting(String);
///
/// let mut data = DataMap::default();
/// data.insert(Greeting("Hello".into())); // what `Worker::builder(..).data(..)` does
/// let ctx = TaskContext::new("job-1", "default", None).with_data(data);
///
/// let greeting = ctx.data::<Greeting>().map_or("Hi", |g| g.0.as_str());
/// assert_eq!(format!("{greeting}, Ada!"), "Hello, Ada!");
/// assert!(ctx.data::<u32>().is_none(), "one value per type, none given");
/// ```
#[derive(Clone)]
pub struct TaskContext {
    /// The job's id (RQ's `job.id`).
    pub job_id: String,
    /// The queue the job was taken from.
    pub queue: String,
    progress: Option<Arc<dyn ProgressSink>>,
    data: DataMap,
    scratch: Arc<ScratchState>,
    cancellation: Cancellation,
}

impl TaskContext {
    /// A context with no shared data and a scratch area under the system temp directory; the
    /// `with_*` methods fill in the rest.
    pub fn new(job_id: &str, queue: &str, progress: Option<Arc<dyn ProgressSink>>) -> Self {
        TaskContext {
            job_id: job_id.to_string(),
            queue: queue.to_string(),
            progress,
            data: DataMap::default(),
            scratch: Arc::new(ScratchState::new(job_id, None)),
            cancellation: Cancellation::never(),
        }
    }

    /// The shared values [`Self::data`] finds.
    pub fn with_data(mut self, data: DataMap) -> Self {
        self.data = data;
        self
    }

    /// Puts the scratch area under `work_dir` (`None`: the system temp directory).
    pub fn with_work_dir(mut self, work_dir: Option<PathBuf>) -> Self {
        match Arc::get_mut(&mut self.scratch) {
            // Not shared yet (no guard taken): set it in place, no second state per job.
            Some(state) => state.base = work_dir,
            None => self.scratch = Arc::new(ScratchState::new(&self.job_id, work_dir)),
        }
        self
    }

    /// The signal [`Self::cancellation`] returns (default: one that never fires).
    pub fn with_cancellation(mut self, cancellation: Cancellation) -> Self {
        self.cancellation = cancellation;
        self
    }

    /// The guard that removes this job's scratch directory. The engine holds it and drops (or
    /// [`ScratchGuard::remove`]s) it after the handler future is gone, so the directory goes
    /// on success, failure, timeout and stop alike.
    pub fn scratch_guard(&self) -> ScratchGuard {
        ScratchGuard {
            state: Some(self.scratch.clone()),
        }
    }

    /// Records progress in `meta['progress']`; it is visible to Python while the job runs.
    pub async fn report_progress(&self, progress: Value) {
        if let Some(sink) = &self.progress {
            sink.report(progress).await;
        }
    }

    /// The shared value of type `T` given to the worker's builder
    /// ([`WorkerBuilder::data`](crate::WorkerBuilder::data)), if there is one.
    pub fn data<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.data.get::<T>()
    }

    /// [`Self::data`] as an `Arc`, to move into spawned work.
    pub fn shared<T: Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        self.data.shared::<T>()
    }

    /// Set when the job is being ended from outside (timeout, stop command, shutdown). The
    /// handler future itself is simply dropped then; this is for work that outlives it
    /// (spawned tasks, blocking threads).
    pub fn cancellation(&self) -> &Cancellation {
        &self.cancellation
    }

    /// This job's private scratch directory (mode 0700), created on first use under
    /// [`Config::work_dir`](crate::Config::work_dir) or the system temp directory, and removed
    /// when the job ends however it ends.
    pub async fn scratch_dir(&self) -> std::io::Result<PathBuf> {
        let state = self.scratch.clone();
        tokio::task::spawn_blocking(move || state.create())
            .await
            .map_err(std::io::Error::other)?
    }
}

/// Whether the job is being cancelled; cheap to clone.
#[derive(Clone, Debug)]
pub struct Cancellation {
    /// `None` for a signal that never fires.
    rx: Option<watch::Receiver<bool>>,
}

impl Cancellation {
    /// A signal and the sender that fires it.
    pub fn new() -> (watch::Sender<bool>, Cancellation) {
        let (tx, rx) = watch::channel(false);
        (tx, Cancellation { rx: Some(rx) })
    }

    /// A signal that never fires (unit tests, contexts without an engine).
    pub fn never() -> Cancellation {
        Cancellation { rx: None }
    }

    /// Whether the job is being cancelled now.
    pub fn is_cancelled(&self) -> bool {
        self.rx.as_ref().is_some_and(|rx| *rx.borrow())
    }

    /// Completes when the job is cancelled; pends forever otherwise (also when the sender is
    /// gone without firing).
    pub async fn cancelled(&self) {
        if let Some(rx) = &self.rx {
            let mut rx = rx.clone();
            if rx.wait_for(|c| *c).await.is_ok() {
                return;
            }
        }
        std::future::pending::<()>().await;
    }
}

/// Where the scratch directory of one job lives; created lazily.
#[derive(Debug)]
struct ScratchState {
    /// For the log: the removal may run outside the job's span (a drop, a blocking thread).
    job_id: String,
    prefix: String,
    base: Option<PathBuf>,
    dir: Mutex<Option<PathBuf>>,
}

impl ScratchState {
    fn new(job_id: &str, base: Option<PathBuf>) -> Self {
        // The job id is only a readable hint in the name; keep it filesystem-safe and short.
        let hint: String = job_id
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .take(40)
            .collect();
        ScratchState {
            job_id: job_id.to_string(),
            prefix: format!("task-worker-{hint}-"),
            base,
            dir: Mutex::new(None),
        }
    }

    fn create(&self) -> std::io::Result<PathBuf> {
        let mut dir = self.dir.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(d) = dir.as_ref() {
            return Ok(d.clone());
        }
        let base = match &self.base {
            Some(b) => b.clone(),
            None => std::env::temp_dir(),
        };
        std::fs::create_dir_all(&base)?;
        let base = std::path::absolute(&base)?;
        let path = base.join(format!("{}{}", self.prefix, uuid::Uuid::new_v4().simple()));
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder.create(&path)?;
        *dir = Some(path.clone());
        Ok(path)
    }

    fn take(&self) -> Option<PathBuf> {
        self.dir.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

fn remove_dir(path: &Path, job_id: &str) {
    // The job may have made directories unreadable; `remove_tree` gives them back their
    // owner's rights. Programs a cancelled job started may be killed a moment after the
    // handler is dropped (by whatever supervises them), and until then they may still write:
    // try a few times.
    let mut tries = 0;
    loop {
        match crate::fs::remove_tree(path) {
            Ok(()) => return debug!(job_id, dir = %path.display(), "scratch directory removed"),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
            Err(e) if tries >= 30 => {
                return warn!(job_id, dir = %path.display(), "could not remove scratch directory: {e}")
            }
            Err(_) => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        }
    }
}

/// Removes the job's scratch directory when dropped (synchronously) or on [`Self::remove`].
#[derive(Debug)]
pub struct ScratchGuard {
    state: Option<Arc<ScratchState>>,
}

impl ScratchGuard {
    /// Removes the directory off the async threads and waits for it.
    pub async fn remove(mut self) {
        let Some(state) = self.state.take() else {
            return;
        };
        if let Some(path) = state.take() {
            let _ = tokio::task::spawn_blocking(move || remove_dir(&path, &state.job_id)).await;
        }
    }
}

impl Drop for ScratchGuard {
    fn drop(&mut self) {
        let Some(state) = self.state.take() else {
            return;
        };
        if let Some(path) = state.take() {
            // Off the async threads when there are some (a runtime waits for blocking tasks
            // when it shuts down, so the removal still happens before the process exits).
            match tokio::runtime::Handle::try_current() {
                Ok(h) => drop(h.spawn_blocking(move || remove_dir(&path, &state.job_id))),
                Err(_) => remove_dir(&path, &state.job_id),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn scratch_dir_is_private_lazy_and_removed_by_the_guard() {
        let base = std::env::temp_dir().join(format!("tw-kit-{}", uuid::Uuid::new_v4()));
        let ctx = TaskContext::new("job/1", "q", None).with_work_dir(Some(base.clone()));
        let guard = ctx.scratch_guard();
        assert!(!base.exists(), "nothing is created before first use");
        let dir = ctx.scratch_dir().await.unwrap();
        assert_eq!(ctx.scratch_dir().await.unwrap(), dir);
        assert!(dir.starts_with(&base) && dir.is_dir());
        assert!(dir
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("task-worker-job1-"));
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        std::fs::write(dir.join("f"), "x").unwrap();
        drop(guard);
        // Removed off the async threads.
        for _ in 0..500 {
            if !dir.exists() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert!(!dir.exists());
        // A second job context: the async removal.
        let ctx = TaskContext::new("j2", "q", None).with_work_dir(Some(base.clone()));
        let dir = ctx.scratch_dir().await.unwrap();
        ctx.scratch_guard().remove().await;
        assert!(!dir.exists());
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[tokio::test]
    async fn cancellation_fires_once_sent() {
        let (tx, c) = Cancellation::new();
        let ctx = TaskContext::new("j", "q", None).with_cancellation(c);
        assert!(!ctx.cancellation().is_cancelled());
        let waiter = {
            let c = ctx.cancellation().clone();
            tokio::spawn(async move { c.cancelled().await })
        };
        tx.send(true).unwrap();
        waiter.await.unwrap();
        assert!(ctx.cancellation().is_cancelled());
        assert!(!Cancellation::never().is_cancelled());
    }
}
