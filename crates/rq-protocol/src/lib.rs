//! The RQ protocol layer: keys, encodings, the job hash, and the transactions of the job
//! lifecycle, exactly as Python RQ writes them (see `docs/rq-protocol.md`). It knows nothing
//! about tokio tasks or handlers; the engine sends what this layer builds. Every Redis key,
//! command and script, every exception text and retry rule of RQ lives here, as builders
//! (functions that fill a `redis::Pipeline` or return a `redis::Cmd` or script call, and parse
//! the reply); a job's end is one type, [`lifecycle::JobEnd`].
#![deny(missing_docs)]

pub mod codec;
pub mod commands;
pub mod dependents;
pub mod dequeue;
pub mod end_guard;
pub mod enqueue;
pub mod failure;
pub mod incrbyfloat;
pub mod job;
pub mod json;
pub mod keys;
pub mod lifecycle;
pub mod maintenance;
pub mod pickle;
pub mod rate_limit;
pub mod requeue;
pub mod retry;
pub mod scheduler;
pub mod start;
pub mod stats;
pub mod time;

pub mod value;
pub mod webhook;

pub use keys::Keys;

/// The RQ protocol version this worker speaks; written as the worker's `version`.
pub const RQ_COMPAT_VERSION: &str = "2.12.0";
