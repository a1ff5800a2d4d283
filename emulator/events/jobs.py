"""``createEventsJobs`` and ``deleteEventsJobs`` (events-files-api.md 1a): bulk creation (at most 50 events, each
created or refused on its own) and deletion by a filter that names a ``typeId``. Plain values in and out over
the tenant's scope (no Flask here).

Decisions [?] (README, fidelity notes): a job runs to its end inside the request that posts it and answers 201
with its id and final state (``FINISHED``, or ``FINISHED_WITH_ERROR`` when an event was refused), so the
client's first poll finds it done; a job is readable for 2 hours, then 404; a delete job searches every time
(no 7-day window), every event of a history that matches, and counts what it deleted in ``resultDescription``.
"""

from __future__ import annotations

import json
import uuid
from functools import cache

from emulator import errors, limits
from emulator.events import filters, service, spec
from emulator.events.models import events, jobs
from emulator.store import TenantScope
from emulator.validation import DocumentChecks


@cache
def _check():
    return DocumentChecks(spec.schemas, {})


def _save(scope: TenantScope, kind: str, state: str, details: dict, now: float) -> dict:
    job_id = str(uuid.uuid4())
    scope.insert(jobs, job_id=job_id, kind=kind, state=state, details=details, created_at=now)
    return {"id": job_id, "state": state}


def create_events(scope: TenantScope, body: dict, base: str, now: float) -> dict:
    results, failed = [], False
    for i, event in enumerate(body["events"]):
        try:
            _check()("EmEventInput", event, f"body.events[{i}]")
            row = service.create(scope, event, now)
        except errors.ApiError as exc:
            failed = True
            results.append({"event": json.dumps(event), "resultCode": str(exc.status), "errorMessage": exc.message})
        else:
            results.append({"event": json.dumps(service.as_json(row, base)), "resultCode": "201"})
    return _save(scope, "create", "FINISHED_WITH_ERROR" if failed else "FINISHED",
                 {"resultDescription": results}, now)


def delete_events(scope: TenantScope, body: dict, now: float) -> dict:
    tree = body["filter"]
    if not filters.top_level(tree, "typeId"):
        raise errors.InvalidBody("filter of a delete job must name a typeId ({\"typeId\": \"<id>\", ...})")
    filters.depth_checked(tree)
    rows, _ = service.query(scope, tree, True, int(now * 1000), None, window=False)
    if len(rows) > limits.EM_DELETE_JOB_MAX_EVENTS:
        raise errors.InvalidBody(f"A delete job handles at most {limits.EM_DELETE_JOB_MAX_EVENTS} events")
    for row in rows:
        scope.delete(events, events.c.event_id == row["event_id"])
    return _save(scope, "delete", "FINISHED",
                 {"resultCode": "200", "resultDescription": f"{len(rows)} event(s) deleted"}, now)


def get(scope: TenantScope, kind: str, job_id: str, now: float) -> dict:
    row = scope.get(jobs, job_id) if isinstance(job_id, str) else None
    if row is None or row["kind"] != kind or now - row["created_at"] > limits.EM_JOB_KEPT_SECONDS:
        raise errors.NotFound(f"{kind.capitalize()} events job {job_id!r} not found")
    return {"id": row["job_id"], "state": row["state"], "details": row["details"]}
