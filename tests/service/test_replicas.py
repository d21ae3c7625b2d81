"""Three smarketing-server replicas on one PostgreSQL database, as behind a
gRPC load balancer: round-robin and weighted shares stay exact whichever
replica routes a lead; a Playbook activated through one replica is used by the others within
a second; kill -9 of a replica in the middle of a stream, again and
again, loses no acknowledged event and counts none twice once the client
has retried elsewhere what was not acknowledged; and the SLA scheduler,
on in every replica, carries out each escalation step once.

SMARKETING_REPLICA_KILLS sets how many kills (20 by default)."""

import collections
import concurrent.futures
import datetime
import os
import time

import grpc
import pytest
from google.protobuf import timestamp_pb2
from test_sla_scheduler import STEPS, all_changes, fast_sla_playbook

from conftest import ROOT, Server, auth, postgres_server

REPLICAS = 3
MQLS = 3000
ROUND_ROBIN_TEAM = "emea-midmarket"
# North American enterprise MQLs go to a team with weights 3, 2 and 1.
WEIGHTED_MQLS = 600
WEIGHTED_TEAM = "na-enterprise"


def always_open_playbook(path):
    """The demo Playbook with every team on the default calendar, open
    around the clock without holidays, and no one on leave, so that MQLs
    are assigned at once whatever the time the test runs at."""
    text = (ROOT / "examples/playbooks/demo.yaml").read_text()
    hours = "".join(f'      - {{weekday: {day}, start: "00:00", end: "24:00"}}\n'
                    for day in ["monday", "tuesday", "wednesday", "thursday",
                                "friday", "saturday", "sunday"])
    start = text.index("    time_zone: Europe/Paris\n")
    end = text.index("  recycle:\n", start)
    text = text[:start] + "    time_zone: UTC\n    working_hours:\n" + hours + text[end:]
    own = text.index("      calendar:\n        time_zone: America/New_York\n")
    text = text[:own] + text[text.index("    # Small accounts", own):]
    leave = text.index("          out_of_office:\n")
    text = text[:leave] + text[text.index("        - {id: usr-1003", leave):]
    path.write_text(text)
    return path


class Replicas(list):
    """REPLICAS servers on one new database, stopped on exit."""

    def __init__(self, tmp_path, playbook, tick):
        super().__init__()
        url = postgres_server().create_database()
        # One after the other: the first publishes the Playbook, which the
        # others find active.
        for i in range(REPLICAS):
            workdir = tmp_path / f"replica-{i}"
            workdir.mkdir()
            self.append(Server(workdir, playbook=playbook, store=url,
                               args=[f"--scheduler_tick={tick}"]))
            self[-1].start()

    def __enter__(self):
        return self

    def __exit__(self, *_):
        for server in self:
            if server.process:
                server.stop()


@pytest.fixture
def replicas(tmp_path):
    with Replicas(tmp_path, always_open_playbook(tmp_path / "always-open.yaml"),
                  "1s") as servers:
        yield servers


def ago(**delta):
    t = timestamp_pb2.Timestamp()
    t.FromDatetime(datetime.datetime.now(datetime.timezone.utc)
                   - datetime.timedelta(**delta))
    return t


def hot_lead(s, lead_id):
    """A CMO of a mid-sized EMEA software company who asked for a demo: an
    MQL for the EMEA mid-market team, which rotates round-robin."""
    return s.lead.Lead(
        id=lead_id, job_title="CMO", seniority=s.lead.SENIORITY_C_LEVEL,
        company=s.lead.Company(domain=f"{lead_id}.example", industry="software",
                               employee_count=250, country="FR", region="EMEA"),
        events=[s.event.Event(id=f"{lead_id}-demo",
                              type=s.event.EVENT_TYPE_DEMO_REQUEST,
                              occurred_at=ago(minutes=5))])


def enterprise_lead(s, lead_id):
    """The same in a North American enterprise: the weighted team's."""
    lead = hot_lead(s, lead_id)
    lead.company.country, lead.company.region = "US", "NA"
    lead.company.employee_count = 2000
    return lead


def lead_stubs(s, servers):
    channels = [grpc.insecure_channel(server.address) for server in servers]
    return channels, [s.lead_service_grpc.LeadServiceStub(c) for c in channels]


