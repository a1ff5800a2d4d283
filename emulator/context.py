"""The data-plane request's transaction and tenant scope.

Each ``/api/...`` or ``/odata/...`` request runs in one transaction, ended after the response is
made: committed when the answer is a success, rolled back when it is an error, so a refused request
never leaves a half-written change. The chain opens it to read (control version, tenant); a writing
request's chain releases it, and :func:`scope` opens it again with the write lock taken at once
(SQLite ``BEGIN IMMEDIATE``), so concurrent writers queue instead of failing on a lock upgrade.
Routes reach tenant data only through :func:`scope`.
"""

from __future__ import annotations

import time

from flask import Response, current_app, g, request
from sqlalchemy import bindparam, select

from emulator import errors
from emulator.apis import api_of
from emulator.store import TenantScope
from emulator.store.models import tenants

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _store():
    return current_app.extensions["mdsp"]["store"]


def open_transaction(store, write: bool) -> None:
    g.db = store.begin(write=write)


def release() -> None:
    """End the request's transaction early (the request chain does, before a write of its own)."""
    db = g.pop("db", None)
    if db is not None:
        _store().end(db, commit=True)


_TENANT = select(tenants).where(tenants.c.name == bindparam("name"))


class TenantCache:
    """Tenant rows seen in the last second, per process.

    Every data-plane request needs its tenant's row. Reads may take it from here (a tenant deleted
    by another worker is noticed within ``ttl`` seconds; its data is gone already, so such a read
    finds nothing); writes always read it in their own transaction, so nothing is ever written
    for a tenant that no longer exists. A delete in this process forgets the tenant at once.
    """

    def __init__(self, ttl: float = 1.0):
        self.ttl = ttl
        self._rows: dict[str, tuple[float, dict]] = {}

    def lookup(self, conn, name: str, fresh: bool):
        now = time.monotonic()
        hit = None if fresh else self._rows.get(name)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        row = conn.execute(_TENANT, {"name": name}).mappings().first()
        if row is None:
            self._rows.pop(name, None)
            return None
        self._rows[name] = (now, dict(row))
        return self._rows[name][1]

    def forget(self, name: str) -> None:
        self._rows.pop(name, None)

    def clear(self) -> None:
        self._rows.clear()


def load_tenant(cache: TenantCache, name: str):
    """The tenant's row (from the cache when fresh enough), or None if the tenant is gone."""
    row = cache.lookup(g.db, name, fresh=False)
    g.tenant = name if row else None
    g.tenant_row = row
    return row


def base_url() -> str:
    """``http://host:port`` as the client called it (links and ``Link`` headers use it)."""
    url = g.get("base_url")
    if url is None:
        url = g.base_url = f"{request.scheme}://{request.host}"
    return url


def scope() -> TenantScope:
    """The tenant's scope in the request's transaction, opened here if the chain released it: a writing
    request takes the write lock now and reads its tenant afresh, so nothing is ever written for a
    tenant deleted meanwhile."""
    if "db" not in g:
        write = request.method not in READ_METHODS
        g.db = _store().begin(write=write)
        if write and current_app.extensions["mdsp"]["tenant_cache"].lookup(g.db, g.tenant, fresh=True) is None:
            raise errors.Unauthorized("The tenant of this access token does not exist")
    return TenantScope(g.db, g.tenant, current_app.extensions["mdsp"]["derived_cache"])


def tenant_row():
    return g.tenant_row


def end_transaction(response: Response) -> Response:
    """after_request: commit a success, roll back an error; a failed commit becomes an error answer."""
    db = g.pop("db", None)
    if db is None:
        return response
    try:
        _store().end(db, commit=response.status_code < 400)
    except Exception as exc:
        err = errors.store_failure(exc)
        current_app.logger.warning("commit failed on %s %s: %s", request.method, request.path, err.message)
        err.message = "The change could not be committed. " + err.message
        return errors.render(err, api_of(request.path).envelope)
    return response


def abandon_transaction(_exc=None) -> None:
    """teardown: a transaction still open here (the request died) is rolled back."""
    db = g.pop("db", None)
    if db is not None:
        _store().end(db, commit=False)
