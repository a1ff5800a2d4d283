"""The ``filter`` of event and event type lists (events-files-api.md 1d): a JSON object in Asset Management's
style, evaluated over plain dicts.

Grammar: ``{"field": value}`` is equality; ``{"field": {"op": value}}`` with ``eq``, ``in`` (a list),
``startsWith``, ``endsWith``, ``contains`` (strings), ``before``, ``after`` (times) and ``between``
(``"[start,end)"``: a bracket includes its bound, a parenthesis excludes it); ``and`` / ``or`` take an object
(each key one condition) or a list of objects. Decisions [?]: an unknown operator, an unknown or
unfilterable field, or a value of the wrong type is a 400 naming it (the full grammar is not published).
"""

from __future__ import annotations

import json
import re

from emulator import errors, limits
from emulator.times import parse_time

STRING_OPS = ("startsWith", "endsWith", "contains")
TIME_OPS = ("before", "after", "between")
BETWEEN = re.compile(r"^\s*([\[(])\s*([^,\s]+)\s*,\s*([^,\s]+)\s*([\])])\s*$")


def parse(raw: str | None) -> dict:
    if raw is None or raw.strip() == "":
        return {}
    if len(raw) > limits.FILTER_MAX_CHARS:
        raise errors.BadRequest(f"filter is longer than {limits.FILTER_MAX_CHARS} characters")
    try:
        parsed = json.loads(raw)
    except (ValueError, RecursionError):
        raise errors.BadRequest(f"filter {raw[:200]!r} is not a JSON object") from None
    if not isinstance(parsed, dict):
        raise errors.BadRequest(f"filter {raw[:200]!r} is not a JSON object")
    _depth(parsed, 0)
    return parsed


def depth_checked(tree: dict) -> dict:
    """A filter given as a JSON value (a delete job's body), checked as ``parse`` checks a text."""
    _depth(tree, 0)
    return tree


def _depth(node, level: int) -> None:
    if level > limits.EM_FILTER_MAX_DEPTH:
        raise errors.BadRequest(f"filter nests deeper than {limits.EM_FILTER_MAX_DEPTH} levels")
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
    for child in children:
        _depth(child, level + 1)


def _parts(value, where: str) -> list[dict]:
    parts = value if isinstance(value, list) else [value]
    if not parts or not all(isinstance(p, dict) for p in parts):
        raise errors.BadRequest(f"filter: {where} takes an object or a list of objects")
    return [{k: v} for p in parts for k, v in p.items()]


def top_level(tree: dict, field: str) -> list:
    """The conditions on ``field`` at the top level or inside a top-level ``and`` (where a typeId may be)."""
    found = []
    for key, value in tree.items():
        if key == field:
            found.append(value)
        elif key == "and":
            for part in _parts(value, "and"):
                found.extend(top_level(part, field))
    return found


def mentions(tree, field: str) -> int:
    if isinstance(tree, dict):
        return sum((k == field) + mentions(v, field) for k, v in tree.items())
    if isinstance(tree, list):
        return sum(mentions(v, field) for v in tree)
    return 0


def compile_filter(tree: dict, fields: dict):
    """A predicate over a dict of values; ``fields`` maps each filterable field to its type (STRING, INTEGER,
    DOUBLE, BOOLEAN, TIMESTAMP ...; TIMESTAMP values are compared as epoch milliseconds)."""
    tests = []
    for key, value in tree.items():
        if key in ("and", "or"):
            subs = [compile_filter(part, fields) for part in _parts(value, key)]
            tests.append((lambda s: lambda row: all(t(row) for t in s))(subs) if key == "and"
                         else (lambda s: lambda row: any(t(row) for t in s))(subs))
        elif key in fields:
            tests.append(_condition(key, fields[key], value))
        else:
            raise errors.BadRequest(f"filter: field {key!r} is unknown or not filterable here")
    return lambda row: all(t(row) for t in tests)


def _value(field: str, kind: str, value, op: str):
    ok = {"STRING": str, "LINK": str, "UUID": str, "ENUM": str, "TIMESTAMP": str, "BOOLEAN": bool}.get(kind)
    if kind in ("INTEGER", "DOUBLE"):
        valid = isinstance(value, (int, float)) and not isinstance(value, bool) and (kind == "DOUBLE"
                                                                                      or float(value).is_integer())
    else:
        valid = isinstance(value, ok)
    if not valid:
        raise errors.BadRequest(f"filter: {op} of {field!r} takes a {kind.lower()} value, not {value!r}")
    return parse_time(value, f"filter {field}") if kind == "TIMESTAMP" else value


def _condition(field: str, kind: str, spec):
    if not isinstance(spec, dict):
        spec = {"eq": spec}
    tests = []
    for op, value in spec.items():
        if op == "eq":
            wanted = _value(field, kind, value, op)
            tests.append(lambda v, w=wanted: v == w)
        elif op == "in":
            if not isinstance(value, list):
                raise errors.BadRequest(f"filter: in of {field!r} takes a list")
            wanted = [_value(field, kind, v, op) for v in value]
            tests.append(lambda v, w=wanted: v in w)
        elif op in STRING_OPS and kind in ("STRING", "LINK", "UUID", "ENUM"):
            text = _value(field, kind, value, op)
            method = {"startsWith": str.startswith, "endsWith": str.endswith, "contains": str.__contains__}[op]
            tests.append(lambda v, t=text, m=method: isinstance(v, str) and m(v, t))
        elif op in TIME_OPS and kind == "TIMESTAMP":
            tests.append(_time_test(field, op, value))
        else:
            raise errors.BadRequest(f"filter: operator {op!r} does not apply to field {field!r}")
    return lambda row: all(t(row.get(field)) for t in tests)


def _time_test(field: str, op: str, value):
    if op == "between":
        match = BETWEEN.match(value) if isinstance(value, str) else None
        if match is None:
            raise errors.BadRequest(f"filter: between of {field!r} takes \"[start,end)\", not {value!r}")
        left, start, end, right = match.groups()
        lo, hi = parse_time(start, f"filter {field}"), parse_time(end, f"filter {field}")
        return lambda v: v is not None and (v >= lo if left == "[" else v > lo) and (v <= hi if right == "]"
                                                                                      else v < hi)
    bound = _value(field, "TIMESTAMP", value, op)
    return (lambda v: v is not None and v < bound) if op == "before" else (lambda v: v is not None and v > bound)

