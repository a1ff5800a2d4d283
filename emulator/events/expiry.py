"""Events expire after their type's ``ttl`` (days; events-files-api.md 1c, the SDK's "Time to live in days",
default 35): an event whose ``timestamp`` is more than ``ttl`` days before the emulator's clock is no longer
returned by any read (lists, ``GET``/``PUT /events/{id}``, delete jobs, the dashboard).

Decision [?] (README, fidelity notes): expiry is a condition of every read, evaluated at the virtual clock,
not a background purge: it is exact at any instant (a test advances the clock past the ttl and the event is
gone at once), deterministic, and needs no writer. The rows stay until their asset, their type or the tenant
is deleted, so setting the clock back shows them again, as it would show data that was written then. A
changed ``ttl`` (``replace /ttl``) applies to the type's events at once, the ones before the change included.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import and_, false, or_

from emulator import limits
from emulator.events.models import event_types, events
from emulator.store import TenantScope

DAY_MS = 86_400_000


def ttls(scope: TenantScope, standard: str) -> dict[str, int]:
    """Each event type of the tenant (and the standard type) with its ttl in days."""
    rows = scope.all(scope.select(event_types, event_types.c.type_id, event_types.c.ttl))
    return {standard: limits.EM_TYPE_TTL_DEFAULT_DAYS, **{r["type_id"]: r["ttl"] for r in rows}}


def alive(scope: TenantScope, now_ms: int, standard: str):
    """A SQL condition on ``em_events``: the events not yet expired at ``now_ms`` (one term per distinct ttl)."""
    by_ttl: dict[int, list[str]] = defaultdict(list)
    for type_id, days in ttls(scope, standard).items():
        by_ttl[days].append(type_id)
    terms = [and_(events.c.type_id.in_(ids), events.c.ts >= now_ms - days * DAY_MS) for days, ids in by_ttl.items()]
    return or_(*terms) if terms else false()
