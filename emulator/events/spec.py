"""Event Management v3's contract (its OpenAPI fragment): its paths and schemas, written once beside its routes.

The registry merges it into ``/_emulator/openapi.json``, and requests are validated from it
(:mod:`emulator.validation`): what a schema can say about a body or a query lives here, not in the routes;
what depends on the tenant (an asset, an event type's fields, an etag) is the service's.
"""

from __future__ import annotations

from emulator import limits
from emulator.spec import (
    ETAG,
    NO_CONTENT,
    NO_NUL_PATTERN,
    NOT_MODIFIED,
    any_value,
    array,
    boolean,
    flag,
    header,
    integer,
    json_body,
    make_fragment,
    obj,
    ok,
    operations,
    path,
    query,
    ref,
    string,
)
from emulator.times import ZONED_TIME_PATTERN

BASE = "/api/eventmanagement/v3"
FIELD_TYPES = ("STRING", "INTEGER", "DOUBLE", "BOOLEAN", "LINK", "TIMESTAMP", "UUID", "ENUM")
TYPE_ID_PATTERN = r"^[A-Za-z0-9_.-]+$"


def _text(maximum: int, **kw) -> dict:
    return string(maxLength=maximum, pattern=NO_NUL_PATTERN, **kw)


def _paging(sort_example: str, *, history: bool = False) -> list[dict]:
    params = [
        query("page", integer(default=0, minimum=0, maximum=2**31 - 1), "Page number, 0-based"),
        query("size", integer(default=limits.EM_DEFAULT_PAGE_SIZE, minimum=1, maximum=limits.EM_MAX_PAGE_SIZE),
              f"Page size, 1 to {limits.EM_MAX_PAGE_SIZE}"),
        query("sort", _text(256), "`field,asc|desc` (a filterable field)", example=sort_example),
        query("filter", _text(limits.FILTER_MAX_CHARS), "A JSON object: eq, in, startsWith, endsWith, contains, "
              "before, after, between (`[start,end)`), and, or", example='{"typeId":"<tenant>.PumpEvent"}'),
        _shared(),
    ]
    if history:
        params.append(query("history", flag(), "`true`: every event of a history, not only the latest"))
    return params


def _if_match(required: bool = True) -> dict:
    return header("If-Match", string(pattern=r'^\s*(W/)?"?\d{1,10}"?\s*$'),
                  "The current etag (`3` or `\"3\"`); missing: 400, stale: 412", required=required)


def _shared() -> dict:
    return query("includeShared", flag(), "`true`: the answer carries `sharing` (nothing is shared between tenants)")


def _if_none_match() -> dict:
    return header("If-None-Match", _text(1024), "ETags of a cached copy (`\"3\"`, `3`, `W/\"3\"`, a list, `*`): "
                  "304 without a body when one is current")


def fragment(admin_token: bool = False) -> dict:
    op = operations("events", "Event Management v3", "core")
    event_id = path("event_id", _text(64), "An event's id")
    type_id = path("type_id", _text(limits.EM_TYPE_ID_MAX), "An event type's id")
    job_id = path("job_id", _text(64), "A job's id")
    event_ok = {"200": ok("The event", ref("EmEvent"), ETAG)}
    type_ok = {"200": ok("The event type", ref("EmEventType"), ETAG)}
    cached = {"304": NOT_MODIFIED}
    links = obj({}, closed=False)
    page = obj({"size": integer(), "totalElements": integer(), "totalPages": integer(), "number": integer()}, "all")
    listing = {
        key: obj({"_embedded": obj({key: array(ref(item))}), "_links": links, "page": page}, ["_links", "page"])
        for key, item in (("events", "EmEvent"), ("eventTypes", "EmEventType"))}
    return make_fragment({
        f"{BASE}/": {"get": op("billboard", "The API's links", {"200": ok("Links", obj({}, closed=False))})},
        f"{BASE}/events": {
            "get": op("list_events", "Events of the tenant (latest of each history; the last 7 days unless the "
                      "filter names a timestamp)", {"200": ok("A page of events", listing["events"], ETAG), **cached},
                      400, params=[*_paging("timestamp,desc", history=True), _if_none_match()]),
            "post": op("create_event", "Create an event", {"201": ok("The event", ref("EmEvent"))}, 400, 413, 415,
                       params=[_shared()], body=json_body(ref("EmEventInput"))),
        },
        f"{BASE}/events/{{event_id}}": {
            "get": op("get_event", "One event", {**event_ok, **cached}, 404,
                      params=[event_id, _if_none_match(), _shared()]),
            "put": op("update_event", "Correct an event (If-Match)", event_ok, 400, 404, 412, 413, 415,
                      params=[event_id, _if_match(), _shared()], body=json_body(ref("EmEventInput"))),
        },
        f"{BASE}/eventTypes": {
            "get": op("list_event_types", "Event types the tenant sees (the standard one and its own)",
                      {"200": ok("A page of event types", listing["eventTypes"], ETAG), **cached}, 400,
                      params=[*_paging("id,asc"), _if_none_match()]),
            "post": op("create_event_type", "Create an event type", {"201": ok("The event type", ref("EmEventType"))},
                       400, 409, 413, 415, params=[_shared()],
                       body=json_body(ref("EmEventTypeInput"))),
        },
        f"{BASE}/eventTypes/{{type_id}}": {
            "get": op("get_event_type", "One event type", {**type_ok, **cached}, 404,
                      params=[type_id, _if_none_match(), _shared()]),
            "patch": op("patch_event_type", "One change of an event type (If-Match)", type_ok, 400, 404, 412, 413,
                        415, params=[type_id, _if_match(), _shared()], body=json_body(ref("EmEventTypePatch"))),
            "put": op("put_event_type", "The same change, as the Node SDK sends it (PUT)", type_ok, 400, 404, 412,
                      413, 415, params=[type_id, _if_match(), _shared()], body=json_body(ref("EmEventTypePatch"))),
            "delete": op("delete_event_type", "Delete an event type and its events (If-Match)", {"204": NO_CONTENT},
                         400, 404, 409, 412, params=[type_id, _if_match(), _shared()]),
        },
        f"{BASE}/createEventsJobs": {
            "post": op("create_events_job", "Create up to 50 events, each on its own (runs at once)",
                       {"201": ok("The job, finished", ref("EmJob"))}, 400, 413, 415,
                       body=json_body(ref("EmCreateEventsJob"))),
        },
        f"{BASE}/createEventsJobs/{{job_id}}": {
            "get": op("get_create_events_job", "A create job (2 hours)", {"200": ok("The job", ref("EmJob"))}, 404,
                      params=[job_id]),
        },
        f"{BASE}/deleteEventsJobs": {
            "post": op("delete_events_job", "Delete the events a filter with a typeId matches (runs at once)",
                       {"201": ok("The job, finished", ref("EmJob"))}, 400, 413, 415,
                       body=json_body(ref("EmDeleteEventsJob"))),
        },
        f"{BASE}/deleteEventsJobs/{{job_id}}": {
            "get": op("get_delete_events_job", "A delete job (2 hours)", {"200": ok("The job", ref("EmJob"))}, 404,
                      params=[job_id]),
        },
    }, schemas())


