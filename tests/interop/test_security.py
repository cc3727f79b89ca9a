"""Secrets and privilege (issue 9, item 4): Redis AUTH with a password and with an ACL user, TLS
(`rediss://`, with and without a client certificate), and no password or API credential in logs,
`status` output or error messages.

Each test starts its own redis-server with the needed options; certificates are made with the
openssl command line for 127.0.0.1.
"""
import json
import os
import shutil
import subprocess
import tempfile
import time

import pytest
import redis
from rq import Queue

from harness import WORKER, free_port, wait_until
from harness.servers import RedisServer

# The worker's own feature through RQ's ordinary enqueue and read-back, the same with every RQ
# version: run once, with RQ 3.0 (tests/interop/conftest.py deselects it under RQ 2.x).
pytestmark = pytest.mark.rq_version_independent

PASSWORD = "pw-Sup3rSecret-7f3a"
ACL_PASSWORD = "acl-Pa55-91bd"
API_PASSWORD = "api-Pa55-c0ffee"
DB_PASSWORD = "db-Pa55-5eed"


def run_cli(*args, timeout=30, env=None):
    return subprocess.run([str(WORKER), *args], capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, **(env or {})))


def no_secret_in(text, *secrets):
    for s in secrets:
        assert s not in text, f"secret {s!r} leaked:\n{text[-2000:]}"


def echo_round_trip(r, worker_url, *worker_args, env=None, queue="sec"):
    """Python enqueues through `r`; a burst task-worker runs it; Python reads the result back."""
    q = Queue(queue, connection=r)
    job = q.enqueue("echo", {"over": "the wire"})
    # The URL through the environment: a password in it is refused on the command line.
    proc = run_cli("-q", queue, "--burst", *worker_args,
                   env=dict(env or {}, REDIS_URL=worker_url, RUST_LOG="debug"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert job.get_status(refresh=True) == "finished", proc.stdout + proc.stderr
    assert job.return_value() == {"over": "the wire"}
    return proc.stdout + proc.stderr


@pytest.fixture
def password_redis():
    srv = RedisServer("--requirepass", PASSWORD)
    yield srv
    srv.stop()




def test_password_in_url_and_in_variable(password_redis):
    r = redis.Redis(port=password_redis.port, password=PASSWORD)
    url = f"redis://:{PASSWORD}@127.0.0.1:{password_redis.port}"
    out = echo_round_trip(r, url)
    no_secret_in(out, PASSWORD)
    # The same through REDIS_PASSWORD, with a URL that carries none.
    out = echo_round_trip(r, f"redis://127.0.0.1:{password_redis.port}",
                          env={"REDIS_PASSWORD": PASSWORD})
    no_secret_in(out, PASSWORD)
    # Operator commands too, and their JSON output.
    st = run_cli("status", "--json", env={"REDIS_URL": url})
    assert st.returncode == 0, st.stderr
    json.loads(st.stdout)
    no_secret_in(st.stdout + st.stderr, PASSWORD)


def test_secrets_from_files(password_redis, tmp_path):
    """`<NAME>_FILE` for every secret setting, as Docker and Kubernetes secrets are mounted."""
    r = redis.Redis(port=password_redis.port, password=PASSWORD)
    url = f"redis://127.0.0.1:{password_redis.port}"
    secret = tmp_path / "redis_password"
    secret.write_text(PASSWORD + "\n")  # as `echo pw > file` writes it
    out = echo_round_trip(r, url, env={"REDIS_PASSWORD_FILE": str(secret), "REDIS_PASSWORD": ""})
    no_secret_in(out, PASSWORD)
    # A whole URL from a file, for a subcommand too.
    url_file = tmp_path / "redis_url"
    url_file.write_text(f"redis://:{PASSWORD}@127.0.0.1:{password_redis.port}\n")
    st = run_cli("status", "--json", env={"REDIS_URL_FILE": str(url_file)})
    assert st.returncode == 0, st.stderr
    no_secret_in(st.stdout + st.stderr, PASSWORD)
    # Both forms, or a file that cannot be read: one clear line, exit 2, no secret.
    both = run_cli("status", env={"REDIS_PASSWORD_FILE": str(secret), "REDIS_PASSWORD": "x"})
    assert both.returncode == 2
    assert both.stderr.strip() == "error: both REDIS_PASSWORD and REDIS_PASSWORD_FILE are set: use one"
    missing = tmp_path / "nope"
    bad = run_cli("health", env={"EXECUTION_BACKEND_API_PASSWORD_FILE": str(missing)})
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1, bad.stderr
    assert f"EXECUTION_BACKEND_API_PASSWORD_FILE={missing}: No such file" in bad.stderr
    # A subcommand that uses no secret is not stopped by one.
    tasks = run_cli("tasks", env={"POSTGRES_PASSWORD_FILE": str(missing)})
    assert tasks.returncode == 0, tasks.stderr


def test_no_secret_in_the_argument_vector(password_redis, tmp_path):
    """issue 26: any process of the machine reads /proc/<pid>/cmdline. A password flag, or a
    URL option with a password in it, is refused on the command line (exit 2, one line naming
    what to use); given by variable or file, the worker runs and its cmdline, read by another
    uid, holds no secret."""
    port = password_redis.port
    for args, use in [
        (["--redis-password", PASSWORD], "REDIS_PASSWORD_FILE"),
        ([f"--redis-password={PASSWORD}", "status"], "REDIS_PASSWORD_FILE"),
        (["status", "--redis-url", f"redis://:{PASSWORD}@127.0.0.1:{port}"], "REDIS_URL_FILE"),
        (["--api-url", "http://127.0.0.1:1", "--api-password", API_PASSWORD],
         "EXECUTION_BACKEND_API_PASSWORD_FILE"),
        (["--database-url", f"postgres://hist:{DB_PASSWORD}@127.0.0.1:1/hist"],
         "POSTGRES_PASSWORD_FILE"),
        (["history", "--database-url", f"postgres://hist:{DB_PASSWORD}@127.0.0.1:1/hist"],
         "POSTGRES_URL_FILE"),
    ]:
        proc = run_cli(*args)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert proc.stderr.count("\n") == 1 and use in proc.stderr, proc.stderr
        assert "/proc/<pid>/cmdline" in proc.stderr
        no_secret_in(proc.stdout + proc.stderr, PASSWORD, API_PASSWORD, DB_PASSWORD)
    # The same secrets from files: the worker runs, and another uid sees none in its cmdline.
    files = {}
    for name, value in [("REDIS_PASSWORD", PASSWORD),
                        ("EXECUTION_BACKEND_API_PASSWORD", API_PASSWORD)]:
        f = tmp_path / name.lower()
        f.write_text(value + "\n")
        files[f"{name}_FILE"] = str(f)
    log = tmp_path / "worker.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([str(WORKER), "--redis-url", f"redis://127.0.0.1:{port}",
                                 "-q", "argv", "-n", "argv-worker"],
                                stdout=out, stderr=subprocess.STDOUT,
                                env=dict(os.environ, RUST_LOG="info", **files))
    try:
        r = redis.Redis(port=port, password=PASSWORD)
        wait_until(lambda: r.scard("rq:workers") > 0 or proc.poll() is not None, timeout=30,
                   what="the worker registered")
        assert proc.poll() is None, log.read_text()
        kw = {"user": 65534, "group": 65534, "extra_groups": []} if os.geteuid() == 0 else {}
        seen = subprocess.run(["cat", f"/proc/{proc.pid}/cmdline"], capture_output=True,
                              timeout=30, **kw)
        assert seen.returncode == 0, seen.stderr
        cmdline = seen.stdout.replace(b"\0", b" ").decode()
        assert "-n argv-worker" in cmdline  # it did read the command line
        no_secret_in(cmdline, PASSWORD, API_PASSWORD)
    finally:
        proc.terminate()
        proc.wait(15)


