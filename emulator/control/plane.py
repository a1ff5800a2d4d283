"""The control plane's shared state, as one process sees it: the virtual clock, the fault rules and
the rate limits.

The state lives in the store (tables ``control`` and ``fault_rules``) so that several worker
processes agree: each data-plane and token request first compares the store's ``control.version``
(one small query) and reloads when another worker changed something.
"""

from __future__ import annotations

import threading

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from emulator.clock import Clock, ClockState
from emulator.control.faults import FaultRule
from emulator.store import Store, fast_scalar
from emulator.store.models import control, fault_rules

_VERSION = select(control.c.version).where(control.c.id == 1)


class ControlPlane:
    def __init__(self, store: Store, clock: Clock):
        self.store = store
        self.clock = clock
        self.version: int | None = None
        self.rules: list[FaultRule] = []
        self.quotas: list[dict] = []
        self._lock = threading.Lock()

    def ensure(self) -> None:
        """Create the control row on first start (idempotent, safe with several workers)."""
        with self.store.transaction() as conn:
            present = conn.execute(_VERSION).first()
        if present is None:
            try:
                with self.store.transaction(write=True) as conn:
                    conn.execute(insert(control).values(id=1, version=0, clock=ClockState().as_dict(), quotas=[]))
            except IntegrityError:
                pass

    def sync(self, conn=None) -> None:
        """Reload the clock and the rules if another process (or this one) changed them."""
        if conn is None:
            with self.store.transaction() as own:
                self.sync(own)
            return
        version = fast_scalar(conn, "SELECT version FROM control WHERE id = 1")
        if version == self.version:
            return
        clock, quotas = conn.execute(select(control.c.clock, control.c.quotas).where(control.c.id == 1)).one()
        rows = conn.execute(select(fault_rules).order_by(fault_rules.c.created_at, fault_rules.c.id)).mappings()
        rules = [FaultRule.from_row(r) for r in rows]
        with self._lock:
            self.clock.state = ClockState(**clock)
            self.rules = rules
            self.quotas = quotas
            self.version = version

    def changed(self, conn, clock: ClockState | None = None, quotas: list | None = None) -> None:
        """Bump the version (in the caller's write transaction) so that every worker reloads."""
        values = {"version": control.c.version + 1}
        if clock is not None:
            values["clock"] = clock.as_dict()
        if quotas is not None:
            values["quotas"] = quotas
        conn.execute(update(control).where(control.c.id == 1).values(**values))
        self.version = None  # this process reloads on its next request too
