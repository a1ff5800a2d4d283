"""The control plane's shared state and its verbs: the virtual clock, fault rules, rate limits, snapshots, reset.

The state lives in the store (tables ``control`` and ``fault_rules``) so that several worker
processes agree: each data-plane and token request first compares the store's ``control.version``
(one small query) and reloads when another worker changed something.

Every change goes through a verb of :class:`ControlPlane` (``set_clock``, ``add_rule``, ``put_quota``,
``import_snapshot``, ``reset``, ...), which validates its input, writes it in one transaction and bumps the
version. The control-plane routes, the dashboard and the commands call the same verbs, so the same input gets
the same answer everywhere (the dashboard once took a clock the control plane refused): a verb checks its input
against the schema of the control plane's contract that a request's body is checked against (``spec.check``).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from emulator import errors
from emulator.apis import Registry
from emulator.clock import Clock, ClockState
from emulator.control import snapshots, spec
from emulator.control.faults import FaultRule, insert_rule, parse_rule
from emulator.control.ratelimits import parse_quota
from emulator.store import Store, fast_scalar
from emulator.store.engine import fast_execute
from emulator.store.models import control, fault_rules
from emulator.tenants import Tenants
from emulator.times import iso, parse_instant
from emulator.timeseries.settle import settle_tenant

_VERSION_SQL = "SELECT version FROM control WHERE id = 1"
# the version's bump, with or without a new clock and quotas: built once (building it cost more than running it,
# and every test's teardown bumps it)
_BUMPS = {(with_clock, with_quotas): update(control).where(control.c.id == 1).values(
    version=control.c.version + 1, **({"clock": bindparam("clock")} if with_clock else {}),
    **({"quotas": bindparam("quotas")} if with_quotas else {}))
    for with_clock in (False, True) for with_quotas in (False, True)}
RECHECK_SECONDS = 1.0  # the version is read from the store at least this often, whatever the beacon shows


class ControlPlane:
    def __init__(self, store: Store, clock: Clock, registry: Registry | None = None):
        if registry is None:
            from emulator.registry import load  # the registry names the control package too: read it late

            registry = load()
        self.store = store
        self.clock = clock
        self.registry = registry
        self.tenants = Tenants(store, registry)
        self.version: int | None = None
        self.rules: list[FaultRule] = []  # the rules of every tenant (match.tenant unset), loaded with the version
        self._tenant_rules: dict[str, tuple[int | None, list[FaultRule]]] = {}  # tenant -> (version, its rules)
        self.quotas: list[dict] = []
        self._read_at = 0.0  # when this process last read the version from the store (time.monotonic)
        self._lock = threading.Lock()

    def ensure(self) -> None:
        """Create the control row on first start (idempotent, safe with several workers), and announce its version
        on the store's beacon (emulator.store.beacon; a worker that lost the race to create it leaves that to the
        winner)."""
        with self.store.transaction() as conn:
            version = fast_scalar(conn, _VERSION_SQL)
        if version is None:
            try:
                with self.store.transaction(write=True) as conn:
                    conn.execute(insert(control).values(id=1, version=0, clock=ClockState().as_dict(), quotas=[]))
                version = 0
            except IntegrityError:
                return
        if self.store.beacon is not None:
            self.store.beacon.announce(version)

    def sync(self, conn=None, by_beacon: bool = False) -> bool:
        """Reload the clock and the rules if another process (or this one) changed them; True when it did (then
        the caller drops what it cached of tenants: a tenant may have been deleted, reset or imported).

        ``by_beacon`` (the request chain's): the store's beacon showing the version this process holds spares the
        query, except once a second (see emulator.store.beacon). A verb's own sync, in its write transaction,
        always reads the store: it writes what it read, and a change just committed elsewhere may not be announced
        yet."""
        beacon = self.store.beacon
        if (by_beacon and beacon is not None and self.version is not None and beacon.read() == self.version
                and time.monotonic() - self._read_at < RECHECK_SECONDS):
            return False
        if conn is None:
            with self.store.transaction() as own:
                return self.sync(own)
        read_at = time.monotonic()
        version = fast_scalar(conn, _VERSION_SQL)
        if version == self.version:
            self._read_at = read_at
            return False
        clock, quotas = conn.execute(select(control.c.clock, control.c.quotas).where(control.c.id == 1)).one()
        rules = self._load_rules(conn, None)
        with self._lock:
            self.clock.state = ClockState(**clock)
            self.rules = rules
            self._tenant_rules = {}
            self.quotas = quotas
            self.version = version
            self._read_at = read_at
        return True

    @staticmethod
    def _load_rules(conn, tenant: str | None) -> list[FaultRule]:
        where = fault_rules.c.tenant.is_(None) if tenant is None else fault_rules.c.tenant == tenant
        rows = conn.execute(select(fault_rules).where(where).order_by(fault_rules.c.created_at, fault_rules.c.id))
        return [FaultRule.from_row(r) for r in rows.mappings()]

    def rules_for(self, tenant: str | None, conn=None) -> list[FaultRule]:
        """The rules that may match a request of ``tenant``: every tenant's, then its own, in creation order. A
        tenant's own are read (one indexed query) the first time after a change, so a request's cost does not
        depend on how many rules other tenants hold (2000 idle rules of others once slowed every request 50x)."""
        if tenant is None:
            return self.rules
        version = self.version
        hit = self._tenant_rules.get(tenant)
        if hit is None or hit[0] != version:
            if conn is None:
                with self.store.transaction() as own:
                    own_rules = self._load_rules(own, tenant)
            else:
                own_rules = self._load_rules(conn, tenant)
            hit = self._tenant_rules[tenant] = (version, own_rules)
        mine = hit[1]
        if not mine:
            return self.rules
        return sorted([*self.rules, *mine], key=lambda r: (r.created_at, r.id)) if self.rules else mine

    def changed(self, conn, clock: ClockState | None = None, quotas: list | None = None) -> int:
        """Bump the version (in the caller's write transaction) so that every worker reloads; the new version,
        returned, is announced on the store's beacon once the transaction commits (``Store.announce_on_commit``),
        before the caller answers, so a request sent after the answer sees it."""
        values = {}
        if clock is not None:
            values["clock"] = clock.as_dict()
        if quotas is not None:
            values["quotas"] = quotas
        conn.execute(_BUMPS[clock is not None, quotas is not None], values)
        version = fast_scalar(conn, _VERSION_SQL)
        if self.store.beacon is not None:
            self.store.announce_on_commit(conn, version)
        self.version = None  # this process reloads on its next request too
        return version

    # --- the virtual clock ---------------------------------------------------------------------------

    def clock_view(self) -> dict:
        """``{"mode", "time", "speed", "ms"}`` of the clock as every worker reads it now."""
        self.sync()
        now = int(self.clock.time() * 1000)
        return {"mode": self.clock.state.mode, "time": iso(now), "speed": self.clock.state.speed, "ms": now}

    def set_clock(self, mode, time=None, speed=1.0) -> dict:
        """``real``, ``frozen`` at ``time`` (now without one), or ``offset`` running from ``time`` at ``speed``."""
        spec.check("ClockInput", {"mode": mode, "time": time, "speed": speed}, "clock")
        at = parse_instant(time, "time", zone_required=False) / 1000 if time is not None else None
        self.sync()
        return self._store_clock(self.clock.set(mode, at=None if mode == "real" else at, speed=float(speed)))

    def advance_clock(self, seconds) -> dict:
        """Time jumps ahead by ``seconds`` (a real clock becomes an offset one)."""
        spec.check("ClockAdvance", {"seconds": seconds}, "clock")
        self.sync()
        return self._store_clock(self.clock.advance(float(seconds)))

    def _store_clock(self, state: ClockState) -> dict:
        with self.store.transaction(write=True) as conn:
            self.changed(conn, clock=state)
        return self.clock_view()

    # --- fault rules ---------------------------------------------------------------------------------

    def add_rule(self, body) -> FaultRule:
        """A validated rule (``POST /_emulator/faults``), stored; its tenant, if named, must exist."""
        spec.check("FaultRuleInput", body, "rule")
        with self.store.transaction(write=True) as conn:
            rule = insert_rule(conn, parse_rule(body), self.clock.time())
            self.changed(conn)
        return rule

    def rules_with_counts(self, tenant: str | None = None) -> list[dict]:
        stmt = select(fault_rules).order_by(fault_rules.c.created_at, fault_rules.c.id)
        if tenant:
            stmt = stmt.where(fault_rules.c.tenant == tenant)
        with self.store.transaction() as conn:
            rows = conn.execute(stmt).mappings().all()
        return [FaultRule.from_row(r).public(r["matched"], r["fired"]) for r in rows]

    def remove_rule(self, rule_id: str, tenant: str | None = None) -> None:
        """Remove one rule (only if it is ``tenant``'s, when one is named)."""
        where = [fault_rules.c.id == rule_id] + ([fault_rules.c.tenant == tenant] if tenant else [])
        with self.store.transaction(write=True) as conn:
            if conn.execute(delete(fault_rules).where(*where)).rowcount != 1:
                owner = f"Tenant {tenant} has no" if tenant else "No"
                raise errors.NotFound(f"{owner} fault rule {rule_id!r}")
            self.changed(conn)

    def clear_rules(self, tenant: str | None = None) -> int:
        """Remove every rule, or one tenant's; how many were removed."""
        with self.store.transaction(write=True) as conn:
            stmt = delete(fault_rules).where(fault_rules.c.tenant == tenant) if tenant else delete(fault_rules)
            removed = conn.execute(stmt).rowcount
            self.changed(conn)
        return removed

    # --- rate limits ---------------------------------------------------------------------------------

    def put_quota(self, body) -> dict:
        """Replace a tenant's quota (for one API, or all without ``api``)."""
        spec.check("RateLimitInput", body, "quota")
        quota = parse_quota(body)
        with self.store.transaction(write=True) as conn:
            self.sync(conn)
            kept = [q for q in self.quotas if (q["tenant"], q["api"]) != (quota["tenant"], quota["api"])]
            self.changed(conn, quotas=[*kept, quota])
        return quota

    def current_quotas(self) -> list[dict]:
        self.sync()
        return self.quotas

    def clear_quotas(self, tenant: str | None = None) -> None:
        with self.store.transaction(write=True) as conn:
            self.sync(conn)
            self.changed(conn, quotas=[q for q in self.quotas if tenant and q["tenant"] != tenant])

    # --- tenants ---------------------------------------------------------------------------------------

    def delete_tenant(self, name: str) -> None:
        """A tenant and all its data, its rules and quotas; every worker forgets what it cached of it."""
        with self.store.transaction(write=True) as conn:
            removed = self._remove_tenants(conn, [name])
        if not removed:
            raise errors.NotFound(f"tenant {name!r} does not exist")
        self._removed(*removed)

    def create_tenant(self, name: str, clients: list, *, seed: int, delete_first: list[str] = (),
                      instance: str | None = None) -> tuple[dict, list]:
        """(the tenant made as :meth:`Tenants.create` makes it, the names of ``delete_first`` that were removed), in
        one transaction, removals first (names that do not exist are passed over: a test may have removed its tenant
        itself). The pytest plugin's fixtures hand their finished tests' tenants here with the next test's
        creation, so that a test costs one request of the control plane, not two."""
        removal = None

        def remove_first(conn) -> None:
            nonlocal removal
            removal = self._remove_tenants(conn, sorted(set(delete_first)))

        created = self.tenants.create(name, clients, now=self.clock.time(), seed=seed,
                                      before=remove_first if delete_first else None, instance=instance)
        if removal is None:
            return created, []
        self._removed(*removal)
        return created, removal[0]

    def _remove_tenants(self, conn, names: list[str]) -> tuple[list[str], list[dict], int] | None:
        """Remove the tenants of ``names`` that exist, with their rules and quotas, in the caller's write transaction:
        (their names, the quotas left, the new version), or None when none of them existed."""
        gone = [name for name in names if self.tenants.remove(conn, name)]
        if not gone:
            return None
        fast_execute(conn, f"DELETE FROM fault_rules WHERE tenant IN ({', '.join('?' * len(gone))})", *gone)
        self.sync(conn)
        quotas = [q for q in self.quotas if q["tenant"] not in gone]
        return gone, quotas, self.changed(conn, quotas=quotas)

    def _removed(self, gone: list[str], quotas: list[dict], version: int) -> None:
        """After the removal's commit, this process takes the new version as its own: what it holds is what it
        wrote (every tenant's rules are untouched, the removed tenants' rules and quotas gone), so it need not read
        the control state again, which every test's teardown paid twice (here and at its next request). Another
        worker reloads as for any change; one that changed the state meanwhile left a later version, which this
        process then finds different and reloads too."""
        with self._lock:
            self.quotas = quotas
            for name in gone:
                self._tenant_rules.pop(name, None)
            self.version = version

    # --- snapshots and reset -------------------------------------------------------------------------

    def export_snapshot(self, name: str, seed: int) -> Iterator[bytes]:
        """The tenant's snapshot as JSON text in pieces (see snapshots.export); NotFound comes before the first. The
        rollups take in the tenant's writes first, so the snapshot carries them whole (a write that lands between
        the two travels as a noted write, which the importer's first reader takes in)."""
        self.sync()
        settle_tenant(self.store, name)
        pieces = snapshots.export(self.store, name, self.tenants.tables, clock=self.clock.state.as_dict(),
                                  quotas=list(self.quotas), seed=seed)
        return itertools.chain([next(pieces)], pieces)

    def import_snapshot(self, doc, default_tenant: str) -> str:
        """Write a snapshot's tenant; its clock becomes the clock, its quotas replace the tenant's. It may replace
        only ``default_tenant``, the server's own, and only while that is fresh."""
        spec.check("Snapshot", doc, "snapshot")
        with self.store.transaction(write=True) as conn:
            name, clock, quotas = snapshots.restore(conn, doc, self.tenants, default_tenant)
            self.sync(conn)
            kept = [q for q in self.quotas if q["tenant"] != name]
            self.changed(conn, clock=clock, quotas=[*kept, *quotas])
        return name

    def reset(self, names: list[str] | None, keep: str) -> None:
        """Back to the start state: the named tenants' data, rules and quotas, or (no names) every tenant but
        ``keep`` removed, every rule and quota gone and the clock real."""
        with self.store.transaction(write=True) as conn:
            self.tenants.reset(conn, names, keep=keep, now=self.clock.time())
            conn.execute(delete(fault_rules).where(fault_rules.c.tenant.in_(names)) if names else delete(fault_rules))
            self.sync(conn)
            quotas = [q for q in self.quotas if q["tenant"] not in names] if names else []
            self.changed(conn, clock=None if names else ClockState(), quotas=quotas)
