//! The task framework: plain async handlers that know nothing about Redis or RQ.
//!
//! A handler receives its Python call (`args`, `kwargs`) and a [`TaskContext`] (job identity,
//! progress, cancellation, scratch directory, shared data by [`TaskContext::data`]), and returns
//! a value or a [`TaskError`], which the engine turns into RQ's success or failure records.
//!
//! There are two ways to write one:
//! * **typed** ([`typed`]): `async fn add(p: AddArgs, ctx: TaskContext) -> Result<i64, TaskError>`
//!   where `AddArgs` is a `serde::Deserialize` struct; positional arguments bind to its fields
//!   in order, keyword arguments by name, with Python's error texts. This is what
//!   [`WorkerBuilder::task`](crate::WorkerBuilder::task) registers.
//! * **raw** ([`TaskSpec`] with a [`Handler`]): the call as [`Value`]s and a declared
//!   signature ([`Parameters`]), bound with the [`kit`]; usable in a `const`.
//!
//! Every handler runs inside [`Layer`]s (the standard ones contain panics, remove the scratch
//! directory and trace the call; an application adds its own); the [`Registry`] resolves a
//! job's function name to one [`Invocation`], directly or through a [`Resolver`] for functions
//! that dispatch to a task by their arguments.
//!
//! [`Value`]: crate::Value

mod context;
mod data;
mod error;
pub mod fallback;
pub mod kit;
mod layer;
mod registry;
mod spec;
pub mod typed;

pub use crate::errors::{ParamError, RegistryError};
pub use context::{Cancellation, ProgressSink, ScratchGuard, TaskContext};
pub use data::DataMap;
pub use error::TaskError;
pub use fallback::{
    Fallback, PhaseSignal, RawCallback, RawCallbackCall, RawFuture, RawJob, RawOutcome, RawRetry,
};
pub use layer::Layer;
pub use registry::{Invocation, Registry, Resolver};
pub use spec::{Handler, Param, Parameters, TaskCall, TaskFuture, TaskSpec};
