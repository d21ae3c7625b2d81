"""A thin client of the smarketing gRPC service (install the ``client`` extra).

The generated stubs stay within reach (``client.scoring``, ``client.leads``,
``client.playbooks``, ``client.reports``) with the bearer token sent on every
call; a few methods cover what notebooks do most: score leads, validate and
publish a Playbook, read a lead.

>>> with Client("localhost:50051", token="...") as client:
...     result = client.score({"id": "l-1", "seniority": "vp"}, now="2026-11-23T09:00:00Z")
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Union

import numpy as np
import pandas as pd

try:
    import grpc
except ImportError:  # pragma: no cover - depends on the install
    raise ImportError("the client needs grpcio: pip install 'smarketing[client]'") from None

from . import _native
from ._tables import Now, to_nanos
from .data import LeadData, leads_frame
from .errors import LeadError, PlaybookError, Problem, SmarketingError
from .playbook import Playbook
from .review import Review
from .scoring import STAGES, to_lead
from .v1 import (
    lead_pb2,
    lead_service_pb2,
    lead_service_pb2_grpc,
    playbook_service_pb2,
    playbook_service_pb2_grpc,
    report_service_pb2,
    report_service_pb2_grpc,
    score_result_pb2,
    scoring_service_pb2,
    scoring_service_pb2_grpc,
)

__all__ = ["Client", "Review", "ServiceError"]

LeadLike = Union[lead_pb2.Lead, Mapping[str, Any], bytes]


class ServiceError(SmarketingError):
    """A call the service refused or could not serve.

    Attributes:
        status: The gRPC status code (``grpc.StatusCode``).
    """

    def __init__(self, message: str, status: grpc.StatusCode) -> None:
        super().__init__(message, code=status.name)
        self.status = status


class _Metadata(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor,
                grpc.StreamUnaryClientInterceptor, grpc.StreamStreamClientInterceptor):
    """Adds the bearer token to every call."""

    def __init__(self, metadata: Sequence[tuple[str, str]]) -> None:
        self._metadata = list(metadata)

    def _details(self, details: Any) -> Any:
        return details._replace(metadata=list(details.metadata or []) + self._metadata)

    def intercept_unary_unary(self, continuation, details, request):
        return continuation(self._details(details), request)

    def intercept_unary_stream(self, continuation, details, request):
        return continuation(self._details(details), request)

    def intercept_stream_unary(self, continuation, details, requests):
        return continuation(self._details(details), requests)

    def intercept_stream_stream(self, continuation, details, requests):
        return continuation(self._details(details), requests)


def _revenue(feedback: Sequence[Any]) -> dict:
    """Revenue and margin of the latest win sales reported (NaN without one)."""
    out: dict = {"revenue": np.nan, "margin": np.nan, "currency": None}
    for f in feedback:
        if f.WhichOneof("outcome") == "won":
            out = {"revenue": f.won.revenue.amount if f.won.HasField("revenue") else np.nan,
                   "margin": f.won.margin.amount if f.won.HasField("margin") else np.nan,
                   "currency": f.won.revenue.currency_code or None}
    return out


def _outcomes(records: Sequence[Any], outcomes: Mapping[str, Any],
              feedback: Mapping[str, Sequence[Any]]) -> pd.DataFrame:
    """One row per stored lead: what became of it (``outcomes``, read by the
    core from its stage history) and the revenue of the latest win sales
    reported."""
    columns = ["lead_id", "stage", "mql", "mql_at", "accepted", "rejected", "rejection_reason", "sql",
               "converted", "won", "lost", "loss_reason", "revenue", "margin", "currency"]
    mql_at = [pd.NaT if n is None else pd.Timestamp(n, tz="UTC") for n in outcomes["mql_at"]]
    frame = pd.DataFrame({"lead_id": [r.lead.id for r in records],
                          "stage": [STAGES[r.lifecycle.stage] or None for r in records],
                          **outcomes, "mql_at": mql_at}, columns=columns[:12])
    revenue = pd.DataFrame([_revenue(feedback.get(r.lead.id, ())) for r in records],
                           columns=["revenue", "margin", "currency"])
    frame = pd.concat([frame, revenue], axis=1)
    frame["stage"] = pd.Categorical(frame["stage"], categories=STAGES[1:])
    frame["mql_at"] = pd.to_datetime(frame["mql_at"], utc=True)
    for column in ("mql", "accepted", "rejected", "sql", "converted", "won", "lost"):
        frame[column] = frame[column].astype(bool)
    return frame


def _timestamp(now: Now | None, message: Any) -> None:
    if now is not None:
        nanos = to_nanos(now)
        message.now.seconds, message.now.nanos = divmod(nanos, 1_000_000_000)


class Client:
    """A connection to a smarketing service.

    Args:
        target: ``host:port`` of the service.
        token: The bearer token of your role (reader, sales, marketing, admin).
        credentials: TLS credentials (``grpc.ssl_channel_credentials(...)``);
            a plaintext channel when None, for loopback and tests.
        timeout: Seconds each call may take.
    """

    def __init__(self, target: str, *, token: str | None = None,
                 credentials: grpc.ChannelCredentials | None = None, timeout: float = 10.0) -> None:
        channel = (grpc.secure_channel(target, credentials) if credentials is not None
                   else grpc.insecure_channel(target))
        self._channel = channel
        if token:
            channel = grpc.intercept_channel(channel, _Metadata([("authorization", f"Bearer {token}")]))
        self.timeout = timeout
        self.scoring = scoring_service_pb2_grpc.ScoringServiceStub(channel)
        self.leads = lead_service_pb2_grpc.LeadServiceStub(channel)
        self.playbooks = playbook_service_pb2_grpc.PlaybookServiceStub(channel)
        self.reports = report_service_pb2_grpc.ReportServiceStub(channel)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: Any, request: Any) -> Any:
        try:
            return method(request, timeout=self.timeout)
        except grpc.RpcError as error:
            raise ServiceError(f"{error.code().name}: {error.details()}", error.code()) from None

    def score(self, lead: LeadLike, *, now: Now | None = None,
              playbook_number: int = 0) -> score_result_pb2.ScoreResult:
        """Scores one lead with the active Playbook (or version ``playbook_number``)."""
        request = scoring_service_pb2.ScoreLeadRequest(lead=to_lead(lead), playbook_number=playbook_number)
        _timestamp(now, request)
        return self._call(self.scoring.ScoreLead, request).result

    def score_many(self, leads: Iterable[LeadLike], *, now: Now | None = None, playbook_number: int = 0,
                   explain: bool = True, batch: int = 1000) -> list[score_result_pb2.ScoreResult]:
        """Scores many leads over one stream, ``batch`` leads per message (at most 10,000).

        With ``explain``, each result explains itself as ``score``'s do, a
        sentence per rule that fired; without, it carries no explanation.

        Raises:
            LeadError: the service refused some leads; the problems name them.
        """
        if not 1 <= batch <= 10_000:
            raise ValueError(f"batch must be within [1, 10000], found {batch}")
        messages = [to_lead(lead) for lead in leads]

        def requests():
            for begin in range(0, len(messages), batch):
                request = scoring_service_pb2.ScoreLeadsRequest(
                    leads=messages[begin:begin + batch], playbook_number=playbook_number,
                    explanation=scoring_service_pb2.EXPLANATION_DETAIL_SENTENCES if explain
                    else scoring_service_pb2.EXPLANATION_DETAIL_NONE)
                _timestamp(now, request)
                yield request

        results: list[score_result_pb2.ScoreResult] = []
        problems: list[Problem] = []
        try:
            for k, response in enumerate(self.scoring.ScoreLeads(requests(), timeout=self.timeout)):
                results.extend(response.results)
                for e in response.errors:
                    for p in e.problems:
                        path = f"leads[{k * batch + e.index}]" + (f".{p.path}" if p.path else "")
                        problems.append(Problem(path, f"lead \"{e.lead_id}\": {p.message}"))
        except grpc.RpcError as error:
            raise ServiceError(f"{error.code().name}: {error.details()}", error.code()) from None
        if problems:
            raise LeadError(f"{len(problems)} problems in the leads:\n" + "\n".join(map(str, problems)), problems)
        return results

    @staticmethod
    def _source(playbook: Playbook) -> playbook_service_pb2.PlaybookSource:
        return playbook_service_pb2.PlaybookSource(document=playbook.to_yaml())

    def validate_playbook(self, playbook: Playbook) -> list[Problem]:
        """Every problem the service finds in the Playbook; empty when valid."""
        response = self._call(self.playbooks.ValidatePlaybook,
                              playbook_service_pb2.ValidatePlaybookRequest(playbook=self._source(playbook)))
        return [Problem(p.path, p.message, p.line, p.column, p.file) for p in response.problems.problems]

    def publish_playbook(self, playbook: Playbook, *, activate: bool = False) -> Any:
        """Publishes the Playbook as a new version (and activates it); returns the version.

        Raises:
            PlaybookError: the Playbook is not valid (checked here first, so the
                problems come with their paths).
        """
        problems = self.validate_playbook(playbook)
        if problems:
            raise PlaybookError(f"the Playbook has {len(problems)} problems", problems)
        request = playbook_service_pb2.PublishPlaybookRequest(playbook=self._source(playbook), activate=activate)
        return self._call(self.playbooks.PublishPlaybook, request).version

    def upsert_lead(self, lead: LeadLike) -> Any:
        """Creates or replaces a lead in the service's store; returns its record."""
        return self._call(self.leads.UpsertLead, lead_service_pb2.UpsertLeadRequest(lead=to_lead(lead))).lead

    def get_lead(self, lead_id: str, *, include_events: bool = False) -> Any:
        """The stored record of a lead: the lead, its score, stage, owner and SLA."""
        request = lead_service_pb2.GetLeadRequest(lead_id=lead_id, include_events=include_events)
        return self._call(self.leads.GetLead, request).lead

    def history(self, *, since: Now | None = None, events: bool = True, limit: int = 100_000,
                page_size: int = 1000) -> LeadData:
        """The service's leads with what became of them, as training data.

        Reads the stored leads page by page (``LeadService.ListLeads``) and,
        with ``events``, each lead's events (``GetLead``, one call per lead),
        each call bounded by the client's timeout.

        Args:
            since: Only leads created at or after this time (their
                ``created_at``; leads without one are left out); every lead
                when None.
            events: Also read the events (one call per lead).
            limit: Read at most this many leads; a ``UserWarning`` says when
                more were left out (narrow ``since`` or raise ``limit``).
            page_size: Leads per ListLeads call, 1 to 1000.

        Returns:
            :class:`LeadData`: ``leads`` and ``events`` as :func:`score_frame`
            reads them, and ``outcomes``, one row per lead, from its stage
            history: lead_id, stage (current), mql and mql_at (first time it
            became an MQL), accepted, rejected and rejection_reason, sql,
            converted (became an opportunity),
            won, lost and loss_reason (a lead rejected, recycled and accepted
            later is both rejected and accepted; the reasons are the latest
            ones), and revenue, margin and currency of the win sales
            reported (missing for other leads). ``evaluate`` and ``tune`` read it as
            it is (``tune(..., target="accepted")`` learns from sales'
            acceptance).

        Raises:
            ServiceError: the service refused a call (a reader token is
                enough) or did not answer in time.
        """
        if not 1 <= page_size <= 1000:
            raise ValueError(f"page_size must be within [1, 1000], found {page_size}")
        if limit < 1:
            raise ValueError(f"limit must be at least 1, found {limit}")
        since_nanos = None if since is None else to_nanos(since, "since")
        records: list[Any] = []  # LeadRecord messages
        token = ""
        truncated = False
        while True:
            page = self._call(self.leads.ListLeads,
                              lead_service_pb2.ListLeadsRequest(page_size=page_size, page_token=token))
            for record in page.leads:
                if since_nanos is not None:
                    created = record.lead.created_at
                    if not record.lead.HasField("created_at") or \
                            created.seconds * 1_000_000_000 + created.nanos < since_nanos:
                        continue
                if len(records) == limit:
                    truncated = True
                    break
                records.append(record)
            token = page.next_page_token
            if truncated or not token:
                break
        if truncated:
            warnings.warn(f"history stopped at limit={limit} leads; more are stored: narrow since= or "
                          "raise limit=", UserWarning, stacklevel=2)
        # Events, and the feedback of won leads (their revenue), one GetLead
        # per lead that needs either.
        outcomes = _native.lead_outcomes([r.lifecycle.SerializeToString() for r in records])
        leads, feedback = [], {}
        for record, won in zip(records, outcomes["won"]):
            if not events and not won:
                leads.append(record.lead)
                continue
            got = self._call(self.leads.GetLead, lead_service_pb2.GetLeadRequest(
                lead_id=record.lead.id, include_events=events, include_feedback=won))
            leads.append(got.lead.lead if events else record.lead)
            feedback[record.lead.id] = got.feedback
        if not leads:
            return LeadData(pd.DataFrame({"id": pd.Series([], dtype=object)}),
                            pd.DataFrame(), _outcomes([], outcomes, {}))
        data = leads_frame(leads)
        return LeadData(data.leads, data.events, _outcomes(records, outcomes, feedback))

    def review(self, week: str | None = None, *, team: str = "", campaign: str = "", source: str = "",
               persona: str = "", now: Now | None = None, timeout: float | None = None) -> Review:
        """The weekly review (``ReportService.GetReview``) as DataFrames.

        Args:
            week: ISO week in the Playbook's reporting time zone, e.g.
                ``"2026-W48"``; the current week when None.
            team, campaign, source, persona: Only these leads.
            now: The time to evaluate at; the server's clock when None.
            timeout: Seconds to wait; the client's timeout when None (a review
                reads every stored lead: allow for a large store).
        """
        request = report_service_pb2.GetReviewRequest(week=week or "")
        request.filter.team_id, request.filter.campaign = team, campaign
        request.filter.source, request.filter.persona_id = source, persona
        _timestamp(now, request)
        try:
            response = self.reports.GetReview(request, timeout=timeout or self.timeout)
        except grpc.RpcError as error:
            raise ServiceError(f"{error.code().name}: {error.details()}", error.code()) from None
        return Review.from_message(response.review)
