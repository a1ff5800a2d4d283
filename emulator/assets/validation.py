"""Asset Management's rules a schema cannot state: a value of its variable's data type, a variable's length
and default for its data type and category, reserved and repeated names, time zones, type ids and ETag headers.

The structure of the bodies (types, required properties, names, lengths, enums) is the contract's
(``spec.py``), checked before a route runs (:mod:`emulator.validation`); what reaches these functions has
that structure. Every refusal is a typed error with a message that names the offending property, so a
developer sees at once what MindSphere would have refused.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from emulator import errors, limits

DATA_TYPES = ("BOOLEAN", "INT", "LONG", "DOUBLE", "STRING", "TIMESTAMP", "BIG_STRING")
TYPE_NAME = re.compile(limits.TYPE_NAME_PATTERN)
RESERVED_VARIABLE_NAMES = frozenset(  # [C] mindsphere-api.md 2d
    ["id", "name", "description", "tenant", "etag", "scope", "properties", "propertysets", "extends",
     "variables", "aspects", "parenttypeid"])
INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
_ZONES: frozenset[str] | None = None


def flag(body: dict, key: str, default: bool) -> bool:
    """An optional boolean of a checked body: absent or null means ``default``."""
    value = body.get(key)
    return default if value is None else value


def type_id(tenant: str, raw: str, what: str) -> str:
    """``{tenant}.{Name}``: the tenant prefix, then letters, digits and underscores, at most 128 in all."""
    prefix = tenant + "."
    if not raw.startswith(prefix) or not TYPE_NAME.fullmatch(raw[len(prefix):]) or len(raw) > 128:
        raise errors.BadRequest(
            f"The {what} id {raw!r} must be '{prefix}<Name>' with letters, digits and underscores, at most 128 "
            "characters in all")
    return raw


def timezone(value) -> str:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones())
    if not isinstance(value, str) or value not in _ZONES:
        raise errors.InvalidBody(f"timezone {value!r} is not an IANA time zone name (e.g. Europe/Berlin)")
    try:
        offset = datetime(2024, 1, 15, tzinfo=ZoneInfo(value)).utcoffset()
    except ZoneInfoNotFoundError:
        raise errors.InvalidBody(f"timezone {value!r} is not an IANA time zone name") from None
    if offset is not None and (offset.total_seconds() // 60) % 60 in (15, 45):
        raise errors.InvalidBody(f"timezone {value!r}: zones at :15 or :45 offsets are not supported")
    return value


def value_of_type(data_type: str, value, length: int | None, where: str):
    """A static value is sent as a string (or a JSON scalar); it must parse as its data type."""
    if value is None:
        return None
    text = value if isinstance(value, str) else None
    if data_type in ("STRING", "BIG_STRING"):
        if not isinstance(value, str):
            raise errors.InvalidBody(f"{where} must be a string")
        cap = length or (255 if data_type == "STRING" else 100000)
        if len(value) > cap:
            raise errors.InvalidBody(f"{where} is longer than {cap} characters")
        return value
    if data_type == "BOOLEAN":
        if isinstance(value, bool):
            return "true" if value else "false"
        if text in ("true", "false"):
            return text
        raise errors.InvalidBody(f"{where} must be true or false")
    if data_type in ("INT", "LONG"):
        low, high = INT32 if data_type == "INT" else INT64
        try:
            number = int(text) if text is not None and re.fullmatch(r"[+-]?\d+", text) else None
        except ValueError:
            number = None
        if number is None and isinstance(value, int) and not isinstance(value, bool):
            number = value
        if number is None or not low <= number <= high:
            raise errors.InvalidBody(f"{where} must be an integer between {low} and {high}")
        return str(number)
    if data_type == "DOUBLE":
        try:
            number = float(text) if text is not None else (float(value) if isinstance(value, int | float)
                                                          and not isinstance(value, bool) else None)
        except ValueError:
            number = None
        if number is None or number != number or number in (float("inf"), float("-inf")):
            raise errors.InvalidBody(f"{where} must be a finite number")
        return text if text is not None else repr(value)
    if data_type == "TIMESTAMP":
        if text is None:
            raise errors.InvalidBody(f"{where} must be an ISO-8601 timestamp")
        try:
            # RFC 3339 5.6 lets T and Z be lower case; java.time's ISO formatters parse case-insensitively, and the
            # time series API here takes them too (README, fidelity notes). Python 3.11 reads a trailing Z itself.
            datetime.fromisoformat(text.upper())
        except ValueError:
            raise errors.InvalidBody(f"{where} must be an ISO-8601 timestamp") from None
        return text
    raise errors.InvalidBody(f"{where}: unknown data type {data_type}")


def variable_definition(raw: dict, where: str, *, category: str | None, asset_type: bool = False) -> dict:
    """One variable of an aspect type (``category`` static/dynamic) or of an asset type (its shape checked)."""
    name = raw["name"]
    if name.lower() in RESERVED_VARIABLE_NAMES:
        raise errors.InvalidBody(f"{where}.name {name!r} is a reserved word")
    data_type = raw["dataType"]
    if data_type == "BIG_STRING" and category != "dynamic":
        raise errors.InvalidBody(f"{where}: BIG_STRING is allowed in dynamic aspect types only")
    length = raw.get("length")
    if data_type in ("STRING", "BIG_STRING"):
        cap = limits.STRING_MAX_LENGTH if data_type == "STRING" else limits.BIG_STRING_MAX_LENGTH
        if length is None:
            length = cap
        if length > cap:  # the contract bounds every length by BIG_STRING's; a STRING's is shorter
            raise errors.InvalidBody(f"{where}.length of a {data_type} must be between 1 and {cap}")
    elif length is not None:
        raise errors.InvalidBody(f"{where}.length is allowed for STRING and BIG_STRING only")
    default = raw.get("defaultValue")
    if default is not None and category == "dynamic":
        raise errors.InvalidBody(f"{where}.defaultValue is allowed for static aspect variables only")
    default = value_of_type(data_type, default, length, f"{where}.defaultValue")
    out = {
        "name": name,
        "dataType": data_type,
        "unit": raw.get("unit"),
        "searchable": flag(raw, "searchable", False),
        "length": length,
        "defaultValue": default,
    }
    if not asset_type:
        out["qualityCode"] = flag(raw, "qualityCode", False)
    return out


def unique_names(items: list[dict], what: str) -> None:
    seen = set()
    for item in items:
        key = item["name"].lower()
        if key in seen:
            raise errors.InvalidBody(f"{what} name {item['name']!r} appears twice")
        seen.add(key)


def if_match(header: str | None) -> int:
    """The etag of ``If-Match: 3`` or ``If-Match: "3"``; a missing header is a 400 (decided, see README)."""
    if header is None or header.strip() == "":
        raise errors.MissingParameter("The If-Match header is required for this change (the resource's etag)")
    text = header.strip()
    if text.startswith("W/"):
        text = text[2:]
    text = text.strip('"')
    if not re.fullmatch(r"\d{1,10}", text):
        raise errors.BadRequest(f"If-Match {header!r} is not an etag (an integer such as 3 or \"3\")")
    return int(text)
