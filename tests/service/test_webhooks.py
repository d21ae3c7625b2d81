"""Webhooks against a real HTTP receiver on a loopback port: every change
is delivered in the feed's order, signed (checked here with Python's own
hmac), retried after 500s with the same delivery id, resumed after a
kill -9 of the server; a change the receiver keeps refusing goes to the
dead-letter list, delivery goes on, and a replay delivers it."""

import hashlib
import hmac
import http.server
import json
import threading
import time

import grpc
import pytest

from conftest import Server, auth

SECRET = "s3cret-for-the-webhook-test-0123456789"


class Receiver:
    """An HTTP server recording each request; answers 500 to the first
    `fail_first` requests and to every delivery of a lead in `refuse`."""

    def __init__(self):
        self.requests = []
        self.fail_first = 0
        self.refuse = set()
        self.delay = 0.0
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(receiver.delay)
                delivery = json.loads(body)
                with receiver.lock:
                    failing = receiver.fail_first > 0 or (
                        delivery["change"]["lead_id"] in receiver.refuse)
                    if receiver.fail_first > 0:
                        receiver.fail_first -= 1
                    receiver.requests.append({
                        "id": self.headers["X-Smarketing-Delivery"],
                        "timestamp": self.headers["X-Smarketing-Timestamp"],
                        "signature": self.headers["X-Smarketing-Signature"],
                        "body": body, "delivery": delivery,
                        "answered": 500 if failing else 200})
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def acknowledged(self):
        with self.lock:
            return {r["id"]: r for r in self.requests if r["answered"] == 200}

    def close(self):
        self.server.shutdown()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def lead(s, lead_id, **consent):
    return s.lead.Lead(
        id=lead_id, job_title="CMO", seniority=s.lead.SENIORITY_C_LEVEL,
        consent=s.lead.Consent(**consent),
        # No company domain: no account, so one entry in the feed per write.
        company=s.lead.Company(industry="software", employee_count=250, country="FR"))


def upsert(leads, s, lead_id, **consent):
    leads.UpsertLead(s.lead_service.UpsertLeadRequest(
        lead=lead(s, lead_id, **consent)), metadata=auth("marketing"), timeout=10)


def changes_after(leads, s, cursor):
    out = []
    while True:
        page = leads.ListChanges(s.lead_service.ListChangesRequest(
            after_cursor=cursor, limit=1000), metadata=auth("reader"))
        if not page.changes:
            return out
        out.extend(page.changes)
        cursor = page.next_cursor


