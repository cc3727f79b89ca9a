//! The engine: start-up, dequeue, execution, heartbeats, commands and shutdown.
//!
//! ```text
//!  dispatcher ──take script──▶ Redis          heartbeat ──every N s──▶ Redis
//!      │ starts ─────────────────────▶ writer   commands ◀──pub/sub──── Redis
//!      ▼                                 │ start / end scripts (batched; a short job's
//!  executor task per job ──JobEnd──▶ writer     start and end as one) ──▶ Redis
//! ```
//! Every Redis write is built by the protocol layer (`crate::rq`); this module decides when.
//! The shared state of a running worker is [`state::Engine`]; [`run()`] starts and stops it.

mod callbacks;
pub mod commands;
pub mod connect;
pub mod dispatch;
pub mod executor;
mod fallback_run;
pub mod heartbeat;
pub mod maintenance;
pub mod progress;
pub mod rate_limits;
pub mod rescue;
pub mod run;
pub mod scheduler;
pub mod shutdown;
pub mod slots;
pub mod state;
pub mod webhooks;
pub mod writer;

pub use run::{run, Parts, StartupCheck};
