"""Rate limits: a quota of requests per window of the virtual clock, per tenant and optionally per
API. Over it, 429 ``mdsp.core.generic.tooManyRequests`` (time series: its own envelope) with a
``Retry-After`` of the seconds left in the window; the next window starts afresh.

Quotas are set at start (``--rate-limit N/SECONDS``, for every tenant and API) or at run time
(``PUT /_emulator/ratelimits``, which wins for its tenant). Requests are counted in the store, so
several workers share one count.
"""

from __future__ import annotations

import math

from emulator import errors
from emulator.store.models import rate_windows


def parse_quota(body: dict) -> dict:
    """A quota of ``PUT /_emulator/ratelimits``, every property present (checked against the control plane's
    contract, RateLimitInput: a tenant, an API of the registry, positive counts)."""
    return {"tenant": body["tenant"], "api": body.get("api"), "requests": body["requests"],
            "perSeconds": body["perSeconds"]}


def quota_for(quotas: list[dict], default: dict | None, tenant: str, api: str) -> dict | None:
    """The most specific quota: this tenant and API, this tenant, then the setting's."""
    mine = [q for q in quotas if q["tenant"] == tenant]
    return (next((q for q in mine if q["api"] == api), None) or next((q for q in mine if q["api"] is None), None)
            or default)


def count(conn, tenant: str, api: str, quota: dict, now: float) -> None:
    """Count the request in its window; raise 429 when the window's quota is spent."""
    seconds = quota["perSeconds"]
    window = int(now // seconds) * seconds
    scoped = api if quota["api"] else "*"
    if conn.dialect.name == "postgresql":  # imported here: SQLite servers do not load PostgreSQL's dialect
        from sqlalchemy.dialects import postgresql as module
    else:
        from sqlalchemy.dialects import sqlite as module
    stmt = module.insert(rate_windows).values(tenant_id=tenant, api=scoped, window=window, count=1)
    stmt = stmt.on_conflict_do_update(index_elements=["tenant_id", "api", "window"],
                                      set_={"count": rate_windows.c.count + 1}).returning(rate_windows.c.count)
    used = conn.execute(stmt).scalar()
    if used > quota["requests"]:
        retry = max(1, math.ceil(window + seconds - now))
        raise errors.TooManyRequests(
            f"Rate limit of {quota['requests']} requests per {seconds} s reached for tenant {tenant!r}; "
            f"retry in {retry} s", headers={"Retry-After": str(retry)})
