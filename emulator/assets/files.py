"""Asset Management v3 files (``/files``; research sdk-parity.md 4, events-files-api.md 3): upload, list, metadata,
download, update with If-Match, delete.

The metadata is FileMetadataResource (official swagger 3.18.4): no size, path or media type fields; the media
type shows only as the download's ``Content-Type``. The bytes are stored as received. Names follow the swagger's
pattern (at most 255, no ``*&%``, whitespace, ``/`` or ``\\``); scope is ``public`` or ``private`` in any case
(Siemens' SDK sends ``PRIVATE``), answered in lower case; a file is at most 5 MB.
"""

from __future__ import annotations

import base64
import re
import uuid

from emulator import errors, limits, times
from emulator.assets import types
from emulator.assets.models import file_assignments, files
from emulator.store import TenantScope
from emulator.store.engine import fast_rows

NAME = re.compile(limits.AM_FILE_NAME_PATTERN)
SCOPES = ("public", "private")


def get_file(scope: TenantScope, file_id: str):
    row = scope.get(files, file_id)
    if row is None:
        raise errors.NotFound(f"File {file_id!r} not found")
    return row


class _TextPart:
    """A ``file`` part sent as a plain form field."""

    filename, mimetype = None, None

    def __init__(self, content: bytes):
        self._content = content

    def read(self, limit: int) -> bytes:
        return self._content[:limit]


def _fields(form, upload, *, scope_required: bool) -> dict:
    """The stored fields of a multipart upload (``file``, ``name``, ``description``, ``scope``)."""
    if upload is None and form.get("file") is not None:  # a part without a file name: its text is the content
        upload = _TextPart(form["file"].encode())
    if upload is None:
        raise errors.InvalidBody("the multipart part 'file' is required")
    name = form.get("name")
    if not name:
        raise errors.InvalidBody("the multipart part 'name' is required")
    if not NAME.match(name):
        raise errors.InvalidBody(f"name {name!r} must hold 1-255 characters without whitespace, *, &, %, / or \\")
    description = form.get("description")
    if description is not None and len(description) > 255:
        raise errors.InvalidBody("description must be at most 255 characters")
    raw_scope = form.get("scope")
    if raw_scope is None and scope_required:
        raise errors.InvalidBody("the multipart part 'scope' is required")
    file_scope = ("private" if raw_scope is None else raw_scope).lower()  # an empty scope is no scope
    if file_scope not in SCOPES:
        raise errors.InvalidBody(f"scope {raw_scope!r} must be public or private")
    content = upload.read(limits.AM_FILE_MAX_BYTES + 1)
    if len(content) > limits.AM_FILE_MAX_BYTES:
        raise errors.PayloadTooLarge(f"a file is at most {limits.AM_FILE_MAX_BYTES} bytes (5 MB)")
    return {"name": name, "original_file_name": upload.filename or name, "description": description,
            "scope": file_scope, "media_type": upload.mimetype or "application/octet-stream",
            "content": base64.b64encode(content).decode("ascii")}


def content_of(row) -> bytes:
    return base64.b64decode(row["content"])


def create_file(scope: TenantScope, form, upload, now: float) -> str:
    fields = _fields(form, upload, scope_required=False)
    file_id = uuid.uuid4().hex
    scope.insert(files, id=file_id, uploaded=now, last_modified=now, etag=0, **fields)
    return file_id


def update_file(scope: TenantScope, file_id: str, form, upload, if_match, now: float) -> None:
    row = get_file(scope, file_id)
    expected = types.expect_etag(row, if_match, "file")
    fields = _fields(form, upload, scope_required=True)
    types.update_checked(scope, files, files.c.id, file_id, expected, "file", {**fields, "last_modified": now})


def delete_file(scope: TenantScope, file_id: str, if_match) -> None:
    row = get_file(scope, file_id)
    expected = types.expect_etag(row, if_match, "file")
    holders = scope.all(scope.select(file_assignments).where(file_assignments.c.file_id == file_id))
    if holders:  # "deletion is blocked if there are any file assignment with the given fileId" (status [?])
        named = ", ".join(f"{h['holder']} {h['holder_id']} key {h['key']}" for h in holders)
        raise errors.Conflict(f"File {file_id!r} is assigned ({named}); remove the assignments first")
    types.delete_checked(scope, files, files.c.id, file_id, expected, "file")


# --- assignments ---------------------------------------------------------------------------------------

KEY = re.compile(r"^\w{1,128}$")
FILE_ID = re.compile(r"^[0-9a-fA-F]{32}$")


