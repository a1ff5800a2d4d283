"""The exchange endpoint's body: ``multipart/mixed`` of tuples, each a nested ``multipart/related`` of a meta part
and a payload part (mindconnect-api.md 4b).

Why a parser of our own: the two real senders differ (the Node SDK writes LF line ends, no space after
``Content-Type:`` and one CRLF before the inner closing delimiter; MCL writes CRLF, a space, a ``charset``
parameter and random boundaries), and both must parse, while anything else malformed must be refused with a 400
that says where. The standard library's ``email`` parser is lenient by design (it repairs what it cannot read),
so it could not refuse. Nothing here knows of agents or time series: bytes in, :class:`Tuple` values out; and
:func:`build`, the bytes each sender writes (the simulated pumps feeding as agents and the Python agent client
send them).
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass

import orjson

from emulator import errors

META_TYPE = "application/vnd.siemens.mindsphere.meta+json"
_LINE_END = re.compile(rb"\r?\n")
_HEADER = re.compile(rb"^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$")
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+/[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_BOUNDARY = re.compile(r"^[0-9A-Za-z'()+_,./:=? -]{0,69}[0-9A-Za-z'()+_,./:=?-]$")  # RFC 2046 5.1.1


@dataclass(frozen=True)
class Part:
    headers: dict[str, str]  # lower-case names
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


@dataclass(frozen=True)
class Tuple:
    """One item of an exchange: its meta JSON and its payload part."""

    meta: dict
    payload_type: str  # the payload part's media type
    payload: bytes


def media_type(value: str) -> tuple[str, dict[str, str]]:
    """``type/subtype; a=b; c="d"`` -> (``type/subtype`` lower-cased, parameters with lower-case names)."""
    head, *params = value.split(";")
    media = head.strip().lower()
    out: dict[str, str] = {}
    for param in params:
        name, sep, val = param.partition("=")
        if not sep or not name.strip():
            if param.strip():
                raise errors.BadRequest(f"Content-Type parameter {param.strip()!r} is not name=value")
            continue
        val = val.strip()
        if len(val) >= 2 and val[0] == val[-1] == '"':
            val = val[1:-1]
        out[name.strip().lower()] = val
    return media, out


def boundary_of(content_type: str, expected: str, where: str) -> str:
    media, params = media_type(content_type)
    if media != expected:
        raise errors.BadRequest(f"{where} must be {expected}, not {media or '(none)'}")
    boundary = params.get("boundary", "")
    if not _BOUNDARY.fullmatch(boundary):
        raise errors.BadRequest(f"{where} has no valid boundary parameter")
    return boundary


def split(body: bytes, boundary: str, where: str) -> list[Part]:
    """The parts between ``--boundary`` lines up to ``--boundary--``: LF or CRLF, whitespace after a delimiter and
    a preamble of blank lines allowed; no part, no closing delimiter, or text after it refused. A delimiter is
    found with ``bytes.find`` (a regular expression trying every position of a 10 MB body costs more than the
    rest of the exchange) and checked to start a line and end one."""
    delimiter = b"--" + boundary.encode("ascii")
    bounds: list[tuple[int, int, bool]] = []  # (start incl. the line break before it, end after its line, closing)
    pos = 0
    while True:
        at = body.find(delimiter, pos)
        if at < 0:
            break
        pos = at + len(delimiter)
        if at > 0 and body[at - 1:at] != b"\n":
            continue  # inside a line: not a delimiter
        closing = body[pos:pos + 2] == b"--"
        end = pos + 2 if closing else pos
        line_end = body.find(b"\n", end)
        rest = body[end:line_end if line_end >= 0 else len(body)]
        if rest.strip(b" \t\r"):
            continue  # the boundary is the start of a longer line: not a delimiter
        start = at - (2 if body[at - 2:at] == b"\r\n" else 1) if at > 0 else 0
        bounds.append((start, line_end + 1 if line_end >= 0 else len(body), closing))
        pos = bounds[-1][1]
        if closing:
            break
    if not bounds:
        raise errors.BadRequest(f"{where}: no delimiter --{boundary} found")
    if body[:bounds[0][0]].strip():
        raise errors.BadRequest(f"{where}: text before the first delimiter")
    if not bounds[-1][2]:
        raise errors.BadRequest(f"{where}: the closing delimiter --{boundary}-- is missing")
    if body[bounds[-1][1]:].strip():
        raise errors.BadRequest(f"{where}: text after the closing delimiter")
    if len(bounds) == 1:
        raise errors.BadRequest(f"{where}: a multipart body without parts")
    return [_part(body[bounds[i][1]:bounds[i + 1][0]], where) for i in range(len(bounds) - 1)]


def _part(raw: bytes, where: str) -> Part:
    headers: dict[str, str] = {}
    pos = 0
    while True:
        end = _LINE_END.search(raw, pos)
        if end is None:
            raise errors.BadRequest(f"{where}: a part's headers are not ended by an empty line")
        line = raw[pos:end.start()]
        pos = end.end()
        if not line:
            break
        match = _HEADER.match(line)
        if match is None:
            raise errors.BadRequest(f"{where}: malformed part header {line[:80].decode('latin-1')!r}")
        headers[match.group(1).decode("ascii").lower()] = match.group(2).decode("latin-1")
    return Part(headers, raw[pos:])


def parse(body: bytes, content_type: str) -> list[Tuple]:
    """The exchange body's tuples, in order; any deviation from the structure is a 400 (415 for a body that is
    not multipart/mixed at all)."""
    media, _ = media_type(content_type or "")
    if media != "multipart/mixed":
        raise errors.UnsupportedMediaType(
            f"Content-Type {content_type or '(none)'} is not supported here; use multipart/mixed with a boundary")
    outer = split(body, boundary_of(content_type, "multipart/mixed", "Content-Type"), "the exchange body")
    tuples = []
    for n, part in enumerate(outer, 1):
        where = f"tuple {n}"
        inner = split(part.body, boundary_of(part.content_type, "multipart/related", f"{where}'s Content-Type"),
                      where)
        if len(inner) != 2:
            raise errors.BadRequest(f"{where} must hold two parts (meta and payload), not {len(inner)}")
        meta_part, payload = inner
        if media_type(meta_part.content_type)[0] != META_TYPE:
            raise errors.BadRequest(f"{where}: the first part's Content-Type must be {META_TYPE}")
        payload_type = media_type(payload.content_type)[0]
        if not _TOKEN.fullmatch(payload_type):
            raise errors.BadRequest(f"{where}: the payload part has no valid Content-Type")
        tuples.append(Tuple(_meta(meta_part.body, where), payload_type, payload.body))
    return tuples


def _meta(raw: bytes, where: str) -> dict:
    try:
        meta = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise errors.BadRequest(f"{where}: the meta part is not JSON") from None
    payload = meta.get("payload") if isinstance(meta, dict) else None
    if not isinstance(payload, dict) or meta.get("type") != "item" or not isinstance(payload.get("type"), str):
        raise errors.BadRequest(f'{where}: the meta part must be {{"type": "item", "version": ..., '
                                f'"payload": {{"type": ..., "version": ..., "details": ...}}}}')
    if not isinstance(payload.get("details", {}), dict | type(None)):
        raise errors.BadRequest(f"{where}: the meta part's payload.details must be an object")
    return meta


def json_payload(item: Tuple, where: str):
    if item.payload_type != "application/json":
        raise errors.BadRequest(f"{where}: the payload's Content-Type must be application/json, "
                                f"not {item.payload_type}")
    try:
        return orjson.loads(item.payload)
    except orjson.JSONDecodeError:
        raise errors.BadRequest(f"{where}: the payload is not JSON") from None


def value_text(value) -> str:
    """A value as an exchange carries it: every value is a string (``true``/``false`` for a boolean)."""
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def build(samples: list[dict], configuration_id: str, style: str = "node") -> tuple[bytes, str]:
    """(body, Content-Type) of one ``standardTimeSeries`` item as a sender writes it: ``samples`` are
    ``[{"timestamp", "values": [{"dataPointId", "value", "qualityCode"}]}]`` (one: PostData; several:
    BulkPostData). ``node``: the Node SDK's ``dataTemplate``/``bulkDataTemplate`` byte for byte (LF line ends, no
    space after ``Content-Type:``, a CRLF before the inner closing delimiter); ``mcl``: the C library's (CRLF,
    random 20-character boundaries, a ``charset``), mindconnect-api.md 4b."""
    meta = {"type": "item", "version": "1.0", "payload": {"type": "standardTimeSeries", "version": "1.0",
                                                          "details": {"configurationId": configuration_id}}}
    payload = json.dumps(samples, separators=(",", ":"))
    if style == "node":
        body = ("--mindspheremessage\nContent-Type:multipart/related;boundary=mindspherepart\n\n"
                f"--mindspherepart\nContent-Type:{META_TYPE}\n\n{json.dumps(meta, indent=4)}\n\n"
                f"--mindspherepart\nContent-Type:application/json\n\n{payload}\n\n"
                "\r\n--mindspherepart--\n--mindspheremessage--\n")
        return body.encode(), "multipart/mixed; boundary=mindspheremessage"
    outer, inner = secrets.token_hex(10), secrets.token_hex(10)
    body = (f"--{outer}\r\nContent-Type: multipart/related;boundary={inner}\r\n\r\n"
            f"--{inner}\r\nContent-Type: {META_TYPE}\r\n\r\n{json.dumps(meta)}\r\n"
            f"--{inner}\r\nContent-Type: application/json\r\n\r\n{payload}\r\n--{inner}--\r\n--{outer}--\r\n")
    return body.encode(), f"multipart/mixed;boundary={outer};charset=utf-8"
