//! Test harness: private, throw-away servers on free ports (never the default ports) and the
//! worker binary. Each server lives in its own temp dir and is killed when dropped.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub mod metrics;
pub mod sentinel;
pub mod worker;

/// Polls `pred` every 50 ms until it gives a value and returns it; panics naming `what` after
/// `secs` seconds.
pub fn wait_until<T>(what: &str, secs: u64, mut pred: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = pred() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A free TCP port on 127.0.0.1 (bound then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free port")
}

pub fn temp_dir(tag: &str) -> PathBuf {
    // A random name, not a clock reading: parallel tests of one process once got the same
    // nanosecond on a VM with a coarse clock and shared one PostgreSQL data directory.
    // `create_dir` (not `_all`) fails rather than hand out a directory that already exists.
    let dir = std::env::temp_dir().join(format!("tw-{tag}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir(&dir).expect("temp dir");
    dir
}

/// Waits until redis-server `child` serves `port`: true once the server there reports `dir` as
/// its directory (a server that needs a password counts once it answers), false if the child
/// exits (port taken) or nothing answers in 20 s.
fn redis_is_ours(child: &mut Child, port: u16, dir: &Path) -> bool {
    let deadline = Instant::now() + Duration::from_secs(20);
    let want = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    while Instant::now() < deadline {
        if !matches!(child.try_wait(), Ok(None)) {
            return false;
        }
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            let Ok(client) = redis::Client::open(format!("redis://127.0.0.1:{port}")) else {
                return false;
            };
            if let Ok(mut con) = client.get_connection() {
                let reply: redis::RedisResult<Vec<String>> =
                    redis::cmd("CONFIG").arg("GET").arg("dir").query(&mut con);
                match reply {
                    Ok(kv) => return kv.get(1).map(PathBuf::from) == Some(want),
                    // NOAUTH and the like: a server that is up, started with a password.
                    Err(e) if !e.is_io_error() => {
                        std::thread::sleep(Duration::from_millis(100));
                        return matches!(child.try_wait(), Ok(None));
                    }
                    Err(_) => {}
                }
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// A private `redis-server`.
pub struct RedisServer {
    pub port: u16,
    child: Child,
    pub dir: PathBuf,
}

impl RedisServer {
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    pub fn start_with(extra: &[&str]) -> Self {
        // A port found free can be taken by another test before redis-server binds it; then our
        // server exits and the port answers for someone else's. So a server counts as started
        // only when the one answering on the port reports our own directory; otherwise try anew.
        for _ in 0..5 {
            let port = free_port();
            let dir = temp_dir("redis");
            let mut child = Command::new("redis-server")
                .args([
                    "--port",
                    &port.to_string(),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ])
                .arg("--dir")
                .arg(&dir)
                .args(extra)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server not found: install Debian's redis-server package");
            if redis_is_ours(&mut child, port, &dir) {
                return RedisServer { port, child, dir };
            }
            let _ = child.kill();
            let _ = child.wait();
            let _ = std::fs::remove_dir_all(&dir);
        }
        panic!("redis-server did not start on a free port in 5 tries");
    }

    /// Takes charge of a redis-server (or sentinel) already spawned on `port` with its own `dir`:
    /// killed, and `dir` removed, on drop.
    pub fn adopt(port: u16, child: Child, dir: PathBuf) -> Self {
        RedisServer { port, child, dir }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn client(&self) -> redis::Client {
        redis::Client::open(self.url()).expect("client")
    }

    pub fn con(&self) -> redis::Connection {
        self.client().get_connection().expect("connection")
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A private PostgreSQL cluster (initdb + pg_ctl) on a free port, in a temp dir.
pub struct PostgresServer {
    pub port: u16,
    pub dir: PathBuf,
    bin: PathBuf,
}

fn pg_bin_dir() -> PathBuf {
    if let Ok(d) = std::env::var("PG_BIN") {
        return PathBuf::from(d);
    }
    for v in ["17", "16", "15", "14", "13"] {
        let p = PathBuf::from(format!("/usr/lib/postgresql/{v}/bin"));
        if p.join("initdb").exists() {
            return p;
        }
    }
    PathBuf::from("/usr/bin")
}

impl PostgresServer {
    pub fn start() -> Self {
        let bin = pg_bin_dir();
        // As for Redis: another test may take the free port first; then start again elsewhere.
        let mut last = String::new();
        for _ in 0..5 {
            let port = free_port();
            let dir = temp_dir("pg");
            let data = dir.join("data");
            if is_root() {
                let _ = Command::new("chown")
                    .args(["-R", "postgres:postgres"])
                    .arg(&dir)
                    .status();
            }
            run_pg(
                &bin,
                "initdb",
                &[
                    "-D",
                    path(&data),
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "--no-sync",
                ],
            );
            let started = try_pg(
                &bin,
                "pg_ctl",
                &[
                    "-D",
                    path(&data),
                    "-l",
                    path(&dir.join("log")),
                    "-w",
                    "-o",
                    &format!(
                        "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
                        dir.display()
                    ),
                    "start",
                ],
            );
            let server = PostgresServer {
                port,
                dir,
                bin: bin.clone(),
            };
            match started {
                Ok(()) => return server,
                // Dropping it stops whatever started and removes its directory.
                Err(e) => last = e,
            }
        }
        panic!("PostgreSQL did not start on a free port in 5 tries: {last}");
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    pub fn stop(&self) {
        run_pg(
            &self.bin,
            "pg_ctl",
            &[
                "-D",
                path(&self.dir.join("data")),
                "-m",
                "fast",
                "-w",
                "stop",
            ],
        );
    }

    pub fn restart(&self) {
        run_pg(
            &self.bin,
            "pg_ctl",
            &[
                "-D",
                path(&self.dir.join("data")),
                "-l",
                path(&self.dir.join("log")),
                "-w",
                "-o",
                &format!(
                    "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
                    self.port,
                    self.dir.display()
                ),
                "start",
            ],
        );
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn run_pg(bin: &Path, tool: &str, args: &[&str]) {
    if let Err(e) = try_pg(bin, tool, args) {
        panic!("{e}");
    }
}

fn try_pg(bin: &Path, tool: &str, args: &[&str]) -> Result<(), String> {
    // PostgreSQL refuses to run as root; CI runs as root, so run as the `postgres` user there.
    let mut cmd = if is_root() {
        let mut su = Command::new("runuser");
        su.args(["-u", "postgres", "--"]).arg(bin.join(tool));
        su
    } else {
        Command::new(bin.join(tool))
    };
    cmd.args(args).stdout(Stdio::null()).stderr(Stdio::piped());
    let out = cmd
        .output()
        .map_err(|e| format!("{tool} failed to run: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{tool} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let _ = Command::new(if is_root() { "runuser" } else { "true" })
            .args(if is_root() {
                vec!["-u", "postgres", "--"]
            } else {
                vec![]
            })
            .arg(self.bin.join("pg_ctl"))
            .args(["-D", path(&data), "-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The worker binary built by cargo for integration tests.
pub fn worker_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_task-worker"))
}

/// Every key of a Redis with its type, TTL and content, as text: two states compare equal when
/// Python readers would see the same (stream entry ids aside).
pub fn dump(con: &mut redis::Connection) -> std::collections::BTreeMap<String, String> {
    use redis::Commands;
    let keys: Vec<String> = con.keys("*").expect("dump");
    let mut out = std::collections::BTreeMap::new();
    for k in keys {
        let kind: String = redis::cmd("TYPE").arg(&k).query(con).expect("dump");
        let ttl: i64 = con.ttl(&k).expect("dump");
        let content = match kind.as_str() {
            "hash" => format!(
                "{:?}",
                con.hgetall::<_, std::collections::BTreeMap<String, String>>(&k)
                    .expect("dump")
            ),
            "zset" => format!(
                "{:?}",
                con.zrange_withscores::<_, Vec<(String, f64)>>(&k, 0, -1)
                    .expect("dump")
            ),
            "set" => {
                let mut m: Vec<String> = con.smembers(&k).expect("dump");
                m.sort();
                format!("{m:?}")
            }
            "list" => format!(
                "{:?}",
                con.lrange::<_, Vec<String>>(&k, 0, -1).expect("dump")
            ),
            // Entries without their ids (those are the time of writing).
            "stream" => {
                let entries: Vec<(String, Vec<String>)> = redis::cmd("XRANGE")
                    .arg(&k)
                    .arg("-")
                    .arg("+")
                    .query(con)
                    .expect("dump");
                format!(
                    "{:?}",
                    entries.into_iter().map(|(_, f)| f).collect::<Vec<_>>()
                )
            }
            other => other.to_string(),
        };
        out.insert(k, format!("{kind} ttl={ttl} {content}"));
    }
    out
}
