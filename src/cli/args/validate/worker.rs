//! `task-worker worker`: RQ's command line ([`WorkerArgs`]) mapped onto the options of `run`
//! ([`RunArgs`]) and validated as those are. Each RQ option that cannot apply is refused (an
//! error, exit 2) or noted (one line logged at start-up, [`RunConfig::notes`]); none is dropped
//! silently.
use super::super::{RunArgs, WorkerArgs};
use crate::config::{LogFormat, RunConfig};
use crate::python::PythonMode;
use rq_worker::DequeueStrategy;

/// The trimmed value of an option, `None` when unset or blank.
fn set(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// What `-w/--worker-class` becomes.
struct WorkerClass {
    mode: PythonMode,
    strategy: Option<DequeueStrategy>,
    note: Option<String>,
}

fn worker_class(class: Option<&str>) -> WorkerClass {
    let plain = |mode| WorkerClass {
        mode,
        strategy: None,
        note: None,
    };
    let Some(class) = class.map(str::trim).filter(|c| !c.is_empty()) else {
        return plain(PythonMode::Fork);
    };
    match class {
        "rq.Worker" | "rq.worker.Worker" | "rq.worker.worker_classes.Worker" => {
            plain(PythonMode::Fork)
        }
        "rq.SimpleWorker" | "rq.worker.SimpleWorker" | "rq.worker.worker_classes.SimpleWorker" => {
            plain(PythonMode::Reuse)
        }
        "rq.worker.RoundRobinWorker" | "rq.worker.worker_classes.RoundRobinWorker" => WorkerClass {
            mode: PythonMode::Fork,
            strategy: Some(DequeueStrategy::RoundRobin),
            note: None,
        },
        "rq.worker.RandomWorker" | "rq.worker.worker_classes.RandomWorker" => WorkerClass {
            mode: PythonMode::Fork,
            strategy: Some(DequeueStrategy::Random),
            note: None,
        },
        "rq.SpawnWorker" | "rq.worker.SpawnWorker" | "rq.worker.worker_classes.SpawnWorker" => {
            WorkerClass {
                mode: PythonMode::Fork,
                strategy: None,
                note: Some(format!(
                    "-w {class}: each job runs in its own process forked from a warm parent (--python-mode fork), not a spawned one"
                )),
            }
        }
        other => WorkerClass {
            mode: PythonMode::Fork,
            strategy: None,
            note: Some(format!(
                "-w {other}: a worker class of its own does not apply (task-worker is the worker); jobs run as with rq.Worker (--python-mode fork)"
            )),
        },
    }
}

/// `-S`: RQ's aliases and dotted paths of its two serializers.
fn serializer(name: Option<&str>) -> Result<&'static str, String> {
    match name.map(str::trim) {
        None | Some("") => Ok("pickle"),
        Some(
            "pickle"
            | "rq.serializers.DefaultSerializer"
            | "rq.serializers.PickleSerializer"
            | "rq.serializers.pickle",
        ) => Ok("pickle"),
        Some("json" | "rq.serializers.JSONSerializer") => Ok("json"),
        Some(other) => Err(format!(
            "-S/--serializer {other:?} is not supported: task-worker reads RQ's pickle (rq.serializers.DefaultSerializer) and JSON (rq.serializers.JSONSerializer) serializers only"
        )),
    }
}

/// RQ's log level names as a tracing filter; `-v` and `-q` win over `--logging_level`, as in RQ.
fn log_level(args: &WorkerArgs) -> Result<Option<String>, String> {
    if args.verbose {
        return Ok(Some("debug".into()));
    }
    if args.quiet {
        return Ok(Some("warn".into()));
    }
    let Some(level) = args
        .logging_level
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty())
    else {
        return Ok(None);
    };
    let filter = match level.to_ascii_uppercase().as_str() {
        "DEBUG" | "NOTSET" => "debug",
        "INFO" => "info",
        "WARNING" | "WARN" => "warn",
        "ERROR" | "CRITICAL" | "FATAL" => "error",
        _ => {
            return Err(format!(
                "invalid --logging_level {level:?}: use DEBUG, INFO, WARNING, ERROR or CRITICAL"
            ))
        }
    };
    Ok(Some(filter.into()))
}

/// The interpreter `worker` runs Python jobs with when `--python` is not given: the first of
/// `python3` and `python` on `PATH` that has rq installed (the Python pool's start-up then
/// checks that rq and redis import, as with `--python`).
fn default_python() -> Option<String> {
    let path = std::env::var_os("PATH")?;
    for name in ["python3", "python"] {
        let Some(found) = std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
        else {
            continue;
        };
        let imports_rq = std::process::Command::new(&found)
            // Finds rq without importing it (fast); the pool's start-up imports it for real.
            .args([
                "-c",
                "import importlib.util as u, sys; sys.exit(u.find_spec('rq') is None)",
            ])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if imports_rq {
            return Some(found.to_string_lossy().into_owned());
        }
    }
    None
}

impl WorkerArgs {
    /// The configuration `rq worker` with these options asks for; `Err` is one line.
    pub fn validate(&self) -> Result<RunConfig, String> {
        let run = self.to_run_args()?;
        let mut notes = self.notes();
        let class = worker_class(self.worker_class.as_deref());
        notes.extend(class.note.clone());
        let mut cfg = run.validate()?;
        if cfg.python.is_none() {
            notes.push(
                "no --python given and no python3/python on PATH can import rq: jobs whose function is not a built-in task fail with LookupError".into(),
            );
        }
        cfg.log_level = log_level(self)?;
        cfg.pid_file = self
            .pid
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(std::path::PathBuf::from);
        cfg.notes = notes;
        Ok(cfg)
    }

