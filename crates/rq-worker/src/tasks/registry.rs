//! The registered tasks, and how a job's function name finds one.
//!
//! Jobs name a handler directly (`q.enqueue('echo', 42)`), or call a dispatching function whose
//! arguments name the task (an application's own wrapper); a [`Resolver`] registered under
//! that function's name binds such calls. [`Registry::resolve`] turns either form into one
//! [`Invocation`].

use std::sync::Arc;

use super::layer::{self, Layer};
use super::{TaskCall, TaskError, TaskSpec};
use crate::errors::RegistryError;
use crate::value::Value;

/// Binds the call of a dispatching function (one that names its task in its arguments) to a
/// registered task: registered with [`crate::WorkerBuilder::resolver`] under the function's
/// name. It gets the call's arguments and the registry to look the task up in; its errors are
/// the job's failure, with Python's texts.
pub type Resolver = Arc<dyn Fn(TaskCall, &Registry) -> Result<Invocation, TaskError> + Send + Sync>;

/// The tasks a worker runs, each handler already wrapped in its layers, and the resolvers of
/// dispatching functions. Cheap to clone.
#[derive(Clone, Default)]
pub struct Registry {
    tasks: Arc<Vec<Arc<TaskSpec>>>,
    resolvers: Arc<Vec<(String, Resolver)>>,
}

/// A job resolved to a handler and the call to make.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// The task whose handler runs.
    pub task: Arc<TaskSpec>,
    /// The arguments it runs with (a resolver may have taken some away, e.g. the task name).
    pub call: TaskCall,
}

impl Registry {
    /// The tasks as given (no layers): for listing and checking parameters.
    /// Fails when a task has no name or two have the same one.
    pub fn new(tasks: Vec<TaskSpec>) -> Result<Registry, RegistryError> {
        let mut seen = std::collections::HashSet::new();
        for t in &tasks {
            if t.name.is_empty() {
                return Err(RegistryError::Unnamed);
            }
            if !seen.insert(t.name.clone()) {
                return Err(RegistryError::DuplicateTask(t.name.to_string()));
            }
        }
        Ok(Registry {
            tasks: Arc::new(tasks.into_iter().map(Arc::new).collect()),
            resolvers: Arc::default(),
        })
    }

    /// The same tasks, with `resolver` binding the calls of the function `func_name`.
    /// Fails when a task or another resolver already has that name.
    pub fn with_resolver(
        mut self,
        func_name: &str,
        resolver: Resolver,
    ) -> Result<Registry, RegistryError> {
        if self.lookup(func_name).is_some() {
            return Err(RegistryError::ResolverShadowsTask(func_name.to_string()));
        }
        if self.resolvers.iter().any(|(n, _)| n == func_name) {
            return Err(RegistryError::DuplicateResolver(func_name.to_string()));
        }
        Arc::make_mut(&mut self.resolvers).push((func_name.to_string(), resolver));
        Ok(self)
    }

    /// The same tasks with every handler wrapped: `extra` layers innermost (in the order
    /// given, the first one closest to the handler), then the standard ones
    /// ([`layer::standard`]: tracing, scratch directory, catch-panic outermost).
    pub(crate) fn layered(&self, extra: &[Arc<dyn Layer>]) -> Registry {
        let standard = layer::standard();
        let tasks = self
            .tasks
            .iter()
            .map(|t| {
                let mut spec = TaskSpec::clone(t);
                for l in extra.iter().chain(standard.iter()) {
                    spec.handler = l.wrap(&spec, spec.handler.clone());
                }
                Arc::new(spec)
            })
            .collect();
        Registry {
            tasks: Arc::new(tasks),
            resolvers: self.resolvers.clone(),
        }
    }

