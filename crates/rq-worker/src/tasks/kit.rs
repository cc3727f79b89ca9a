//! The handler kit: what a handler gets besides its arguments, and helpers to bind and type
//! parameters with Python's error texts.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use serde::de::DeserializeOwned;
use tokio::sync::watch;
use tracing::{debug, warn};

use super::DataMap;
use super::{TaskCall, TaskError, TaskSpec};
use crate::value::Value;

/// Where progress goes. The engine implements it by writing the job's `meta` the way Python's
/// `job.save_meta()` does; handlers only see this trait.
pub trait ProgressSink: Send + Sync {
    fn report<'a>(&'a self, progress: Value) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>>;
}

/// What a running handler may use.
#[derive(Clone)]
pub struct TaskContext {
    pub job_id: String,
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
    /// ([`crate::worker::WorkerBuilder::data`]), if there is one.
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
    /// `WORK_DIR` or the system temp directory and removed when the job ends.
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
    // The job may have made directories unreadable; the sandbox's cleanup opens them up.
    // When a job is cancelled its sandbox supervisor kills the job's processes a moment
    // after the handler is dropped, and until then they may still write: try a few times.
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

/// `example_long_running` → `ExampleLongRunningTask`: the Python class whose `execute()` the
/// backend called, used in error texts (ctutor-tasks.md §1).
pub fn class_name(task: &TaskSpec) -> String {
    let mut out: String = task
        .name
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                None => String::new(),
            }
        })
        .collect();
    out.push_str("Task");
    out
}

/// The wrapper's `parameters` become the task's keyword arguments; a non-mapping is Python's
/// `TypeError: <C>.execute() argument after ** must be a mapping, not <type>`.
pub fn parameters_as_kwargs(
    task: &TaskSpec,
    parameters: Value,
) -> Result<Vec<(String, Value)>, TaskError> {
    match parameters {
        Value::Dict(pairs) => pairs
            .into_iter()
            .map(|(k, v)| match k {
                Value::Str(k) => Ok((k, v)),
                _ => Err(TaskError::type_error(format!(
                    "{}.execute() keywords must be strings",
                    class_name(task)
                ))),
            })
            .collect(),
        other => Err(TaskError::type_error(format!(
            "{}.execute() argument after ** must be a mapping, not {}",
            class_name(task),
            other.py_type_name()
        ))),
    }
}

/// Parameters bound to a handler's declared names, positionally or by keyword.
#[derive(Debug)]
pub struct Params {
    class: String,
    values: Vec<(&'static str, Option<Value>)>,
}

impl Params {
    /// Binds `call` to the task's parameters ([`TaskSpec::params`]) like a Python signature
    /// `execute(self, name1=…, name2=…)`; a parameter without a default is required. Errors use
    /// Python's texts.
    pub fn bind(task: &TaskSpec, call: &TaskCall) -> Result<Params, TaskError> {
        let names: Vec<&'static str> = task.named_params().iter().map(|p| p.name).collect();
        let required: Vec<&str> = task
            .named_params()
            .iter()
            .filter(|p| p.default.is_none())
            .map(|p| p.name)
            .collect();
        let class = class_name(task);
        if call.args.len() > names.len() {
            return Err(TaskError::type_error(format!(
                "{class}.execute() takes {} positional arguments but {} were given",
                names.len() + 1,
                call.args.len() + 1
            )));
        }
        let mut values: Vec<(&'static str, Option<Value>)> =
            names.iter().map(|n| (*n, None)).collect();
        for (slot, v) in values.iter_mut().zip(call.args.iter()) {
            slot.1 = Some(v.clone());
        }
        for (k, v) in &call.kwargs {
            match values.iter_mut().find(|(n, _)| n == k) {
                Some((_, slot)) if slot.is_some() => {
                    return Err(TaskError::type_error(format!(
                        "{class}.execute() got multiple values for argument '{k}'"
                    )))
                }
                Some((_, slot)) => *slot = Some(v.clone()),
                None => {
                    return Err(TaskError::type_error(format!(
                        "{class}.execute() got an unexpected keyword argument '{k}'"
                    )))
                }
            }
        }
        let missing: Vec<&str> = values
            .iter()
            .filter(|(n, v)| v.is_none() && required.contains(n))
            .map(|(n, _)| *n)
            .collect();
        if let Some(first) = missing.first() {
            return Err(TaskError::type_error(if missing.len() == 1 {
                format!("{class}.execute() missing 1 required positional argument: '{first}'")
            } else {
                let quoted: Vec<String> = missing.iter().map(|m| format!("'{m}'")).collect();
                format!(
                    "{class}.execute() missing {} required positional arguments: {}",
                    missing.len(),
                    quoted.join(", ")
                )
            }));
        }
        Ok(Params { class, values })
    }

    /// The raw value of a parameter, or `None` when it was not given.
    pub fn value(&self, name: &str) -> Option<&Value> {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, v)| v.as_ref())
    }

