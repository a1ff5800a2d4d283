"""IoT File Service v3's HTTP routes under ``/api/iotfile/v3``: thin views over ``service``; errors in the
core envelope."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from emulator import context, errors, limits
from emulator.assets.validation import if_match
from emulator.iotfiles import service
from emulator.runtime import runtime
from emulator.times import parse_time

bp = Blueprint("iotfiles", __name__, url_prefix="/api/iotfile/v3")


def _header(name: str) -> str | None:
    value = request.headers.get(name)
    if value is not None and (len(value) > limits.IOTFILE_HEADER_MAX or "\x00" in value):
        raise errors.BadRequest(f"Header {name} is longer than {limits.IOTFILE_HEADER_MAX} characters")
    return value


@bp.put("/files/<entity_id>/<path:filepath>")
def put_file(entity_id: str, filepath: str):
    """A single upload, or a step of a multipart one (``?upload=start|complete|abort``, ``?part=N``)."""
    raw = _header("If-Match") or _header("ifMatch")  # the SDK's raw PutFile copies its ifMatch param as a header
    expected = if_match(raw) if raw is not None else None
    timestamp = _header("timestamp") or _header("timeStamp")  # the SDK's multipart start sends timeStamp
    if timestamp is not None:
        parse_time(timestamp, "timestamp header")
    meta = {"type": _header("type"), "description": _header("description"), "timestamp": timestamp}
    who = (context.state().claims or {}).get("client_id") or "unknown"
    scope, now = context.scope(), runtime().clock.time()
    mode, part = request.args.get("upload"), request.args.get("part")
    if mode is not None and part is not None:
        raise errors.BadRequest("Send either upload or part, not both")
    if mode == "start":
        service.start(scope, entity_id, filepath, meta, expected, now)
        return Response(status=200)
    if mode == "abort":
        service.abort(scope, entity_id, filepath)
        return Response(status=200)
    if part is not None:
        service.put_part(scope, entity_id, filepath, int(part), request.get_data(cache=False), now)
        return Response(status=200)
    if mode == "complete":
        etag, created = service.complete(scope, entity_id, filepath, request.get_data(cache=False), expected, who,
                                         now)
    else:
        etag, created = service.put(scope, entity_id, filepath, request.get_data(cache=False), meta, expected, who,
                                    now)
    resp = Response(status=201 if created else 200)
    resp.headers["ETag"] = str(etag)  # a bare integer: the SDK parseInt()s it
    return resp


@bp.get("/fileslist/<entity_id>/<path:filepath>")
def list_parts(entity_id: str, filepath: str):
    return jsonify(service.uploaded_parts(context.scope(), entity_id, filepath))


@bp.get("/files/<entity_id>/<path:filepath>")
def get_file(entity_id: str, filepath: str):
    row = service.get(context.scope(), entity_id, filepath)
    content = bytes(row["content"])
    status, headers = 200, {"ETag": str(row["etag"])}
    wanted = request.headers.get("Range")
    if wanted is not None:
        lo, hi = service.byte_range(wanted, len(content))
        content, status = content[lo:hi + 1], 206
        headers["Content-Range"] = f"bytes {lo}-{hi}/{len(row['content'])}"
    return Response(content, status=status, mimetype=row["type"], headers=headers)


@bp.delete("/files/<entity_id>/<path:filepath>")
def delete_file(entity_id: str, filepath: str):
    service.delete(context.scope(), entity_id, filepath)
    return "", 204


@bp.get("/files/<entity_id>")
def search_files(entity_id: str):
    args = request.args
    offset = int(args.get("offset") or 0)
    limit = int(args.get("limit") or limits.IOTFILE_MAX_LIMIT)
    found, total = service.search(context.scope(), entity_id, args.get("filter"), args.get("order"), offset, limit)
    resp = jsonify(found)
    if (args.get("count") or "").strip().lower() == "true":
        resp.headers["count"] = str(total)
    return resp
