"""Asset Management's JSON filter language, translated to SQL (mindsphere-api.md 2c).

``filter`` is URL-encoded JSON. A top-level object ANDs its keys; each key is a field, ``and``,
``or``, ``not`` or ``hasType``. A field's value is a literal (implicit ``eq``; ``null`` is
IS NULL) or an object of operators: ``eq``, ``in`` (``{"value": [...]}``), ``startsWith``,
``endsWith``, ``contains``, ``before``, ``after``, ``between`` (``"[a, b)"``), and field-level
``and``/``or``/``not``. Unknown fields are ignored, as on MindSphere; a malformed document or a
wrong operator shape is a :class:`~emulator.errors.BadRequest` (``invalidParameter``).

Decisions [?]: string comparisons are case-sensitive; ``before`` and ``after`` are strict; a
condition on a null field is false except ``eq null`` (and its negation).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import and_, false, not_, or_, true
from sqlalchemy.sql.elements import ColumnElement

from emulator import errors, limits, times

MAX_DEPTH = 32
STRING_OPS = ("startsWith", "endsWith", "contains")
TIME_OPS = ("before", "after", "between")
BETWEEN = re.compile(r"^\s*([\[(])\s*([^,\s][^,]*?)\s*,\s*([^,\s][^,]*?)\s*([\])])\s*$")


@dataclass(frozen=True)
class Field:
    """A filterable field: its column and its kind (``str``, ``bool``, ``time``: epoch seconds)."""

    column: object
    kind: str = "str"


def bad(message: str) -> errors.BadRequest:
    return errors.BadRequest(f"Invalid filter: {message}")


def parse(raw: str | None) -> dict | None:
    if raw is None or raw.strip() == "":
        return None
    if len(raw) > limits.FILTER_MAX_CHARS:
        raise bad(f"longer than {limits.FILTER_MAX_CHARS} characters")
    try:
        doc = json.loads(raw, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise bad("not valid JSON") from None
    if not isinstance(doc, dict):
        raise bad("must be a JSON object")
    return doc


def _no_constant(name):
    raise ValueError(name)


def to_sql(doc: dict | None, fields: dict[str, Field],
           has_type: Callable[[str], list[str]] | None = None) -> ColumnElement:
    """The SQL condition of a parsed filter over ``fields``; ``has_type(id)`` lists a type and its subtypes."""
    if doc is None:
        return true()
    return _Translator(fields, has_type).document(doc, 0)


class _Translator:
    def __init__(self, fields, has_type):
        self.fields = fields
        self.has_type = has_type

    def document(self, doc, depth: int) -> ColumnElement:
        self._depth(depth)
        if not isinstance(doc, dict):
            raise bad("a condition must be a JSON object")
        return and_(true(), *[self.entry(key, value, depth + 1) for key, value in doc.items()])

    def entry(self, key: str, value, depth: int) -> ColumnElement:
        if key == "and":
            return and_(true(), *self._parts(value, depth))
        if key == "or":
            return or_(false(), *self._parts(value, depth))
        if key == "not":
            return not_(self.document(value, depth))
        if key == "hasType":
            return self._has_type(value)
        field = self.fields.get(key)
        if field is None:
            self._validate_shape(value, depth)  # ignored, but it must still be well-formed
            return true()
        return self.condition(field, value, depth)

    def _parts(self, value, depth) -> list[ColumnElement]:
        if isinstance(value, dict):
            return [self.entry(k, v, depth + 1) for k, v in value.items()]
        if isinstance(value, list):
            return [self.document(item, depth + 1) for item in value]
        raise bad("'and' and 'or' take an object or an array of objects")

    def _has_type(self, value) -> ColumnElement:
        if not isinstance(value, str):
            raise bad("'hasType' takes a type id string")
        type_field = self.fields.get("typeId")
        if type_field is None or self.has_type is None:
            return true()
        return type_field.column.in_(self.has_type(value))

    def condition(self, field: Field, value, depth: int) -> ColumnElement:
        self._depth(depth)
        if not isinstance(value, dict):
            return self._eq(field, value)
        parts = []
        for op, arg in value.items():
            if op == "eq":
                parts.append(self._eq(field, arg))
            elif op == "in":
                parts.append(self._in(field, arg))
            elif op in STRING_OPS:
                parts.append(self._like(field, op, arg))
            elif op in TIME_OPS:
                parts.append(self._time(field, op, arg))
            elif op == "not":
                parts.append(not_(self.condition(field, arg, depth + 1)))
            elif op in ("and", "or"):
                if not isinstance(arg, list):
                    raise bad(f"field-level '{op}' takes an array of conditions")
                inner = [self.condition(field, item, depth + 1) for item in arg]
                parts.append(and_(true(), *inner) if op == "and" else or_(false(), *inner))
            else:
                raise bad(f"unknown operator {op!r}")
        if not parts:
            raise bad("an empty operator object")
        return and_(*parts) if len(parts) > 1 else parts[0]

    def _literal(self, field: Field, value):
        if value is None:
            return None
        if field.kind == "bool":
            if not isinstance(value, bool):
                if value in ("true", "false"):
                    return value == "true"
                raise bad("expected true or false")
            return value
        if field.kind == "time":
            return parse_time(value)
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise bad("expected a string")
        return str(value)

    def _eq(self, field: Field, value) -> ColumnElement:
        literal = self._literal(field, value)
        return field.column.is_(None) if literal is None else _known(field, field.column == literal)

    def _in(self, field: Field, arg) -> ColumnElement:
        if not isinstance(arg, dict) or set(arg) != {"value"} or not isinstance(arg["value"], list):
            raise bad("'in' takes {\"value\": [...]}")
        values = [self._literal(field, v) for v in arg["value"]]
        present = [v for v in values if v is not None]
        cond = _known(field, field.column.in_(present)) if present else false()
        return or_(cond, field.column.is_(None)) if None in values else cond

    def _like(self, field: Field, op: str, arg) -> ColumnElement:
        if not isinstance(arg, str):
            raise bad(f"'{op}' takes a string")
        if field.kind != "str":
            raise bad(f"'{op}' applies to text fields only")
        escaped = arg.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = {"startsWith": f"{escaped}%", "endsWith": f"%{escaped}", "contains": f"%{escaped}%"}[op]
        return _known(field, field.column.like(pattern, escape="\\"))

    def _time(self, field: Field, op: str, arg) -> ColumnElement:
        if not isinstance(arg, str):
            raise bad(f"'{op}' takes a timestamp string")
        if field.kind != "time":
            raise bad(f"'{op}' applies to timestamp fields only")
        if op == "before":
            return _known(field, field.column < parse_time(arg))
        if op == "after":
            return _known(field, field.column > parse_time(arg))
        match = BETWEEN.match(arg)
        if not match:
            raise bad("'between' takes \"[from, to)\" with [ or ( and ] or )")
        low, high = parse_time(match.group(2)), parse_time(match.group(3))
        lower = field.column >= low if match.group(1) == "[" else field.column > low
        upper = field.column <= high if match.group(4) == "]" else field.column < high
        return _known(field, and_(lower, upper))

    def _validate_shape(self, value, depth: int) -> None:
        self._depth(depth)
        if isinstance(value, dict):
            for v in value.values():
                self._validate_shape(v, depth + 1)
        elif isinstance(value, list):
            for v in value:
                self._validate_shape(v, depth + 1)

    @staticmethod
    def _depth(depth: int) -> None:
        if depth > MAX_DEPTH:
            raise bad(f"nested deeper than {MAX_DEPTH} levels")


def _known(field: Field, cond) -> ColumnElement:
    """Two-valued logic: a comparison with a null field is false, never SQL's unknown, so that
    ``not`` is the exact complement of its condition."""
    return and_(field.column.isnot(None), cond)


def parse_time(value) -> float:
    """Epoch seconds of an ISO-8601 timestamp such as ``2018-01-01T00:00:00.00Z``: read as every other
    time of the emulator is (``emulator.times.parse_time``), refused in the filter's own words."""
    try:
        return times.parse_time(value, "timestamp") / 1000
    except errors.BadRequest as exc:
        raise bad(exc.message) from None
