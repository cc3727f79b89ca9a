//! Shutdown state: warm (stop taking jobs, let running ones finish) and cold (cancel them).
//!
//! The first SIGTERM/SIGINT (or a pub/sub `shutdown` command) requests a warm shutdown; a second
//! signal, or the end of [`Config::shutdown_timeout`](crate::Config::shutdown_timeout), makes it
//! cold (rq-protocol.md §6.9).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tracing::{info, warn};

/// Where a worker is on its way out; phases only move forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// No shutdown requested: jobs are taken.
    Running,
    /// No new jobs; running ones may finish (within the shutdown timeout).
    Warm,
    /// Running jobs are cancelled and ended now.
    Cold,
}

/// A cheap, cloneable handle on the shutdown phase: the application requests a shutdown
/// through it (signals, a future, [`Shutdown::escalate`]), and the worker and its start-up
/// checks watch it.
#[derive(Clone)]
pub struct Shutdown {
    tx: Arc<watch::Sender<Phase>>,
    rx: watch::Receiver<Phase>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self::new()
    }
}

impl Shutdown {
    /// A shutdown that only [`Self::escalate`] requests.
    pub fn new() -> Self {
        let (tx, rx) = watch::channel(Phase::Running);
        Shutdown {
            tx: Arc::new(tx),
            rx,
        }
    }

    /// The phase now.
    pub fn phase(&self) -> Phase {
        *self.rx.borrow()
    }

    /// Whether a shutdown (warm or cold) has been requested.
    pub fn requested(&self) -> bool {
        self.phase() >= Phase::Warm
    }

    /// Moves to `phase` if it is later than the current one.
    pub fn escalate(&self, phase: Phase) {
        self.tx.send_if_modified(|p| {
            if phase > *p {
                *p = phase;
                true
            } else {
                false
            }
        });
    }

    /// Resolves once the phase is at least `phase`.
    pub async fn reached(&self, phase: Phase) {
        let mut rx = self.rx.clone();
        let _ = rx.wait_for(|p| *p >= phase).await;
    }

    /// Sleeps for `d`; returns true early if a shutdown was requested.
    pub async fn wait_timeout(&self, d: Duration) -> bool {
        tokio::select! {
            _ = self.reached(Phase::Warm) => true,
            _ = tokio::time::sleep(d) => self.requested(),
        }
    }

    /// A shutdown requested by SIGTERM/SIGINT: the first signal is warm, the next one cold.
    /// Call it inside the runtime.
    pub fn on_signals() -> Self {
        let s = Self::new();
        s.listen_for_signals();
        s
    }

    /// A shutdown requested (warm) when `fut` completes; a second completion is not needed:
    /// the shutdown timeout makes it cold. Call it inside the runtime.
    pub fn when(fut: impl std::future::Future<Output = ()> + Send + 'static) -> Self {
        let s = Self::new();
        let me = s.clone();
        tokio::spawn(async move {
            fut.await;
            info!("warm shutdown requested: no new jobs; running jobs may finish");
            me.escalate(Phase::Warm);
        });
        s
    }

    /// Installs SIGTERM/SIGINT handlers: the first signal is warm, the next one cold.
    pub fn listen_for_signals(&self) {
        let me = self.clone();
        tokio::spawn(async move {
            #[cfg(unix)]
            {
                use tokio::signal::unix::{signal, SignalKind};
                let (Ok(mut term), Ok(mut int)) = (
                    signal(SignalKind::terminate()),
                    signal(SignalKind::interrupt()),
                ) else {
                    warn!("cannot install signal handlers");
                    return;
                };
                loop {
                    let name = tokio::select! {
                        _ = term.recv() => "SIGTERM",
                        _ = int.recv() => "SIGINT",
                    };
                    if me.requested() {
                        warn!(
                            signal = name,
                            "second signal: cold shutdown, cancelling running jobs"
                        );
                        me.escalate(Phase::Cold);
                    } else {
                        info!(
                            signal = name,
                            "warm shutdown: no new jobs; running jobs may finish"
                        );
                        me.escalate(Phase::Warm);
                    }
                }
            }
            #[cfg(not(unix))]
            {
                let _ = tokio::signal::ctrl_c().await;
                me.escalate(Phase::Warm);
            }
        });
    }
}
