"""A backend service's whole lead journey against a real smarketing-server,
through grpcio and stubs generated from the same proto files."""

import datetime
import os
import subprocess

import grpc
import pytest
from google.protobuf import timestamp_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from conftest import ROOT, auth


def ts(delta=datetime.timedelta()):
    t = timestamp_pb2.Timestamp()
    t.FromDatetime(datetime.datetime.now(datetime.timezone.utc) + delta)
    return t


def hot_lead(s, lead_id):
    """A CMO of a mid-sized software company who asked for a demo."""
    return s.lead.Lead(
        id=lead_id, job_title="CMO", seniority=s.lead.SENIORITY_C_LEVEL,
        source="webinar", campaign="cmp-e2e",
        company=s.lead.Company(name="Acme", domain=f"{lead_id}.example",
                               industry="software", employee_count=250,
                               country="FR", region="EMEA"),
        events=[s.event.Event(id=f"{lead_id}-demo",
                              type=s.event.EVENT_TYPE_DEMO_REQUEST,
                              occurred_at=ts(-datetime.timedelta(hours=1)))])


@pytest.fixture
def clients(server, stubs):
    channel = grpc.insecure_channel(server.address)
    yield type("Clients", (), {
        "health": health_pb2_grpc.HealthStub(channel),
        "scoring": stubs.scoring_service_grpc.ScoringServiceStub(channel),
        "leads": stubs.lead_service_grpc.LeadServiceStub(channel),
        "reports": stubs.report_service_grpc.ReportServiceStub(channel),
        "playbooks": stubs.playbook_service_grpc.PlaybookServiceStub(channel),
    })
    channel.close()


def test_health_is_serving(clients):
    response = clients.health.Check(health_pb2.HealthCheckRequest())
    assert response.status == health_pb2.HealthCheckResponse.SERVING


def test_scores_a_lead_with_an_explanation(clients, stubs):
    s = stubs
    response = clients.scoring.ScoreLead(
        s.scoring_service.ScoreLeadRequest(lead=hot_lead(s, "score-me")),
        metadata=auth("reader"))
    assert response.result.recommended_stage == s.lifecycle.LIFECYCLE_STAGE_MQL
    assert response.result.hand_raiser
    assert all(hit.sentence for hit in response.result.explanation)


def test_bad_request_details_decode_with_generic_protos(clients, stubs):
    s = stubs
    lead = hot_lead(s, "bad")
    lead.events[0].ClearField("type")
    with pytest.raises(grpc.RpcError) as error:
        clients.scoring.ScoreLead(s.scoring_service.ScoreLeadRequest(lead=lead),
                                  metadata=auth("reader"))
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = dict(error.value.trailing_metadata())["grpc-status-details-bin"]
    status = s.status.Status.FromString(details)
    bad_request = s.error_details.BadRequest()
    assert status.details[0].Unpack(bad_request)
    assert [v.field for v in bad_request.field_violations] == ["events[0].type"]


def test_no_token_no_service(clients, stubs):
    with pytest.raises(grpc.RpcError) as error:
        clients.leads.GetLead(stubs.lead_service.GetLeadRequest(lead_id="x"))
    assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.RpcError) as error:
        clients.leads.EraseLead(stubs.lead_service.EraseLeadRequest(lead_id="x"),
                                metadata=auth("marketing"))
    assert error.value.code() == grpc.StatusCode.PERMISSION_DENIED


def feedback(clients, s, lead_id, **outcome):
    return clients.leads.RecordFeedback(
        s.lead_service.RecordFeedbackRequest(feedback=s.lifecycle.Feedback(
            lead_id=lead_id, at=ts(), actor_id="usr-1001", **outcome)),
        metadata=auth("sales")).lead


