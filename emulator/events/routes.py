"""Event Management v3's HTTP routes under ``/api/eventmanagement/v3``: thin views over ``service`` and
``types``; errors in the core envelope."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from emulator import conditional, context, errors, limits
from emulator.assets import paging
from emulator.assets.validation import if_match
from emulator.events import filters, jobs, service, types
from emulator.httpio import json_body
from emulator.runtime import runtime

BASE = "/api/eventmanagement/v3"
bp = Blueprint("events", __name__, url_prefix=BASE)
TYPE_FILTER = {"id": "STRING", "name": "STRING", "owner": "STRING", "parentId": "STRING", "scope": "STRING"}


def _now() -> float:
    return runtime().clock.time()


def _shared() -> bool:
    """``includeShared=true``: answers carry ``sharing`` (events-files-api.md 1b, the SDK's SharingResource)."""
    return (request.args.get("includeShared") or "").strip().lower() == "true"


def _now_ms() -> int:
    return int(_now() * 1000)


def _base() -> str:
    return context.base_url() + BASE


def _with_etag(body: dict, status: int = 200):
    resp = jsonify(body)
    resp.status_code = status
    resp.headers["ETag"] = f'"{body["etag"]}"'
    return resp


def _page(args) -> paging.PageRequest:
    page = int(args.get("page") or 0)
    size = int(args.get("size") or limits.EM_DEFAULT_PAGE_SIZE)
    return paging.PageRequest(page, size, "", False)


def _sort(args, default: tuple[str, bool]) -> tuple[str, bool]:
    raw = args.get("sort")
    if not raw:
        return default
    field, _, direction = raw.partition(",")
    if direction.strip().lower() not in ("", "asc", "desc"):
        raise errors.BadRequest(f"sort: direction {direction.strip()!r} must be asc or desc")
    return field.strip(), direction.strip().lower() == "desc"


def _paged(key: str, items: list, args):
    """One page in the HAL envelope; its ETag is a hash of the page (the SDK sends If-None-Match on lists)."""
    req = _page(args)
    chunk = items[req.page * req.size:(req.page + 1) * req.size]
    return conditional.answer(jsonify(paging.envelope(key, chunk, req, len(items), context.base_url(), request.path,
                                                      args, embed_empty=False)))


@bp.get("/")
def billboard():
    base = _base()
    return jsonify({"self": {"href": f"{base}/"},
                    "events": {"href": f"{base}/events{{?page,size,sort,filter,history,includeShared}}",
                               "templated": True},
                    "eventTypes": {"href": f"{base}/eventTypes{{?page,size,sort,filter,includeShared}}",
                                   "templated": True},
                    "deleteEventsJobs": {"href": f"{base}/deleteEventsJobs"},
                    "createEventsJobs": {"href": f"{base}/createEventsJobs"}})


# --- events ---------------------------------------------------------------------------------------------

@bp.post("/events")
def create_event():
    row = service.create(context.scope(), json_body(), _now())
    return _with_etag(service.as_json(row, _base(), shared=_shared()), 201)


@bp.get("/events")
def list_events():
    args = request.args
    tree = filters.parse(args.get("filter"))
    history = (args.get("history") or "").strip().lower() == "true"
    rows, type_row = service.query(context.scope(), tree, history, _now_ms(),
                                   _sort(args, ("timestamp", True)))
    shown = None if type_row is not None else {f["name"] for f in types.STANDARD_FIELDS}
    base = _base()
    return _paged("events", [service.as_json(r, base, shown, _shared()) for r in rows], args)


@bp.get("/events/<event_id>")
def get_event(event_id: str):
    row = service.get_row(context.scope(), event_id, _now_ms())
    return conditional.answer(_with_etag(service.as_json(row, _base(), shared=_shared())))


@bp.put("/events/<event_id>")
def update_event(event_id: str):
    expected = if_match(request.headers.get("If-Match"))
    row = service.update(context.scope(), event_id, json_body(), expected, _now_ms())
    return _with_etag(service.as_json(row, _base(), shared=_shared()))


# --- event types ----------------------------------------------------------------------------------------

@bp.post("/eventTypes")
def create_event_type():
    scope = context.scope()
    return _with_etag(types.as_json(scope, types.create(scope, json_body(), _now()), _base(), _shared()), 201)


@bp.get("/eventTypes")
def list_event_types():
    args = request.args
    predicate = filters.compile_filter(filters.parse(args.get("filter")), TYPE_FILTER)
    field, descending = _sort(args, ("id", False))
    if field not in TYPE_FILTER:
        raise errors.BadRequest(f"sort: field {field!r} is unknown or not sortable")
    scope = context.scope()
    base = _base()
    items = [types.as_json(scope, r, base, _shared()) for r in types.listing(scope)]
    items = [i for i in items if predicate(i)]
    items.sort(key=lambda i: (i.get(field) is not None, i.get(field) or ""), reverse=descending)
    return _paged("eventTypes", items, args)


@bp.get("/eventTypes/<type_id>")
def get_event_type(type_id: str):
    scope = context.scope()
    return conditional.answer(_with_etag(types.as_json(scope, types.get(scope, type_id), _base(), _shared())))


@bp.patch("/eventTypes/<type_id>")
def patch_event_type(type_id: str):
    scope = context.scope()
    expected = if_match(request.headers.get("If-Match"))
    return _with_etag(types.as_json(scope, types.patch(scope, type_id, json_body(), expected), _base(), _shared()))


@bp.put("/eventTypes/<type_id>")
def put_event_type(type_id: str):
    """The Node SDK sends its patch with PUT (events-files-api.md 1c): the same one operation."""
    return patch_event_type(type_id)


@bp.delete("/eventTypes/<type_id>")
def delete_event_type(type_id: str):
    types.delete(context.scope(), type_id, if_match(request.headers.get("If-Match")))
    return "", 204


# --- jobs -----------------------------------------------------------------------------------------------

@bp.post("/createEventsJobs")
def create_events_job():
    return jsonify(jobs.create_events(context.scope(), json_body(), _base(), _now())), 201


@bp.get("/createEventsJobs/<job_id>")
def get_create_events_job(job_id: str):
    return jsonify(jobs.get(context.scope(), "create", job_id, _now()))


@bp.post("/deleteEventsJobs")
def delete_events_job():
    return jsonify(jobs.delete_events(context.scope(), json_body(), _now())), 201


@bp.get("/deleteEventsJobs/<job_id>")
def get_delete_events_job(job_id: str):
    return jsonify(jobs.get(context.scope(), "delete", job_id, _now()))
