"""The Playbook: load, validate, edit and save the contract between marketing and sales."""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from google.protobuf import descriptor, json_format, text_format

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

_KIND = score_result_pb2  # the RULE_KIND_* values


def _format_of(path: str | os.PathLike[str]) -> PlaybookFormat:
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

    def __init__(self, message: playbook_pb2.Playbook, *, source: str | bytes | None = None,
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
        # The message as read from `source`, so that writing YAML back can
        # edit only the values that changed since.
        self._original: playbook_pb2.Playbook | None = None
        if isinstance(source, str) and format == "yaml":
            self._original = playbook_pb2.Playbook()
            self._original.CopyFrom(message)

    # --- Loading ------------------------------------------------------------

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Playbook:
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
    def from_string(cls, text: str | bytes, format: PlaybookFormat = "yaml",
                    *, file: str = "") -> Playbook:
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
    def from_yaml(cls, text: str, *, file: str = "") -> Playbook:
        """Parses a YAML Playbook (see :meth:`from_string`)."""
        return cls.from_string(text, "yaml", file=file)

    @classmethod
    def from_message(cls, message: playbook_pb2.Playbook) -> Playbook:
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

    def copy(self) -> Playbook:
        """An independent copy, to edit without touching this one."""
        copy = Playbook.from_message(self._message)
        copy._source, copy._format, copy._file = self._source, self._format, self._file
        copy._original = self._original
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

    def validate(self) -> Playbook:
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
        """The Playbook as YAML, read back unchanged.

        A Playbook read from YAML is written back as its file, with only the
        values that changed since edited in place: comments, order and
        layout are kept, so that the diff shows the change and nothing else
        (an unchanged Playbook gives the file byte for byte); a new section
        of plain values (``fit: {base_points: ...}``) is appended. When a
        change cannot be made in place (an element added or removed, a
        field that was not written), the whole Playbook is written out anew
        (snake_case names, full enum names).
        """
        if self._original is not None and isinstance(self._source, str):
            edited = _edit_in_place(self._source, self._original, self._message)
            if edited is not None:
                return edited
        return _native.message_to_yaml("smarketing.v1.Playbook", self._serialized())

    def to_json(self) -> str:
        """The Playbook in the protobuf JSON mapping, with snake_case names."""
        return json_format.MessageToJson(self._message, preserving_proto_field_name=True)

    def save(self, path: str | os.PathLike[str]) -> None:
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
        for e in pb.engagement.rules:
            rows.append(("engagement", e.id, "", e.points, e.description))
        for d in pb.disqualification_rules:
            rows.append(("disqualification", d.id, "", 0.0, d.description))
        rows.append(("opt_out", "consent.opted_out", "", 0.0, "The person asked not to be contacted"))
        for h in pb.hand_raiser_rules:
            rows.append(("hand_raiser", h.id, "", 0.0, h.description))
        for q in pb.priority.rules:
            rows.append(("priority", q.id, "", 0.0, q.description))
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


# --- Editing YAML in place ----------------------------------------------------

_FD = descriptor.FieldDescriptor


def _is_repeated(field: descriptor.FieldDescriptor) -> bool:
    # protobuf 6 dropped FieldDescriptor.label for is_repeated.
    repeated = getattr(field, "is_repeated", None)
    return repeated if repeated is not None else field.label == _FD.LABEL_REPEATED  # type: ignore[attr-defined]
_NUMBER_TYPES = {_FD.TYPE_DOUBLE, _FD.TYPE_FLOAT, _FD.TYPE_INT32, _FD.TYPE_INT64, _FD.TYPE_UINT32,
                 _FD.TYPE_UINT64, _FD.TYPE_SINT32, _FD.TYPE_SINT64, _FD.TYPE_FIXED32, _FD.TYPE_FIXED64,
                 _FD.TYPE_SFIXED32, _FD.TYPE_SFIXED64}
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_./@-]*")


class _Structural(Exception):
    """A change that is not a scalar written in the file: the file is written anew."""


def _changed_scalars(old: Any, new: Any, path: str, out: list) -> None:
    """(path, field, old value, new value) of every scalar that differs."""
    if old.DESCRIPTOR.full_name.startswith("google.protobuf."):
        if old != new:
            raise _Structural(path)
        return
    fields = {f.name: f for f, _ in old.ListFields()} | {f.name: f for f, _ in new.ListFields()}
    for name, field in fields.items():
        at = f"{path}.{name}" if path else name
        a, b = getattr(old, name), getattr(new, name)
        if _is_repeated(field):
            if len(a) != len(b):
                raise _Structural(at)
            for i, (x, y) in enumerate(zip(a, b, strict=False)):
                if field.type == _FD.TYPE_MESSAGE:
                    _changed_scalars(x, y, f"{at}[{i}]", out)
                elif x != y:
                    out.append((f"{at}[{i}]", field, x, y))
        elif field.type == _FD.TYPE_MESSAGE:
            if old.HasField(name) != new.HasField(name):
                raise _Structural(at)
            _changed_scalars(a, b, at, out)
        elif a != b or (field.has_presence and old.HasField(name) != new.HasField(name)):
            out.append((at, field, a, b))