    /// The tasks, in the order registered.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<TaskSpec>> {
        self.tasks.iter()
    }

    /// The tasks' names, in the order registered.
    pub fn names(&self) -> Vec<&str> {
        self.tasks.iter().map(|t| t.name.as_ref()).collect()
    }

    /// The task registered as `name` (tasks only, not resolvers' functions).
    pub fn lookup(&self, name: &str) -> Option<&Arc<TaskSpec>> {
        self.tasks.iter().find(|t| t.name == name)
    }

    /// True when `func_name` is a registered task or a resolver's function: [`Registry::resolve`]
    /// binds it (or fails with the task's own error), and a [`Fallback`](super::Fallback)
    /// never sees it.
    pub fn claims(&self, func_name: &str) -> bool {
        self.lookup(func_name).is_some() || self.resolvers.iter().any(|(n, _)| n == func_name)
    }

    /// Resolves a job's function name and arguments to a registered handler: through the
    /// resolver registered under `func_name`, or to the task of that name. Anything else is
    /// the job's `LookupError`: this worker runs no Python code.
    pub fn resolve(
        &self,
        func_name: &str,
        args: Vec<Value>,
        kwargs: Vec<(String, Value)>,
    ) -> Result<Invocation, TaskError> {
        if let Some((_, resolver)) = self.resolvers.iter().find(|(n, _)| n == func_name) {
            return resolver(TaskCall { args, kwargs }, self);
        }
        match self.lookup(func_name) {
            Some(task) => Ok(Invocation {
                task: task.clone(),
                call: TaskCall { args, kwargs },
            }),
            None => Err(TaskError::new(
                "LookupError",
                format!(
                    "task-worker has no task named {:?} (registered: {})",
                    func_name,
                    self.names().join(", ")
                ),
            )),
        }
    }

    /// Resolves a job's callback (`on_success=`, `on_failure=`, `on_stopped=`) to a registered
    /// task. Any other name is refused: this worker runs no Python code, and a callback must
    /// never be dropped without a word, so the job fails before its function runs.
    pub fn resolve_callback(&self, argument: &str, name: &str) -> Result<Arc<TaskSpec>, TaskError> {
        self.lookup(name).cloned().ok_or_else(|| {
            TaskError::new(
                "LookupError",
                format!(
                    "the job's {argument} callback {} is not a task task-worker knows, so the job was not run (registered: {})",
                    Value::Str(name.to_string()).py_repr(),
                    self.names().join(", ")
                ),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tasks::TaskContext;
    use crate::tasks::{Handler, Parameters, TaskFuture};

    fn noop(_: TaskCall, _: TaskContext) -> TaskFuture {
        Box::pin(async { Ok(Value::None) })
    }

    fn task(name: &'static str) -> TaskSpec {
        TaskSpec {
            name: name.into(),
            default_timeout: None,
            default_retries: 0,
            summary: "".into(),
            params: Parameters::Any,
            handler: Handler::Fn(noop),
        }
    }

    fn registry() -> Registry {
        Registry::new(vec![task("noop"), task("app.add")]).unwrap()
    }

    #[test]
    fn names_resolve_to_registered_tasks_only() {
        let inv = registry()
            .resolve("app.add", vec![Value::Int(1)], vec![])
            .unwrap();
        assert_eq!(inv.task.name, "app.add");
        assert_eq!(inv.call.args, vec![Value::Int(1)]);
        let e = registry().resolve("nope.nope", vec![], vec![]).unwrap_err();
        assert_eq!(e.exc_type, "LookupError");
        assert!(e.message.contains("registered: noop, app.add"), "{e}");
    }

    #[test]
    fn callbacks_resolve_to_registered_tasks_only() {
        assert_eq!(
            registry()
                .resolve_callback("on_success", "noop")
                .unwrap()
                .name,
            "noop"
        );
        let e = registry()
            .resolve_callback("on_failure", "app.hooks.alert")
            .unwrap_err();
        assert_eq!(e.exc_type, "LookupError");
        assert!(
            e.message
                .starts_with("the job's on_failure callback 'app.hooks.alert' is not a task"),
            "{e}"
        );
    }

    #[test]
    fn a_resolver_binds_its_function_and_survives_layering() {
        let by_first_arg: Resolver = Arc::new(|call: TaskCall, tasks: &Registry| {
            let Some(Value::Str(name)) = call.args.first() else {
                return Err(TaskError::type_error("no task name"));
            };
            let task = tasks
                .lookup(name)
                .ok_or_else(|| TaskError::key_error(name))?;
            Ok(Invocation {
                task: task.clone(),
                call: TaskCall {
                    args: call.args[1..].to_vec(),
                    kwargs: call.kwargs,
                },
            })
        });
        let r = registry()
            .with_resolver("app.dispatch", by_first_arg)
            .unwrap()
            .layered(&[]);
        let inv = r
            .resolve(
                "app.dispatch",
                vec![Value::Str("app.add".into()), Value::Int(2)],
                vec![],
            )
            .unwrap();
        assert_eq!(inv.task.name, "app.add");
        assert_eq!(inv.call.args, vec![Value::Int(2)]);
        let e = r
            .resolve("app.dispatch", vec![Value::Str("gone".into())], vec![])
            .unwrap_err();
        assert_eq!(e.last_line(), "KeyError: 'gone'");
    }

    #[test]
    fn a_resolver_cannot_shadow_a_task_or_another_resolver() {
        let r: Resolver = Arc::new(|_: TaskCall, _: &Registry| Err(TaskError::type_error("x")));
        assert!(registry().with_resolver("noop", r.clone()).is_err());
        let once = registry().with_resolver("d", r.clone()).unwrap();
        assert!(once.with_resolver("d", r).is_err());
    }
}
