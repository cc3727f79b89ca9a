//! Redis Sentinel with credentials and TLS (docs/ha.md), against real servers on loopback: a
//! master and a replica with a password and an ACL user for the workers, three sentinels with
//! their own `requirepass` and a minimal ACL user for the workers; once over plain TCP, once
//! with mutual TLS everywhere (sentinels, master, replication; certificates made here with the
//! openssl command line). The worker binary finds the master, runs jobs, follows a forced
//! failover (`SENTINEL FAILOVER`); `health` and `status` go through the sentinels; wrong
//! sentinel credentials and a wrong CA fail with one line that names the sentinel and says
//! why, without a secret. Every wait is on a condition with a generous deadline.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod common;

use std::fs::File;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::sentinel::{
    enqueue_echoes, request_failover, sentinel_list, wait_finished, wait_for_master,
    wait_replica_link, wait_sentinels_ready, Connect, MASTER,
};
use common::worker::{output_text, Worker};
use common::{free_port, temp_dir, wait_until, worker_bin, RedisServer};
use redis::Commands;
/// The default user's password on the master and the replica (`requirepass`, `masterauth`, the
/// sentinels' `auth-pass`).
const MASTER_PW: &str = "master-Pw-4f1c";
/// The workers' ACL user on the master.
const TW_USER: &str = "tw";
const TW_PW: &str = "tw-Acl-Pw-9d2e";
/// The sentinels' own `requirepass` (the default user; also `sentinel-pass` between them).
const SENT_PW: &str = "sentinel-Pw-77ab";
/// The workers' ACL user on the sentinels, with only what a worker (and a Python runner's
/// redis-py) asks a sentinel: docs/ha.md.
const SENT_USER: &str = "tw-sentinel";
const SENT_USER_PW: &str = "tw-Sentinel-Pw-3c5a";
const SENT_ACL: &str = "-@all +auth +hello +ping +subscribe +unsubscribe \
                        +sentinel|get-master-addr-by-name +sentinel|masters &*";
const SECRETS: [&str; 4] = [MASTER_PW, TW_PW, SENT_PW, SENT_USER_PW];

/// A CA, a certificate for the servers (also their client certificate: replication and the
/// sentinels' links are TLS too), one for the clients, and a second CA that signs nothing here.
struct Certs {
    dir: PathBuf,
}

impl Certs {
    fn make() -> Certs {
        let dir = temp_dir("sentinel-certs");
        let openssl = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(&dir)
                .output()
                .expect("the openssl command line is needed to make test certificates");
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        for ca in ["ca", "other-ca"] {
            openssl(&[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-days",
                "2",
                "-subj",
                &format!("/CN=tw-test-{ca}"),
                "-keyout",
                &format!("{ca}.key"),
                "-out",
                &format!("{ca}.pem"),
            ]);
        }
        std::fs::write(
            dir.join("san.ext"),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n\
             keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n",
        )
        .unwrap();
        for name in ["server", "client"] {
            openssl(&[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-subj",
                &format!("/CN={name}"),
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.csr"),
            ]);
            openssl(&[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                "san.ext",
                "-out",
                &format!("{name}.pem"),
            ]);
        }
        Certs { dir }
    }

    fn path(&self, file: &str) -> String {
        self.dir.join(file).display().to_string()
    }

    fn read(&self, file: &str) -> Vec<u8> {
        std::fs::read(self.dir.join(file)).unwrap()
    }

    /// What every server's configuration says about TLS.
    fn server_conf(&self) -> String {
        format!(
            "tls-cert-file {}\ntls-key-file {}\ntls-ca-cert-file {}\ntls-auth-clients yes\n\
             tls-replication yes\n",
            self.path("server.pem"),
            self.path("server.key"),
            self.path("ca.pem")
        )
    }
}

impl Drop for Certs {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Plain TCP or TLS everywhere, and how the test itself connects.
struct Setup {
    certs: Option<Certs>,
}

impl Setup {
    fn client(&self, port: u16, user: &str, password: &str) -> redis::Client {
        match &self.certs {
            None => redis::Client::open(format!("redis://{user}:{password}@127.0.0.1:{port}")),
            Some(c) => redis::Client::build_with_tls(
                format!("rediss://{user}:{password}@127.0.0.1:{port}"),
                redis::TlsCertificates {
                    client_tls: Some(redis::ClientTlsConfig {
                        client_cert: c.read("client.pem"),
                        client_key: c.read("client.key"),
                    }),
                    root_cert: Some(c.read("ca.pem")),
                },
            ),
        }
        .unwrap()
    }