def test_wrong_password_is_waited_on_without_leaking(password_redis):
    wrong = "wrong-Pa55-0000"
    url = f"redis://:{wrong}@127.0.0.1:{password_redis.port}"
    st = run_cli("status", env={"REDIS_URL": url})
    assert st.returncode != 0
    assert "127.0.0.1" in st.stdout + st.stderr  # the error names the server ...
    no_secret_in(st.stdout + st.stderr, wrong)  # ... but not the password
    hc = run_cli("health", "--timeout", "3", env={"REDIS_URL": url})
    assert hc.returncode != 0
    no_secret_in(hc.stdout + hc.stderr, wrong)
    # The worker does not exit on a refused AUTH: it waits (Redis may be being reconfigured).
    log = tempfile.NamedTemporaryFile(prefix="tw-sec-", suffix=".log", delete=False)
    proc = subprocess.Popen([str(WORKER), "-q", "sec",
                             "--api-url", f"http://127.0.0.1:{free_port()}", "--api-user", "svc"],
                            stdout=log, stderr=subprocess.STDOUT,
                            env=dict(os.environ, RUST_LOG="debug", REDIS_URL=url,
                                     EXECUTION_BACKEND_API_PASSWORD=API_PASSWORD,
                                     POSTGRES_URL=f"postgres://hist:{DB_PASSWORD}@127.0.0.1:"
                                                  f"{free_port()}/hist"))
    try:
        wait_until(lambda: "not reachable" in open(log.name).read(), timeout=20,
                   what="a logged connection failure")
        time.sleep(1.5)
        assert proc.poll() is None
    finally:
        proc.terminate()
        proc.wait(15)
    text = open(log.name).read()
    no_secret_in(text, wrong, API_PASSWORD, DB_PASSWORD)
    assert "***" in text  # the URLs are shown, redacted