def test_round_robin_and_weights_are_exact_across_replicas(replicas, stubs):
    s = stubs
    channels, leads = lead_stubs(s, replicas)
    # Every sixth lead an enterprise one, sent concurrently to all replicas.
    every = (MQLS + WEIGHTED_MQLS) // WEIGHTED_MQLS

    def upsert(i):
        make = enterprise_lead if i % every == 0 else hot_lead
        return leads[i % REPLICAS].UpsertLead(
            s.lead_service.UpsertLeadRequest(lead=make(s, f"mql-{i}")),
            metadata=auth("marketing"), timeout=60).lead

    with concurrent.futures.ThreadPoolExecutor(4 * REPLICAS) as pool:
        written = list(pool.map(upsert, range(MQLS + WEIGHTED_MQLS)))
    assert all(lead.lifecycle.stage == s.lifecycle.LIFECYCLE_STAGE_MQL
               for lead in written)
    teams = collections.Counter(lead.routing.team_id for lead in written)
    assert teams == {ROUND_ROBIN_TEAM: MQLS, WEIGHTED_TEAM: WEIGHTED_MQLS}
    shares = collections.Counter(lead.routing.owner_id for lead in written
                                 if lead.routing.team_id == ROUND_ROBIN_TEAM)
    assert len(shares) == 3 and "" not in shares, shares
    assert set(shares.values()) == {MQLS // len(shares)}, shares
    weighted = collections.Counter(lead.routing.owner_id for lead in written
                                   if lead.routing.team_id == WEIGHTED_TEAM)
    assert weighted == {"usr-1101": WEIGHTED_MQLS // 2, "usr-1102": WEIGHTED_MQLS // 3,
                        "usr-1103": WEIGHTED_MQLS // 6}, weighted
    # What is stored agrees with what was answered.
    for lead in written[:: len(written) // 30]:
        stored = leads[0].GetLead(s.lead_service.GetLeadRequest(
            lead_id=lead.lead.id), metadata=auth("reader")).lead
        assert stored.routing.owner_id == lead.routing.owner_id
    for channel in channels:
        channel.close()


def test_an_activation_is_used_by_every_replica_within_a_second(replicas, stubs):
    s = stubs
    channels = [grpc.insecure_channel(r.address) for r in replicas]
    scoring = [s.scoring_service_grpc.ScoringServiceStub(c) for c in channels]

    def label(i):
        return scoring[i].ScoreLead(
            s.scoring_service.ScoreLeadRequest(lead=hot_lead(s, "probe")),
            metadata=auth("reader")).result.playbook_version

    before = {label(i) for i in range(REPLICAS)}
    assert before == {"acme-analytics-b2b@2026.11.1"}
    document = (ROOT / "examples/playbooks/demo.yaml").read_text().replace(
        'version: "2026.11.1"', 'version: "2026.11.2"', 1)
    import importlib
    playbook_service = importlib.import_module(
        "smarketing.v1.playbook_service_pb2")
    playbook_grpc = importlib.import_module(
        "smarketing.v1.playbook_service_pb2_grpc")
    playbooks = playbook_grpc.PlaybookServiceStub(channels[0])
    playbooks.PublishPlaybook(playbook_service.PublishPlaybookRequest(
        playbook=playbook_service.PlaybookSource(document=document),
        activate=True), metadata=auth("admin"))
    activated = time.monotonic()
    for i in range(1, REPLICAS):
        while label(i) != "acme-analytics-b2b@2026.11.2":
            assert time.monotonic() - activated < 1.0, f"replica {i} still on the old version"
            time.sleep(0.01)
    for channel in channels:
        channel.close()


LEADS = 60
BATCHES = 120
EVENTS_PER_BATCH = 10
KILL_AFTER_ACKS = 30


def test_kill_9_of_a_replica_mid_stream_loses_and_doubles_nothing(replicas, stubs):
    s = stubs
    rounds = int(os.environ.get("SMARKETING_REPLICA_KILLS", "20"))
    channels, leads = lead_stubs(s, replicas[:1])
    for i in range(LEADS):
        leads[0].UpsertLead(s.lead_service.UpsertLeadRequest(
            lead=s.lead.Lead(id=f"lead-{i}", company=s.lead.Company(
                domain=f"c{i}.example", employee_count=100))),
            metadata=auth("marketing"))
    channels[0].close()
    when = ago(hours=1)

    def batch(n):
        return s.lead_service.RecordEventsRequest(
            lead_id=f"lead-{n % LEADS}", request_id=str(n),
            events=[s.event.Event(id=f"b{n}-e{j}",
                                  type=s.event.EVENT_TYPE_EMAIL_OPEN,
                                  occurred_at=when)
                    for j in range(EVENTS_PER_BATCH)])

    acknowledged = recorded = duplicates = 0
    cut_short = 0
    for round_ in range(rounds):
        victim, other = replicas[round_ % REPLICAS], replicas[(round_ + 1) % REPLICAS]
        numbers = range(round_ * BATCHES, (round_ + 1) * BATCHES)
        channel = grpc.insecure_channel(victim.address)
        stream = s.lead_service_grpc.LeadServiceStub(channel).StreamEvents(
            (batch(n) for n in numbers), metadata=auth("marketing"))
        acked = {}
        try:
            for response in stream:
                acked[int(response.request_id)] = response.recorded
                if len(acked) == KILL_AFTER_ACKS:
                    victim.kill()
        except grpc.RpcError as error:
            assert error.code() in (grpc.StatusCode.UNAVAILABLE,
                                    grpc.StatusCode.CANCELLED,
                                    grpc.StatusCode.UNKNOWN,
                                    grpc.StatusCode.INTERNAL)
        channel.close()
        # A kill may land after the last acknowledgement when the server
        # ran ahead of a slow client; most rounds must cut the stream short.
        assert KILL_AFTER_ACKS <= len(acked) <= BATCHES, f"round {round_}"
        cut_short += len(acked) < BATCHES
        assert all(r == EVENTS_PER_BATCH for r in acked.values())
        acknowledged += sum(acked.values())

        # The client retries, through another replica, what was not
        # acknowledged; the killed one comes back meanwhile.
        victim.start()
        channel = grpc.insecure_channel(other.address)
        retried = [n for n in numbers if n not in acked]
        answered = []
        for response in s.lead_service_grpc.LeadServiceStub(channel).StreamEvents(
                (batch(n) for n in retried), metadata=auth("marketing")):
            answered.append(int(response.request_id))
            # Committed whole or not at all: a kill between the commit and
            # its acknowledgement leaves the whole batch already stored.
            assert (response.recorded, response.duplicates) in (
                (EVENTS_PER_BATCH, 0), (0, EVENTS_PER_BATCH))
            recorded += response.recorded
            duplicates += response.duplicates
        assert answered == retried
        channel.close()

    assert cut_short >= rounds // 2, f"{cut_short} of {rounds} streams cut short"
    total = rounds * BATCHES * EVENTS_PER_BATCH
    assert acknowledged + recorded + duplicates == total
    # Each event stored once, on every replica's view of the database.
    channels, leads = lead_stubs(s, replicas)
    for i in range(LEADS):
        lead = leads[i % REPLICAS].GetLead(s.lead_service.GetLeadRequest(
            lead_id=f"lead-{i}", include_events=True),
            metadata=auth("reader")).lead
        expected = {f"b{n}-e{j}" for n in range(i, rounds * BATCHES, LEADS)
                    for j in range(EVENTS_PER_BATCH)}
        assert {e.id for e in lead.lead.events} == expected
        assert lead.event_count == len(expected)
    for channel in channels:
        channel.close()


def urgent_lead(s, lead_id):
    """A demo request just now: urgent, its first touch due within a second
    and its escalation steps a second apart after that."""
    lead = hot_lead(s, lead_id)
    lead.events[0].occurred_at.CopyFrom(ago(seconds=0))
    return lead


def test_sla_steps_are_carried_out_once_by_one_replica_at_a_time(tmp_path, stubs):
    """Every replica runs the scheduler (a 50 ms tick); the lease lets one
    at a time act, and passes on when its holder is killed."""
    s = stubs
    with Replicas(tmp_path, fast_sla_playbook(tmp_path / "fast.yaml"), "50ms") as servers:
        channels, leads = lead_stubs(s, servers)

        def passes(server):
            return sum("event=scheduler_pass" in line for line in list(server.log))

        def escalate(first, count, through):
            for i in range(first, first + count):
                sent = urgent_lead(s, f"late-{i}")
                lead = leads[through[i % len(through)]].UpsertLead(
                    s.lead_service.UpsertLeadRequest(lead=sent),
                    metadata=auth("marketing")).lead
                # Stamped by this process's clock, which the server's may
                # trail: the demo request counts all the same.
                assert lead.score.priority == s.priority.PRIORITY_URGENT, (
                    f"late-{i}: {lead.score.events_counted} of {lead.event_count} "
                    f"events counted, scored at {lead.score.scored_at.ToJsonString()}, "
                    f"demo request at {sent.events[0].occurred_at.ToJsonString()}")
            deadline = time.monotonic() + 60
            pending = {f"late-{i}" for i in range(first, first + count)}
            while pending and time.monotonic() < deadline:
                for lead_id in sorted(pending):
                    lead = leads[through[0]].GetLead(s.lead_service.GetLeadRequest(
                        lead_id=lead_id), metadata=auth("reader")).lead
                    if lead.lifecycle.stage == s.lifecycle.LIFECYCLE_STAGE_NURTURE:
                        pending.discard(lead_id)
                time.sleep(0.1)
            assert not pending, f"{len(pending)} leads not recycled"

        # The first replica, the first to tick, holds the lease.
        escalate(0, 30, through=[0, 1, 2])
        assert passes(servers[0]) > 0
        assert passes(servers[1]) + passes(servers[2]) == 0, "two schedulers at once"
        # Killed, it hands the lease over to one of the others.
        servers[0].kill()
        escalate(30, 30, through=[1, 2])
        assert (passes(servers[1]) > 0) != (passes(servers[2]) > 0), \
            [passes(server) for server in servers]

        steps = collections.defaultdict(list)
        for change in all_changes(leads[2], s):
            if s.change.CHANGE_KIND_SLA_ESCALATED in change.kinds:
                steps[change.lead_id].append(change.escalation_step)
        for i in range(60):
            lead = leads[2].GetLead(s.lead_service.GetLeadRequest(
                lead_id=f"late-{i}"), metadata=auth("reader")).lead
            assert [a.step for a in lead.lifecycle.sla_actions] == list(range(STEPS))
            assert steps[f"late-{i}"] == list(range(STEPS))
        for channel in channels:
            channel.close()
