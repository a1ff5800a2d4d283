"""Reading request bodies the same strict way in every API.

A body must carry a JSON media type (415 otherwise) and be valid, strict JSON (no NaN or
Infinity; 400 otherwise). Errors are typed, so each API answers in its own envelope.
"""

from __future__ import annotations

from itertools import chain

import orjson
from flask import g, request

from emulator import errors, limits

JSON_TYPES = ("application/json",)
MERGE_PATCH_TYPES = ("application/merge-patch+json",)


def json_body(media_types: tuple[str, ...] = JSON_TYPES, required: bool = True):
    """The parsed body, read once per request (the request validator reads it before the route does)."""
    parsed = g.get("json_body")
    if parsed is not None:
        return parsed
    raw = request.get_data(cache=True)
    if not raw.strip():
        if required:
            raise errors.BadRequest("The request body is missing (a JSON document is expected)")
        return None
    mimetype = request.mimetype or ""
    if mimetype not in media_types:
        raise errors.UnsupportedMediaType(
            f"Content-Type {request.content_type or '(none)'} is not supported here; use {' or '.join(media_types)}")
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise errors.BadRequest(f"The request body is not valid JSON: {exc}") from None
    if nesting(parsed) > limits.MAX_JSON_DEPTH:
        raise errors.BadRequest(f"The request body is nested deeper than {limits.MAX_JSON_DEPTH} levels")
    g.json_body = parsed
    return parsed


def nesting(value, stop: int = limits.MAX_JSON_DEPTH + 1) -> int:
    """How deeply a parsed JSON value nests (counted up to ``stop``): what is stored must be written out again
    (orjson stops at 255 levels) and readers recurse. Level by level, descending only into containers: a fraction
    of a millisecond for a 1000-record time series body."""
    if stop >= 2 and type(value) is list and set(map(type, value)) == {dict}:  # objects (records): C loops
        members = set(map(type, chain.from_iterable(map(dict.values, value))))
        if dict not in members and list not in members:
            return 2
    level = [value] if type(value) is dict or type(value) is list else []
    depth = 0
    while level and depth < stop:
        depth += 1
        level = [c for node in level for c in (node.values() if type(node) is dict else node)
                 if type(c) is dict or type(c) is list]
    return depth


def json_object(*, required: bool = False) -> dict:
    """A body that must be a JSON object (the control plane's and the dashboard's): another media type answers
    415 even when the body is empty (an empty cross-site form post is not a request to act on), no body means
    ``{}`` unless ``required``."""
    if request.content_type and (request.mimetype or "") not in JSON_TYPES:
        raise errors.UnsupportedMediaType(
            f"Content-Type {request.content_type} is not supported here; use application/json")
    body = json_body(required=required)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise errors.BadRequest("The request body must be a JSON object")
    return body


def int_arg(name: str) -> int | None:
    """An integer query parameter, or None when absent or empty; its form is checked by the operation's contract
    (spec.py) before the route runs."""
    value = request.args.get(name)
    return int(value) if value not in (None, "") else None
