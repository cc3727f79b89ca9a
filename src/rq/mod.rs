//! The RQ protocol layer: keys, encodings, the job hash, and the transactions of the job
//! lifecycle, exactly as Python RQ writes them (see `shared/rq-protocol.md`). It knows nothing
//! about tokio tasks or handlers; the engine sends what this layer builds.

pub mod codec;
pub mod dependents;
pub mod dequeue;
pub mod end_guard;
pub mod enqueue;
pub mod job;
pub mod json;
pub mod keys;
pub mod lifecycle;
pub mod pickle;
pub mod rate_limit;
pub mod requeue;
pub mod scheduler;
pub mod time;

pub use keys::Keys;

/// The RQ protocol version this worker speaks; written as the worker's `version`.
pub const RQ_COMPAT_VERSION: &str = "2.12.0";
