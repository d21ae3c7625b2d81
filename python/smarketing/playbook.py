"""The Playbook: load, validate, edit and save the contract between marketing and sales."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, Union

import pandas as pd
from google.protobuf import json_format, text_format

from . import _native
from .errors import InputError, PlaybookError
from .v1 import playbook_pb2, score_result_pb2

__all__ = ["Playbook", "PlaybookFormat"]

PlaybookFormat = Literal["yaml", "json", "text", "binary"]

_EXTENSIONS: dict[str, PlaybookFormat] = {
    ".yaml": "yaml",
    ".yml": "yaml",
    ".json": "json",
    ".textproto": "text",
    ".txtpb": "text",
    ".pbtxt": "text",
    ".pb": "binary",
    ".binpb": "binary",
}

_KIND = score_result_pb2.RuleKind


def _format_of(path: Union[str, os.PathLike[str]]) -> PlaybookFormat:
    suffix = Path(path).suffix.lower()
    try:
        return _EXTENSIONS[suffix]
    except KeyError:
        raise InputError(
            f"{path}: unknown Playbook format {suffix!r}; use one of "
            f"{', '.join(sorted(_EXTENSIONS))}") from None


class Playbook:
    """A Playbook: personas, scoring rules, thresholds, routing, SLA and objectives.

    Load one with :meth:`load` (a file) or :meth:`from_string`, or wrap a
    generated ``smarketing.v1.Playbook`` message with :meth:`from_message`.
    Edit it through :attr:`message` (the generated protobuf classes), check it
    with :meth:`validate` and write it back with :meth:`save` or
    :meth:`to_yaml`.

    Example:
        >>> pb = Playbook.load("examples/playbooks/demo.yaml").validate()
        >>> pb.message.thresholds.mql.min_total = 70
        >>> pb.save("tuned.yaml")
    """

    def __init__(self, message: playbook_pb2.Playbook, *, source: Union[str, bytes, None] = None,
                 format: PlaybookFormat = "yaml", file: str = "") -> None:
        if not isinstance(message, playbook_pb2.Playbook):
            raise TypeError(f"expected a smarketing.v1.Playbook message, found {type(message).__name__}")
        self._message = message
        # The text it was read from, so that validation problems point at
        # lines and columns for as long as the message is unchanged.
        self._source = source
        self._format: PlaybookFormat = format
        self._file = file
        self._compiled: tuple[bytes, _native.CompiledPlaybook] | None = None

    # --- Loading ------------------------------------------------------------

    @classmethod
    def load(cls, path: Union[str, os.PathLike[str]]) -> "Playbook":
        """Reads a Playbook file: .yaml/.yml, .json, .textproto/.txtpb/.pbtxt or .pb/.binpb.

        Raises:
            PlaybookError: the file does not parse; ``problems`` lists every
                problem with its line and column.
            FileNotFoundError: there is no such file.
        """
        fmt = _format_of(path)
        data = Path(path).read_bytes()
        return cls.from_string(data if fmt == "binary" else data.decode("utf-8"), fmt,
                               file=str(path))

    @classmethod
    def from_string(cls, text: Union[str, bytes], format: PlaybookFormat = "yaml",
                    *, file: str = "") -> "Playbook":
        """Parses a Playbook from YAML, JSON, protobuf text or binary protobuf.

        YAML follows the protobuf JSON mapping with the conveniences of the
        core: enum values without their prefix (``type: demo_request``),
        durations as ``90s``, ``2h30m`` or ``7d``.
        """
        if format not in ("yaml", "json", "text", "binary"):
            raise InputError(f"unknown Playbook format {format!r}; use yaml, json, text or binary")
        if isinstance(text, bytes) and format != "binary":
            text = text.decode("utf-8")
        data = _native.parse_playbook(text, format, file)
        message = playbook_pb2.Playbook.FromString(data)
        return cls(message, source=text, format=format, file=file)

    @classmethod
    def from_yaml(cls, text: str, *, file: str = "") -> "Playbook":
        """Parses a YAML Playbook (see :meth:`from_string`)."""
        return cls.from_string(text, "yaml", file=file)

    @classmethod
    def from_message(cls, message: playbook_pb2.Playbook) -> "Playbook":
        """Wraps a copy of a generated ``smarketing.v1.Playbook`` message."""
        if not isinstance(message, playbook_pb2.Playbook):
            raise TypeError(f"expected a smarketing.v1.Playbook message, found {type(message).__name__}")
        copy = playbook_pb2.Playbook()
        copy.CopyFrom(message)
        return cls(copy)

    # --- The message --------------------------------------------------------

    @property
    def message(self) -> playbook_pb2.Playbook:
        """The ``smarketing.v1.Playbook`` message, to read or edit in place."""
        return self._message

    @property
    def name(self) -> str:
        return self._message.metadata.name

    @property
    def version(self) -> str:
        return self._message.metadata.version

    def copy(self) -> "Playbook":
        """An independent copy, to edit without touching this one."""
        copy = Playbook.from_message(self._message)
        copy._source, copy._format, copy._file = self._source, self._format, self._file
        return copy

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Playbook) and self._message == other._message

    def __repr__(self) -> str:
        return f"Playbook({self.name}@{self.version})"

    # --- Validation ---------------------------------------------------------

    def _serialized(self) -> bytes:
        return self._message.SerializeToString(deterministic=True)

    def _compile(self) -> _native.CompiledPlaybook:
        data = self._serialized()
        if self._compiled is None or self._compiled[0] != data:
            self._compiled = (data, _native.CompiledPlaybook(
                data, self._source, self._format, self._file))
        return self._compiled[1]

    def validate(self) -> "Playbook":
        """Checks the whole Playbook and returns it.

        Raises:
            PlaybookError: listing every problem (``.problems``), each with the
                path of the field, and its line and column when the Playbook
                was read from a file and not edited since.
        """
        self._compile()
        return self

    def problems(self) -> list:
        """Every problem of the Playbook; empty when it is valid."""
        try:
            self._compile()
        except PlaybookError as error:
            return error.problems
        return []

    @property
    def version_label(self) -> str:
        """``name@version``, as stamped on every score."""
        return self._compile().version_label

    # --- Writing ------------------------------------------------------------

    def to_yaml(self) -> str:
        """The Playbook as YAML (snake_case names, full enum names), read back unchanged."""
        return _native.message_to_yaml("smarketing.v1.Playbook", self._serialized())

    def to_json(self) -> str:
        """The Playbook in the protobuf JSON mapping, with snake_case names."""
        return json_format.MessageToJson(self._message, preserving_proto_field_name=True)

    def save(self, path: Union[str, os.PathLike[str]]) -> None:
        """Writes the Playbook in the format its extension names (as :meth:`load`)."""
        fmt = _format_of(path)
        if fmt == "binary":
            Path(path).write_bytes(self._serialized())
            return
        text = {"yaml": self.to_yaml, "json": self.to_json,
                "text": lambda: text_format.MessageToString(self._message)}[fmt]()
        Path(path).write_text(text, encoding="utf-8")

    # --- Rules --------------------------------------------------------------

    def rules(self) -> pd.DataFrame:
        """Every rule, one row each, in the order of :func:`smarketing.rule_matrix`'s columns.

        Columns: ``kind`` (persona_criterion, fit, engagement,
        disqualification, opt_out, hand_raiser, priority), ``rule_id``,
        ``persona_id`` (criteria only), ``points`` (the points or weight the
        Playbook gives; 0 for rules that only fire) and ``description``.
        """
        pb = self._message
        rows: list[tuple[str, str, str, float, str]] = []
        for persona in pb.personas:
            for c in persona.criteria:
                rows.append(("persona_criterion", c.id, persona.id, c.weight, c.description))
        for r in pb.fit_rules:
            rows.append(("fit", r.id, "", r.points, r.description))
        for r in pb.engagement.rules:
            rows.append(("engagement", r.id, "", r.points, r.description))
        for r in pb.disqualification_rules:
            rows.append(("disqualification", r.id, "", 0.0, r.description))
        rows.append(("opt_out", "consent.opted_out", "", 0.0, "The person asked not to be contacted"))
        for r in pb.hand_raiser_rules:
            rows.append(("hand_raiser", r.id, "", 0.0, r.description))
        for r in pb.priority.rules:
            rows.append(("priority", r.id, "", 0.0, r.description))
        return pd.DataFrame(rows, columns=["kind", "rule_id", "persona_id", "points", "description"])

    def _rule_offsets(self) -> dict[int, int]:
        """The first matrix column of each rule kind (criteria: of the first persona)."""
        pb = self._message
        offsets: dict[int, int] = {}
        at = 0
        offsets[_KIND.RULE_KIND_PERSONA_CRITERION] = at
        at += sum(len(p.criteria) for p in pb.personas)
        offsets[_KIND.RULE_KIND_FIT] = at
        at += len(pb.fit_rules)
        offsets[_KIND.RULE_KIND_ENGAGEMENT] = at
        at += len(pb.engagement.rules)
        offsets[_KIND.RULE_KIND_DISQUALIFICATION] = at
        at += len(pb.disqualification_rules)
        offsets[_KIND.RULE_KIND_OPT_OUT] = at
        at += 1
        offsets[_KIND.RULE_KIND_HAND_RAISER] = at
        at += len(pb.hand_raiser_rules)
        offsets[_KIND.RULE_KIND_PRIORITY] = at
        return offsets