    /// Starts `redis-server CONF [--sentinel]` on a free port; `conf` gets the port's lines
    /// first. Started when the server answers PING as `ping` connects.
    fn start(&self, tag: &str, conf: &str, sentinel: bool) -> RedisServer {
        for _ in 0..5 {
            let port = free_port();
            let dir = temp_dir(tag);
            let listen = match &self.certs {
                None => format!("port {port}\n"),
                Some(c) => format!("port 0\ntls-port {port}\n{}", c.server_conf()),
            };
            let file = dir.join("redis.conf");
            std::fs::write(
                &file,
                format!("{listen}bind 127.0.0.1\ndir {}\n{conf}", dir.display()),
            )
            .unwrap();
            let mut cmd = Command::new("redis-server");
            cmd.arg(&file);
            if sentinel {
                cmd.arg("--sentinel");
            }
            let mut child = cmd
                .stdout(File::create(dir.join("log")).unwrap())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server not found: install Debian's redis-server package");
            let deadline = Instant::now() + Duration::from_secs(20);
            let up = loop {
                if !matches!(child.try_wait(), Ok(None)) || Instant::now() > deadline {
                    break false;
                }
                let con = if sentinel {
                    self.sentinel(port)
                } else {
                    self.data(port)
                };
                if con.is_some_and(|mut c| redis::cmd("PING").query::<String>(&mut c).is_ok()) {
                    break true;
                }
                std::thread::sleep(Duration::from_millis(20));
            };
            let server = RedisServer::adopt(port, child, dir);
            if up {
                return server;
            }
            let log = std::fs::read_to_string(server.dir.join("log")).unwrap_or_default();
            eprintln!("{tag} on port {port} did not start (retrying on another port): {log}");
            drop(server);
        }
        panic!("{tag} did not start in 5 tries");
    }
}

impl Connect for Setup {
    /// A connection to a master or replica as the default user.
    fn data(&self, port: u16) -> Option<redis::Connection> {
        self.client(port, "default", MASTER_PW)
            .get_connection_with_timeout(Duration::from_secs(2))
            .ok()
    }

    /// A connection to a sentinel as its default user.
    fn sentinel(&self, port: u16) -> Option<redis::Connection> {
        self.client(port, "default", SENT_PW)
            .get_connection_with_timeout(Duration::from_secs(2))
            .ok()
    }
}

/// A master, its replica and three sentinels, all with credentials (and TLS, with `certs`).
struct Cluster {
    setup: Setup,
    master: RedisServer,
    replica: RedisServer,
    sentinels: Vec<RedisServer>,
}

impl Cluster {
    fn start(tls: bool) -> Cluster {
        let setup = Setup {
            certs: tls.then(Certs::make),
        };
        let data = format!(
            "save \"\"\nappendonly no\nrepl-diskless-sync-delay 0\nrequirepass {MASTER_PW}\nmasterauth {MASTER_PW}\n\
             user {TW_USER} on >{TW_PW} ~* &* +@all\n"
        );
        let master = setup.start("sentinel-master", &data, false);
        let replica = setup.start(
            "sentinel-replica",
            &format!("{data}replicaof 127.0.0.1 {}\n", master.port),
            false,
        );
        wait_replica_link(&setup, replica.port);
        // Only forced failovers here: a master is not taken for dead after a short stall of a
        // busy machine (the sentinels would fail over again, back).
        let conf = format!(
            "requirepass {SENT_PW}\nsentinel sentinel-pass {SENT_PW}\n\
             user {SENT_USER} on >{SENT_USER_PW} {SENT_ACL}\n\
             sentinel monitor {MASTER} 127.0.0.1 {} 2\n\
             sentinel auth-pass {MASTER} {MASTER_PW}\n\
             sentinel down-after-milliseconds {MASTER} 10000\n\
             sentinel failover-timeout {MASTER} 4000\n",
            master.port
        );
        let sentinels: Vec<RedisServer> = (0..3)
            .map(|_| setup.start("sentinel", &conf, true))
            .collect();
        wait_sentinels_ready(&setup, &sentinels);
        Cluster {
            setup,
            master,
            replica,
            sentinels,
        }
    }

    /// `SENTINEL FAILOVER`, then waits until every sentinel names the replica and it is master.
    fn failover(&self) -> u16 {
        let new = self.replica.port;
        request_failover(&self.setup, self.sentinels[0].port);
        wait_for_master(&self.setup, &self.sentinels, new);
        new
    }

