"""The weekly review end to end on a real server holding demo history: the
Python client's DataFrames and plots, the command line, the /review page as
headless Chromium renders it, its authentication, and /metrics read with
prometheus_client's parser.

SMARKETING_SERVER names the server binary and SMARKETING_CLI the command
line (scripts/test.sh sets both); smarketing-demo-history is found next to
the server. Chromium tests are skipped, saying so, without `chromium`."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import DEMO, SERVER, running_server

CLI = os.environ.get("SMARKETING_CLI", "")
pytestmark = pytest.mark.skipif(
    not SERVER or not CLI, reason="SMARKETING_SERVER and SMARKETING_CLI must point at the built binaries")
client_module = pytest.importorskip("smarketing.client")
READER = "review-reader-token-0123456789"
WEEK = "2026-W47"
# The demo history ends inside week 48, so week 47 is complete.
HISTORY_END = "2026-11-25T18:00:00Z"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("review")
    store = workdir / "store.db"
    history = Path(SERVER).parent / "smarketing-demo-history"
    written = subprocess.run([str(history), f"--store={store}", f"--playbook={DEMO}", "--weeks=12",
                              "--leads_per_day=6", f"--end={HISTORY_END}"], check=True, capture_output=True, text=True)
    arrivals = int(re.search(r"arrivals=(\d+)", written.stdout).group(1))
    tokens = workdir / "tokens"
    tokens.write_text(f"{READER} reader review-tests\n")
    # The scheduler stays off: catching up on the SLA steps that fell due since
    # HISTORY_END would change the store between two fronts' reads of it.
    with running_server("--http_listen=127.0.0.1:0", f"--store={store}", f"--token_file={tokens}",
                        "--scheduler=off") as ports:
        yield {"grpc": f"127.0.0.1:{ports['server_started']}", "http": f"http://127.0.0.1:{ports['http_started']}",
               "leads": arrivals}


@pytest.fixture(scope="module")
def review(server):
    with client_module.Client(server["grpc"], token=READER, timeout=60) as client:
        # The server's clock, as the command line and the page use.
        return client.review(WEEK)


def get(url, headers=None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_the_review_has_the_story_of_the_demo_history(review):
    assert review.message.period_label == WEEK
    assert review.headline["mqls"]["value"] > 0
    assert len(review.weekly) == 12 and review.weekly["week"].iloc[-1] == WEEK
    assert review.weekly["mqls"].sum() > review.headline["mqls"]["value"]
    assert set(review.funnel["stage"]) >= {"new", "mql", "sal", "customer"}
    assert review.funnel.set_index("stage").loc["mql", "entered"] == review.headline["mqls"]["value"]
    assert review.rejection_reasons["count"].is_monotonic_decreasing
    assert (review.sla_by_owner["mqls"] > 0).all()
    objectives = review.objectives.set_index("objective")
    assert objectives.loc["q4-2026-mqls", "actual"] > 0
    assert objectives.loc["q4-2026-mqls", "status"] in {"on_track", "at_risk", "off_track"}
    # The demo history's Playbook is in force from the history's first day.
    assert list(review.playbook_versions["label"]) == ["acme-analytics-b2b@2026.11.1"]
    assert (objectives["playbook_version"] == "acme-analytics-b2b@2026.11.1").all()
    version = review.playbook_versions.iloc[0]
    assert version["activated_by"] == "smarketing-demo-history"
    assert version["active_from"].timestamp() < review.message.period_start.seconds
    assert version["active_until"] is None


def test_every_part_has_a_plot(review):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import smarketing.plots as plots
    for draw in (plots.review_objectives, plots.review_funnel, plots.review_sla_by_owner,
                 plots.review_rejection_reasons, plots.review_weekly):
        ax = draw(review)
        assert ax.patches, draw.__name__
        ax.figure.clf()


def test_the_command_line_gives_the_same_numbers(server, review):
    env = dict(os.environ, SMARKETING_TOKEN=READER)
    out = subprocess.run([CLI, "review", "--server", server["grpc"], "--week", WEEK, "--format", "json"],
                         env=env, check=True, capture_output=True, text=True).stdout
    cli = json.loads(out)
    marketing = cli["marketing"]
    assert marketing["mqls"]["value"] == review.headline["mqls"]["value"]
    assert marketing["accepted"]["value"] == review.headline["accepted"]["value"]
    assert marketing["rejected"]["value"] == review.headline["rejected"]["value"]
    assert len(cli.get("sales", {}).get("untreated", [])) == review.headline["untreated"]["value"]
    # The protobuf JSON mapping writes int64 as strings.
    assert [int(w["mqls"]) for w in cli["weekly"]] == [int(v) for v in review.weekly["mqls"]]
    text = subprocess.run([CLI, "review", "--server", server["grpc"], "--week", WEEK, "--format", "markdown"],
                          env=env, check=True, capture_output=True, text=True).stdout
    assert f"- MQLs: {int(review.headline['mqls']['value'])}" in text
    denied = subprocess.run([CLI, "review", "--server", server["grpc"], "--week", WEEK],
                            env=dict(os.environ, SMARKETING_TOKEN="wrong-token-0123456789abcdef"),
                            capture_output=True, text=True)
    assert denied.returncode == 2 and "not valid" in denied.stderr


def test_the_page_needs_a_reader_token(server):
    url = f"{server['http']}/review?week={WEEK}"
    for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789abcdef"},
                    {"Authorization": "Basic " + base64.b64encode(b"ann:wrong-token-0123456789").decode()}):
        status, body = get(url, headers)
        assert status == 401, headers
        assert "demo-" not in body
    status, body = get(url, {"Authorization": "Basic " + base64.b64encode(f"ann:{READER}".encode()).decode()})
    assert status == 200 and "<svg" in body
    assert get(f"{server['http']}/healthz")[0] == 200


def chromium():
    binary = shutil.which("chromium")
    if not binary:
        pytest.skip("chromium is not installed (Debian package chromium)")
    return [binary, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]


def test_chromium_renders_the_headline_numbers_and_the_charts(server, review, tmp_path):
    # Credentials in the URL: the browser answers the Basic challenge.
    url = server["http"].replace("http://", f"http://reader:{READER}@") + f"/review?week={WEEK}"
    dom = subprocess.run(chromium() + ["--dump-dom", url], check=True, capture_output=True, text=True,
                         timeout=120).stdout
    figures = dict(re.findall(r'data-figure="(\w+)">([^<]*)<', dom))
    assert figures["mqls"] == str(int(review.headline["mqls"]["value"]))
    assert figures["accepted"] == str(int(review.headline["accepted"]["value"]))
    assert figures["rejected"] == str(int(review.headline["rejected"]["value"]))
    assert figures["acceptance_rate"] == f"{100 * review.headline['acceptance_rate']['value']:.1f}%"
    assert figures["untreated"] == str(review.headline["untreated"]["value"])
    assert dom.count("<svg") == 5
    screenshot = tmp_path / "review.png"
    subprocess.run(chromium() + [f"--screenshot={screenshot}", "--window-size=1280,2400", url],
                   check=True, capture_output=True, timeout=120)
    image = pytest.importorskip("matplotlib.image").imread(screenshot)
    pixels = image.reshape(-1, image.shape[-1])
    # Not one flat colour: text and bars of several colours were drawn.
    assert len({tuple(p) for p in pixels[:: max(1, len(pixels) // 200000)]}) > 50

    denied = subprocess.run(chromium() + ["--dump-dom", f"{server['http']}/review"], capture_output=True,
                            text=True, timeout=120).stdout
    assert "data-figure" not in denied


def test_metrics_count_a_known_sequence_of_calls(server):
    parser = pytest.importorskip("prometheus_client.parser")
    auth = {"Authorization": f"Bearer {READER}"}

    def scrape():
        status, text = get(f"{server['http']}/metrics", auth)
        assert status == 200
        samples = {}
        for family in parser.text_string_to_metric_families(text):
            for s in family.samples:
                samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
        return samples

    def calls(samples, method, code):
        return samples.get(("smarketing_rpc_calls_total",
                            (("code", code), ("method", f"/smarketing.v1.{method}"))), 0)

    before = scrape()
    with client_module.Client(server["grpc"], token=READER, timeout=60) as client:
        for _ in range(3):
            client.review(WEEK)
        with pytest.raises(client_module.ServiceError):
            client.review("2026-48")
    with client_module.Client(server["grpc"], token="wrong-token-0123456789abcdef") as stranger:
        with pytest.raises(client_module.ServiceError):
            stranger.review(WEEK)
    after = scrape()
    assert calls(after, "ReportService/GetReview", "OK") - calls(before, "ReportService/GetReview", "OK") == 3
    assert calls(after, "ReportService/GetReview", "INVALID_ARGUMENT") - \
        calls(before, "ReportService/GetReview", "INVALID_ARGUMENT") == 1
    assert calls(after, "ReportService/GetReview", "UNAUTHENTICATED") - \
        calls(before, "ReportService/GetReview", "UNAUTHENTICATED") == 1
    histogram_count = after[("smarketing_rpc_latency_seconds_count",
                             (("code", "OK"), ("method", "/smarketing.v1.ReportService/GetReview")))]
    assert histogram_count == calls(after, "ReportService/GetReview", "OK")
    stages = {dict(labels)["stage"]: v for (name, labels), v in after.items() if name == "smarketing_leads"}
    assert sum(stages.values()) == server["leads"]
    assert ("smarketing_sla_breached_leads", ()) in after
    # The demo history was written before the server started: nothing ingested since.
    assert after[("smarketing_events_ingested_total", ())] == 0
