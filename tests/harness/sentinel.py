"""Redis Sentinel and TLS for the tests: test certificates (the openssl command line) and a
private Sentinel set-up on loopback (a master, a replica, three sentinels), each server in its
own temp dir on a free port. Passwords throughout; TLS for every link (clients, replication,
the sentinels' links) when given certificates. The Rust twin is tests/sentinel_secure.rs."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

import redis

from harness import free_port, wait_until

MASTER = "mymaster"
MASTER_PW = "master-Pw-4f1c"   # default user of master and replica; sentinels' auth-pass
SENTINEL_PW = "sentinel-Pw-77ab"  # the sentinels' requirepass


def make_certs():
    """A temp dir with ca.pem, server.pem/.key (also the servers' client certificate) and
    client.pem/.key, for 127.0.0.1. The caller removes it (shutil.rmtree)."""
    if not shutil.which("openssl"):
        raise AssertionError("openssl is needed to make test certificates")
    d = tempfile.mkdtemp(prefix="tw-tls-")

    def openssl(*args):
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)

    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1")  # fast to make, unlike RSA
    openssl("req", "-x509", *ec, "-nodes", "-days", "2", "-subj", "/CN=tw-test-ca",
            "-keyout", "ca.key", "-out", "ca.pem")
    with open(os.path.join(d, "san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                "keyUsage=digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth,clientAuth\n")
    for name in ("server", "client"):
        openssl("req", *ec, "-nodes", "-subj", f"/CN={name}",
                "-keyout", f"{name}.key", "-out", f"{name}.csr")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", f"{name}.pem")
    return d


def tls_kwargs(certs):
    """redis-py's arguments for a mutual-TLS connection with `certs` (None: plain TCP)."""
    if not certs:
        return {}
    return {"ssl": True, "ssl_ca_certs": f"{certs}/ca.pem", "ssl_certfile": f"{certs}/client.pem",
            "ssl_keyfile": f"{certs}/client.key"}


def worker_tls_args(certs):
    """task-worker's --redis-tls-* arguments for `certs`."""
    return ["--redis-tls-ca", f"{certs}/ca.pem", "--redis-tls-cert", f"{certs}/client.pem",
            "--redis-tls-key", f"{certs}/client.key"]


class Server:
    """`redis-server CONF [--sentinel]` on a free port (plain, or TLS-only with `certs`)."""

    def __init__(self, conf, password, certs=None, sentinel=False):
        self.certs = certs
        self.password = password
        for attempt in range(5):
            self.port = free_port()
            self.dir = tempfile.mkdtemp(prefix="tw-sentinel-")
            listen = f"port {self.port}\n"
            if certs:
                listen = (f"port 0\ntls-port {self.port}\ntls-cert-file {certs}/server.pem\n"
                          f"tls-key-file {certs}/server.key\ntls-ca-cert-file {certs}/ca.pem\n"
                          "tls-auth-clients yes\ntls-replication yes\n")
            path = os.path.join(self.dir, "redis.conf")
            with open(path, "w") as f:
                f.write(f"{listen}bind 127.0.0.1\ndir {self.dir}\n{conf}")
            self.proc = subprocess.Popen(["redis-server", path, *(["--sentinel"] if sentinel else [])],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wait_until(lambda: self.proc.poll() is not None or self._up(), timeout=30,
                       what="redis-server")
            if self.proc.poll() is None:
                return
            shutil.rmtree(self.dir, ignore_errors=True)
            assert attempt < 4, f"redis-server on port {self.port} exited with {self.proc.returncode}"

    def client(self, **kw):
        return redis.Redis(port=self.port, password=self.password, socket_timeout=5,
                           **tls_kwargs(self.certs), **kw)

    def _up(self):
        try:
            return self.client().ping()
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError,
                redis.exceptions.ResponseError):
            return False

    def role(self):
        try:
            return self.client().execute_command("ROLE")[0]
        except redis.exceptions.RedisError:
            return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


class SentinelCluster:
    """A master and its replica (password MASTER_PW) and three sentinels (password
    SENTINEL_PW) monitoring it as MASTER; everything over TLS with `certs`."""

    def __init__(self, certs=None):
        self.certs = certs
        # No wait before the replica's first (diskless) sync (Redis' default is 5 s).
        data = f'save ""\nappendonly no\nrepl-diskless-sync-delay 0\nrequirepass {MASTER_PW}\nmasterauth {MASTER_PW}\n'
        self.servers = []
        self.master = self._start(data)
        self.replica = self._start(f"{data}replicaof 127.0.0.1 {self.master.port}\n")
        wait_until(lambda: self.replica.client().info("replication").get("master_link_status") == "up",
                   timeout=30, what="the replica's link to the master")
        conf = (f"requirepass {SENTINEL_PW}\nsentinel sentinel-pass {SENTINEL_PW}\n"
                f"sentinel monitor {MASTER} 127.0.0.1 {self.master.port} 2\n"
                f"sentinel auth-pass {MASTER} {MASTER_PW}\n"
                # Only forced failovers here: a master is not taken for dead after a short
                # stall of a busy machine (which would fail over again, back).
                f"sentinel down-after-milliseconds {MASTER} 10000\n"
                f"sentinel failover-timeout {MASTER} 4000\n")
        self.sentinels = [self._start(conf, password=SENTINEL_PW, sentinel=True) for _ in range(3)]
        for s in self.sentinels:
            def knows_all(s=s):
                m = s.client().sentinel_master(MASTER)
                return m.get("num-slaves", 0) >= 1 and m.get("num-other-sentinels", 0) >= 2
            wait_until(knows_all, timeout=60, what="each sentinel to know the replica and the others")

    def _start(self, conf, password=MASTER_PW, sentinel=False):
        server = Server(conf, password, self.certs, sentinel)
        self.servers.append(server)
        return server

    def sentinel_list(self):
        return ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels)

    def worker_args(self):
        """task-worker's Sentinel arguments (the passwords go in worker_env)."""
        args = ["--redis-sentinels", self.sentinel_list(), "--redis-sentinel-master", MASTER]
        if self.certs:
            args += ["--redis-sentinel-tls", *worker_tls_args(self.certs)]
        return args

    def worker_url(self):
        """The master's URL for the worker: its host is not used with sentinels."""
        return f"{'rediss' if self.certs else 'redis'}://not-the-master.invalid:1/0"

    @staticmethod
    def worker_env():
        return {"REDIS_PASSWORD": MASTER_PW, "REDIS_SENTINEL_PASSWORD": SENTINEL_PW}

    def failover(self):
        """SENTINEL FAILOVER; returns the new master once every sentinel names it and it says
        it is a master."""
        new = self.replica

        def accepted():
            try:
                return self.sentinels[0].client().sentinel_failover(MASTER)
            except redis.exceptions.ResponseError:
                return False  # e.g. INPROG, NOGOODSLAVE while the replica is not yet known

        wait_until(accepted, timeout=60, what="SENTINEL FAILOVER to be accepted")

        def named():
            return all(s.client().sentinel_get_master_addr_by_name(MASTER)[1] == new.port
                       for s in self.sentinels) and new.role() == b"master"

        wait_until(named, timeout=60, what="the sentinels to name the new master")
        return new

    def stop(self):
        for s in reversed(self.servers):
            s.stop()