    /// The worker binary with the sentinels' and the master's settings: the workers' ACL users
    /// on both, the passwords in variables, TLS with the client certificate. `tweak` changes the
    /// command (wrong credentials, another CA).
    fn command(&self, tweak: impl FnOnce(&mut Command)) -> Command {
        let mut cmd = Command::new(worker_bin());
        let scheme = if self.setup.certs.is_some() {
            "rediss"
        } else {
            "redis"
        };
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("RUST_LOG", "info")
            // The URL's host is not used with sentinels (only its user, database and TLS).
            .env(
                "REDIS_URL",
                format!("{scheme}://{TW_USER}@not-the-master.invalid:1/0"),
            )
            .env("REDIS_PASSWORD", TW_PW)
            .env("REDIS_SENTINELS", sentinel_list(&self.sentinels))
            .env("REDIS_SENTINEL_MASTER", MASTER)
            .env("REDIS_SENTINEL_USERNAME", SENT_USER)
            .env("REDIS_SENTINEL_PASSWORD", SENT_USER_PW);
        if let Some(c) = &self.setup.certs {
            cmd.env("REDIS_SENTINEL_TLS", "true")
                .env("REDIS_TLS_CA", c.path("ca.pem"))
                .env("REDIS_TLS_CERT", c.path("client.pem"))
                .env("REDIS_TLS_KEY", c.path("client.key"));
        }
        tweak(&mut cmd);
        cmd
    }

    fn cli(&self, args: &[&str], tweak: impl FnOnce(&mut Command)) -> Output {
        let mut cmd = self.command(tweak);
        cmd.args(args).output().unwrap()
    }
}

fn no_secret(text: &str) {
    for s in SECRETS {
        assert!(!text.contains(s), "a password is printed: {text}");
    }
}

/// A failed subcommand: not exit 0, exactly one line of output (returned; `status` reports on
/// stdout, the others on stderr), no secret.
fn one_line_failure(out: &Output) -> String {
    let text = output_text(out);
    assert!(!out.status.success(), "succeeded: {text}");
    no_secret(&text);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "not one line ({}): {text}", out.status);
    println!("{}", lines[0]);
    lines[0].to_string()
}

fn succeeded(out: &Output) -> String {
    let text = output_text(out);
    assert!(out.status.success(), "{text}");
    no_secret(&text);
    text
}

/// Jobs before and after a forced failover, the operator subcommands, and the worker's log.
fn jobs_failover_and_subcommands(cluster: &Cluster) {
    let old = cluster.master.port;
    let worker = Worker::spawn(
        cluster.command(|_| {}).args([
            "-n",
            "secure-w",
            "-q",
            "default",
            "--heartbeat-interval",
            "1",
        ]),
        "sentinel-secure-worker",
        true,
    );
    let before = enqueue_echoes(&cluster.setup, old, 10, 0);
    wait_finished(&cluster.setup, old, &before, "the jobs before the failover");

    // health and status through the sentinels (as the worker's own users).
    succeeded(&cluster.cli(&["health", "-n", "secure-w"], |_| {}));
    let status = succeeded(&cluster.cli(&["status"], |_| {}));
    assert!(status.contains("secure-w"), "{status}");

    let new = cluster.failover();
    let after = enqueue_echoes(&cluster.setup, new, 10, 100);
    wait_finished(&cluster.setup, new, &after, "the jobs after the failover");
    // Each job ran once: one result each.
    let mut c = cluster.setup.data(new).unwrap();
    for id in before.iter().chain(&after) {
        let results: usize = c.xlen(format!("rq:results:{id}")).unwrap();
        assert_eq!(results, 1, "job {id}");
    }
    // The subcommands find the new master (the worker's heartbeats are there).
    wait_until("the worker's heartbeat on the new master", 30, || {
        c.sismember::<_, _, bool>("rq:workers", "rq:worker:secure-w")
            .ok()?
            .then_some(())
    });
    succeeded(&cluster.cli(&["health", "-n", "secure-w"], |_| {}));
    let log = worker.log();
    assert!(
        log.contains("Redis master found through the sentinels"),
        "{log}"
    );
    assert!(log.contains("Redis master changed"), "{log}");
    no_secret(&log);
}

