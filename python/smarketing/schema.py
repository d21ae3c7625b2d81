"""A JSON Schema of the Playbook, generated from the protobuf descriptors.

Editors that speak JSON Schema (the YAML language server of VS Code, the
JetBrains IDEs, Neovim...) complete and check a Playbook as it is typed with
it: put ``# yaml-language-server: $schema=playbook.schema.json`` on the first
line. It follows what the core reads: snake_case or camelCase field names,
enum values by their short name (``demo_request``) or full name, durations
as ``90s``, ``2h30m`` or ``7d``, times in RFC 3339. The core's validation
still has the last word (ids, ranges, references between fields).

``python -m smarketing.schema [PATH]`` writes it out; the package installs
it as ``smarketing/playbook.schema.json`` too.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from google.protobuf import descriptor

__all__ = ["playbook_schema", "SCHEMA_PATH"]

SCHEMA_PATH = Path(__file__).with_name("playbook.schema.json")
"""The schema installed with the package."""

_FD = descriptor.FieldDescriptor


# The same test as playbook._is_repeated: this module runs at build time,
# before the package it belongs to can be imported.
def _is_repeated(field: descriptor.FieldDescriptor) -> bool:
    # protobuf 6 dropped FieldDescriptor.label for is_repeated.
    repeated = getattr(field, "is_repeated", None)
    return repeated if repeated is not None else field.label == _FD.LABEL_REPEATED  # type: ignore[attr-defined]


_INTEGERS = {_FD.TYPE_INT32, _FD.TYPE_SINT32, _FD.TYPE_SFIXED32, _FD.TYPE_UINT32, _FD.TYPE_FIXED32}
_LONGS = {_FD.TYPE_INT64, _FD.TYPE_SINT64, _FD.TYPE_SFIXED64, _FD.TYPE_UINT64, _FD.TYPE_FIXED64}
# What ParseHumanDuration reads: "7d", or absl's "1h30m", "90s", "250ms".
_DURATION = r"^\s*(-?[0-9]+(\.[0-9]*)?d|0|[-+]?(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|ms|s|m|h))+)\s*$"
_WELL_KNOWN: dict[str, dict[str, Any]] = {
    "google.protobuf.Duration": {"type": "string", "pattern": _DURATION,
                                 "description": "A duration such as 90s, 2h30m or 7d"},
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time",
                                  "description": "An RFC 3339 time such as 2026-11-23T09:30:00Z"},
    "google.protobuf.Value": {"description": "Text, a number, true/false, a list or a map"},
    "google.protobuf.ListValue": {"type": "array"},
    "google.protobuf.Struct": {"type": "object"},
}


def _enum(enum: descriptor.EnumDescriptor) -> dict[str, Any]:
    unspecified = enum.values_by_number.get(0)
    prefix = unspecified.name[:-len("UNSPECIFIED")] if unspecified is not None else ""
    names: list[str] = []
    for value in enum.values:
        if value.number == 0:
            continue
        short = value.name[len(prefix):] if value.name.startswith(prefix) else value.name
        names += [short.lower(), value.name]
    return {"anyOf": [{"enum": names}, {"type": "integer"}]}


def _field(field: _FD, defs: dict[str, Any]) -> dict[str, Any]:
    if field.type == _FD.TYPE_MESSAGE:
        assert field.message_type is not None
        schema = _message_ref(field.message_type, defs)
    elif field.type == _FD.TYPE_ENUM:
        assert field.enum_type is not None
        name = field.enum_type.full_name
        if name not in defs:
            defs[name] = _enum(field.enum_type)
        schema = {"$ref": f"#/$defs/{name}"}
    elif field.type == _FD.TYPE_BOOL:
        schema = {"type": "boolean"}
    elif field.type in (_FD.TYPE_DOUBLE, _FD.TYPE_FLOAT):
        schema = {"type": "number"}
    elif field.type in _INTEGERS:
        schema = {"type": "integer"}
    elif field.type in _LONGS:
        schema = {"type": ["integer", "string"], "pattern": "^-?[0-9]+$"}
    else:
        schema = {"type": "string"}
    if _is_repeated(field):
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            return {"type": "object", "additionalProperties": _field(field.message_type.fields_by_name["value"], defs)}
        return {"type": "array", "items": schema}
    return schema


def _message_ref(message: descriptor.Descriptor, defs: dict[str, Any]) -> dict[str, Any]:
    name = message.full_name
    if name in _WELL_KNOWN:
        return dict(_WELL_KNOWN[name])
    if name not in defs:
        defs[name] = {}  # claimed first: messages refer to themselves (Condition)
        properties: dict[str, Any] = {}
        for field in message.fields:
            schema = _field(field, defs)
            properties[field.name] = schema
            if field.json_name != field.name:
                properties[field.json_name] = schema
        defs[name] = {"type": "object", "properties": properties, "additionalProperties": False}
    return {"$ref": f"#/$defs/{name}"}


def playbook_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a ``smarketing.v1.Playbook`` as the core reads it."""
    from smarketing.v1 import playbook_pb2

    defs: dict[str, Any] = {}
    root = _message_ref(playbook_pb2.Playbook.DESCRIPTOR, defs)  # type: ignore[arg-type]  # upb's Descriptor
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "smarketing Playbook",
        "description": "The agreement between marketing and sales (smarketing.v1.Playbook)",
        **root,
        "$defs": defs,
    }


def main(argv: list[str]) -> int:
    if len(argv) > 2:
        # At build time: the messages just generated in argv[2], not those
        # of a smarketing package already installed.
        import types
        package = types.ModuleType("smarketing")
        package.__path__ = [str(Path(argv[2]) / "smarketing")]
        sys.modules["smarketing"] = package
    text = json.dumps(playbook_schema(), indent=2, sort_keys=True) + "\n"
    if len(argv) > 1:
        Path(argv[1]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
