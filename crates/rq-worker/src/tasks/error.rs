//! A task's failure as Python reports an exception ([`TaskError`]).

use crate::value::Value;

/// A failed task, reported the way Python reports an exception: the last line of the job's
/// `exc_string` is `<exc_type>: <message>` (or just `<exc_type>` when the message is empty).
///
/// Built with [`TaskError::new`] and its shorthands, or from an `anyhow::Error` (Python's
/// plain `Exception`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TaskError {
    /// The Python exception's type name (`ValueError`, `TypeError`, …).
    pub exc_type: String,
    /// What `str(exception)` would print.
    pub message: String,
    /// Set by [`TaskError::unclaimed`].
    unclaimed: bool,
}

impl TaskError {
    /// A failure of type `exc_type` (any name; Python's own ones read best).
    pub fn new(exc_type: &str, message: impl Into<String>) -> Self {
        TaskError {
            exc_type: exc_type.to_string(),
            message: message.into(),
            unclaimed: false,
        }
    }

    /// Marks a resolver's answer for a call it does not know (such as a dispatch function
    /// naming a task that is not registered): with a [`Fallback`](crate::tasks::Fallback) the
    /// job goes to the fallback instead, as a job of a function no task claims does; without
    /// one the job fails with this error.
    pub fn unclaimed(mut self) -> Self {
        self.unclaimed = true;
        self
    }

    /// Whether [`TaskError::unclaimed`] marked it.
    pub fn is_unclaimed(&self) -> bool {
        self.unclaimed
    }

    /// Python's `TypeError`, as for a call that does not fit the signature.
    pub fn type_error(message: impl Into<String>) -> Self {
        Self::new("TypeError", message)
    }

    /// Python's `ValueError`.
    pub fn value_error(message: impl Into<String>) -> Self {
        Self::new("ValueError", message)
    }

    /// Python's `KeyError`. `str(KeyError(key))` is the key's repr(), hence the quotes:
    /// `KeyError: 'name'`.
    pub fn key_error(message: &str) -> Self {
        Self::new("KeyError", Value::Str(message.to_string()).py_repr())
    }

    /// The final traceback line.
    pub fn last_line(&self) -> String {
        if self.message.is_empty() {
            self.exc_type.clone()
        } else {
            format!("{}: {}", self.exc_type, self.message)
        }
    }
}

impl std::fmt::Display for TaskError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.last_line())
    }
}

impl std::error::Error for TaskError {}

/// An error from `?` on an `anyhow::Result` in a handler: Python's plain `Exception`, with the
/// error's causes in its message.
impl From<anyhow::Error> for TaskError {
    fn from(e: anyhow::Error) -> Self {
        TaskError::new("Exception", crate::error_text(&e))
    }
}
