"""The data-plane request's state, transaction and tenant scope.

Each ``/api/...`` or ``/odata/...`` request runs in one transaction, ended after the response is
made: committed when the answer is a success, rolled back when it is an error, so a refused request
never leaves a half-written change. The chain opens it to read (control version, tenant); a writing
request's chain releases it, and :func:`scope` opens it again with the write lock taken at once
(SQLite ``BEGIN IMMEDIATE``), so concurrent writers queue instead of failing on a lock upgrade.
Routes reach tenant data only through :func:`scope`.

What the chain learns about a request (its API, tenant, claims, fault, transaction) is one typed
:class:`RequestState`, not loose attributes of Flask's ``g``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

from flask import Request, Response, request
from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from emulator import errors
from emulator.apis import Api
from emulator.runtime import bind, runtime
from emulator.store import TenantScope, tenant_gate
from emulator.store.engine import noted
from emulator.store.models import tenants

log = logging.getLogger("emulator")
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(slots=True)
class RequestState:
    """What the request chain learned about one request, for the route and the journal."""

    api: Api
    started: float
    req: Request  # Flask's request object itself: each attribute read through its proxy (``request.method``) cost
    # 2 us, a dozen of them a request
    db: Connection | None = None  # the request's open transaction, if any
    tenant: str | None = None  # of the verified token
    tenant_row: dict | None = None
    claims: dict | None = None
    fault: str | None = None  # the fault rule (or header) that fired
    base_url: str | None = None
    contract: dict | None = None  # the Data Hub contract of an OData request, read once


# The request's state, set when the chain begins and cleared at the request's teardown (``abandon_transaction``):
# a context variable, not an attribute of Flask's ``g``, whose proxy cost more and is read a dozen times a request.
_current: ContextVar[RequestState | None] = ContextVar("mdsp_request_state", default=None)


def begin_request(api: Api, req: Request | None = None) -> RequestState:
    state = RequestState(api=api, started=time.perf_counter(),
                         req=req if req is not None else request._get_current_object())
    _current.set(state)
    return state


def state() -> RequestState:
    """The request's state; a request that failed before the chain began gets one here (for its error)."""
    found = _current.get()
    if found is None:
        found = begin_request(runtime().registry.api_of(request.path))
    return found


def envelope() -> str:
    """The error envelope of the API the request's path belongs to."""
    found = _current.get()
    return found.api.envelope if found is not None else runtime().registry.api_of(request.path).envelope


def open_transaction(store, write: bool) -> None:
    state().db = store.begin(write=write)


def release() -> None:
    """End the request's transaction early (the request chain does, before a write of its own)."""
    st = state()
    db, st.db = st.db, None
    if db is not None:
        runtime().store.end(db, commit=True)


_TENANT = select(tenants).where(tenants.c.name == bindparam("name"))
# A writer's first statement (PostgreSQL: FOR KEY SHARE; SQLite's BEGIN IMMEDIATE already serialises writers):
# every writer takes the tenant row before anything else, and a tenant's delete or reset takes it FOR UPDATE first,
# so they meet in one lock order (no deadlock) and no write lands in a tenant being deleted or reset (no orphan).
# KEY SHARE, not SHARE: a type write updates the row itself (its model_version, a non-key column: FOR NO KEY
# UPDATE), which SHARE held by another writer blocks; two concurrent type writers each held SHARE and waited for
# the other's (a deadlock: one answered 503). KEY SHARE conflicts with FOR UPDATE only. Before it, the tenant's
# gate (emulator.store.scope.tenant_gate), shared: row locks do not queue, and writers once starved a delete.
_TENANT_FOR_WRITE = _TENANT.with_for_update(read=True, key_share=True)


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

    def lookup(self, conn, name: str, fresh: bool, for_write: bool = False):
        now = time.monotonic()
        hit = None if fresh or for_write else self._rows.get(name)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        row = tenant_for_write(conn, name) if for_write else conn.execute(_TENANT, {"name": name}).mappings().first()
        if row is None:
            self._rows.pop(name, None)
            return None
        self._rows[name] = (now, dict(row))
        return self._rows[name][1]

    def forget(self, name: str) -> None:
        self._rows.pop(name, None)

    def clear(self) -> None:
        self._rows.clear()