    /// The value, or `default` when not given.
    pub fn value_or(&self, name: &str, default: Value) -> Value {
        self.value(name).cloned().unwrap_or(default)
    }

    /// A typed parameter through serde; the error names the parameter.
    pub fn typed<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, TaskError> {
        match self.value(name) {
            None => Ok(None),
            Some(v) => serde_json::from_value(v.to_json()).map(Some).map_err(|e| {
                TaskError::type_error(format!(
                    "{}.execute() parameter '{name}' has the wrong type ({}): {e}",
                    self.class,
                    v.py_type_name()
                ))
            }),
        }
    }
}

/// Turns a JSON result built with `serde_json::json!` into a [`Value`]; ints stay ints and
/// floats stay floats (`5.0` is a float), as the spec requires (ctutor-tasks.md §0).
/// Timestamps inside task results: Python's `datetime.utcnow().isoformat()`, six digits and no
/// `Z` (the backend's format, not RQ's).
pub fn task_iso(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

pub fn json_result(v: serde_json::Value) -> Value {
    Value::from_json(&v)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tasks shaped like an application's (the binding texts name their class).
    mod examples {
        use std::borrow::Cow;

        use crate::tasks::{
            Handler, Param, Parameters, TaskCall, TaskContext, TaskFuture, TaskSpec,
        };
        use crate::Value;

        fn unused(_: TaskCall, _: TaskContext) -> TaskFuture {
            Box::pin(async { Ok(Value::None) })
        }

        pub const LONG_RUNNING: TaskSpec = TaskSpec {
            name: Cow::Borrowed("example_long_running"),
            default_timeout: None,
            default_retries: 0,
            summary: Cow::Borrowed(""),
            params: Parameters::Any,
            handler: Handler::Fn(unused),
        };

        pub const DATA_PROCESSING: TaskSpec = TaskSpec {
            name: Cow::Borrowed("example_data_processing"),
            default_timeout: None,
            default_retries: 0,
            summary: Cow::Borrowed(""),
            params: Parameters::named(&[
                Param::required("data_source", "str", "what to process"),
                Param::optional("processing_type", "str", "'basic'", "how"),
            ]),
            handler: Handler::Fn(unused),
        };
    }

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

    #[test]
    fn class_names() {
        assert_eq!(
            class_name(&examples::LONG_RUNNING),
            "ExampleLongRunningTask"
        );
    }

    #[test]
    fn binding_errors_like_python() {
        let call = TaskCall {
            args: vec![],
            kwargs: vec![("x".into(), Value::Int(1))],
        };
        let e = Params::bind(&examples::DATA_PROCESSING, &call).unwrap_err();
        assert_eq!(
            e.last_line(),
            "TypeError: ExampleDataProcessingTask.execute() got an unexpected keyword argument 'x'"
        );
        let e = Params::bind(&examples::DATA_PROCESSING, &TaskCall::default()).unwrap_err();
        assert_eq!(
            e.last_line(),
            "TypeError: ExampleDataProcessingTask.execute() missing 1 required positional argument: 'data_source'"
        );
        let p = Params::bind(
            &examples::DATA_PROCESSING,
            &TaskCall {
                args: vec![Value::Str("s".into())],
                kwargs: vec![],
            },
        )
        .unwrap();
        assert_eq!(p.value("data_source"), Some(&Value::Str("s".into())));
        assert_eq!(p.value("processing_type"), None);
        let e = p.typed::<i64>("data_source").unwrap_err();
        assert!(e.message.contains("parameter 'data_source'"), "{e}");
    }
}
