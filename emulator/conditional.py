"""Conditional GETs: ``If-None-Match`` against the ``ETag`` a response carries (RFC 9110 13.1.2), answered
304 Not Modified without a body when one of the listed tags matches.

Why its own module: the Node SDK passes ``If-None-Match`` on Event Management's reads (events-files-api.md
1a) and will pass it wherever a client caches; any API that serves ETags wraps its 200 here. Comparison is
weak (``W/"3"`` matches ``"3"``) as RFC 9110 asks for If-None-Match, and a tag may come unquoted (the SDK sends
the etag number as the caller gave it: ``3``). ``*`` matches any current representation.
"""

from __future__ import annotations

import hashlib

from flask import Response, request


def _bare(tag: str) -> str:
    tag = tag.strip()
    if tag[:2] in ("W/", "w/"):
        tag = tag[2:]
    return tag.strip().strip('"')


def matches(header: str | None, etag: str) -> bool:
    """Whether ``If-None-Match: header`` names ``etag`` (a response's ETag header value)."""
    if header is None or not header.strip():
        return False
    if header.strip() == "*":
        return True
    current = _bare(etag)
    return any(_bare(tag) == current for tag in header.split(",") if tag.strip())


def body_etag(resp: Response) -> str:
    """A strong ETag for a response without one of its own (a list): a hash of its body, quoted."""
    return '"' + hashlib.sha256(resp.get_data()).hexdigest()[:32] + '"'


def answer(resp: Response) -> Response:
    """``resp`` (a 200 of a GET) with its ETag (a body hash when it has none), or 304 with that ETag and no body
    when the request's If-None-Match names it."""
    etag = resp.headers.get("ETag") or body_etag(resp)
    resp.headers["ETag"] = etag
    if request.method in ("GET", "HEAD") and resp.status_code == 200 and matches(request.headers.get("If-None-Match"),
                                                                               etag):
        out = Response(status=304)
        out.headers["ETag"] = etag
        return out
    return resp
