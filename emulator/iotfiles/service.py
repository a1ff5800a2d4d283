"""IoT File Service v3 (events-files-api.md 2): files of an entity (an asset of the tenant) under a path,
single uploads with integer etags, downloads, deletes and the search. Plain values in and out over the
tenant's scope (no Flask here).

Decisions [?] (README, fidelity notes): an entity that is not an asset of the tenant answers 404 naming it;
overwriting a file needs ``If-Match`` (or the SDK's raw ``ifMatch`` header) with its etag: missing 409, stale
412; a new file answers 201, an overwrite 200; a path segment ``.``/``..`` or an empty segment is a 400.
"""

from __future__ import annotations

import re
import uuid

from emulator import errors, limits
from emulator.assets.models import assets
from emulator.iotfiles.models import files, parts, uploads
from emulator.store import TenantScope
from emulator.times import iso

FILTER_OPS = {"eq": "eq", "=": "eq", "gt": "gt", ">": "gt", "gte": "ge", ">=": "ge", "lt": "lt", "<": "lt",
              "lte": "le", "<=": "le"}  # [C] FFL
CONDITION = re.compile(r"^\s*(name|path|updated)\s*(eq|gte|gt|lte|lt|>=|<=|=|>|<)\s*(.+?)\s*$")
ORDERS = ("name", "path", "updated")  # [C] FFL


def split(filepath: str) -> tuple[str, str]:
    """(directory with a trailing slash, or "" at the root; basename) of a file path."""
    if len(filepath) > limits.IOTFILE_PATH_MAX:
        raise errors.BadRequest(f"The file path is longer than {limits.IOTFILE_PATH_MAX} characters")
    parts = filepath.split("/")
    if any(p in ("", ".", "..") for p in parts) or "\x00" in filepath:
        raise errors.BadRequest(f"File path {filepath!r} has an empty, '.' or '..' segment")
    return "".join(p + "/" for p in parts[:-1]), parts[-1]


def _entity(scope: TenantScope, entity_id: str) -> None:
    if scope.get(assets, entity_id) is None:
        raise errors.NotFound(f"Entity {entity_id!r} is not an asset of the tenant")


def _find(scope: TenantScope, entity_id: str, filepath: str):
    path, name = split(filepath)
    rows = scope.all(scope.select(files).where(files.c.asset_id == entity_id, files.c.path == path,
                                               files.c.name == name))
    return (rows[0] if rows else None), path, name


def get(scope: TenantScope, entity_id: str, filepath: str):
    _entity(scope, entity_id)
    row, _, _ = _find(scope, entity_id, filepath)
    if row is None:
        raise errors.NotFound(f"File {filepath!r} of entity {entity_id!r} not found")
    return row


def put(scope: TenantScope, entity_id: str, filepath: str, content: bytes, meta: dict, if_match: int | None,
        who: str, now: float) -> tuple[int, bool]:
    """Store the file (a single upload); (its etag, whether it is new)."""
    _entity(scope, entity_id)
    if len(content) > limits.IOTFILE_MAX_BYTES:
        raise errors.PayloadTooLarge(f"A single upload holds at most {limits.IOTFILE_MAX_BYTES} bytes; "
                                     "use a multipart upload")
    return _store(scope, entity_id, filepath, content, meta, if_match, who, now)


def _expect(row, filepath: str, entity_id: str, if_match: int | None) -> None:
    if row is None:
        return
    if if_match is None:
        raise errors.Conflict(f"File {filepath!r} of entity {entity_id!r} exists: send If-Match with its etag "
                              f"({row['etag']}) to overwrite it")
    if if_match != row["etag"]:
        raise errors.PreconditionFailed(f"File {filepath!r} was changed by someone else: If-Match {if_match} but "
                                        f"its etag is {row['etag']}")


