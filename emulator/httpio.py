"""Reading request bodies the same strict way in every API.

A body must carry a JSON media type (415 otherwise) and be valid, strict JSON (no NaN or
Infinity; 400 otherwise). Errors are typed, so each API answers in its own envelope.
"""

from __future__ import annotations

import orjson
from flask import g, request

from emulator import errors

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
        g.json_body = parsed = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise errors.BadRequest(f"The request body is not valid JSON: {exc}") from None
    return parsed


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
