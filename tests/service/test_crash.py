"""kill -9 while a client streams events: after a restart on the same store,
no acknowledged event is missing, and the client's retries of what was not
acknowledged are counted once."""

import datetime

import grpc
from google.protobuf import timestamp_pb2

from conftest import auth

LEADS = 20
BATCHES = 400
EVENTS_PER_BATCH = 25
KILL_AFTER_ACKS = 100


def test_acknowledged_events_survive_kill_9(server, stubs):
    s = stubs
    channel = grpc.insecure_channel(server.address)
    leads = s.lead_service_grpc.LeadServiceStub(channel)
    for i in range(LEADS):
        leads.UpsertLead(s.lead_service.UpsertLeadRequest(
            lead=s.lead.Lead(id=f"lead-{i}", company=s.lead.Company(
                domain=f"c{i}.example", employee_count=100))),
            metadata=auth("marketing"))

    when = timestamp_pb2.Timestamp()
    when.FromDatetime(datetime.datetime.now(datetime.timezone.utc)
                      - datetime.timedelta(hours=1))

    def batch(n):
        return s.lead_service.RecordEventsRequest(
            lead_id=f"lead-{n % LEADS}", request_id=str(n),
            events=[s.event.Event(id=f"b{n}-e{j}",
                                  type=s.event.EVENT_TYPE_EMAIL_OPEN,
                                  occurred_at=when)
                    for j in range(EVENTS_PER_BATCH)])

    acked = {}
    stream = leads.StreamEvents((batch(n) for n in range(BATCHES)),
                                metadata=auth("marketing"))
    try:
        for response in stream:
            acked[int(response.request_id)] = response.recorded
            if len(acked) == KILL_AFTER_ACKS:
                server.kill()
    except grpc.RpcError as error:
        assert error.code() in (grpc.StatusCode.UNAVAILABLE,
                                grpc.StatusCode.CANCELLED,
                                grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL)
    channel.close()
    assert KILL_AFTER_ACKS <= len(acked) < BATCHES
    assert all(recorded == EVENTS_PER_BATCH for recorded in acked.values())

    server.start()
    channel = grpc.insecure_channel(server.address)
    leads = s.lead_service_grpc.LeadServiceStub(channel)
    # Retry everything not acknowledged, as a client that lost its stream does.
    retried = [n for n in range(BATCHES) if n not in acked]
    recorded = {}
    duplicates = 0
    for response in leads.StreamEvents((batch(n) for n in retried),
                                       metadata=auth("marketing")):
        recorded[int(response.request_id)] = response.recorded
        duplicates += response.duplicates
        # A batch is committed whole or not at all: the kill may land after a
        # commit and before its acknowledgement, and then the retry finds
        # every event of it already there.
        assert (response.recorded, response.duplicates) in (
            (EVENTS_PER_BATCH, 0), (0, EVENTS_PER_BATCH))
    assert sorted(recorded) == retried
    # Every event is stored exactly once, whether its first delivery was
    # acknowledged, committed without an acknowledgement, or lost.
    assert sum(acked.values()) + sum(recorded.values()) + duplicates == \
        BATCHES * EVENTS_PER_BATCH
    for i in range(LEADS):
        lead = leads.GetLead(s.lead_service.GetLeadRequest(
            lead_id=f"lead-{i}", include_events=True),
            metadata=auth("reader")).lead
        ids = {e.id for e in lead.lead.events}
        expected = {f"b{n}-e{j}" for n in range(i, BATCHES, LEADS)
                    for j in range(EVENTS_PER_BATCH)}
        assert ids == expected
        assert lead.event_count == len(expected)
    # A retry of an acknowledged batch changes nothing.
    again = leads.RecordEvents(batch(0), metadata=auth("marketing"))
    assert (again.recorded, again.duplicates) == (0, EVENTS_PER_BATCH)
    channel.close()
