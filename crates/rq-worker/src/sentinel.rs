//! Redis Sentinel: finding the master and following it through failovers.
//!
//! The master is found by asking each sentinel in turn `SENTINEL get-master-addr-by-name` and
//! checking on the address it gives that `ROLE` says `master` (a sentinel that has not seen a
//! failover yet would send writes to a demoted replica). A running worker keeps one
//! follower: its connections ([`crate::RedisConnection`]) ask it for the current master
//! whenever they send a command, and it looks again when a sentinel announces
//! `+switch-master`, when a connection meets `READONLY` or loses its server, and every few
//! seconds in any case. When the master's address changes, every connection drops its old
//! connection and opens one to the new master before its next command.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use redis::{ConnectionAddr, IntoConnectionInfo};
use tokio::sync::{watch, Notify};
use tracing::{info, warn};

use crate::backoff::Backoff;
use crate::config::{RedisTls, SentinelConfig};
use crate::errors::WorkerError;
use crate::redact::redact_url;

/// Bound of every step of a discovery (connecting, each sentinel's answer, `ROLE`).
const ASK_TIMEOUT: Duration = Duration::from_secs(2);
/// How often the follower asks the sentinels even when nothing went wrong.
const RECHECK: Duration = Duration::from_secs(5);
/// Least time between two discoveries (errors of many connections arrive together).
const MIN_GAP: Duration = Duration::from_millis(100);

/// The client of the master the sentinels of `sentinel` name now, checked with `ROLE`; the
/// master's credentials, database and TLS come from `redis_url` and `tls` (its host and port
/// are not used). For one-off commands (the operator subcommands); a worker follows the
/// master through failovers by itself.
pub async fn master_client(
    sentinel: &SentinelConfig,
    redis_url: &str,
    tls: &RedisTls,
) -> Result<redis::Client, WorkerError> {
    let discovery = Discovery::new(sentinel, redis_url, tls)?;
    discovery
        .find()
        .await
        .map(|(_, client)| client)
        .map_err(|detail| WorkerError::NoMaster {
            master: sentinel.master_name.clone(),
            detail,
        })
}

/// What discovery needs: the sentinels' clients and the master's connection details.
pub(crate) struct Discovery {
    master_name: String,
    sentinels: Vec<(String, redis::Client)>,
    /// The master's URL details (credentials, database, TLS mode); its address is replaced.
    master_info: redis::ConnectionInfo,
    master_tls: RedisTls,
}

impl Discovery {
    pub(crate) fn new(
        cfg: &SentinelConfig,
        redis_url: &str,
        tls: &RedisTls,
    ) -> Result<Discovery, WorkerError> {
        let url_error = |source| WorkerError::RedisUrl {
            url: redact_url(redis_url),
            source,
        };
        let master_info = redis_url.into_connection_info().map_err(url_error)?;
        if matches!(master_info.addr(), ConnectionAddr::Unix(_)) {
            return Err(WorkerError::Config(
                crate::errors::ConfigError::SentinelUnixUrl(redact_url(redis_url)),
            ));
        }
        cfg.validate().map_err(WorkerError::Config)?;
        let mut sentinels = Vec::with_capacity(cfg.sentinels.len());
        for (host, port) in &cfg.sentinels {
            let addr = match &cfg.tls {
                None => ConnectionAddr::Tcp(host.clone(), *port),
                Some(_) => ConnectionAddr::TcpTls {
                    host: host.clone(),
                    port: *port,
                    insecure: false,
                    tls_params: None,
                },
            };
            let shown = format!("{host}:{port}");
            let info = addr.into_connection_info().map_err(url_error)?;
            let mut settings = info.redis_settings().clone();
            if let Some(user) = &cfg.username {
                settings = settings.set_username(user);
            }
            if let Some(pw) = &cfg.password {
                settings = settings.set_password(pw);
            }
            let info = info.set_redis_settings(settings);
            let client = cfg
                .tls
                .clone()
                .unwrap_or_default()
                .client_for(info)
                .map_err(|source| WorkerError::RedisUrl {
                    url: format!("sentinel {shown}"),
                    source,
                })?;
            sentinels.push((shown, client));
        }
        Ok(Discovery {
            master_name: cfg.master_name.clone(),
            sentinels,
            master_info,
            master_tls: tls.clone(),
        })
    }

    /// The master's client for `host:port`, with the URL's credentials, database and TLS mode.
    /// The TLS material is used only for a `rediss://` master: with `redis://` it may be there
    /// for the sentinels alone (`--redis-sentinel-tls`).
    fn master_client(&self, host: &str, port: u16) -> redis::RedisResult<redis::Client> {
        match self.master_info.addr() {
            ConnectionAddr::TcpTls { insecure, .. } => {
                let addr = ConnectionAddr::TcpTls {
                    host: host.to_string(),
                    port,
                    insecure: *insecure,
                    tls_params: None,
                };
                self.master_tls
                    .client_for(self.master_info.clone().set_addr(addr))
            }
            _ => {
                let addr = ConnectionAddr::Tcp(host.to_string(), port);
                redis::Client::open(self.master_info.clone().set_addr(addr))
            }
        }
    }

