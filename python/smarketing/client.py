"""A thin client of the smarketing gRPC service (install the ``client`` extra).

The generated stubs stay within reach (``client.scoring``, ``client.leads``,
``client.playbooks``, ``client.reports``) with the bearer token sent on every
call; a few methods cover what notebooks do most: score leads, validate and
publish a Playbook, read a lead.

>>> with Client("localhost:50051", token="...") as client:
...     result = client.score({"id": "l-1", "seniority": "vp"}, now="2026-11-23T09:00:00Z")
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional, Sequence, Union

try:
    import grpc
except ImportError:  # pragma: no cover - depends on the install
    raise ImportError("the client needs grpcio: pip install 'smarketing[client]'") from None

from ._tables import Now, to_nanos
from .errors import LeadError, PlaybookError, Problem, SmarketingError
from .playbook import Playbook
from .review import Review
from .scoring import to_lead
from .v1 import (lead_pb2, lead_service_pb2, lead_service_pb2_grpc, playbook_service_pb2,
                 playbook_service_pb2_grpc, report_service_pb2, report_service_pb2_grpc,
                 score_result_pb2, scoring_service_pb2, scoring_service_pb2_grpc)

__all__ = ["Client", "Review", "ServiceError"]

LeadLike = Union[lead_pb2.Lead, Mapping[str, Any], bytes]


class ServiceError(SmarketingError):
    """A call the service refused or could not serve.

    Attributes:
        status: The gRPC status code (``grpc.StatusCode``).
    """

    def __init__(self, message: str, status: "grpc.StatusCode") -> None:
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


def _timestamp(now: Optional[Now], message: Any) -> None:
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

    def __init__(self, target: str, *, token: Optional[str] = None,
                 credentials: Optional["grpc.ChannelCredentials"] = None, timeout: float = 10.0) -> None:
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

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: Any, request: Any) -> Any:
        try:
            return method(request, timeout=self.timeout)
        except grpc.RpcError as error:
            raise ServiceError(f"{error.code().name}: {error.details()}", error.code()) from None

    def score(self, lead: LeadLike, *, now: Optional[Now] = None,
              playbook_number: int = 0) -> score_result_pb2.ScoreResult:
        """Scores one lead with the active Playbook (or version ``playbook_number``)."""
        request = scoring_service_pb2.ScoreLeadRequest(lead=to_lead(lead), playbook_number=playbook_number)
        _timestamp(now, request)
        return self._call(self.scoring.ScoreLead, request).result

    def score_many(self, leads: Iterable[LeadLike], *, now: Optional[Now] = None, playbook_number: int = 0,
                   explain: bool = True, batch: int = 1000) -> list[score_result_pb2.ScoreResult]:
        """Scores many leads over one stream, ``batch`` leads per message (at most 10,000).

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
                    omit_explanation=not explain)
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

    def review(self, week: Optional[str] = None, *, team: str = "", campaign: str = "", source: str = "",
               persona: str = "", now: Optional[Now] = None, timeout: Optional[float] = None) -> Review:
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