#[test]
fn sentinels_and_master_with_passwords_and_acl_users() {
    let cluster = Cluster::start(false);
    jobs_failover_and_subcommands(&cluster);
    let first = format!("127.0.0.1:{}", cluster.sentinels[0].port);

    // The sentinels' default user with their requirepass works as well.
    succeeded(&cluster.cli(&["status"], |c| {
        c.env_remove("REDIS_SENTINEL_USERNAME")
            .env("REDIS_SENTINEL_PASSWORD", SENT_PW);
    }));
    // The sentinels' password from a file (REDIS_SENTINEL_PASSWORD_FILE).
    let dir = temp_dir("sentinel-secret");
    let file = dir.join("sentinel-password");
    std::fs::write(&file, format!("{SENT_USER_PW}\n")).unwrap();
    succeeded(&cluster.cli(&["status"], |c| {
        c.env_remove("REDIS_SENTINEL_PASSWORD")
            .env("REDIS_SENTINEL_PASSWORD_FILE", &file);
    }));
    let _ = std::fs::remove_dir_all(&dir);
    // A wrong sentinel password: one line naming each sentinel and the refusal.
    let line = one_line_failure(&cluster.cli(&["status"], |c| {
        c.env("REDIS_SENTINEL_PASSWORD", "wrong-Sentinel-Pw");
    }));
    assert!(line.contains("no Redis master found"), "{line}");
    assert!(line.contains(&first), "{line}");
    assert!(
        line.contains("WRONGPASS") || line.contains("authentication failed"),
        "{line}"
    );
    assert!(!line.contains("wrong-Sentinel-Pw"), "{line}");
    // No sentinel password at all: the sentinels want one.
    let line = one_line_failure(&cluster.cli(&["health", "--redis-only"], |c| {
        c.env_remove("REDIS_SENTINEL_USERNAME")
            .env_remove("REDIS_SENTINEL_PASSWORD");
    }));
    assert!(line.contains(&first) && line.contains("NOAUTH"), "{line}");
    // The sentinel user may not run what it does not need.
    let mut c = cluster
        .setup
        .client(cluster.sentinels[0].port, SENT_USER, SENT_USER_PW)
        .get_connection()
        .unwrap();
    let denied = redis::cmd("SENTINEL")
        .arg("RESET")
        .arg(MASTER)
        .query::<i64>(&mut c)
        .unwrap_err();
    assert!(denied.to_string().contains("no permissions"), "{denied}");
    // The worker itself, with a wrong sentinel password, says why and keeps asking.
    let mut wrong = Worker::spawn(
        cluster
            .command(|c| {
                c.env("REDIS_SENTINEL_PASSWORD", "wrong-Sentinel-Pw");
            })
            .args(["-n", "wrong-w", "-q", "default"]),
        "sentinel-secure-wrong",
        true,
    );
    let line = wait_until("the worker to log the refusal", 60, || {
        let text = std::fs::read_to_string(wrong.log_path()).ok()?;
        text.lines()
            .find(|l| l.contains("authentication failed"))
            .map(str::to_string)
    });
    assert!(wrong.running(), "the worker exited");
    wrong.kill();
    let text = std::fs::read_to_string(wrong.log_path()).unwrap();
    no_secret(&text);
    assert!(!text.contains("wrong-Sentinel-Pw"), "{text}");
    assert!(
        line.contains(&first) && line.contains("retry_in_ms"),
        "{line}"
    );
    drop(wrong); // removes its directory
                 // A wrong master password: the sentinels answer, the master refuses; no secret.
    let line = one_line_failure(&cluster.cli(&["status"], |c| {
        c.env("REDIS_PASSWORD", "wrong-Master-Pw");
    }));
    assert!(line.contains("no Redis master found"), "{line}");
    assert!(!line.contains("wrong-Master-Pw"), "{line}");
}

#[test]
fn sentinels_and_master_over_mutual_tls() {
    let cluster = Cluster::start(true);
    jobs_failover_and_subcommands(&cluster);
    let certs = cluster.setup.certs.as_ref().unwrap();
    let first = format!("127.0.0.1:{}", cluster.sentinels[0].port);

    // A CA that did not sign the servers' certificate: one line naming the sentinels and the
    // certificate problem.
    let other = certs.path("other-ca.pem");
    let line = one_line_failure(&cluster.cli(&["status"], |c| {
        c.env("REDIS_TLS_CA", &other);
    }));
    assert!(line.contains("no Redis master found"), "{line}");
    assert!(line.contains(&first), "{line}");
    assert!(line.to_lowercase().contains("certificate"), "{line}");
    // No client certificate: the sentinels refuse the handshake.
    let line = one_line_failure(&cluster.cli(&["health", "--redis-only"], |c| {
        c.env_remove("REDIS_TLS_CERT").env_remove("REDIS_TLS_KEY");
    }));
    assert!(line.contains(&first), "{line}");
    // Sentinels reached without TLS: a clear failure, not a hang.
    let line = one_line_failure(&cluster.cli(&["status"], |c| {
        c.env_remove("REDIS_SENTINEL_TLS");
    }));
    assert!(line.contains(&first), "{line}");
    // The master without TLS (redis:// while it serves TLS only).
    let line = one_line_failure(&cluster.cli(&["status"], |c| {
        c.env(
            "REDIS_URL",
            format!("redis://{TW_USER}@not-the-master.invalid:1/0"),
        );
    }));
    assert!(line.contains("no Redis master found"), "{line}");
}
