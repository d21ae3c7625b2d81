"""Shared fixtures. The tests import the installed package (pip install .),
never the source tree, so that they test what users get."""

from __future__ import annotations

import os
import re
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import smarketing as sm

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "playbooks" / "demo.yaml"
NOW = "2026-11-23T09:00:00Z"
# The server binary built from the same tree (scripts/test.sh sets it).
SERVER = os.environ.get("SMARKETING_SERVER", "")


@contextmanager
def running_server(*args: str) -> Iterator[dict[str, int]]:
    """Runs smarketing-server with `args` on a loopback port chosen by the
    system and yields its ports by the event that announced them
    ("server_started", and "http_started" with --http_listen); stops it with
    SIGTERM on the way out. Its log is read to the end meanwhile, so that a
    chatty server never blocks on a full pipe."""
    wanted = {"server_started"}
    if any(arg.startswith("--http_listen") for arg in args):
        wanted.add("http_started")
    process = subprocess.Popen([SERVER, "--listen=127.0.0.1:0", *args], stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    try:
        ports: dict[str, int] = {}
        log = []
        for line in process.stderr:
            log.append(line)
            for event in wanted:
                match = re.search(rf"event={event} .*port=(\d+)", line)
                if match:
                    ports[event] = int(match.group(1))
            if "server_started" in ports or "level=error" in line:
                break
        assert wanted <= ports.keys(), "".join(log)
        threading.Thread(target=process.stderr.read, daemon=True).start()
        yield ports
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="session")
def demo() -> sm.Playbook:
    return sm.Playbook.load(DEMO).validate()


@pytest.fixture(scope="session")
def sample() -> sm.LeadData:
    return sm.sample_leads(3000, seed=7, now=NOW)


@pytest.fixture(scope="session")
def scores(demo, sample):
    return sm.score_frame(demo, sample.leads, sample.events, now=NOW)