def check_assignment(scope: TenantScope, key: str, body: dict) -> None:
    """Checks in the order research sdk-parity.md 4 gives (the holder was found by the caller): the file id
    well-formed (400) and existing (404), each message naming it."""
    file_id = body.get("fileId") if isinstance(body, dict) else None
    if not isinstance(file_id, str) or not FILE_ID.match(file_id):
        raise errors.InvalidBody(f"fileId {file_id!r} is not a valid file id (32 hex characters)")
    if not KEY.match(key):
        raise errors.InvalidBody(f"key {key!r} must hold 1-128 letters, digits and _")
    get_file(scope, file_id.lower())


def store_assignment(scope: TenantScope, holder: str, holder_id: str, key: str, file_id: str) -> None:
    """Assign (or re-assign) the key; the tenant's model version moves (see :func:`assignments`)."""
    where = (file_assignments.c.holder == holder, file_assignments.c.holder_id == holder_id,
             file_assignments.c.key == key)
    if not scope.update(file_assignments, *where, file_id=file_id.lower()):
        scope.insert(file_assignments, holder=holder, holder_id=holder_id, key=key, file_id=file_id.lower())
    types.model_changed(scope)


def own_key(scope: TenantScope, holder: str, holder_id: str, key: str, what: str) -> None:
    """DELETE: the key must be the holder's own (404 naming it), checked before If-Match."""
    if not scope.count(file_assignments, file_assignments.c.holder == holder,
                       file_assignments.c.holder_id == holder_id, file_assignments.c.key == key):
        raise errors.NotFound(f"No file assignment with key {key!r} on {what} {holder_id!r}")


def unassign(scope: TenantScope, holder: str, holder_id: str, key: str | None = None) -> None:
    """Remove the holder's assignments (of one key); where there were any, the tenant's model version moves."""
    where = [file_assignments.c.holder == holder, file_assignments.c.holder_id == holder_id]
    if key is not None:
        where.append(file_assignments.c.key == key)
    if scope.delete(file_assignments, *where):
        types.model_changed(scope)


# every request that renders an asset or type reads them: through the driver (all text columns)
_ASSIGNMENTS = 'SELECT holder, holder_id, "key", file_id FROM am_file_assignments WHERE tenant_id = ?'


class Assignments:
    """A tenant's file assignments at one model version (see :func:`assignments`)."""

    def __init__(self, scope: TenantScope):
        self.by_holder: dict[tuple[str, str], dict[str, str]] = {}
        for holder, holder_id, key, file_id in fast_rows(scope.conn, _ASSIGNMENTS, scope.tenant):
            self.by_holder.setdefault((holder, holder_id), {})[key] = file_id

    def render(self, base_url: str, own: tuple[str, str], inherited: list[str]) -> list[dict]:
        """The holder's own assignments, then the nearest type's for every other key (with ``origin``)."""
        seen, out = set(), []
        for holder, source in [own, *(("type", t) for t in inherited)]:
            for key, file_id in sorted(self.by_holder.get((holder, source), {}).items()):
                if key in seen:
                    continue
                seen.add(key)
                base = f"{base_url}/api/assetmanagement/v3/files/{file_id}"
                links = {"download": {"href": f"{base}/file"}, "metadata": {"href": base}}
                if (holder, source) != own:
                    links["origin"] = {"href": f"{base_url}/api/assetmanagement/v3/assettypes/{source}"}
                out.append({"key": key, "fileId": file_id, "_links": links})
        return out


def assignments(scope: TenantScope, catalog: types.Catalog) -> Assignments:
    """The tenant's file assignments, kept with its catalog (``catalog``, of the model version the request reads):
    every change of an assignment, an asset's as a type's, moves the tenant's model version, so every request that
    renders an asset or a type reads them once per version and process instead of once per request."""
    found = catalog.extras.get("assignments")
    if found is None:
        found = catalog.extras["assignments"] = Assignments(scope)
    return found


def is_assigned(scope: TenantScope, file_id: str) -> bool:
    return scope.count(file_assignments, file_assignments.c.file_id == file_id) > 0


def resource(row, base_url: str, assigned: bool = False) -> dict:
    base = f"{base_url}/api/assetmanagement/v3/files/{row['id']}"
    return {
        "id": row["id"], "name": row["name"], "originalFileName": row["original_file_name"],
        "description": row["description"], "tenantId": row["tenant_id"], "subTenant": None,
        "uploaded": times.iso_seconds(row["uploaded"]), "lastModified": times.iso_seconds(row["last_modified"]),
        "isAssigned": assigned, "scope": row["scope"], "etag": row["etag"],
        "_links": {"self": {"href": base}, "download": {"href": f"{base}/file"}},
    }