def tenant_for_write(conn, name: str):
    """The tenant's row, taken as every writer takes it before anything else (its gate, then the row: see above);
    None when there is no such tenant."""
    tenant_gate(conn, name, exclusive=False)
    return conn.execute(_TENANT_FOR_WRITE, {"name": name}).mappings().first()


def load_tenant(cache: TenantCache, name: str):
    """The tenant's row (from the cache when fresh enough), or None if the tenant is gone."""
    st = state()
    row = cache.lookup(st.db, name, fresh=False)
    st.tenant = name if row else None
    st.tenant_row = row
    return row


def base_url() -> str:
    """``http://host:port`` as the client called it (links and ``Link`` headers use it)."""
    st = state()
    if st.base_url is None:
        req = st.req
        st.base_url = f"{req.scheme}://{req.host}"
    return st.base_url


def scope() -> TenantScope:
    """The tenant's scope in the request's transaction, opened here if the chain released it: a writing
    request takes the write lock now and reads its tenant afresh, so nothing is ever written for a
    tenant deleted meanwhile."""
    st = state()
    rt = runtime()
    if st.db is None:
        write = st.req.method not in READ_METHODS
        st.db = rt.store.begin(write=write)
        if write:
            _take_tenant(st, rt, st.db)
    return TenantScope(st.db, st.tenant, rt.derived_cache)


def _take_tenant(st: RequestState, rt, db) -> None:
    """A writer's first step: its tenant, read afresh and taken (the one its token was checked against)."""
    row = rt.tenant_cache.lookup(db, st.tenant, fresh=True, for_write=True)
    if row is None:
        raise errors.Unauthorized("The tenant of this access token does not exist")
    if row["instance"] != st.tenant_row["instance"]:  # deleted and made again since the token was checked
        raise errors.Unauthorized("The access token was revoked: its tenant was re-created")


def write_first(work: Callable[[TenantScope], None]) -> None:
    """``work`` in a write transaction of the request's tenant, committed before a reading route reads: the
    request's read transaction ends first, and the route's own (:func:`scope`) begins after it, so it sees what
    ``work`` wrote (the rollups' catch-up: emulator.timeseries.settle)."""
    release()
    st = state()
    rt = runtime()
    db = _written_for(st, rt, work)
    try:
        rt.store.end(db, commit=True)
    except Exception as exc:  # the store took the work but not its commit (a full disk, a file that cannot grow)
        log.warning("%s %s: what it reads could not be committed first (%s); done again in its own transaction",
                    request.method, request.path, errors.store_failure(exc).detail)
        # the route's own transaction does ``work`` again and is never committed (its changes stay in memory and are
        # read there): reads still answer on a disk that takes no write
        st.db = _written_for(st, rt, work)
        noted(st.db)["scratch"] = True


def _written_for(st: RequestState, rt, work: Callable[[TenantScope], None]) -> Connection:
    """A write transaction of the request's tenant in which ``work`` was done (rolled back if it failed)."""
    db = rt.store.begin(write=True)
    try:
        _take_tenant(st, rt, db)
        work(TenantScope(db, st.tenant, rt.derived_cache))
    except BaseException:
        rt.store.end(db, commit=False)
        raise
    return db


def tenant_row():
    return state().tenant_row


def end_transaction(response: Response) -> Response:
    """after_request: commit a success, roll back an error; a failed commit becomes an error answer."""
    st = _current.get()
    db = st.db if st is not None else None
    if db is None:
        return response
    st.db = None
    try:
        runtime().store.end(db, commit=response.status_code < 400 and not noted(db).get("scratch"))
    except Exception as exc:
        err = errors.store_failure(exc)
        log.warning("commit failed on %s %s: %s", request.method, request.path, err.detail)
        err.message = "The change could not be committed. " + err.message
        return errors.render(err, st.api.envelope)
    return response


def abandon_transaction(_exc=None) -> None:
    """teardown: a transaction still open here (the request died) is rolled back; the request's state and runtime
    are unbound (the thread's next request, maybe of another app, begins afresh)."""
    st = _current.get()
    try:
        if st is not None and st.db is not None:
            db, st.db = st.db, None
            runtime().store.end(db, commit=False)
    finally:
        _current.set(None)
        bind(None)