def test_acl_user(tmp_path):
    srv = RedisServer()
    try:
        admin = redis.Redis(port=srv.port)
        # A user limited to RQ's keys and channels, and the commands a worker needs.
        admin.execute_command("ACL", "SETUSER", "worker", "on", f">{ACL_PASSWORD}",
                              "~rq:*", "&rq:*", "+@all", "-@dangerous", "+info")
        admin.execute_command("ACL", "SETUSER", "default", "off")
        r = redis.Redis(port=srv.port, username="worker", password=ACL_PASSWORD)
        url = f"redis://worker:{ACL_PASSWORD}@127.0.0.1:{srv.port}"
        out = echo_round_trip(r, url)
        no_secret_in(out, ACL_PASSWORD)
        st = run_cli("status", env={"REDIS_URL": url})
        assert st.returncode == 0, st.stderr
        no_secret_in(st.stdout + st.stderr, ACL_PASSWORD)
    finally:
        srv.stop()


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def certs():
    if not shutil.which("openssl"):
        pytest.fail("openssl is needed to make test certificates")
    d = tempfile.mkdtemp(prefix="tw-tls-")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=tw-test-ca",
            "-keyout", "ca.key", "-out", "ca.pem", cwd=d)
    with open(os.path.join(d, "san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                "keyUsage=digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth,clientAuth\n")
    for name in ("server", "client"):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}",
                "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=d)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", f"{name}.pem", cwd=d)
    yield d
    shutil.rmtree(d, ignore_errors=True)


class TlsRedis:
    def __init__(self, certs, auth_clients):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="tw-redis-tls-")
        self.proc = subprocess.Popen(
            ["redis-server", "--port", "0", "--tls-port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", self.dir,
             "--tls-cert-file", f"{certs}/server.pem", "--tls-key-file", f"{certs}/server.key",
             "--tls-ca-cert-file", f"{certs}/ca.pem",
             "--tls-auth-clients", "yes" if auth_clients else "no",
             "--requirepass", PASSWORD],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.client = redis.Redis(port=self.port, ssl=True, ssl_ca_certs=f"{certs}/ca.pem",
                                  ssl_certfile=f"{certs}/client.pem",
                                  ssl_keyfile=f"{certs}/client.key", password=PASSWORD)
        wait_until(self._ping, what="TLS redis-server")
        self.url = f"rediss://:{PASSWORD}@127.0.0.1:{self.port}"

    def _ping(self):
        try:
            return self.client.ping()
        except redis.exceptions.ConnectionError:
            return False

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


def test_tls_with_private_ca(certs):
    srv = TlsRedis(certs, auth_clients=False)
    try:
        out = echo_round_trip(srv.client, srv.url, "--redis-tls-ca", f"{certs}/ca.pem")
        no_secret_in(out, PASSWORD)
        hc = run_cli("health", "--redis-tls-ca", f"{certs}/ca.pem", "--redis-only",
                     env={"REDIS_URL": srv.url})
        assert hc.returncode == 0, hc.stdout + hc.stderr
        no_secret_in(hc.stdout + hc.stderr, PASSWORD)
        # Without the CA the server's certificate is not trusted: a clear error, no password.
        st = run_cli("status", env={"REDIS_URL": srv.url})
        assert st.returncode != 0
        err = (st.stdout + st.stderr).lower()
        assert "certificate" in err or "tls" in err, err
        no_secret_in(st.stdout + st.stderr, PASSWORD)
        # A plain redis:// client cannot talk to the TLS port.
        plain = run_cli("status", env={"REDIS_URL": srv.url.replace("rediss://", "redis://")},
                        timeout=60)
        assert plain.returncode != 0
    finally:
        srv.stop()


def test_mutual_tls(certs):
    srv = TlsRedis(certs, auth_clients=True)
    try:
        out = echo_round_trip(srv.client, srv.url, "--redis-tls-ca", f"{certs}/ca.pem",
                              "--redis-tls-cert", f"{certs}/client.pem",
                              "--redis-tls-key", f"{certs}/client.key")
        no_secret_in(out, PASSWORD)
        # No client certificate: the server refuses the handshake.
        st = run_cli("status", "--redis-tls-ca", f"{certs}/ca.pem", env={"REDIS_URL": srv.url})
        assert st.returncode != 0
    finally:
        srv.stop()


def test_tls_flags_need_rediss(certs):
    proc = run_cli("--redis-url", "redis://127.0.0.1:1", "--redis-tls-ca", f"{certs}/ca.pem",
                   "-q", "x", "--burst")
    assert proc.returncode == 2
    assert "rediss://" in proc.stderr