def test_lead_journey_from_capture_to_a_win(clients, stubs):
    s = stubs
    lc = s.lifecycle
    created = clients.leads.UpsertLead(
        s.lead_service.UpsertLeadRequest(lead=hot_lead(s, "journey")),
        metadata=auth("marketing"))
    assert created.created
    lead = created.lead
    # Captured NEW, qualified by its score and routed at once.
    stages = [(t.__getattribute__("from"), t.to) for t in lead.lifecycle.history]
    assert stages[0][1] == lc.LIFECYCLE_STAGE_NEW
    assert lead.lifecycle.stage == lc.LIFECYCLE_STAGE_MQL
    assert lead.routing.team_id and lead.routing.explanation
    assert lead.sla.HasField("first_touch_due")
    assert lead.sla.HasField("accept_or_reject_due")

    # Engagement events, delivered twice: counted once.
    events = [s.event.Event(id=f"pv-{i}", type=s.event.EVENT_TYPE_PAGE_VIEW,
                            occurred_at=ts(-datetime.timedelta(minutes=i)))
              for i in range(3)]
    request = s.lead_service.RecordEventsRequest(lead_id="journey", events=events)
    first = clients.leads.RecordEvents(request, metadata=auth("marketing"))
    again = clients.leads.RecordEvents(request, metadata=auth("marketing"))
    assert (first.recorded, first.duplicates) == (3, 0)
    assert (again.recorded, again.duplicates) == (0, 3)

    clients.leads.RecordFirstTouch(
        s.lead_service.RecordFirstTouchRequest(lead_id="journey"),
        metadata=auth("sales"))
    assert feedback(clients, s, "journey",
                    accepted=lc.Feedback.Accepted()).lifecycle.stage == \
        lc.LIFECYCLE_STAGE_SAL
    feedback(clients, s, "journey", meeting_held=lc.Feedback.MeetingHeld())
    lead = feedback(clients, s, "journey",
                    opportunity_created=lc.Feedback.OpportunityCreated(
                        amount=lc.Money(amount=60000)))
    assert lead.lifecycle.stage == lc.LIFECYCLE_STAGE_OPPORTUNITY
    lead = feedback(clients, s, "journey", won=lc.Feedback.Won(
        revenue=lc.Money(amount=55000), margin=lc.Money(amount=33000)))
    assert lead.lifecycle.stage == lc.LIFECYCLE_STAGE_CUSTOMER

    got = clients.leads.GetLead(s.lead_service.GetLeadRequest(lead_id="journey"),
                                metadata=auth("reader")).lead
    assert got.event_count == 4
    assert [t.to for t in got.lifecycle.history][-4:] == [
        lc.LIFECYCLE_STAGE_SAL, lc.LIFECYCLE_STAGE_SQL,
        lc.LIFECYCLE_STAGE_OPPORTUNITY, lc.LIFECYCLE_STAGE_CUSTOMER]

    report = clients.reports.GetClosedLoopReport(
        s.report_service.GetClosedLoopReportRequest(
            period_start=ts(-datetime.timedelta(days=1)),
            period_end=ts(datetime.timedelta(days=1))),
        metadata=auth("reader")).report
    [campaign] = report.by_campaign
    assert campaign.key == "cmp-e2e"
    assert (campaign.counts.leads, campaign.counts.mqls, campaign.counts.wins) == \
        (1, 1, 1)
    assert campaign.counts.revenue == 55000
    assert campaign.counts.HasField("median_time_to_first_touch")


def test_a_rejected_lead_is_recycled_to_nurture_with_its_reason(clients, stubs):
    s = stubs
    lc = s.lifecycle
    clients.leads.UpsertLead(
        s.lead_service.UpsertLeadRequest(lead=hot_lead(s, "rejected")),
        metadata=auth("marketing"))
    with pytest.raises(grpc.RpcError) as error:
        feedback(clients, s, "rejected",
                 rejected=lc.Feedback.Rejected(reason_code="made_up"))
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    lead = feedback(clients, s, "rejected",
                    rejected=lc.Feedback.Rejected(reason_code="bad_timing"))
    assert lead.lifecycle.stage == lc.LIFECYCLE_STAGE_NURTURE
    assert lead.lifecycle.history[-1].reason_code == "bad_timing"
    assert lead.lifecycle.HasField("nurture_until")

    report = clients.reports.GetClosedLoopReport(
        s.report_service.GetClosedLoopReportRequest(
            period_start=ts(-datetime.timedelta(days=1)),
            period_end=ts(datetime.timedelta(days=1))),
        metadata=auth("reader")).report
    assert report.total.rejected == 1
    assert dict(report.total.rejection_reasons) == {"bad_timing": 1}


def test_help_and_version_exit_zero():
    """Operators read --help and --version before anything else; both exit 0
    and describe this program."""
    binary = os.environ.get(
        "SMARKETING_SERVER", str(ROOT / "build/grpc_server/smarketing-server"))
    shown = subprocess.run([binary, "--help"], capture_output=True, text=True,
                           timeout=30)
    assert shown.returncode == 0, shown.stderr
    assert "--token_file" in shown.stdout and "--listen" in shown.stdout
    version = subprocess.run([binary, "--version"], capture_output=True,
                             text=True, timeout=30)
    assert version.returncode == 0
    assert version.stdout.strip() == \
        f"smarketing-server {(ROOT / 'VERSION').read_text().strip()}"