    /// The equivalent options of `run`, or the refusal of an option that cannot apply.
    pub fn to_run_args(&self) -> Result<RunArgs, String> {
        if let Some(module) = set(&self.config) {
            return Err(format!(
                "-c/--config {module:?} (RQ_CONFIG) is not supported: task-worker does not import Python settings modules; give its settings as options (-u, -n, queue names, ...)"
            ));
        }
        if let Some(h) = self.exception_handler.first() {
            return Err(format!(
                "--exception-handler {h:?} is not supported: task-worker runs no Python exception handlers (failed jobs go to the failed registry; use an on_failure callback)"
            ));
        }
        if self.sentry_dsn.is_some() || self.sentry_ca_certs.is_some() || self.sentry_debug {
            return Err("--sentry-* options are not supported (RQ 2.0 removed them too); use the metrics or OpenTelemetry traces".into());
        }
        let queues = if self.queues.is_empty() {
            vec!["default".to_string()]
        } else {
            self.queues.clone()
        };
        if let Some(q) = queues
            .iter()
            .find(|q| q.contains(',') || q.trim().is_empty())
        {
            return Err(format!(
                "invalid queue name {q:?}: give each queue as its own argument, without commas"
            ));
        }
        let serializer = serializer(self.serializer.as_deref())?;
        let log_format = match set(&self.log_format)
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("json") => LogFormat::Json,
            _ => LogFormat::Text,
        };
        if let Some(n) = self.job_monitoring_interval {
            let most = self.common.worker_ttl.saturating_add(59).max(1);
            if n == 0 || i64::try_from(n).unwrap_or(i64::MAX) > most {
                return Err(format!(
                    "invalid --job-monitoring-interval {n}: must be 1 to {most} seconds (the worker keys live --worker-ttl + 60 s between heartbeats)"
                ));
            }
        }
        let class = worker_class(self.worker_class.as_deref());
        let mut common = self.common.clone();
        if set(&common.python).is_none() {
            common.python = default_python();
        }
        if self.worker_class.is_some() {
            common.python_mode = class.mode;
        }
        if let Some(strategy) = class.strategy {
            if common.dequeue_strategy.trim() == "default" {
                common.dequeue_strategy = strategy.name().into();
            }
        }
        let mut redis = self.redis.clone();
        if let Some(url) = set(&self.url) {
            redis.redis_url = url.to_string();
        }
        Ok(RunArgs {
            queues: queues.join(","),
            redis,
            name: self.name.clone(),
            burst: self.burst,
            concurrency: self.concurrency,
            serializer: serializer.into(),
            results_ttl: self.results_ttl,
            log_format,
            with_scheduler: self.with_scheduler,
            maintenance_interval: self.maintenance_interval,
            heartbeat_interval: self.job_monitoring_interval.unwrap_or(10),
            python_path: self.path.clone(),
            database: self.database.clone(),
            common,
        })
    }

    /// One line for each accepted option that does not apply.
    fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        let own = |flag: &str, v: &Option<String>, defaults: &[&str], what: &str| {
            set(v)
                .filter(|c| !defaults.contains(c))
                .map(|c| format!("{flag} {c}: not used; {what}"))
        };
        notes.extend(own(
            "-j/--job-class",
            &self.job_class,
            &["rq.job.Job", "rq.Job"],
            "jobs are loaded and run as rq.job.Job",
        ));
        notes.extend(own(
            "--queue-class",
            &self.queue_class,
            &["rq.Queue", "rq.queue.Queue"],
            "queues are read as rq.Queue",
        ));
        notes.extend(own(
            "--connection-class",
            &self.connection_class,
            &["redis.Redis", "redis.StrictRedis"],
            "task-worker has its own Redis client",
        ));
        if let Some(f) = set(&self.log_format)
            .filter(|f| !f.eq_ignore_ascii_case("text") && !f.eq_ignore_ascii_case("json"))
        {
            notes.push(format!(
                "--log-format {f:?}: not used; task-worker writes text or json lines (--log-format text|json)"
            ));
        }
        if let Some(f) = set(&self.date_format) {
            notes.push(format!(
                "--date-format {f:?}: not used; task-worker's timestamps are RFC 3339"
            ));
        }
        if self.disable_default_exception_handler {
            notes.push("-d/--disable-default-exception-handler: not applied; failed jobs always go to the failed registry".into());
        }
        notes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_classes_and_serializers() {
        assert_eq!(worker_class(None).mode, PythonMode::Fork);
        assert_eq!(
            worker_class(Some("rq.worker.SimpleWorker")).mode,
            PythonMode::Reuse
        );
        assert_eq!(
            worker_class(Some("rq.SimpleWorker")).mode,
            PythonMode::Reuse
        );
        assert!(worker_class(Some("rq.Worker")).note.is_none());
        assert_eq!(
            worker_class(Some("rq.worker.RoundRobinWorker")).strategy,
            Some(DequeueStrategy::RoundRobin)
        );
        let custom = worker_class(Some("app.MyWorker"));
        assert_eq!(custom.mode, PythonMode::Fork);
        assert!(custom.note.is_some_and(|n| n.contains("app.MyWorker")));
        assert_eq!(serializer(None), Ok("pickle"));
        assert_eq!(
            serializer(Some("rq.serializers.JSONSerializer")),
            Ok("json")
        );
        assert_eq!(
            serializer(Some("rq.serializers.DefaultSerializer")),
            Ok("pickle")
        );
        assert!(serializer(Some("app.MsgPack")).is_err());
    }
}
