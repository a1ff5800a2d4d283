"""Validation of Asset Management request bodies: names, variables, values, ETag headers.

Every refusal is a typed error with a message that names the offending property, so a developer
sees at once what MindSphere would have refused.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from emulator import errors, limits

DATA_TYPES = ("BOOLEAN", "INT", "LONG", "DOUBLE", "STRING", "TIMESTAMP", "BIG_STRING")
VARIABLE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")  # [?] pattern not published
TYPE_NAME = re.compile(r"^[A-Za-z0-9_]{1,128}$")  # [C] type ids are A-Z a-z 0-9 _ .
ASPECT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")  # [?]
RESERVED_VARIABLE_NAMES = frozenset(  # [C] mindsphere-api.md 2d
    ["id", "name", "description", "tenant", "etag", "scope", "properties", "propertysets", "extends",
     "variables", "aspects", "parenttypeid"])
INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
_ZONES: frozenset[str] | None = None


def body_object(body) -> dict:
    if not isinstance(body, dict):
        raise errors.BadRequest("The request body must be a JSON object")
    return body


def optional_str(body: dict, key: str, max_len: int, where: str = "") -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise errors.InvalidBody(f"{where}{key} must be a string")
    if len(value) > max_len:
        raise errors.InvalidBody(f"{where}{key} must be at most {max_len} characters")
    if any(ord(c) < 32 and c not in "\t\n\r" for c in value):
        raise errors.InvalidBody(f"{where}{key} must not contain control characters")
    return value


def required_str(body: dict, key: str, max_len: int, where: str = "") -> str:
    value = optional_str(body, key, max_len, where)
    if value is None or value.strip() == "":
        raise errors.MissingBodyProperty(f"{where}{key} is required")
    return value


def optional_bool(body: dict, key: str, default: bool, where: str = "") -> bool:
    value = body.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise errors.InvalidBody(f"{where}{key} must be true or false")
    return value


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
            datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
        except ValueError:
            raise errors.InvalidBody(f"{where} must be an ISO-8601 timestamp") from None
        return text
    raise errors.InvalidBody(f"{where}: unknown data type {data_type}")


def variable_definition(raw, where: str, *, category: str | None, asset_type: bool = False) -> dict:
    """One variable of an aspect type (``category`` static/dynamic) or of an asset type."""
    if not isinstance(raw, dict):
        raise errors.InvalidBody(f"{where} must be an object")
    name = required_str(raw, "name", 64, where + ".")
    if not VARIABLE_NAME.fullmatch(name):
        raise errors.InvalidBody(f"{where}.name {name!r} must start with a letter and hold letters, digits, _")
    if name.lower() in RESERVED_VARIABLE_NAMES:
        raise errors.InvalidBody(f"{where}.name {name!r} is a reserved word")
    data_type = raw.get("dataType")
    if data_type not in DATA_TYPES:
        raise errors.InvalidBody(f"{where}.dataType must be one of {', '.join(DATA_TYPES)}")
    if data_type == "BIG_STRING" and category != "dynamic":
        raise errors.InvalidBody(f"{where}: BIG_STRING is allowed in dynamic aspect types only")
    length = raw.get("length")
    if data_type in ("STRING", "BIG_STRING"):
        cap = limits.STRING_MAX_LENGTH if data_type == "STRING" else limits.BIG_STRING_MAX_LENGTH
        if length is None:
            length = cap
        if not isinstance(length, int) or isinstance(length, bool) or not 1 <= length <= cap:
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
        "unit": optional_str(raw, "unit", 32, where + "."),
        "searchable": optional_bool(raw, "searchable", False, where + "."),
        "length": length,
        "defaultValue": default,
    }
    if not asset_type:
        out["qualityCode"] = optional_bool(raw, "qualityCode", False, where + ".")
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
