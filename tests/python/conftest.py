"""Shared fixtures. The tests import the installed package (pip install .),
never the source tree, so that they test what users get."""

from __future__ import annotations

from pathlib import Path

import pytest

import smarketing as sm

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "playbooks" / "demo.yaml"
NOW = "2026-11-23T09:00:00Z"


@pytest.fixture(scope="session")
def demo() -> sm.Playbook:
    return sm.Playbook.load(DEMO).validate()


@pytest.fixture(scope="session")
def sample() -> sm.LeadData:
    return sm.sample_leads(3000, seed=7, now=NOW)


@pytest.fixture(scope="session")
def scores(demo, sample):
    return sm.score_frame(demo, sample.leads, sample.events, now=NOW)
