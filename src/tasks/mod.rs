//! The course application's built-in tasks (docs/course-tasks.md), and the backend's wrapper that
//! names them ([`backend_wrapper`]).
//!
//! * [`basic`]: `echo`, `noop`, `sleep`, `fail` (checks and benchmarks);
//! * [`examples`]: the backend's example tasks;
//! * [`student_testing`]: `student_test_execution`, which clones a submission, runs the
//!   course's test runner in the sandbox and sends the result to the backend API;
//! * [`bounded_json`], [`untrusted`]: reading what a job's programs wrote, within bounds.

pub mod backend_wrapper;
pub mod basic;
pub mod bounded_json;
pub mod examples;
pub mod student_testing;
pub mod untrusted;

use rq_worker::tasks::{Registry, TaskSpec};

pub use backend_wrapper::BACKEND_WRAPPER;
pub use student_testing::settings::TaskSettings;

/// Every built-in task, in the order `tasks` lists them.
pub fn builtin() -> Vec<TaskSpec> {
    vec![
        basic::ECHO,
        basic::NOOP,
        basic::SLEEP,
        basic::FAIL,
        examples::LONG_RUNNING,
        examples::DATA_PROCESSING,
        examples::FAILING,
        student_testing::STUDENT_TEST_EXECUTION,
    ]
}

/// The built-in tasks, unwrapped, with the backend's wrapper resolved (the `tasks` and
/// `submit` commands, and tests).
pub fn registry() -> Registry {
    Registry::new(builtin())
        .and_then(|r| {
            r.with_resolver(
                BACKEND_WRAPPER,
                std::sync::Arc::new(backend_wrapper::resolve),
            )
        })
        .unwrap_or_default()
}