def _store(scope: TenantScope, entity_id: str, filepath: str, content: bytes, meta: dict, if_match: int | None,
           who: str, now: float) -> tuple[int, bool]:
    row, path, name = _find(scope, entity_id, filepath)
    values = {"content": content, "type": meta.get("type") or "application/octet-stream",
              "description": meta.get("description"), "timestamp": meta.get("timestamp") or iso(int(now * 1000)),
              "updated": now, "updated_by": who}
    if row is None:
        scope.insert(files, file_id=uuid.uuid4().hex, asset_id=entity_id, path=path, name=name, created=now,
                     created_by=who, etag=0, **values)
        return 0, True
    _expect(row, filepath, entity_id, if_match)
    if scope.update(files, files.c.file_id == row["file_id"], files.c.etag == if_match, etag=if_match + 1,
                    **values) != 1:
        raise errors.PreconditionFailed(f"File {filepath!r} was changed by someone else")
    return if_match + 1, False


# --- multipart uploads (events-files-api.md 2c) -----------------------------------------------------------

def _upload(scope: TenantScope, entity_id: str, filepath: str):
    path, name = split(filepath)
    rows = scope.all(scope.select(uploads).where(uploads.c.asset_id == entity_id, uploads.c.path == path,
                                                 uploads.c.name == name))
    if not rows:
        raise errors.BadRequest(f"No multipart upload of {filepath!r} was started (PUT ?upload=start first)")
    return rows[0]


def _drop(scope: TenantScope, upload_id: str) -> None:
    scope.delete(parts, parts.c.upload_id == upload_id)
    scope.delete(uploads, uploads.c.upload_id == upload_id)


def start(scope: TenantScope, entity_id: str, filepath: str, meta: dict, if_match: int | None, now: float) -> None:
    """Begin (or begin again: the earlier parts go) a multipart upload; an existing file needs its etag now."""
    _entity(scope, entity_id)
    row, path, name = _find(scope, entity_id, filepath)
    _expect(row, filepath, entity_id, if_match)
    for old in scope.all(scope.select(uploads).where(uploads.c.asset_id == entity_id, uploads.c.path == path,
                                                     uploads.c.name == name)):
        _drop(scope, old["upload_id"])
    scope.insert(uploads, upload_id=uuid.uuid4().hex, asset_id=entity_id, path=path, name=name,
                 type=meta.get("type") or "application/octet-stream", description=meta.get("description"),
                 timestamp=meta.get("timestamp"), if_match=if_match, created=now)


def put_part(scope: TenantScope, entity_id: str, filepath: str, number: int, content: bytes, now: float) -> None:
    """Part ``number`` (1-1000, at least 5 MB; sent again it replaces the earlier one)."""
    _entity(scope, entity_id)
    upload = _upload(scope, entity_id, filepath)
    if len(content) < limits.IOTFILE_MIN_PART_BYTES:
        raise errors.BadRequest(f"Part {number} of {filepath!r} has {len(content)} bytes: each part but the last "
                                f"(sent with upload=complete) needs at least {limits.IOTFILE_MIN_PART_BYTES}")
    scope.delete(parts, parts.c.upload_id == upload["upload_id"], parts.c.part_no == number)
    scope.insert(parts, part_key=uuid.uuid4().hex, asset_id=entity_id, upload_id=upload["upload_id"],
                 part_no=number, content=content, created=now)


def complete(scope: TenantScope, entity_id: str, filepath: str, last: bytes, if_match: int | None, who: str,
             now: float) -> tuple[int, bool]:
    """The parts (1..n, contiguous) and the last one in this request, stored as the file."""
    _entity(scope, entity_id)
    upload = _upload(scope, entity_id, filepath)
    rows = scope.all(scope.select(parts).where(parts.c.upload_id == upload["upload_id"]).order_by(parts.c.part_no))
    numbers = [r["part_no"] for r in rows]
    if numbers != list(range(1, len(numbers) + 1)):
        missing = sorted(set(range(1, max(numbers, default=0) + 1)) - set(numbers))
        raise errors.BadRequest(f"The parts of {filepath!r} are not contiguous: part(s) {missing} missing")
    content = b"".join(bytes(r["content"]) for r in rows) + last
    if len(content) > limits.IOTFILE_MAX_MULTIPART_BYTES:
        raise errors.PayloadTooLarge(f"A file holds at most {limits.IOTFILE_MAX_MULTIPART_BYTES} bytes here")
    meta = {"type": upload["type"], "description": upload["description"], "timestamp": upload["timestamp"]}
    expected = if_match if if_match is not None else upload["if_match"]
    result = _store(scope, entity_id, filepath, content, meta, expected, who, now)
    _drop(scope, upload["upload_id"])
    return result