    /// Asks the sentinels in turn; returns the first address that `ROLE` confirms as a master,
    /// or what each sentinel said.
    pub(crate) async fn find(&self) -> Result<(String, redis::Client), String> {
        let mut failures = Vec::new();
        for (shown, sentinel) in &self.sentinels {
            match self.ask(sentinel).await {
                Ok((addr, client)) => return Ok((addr, client)),
                Err(e) => failures.push(format!("sentinel {shown}: {e}")),
            }
        }
        Err(failures.join("; "))
    }

    async fn ask(&self, sentinel: &redis::Client) -> Result<(String, redis::Client), String> {
        let cfg = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(ASK_TIMEOUT))
            .set_response_timeout(Some(ASK_TIMEOUT));
        let mut con = sentinel
            .get_multiplexed_async_connection_with_config(&cfg)
            .await
            .map_err(|e| format!("cannot connect: {e}"))?;
        let addr: Option<(String, u16)> = redis::cmd("SENTINEL")
            .arg("get-master-addr-by-name")
            .arg(&self.master_name)
            .query_async(&mut con)
            .await
            .map_err(|e| format!("get-master-addr-by-name failed: {e}"))?;
        drop(con);
        let Some((host, port)) = addr else {
            return Err(format!("does not know a master {:?}", self.master_name));
        };
        let shown = format!("{host}:{port}");
        let client = self
            .master_client(&host, port)
            .map_err(|e| format!("master {shown}: {e}"))?;
        let mut master = client
            .get_multiplexed_async_connection_with_config(&cfg)
            .await
            .map_err(|e| format!("named {shown}, which cannot be reached: {e}"))?;
        let role: Vec<redis::Value> = redis::cmd("ROLE")
            .query_async(&mut master)
            .await
            .map_err(|e| format!("named {shown}, whose ROLE failed: {e}"))?;
        let role = match role.first() {
            Some(redis::Value::BulkString(b)) => String::from_utf8_lossy(b).into_owned(),
            Some(redis::Value::SimpleString(s)) => s.clone(),
            _ => String::new(),
        };
        if role != "master" {
            return Err(format!("named {shown}, which is a {role:?}, not a master"));
        }
        Ok((shown, client))
    }
}

/// The master a worker uses now.
pub(crate) struct Master {
    /// Increases at each change of address (connections compare it with theirs).
    pub generation: u64,
    /// `host:port`.
    pub addr: String,
    pub client: redis::Client,
}

/// Follows the master of a running worker (see the module's documentation).
pub(crate) struct Follower {
    discovery: Discovery,
    current: watch::Sender<Option<Arc<Master>>>,
    suspect: Notify,
    tasks: Mutex<Vec<tokio::task::AbortHandle>>,
}

impl Follower {
    pub(crate) fn new(discovery: Discovery) -> Arc<Follower> {
        Arc::new(Follower {
            discovery,
            current: watch::channel(None).0,
            suspect: Notify::new(),
            tasks: Mutex::new(Vec::new()),
        })
    }

    /// The master found last, if any.
    pub(crate) fn current(&self) -> Option<Arc<Master>> {
        self.current.borrow().clone()
    }

    /// Sets the current master (the unit tests of the connections).
    #[cfg(test)]
    pub(crate) fn set_current(&self, master: Master) {
        self.current.send_replace(Some(Arc::new(master)));
    }

    /// Changes of master (see [`Follower::current`]).
    pub(crate) fn changes(&self) -> watch::Receiver<Option<Arc<Master>>> {
        self.current.subscribe()
    }

    /// A connection met an error that a failover explains: look again soon.
    pub(crate) fn suspect(&self) {
        self.suspect.notify_one();
    }