def wait_for(predicate, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def check_signatures(receiver):
    for r in receiver.requests:
        expected = hmac.new(SECRET.encode(), f"{r['timestamp']}.".encode()
                            + r["body"], hashlib.sha256).hexdigest()
        assert r["signature"] == f"sha256={expected}", r["id"]
        assert abs(int(r["timestamp"]) - time.time()) < 300
        assert r["delivery"]["delivery_id"] == r["id"]


def test_webhooks_deliver_every_change_signed_in_order(tmp_path, stubs, receiver):
    s = stubs
    server = Server(tmp_path, args=[
        "--webhook_tick=50ms", "--webhook_retry_base=50ms",
        "--webhook_max_attempts=4", "--scheduler_tick=1h"]).start()
    try:
        channel = grpc.insecure_channel(server.address)
        hooks = s.webhook_service_grpc.WebhookServiceStub(channel)
        leads = s.lead_service_grpc.LeadServiceStub(channel)
        upsert(leads, s, "before-the-subscription")

        # Refused: a URL that is not http(s), a short secret, a reader.
        with pytest.raises(grpc.RpcError) as error:
            hooks.CreateWebhook(s.webhook_service.CreateWebhookRequest(
                url="ftp://example.org/x", secret="short"),
                metadata=auth("admin"))
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "url" in error.value.details() and "secret" in error.value.details()
        with pytest.raises(grpc.RpcError) as error:
            hooks.CreateWebhook(s.webhook_service.CreateWebhookRequest(
                url=receiver.url), metadata=auth("marketing"))
        assert error.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert not hooks.ListWebhooks(s.webhook_service.ListWebhooksRequest(),
                                      metadata=auth("admin")).webhooks

        created = hooks.CreateWebhook(s.webhook_service.CreateWebhookRequest(
            url=receiver.url, secret=SECRET), metadata=auth("admin")).webhook
        assert created.secret == SECRET
        start = created.delivered_cursor
        listed = hooks.ListWebhooks(s.webhook_service.ListWebhooksRequest(),
                                    metadata=auth("admin")).webhooks
        assert [w.id for w in listed] == [created.id]
        assert listed[0].secret == ""

        # The receiver fails at first: retried, same delivery id.
        receiver.fail_first = 3
        upsert(leads, s, "quiet", do_not_email=True)
        for i in range(20):
            upsert(leads, s, f"lead-{i}")
        expected = changes_after(leads, s, start)
        assert len(expected) == 21
        wanted = [f"{created.id}-{c.cursor}" for c in expected]
        wait_for(lambda: set(wanted) <= set(receiver.acknowledged()))
        firsts = []
        for r in receiver.requests:
            if r["id"] not in firsts:
                firsts.append(r["id"])
        assert firsts == wanted, "delivered out of the feed's order"
        assert sum(r["answered"] == 500 for r in receiver.requests) == 3
        assert {r["id"] for r in receiver.requests[:4]} == {wanted[0]}
        quiet = receiver.acknowledged()[wanted[0]]["delivery"]["change"]
        assert quiet["lead_id"] == "quiet"
        assert quiet["consent"]["do_not_email"] is True
        check_signatures(receiver)

        # kill -9 while delivering: resumed after the restart, nothing lost,
        # a repeat only with the delivery id it had.
        receiver.delay = 0.02
        for i in range(40):
            upsert(leads, s, f"late-{i}")
        wait_for(lambda: len(receiver.acknowledged()) > len(wanted) + 5)
        server.kill()
        channel.close()
        assert len(receiver.acknowledged()) < len(wanted) + 40
        server.start()
        channel = grpc.insecure_channel(server.address)
        hooks = s.webhook_service_grpc.WebhookServiceStub(channel)
        leads = s.lead_service_grpc.LeadServiceStub(channel)
        expected = changes_after(leads, s, start)
        wanted = [f"{created.id}-{c.cursor}" for c in expected]
        assert len(wanted) == 61
        wait_for(lambda: set(wanted) <= set(receiver.acknowledged()))
        assert set(receiver.acknowledged()) == set(wanted)
        for r in receiver.requests:
            cursor = int(r["id"].rsplit("-", 1)[1])
            assert r["delivery"]["change"]["cursor"] == str(cursor)
        check_signatures(receiver)

        # A change the receiver keeps refusing: dead letter, the next ones
        # go on; a replay delivers it once the receiver accepts it.
        receiver.delay = 0
        receiver.refuse = {"poison"}
        upsert(leads, s, "poison")
        upsert(leads, s, "after-the-poison")
        after = changes_after(leads, s, expected[-1].cursor)
        poison_id = f"{created.id}-{after[0].cursor}"
        wait_for(lambda: f"{created.id}-{after[1].cursor}" in receiver.acknowledged())
        letters = hooks.ListDeadLetters(s.webhook_service.ListDeadLettersRequest(
            subscription_id=created.id), metadata=auth("admin")).dead_letters
        assert [d.delivery.delivery_id for d in letters] == [poison_id]
        assert letters[0].attempts == 4
        assert letters[0].last_error == "HTTP 500"
        with pytest.raises(grpc.RpcError) as error:
            hooks.ReplayDeadLetter(s.webhook_service.ReplayDeadLetterRequest(
                delivery_id=poison_id), metadata=auth("admin"))
        assert error.value.code() == grpc.StatusCode.UNAVAILABLE
        receiver.refuse = set()
        hooks.ReplayDeadLetter(s.webhook_service.ReplayDeadLetterRequest(
            delivery_id=poison_id), metadata=auth("admin"))
        assert poison_id in receiver.acknowledged()
        assert not hooks.ListDeadLetters(s.webhook_service.ListDeadLettersRequest(
            subscription_id=created.id), metadata=auth("admin")).dead_letters
        check_signatures(receiver)

        hooks.DeleteWebhook(s.webhook_service.DeleteWebhookRequest(
            id=created.id), metadata=auth("admin"))
        with pytest.raises(grpc.RpcError) as error:
            hooks.DeleteWebhook(s.webhook_service.DeleteWebhookRequest(
                id=created.id), metadata=auth("admin"))
        assert error.value.code() == grpc.StatusCode.NOT_FOUND
        channel.close()
    finally:
        server.stop()