def abort(scope: TenantScope, entity_id: str, filepath: str) -> None:
    _entity(scope, entity_id)
    _drop(scope, _upload(scope, entity_id, filepath)["upload_id"])


def uploaded_parts(scope: TenantScope, entity_id: str, filepath: str) -> list[dict]:
    _entity(scope, entity_id)
    upload = _upload(scope, entity_id, filepath)
    rows = scope.all(scope.select(parts).where(parts.c.upload_id == upload["upload_id"]).order_by(parts.c.part_no))
    key = f"{scope.tenant}/{entity_id}/{upload['path']}{upload['name']}"
    return [{"objectKey": key, "partNo": r["part_no"], "created": int(r["created"] * 1000),
             "size": len(r["content"])} for r in rows]


RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$")


def byte_range(header: str, size: int) -> tuple[int, int]:
    """(first, last) byte of ``Range: bytes=200-600`` (also ``200-`` and ``-100``, the last 100); one range only;
    416 when it lies outside the file."""
    match = RANGE.match(header)
    if match is None or match.groups() == ("", ""):
        raise errors.BadRequest(f"Range {header[:100]!r} is not bytes=first-last (one range)")
    first, last = match.groups()
    if first == "":
        lo, hi = max(size - int(last), 0), size - 1
    else:
        lo, hi = int(first), min(int(last), size - 1) if last else size - 1
    if lo >= size or lo > hi:
        raise errors.ApiError(f"Range {header[:100]!r} is outside the file's {size} bytes", status=416,
                              code="rangeNotSatisfiable", headers={"Content-Range": f"bytes */{size}"})
    return lo, hi


def delete(scope: TenantScope, entity_id: str, filepath: str) -> None:
    row = get(scope, entity_id, filepath)
    scope.delete(files, files.c.file_id == row["file_id"])


def _predicate(raw: str | None):
    """``name eq a.txt and path eq dir/``: conditions joined by ``and``; values quoted or not, ``*`` a
    wildcard; a condition that does not parse is ignored, as the service ignores malformed filters [C] FFL."""
    tests = []
    for part in re.split(r"\s+and\s+", raw or ""):
        match = CONDITION.match(part)
        if match is None:
            continue
        field, op, value = match.group(1), FILTER_OPS[match.group(2)], match.group(3).strip("'\"")
        if op == "eq":
            pattern = re.compile("^" + ".*".join(re.escape(p) for p in value.split("*")) + "$", re.DOTALL)
            tests.append(lambda row, f=field, p=pattern: bool(p.match(str(row[f]))))
        else:
            tests.append(lambda row, f=field, o=op, v=value: _compare(row[f], o, v))
    return lambda row: all(t(row) for t in tests)


def _compare(actual: str, op: str, value: str) -> bool:
    return {"gt": actual > value, "ge": actual >= value, "lt": actual < value, "le": actual <= value}[op]


def search(scope: TenantScope, entity_id: str, raw_filter: str | None, order: str | None, offset: int,
           limit: int) -> tuple[list[dict], int]:
    _entity(scope, entity_id)
    rows = [as_json(r) for r in scope.all(scope.select(files).where(files.c.asset_id == entity_id))]
    predicate = _predicate(raw_filter)
    found = [r for r in rows if predicate(r)]
    field, _, direction = (order or "name").strip().partition(" ")
    field = field if field in ORDERS else "name"
    key = (lambda r: (r["name"], r["path"])) if field == "name" else (lambda r: (r[field], r["name"]))
    found.sort(key=key, reverse=direction.strip().lower() == "desc")
    return found[offset:offset + limit], len(found)


def as_json(row) -> dict:
    return {"name": row["name"], "path": row["path"], "type": row["type"], "size": len(row["content"]),
            "timestamp": row["timestamp"], "created": iso(int(row["created"] * 1000)),
            "updated": iso(int(row["updated"] * 1000)), "createdBy": row["created_by"],
            "updatedBy": row["updated_by"], "description": row["description"], "etag": row["etag"]}
