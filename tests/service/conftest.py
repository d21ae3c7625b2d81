"""Fixtures of the service tests: Python stubs generated from proto/ with
grpcio-tools, and real smarketing-server processes on loopback ports.

SMARKETING_SERVER names the server binary (default: build/grpc_server/
smarketing-server under the repository root). With
SMARKETING_TEST_STORE=postgres the servers store in a database of their own
on a PostgreSQL server the session starts (scripts/tmp-postgres.sh) instead
of an SQLite file."""

import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
TOKENS = {
    "reader": "test-reader-token-aaaaaaaaaa",
    "sales": "test-sales-token-bbbbbbbbbbb",
    "marketing": "test-marketing-token-ccccccc",
    "admin": "test-admin-token-dddddddddddd",
}


@pytest.fixture(scope="session")
def stubs():
    """Generates the Python messages and stubs once per session."""
    out = pathlib.Path(tempfile.mkdtemp(prefix="smarketing-stubs-"))
    protos = [str(p.relative_to(ROOT / "proto"))
              for p in (ROOT / "proto").rglob("*.proto")
              if "grpc/health" not in str(p)]
    import grpc_tools
    from grpc_tools import protoc
    include = str(pathlib.Path(grpc_tools.__file__).parent / "_proto")
    rc = protoc.main(["protoc", f"-I{ROOT / 'proto'}", f"-I{include}",
                      f"--python_out={out}", f"--grpc_python_out={out}",
                      *protos])
    assert rc == 0, "protoc failed"
    sys.path.insert(0, str(out))
    import importlib
    modules = {}
    for name in ["lead", "event", "lifecycle", "lead_service",
                 "playbook_service", "report_service", "scoring_service",
                 "sla_status", "change", "sla", "priority", "rescore",
                 "webhook", "webhook_service"]:
        modules[name] = importlib.import_module(f"smarketing.v1.{name}_pb2")
        try:
            modules[name + "_grpc"] = importlib.import_module(
                f"smarketing.v1.{name}_pb2_grpc")
        except ImportError:
            pass
    modules["status"] = importlib.import_module("google.rpc.status_pb2")
    modules["error_details"] = importlib.import_module(
        "google.rpc.error_details_pb2")
    return type("Stubs", (), modules)


class Postgres:
    """A PostgreSQL server of the test session, stopped at its end."""

    SCRIPT = str(ROOT / "scripts/tmp-postgres.sh")

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="smarketing-pg-")
        self.databases = 0
        done = subprocess.run(
            [self.SCRIPT, "start", self.dir, str(os.getpid()), "-c", "fsync=off"],
            capture_output=True, text=True)
        if done.returncode != 0:
            shutil.rmtree(self.dir, ignore_errors=True)
        if done.returncode == 3 and os.environ.get("CI") != "true":
            pytest.skip("PostgreSQL is not installed: " + done.stderr.strip())
        assert done.returncode == 0, done.stderr

    def create_database(self):
        self.databases += 1
        return subprocess.run(
            [self.SCRIPT, "createdb", self.dir, f"db{self.databases}"],
            capture_output=True, text=True, check=True).stdout.strip()

    def stop(self):
        subprocess.run([self.SCRIPT, "stop", self.dir], check=True)
        shutil.rmtree(self.dir, ignore_errors=True)


_postgres = None


def postgres_server():
    """The session's PostgreSQL server, started at its first use."""
    global _postgres
    if _postgres is None:
        _postgres = Postgres()
    return _postgres


def pytest_sessionfinish(session):
    if _postgres is not None:
        _postgres.stop()


def new_store(workdir):
    """Where a new server stores: an SQLite file in `workdir`, or a new
    PostgreSQL database (SMARKETING_TEST_STORE=postgres)."""
    if os.environ.get("SMARKETING_TEST_STORE") == "postgres":
        return postgres_server().create_database()
    return pathlib.Path(workdir) / "store.db"


class Server:
    """A smarketing-server process with its store and token file."""

    def __init__(self, workdir, playbook=None, args=(), store=None):
        self.workdir = pathlib.Path(workdir)
        self.playbook = playbook or ROOT / "examples/playbooks/demo.yaml"
        self.args = list(args)
        self.store = store or new_store(self.workdir)
        self.token_file = self.workdir / "tokens"
        self.token_file.write_text("".join(
            f"{token} {role} test-{role}\n" for role, token in TOKENS.items()))
        self.process = None
        self.reader = None
        self.port = None
        self.log = []

    def start(self):
        binary = os.environ.get(
            "SMARKETING_SERVER", str(ROOT / "build/grpc_server/smarketing-server"))
        self.process = subprocess.Popen(
            [binary, "--listen=127.0.0.1:0", f"--store={self.store}",
             f"--token_file={self.token_file}",
             f"--demo_playbook={self.playbook}", *self.args],
            stderr=subprocess.PIPE, text=True)
        for line in self.process.stderr:
            self.log.append(line)
            match = re.search(r"event=server_started .*port=(\d+)", line)
            if match:
                self.port = int(match.group(1))
                break
            if "level=error" in line:
                break
        assert self.port, "".join(self.log)
        # Keeps reading the log: a server that logs more than the pipe holds
        # would otherwise block on its next line.
        self.reader = threading.Thread(
            target=lambda stream: self.log.extend(stream),
            args=(self.process.stderr,), daemon=True)
        self.reader.start()
        return self

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def kill(self):
        """kill -9: no chance to flush or shut down."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)
        if self.reader:
            self.reader.join(timeout=10)


@pytest.fixture
def server(tmp_path):
    s = Server(tmp_path).start()
    yield s
    s.stop()


def auth(role):
    return (("authorization", f"Bearer {TOKENS[role]}"),)
