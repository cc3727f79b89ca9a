//! The worker's Redis connections: to one address ([`redis::aio::ConnectionManager`], which
//! reconnects to it), or to the master that Sentinel names now ([`crate::sentinel`]), which
//! move to a new master after a failover.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::{Cmd, Pipeline, RedisFuture, RedisResult, Value};

use crate::config::Config;
use crate::errors::WorkerError;
use crate::sentinel::{failover_error, Discovery, Follower, Master};

/// A multiplexed connection to the worker's Redis, cheap to clone (clones share it). Without
/// Sentinel it is a [`ConnectionManager`] (it reconnects to the same address); with Sentinel
/// it sends every command to the current master and moves to the new one after a failover.
#[derive(Clone)]
pub struct RedisConnection(Inner);

#[derive(Clone)]
enum Inner {
    Fixed(ConnectionManager),
    Following(Arc<Following>),
}

struct Following {
    follower: Arc<Follower>,
    config: ConnectionManagerConfig,
    /// The master's generation and the connection to it.
    current: Mutex<Option<(u64, ConnectionManager)>>,
}

impl Following {
    /// The connection to the current master, opened (lazily) when the master changed, and
    /// the master's generation.
    fn connection(&self) -> RedisResult<(u64, ConnectionManager)> {
        let master = self.follower.current().ok_or_else(no_master)?;
        let mut current = self
            .current
            .lock()
            .map_err(|_| std::io::Error::other("connection state poisoned"))?;
        match &*current {
            Some((generation, con)) if *generation == master.generation => {
                Ok((*generation, con.clone()))
            }
            _ => {
                let con = ConnectionManager::new_lazy_with_config(
                    master.client.clone(),
                    self.config.clone(),
                )?;
                *current = Some((master.generation, con.clone()));
                Ok((master.generation, con))
            }
        }
    }

    /// Runs `command` (sent on the connection of master `generation`) until its reply, or
    /// until the master changes: a command waiting on the old master (a killed one whose
    /// address the connection keeps trying, one cut off by a partition that never answers)
    /// would otherwise hold its caller until the connection or response timeout, long after
    /// every other command went to the new master. It then fails as a lost connection does:
    /// it may or may not have been applied on the old master, and the caller retries it (on
    /// the new master) as after any lost connection.
    async fn until_master_changes<T>(
        &self,
        generation: u64,
        command: impl std::future::Future<Output = RedisResult<T>>,
    ) -> RedisResult<T> {
        let mut changes = self.follower.changes();
        let moved = async move {
            loop {
                let changed = changes
                    .borrow_and_update()
                    .as_ref()
                    .is_some_and(|m| m.generation != generation);
                if changed {
                    return;
                }
                if changes.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        };
        tokio::select! {
            r = command => r,
            _ = moved => Err(master_changed()),
        }
    }

    fn check<T>(&self, r: &RedisResult<T>) {
        if let Err(e) = r {
            if failover_error(e) {
                self.follower.suspect();
            }
        }
    }
}

fn master_changed() -> redis::RedisError {
    std::io::Error::new(
        std::io::ErrorKind::ConnectionAborted,
        "the Redis master changed while the command waited for its reply (it may or may not \
         have been applied on the old master)",
    )
    .into()
}

fn no_master() -> redis::RedisError {
    std::io::Error::new(
        std::io::ErrorKind::NotConnected,
        "no Redis master known yet (asking the sentinels)",
    )
    .into()
}

impl ConnectionLike for RedisConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match &mut self.0 {
            Inner::Fixed(con) => con.req_packed_command(cmd),
            Inner::Following(f) => Box::pin(async move {
                let r = match f.connection() {
                    Ok((generation, mut con)) => {
                        f.until_master_changes(generation, con.send_packed_command(cmd))
                            .await
                    }
                    Err(e) => Err(e),
                };
                f.check(&r);
                r
            }),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match &mut self.0 {
            Inner::Fixed(con) => con.req_packed_commands(cmd, offset, count),
            Inner::Following(f) => Box::pin(async move {
                let r = match f.connection() {
                    Ok((generation, mut con)) => {
                        f.until_master_changes(
                            generation,
                            con.send_packed_commands(cmd, offset, count),
                        )
                        .await
                    }
                    Err(e) => Err(e),
                };
                f.check(&r);
                if let Ok(values) = &r {
                    // A pipeline returns its commands' errors as values.
                    let read_only = values.iter().any(|v| match v {
                        Value::ServerError(e) => {
                            matches!(e.code(), "READONLY" | "UNBLOCKED")
                                || e.details().is_some_and(|d| d.contains("READONLY"))
                        }
                        _ => false,
                    });
                    if read_only {
                        f.follower.suspect();
                    }
                }
                r
            }),
        }
    }

    fn get_db(&self) -> i64 {
        match &self.0 {
            Inner::Fixed(con) => con.get_db(),
            Inner::Following(f) => f
                .follower
                .current()
                .map_or(0, |m| m.client.get_connection_info().redis_settings().db()),
        }
    }
}

/// Where the worker's connections go: one address, or the master Sentinel names.
#[derive(Clone)]
#[allow(clippy::large_enum_variant)] // one per worker, cloned once per queue watcher
pub(crate) enum Redis {
    Fixed(redis::Client),
    Sentinel(Arc<Follower>),
}

impl Redis {
    /// From the configuration (already validated).
    pub(crate) fn new(cfg: &Config) -> Result<Redis, WorkerError> {
        match &cfg.sentinel {
            None => Ok(Redis::Fixed(cfg.redis_tls.client(&cfg.redis_url)?)),
            Some(s) => Ok(Redis::Sentinel(Follower::new(Discovery::new(
                s,
                &cfg.redis_url,
                &cfg.redis_tls,
            )?))),
        }
    }

