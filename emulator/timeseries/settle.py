"""The rollups brought up to date before they are read (``emulator.timeseries.pending`` says why the writes leave
it to their readers): by the request chain for the APIs that read them, and by the readers outside it."""

from __future__ import annotations

import logging

from emulator import context, errors
from emulator.store import TenantScope
from emulator.timeseries import pending, service

log = logging.getLogger("emulator")


def before_read() -> None:
    """``Api.before_read`` of TS Aggregates and the Data Hub: when the request's tenant has writes the rollups do
    not hold yet, they are taken in, in a write transaction of their own committed before the route opens its read
    (which then sees them, as every later reader does); otherwise it costs one look-up of an index."""
    if not pending.waiting(context.scope().conn, context.state().tenant):
        return
    zone = context.tenant_row()["default_timezone"]
    context.write_first(lambda scope: service.settle(scope, zone))


def settle_tenant(store, name: str, derived_cache=None) -> None:
    """The same for a reader outside a data-plane request (the dashboard, a snapshot's export), in transactions of
    its own; nothing when there is no such tenant. On a disk that takes no write it leaves them noted: the
    dashboard then shows the rollups as they are, and a snapshot carries the notes (its importer's first reader
    takes them in)."""
    with store.transaction() as conn:
        if not pending.waiting(conn, name):
            return
    conn = store.begin(write=True)
    try:
        row = context.tenant_for_write(conn, name)
        if row is not None:
            service.settle(TenantScope(conn, name, derived_cache), row["default_timezone"])
    except BaseException:
        store.end(conn, commit=False)
        raise
    try:
        store.end(conn, commit=True)
    except Exception as exc:  # the store took the work but not its commit (a full disk, a file that cannot grow)
        log.warning("the rollups of tenant %s could not take its writes in (%s)", name,
                    errors.store_failure(exc).detail)


__all__ = ["before_read", "settle_tenant"]