def schemas() -> dict:
    field = obj({"name": string(pattern=limits.EM_FIELD_NAME_PATTERN), "type": string(enum=list(FIELD_TYPES)),
                 "filterable": boolean(default=False), "required": boolean(default=False),
                 "updatable": boolean(default=True),
                 "values": array(_text(limits.EM_STRING_MAX), minItems=1, description="ENUM only")},
                ["name", "type"])
    standard = {
        "typeId": _text(limits.EM_TYPE_ID_MAX, description="Absent: the standard event type"),
        "correlationId": _text(limits.EM_STRING_MAX, description="Groups the events of one history"),
        "timestamp": string(pattern=ZONED_TIME_PATTERN, example="2024-05-01T10:00:00.000Z"),
        "entityId": string(pattern=limits.ASSET_ID_PATTERN, description="An asset of the tenant"),
        "description": _text(limits.EM_DESCRIPTION_MAX), "severity": integer(description="20 error, 30 warning, "
                                                                                          "40 information"),
        "code": _text(limits.EM_STRING_MAX), "source": _text(limits.EM_STRING_MAX), "acknowledged": boolean(),
    }
    return {
        "EmEventInput": obj(standard, ["timestamp", "entityId"], closed=False,
                            description="The standard fields and the custom fields of its type"),
        "EmEvent": obj({"id": string(), **standard, "etag": integer(), "_links": obj({}, closed=False),
                        "sharing": ref("EmSharing")},
                       ["id", "typeId", "timestamp", "entityId", "etag", "_links"], closed=False),
        "EmSharing": obj({"modes": array(string(enum=["SHARER", "RECEIVER", "DEFAULT"]))}, "all",
                         description="Only with includeShared=true: [] for the tenant's own, DEFAULT for the "
                                     "standard event type"),
        "EmEventTypeInput": obj({
            "id": string(pattern=TYPE_ID_PATTERN, maxLength=limits.EM_TYPE_ID_MAX,
                         description="`<tenant>.<name>`; absent: a generated UUID"),
            "name": _text(limits.EM_TYPE_NAME_MAX, minLength=1),
            "parentId": _text(limits.EM_TYPE_ID_MAX, description="Absent: the standard event type"),
            "ttl": integer(minimum=1, maximum=limits.EM_TYPE_TTL_MAX_DAYS,
                           default=limits.EM_TYPE_TTL_DEFAULT_DAYS, description="Days"),
            "scope": string(enum=["LOCAL", "GLOBAL"], default="LOCAL"),
            "fields": array(field, maxItems=limits.EM_TYPE_MAX_FIELDS),
        }, ["name", "fields"]),
        "EmEventType": obj({"id": string(), "name": string(), "parentId": string(nullable=True), "ttl": integer(),
                            "scope": string(), "fields": array(field), "etag": integer(), "owner": string(),
                            "_links": obj({}, closed=False), "sharing": ref("EmSharing")},
                           ["id", "name", "parentId", "ttl", "scope", "fields", "etag", "owner", "_links"]),
        "EmCreateEventsJob": obj({"events": array(obj({}, closed=False), minItems=1,
                                                  maxItems=limits.EM_CREATE_JOB_MAX_EVENTS)}, "all"),
        "EmDeleteEventsJob": obj({"filter": obj({}, closed=False, description="A filter naming a typeId")}, "all"),
        "EmJob": obj({"id": string(), "state": string(enum=["ACCEPTED", "IN_PROGRESS", "FINISHED",
                                                             "FINISHED_WITH_ERROR"]),
                      "details": obj({}, closed=False)}, ["id", "state"]),
        "EmEventTypePatch": obj({"op": string(enum=["add", "replace"]), "path": _text(256),
                                 "value": any_value("The new value")}, ["op", "path", "value"]),
    }