    /// A connection (see [`RedisConnection`]); `response_timeout` bounds each reply. Without
    /// Sentinel it connects now; with Sentinel it finds the master first if none is known.
    pub(crate) async fn manager(
        &self,
        response_timeout: Option<Duration>,
    ) -> RedisResult<RedisConnection> {
        let config = ConnectionManagerConfig::new()
            .set_response_timeout(response_timeout)
            .set_connection_timeout(Some(Duration::from_secs(5)))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_secs(2));
        match self {
            Redis::Fixed(client) => Ok(RedisConnection(Inner::Fixed(
                ConnectionManager::new_with_config(client.clone(), config).await?,
            ))),
            Redis::Sentinel(follower) => {
                let master = self.master().await?;
                let con = ConnectionManager::new_with_config(master.client.clone(), config.clone())
                    .await?;
                Ok(RedisConnection(Inner::Following(Arc::new(Following {
                    follower: follower.clone(),
                    config,
                    current: Mutex::new(Some((master.generation, con))),
                }))))
            }
        }
    }

    /// The current master, found now if none is known yet.
    async fn master(&self) -> RedisResult<Arc<Master>> {
        let Redis::Sentinel(follower) = self else {
            return Err(no_master());
        };
        match follower.current() {
            Some(m) => Ok(m),
            None => follower.discover().await.map_err(|e| {
                std::io::Error::new(std::io::ErrorKind::NotConnected, e.to_string()).into()
            }),
        }
    }

    /// A pub/sub connection to the server (the current master with Sentinel).
    pub(crate) async fn pubsub(&self) -> RedisResult<redis::aio::PubSub> {
        match self {
            Redis::Fixed(client) => client.get_async_pubsub().await,
            Redis::Sentinel(_) => self.master().await?.client.get_async_pubsub().await,
        }
    }

    /// The address shown in logs: the master's with Sentinel.
    pub(crate) fn master_addr(&self) -> Option<String> {
        match self {
            Redis::Fixed(_) => None,
            Redis::Sentinel(f) => f.current().map(|m| m.addr.clone()),
        }
    }

    /// Starts following the master (nothing without Sentinel).
    pub(crate) fn start(&self) {
        if let Redis::Sentinel(f) = self {
            f.start();
        }
    }

    /// Stops following the master.
    pub(crate) fn stop(&self) {
        if let Redis::Sentinel(f) = self {
            f.stop();
        }
    }

    /// Resolves when the master changes; never without Sentinel.
    pub(crate) fn changes(&self) -> MasterChanges {
        match self {
            Redis::Fixed(_) => MasterChanges(None),
            Redis::Sentinel(f) => MasterChanges(Some(f.changes())),
        }
    }
}

/// See [`Redis::changes`].
pub(crate) struct MasterChanges(Option<tokio::sync::watch::Receiver<Option<Arc<Master>>>>);

impl MasterChanges {
    /// The next change of master after this was made (or after the last `next`).
    pub(crate) async fn next(&mut self) {
        match &mut self.0 {
            Some(rx) => {
                if rx.changed().await.is_err() {
                    std::future::pending::<()>().await
                }
            }
            None => std::future::pending::<()>().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{RedisTls, SentinelConfig};

    fn following() -> Following {
        let cfg = SentinelConfig {
            sentinels: vec![("127.0.0.1".into(), 26379)],
            master_name: "mymaster".into(),
            username: None,
            password: None,
            tls: None,
        };
        let discovery =
            Discovery::new(&cfg, "redis://mymaster/0", &RedisTls::default()).expect("discovery");
        Following {
            follower: Follower::new(discovery),
            config: ConnectionManagerConfig::new(),
            current: Mutex::new(None),
        }
    }

    fn set_master(f: &Following, generation: u64, addr: &str) {
        let client = redis::Client::open(format!("redis://{addr}")).expect("client");
        f.follower.set_current(Master {
            generation,
            addr: addr.into(),
            client,
        });
    }

    /// A command waiting for a master that never answers (cut off by a partition) ends as
    /// soon as the sentinels name another master, as a lost connection, so that its caller
    /// retries it on the new master instead of waiting for its response timeout.
    #[tokio::test]
    async fn a_command_waiting_on_the_old_master_ends_when_the_master_changes() {
        let f = Arc::new(following());
        set_master(&f, 1, "10.0.0.1:6379");
        let waiting = {
            let f = f.clone();
            tokio::spawn(async move {
                f.until_master_changes(1, std::future::pending::<RedisResult<Value>>())
                    .await
            })
        };
        // The same master found again (the periodic look): the command goes on waiting.
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        set_master(&f, 2, "10.0.0.2:6379");
        let r = waiting.await.expect("task");
        let e = r.expect_err("the command must end with an error");
        assert!(e.is_io_error(), "{e}");
        assert!(failover_error(&e), "{e}");
        assert!(e.to_string().contains("master changed"), "{e}");
    }

    /// A command sent after the change (on the new master's connection) is not ended by it,
    /// and a command that gets its reply returns it.
    #[tokio::test]
    async fn a_command_of_the_current_master_is_left_alone() {
        let f = following();
        set_master(&f, 3, "10.0.0.3:6379");
        let r = f
            .until_master_changes(3, async { Ok(Value::Okay) })
            .await
            .expect("reply");
        assert_eq!(r, Value::Okay);
        // Sent on the connection of generation 2 while 3 is current: ends at once.
        let r = f
            .until_master_changes(2, std::future::pending::<RedisResult<Value>>())
            .await;
        assert!(r.is_err());
    }
}