    /// Asks the sentinels now; on a new address, every connection moves to it.
    pub(crate) async fn discover(&self) -> Result<Arc<Master>, WorkerError> {
        let (addr, client) =
            self.discovery
                .find()
                .await
                .map_err(|detail| WorkerError::NoMaster {
                    master: self.discovery.master_name.clone(),
                    detail,
                })?;
        let mut found = None;
        let mut previous = None;
        let mut changed = false;
        self.current.send_if_modified(|cur| match cur {
            Some(m) if m.addr == addr => {
                found = Some(m.clone());
                false
            }
            _ => {
                previous = cur.as_ref().map(|m| m.addr.clone());
                let m = Arc::new(Master {
                    generation: cur.as_ref().map_or(1, |m| m.generation + 1),
                    addr: addr.clone(),
                    client: client.clone(),
                });
                *cur = Some(m.clone());
                found = Some(m);
                changed = true;
                true
            }
        });
        // Said once per change (the periodic look finds the same master every 5 seconds).
        match (&previous, &found) {
            (Some(old), Some(m)) => info!(
                master = %m.addr,
                previous = %old,
                "Redis master changed: every connection moves to the new master"
            ),
            (None, Some(m)) if changed => {
                info!(master = %m.addr, name = %self.discovery.master_name, "Redis master found through the sentinels")
            }
            _ => {}
        }
        found.ok_or_else(|| WorkerError::NoMaster {
            master: self.discovery.master_name.clone(),
            detail: "no master recorded".into(),
        })
    }

    /// Starts following: the sentinels' `+switch-master` announcements and the suspicions of
    /// the connections make it look again. Stopped by [`Follower::stop`].
    pub(crate) fn start(self: &Arc<Self>) {
        let watch = tokio::spawn(self.clone().watch());
        let listen = tokio::spawn(self.clone().listen_switches());
        if let Ok(mut tasks) = self.tasks.lock() {
            tasks.push(watch.abort_handle());
            tasks.push(listen.abort_handle());
        }
    }

    /// Stops the tasks of [`Follower::start`].
    pub(crate) fn stop(&self) {
        if let Ok(mut tasks) = self.tasks.lock() {
            for t in tasks.drain(..) {
                t.abort();
            }
        }
    }

    async fn watch(self: Arc<Self>) {
        loop {
            tokio::select! {
                _ = self.suspect.notified() => {}
                _ = tokio::time::sleep(RECHECK) => {}
            }
            let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
            loop {
                match self.discover().await {
                    Ok(_) => break,
                    Err(e) => {
                        warn!(
                            retry_in_ms = backoff.peek().as_millis() as u64,
                            "{}",
                            crate::errors::error_text(&anyhow::Error::new(e))
                        );
                        backoff.wait().await;
                    }
                }
            }
            tokio::time::sleep(MIN_GAP).await;
        }
    }

    /// Listens for `+switch-master` on one sentinel at a time (the next one when it fails).
    async fn listen_switches(self: Arc<Self>) {
        let prefix = format!("{} ", self.discovery.master_name);
        loop {
            for (shown, sentinel) in &self.discovery.sentinels {
                let mut ps = match sentinel.get_async_pubsub().await {
                    Ok(ps) => ps,
                    Err(e) => {
                        warn!(sentinel = %shown, "cannot listen for failovers: {e}");
                        continue;
                    }
                };
                if let Err(e) = ps.subscribe("+switch-master").await {
                    warn!(sentinel = %shown, "cannot subscribe to +switch-master: {e}");
                    continue;
                }
                // A failover announced while no sentinel was listened to is found now.
                self.suspect();
                let mut stream = ps.on_message();
                while let Some(msg) = stream.next().await {
                    let payload = String::from_utf8_lossy(msg.get_payload_bytes());
                    if payload.starts_with(&prefix) {
                        info!(sentinel = %shown, "sentinel announces a failover: {payload}");
                        self.suspect();
                    }
                }
                warn!(sentinel = %shown, "lost the sentinel's announcements; trying the next sentinel");
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

/// True for the errors a failover explains: a demoted master's `READONLY` (also from a
/// script), a blocked command the demotion ended (`UNBLOCKED`), a connection lost or refused.
pub(crate) fn failover_error(e: &redis::RedisError) -> bool {
    if e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal() || e.is_timeout() {
        return true;
    }
    matches!(e.code(), Some("READONLY") | Some("UNBLOCKED"))
        || e.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::ReadOnly)
        || e.to_string().contains("READONLY")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// TLS material given for the sentinels does not make a `redis://` master a TLS one.
    #[test]
    fn sentinel_tls_with_a_plain_master() {
        let cfg = SentinelConfig::new(vec![("127.0.0.1".into(), 26379)], "m");
        // Not read for a plain master (it would not parse).
        let tls = RedisTls::new(Some(b"not a certificate".to_vec()), None);
        let d = Discovery::new(&cfg, "redis://:pw@ignored/0", &tls).unwrap();
        let client = d.master_client("127.0.0.1", 6379).unwrap();
        assert!(matches!(
            client.get_connection_info().addr(),
            ConnectionAddr::Tcp(_, 6379)
        ));
        let d = Discovery::new(&cfg, "rediss://:pw@ignored/0", &RedisTls::default()).unwrap();
        let client = d.master_client("127.0.0.1", 6379).unwrap();
        assert!(matches!(
            client.get_connection_info().addr(),
            ConnectionAddr::TcpTls { .. }
        ));
    }
}