def _token_end(line: str, start: int) -> int:
    """Where the YAML scalar starting at ``start`` ends (exclusive)."""
    quote = line[start:start + 1]
    if quote in ("'", '"'):
        i = start + 1
        while i < len(line):
            if quote == '"' and line[i] == "\\":
                i += 2
                continue
            if line[i] == quote:
                if quote == "'" and line[i + 1:i + 2] == "'":
                    i += 2
                    continue
                return i + 1
            i += 1
        raise _Structural("an unterminated quoted scalar")
    end = start
    while end < len(line) and line[end] not in ",]}\n" and not line.startswith(" #", end):
        end += 1
    return len(line[:end].rstrip()) if end > start else end


def _short_enum(field: Any, number: int) -> str:
    enum = field.enum_type
    prefix = enum.values_by_number[0].name[:-len("UNSPECIFIED")] if 0 in enum.values_by_number else ""
    name = enum.values_by_number[number].name
    return (name[len(prefix):] if name.startswith(prefix) else name).lower()


def _format_scalar(field: Any, value: Any, old_token: str) -> str:
    if field.type == _FD.TYPE_BOOL:
        return "true" if value else "false"
    if field.type == _FD.TYPE_ENUM:
        return _short_enum(field, value)
    if field.type in _NUMBER_TYPES:
        if isinstance(value, float):
            if not math.isfinite(value):
                raise _Structural("a non-finite number")
            if value == int(value) and abs(value) < 1e15:
                return str(int(value))
        return repr(value)
    text = str(value)
    if old_token.startswith("'"):
        return "'" + text.replace("'", "''") + "'"
    if old_token.startswith('"') or not _PLAIN.fullmatch(text) or text.lower() in ("true", "false", "null"):
        return json.dumps(text, ensure_ascii=False)
    return text


def _added_sections(original: playbook_pb2.Playbook,
                    message: playbook_pb2.Playbook) -> tuple[playbook_pb2.Playbook, str]:
    """Top-level sections of scalars that ``message`` has and the file does
    not (the tuner's ``fit: {base_points: ...}``), as YAML to append; with
    ``original`` as if it had them."""
    text = ""
    base = playbook_pb2.Playbook()
    base.CopyFrom(original)
    for field, value in message.ListFields():
        if field.type != _FD.TYPE_MESSAGE or _is_repeated(field) or original.HasField(field.name):
            continue
        lines = []
        for inner, scalar in value.ListFields():
            if inner.type == _FD.TYPE_MESSAGE or _is_repeated(inner):
                raise _Structural(field.name)
            lines.append(f"  {inner.name}: {_format_scalar(inner, scalar, '')}\n")
        text += f"{field.name}:\n" + "".join(lines)
        getattr(base, field.name).CopyFrom(value)
    return base, text


def _edit_in_place(source: str, original: playbook_pb2.Playbook, message: playbook_pb2.Playbook) -> str | None:
    """``source`` with the scalars that changed from ``original`` to ``message`` rewritten, and new
    sections of scalars appended; None if it cannot."""
    if original == message:
        return source
    changes: list = []
    try:
        original, appended = _added_sections(original, message)
        if appended:
            source += ("" if source.endswith("\n") else "\n") + appended
        _changed_scalars(original, message, "", changes)
        positions = _native.playbook_positions(source, "yaml")
        lines = source.splitlines(keepends=True)
        edits: dict[int, list] = {}
        for path, field, _, value in changes:
            if path not in positions:
                raise _Structural(path)
            line, column = positions[path]
            edits.setdefault(line - 1, []).append((column - 1, field, value))
        for index, line_edits in edits.items():
            text = lines[index]
            for start, field, value in sorted(line_edits, key=lambda e: -e[0]):
                end = _token_end(text, start)
                token = text[start:end]
                text = text[:start] + _format_scalar(field, value, token) + text[end:]
            lines[index] = text
    except (_Structural, IndexError, KeyError):
        return None
    edited = "".join(lines)
    # The edit must read back as the message, or the file is written anew.
    try:
        again = playbook_pb2.Playbook.FromString(_native.parse_playbook(edited, "yaml", ""))
    except Exception:  # any parse failure means the in-place edit went wrong
        return None
    return edited if again == message else None
