"""Reading request bodies the same strict way in every API.

A body must carry a JSON media type (415 otherwise) and be valid, strict JSON (no NaN or
Infinity; 400 otherwise). Errors are typed, so each API answers in its own envelope.
"""

from __future__ import annotations

import orjson
from flask import request

from emulator import errors

JSON_TYPES = ("application/json",)
MERGE_PATCH_TYPES = ("application/merge-patch+json",)


def json_body(media_types: tuple[str, ...] = JSON_TYPES, required: bool = True):
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
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise errors.BadRequest(f"The request body is not valid JSON: {exc}") from None
